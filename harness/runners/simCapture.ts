// Capture the stream a source revision writes for a simulated VF (`single` read: STOP_COPY, read to
// end). With a guest (`prepare`), the VF carries the guest's queues; without one it is a VF whose
// guest never loaded a driver. Used by tests, the fuzzers and `migcompat check` examples.
import { GuestMemory, QmVf } from '../device/index.ts';
import { DEFAULT_DEVICE, type DeviceConfig } from '../device/mmio.ts';
import { loadRevision } from '../drivers/registry.ts';
import type { Revision } from '../drivers/revision.ts';
import { fail, ok, type IoResult } from '../util/errno.ts';
import { SimClock } from '../util/clock.ts';
import { Rng } from '../util/rng.ts';
import { Timeline } from '../util/timeline.ts';
import { SimVfioDevice } from '../vfio/sim.ts';

export interface CaptureOptions {
  rev: string | Revision;
  device?: DeviceConfig;
  seed?: number;
  /** set the VF up before the save (e.g. boot a workload on it) */
  prepare?: (dev: QmVf, memory: GuestMemory, clock: SimClock, timeline: Timeline) => void;
}

export function captureStream(opts: CaptureOptions): IoResult<Uint8Array> {
  const rev = typeof opts.rev === 'string' ? loadRevision(opts.rev) : opts.rev;
  const config = opts.device ?? DEFAULT_DEVICE;
  const seed = opts.seed ?? 1;
  const clock = new SimClock();
  const timeline = new Timeline(clock);
  const memory = new GuestMemory(seed);
  const dev = new QmVf({ config, memory, clock, timeline, side: 'src', rng: new Rng(seed) });
  const vfio = new SimVfioDevice(`src:${rev.id}`, rev.bind({ host: dev, config, timeline, side: 'src' }), timeline, 'src');
  opts.prepare?.(dev, memory, clock, timeline);
  const r = vfio.setState('STOP_COPY');
  if (!r.ok) return r;
  if (!r.value.dataFd) return fail('EINVAL');
  const parts: number[] = [];
  for (let i = 0; i < 64; i++) {
    const c = r.value.dataFd.read(1 << 20);
    if (!c.ok) return c;
    if (c.value.length === 0) return ok(Uint8Array.from(parts));
    parts.push(...c.value);
  }
  return fail('EIO');
}
