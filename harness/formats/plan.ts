// A write plan built from a .ksy description: its fixed-size seq fields flattened into leaves with
// absolute offsets. The encoder runs this plan; the byte layout exists only in the .ksy.
// Supported (what our descriptions use): u1/u2/u4/u8 and s*, a user type of two u4 named lo/hi
// (an exact 64-bit value), user types, `size:` with an integer, `repeat: expr` with an integer,
// `switch-on` resolved by a caller's choice, `if:` (the leaf becomes optional), and a trailing
// `size-eos` field with an `if:` (never written).
import { findKsyType, type Ksy } from './ksy.ts';

export interface PlanLeaf {
  /** dotted path as the field map names it, e.g. header.rsv.major_ver, body.qm_eqc_dw[3] */
  path: string;
  /** the .ksy id of the field */
  name: string;
  /** element index for repeated fields */
  index?: number;
  offset: number;
  size: number;
  kind: 'uint' | 'u64' | 'bytes';
  le: boolean;
  /** for u64 kept as two u4: which word comes first */
  loFirst?: boolean;
  /** under an `if:`; written only when the stream is long enough */
  optional: boolean;
  enumName?: string;
  doc?: string;
}

export interface Plan {
  leaves: PlanLeaf[];
  /** bytes written when every optional field is left out */
  requiredSize: number;
  /** bytes written with every field */
  fullSize: number;
}

type TypeSpec = { seq?: any[]; meta?: { endian?: string }; types?: Record<string, TypeSpec> };

function findType(ksy: Ksy, name: string): TypeSpec {
  const t = findKsyType(ksy, name) as TypeSpec | undefined;
  if (!t) throw new Error(`plan: unknown type ${name}`);
  return t;
}

const BUILTIN = /^([us])([1248])(le|be)?$/;

function isExact64(t: TypeSpec): boolean | undefined {
  const s = t.seq;
  if (!s || s.length !== 2 || !s.every((f) => /^u4(le|be)?$/.test(String(f.type)))) return undefined;
  const ids = s.map((f) => f.id).join(',');
  if (ids === 'lo,hi') return true;
  if (ids === 'hi,lo') return false;
  return undefined;
}

/**
 * choices: switch-on expression -> chosen case (an enum member name such as 'v2', or a raw case key).
 * A switch with no choice, or whose choice has no case, takes the `_` case.
 */
