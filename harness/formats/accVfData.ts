// struct acc_vf_data (reference A.2) as the engine sees it: named fields with exact 64-bit values.
// The byte layout lives only in formats/hisi_acc_vf_data.ksy; encode/decode walk that description.
export const ACC_DEV_MAGIC_V1 = 0xcdcdcdcdfeedaaccn;
export const ACC_DEV_MAGIC_V2 = 0xaaccfeeddecadeden;
export const ACC_DRV_MAJOR_VER = 1;
export const ACC_DRV_MINOR_VER = 0;
/** QM_MATCH_SIZE: end of qm_rsv_state */
export const QM_MATCH_SIZE = 40;
/** sizeof(struct acc_vf_data) */
export const ACC_VF_DATA_SIZE = 176;

export interface AccVfHeader {
  accMagic: bigint;
  qpNum: number;
  devId: number;
  queIsoCfg: number;
  qpBase: number;
  vfQmState: number;
  /**
   * Bytes 28..39 as three little-endian u32 words, whatever the magic. In a V2 header word 0 holds
   * major_ver (bits 15:0) and minor_ver (bits 31:16).
   */
  qmRsvState: [number, number, number];
}

export interface AccVfBody {
  aeqIntMask: number;
  eqIntMask: number;
  ifcIntSource: number;
  ifcIntMask: number;
  ifcIntSet: number;
  pageSize: number;
  qmEqcDw: number[]; // 7
  qmAeqcDw: number[]; // 7
  qmRsvRegs: number[]; // 5
  padding: number;
  eqeDma: bigint;
  aeqeDma: bigint;
  sqcDma: bigint;
  cqcDma: bigint;
}

/** The full struct as a driver holds it in memory; a stream carries the first 40 or all 176 bytes. */
export type AccVfData = AccVfHeader & AccVfBody;

export const majorVer = (h: AccVfHeader): number => h.qmRsvState[0] & 0xffff;
export const minorVer = (h: AccVfHeader): number => h.qmRsvState[0] >>> 16;

export function emptyAccVfData(): AccVfData {
  return {
    accMagic: 0n, qpNum: 0, devId: 0, queIsoCfg: 0, qpBase: 0, vfQmState: 0, qmRsvState: [0, 0, 0],
    aeqIntMask: 0, eqIntMask: 0, ifcIntSource: 0, ifcIntMask: 0, ifcIntSet: 0, pageSize: 0,
    qmEqcDw: [0, 0, 0, 0, 0, 0, 0], qmAeqcDw: [0, 0, 0, 0, 0, 0, 0], qmRsvRegs: [0, 0, 0, 0, 0], padding: 0,
    eqeDma: 0n, aeqeDma: 0n, sqcDma: 0n, cqcDma: 0n,
  };
}
