// What sysfs says about a device the hardware runner may open: a PCI function (a VF bound to a VFIO
// variant driver) or a mediated device (mdev, named by UUID under /sys/bus/mdev/devices). For both:
// the driver bound to it, its IOMMU group, its VFIO cdev; PCI ids for a PCI function, the mdev type
// and parent for an mdev. The root is configurable (MIGCOMPAT_SYSFS_ROOT or an option) so tests
// build a fake tree.
import { existsSync, readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UsageError } from '../../util/usage-error.ts';

export const BDF_RE = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/;
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
/** A mediated device id as the CLI takes it: mdev:UUID. */
export const MDEV_ID_RE = new RegExp(`^mdev:${UUID}$`);
/** Either kind of device id, in canonical (lower-case, full) form. */
export const DEVICE_ID_RE = new RegExp(`^(${BDF_RE.source.slice(1, -1)}|mdev:${UUID})$`);

export function sysfsRoot(explicit?: string): string {
  return explicit ?? process.env.MIGCOMPAT_SYSFS_ROOT ?? '/sys';
}

export interface DeviceInfo {
  kind: 'pci' | 'mdev';
  /**
   * The device id: the PCI address, or `mdev:UUID`. The field keeps its historic name because it
   * appears in JSON output and stream sidecars.
   */
  bdf: string;
  /** the name VFIO_GROUP_GET_DEVICE_FD takes: the PCI address, or the bare UUID of an mdev */
  vfioName: string;
  /** bound driver name, null when unbound */
  driver: string | null;
  iommuGroup: number | null;
  /** N of /dev/vfio/devices/vfioN, when the kernel has VFIO cdevs and the device is bound to VFIO */
  cdev: number | null;
  vendorId: number | null;
  deviceId: number | null;
  /** the PF's name when this is an SR-IOV VF */
  physfn: string | null;
  /** mdev only: its type (e.g. mtty-1) and the parent device it was created on */
  mdevType: string | null;
  parent: string | null;
}
/** Kept for callers that only ever see PCI functions. */
export type PciDeviceInfo = DeviceInfo;

/** A BDF as typed by a user: "75:00.1" gets the default domain; anything else malformed is refused. */
export function normalizeBdf(text: string): string {
  const t = text.trim().toLowerCase();
  const full = /^[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/.test(t) ? `0000:${t}` : t;
  if (!BDF_RE.test(full)) throw new UsageError(`not a PCI address: '${text}' (expected DDDD:BB:DD.F, e.g. 0000:75:00.1)`);
  return full;
}

/** A device id as typed by a user: a PCI address, or mdev:UUID for a mediated device. */
export function normalizeDeviceId(text: string): string {
  const t = text.trim().toLowerCase();
  if (t.startsWith('mdev:')) {
    if (!MDEV_ID_RE.test(t)) throw new UsageError(`not an mdev device: '${text}' (expected mdev:UUID, e.g. mdev:83b8f4f2-509f-382f-3c1e-e6bfe0fa1001)`);
    return t;
  }
  if (/^[0-9a-f-]{36}$/.test(t)) throw new UsageError(`'${text}' looks like an mdev UUID: write it as mdev:${t}`);
  try {
    return normalizeBdf(text);
  } catch {
    throw new UsageError(`not a PCI address: '${text}' (expected DDDD:BB:DD.F, e.g. 0000:75:00.1, or mdev:UUID for a mediated device)`);
  }
}

export const isMdevId = (id: string): boolean => id.startsWith('mdev:');

const linkName = (p: string): string | null => {
  try {
    return basename(readlinkSync(p));
  } catch {
    return null;
  }
};

const hexFile = (p: string): number | null => {
  try {
    return Number.parseInt(readFileSync(p, 'utf8').trim(), 16);
  } catch {
    return null;
  }
};

/** The VFIO bits every kind shares: driver, IOMMU group and cdev of the device folder `dir`. */
function vfioBits(dir: string): Pick<DeviceInfo, 'driver' | 'iommuGroup' | 'cdev'> {
  const group = linkName(join(dir, 'iommu_group'));
  let cdev: number | null = null;
  try {
    const m = readdirSync(join(dir, 'vfio-dev')).map((n) => /^vfio(\d+)$/.exec(n)).find(Boolean);
    if (m) cdev = Number(m[1]);
  } catch {
    /* no vfio-dev: the kernel predates VFIO cdevs or the device is not bound to VFIO */
  }
  return { driver: linkName(join(dir, 'driver')), iommuGroup: group !== null && /^\d+$/.test(group) ? Number(group) : null, cdev };
}

export function readPciDevice(bdf: string, root = sysfsRoot()): DeviceInfo {
  const dir = join(root, 'bus/pci/devices', bdf);
  if (!existsSync(dir)) throw new UsageError(`no PCI device ${bdf} (looked in ${dir})`);
  return {
    kind: 'pci', bdf, vfioName: bdf, ...vfioBits(dir),
    vendorId: hexFile(join(dir, 'vendor')),
    deviceId: hexFile(join(dir, 'device')),
    physfn: linkName(join(dir, 'physfn')),
    mdevType: null, parent: null,
  };
}

/** A mediated device: /sys/bus/mdev/devices/UUID, its type link and the parent folder it lives in. */
export function readMdevDevice(id: string, root = sysfsRoot()): DeviceInfo {
  const uuid = id.slice('mdev:'.length);
  const dir = join(root, 'bus/mdev/devices', uuid);
  if (!existsSync(dir)) throw new UsageError(`no mdev device ${uuid} (looked in ${dir}; create one through mdev_supported_types/<type>/create)`);
  let parent: string | null = null;
  try {
    parent = basename(dirname(realpathSync(dir)));
  } catch {
    /* a dangling link: no parent to report */
  }
  return {
    kind: 'mdev', bdf: id, vfioName: uuid, ...vfioBits(dir),
    vendorId: null, deviceId: null, physfn: null,
    mdevType: linkName(join(dir, 'mdev_type')), parent,
  };
}

/** Either kind, by the form of the (canonical) id. */
export function readDevice(id: string, root = sysfsRoot()): DeviceInfo {
  return isMdevId(id) ? readMdevDevice(id, root) : readPciDevice(id, root);
}
