// Property 4: model-based uAPI sequences (fc.commands). Each command runs one uAPI call on the
// simulated device and checks it against the model of the uAPI text (uapiModel.ts): legal states
// only, data-fd lifetimes, the errnos the text fixes, and no step that never ends (the models bound
// every loop and throw HangError instead). A violation that the findings registry knows for this
// revision is counted and the model adopts the device's behaviour, so the run goes on to look for
// new ones; any other violation throws and fast-check shrinks the sequence.
import fc from 'fast-check';
import { MIG_FLAG, MIG_STATE_NAMES, type DataFd, type MigState, type VfioDevice } from '../vfio/types.ts';
import { endSessions, modelSet, newModel, sessionKind, type ModelFd, type UapiModel } from './uapiModel.ts';

export class UapiViolation extends Error {
  override name = 'UapiViolation';
  constructor(readonly kind: string, readonly detail: string) {
    super(`${kind}: ${detail}`);
  }
}

/** What the commands drive: one device of one revision, reopenable. */
export interface UapiReal {
  revision: string;
  dev: VfioDevice;
  /** close the device fd and open it again (driver close_device / open_device) */
  reopen(): VfioDevice;
  fds: Map<number, DataFd>;
  /** a violation: true when the registry knows it for this revision (counted, the run goes on) */
  onKnown(kind: string, detail: string): boolean;
}

function violate(r: UapiReal, kind: string, detail: string, resync: () => void): void {
  if (r.onKnown(kind, detail)) resync();
  else throw new UapiViolation(kind, detail);
}

function callGuard<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if ((e as Error).name === 'HangError') throw new UapiViolation('step-never-ends', `${what}: ${(e as Error).message}`);
    throw new UapiViolation('exception', `${what} threw ${(e as Error).name}: ${(e as Error).message}`);
  }
}

/** Re-reads the device's state into the model after a tolerated divergence; fds are no longer checked. */
function adopt(m: UapiModel, r: UapiReal): void {
  const s = r.dev.getState();
  if (s.ok) m.state = s.value;
  for (const fd of m.fds) fd.unknown = true;
}

class SetStateCmd implements fc.Command<UapiModel, UapiReal> {
  constructor(readonly target: MigState) {}
  check(m: UapiModel): boolean {
    return !m.hung;
  }
  run(m: UapiModel, r: UapiReal): void {
    const want = modelSet(m.state, this.target, m.flags);
    const from = m.state;
    let res: ReturnType<VfioDevice['setState']>;
    try {
      res = r.dev.setState(this.target);
    } catch (e) {
      // a SET that never returns: when the registry knows it for this revision, the device is gone
      // for the rest of the sequence (the kernel holds its state mutex forever), so stop there
      const detail = `SET ${this.target} from ${from}: ${(e as Error).message}`;
      if ((e as Error).name === 'HangError' && r.onKnown('step-never-ends', detail)) {
        m.hung = true;
        return;
      }
      return callGuard(`SET ${this.target}`, () => { throw e; });
    }
    const st = callGuard('GET state', () => r.dev.getState());
    const now = st.ok ? st.value : ('?' as MigState);
    if (!want.ok) {
      if (res.ok) return violate(r, 'illegal-set-accepted', `${from}->${this.target} must fail EINVAL, device went to ${now}`, () => adopt(m, r));
      if (res.errno !== 'EINVAL') return violate(r, 'set-errno', `${from}->${this.target}: EINVAL expected, got ${res.errno}`, () => adopt(m, r));
      if (now !== from) return violate(r, 'state-moved-on-einval', `${from}->${this.target} failed EINVAL but state is ${now}`, () => adopt(m, r));
      return;
    }
    if (!res.ok) {
      // a driver may fail an arc (e.g. a refused stream at RESUMING->STOP): the state must be on the path or ERROR
      if (!want.path.includes(now) && now !== 'ERROR') {
        return violate(r, 'state-off-path', `${from}->${this.target} failed ${res.errno}, state ${now} not on ${want.path.join('>')}`, () => adopt(m, r));
      }
      m.state = now;
      endSessions(m, now);
      for (const fd of m.fds) if (fd.live) fd.unknown = true;
      return;
    }
    if (now !== this.target) return violate(r, 'set-wrong-state', `${from}->${this.target} succeeded but state is ${now}`, () => adopt(m, r));
    const gotFd = res.value.dataFd !== null;
    if (gotFd !== want.opensFd) {
      return violate(r, 'data-fd-presence', `${from}->${this.target} (${want.path.join('>')}) ${want.opensFd ? 'must' : 'must not'} return a data fd`, () => {
        adopt(m, r);
        if (res.value.dataFd) res.value.dataFd.close();
      });
    }
    m.state = now;
    endSessions(m, now);
    if (res.value.dataFd) {
      const id = m.nextFdId++;
      m.fds.push({ id, kind: sessionKind(now)!, live: true, eof: false, bytes: 0, unknown: false });
      r.fds.set(id, res.value.dataFd);
    }
  }
  toString(): string {
    return `set(${this.target})`;
  }
}

