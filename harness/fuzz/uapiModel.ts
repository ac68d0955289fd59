// An independent model of the VFIO migration uAPI text (include/uapi/linux/vfio.h;
// docs/reference.md#vfio-migration-uapi),
// written from the prose, not from the core's next-step table: the fuzzer checks the simulated core
// and every revision against it. Path resolution is a breadth-first search over the arcs the text
// defines, with unsupported optional states behaving as their running counterparts (RUNNING_P2P as
// RUNNING, PRE_COPY_P2P as PRE_COPY), shortest path first and no saving-group state inside a path.
import { MIG_FLAG, type MigState } from '../vfio/types.ts';

/** The arcs the uAPI text lists ("The driver implements the following behavior for the FSM arcs"). */
const ARCS: ReadonlyArray<[MigState, MigState]> = [
  ['RUNNING_P2P', 'STOP'], ['STOP_COPY', 'STOP'], ['RESUMING', 'STOP'],
  ['PRE_COPY', 'RUNNING'], ['RUNNING_P2P', 'RUNNING'],
  ['PRE_COPY_P2P', 'RUNNING_P2P'], ['RUNNING', 'RUNNING_P2P'], ['STOP', 'RUNNING_P2P'],
  ['RUNNING', 'PRE_COPY'], ['RUNNING_P2P', 'PRE_COPY_P2P'], ['STOP', 'STOP_COPY'],
  ['PRE_COPY', 'PRE_COPY_P2P'], ['PRE_COPY_P2P', 'PRE_COPY'], ['PRE_COPY_P2P', 'STOP_COPY'],
  ['STOP', 'RESUMING'],
];

/** Arcs that "begin … and will return a new data_fd". */
const OPENING = new Set(['RUNNING>PRE_COPY', 'RUNNING_P2P>PRE_COPY_P2P', 'STOP>STOP_COPY', 'STOP>RESUMING']);
const SAVING: ReadonlySet<MigState> = new Set(['PRE_COPY', 'PRE_COPY_P2P', 'STOP_COPY']);

/** States a device with these VFIO_MIGRATION_* flags supports ("RUNNING and ERROR are always supported"). */
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

/** An unsupported optional state behaves as its running counterpart. */
function collapse(s: MigState, sup: Set<MigState>): MigState {
  if (sup.has(s)) return s;
  if (s === 'RUNNING_P2P') return 'RUNNING';
  if (s === 'PRE_COPY_P2P') return sup.has('PRE_COPY') ? 'PRE_COPY' : 'RUNNING';
  return s;
}

function arcsFor(flags: number): Map<MigState, MigState[]> {
  const sup = supportedStates(flags);
  const m = new Map<MigState, MigState[]>();
  for (const [a0, b0] of ARCS) {
    // arcs touching PRE_COPY states are removed when PRE_COPY is not supported
    if (!(flags & MIG_FLAG.PRE_COPY) && (a0.startsWith('PRE_COPY') || b0.startsWith('PRE_COPY'))) continue;
    const a = collapse(a0, sup), b = collapse(b0, sup);
    if (a === b || !sup.has(a) || !sup.has(b)) continue;
    const l = m.get(a) ?? [];
    if (!l.includes(b)) l.push(b);
    m.set(a, l);
  }
  return m;
}

export type ModelStep = { ok: true; path: MigState[]; opensFd: boolean } | { ok: false; errno: 'EINVAL' };

/** What SET(target) from `cur` must do: the arcs walked, or EINVAL. */
export function modelSet(cur: MigState, target: MigState, flags: number): ModelStep {
  const sup = supportedStates(flags);
  if (target === 'ERROR' || !sup.has(target) || !sup.has(cur) || cur === 'ERROR') return { ok: false, errno: 'EINVAL' };
  if (cur === target) return { ok: true, path: [cur], opensFd: false };
  // "STOP_COPY -> PRE_COPY(_P2P): these arcs are not permitted and return error if requested"
  if (cur === 'STOP_COPY' && target.startsWith('PRE_COPY')) return { ok: false, errno: 'EINVAL' };
  const arcs = arcsFor(flags);
  // BFS; a saving-group state may only start or end a path
  const prev = new Map<MigState, MigState>();
  const queue: MigState[] = [cur];
  const seen = new Set<MigState>([cur]);
  while (queue.length) {
    const s = queue.shift()!;
    if (s !== cur && SAVING.has(s)) continue;
    for (const n of arcs.get(s) ?? []) {
      if (seen.has(n)) continue;
      seen.add(n);
      prev.set(n, s);
      if (n === target) {
        const path: MigState[] = [n];
        for (let p = prev.get(n); p !== undefined; p = prev.get(p)) path.unshift(p);
        const last = `${path[path.length - 2]}>${target}`;
        return { ok: true, path, opensFd: OPENING.has(last) };
      }
      queue.push(n);
    }
  }
  return { ok: false, errno: 'EINVAL' };
}

export type FdKind = 'save' | 'resume';

/** One data fd as the model sees it. */
export interface ModelFd {
  id: number;
  kind: FdKind;
  /** the session is still the device's current one */
  live: boolean;
  /** STOP_COPY end of stream seen: read() must keep returning 0 */
  eof: boolean;
  /** bytes read (save) or written (resume) */
  bytes: number;
  /** after a tolerated divergence, a failed SET or a reopen the text no longer fixes this fd's behaviour */
  unknown: boolean;
}

/** Model state of one device and its fds. */
export interface UapiModel {
  flags: number;
  state: MigState;
  open: boolean;
  fds: ModelFd[];
  nextFdId: number;
  /** states a failed SET may leave the device in (the request's path), or null when known exactly */
  uncertain: MigState[] | null;
  /** a known finding left a SET that never returns: no later command can run */
  hung: boolean;
}

export function newModel(flags: number): UapiModel {
  return { flags, state: 'RUNNING', open: true, fds: [], nextFdId: 0, uncertain: null, hung: false };
}

/** The session that a state keeps alive: saving group keeps 'save', RESUMING keeps 'resume'. */
export function sessionKind(s: MigState): FdKind | null {
  return SAVING.has(s) ? 'save' : s === 'RESUMING' ? 'resume' : null;
}

/** After the device reaches `s`, sessions that state does not keep end. */
export function endSessions(m: UapiModel, s: MigState): void {
  const keep = sessionKind(s);
  for (const fd of m.fds) if (fd.live && fd.kind !== keep) fd.live = false;
}
