// Register offsets, mailbox and doorbell encodings of a HiSilicon QM VF
// (docs/reference.md#registers-the-migration-driver-uses, docs/reference.md#doorbells,
// docs/reference.md#mailbox). Offsets are relative to the window named in the comment ('vf' = VF BAR2 /
// migration io_base, 'pf' = PF BAR2).

// VF window (docs/reference.md#registers-the-migration-driver-uses)
export const VF_AEQ_INT_SOURCE = 0x0000;
export const VF_AEQ_INT_MASK = 0x0004;
export const VF_EQ_INT_SOURCE = 0x0008;
export const VF_EQ_INT_MASK = 0x000c;
export const VF_IFC_INT_SOURCE = 0x0020;
export const VF_IFC_INT_MASK = 0x0024;
export const VF_IFC_INT_STATUS = 0x0028;
export const VF_IFC_INT_SET = 0x002c;
export const VF_QUE_ISO_CFG = 0x0030;
export const VF_PAGE_SIZE = 0x0034;
export const VF_QM_STATE = 0x0060;
export const VF_CACHE_WB_START = 0x0204;
export const VF_CACHE_WB_DONE = 0x0208;
export const VF_MAILBOX = 0x0300;
export const VF_MB_DATA_L = 0x0304;
export const VF_MB_DATA_H = 0x0308;
export const VF_DB_SQCQ = 0x1000;
export const VF_DB_EQAEQ = 0x2000;
/** EQC/AEQC shadows in VF-control mode (upper, guest-hidden half of BAR2) */
export const VF_EQC_DW0 = 0x8000;
export const VF_AEQC_DW0 = 0x8020;
/** EQC/AEQC shadows in the PF-control window (R4+, docs/reference.md#pf-control-mode) */
export const PFWIN_EQC_DW0 = 0x1c00;
export const PFWIN_AEQC_DW0 = 0x1c20;
/** size of the VF window we keep a register file for (VF BAR2 is 64 KiB) */
export const VF_WINDOW_BYTES = 0x10000;
/** what a guest is given of BAR2 in VF-control mode (docs/reference.md#pf-control-mode) */
export const GUEST_BAR_BYTES_VF_CTRL = 0x8000;

// PF window (docs/reference.md#registers-the-migration-driver-uses)
export const PF_QUE_ISO_CFG = 0x0030;
export const PF_ABNORMAL_INT_STATUS = 0x100008;
export const PF_VFT_OP_ENABLE = 0x100054;
export const PF_VFT_OP_WR = 0x100058;
export const PF_VFT_TYPE = 0x10005c;
export const PF_VFT_CFG = 0x100060;
export const PF_VFT_DATA_L = 0x100064;
export const PF_VFT_DATA_H = 0x100068;
export const PF_VFT_RDY = 0x10006c;
export const PF_MIG_REGION_SEL = 0x100198;
export const PF_ENGINE_INT_STATUS = { SEC: 0x301008, HPRE: 0x301800, ZIP: 0x3010ac } as const;

// Mailbox (docs/reference.md#mailbox)
export const MB_CMD = {
  SQC: 0x0, CQC: 0x1, EQC: 0x2, AEQC: 0x3, SQC_BT: 0x4, CQC_BT: 0x5, SQC_VFT_V2: 0x6, STOP_QP: 0x8,
  SRC: 0xc, DST: 0xd, PAUSE_QM: 0xe,
} as const;
export const MB_BUSY = 1 << 13;
export const MB_OP_QUERY = 1 << 14;
export const MB_STATUS_SHIFT = 9;
export const MB_STATUS_MASK = 0xf << MB_STATUS_SHIFT;

// Doorbell commands (docs/reference.md#doorbells)
export const DB_CMD = { SQ: 0, CQ: 1, EQ: 2, AEQ: 3 } as const;

/** Compose a V2-format doorbell (docs/reference.md#doorbells). */
export function doorbell(cmd: number, qn: number, index: number, priority: number): bigint {
  return (BigInt(priority & 0xffff) << 48n) | (BigInt(index & 0xffff) << 32n) | BigInt(((cmd & 0xf) << 12) | (qn & 0xfff));
}

/** Compose the first 8 bytes of a mailbox command (docs/reference.md#mailbox). */
export function mailboxLo(cmd: number, query: boolean, queue: number, baseL: number): bigint {
  const w0 = (cmd & 0xff) | MB_BUSY | (query ? MB_OP_QUERY : 0);
  return (BigInt(baseL >>> 0) << 32n) | BigInt(((queue & 0xffff) << 16) | w0);
}

// Context layouts (docs/reference.md#queue-and-event-queue-contexts): byte sizes and dword meanings
export const SQC_SIZE = 32;
export const CQC_SIZE = 32;
export const EQC_DWORDS = 7;
export const CQE_SIZE = 16;
export const EQE_SIZE = 4;

/** AEQ event types (docs/reference.md#event-queue-entries) */
export const AEQ_EVENT = { CQ_OVERFLOW: 0, EQ_OVERFLOW: 1, CQE_ERROR: 2 } as const;

/** Encode a VFT value: qp_base bits 43:28, qp_num-1 bits 54:45 (docs/reference.md#opening-the-save-file). */
export function vftValue(qpBase: number, qpNum: number): bigint {
  return (BigInt(qpBase & 0xffff) << 28n) | (BigInt((qpNum - 1) & 0x3ff) << 45n);
}
