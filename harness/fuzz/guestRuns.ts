// Guest-level runs the fuzz properties need beyond `runCase`:
//  - sourceStream: the stream a source revision writes while a guest that loaded its VF driver sits at
//    its stop point (captureStream with a booted workload: real, non-zero DMA fields);
//  - runMutatedCase: the same source world, but the stream is mutated in transit before the
//    destination sees it, then the guest resumes where it landed and the oracle judges the case
//    (runCase has no hook for a mutated stream; this is its single-hop path with one);
//  - runWithoutMigration + guestVisible: the transparency property's "same workload, no migration".
// All deterministic in (revisions, device, workload, seed).
import { GuestMemory, QmVf } from '../device/index.ts';
import type { DeviceConfig } from '../device/mmio.ts';
import type { Revision } from '../drivers/revision.ts';
import { Vm, createWorkload, type Workload } from '../guest/index.ts';
import { judge } from '../oracle/judge.ts';
import type { CheckResult, Evidence, Verdict } from '../oracle/types.ts';
import { captureStream } from '../runners/simCapture.ts';
import type { WorkloadName } from '../runners/types.ts';
import { runTransfer } from '../transfer/run.ts';
import { SimClock } from '../util/clock.ts';
import type { IoResult } from '../util/errno.ts';
import { Rng } from '../util/rng.ts';
import { Timeline } from '../util/timeline.ts';
import { HangError } from '../vfio/driver.ts';
import { SimVfioDevice } from '../vfio/sim.ts';
import type { DataFd, MigState, PrecopyInfo, VfioDevice } from '../vfio/types.ts';

/** The guest behind a source stream: small, so a full case costs well under a millisecond. */
export interface GuestSetup {
  workload: WorkloadName;
  requests: number;
  inflight: number;
  requestSize: number;
  seed: number;
}

export const STREAM_GUEST: Omit<GuestSetup, 'workload'> = { requests: 4, inflight: 1, requestSize: 64, seed: 7 };

function workloadFor(g: GuestSetup, device: DeviceConfig): Workload {
  return createWorkload(g.workload, { requests: g.requests, inflight: g.inflight, requestSize: g.requestSize, seed: g.seed, deviceType: device.type });
}

/** What `rev` writes for a guest at its stop point (captureStream, guest booted in `prepare`). */
export function sourceStream(rev: Revision, device: DeviceConfig, g: GuestSetup): Uint8Array {
  const r = captureStream({
    rev, device, seed: g.seed,
    prepare: (dev, memory, clock, timeline) => {
      const vm = new Vm({ memory, device: dev, clock, timeline, rng: new Rng(g.seed) });
      const wl = workloadFor(g, device);
      wl.boot(vm);
      wl.runToStopPoint(vm);
    },
  });
  if (!r.ok) throw new Error(`${rev.id}: source save with a ${g.workload} guest failed (${r.errno})`);
  return r.value;
}

/** A save fd whose stream is mutated in transit: the whole stream is read, mutated, then served. */
class MutatingFd implements DataFd {
  private pos = 0;
  original: Uint8Array | null = null;
  out: Uint8Array | null = null;
  constructor(private readonly inner: DataFd, private readonly mutate: (s: Uint8Array) => Uint8Array) {}
  get fd(): number {
    return this.inner.fd;
  }
  read(maxBytes: number): IoResult<Uint8Array> {
    if (!this.out) {
      const parts: Uint8Array[] = [];
      for (let i = 0; ; i++) {
        if (i > 4096) throw new HangError('mutating source read loop', []);
        const r = this.inner.read(1 << 20);
        if (!r.ok) return r;
        if (r.value.length === 0) break;
        parts.push(r.value);
      }
      this.original = new Uint8Array(Buffer.concat(parts));
      this.out = this.mutate(this.original);
    }
    const n = Math.min(maxBytes, this.out.length - this.pos);
    const v = this.out.subarray(this.pos, this.pos + n);
    this.pos += n;
    return { ok: true, value: v };
  }
  write(bytes: Uint8Array): IoResult<number> {
    return this.inner.write(bytes);
  }
  precopyInfo(): IoResult<PrecopyInfo> {
    return this.inner.precopyInfo();
  }
  close(): void {
    this.inner.close();
  }
}

