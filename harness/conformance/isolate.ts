// Parent side of an isolated conformance run: real driver code and kernel devices run the engine in
// a child process (child.ts), which reports every command before and after it runs. A command that
// does not come back within the call limit never returns as far as the contract is concerned: the
// call is a hang, with the sequence up to it (real code cannot be stopped from inside, so the child
// is killed, by its pid); the monitor charges it to the clauses it breaks, as it does in process.
// A crash is `error` for that clause. Real code goes on in a fresh child; a kernel device that hung
// is left alone (it holds its state mutex), and the clauses not yet run are reported as not run.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { UsageError } from '../util/usage-error.ts';
import type { ChildRequest } from './child.ts';
import type { Cmd } from './commands.ts';
import { Monitor, type Step } from './monitor.ts';
import type { SubjectSpec } from './subjects.ts';
import type { ClauseResult } from './verdict.ts';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'child.ts');
/** loading tsx, the harness and (for ktree) the library, or opening a kernel device */
const STARTUP_MS = 60_000;

/** Per-call limit: MIGCOMPAT_CONFORM_CALL_MS, default 10 s (a kernel call takes microseconds). */
export function callLimitMs(explicit?: number): number {
  const v = explicit ?? Number(process.env.MIGCOMPAT_CONFORM_CALL_MS);
  return Number.isInteger(v) && v > 0 ? v : 10_000;
}

export interface ChildRunResult {
  title: string;
  flags: number | null;
  /** the kernel driver bound to the device, as the child read it from sysfs */
  driver?: string;
  results: ClauseResult[];
  error?: string;
}

interface Attempt {
  title: string | null;
  flags: number | null;
  driver: string | null;
  results: ClauseResult[];
  /** the clause in progress when the child ended, with the steps of its current scenario */
  current: { clause: string; steps: Step[]; pending: Cmd | null } | null;
  sequence: Step[] | null;
  end: { timedOut: boolean; signal: string | null; code: number | null; stderr: string; fatal: { usage: boolean; message: string } | null };
}

function attempt(req: ChildRequest, callMs: number): Promise<Attempt> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD], { stdio: ['pipe', 'pipe', 'pipe'] });
    const a: Attempt = { title: null, flags: null, driver: null, results: [], current: null, sequence: null, end: { timedOut: false, signal: null, code: null, stderr: '', fatal: null } };
    let timer: NodeJS.Timeout | null = null;
    const arm = (ms: number) => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        a.end.timedOut = true;
        if (child.pid) process.kill(child.pid, 'SIGKILL');
      }, ms);
    };
    arm(STARTUP_MS);
    child.stderr.on('data', (d: Buffer) => { a.end.stderr = (a.end.stderr + d.toString()).slice(-4000); });
    createInterface({ input: child.stdout }).on('line', (line) => {
      const sp = line.indexOf(' ');
      const tag = line.slice(0, sp < 0 ? line.length : sp);
      const body = sp < 0 ? '' : line.slice(sp + 1);
      switch (tag) {
        case '@subject': {
          const v = JSON.parse(body) as { title: string; flags: number | null; driver?: string | null };
          a.title = v.title;
          a.flags = v.flags;
          a.driver = v.driver ?? null;
          break;
        }
        case '@clause':
          a.current = { clause: body, steps: [], pending: null };
          break;
        case '@exec': {
          const v = JSON.parse(body) as { i: number; cmd: Cmd };
          a.current ??= { clause: '', steps: [], pending: null }; // a sequence request has no clause lines
          {
            if (v.i === 0) a.current.steps = [];
            a.current.pending = v.cmd;
          }
          arm(callMs);
          break;
        }
        case '@step': {
          const v = JSON.parse(body) as { i: number; step: Step };
          if (a.current) {
            a.current.steps[v.i] = v.step;
            a.current.pending = null;
          }
          break;
        }
        case '@result':
          a.results.push(JSON.parse(body) as ClauseResult);
          a.current = null;
          arm(callMs);
          break;
        case '@sequence':
          a.sequence = (JSON.parse(body) as { steps: Step[] }).steps;
          break;
        case '@fatal':
          a.end.fatal = JSON.parse(body) as { usage: boolean; message: string };
          break;
      }
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      a.end.code = code;
      a.end.signal = signal;
      resolve(a);
    });
    child.stdin.end(JSON.stringify(req));
  });
}

const lastLine = (s: string): string => s.trim().split('\n').filter(Boolean).pop() ?? 'no output';

function endReason(a: Attempt, callMs: number): string {
  if (a.end.timedOut) return a.title === null ? `the child did not report the device within ${STARTUP_MS} ms` : `no answer within ${callMs} ms`;
  if (a.end.signal) return `the child crashed (${a.end.signal}): ${lastLine(a.end.stderr)}`;
  return `the child exited with ${a.end.code}: ${lastLine(a.end.stderr)}`;
}

/** Which clauses the monitor charges a call that never returns to (set-returns, a blocked arc). */
function hangClauses(steps: Step[]): Set<string> {
  const m = new Monitor();
  const out = new Set<string>();
  for (const st of steps) for (const v of m.observe(st)) if (v.hang) out.add(v.clause);
  return out;
}

