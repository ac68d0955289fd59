// Byte -> field map from the compiler's debug build: every object of a debug parse carries
// `_debug.<field> = {start, end, ioOffset, arr?}`, offsets relative to its (sub)stream. Walking it
// alongside the .ksy gives each byte a field name. A truncated input still maps: the field being
// read when the input ended has no `end` and is marked truncated.
import { hex64 } from '../util/hex.ts';
import { lowerCamel, upperCamel } from './generatedDir.ts';
import { findKsyType, type Ksy } from './ksy.ts';
import { KaitaiStream, type LoadedFormat } from './parsers.ts';

export type FieldValue = number | bigint | boolean | Uint8Array | undefined;

export interface FieldSpan {
  /** absolute offset in the input */
  offset: number;
  size: number;
  /** dotted path, e.g. header.acc_magic, body.qm_eqc_dw[3] */
  path: string;
  /** .ksy id */
  name: string;
  index?: number;
  /** u1/u2/u4 (with endianness), u8 (exact 64-bit pair) or bytes */
  type: string;
  value: FieldValue;
  /** the .ksy enum this field uses, and the member name when the value is one */
  enumName?: string;
  enumValue?: string;
  doc?: string;
  /** the input ended inside this field */
  truncated?: boolean;
}

export interface FieldMap {
  spans: FieldSpan[];
  /** the parse error that cut the map short, if any */
  error?: string;
  /** the debug parse tree (generated objects) */
  tree: any;
}

type TypeSpec = { seq?: any[]; types?: Record<string, TypeSpec>; meta?: { endian?: string } };

const typeCache = new WeakMap<Ksy, Map<string, TypeSpec | undefined>>();
const camelCache = new Map<string, string>();
const camel = (id: string): string => {
  let c = camelCache.get(id);
  if (c === undefined) camelCache.set(id, (c = lowerCamel(id)));
  return c;
};

function typeByName(ksy: Ksy, name: string): TypeSpec | undefined {
  let m = typeCache.get(ksy);
  if (!m) typeCache.set(ksy, (m = new Map()));
  if (m.has(name)) return m.get(name);
  const t = findKsyType(ksy, name) as TypeSpec | undefined;
  m.set(name, t);
  return t;
}


/** The .ksy type name of a parsed object, from the class the compiler generated for it. */
function typeNameOf(field: any, obj: any): string | undefined {
  if (typeof field.type === 'string') return field.type;
  if (field.type && typeof field.type === 'object') {
    const cases = Object.values(field.type.cases ?? {}) as string[];
    return cases.find((t) => upperCamel(t) === obj?.constructor?.name);
  }
  return undefined;
}

function isPair(t: TypeSpec | undefined): boolean {
  const ids = t?.seq?.map((f) => f.id).join(',');
  return ids === 'lo,hi' || ids === 'hi,lo';
}

function enumMember(ksy: Ksy, enumName: string | undefined, v: FieldValue): string | undefined {
  if (!enumName || typeof v !== 'number') return undefined;
  const e = ksy.enums?.[enumName] as Record<string, unknown> | undefined;
  const m = e?.[String(v)];
  return typeof m === 'string' ? m : m && typeof m === 'object' ? String((m as { id?: string }).id) : undefined;
}

export function fieldMapOf(fmt: LoadedFormat, bytes: Uint8Array): FieldMap {
  const io = new KaitaiStream(bytes);
  const root = new fmt.DebugParser(io);
  let error: string | undefined;
  try {
    root._read();
  } catch (e) {
    error = (e as Error).message;
  }
  const spans: FieldSpan[] = [];
  const rootOff = io.byteOffset;
  const endian = fmt.ksy.meta?.endian ?? 'le';

  const leaf = (f: any, path: string, index: number | undefined, dbg: any, value: FieldValue, type: string) => {
    const offset = dbg.start + dbg.ioOffset - rootOff;
    const truncated = dbg.end === undefined;
    const size = (truncated ? bytes.length - offset : dbg.end - dbg.start) | 0;
    const span: FieldSpan = { offset, size: Math.max(size, 0), path, name: String(f.id), type, value: truncated ? undefined : value };
    if (index !== undefined) span.index = index;
    if (f.enum) {
      span.enumName = String(f.enum);
      const m = enumMember(fmt.ksy, span.enumName, value);
      if (m) span.enumValue = m;
    }
    if (f.doc) span.doc = String(f.doc).trim();
    if (truncated) span.truncated = true;
    if (span.size > 0 || !truncated) spans.push(span);
  };

  const one = (f: any, path: string, index: number | undefined, dbg: any, value: any, e: string) => {
    if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array) && value._debug) {
      const tn = typeNameOf(f, value);
      const t = tn ? typeByName(fmt.ksy, tn) : undefined;
      if (isPair(t)) {
        const done = dbg.end !== undefined;
        leaf(f, path, index, dbg, done ? (BigInt(value.hi) << 32n) | BigInt(value.lo) : undefined, 'u8');
      } else if (t) {
        walk(value, t, path, t.meta?.endian ?? e);
      }
      return;
    }
    const bt = typeof f.type === 'string' && /^[us][1248]/.test(f.type) ? f.type.replace(/^([us][1248])$/, `$1${e}`) : 'bytes';
    leaf(f, path, index, dbg, value as FieldValue, bt);
  };

  const walk = (obj: any, t: TypeSpec, prefix: string, e: string) => {
    for (const f of t.seq ?? []) {
      const prop = camel(String(f.id));
      const dbg = obj?._debug?.[prop];
      if (!dbg) continue;
      const path = prefix ? `${prefix}.${f.id}` : String(f.id);
      if (dbg.arr) {
        const arr = obj[prop] ?? [];
        dbg.arr.forEach((d: any, i: number) => one(f, `${path}[${i}]`, i, d, arr[i], e));
      } else {
        one(f, path, undefined, dbg, obj[prop], e);
      }
    }
  };
  walk(root, fmt.ksy as TypeSpec, '', endian);
  spans.sort((a, b) => a.offset - b.offset);
  return { spans, ...(error ? { error } : {}), tree: root };
}

/** The field covering `offset`, if any. */
export function fieldAt(map: FieldMap, offset: number): FieldSpan | undefined {
  let lo = 0;
  let hi = map.spans.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = map.spans[mid];
    if (offset < s.offset) hi = mid - 1;
    else if (offset >= s.offset + s.size) lo = mid + 1;
    else return s;
  }
  return undefined;
}

/** A span's value as hex: 0x-padded to its width, bytes as plain hex. */
export function spanHex(s: FieldSpan): string {
  const v = s.value;
  if (v === undefined) return '';
  if (typeof v === 'bigint') return hex64(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  return '0x' + (v >>> 0).toString(16).padStart(s.size * 2, '0');
}
