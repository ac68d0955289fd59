// A qemu bundle replays on the qemu runner: `migcompat replay` reads runner: qemu from the bundle,
// boots the case again through QemuRunner and compares outcome, errno and stage (the reason of a
// whole-VM run carries timings). One boot: a destination with another RAM size, refused.
import { test, expect } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_DEVICE } from '../../harness/device/mmio.ts';
import { writeBundle } from '../../harness/report/bundle.ts';
import { caseTitle, type CaseSpec } from '../../harness/runners/types.ts';

function cli(args: string[], env: Record<string, string> = {}) {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TEST_|PW_|PLAYWRIGHT_)/.test(k))) as Record<string, string>;
  return spawnSync(process.execPath, ['--import', 'tsx', 'harness/cli/main.ts', ...args], { encoding: 'utf8', env: { ...base, ...env } });
}

test('replay of a qemu bundle boots the case again and agrees with the bundle; a non-qemu id is exit 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mc-qreplay-'));
  const spec: CaseSpec = {
    src: 'qemu/7.2.22', dst: 'qemu/7.2.22+mem=512', workload: 'kernel-crypto', scenario: 'single-hop', transfer: 'unix',
    device: DEFAULT_DEVICE, requests: 8, inflight: 2, requestSize: 64, seed: 1,
  };
  const bundle = join(dir, 'b.json');
  const write = (outcome: 'refused' | 'migrated', s = spec) => writeBundle(bundle, {
    createdAt: new Date().toISOString(), createdBy: 'test', runner: 'qemu', title: caseTitle(s), case: s, profiles: {}, stream: null,
    verdict: { outcome, reason: 'as recorded', errno: null, stage: 'qemu-load' }, timelineDigest: null,
  });
  write('refused');
  const r = cli(['replay', bundle, '--json'], { MIGCOMPAT_RESULTS: join(dir, 'results') });
  expect(r.status, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout);
  expect(out).toMatchObject({ runner: 'qemu', same: true, verdict: { outcome: 'refused', stage: 'qemu-load' } });
  expect(out.verdict.reason).not.toBe('as recorded'); // the reason is the new run's, not compared
  write('refused', { ...spec, dst: 'hisi-acc/v6.16' });
  const bad = cli(['replay', bundle]);
  expect(bad.status).toBe(2);
  expect(bad.stderr.trim()).toMatch(/case\.dst: 'hisi-acc\/v6\.16' is not a qemu runner id$/);
});
