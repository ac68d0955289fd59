// The request descriptor (SQE) the simulated engine understands. It is a simplified stand-in for the
// SEC/ZIP/HPRE hardware descriptors (their real BD layouts are not in docs/reference.md and do not
// matter for migration): what matters is that requests live in guest memory, are fetched by the
// device by SQ index, and completion is reported in the SQE and by a CQE naming that index.
//
// Layout (little-endian), SQE_SIZE bytes:
//   0x00 u32 tag        guest's request id
//   0x04 u8  op         SQE_OP
//   0x05 u8  status     written by the device: 0 pending, 1 done, >=2 error (SQE_STATUS)
//   0x06 u16 rsvd
//   0x08 u32 len        input length
//   0x0C u32 outLen     written by the device
//   0x10 u64 src        input buffer
//   0x18 u64 dst        output buffer
//   0x20 u64 key        key buffer (cipher/HMAC)
//   0x28 u32 keyLen
//   0x2C u32 ivLen
//   0x30 u64 iv         IV/nonce buffer
//   0x38 u32 dstCap     capacity of dst
export const SQE_SIZE = 128;
export const SQE_LOG2 = 7;

export const SQE_OFF = {
  tag: 0x00, op: 0x04, status: 0x05, len: 0x08, outLen: 0x0c, src: 0x10, dst: 0x18, key: 0x20,
  keyLen: 0x28, ivLen: 0x2c, iv: 0x30, dstCap: 0x38,
} as const;

export const SQE_OP = {
  AES_CBC_ENC: 1, AES_GCM_ENC: 2, SHA256: 3, HMAC_SHA256: 4, DEFLATE: 5, INFLATE: 6, MODEXP: 7,
} as const;
export type SqeOpName = keyof typeof SQE_OP;

export const SQE_STATUS = { PENDING: 0, DONE: 1, BAD_OP: 2, BAD_LEN: 3, DMA_FAULT: 4, ENGINE_ERROR: 5 } as const;

/** Which ops each accelerator type implements. */
export const OPS_BY_TYPE = {
  SEC: [SQE_OP.AES_CBC_ENC, SQE_OP.AES_GCM_ENC, SQE_OP.SHA256, SQE_OP.HMAC_SHA256],
  ZIP: [SQE_OP.DEFLATE, SQE_OP.INFLATE],
  HPRE: [SQE_OP.MODEXP],
} as const;
