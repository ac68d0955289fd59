// Hardware matrices end to end without hardware: `migcompat matrix --matrix M.yaml` (runner vfio-host)
// with MIGCOMPAT_VFIO_STANDIN (the kernel backend against the user-space stand-in, two VFs running
// simulated revisions) and MIGCOMPAT_VFIO_DEVICES naming them. The command picks the hw project from
// the matrix's runner, the cases go through VfioHostRunner, the grid files are the same as sim's, and
// a vfio-host bundle replays on the VFs it names. The stand-in keeps each VF for the whole process,
// like hardware, so the matrix here uses each VF once as a source and once as a destination.
import { test, expect } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suiteCases } from '../../harness/matrix/suite.ts';
import type { Summary } from '../../harness/report/record.ts';
import type { StandinConfig } from '../../harness/vfio/kernel/standin/config.ts';
import { fakeSysfs, VF_A, VF_B } from './fixtures.ts';

function cli(args: string[], env: Record<string, string>) {
  // a nested Playwright run must not inherit this worker's test-runner variables
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TEST_|PW_|PLAYWRIGHT_)/.test(k))) as Record<string, string>;
  return spawnSync(process.execPath, ['--import', 'tsx', 'harness/cli/main.ts', ...args], { encoding: 'utf8', env: { ...base, CI: '', ...env } });
}

test('specs/matrices/hw.yaml: every named VF to every named VF, both transfers, all same-version on one host', async () => {
  const saved = process.env.MIGCOMPAT_VFIO_DEVICES;
  process.env.MIGCOMPAT_VFIO_DEVICES = `${VF_A}, 76:00.2`;
  try {
    const { matrices, cases } = await suiteCases(['specs/matrices/hw.yaml'], 'vfio-host');
    expect(matrices[0]).toMatchObject({ runner: 'vfio-host', src: [VF_A, VF_B], dst: [VF_A, VF_B], workloads: ['no-driver'] });
    expect(cases).toHaveLength(8);
    expect(new Set(cases.map((c) => c.direction))).toEqual(new Set(['same-version']));
    expect(cases.every((c) => c.tags.includes('@hw') && c.expect.outcome === 'migrated')).toBe(true);
    process.env.MIGCOMPAT_VFIO_DEVICES = '';
    expect((await suiteCases(['specs/matrices/hw.yaml'], 'vfio-host')).cases).toEqual([]);
    process.env.MIGCOMPAT_VFIO_DEVICES = '0000:75:00.9';
    await expect(suiteCases(['specs/matrices/hw.yaml'], 'vfio-host')).rejects.toThrow(/MIGCOMPAT_VFIO_DEVICES: '0000:75:00.9' is not a PCI address/);
  } finally {
    if (saved === undefined) delete process.env.MIGCOMPAT_VFIO_DEVICES;
    else process.env.MIGCOMPAT_VFIO_DEVICES = saved;
  }
});

const PAIRS = (refusal: string) => `
name: hw-pairs
runner: vfio-host
src: all
dst: all
transfers: [single]
exclude:
  - { src: ${VF_A}, dst: ${VF_A} }
  - { src: ${VF_B}, dst: ${VF_B} }
expect:
  - when: { src: ${VF_A}, dst: ${VF_B} }
    outcome: ${refusal}
`;

