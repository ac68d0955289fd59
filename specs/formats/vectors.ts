// Golden vectors written by hand from the layout table (docs/reference.md#stream-layout),
// independent of the .ksy: every offset below is copied from the table, every value chosen so that no two
// fields look alike.
import type { AccVfData } from '../../harness/formats/accVfData.ts';

export const V1_MAGIC_BYTES = [0xcc, 0xaa, 0xed, 0xfe, 0xcd, 0xcd, 0xcd, 0xcd];
export const V2_MAGIC_BYTES = [0xde, 0xde, 0xca, 0xde, 0xed, 0xfe, 0xcc, 0xaa];

function le32(b: Uint8Array, off: number, v: number): void {
  for (let i = 0; i < 4; i++) b[off + i] = (v >>> (8 * i)) & 0xff;
}
function le64(b: Uint8Array, off: number, v: bigint): void {
  for (let i = 0; i < 8; i++) b[off + i] = Number((v >> BigInt(8 * i)) & 0xffn);
}

/** The table of docs/reference.md#stream-layout: offset, size and name of every field (V1 labels for 28..39). */
export const TABLE_V1: [number, number, string][] = [
  [0, 8, 'header.acc_magic'], [8, 4, 'header.qp_num'], [12, 4, 'header.dev_id'], [16, 4, 'header.que_iso_cfg'],
  [20, 4, 'header.qp_base'], [24, 4, 'header.vf_qm_state'],
  [28, 4, 'header.rsv.qm_rsv_state[0]'], [32, 4, 'header.rsv.qm_rsv_state[1]'], [36, 4, 'header.rsv.qm_rsv_state[2]'],
  [40, 4, 'body.aeq_int_mask'], [44, 4, 'body.eq_int_mask'], [48, 4, 'body.ifc_int_source'], [52, 4, 'body.ifc_int_mask'],
  [56, 4, 'body.ifc_int_set'], [60, 4, 'body.page_size'],
  ...Array.from({ length: 7 }, (_, i) => [64 + 4 * i, 4, `body.qm_eqc_dw[${i}]`] as [number, number, string]),
  ...Array.from({ length: 7 }, (_, i) => [92 + 4 * i, 4, `body.qm_aeqc_dw[${i}]`] as [number, number, string]),
  ...Array.from({ length: 5 }, (_, i) => [120 + 4 * i, 4, `body.qm_rsv_regs[${i}]`] as [number, number, string]),
  [140, 4, 'body.padding'], [144, 8, 'body.eqe_dma'], [152, 8, 'body.aeqe_dma'], [160, 8, 'body.sqc_dma'], [168, 8, 'body.cqc_dma'],
];
/** V2 relabels 28..39: major_ver u16 @28, minor_ver u16 @30, qm_rsv_state[2] @32. */
export const TABLE_V2: [number, number, string][] = TABLE_V1.flatMap(([o, s, n]): [number, number, string][] => {
  if (o === 28) return [[28, 2, 'header.rsv.major_ver'], [30, 2, 'header.rsv.minor_ver']];
  if (o === 32) return [[32, 4, 'header.rsv.qm_rsv_state[0]']];
  if (o === 36) return [[36, 4, 'header.rsv.qm_rsv_state[1]']];
  return [[o, s, n]];
});

