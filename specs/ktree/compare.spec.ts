// Model against real code: the CI self-checks of hisi-acc/debian-6.1.192 and hisi-acc/debian-6.12.118
// against the Debian 6.1 and 6.12 trees (whatever point release apt served). Every disagreement must
// be recorded (with its explanation) in specs/findings/ktree.yaml.
import { test, expect } from '@playwright/test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { compare, formatReport, loadFindings, pointReleaseNotes } from '../../harness/ktree/compare.ts';
import { DEBIAN, DEBIAN_612, MODEL, MODEL_612, debianLib } from './trees.ts';

for (const [model, real] of [[MODEL, DEBIAN], [MODEL_612, DEBIAN_612]]) {
  test(`self-check: ${model} against the real code of ${real} has no unrecorded disagreement`, async () => {
    debianLib(real);
    const rep = await compare(model, real, { scope: 'full' });
    await test.info().attach('ktree-compare.txt', { body: formatReport(rep, 1000), contentType: 'text/plain' });
    const unrecorded = rep.findings.filter((f) => f.known === null);
    expect(unrecorded.map((f) => `${f.job} :: ${f.field}`)).toEqual([]);
    expect(rep.jobs).toBeGreaterThan(600);
    expect(rep.byKind.check[1]).toBeGreaterThan(500);
    // PRE_COPY, PRECOPY_INFO, writes after a failed write, a second session, reset in each state
    expect(rep.byKind.script[1]).toBeGreaterThanOrEqual(20);
    // verdict changes are findings like any other: recorded ones only (checked above); show the count
    test.info().annotations.push({ type: 'verdicts', description: `${rep.verdicts[0]}/${rep.verdicts[1]} case verdicts agree` });
    for (const n of rep.notes) test.info().annotations.push({ type: 'note', description: n });
    // every recorded finding is still observed (a stale entry would hide a future regression)
    const seen = new Set(rep.findings.map((f) => f.known));
    for (const k of loadFindings()) if (k.model === model && k.real === real) expect(seen, k.id).toContain(k.id);
  });
}

test('a point release other than the model\'s is said in the output, and is no failure', () => {
  const entry = { ...debianLib(DEBIAN_612), kernelVersion: '6.12.121', pkgVersion: '6.12.121-1~deb12u1' };
  expect(pointReleaseNotes({ id: MODEL_612, kernel: 'Debian linux 6.12.118' }, entry)).toEqual([
    'hisi-acc/debian-6.12.118 describes 6.12.118, the real code is 6.12.121 (package 6.12.121-1~deb12u1): compared as fetched; differences may be the point releases\'',
  ]);
  expect(pointReleaseNotes({ id: MODEL_612, kernel: 'Debian linux 6.12.118' }, { ...entry, kernelVersion: '6.12.118' })).toEqual([]);
  expect(pointReleaseNotes({ id: 'hisi-acc/v6.16', kernel: 'v6.16 (Jul 2025) … v6.18' }, entry)).toEqual([]); // another series
  const text = formatReport({
    model: MODEL_612, real: DEBIAN_612, jobs: 1, agreed: 1, agreedOrKnown: 1, verdicts: [0, 0], byKind: { check: [1, 1] }, findings: [],
    unrecorded: 0, seconds: { model: 0, real: 0 }, notes: pointReleaseNotes({ id: MODEL_612, kernel: 'Debian linux 6.12.118' }, entry),
  });
  expect(text.split('\n')[1]).toMatch(/^note: hisi-acc\/debian-6.12.118 describes 6.12.118, the real code is 6.12.121/);
});

test('an unrecorded disagreement fails the CLI (exit 1) and names the job and field', () => {
  debianLib();
  const dir = mkdtempSync(join(tmpdir(), 'ktree-findings-'));
  const empty = join(dir, 'none.yaml');
  writeFileSync(empty, 'findings: []\n');
  // the Debian model now agrees with its code: a model of another revision (v6.16: V2 with PRE_COPY,
  // f_pos copies, write-time checks) disagrees, and with no findings recorded that is an exit 1
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'harness/cli/main.ts', 'ktree', 'compare', '--model', 'hisi-acc/v6.16', '--real', DEBIAN,
    '--quick', '--findings', empty, '--json'], { encoding: 'utf8' });
  expect(r.status).toBe(1);
  const rep = JSON.parse(r.stdout);
  expect(rep.unrecorded).toBeGreaterThan(0);
  expect(rep.findings[0]).toMatchObject({ known: null });
  expect(typeof rep.findings[0].job).toBe('string');
  expect(typeof rep.findings[0].field).toBe('string');
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'findings: [{ id: x }]\n');
  const b = spawnSync(process.execPath, ['--import', 'tsx', 'harness/cli/main.ts', 'ktree', 'compare', '--model', MODEL, '--real', DEBIAN,
    '--quick', '--findings', bad], { encoding: 'utf8' });
  expect(b.status).toBe(2);
  expect(b.stderr.trim().split('\n')).toHaveLength(1);
});
