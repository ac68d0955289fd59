// The hardware runner's three operations on one device (probe, capture, load), each inside the
// safety envelope: driver check, per-device lock, and the device left RUNNING whatever happens.
// Results are Evidence (README.md#verdicts) so they merge into the same grid as the matrix.
import { hostname, release } from 'node:os';
import type { DestinationResult, Evidence, Outcome, Verdict } from '../../oracle/types.ts';
import { hex64 } from '../../util/hex.ts';
import { Timeline } from '../../util/timeline.ts';
import { UsageError } from '../../util/usage-error.ts';
import type { CallObserver, KernelVfioDevice } from '../../vfio/kernel/device.ts';
import type { Libc } from '../../vfio/kernel/libc.ts';
import { OpenError, openDevice, type OpenPath } from '../../vfio/kernel/open.ts';
import { MIG_FLAG, type DataFd } from '../../vfio/types.ts';
import { PROVENANCE_FORMAT, sha256, type Provenance } from './provenance.ts';
import { checkDriver, ensureRunning, lockDevice, lockDir, requireMigration, type Recovery } from './safety.ts';
import { normalizeDeviceId, readDevice, sysfsRoot, type DeviceInfo } from './sysfs.ts';
import { planChunks } from './transfer.ts';

export interface HostContext {
  libc: Libc;
  sysfsRoot?: string;
  lockDir?: string;
  via?: 'auto' | 'group' | 'cdev';
  /** provenance overrides (stand-in runs pretend to be a lab host) */
  host?: string;
  kernelRelease?: string;
}

/** Upper bound on bytes read from one save session: a device that never reports end of stream hangs here. */
export const MAX_STREAM_BYTES = 64 * 1024 * 1024;
const READ_CHUNK = 64 * 1024;

export function flagNames(flags: number): string[] {
  return Object.entries(MIG_FLAG).filter(([, v]) => flags & v).map(([k]) => k);
}

function choosePath(info: DeviceInfo, via: HostContext['via']): OpenPath {
  if (via === 'cdev' || (via === 'auto' && info.iommuGroup === null)) {
    if (info.cdev === null) throw new UsageError(`${info.bdf}: no vfio-dev cdev in sysfs (kernel before 6.6 or not bound to VFIO); use --via group`);
    return { via: 'cdev', cdev: info.cdev };
  }
  return { via: 'group', group: info.iommuGroup as number };
}

export interface Session {
  dev: KernelVfioDevice;
  info: DeviceInfo;
  timeline: Timeline;
}

/** Open a device (PCI address or mdev:UUID) safely, run fn, always recover to RUNNING, close and unlock. */
export function withDevice<T>(ctx: HostContext, idText: string, fn: (s: Session) => T): { value: T; recovery: Recovery; timeline: Timeline; info: DeviceInfo } {
  const bdf = normalizeDeviceId(idText);
  const info = readDevice(bdf, sysfsRoot(ctx.sysfsRoot));
  checkDriver(info);
  const path = choosePath(info, ctx.via ?? 'auto');
  const t0 = Date.now();
  const timeline = new Timeline({ now: () => Date.now() - t0 });
  const observe: CallObserver = (c) => {
    const kind = c.op === 'set-state' ? 'set-state' : c.op === 'read' ? 'read' : c.op === 'write' ? 'write' : 'reset';
    const ok = !/^E[A-Z0-9]+$/.test(c.result);
    timeline.push('dst', kind, { fd: c.fd, result: c.result, ...(c.detail ?? {}) }, ok ? undefined : c.result);
  };
  const lock = lockDevice(bdf, lockDir(ctx.lockDir));
  let dev: KernelVfioDevice;
  try {
    dev = openDevice(ctx.libc, info.vfioName, path, observe);
  } catch (e) {
    lock.release();
    if (e instanceof OpenError) throw new UsageError(`${bdf}: ${e.message}`);
    throw e;
  }
  if (info.kind === 'mdev') {
    try {
      requireMigration(dev, info);
    } catch (e) {
      dev.close();
      lock.release();
      throw e;
    }
  }
  let recovery: Recovery = { action: 'none', finalState: 'unknown', ok: false, detail: '' };
  let value: T;
  try {
    value = fn({ dev, info, timeline });
  } finally {
    // runs on success and on a throw alike: RUNNING (or reset, or reopen), close, unlock
    recovery = ensureRunning(dev);
    dev.close();
    if (!recovery.ok) recovery = reopenToRunning(ctx, info.vfioName, path, recovery);
    timeline.push('harness', 'note', { recovery: recovery.action, finalState: recovery.finalState, detail: recovery.detail });
    lock.release();
  }
  return { value, recovery, timeline, info };
}

