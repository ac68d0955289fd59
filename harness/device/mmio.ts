// What a host driver (model or real code) sees of one HiSilicon QM VF: two MMIO windows and the
// firmware hooks that stand for hardware behaviour the driver source does not show.
//
// 'vf' is the VF's migration io_base (docs/reference.md#registers-the-migration-driver-uses: the whole VF
// BAR2 in VF-control mode, or the PF window PF_BAR2 + 0x180000 + vf_id*0x2000 in PF-control mode: the device
// maps that for us). 'pf' is the PF's BAR2 (VFT, RAS status, isolation config, QM_MIG_REGION_SEL).
export type MmioSpace = 'vf' | 'pf';

export interface MmioTarget {
  read32(space: MmioSpace, offset: number): number;
  write32(space: MmioSpace, offset: number, value: number): void;
  /** 64-bit single store (doorbells, docs/reference.md#doorbells) */
  write64(space: MmioSpace, offset: number, value: bigint): void;
  /** 128-bit single store (mailbox at 0x300, docs/reference.md#mailbox): lo = bytes 0..7, hi = bytes 8..15 */
  write128(space: MmioSpace, offset: number, lo: bigint, hi: bigint): void;
  /** simulated time advances while a driver polls (udelay / readl_poll_timeout) */
  delayUs(us: number): void;
}

/** Static identity of a VF, as lspci and the PF's VFT would report it. */
export type DeviceType = 'SEC' | 'HPRE' | 'ZIP';

export const DEVICE_IDS: Record<DeviceType, number> = { ZIP: 0xa251, SEC: 0xa256, HPRE: 0xa259 };
export const VENDOR_ID_HUAWEI = 0x19e5;

export type HwMode = 'vf-ctrl' | 'pf-ctrl';

export interface DeviceConfig {
  type: DeviceType;
  /** queues assigned to the VF by the PF's VFT */
  qpNum: number;
  qpBase: number;
  /** PF register 0x30 (QM_QUE_ISO_CFG_V) */
  queIsoCfg: number;
  /** hardware migration mode (docs/reference.md#pf-control-mode) */
  hwMode: HwMode;
  /** SR-IOV VF index + 1 */
  vfId: number;
}

export const DEFAULT_DEVICE: DeviceConfig = {
  type: 'SEC', qpNum: 4, qpBase: 4, queIsoCfg: 0, hwMode: 'vf-ctrl', vfId: 1,
};
