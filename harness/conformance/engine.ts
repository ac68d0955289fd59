// Runs clauses against one subject: each clause's named check drives scenarios (command sequences,
// each on a fresh device), the monitor judges every step, and the first scenario that breaks the
// clause becomes its evidence, shrunk to a minimal sequence that still breaks it. A call that never
// returns is the clause's `hang` verdict, with the arcs walked: never a time-out of the harness.
import { MIG_FLAG, type MigState } from '../vfio/types.ts';
import type { Clause } from './contract.ts';
import type { Cmd } from './commands.ts';
import { Monitor, type Step } from './monitor.ts';
import { SequenceEnd, Session, type SessionOptions } from './session.ts';
import type { Subject } from './subject.ts';
import { requestableStates, supportedStates } from './uapiText.ts';
import type { ClauseResult, Evidence, VerdictKind } from './verdict.ts';

/** Thrown by a check (or inside a scenario) when the clause cannot apply to this subject. */
export class NotApplicable extends Error {
  override name = 'NotApplicable';
}

/** Thrown inside a scenario when its set-up did not reach what the scenario needs: not judged. */
export class Precondition extends Error {
  override name = 'Precondition';
}

export type ScenarioKind = 'pass' | 'violated' | 'hang' | 'skipped';

export interface ScenarioOutcome {
  kind: ScenarioKind;
  session: Session;
  /** skipped: why */
  why?: string;
}

export interface CheckContext {
  clause: Clause;
  subject: Subject;
  params: Record<string, unknown>;
  /** the device's VFIO_MIGRATION_* flags */
  flags: number;
  /** the states the clause concerns on this device (applies.states ∩ what it supports, ERROR excluded) */
  states: MigState[];
  /** run `body` on a fresh device; the monitor judges it against this clause */
  scenario(label: string, body: (s: Session) => void): ScenarioOutcome;
  /** the clause does not apply (throws) */
  na(reason: string): never;
  note(text: string): void;
  /** a whole stream this device saves (STOP_COPY, one read to the end), hex; cached per subject */
  ownStream(): string;
}

export type CheckFn = (ctx: CheckContext) => void;

/** What one subject's run keeps between clauses. */
export interface SubjectRun {
  subject: Subject;
  flags: number | null;
  flagsError: string | null;
  own?: string | { error: string };
  /** called before and after each command (a child process streams them: isolate.ts) */
  onExec?: SessionOptions['onExec'];
  onStep?: SessionOptions['onStep'];
  hungBefore?: SessionOptions['hungBefore'];
  /** shrink evidence (default: when the subject re-probes, so a sequence replays alike) */
  shrink?: boolean;
}

export function startSubject(subject: Subject, o: Pick<SubjectRun, 'onExec' | 'onStep' | 'hungBefore' | 'shrink'> = {}): SubjectRun {
  const run: SubjectRun = { subject, flags: null, flagsError: null, ...o };
  const h = subject.fresh();
  try {
    const f = h.dev.migrationFlags();
    if (f.ok) run.flags = f.value;
    else run.flagsError = f.errno;
  } finally {
    h.close();
  }
  return run;
}

/** Run a command list on a fresh device, judged; stops at the first violation of `clause` or a hang. */
export function runSequence(run: SubjectRun, clause: string | null, cmds: readonly Cmd[]): Session {
  const h = run.subject.fresh();
  const s = new Session(h, { stopOn: clause ?? undefined, onExec: run.onExec, onStep: run.onStep, hungBefore: run.hungBefore, monitor: new Monitor() });
  // labels as the list numbered them → labels this run handed out
  const label = new Map<number, number>();
  let opened = 0;
  try {
    for (const c of cmds) {
      let cmd: Cmd = c.op === 'set' ? plainCmd(c) : c;
      if (c.op === 'read' || c.op === 'write' || c.op === 'info') {
        const l = label.get(c.fd);
        if (l === undefined) continue; // the SET that opened it is gone (shrinking)
        cmd = { ...c, fd: l };
      }
      const st = s.exec(cmd);
      if (c.op === 'set') {
        // the list's numbering: its own marks when the shrinker made it, else what this run opened
        const marked = (c as { opens?: boolean }).opens;
        if (marked ?? st.opened !== undefined) {
          if (st.opened !== undefined) label.set(opened, st.opened);
          opened++;
        }
      }
    }
  } catch (e) {
    if (!(e instanceof SequenceEnd)) throw e;
  } finally {
    s.closeFds();
    h.close();
  }
  return s;
}

