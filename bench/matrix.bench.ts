// Wall time of `npm run matrix` on the default matrix, Playwright start-up and reports included,
// and cases per second. Target: ≥500 cases in under 20 s on a 2-core machine. Results go to a temp
// folder so the bench does not add to results/history.jsonl.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { report } from './util.ts';

const root = mkdtempSync(join(tmpdir(), 'mc-bench-'));
const t0 = process.hrtime.bigint();
const r = spawnSync(process.execPath, ['--import', 'tsx', 'harness/cli/main.ts', 'matrix', '--json'], {
  encoding: 'utf8', env: { ...process.env, CI: '', MIGCOMPAT_RESULTS: root, MIGCOMPAT_RUN_ID: 'bench' },
});
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
if (r.status !== 0 && r.status !== 1) {
  process.stderr.write(r.stderr);
  process.exit(1);
}
const out = JSON.parse(r.stdout) as { counts: { total: number; unexpected: number; fixed: number; known: number } };
const s = JSON.parse(readFileSync(join(root, 'bench', 'summary.json'), 'utf8')) as { cases: { durationMs: number }[] };
const per = s.cases.map((c) => c.durationMs).sort((a, b) => a - b);
report('default matrix cases', out.counts.total, 'cases', '≥ 500');
report('default matrix wall time (npm run matrix, all included)', seconds, 's', '< 20 s');
report('default matrix throughput', out.counts.total / seconds, 'cases/s');
report('median test duration inside Playwright', per[per.length >> 1], 'ms');
report('unexpected cells (each restarts a Playwright worker)', out.counts.unexpected + out.counts.fixed, 'cells');
rmSync(root, { recursive: true, force: true });
