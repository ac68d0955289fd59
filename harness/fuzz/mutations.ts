// Mutation operators over a captured stream: bit flips, set values per field, truncation and
// extension. A mutation is plain data (JSON-safe but for bigint values, which print as "0x…") so it
// can be shrunk by fast-check, stored in a repro bundle and applied again by `migcompat replay`.
import fc from 'fast-check';
import { ACC_DEV_MAGIC_V1, ACC_DEV_MAGIC_V2, ACC_VF_DATA_SIZE, QM_MATCH_SIZE } from '../formats/accVfData.ts';
import { DEVICE_IDS } from '../device/mmio.ts';
import { Rng } from '../util/rng.ts';
import { LENGTH_FIELD, fieldAt, fieldByName, fieldsOf, readField, writeField, type StreamField } from './streamFields.ts';

export type Mutation =
  | { op: 'flip'; offset: number; bit: number }
  | { op: 'set'; field: string; value: bigint }
  | { op: 'truncate'; length: number }
  | { op: 'extend'; bytes: number[] };

export function applyMutation(stream: Uint8Array, m: Mutation): Uint8Array {
  switch (m.op) {
    case 'flip': {
      const out = stream.slice();
      if (m.offset < out.length) out[m.offset] ^= 1 << m.bit;
      return out;
    }
    case 'set': {
      const out = stream.slice();
      const f = fieldByName(stream, m.field);
      if (!f) throw new Error(`unknown stream field ${m.field}`);
      if (f.offset + f.size <= out.length) writeField(out, f, m.value);
      return out;
    }
    case 'truncate':
      return stream.slice(0, Math.min(m.length, stream.length));
    case 'extend': {
      const out = new Uint8Array(stream.length + m.bytes.length);
      out.set(stream);
      out.set(m.bytes, stream.length);
      return out;
    }
  }
}

/** The field a mutation is attributed to in the sensitivity report (labelled by the original stream). */
export function mutatedField(stream: Uint8Array, m: Mutation): string {
  if (m.op === 'flip') return fieldAt(stream, m.offset)?.name ?? LENGTH_FIELD;
  if (m.op === 'set') return m.field;
  return LENGTH_FIELD;
}

export function describeMutation(m: Mutation): string {
  switch (m.op) {
    case 'flip':
      return `flip byte ${m.offset} bit ${m.bit}`;
    case 'set':
      return `set ${m.field} = 0x${m.value.toString(16)}`;
    case 'truncate':
      return `truncate to ${m.length} bytes`;
    case 'extend':
      return `extend by ${m.bytes.length} byte(s)`;
  }
}

/** A mutation as JSON-safe data (bundles, findings registry). */
export function mutationToJson(m: Mutation): Record<string, unknown> {
  return m.op === 'set' ? { ...m, value: '0x' + m.value.toString(16) } : { ...m };
}

export function mutationFromJson(j: Record<string, unknown>): Mutation {
  switch (j.op) {
    case 'flip':
      return { op: 'flip', offset: Number(j.offset), bit: Number(j.bit) };
    case 'set':
      return { op: 'set', field: String(j.field), value: BigInt(String(j.value)) };
    case 'truncate':
      return { op: 'truncate', length: Number(j.length) };
    case 'extend':
      return { op: 'extend', bytes: (j.bytes as number[]).map(Number) };
    default:
      throw new Error(`unknown mutation op ${String(j.op)}`);
  }
}

/** Interesting values for one field: boundaries, neighbours of the original, the other magic, other device ids. */
export function boundaryValues(f: StreamField, original: bigint): bigint[] {
  const bits = BigInt(f.size * 8);
  const max = (1n << bits) - 1n;
  const vals = [0n, 1n, max, max - 1n, 1n << (bits - 1n), original + 1n, original - 1n, original ^ 1n, original ^ (1n << (bits - 1n))];
  if (f.name === 'acc_magic') {
    // the other revision's magic, neighbours of both, and the never-merged 2024 "version in the last byte" idea
    vals.push(ACC_DEV_MAGIC_V1, ACC_DEV_MAGIC_V2, ACC_DEV_MAGIC_V1 + 1n, ACC_DEV_MAGIC_V2 - 1n, (original & ~0xffn) | 0x01n);
  }
  if (f.name === 'dev_id') vals.push(...Object.values(DEVICE_IDS).map(BigInt));
  if (f.name === 'major_ver' || f.name === 'minor_ver') vals.push(0n, 1n, 2n);
  if (f.name === 'qp_num') vals.push(0n, 1n, 64n, 1024n);
  return [...new Set(vals.map((v) => BigInt.asUintN(Number(bits), v)))];
}

/** Mutations of one field of `stream`: set to boundary or random values, or flip one of its bits. */
export function fieldMutationArb(stream: Uint8Array, f: StreamField): fc.Arbitrary<Mutation> {
  const original = readField(stream, f);
  const bits = f.size * 8;
  return fc.oneof(
    fc.constantFrom(...boundaryValues(f, original)).map((value): Mutation => ({ op: 'set', field: f.name, value })),
    fc.bigInt({ min: 0n, max: (1n << BigInt(bits)) - 1n }).map((value): Mutation => ({ op: 'set', field: f.name, value })),
    fc.integer({ min: 0, max: bits - 1 }).map((b): Mutation => ({ op: 'flip', offset: f.offset + (b >> 3), bit: b & 7 })),
  );
}

