// The revisions, check and run commands as a user runs them (exit codes: 0 ok, 1 refused/error, 2 bad input).
import { test, expect } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { streamFrom } from './drivers-helpers.ts';

const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'harness/cli/main.ts', ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const dir = mkdtempSync(join(tmpdir(), 'migcompat-cli-'));
const v2Path = () => {
  const p = join(dir, 'plain-v2.bin');
  writeFileSync(p, streamFrom('v6.16'));
  return p;
};

test('revisions --json lists every profile with exact 64-bit magics', () => {
  const r = cli('revisions', '--json');
  expect(r.code).toBe(0);
  const revs = JSON.parse(r.out) as { id: string; traits: { write: { magic: string } } }[];
  expect(revs.find((x) => x.id === 'hisi-acc/v6.16')!.traits.write.magic).toBe('0xaaccfeeddecadede');
  expect(revs.length).toBeGreaterThanOrEqual(8);
});

test('check: accepted exits 0, refused exits 1 with errno and stage, bad input exits 2', () => {
  const v2 = join(dir, 'v2.bin');
  writeFileSync(v2, streamFrom('v6.16'));
  const ok = cli('check', '--rev', 'hisi-acc/v7.0', '--stream', v2, '--json');
  expect(ok.code).toBe(0);
  const j = JSON.parse(ok.out);
  expect(j).toMatchObject({ accepted: true, errno: null, stage: null, rev: 'hisi-acc/v7.0' });
  expect(j.restored.eqeDma).toMatch(/^0x[0-9a-f]{16}$/);
  const bad = cli('check', '--rev', 'v5.18', '--stream', v2, '--json');
  expect(bad.code).toBe(1);
  expect(JSON.parse(bad.out)).toMatchObject({ accepted: false, errno: 'EINVAL', stage: 'resuming->stop' });
  const destFile = join(dir, 'zip.yaml');
  writeFileSync(destFile, 'type: ZIP\nqpNum: 4\n');
  expect(JSON.parse(cli('check', '--rev', 'v6.16', '--stream', v2, '--dest', destFile, '--json').out)).toMatchObject({ errno: 'EFAULT', stage: 'write' });
  const text = cli('check', '--rev', 'v6.16', '--stream', v2, '--transfer', 'chunks:40,136');
  expect(text.out).toMatch(/ACCEPTED/);
  for (const args of [['check', '--rev', 'v9.9', '--stream', v2], ['check', '--rev', 'v6.16', '--stream', join(dir, 'missing.bin')],
    ['check', '--rev', 'v6.16'], ['check', '--rev', 'v6.16', '--stream', v2, '--transfer', 'dribble']]) {
    const e = cli(...args);
    expect(e.code, args.join(' ')).toBe(2);
    expect(e.err.trim().split('\n').length).toBe(1);
  }
  writeFileSync(join(dir, 'bad.yaml'), 'type: GPU\n');
  expect(cli('check', '--rev', 'v6.16', '--stream', v2, '--dest', join(dir, 'bad.yaml')).err).toMatch(/bad\.yaml: type: expected one of SEC, HPRE, ZIP, got "GPU"/);
});