export function buildPlan(ksy: Ksy, choices: Record<string, string> = {}): Plan {
  const leaves: PlanLeaf[] = [];
  const rootEndian = ksy.meta?.endian ?? 'le';

  const walk = (t: TypeSpec, prefix: string, base: number, endian: string, optional: boolean): number => {
    const e = t.meta?.endian ?? endian;
    let pos = base;
    for (const f of t.seq ?? []) {
      const id = String(f.id);
      const path = prefix ? `${prefix}.${id}` : id;
      const opt = optional || f.if !== undefined;
      if (f['size-eos']) {
        if (f.if === undefined) throw new Error(`plan: ${path} has size-eos without if`);
        continue; // malformed-stream catch-all, never written
      }
      let typeName: string | undefined;
      if (f.type !== undefined && typeof f.type === 'object') {
        const sw = f.type as { 'switch-on': string; cases: Record<string, string> };
        const want = choices[String(sw['switch-on'])];
        const key = want === undefined ? undefined : Object.keys(sw.cases).find((k) => k === want || k.endsWith(`::${want}`));
        typeName = sw.cases[key ?? '_'];
        if (!typeName) throw new Error(`plan: ${path}: no case for ${want ?? '(no choice)'}`);
      } else if (f.type !== undefined) typeName = String(f.type);

      const count = f.repeat === undefined ? 1 : f.repeat === 'expr' && typeof f['repeat-expr'] === 'number' ? f['repeat-expr'] : NaN;
      if (!Number.isInteger(count)) throw new Error(`plan: ${path}: only repeat: expr with a constant count is supported`);
      const fixed = f.size === undefined ? undefined : typeof f.size === 'number' ? f.size : NaN;
      if (Number.isNaN(fixed)) throw new Error(`plan: ${path}: size must be a constant`);

      for (let i = 0; i < count; i++) {
        const p = f.repeat === undefined ? path : `${path}[${i}]`;
        const leafBase = { path: p, name: id, ...(f.repeat === undefined ? {} : { index: i }), optional: opt, ...(f.enum ? { enumName: String(f.enum) } : {}), ...(f.doc ? { doc: String(f.doc) } : {}) };
        let used: number;
        const m = typeName ? BUILTIN.exec(typeName) : null;
        if (!typeName) {
          if (fixed === undefined) throw new Error(`plan: ${path}: raw bytes need a size`);
          leaves.push({ ...leafBase, offset: pos, size: fixed, kind: 'bytes', le: e === 'le' });
          used = fixed;
        } else if (m) {
          const width = Number(m[2]);
          if (m[1] === 's') throw new Error(`plan: ${path}: signed types are not supported`);
          leaves.push({ ...leafBase, offset: pos, size: width, kind: width === 8 ? 'u64' : 'uint', le: (m[3] ?? e) === 'le', ...(width === 8 ? { loFirst: (m[3] ?? e) === 'le' } : {}) });
          used = width;
        } else {
          const sub = findType(ksy, typeName);
          const loFirst = isExact64(sub);
          if (loFirst !== undefined) {
            const se = sub.meta?.endian ?? e;
            const w0 = String(sub.seq![0].type).match(/(le|be)$/)?.[1] ?? se;
            leaves.push({ ...leafBase, offset: pos, size: 8, kind: 'u64', le: w0 === 'le', loFirst });
            used = 8;
          } else {
            used = walk(sub, p, pos, e, opt) - pos;
          }
        }
        if (fixed !== undefined) {
          if (used > fixed) throw new Error(`plan: ${path}: contents (${used} bytes) exceed size ${fixed}`);
          used = fixed;
        }
        pos += used;
      }
    }
    return pos;
  };

  const end = walk(ksy as TypeSpec, '', 0, rootEndian, false);
  let requiredSize = 0;
  for (const l of leaves) if (!l.optional) requiredSize = Math.max(requiredSize, l.offset + l.size);
  return { leaves, requiredSize, fullSize: end };
}

export type Writer = (dv: DataView, src: any) => void;

export type Getter = (src: any) => unknown;

/** Reads `src[name]`, or `src[name][index]` for a repeated leaf. */
export function propGetter(name: string, index?: number): Getter {
  return index === undefined ? (s) => s[name] : (s) => s[name]?.[index];
}

/**
 * Compiles plan leaves into one writer; `getter(leaf)` says where each leaf's value comes from.
 * Missing values write zero. Integers wrap to their width as a C store would.
 */
export function compileWriter(leaves: PlanLeaf[], getter: (leaf: PlanLeaf) => Getter): Writer {
  const steps: Writer[] = leaves.map((l) => {
    const get = getter(l);
    const off = l.offset;
    const le = l.le;
    switch (l.kind) {
      case 'uint':
        if (l.size === 4) return (dv, s) => dv.setUint32(off, Number(get(s) ?? 0), le);
        if (l.size === 2) return (dv, s) => dv.setUint16(off, Number(get(s) ?? 0), le);
        return (dv, s) => dv.setUint8(off, Number(get(s) ?? 0));
      case 'u64':
        if (l.loFirst === le) return (dv, s) => dv.setBigUint64(off, BigInt.asUintN(64, BigInt((get(s) ?? 0n) as bigint | number)), le);
        return (dv, s) => {
          const v = BigInt.asUintN(64, BigInt((get(s) ?? 0n) as bigint | number));
          const hi = Number(v >> 32n);
          const lo = Number(v & 0xffffffffn);
          dv.setUint32(off, l.loFirst ? lo : hi, le);
          dv.setUint32(off + 4, l.loFirst ? hi : lo, le);
        };
      case 'bytes':
        return (dv, s) => {
          const b = get(s) as Uint8Array | undefined;
          if (b) new Uint8Array(dv.buffer, dv.byteOffset + off, l.size).set(b.subarray(0, l.size));
        };
    }
  });
  return (dv, src) => {
    for (let i = 0; i < steps.length; i++) steps[i](dv, src);
  };
}
