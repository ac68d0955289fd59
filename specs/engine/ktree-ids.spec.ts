// `ktree:` ids wherever a revision id goes: loadRevision resolves them without loading koffi, and
// runCase / the sim Runner / checkStream run real code in a child process, where a crash or a hang
// ends only that case, as `error`. The isolation tests use stand-in libraries; the tests of the real
// Debian code by id are in specs/ktree/ids.spec.ts, whose project builds the tree.
import { test, expect } from '@playwright/test';
import '../../harness/ktree/install.ts'; // the runners' isolated executor (ktree's child processes)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_DEVICE } from '../../harness/device/mmio.ts';
import { loadRevision, registerRevision, unregisterRevision } from '../../harness/drivers/registry.ts';
import { judge } from '../../harness/oracle/judge.ts';
import { runCase, simRunner } from '../../harness/runners/sim.ts';
import { checkStream } from '../../harness/runners/simCheck.ts';
import type { CaseSpec } from '../../harness/runners/types.ts';
import { requireProgram } from '../../harness/util/debian.ts';
import { streamFrom } from './drivers-helpers.ts';


const spec = (src: string, dst: string, o: Partial<CaseSpec> = {}): CaseSpec => ({
  src, dst, workload: 'kernel-crypto', scenario: 'single-hop', transfer: 'single', device: DEFAULT_DEVICE,
  requests: 8, inflight: 2, requestSize: 256, seed: 4, ...o,
});

test('the model path never loads koffi', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ktree-ids-'));
  const script = join(dir, 'probe.mts');
  writeFileSync(script, [
    `import { createRequire } from 'node:module';`,
    `const { runAndJudge, checkStream } = await import(${JSON.stringify(join(process.cwd(), 'harness/runners/sim.ts'))});`,
    `const { DEFAULT_DEVICE } = await import(${JSON.stringify(join(process.cwd(), 'harness/device/mmio.ts'))});`,
    `const r = runAndJudge({ src: 'v6.16', dst: 'v6.16', workload: 'kernel-crypto', scenario: 'single-hop', transfer: 'qemu', device: DEFAULT_DEVICE, requests: 4, inflight: 1, requestSize: 64, seed: 1 });`,
    `const cache = Object.keys(createRequire(import.meta.url).cache);`,
    `console.log(JSON.stringify({ outcome: r.verdict.outcome, koffi: cache.some((k) => /[\\\\/]koffi[\\\\/]/.test(k)) }));`,
  ].join('\n'));
  const r = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', cwd: process.cwd() });
  expect(r.status, r.stderr).toBe(0);
  expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toEqual({ outcome: 'migrated', koffi: false });
});

test.describe('isolation: a crash or a hang of real code is the case\'s error, the process goes on', () => {
  let dir = '';
  const lib = (name: string, body: string): string => {
    const c = join(dir, `${name}.c`);
    const so = join(dir, `${name}.so`);
    writeFileSync(c, `void shim_set_callbacks(void) { ${body} }\n`);
    // no gcc: one line naming the package (a failure, never a skip)
    const g = spawnSync(requireProgram('/usr/bin/gcc', 'gcc'), ['-shared', '-fPIC', '-O0', '-o', so, c], { encoding: 'utf8' });
    if (g.status !== 0) throw new Error(`gcc: ${g.stderr}`);
    return so;
  };
  test.beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ktree-standin-'));
  });
  const register = (id: string, so: string) => registerRevision({
    id, title: 'stand-in', kernel: '', kind: 'external', source: so, childLib: so,
    bind: () => { throw new Error('bound in process: isolation was bypassed'); },
  }, { replace: true });

  test('a library that crashes on load: runCase, the Runner and checkStream all report error', async () => {
    register('ktree:crash', lib('crash', '*(volatile int *)0 = 1;'));
    try {
      const ev = runCase(spec('ktree:crash', 'hisi-acc/v6.16'));
      expect(ev.harnessError).toBe('real driver code crashed: SIGSEGV');
      expect(judge(ev).outcome).toBe('error');
      const viaRunner = await simRunner.run(spec('hisi-acc/v6.16', 'ktree:crash'));
      expect(viaRunner.harnessError).toMatch(/SIGSEGV/);
      const c = checkStream({ rev: 'ktree:crash', stream: streamFrom('v6.16') });
      expect([c.accepted, c.stage, c.harnessError]).toEqual([false, 'error', 'real driver code crashed: SIGSEGV']);
      // models in the same process are untouched
      expect(judge(runCase(spec('hisi-acc/v6.16', 'hisi-acc/v6.16'))).outcome).toBe('migrated');
    } finally {
      unregisterRevision('ktree:crash');
    }
  });

  test('a library that never returns is killed at the time limit', () => {
    register('ktree:spin', lib('spin', 'for (;;) ;'));
    const before = process.env.MIGCOMPAT_KTREE_TIMEOUT_MS;
    process.env.MIGCOMPAT_KTREE_TIMEOUT_MS = '15000';
    try {
      const ev = runCase(spec('ktree:spin', 'hisi-acc/v6.16'));
      expect(ev.harnessError).toBe('real driver code did not finish within 15000 ms (killed)');
      expect(judge(ev).outcome).toBe('error');
    } finally {
      if (before === undefined) delete process.env.MIGCOMPAT_KTREE_TIMEOUT_MS;
      else process.env.MIGCOMPAT_KTREE_TIMEOUT_MS = before;
      unregisterRevision('ktree:spin');
    }
  });
});

// The real Debian 6.1.192 code by id (it needs the built tree): specs/ktree/ids.spec.ts.