/** Most hangs one subject may show before its run is called off (each costs a child and the call limit). */
const MAX_HANGS = 16;

/**
 * Run clauses on a subject in child processes. A call that never returns kills the child; real code
 * then runs the same clause again in a fresh child that does not make that call again but records
 * it as the hang it was, so the monitor charges it to the clauses it breaks (as it does in process)
 * and the clause's other scenarios still run. A kernel device stuck in a call is left alone.
 */
export async function runSubjectInChild(spec: Extract<SubjectSpec, { where: 'child' }>, clauses: string[],
  o: { contract: string; peers: string[]; callMs?: number }): Promise<ChildRunResult> {
  const callMs = callLimitMs(o.callMs);
  const out: ChildRunResult = { title: spec.id, flags: null, results: [] };
  const hungBefore: { cmds: Cmd[]; why: string }[] = [];
  let rest = clauses;
  while (rest.length) {
    const a = await attempt({ subject: spec.id, kind: spec.kind, lib: spec.lib, contract: o.contract, clauses: rest, peers: o.peers, hungBefore }, callMs);
    if (a.end.fatal) {
      if (a.end.fatal.usage) throw new UsageError(a.end.fatal.message);
      out.error = a.end.fatal.message;
    }
    if (a.title !== null) out.title = a.title;
    if (a.flags !== null) out.flags = a.flags;
    if (a.driver !== null) out.driver = a.driver;
    out.results.push(...a.results);
    rest = rest.slice(a.results.length);
    if (!rest.length) break;
    const why = out.error ?? endReason(a, callMs);
    if (a.title === null) {
      // the subject never came up: nothing can run
      for (const c of rest) out.results.push(notRun(c, spec.id, why));
      out.error ??= why;
      break;
    }
    const cur = a.current && a.current.clause === rest[0] ? a.current : null;
    if (!(cur && a.end.timedOut && cur.pending)) {
      // a crash: the clause in progress is lost, the others go on in a fresh child
      out.results.push(notRun(rest[0], spec.id, `the run stopped in this clause: ${why}`));
      rest = rest.slice(1);
      continue;
    }
    const steps: Step[] = [...cur.steps.filter(Boolean), { cmd: cur.pending, res: 'HANG', hang: { where: `${why}; the child was killed`, arcs: [] } }];
    if (spec.kind === 'kernel') {
      // the device holds its state mutex in that call: charge the hang, run nothing more on it
      const charged = hangClauses(steps).has(rest[0]);
      out.results.push(charged
        ? { clause: rest[0], subject: spec.id, verdict: 'hang', detail: `${describe(cur.pending)} never returned (${why})`, scenarios: 1, failing: ['(in progress)'], notes: [], ms: callMs,
          evidence: { scenario: '(in progress when the call hung)', steps, at: steps.length - 1, violation: { clause: rest[0], detail: `the call never returned (${why})`, hang: steps.at(-1)!.hang }, shrunkFrom: steps.length } }
        : notRun(rest[0], spec.id, `${describe(cur.pending)} never returned in this clause's set-up (${why}); the device no longer answers`));
      for (const c of rest.slice(1)) out.results.push(notRun(c, spec.id, `not run: the device stopped answering in ${rest[0]}`));
      break;
    }
    hungBefore.push({ cmds: steps.map((x) => x.cmd), why });
    if (hungBefore.length > MAX_HANGS) {
      for (const c of rest) out.results.push(notRun(c, spec.id, `more than ${MAX_HANGS} calls never returned; the run was called off`));
      break;
    }
  }
  return out;
}

const describe = (c: Cmd): string => (c.op === 'set' ? `SET ${c.target}` : c.op);

function notRun(clause: string, subject: string, detail: string): ClauseResult {
  return { clause, subject, verdict: 'error', detail, scenarios: 0, failing: [], evidence: null, notes: [], ms: 0 };
}

/** Run one sequence on the subject in a child (replay of a bundle); null steps when it did not finish. */
export async function runSequenceInChild(spec: Extract<SubjectSpec, { where: 'child' }>, clause: string, cmds: Cmd[],
  o: { contract: string; peers: string[]; callMs?: number }): Promise<{ steps: Step[]; hung: boolean; error?: string }> {
  const callMs = callLimitMs(o.callMs);
  const a = await attempt({ subject: spec.id, kind: spec.kind, lib: spec.lib, contract: o.contract, clauses: [], peers: o.peers, sequence: { clause, cmds } }, callMs);
  if (a.end.fatal?.usage) throw new UsageError(a.end.fatal.message);
  if (a.sequence) return { steps: a.sequence, hung: false };
  if (a.end.timedOut && a.title !== null && a.current?.pending) {
    const why = endReason(a, callMs);
    return { steps: [...a.current.steps.filter(Boolean), { cmd: a.current.pending, res: 'HANG', hang: { where: why, arcs: [] } }], hung: true, error: why };
  }
  return { steps: [], hung: false, error: a.end.fatal?.message ?? endReason(a, callMs) };
}
