// Child process of an isolated conformance run (isolate.ts): real driver code (`ktree:`) or a kernel
// device, driven by the same engine as the models. It reports as it goes, one line per event:
//   @subject {title, flags}      after the device answered GET MIGRATION
//   @clause ID                   a clause starts
//   @step {i, step}              a command returned (i: its index in the scenario)
//   @exec {i, cmd}               a command is about to run (the parent arms its time limit)
//   @result {ClauseResult}       a clause ended
//   @sequence {steps}            the answer to a sequence request (replay)
//   @fatal {usage, message}      the subject could not be set up
// A crash or a call that never returns loses only what was in progress: the parent sees it.
import { UsageError } from '../util/usage-error.ts';
import { CHECK_PARAMS, CHECK_RUNNERS } from './checks/index.ts';
import type { Cmd } from './commands.ts';
import { loadContract, selectClauses } from './contract.ts';
import { runClause, runSequence, startSubject, type SubjectRun } from './engine.ts';
import type { Step } from './monitor.ts';
import type { Subject } from './subject.ts';

export interface ChildRequest {
  subject: string;
  kind: 'ktree' | 'kernel';
  contract: string;
  clauses: string[];
  peers: string[];
  /** command sequences whose last call never returned in an earlier child: not made again */
  hungBefore?: { cmds: Cmd[]; why: string }[];
  /** real code: the library behind the id (registered here, as the ktree runner's child does) */
  lib?: string;
  /** instead of clauses: run this sequence and report its steps */
  sequence?: { clause: string; cmds: Cmd[] };
}

const say = (tag: string, v: unknown) => process.stdout.write(`@${tag} ${typeof v === 'string' ? v : JSON.stringify(v)}\n`);

async function subjectFor(req: ChildRequest): Promise<Subject> {
  if (req.kind === 'kernel') return (await import('./kernelSubject.ts')).kernelSubject(req.subject, req.peers);
  const { loadRevision, registerRevision } = await import('../drivers/registry.ts');
  await import('../ktree/install.ts'); // `ktree:` ids resolve in this process too
  const { revisionSubject } = await import('./subject.ts');
  if (req.lib) {
    const { KtreeDriver } = await import('../ktree/driver.ts');
    const lib = req.lib;
    registerRevision({ id: req.subject, title: `real driver code (${lib})`, kernel: '', kind: 'external', source: lib, bind: (ctx) => new KtreeDriver(req.subject, lib, ctx) }, { replace: true });
  }
  return { ...revisionSubject(loadRevision(req.subject)), kind: 'ktree' };
}

async function main(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const req = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ChildRequest;
  let run: SubjectRun;
  try {
    const subject = await subjectFor(req);
    run = startSubject(subject, { onExec: (cmd, i) => say('exec', { i, cmd }), onStep: (step, i) => say('step', { i, step }), hungBefore: req.hungBefore });
    say('subject', { title: subject.title, flags: run.flags, reprobes: subject.reprobes, driver: subject.driver ?? null });
  } catch (e) {
    say('fatal', { usage: e instanceof UsageError, message: (e as Error).message });
    process.exitCode = 2;
    return;
  }
  if (req.sequence) {
    const s = runSequence(run, req.sequence.clause, req.sequence.cmds);
    say('sequence', { steps: s.steps satisfies Step[] });
    return;
  }
  const contract = loadContract(req.contract, CHECK_PARAMS);
  for (const clause of selectClauses(contract, req.clauses)) {
    say('clause', clause.id);
    say('result', runClause(run, clause, CHECK_RUNNERS));
  }
}

await main();
