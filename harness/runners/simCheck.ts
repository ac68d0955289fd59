// What a destination of a given revision does with a given stream (`migcompat check`): a fresh
// simulated VF (by default a SEC VF matching the stream's header), RESUMING, the stream written per
// transfer plan, then RUNNING. No guest runs; the restored device state is reported instead.
import { GuestMemory, QmVf } from '../device/index.ts';
import { DEFAULT_DEVICE, type DeviceConfig } from '../device/mmio.ts';
import { VF_EQ_INT_MASK, VF_AEQ_INT_MASK, VF_QM_STATE } from '../device/regs.ts';
import { QM_MATCH_SIZE } from '../formats/accVfData.ts';
import { structOf } from '../drivers/struct.ts';
import { loadRevision } from '../drivers/registry.ts';
import type { Revision } from '../drivers/revision.ts';
import { parsePlan, planText, type TransferPlan } from '../transfer/plan.ts';
import { runIsolatedCheck, type CheckJob } from './isolation.ts';
import { SimClock } from '../util/clock.ts';
import { Rng } from '../util/rng.ts';
import { Timeline } from '../util/timeline.ts';
import { HangError } from '../vfio/driver.ts';
import { SimVfioDevice } from '../vfio/sim.ts';
import type { TimelineEvent } from '../oracle/types.ts';

export interface CheckStreamOptions {
  /** revision id, short id or YAML path, or a Revision */
  rev: string | Revision;
  stream: Uint8Array;
  /** destination VF configuration; default: SEC VF matching the stream's qp_num and que_iso_cfg */
  dest?: DeviceConfig;
  /** 'single' (default), 'chunks:…', 'random', or 'qemu' (40-byte header first, then the rest) */
  transfer?: string | TransferPlan;
  seed?: number;
  /** keep the timeline in the result (off by default: the check loop is hot) */
  keepTimeline?: boolean;
}

export interface RestoredState {
  /** driver's migration state at the end */
  migState: string;
  /** QM_VF_STATE register of the destination VF */
  vfQmState: number;
  eqIntMask: number;
  aeqIntMask: number;
  /** EQE/AEQE bases the device now delivers events to (docs/device-model.md#model-assumptions) */
  eqeDma: bigint;
  aeqeDma: bigint;
  /**
   * the VF stopped on a DMA fault. No guest memory stands behind a checked stream, so restarting
   * queues faults at the stream's SQC/CQC addresses: look at `dmaFaults` to tell a NULL base from a real one.
   */
  deviceError: boolean;
  /** the first DMA faults: what the device fetched and where */
  dmaFaults: { what: string; iova: string }[];
  /** a fault in the first page (a NULL base) */
  nullDmaFault: boolean;
}

export interface CheckStreamResult {
  rev: string;
  accepted: boolean;
  errno: string | null;
  /** 'write', 'resuming->stop', 'stop->running', 'set-resuming' or null when accepted */
  stage: string | null;
  reason: string;
  /** the destination driver's log lines */
  dmesg: string[];
  writes: number[];
  dest: DeviceConfig;
  restored: RestoredState;
  /** real driver code run in a child process crashed or timed out (no verdict about the device) */
  harnessError?: string;
  /** set when a driver loop exceeded its step bound (stage 'hang'): where, and the arcs walked */
  hang: { where: string; arcs: string[] } | null;
  timeline?: TimelineEvent[];
}

/** Default destination: a SEC VF whose VFT and isolation match what the stream says. */
export function destinationFor(stream: Uint8Array): DeviceConfig {
  const d = stream.length >= QM_MATCH_SIZE ? structOf(stream.subarray(0, QM_MATCH_SIZE)) : undefined;
  const qpNum = d && d.qpNum >= 1 && d.qpNum <= 1024 ? d.qpNum : DEFAULT_DEVICE.qpNum;
  const qpBase = d && d.qpBase <= 0xffff ? d.qpBase : DEFAULT_DEVICE.qpBase;
  return { ...DEFAULT_DEVICE, type: 'SEC', qpNum, qpBase, queIsoCfg: d ? d.queIsoCfg : 0 };
}