test('check --rev all: one row per revision with result, errno, stage and event bases; exit 0 when every row answers', () => {
  const v1 = join(dir, 'v1-all.bin');
  writeFileSync(v1, streamFrom('v5.18', 'kernel-crypto'));
  const r = cli('check', '--rev', 'all', '--stream', v1, '--json');
  expect(r.code, r.err).toBe(0);
  const rows = JSON.parse(r.out) as { rev: string; accepted: boolean; errno: string | null; stage: string | null; restored: { eqeDma: string } }[];
  const ids = rows.map((x) => x.rev);
  for (const id of ['hisi-acc/v5.18', 'hisi-acc/v6.16', 'hisi-acc/v7.0', 'hisi-acc/debian-6.1.192', 'hisi-acc/proposal-2024']) expect(ids).toContain(id);
  const by = (id: string) => rows.find((x) => x.rev === id)!;
  // the proposal refuses V1 at the write-time check; every released revision takes it
  expect(by('hisi-acc/proposal-2024')).toMatchObject({ accepted: false, errno: 'EFAULT', stage: 'write' });
  expect(by('hisi-acc/v5.18')).toMatchObject({ accepted: true, errno: null, stage: null });
  // v5.18 keeps the buggy dw1:dw0 base, v6.16 recomputes dw2:dw1 from the contexts
  expect(by('hisi-acc/v5.18').restored.eqeDma).not.toBe(by('hisi-acc/v6.16').restored.eqeDma);
  expect(by('hisi-acc/v6.16').restored.eqeDma).toMatch(/^0x00000[0-9a-f]{11}$/);
  const text = cli('check', '--rev', 'all', '--stream', v1);
  expect(text.code).toBe(0);
  expect(text.out).toMatch(/^revision\s+result\s+errno\s+stage\s+eq base\s+aeq base\s+note$/m);
  expect(text.out).toMatch(/^proposal-2024\s+REFUSED\s+EFAULT\s+write\s+-\s+-\s+match check failed: magic 0xcdcdcdcdfeedaacc not accepted$/m);
  expect(text.out).toMatch(new RegExp(`^v5\\.18\\s+ACCEPTED\\s+-\\s+-\\s+${by('hisi-acc/v5.18').restored.eqeDma}\\s`, 'm'));
  expect(text.out).toMatch(/^\d+ checks: \d+ accepted, 1 refused; transfer single$/m);
  // a comma list, in the order given; a YAML profile path is a revision too
  const list = JSON.parse(cli('check', '--rev', 'v7.0,v5.18', '--stream', v1, '--json').out) as { rev: string }[];
  expect(list.map((x) => x.rev)).toEqual(['hisi-acc/v7.0', 'hisi-acc/v5.18']);
  const prop = join(dir, 'v1-refusing.yaml');
  writeFileSync(prop, 'id: hisi-acc/test-no-v1\ntitle: t\nkernel: t\nextends: hisi-acc/v7.0\ntraits:\n  accept: [{ magic: V2, major: 1 }]\n');
  const withYaml = JSON.parse(cli('check', '--rev', `v7.0,${prop}`, '--stream', v1, '--json').out) as { rev: string; accepted: boolean }[];
  expect(withYaml.map((x) => [x.rev, x.accepted])).toEqual([['hisi-acc/v7.0', true], ['hisi-acc/test-no-v1', false]]);
  for (const args of [['check', '--rev', 'all,v9.9', '--stream', v1], ['check', '--rev', ',', '--stream', v1]]) {
    const e = cli(...args);
    expect(e.code, args.join(' ')).toBe(2);
    expect(e.err.trim().split('\n')).toHaveLength(1);
  }
});

test('check --rev with several revisions exits 1 when a destination hangs (and says where)', () => {
  // the offset-blind v6.2 copy of chunks 56,56,64 leaves 0x10000000 at qp_num: start_device never ends
  const fuzz = join(dir, 'fuzz-v62.bin');
  writeFileSync(fuzz, Buffer.from(
    'ccaaedfecdcdcdcd0400000056a20000000000000400000000000000000000000000000000000000' +
    '01000000010000000000000001000000000000000000000000000000000000000000000000000000' +
    '00000000000000000000000000000000000000000000000000000000000000000000000000000000' +
    '00000010000000000000000000000000000000000000000000000000000000000000000000000000' +
    '00000000000000000000000000000000', 'hex'));
  const r = cli('check', '--rev', 'v6.2,v6.8', '--stream', fuzz, '--transfer', 'chunks:56,56,64');
  expect(r.code).toBe(1);
  expect(r.out).toMatch(/^v6\.2\s+HANG\s+-\s+hang\s+-\s+-\s+hang in hisi-acc\/v6\.2 start_device/m);
  expect(r.out).toMatch(/^v6\.8\s+(ACCEPTED|REFUSED)\s/m);
  expect(r.out).toMatch(/1 hung/);
});

