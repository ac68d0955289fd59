// The clauses' oracle: judges each step of a command sequence against the uAPI contract and names
// the clause a step violates. Directed checks (checks/*.ts), their shrinking and replay, and the
// fuzz `uapi` property all judge through it, so a violation means the same thing everywhere.
// It follows the device as the text says it must behave; where it no longer knows (after a reopen,
// or once a violation was tolerated) it stops judging the fds concerned rather than guess.
import { MIG_FLAG, type MigState } from '../vfio/types.ts';
import type { Cmd, WriteData } from './commands.ts';
import { PRE_COPY_STATES, isBlockedArc, sessionKind, supportedStates, textPath, type SessionKind } from './uapiText.ts';

/** One executed command and what the device answered. */
export interface Step {
  cmd: Cmd;
  /** 'ok', an errno name, or 'HANG' (the call never returns) */
  res: string;
  /** read: the bytes returned (hex); flags and size: the value; info: "initial/dirty" */
  out?: string;
  /** set: the label of the data fd it returned */
  opened?: number;
  /** set, reset, reopen: the state GET reported afterwards ('?' when GET failed) */
  state?: string;
  /** where the call hung and the arcs walked (res 'HANG') */
  hang?: { where: string; arcs: string[] };
}

export interface Violation {
  clause: string;
  detail: string;
  /** set when the violation is a call that never returns */
  hang?: { where: string; arcs: string[] };
}

/** Write errnos that say "no room", not "bad data": they do not count as a refusal of the data. */
export const CAPACITY_ERRNOS: ReadonlySet<string> = new Set(['ENOMEM', 'ENOSPC', 'EFBIG', 'EAGAIN', 'EINTR']);

interface FdState {
  kind: SessionKind;
  live: boolean;
  endedBy: 'leave' | 'reset' | null;
  /** no longer judged: after a reopen, a tolerated violation or an unexpected answer */
  unknown: boolean;
  /** the state the session was opened in */
  openedIn: MigState;
  // save sessions
  parts: string[];
  eof: boolean;
  /** a read in PRE_COPY returned the temporary end and nothing was read since */
  tempEnd: boolean;
  /** the last PRECOPY_INFO total (initial + dirty) with no read since, or null */
  infoLeft: bigint | null;
  lastInitial: bigint | null;
  expect?: { hex: string; clause: string; why: string };
  // resume sessions
  writes: { data: WriteData; of?: number; accepted: number }[];
  /** the first refusal of data by write(): errno, bytes and kind of data */
  refused: { errno: string; bytes: number; data: WriteData } | null;
}

export interface MonitorOptions {
  /** VFIO_MIGRATION_* flags (known from the sequence's first GET MIGRATION otherwise) */
  flags?: number;
}

export class Monitor {
  flags: number | null;
  private sup: Set<MigState> = new Set();
  /** the state the device reported last */
  now: MigState | null = null;
  private readonly fds = new Map<number, FdState>();
  /** a resume session of this sequence loaded successfully (later sessions must validate too) */
  private loadedBefore = false;
  /** MIG_DATA_SIZE answered (true), is absent (false), or not asked yet (null) */
  private dataSize: boolean | null = null;

  constructor(o: MonitorOptions = {}) {
    this.flags = o.flags ?? null;
    if (this.flags !== null) this.sup = supportedStates(this.flags);
  }

  /** Stop judging every fd (after a violation the caller tolerates: what they do next is unknown). */
  forgive(): void {
    for (const f of this.fds.values()) f.unknown = true;
  }

