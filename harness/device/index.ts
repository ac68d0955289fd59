// The simulated HiSilicon QM VF and the guest memory its DMA reaches (interface of issue #3).
export { GuestMemory, DmaFaultError, lo32, hi32, compose } from './memory.ts';
export { QmVf, IRQ_EQ, IRQ_AEQ } from './qmvf.ts';
export type { QmVfOptions, DeviceFaults, DeviceStats, DmaFault, RasKind, IrqSink } from './qmvf.ts';
export * as regs from './regs.ts';
export { SQE_SIZE, SQE_LOG2, SQE_OFF, SQE_OP, SQE_STATUS, OPS_BY_TYPE } from './sqe.ts';
export type { SqeOpName } from './sqe.ts';
export { DEVICE_IDS, DEFAULT_DEVICE, VENDOR_ID_HUAWEI } from './mmio.ts';
export type { MmioTarget, MmioSpace, DeviceConfig, DeviceType, HwMode } from './mmio.ts';
