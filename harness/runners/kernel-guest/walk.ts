// The VFIO core's state walk on a real kernel against harness/vfio/fsm.ts: which (current, target)
// pairs to try, what the model predicts for each SET (the arcs the driver is asked to walk, the
// errno, the state it ends in, whether a data fd comes back), and where the kernel differs.
// Predictions assume every arc succeeds, which holds for mtty once a RESUMING device has a whole
// stream to load (the walk writes one).
import { HangError } from '../../vfio/driver.ts';
import { isSupported, walkArcs, type VfioCore } from '../../vfio/fsm.ts';
import { MIG_STATE_NAMES, type MigState } from '../../vfio/types.ts';
import type { SetObservation, WalkObservation } from './guestOps.ts';

export interface SetPrediction {
  errno: string | null;
  state: MigState;
  arcs: string[];
  dataFd: boolean;
  /** the core would never return (skip-loop on a blocked arc) */
  hang: string | null;
}

const SESSION_STATES = new Set<MigState>(['STOP_COPY', 'RESUMING', 'PRE_COPY', 'PRE_COPY_P2P']);

/**
 * Whether an arc opens a migration session (a new data fd): entering a saving or resuming state
 * from one without a session. PRE_COPY(_P2P) -> STOP_COPY goes on with the fd PRE_COPY opened.
 */
export const opensSession = (from: MigState, to: MigState): boolean => SESSION_STATES.has(to) && from !== 'PRE_COPY' && from !== 'PRE_COPY_P2P';

/** One SET from `cur` to `target` as the model's core walks it, every arc succeeding. */
export function predictSet(cur: MigState, target: MigState, flags: number, core: VfioCore): SetPrediction {
  let state = cur;
  const arcs: string[] = [];
  try {
    const r = walkArcs<true>({
      get: () => state, set: (s) => (state = s), flags, core, where: `${cur}->${target}`,
      arc: (from, to) => {
        arcs.push(`${from}->${to}`);
        return { ok: true, value: opensSession(from, to) ? true : null };
      },
    }, target);
    return { errno: r.ok ? null : r.errno, state, arcs, dataFd: r.ok && r.value !== null, hang: null };
  } catch (e) {
    if (!(e instanceof HangError)) throw e;
    return { errno: null, state, arcs, dataFd: false, hang: e.message };
  }
}

/** Every (current, target) pair: current states the device supports (ERROR is never reachable), any target. */
export function walkPairs(flags: number): [MigState, MigState][] {
  const cur = MIG_STATE_NAMES.filter((s) => s !== 'ERROR' && isSupported(s, flags));
  return cur.flatMap((c) => MIG_STATE_NAMES.map((t): [MigState, MigState] => [c, t]));
}

export interface WalkDifference {
  cur: MigState;
  target: MigState;
  /** reach: RUNNING -> cur; set: cur -> target */
  phase: 'reach' | 'set';
  field: 'errno' | 'state' | 'arcs' | 'dataFd' | 'hang' | 'unreached';
  predicted: unknown;
  observed: unknown;
}

function diffSet(cur: MigState, target: MigState, phase: WalkDifference['phase'], p: SetPrediction, o: SetObservation): WalkDifference[] {
  const d: WalkDifference[] = [];
  const add = (field: WalkDifference['field'], predicted: unknown, observed: unknown) => d.push({ cur, target, phase, field, predicted, observed });
  // a predicted hang would have held the kernel (a soft lockup): any answer at all is a difference
  if (p.hang) add('hang', p.hang, o.errno ?? `returned (${o.state})`);
  else {
    if (p.errno !== o.errno) add('errno', p.errno, o.errno);
    if (p.state !== o.state) add('state', p.state, o.state);
    if (p.dataFd !== o.dataFd) add('dataFd', p.dataFd, o.dataFd);
  }
  if (p.arcs.join(' ') !== o.arcs.join(' ')) add('arcs', p.arcs, o.arcs);
  return d;
}

/** Every difference between the kernel's walks and the model's (empty when they agree). */
export function compareWalk(obs: WalkObservation[], flags: number, core: VfioCore): WalkDifference[] {
  const out: WalkDifference[] = [];
  for (const o of obs) {
    const reach = predictSet('RUNNING', o.cur, flags, core);
    out.push(...diffSet(o.cur, o.target, 'reach', reach, o.reach));
    if (!o.set) {
      if (reach.errno === null && !reach.hang) out.push({ cur: o.cur, target: o.target, phase: 'set', field: 'unreached', predicted: o.cur, observed: o.reach.state });
      continue;
    }
    out.push(...diffSet(o.cur, o.target, 'set', predictSet(o.cur, o.target, flags, core), o.set));
  }
  return out;
}