  observe(s: Step): Violation[] {
    const out: Violation[] = [];
    const v = (clause: string, detail: string, hang?: Step['hang']) => out.push(hang ? { clause, detail, hang } : { clause, detail });
    const c = s.cmd;
    switch (c.op) {
      case 'flags': {
        if (s.res !== 'ok') {
          v('flags-advertise-stop-copy', `GET MIGRATION failed with ${s.res}`);
          break;
        }
        const f = Number(s.out);
        this.flags = f;
        this.sup = supportedStates(f);
        if (!(f & MIG_FLAG.STOP_COPY)) v('flags-advertise-stop-copy', `migration flags 0x${f.toString(16)} lack VFIO_MIGRATION_STOP_COPY`);
        break;
      }
      case 'get': {
        if (s.res !== 'ok') v('no-spontaneous-transitions', `GET MIG_DEVICE_STATE failed with ${s.res}`);
        else if (this.now !== null && s.out !== this.now) v('no-spontaneous-transitions', `the state changed from ${this.now} to ${s.out} without a SET or a reset`);
        if (s.res === 'ok') this.now = s.out as MigState;
        break;
      }
      case 'set': this.onSet(s, c.target, v); break;
      case 'read': this.onRead(s, c.fd, v); break;
      case 'write': this.onWrite(s, c, v); break;
      case 'info': this.onInfo(s, c.fd, v); break;
      case 'size': {
        const ok = s.res === 'ok';
        if (this.dataSize === null) this.dataSize = ok || s.res !== 'ENOTTY' ? ok : false;
        if (this.dataSize && !ok) v('data-size-any-state', `GET MIG_DATA_SIZE failed with ${s.res} in ${this.now ?? '?'} (it answered before)`);
        else if (this.dataSize === false && ok) v('data-size-any-state', `GET MIG_DATA_SIZE answered in ${this.now ?? '?'} after ENOTTY before`);
        else if (!ok && s.res !== 'ENOTTY') v('data-size-any-state', `GET MIG_DATA_SIZE failed with ${s.res} in ${this.now ?? '?'}`);
        break;
      }
      case 'reset': {
        const was = this.now;
        const now = s.state as MigState | '?';
        const clause = was === 'ERROR' ? 'error-left-only-by-reset' : 'reset-returns-running';
        if (s.res !== 'ok') v(clause, `VFIO_DEVICE_RESET in ${was ?? '?'} failed with ${s.res}`);
        else if (now !== 'RUNNING') v(clause, `after VFIO_DEVICE_RESET in ${was ?? '?'} the state is ${now}, not RUNNING`);
        for (const f of this.fds.values()) if (f.live) Object.assign(f, { live: false, endedBy: 'reset' });
        this.now = now === '?' ? null : now;
        break;
      }
      case 'reopen': {
        // the text says nothing about what closing the device does to its sessions or state
        for (const f of this.fds.values()) f.unknown = true;
        this.now = s.state === '?' ? null : (s.state as MigState);
        break;
      }
    }
    return out;
  }

  private onSet(s: Step, target: MigState, v: (c: string, d: string, h?: Step['hang']) => void): void {
    const from = this.now;
    const flags = this.flags ?? MIG_FLAG.STOP_COPY;
    if (s.res === 'HANG') {
      const arcs = s.hang?.arcs.length ? ` after ${s.hang.arcs.join(', ')}` : '';
      if (from && isBlockedArc(from, target, flags)) v('blocked-arcs-refused', `SET ${target} from ${from} never returns${arcs} (it must fail)`, s.hang);
      v('set-returns', `SET ${target} from ${from ?? '?'} never returns${arcs}`, s.hang);
      return;
    }
    const now = s.state as MigState | '?';
    const ok = s.res === 'ok';
    if (from === null || now === '?') {
      if (now === '?') v('no-spontaneous-transitions', `GET MIG_DEVICE_STATE failed after SET ${target}`);
      this.now = now === '?' ? null : now;
      this.forgive();
      return;
    }
    const want = textPath(from, target, flags);
    const stayed = now === from;
    if (!want.ok) {
      const clause = want.why === 'error-state' ? 'error-not-requestable'
        : want.why === 'from-error' ? 'error-left-only-by-reset'
        : want.why === 'blocked-arc' ? 'blocked-arcs-refused'
        : want.why === 'unsupported' ? 'optional-states-need-flags' : 'set-failure-on-path';
      if (ok) v(clause, `SET ${target} from ${from} succeeded (the device reports ${now}); it must fail`);
      else if (!stayed) v(clause, `SET ${target} from ${from} failed with ${s.res} but moved the device to ${now}`);
    } else if (ok) {
      if (now !== target) v('set-reaches-target', `SET ${target} from ${from} succeeded but the device reports ${now}`);
      const gotFd = s.opened !== undefined;
      if (gotFd !== want.opensFd) {
        v('data-fd-on-opening-arcs', `SET ${target} from ${from} (${want.path.join('→')}) ${want.opensFd ? 'must return a new data_fd and returned none' : 'must not return a data_fd and returned one'}`);
      }
    } else if (!want.path.includes(now) && now !== 'ERROR') {
      v('set-failure-on-path', `SET ${target} from ${from} failed with ${s.res} leaving ${now}, which is neither on ${want.path.join('→')} nor ERROR`);
    }
    if (now !== 'ERROR' && !this.sup.has(now)) v('optional-states-need-flags', `the device reports ${now}, a state its flags 0x${flags.toString(16)} do not advertise`);
    // RESUMING→STOP: the first arc of every path out of RESUMING; it happened when the device left
    if (from === 'RESUMING' && target !== 'RESUMING' && want.ok) this.judgeLoad(now !== 'RESUMING' && now !== 'ERROR', v);
    // sessions the new state does not keep are over (the saving group keeps its one session)
    const keep = now === 'ERROR' ? null : sessionKind(now);
    for (const f of this.fds.values()) {
      if (!f.live) continue;
      if (now === 'ERROR') f.unknown = true;
      else if (f.kind !== keep) Object.assign(f, { live: false, endedBy: 'leave' });
    }
    if (s.opened !== undefined) {
      const kind = sessionKind(now);
      this.fds.set(s.opened, {
        kind: kind ?? 'save', live: kind !== null, endedBy: null, unknown: kind === null, openedIn: now as MigState,
        parts: [], eof: false, tempEnd: false, infoLeft: null, lastInitial: null, writes: [], refused: null,
      });
    }
    const c = s.cmd as Extract<Cmd, { op: 'set' }>;
    if (c.expect) for (const f of this.fds.values()) if (f.live && f.kind === 'save' && !f.unknown) f.expect = c.expect;
    this.now = now;
  }

