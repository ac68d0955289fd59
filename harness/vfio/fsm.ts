// The VFIO core's migration state machine (docs/reference.md#the-cores-next-step-table): the next-step table,
// the flags each state needs, the one-step algorithm (vfio_mig_get_next_state) and the multi-step path a SET
// resolves to. Pure data and functions: the simulated core and every revision model share them.
import { fail, ok, type IoResult } from '../util/errno.ts';
import { MIG_FLAG, type MigState } from './types.ts';
import { HangError } from './driver.ts';

const { STOP_COPY, P2P, PRE_COPY } = MIG_FLAG;

/** Flags a state needs to be "supported" (docs/reference.md#migration-flags). ERROR needs every bit, so it is never supported. */
export const STATE_FLAGS: Record<MigState, number> = {
  ERROR: 0xffffffff,
  STOP: STOP_COPY,
  RUNNING: STOP_COPY,
  STOP_COPY: STOP_COPY,
  RESUMING: STOP_COPY,
  RUNNING_P2P: STOP_COPY | P2P,
  PRE_COPY: STOP_COPY | PRE_COPY,
  PRE_COPY_P2P: STOP_COPY | P2P | PRE_COPY,
};

type Row = Record<MigState, MigState>;
const row = (S: MigState, R: MigState, SC: MigState, RES: MigState, RP: MigState, PC: MigState, PCP: MigState): Row => ({
  STOP: S, RUNNING: R, STOP_COPY: SC, RESUMING: RES, RUNNING_P2P: RP, PRE_COPY: PC, PRE_COPY_P2P: PCP, ERROR: 'ERROR',
});

/** table[cur][target] = next state the core moves to (docs/reference.md#the-cores-next-step-table, v6.2+; the 6.1 table is its subset). */
export const NEXT_STEP: Record<MigState, Row> = {
  STOP: row('STOP', 'RUNNING_P2P', 'STOP_COPY', 'RESUMING', 'RUNNING_P2P', 'RUNNING_P2P', 'RUNNING_P2P'),
  RUNNING: row('RUNNING_P2P', 'RUNNING', 'RUNNING_P2P', 'RUNNING_P2P', 'RUNNING_P2P', 'PRE_COPY', 'RUNNING_P2P'),
  STOP_COPY: row('STOP', 'STOP', 'STOP_COPY', 'STOP', 'STOP', 'ERROR', 'ERROR'),
  RESUMING: row('STOP', 'STOP', 'STOP', 'RESUMING', 'STOP', 'STOP', 'STOP'),
  RUNNING_P2P: row('STOP', 'RUNNING', 'STOP', 'STOP', 'RUNNING_P2P', 'RUNNING', 'PRE_COPY_P2P'),
  PRE_COPY: row('RUNNING', 'RUNNING', 'PRE_COPY_P2P', 'RUNNING', 'RUNNING', 'PRE_COPY', 'PRE_COPY_P2P'),
  PRE_COPY_P2P: row('RUNNING_P2P', 'RUNNING_P2P', 'STOP_COPY', 'RUNNING_P2P', 'RUNNING_P2P', 'PRE_COPY', 'PRE_COPY_P2P'),
  ERROR: row('ERROR', 'ERROR', 'ERROR', 'ERROR', 'ERROR', 'ERROR', 'ERROR'),
};

export const isSupported = (state: MigState, flags: number): boolean =>
  (STATE_FLAGS[state] & flags) === STATE_FLAGS[state];

/**
 * Which VFIO core a kernel runs (docs/reference.md#the-cores-skip-loop-per-kernel,
 * docs/uapi.md#the-cores-state-walk-per-kernel). They differ in
 * the states their table knows and in the loop that skips unsupported states:
 * - `no-precopy` (up to v6.1, Debian 6.1): six states, no PRE_COPY/PRE_COPY_P2P (requesting them is
 *   EINVAL); its skip loop never meets ERROR for a valid request.
 * - `skip-loop` (commit 4db52602a607 (v6.2), until the fix): eight states; the skip loop has no exit
 *   at ERROR, whose flags are all ones, so the blocked arcs STOP_COPY→PRE_COPY(_P2P) spin forever on
 *   a PRE_COPY device, holding the device's state mutex (a soft lockup).
 * - `fixed-loop`: the loop stops at ERROR and the request fails with EINVAL ("vfio: prevent infinite
 *   loop in vfio_mig_get_next_state() on blocked arc", applied for v7.2; Debian 6.12.96;
 *   lore SYBPR01MB7881290BBDE79B61AE6A017FAF122@SYBPR01MB7881.ausprd01.prod.outlook.com).
 */
export type VfioCore = 'no-precopy' | 'skip-loop' | 'fixed-loop';
export const VFIO_CORES: readonly VfioCore[] = ['no-precopy', 'skip-loop', 'fixed-loop'];
/** The core models assume when nothing names one. */
export const DEFAULT_CORE: VfioCore = 'fixed-loop';

