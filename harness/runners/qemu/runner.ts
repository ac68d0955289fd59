// QemuRunner: the `qemu` runner of the Runner interface. A case's src/dst ids name QEMU builds
// (builds.ts) plus optional modifiers that change one thing of that side's VM, which is how refusal
// scenarios are written as data:
//   qemu/7.2.22                    installed build, default VM (pc-q35-7.2, 256 MiB, qemu64, workload port)
//   qemu/7.2.18                    the other archive build, unpacked (cross-version pairs)
//   qemu/7.2.22+machine=pc-q35-6.2 another machine type          -> refused
//   qemu/7.2.22+mem=512            another RAM size (MiB)        -> refused
//   qemu/7.2.22+no-workload-port   destination missing a device  -> refused
//   qemu/7.2.22+virtio-crypto      source holding an unmigratable device (blocker) -> refused
// Scenarios: single-hop; ping-pong (src -> dst -> src -> dst); retry-after-refusal (dst, then retryDst).
// Transfer: 'tcp' migrates over loopback TCP, anything else over a unix socket.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Evidence, TimelineEvent } from '../../oracle/types.ts';
import { runDir } from '../../report/runDir.ts';
import { UsageError } from '../../util/usage-error.ts';
import type { CaseSpec, Runner, RunnerCapabilities } from '../types.ts';
import { caseTitle } from '../types.ts';
import { resolveBuild, type QemuBuild } from './builds.ts';
import { InfraError } from './errors.ts';
import { DEFAULT_HOP, liveHop, type HopOptions, type HopResult } from './hop.ts';
import { ensureImage, type GuestImage } from './image.ts';
import { DEFAULT_VM, QemuVm, type VmConfig } from './vm.ts';
import { checkContinuity, servingDrivers } from './workload.ts';

export interface SideSpec {
  build: string;
  config: VmConfig;
}

/** Parse "qemu/7.2.22+machine=pc-q35-6.2+mem=512" into a build id and a VM configuration. */
export function parseSideId(id: string, base: VmConfig = DEFAULT_VM): SideSpec {
  const [build, ...mods] = id.split('+');
  if (!build || !/^qemu\/(installed|previous|\d+\.\d+\.\d+)$/.test(build)) throw new UsageError(`'${id}' is not a qemu runner revision (expected qemu/<x.y.z>[+modifier…])`);
  const config: VmConfig = { ...base };
  for (const m of mods) {
    const [k, v] = m.split('=');
    if (k === 'machine' && v && /^[a-z0-9.-]+$/.test(v)) config.machine = v;
    else if (k === 'mem' && v && /^\d+$/.test(v)) config.memMiB = Number(v);
    else if (k === 'no-workload-port' && v === undefined) config.workloadPort = false;
    else if (k === 'virtio-crypto' && v === undefined) config.virtioCrypto = true;
    else if (k === 'vfio' && v && /^[0-9a-f:.,]+$/i.test(v)) config.vfio = v.split(',');
    else throw new UsageError(`unknown qemu modifier '+${m}' in '${id}' (machine=, mem=, no-workload-port, virtio-crypto, vfio=)`);
  }
  return { build, config };
}

export interface QemuCaseResult {
  evidence: Evidence;
  hops: HopResult[];
  /** boot to the first workload line, ms */
  bootMs: number;
  drivers: Record<string, string>;
  attempts: number;
}

export class QemuRunner implements Runner {
  readonly capabilities: RunnerCapabilities = { name: 'qemu', deterministic: false, workloads: ['kernel-crypto'] };
  private image: GuestImage | null = null;
  private builds = new Map<string, QemuBuild>();

  constructor(private readonly opts: { dir?: string; hop?: Partial<HopOptions> } = {}) {}

  async prepare(spec: CaseSpec): Promise<void> {
    if (spec.workload !== 'kernel-crypto') throw new UsageError(`the qemu runner runs the kernel-crypto workload only (case asks for ${spec.workload})`);
    this.image ??= await ensureImage();
    for (const id of [spec.src, spec.dst, ...(spec.retryDst ? [spec.retryDst] : [])]) {
      const b = parseSideId(id).build;
      if (!this.builds.has(b)) this.builds.set(b, await resolveBuild(b));
    }
  }

  async run(spec: CaseSpec): Promise<Evidence> {
    return (await this.runCase(spec)).evidence;
  }

  /** The case, retried once when the first attempt ended in an infrastructure error (a guest oops). */
  async runCase(spec: CaseSpec): Promise<QemuCaseResult> {
    await this.prepare(spec);
    const first = await this.attempt(spec, 1);
    if (first.evidence.harnessError === null) return first;
    const second = await this.attempt(spec, 2);
    second.evidence.timeline.unshift({ seq: -1, t: 0, side: 'harness', kind: 'note', detail: { retried: true, firstAttempt: first.evidence.harnessError } });
    return second;
  }

