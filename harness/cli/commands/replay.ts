// `migcompat replay BUNDLE [--json]`: rerun one case from a repro bundle (harness/report/bundle.ts)
// (a fuzz or conformance bundle reruns its property or its command sequence instead)
// on the runner it names (sim by default, with the revision profiles it snapshotted; qemu; vfio-host
// on the VFs its case names), print the verdict and the timeline. Exit 1 when the verdict differs
// from the bundle's: outcome, errno, stage and reason on sim; outcome, errno and stage on the other
// runners, whose reasons carry timings and device details.
import type { Command } from '../command.ts';
import { parseCommandArgs } from '../command.ts';
import { UsageError } from '../../util/usage-error.ts';

const USAGE = 'migcompat replay BUNDLE [--json] [--current-profiles]';

const replay: Command = {
  name: 'replay',
  usage: USAGE,
  summary: 'rerun one case from a repro bundle; exit 1 if the verdict differs from the bundle\'s',
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, { json: { type: 'boolean' }, 'current-profiles': { type: 'boolean' } }, USAGE);
    if (positionals.length !== 1) throw new UsageError(`expected one bundle file (usage: ${USAGE})`);
    const path = positionals[0];
    const { readBundle, timelineDigest } = await import('../../report/bundle.ts');
    const bundle = readBundle(path);
    const runner = bundle.runner ?? 'sim';
    if (runner !== 'sim' && values['current-profiles']) throw new UsageError(`--current-profiles: the bundle runs on ${runner}, which has no revision profiles`);
    const { installSnapshots } = await import('../../matrix/revisions.ts');
    const { loadRevision } = await import('../../drivers/registry.ts');
    // the snapshot profiles replace the ones on disk for this process (unless asked otherwise)
    const differs = values['current-profiles'] || runner !== 'sim' ? [] : installSnapshots(bundle.profiles, path);
    // a fuzz bundle reruns its property from seed and path (harness/fuzz/replay.ts)
    if (bundle.extra?.fuzz) return (await import('../../fuzz/replay.ts')).replayFuzzCommand(bundle, values.json === true);
    // a conformance bundle reruns its command sequence (harness/conformance/replay.ts)
    if (bundle.extra?.conformance) return (await import('../../conformance/replay.ts')).replayConformance(bundle, path, values.json === true);
    const { runAndJudge, runAndJudgeWith, compactTimeline } = await import('../../matrix/caseRun.ts');
    const { toJson } = await import('../../util/hex.ts');
    let result: Awaited<ReturnType<typeof runAndJudgeWith>>;
    if (runner === 'sim') {
      for (const id of [bundle.case.src, bundle.case.dst, ...(bundle.case.retryDst ? [bundle.case.retryDst] : [])]) loadRevision(id);
      const { simEngine } = await import('../../matrix/engine.ts');
      result = runAndJudge(simEngine, bundle.case);
    } else {
      // the ids must still be this runner's (one line, exit 2, before anything starts)
      const { factsFor } = await import('../../matrix/suite.ts');
      const facts = await factsFor(runner);
      for (const k of ['src', 'dst'] as const) {
        if (facts.canonical?.(bundle.case[k]) == null) throw new UsageError(`${path}: case.${k}: '${bundle.case[k]}' is not a ${runner} runner id`);
      }
      const { engineFor } = await import('../../matrix/runnerEngines.ts');
      result = await runAndJudgeWith(await engineFor(runner), bundle.case);
    }
    const { evidence, verdict } = result;
    const was = bundle.verdict;
    const same = verdict.outcome === was.outcome && verdict.errno === was.errno && verdict.stage === was.stage &&
      (runner !== 'sim' || verdict.reason === was.reason);
    const stream = evidence?.stream ? Buffer.from(evidence.stream).toString('hex') : null;
    const digest = evidence ? timelineDigest(evidence.timeline) : null;
    const notes: string[] = [];
    if (differs.length) notes.push(`profiles changed on disk since the bundle was made (using the bundle's): ${differs.join(', ')}`);
    if (bundle.stream !== null && stream !== bundle.stream) notes.push('the source produced different stream bytes than the bundle holds');
    if (runner === 'sim' && bundle.timelineDigest && digest !== bundle.timelineDigest) notes.push('the timeline differs from the recorded run');
    if (values.json) {
      process.stdout.write(toJson({ title: bundle.title, runner, case: bundle.case, verdict, bundleVerdict: was, same, notes, stream, timelineDigest: digest,
        timeline: evidence?.timeline ?? [] }) + '\n');
    } else {
      const out = [`case: ${bundle.title} (${runner === 'sim' ? `seed ${bundle.case.seed}` : `runner ${runner}`})`, '', 'timeline:', evidence ? compactTimeline(evidence.timeline, runner === 'sim' ? 'us' : 'ms') : '(none: the harness failed)',
        `verdict: ${verdict.outcome}: ${verdict.reason}${verdict.errno ? ` (${verdict.errno})` : ''}${verdict.stage ? ` at ${verdict.stage}` : ''}`];
      if (!same) out.push(`bundle verdict: ${was.outcome}: ${was.reason}${was.errno ? ` (${was.errno})` : ''}${was.stage ? ` at ${was.stage}` : ''}`, 'DIFFERS from the bundle');
      else out.push('same verdict as the bundle');
      for (const n of notes) out.push(`note: ${n}`);
      process.stdout.write(out.join('\n') + '\n');
    }
    return same ? 0 : 1;
  },
};
export default replay;
