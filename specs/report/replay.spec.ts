// Repro bundles and `migcompat replay`: same verdict → exit 0; a bundle whose verdict differs →
// exit 1; a damaged bundle → one line, exit 2. Replay uses the bundle's profile snapshots.
import { test, expect } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_DEVICE } from '../../harness/device/mmio.ts';
import { runAndJudge } from '../../harness/matrix/caseRun.ts';
import { simEngine } from '../../harness/matrix/engine.ts';
import { profileSnapshots } from '../../harness/matrix/revisions.ts';
import { readBundle, streamHex, timelineDigest, writeBundle } from '../../harness/report/bundle.ts';
import type { CaseSpec } from '../../harness/runners/types.ts';
import { caseTitle } from '../../harness/runners/types.ts';

const cli = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'harness/cli/main.ts', ...args], { encoding: 'utf8' });

const spec: CaseSpec = {
  src: 'hisi-acc/v7.0', dst: 'hisi-acc/v6.16', workload: 'user-polling', scenario: 'single-hop', transfer: 'single',
  device: { ...DEFAULT_DEVICE, type: 'HPRE' }, requests: 8, inflight: 2, requestSize: 64, seed: 4242,
};

function bundleFor(dir: string, name: string, s: CaseSpec, tweak: (b: Parameters<typeof writeBundle>[1]) => void = () => {}): string {
  const { evidence, verdict } = runAndJudge(simEngine, s);
  const b = {
    createdAt: new Date().toISOString(), createdBy: 'test', title: caseTitle(s), case: s,
    profiles: profileSnapshots([s.src, s.dst]), stream: streamHex(evidence?.stream ?? null), verdict,
    timelineDigest: evidence ? timelineDigest(evidence.timeline) : null,
  };
  tweak(b);
  const path = join(dir, name);
  writeBundle(path, b);
  return path;
}

test('replay reruns a bundle with the same verdict and timeline; a differing verdict exits 1', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mc-replay-'));
  const good = bundleFor(dir, 'good.json', spec);
  const b = readBundle(good);
  expect(Object.keys(b.profiles)).toEqual(expect.arrayContaining(['hisi-acc/v7.0', 'hisi-acc/v6.16']));
  const r = cli('replay', good, '--json');
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const out = JSON.parse(r.stdout);
  expect(out.same).toBe(true);
  expect(out.verdict).toEqual(b.verdict);
  expect(out.timelineDigest).toBe(b.timelineDigest);
  expect(out.stream).toBe(b.stream);
  expect(out.notes).toEqual([]);

  const lying = bundleFor(dir, 'lying.json', spec, (x) => {
    x.verdict = { ...x.verdict, outcome: x.verdict.outcome === 'broken' ? 'migrated' : 'broken' };
  });
  const r2 = cli('replay', lying);
  expect(r2.status).toBe(1);
  expect(r2.stdout).toContain('DIFFERS from the bundle');
  expect(r2.stdout).toMatch(/^verdict: (migrated|refused|broken|error): /m);
});

test('replay runs the snapshot profiles, not the ones on disk', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mc-replay-'));
  // a snapshot in which v6.16 accepts only V1: a V2 source (v7.0) must now be refused
  const path = bundleFor(dir, 'snap.json', spec, (x) => {
    const snap = x.profiles['hisi-acc/v6.16'];
    snap.text = snap.text.replace(/accept:[^\n]*\n(\s+- [^\n]*\n)+/, 'accept:\n    - { magic: V1, recomputeDma: true }\n');
    expect(snap.text).not.toMatch(/- \{ magic: V2/);
  });
  const r = cli('replay', path, '--json');
  const out = JSON.parse(r.stdout);
  // the destination refuses (what the source side then makes of it is the engine's verdict)
  expect(out.verdict.reason).toMatch(/^destination refused at /);
  expect(out.verdict.errno).not.toBeNull();
  expect(out.notes.join(' ')).toContain('profiles changed on disk since the bundle was made');
});

test('a damaged bundle is one line and exit 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mc-replay-'));
  const p = join(dir, 'v9.json');
  writeFileSync(p, JSON.stringify({ format: 'migcompat-bundle', version: 9 }));
  const r = cli('replay', p);
  expect(r.status).toBe(2);
  expect(r.stderr.trim().split('\n')).toEqual([`migcompat: ${p}: version: expected 1 (this migcompat reads only that version), got 9`]);
});
