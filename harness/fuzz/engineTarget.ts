// Binds the fuzz properties to the engine: revision models (harness/drivers) on the simulated VF
// (harness/device) behind the simulated VFIO core (harness/vfio/sim).
//   save       captureStream with a guest booted to its stop point (real DMA fields)
//   check      the engine's destination check, checkStream (no guest): refused / accepted / hang
//   runMutated the full single-hop case with the stream mutated in transit, judged by the oracle
//   transparency runCase (single-hop, same revision) against the same workload never migrated
// `revisions` may name `ktree:` ids, so the ktree side is loaded (its resolver and child processes).
import '../ktree/install.ts';
import { DEFAULT_DEVICE, type DeviceConfig } from '../device/mmio.ts';
import { GuestMemory } from '../device/memory.ts';
import { QmVf } from '../device/qmvf.ts';
import { listRevisions, loadRevision } from '../drivers/registry.ts';
import type { Revision } from '../drivers/revision.ts';
import { runCase } from '../runners/sim.ts';
import { checkStream } from '../runners/simCheck.ts';
import type { WorkloadName } from '../runners/types.ts';
import { SimClock } from '../util/clock.ts';
import { Rng } from '../util/rng.ts';
import { Timeline } from '../util/timeline.ts';
import { SimVfioDevice } from '../vfio/sim.ts';
import type { VfioDevice } from '../vfio/types.ts';
import { STREAM_GUEST, guestVisible, runMutatedCase, runWithoutMigration, sourceStream } from './guestRuns.ts';
import type { FuzzTarget, StreamCheck } from './target.ts';

/** Released revision models (hypothetical ones are added with --rev). */
export function defaultRevisionIds(): string[] {
  return listRevisions().filter((r) => r.id.startsWith('hisi-acc/') && r.kind === 'model' && !/proposal/.test(r.id)).map((r) => r.id);
}

/** A device for the uapi property: no guest, no queues. */
function simDevice(rev: Revision, config: DeviceConfig) {
  const clock = new SimClock();
  const timeline = new Timeline(clock);
  const host = new QmVf({ config, memory: new GuestMemory(1, 4096), clock, timeline, side: 'src', rng: new Rng(1) });
  const driver = rev.bind({ host, config, timeline, side: 'src' });
  return { driver, timeline, dev: new SimVfioDevice(`${rev.id}#src`, driver, timeline, 'src') };
}

export interface EngineTargetOptions {
  revisions?: string[];
}

export const devKey = (d: DeviceConfig) => `${d.type}|${d.qpNum}|${d.qpBase}|${d.queIsoCfg}|${d.hwMode}|${d.vfId}`;

export async function engineTarget(opts: EngineTargetOptions = {}): Promise<FuzzTarget & { checker: string }> {
  const ids = (opts.revisions?.length ? opts.revisions : defaultRevisionIds()).map((id) => loadRevision(id).id);
  const revs = new Map(ids.map((id) => [id, loadRevision(id)]));
  const rev = (id: string) => revs.get(id) ?? loadRevision(id);
  const saved = new Map<string, Uint8Array>();
  const planOf = (chunks: readonly number[] | null) => (chunks ? { kind: 'chunks' as const, sizes: [...chunks] } : { kind: 'single' as const });
  return {
    checker: 'checkStream',
    revisions: ids,
    traitsOf: (id) => revs.get(id)?.traits,
    save(src, device, workload: WorkloadName = 'user-polling') {
      const k = `${src}|${workload}|${devKey(device)}`;
      let s = saved.get(k);
      if (!s) saved.set(k, (s = sourceStream(rev(src), device, { workload, ...STREAM_GUEST })));
      return s;
    },
    check(dst, stream, chunks, dest): StreamCheck {
      // the loaded Revision object, not its id: the registry lookup would cost more than the check
      const r = checkStream({ rev: rev(dst), stream, dest, transfer: planOf(chunks) });
      if (r.accepted) return { outcome: 'migrated', errno: null, stage: null, reason: r.reason };
      if (r.stage === 'hang') return { outcome: 'broken', errno: null, stage: 'hang', reason: r.reason };
      return { outcome: 'refused', errno: r.errno, stage: r.stage, reason: r.reason };
    },
    runMutated(q) {
      const run = runMutatedCase({
        src: rev(q.src), dst: rev(q.dst), device: q.device, guest: { workload: q.workload, ...STREAM_GUEST }, mutate: q.mutate, chunks: q.chunks,
      });
      const v = run.verdict;
      return { check: { outcome: v.outcome, errno: v.errno, stage: v.stage, reason: v.reason }, original: run.original };
    },
    openDevice(id) {
      const d = simDevice(rev(id), DEFAULT_DEVICE);
      let dev: VfioDevice = d.dev;
      return {
        dev,
        reopen() {
          dev.close();
          dev = new SimVfioDevice(`${id}#src`, d.driver, d.timeline, 'src');
          return dev;
        },
      };
    },
    transparency(id, c) {
      const device = DEFAULT_DEVICE;
      const g = { workload: c.workload, requests: c.requests, inflight: c.inflight, requestSize: c.requestSize, seed: c.seed };
      if (!c.migrate) return guestVisible(runWithoutMigration(rev(id), device, g));
      return guestVisible(runCase({ src: id, dst: id, scenario: 'single-hop', transfer: c.transfer, device, ...g }));
    },
  };
}
