// The TypeScript uAPI definitions against the installed kernel headers (Debian linux-libc-dev): a C probe
// compiled at test time prints ioctl numbers, struct sizes and offsets. Entries the header is too old for are
// checked against the tables of docs/reference.md#ioctl-numbers-and-device-opening and
// docs/reference.md#device-feature-ioctl.
import { test, expect } from '@playwright/test';
import { probeHeaders, type HeaderFacts } from '../../harness/vfio/kernel/header-probe.ts';
import { FEATURE_FLAG, FEATURE_ID, FEATURE_ID_SINCE, IOCTL, IOCTL_SINCE, STRUCTS, VFIO_API_VERSION, VFIO_DEVICE_FLAGS, VFIO_GROUP_FLAGS, VFIO_PCI_REGION, VFIO_REGION_INFO_FLAG, VFIO_TYPE1v2_IOMMU, versionAtLeast } from '../../harness/vfio/kernel/uapi.ts';
import { MIG_FLAG, MIG_STATE } from '../../harness/vfio/types.ts';

let facts: HeaderFacts;
test.beforeAll(() => {
  facts = probeHeaders();
});

// docs/reference.md#ioctl-numbers-and-device-opening (numbers computed from newer uapi definitions)
// for what the installed header lacks.
const REFERENCE_IOCTLS: Record<string, number> = {
  VFIO_DEVICE_BIND_IOMMUFD: 0x3b76, VFIO_DEVICE_ATTACH_IOMMUFD_PT: 0x3b77, VFIO_DEVICE_DETACH_IOMMUFD_PT: 0x3b78,
  VFIO_MIG_GET_PRECOPY_INFO: 0x3b79, IOMMU_IOAS_ALLOC: 0x3b81,
};
const REFERENCE_SIZES: Record<string, number> = {
  vfio_precopy_info: 24, vfio_device_bind_iommufd: 16, vfio_device_attach_iommufd_pt: 12,
  vfio_device_feature_mig_data_size: 8, iommu_ioas_alloc: 12,
};

test('ioctl numbers match the installed header, or the documented value where the header predates them', () => {
  expect(facts.ioctls.size).toBeGreaterThanOrEqual(10);
  for (const [name, value] of Object.entries(IOCTL)) {
    const fromHeader = facts.ioctls.get(name);
    if (fromHeader !== undefined) expect(value, name).toBe(fromHeader);
    else {
      expect(versionAtLeast(facts.headerVersion, IOCTL_SINCE[name as keyof typeof IOCTL]), `${name} should be in a ${facts.headerVersion} header`).toBe(false);
      expect(value, `${name} vs docs/reference.md#ioctl-numbers-and-device-opening`).toBe(REFERENCE_IOCTLS[name]);
    }
  }
});

test('struct sizes and field offsets match the header (documented values for newer structs)', () => {
  for (const def of Object.values(STRUCTS)) {
    const size = facts.sizes.get(def.c);
    if (size === undefined) {
      expect(versionAtLeast(facts.headerVersion, def.since) && def.c.startsWith('vfio'), `${def.c} missing from header`).toBe(false);
      expect(def.size, `${def.c} vs reference`).toBe(REFERENCE_SIZES[def.c]);
      continue;
    }
    expect(def.size, def.c).toBe(size);
    for (const [field, [off, len]] of Object.entries(def.fields)) {
      expect(facts.offsets.get(`${def.c}.${field}`), `${def.c}.${field}`).toEqual([off, len]);
    }
  }
  // the flexible data[] of vfio_device_feature starts right after the 8-byte header we build
  expect(facts.offsets.get('vfio_device_feature.data')?.[0]).toBe(STRUCTS.device_feature.size);
});

test('flag and enum values match the header', () => {
  const c = (n: string) => facts.consts.get(n);
  expect(c('VFIO_API_VERSION')).toBe(VFIO_API_VERSION);
  expect(c('VFIO_TYPE1v2_IOMMU')).toBe(VFIO_TYPE1v2_IOMMU);
  expect(c('VFIO_GROUP_FLAGS_VIABLE')).toBe(VFIO_GROUP_FLAGS.VIABLE);
  expect(c('VFIO_GROUP_FLAGS_CONTAINER_SET')).toBe(VFIO_GROUP_FLAGS.CONTAINER_SET);
  expect(c('VFIO_DEVICE_FLAGS_PCI')).toBe(VFIO_DEVICE_FLAGS.PCI);
  for (const [name, v] of Object.entries(VFIO_REGION_INFO_FLAG)) expect(c(`VFIO_REGION_INFO_FLAG_${name}`), name).toBe(v);
  expect(c('VFIO_PCI_BAR0_REGION_INDEX')).toBe(VFIO_PCI_REGION.BAR0);
  expect(c('VFIO_PCI_CONFIG_REGION_INDEX')).toBe(VFIO_PCI_REGION.CONFIG);
  expect(c('VFIO_DEVICE_FEATURE_MASK')).toBe(FEATURE_FLAG.MASK);
  expect(c('VFIO_DEVICE_FEATURE_GET')).toBe(FEATURE_FLAG.GET);
  expect(c('VFIO_DEVICE_FEATURE_SET')).toBe(FEATURE_FLAG.SET);
  expect(c('VFIO_DEVICE_FEATURE_PROBE')).toBe(FEATURE_FLAG.PROBE);
  for (const [name, id] of Object.entries(FEATURE_ID)) {
    const v = c(`VFIO_DEVICE_FEATURE_${name}`);
    if (v !== undefined) expect(id, name).toBe(v);
    else expect(versionAtLeast(facts.headerVersion, FEATURE_ID_SINCE[name as keyof typeof FEATURE_ID]), name).toBe(false);
  }
  expect(FEATURE_ID.MIG_DATA_SIZE).toBe(9); // docs/reference.md#device-feature-ioctl (6.2)
  expect(c('VFIO_MIGRATION_STOP_COPY')).toBe(MIG_FLAG.STOP_COPY);
  expect(c('VFIO_MIGRATION_P2P')).toBe(MIG_FLAG.P2P);
  expect(c('VFIO_MIGRATION_PRE_COPY') ?? 4).toBe(MIG_FLAG.PRE_COPY);
  for (const s of ['ERROR', 'STOP', 'RUNNING', 'STOP_COPY', 'RESUMING', 'RUNNING_P2P'] as const) {
    expect(c(`VFIO_DEVICE_STATE_${s}`), s).toBe(MIG_STATE[s]);
  }
});
