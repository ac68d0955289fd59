// Kernel devices as conformance subjects: the kernel backend (koffi, harness/vfio/kernel) on a VF or
// an mdev the vfio-host runner may touch (its safety rules, its lock, RUNNING or reset afterwards).
// With MIGCOMPAT_VFIO_STANDIN the same code runs against the stand-in library; there each fresh
// device is probed anew (its simulated revision bound again), as the models are, so the stand-in's
// column must equal its revision's. A real host keeps its driver binding between scenarios.
import { UsageError } from '../util/usage-error.ts';
import { HangError } from '../vfio/driver.ts';
import type { DataFd, VfioDevice } from '../vfio/types.ts';
import type { DeviceHandle } from './session.ts';
import type { Peer, Subject } from './subject.ts';

/** Rethrows, as the hang it is, a HangError a stand-in device model raised inside a callback (C saw EIO). */
function watchStandin(dev: VfioDevice, errors: Error[]): VfioDevice {
  const check = <T>(f: () => T): T => {
    const n = errors.length;
    const r = f();
    const h = errors.slice(n).find((e) => e instanceof HangError);
    if (h) throw h;
    return r;
  };
  const wrapFd = (fd: DataFd): DataFd => ({
    get fd() {
      return fd.fd;
    },
    read: (n) => check(() => fd.read(n)),
    write: (b) => check(() => fd.write(b)),
    precopyInfo: () => check(() => fd.precopyInfo()),
    close: () => fd.close(),
  });
  return {
    name: dev.name,
    migrationFlags: () => check(() => dev.migrationFlags()),
    getState: () => check(() => dev.getState()),
    setState: (t) => check(() => {
      const r = dev.setState(t);
      return r.ok && r.value.dataFd ? { ok: true as const, value: { dataFd: wrapFd(r.value.dataFd) } } : r;
    }),
    dataSize: () => check(() => dev.dataSize()),
    reset: () => check(() => dev.reset()),
    close: () => dev.close(),
  };
}

export async function kernelSubject(id: string, peerIds: readonly string[]): Promise<Subject> {
  const sys = await import('../runners/vfio-host/sysfs.ts');
  const safety = await import('../runners/vfio-host/safety.ts');
  const { openDevice, OpenError } = await import('../vfio/kernel/open.ts');
  const { hostContext } = await import('../runners/vfio-host/context.ts');
  const ctx = await hostContext();
  // the stand-in: its config, and a way to bind every configured device's revision again
  let reprobe: (() => void) | null = null;
  let errors: Error[] | null = null;
  const standinPath = process.env.MIGCOMPAT_VFIO_STANDIN;
  if (standinPath) {
    const { readStandinConfig, startStandin } = await import('../vfio/kernel/standin/config.ts');
    const { StandinHost } = await import('../vfio/kernel/standin/host.ts');
    const { standinRevisionDevice } = await import('../runners/vfio-host/standinSim.ts');
    const cfg = readStandinConfig(standinPath);
    errors = StandinHost.get().errors;
    // what hostContext's start-up did, again: every configured device's revision bound anew
    reprobe = () => void startStandin(cfg, standinRevisionDevice);
  }
  const root = sys.sysfsRoot(ctx.sysfsRoot);
  const open = (devId: string): DeviceHandle => {
    reprobe?.();
    const info = sys.readDevice(sys.normalizeDeviceId(devId), root);
    safety.checkDriver(info);
    const path = info.iommuGroup !== null ? { via: 'group' as const, group: info.iommuGroup } : info.cdev !== null ? { via: 'cdev' as const, cdev: info.cdev } : null;
    if (!path) throw new UsageError(`${devId}: neither an IOMMU group nor a vfio-dev cdev in sysfs`);
    const lock = safety.lockDevice(info.bdf, safety.lockDir(ctx.lockDir));
    const name = info.vfioName;
    const openNow = (): VfioDevice => {
      try {
        const d = openDevice(ctx.libc, name, path);
        return errors ? watchStandin(d, errors) : d;
      } catch (e) {
        lock.release();
        if (e instanceof OpenError) throw new UsageError(`${devId}: ${e.message}`);
        throw e;
      }
    };
    let dev = openNow();
    const rec = safety.ensureRunning(dev);
    if (!rec.ok) {
      dev.close();
      lock.release();
      throw new Error(`${devId}: the device could not be brought to RUNNING before a scenario (${rec.detail})`);
    }
    return {
      get dev() {
        return dev;
      },
      reopen() {
        dev.close();
        dev = openNow();
        return dev;
      },
      close() {
        try {
          safety.ensureRunning(dev);
        } finally {
          dev.close();
          lock.release();
        }
      },
    };
  };
  const first = open(id);
  const flags = first.dev.migrationFlags();
  first.close();
  void flags;
  const driver = sys.readDevice(sys.normalizeDeviceId(id), root).driver;
  const peers: Peer[] = peerIds.map((p) => ({ name: `device ${p}`, fresh: () => open(p) }));
  return {
    id,
    title: standinPath ? `kernel backend on the stand-in device ${id}` : `kernel device ${id} (${ctx.kernelRelease ?? 'this host'})`,
    kind: 'kernel',
    reprobes: reprobe !== null,
    fresh: () => open(id),
    peers: () => peers,
    ...(driver ? { driver } : {}),
  };
}
