// Sharded runs (--shard, blob reports) merged with `npx playwright merge-reports` give the same grid
// and the same per-case results as one unsharded run of the same matrix.
import { test, expect } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Summary } from '../../harness/report/record.ts';

const PW = join(createRequire(import.meta.url).resolve('@playwright/test/package.json'), '..', 'cli.js');

const MATRIX = `
name: shard-check
seed: 5
order: [v5.18, v6.8, v7.0]
src: [v5.18, v6.8, v7.0]
dst: [v5.18, v7.0]
workloads: [user-polling, kernel-crypto]
transfers: [single]
devices: { configs: [SEC, ZIP], combine: rotate }
expect:
  - when: { magic: rejected }
    outcome: refused
`;

function pw(args: string[], env: Record<string, string>) {
  // a clean environment: nothing of this worker's own Playwright run leaks into the nested one
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TEST_|PW_|PLAYWRIGHT_)/.test(k))) as Record<string, string>;
  return spawnSync(process.execPath, [PW, ...args], { encoding: 'utf8', env: { ...base, CI: '', MIGCOMPAT_WORKERS: '1', ...env } });
}

// the grid tables (heading, counts and replay paths name the run)
const gridOf = (dir: string) => readFileSync(join(dir, 'matrix.md'), 'utf8').split('\n## ')[0].replace(/^[^]*?\n### /, '### ');
const casesOf = (dir: string) =>
  (JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Summary).cases.map((c) => [c.id, c.actual, c.status, c.reason, c.errno, c.stage, c.spec.seed, c.streamHex]);

test('two shards merged with merge-reports give the same grid as one run', async () => {
  test.setTimeout(180_000);
  const tmp = mkdtempSync(join(tmpdir(), 'mc-shard-'));
  const matrix = join(tmp, 'shard-check.yaml');
  writeFileSync(matrix, MATRIX);
  const env = { MIGCOMPAT_MATRIX: matrix, MIGCOMPAT_RESULTS: join(tmp, 'results') };

  pw(['test', '--project=sim'], { ...env, MIGCOMPAT_RUN_ID: 'whole' });
  const whole = join(tmp, 'results', 'whole');
  expect(readdirSync(whole)).toEqual(expect.arrayContaining(['summary.json', 'matrix.md', 'matrix.html', 'repro']));

  const blobs = join(tmp, 'blobs');
  mkdirSync(blobs);
  for (const k of [1, 2]) {
    const out = join(tmp, `blob-${k}`);
    const r = pw(['test', '--project=sim', `--shard=${k}/2`, '--reporter=blob'], { ...env, MIGCOMPAT_RUN_ID: `shard-${k}`, PLAYWRIGHT_BLOB_OUTPUT_DIR: out });
    const zips = readdirSync(out).filter((f) => f.endsWith('.zip'));
    expect(zips, r.stderr).toHaveLength(1);
    cpSync(join(out, zips[0]), join(blobs, `shard-${k}.zip`));
  }
  // a shard writes no grid of its own
  expect(readdirSync(join(tmp, 'results', 'shard-1'))).not.toContain('summary.json');
  const m = pw(['merge-reports', '--config', 'playwright.config.ts', blobs], { ...env, MIGCOMPAT_RUN_ID: 'merged' });
  const merged = join(tmp, 'results', 'merged');
  expect(readdirSync(merged), m.stderr).toEqual(expect.arrayContaining(['summary.json', 'matrix.md', 'matrix.html', 'junit.xml', 'results.json', 'playwright']));

  expect(casesOf(merged)).toHaveLength(12);
  expect(casesOf(merged)).toEqual(casesOf(whole));
  expect(gridOf(merged)).toMatch(/^### user-polling, single\n/);
  expect(gridOf(merged)).toBe(gridOf(whole));
  // the merged run saw the whole run as its previous one: nothing changed
  expect((JSON.parse(readFileSync(join(merged, 'summary.json'), 'utf8')) as Summary)).toMatchObject({ previousRunId: 'whole', changed: [] });
  expect(readdirSync(join(merged, 'repro')).sort()).toEqual(readdirSync(join(whole, 'repro')).sort());
});