  private async attempt(spec: CaseSpec, n: number): Promise<QemuCaseResult> {
    const t0 = Date.now();
    const timeline: TimelineEvent[] = [];
    const push = (side: TimelineEvent['side'], kind: TimelineEvent['kind'], detail: TimelineEvent['detail'], errno?: string) => {
      const e: TimelineEvent = { seq: timeline.length, t: Date.now() - t0, side, kind, detail };
      if (errno) e.errno = errno;
      timeline.push(e);
    };
    const caseId = caseTitle(spec);
    const dir = join(this.opts.dir ?? join(runDir(), 'qemu'), `${caseId.replace(/[^A-Za-z0-9.-]+/g, '_')}-${process.pid}-${Date.now()}-a${n}`);
    mkdirSync(dir, { recursive: true });
    const hopOpts: HopOptions = { ...DEFAULT_HOP, ...this.opts.hop, channel: spec.transfer === 'tcp' ? 'tcp' : 'unix' };
    const side = (id: string) => {
      const s = parseSideId(id);
      return { ...s, build: this.builds.get(s.build)! };
    };
    const src = side(spec.src);
    const dst = side(spec.dst);
    const ev: Evidence = {
      caseId, seed: spec.seed, stream: null, timeline, destination: null, srcFinalState: null, dstFinalState: null,
      guestOn: 'none', checks: [], hang: null, harnessError: null,
    };
    const hops: HopResult[] = [];
    const vms: QemuVm[] = [];
    const segments: { label: string; text: string }[] = [];
    let bootMs = 0;
    let drivers: Record<string, string> = {};
    try {
      let cur = await QemuVm.start({ name: 'vm0', dir, build: src.build, image: this.image!, config: src.config });
      vms.push(cur);
      push('src', 'note', { started: 'vm0', build: src.build.id, pid: cur.proc.pid });
      await cur.waitIter(1, 90_000);
      bootMs = Date.now() - t0;
      push('guest', 'event', { firstIteration: bootMs });
      // the plan of hops: [target side, expected to be the final destination]
      const plan = spec.scenario === 'ping-pong' ? [dst, src, dst] : spec.scenario === 'retry-after-refusal' && spec.retryDst ? [dst, side(spec.retryDst)] : [dst];
      for (const [i, target] of plan.entries()) {
        const { result, dst: next } = await liveHop(cur, { name: `vm${i + 1}`, dir, build: target.build, image: this.image!, config: { ...target.config, workload: src.config.workload } }, hopOpts, push);
        hops.push(result);
        ev.destination = { accepted: result.outcome === 'migrated' || (result.outcome === 'broken' && result.migration?.status === 'completed'), errno: null, stage: result.migration?.status === 'completed' ? 'qemu-load' : result.blockedReasons.length ? 'migration-blocker' : 'qemu-load', reason: result.reason };
        if (result.outcome === 'error') throw new InfraError(result.reason);
        if (next) {
          segments.push({ label: cur.name, text: cur.workloadText() });
          await cur.stop();
          cur = next;
          vms.push(cur);
        }
        if (result.outcome !== 'migrated' && !(spec.scenario === 'retry-after-refusal' && i === 0 && result.outcome === 'refused')) break;
      }
      const last = hops[hops.length - 1]!;
      const st = cur.alive() ? await cur.qmp.queryStatus().catch(() => null) : null;
      const onDst = last.outcome === 'migrated';
      ev.guestOn = st?.running ? (onDst ? 'dst' : 'src') : 'none';
      ev.srcFinalState = onDst ? (last.srcStatus ?? null) : st?.running ? 'RUNNING' : (st?.status ?? 'exited');
      ev.dstFinalState = onDst ? (st?.running ? 'RUNNING' : (st?.status ?? 'exited')) : (last.dstStatus ?? 'exited');
      for (const h of hops) ev.checks.push(...h.checks.filter((c) => !(c.name === 'workload-continuity' || c.name === 'workload-results')));
      segments.push({ label: cur.name, text: cur.workloadText() });
      ev.checks.push(...checkContinuity(segments, src.config.workload.size, 1));
      drivers = servingDrivers(vms[0]!.workload().algs);
      push('guest', 'note', { drivers: Object.entries(drivers).map(([k, v]) => `${k}=${v}`).join(' ') });
      for (const h of hops) {
        push('harness', 'note', { hop: h.outcome, totalTimeMs: h.figures.totalTimeMs, downtimeMs: h.figures.downtimeMs, transferredBytes: h.figures.transferredBytes });
      }
    } catch (e) {
      const oops = vms.map((v) => v.oops()).find(Boolean);
      ev.harnessError = oops ? `guest oops (infrastructure, TCG dirty-page race before QEMU 9.0): ${oops}` : (e as Error).message;
      push('harness', 'note', { error: ev.harnessError });
    } finally {
      for (const v of vms) await v.stop();
    }
    return { evidence: ev, hops, bootMs, drivers, attempts: n };
  }
}