test('vfio-host matrix on stand-in VFs: one grid, expectations, a bundle that replays on its VFs', async () => {
  test.setTimeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'mc-hwm-'));
  const sysfsRoot = fakeSysfs([
    { bdf: VF_A, driver: 'hisi_acc_vfio_pci', group: 12, cdev: 3 },
    { bdf: VF_B, driver: 'hisi_acc_vfio_pci', group: 13, cdev: 4 },
  ], join(dir, 'sys'));
  // VF_A runs the v6.16 model, VF_B v5.18: v5.18 rejects the stream v6.16 writes, the other way migrates
  const cfg: StandinConfig = {
    sysfsRoot, host: 'standin', kernelRelease: '6.16.0-standin',
    devices: [{ bdf: VF_A, group: 12, cdev: 3, revision: 'hisi-acc/v6.16' }, { bdf: VF_B, group: 13, cdev: 4, revision: 'hisi-acc/v5.18' }],
  };
  const cfgPath = join(dir, 'standin.json');
  writeFileSync(cfgPath, JSON.stringify(cfg));
  const matrix = join(dir, 'pairs.yaml');
  writeFileSync(matrix, PAIRS('refused'));
  const env = {
    MIGCOMPAT_VFIO_STANDIN: cfgPath, MIGCOMPAT_VFIO_DEVICES: `${VF_A},${VF_B}`, MIGCOMPAT_LOCK_DIR: join(dir, 'locks'),
    MIGCOMPAT_RESULTS: join(dir, 'results'), MIGCOMPAT_RUN_ID: 'hw1',
  };
  const r = cli(['matrix', '--matrix', matrix, '--json'], env);
  expect(r.status, r.stderr).toBe(0);
  expect(JSON.parse(r.stdout).counts).toMatchObject({ total: 2, migrated: 1, refused: 1, expected: 2, unexpected: 0 });
  const runDir = join(dir, 'results', 'hw1');
  const s = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as Summary;
  expect(s.matrix).toEqual(['hw-pairs']);
  expect(s.cases.map((c) => c.runner)).toEqual(['vfio-host', 'vfio-host']);
  const refused = s.cases.find((c) => c.title === `${VF_A} -> ${VF_B} no-driver single SEC`)!;
  expect(refused).toMatchObject({ actual: 'refused', expected: 'refused', rule: 'expect[0]', errno: 'EINVAL', stage: 'resuming->stop', status: 'expected' });
  expect(refused.streamHex?.length).toBe(176 * 2);
  const md = readFileSync(join(runDir, 'matrix.md'), 'utf8');
  expect(md).toContain(`| src \\ dst | ${VF_A} | ${VF_B} |`);
  expect(md).toContain(`| ${VF_A} |   | R |`);
  expect(md).toContain(`| ${VF_B} | M |   |`);
  expect(readFileSync(join(runDir, 'matrix.html'), 'utf8').match(/class="case /g)).toHaveLength(2);
  // Playwright ran only the hw project's matrix spec
  const junit = readFileSync(join(runDir, 'junit.xml'), 'utf8');
  expect(junit).toMatch(/tests="2"/);
  expect(junit).not.toMatch(/probe|capture then load/);

  const bundle = join(runDir, refused.artifacts.bundle!);
  expect(JSON.parse(readFileSync(bundle, 'utf8'))).toMatchObject({ runner: 'vfio-host', case: { src: VF_A, dst: VF_B }, verdict: { outcome: 'refused' } });
  const again = cli(['replay', bundle, '--json'], env);
  expect(again.status, again.stderr).toBe(0);
  expect(JSON.parse(again.stdout)).toMatchObject({ runner: 'vfio-host', same: true, verdict: { outcome: 'refused', errno: 'EINVAL' } });
  // VF_B upgraded to v6.16: the bundle's refusal no longer happens, replay says so and exits 1
  writeFileSync(cfgPath, JSON.stringify({ ...cfg, devices: cfg.devices.map((d) => ({ ...d, revision: 'hisi-acc/v6.16' })) }));
  const changed = cli(['replay', bundle], env);
  expect(changed.status, changed.stderr).toBe(1);
  expect(changed.stdout).toMatch(/^verdict: migrated/m);
  expect(changed.stdout).toContain('DIFFERS from the bundle');
  // and the matrix run on that host: the declared refusal is now an unexpected cell, exit 1
  const red = cli(['matrix', '--matrix', matrix, '--json'], { ...env, MIGCOMPAT_RUN_ID: 'hw2' });
  expect(red.status, red.stderr).toBe(1);
  expect(JSON.parse(red.stdout).unexpected).toEqual([expect.objectContaining({ title: refused.title, actual: 'migrated', expected: 'refused' })]);
});
