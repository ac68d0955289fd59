// `ktree:` ids end to end through the CLI a user runs: `check` and `run` resolve the id with
// loadRevision (the Debian tree is fetched and built on first use, cached outside git) and run the
// real code in a child process. The Debian model gives the same answers.
import { test, expect } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureStream } from '../../harness/runners/simCapture.ts';
import { DEBIAN, MODEL, debianLib } from './trees.ts';

const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'harness/cli/main.ts', ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

test('check --rev ktree:debian-6.1: accepted and refused like the Debian model', () => {
  debianLib();
  const s = captureStream({ rev: 'hisi-acc/v6.16' });
  if (!s.ok) throw new Error(s.errno);
  const file = join(mkdtempSync(join(tmpdir(), 'ktree-cli-')), 'v616.bin');
  writeFileSync(file, s.value);
  const real = cli('check', '--rev', DEBIAN, '--stream', file, '--json');
  expect(real.code, real.err).toBe(0);
  const model = cli('check', '--rev', MODEL, '--stream', file, '--json');
  const [a, b] = [JSON.parse(real.out), JSON.parse(model.out)];
  expect(a.rev).toBe(DEBIAN);
  expect(a.harnessError).toBeUndefined();
  for (const k of ['accepted', 'errno', 'stage', 'writes', 'restored']) expect(a[k], k).toEqual(b[k]);
  // offset-blind resume write: the second chunk lands at 0, refused at RESUMING->STOP (exit 1)
  const chunked = cli('check', '--rev', DEBIAN, '--stream', file, '--transfer', 'chunks:40,136');
  expect(chunked.code).toBe(1);
  expect(chunked.out).toMatch(/^ktree:debian-6\.1: REFUSED .*\n\s+errno EINVAL at resuming->stop/);
  expect(cli('check', '--rev', 'ktree:no-such-tree', '--stream', file).code).toBe(2);
});

test('run --src/--dst with a ktree id: one record per cell, the same verdicts as the model', () => {
  debianLib();
  const args = ['--workload', 'kernel-crypto', '--transfer', 'single', '--requests', '8', '--inflight', '2', '--seed', '3', '--json'];
  const real = cli('run', '--src', `${DEBIAN},v6.16`, '--dst', DEBIAN, ...args);
  expect(real.code, real.err).toBe(0);
  const model = cli('run', '--src', `${MODEL},v6.16`, '--dst', MODEL, ...args);
  const recs = JSON.parse(real.out) as { src: string; dst: string; outcome: string; stage: string | null }[];
  const mrecs = JSON.parse(model.out) as typeof recs;
  expect(recs.map((r) => `${r.src} -> ${r.dst}`)).toEqual([`${DEBIAN} -> ${DEBIAN}`, `hisi-acc/v6.16 -> ${DEBIAN}`]);
  expect(recs.map((r) => [r.outcome, r.stage])).toEqual(mrecs.map((r) => [r.outcome, r.stage]));
  expect(recs[0].outcome).toBe('migrated');
});
