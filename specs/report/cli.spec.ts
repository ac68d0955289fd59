// `migcompat matrix` end to end on a tiny matrix: a known defect that still fails is an expected
// failure (green), one that no longer fails turns red ('fixed'), exit 1; bad input is exit 2.
import { test, expect } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Summary } from '../../harness/report/record.ts';

function cli(args: string[], env: Record<string, string> = {}) {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TEST_|PW_|PLAYWRIGHT_)/.test(k))) as Record<string, string>;
  return spawnSync(process.execPath, ['--import', 'tsx', 'harness/cli/main.ts', ...args], { encoding: 'utf8', env: { ...base, CI: '', MIGCOMPAT_WORKERS: '1', ...env } });
}

const TINY = `
name: tiny
src: [v7.0]
dst: [v5.18, v7.0]
workloads: [no-driver]
transfers: [single]
devices: { configs: [SEC] }
known:
  pretend-refusal: { description: declared on a cell that is refused, link: docs/reference.md#match-check-order-and-errnos }
  pretend-fixed: { description: declared on a cell that migrates, link: commit 8c6ac1730a97 (v7.0) }
expect:
  - when: { dst: v5.18 }
    known: pretend-refusal
  - when: { dst: v7.0 }
    known: pretend-fixed
`;

test('matrix --json: expected failures stay green, a fixed known defect is red, exit 1', async () => {
  test.setTimeout(120_000);
  const tmp = mkdtempSync(join(tmpdir(), 'mc-cli-'));
  const m = join(tmp, 'tiny.yaml');
  writeFileSync(m, TINY);
  const r = cli(['matrix', '--matrix', m, '--json'], { MIGCOMPAT_RESULTS: join(tmp, 'results'), MIGCOMPAT_RUN_ID: 'r1' });
  expect(r.status, r.stderr).toBe(1);
  const out = JSON.parse(r.stdout);
  expect(out.counts).toMatchObject({ total: 2, known: 1, fixed: 1, unexpected: 0, refused: 1, migrated: 1 });
  expect(out.unexpected).toEqual([expect.objectContaining({ title: 'v7.0 -> v7.0 no-driver single SEC', actual: 'migrated', status: 'fixed' })]);
  const s = JSON.parse(readFileSync(join(tmp, 'results', 'r1', 'summary.json'), 'utf8')) as Summary;
  const refused = s.cases.find((c) => c.spec.dst === 'hisi-acc/v5.18')!;
  expect(refused).toMatchObject({ actual: 'refused', expected: 'migrated', status: 'known', errno: 'EINVAL', stage: 'resuming->stop' });
  // Playwright agrees: the expected failure passed, the fixed one failed
  const junit = readFileSync(join(tmp, 'results', 'r1', 'junit.xml'), 'utf8');
  expect(junit).toMatch(/tests="2"[^>]*failures="1"/);
  expect(readFileSync(join(tmp, 'results', 'history.jsonl'), 'utf8').trim().split('\n')).toHaveLength(1);
});

test('a malformed matrix or bad option is one line on stderr and exit 2, nothing run', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'mc-cli-'));
  const m = join(tmp, 'bad.yaml');
  writeFileSync(m, TINY.replace('transfers: [single]', 'transfers: [single, fax]'));
  const r = cli(['matrix', '--matrix', m], { MIGCOMPAT_RESULTS: join(tmp, 'results') });
  expect(r.status).toBe(2);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(/^migcompat: .*bad\.yaml: transfers\[1\]: expected a transfer plan .*got "fax"$/m);
  expect(r.stdout).toBe('');
  const s = cli(['matrix', '--shard', '3/2']);
  expect(s.status).toBe(2);
  expect(s.stderr).toBe("migcompat: --shard: K must be at most N, got '3/2'\n");
});
