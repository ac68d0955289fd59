// The decode / diff / lint / encode commands as a user runs them: exit codes and output.
import { test, expect } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { goldenV1Full, goldenV2Full } from './vectors.ts';

const bin = new URL('../../bin/migcompat.js', import.meta.url).pathname;
function run(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

let dir: string;
test.beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'migcompat-cli-'));
  writeFileSync(join(dir, 'v1.bin'), goldenV1Full().bytes);
  writeFileSync(join(dir, 'v2.bin'), goldenV2Full().bytes);
  const bad = goldenV2Full().bytes;
  bad[28] = 7; // major_ver 7
  writeFileSync(join(dir, 'bad.bin'), bad);
  writeFileSync(join(dir, 'empty.bin'), '');
  writeFileSync(join(dir, 'huge.bin'), new Uint8Array((1 << 20) + 1));
  mkdirSync(join(dir, 'adir'));
});
test.afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('decode prints an aligned table with offsets, hex values and meanings', () => {
  const r = run('decode', join(dir, 'v1.bin'));
  expect(r.code).toBe(0);
  expect(r.out).toContain('176 bytes, layout v1, ok');
  expect(r.out).toMatch(/^offset\s+size\s+field\s+value\s+meaning$/m);
  expect(r.out).toMatch(/^0x0000\s+8\s+header\.acc_magic\s+0xcdcdcdcdfeedaacc\s+ACC_DEV_MAGIC \(V1\)$/m);
  expect(r.out).toMatch(/^0x0090\s+8\s+body\.eqe_dma\s+0xfe00000000110007\s+buggy composition/m);
  // columns line up: every value of the table starts in the same column
  const rows = r.out.split('\n').filter((l) => /^0x[0-9a-f]{4}\s/.test(l));
  expect(rows.length).toBe(39); // 9 header fields, 30 body fields
  expect(new Set(rows.map((l) => l.indexOf(' 0x', 8))).size).toBe(1);
});

test('decode --json carries 64-bit values as "0x…" strings', () => {
  const r = run('decode', join(dir, 'v2.bin'), '--json');
  expect(r.code).toBe(0);
  const j = JSON.parse(r.out);
  expect(j.layout).toBe('v2');
  expect(j.header.accMagic).toBe('0xaaccfeeddecadede');
  expect(j.body.eqeDma).toBe('0x80000001abcd0000');
  expect(j.derived.eqBaseFixed).toBe('0x80000001abcd0000');
  expect(j.fields.find((f: { offset: number }) => f.offset === 28)).toMatchObject({ field: 'header.rsv.major_ver', value: '0x0001' });
});

test('decode --format qemu-vfio lists markers and decodes the device data', () => {
  const be64 = (v: bigint) => Array.from({ length: 8 }, (_, i) => Number((v >> BigInt(56 - 8 * i)) & 0xffn));
  const s = goldenV2Full().bytes;
  const p = Uint8Array.from([...be64(0xffffffffef100004n), ...be64(176n), ...s, ...be64(0xffffffffef100001n)]);
  writeFileSync(join(dir, 'section.bin'), p);
  const r = run('decode', join(dir, 'section.bin'), '--format', 'qemu-vfio');
  expect(r.code).toBe(0);
  expect(r.out).toMatch(/0x0000\s+0xffffffffef100004\s+dev_data_state\s+176/);
  expect(r.out).toContain('device data (176 bytes from DATA chunks)');
  expect(r.out).toContain('ACC_DEV_MAGIC_V2');
});

test('lint exits 0 for a clean stream with its provenance, 1 on an error finding', () => {
  const ok = run('lint', join(dir, 'v1.bin'));
  expect(ok.code).toBe(0);
  expect(ok.out).toContain('provenance: hisi-acc/v5.18, hisi-acc/v6.2, hisi-acc/v6.8');
  const bad = run('lint', join(dir, 'bad.bin'));
  expect(bad.code).toBe(1);
  expect(bad.out).toMatch(/error\s+0x001c\s+major_ver\s+v2-major/);
  const j = JSON.parse(run('lint', join(dir, 'bad.bin'), '--json').out);
  expect(j.ok).toBe(false);
  expect(j.provenance.revisions).toEqual([]);
});