/** Run one clause's check on the subject. */
export function runClause(run: SubjectRun, clause: Clause, checks: ReadonlyMap<string, CheckFn>): ClauseResult {
  const t0 = Date.now();
  const res: ClauseResult = { clause: clause.id, subject: run.subject.id, verdict: 'holds', detail: '', scenarios: 0, failing: [], evidence: null, notes: [], ms: 0 };
  const done = (verdict: VerdictKind, detail: string): ClauseResult => Object.assign(res, { verdict, detail, ms: Date.now() - t0 });
  if (run.flags === null) {
    return clause.id === 'flags-advertise-stop-copy'
      ? runFlagsOnly(run, res, done)
      : done('na', `GET MIGRATION failed (${run.flagsError}): the device offers no migration`);
  }
  const flags = run.flags;
  const missing = clause.applies.flags.filter((f) => !(flags & MIG_FLAG[f]));
  if (missing.length) return done('na', `the device does not advertise ${missing.map((f) => `VFIO_MIGRATION_${f}`).join(' and ')} (flags 0x${flags.toString(16)})`);
  const check = checks.get(clause.check.name);
  if (!check) return done('error', `no check named '${clause.check.name}'`);
  const sup = supportedStates(flags);
  const states = clause.applies.states === 'all' ? requestableStates(flags) : clause.applies.states.filter((s) => sup.has(s) && s !== 'ERROR');
  let firstHang = null as Evidence | null;
  let firstViolation = null as Evidence | null;
  const skips: string[] = [];
  const ctx: CheckContext = {
    clause, subject: run.subject, params: clause.check.params, flags, states,
    scenario(label, body) {
      const h = run.subject.fresh();
      const s = new Session(h, { stopOn: clause.id, onExec: run.onExec, onStep: run.onStep, hungBefore: run.hungBefore });
      let kind: ScenarioKind = 'pass';
      let why: string | undefined;
      try {
        s.flags();
        s.get();
        body(s);
      } catch (e) {
        if (e instanceof Precondition) {
          kind = 'skipped';
          why = e.message;
        } else if (!(e instanceof SequenceEnd)) {
          throw e;
        }
      } finally {
        s.closeFds();
        h.close();
      }
      const v = s.first(clause.id);
      if (v) {
        kind = v.hang ? 'hang' : 'violated';
        const ev: Evidence = { scenario: label, steps: s.steps.slice(0, v.at + 1), at: v.at, violation: { clause: v.clause, detail: v.detail, ...(v.hang ? { hang: v.hang } : {}) }, shrunkFrom: v.at + 1 };
        // the shortest failing scenario is the clearest evidence
        if (v.hang) firstHang = !firstHang || ev.steps.length < firstHang.steps.length ? ev : firstHang;
        else firstViolation = !firstViolation || ev.steps.length < firstViolation.steps.length ? ev : firstViolation;
        res.failing.push(label);
        res.scenarios++;
      } else if (s.hung) {
        kind = 'skipped';
        why = `another call never returned (${s.steps[s.steps.length - 1]?.hang?.where ?? '?'})`;
      } else if (kind === 'pass') {
        res.scenarios++;
      }
      if (kind === 'skipped' && why) skips.push(`${label}: ${why}`);
      return { kind, session: s, why };
    },
    na(reason) {
      throw new NotApplicable(reason);
    },
    note(text) {
      if (!res.notes.includes(text)) res.notes.push(text);
    },
    ownStream() {
      if (run.own === undefined) run.own = saveOnce(run);
      if (typeof run.own !== 'string') throw new NotApplicable(`the device cannot save its own stream (${run.own.error})`);
      return run.own;
    },
  };
  try {
    check(ctx);
  } catch (e) {
    if (e instanceof NotApplicable) {
      if (!firstHang && !firstViolation) return done('na', e.message);
    } else {
      return done('error', `the check threw ${(e as Error).name}: ${(e as Error).message}`);
    }
  }
  if (skips.length) res.notes.push(`${skips.length} scenario(s) not judged: ${skips.slice(0, 3).join('; ')}${skips.length > 3 ? '; …' : ''}`);
  const ev = firstHang ?? firstViolation;
  if (ev) {
    res.evidence = ev.violation.hang || run.shrink === false || (run.shrink === undefined && !run.subject.reprobes) ? ev : shrink(run, clause.id, ev);
    return done(firstHang ? 'hang' : 'violated', res.evidence.violation.detail);
  }
  if (res.scenarios === 0) return done('na', skips.length ? `no scenario could be set up (${skips[0]})` : 'no scenario applies');
  return done('holds', `${res.scenarios} scenario(s) judged`);
}

