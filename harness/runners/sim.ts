// The `sim` runner: one migration case entirely in process, deterministic in (case, seed).
// memory + source VF + destination VF → guest boots on the source → stop point with requests in
// flight → uAPI migration through the revision models per transfer plan → guest resumes on the
// destination (accepted) or on the source (refused) → workload checks → Evidence → oracle.
import { GuestMemory, QmVf } from '../device/index.ts';
import type { DeviceConfig } from '../device/mmio.ts';
import { loadRevision } from '../drivers/registry.ts';
import type { Revision } from '../drivers/revision.ts';
import { Vm, createWorkload, type Workload } from '../guest/index.ts';
import { judge } from '../oracle/judge.ts';
import type { DestinationResult, Evidence, Side, Verdict } from '../oracle/types.ts';
import { parsePlan, type TransferPlan } from '../transfer/plan.ts';
import { runTransfer, type TransferResult } from '../transfer/run.ts';
import { SimClock } from '../util/clock.ts';
import { Rng } from '../util/rng.ts';
import { Timeline } from '../util/timeline.ts';
import { UsageError } from '../util/usage-error.ts';
import { HangError, type MigrationDriver } from '../vfio/driver.ts';
import { SimVfioDevice } from '../vfio/sim.ts';
import { WORKLOADS, caseTitle, type CaseSpec, type Runner } from './types.ts';
import { childLibsOf, runIsolatedCase, runIsolatedCaseAsync } from './isolation.ts';

/** One host-side VF: the simulated device, the revision bound to it (probe) and its open VFIO device. */
interface HostVf {
  dev: QmVf;
  rev: Revision;
  driver: MigrationDriver;
  vfio: SimVfioDevice;
  side: Side;
}

interface World {
  /** the stream of the hop in progress when a hang interrupts it */
  seen: { stream: Uint8Array | null };
  clock: SimClock;
  timeline: Timeline;
  memory: GuestMemory;
  seed: number;
}

export interface ValidatedCase {
  src: Revision;
  dst: Revision;
  retry: Revision | null;
  plan: TransferPlan;
}

/** Bad input is a UsageError (exit 2), found before anything runs. */
export function validateCase(spec: CaseSpec): ValidatedCase {
  if (!WORKLOADS.includes(spec.workload)) throw new UsageError(`unknown workload '${spec.workload}' (expected ${WORKLOADS.join(', ')})`);
  if (!Number.isInteger(spec.seed) || spec.seed < 0 || spec.seed > 0xffffffff) throw new UsageError(`seed must be an integer 0..4294967295, got ${spec.seed}`);
  if (!(spec.requests >= 0 && spec.inflight >= 0 && spec.inflight <= spec.requests)) {
    throw new UsageError(`requests (${spec.requests}) and inflight (${spec.inflight}) must satisfy 0 <= inflight <= requests`);
  }
  if (spec.scenario === 'retry-after-refusal' && !spec.retryDst) throw new UsageError('retry-after-refusal needs retryDst (the compatible destination)');
  return {
    src: loadRevision(spec.src),
    dst: loadRevision(spec.dst),
    retry: spec.retryDst ? loadRevision(spec.retryDst) : null,
    plan: parsePlan(spec.transfer),
  };
}

function hostVf(w: World, rev: Revision, config: DeviceConfig, side: 'src' | 'dst', rngSalt: number): HostVf {
  const dev = new QmVf({ config, memory: w.memory, clock: w.clock, timeline: w.timeline, side, rng: new Rng(w.seed ^ rngSalt) });
  const driver = rev.bind({ host: dev, config, timeline: w.timeline, side });
  const vfio = new SimVfioDevice(`${side}:${rev.id}`, driver, w.timeline, side);
  return { dev, rev, driver, vfio, side };
}

/** A new user-space process (QEMU) opens the device again: same binding, open_device runs. */
function reopen(w: World, h: HostVf): void {
  h.vfio = new SimVfioDevice(h.vfio.name, h.driver, w.timeline, h.side);
}

interface Hop {
  from: HostVf;
  to: HostVf;
  t: TransferResult;
  accepted: boolean;
}

