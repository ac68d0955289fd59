// A stand-in device driven by a simulated revision: one simulated VF with the revision bound to it
// (probe), kept for the life of the stand-in device like real hardware, and a fresh SimVfioDevice
// (open_device) each time the fake device fd is first opened. It lives with the runner because it
// joins a driver revision to the stand-in; the stand-in itself (harness/vfio/kernel/standin) knows
// only VfioDevice and takes this as its `revisionDevice` factory.
import { GuestMemory, QmVf } from '../../device/index.ts';
import { DEFAULT_DEVICE, type DeviceConfig } from '../../device/mmio.ts';
import { loadRevision } from '../../drivers/registry.ts';
import { SimClock } from '../../util/clock.ts';
import { Rng } from '../../util/rng.ts';
import { Timeline } from '../../util/timeline.ts';
import { SimVfioDevice } from '../../vfio/sim.ts';
import type { VfioDevice } from '../../vfio/types.ts';

export interface SimDeviceHandle {
  open: () => VfioDevice;
  timeline: Timeline;
  revision: string;
}

export function simStandinDevice(revId: string, config: Partial<DeviceConfig> = {}, seed = 1, side: 'src' | 'dst' = 'dst'): SimDeviceHandle {
  const rev = loadRevision(revId);
  const cfg: DeviceConfig = { ...DEFAULT_DEVICE, ...config };
  const clock = new SimClock();
  const timeline = new Timeline(clock);
  const memory = new GuestMemory(seed);
  const vf = new QmVf({ config: cfg, memory, clock, timeline, side, rng: new Rng(seed) });
  const driver = rev.bind({ host: vf, config: cfg, timeline, side });
  return { open: () => new SimVfioDevice(`${side}:${rev.id}`, driver, timeline, side), timeline, revision: rev.id };
}

/** The stand-in's `revisionDevice` factory: a simulated VF of that revision, as a destination. */
export const standinRevisionDevice = (revId: string, device: Partial<DeviceConfig> | undefined): (() => VfioDevice) =>
  simStandinDevice(revId, device).open;
