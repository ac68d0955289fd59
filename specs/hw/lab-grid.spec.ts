// `migcompat lab` through the grid: the local-transport lab run (two stand-in hosts, two kernels, the
// same argument arrays SSH would carry) writes, besides lab.json/lab.md, the same grid files as a
// matrix run, through the same report code (harness/report/gridFiles.ts), history line included.
import { test, expect } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Summary } from '../../harness/report/record.ts';
import { hostConfig, VF_A } from './fixtures.ts';

const CLI = [process.execPath, '--import', 'tsx', resolve('harness/cli/main.ts')];

test('lab --pairs writes summary.json, matrix.md, matrix.html and a history line through the grid code', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mc-labgrid-'));
  const locks = join(dir, 'locks');
  const hosts = [['kp-new', 'hisi-acc/v6.16', '6.16.0-kp'], ['kp-old', 'hisi-acc/v5.18', '5.18.0-kp']] as const;
  const yaml = join(dir, 'inventory.yaml');
  writeFileSync(yaml, 'hosts:\n' + hosts.map(([name, rev, kernel]) =>
    `  - name: ${name}\n    ssh: { host: 127.0.0.1 }\n    kernel: ${kernel}\n    vfs: ["${VF_A}"]\n    workdir: ${join(dir, name)}\n` +
    `    migcompat: ${JSON.stringify(CLI)}\n    env: { MIGCOMPAT_VFIO_STANDIN: "${hostConfig(dir, name, rev, kernel)}", MIGCOMPAT_LOCK_DIR: "${locks}" }\n`).join(''));
  const out = join(dir, 'results', 'lab-1');
  const r = spawnSync(CLI[0], [...CLI.slice(1), 'lab', yaml, '--local', '--pairs', '--out', out], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toContain(`grid: ${out}/matrix.html`);
  for (const f of ['lab.json', 'lab.md', 'summary.json', 'matrix.md', 'matrix.html']) expect(existsSync(join(out, f)), f).toBe(true);

  const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Summary;
  expect(s).toMatchObject({ format: 'migcompat-summary', runId: 'lab-1', matrix: ['lab'] });
  expect(s.counts).toMatchObject({ total: 2, migrated: 1, refused: 1, expected: 2, unexpected: 0 });
  const [up, down] = s.cases; // sorted oldest kernel first
  expect(up).toMatchObject({ title: 'kp-old [5.18.0-kp] -> kp-new [6.16.0-kp] no-driver single SEC', runner: 'lab', direction: 'old-new', actual: 'migrated', status: 'expected' });
  expect(down).toMatchObject({ direction: 'new-old', actual: 'refused', errno: 'EINVAL', stage: 'resuming->stop', expected: 'migrated', acceptable: ['refused'], status: 'expected' });
  // the captured stream is the cell's evidence; no bundle (a host is not a revision), `load` reproduces it
  expect(down.streamHex).toBe(readFileSync(join(out, 'streams', 'kp-new.bin')).toString('hex'));
  expect(down.artifacts.bundle).toBeNull();
  const md = readFileSync(join(out, 'matrix.md'), 'utf8');
  expect(md).toContain('| src \\ dst | kp-old [5.18.0-kp] | kp-new [6.16.0-kp] |');
  expect(md).toContain('| kp-new [6.16.0-kp] | R |   |');
  const html = readFileSync(join(out, 'matrix.html'), 'utf8');
  expect(html.match(/class="case o-refused/g)).toHaveLength(1);
  expect(html).toContain(`migcompat load --device ${VF_A}`);
  const hist = readFileSync(join(dir, 'results', 'history.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  expect(hist).toEqual([expect.objectContaining({ runId: 'lab-1', matrix: ['lab'], total: 2, refused: 1, unexpected: 0 })]);
});
