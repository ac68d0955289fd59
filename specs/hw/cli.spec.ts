// The probe/capture/load/lab commands as processes, against the stand-in (MIGCOMPAT_VFIO_STANDIN)
// driving simulated revisions: exit codes, JSON, the provenance sidecar, and lab runs through a
// local transport that executes the same argument arrays SSH would carry.
import { test, expect } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { quoteArgv } from '../../harness/runners/lab/transport.ts';
import { parseInventory } from '../../harness/runners/lab/inventory.ts';
import { hostConfig, VF_A } from './fixtures.ts';

const MAIN = resolve('harness/cli/main.ts');
const CLI = [process.execPath, '--import', 'tsx', MAIN];

function cli(args: string[], standin: string, lockDir: string) {
  const r = spawnSync(CLI[0], [...CLI.slice(1), ...args], {
    encoding: 'utf8', env: { ...process.env, MIGCOMPAT_VFIO_STANDIN: standin, MIGCOMPAT_LOCK_DIR: lockDir },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('probe, capture with sidecar, load: exit codes and JSON', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mc-cli-'));
  const locks = join(dir, 'locks');
  const a = hostConfig(dir, 'kp-new', 'hisi-acc/v6.16', '6.16.0-kp');
  const b = hostConfig(dir, 'kp-old', 'hisi-acc/v5.18', '5.18.0-kp');
  const p = cli(['probe', '--device', VF_A, '--json'], a, locks);
  expect(p.code, p.stderr).toBe(0);
  expect(JSON.parse(p.stdout)).toMatchObject({ bdf: VF_A, host: 'kp-new', kernelRelease: '6.16.0-kp', migrationFlags: '0x5', state: 'RUNNING' });

  const out = join(dir, 'new.bin');
  const c = cli(['capture', '--device', VF_A, '-o', out], a, locks);
  expect(c.code, c.stderr).toBe(0);
  const side = JSON.parse(readFileSync(`${out}.json`, 'utf8'));
  expect(side).toMatchObject({ format: 'migcompat-stream-provenance/1', host: 'kp-new', kernelRelease: '6.16.0-kp', driver: 'hisi_acc_vfio_pci', bdf: VF_A, deviceId: '0xa256', precopy: true });
  expect(side.bytes).toBe(readFileSync(out).length);
  expect(Date.parse(side.capturedAt)).not.toBeNaN();
  // nothing already written is replaced without --force
  const again = cli(['capture', '--device', VF_A, '-o', out], a, locks);
  expect(again.code).toBe(2);
  expect(again.stderr.trim().split('\n')).toHaveLength(1);

  const same = cli(['load', '--device', VF_A, out, '--json'], a, locks);
  expect(same.code, same.stderr).toBe(0);
  expect(JSON.parse(same.stdout).verdict.outcome).toBe('migrated');
  const old = cli(['load', '--device', VF_A, out, '--transfer', 'chunks:40,136'], b, locks);
  expect(old.code).toBe(1);
  expect(old.stdout).toMatch(/^refused: .*\[EINVAL at resuming->stop\]; device RUNNING/);
  // a tampered stream no longer matches its sidecar: bad input
  const bytes = readFileSync(out);
  bytes[40] ^= 1;
  writeFileSync(out, bytes);
  const tampered = cli(['load', '--device', VF_A, out], a, locks);
  expect(tampered.code).toBe(2);
  expect(tampered.stderr).toMatch(/sha256 does not match/);
});

test('bad input is one line and exit 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mc-cli-'));
  const a = hostConfig(dir, 'h', 'hisi-acc/v6.16', '6.16.0');
  const cases: Array<[string[], RegExp]> = [
    [['probe'], /--device is required/],
    [['probe', '--device', 'zz:zz'], /not a PCI address/],
    [['probe', '--device', VF_A, '--via', 'pci'], /--via must be/],
    [['capture', '--device', VF_A], /-o FILE is required/],
    [['load', '--device', VF_A, join(dir, 'missing.bin')], /cannot read .*missing.bin: ENOENT/],
    [['load', '--device', VF_A, a, '--transfer', 'chunks:0'], /bad transfer plan/],
    [['lab', join(dir, 'nope.yaml')], /cannot read/],
  ];
  for (const [args, re] of cases) {
    const r = cli(args, a, join(dir, 'locks'));
    expect(r.code, args.join(' ')).toBe(2);
    expect(r.stderr).toMatch(re);
    expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
  }
});

