// `migcompat replay` of a conformance bundle (extra.conformance): the recorded command sequence runs
// again on a fresh device of the same revision (its profile as snapshotted, for models), judged by
// the same monitor. Exit 0 when the clause breaks the same way (✗ again, or ⧖ again), 1 otherwise.
import type { Bundle } from '../report/bundle.ts';
import { toJson } from '../util/hex.ts';
import { UsageError } from '../util/usage-error.ts';
import { parseCmds, type Cmd } from './commands.ts';
import { DEFAULT_CONTRACT } from './contract.ts';
import { runSequence, startSubject } from './engine.ts';
import { Monitor, type Step, type Violation } from './monitor.ts';
import { sequenceLines } from './session.ts';
import { resolveSubject } from './subjects.ts';

interface Extra {
  clause: string;
  subject: string;
  verdict: 'violated' | 'hang';
  detail: string;
  commands: Cmd[];
  contract?: string;
  peers?: string[];
}

function extraOf(b: Bundle, where: string): Extra {
  const x = b.extra?.conformance as Record<string, unknown> | undefined;
  if (!x || typeof x.clause !== 'string' || typeof x.subject !== 'string') throw new UsageError(`${where}: extra.conformance: expected clause and subject`);
  if (x.verdict !== 'violated' && x.verdict !== 'hang') throw new UsageError(`${where}: extra.conformance.verdict: expected violated or hang`);
  return { ...(x as unknown as Extra), commands: parseCmds(x.commands, `${where}: extra.conformance.commands`) };
}

/** Judge steps afresh (steps from a child process come back unjudged). */
function judge(steps: readonly Step[]): (Violation & { at: number })[] {
  const m = new Monitor();
  return steps.flatMap((s, at) => m.observe(s).map((v) => ({ ...v, at })));
}

export async function replayConformance(b: Bundle, where: string, json: boolean): Promise<number> {
  const x = extraOf(b, where);
  const spec = resolveSubject(x.subject);
  let steps: Step[];
  let note = '';
  if (spec.where === 'here') {
    const run = startSubject(spec.subject);
    steps = runSequence(run, x.clause, x.commands).steps;
  } else {
    const { runSequenceInChild } = await import('./isolate.ts');
    const r = await runSequenceInChild(spec, x.clause, x.commands, { contract: x.contract ?? DEFAULT_CONTRACT, peers: x.peers ?? [] });
    steps = r.steps;
    if (r.error) note = r.error;
  }
  const v = judge(steps).find((y) => y.clause === x.clause);
  const verdict = v ? (v.hang ? 'hang' : 'violated') : 'holds';
  const same = verdict === x.verdict;
  if (json) {
    process.stdout.write(toJson({ title: b.title, clause: x.clause, subject: x.subject, verdict, bundleVerdict: x.verdict, same, detail: v?.detail ?? null, steps, note: note || null }) + '\n');
  } else {
    const out = [`conformance: ${x.clause} on ${x.subject}`, '', ...sequenceLines(steps), '',
      v ? `verdict: ${verdict}: ${v.detail}` : `verdict: the clause holds on this sequence`,
      same ? 'same verdict as the bundle' : `bundle verdict: ${x.verdict}: ${x.detail}\nDIFFERS from the bundle`];
    if (note) out.push(`note: ${note}`);
    process.stdout.write(out.join('\n') + '\n');
  }
  return same ? 0 : 1;
}
