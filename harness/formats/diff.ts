// Field-level differences between two hisi_acc streams: each field whose value differs, or that
// exists in only one of them (different lengths, or V1 vs V2 labels for bytes 28..39).
import { decodeAccVfData } from './accVfData.ts';
import { accVfFieldMap } from './accVfMap.ts';
import { spanHex, type FieldSpan } from './fieldMap.ts';

export interface FieldChange {
  path: string;
  /** B's name for these bytes when it differs (V1 vs V2 labels) */
  newPath?: string;
  offset: number;
  size: number;
  /** hex value in A / B; absent when the field is not in that stream */
  old?: string;
  new?: string;
}

export interface StreamDiff {
  same: boolean;
  length: { a: number; b: number };
  layout: { a: string; b: string };
  changes: FieldChange[];
}

export function diff(a: Uint8Array, b: Uint8Array): StreamDiff {
  const da = decodeAccVfData(a);
  const db = decodeAccVfData(b);
  const ma = accVfFieldMap(a, da).spans;
  const mb = accVfFieldMap(b, db).spans;
  const byPath = new Map<string, { a?: FieldSpan; b?: FieldSpan }>();
  // keyed by position: a V1 and a V2 header label bytes 28..39 differently, and the same bytes
  // under two labels are no difference
  const key = (s: FieldSpan) => `${s.offset}:${s.size}`;
  for (const s of ma) byPath.set(key(s), { a: s });
  for (const s of mb) byPath.set(key(s), { ...byPath.get(key(s)), b: s });
  const changes: FieldChange[] = [];
  for (const { a: sa, b: sb } of byPath.values()) {
    const ha = sa ? spanHex(sa) : undefined;
    const hb = sb ? spanHex(sb) : undefined;
    if (sa && sb && ha === hb) continue;
    const s = (sa ?? sb)!;
    const c: FieldChange = { path: s.path, offset: s.offset, size: s.size };
    if (sa && sb && sa.path !== sb.path) c.newPath = sb.path;
    if (ha !== undefined) c.old = ha;
    if (hb !== undefined) c.new = hb;
    changes.push(c);
  }
  changes.sort((x, y) => x.offset - y.offset || x.path.localeCompare(y.path));
  return { same: changes.length === 0 && a.length === b.length, length: { a: a.length, b: b.length }, layout: { a: da.layout, b: db.layout }, changes };
}
