// The kernel backend (koffi, the same code that drives real VFs) against the stand-in library whose
// devices run a revision model: the conformance column of a stand-in device equals its revision's,
// a hang inside the device model is a hang verdict (not the EIO the C side saw), and --peer names
// the incompatible device whose stream must be refused.
import { test, expect } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StandinConfig } from '../../harness/vfio/kernel/standin/config.ts';
import { fakeSysfs } from '../hw/fixtures.ts';

const A = '0000:75:00.1';
const B = '0000:76:00.2';

function cli(args: string[], env: Record<string, string>) {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TEST_|PW_|PLAYWRIGHT_)/.test(k))) as Record<string, string>;
  return spawnSync(process.execPath, ['--import', 'tsx', 'harness/cli/main.ts', ...args], { encoding: 'utf8', env: { ...base, CI: '', ...env } });
}

test('a stand-in device of v6.16 through the kernel backend conforms exactly as the v6.16 model', () => {
  test.setTimeout(300_000);
  const dir = mkdtempSync(join(tmpdir(), 'mc-conf-standin-'));
  const sysfsRoot = fakeSysfs([{ bdf: A, driver: 'hisi_acc_vfio_pci', group: 12, cdev: 3 }, { bdf: B, driver: 'hisi_acc_vfio_pci', group: 13, cdev: 4 }], join(dir, 'sys'));
  const cfg: StandinConfig = { sysfsRoot, host: 'standin', kernelRelease: '6.16.0-standin', devices: [
    { bdf: A, group: 12, cdev: 3, revision: 'hisi-acc/v6.16' },
    // the peer: same revision, another PCI device (a ZIP VF)
    { bdf: B, group: 13, cdev: 4, revision: 'hisi-acc/v6.16', device: { type: 'ZIP' } },
  ] };
  const cfgFile = join(dir, 'host.json');
  writeFileSync(cfgFile, JSON.stringify(cfg));
  const env = { MIGCOMPAT_VFIO_STANDIN: cfgFile, MIGCOMPAT_LOCK_DIR: join(dir, 'locks') };
  const r = cli(['conform', '--rev', `${A},v6.16`, '--peer', B, '--json', '--out', join(dir, 'out')], env);
  // the stand-in device is not in the known list: its violations are the model's, undeclared here
  expect(r.status, r.stderr).toBe(1);
  const out = JSON.parse(r.stdout) as { subjects: { id: string; kind: string; flags: number }[]; cells: { clause: string; subject: string; verdict: string; evidence: { steps: { res: string }[] } | null }[] };
  expect(out.subjects.map((s) => [s.id, s.kind, s.flags])).toEqual([[A, 'kernel', 5], ['hisi-acc/v6.16', 'model', 5]]);
  const col = (id: string) => Object.fromEntries(out.cells.filter((c) => c.subject === id).map((c) => [c.clause, c.verdict]));
  expect(col(A)).toEqual(col('hisi-acc/v6.16'));
  // the device model's hang inside the C callback comes back as the hang it is
  const hang = out.cells.find((c) => c.subject === A && c.clause === 'blocked-arcs-refused')!;
  expect(hang.verdict).toBe('hang');
  expect(hang.evidence!.steps.at(-1)!.res).toBe('HANG');
  // the ZIP peer's stream was tried and refused
  expect(col(A)['stream-refused-from-incompatible-device']).toBe('holds');
});
