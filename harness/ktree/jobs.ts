// The units of work compared between a model and the real code, run the same way on both: a check
// probe (what a destination does with a stream), a save probe (what a source produces), and a
// whole case of the sim runner. Results are plain JSON (64-bit values as "0x…" strings) so the
// real side can run in a child process and both sides are normalised identically.
import { GuestMemory, QmVf } from '../device/index.ts';
import type { DeviceConfig } from '../device/mmio.ts';
import type { DeviceFaults } from '../device/qmvf.ts';
import type { Revision } from '../drivers/revision.ts';
import { Vm, createWorkload } from '../guest/index.ts';
import type { TimelineEvent } from '../oracle/types.ts';
import type { CaseJob, CheckJob } from '../runners/isolation.ts';
import { runCase } from '../runners/sim.ts';
import { checkStream } from '../runners/simCheck.ts';
import type { WorkloadName } from '../runners/types.ts';
import { SimClock } from '../util/clock.ts';
import { jsonReplacer } from '../util/hex.ts';
import { Rng } from '../util/rng.ts';
import { Timeline } from '../util/timeline.ts';
import { HangError } from '../vfio/driver.ts';
import { SimVfioDevice } from '../vfio/sim.ts';
import { runScript, type ScriptJob } from './scripts.ts';

/** A save probe: what a source of `rev` produces (compare only). */
export interface SaveJob {
  kind: 'save';
  id: string;
  rev: string;
  device: DeviceConfig;
  workload: WorkloadName;
  seed: number;
  faults?: Partial<DeviceFaults>;
}

/** The runners' isolated jobs (case, check), the save probe and uAPI scripts (compare only). */
export type Job = CheckJob | SaveJob | CaseJob | ScriptJob;

/** What a job produced, in comparable form; `error` is set when the job could not run to its end. */
export interface JobResult {
  id: string;
  evidence: Record<string, unknown> | null;
  error: string | null;
}

/** The device-facing part of a timeline: host register writes, mailbox commands, doorbells, arcs. */
export function hostActions(events: readonly TimelineEvent[], side?: string): string[] {
  const out: string[] = [];
  for (const e of events) {
    if (side && e.side !== side) continue;
    const d = e.detail;
    if (e.kind === 'reg-write' && d.by === 'host') out.push(`${e.side} w32 ${d.space}:${hexOff(d.off)}=${hexOff(d.val)}`);
    else if (e.kind === 'mailbox' && d.by === 'host') out.push(`${e.side} mb cmd=${d.cmd} op=${d.op} q=${d.queue} addr=${d.addr} st=${d.status}${e.errno ? ' ' + e.errno : ''}`);
    else if (e.kind === 'doorbell' && d.by === 'host') out.push(`${e.side} db cmd=${d.cmd} qn=${d.qn} idx=${d.index} prio=${d.prio}`);
    else if (e.kind === 'arc') out.push(`${e.side} arc ${d.from}->${d.to}${e.errno ? ' ' + e.errno : ''}`);
    else if (e.kind === 'note' && d.what === 'firmware-event-bases') out.push(`${e.side} firmware eqe=${d.eqeDma} aeqe=${d.aeqeDma}`);
  }
  return out;
}
const hexOff = (v: unknown): string => (typeof v === 'number' ? '0x' + (v >>> 0).toString(16) : String(v));
const dmesgOf = (events: readonly TimelineEvent[]): string[] =>
  events.filter((e) => e.kind === 'note' && typeof e.detail.dmesg === 'string').map((e) => `${e.side}: ${e.detail.dmesg}`);

const toPlain = (v: unknown): Record<string, unknown> => JSON.parse(JSON.stringify(v, jsonReplacer)) as Record<string, unknown>;

function withFaults(dev: QmVf, f: Partial<DeviceFaults> | undefined): void {
  if (f) Object.assign(dev.faults, f);
}

/** Run one job with `rev` resolved by `resolve` (the registry in either process). */
export function runJob(job: Job, resolve: (id: string) => Revision): JobResult {
  try {
    if (job.kind === 'check') {
      const rev = resolve(job.rev);
      // faults need the device before the driver binds: wrap bind to reach the QmVf
      const bound: Revision = job.faults
        ? { ...rev, bind: (ctx) => { withFaults(ctx.host as unknown as QmVf, job.faults); return rev.bind(ctx); } }
        : rev;
      const r = checkStream({ rev: bound, stream: Buffer.from(job.streamHex, 'hex'), dest: job.dest, transfer: job.transfer, seed: job.seed, keepTimeline: true });
      const { timeline, dmesg, rev: _id, ...rest } = r;
      void _id;
      return { id: job.id, error: null, evidence: toPlain({ ...rest, actions: hostActions(timeline ?? []), dmesg }) };
    }
    if (job.kind === 'save') return { id: job.id, error: null, evidence: toPlain(saveProbe(job, resolve(job.rev))) };
    if (job.kind === 'script') {
      const { timeline, ...r } = runScript(job, resolve(job.rev));
      return { id: job.id, error: null, evidence: toPlain({ ...r, actions: hostActions(timeline.events), dmesg: dmesgOf(timeline.events) }) };
    }
    const ev = runCase(job.spec);
    return { id: job.id, error: null, evidence: toPlain(ev) };
  } catch (e) {
    return { id: job.id, evidence: null, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
}

/** A source VF with a guest at its stop point, saved: STOP_COPY, read to the end, back to STOP. */
function saveProbe(job: SaveJob, rev: Revision): Record<string, unknown> {
  const clock = new SimClock();
  const timeline = new Timeline(clock);
  const memory = new GuestMemory(job.seed);
  const dev = new QmVf({ config: job.device, memory, clock, timeline, side: 'src', rng: new Rng(job.seed) });
  const vfio = new SimVfioDevice(`src:${rev.id}`, rev.bind({ host: dev, config: job.device, timeline, side: 'src' }), timeline, 'src');
  const vm = new Vm({ memory, device: dev, clock, timeline, rng: new Rng(job.seed ^ 0x9e) });
  const wl = createWorkload(job.workload, { requests: 6, inflight: 2, requestSize: 64, seed: job.seed, deviceType: job.device.type });
  wl.boot(vm);
  wl.runToStopPoint(vm);
  withFaults(dev, job.faults);
  const out: Record<string, unknown> = { stopCopy: null, reads: [] as string[], stream: '', stop: null, hang: null };
  try {
    const r = vfio.setState('STOP_COPY');
    out.stopCopy = r.ok ? 'ok' : r.errno;
    if (r.ok && r.value.dataFd) {
      const parts: Buffer[] = [];
      for (let i = 0; i < 8; i++) {
        const c = r.value.dataFd.read(64);
        (out.reads as string[]).push(c.ok ? String(c.value.length) : c.errno);
        if (!c.ok || c.value.length === 0) break;
        parts.push(Buffer.from(c.value));
      }
      out.stream = Buffer.concat(parts).toString('hex');
      r.value.dataFd.close();
    }
    const s = vfio.setState('STOP');
    out.stop = s.ok ? 'ok' : s.errno;
    out.finalState = vfio.getState().ok ? (vfio.getState() as { value: string }).value : null;
  } catch (e) {
    if (!(e instanceof HangError)) throw e;
    out.hang = e.arcs.join(' ');
  }
  out.actions = hostActions(timeline.events);
  out.dmesg = dmesgOf(timeline.events);
  return out;
}
