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
  expect(cli('check', '--rev', 'v6.16', '--stream', v2, '--dest', join(dir, 'bad.yaml')).err).toMatch(/bad\.yaml: type: expected SEC, HPRE or ZIP/);
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
