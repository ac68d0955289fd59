// uAPI scripts: a fixed sequence of VFIO migration calls on one VF (SET to a state, data-fd reads,
// writes and PRECOPY_INFO on any fd handed out so far, MIG_DATA_SIZE, reset, close and reopen of the
// device), every result recorded. Unlike a check or a transfer, a script goes on after a failure:
// this is how a model and the real code are compared on what the common paths never reach (writes
// after a failed write, a second resume session on the same open device, a reset in each state,
// PRE_COPY reads between PRECOPY_INFO calls, old fds after their session ended).
import { GuestMemory, QmVf } from '../device/index.ts';
import type { DeviceConfig } from '../device/mmio.ts';
import type { DeviceFaults } from '../device/qmvf.ts';
import type { Revision } from '../drivers/revision.ts';
import { Vm, createWorkload } from '../guest/index.ts';
import type { WorkloadName } from '../runners/types.ts';
import { SimClock } from '../util/clock.ts';
import { Rng } from '../util/rng.ts';
import { Timeline } from '../util/timeline.ts';
import { HangError } from '../vfio/driver.ts';
import { SimVfioDevice } from '../vfio/sim.ts';
import type { DataFd, MigState, VfioDevice } from '../vfio/types.ts';

/** One call. `fd` is the index of a data fd in the order SETs handed them out (default: the last). */
export type ScriptStep =
  | { op: 'set'; state: MigState }
  | { op: 'read'; max: number; fd?: number }
  | { op: 'write'; hex: string; fd?: number }
  | { op: 'info'; fd?: number }
  | { op: 'size' }
  | { op: 'reset' }
  | { op: 'close-fd'; fd?: number }
  /** close the device (close_device) and open it again (open_device), as a new VMM would */
  | { op: 'reopen' };

export interface ScriptJob {
  kind: 'script';
  id: string;
  rev: string;
  device: DeviceConfig;
  /** a guest runs this workload to its stop point on the VF first (a source worth saving) */
  workload?: WorkloadName;
  seed: number;
  faults?: Partial<DeviceFaults>;
  steps: ScriptStep[];
}

export interface ScriptResult {
  /** one line per step: the call and what it returned */
  results: string[];
  /** set when a SET never returned: the arcs walked (the script stops there) */
  hang: string[] | null;
  finalState: string | null;
  timeline: Timeline;
}

const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Run a script on a fresh VF bound to `rev`. */
export function runScript(job: ScriptJob, rev: Revision): ScriptResult {
  const clock = new SimClock();
  const timeline = new Timeline(clock);
  const memory = new GuestMemory(job.seed);
  const dev = new QmVf({ config: job.device, memory, clock, timeline, side: 'src', rng: new Rng(job.seed) });
  const driver = rev.bind({ host: dev, config: job.device, timeline, side: 'src' });
  let vfio: VfioDevice = new SimVfioDevice(`script:${rev.id}`, driver, timeline, 'src');
  if (job.workload) {
    const vm = new Vm({ memory, device: dev, clock, timeline, rng: new Rng(job.seed ^ 0x9e) });
    const wl = createWorkload(job.workload, { requests: 6, inflight: 2, requestSize: 64, seed: job.seed, deviceType: job.device.type });
    wl.boot(vm);
    wl.runToStopPoint(vm);
  }
  if (job.faults) Object.assign(dev.faults, job.faults);
  const fds: DataFd[] = [];
  const results: string[] = [];
  const pick = (i: number | undefined): { fd: DataFd | undefined; name: string } => {
    const n = i ?? fds.length - 1;
    return { fd: fds[n], name: `fd#${n}` };
  };
  let hang: string[] | null = null;
  for (const s of job.steps) {
    try {
      results.push(runStep(s));
    } catch (e) {
      if (!(e instanceof HangError)) throw e;
      hang = e.arcs;
      results.push(`${describe(s)} -> hang`);
      break;
    }
  }
  const st = hang ? null : vfio.getState();
  return { results, hang, finalState: st && st.ok ? st.value : null, timeline };

  function runStep(s: ScriptStep): string {
    const head = describe(s);
    switch (s.op) {
      case 'set': {
        const r = vfio.setState(s.state);
        const at = vfio.getState();
        const now = at.ok ? at.value : at.errno;
        if (!r.ok) return `${head} -> ${r.errno} (state ${now})`;
        if (r.value.dataFd) fds.push(r.value.dataFd);
        return `${head} -> ok${r.value.dataFd ? ` fd#${fds.length - 1}` : ''} (state ${now})`;
      }
      case 'read': {
        const { fd, name } = pick(s.fd);
        if (!fd) return `${head} -> no such fd`;
        const r = fd.read(s.max);
        return `${head} ${name} -> ${r.ok ? `${r.value.length} ${hexOf(r.value)}` : r.errno}`;
      }
      case 'write': {
        const { fd, name } = pick(s.fd);
        if (!fd) return `${head} -> no such fd`;
        const r = fd.write(Buffer.from(s.hex, 'hex'));
        return `${head} ${name} -> ${r.ok ? String(r.value) : r.errno}`;
      }
      case 'info': {
        const { fd, name } = pick(s.fd);
        if (!fd) return `${head} -> no such fd`;
        const r = fd.precopyInfo();
        return `${head} ${name} -> ${r.ok ? `initial ${r.value.initialBytes} dirty ${r.value.dirtyBytes}` : r.errno}`;
      }
      case 'size': {
        const r = vfio.dataSize();
        return `${head} -> ${r.ok ? String(r.value) : r.errno}`;
      }
      case 'reset': {
        const r = vfio.reset();
        const at = vfio.getState();
        return `${head} -> ${r.ok ? 'ok' : r.errno} (state ${at.ok ? at.value : at.errno})`;
      }
      case 'close-fd': {
        const { fd, name } = pick(s.fd);
        if (!fd) return `${head} -> no such fd`;
        fd.close();
        return `${head} ${name} -> ok`;
      }
      case 'reopen': {
        vfio.close();
        vfio = new SimVfioDevice(`script:${rev.id}`, driver, timeline, 'src');
        const at = vfio.getState();
        return `${head} -> ok (state ${at.ok ? at.value : at.errno})`;
      }
    }
  }
}

function describe(s: ScriptStep): string {
  switch (s.op) {
    case 'set': return `set ${s.state}`;
    case 'read': return `read ${s.max}`;
    case 'write': return `write ${s.hex.length / 2}`;
    default: return s.op;
  }
}