test('lint --rev: what it says about acceptance follows the profiles given, a proposal YAML included', () => {
  const all = run('lint', join(dir, 'v1.bin'));
  // the 2024 proposal (a built-in profile) refuses V1: lint must not claim every revision accepts it
  expect(all.out).toMatch(/magic-v1\s+V1 magic: accepted by .*v5\.18.*; refused by proposal-2024;/);
  expect(all.out).not.toMatch(/accepted by every revision/);
  const released = run('lint', join(dir, 'v1.bin'), '--rev', 'v5.18,v6.16');
  expect(released.out).toMatch(/V1 magic: accepted by every revision \(v5\.18, v6\.16\); v6\.16 recompute eqe_dma\/aeqe_dma/);
  const yaml = join(dir, 'no-v1.yaml');
  writeFileSync(yaml, 'id: hisi-acc/test-no-v1\ntitle: t\nkernel: t\nextends: hisi-acc/v7.0\ntraits:\n  accept: [{ magic: V2, major: 1 }]\n');
  const withYaml = JSON.parse(run('lint', join(dir, 'v1.bin'), '--rev', `all,${yaml}`, '--json').out);
  expect(withYaml.revisions).toContain('hisi-acc/test-no-v1');
  expect(withYaml.acceptance.refused).toEqual([{ id: 'hisi-acc/proposal-2024', why: 'magic' }, { id: 'hisi-acc/test-no-v1', why: 'magic' }]);
  // only revisions that refuse it: an error, exit 1
  const none = run('lint', join(dir, 'v1.bin'), '--rev', `proposal-2024,${yaml}`);
  expect(none.code).toBe(1);
  expect(none.out).toMatch(/error\s+0x0000\s+acc_magic\s+magic-refused\s+magic 0xcdcdcdcdfeedaacc \(V1\): every revision refuses it \(proposal-2024, test-no-v1\)/);
  const k = run('lint', join(dir, 'v1.bin'), '--rev', 'ktree:debian-6.1');
  expect(k.code).toBe(2);
  expect(k.err).toMatch(/real driver code declares no profile/);
});

test('diff exits 0 for identical streams and 1 with the changed fields', () => {
  expect(run('diff', join(dir, 'v2.bin'), join(dir, 'v2.bin'))).toMatchObject({ code: 0 });
  const r = run('diff', join(dir, 'v2.bin'), join(dir, 'bad.bin'));
  expect(r.code).toBe(1);
  expect(r.out).toMatch(/^0x001c\s+2\s+header\.rsv\.major_ver\s+0x0001\s+0x0007$/m);
  const j = JSON.parse(run('diff', join(dir, 'v2.bin'), join(dir, 'bad.bin'), '--json').out);
  expect(j.changes).toEqual([{ path: 'header.rsv.major_ver', offset: 28, size: 2, old: '0x0001', new: '0x0007' }]);
});

test('encode builds a stream from YAML fields with defaults, atomically', () => {
  const y = join(dir, 'f.yaml');
  writeFileSync(y, 'length: 40\nqp_num: 3\ndev_id: 0xa251\nvf_qm_state: 1\n');
  const out = join(dir, 'out.bin');
  const r = run('encode', y, '-o', out);
  expect(r.code).toBe(0);
  expect(r.out).toContain('40 bytes, layout v2');
  const b = readFileSync(out);
  expect(b.length).toBe(40);
  expect(b.subarray(0, 8).toString('hex')).toBe('dedecadeedfeccaa'); // default magic V2
  expect(b.readUInt32LE(8)).toBe(3);
  expect(b.readUInt16LE(28)).toBe(1); // default major_ver
  expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  // a full V1 stream with exact 64-bit values
  writeFileSync(y, 'acc_magic: "0xcdcdcdcdfeedaacc"\nqp_num: 1\neqe_dma: "0xfedcba9876543210"\nqm_eqc_dw: [1, 2, 3, 4, 5, 6, 7]\n');
  expect(run('encode', y, '-o', out).code).toBe(0);
  const full = readFileSync(out);
  expect(full.length).toBe(176);
  expect(full.readBigUInt64LE(144)).toBe(0xfedcba9876543210n);
  expect(full.readUInt32LE(64 + 24)).toBe(7);
});