/** Picks the n-th known fd (modulo), so a sequence stays meaningful while shrinking. */
const pickFd = (m: UapiModel, n: number): ModelFd | undefined => (m.fds.length ? m.fds[n % m.fds.length] : undefined);

class ReadCmd implements fc.Command<UapiModel, UapiReal> {
  constructor(readonly fdPick: number, readonly max: number) {}
  check(m: UapiModel): boolean {
    return !m.hung && m.fds.length > 0;
  }
  run(m: UapiModel, r: UapiReal): void {
    const fd = pickFd(m, this.fdPick)!;
    const res = callGuard('read', () => r.fds.get(fd.id)!.read(this.max));
    if (fd.unknown) return;
    if (!fd.live) {
      if (res.ok && res.value.length > 0) violate(r, 'read-after-session-end', `fd#${fd.id} (${fd.kind}) returned ${res.value.length} bytes after its session ended`, () => adopt(m, r));
      return;
    }
    if (fd.kind === 'resume') {
      if (res.ok) violate(r, 'read-on-resume-fd', `fd#${fd.id} is write-only but read() returned ${res.value.length} bytes`, () => adopt(m, r));
      return;
    }
    if (!res.ok) {
      // PRE_COPY's temporary end may be ENOMSG; STOP_COPY may not return it (uAPI text)
      if (res.errno === 'ENOMSG' && m.state !== 'STOP_COPY') return;
      return violate(r, 'read-errno', `read on live save fd#${fd.id} in ${m.state} failed ${res.errno}`, () => adopt(m, r));
    }
    if (res.value.length > this.max) return violate(r, 'read-overrun', `read(${this.max}) returned ${res.value.length} bytes`, () => adopt(m, r));
    if (m.state === 'STOP_COPY') {
      if (fd.eof && res.value.length > 0) return violate(r, 'data-after-eof', `STOP_COPY end of stream is permanent, got ${res.value.length} more bytes`, () => adopt(m, r));
      if (res.value.length === 0) fd.eof = true;
    }
    fd.bytes += res.value.length;
  }
  toString(): string {
    return `read(fd${this.fdPick},${this.max})`;
  }
}

class WriteCmd implements fc.Command<UapiModel, UapiReal> {
  constructor(readonly fdPick: number, readonly bytes: Uint8Array) {}
  check(m: UapiModel): boolean {
    return !m.hung && m.fds.length > 0;
  }
  run(m: UapiModel, r: UapiReal): void {
    const fd = pickFd(m, this.fdPick)!;
    const res = callGuard('write', () => r.fds.get(fd.id)!.write(this.bytes));
    if (fd.unknown) return;
    if (!fd.live) {
      if (res.ok && res.value > 0) violate(r, 'write-after-session-end', `fd#${fd.id} (${fd.kind}) accepted ${res.value} bytes after its session ended`, () => adopt(m, r));
      return;
    }
    if (fd.kind === 'save') {
      if (res.ok) violate(r, 'write-on-save-fd', `fd#${fd.id} is read-only but write() accepted ${res.value} bytes`, () => adopt(m, r));
      return;
    }
    // the driver may refuse data (a failed match check, beyond the struct): no errno is fixed by the text
    if (res.ok && res.value > this.bytes.length) violate(r, 'write-overrun', `write(${this.bytes.length}) reported ${res.value}`, () => adopt(m, r));
    if (res.ok) fd.bytes += res.value;
  }
  toString(): string {
    return `write(fd${this.fdPick},${Buffer.from(this.bytes).toString('hex') || '""'})`;
  }
}