/**
 * Last resort when a reset did not bring the device back to RUNNING (e.g. the v6.2..v6.19 reset_done
 * gate, docs/reference.md#reset-handling): close and reopen the device fd, whose open_device starts at RUNNING.
 */
function reopenToRunning(ctx: HostContext, bdf: string, path: OpenPath, before: Recovery): Recovery {
  const detail = `${before.detail}; reset left ${before.finalState}; reopened the device`;
  try {
    const dev = openDevice(ctx.libc, bdf, path);
    try {
      const again = ensureRunning(dev);
      return { action: 'reopen', finalState: again.finalState, ok: again.ok, detail: `${detail}${again.action === 'none' ? '' : `; then ${again.action}`}` };
    } finally {
      dev.close();
    }
  } catch (e) {
    return { action: 'reopen', finalState: 'unknown', ok: false, detail: `${detail}: ${(e as Error).message}` };
  }
}

export interface ProbeResult {
  /** the device id: PCI address or mdev:UUID */
  bdf: string;
  kind: 'pci' | 'mdev';
  /** mdev only: type and parent device (null for a PCI function) */
  mdevType: string | null;
  parent: string | null;
  host: string;
  kernelRelease: string;
  driver: string;
  vendorId: string;
  deviceId: string;
  iommuGroup: number | null;
  cdev: number | null;
  via: string;
  migrationFlags: string | null;
  flagNames: string[];
  state: string;
  dataSize: string;
  precopyInfo: string;
}

const res = <T>(r: { ok: true; value: T } | { ok: false; errno: string }, show: (v: T) => string): string =>
  r.ok ? show(r.value) : r.errno;

export function probe(ctx: HostContext, bdf: string): ProbeResult {
  const { value } = withDevice(ctx, bdf, ({ dev, info }) => {
    const flags = dev.migrationFlags();
    return {
      bdf: info.bdf,
      kind: info.kind,
      mdevType: info.mdevType,
      parent: info.parent,
      host: ctx.host ?? hostname(),
      kernelRelease: ctx.kernelRelease ?? release(),
      driver: info.driver as string,
      vendorId: info.vendorId === null ? 'unknown' : '0x' + info.vendorId.toString(16).padStart(4, '0'),
      deviceId: info.deviceId === null ? 'unknown' : '0x' + info.deviceId.toString(16).padStart(4, '0'),
      iommuGroup: info.iommuGroup,
      cdev: info.cdev,
      via: choosePath(info, ctx.via ?? 'auto').via,
      migrationFlags: flags.ok ? '0x' + flags.value.toString(16) : null,
      flagNames: flags.ok ? flagNames(flags.value) : [],
      state: res(dev.getState(), (s) => s),
      dataSize: res(dev.dataSize(), (v) => v.toString()),
      precopyInfo: 'n/a in RUNNING',
    };
  });
  return value;
}

/** Read until end of stream (0) or a bound; a temporary end in PRE_COPY is also 0
 * (docs/reference.md#save-fd-read-semantics). */