test('remote argv quoting: the shell sees exactly the argument array, hostile text included', () => {
  const argv = ['printf', '%s\\n', "it's", '$(touch /tmp/pwned)', '`id`', 'a b', '"q"', ';', '', '\\', '*'];
  const r = spawnSync('sh', ['-c', quoteArgv(argv)], { encoding: 'utf8' });
  expect(r.stdout).toBe(argv.slice(2).map((a) => `${a}\n`).join(''));
  expect(() => quoteArgv(['a\0b'])).toThrow();
});

test('inventory validation refuses what could reach a remote command line unchecked', () => {
  const host = (extra: string) => `hosts:\n  - name: a\n    ssh: { host: 10.0.0.1 }\n    kernel: "6.1"\n    vfs: ["0000:75:00.1"]\n${extra}`;
  expect(parseInventory(host('')).hosts[0]).toMatchObject({ name: 'a', migcompat: ['migcompat'], ssh: { user: 'root', port: 22 } });
  expect(() => parseInventory(host('    env: { "A;B": x }\n'))).toThrow(/hosts\[0\]\.env\.A;B: expected an environment variable name/);
  expect(() => parseInventory(host('    migcompat: "migcompat --x"\n'))).toThrow(/argument array/);
  expect(() => parseInventory(host('').replace('0000:75:00.1', '75:00.1; reboot'))).toThrow(/hosts\[0\]\.vfs\[0\]: expected a PCI address like 0000:75:00\.1 or an mdev:UUID, got "75:00\.1; reboot"/);
  expect(() => parseInventory(host('').replace('name: a', 'name: "a b"'))).toThrow(/hosts\[0\]\.name: expected a name of letters, digits/);
  expect(() => parseInventory('hosts: []')).toThrow(/hosts: expected a non-empty list of hosts/);
  expect(() => parseInventory('hosts: [')).toThrow(/invalid YAML at line 1/);
});

test('lab run: both directions between two kernels, then the corpus replayed on every other host', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mc-lab-'));
  const locks = join(dir, 'locks');
  const a = hostConfig(dir, 'kp-new', 'hisi-acc/v6.16', '6.16.0-kp');
  const b = hostConfig(dir, 'kp-old', 'hisi-acc/v5.18', '5.18.0-kp');
  const inv = (name: string, cfg: string, kernel: string) =>
    `  - name: ${name}\n    ssh: { host: 127.0.0.1 }\n    kernel: ${kernel}\n    vfs: ["${VF_A}"]\n    workdir: ${join(dir, name)}\n` +
    `    migcompat: ${JSON.stringify(CLI)}\n    env: { MIGCOMPAT_VFIO_STANDIN: "${cfg}", MIGCOMPAT_LOCK_DIR: "${locks}" }\n`;
  const yaml = join(dir, 'inventory.yaml');
  writeFileSync(yaml, `hosts:\n${inv('kp-new', a, '6.16.0-kp')}${inv('kp-old', b, '5.18.0-kp')}`);
  const out = join(dir, 'out');
  const r = spawnSync(CLI[0], [...CLI.slice(1), 'lab', yaml, '--local', '--pairs', '--out', out, '--json'], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const cells = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
  expect(cells).toEqual([
    expect.objectContaining({ kind: 'pair', src: 'kp-new', dst: 'kp-old', srcKernel: '6.16.0-kp', outcome: 'refused', errno: 'EINVAL', stage: 'resuming->stop' }),
    expect.objectContaining({ kind: 'pair', src: 'kp-old', dst: 'kp-new', srcKernel: '5.18.0-kp', outcome: 'migrated' }),
  ]);
  expect(readFileSync(join(out, 'lab.md'), 'utf8')).toMatch(/\| kp-new \[6.16.0-kp\] \| refused \(EINVAL @ resuming->stop\) \| — \|/);
  const saved = JSON.parse(readFileSync(join(out, 'lab.json'), 'utf8'));
  expect(saved.cells[0].evidence.timeline.length).toBeGreaterThan(0);

  // corpus: the two captured streams (with sidecars), replayed on every host but their origin
  const corpus = join(out, 'streams');
  expect(existsSync(join(corpus, 'kp-old.bin.json'))).toBe(true);
  const rc = spawnSync(CLI[0], [...CLI.slice(1), 'lab', yaml, '--local', '--corpus', corpus, '--out', join(dir, 'out2'), '--json'], { encoding: 'utf8' });
  expect(rc.status, rc.stderr).toBe(0);
  const cc = JSON.parse(rc.stdout) as Array<Record<string, unknown>>;
  expect(cc.map((c) => [c.kind, c.src, c.dst, c.outcome])).toEqual([
    ['corpus', 'kp-new.bin (kp-new)', 'kp-old', 'refused'],
    ['corpus', 'kp-old.bin (kp-old)', 'kp-new', 'migrated'],
  ]);
});