function writeSizes(plan: TransferPlan, len: number, rng: Rng): number[] {
  switch (plan.kind) {
    case 'single':
      return len ? [len] : [];
    case 'qemu':
      return len > QM_MATCH_SIZE ? [QM_MATCH_SIZE, len - QM_MATCH_SIZE] : len ? [len] : [];
    case 'chunks': {
      const out: number[] = [];
      let off = 0;
      for (const n of plan.sizes) {
        if (off >= len) break;
        out.push(Math.min(n, len - off));
        off += n;
      }
      if (off < len) out.push(len - off);
      return out;
    }
    case 'random': {
      const out: number[] = [];
      for (let off = 0; off < len; ) {
        const n = rng.int(1, len - off);
        out.push(n);
        off += n;
      }
      return out;
    }
  }
}

interface CachedVf {
  dev: QmVf;
  timeline: Timeline;
}
/**
 * Destination VFs are reused between checks (the check loop is hot): a function reset puts every
 * register back to its reset value, exactly what a fresh VF reads, and the timeline starts empty.
 * Keyed by configuration and seed; small and bounded.
 */
const vfCache = new Map<string, CachedVf>();
const VF_CACHE_MAX = 32;

function destinationVf(dest: DeviceConfig, seed: number, fresh: boolean): { dev: QmVf; timeline: Timeline; faultsBefore: number } {
  const key = `${dest.type}/${dest.qpNum}/${dest.qpBase}/${dest.queIsoCfg}/${dest.hwMode}/${dest.vfId}/${seed}`;
  const hit = fresh ? undefined : vfCache.get(key);
  if (hit) {
    hit.dev.functionReset();
    hit.timeline.events.length = 0;
    if (hit.dev.dmaFaults.length > 1000) hit.dev.dmaFaults.length = 0;
    return { dev: hit.dev, timeline: hit.timeline, faultsBefore: hit.dev.dmaFaults.length };
  }
  const clock = new SimClock();
  const timeline = new Timeline(clock);
  const memory = new GuestMemory(seed, 4096);
  const dev = new QmVf({ config: dest, memory, clock, timeline, side: 'dst', rng: new Rng(seed) });
  if (!fresh) {
    if (vfCache.size >= VF_CACHE_MAX) vfCache.delete(vfCache.keys().next().value!);
    vfCache.set(key, { dev, timeline });
  }
  return { dev, timeline, faultsBefore: 0 };
}

