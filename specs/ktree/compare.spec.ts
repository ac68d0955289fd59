// Model against real code: the CI self-check of hisi-acc/debian-6.1.192 against the Debian 6.1.192
// tree. Every disagreement must be recorded (with its explanation) in specs/findings/ktree.yaml.
import { test, expect } from '@playwright/test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { compare, formatReport, loadFindings } from '../../harness/ktree/compare.ts';
import { DEBIAN, MODEL, debianLib } from './trees.ts';

test('self-check: hisi-acc/debian-6.1.192 against the real Debian 6.1.192 code has no unrecorded disagreement', async () => {
  debianLib();
  const rep = await compare(MODEL, DEBIAN, { scope: 'full' });
  await test.info().attach('ktree-compare.txt', { body: formatReport(rep, 1000), contentType: 'text/plain' });
  const unrecorded = rep.findings.filter((f) => f.known === null);
  expect(unrecorded.map((f) => `${f.job} :: ${f.field}`)).toEqual([]);
  expect(rep.jobs).toBeGreaterThan(400);
  expect(rep.byKind.check[1]).toBeGreaterThan(300);
  // verdict changes are findings like any other: recorded ones only (checked above); show the count
  test.info().annotations.push({ type: 'verdicts', description: `${rep.verdicts[0]}/${rep.verdicts[1]} case verdicts agree` });
  // every recorded finding is still observed (a stale entry would hide a future regression)
  const seen = new Set(rep.findings.map((f) => f.known));
  for (const k of loadFindings()) if (k.model === MODEL && k.real === DEBIAN) expect(seen, k.id).toContain(k.id);
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