/** The source device as the transfer sees it, with its save fd mutating (single/chunks plans only). */
class MutatingSource implements VfioDevice {
  fd: MutatingFd | null = null;
  constructor(private readonly inner: VfioDevice, private readonly mutate: (s: Uint8Array) => Uint8Array) {}
  get name(): string {
    return this.inner.name;
  }
  migrationFlags() {
    return this.inner.migrationFlags();
  }
  getState() {
    return this.inner.getState();
  }
  setState(target: MigState) {
    const r = this.inner.setState(target);
    if (!r.ok || !r.value.dataFd) return r;
    this.fd = new MutatingFd(r.value.dataFd, this.mutate);
    return { ok: true as const, value: { dataFd: this.fd as DataFd } };
  }
  dataSize() {
    return this.inner.dataSize();
  }
  reset() {
    return this.inner.reset();
  }
  close(): void {
    this.inner.close();
  }
}

export interface MutatedCase {
  src: Revision;
  dst: Revision;
  device: DeviceConfig;
  guest: GuestSetup;
  mutate(stream: Uint8Array): Uint8Array;
  /** write sizes at the destination; null = one write */
  chunks: readonly number[] | null;
}

export interface MutatedRun {
  verdict: Verdict;
  evidence: Evidence;
  /** the stream the source wrote, and the one the destination was given */
  original: Uint8Array | null;
  delivered: Uint8Array | null;
}

function isHang(e: unknown): e is Error {
  return e instanceof HangError || (e instanceof Error && /step bound/.test(e.message));
}

/**
 * One single-hop case whose stream is mutated in transit. The world is built exactly as
 * `sourceStream` builds it (same memory, VF and guest seeds, in the same order), so the source
 * writes the same bytes the fast path checked; the destination VF joins after the stop point.
 */
export function runMutatedCase(c: MutatedCase): MutatedRun {
  const { seed } = c.guest;
  const clock = new SimClock();
  const timeline = new Timeline(clock);
  const memory = new GuestMemory(seed);
  const ev: Evidence = {
    caseId: `fuzz ${c.src.id} -> ${c.dst.id} ${c.guest.workload} (mutated stream) #${seed}`, seed, stream: null, timeline: timeline.events,
    destination: null, srcFinalState: null, dstFinalState: null, guestOn: 'none', checks: [], hang: null, harnessError: null,
  };
  let mut: MutatingSource | null = null;
  try {
    const srcDev = new QmVf({ config: c.device, memory, clock, timeline, side: 'src', rng: new Rng(seed) });
    const srcDrv = c.src.bind({ host: srcDev, config: c.device, timeline, side: 'src' });
    const srcVfio = new SimVfioDevice(`src:${c.src.id}`, srcDrv, timeline, 'src');
    const vm = new Vm({ memory, device: srcDev, clock, timeline, rng: new Rng(seed) });
    vm.resetHook = () => void srcVfio.reset();
    const wl = workloadFor(c.guest, c.device);
    wl.boot(vm);
    wl.runToStopPoint(vm);
    const dstDev = new QmVf({ config: c.device, memory, clock, timeline, side: 'dst', rng: new Rng(seed ^ 0xd5) });
    const dstDrv = c.dst.bind({ host: dstDev, config: c.device, timeline, side: 'dst' });
    const dstVfio = new SimVfioDevice(`dst:${c.dst.id}`, dstDrv, timeline, 'dst');
    mut = new MutatingSource(srcVfio, c.mutate);
    const plan = c.chunks ? { kind: 'chunks' as const, sizes: [...c.chunks] } : { kind: 'single' as const };
    const t = runTransfer(mut, dstVfio, plan, new Rng(seed ^ 0x7a));
    const accepted = t.destination?.accepted === true;
    if (accepted) {
      srcVfio.setState('STOP'); // QEMU cleanup on the source, then it exits
      srcVfio.close();
    } else {
      srcVfio.setState('RUNNING'); // failed migration: the source VM runs again
      dstVfio.close();
    }
    const onDev = accepted ? dstDev : srcDev;
    const onVfio = accepted ? dstVfio : srcVfio;
    vm.device = onDev;
    vm.resetHook = () => void onVfio.reset();
    ev.destination = t.destination ?? { accepted: false, errno: t.sourceError?.errno ?? 'EINVAL', stage: t.sourceError?.stage ?? 'src', reason: 'source failed' };
    ev.srcFinalState = srcDrv.getState();
    ev.dstFinalState = dstDrv.getState();
    ev.guestOn = accepted ? 'dst' : 'src';
    wl.resume(vm);
    ev.checks = wl.checks(vm);
    ev.srcFinalState = srcDrv.getState();
    ev.dstFinalState = dstDrv.getState();
  } catch (e) {
    if (isHang(e)) ev.hang = { where: e instanceof HangError ? e.where : e.message, arcs: e instanceof HangError ? e.arcs : [] };
    else ev.harnessError = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  }
  ev.stream = mut?.fd?.original ?? null;
  return { verdict: judge(ev), evidence: ev, original: mut?.fd?.original ?? null, delivered: mut?.fd?.out ?? null };
}