  /** What RESUMING→STOP did with the data of the live resume session. */
  private judgeLoad(loaded: boolean, v: (c: string, d: string) => void): void {
    const f = [...this.fds.values()].find((x) => x.live && x.kind === 'resume');
    if (!f || f.unknown) return;
    const total = f.writes.reduce((n, w) => n + w.accepted, 0);
    const of = f.writes[0]?.of;
    const whole = f.writes.length > 0 && f.writes.every((w) => w.data === 'stream' && w.of === of) && total === of && f.refused === null;
    const chunked = f.writes.length > 1;
    if (whole) {
      if (!loaded) v(chunked ? 'resume-segmentation-free' : 'resume-stop-validates',
        `RESUMING→STOP failed on a whole ${of}-byte stream this device saved${chunked ? `, written in ${f.writes.length} pieces (${f.writes.map((w) => w.accepted).join('+')})` : ''}`);
      else this.loadedBefore = true;
      return;
    }
    if (!loaded) return;
    const kinds = [...new Set(f.writes.map((w) => w.data))];
    const what = f.writes.length === 0 ? 'no data at all' : `${total} bytes (${kinds.join(', ')}${kinds.includes('stream') || kinds.includes('prefix') ? `, of a ${of ?? '?'}-byte stream` : ''})`;
    if (this.loadedBefore) v('resume-session-validates-own-data', `RESUMING→STOP loaded ${what} in a second resume session; the first session's check is not repeated`);
    else if (f.refused) v('refused-write-never-loaded', `write() refused ${f.refused.bytes} bytes (${f.refused.data}) with ${f.refused.errno}, then RESUMING→STOP succeeded${f.writes.length ? ` (after ${total} more bytes were accepted)` : ''}`);
    else if (kinds.includes('foreign')) v('stream-refused-from-incompatible-device', `RESUMING→STOP loaded ${what} saved by a device of another identity`);
    else v('resume-stop-validates', `RESUMING→STOP succeeded with ${what}: ${f.writes.length === 0 ? 'incomplete' : kinds.includes('prefix') || (kinds.includes('stream') && total !== of) ? 'incomplete' : 'invalid'} data must fail it`);
  }

  private ended(f: FdState): string {
    return f.endedBy === 'reset' ? 'reset-returns-running' : 'session-ends-on-leave';
  }

