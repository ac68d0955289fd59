// The byte ranges of struct acc_vf_data (docs/reference.md#stream-layout) that the fuzzer mutates and the
// sensitivity report is keyed by. Names are the C field names so the report reads like the driver source.
// Bytes 28..31 are labelled by the stream's own magic: major_ver/minor_ver in a V2 stream, qm_rsv_state[0] in
// a V1 (or unknown-magic) stream.
import { ACC_DEV_MAGIC_V2, ACC_VF_DATA_SIZE, QM_MATCH_SIZE } from '../formats/accVfData.ts';

export interface StreamField {
  name: string;
  offset: number;
  size: 1 | 2 | 4 | 8;
  /** in the 40-byte match header (checked by some revisions) or the 136-byte body */
  part: 'header' | 'body';
}

/** Pseudo-field for truncation and extension: the stream's length. */
export const LENGTH_FIELD = 'length';

function build(v2: boolean): StreamField[] {
  const f: StreamField[] = [];
  const add = (name: string, offset: number, size: 1 | 2 | 4 | 8) =>
    f.push({ name, offset, size, part: offset < QM_MATCH_SIZE ? 'header' : 'body' });
  add('acc_magic', 0, 8);
  add('qp_num', 8, 4);
  add('dev_id', 12, 4);
  add('que_iso_cfg', 16, 4);
  add('qp_base', 20, 4);
  add('vf_qm_state', 24, 4);
  if (v2) {
    add('major_ver', 28, 2);
    add('minor_ver', 30, 2);
  } else add('qm_rsv_state[0]', 28, 4);
  add('qm_rsv_state[1]', 32, 4);
  add('qm_rsv_state[2]', 36, 4);
  const regs = ['aeq_int_mask', 'eq_int_mask', 'ifc_int_source', 'ifc_int_mask', 'ifc_int_set', 'page_size'];
  regs.forEach((r, i) => add(r, 40 + 4 * i, 4));
  for (let i = 0; i < 7; i++) add(`qm_eqc_dw[${i}]`, 64 + 4 * i, 4);
  for (let i = 0; i < 7; i++) add(`qm_aeqc_dw[${i}]`, 92 + 4 * i, 4);
  for (let i = 0; i < 5; i++) add(`qm_rsv_regs[${i}]`, 120 + 4 * i, 4);
  add('padding', 140, 4);
  add('eqe_dma', 144, 8);
  add('aeqe_dma', 152, 8);
  add('sqc_dma', 160, 8);
  add('cqc_dma', 168, 8);
  return f;
}

export const FIELDS_V1: readonly StreamField[] = build(false);
export const FIELDS_V2: readonly StreamField[] = build(true);

export function readMagic(stream: Uint8Array): bigint | null {
  if (stream.length < 8) return null;
  const lo = (stream[0] | (stream[1] << 8) | (stream[2] << 16) | (stream[3] << 24)) >>> 0;
  const hi = (stream[4] | (stream[5] << 8) | (stream[6] << 16) | (stream[7] << 24)) >>> 0;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** The field list that labels this stream (by its magic), limited to the bytes it has. */
export function fieldsOf(stream: Uint8Array): readonly StreamField[] {
  const all = readMagic(stream) === ACC_DEV_MAGIC_V2 ? FIELDS_V2 : FIELDS_V1;
  return all.filter((f) => f.offset + f.size <= Math.min(stream.length, ACC_VF_DATA_SIZE));
}

export function fieldByName(stream: Uint8Array, name: string): StreamField | undefined {
  return (readMagic(stream) === ACC_DEV_MAGIC_V2 ? FIELDS_V2 : FIELDS_V1).find((f) => f.name === name);
}

/** Field covering a byte offset (labels by the original stream's magic). */
export function fieldAt(stream: Uint8Array, offset: number): StreamField | undefined {
  const all = readMagic(stream) === ACC_DEV_MAGIC_V2 ? FIELDS_V2 : FIELDS_V1;
  return all.find((f) => offset >= f.offset && offset < f.offset + f.size);
}

export function readField(stream: Uint8Array, f: StreamField): bigint {
  let v = 0n;
  for (let i = f.size - 1; i >= 0; i--) v = (v << 8n) | BigInt(stream[f.offset + i] ?? 0);
  return v;
}

export function writeField(stream: Uint8Array, f: StreamField, value: bigint): void {
  let v = BigInt.asUintN(f.size * 8, value);
  for (let i = 0; i < f.size; i++) {
    stream[f.offset + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}