/** Truncations and extensions around the two legal lengths (40 and 176). */
export function lengthMutationArb(stream: Uint8Array): fc.Arbitrary<Mutation> {
  const n = stream.length;
  const cuts = [0, 1, 7, 8, QM_MATCH_SIZE - 1, QM_MATCH_SIZE, QM_MATCH_SIZE + 1, ACC_VF_DATA_SIZE - 1].filter((c) => c < n);
  return fc.oneof(
    fc.constantFrom(...(cuts.length ? cuts : [0])).map((length): Mutation => ({ op: 'truncate', length })),
    fc.integer({ min: 0, max: Math.max(0, n - 1) }).map((length): Mutation => ({ op: 'truncate', length })),
    fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 64 }).map((bytes): Mutation => ({ op: 'extend', bytes })),
  );
}

/** Any mutation of `stream`: by field (weighted evenly across fields), by length, or a raw bit flip. */
export function mutationArb(stream: Uint8Array): fc.Arbitrary<Mutation> {
  const perField = fieldsOf(stream).map((f) => fieldMutationArb(stream, f));
  return fc.oneof(
    { arbitrary: fc.oneof(...perField), weight: 8 },
    { arbitrary: lengthMutationArb(stream), weight: 1 },
    {
      arbitrary: fc.record({ offset: fc.integer({ min: 0, max: stream.length - 1 }), bit: fc.integer({ min: 0, max: 7 }) })
        .map(({ offset, bit }): Mutation => ({ op: 'flip', offset, bit })),
      weight: 1,
    },
  );
}

/** Whether a mutation changes any byte (a set to the same value does not). */
export function changes(stream: Uint8Array, m: Mutation): boolean {
  const out = applyMutation(stream, m);
  if (out.length !== stream.length) return true;
  for (let i = 0; i < out.length; i++) if (out[i] !== stream[i]) return true;
  return false;
}

// ---- cheap derivation (speed): fast-check draws a few integers, the batch is derived from them ----

// a source stream is mutated thousands of times: its field list and boundary values are computed once
const cache = new WeakMap<Uint8Array, { fields: readonly StreamField[]; boundaries: bigint[][] }>();
function derived(stream: Uint8Array) {
  let d = cache.get(stream);
  if (!d) {
    const fields = fieldsOf(stream);
    cache.set(stream, (d = { fields, boundaries: fields.map((f) => boundaryValues(f, readField(stream, f))) }));
  }
  return d;
}

/** Mutation families a batch is drawn from: one per field, then length, then a raw bit flip anywhere. */
export function familyCount(stream: Uint8Array): number {
  return derived(stream).fields.length + 2;
}

/** Family name as the sensitivity report keys it (a field name, 'length' or 'raw'). */
export function familyName(stream: Uint8Array, family: number): string {
  const fs = fieldsOf(stream);
  return family < fs.length ? fs[family].name : family === fs.length ? LENGTH_FIELD : 'raw';
}

const randomBig = (rng: Rng, bits: number): bigint => {
  let v = 0n;
  for (let b = 0; b < bits; b += 32) v = (v << 32n) | BigInt(rng.u32());
  return BigInt.asUintN(bits, v);
};

/**
 * One mutation of `family`, deterministic in `rng`: for a field, a boundary value (half the time),
 * a random value or a bit flip of it; for length, a truncation at a boundary or anywhere, or an
 * extension; for raw, a flip of any bit. Same distribution as `mutationArb`, without fast-check.
 */
export function drawMutation(stream: Uint8Array, family: number, rng: Rng): Mutation {
  const { fields: fs, boundaries } = derived(stream);
  if (family < fs.length) {
    const f = fs[family];
    const k = rng.u32() % 4;
    if (k <= 1) return { op: 'set', field: f.name, value: rng.pick(boundaries[family]) };
    if (k === 2) return { op: 'set', field: f.name, value: randomBig(rng, f.size * 8) };
    const b = rng.int(0, f.size * 8 - 1);
    return { op: 'flip', offset: f.offset + (b >> 3), bit: b & 7 };
  }
  const n = stream.length;
  if (family === fs.length) {
    const k = rng.u32() % 3;
    if (k === 0) {
      const cuts = [0, 1, 7, 8, QM_MATCH_SIZE - 1, QM_MATCH_SIZE, QM_MATCH_SIZE + 1, ACC_VF_DATA_SIZE - 1].filter((c) => c < n);
      return { op: 'truncate', length: cuts.length ? rng.pick(cuts) : 0 };
    }
    if (k === 1) return { op: 'truncate', length: rng.int(0, Math.max(0, n - 1)) };
    return { op: 'extend', bytes: Array.from(rng.bytes(rng.int(1, 64))) };
  }
  return { op: 'flip', offset: rng.int(0, n - 1), bit: rng.int(0, 7) };
}

/** The bytes a mutation changes (smaller is more minimal). */
export function diffBytes(a: Uint8Array, b: Uint8Array): number {
  let n = Math.abs(a.length - b.length);
  for (let i = 0, m = Math.min(a.length, b.length); i < m; i++) if (a[i] !== b[i]) n++;
  return n;
}