  private onRead(s: Step, label: number, v: (c: string, d: string) => void): void {
    const f = this.fds.get(label);
    if (!f || f.unknown) return;
    const ok = s.res === 'ok';
    const n = ok ? (s.out ?? '').length / 2 : 0;
    if (f.kind === 'resume') {
      if (ok && n > 0) v('data-direction', `read() on a resume session's fd returned ${n} bytes`);
      return;
    }
    if (!f.live) {
      if (ok) v(this.ended(f), `read() on fd${label} returned ${n} bytes after its session ended (${f.endedBy === 'reset' ? 'by VFIO_DEVICE_RESET' : 'by leaving the state'}); it must fail`);
      return;
    }
    const st = this.now;
    if (st === 'STOP_COPY') {
      if (!ok) {
        v(f.openedIn === 'STOP_COPY' ? 'stop-copy-end-permanent' : 'saving-group-one-session',
          s.res === 'ENOMSG' ? 'read() returned ENOMSG in STOP_COPY' : `read() in STOP_COPY failed with ${s.res} on the live save session (opened in ${f.openedIn})`);
        f.unknown = true;
        return;
      }
      if (f.eof && n > 0) v('stop-copy-end-permanent', `read() returned ${n} more bytes after returning 0 in STOP_COPY`);
      if (n === 0 && !f.eof) {
        f.eof = true;
        const e = f.expect;
        const got = f.parts.join('');
        if (e && got !== e.hex) v(e.clause, `the stream read (${got.length / 2} B) differs from ${e.why} (${e.hex.length / 2} B) at byte ${firstDiff(got, e.hex)}`);
      }
      if (n > 0) f.parts.push(s.out!);
      return;
    }
    if (st && PRE_COPY_STATES.has(st)) {
      const end = (ok && n === 0) || s.res === 'ENOMSG';
      if (!ok && !end) {
        v('precopy-end-temporary', `read() in ${st} failed with ${s.res} on the live save session`);
        f.unknown = true;
        return;
      }
      if (end && f.infoLeft !== null && f.infoLeft > 0n) v('precopy-end-temporary', `read() hit the end of data in ${st} while PRECOPY_INFO just reported ${f.infoLeft} bytes left`);
      f.tempEnd = end;
      if (n > 0) {
        f.parts.push(s.out!);
        f.infoLeft = null;
      }
    }
  }

  private onWrite(s: Step, c: Extract<Cmd, { op: 'write' }>, v: (c: string, d: string) => void): void {
    const f = this.fds.get(c.fd);
    if (!f || f.unknown) return;
    const ok = s.res === 'ok';
    const n = ok ? Number(s.out ?? 0) : 0;
    if (f.kind === 'save') {
      if (ok && n > 0) v('data-direction', `write() on a save session's fd accepted ${n} bytes`);
      return;
    }
    if (!f.live) {
      if (ok) v(this.ended(f), `write() on fd${c.fd} accepted ${n} bytes after its session ended (${f.endedBy === 'reset' ? 'by VFIO_DEVICE_RESET' : 'by leaving the state'}); it must fail`);
      return;
    }
    if (ok) {
      f.writes.push({ data: c.data, of: c.of, accepted: n });
      return;
    }
    if (CAPACITY_ERRNOS.has(s.res)) return;
    f.refused ??= { errno: s.res, bytes: c.hex.length / 2, data: c.data };
    if (c.data === 'stream') {
      const chunked = f.writes.length > 0 || c.hex.length / 2 !== c.of;
      v(chunked ? 'resume-segmentation-free' : 'resume-stop-validates', `write() refused ${chunked ? 'a piece of ' : ''}a stream this device saved (${s.res})`);
    }
  }

  private onInfo(s: Step, label: number, v: (c: string, d: string) => void): void {
    const f = this.fds.get(label);
    if (!f || f.unknown || f.kind !== 'save' || this.flags === null || !(this.flags & MIG_FLAG.PRE_COPY)) return;
    const st = this.now;
    const inPre = st !== null && PRE_COPY_STATES.has(st);
    if (!f.live) return; // an ended session: its own clause judges reads and writes
    if (!inPre) {
      if (s.res !== 'EINVAL') v('precopy-info-only-in-precopy', `PRECOPY_INFO in ${st ?? '?'} ${s.res === 'ok' ? 'succeeded' : `failed with ${s.res}`}; it must fail with EINVAL`);
      return;
    }
    if (s.res !== 'ok') {
      v('precopy-info-mandatory', `PRECOPY_INFO in ${st} on the live save session failed with ${s.res}`);
      return;
    }
    const [initial, dirty] = (s.out ?? '0/0').split('/').map((x) => BigInt(x));
    if (f.lastInitial !== null && initial > f.lastInitial) v('precopy-end-temporary', `initial_bytes grew from ${f.lastInitial} to ${initial}; it only shrinks as data is read`);
    f.lastInitial = initial;
    f.infoLeft = initial + dirty;
  }
}

function firstDiff(a: string, b: string): number {
  const n = Math.min(a.length, b.length) / 2;
  for (let i = 0; i < n; i++) if (a.slice(2 * i, 2 * i + 2) !== b.slice(2 * i, 2 * i + 2)) return i;
  return n;
}
