// Test fixtures for the hw project: a fake sysfs tree and a stand-in host with fresh devices.
import { expect } from '@playwright/test';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StandinHost } from '../../harness/vfio/kernel/standin/host.ts';
import { FakeHisiDevice, type FakeDeviceOptions } from '../../harness/vfio/kernel/standin/fake-device.ts';
import type { StandinConfig } from '../../harness/vfio/kernel/standin/config.ts';
import { UsageError } from '../../harness/util/usage-error.ts';

/** The one-line message of the UsageError `fn` must throw. */
export function usageMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error('expected a UsageError');
}

export interface FakePci {
  bdf: string;
  driver: string | null;
  group: number | null;
  cdev?: number | null;
  deviceId?: number;
}

/** bus/pci/devices/<bdf>/{driver,iommu_group,vfio-dev/vfioN,vendor,device} under a temp root. */
export function fakeSysfs(devices: FakePci[], root = mkdtempSync(join(tmpdir(), 'mc-sysfs-'))): string {
  for (const d of devices) {
    const dir = join(root, 'bus/pci/devices', d.bdf);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'vendor'), '0x19e5\n');
    writeFileSync(join(dir, 'device'), `0x${(d.deviceId ?? 0xa256).toString(16)}\n`);
    if (d.driver) {
      mkdirSync(join(root, 'bus/pci/drivers', d.driver), { recursive: true });
      symlinkSync(`../../../../bus/pci/drivers/${d.driver}`, join(dir, 'driver'));
    }
    if (d.group !== null) {
      mkdirSync(join(root, 'kernel/iommu_groups', String(d.group)), { recursive: true });
      symlinkSync(`../../../../kernel/iommu_groups/${d.group}`, join(dir, 'iommu_group'));
    }
    if (d.cdev !== undefined && d.cdev !== null) mkdirSync(join(dir, 'vfio-dev', `vfio${d.cdev}`), { recursive: true });
  }
  return root;
}

export interface FakeMdev {
  uuid: string;
  /** vendor driver bound to the mdev (mtty), null when unbound */
  driver: string | null;
  group: number | null;
  type: string;
  parent: string;
}

/**
 * bus/mdev/devices/<uuid> as the kernel lays it out: a link into devices/virtual/<parent>/<parent>/<uuid>,
 * whose folder holds driver, iommu_group and mdev_type links.
 */
export function fakeMdevSysfs(devices: FakeMdev[], root = mkdtempSync(join(tmpdir(), 'mc-sysfs-'))): string {
  for (const d of devices) {
    const dir = join(root, 'devices/virtual', d.parent, d.parent, d.uuid);
    mkdirSync(dir, { recursive: true });
    mkdirSync(join(root, 'devices/virtual', d.parent, d.parent, 'mdev_supported_types', d.type), { recursive: true });
    symlinkSync(`../mdev_supported_types/${d.type}`, join(dir, 'mdev_type'));
    mkdirSync(join(root, 'bus/mdev/devices'), { recursive: true });
    symlinkSync(`../../../devices/virtual/${d.parent}/${d.parent}/${d.uuid}`, join(root, 'bus/mdev/devices', d.uuid));
    if (d.driver) {
      mkdirSync(join(root, 'bus/mdev/drivers', d.driver), { recursive: true });
      symlinkSync(`../../../../../bus/mdev/drivers/${d.driver}`, join(dir, 'driver'));
    }
    if (d.group !== null) {
      mkdirSync(join(root, 'kernel/iommu_groups', String(d.group)), { recursive: true });
      symlinkSync(`../../../../../kernel/iommu_groups/${d.group}`, join(dir, 'iommu_group'));
    }
  }
  return root;
}

export const VF_A = '0000:75:00.1';
export const VF_B = '0000:76:00.2';

/** The process's stand-in host, emptied, with one fake device per entry. Returns the models as they open. */
export function standin(devs: Array<{ bdf: string; group: number; cdev: number; fake?: Partial<FakeDeviceOptions> }>) {
  const host = StandinHost.get();
  host.reset();
  const models = new Map<string, FakeHisiDevice[]>();
  for (const d of devs) {
    models.set(d.bdf, []);
    host.addDevice({
      bdf: d.bdf, group: d.group, cdev: d.cdev,
      open: () => {
        const m = new FakeHisiDevice({ name: d.bdf, ...d.fake });
        models.get(d.bdf)!.push(m);
        return m;
      },
    });
  }
  return { host, models };
}

/** A stand-in host config file (one VF of `revision` on a fake sysfs) for the CLI's MIGCOMPAT_VFIO_STANDIN. */
export function hostConfig(dir: string, name: string, revision: string, kernel: string): string {
  const sysfsRoot = fakeSysfs([{ bdf: VF_A, driver: 'hisi_acc_vfio_pci', group: 12, cdev: 3 }], join(dir, `${name}-sys`));
  const cfg: StandinConfig = { sysfsRoot, host: name, kernelRelease: kernel, devices: [{ bdf: VF_A, group: 12, cdev: 3, revision }] };
  const p = join(dir, `${name}.json`);
  writeFileSync(p, JSON.stringify(cfg));
  return p;
}