class PrecopyInfoCmd implements fc.Command<UapiModel, UapiReal> {
  constructor(readonly fdPick: number) {}
  check(m: UapiModel): boolean {
    return !m.hung && m.fds.length > 0;
  }
  run(m: UapiModel, r: UapiReal): void {
    const fd = pickFd(m, this.fdPick)!;
    const res = callGuard('PRECOPY_INFO', () => r.fds.get(fd.id)!.precopyInfo());
    if (fd.unknown || !(m.flags & MIG_FLAG.PRE_COPY)) return;
    const inPre = m.state === 'PRE_COPY' || m.state === 'PRE_COPY_P2P';
    if (!fd.live || fd.kind === 'resume') {
      if (res.ok) violate(r, 'precopy-info-on-dead-fd', `fd#${fd.id} (${fd.kind}, ${fd.live ? 'live' : 'ended'}) answered PRECOPY_INFO`, () => adopt(m, r));
      return;
    }
    if (!inPre) {
      if (res.ok || res.errno !== 'EINVAL') {
        violate(r, 'precopy-info-errno', `PRECOPY_INFO in ${m.state} must fail EINVAL, got ${res.ok ? 'success' : res.errno}`, () => adopt(m, r));
      }
      return;
    }
    if (!res.ok) violate(r, 'precopy-info-errno', `PRECOPY_INFO in ${m.state} on the live save fd failed ${res.errno} (mandatory with PRE_COPY)`, () => adopt(m, r));
  }
  toString(): string {
    return `precopyInfo(fd${this.fdPick})`;
  }
}

class ResetCmd implements fc.Command<UapiModel, UapiReal> {
  check(m: UapiModel): boolean {
    return !m.hung;
  }
  run(m: UapiModel, r: UapiReal): void {
    const from = m.state;
    const res = callGuard('RESET', () => r.dev.reset());
    const st = callGuard('GET state', () => r.dev.getState());
    if (!res.ok) return violate(r, 'reset-failed', `VFIO_DEVICE_RESET in ${from} failed ${res.errno}`, () => adopt(m, r));
    // "VFIO_DEVICE_RESET must be used to return the device_state back to RUNNING"; sessions end with it
    if (!st.ok || st.value !== 'RUNNING') {
      return violate(r, 'reset-keeps-state', `after VFIO_DEVICE_RESET in ${from} the state is ${st.ok ? st.value : st.errno}, not RUNNING`, () => adopt(m, r));
    }
    m.state = 'RUNNING';
    endSessions(m, 'RUNNING');
  }
  toString(): string {
    return 'reset()';
  }
}

class ReopenCmd implements fc.Command<UapiModel, UapiReal> {
  check(m: UapiModel): boolean {
    return !m.hung;
  }
  run(m: UapiModel, r: UapiReal): void {
    const from = m.state;
    r.dev = callGuard('close+open', () => r.reopen());
    const st = callGuard('GET state', () => r.dev.getState());
    // a fresh open starts in RUNNING; old fds: the text says nothing, so they are no longer checked
    for (const fd of m.fds) fd.unknown = true;
    if (!st.ok || st.value !== 'RUNNING') {
      return violate(r, 'open-not-running', `after close and reopen (was ${from}) the state is ${st.ok ? st.value : st.errno}`, () => adopt(m, r));
    }
    m.state = 'RUNNING';
  }
  toString(): string {
    return 'reopen()';
  }
}

class GetStateCmd implements fc.Command<UapiModel, UapiReal> {
  check(m: UapiModel): boolean {
    return !m.hung;
  }
  run(m: UapiModel, r: UapiReal): void {
    const st = callGuard('GET state', () => r.dev.getState());
    if (!st.ok) return violate(r, 'get-state-failed', `GET MIG_DEVICE_STATE failed ${st.errno}`, () => adopt(m, r));
    if (st.value !== m.state) violate(r, 'state-drift', `state is ${st.value}, model says ${m.state} (no request in between)`, () => adopt(m, r));
  }
  toString(): string {
    return 'getState()';
  }
}

const states = fc.constantFrom(...MIG_STATE_NAMES);

/** The command arbitraries; write payloads are small so a 176-byte struct needs several writes. */
export function uapiCommandArbs(): fc.Arbitrary<fc.Command<UapiModel, UapiReal>>[] {
  return [
    states.map((s) => new SetStateCmd(s)),
    fc.tuple(fc.nat(7), fc.constantFrom(1, 8, 40, 136, 176, 4096)).map(([f, n]) => new ReadCmd(f, n)),
    fc.tuple(fc.nat(7), fc.uint8Array({ maxLength: 48 })).map(([f, b]) => new WriteCmd(f, b)),
    fc.nat(7).map((f) => new PrecopyInfoCmd(f)),
    fc.constant(new ResetCmd()),
    fc.constant(new ReopenCmd()),
    fc.constant(new GetStateCmd()),
  ];
}

export { newModel };
