// The README's `npm test` on a bare Debian machine: none of the packages the tests need installed,
// apt's lists too old to offer them. Nothing is removed from this machine: dpkg and apt are pointed
// at a copy of their state with the packages taken out (specs/setup/bare.ts).
// - not root: `npm test` stops at once, one line naming the exact command, exit 2, nothing else ran;
// - root: the set-up refreshes apt's lists and apt can install every listed package (simulated).
import { test, expect } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readHostNeeds } from '../../harness/util/hostPackages.ts';
import { asNonRoot, asRoot, bareView, removeViews } from './bare.ts';

const REPO = resolve('.');
const needs = readHostNeeds();

test.afterEach(() => removeViews());

/** The line a non-root `npm test` must print on a bare machine (the list's packages and architectures). */
function refusal(pkgs: string[], arches: string[], list = '.ci/apt-packages.txt'): string {
  const what = [`Debian packages ${pkgs.join(', ')}`, ...(arches.length ? [`dpkg architecture ${arches.join(', ')}`] : [])].join(' and ');
  const cmd = [...arches.map((a) => `dpkg --add-architecture ${a}`), 'apt-get update', `apt-get install -y --no-install-recommends ${pkgs.join(' ')}`].join(' && ');
  return `migcompat: the tests need ${what} (${list}); as root: ${cmd}`;
}

/** The checkout, or a copy of what `npm test`'s first step reads when nobody cannot read the checkout. */
function checkoutFor(user: (argv: string[]) => string[], dir: string): string {
  const argv = user(['sh', '-c', 'test -r package.json && test -x node_modules/.bin/tsx && test -r .ci/apt-packages.txt']);
  const probe = spawnSync(argv[0]!, argv.slice(1), { cwd: REPO });
  if (probe.status === 0) return REPO;
  const copy = join(dir, 'repo');
  mkdirSync(copy, { mode: 0o755 });
  for (const f of ['package.json', 'tsconfig.json', '.ci', 'harness', 'node_modules']) cpSync(join(REPO, f), join(copy, f), { recursive: true, verbatimSymlinks: true });
  spawnSync('chmod', ['-R', 'a+rX', copy]);
  return copy;
}

/** stderr without npm's own lines ("npm warn …", "npm notice …"). */
const ourLines = (stderr: string) => stderr.split('\n').filter((l) => l && !/^npm (warn|notice|error|WARN|ERR)/.test(l));

test('not root: `npm test` stops at once with the one line naming the apt-get command, exit 2', () => {
  const view = bareView(needs.packages);
  const cwd = checkoutFor(asNonRoot, view.dir);
  // `-- --list` reaches only the last step (playwright test): should the set-up wrongly let the run go
  // on, it lists the tests instead of running the whole suite inside this one
  const argv = asNonRoot(['npm', 'test', '--', '--list']);
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd, env: view.env, encoding: 'utf8', timeout: 120_000 });
  expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(2);
  expect(ourLines(r.stderr)).toEqual([refusal(needs.packages, needs.architectures)]);
  // at once: nothing after the set-up ran (the formats build prints "formats: …", Playwright its closing line)
  expect(r.stdout).not.toMatch(/formats:|passed|failed/);
});

test('not root: only what is missing is named, with the architectures the list asks for', () => {
  const view = bareView(['kcapi-tools', 'busybox-static']);
  const cwd = checkoutFor(asNonRoot, view.dir);
  const list = join(view.dir, 'list.txt');
  writeFileSync(list, '# a list that also needs arm64 packages\narchitecture: arm64\nkcapi-tools\ngcc # installed here\nbusybox-static\n');
  spawnSync('chmod', ['a+r', list]);
  const argv = asNonRoot([process.execPath, '--import', 'tsx', 'harness/cli/main.ts', 'setup', '--list', list]);
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd, env: view.env, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr.trim().split('\n')).toEqual([refusal(['kcapi-tools', 'busybox-static'], ['arm64'], list)]);
});

test('root, lists that offer nothing: the set-up refreshes them and apt can install every listed package', async () => {
  const view = bareView(needs.packages);
  const status = readFileSync(join(view.admin, 'status'), 'utf8');
  expect(readdirSync(view.lists).filter((f) => f.endsWith('Packages') || f.includes('Packages.'))).toEqual([]);
  // --dry-run: apt simulates the install (the view's apt.conf forces simulation besides)
  const argv = asRoot([process.execPath, '--import', 'tsx', 'harness/cli/main.ts', 'setup', '--dry-run', '--json']);
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: REPO, env: view.env, encoding: 'utf8', timeout: 300_000 });
  expect(r.status, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout) as { missing: string[]; refreshed: string | null; installed: Record<string, string>; dryRun: boolean };
  expect(out.dryRun).toBe(true);
  expect(out.missing).toEqual(needs.packages);
  expect(out.refreshed).toBe(`apt's lists offer no ${needs.packages.join(', ')}`);
  // apt fetched lists into the view, and from them it would install each listed package
  expect(readdirSync(view.lists).some((f) => /_Packages(\.\w+)?$/.test(f))).toBe(true);
  for (const p of needs.packages) expect(out.installed[p], p).toMatch(/^[0-9]/);
  // and nothing was installed in the view
  expect(readFileSync(join(view.admin, 'status'), 'utf8')).toBe(status);
});

test('the machine as it is: every listed package installed, `migcompat setup` says so and installs nothing', () => {
  // the run we are in went through `npm test`'s set-up, or the packages were installed by hand
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'harness/cli/main.ts', 'setup', '--json'], { cwd: REPO, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout) as { missing: string[]; installed: Record<string, string> };
  expect(out.missing).toEqual([]);
  expect(out.installed).toEqual({});
});