function drain(fd: DataFd, into: Uint8Array[], total: { n: number }): string | null {
  for (;;) {
    const r = fd.read(READ_CHUNK);
    if (!r.ok) return r.errno === 'ENOMSG' ? null : r.errno; // ENOMSG: the uAPI's temporary end
    if (r.value.length === 0) return null;
    into.push(r.value.slice());
    total.n += r.value.length;
    if (total.n > MAX_STREAM_BYTES) return 'EFBIG';
  }
}

export interface CaptureResult {
  stream: Uint8Array;
  provenance: Provenance;
  recovery: Recovery;
  evidence: Evidence;
}

export function capture(ctx: HostContext, bdf: string, opts: { precopy?: boolean } = {}): CaptureResult {
  const out = withDevice(ctx, bdf, ({ dev, info, timeline }) => {
    const flags = dev.migrationFlags();
    if (!flags.ok) throw new CaptureError(`VFIO_DEVICE_FEATURE MIGRATION: ${flags.errno} (device without migration support?)`);
    const size = dev.dataSize();
    const usePre = (flags.value & MIG_FLAG.PRE_COPY) !== 0 && opts.precopy !== false;
    const parts: Uint8Array[] = [];
    const total = { n: 0 };
    let fd: DataFd | null;
    if (usePre) {
      const r = dev.setState('PRE_COPY');
      if (!r.ok || !r.value.dataFd) throw new CaptureError(`RUNNING->PRE_COPY: ${r.ok ? 'no data fd' : r.errno}`);
      fd = r.value.dataFd;
      const pi = fd.precopyInfo();
      timeline.push('dst', 'precopy-info', pi.ok ? { initial: hex64(pi.value.initialBytes), dirty: hex64(pi.value.dirtyBytes) } : {}, pi.ok ? undefined : pi.errno);
      const e = drain(fd, parts, total);
      if (e) throw new CaptureError(`read in PRE_COPY: ${e}`);
      const sc = dev.setState('STOP_COPY');
      if (!sc.ok) throw new CaptureError(`PRE_COPY->STOP_COPY: ${sc.errno}`);
      if (sc.value.dataFd) {
        // the saving group shares one fd; a second one is a protocol violation worth recording
        timeline.push('harness', 'note', { unexpected: 'PRE_COPY->STOP_COPY returned a new data fd' });
        sc.value.dataFd.close();
      }
    } else {
      const r = dev.setState('STOP_COPY');
      if (!r.ok || !r.value.dataFd) throw new CaptureError(`RUNNING->STOP_COPY: ${r.ok ? 'no data fd' : r.errno}`);
      fd = r.value.dataFd;
    }
    const e = drain(fd, parts, total);
    fd.close();
    if (e) throw new CaptureError(`read in STOP_COPY: ${e}`);
    const back = dev.setState('RUNNING');
    if (!back.ok) throw new CaptureError(`STOP_COPY->RUNNING: ${back.errno}`);
    const stream = new Uint8Array(total.n);
    let off = 0;
    for (const p of parts) {
      stream.set(p, off);
      off += p.length;
    }
    const provenance: Provenance = {
      format: PROVENANCE_FORMAT,
      host: ctx.host ?? hostname(),
      kernelRelease: ctx.kernelRelease ?? release(),
      driver: info.driver as string,
      bdf: info.bdf,
      vendorId: info.vendorId === null ? 'unknown' : '0x' + info.vendorId.toString(16).padStart(4, '0'),
      deviceId: info.deviceId === null ? 'unknown' : '0x' + info.deviceId.toString(16).padStart(4, '0'),
      capturedAt: new Date().toISOString(),
      migrationFlags: '0x' + flags.value.toString(16),
      flagNames: flagNames(flags.value),
      precopy: usePre,
      dataSize: size.ok ? size.value.toString() : size.errno,
      bytes: stream.length,
      sha256: sha256(stream),
      ...(info.kind === 'mdev' ? { mdevType: info.mdevType ?? 'unknown' } : {}),
    };
    return { stream, provenance };
  });
  const evidence = baseEvidence(`capture ${out.info.bdf}`, out.value.stream, out.timeline);
  evidence.srcFinalState = out.recovery.finalState;
  evidence.guestOn = 'src';
  return { ...out.value, recovery: out.recovery, evidence };
}

