// `migcompat fuzz`: property-based and model-based fuzzing on the simulated device (issue #5).
// Heavy modules load inside run() so that CLI start-up stays light.
import type { Command } from '../command.ts';
import { parseCommandArgs } from '../command.ts';
import { UsageError } from '../../util/usage-error.ts';

const USAGE = 'migcompat fuzz [--property P[,P…]] [--seconds N | --runs N] [--seed N] [--rev IDS] [--guest-every N] [--path P [--replay-path R]] [--registry FILE] [--json]';
const PROPS = ['stream', 'transfer', 'config', 'uapi', 'transparency'];

function int(name: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min || !Number.isSafeInteger(Number(v))) throw new UsageError(`--${name} needs an integer >= ${min}, got '${v}'`);
  return Number(v);
}

const fuzz: Command = {
  name: 'fuzz',
  usage: USAGE,
  summary: 'fuzz streams, chunkings, configurations, uAPI sequences and timing; write the field-sensitivity report',
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, {
      property: { type: 'string' }, seconds: { type: 'string' }, runs: { type: 'string' }, seed: { type: 'string' },
      rev: { type: 'string' }, 'guest-every': { type: 'string' }, path: { type: 'string' }, 'replay-path': { type: 'string' }, registry: { type: 'string' },
      json: { type: 'boolean' },
    }, USAGE);
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}' (usage: ${USAGE})`);
    const props = (values.property ?? PROPS.join(',')).split(',').map((s) => s.trim());
    for (const p of props) if (!PROPS.includes(p)) throw new UsageError(`unknown property '${p}' (one of: ${PROPS.join(', ')})`);
    const seconds = int('seconds', values.seconds, 1);
    const runs = int('runs', values.runs, 1);
    const guestEvery = int('guest-every', values['guest-every'], 0);
    if (seconds !== undefined && runs !== undefined) throw new UsageError('give --seconds or --runs, not both');
    if (values['replay-path'] && !values.path) throw new UsageError('--replay-path needs --path');
    const given = int('seed', values.seed, 0);
    // nightly mode: no --seed means a random one, printed first so the run can be replayed
    const seed = given ?? (Math.random() * 2 ** 31) >>> 0;
    const json = values.json === true;
    if (!json) process.stdout.write(`seed: ${seed}${given === undefined ? ' (random)' : ''}\n`);

    const { expandRevisionIds } = await import('../../drivers/registry.ts');
    const { engineTarget } = await import('../../fuzz/engineTarget.ts');
    const { runFuzz } = await import('../../fuzz/run.ts');
    const { Progress } = await import('../../fuzz/progress.ts');
    const { runDir } = await import('../../util/runDir.ts');
    const { toJson } = await import('../../util/hex.ts');
    const { join } = await import('node:path');
    const revisions = values.rev ? expandRevisionIds(values.rev) : undefined;
    const target = await engineTarget({ revisions });
    const outDir = join(runDir(), 'fuzz');
    const bar = new Progress(json ? null : process.stderr, seconds ?? null);
    let current = '';
    const summary = runFuzz(target, {
      properties: props as never, seed, seconds, numRuns: seconds ? undefined : (runs ?? 500), guestEvery,
      path: values.path, replayPath: values['replay-path'], registry: values.registry, outDir,
      onProgress(p, n, ledger) {
        if (p !== current) {
          if (current) bar.done();
          current = p;
          bar.restart();
        }
        bar.update(p, n, [...ledger.known.values()].reduce((a, k) => a + k.count, 0), ledger.fresh.length);
      },
    });
    bar.done();
    if (json) {
      process.stdout.write(toJson(summary) + '\n');
    } else {
      for (const r of summary.results) {
        const rate = r.ms ? Math.round((r.runs / r.ms) * 1000) : 0;
        process.stdout.write(`${r.property}: ${r.unavailable ? `not run (${r.unavailable})` : `${r.runs} runs in ${(r.ms / 1000).toFixed(1)} s (${rate}/s)${r.failed ? ', NEW FINDING' : ''}`}\n`);
        if (r.report) process.stdout.write(r.report.replace(/^/gm, '  ') + '\n');
      }
      for (const k of summary.known) process.stdout.write(`known finding ${k.id}: ${k.count} hit(s) on ${k.revisions.join(', ')}\n`);
      for (const v of summary.new) {
        process.stdout.write(`NEW finding (${v.property}) ${v.kind} on ${v.revision}: ${v.detail}\n  seed ${v.seed} path "${v.path}"${v.replayPath ? ` replayPath "${v.replayPath}"` : ''}\n  minimal: ${JSON.stringify(v.minimal)}\n`);
      }
      for (const f of summary.files) process.stdout.write(`wrote ${f}\n`);
    }
    return summary.new.length ? 1 : 0;
  },
};
export default fuzz;