function runFlagsOnly(run: SubjectRun, res: ClauseResult, done: (v: VerdictKind, d: string) => ClauseResult): ClauseResult {
  const s = runSequence(run, 'flags-advertise-stop-copy', [{ op: 'flags' }]);
  const v = s.first('flags-advertise-stop-copy');
  res.scenarios = 1;
  if (!v) return done('holds', '1 scenario judged');
  res.failing.push('GET MIGRATION');
  res.evidence = { scenario: 'GET MIGRATION', steps: s.steps, at: v.at, violation: { clause: v.clause, detail: v.detail }, shrunkFrom: s.steps.length };
  return done('violated', v.detail);
}

/** A whole stream of the subject's device: STOP_COPY from RUNNING, one big read to the end. */
function saveOnce(run: SubjectRun): string | { error: string } {
  const h = run.subject.fresh();
  const s = new Session(h, { onExec: run.onExec, onStep: run.onStep, hungBefore: run.hungBefore });
  try {
    const st = s.set('STOP_COPY');
    if (st.res !== 'ok' || st.opened === undefined) return { error: `SET STOP_COPY: ${st.res}${st.opened === undefined ? ', no data_fd' : ''}` };
    const hex = s.readToEnd(st.opened);
    if (hex === null) return { error: `read: ${s.steps[s.steps.length - 1].res}` };
    if (!hex) return { error: 'the stream is empty' };
    return hex;
  } catch (e) {
    if (e instanceof SequenceEnd) return { error: 'a call never returned' };
    throw e;
  } finally {
    s.closeFds();
    h.close();
  }
}

/**
 * Greedy shrinking: drop one command at a time (never the two preamble reads) while the shrunk
 * sequence, run on a fresh device, still breaks the clause. Labels are renumbered by the replay.
 */
export function shrink(run: SubjectRun, clause: string, ev: Evidence, maxRuns = 200): Evidence {
  let cmds = withOpens(ev.steps);
  let best = ev;
  let runs = 0;
  for (let changed = true; changed && runs < maxRuns;) {
    changed = false;
    for (let i = cmds.length - 2; i >= 2 && runs < maxRuns; i--) {
      const cand = dropAt(cmds, i);
      runs++;
      const s = runSequence(run, clause, cand);
      const v = s.first(clause);
      if (!v || v.hang) continue;
      best = { scenario: ev.scenario, steps: s.steps.slice(0, v.at + 1), at: v.at, violation: { clause: v.clause, detail: v.detail }, shrunkFrom: ev.shrunkFrom };
      cmds = withOpens(best.steps);
      changed = true;
      break;
    }
  }
  return best;
}

/** Commands of executed steps, each SET marked with whether it opened a fd (for label numbering). */
function withOpens(steps: readonly Step[]): Cmd[] {
  return steps.map((s) => (s.cmd.op === 'set' ? ({ ...s.cmd, opens: s.opened !== undefined } as Cmd) : s.cmd));
}

/** Drop command i; when it opened a fd, the commands on that fd go too and later labels shift. */
function dropAt(cmds: readonly Cmd[], i: number): Cmd[] {
  const c = cmds[i];
  if (!(c.op === 'set' && (c as { opens?: boolean }).opens)) return cmds.filter((_, j) => j !== i);
  const label = cmds.slice(0, i).filter((x) => x.op === 'set' && (x as { opens?: boolean }).opens).length;
  const out: Cmd[] = [];
  cmds.forEach((x, j) => {
    if (j === i) return;
    if (x.op === 'read' || x.op === 'write' || x.op === 'info') {
      if (x.fd === label) return;
      out.push(x.fd > label ? { ...x, fd: x.fd - 1 } : x);
    } else out.push(x);
  });
  return out;
}

/** A command without the shrinker's bookkeeping. */
function plainCmd(c: Cmd): Cmd {
  const { opens: _o, ...rest } = c as Cmd & { opens?: boolean };
  void _o;
  return rest as Cmd;
}

/** Commands as a bundle keeps them. */
export const plainCmds = (steps: readonly Step[]): Cmd[] => steps.map((s) => plainCmd(s.cmd));