export class CaptureError extends Error {
  override name = 'CaptureError';
}

function baseEvidence(caseId: string, stream: Uint8Array | null, timeline: Timeline): Evidence {
  return {
    caseId, seed: 0, stream, timeline: timeline.events, destination: null, srcFinalState: null, dstFinalState: null,
    guestOn: 'none', checks: [], hang: null, harnessError: null,
  };
}

export interface LoadResult {
  evidence: Evidence;
  verdict: Verdict;
  recovery: Recovery;
}

/** Resume `stream` on `bdf`: RESUMING, writes per plan, STOP, RUNNING; on any failure reset. */
export function load(ctx: HostContext, bdf: string, stream: Uint8Array, plan = 'single', caseId = `load ${bdf}`, seed = 1): LoadResult {
  const chunks = planChunks(plan, stream.length, seed);
  let evidence!: Evidence;
  const out = withDevice(ctx, bdf, ({ dev, timeline }) => {
    evidence = baseEvidence(caseId, stream, timeline);
    const dest = (accepted: boolean, errno: string | null, stage: string | null, reason: string): DestinationResult =>
      (evidence.destination = { accepted, errno, stage, reason });
    const r = dev.setState('RESUMING');
    if (!r.ok || !r.value.dataFd) {
      evidence.harnessError = `RUNNING->RESUMING: ${r.ok ? 'no data fd' : r.errno}`;
      return;
    }
    const fd = r.value.dataFd;
    let off = 0;
    try {
      for (const size of chunks) {
        let done = 0;
        while (done < size) {
          const w = fd.write(stream.subarray(off + done, off + size));
          if (!w.ok) {
            dest(false, w.errno, 'write', `write of ${size - done} bytes at stream offset ${off + done} failed`);
            return;
          }
          if (w.value === 0) {
            evidence.harnessError = `write at offset ${off + done} accepted 0 bytes`;
            return;
          }
          done += w.value;
        }
        off += size;
      }
      const st = dev.setState('STOP');
      if (!st.ok) {
        dest(false, st.errno, 'resuming->stop', 'the destination rejected the stream when leaving RESUMING');
        return;
      }
    } finally {
      fd.close();
    }
    const run = dev.setState('RUNNING');
    if (!run.ok) {
      dest(true, run.errno, 'stop->running', 'stream accepted but the device did not start');
      return;
    }
    dest(true, null, null, `accepted ${stream.length} bytes in ${chunks.length} write(s)`);
  });
  evidence.dstFinalState = out.recovery.finalState;
  evidence.checks.push({ name: 'device left RUNNING', ok: out.recovery.ok, detail: `${out.recovery.action} ${out.recovery.detail}`.trim() });
  if (out.recovery.action === 'reopen')
    evidence.checks.push({ name: 'VFIO_DEVICE_RESET returns the device to RUNNING', ok: false, detail: out.recovery.detail });
  return { evidence, verdict: hwVerdict(evidence), recovery: out.recovery };
}

/**
 * Verdict of a hardware load without a guest: the destination's answer and whether the device was
 * left usable. A guest-visible "migrated" needs the qemu runner; here it means "accepted and running".
 */
export function hwVerdict(e: Evidence): Verdict {
  const failed = e.checks.find((c) => !c.ok);
  const d = e.destination;
  const v = (outcome: Outcome, reason: string): Verdict => ({ outcome, reason, errno: d?.errno ?? null, stage: d?.stage ?? null });
  if (e.harnessError) return v('error', e.harnessError);
  if (!d) return v('error', 'no destination result');
  if (failed) return v('broken', `${failed.name} failed: ${failed.detail}`);
  if (!d.accepted) return v('refused', d.reason);
  if (d.stage === 'stop->running') return v('broken', d.reason);
  return v('migrated', `${d.reason} (no guest workload checks on vfio-host)`);
}

