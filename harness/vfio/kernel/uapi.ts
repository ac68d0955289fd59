// The VFIO / iommufd uAPI as byte-exact data (docs/reference.md#ioctl-numbers-and-device-opening,
// docs/reference.md#device-feature-ioctl): ioctl numbers, flag bits and the argument structs' sizes and field
// offsets. specs/hw/header.spec.ts compares every entry with a C probe compiled against the installed
// <linux/vfio.h>; entries newer than that header (`since` later than the header's kernel) are checked against
// docs/reference.md#ioctl-numbers-and-device-opening instead.

/** All VFIO ioctls are _IO(';', 100 + n): no size or direction bits. */
const VFIO_TYPE = 0x3b; // ';'
const VFIO_BASE = 100;
const vfioIo = (n: number): number => (VFIO_TYPE << 8) | (VFIO_BASE + n);

export const IOCTL = {
  VFIO_GET_API_VERSION: vfioIo(0),
  VFIO_CHECK_EXTENSION: vfioIo(1),
  VFIO_SET_IOMMU: vfioIo(2),
  VFIO_GROUP_GET_STATUS: vfioIo(3),
  VFIO_GROUP_SET_CONTAINER: vfioIo(4),
  VFIO_GROUP_UNSET_CONTAINER: vfioIo(5),
  VFIO_GROUP_GET_DEVICE_FD: vfioIo(6),
  VFIO_DEVICE_GET_INFO: vfioIo(7),
  VFIO_DEVICE_GET_REGION_INFO: vfioIo(8),
  VFIO_DEVICE_RESET: vfioIo(11),
  VFIO_DEVICE_FEATURE: vfioIo(17),
  VFIO_DEVICE_BIND_IOMMUFD: vfioIo(18),
  VFIO_DEVICE_ATTACH_IOMMUFD_PT: vfioIo(19),
  VFIO_DEVICE_DETACH_IOMMUFD_PT: vfioIo(20),
  VFIO_MIG_GET_PRECOPY_INFO: vfioIo(21),
  /** iommufd: _IO(IOMMUFD_TYPE=';', IOMMUFD_CMD_BASE 0x80 + 1) */
  IOMMU_IOAS_ALLOC: (VFIO_TYPE << 8) | 0x81,
} as const;
export type IoctlName = keyof typeof IOCTL;

/** First kernel whose uapi header defines each ioctl (for the header check). */
export const IOCTL_SINCE: Record<IoctlName, string> = {
  VFIO_GET_API_VERSION: '3.6', VFIO_CHECK_EXTENSION: '3.6', VFIO_SET_IOMMU: '3.6', VFIO_GROUP_GET_STATUS: '3.6',
  VFIO_GROUP_SET_CONTAINER: '3.6', VFIO_GROUP_UNSET_CONTAINER: '3.6', VFIO_GROUP_GET_DEVICE_FD: '3.6',
  VFIO_DEVICE_GET_INFO: '3.6', VFIO_DEVICE_GET_REGION_INFO: '3.6', VFIO_DEVICE_RESET: '3.6', VFIO_DEVICE_FEATURE: '5.7',
  VFIO_DEVICE_BIND_IOMMUFD: '6.6', VFIO_DEVICE_ATTACH_IOMMUFD_PT: '6.6', VFIO_DEVICE_DETACH_IOMMUFD_PT: '6.6',
  VFIO_MIG_GET_PRECOPY_INFO: '6.2', IOMMU_IOAS_ALLOC: '6.2',
};

export const VFIO_API_VERSION = 0;
export const VFIO_TYPE1_IOMMU = 1;
export const VFIO_TYPE1v2_IOMMU = 3;
export const VFIO_GROUP_FLAGS = { VIABLE: 0x1, CONTAINER_SET: 0x2 } as const;
export const VFIO_DEVICE_FLAGS = { RESET: 0x1, PCI: 0x2 } as const;
/** vfio_region_info.flags */
export const VFIO_REGION_INFO_FLAG = { READ: 0x1, WRITE: 0x2, MMAP: 0x4, CAPS: 0x8 } as const;
/** Region indexes of a VFIO PCI device (vfio-pci and PCI-like mdevs): BAR0..BAR5, ROM, config space. */
export const VFIO_PCI_REGION = { BAR0: 0, BAR1: 1, BAR2: 2, BAR3: 3, BAR4: 4, BAR5: 5, ROM: 6, CONFIG: 7, VGA: 8 } as const;

