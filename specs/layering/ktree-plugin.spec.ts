// ktree plugs itself into the layers below it (harness/ktree/install.ts): the driver registry and the
// runners never import ktree, yet `ktree:` ids keep working wherever they did, because every entry
// point loads the ktree side: the CLI, the matrix loader, the Playwright matrix spec with its grid
// reporter. A stand-in build (a library that crashes when loaded) is registered in a throw-away
// cache, so nothing is fetched or built; its crash in the child process proves the case went through
// ktree's resolver and its isolated executor.
import { test, expect } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import type { Summary } from '../../harness/report/record.ts';
import { requireProgram } from '../../harness/util/debian.ts';
import { streamFrom } from '../engine/drivers-helpers.ts';

const ROOT = process.cwd();
let dir = '';
let cache = '';
let libPath = '';

test.beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'migcompat-ktree-plugin-'));
  cache = join(dir, 'cache');
  mkdirSync(join(cache, 'ktree'), { recursive: true });
  const c = join(dir, 'standin.c');
  libPath = join(dir, 'standin.so');
  writeFileSync(c, 'void shim_set_callbacks(void) { *(volatile int *)0 = 1; }\n');
  // no gcc: one line naming the package (a failure, never a skip)
  const g = spawnSync(requireProgram('/usr/bin/gcc', 'gcc'), ['-shared', '-fPIC', '-O0', '-o', libPath, c], { encoding: 'utf8' });
  if (g.status !== 0) throw new Error(`gcc could not build the stand-in library: ${g.stderr}`);
  const entry = { name: 'standin', tree: dir, kernelVersion: '0.0.0', libPath, hash: 'standin', registeredAt: new Date(0).toISOString() };
  writeFileSync(join(cache, 'ktree', 'registry.json'), JSON.stringify({ standin: entry }));
});

/** A fresh process (none of this worker's modules loaded), the stand-in cache, Playwright's variables left out. */
function run(args: string[], env: Record<string, string> = {}) {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TEST_|PW_|PLAYWRIGHT_)/.test(k))) as Record<string, string>;
  return spawnSync(process.execPath, ['--import', 'tsx', ...args], {
    cwd: ROOT, encoding: 'utf8', env: { ...base, CI: '', FORCE_COLOR: '0', MIGCOMPAT_CACHE: cache, MIGCOMPAT_WORKERS: '1', ...env },
  });
}

/** A module-scoped script that imports only what `imports` names. */
function script(name: string, body: string): string {
  const f = join(dir, `${name}.mts`);
  writeFileSync(f, body.replaceAll('@/', `${ROOT}/`));
  return f;
}

test('below ktree a ktree: id names nothing: the registry says no resolver is installed, the runner no executor', () => {
  const f = script('below', `
    const { loadRevision, registerRevision } = await import('@/harness/drivers/registry.ts');
    const { runCase } = await import('@/harness/runners/sim.ts');
    const { DEFAULT_DEVICE } = await import('@/harness/device/mmio.ts');
    const out = {};
    try { loadRevision('ktree:standin'); out.load = 'resolved'; } catch (e) { out.load = e.name + ': ' + e.message; }
    registerRevision({ id: 'ktree:manual', title: '', kernel: '', kind: 'external', source: 'x.so', childLib: 'x.so', bind: () => { throw new Error('bound'); } });
    const spec = { src: 'ktree:manual', dst: 'hisi-acc/v6.16', workload: 'no-driver', scenario: 'single-hop', transfer: 'single', device: DEFAULT_DEVICE, requests: 2, inflight: 1, requestSize: 64, seed: 1 };
    try { runCase(spec); out.run = 'ran'; } catch (e) { out.run = e.message; }
    console.log(JSON.stringify(out));
  `);
  const r = run([f]);
  expect(r.status, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { load: string; run: string };
  expect(out.load).toMatch(/^UsageError: unknown revision 'ktree:standin' \(known: .*hisi-acc\/v6\.16.*; no resolver for 'ktree:' ids is installed\)$/);
  expect(out.run).toBe('ktree:manual -> v6.16 no-driver single SEC #1: real driver code runs isolated, but no isolated executor is installed (import harness/ktree/install.ts)');
});

test('the CLI resolves ktree: ids through ktree and runs them in its child process', () => {
  const stream = join(dir, 'v616.bin');
  writeFileSync(stream, streamFrom('v6.16'));
  const r = run(['harness/cli/main.ts', 'check', '--rev', 'ktree:standin', '--stream', stream, '--json']);
  expect(r.status, r.stderr).toBe(1);
  const j = JSON.parse(r.stdout) as { rev: string; stage: string; harnessError?: string };
  expect([j.rev, j.stage, j.harnessError]).toEqual(['ktree:standin', 'error', 'real driver code crashed: SIGSEGV']);
  // an unknown name is ktree's own message (its registry answered), one line, exit 2
  const u = run(['harness/cli/main.ts', 'check', '--rev', 'ktree:nope', '--stream', stream]);
  expect(u.status).toBe(2);
  expect(u.stderr).toBe('migcompat: unknown revision ktree:nope (registered: standin; run migcompat ktree build --tree PATH --name nope)\n');
});

const MATRIX = `
name: ktree-plugin
src: [ktree:standin]
dst: [v6.16]
workloads: [no-driver]
transfers: [single]
devices: { configs: [SEC] }
expect:
  - when: { src: [ktree:standin] }
    outcome: error
`;

test('the matrix loader resolves ktree: ids on its own', () => {
  const m = join(dir, 'k.yaml');
  writeFileSync(m, MATRIX);
  const f = script('loader', `
    const { suiteCases } = await import('@/harness/matrix/suite.ts');
    const { cases } = await suiteCases([${JSON.stringify(m)}], 'sim');
    console.log(JSON.stringify(cases.map((c) => [c.title, c.spec.src, c.spec.dst, c.expect.outcome])));
  `);
  const r = run([f]);
  expect(r.status, r.stderr).toBe(0);
  expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toEqual([['ktree:standin -> v6.16 no-driver single SEC', 'ktree:standin', 'hisi-acc/v6.16', 'error']]);
});

test('npm run matrix with a ktree: id: the Playwright spec runs it isolated and the grid reporter records it', () => {
  test.setTimeout(120_000);
  const m = join(dir, 'k.yaml');
  writeFileSync(m, MATRIX);
  const results = join(dir, 'results');
  const r = run(['harness/cli/main.ts', 'matrix', '--matrix', m, '--json'], { MIGCOMPAT_RESULTS: results, MIGCOMPAT_RUN_ID: 'k1' });
  expect(r.status, r.stderr + r.stdout).toBe(0);
  const s = JSON.parse(readFileSync(join(results, 'k1', 'summary.json'), 'utf8')) as Summary;
  expect(s.cases.map((c) => [c.spec.src, c.actual, c.status])).toEqual([['ktree:standin', 'error', 'expected']]);
  expect(s.cases[0].reason).toContain('real driver code crashed: SIGSEGV');
  // the reporter's repro bundle names the build behind the id (its profile snapshot)
  const file = s.cases[0].artifacts.bundle!;
  const bundle = JSON.parse(readFileSync(isAbsolute(file) ? file : join(results, 'k1', file), 'utf8')) as { profiles: Record<string, { path: string; text: string }> };
  expect(bundle.profiles['ktree:standin']).toEqual({ path: libPath, text: '' });
});
