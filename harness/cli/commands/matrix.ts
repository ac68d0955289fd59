// `migcompat matrix` (= `npm run matrix`): runs the default matrix (or --matrix FILES) in the Playwright
// project of each matrix's runner (sim → sim, qemu → qemu, vfio-host → hw; only that project's matrix
// spec file), then prints the grid and where the report is. Exit 1 on any unexpected cell.
import type { Command } from '../command.ts';
import type { Summary } from '../../report/record.ts';
import { parseCommandArgs } from '../command.ts';
import { UsageError } from '../../util/usage-error.ts';

const USAGE = 'migcompat matrix [--matrix FILE[,FILE…]] [--shard K/N] [--workers N] [--grep TEXT] [--json]';

const matrix: Command = {
  name: 'matrix',
  usage: USAGE,
  summary: 'run compatibility matrices (sim, qemu or vfio-host runner, each in its Playwright project) and print the grid',
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, {
      matrix: { type: 'string' }, shard: { type: 'string' }, workers: { type: 'string' }, grep: { type: 'string' },
      json: { type: 'boolean' },
    }, USAGE);
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}' (usage: ${USAGE})`);
    if (values.shard !== undefined && !/^[1-9]\d*\/[1-9]\d*$/.test(values.shard)) throw new UsageError(`--shard: expected K/N (e.g. 1/2), got '${values.shard}'`);
    if (values.shard) {
      const [k, n] = values.shard.split('/').map(Number);
      if (k > n) throw new UsageError(`--shard: K must be at most N, got '${values.shard}'`);
    }
    if (values.workers !== undefined && !/^[1-9]\d*$/.test(values.workers)) throw new UsageError(`--workers: expected a positive integer, got '${values.workers}'`);

    const { spawnSync } = await import('node:child_process');
    const { existsSync, readFileSync } = await import('node:fs');
    const { createRequire } = await import('node:module');
    const { join, relative } = await import('node:path');
    const { matrixPaths, loadMatrices, expandLoaded } = await import('../../matrix/suite.ts');
    const { RUNNER_KINDS } = await import('../../matrix/runnerKinds.ts');
    const { newRunId, runDir } = await import('../../util/runDir.ts');

    // Validate before starting Playwright: a malformed matrix is one line and exit 2.
    const paths = matrixPaths(values.matrix);
    const loaded = await loadMatrices(paths);
    for (const l of loaded) {
      if (expandLoaded([l]).length > 0) continue;
      const why = l.matrix.runner === 'vfio-host' ? ' (no devices: set MIGCOMPAT_VFIO_DEVICES=0000:75:00.1[,…])' : '';
      throw new UsageError(`${l.matrix.file}: expands to no cases${why}`);
    }
    const kinds = [...new Set(loaded.map((l) => l.matrix.runner))].map((r) => RUNNER_KINDS[r]);

    if (!process.env.MIGCOMPAT_RUN_ID) process.env.MIGCOMPAT_RUN_ID = newRunId();
    const dir = runDir();
    const cli = join(createRequire(import.meta.url).resolve('@playwright/test/package.json'), '..', 'cli.js');
    const esc = (p: string) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    // each runner's project, and in it only the matrix spec (the qemu and hw projects hold other specs)
    const args = [cli, 'test', ...kinds.map((k) => `--project=${k.project}`), ...kinds.map((k) => `${esc(k.spec)}$`)];
    if (values.shard) args.push(`--shard=${values.shard}`);
    if (values.workers) args.push(`--workers=${values.workers}`);
    if (values.grep) args.push(`--grep=${values.grep}`);
    if (values.shard) args.push('--reporter=blob,dot');
    const env = { ...process.env, MIGCOMPAT_MATRIX: paths.join(','), PLAYWRIGHT_BLOB_OUTPUT_DIR: join(dir, 'blob') };
    const pw = spawnSync(process.execPath, args, { stdio: values.json ? ['ignore', 'ignore', 'inherit'] : 'inherit', env });
    const rel = relative(process.cwd(), dir) || '.';
    if (values.shard) {
      process.stdout.write(`migcompat: shard ${values.shard} written to ${rel}/blob; merge the shards with ` +
        '`npx playwright merge-reports --config playwright.config.ts <blob dirs>` (docs/matrix.md)\n');
      return pw.status === 0 ? 0 : 1;
    }
    const summaryPath = join(dir, 'summary.json');
    if (!existsSync(summaryPath)) {
      process.stderr.write(`migcompat: Playwright exited with ${pw.status ?? pw.signal} and wrote no grid (${rel}/summary.json is missing)\n`);
      return 1;
    }
    const { gridMarkdown, countsLine } = await import('../../report/markdown.ts');
    const { isRed } = await import('../../report/record.ts');
    const summary = JSON.parse(readFileSync(summaryPath, 'utf8')) as Summary;
    const red = summary.cases.filter((c) => isRed(c.status));
    if (values.json) {
      process.stdout.write(JSON.stringify({ runId: summary.runId, dir: rel, counts: summary.counts, changed: summary.changed,
        unexpected: red.map((c) => ({ title: c.title, actual: c.actual, expected: c.expected, status: c.status, bundle: join(rel, c.artifacts.bundle ?? '') })) }, null, 2) + '\n');
    } else {
      const out = ['', gridMarkdown(summary), countsLine(summary)];
      if (red.length) {
        out.push('', 'Unexpected cells:');
        for (const c of red.slice(0, 20)) {
          out.push(`  ${c.title}: ${c.actual} (expected ${c.expected}${c.status === 'fixed' ? `; known defect ${c.known?.id} no longer fails` : ''}): ${c.reason}`,
            `    replay: npm run -s migcompat -- replay ${join(rel, c.artifacts.bundle ?? '')}`);
        }
        if (red.length > 20) out.push(`  … and ${red.length - 20} more (${rel}/matrix.md)`);
      }
      out.push('', `Report: ${rel}/matrix.html (grid), ${rel}/matrix.md, ${rel}/summary.json, ${rel}/playwright/index.html (Playwright), ${rel}/junit.xml`);
      process.stdout.write(out.join('\n') + '\n');
    }
    return red.length > 0 || pw.status !== 0 ? 1 : 0;
  },
};
export default matrix;
