// Property 4: model-based uAPI sequences (fc.commands) judged by the conformance clauses. Each
// command is one uAPI call on the simulated device, run through a conformance Session whose
// monitor (harness/conformance/monitor.ts) is the oracle: a violation is named by the clause it
// breaks (specs/conformance/vfio-migration.yaml), a call that never returns included. A violation
// the findings registry knows for this revision is counted and ends that sequence (the run goes on
// with the next one); any other violation throws and fast-check shrinks the sequence.
import fc from 'fast-check';
import type { Cmd } from '../conformance/commands.ts';
import { SequenceEnd, Session, type DeviceHandle } from '../conformance/session.ts';
import { MIG_STATE_NAMES, type MigState } from '../vfio/types.ts';

export class UapiViolation extends Error {
  override name = 'UapiViolation';
  /** kind: the clause broken */
  constructor(readonly kind: string, readonly detail: string) {
    super(`${kind}: ${detail}`);
  }
}

/** What the commands drive: one device of one revision, reopenable, and the session judging it. */
export interface UapiReal {
  revision: string;
  session: Session;
  /** a violation: true when the registry knows it for this revision (counted, the run goes on) */
  onKnown(kind: string, detail: string): boolean;
}

/** What fast-check's model tracks: how many data fds the sequence has, and whether it is over. */
export interface UapiModel {
  fds: number;
  /** a known finding ended the sequence (no later command runs) */
  over: boolean;
}

export function newModel(): UapiModel {
  return { fds: 0, over: false };
}

/** Open a session on a device and read its flags and state (the monitor needs both). */
export function openSession(handle: DeviceHandle): Session {
  const s = new Session(handle);
  s.flags();
  s.get();
  return s;
}

/** Run one command and sort what the monitor says into known (tolerated) and new (thrown). */
function runCmd(m: UapiModel, r: UapiReal, cmd: Cmd): void {
  const before = r.session.violations.length;
  let ended = false;
  try {
    r.session.exec(cmd);
  } catch (e) {
    if (!(e instanceof SequenceEnd)) {
      throw new UapiViolation('exception', `${cmd.op} threw ${(e as Error).name}: ${(e as Error).message}`);
    }
    ended = true;
  }
  m.fds = r.session.steps.filter((s) => s.opened !== undefined).length;
  const all = r.session.violations.slice(before);
  // a call that never returns breaks several clauses at once: one event, named by the most specific
  const hang = all.find((v) => v.hang);
  const fresh = hang ? [hang] : all;
  for (const v of fresh) {
    if (!r.onKnown(v.clause, v.detail)) throw new UapiViolation(v.clause, v.detail);
  }
  // a known finding ends the sequence: what would follow runs on a device the contract no longer
  // describes (refused data loaded, a reset that did not reset), so it could only find echoes of it
  if (fresh.length || ended) m.over = true;
}

const notOver = (m: UapiModel) => !m.over;

class SetStateCmd implements fc.Command<UapiModel, UapiReal> {
  constructor(readonly target: MigState) {}
  check = notOver;
  run(m: UapiModel, r: UapiReal): void {
    runCmd(m, r, { op: 'set', target: this.target });
  }
  toString(): string {
    return `set(${this.target})`;
  }
}

/** Picks the n-th fd (modulo), so a sequence stays meaningful while shrinking. */
const pick = (m: UapiModel, n: number): number => n % m.fds;
const hasFd = (m: UapiModel) => !m.over && m.fds > 0;

class ReadCmd implements fc.Command<UapiModel, UapiReal> {
  constructor(readonly fdPick: number, readonly max: number) {}
  check = hasFd;
  run(m: UapiModel, r: UapiReal): void {
    runCmd(m, r, { op: 'read', fd: pick(m, this.fdPick), max: this.max });
  }
  toString(): string {
    return `read(fd${this.fdPick},${this.max})`;
  }
}

class WriteCmd implements fc.Command<UapiModel, UapiReal> {
  constructor(readonly fdPick: number, readonly bytes: Uint8Array) {}
  check = hasFd;
  run(m: UapiModel, r: UapiReal): void {
    runCmd(m, r, { op: 'write', fd: pick(m, this.fdPick), hex: Buffer.from(this.bytes).toString('hex'), data: 'random' });
  }
  toString(): string {
    return `write(fd${this.fdPick},${Buffer.from(this.bytes).toString('hex') || '""'})`;
  }
}

class PrecopyInfoCmd implements fc.Command<UapiModel, UapiReal> {
  constructor(readonly fdPick: number) {}
  check = hasFd;
  run(m: UapiModel, r: UapiReal): void {
    runCmd(m, r, { op: 'info', fd: pick(m, this.fdPick) });
  }
  toString(): string {
    return `precopyInfo(fd${this.fdPick})`;
  }
}

class SimpleCmd implements fc.Command<UapiModel, UapiReal> {
  constructor(readonly op: 'reset' | 'reopen' | 'get' | 'size', readonly label: string) {}
  check = notOver;
  run(m: UapiModel, r: UapiReal): void {
    runCmd(m, r, { op: this.op });
  }
  toString(): string {
    return this.label;
  }
}

const states = fc.constantFrom(...MIG_STATE_NAMES);

/** The command arbitraries. */
export function uapiCommandArbs(): fc.Arbitrary<fc.Command<UapiModel, UapiReal>>[] {
  return [
    states.map((s) => new SetStateCmd(s)),
    fc.tuple(fc.nat(7), fc.constantFrom(1, 8, 40, 136, 176, 4096)).map(([f, n]) => new ReadCmd(f, n)),
    // small payloads (a struct takes several writes) and whole sizes of the hisi_acc formats (40, 176)
    fc.tuple(fc.nat(7), fc.oneof(fc.uint8Array({ maxLength: 48 }), fc.constantFrom(40, 136, 176).chain((n) => fc.uint8Array({ minLength: n, maxLength: n }))))
      .map(([f, b]) => new WriteCmd(f, b)),
    fc.nat(7).map((f) => new PrecopyInfoCmd(f)),
    fc.constant(new SimpleCmd('reset', 'reset()')),
    fc.constant(new SimpleCmd('reopen', 'reopen()')),
    fc.constant(new SimpleCmd('get', 'getState()')),
    fc.constant(new SimpleCmd('size', 'dataSize()')),
  ];
}