const SIX_STATES = new Set<MigState>(['ERROR', 'STOP', 'RUNNING', 'STOP_COPY', 'RESUMING', 'RUNNING_P2P']);

/**
 * One step (vfio_mig_get_next_state): EINVAL when cur or target is unknown to the core or
 * unsupported, or when the step resolves to ERROR; otherwise the single arc cur→next the driver is
 * asked to perform. Where the core's skip loop would never end, a HangError: the kernel's loop is
 * deterministic, so a state seen twice means it spins forever (no bound of ours decides this).
 */
export function nextStep(cur: MigState, target: MigState, flags: number, core: VfioCore = DEFAULT_CORE): IoResult<MigState> {
  if (core === 'no-precopy' && (!SIX_STATES.has(cur) || !SIX_STATES.has(target))) return fail('EINVAL');
  if (!isSupported(cur, flags) || !isSupported(target, flags)) return fail('EINVAL');
  let next = NEXT_STEP[cur][target];
  const seen = new Set<MigState>();
  while (!isSupported(next, flags)) {
    if (core === 'fixed-loop' && next === 'ERROR') break;
    if (seen.has(next)) {
      throw new HangError(`vfio_mig_get_next_state (${core}): the skip loop cycles at ${next} for ${cur}->${target}`, []);
    }
    seen.add(next);
    next = NEXT_STEP[next][target];
  }
  return next === 'ERROR' ? fail('EINVAL') : ok(next);
}

/**
 * Bound on the arcs of one SET request: the longest real path has 3 arcs. A walk past it is a
 * driver whose state does not follow its arcs, reported as a hang (HangError), never an errno.
 */
export const WALK_BOUND = 8;

/**
 * The arcs a SET request resolves to, without performing them (cur first, target last): what a
 * kernel with this core does when every arc succeeds. A HangError where the core would spin.
 */
export function resolvePath(cur: MigState, target: MigState, flags: number, core: VfioCore = DEFAULT_CORE): IoResult<MigState[]> {
  const path: MigState[] = [cur];
  let s = cur;
  while (s !== target) {
    if (path.length > WALK_BOUND) throw new HangError(`resolvePath ${cur}->${target}`, path.slice(1).map((x, i) => `${path[i]}->${x}`));
    const n = nextStep(s, target, flags, core);
    if (!n.ok) return n;
    s = n.value;
    path.push(s);
  }
  return ok(path);
}

export interface ArcWalker<F> {
  /** the driver's current state (re-read after every arc) */
  get(): MigState;
  /** record the state the arc reached */
  set(s: MigState): void;
  flags: number;
  /** the kernel's VFIO core the walk asks for each step (default fixed-loop) */
  core?: VfioCore;
  /** perform one arc; a value is a data fd opened by that arc */
  arc(from: MigState, to: MigState): IoResult<F | null>;
  /** called after each arc with its result (timeline) */
  onArc?(from: MigState, to: MigState, errno: string | undefined): void;
  /** name for the hang report */
  where: string;
}

/**
 * The driver-side loop of a SET request (hisi's set_device_state): one core step at a time until
 * the target. A failed arc leaves the state where it started. More than WALK_BOUND arcs is a hang
 * (HangError), e.g. an implementation whose state does not move; a HangError thrown inside an arc
 * (a bounded driver loop) comes out carrying the arcs walked so far, that arc last.
 */
export function walkArcs<F>(w: ArcWalker<F>, target: MigState): IoResult<F | null> {
  let res: F | null = null;
  const arcs: string[] = [];
  while (w.get() !== target) {
    if (arcs.length >= WALK_BOUND) throw new HangError(w.where, arcs);
    const from = w.get();
    let n: IoResult<MigState>;
    try {
      n = nextStep(from, target, w.flags, w.core);
    } catch (e) {
      // the core itself never returns: the SET hangs before asking the driver for this arc
      if (!(e instanceof HangError)) throw e;
      throw new HangError(e.where, arcs);
    }
    if (!n.ok) return n;
    let r: IoResult<F | null>;
    try {
      r = w.arc(from, n.value);
    } catch (e) {
      // a loop inside the arc exceeded its bound: report the walk that led there, this arc last
      if (!(e instanceof HangError)) throw e;
      w.onArc?.(from, n.value, 'HANG');
      throw new HangError(e.where, [...arcs, ...e.arcs, `${from}->${n.value}`]);
    }
    arcs.push(`${from}->${n.value}`);
    w.onArc?.(from, n.value, r.ok ? undefined : r.errno);
    if (!r.ok) return r;
    w.set(n.value);
    if (r.value !== null) {
      if (w.get() !== target) return fail('EINVAL'); // WARN_ON: a session opened mid-path
      res = r.value;
    }
  }
  return ok(res);
}
