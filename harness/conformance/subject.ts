// What the clauses run against: a Subject hands out devices of one revision or backend, each fresh
// and in RUNNING, through the one VfioDevice interface. Models and external revisions (registered
// code, the tests' planted drivers) run in process on the simulated VF behind the simulated core;
// real code (`ktree:`) and kernel devices run in a child process (isolate.ts) with the same engine.
import { DEFAULT_DEVICE, type DeviceConfig } from '../device/mmio.ts';
import { GuestMemory } from '../device/memory.ts';
import { QmVf } from '../device/qmvf.ts';
import type { Revision } from '../drivers/revision.ts';
import { SimClock } from '../util/clock.ts';
import { Rng } from '../util/rng.ts';
import { Timeline } from '../util/timeline.ts';
import { SimVfioDevice } from '../vfio/sim.ts';
import type { VfioDevice } from '../vfio/types.ts';
import type { DeviceHandle } from './session.ts';

export type SubjectKind = 'model' | 'external' | 'ktree' | 'kernel';

export interface Peer {
  /** what differs from the subject's device ("device type ZIP") */
  name: string;
  fresh(): DeviceHandle;
}

export interface Subject {
  id: string;
  title: string;
  kind: SubjectKind;
  /** a device opened and in RUNNING; every call is a new open */
  fresh(): DeviceHandle;
  /** devices of another identity: their streams are inconsistent data for this subject */
  peers(): Peer[];
  /**
   * true when fresh() probes the driver anew (models, the stand-in), so every scenario starts from
   * a just-bound driver; a real host keeps its binding, and what one scenario leaves in the
   * driver (a match flag, a driver state) is still there in the next.
   */
  reprobes: boolean;
  /** the kernel driver bound to a kernel device (declarations may name it: known.ts) */
  driver?: string;
}

/** The device configurations a model's peers use: each changes one field the stream identifies. */
export const PEER_CONFIGS: readonly { name: string; config: Partial<DeviceConfig> }[] = [
  { name: 'device type ZIP (another PCI device id)', config: { type: 'ZIP' } },
  { name: 'another queue count (qp_num 8)', config: { qpNum: 8 } },
  { name: 'another queue isolation (que_iso_cfg 1)', config: { queIsoCfg: 1 } },
];

/** A simulated VF with `rev` bound to it (the probe), opened through the simulated core. */
export function simHandle(rev: Revision, config: DeviceConfig = DEFAULT_DEVICE): DeviceHandle {
  const clock = new SimClock();
  const timeline = new Timeline(clock);
  const host = new QmVf({ config, memory: new GuestMemory(1, 4096), clock, timeline, side: 'src', rng: new Rng(1) });
  const driver = rev.bind({ host, config, timeline, side: 'src' });
  let dev: VfioDevice = new SimVfioDevice(`${rev.id}#conform`, driver, timeline, 'src');
  return {
    get dev() {
      return dev;
    },
    reopen() {
      dev.close();
      dev = new SimVfioDevice(`${rev.id}#conform`, driver, timeline, 'src');
      return dev;
    },
    close() {
      dev.close();
    },
  };
}

/** A revision bound in this process: a model (YAML profile) or external code registered in it. */
export function revisionSubject(rev: Revision, config: DeviceConfig = DEFAULT_DEVICE): Subject {
  return {
    id: rev.id,
    title: rev.title,
    kind: rev.kind === 'model' ? 'model' : 'external',
    reprobes: true,
    fresh: () => simHandle(rev, config),
    peers: () => PEER_CONFIGS.map((p) => ({ name: p.name, fresh: () => simHandle(rev, { ...config, ...p.config }) })),
  };
}
