// What sysfs says about a PCI device: the driver bound to it, its IOMMU group, its VFIO cdev and its
// ids. The root is configurable (MIGCOMPAT_SYSFS_ROOT or an option) so tests build a fake tree.
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { UsageError } from '../../util/usage-error.ts';

export const BDF_RE = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/;

export function sysfsRoot(explicit?: string): string {
  return explicit ?? process.env.MIGCOMPAT_SYSFS_ROOT ?? '/sys';
}

export interface PciDeviceInfo {
  bdf: string;
  /** bound driver name, null when unbound */
  driver: string | null;
  iommuGroup: number | null;
  /** N of /dev/vfio/devices/vfioN, when the kernel has VFIO cdevs and the device is bound to VFIO */
  cdev: number | null;
  vendorId: number | null;
  deviceId: number | null;
  /** the PF's name when this is an SR-IOV VF */
  physfn: string | null;
}

/** A BDF as typed by a user: "75:00.1" gets the default domain; anything else malformed is refused. */
export function normalizeBdf(text: string): string {
  const t = text.trim().toLowerCase();
  const full = /^[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/.test(t) ? `0000:${t}` : t;
  if (!BDF_RE.test(full)) throw new UsageError(`not a PCI address: '${text}' (expected DDDD:BB:DD.F, e.g. 0000:75:00.1)`);
  return full;
}

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

export function readPciDevice(bdf: string, root = sysfsRoot()): PciDeviceInfo {
  const dir = join(root, 'bus/pci/devices', bdf);
  if (!existsSync(dir)) throw new UsageError(`no PCI device ${bdf} (looked in ${dir})`);
  const group = linkName(join(dir, 'iommu_group'));
  let cdev: number | null = null;
  try {
    const m = readdirSync(join(dir, 'vfio-dev')).map((n) => /^vfio(\d+)$/.exec(n)).find(Boolean);
    if (m) cdev = Number(m[1]);
  } catch {
    /* no vfio-dev: the kernel predates VFIO cdevs or the device is not bound to VFIO */
  }
  return {
    bdf,
    driver: linkName(join(dir, 'driver')),
    iommuGroup: group !== null && /^\d+$/.test(group) ? Number(group) : null,
    cdev,
    vendorId: hexFile(join(dir, 'vendor')),
    deviceId: hexFile(join(dir, 'device')),
    physfn: linkName(join(dir, 'physfn')),
  };
}
