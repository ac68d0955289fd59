// `migcompat replay BUNDLE [--json]`: rerun one case from a repro bundle (harness/report/bundle.ts)
// with the revision profiles it snapshotted, print the verdict and the timeline. Exit 1 when the
// verdict (outcome, errno, stage, reason) differs from the bundle's.
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
    const { readBundle } = await import('../../report/bundle.ts');
    const bundle = readBundle(path);
    const { installSnapshots } = await import('../../matrix/revisions.ts');
    const { loadRevision } = await import('../../drivers/registry.ts');
    // the snapshot profiles replace the ones on disk for this process (unless asked otherwise)
    const differs = values['current-profiles'] ? [] : installSnapshots(bundle.profiles, path);
    // a fuzz bundle reruns its property from seed and path (harness/fuzz/replay.ts)
    if (bundle.extra?.fuzz) return (await import('../../fuzz/replay.ts')).replayFuzzCommand(bundle, values.json === true);
    for (const id of [bundle.case.src, bundle.case.dst, ...(bundle.case.retryDst ? [bundle.case.retryDst] : [])]) loadRevision(id);
    const { runAndJudge, compactTimeline, digestTimeline } = await import('../../matrix/caseTest.ts');
    const { simEngine } = await import('../../matrix/engine.ts');
    const { toJson } = await import('../../util/hex.ts');
    const { evidence, verdict } = runAndJudge(simEngine, bundle.case);
    const was = bundle.verdict;
    const same = verdict.outcome === was.outcome && verdict.errno === was.errno && verdict.stage === was.stage && verdict.reason === was.reason;
    const stream = evidence?.stream ? Buffer.from(evidence.stream).toString('hex') : null;
    const digest = evidence ? digestTimeline(evidence.timeline) : null;
    const notes: string[] = [];
    if (differs.length) notes.push(`profiles changed on disk since the bundle was made (using the bundle's): ${differs.join(', ')}`);
    if (bundle.stream !== null && stream !== bundle.stream) notes.push('the source produced different stream bytes than the bundle holds');
    if (bundle.timelineDigest && digest !== bundle.timelineDigest) notes.push('the timeline differs from the recorded run');
    if (values.json) {
      process.stdout.write(toJson({ title: bundle.title, case: bundle.case, verdict, bundleVerdict: was, same, notes, stream, timelineDigest: digest,
        timeline: evidence?.timeline ?? [] }) + '\n');
    } else {
      const out = [`case: ${bundle.title} (seed ${bundle.case.seed})`, '', 'timeline:', evidence ? compactTimeline(evidence.timeline) : '(none: the harness failed)',
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