test('bad input: one line on stderr and exit 2, nothing written', () => {
  const y = join(dir, 'g.yaml');
  const out = join(dir, 'never.bin');
  const cases: [string[], RegExp][] = [
    [['decode', join(dir, 'missing.bin')], /no such stream file/],
    [['decode', join(dir, 'adir')], /is a directory/],
    [['lint', join(dir, 'empty.bin')], /is empty/],
    [['diff', join(dir, 'v1.bin'), join(dir, 'huge.bin')], /larger than the 1 MiB limit/],
    [['decode'], /expected one FILE/],
    [['decode', join(dir, 'v1.bin'), '--bogus'], /Unknown option/],
    [['decode', join(dir, 'v1.bin'), '--format', 'nope'], /--format must be/],
    [['encode', y], /missing -o FILE/],
  ];
  writeFileSync(y, 'qp_num: 1\n');
  for (const [args, re] of cases) {
    const r = run(...args);
    expect(r.code, args.join(' ')).toBe(2);
    expect(r.err.trim().split('\n').length, args.join(' ')).toBe(1);
    expect(r.err).toMatch(re);
  }
  const yamlCases: [string, RegExp][] = [
    ['qp_num: [1, 2\n', /g\.yaml: invalid YAML at line \d+: /],
    ['- 1\n- 2\n', /g\.yaml: \(top level\): expected a mapping, got \[1,2\]/],
    ['qp_nmu: 1\n', /g\.yaml: qp_nmu: unknown key \(expected one of length, acc_magic, /],
    ['acc_magic: "0xcdcdcdcdfeedaacc"\nmajor_ver: 1\n', /only a V2 header has major_ver/],
    ['qp_num: 0x100000000\n', /g\.yaml: qp_num: expected a 32-bit value: an integer 0\.\.4294967295 or a "0x…" string, got 4294967296/],
    ['qp_num: "4294967296"\n', /qp_num: 4294967296 does not fit in 4 byte/],
    ['qm_eqc_dw: [1, 2]\n', /g\.yaml: qm_eqc_dw: expected a list of 7 values/],
    ['length: 100\n', /g\.yaml: length: expected one of 40, 176, got 100/],
    ['eqe_dma: "zz"\n', /g\.yaml: eqe_dma: expected a 64-bit value: an integer or a "0x…" string of up to 16 hex digits, got "zz"/],
  ];
  for (const [text, re] of yamlCases) {
    writeFileSync(y, text);
    const r = run('encode', y, '-o', out);
    expect(r.code, text).toBe(2);
    expect(r.err, text).toMatch(re);
    expect(r.err.trim().split('\n').length).toBe(1);
  }
  expect(existsSync(out)).toBe(false);
  expect(run('encode', join(dir, 'empty.bin'), '-o', out)).toMatchObject({ code: 2 });
  expect(run('encode', join(dir, 'f.yaml'), '-o', join(dir, 'adir')).err).toMatch(/is a directory/);
});

test('decode recognises a QEMU migration file and decodes its VFIO device data', async () => {
  const { syntheticStream, VFIO_IDSTR } = await import('../qemu/syntheticStream.ts');
  const file = join(dir, 'vm.mig');
  writeFileSync(file, syntheticStream());
  const r = run('decode', file);
  expect(r.code).toBe(0);
  expect(r.out).toContain('QEMU migration stream');
  expect(r.out).toContain(`vfio device ${VFIO_IDSTR}:`);
  expect(r.out).toMatch(/176 bytes, layout v2, ok/);
  const j = JSON.parse(run('decode', file, '--json').out);
  expect(j.ok).toBe(true);
  expect(j.vfioDevices[0].device.header.accMagic).toBe('0xaaccfeeddecadede');
  // forcing the hisi_acc layout decodes it as a (bad) device stream instead
  const forced = run('decode', file, '--format', 'hisi-acc');
  expect(forced.code).toBe(0);
  expect(forced.out).toMatch(/layout unknown, problem: invalid length \d+/);
});
