// Binds the fuzz properties to the engine: revision models (harness/drivers) on the simulated VF
// (harness/device) behind the simulated VFIO core (harness/vfio/sim). Stream checks go through the
// destination check API when the engine exports one (harness/drivers/check.ts `checkStream`), else
// through the uAPI directly: RESUMING, write the chunks, RUNNING.
import { DEFAULT_DEVICE, type DeviceConfig } from '../device/mmio.ts';
import { GuestMemory } from '../device/memory.ts';
import { QmVf } from '../device/qmvf.ts';
import { listRevisions, loadRevision } from '../drivers/registry.ts';
import type { Revision } from '../drivers/revision.ts';
import { SimClock } from '../util/clock.ts';
import { Rng } from '../util/rng.ts';
import { Timeline } from '../util/timeline.ts';
import { SimVfioDevice } from '../vfio/sim.ts';
import type { VfioDevice } from '../vfio/types.ts';
import type { FuzzTarget, StreamCheck } from './target.ts';

/** Released revision models (hypothetical ones are added with --rev). */
export function defaultRevisionIds(): string[] {
  return listRevisions().filter((r) => r.id.startsWith('hisi-acc/') && r.kind === 'model' && !/proposal/.test(r.id)).map((r) => r.id);
}

const QM_VF_STATE = 0x60;

function simDevice(rev: Revision, config: DeviceConfig, side: 'src' | 'dst', seed = 1) {
  const clock = new SimClock();
  const timeline = new Timeline(clock);
  // a small initial guest memory: a stream check maps no queues, and allocation dominated the cost
  const host = new QmVf({ config, memory: new GuestMemory(seed, 4096), clock, timeline, side, rng: new Rng(seed) });
  const driver = rev.bind({ host, config, timeline, side });
  const dev = new SimVfioDevice(`${rev.id}#${side}`, driver, timeline, side);
  return { host, driver, timeline, dev };
}

/** The uAPI-level destination check: what a resume of `stream` in `chunks` ends with. */
function uapiCheck(rev: Revision, stream: Uint8Array, chunks: readonly number[] | null, dest: DeviceConfig): StreamCheck {
  const { dev } = simDevice(rev, dest, 'dst');
  try {
    const r = dev.setState('RESUMING');
    if (!r.ok || !r.value.dataFd) return { outcome: 'error', errno: r.ok ? null : r.errno, stage: 'set-state', reason: 'cannot enter RESUMING' };
    const fd = r.value.dataFd;
    let off = 0;
    for (const n of chunks ?? [stream.length]) {
      const w = fd.write(stream.subarray(off, off + n));
      if (!w.ok) return { outcome: 'refused', errno: w.errno, stage: 'write', reason: `write of ${n} bytes at ${off} failed` };
      off += n;
    }
    const s = dev.setState('RUNNING');
    if (!s.ok) {
      const st = dev.getState();
      const where = st.ok ? st.value : '?';
      return where === 'ERROR'
        ? { outcome: 'broken', errno: s.errno, stage: 'resuming->stop', reason: 'device left in ERROR' }
        : { outcome: 'refused', errno: s.errno, stage: 'resuming->stop', reason: `resume refused, device in ${where}` };
    }
    return { outcome: 'migrated', errno: null, stage: null, reason: 'accepted' };
  } catch (e) {
    if ((e as Error).name === 'HangError') return { outcome: 'broken', errno: null, stage: 'hang', reason: (e as Error).message };
    throw e;
  }
}

/** A source save with a ready guest driver: QM_VF_STATE = 0 as hisi_qm_start writes it, then STOP_COPY. */
function uapiSave(rev: Revision, device: DeviceConfig): Uint8Array {
  const { host, dev } = simDevice(rev, device, 'src');
  host.write32('vf', QM_VF_STATE, 0);
  const r = dev.setState('STOP_COPY');
  if (!r.ok || !r.value.dataFd) throw new Error(`${rev.id}: cannot enter STOP_COPY (${r.ok ? 'no fd' : r.errno})`);
  const parts: Uint8Array[] = [];
  for (let i = 0; i < 64; i++) {
    const d = r.value.dataFd.read(4096);
    if (!d.ok) throw new Error(`${rev.id}: save read failed ${d.errno}`);
    if (d.value.length === 0) break;
    parts.push(d.value);
  }
  return new Uint8Array(Buffer.concat(parts));
}

type CheckStreamFn = (a: { rev: string; stream: Uint8Array; dest?: DeviceConfig; transfer?: string }) => unknown;

/** The engine's checkStream, when it has landed (its module path is the engine's to choose). */
async function findCheckStream(): Promise<CheckStreamFn | null> {
  for (const p of ['../drivers/check.ts', '../runners/check.ts', '../transfer/check.ts']) {
    try {
      const m = (await import(p)) as { checkStream?: CheckStreamFn };
      if (typeof m.checkStream === 'function') return m.checkStream;
    } catch {
      /* not there yet */
    }
  }
  return null;
}

export interface EngineTargetOptions {
  revisions?: string[];
  /** use the uAPI-level check even when checkStream exists (faster; no guest checks) */
  uapiOnly?: boolean;
}

export async function engineTarget(opts: EngineTargetOptions = {}): Promise<FuzzTarget & { checker: string }> {
  const ids = (opts.revisions?.length ? opts.revisions : defaultRevisionIds()).map((id) => loadRevision(id).id);
  const revs = new Map(ids.map((id) => [id, loadRevision(id)]));
  const cs = opts.uapiOnly ? null : await findCheckStream();
  const saved = new Map<string, Uint8Array>();
  const key = (src: string, d: DeviceConfig) => `${src}|${d.type}|${d.qpNum}|${d.qpBase}|${d.queIsoCfg}|${d.hwMode}|${d.vfId}`;
  return {
    checker: cs ? 'checkStream' : 'uapi',
    revisions: ids,
    traitsOf: (rev) => revs.get(rev)?.traits,
    save(src, device) {
      const k = key(src, device);
      let s = saved.get(k);
      if (!s) saved.set(k, (s = uapiSave(revs.get(src) ?? loadRevision(src), device)));
      return s;
    },
    check(dst, stream, chunks, dest) {
      const rev = revs.get(dst) ?? loadRevision(dst);
      if (!cs) return uapiCheck(rev, stream, chunks, dest);
      const r = cs({ rev: dst, stream, dest, transfer: chunks ? `chunks:${chunks.join(',')}` : 'single' }) as Partial<StreamCheck> & { verdict?: Partial<StreamCheck> };
      const v = r.verdict ?? r;
      return { outcome: v.outcome ?? 'error', errno: v.errno ?? null, stage: v.stage ?? null, reason: v.reason ?? '' };
    },
    openDevice(rev) {
      const d = simDevice(revs.get(rev) ?? loadRevision(rev), DEFAULT_DEVICE, 'src');
      let dev: VfioDevice = d.dev;
      return {
        dev,
        reopen() {
          dev.close();
          dev = new SimVfioDevice(`${rev}#src`, d.driver, d.timeline, 'src');
          return dev;
        },
      };
    },
  };
}
