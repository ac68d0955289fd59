// The migration state machine as the uAPI text (linux/vfio.h) states it, written from the prose and
// not from the core's next-step table (harness/vfio/fsm.ts), so the clauses judge the core too.
// Paths: the arcs the text lists, shortest first, no saving-group state inside a path (but for moves
// within the group a path starts with, which keep its session); optional
// states the device does not advertise behave as their running counterparts; arcs touching the
// PRE_COPY states are gone when PRE_COPY is not advertised; STOP_COPY→PRE_COPY(_P2P) is refused.
import { MIG_FLAG, type MigState } from '../vfio/types.ts';

/** The arcs the text lists, each with the behaviour the driver implements for it. */
const ARCS: ReadonlyArray<[MigState, MigState]> = [
  ['RUNNING_P2P', 'STOP'], ['STOP_COPY', 'STOP'], ['RESUMING', 'STOP'],
  ['PRE_COPY', 'RUNNING'], ['RUNNING_P2P', 'RUNNING'],
  ['PRE_COPY_P2P', 'RUNNING_P2P'], ['RUNNING', 'RUNNING_P2P'], ['STOP', 'RUNNING_P2P'],
  ['RUNNING', 'PRE_COPY'], ['RUNNING_P2P', 'PRE_COPY_P2P'], ['STOP', 'STOP_COPY'],
  ['PRE_COPY', 'PRE_COPY_P2P'], ['PRE_COPY_P2P', 'PRE_COPY'], ['PRE_COPY_P2P', 'STOP_COPY'],
  ['STOP', 'RESUMING'],
];

/** Arcs that begin a data transfer session and return a new data_fd. */
const OPENING = new Set(['RUNNING>PRE_COPY', 'RUNNING_P2P>PRE_COPY_P2P', 'STOP>STOP_COPY', 'STOP>RESUMING']);
/** The saving group: these states share one data transfer session. */
export const SAVING: ReadonlySet<MigState> = new Set(['PRE_COPY', 'PRE_COPY_P2P', 'STOP_COPY']);
export const PRE_COPY_STATES: ReadonlySet<MigState> = new Set(['PRE_COPY', 'PRE_COPY_P2P']);

/** States a device with these VFIO_MIGRATION_* flags supports (RUNNING and ERROR always). */
export function supportedStates(flags: number): Set<MigState> {
  const s = new Set<MigState>(['RUNNING', 'ERROR']);
  if (!(flags & MIG_FLAG.STOP_COPY)) return s;
  for (const x of ['STOP', 'STOP_COPY', 'RESUMING'] as MigState[]) s.add(x);
  const p2p = (flags & MIG_FLAG.P2P) !== 0;
  const pre = (flags & MIG_FLAG.PRE_COPY) !== 0;
  if (p2p) s.add('RUNNING_P2P');
  if (pre) s.add('PRE_COPY');
  if (p2p && pre) s.add('PRE_COPY_P2P');
  return s;
}

/** States a SET may name on this device (every supported state but ERROR). */
export const requestableStates = (flags: number): MigState[] => [...supportedStates(flags)].filter((s) => s !== 'ERROR');

/** An unsupported optional state behaves as its running counterpart. */
function collapse(s: MigState, sup: Set<MigState>): MigState {
  if (sup.has(s)) return s;
  if (s === 'RUNNING_P2P') return 'RUNNING';
  if (s === 'PRE_COPY_P2P') return sup.has('PRE_COPY') ? 'PRE_COPY' : 'RUNNING';
  return s;
}

const arcCache = new Map<number, Map<MigState, MigState[]>>();
function arcsFor(flags: number): Map<MigState, MigState[]> {
  let m = arcCache.get(flags);
  if (m) return m;
  const sup = supportedStates(flags);
  m = new Map<MigState, MigState[]>();
  for (const [a0, b0] of ARCS) {
    if (!(flags & MIG_FLAG.PRE_COPY) && (PRE_COPY_STATES.has(a0) || PRE_COPY_STATES.has(b0))) continue;
    const a = collapse(a0, sup), b = collapse(b0, sup);
    if (a === b || !sup.has(a) || !sup.has(b)) continue;
    const l = m.get(a) ?? [];
    if (!l.includes(b)) l.push(b);
    m.set(a, l);
  }
  arcCache.set(flags, m);
  return m;
}

/** What a SET must do per the text: the states it walks (cur first), whether it opens a session; or a refusal. */
export type TextStep = { ok: true; path: MigState[]; opensFd: boolean } | { ok: false; why: 'error-state' | 'unsupported' | 'from-error' | 'blocked-arc' | 'no-path' };

const pathCache = new Map<string, TextStep>();

export function textPath(cur: MigState, target: MigState, flags: number): TextStep {
  const key = `${cur}>${target}>${flags}`;
  let r = pathCache.get(key);
  if (!r) pathCache.set(key, (r = resolve(cur, target, flags)));
  return r;
}

function resolve(cur: MigState, target: MigState, flags: number): TextStep {
  const sup = supportedStates(flags);
  if (target === 'ERROR') return { ok: false, why: 'error-state' };
  if (!sup.has(target)) return { ok: false, why: 'unsupported' };
  if (cur === 'ERROR') return { ok: false, why: 'from-error' };
  if (!sup.has(cur)) return { ok: false, why: 'unsupported' };
  if (cur === target) return { ok: true, path: [cur], opensFd: false };
  if (isBlockedArc(cur, target, flags)) return { ok: false, why: 'blocked-arc' };
  const arcs = arcsFor(flags);
  const prev = new Map<MigState, MigState>();
  const queue: MigState[] = [cur];
  const seen = new Set<MigState>([cur]);
  // states reached from a saving-group start without leaving the group: moving inside the group
  // keeps its one session, so those may lead on (PRE_COPY→PRE_COPY_P2P→STOP_COPY)
  const inGroup = new Set<MigState>(SAVING.has(cur) ? [cur] : []);
  while (queue.length) {
    const s = queue.shift()!;
    if (s !== cur && SAVING.has(s) && !inGroup.has(s)) continue; // otherwise a saving-group state only ends a path
    for (const n of arcs.get(s) ?? []) {
      if (seen.has(n)) continue;
      seen.add(n);
      prev.set(n, s);
      if (inGroup.has(s) && SAVING.has(n)) inGroup.add(n);
      if (n === target) {
        const path: MigState[] = [n];
        for (let p = prev.get(n); p !== undefined; p = prev.get(p)) path.unshift(p);
        return { ok: true, path, opensFd: OPENING.has(`${path[path.length - 2]}>${target}`) };
      }
      queue.push(n);
    }
  }
  return { ok: false, why: 'no-path' };
}

/** STOP_COPY → PRE_COPY(_P2P) on a PRE_COPY device: not permitted, must return an error. */
export const isBlockedArc = (cur: MigState, target: MigState, flags: number): boolean =>
  cur === 'STOP_COPY' && PRE_COPY_STATES.has(target) && (flags & MIG_FLAG.PRE_COPY) !== 0;

export type SessionKind = 'save' | 'resume';

/** The session a state keeps alive: the saving group keeps 'save', RESUMING keeps 'resume'. */
export function sessionKind(s: MigState): SessionKind | null {
  return SAVING.has(s) ? 'save' : s === 'RESUMING' ? 'resume' : null;
}