/** An R0-R2 (v5.18..v6.15) SEC VF save: V1 magic, eqe_dma/aeqe_dma composed dw1:dw0. */
export function goldenV1Full(): { bytes: Uint8Array; data: AccVfData } {
  const b = new Uint8Array(176);
  b.set(V1_MAGIC_BYTES, 0);
  le32(b, 8, 4); // qp_num
  le32(b, 12, 0xa256); // dev_id SEC VF
  le32(b, 16, 0x1); // que_iso_cfg
  le32(b, 20, 0x20); // qp_base
  le32(b, 24, 0); // vf_qm_state QM_READY
  le32(b, 40, 0x0); // aeq_int_mask
  le32(b, 44, 0x0); // eq_int_mask
  le32(b, 48, 0x3); // ifc_int_source
  le32(b, 52, 0x5); // ifc_int_mask
  le32(b, 56, 0x7); // ifc_int_set
  le32(b, 60, 0x1000); // page_size
  const eqc = [0x00110007, 0xfe000000, 0x00000012, 0x2000, 0, 0, 0x000107ff];
  const aeqc = [0x00030002, 0xfd800000, 0x00000012, 0, 0, 0, 0x000103ff];
  eqc.forEach((v, i) => le32(b, 64 + 4 * i, v));
  aeqc.forEach((v, i) => le32(b, 92 + 4 * i, v));
  le64(b, 144, 0xfe00000000110007n); // eqe_dma = dw1:dw0
  le64(b, 152, 0xfd80000000030002n); // aeqe_dma = dw1:dw0
  le64(b, 160, 0x00000012fc000000n);
  le64(b, 168, 0x00000012fb000000n);
  const data: AccVfData = {
    accMagic: 0xcdcdcdcdfeedaaccn, qpNum: 4, devId: 0xa256, queIsoCfg: 1, qpBase: 0x20, vfQmState: 0, qmRsvState: [0, 0, 0],
    aeqIntMask: 0, eqIntMask: 0, ifcIntSource: 3, ifcIntMask: 5, ifcIntSet: 7, pageSize: 0x1000,
    qmEqcDw: eqc, qmAeqcDw: aeqc, qmRsvRegs: [0, 0, 0, 0, 0], padding: 0,
    eqeDma: 0xfe00000000110007n, aeqeDma: 0xfd80000000030002n, sqcDma: 0x00000012fc000000n, cqcDma: 0x00000012fb000000n,
  };
  return { bytes: b, data };
}

/** An R3+ (v6.16+) HPRE VF save: V2 magic, version 1.0, addresses composed dw2:dw1. */
export function goldenV2Full(): { bytes: Uint8Array; data: AccVfData } {
  const b = new Uint8Array(176);
  b.set(V2_MAGIC_BYTES, 0);
  le32(b, 8, 2);
  le32(b, 12, 0xa259);
  le32(b, 16, 0x0);
  le32(b, 20, 0x40);
  le32(b, 24, 0);
  b[28] = 1; // major_ver u16 = 1
  b[30] = 0; // minor_ver u16 = 0
  le32(b, 60, 0x1000);
  const eqc = [0x00090004, 0xabcd0000, 0x80000001, 0x2000, 0, 0, 0x000107ff];
  const aeqc = [0x00000000, 0xabce0000, 0x80000001, 0, 0, 0, 0x000103ff];
  eqc.forEach((v, i) => le32(b, 64 + 4 * i, v));
  aeqc.forEach((v, i) => le32(b, 92 + 4 * i, v));
  le64(b, 144, 0x80000001abcd0000n); // dw2:dw1, high bit set: exact only without doubles
  le64(b, 152, 0x80000001abce0000n);
  le64(b, 160, 0x80000001abcf0000n);
  le64(b, 168, 0x80000001abd00000n);
  const data: AccVfData = {
    accMagic: 0xaaccfeeddecadeden, qpNum: 2, devId: 0xa259, queIsoCfg: 0, qpBase: 0x40, vfQmState: 0, qmRsvState: [1, 0, 0],
    aeqIntMask: 0, eqIntMask: 0, ifcIntSource: 0, ifcIntMask: 0, ifcIntSet: 0, pageSize: 0x1000,
    qmEqcDw: eqc, qmAeqcDw: aeqc, qmRsvRegs: [0, 0, 0, 0, 0], padding: 0,
    eqeDma: 0x80000001abcd0000n, aeqeDma: 0x80000001abce0000n, sqcDma: 0x80000001abcf0000n, cqcDma: 0x80000001abd00000n,
  };
  return { bytes: b, data };
}

/** A match-only stream: the first 40 bytes, vf_qm_state as given (1: guest VF driver not ready). */
export function matchOnly(full: { bytes: Uint8Array; data: AccVfData }, vfQmState = 1): { bytes: Uint8Array; data: AccVfData } {
  const bytes = full.bytes.slice(0, 40);
  le32(bytes, 24, vfQmState);
  return { bytes, data: { ...full.data, vfQmState } };
}

export { le32, le64 };
