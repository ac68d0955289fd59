// The compile step: a build writes normal and debug JavaScript plus .dot and skips unchanged
// sources; a compile error names the file and the problem; loading works without a build; the
// encoder's plan (walked from the .ksy) matches the compiler's own offsets.
import { test, expect } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFormats } from '../../harness/formats/build.ts';
import { compileFormat } from '../../harness/formats/compile.ts';
import { parseKsy } from '../../harness/formats/ksy.ts';
import { accVfPlans, decode } from '../../harness/formats/index.ts';
import { goldenV1Full, goldenV2Full } from './vectors.ts';

test('build writes parsers, debug parsers and diagrams, then skips unchanged sources', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'migcompat-gen-'));
  const out = join(dir, 'generated');
  try {
    const first = await buildFormats({ outDir: out });
    expect(first.skipped).toBe(false);
    expect(first.formats).toEqual(expect.arrayContaining(['hisi_acc_vf_data', 'qemu_vfio_device_state']));
    expect(JSON.parse(readFileSync(join(out, 'package.json'), 'utf8'))).toEqual({ type: 'commonjs' });
    for (const f of ['HisiAccVfData.js', 'debug/HisiAccVfData.js', 'QemuVfioDeviceState.js', 'dot/hisi_acc_vf_data.dot', 'dot/qemu_vfio_device_state.dot']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    expect(readFileSync(join(out, 'debug/HisiAccVfData.js'), 'utf8')).toContain('_debug');
    expect(readFileSync(join(out, 'dot/hisi_acc_vf_data.dot'), 'utf8')).toMatch(/^digraph/);
    expect((await buildFormats({ outDir: out })).skipped).toBe(true);
    expect(existsSync(`${out}.tmp-${process.pid}`)).toBe(false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a compile error names the file and the problem', async () => {
  const bad = 'meta:\n  id: broken\n  endian: le\nseq:\n  - id: x\n    type: u9\n';
  await expect(compileFormat({ name: 'broken', path: 'formats/broken.ksy', text: bad })).rejects.toThrow(/formats\/broken\.ksy: .*u9/);
  await expect(compileFormat({ name: 'yaml', path: 'formats/yaml.ksy', text: 'meta: [\n' })).rejects.toThrow(/formats\/yaml\.ksy/);
});

test('.ksy loading keeps 64-bit literals exact', () => {
  const k = parseKsy('a: 0xAACCFEEDDECADEDE\nb: 0x7fffffff\n');
  expect(k.a).toBe('0xaaccfeeddecadede');
  expect(k.b).toBe(0x7fffffff);
});

test('without a build, the library compiles in memory and decodes the same', () => {
  const code = `
    const f = await import(${JSON.stringify(new URL('../../harness/formats/index.ts', import.meta.url).href)});
    const b = new Uint8Array(Buffer.from(process.argv[1], 'hex'));
    const d = f.decode(b);
    process.stdout.write(JSON.stringify({ origin: f.parsersOrigin(), layout: d.layout, magic: d.header.accMagic.toString(16), eqe: d.body.eqeDma.toString(16) }));
  `;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code, Buffer.from(goldenV2Full().bytes).toString('hex')], {
    encoding: 'utf8',
    env: { ...process.env, MIGCOMPAT_FORMATS_GENERATED: join(tmpdir(), 'migcompat-no-such-generated-dir') },
    timeout: 60_000,
  });
  expect(r.stderr).toBe('');
  expect(JSON.parse(r.stdout)).toEqual({ origin: 'memory', layout: 'v2', magic: 'aaccfeeddecadede', eqe: '80000001abcd0000' });
});

test("the encoder's plan (walked from the .ksy) has the compiler's offsets", () => {
  for (const [layout, g] of [['v1', goldenV1Full()], ['v2', goldenV2Full()]] as const) {
    const spans = decode(g.bytes, { fieldMap: true }).fieldMap!.spans;
    const plan = accVfPlans[layout].leaves;
    expect(plan.map((l) => [l.path, l.offset, l.size])).toEqual(spans.map((s) => [s.path, s.offset, s.size]));
  }
});