test('check a QEMU migration file: every VFIO device section, or one picked with --device', async () => {
  const { syntheticStream } = await import('../qemu/syntheticStream.ts');
  const file = join(dir, 'two-vfs.mig');
  writeFileSync(file, syntheticStream([
    { idstr: '0000:00:03.0/vfio', payload: streamFrom('v5.18', 'kernel-crypto') },
    { idstr: '0000:00:04.0/vfio', payload: streamFrom('v6.16', 'kernel-crypto') },
  ]));
  const r = cli('check', '--rev', 'v5.18,v6.16', '--stream', file, '--json');
  expect(r.code, r.err).toBe(0);
  const rows = JSON.parse(r.out) as { device: string; rev: string; accepted: boolean; length: number; deviceComplete: boolean }[];
  expect(rows.map((x) => [x.device, x.rev, x.accepted])).toEqual([
    ['0000:00:03.0/vfio', 'hisi-acc/v5.18', true], ['0000:00:03.0/vfio', 'hisi-acc/v6.16', true],
    ['0000:00:04.0/vfio', 'hisi-acc/v5.18', false], ['0000:00:04.0/vfio', 'hisi-acc/v6.16', true],
  ]);
  expect(rows.every((x) => x.length === 176 && x.deviceComplete)).toBe(true);
  const text = cli('check', '--rev', 'v5.18,v6.16', '--stream', file);
  expect(text.out).toContain(`${file}: QEMU migration file; checking 0000:00:03.0/vfio (176 bytes), 0000:00:04.0/vfio (176 bytes)`);
  expect(text.out).toMatch(/^device\s+revision\s+result/m);
  expect(text.out).toMatch(/^0000:00:04\.0\/vfio\s+v5\.18\s+REFUSED\s+EINVAL\s+resuming->stop/m);
  // one device, one revision: the single-row contract (object, exit 0 accepted / 1 refused)
  const one = cli('check', '--rev', 'v5.18', '--stream', file, '--device', '0000:00:04.0', '--json');
  expect(one.code).toBe(1);
  expect(JSON.parse(one.out)).toMatchObject({ device: '0000:00:04.0/vfio', rev: 'hisi-acc/v5.18', accepted: false, errno: 'EINVAL' });
  const bad = cli('check', '--rev', 'v5.18', '--stream', file, '--device', '0000:00:09.0');
  expect(bad.code).toBe(2);
  expect(bad.err.trim()).toBe(`migcompat: --device 0000:00:09.0: no such VFIO device in ${file} (it has 0000:00:03.0/vfio, 0000:00:04.0/vfio)`);
  // a stream cut inside the second device's END section: the first device's data is checked, the
  // second carried none before the cut, and the problem is said
  const cut = join(dir, 'cut.mig');
  const whole = syntheticStream([
    { idstr: '0000:00:03.0/vfio', payload: streamFrom('v6.16', 'kernel-crypto') },
    { idstr: '0000:00:04.0/vfio', payload: streamFrom('v6.16', 'kernel-crypto') },
  ]);
  writeFileSync(cut, whole.subarray(0, whole.indexOf(Buffer.from('timer')) - 40));
  const c = cli('check', '--rev', 'v6.16', '--stream', cut);
  expect(c.out).toMatch(/^note: QEMU stream problem at offset \d+: VFIO section 0000:00:04\.0\/vfio: truncated/m);
  expect(c.out).toContain(`${cut}: QEMU migration file; checking 0000:00:03.0/vfio (176 bytes)\n`);
  expect(c.out).toMatch(/^hisi-acc\/v6\.16: ACCEPTED/m);
  // cut inside the first device's END section: no device data reached the destination at all
  const early = join(dir, 'early.mig');
  writeFileSync(early, whole.subarray(0, whole.indexOf(Buffer.from(streamFrom('v6.16', 'kernel-crypto'))) + 100));
  const e = cli('check', '--rev', 'v6.16', '--stream', early);
  expect(e.code).toBe(2);
  expect(e.err).toMatch(/no VFIO device data in the QEMU migration stream \(QEMU stream problem at offset \d+: VFIO section 0000:00:03\.0\/vfio: truncated/);
  expect(cli('check', '--rev', 'v6.16', '--stream', v2Path(), '--device', 'x').code).toBe(2);
});

test('run --json: one record per case with the contract fields; text grid', () => {
  const r = cli('run', '--src', 'v5.18,v6.16', '--dst', 'v6.16', '--workload', 'kernel-crypto', '--transfer', 'qemu', '--seed', '3', '--json');
  expect(r.code).toBe(0);
  const recs = JSON.parse(r.out);
  expect(recs).toHaveLength(2);
  for (const k of ['src', 'dst', 'workload', 'transfer', 'device', 'outcome', 'reason', 'errno', 'stage', 'seed']) expect(recs[0]).toHaveProperty(k);
  expect(recs.map((x: { outcome: string }) => x.outcome)).toEqual(['migrated', 'migrated']);
  const g = cli('run', '--src', 'v6.16', '--dst', 'v5.18,v6.16', '--workload', 'no-driver', '--transfer', 'single');
  expect(g.out).toMatch(/no-driver \/ single/);
  expect(g.out).toMatch(/v6\.16\s+R\s+M/);
  expect(cli('run', '--src', 'v6.16', '--dst', 'v6.16', '--workload', 'gaming').code).toBe(2);
  expect(cli('run', '--src', 'v6.16').code).toBe(2);
});