/** One migration: transfer, then the guest on the destination or back on the source. */
function hop(w: World, vm: Vm, wl: Workload, from: HostVf, to: HostVf, plan: TransferPlan, rng: Rng): Hop {
  w.timeline.push('harness', 'note', { hop: `${from.rev.id} -> ${to.rev.id}`, from: from.side, to: to.side });
  const t = runTransfer(from.vfio, to.vfio, plan, rng, w.seen);
  const accepted = t.destination?.accepted === true;
  let current = from;
  if (accepted) {
    from.vfio.setState('STOP'); // QEMU cleanup on the source: STOP_COPY → STOP, then it exits
    from.vfio.close();
    current = to;
  } else {
    from.vfio.setState('RUNNING'); // failed migration: the source VM runs again
    to.vfio.close(); // the destination QEMU gives up and exits
  }
  vm.device = current.dev;
  vm.resetHook = () => void current.vfio.reset();
  wl.resume(vm);
  return { from, to, t, accepted };
}

export function runCase(spec: CaseSpec): Evidence {
  const v = validateCase(spec);
  // real driver code runs isolated (a child process): a crash or hang there is this case's `error`
  const libs = childLibsOf([v.src, v.dst, v.retry]);
  if (libs) return runIsolatedCase(spec, libs);
  const clock = new SimClock();
  const timeline = new Timeline(clock);
  const w: World = { seen: { stream: null }, clock, timeline, memory: new GuestMemory(spec.seed), seed: spec.seed };
  const ev: Evidence = {
    caseId: `${caseTitle(spec)} #${spec.seed}`, seed: spec.seed, stream: null, timeline: timeline.events, destination: null,
    srcFinalState: null, dstFinalState: null, guestOn: 'none', checks: [], hang: null, harnessError: null,
  };
  let last: Hop | null = null;
  try {
    const src = hostVf(w, v.src, spec.device, 'src', 0x5c);
    const dst = hostVf(w, v.dst, spec.dstDevice ?? spec.device, 'dst', 0xd5);
    const vm = new Vm({ memory: w.memory, device: src.dev, clock, timeline, rng: new Rng(spec.seed ^ 0x9e) });
    vm.resetHook = () => void src.vfio.reset();
    const wl = createWorkload(spec.workload, {
      requests: spec.requests, inflight: spec.inflight, requestSize: spec.requestSize, seed: spec.seed, deviceType: spec.device.type,
    });
    const planRng = new Rng(spec.seed ^ 0x7a);
    wl.boot(vm);
    wl.runToStopPoint(vm);
    last = hop(w, vm, wl, src, dst, v.plan, planRng);
    ev.stream = last.t.stream;
    if (spec.scenario === 'ping-pong' && last.accepted) {
      // B → A on the same device objects: a new QEMU opens A again
      reopen(w, src);
      wl.runToStopPoint(vm);
      last = hop(w, vm, wl, dst, src, v.plan, planRng);
    } else if (spec.scenario === 'retry-after-refusal' && !last.accepted && v.retry) {
      const retry = hostVf(w, v.retry, spec.device, 'dst', 0x3e);
      wl.runToStopPoint(vm);
      last = hop(w, vm, wl, src, retry, v.plan, planRng);
    }
    ev.checks = wl.checks(vm);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    if (e instanceof HangError) {
      ev.hang = { where: e.where, arcs: e.arcs };
      ev.stream ??= w.seen.stream;
    }
    else ev.harnessError = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  }
  if (last) {
    ev.destination = last.t.destination ?? sourceFailure(last.t);
    ev.srcFinalState = last.from.driver.getState();
    ev.dstFinalState = last.to.driver.getState();
    ev.guestOn = last.accepted ? 'dst' : 'src';
  }
  return ev;
}

/** The source never produced a stream: reported where the destination result would be, not accepted. */
function sourceFailure(t: TransferResult): DestinationResult {
  const e = t.sourceError ?? { errno: 'EINVAL', stage: 'src' };
  return { accepted: false, errno: e.errno, stage: e.stage, reason: `source failed at ${e.stage} with ${e.errno}` };
}

/** runCase + judge. */
export function runAndJudge(spec: CaseSpec): { evidence: Evidence; verdict: Verdict } {
  const evidence = runCase(spec);
  return { evidence, verdict: judge(evidence) };
}

export const simRunner: Runner = {
  capabilities: { name: 'sim', deterministic: true, workloads: WORKLOADS },
  async prepare(spec) {
    validateCase(spec);
  },
  async run(spec) {
    const v = validateCase(spec);
    const libs = childLibsOf([v.src, v.dst, v.retry]);
    return libs ? runIsolatedCaseAsync(spec, libs) : runCase(spec);
  },
};

export { checkStream } from './simCheck.ts';
export type { CheckStreamOptions, CheckStreamResult } from './simCheck.ts';