/** The same guest on one VF of `rev`, never migrated: boot, stop point, run again, checks. */
export function runWithoutMigration(rev: Revision, device: DeviceConfig, g: GuestSetup): Evidence {
  const clock = new SimClock();
  const timeline = new Timeline(clock);
  const memory = new GuestMemory(g.seed);
  const ev: Evidence = {
    caseId: `fuzz ${rev.id} ${g.workload} without migration #${g.seed}`, seed: g.seed, stream: null, timeline: timeline.events, destination: null,
    srcFinalState: null, dstFinalState: null, guestOn: 'src', checks: [], hang: null, harnessError: null,
  };
  try {
    // the same salts as runCase's source side, so the guest's view starts identical
    const dev = new QmVf({ config: device, memory, clock, timeline, side: 'src', rng: new Rng(g.seed ^ 0x5c) });
    const drv = rev.bind({ host: dev, config: device, timeline, side: 'src' });
    const vfio = new SimVfioDevice(`src:${rev.id}`, drv, timeline, 'src');
    const vm = new Vm({ memory, device: dev, clock, timeline, rng: new Rng(g.seed ^ 0x9e) });
    vm.resetHook = () => void vfio.reset();
    const wl = workloadFor(g, device);
    wl.boot(vm);
    wl.runToStopPoint(vm);
    wl.resume(vm);
    ev.checks = wl.checks(vm);
    ev.srcFinalState = drv.getState();
  } catch (e) {
    if (isHang(e)) ev.hang = { where: e.message, arcs: [] };
    else ev.harnessError = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  }
  return ev;
}

/**
 * What the guest can observe, as comparable lines: each request's completions and status (by id),
 * the AEQ events and device errors it saw, and which workload checks passed. Timing, which VF
 * served a request and how often the driver resubmitted it (a RAS recovery resubmits what was in
 * flight at the reset, which depends on timing) are not results.
 */
export function guestVisible(ev: Evidence): string[] {
  const req = new Map<number, { completions: number; status: string }>();
  const seen: string[] = [];
  for (const e of ev.timeline) {
    if (e.side !== 'guest') continue;
    if (e.kind === 'request' || e.kind === 'completion') {
      const id = Number(e.detail.id);
      const r = req.get(id) ?? { completions: 0, status: '-' };
      if (e.kind === 'completion') {
        r.completions++;
        r.status = String(e.detail.status);
      }
      req.set(id, r);
    } else if (e.kind === 'event') seen.push(`event ${String(e.detail.what)} type ${String(e.detail.type)}`);
    else if (e.kind === 'note' && e.detail.what === 'device-error') seen.push(`device error: ${String(e.detail.msg)}`);
  }
  const lines = [...req.entries()].sort((a, b) => a[0] - b[0])
    .map(([id, r]) => `request ${id}: completed ${r.completions} time(s), status ${r.status}`);
  lines.push(...seen);
  lines.push(...ev.checks.map((c: CheckResult) => `check ${c.name}: ${c.ok ? 'ok' : 'FAILED'}`));
  if (ev.hang) lines.push(`hang: ${ev.hang.where}`);
  if (ev.harnessError) lines.push(`harness error: ${ev.harnessError}`);
  return lines;
}
