// Safety rules of the hardware runner: only devices bound to a migration-capable driver (a PCI
// function bound to a vfio-pci variant named *_vfio_pci; an mdev bound to a vendor driver whose
// device reports VFIO migration support once opened), one run per device at a time (a lock file),
// and a device always left RUNNING (reset when it cannot be walked back).
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../util/usage-error.ts';
import { MIG_FLAG, type VfioDevice } from '../../vfio/types.ts';
import type { DeviceInfo, PciDeviceInfo } from './sysfs.ts';

export const VARIANT_DRIVER_RE = /^[a-z0-9_]+_vfio_pci$/;

export function checkVariantDriver(info: PciDeviceInfo): void {
  if (info.driver === null)
    throw new UsageError(`refusing ${info.bdf}: no driver bound (bind it to a VFIO variant driver such as hisi_acc_vfio_pci)`);
  if (!VARIANT_DRIVER_RE.test(info.driver))
    throw new UsageError(
      `refusing ${info.bdf}: bound to '${info.driver}', not a VFIO variant driver with migration support (e.g. hisi_acc_vfio_pci)`,
    );
  if (info.iommuGroup === null) throw new UsageError(`refusing ${info.bdf}: no IOMMU group in sysfs`);
}

/**
 * An mdev's vendor driver (mtty, and whatever a vendor ships) has no naming rule to check: the
 * device must be bound and in an IOMMU group here, and must report migration support once open
 * (requireMigration).
 */
export function checkMdevDriver(info: DeviceInfo): void {
  if (info.driver === null)
    throw new UsageError(`refusing ${info.bdf}: no driver bound (is the vendor driver of its parent${info.parent ? ` ${info.parent}` : ''} loaded?)`);
  if (info.iommuGroup === null) throw new UsageError(`refusing ${info.bdf}: no IOMMU group in sysfs (the mdev is not registered with VFIO)`);
}

/** The safety rule for either kind of device, checked from sysfs before anything is opened. */
export function checkDriver(info: DeviceInfo): void {
  if (info.kind === 'mdev') checkMdevDriver(info);
  else checkVariantDriver(info);
}

/**
 * Opened and still untouched: refuse (before any state change) a device whose driver does not
 * report STOP_COPY migration (VFIO_DEVICE_FEATURE MIGRATION). Applied to mdevs, whose driver name
 * says nothing about migration.
 */
export function requireMigration(dev: VfioDevice, info: DeviceInfo): void {
  const f = dev.migrationFlags();
  if (!f.ok) throw new UsageError(`refusing ${info.bdf}: driver '${info.driver}' reports no VFIO migration support (VFIO_DEVICE_FEATURE MIGRATION: ${f.errno})`);
  if (!(f.value & MIG_FLAG.STOP_COPY)) throw new UsageError(`refusing ${info.bdf}: driver '${info.driver}' migration flags 0x${f.value.toString(16)} lack STOP_COPY`);
}

export function lockDir(explicit?: string): string {
  return explicit ?? process.env.MIGCOMPAT_LOCK_DIR ?? join(tmpdir(), 'migcompat-locks');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface DeviceLock {
  path: string;
  release(): void;
}

/** One run per device: O_EXCL lock file holding our pid; a lock whose pid is gone is taken over. */
export function lockDevice(bdf: string, dir = lockDir()): DeviceLock {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${bdf.replace(/:/g, '_')}.lock`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o644);
      writeSync(fd, `${process.pid} ${hostname()} ${new Date().toISOString()}\n`);
      closeSync(fd);
      let released = false;
      return {
        path,
        release() {
          if (released) return;
          released = true;
          rmSync(path, { force: true });
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new UsageError(`cannot create lock ${path}: ${(e as Error).message}`);
      let owner = NaN;
      try {
        owner = Number(readFileSync(path, 'utf8').split(' ')[0]);
      } catch {
        /* vanished between open and read: retry */
      }
      if (Number.isInteger(owner) && owner > 0 && alive(owner))
        throw new UsageError(`device ${bdf} is in use by process ${owner} (lock ${path})`);
      rmSync(path, { force: true }); // stale: its owner is gone
    }
  }
  throw new UsageError(`device ${bdf}: could not take lock ${path}`);
}

export interface Recovery {
  /** what was needed: nothing, a state change back to RUNNING, or a device reset */
  action: 'none' | 'set-running' | 'reset' | 'reopen';
  finalState: string;
  ok: boolean;
  detail: string;
}

/** Walk the device back to RUNNING; reset it when that fails. Never throws. */
export function ensureRunning(dev: VfioDevice): Recovery {
  try {
    const st = dev.getState();
    if (st.ok && st.value === 'RUNNING') return { action: 'none', finalState: 'RUNNING', ok: true, detail: '' };
    // RESUMING→STOP would load whatever partial data arrived: the uAPI says abort RESUMING by reset
    const back = st.ok && st.value === 'RESUMING' ? ({ ok: false, errno: 'skipped: RESUMING is aborted by reset' } as const) : dev.setState('RUNNING');
    if (back.ok) {
      back.value.dataFd?.close();
      const again = dev.getState();
      if (again.ok && again.value === 'RUNNING')
        return { action: 'set-running', finalState: 'RUNNING', ok: true, detail: `was ${st.ok ? st.value : st.errno}` };
    }
    const r = dev.reset();
    const after = dev.getState();
    const fin = after.ok ? after.value : after.errno;
    return {
      action: 'reset',
      finalState: fin,
      ok: after.ok && after.value === 'RUNNING',
      detail: `was ${st.ok ? st.value : st.errno}; RUNNING ${back.ok ? 'not reached' : back.errno}; reset ${r.ok ? 'ok' : r.errno}`,
    };
  } catch (e) {
    return { action: 'reset', finalState: 'unknown', ok: false, detail: `recovery threw: ${(e as Error).message}` };
  }
}