/** vfio_device_feature.flags (docs/reference.md#device-feature-ioctl). */
export const FEATURE_FLAG = { MASK: 0xffff, GET: 0x10000, SET: 0x20000, PROBE: 0x40000 } as const;
export const FEATURE_ID = {
  PCI_VF_TOKEN: 0, MIGRATION: 1, MIG_DEVICE_STATE: 2, LOW_POWER_ENTRY: 3, LOW_POWER_ENTRY_WITH_WAKEUP: 4,
  LOW_POWER_EXIT: 5, DMA_LOGGING_START: 6, DMA_LOGGING_STOP: 7, DMA_LOGGING_REPORT: 8, MIG_DATA_SIZE: 9,
} as const;
export const FEATURE_ID_SINCE: Record<keyof typeof FEATURE_ID, string> = {
  PCI_VF_TOKEN: '5.7', MIGRATION: '5.18', MIG_DEVICE_STATE: '5.18', LOW_POWER_ENTRY: '6.1',
  LOW_POWER_ENTRY_WITH_WAKEUP: '6.1', LOW_POWER_EXIT: '6.1', DMA_LOGGING_START: '6.1', DMA_LOGGING_STOP: '6.1',
  DMA_LOGGING_REPORT: '6.1', MIG_DATA_SIZE: '6.2',
};

/** Field: [offset, size] in bytes. */
export interface StructDef {
  size: number;
  fields: Record<string, [number, number]>;
  since: string;
  /** the C struct name as the header spells it */
  c: string;
}

// Sizes as the structs stand in the newest uapi where they grew: we build the 6.1-compatible
// prefix and set argsz to what we send (the kernel reads min(argsz, its size)).
export const STRUCTS = {
  group_status: { c: 'vfio_group_status', since: '3.6', size: 8, fields: { argsz: [0, 4], flags: [4, 4] } },
  device_info: {
    c: 'vfio_device_info', since: '3.6', size: 20,
    fields: { argsz: [0, 4], flags: [4, 4], num_regions: [8, 4], num_irqs: [12, 4], cap_offset: [16, 4] },
  },
  region_info: {
    c: 'vfio_region_info', since: '3.6', size: 32,
    fields: { argsz: [0, 4], flags: [4, 4], index: [8, 4], cap_offset: [12, 4], size: [16, 8], offset: [24, 8] },
  },
  device_feature: { c: 'vfio_device_feature', since: '5.7', size: 8, fields: { argsz: [0, 4], flags: [4, 4] } },
  feature_migration: { c: 'vfio_device_feature_migration', since: '5.18', size: 8, fields: { flags: [0, 8] } },
  feature_mig_state: {
    c: 'vfio_device_feature_mig_state', since: '5.18', size: 8, fields: { device_state: [0, 4], data_fd: [4, 4] },
  },
  feature_mig_data_size: {
    c: 'vfio_device_feature_mig_data_size', since: '6.2', size: 8, fields: { stop_copy_length: [0, 8] },
  },
  precopy_info: {
    c: 'vfio_precopy_info', since: '6.2', size: 24,
    fields: { argsz: [0, 4], flags: [4, 4], initial_bytes: [8, 8], dirty_bytes: [16, 8] },
  },
  bind_iommufd: {
    c: 'vfio_device_bind_iommufd', since: '6.6', size: 16,
    fields: { argsz: [0, 4], flags: [4, 4], iommufd: [8, 4], out_devid: [12, 4] },
  },
  attach_iommufd_pt: {
    c: 'vfio_device_attach_iommufd_pt', since: '6.6', size: 12, fields: { argsz: [0, 4], flags: [4, 4], pt_id: [8, 4] },
  },
  ioas_alloc: { c: 'iommu_ioas_alloc', since: '6.2', size: 12, fields: { size: [0, 4], flags: [4, 4], out_ioas_id: [8, 4] } },
} as const satisfies Record<string, StructDef>;

/** A VFIO_DEVICE_FEATURE argument: header {argsz, flags} then `payload` bytes. argsz set explicitly. */
export function featureBuf(flags: number, payloadBytes: number): Buffer {
  const b = Buffer.alloc(STRUCTS.device_feature.size + payloadBytes);
  b.writeUInt32LE(b.length, 0);
  b.writeUInt32LE(flags >>> 0, 4);
  return b;
}

/** A struct that starts with argsz (u32 @0): zeroed, argsz = its size. */
export function argszBuf(def: StructDef): Buffer {
  const b = Buffer.alloc(def.size);
  b.writeUInt32LE(def.size, 0);
  return b;
}

/** Kernel release "6.1.0-28-arm64" → comparable [major, minor]. */
export function kernelVersion(release: string): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (!m) throw new Error(`not a kernel release: ${release}`);
  return [Number(m[1]), Number(m[2])];
}

export function versionAtLeast(have: string, need: string): boolean {
  const [a, b] = kernelVersion(have);
  const [c, d] = kernelVersion(need);
  return a > c || (a === c && b >= d);
}