export function checkStream(opts: CheckStreamOptions): CheckStreamResult {
  const rev = typeof opts.rev === 'string' ? loadRevision(opts.rev) : opts.rev;
  const plan = typeof opts.transfer === 'object' ? opts.transfer : parsePlan(opts.transfer ?? 'single');
  const dest = opts.dest ?? destinationFor(opts.stream);
  const seed = opts.seed ?? 1;
  if (rev.childLib) return checkInChild(rev, opts.stream, dest, plan, seed);
  const { dev, timeline, faultsBefore } = destinationVf(dest, seed, !!opts.keepTimeline);
  const driver = rev.bind({ host: dev, config: dest, timeline, side: 'dst' });
  const vfio = new SimVfioDevice(`dst:${rev.id}`, driver, timeline, 'dst');
  const writes: number[] = [];
  let accepted = false;
  let errno: string | null = null;
  let stage: string | null = null;
  let hang: CheckStreamResult['hang'] = null;
  try {
    const r = vfio.setState('RESUMING');
    if (!r.ok || !r.value.dataFd) {
      errno = r.ok ? 'EINVAL' : r.errno;
      stage = 'set-resuming';
    } else {
      const fd = r.value.dataFd;
      let off = 0;
      for (const n of writeSizes(plan, opts.stream.length, new Rng(seed ^ 0x7a))) {
        writes.push(n);
        const w = fd.write(opts.stream.subarray(off, off + n));
        if (!w.ok) {
          errno = w.errno;
          stage = 'write';
          break;
        }
        off += n;
      }
      if (stage === null) {
        const s = vfio.setState('RUNNING');
        if (s.ok) accepted = true;
        else {
          errno = s.errno;
          const at = driver.getState();
          stage = at === 'RESUMING' ? 'resuming->stop' : at === 'STOP' ? 'stop->running' : 'set-state';
        }
      }
    }
  } catch (e) {
    if (!(e instanceof HangError)) throw e;
    errno = null;
    stage = 'hang';
    hang = { where: e.where, arcs: e.arcs };
  }
  const dmesg = timeline.events.filter((e) => e.kind === 'note' && typeof e.detail.dmesg === 'string').map((e) => String(e.detail.dmesg));
  const bases = dev.eventBases();
  const restored: RestoredState = {
    migState: driver.getState(),
    vfQmState: dev.read32('vf', VF_QM_STATE),
    eqIntMask: dev.read32('vf', VF_EQ_INT_MASK),
    aeqIntMask: dev.read32('vf', VF_AEQ_INT_MASK),
    eqeDma: bases.eq,
    aeqeDma: bases.aeq,
    deviceError: dev.inError,
    dmaFaults: dev.dmaFaults.slice(faultsBefore, faultsBefore + 8).map((f) => ({ what: f.what, iova: f.iova })),
    nullDmaFault: dev.dmaFaults.slice(faultsBefore).some((f) => /^0x/.test(f.iova) && BigInt(f.iova) < 0x1000n),
  };
  const reason = accepted
    ? dmesg.length ? `accepted (${dmesg[dmesg.length - 1]})` : 'accepted: the destination reached RUNNING'
    : hang ? `hang: step bound exceeded in ${hang.where} (${hang.arcs.join(', ') || 'no arcs'})`
      : `refused at ${stage} with ${errno}${dmesg.length ? `: ${dmesg[dmesg.length - 1]}` : ''}`;
  const out: CheckStreamResult = { rev: rev.id, accepted, errno, stage, reason, dmesg, writes, dest, restored, hang };
  if (opts.keepTimeline) out.timeline = timeline.events;
  else timeline.events.length = 0;
  return out;
}

/**
 * A check of an isolated revision (real code, `ktree:`) in the isolated executor (a child process).
 * The timeline stays there; its device actions come back as `actions` lines. A crash or a time-out
 * is `harnessError`.
 */
function checkInChild(rev: Revision, stream: Uint8Array, dest: DeviceConfig, plan: TransferPlan, seed: number): CheckStreamResult {
  const job: CheckJob = { kind: 'check', id: 'check', rev: rev.id, streamHex: Buffer.from(stream).toString('hex'), dest, transfer: planText(plan), seed };
  const r = runIsolatedCheck(job, { [rev.id]: rev.childLib! });
  const e = r.evidence as (Omit<CheckStreamResult, 'restored'> & { restored: RestoredState & { eqeDma: string; aeqeDma: string }; actions?: string[] }) | null;
  if (!e) {
    const none: RestoredState = {
      migState: 'unknown', vfQmState: 0, eqIntMask: 0, aeqIntMask: 0, eqeDma: 0n, aeqeDma: 0n, deviceError: false, dmaFaults: [], nullDmaFault: false,
    };
    return {
      rev: rev.id, accepted: false, errno: null, stage: 'error', reason: `harness error: ${r.error}`, dmesg: [], writes: [], dest,
      restored: none, hang: null, harnessError: r.error ?? 'no result',
    };
  }
  const { actions: _a, ...rest } = e;
  void _a;
  return {
    ...rest, rev: rev.id, hang: rest.hang ?? null,
    restored: { ...e.restored, eqeDma: BigInt(e.restored.eqeDma), aeqeDma: BigInt(e.restored.aeqeDma) },
  };
}
