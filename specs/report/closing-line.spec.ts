// The closing line of a Playwright run: passed, failed, skipped with their reasons, and tests that
// never ran (a project they depend on failed, a serial group stopped). A real Playwright run on a
// throwaway config.
import { test, expect } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { skippedPart } from '../../harness/report/closingLine.ts';

test('skip reasons are grouped, most frequent first', () => {
  expect(skippedPart([])).toBe('');
  expect(skippedPart(['b', 'a', 'b'])).toBe(', 3 skipped (2 × b; 1 × a)');
});

test('a run prints passed, failed, skipped with reasons and did-not-run on its last line', () => {
  // inside the repository, so that the config resolves @playwright/test from our node_modules
  const dir = test.info().outputPath('pw');
  mkdirSync(join(dir, 'a'), { recursive: true });
  mkdirSync(join(dir, 'b'), { recursive: true });
  const reporter = resolve('harness/report/closingLine.ts');
  writeFileSync(join(dir, 'playwright.config.ts'), `
import { defineConfig } from '@playwright/test';
export default defineConfig({
  reporter: [['list'], [${JSON.stringify(reporter)}]],
  workers: 1,
  projects: [
    { name: 'a', testDir: 'a' },
    { name: 'b', testDir: 'b', dependencies: ['a'] },
  ],
});
`);
  writeFileSync(join(dir, 'a', 'a.spec.ts'), `
import { test, expect } from '@playwright/test';
test('passes', () => expect(1).toBe(1));
test('fails', () => expect(1).toBe(2));
test('declared failure', () => { test.fail(true, 'known'); expect(1).toBe(2); });
test('no VFs 1', () => { test.skip(true, 'no VFs: set MIGCOMPAT_VFIO_DEVICES'); });
test('no VFs 2', () => { test.skip(true, 'no VFs: set MIGCOMPAT_VFIO_DEVICES'); });
test('two VFs', () => { test.skip(true, 'needs two VFs'); });
test.fixme('unfinished', () => {});
test.describe('serial', () => {
  test.describe.configure({ mode: 'serial' });
  test('first fails', () => expect(1).toBe(2));
  test('then never runs', () => expect(1).toBe(1));
});
`);
  writeFileSync(join(dir, 'b', 'b.spec.ts'), `
import { test, expect } from '@playwright/test';
test('after a', () => expect(1).toBe(1));
test('after a too', () => expect(1).toBe(1));
`);
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TEST_|PW_|PLAYWRIGHT_|npm_)/.test(k))) as Record<string, string>;
  const r = spawnSync(process.execPath, [resolve('node_modules/@playwright/test/cli.js'), 'test', '-c', join(dir, 'playwright.config.ts')], { cwd: dir, encoding: 'utf8', env: { ...env, CI: '' } });
  expect(r.status, r.stderr).toBe(1);
  const last = r.stdout.trim().split('\n').pop();
  expect(last).toBe('2 passed, 2 failed, 4 skipped (2 × no VFs: set MIGCOMPAT_VFIO_DEVICES; 1 × fixme with no reason given; 1 × needs two VFs), 3 did not run');
});
