// `migcompat conform` end to end: exit 0 when every violation is declared, 1 on an undeclared or a
// fixed one, 2 on bad input (one line, nothing written); the JSON, Markdown and HTML reports, the
// bundles that `migcompat replay` reruns, and the link from a matrix page of the same run.
import { test, expect } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeRunFiles } from '../../harness/report/gridFiles.ts';
import { handGrid } from '../report/records.ts';

function cli(args: string[], env: Record<string, string> = {}) {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TEST_|PW_|PLAYWRIGHT_)/.test(k))) as Record<string, string>;
  return spawnSync(process.execPath, ['--import', 'tsx', 'harness/cli/main.ts', ...args], { encoding: 'utf8', env: { ...base, CI: '', ...env } });
}

const tmp = () => mkdtempSync(join(tmpdir(), 'mc-conform-'));

test('conform --json: declared violations pass (exit 0), files and bundles written, a bundle replays', () => {
  test.setTimeout(120_000);
  const dir = join(tmp(), 'run1');
  const r = cli(['conform', '--rev', 'v7.0,v5.18', '--json', '--out', dir]);
  expect(r.status, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout);
  expect(out.format).toBe('migcompat-conformance');
  expect(out.subjects.map((s: { id: string }) => s.id)).toEqual(['hisi-acc/v7.0', 'hisi-acc/v5.18']);
  expect(out.cells).toHaveLength(out.clauses.length * 2);
  expect(out.ok).toBe(true);
  expect(out.counts.unexpected + out.counts.fixed + out.counts.error).toBe(0);
  const hang = out.cells.find((c: { clause: string; subject: string }) => c.clause === 'set-returns' && c.subject === 'hisi-acc/v7.0');
  expect([hang.verdict, hang.status, hang.known.id]).toEqual(['hang', 'known', 'core-skip-loop-blocked-arc']);
  expect(hang.sequence.at(-1)).toMatch(/^SET PRE_COPY = never returns/);
  expect(JSON.parse(readFileSync(join(dir, 'conformance.json'), 'utf8')).cells).toHaveLength(out.cells.length);
  const md = readFileSync(join(dir, 'conformance.md'), 'utf8');
  expect(md).toContain('| clause | binds | v7.0 | v5.18 |');
  expect(md).toContain('| [set-returns](#set-returns) | driver | ⧖* | ✓ |');
  const html = readFileSync(join(dir, 'conformance.html'), 'utf8');
  expect(html).toContain('data-clause="set-returns" data-subject="hisi-acc/v7.0" data-verdict="hang" data-status="known"');
  // one bundle per ✗ and ⧖, and `migcompat replay` reruns its sequence: same verdict, exit 0
  const bad = out.cells.filter((c: { verdict: string }) => c.verdict === 'violated' || c.verdict === 'hang');
  for (const c of bad) expect(existsSync(join(dir, c.bundle)), c.bundle).toBe(true);
  const seg = bad.find((c: { clause: string; subject: string }) => c.clause === 'resume-segmentation-free' && c.subject === 'hisi-acc/v5.18');
  const rep = cli(['replay', join(dir, seg.bundle), '--json']);
  expect(rep.status, rep.stdout + rep.stderr).toBe(0);
  const rj = JSON.parse(rep.stdout);
  expect([rj.same, rj.verdict, rj.clause]).toEqual([true, 'violated', 'resume-segmentation-free']);
  const h = cli(['replay', join(dir, hang.bundle)]);
  expect(h.status, h.stdout + h.stderr).toBe(0);
  expect(h.stdout).toMatch(/never returns/);
  // a bundle whose sequence no longer breaks the clause: exit 1, DIFFERS
  const b = JSON.parse(readFileSync(join(dir, seg.bundle), 'utf8'));
  b.extra.conformance.commands = b.extra.conformance.commands.filter((x: { op: string }) => x.op !== 'write');
  const edited = join(dir, 'edited.json');
  writeFileSync(edited, JSON.stringify(b));
  const d = cli(['replay', edited]);
  expect(d.status, d.stdout + d.stderr).toBe(1);
  expect(d.stdout).toContain('DIFFERS from the bundle');
});

test('an undeclared violation and a declaration that no longer fails are red: exit 1', () => {
  const t = tmp();
  const empty = join(t, 'none.yaml');
  writeFileSync(empty, 'known: []\n');
  const r = cli(['conform', '--rev', 'v7.0', '--clause', 'reset-returns-running,refused-write-never-loaded', '--known', empty, '--out', join(t, 'a')]);
  expect(r.status, r.stderr).toBe(1);
  expect(r.stdout).toMatch(/✗‼ refused-write-never-loaded on hisi-acc\/v7.0 \(unexpected\)/);
  expect(r.stdout).toMatch(/write\(fd0, \d+ B invalid\) = EINVAL|write\(fd0, \d+ B (invalid|foreign)\) = EFAULT/);
  expect(r.stdout).toMatch(/replay: npm run -s migcompat -- replay .*refused-write-never-loaded--hisi-acc_v7.0.json/);
  const fixed = join(t, 'fixed.yaml');
  writeFileSync(fixed, `known:
  - id: pretend-reset
    clauses: [reset-returns-running]
    revisions: [hisi-acc/v7.0]
    verdict: violated
    description: declared on a clause v7.0 keeps
    reference: commit 8be14dd48dfe (v7.0)
`);
  const f = cli(['conform', '--rev', 'v7.0', '--clause', 'reset-returns-running', '--known', fixed, '--json', '--out', join(t, 'b')]);
  expect(f.status, f.stderr).toBe(1);
  const out = JSON.parse(f.stdout);
  expect(out.cells[0]).toMatchObject({ verdict: 'holds', status: 'fixed' });
  expect(out.counts.fixed).toBe(1);
});

test('bad input: one line, exit 2, nothing written', () => {
  const t = tmp();
  const bad = (args: string[], re: RegExp) => {
    const out = join(t, `o${Math.random().toString(36).slice(2)}`);
    const r = cli(['conform', ...args, '--out', out]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(re);
    expect(existsSync(out)).toBe(false);
  };
  bad([], /--rev is required/);
  bad(['--rev', 'v9.9'], /unknown revision 'v9.9'/);
  bad(['--rev', 'v7.0', '--clause', 'no-such-clause'], /unknown clause no-such-clause/);
  bad(['--rev', 'v7.0', '--peer', '0000:75:00.2'], /--peer applies to kernel devices only/);
  bad(['--rev', 'v7.0', '--call-ms', 'x'], /--call-ms needs a positive integer/);
  const c = join(t, 'contract.yaml');
  writeFileSync(c, 'name: x\nclauses:\n  - id: a\n    title: t\n    binds: driver\n    statement: s\n    source: { header: h, since: v5.18, commit: "commit 115dcec65f61 (v5.18)" }\n    check: { name: nonesuch }\n');
  bad(['--rev', 'v7.0', '--contract', c], /contract\.yaml: clauses\[0\]\.check\.name: expected one of flags, requests, .*, got "nonesuch"/);
  writeFileSync(c, 'name: x\nclauses:\n  - id: a\n    title: t\n    binds: driver\n    statement: s\n    source: { header: h, since: v5.18, commit: "115dcec65f61" }\n    check: { name: flags }\n');
  bad(['--rev', 'v7.0', '--contract', c], /source.commit: expected 'commit <12-40 hex> \(vX.Y\)'/);
  const k = join(t, 'known.yaml');
  writeFileSync(k, 'known:\n  - { id: x, clauses: [set-returns], revisions: [hisi-acc/v7.0], verdict: hang, description: d, reference: "see the list" }\n');
  bad(['--rev', 'v7.0', '--known', k], /known\.yaml: known\[0\]\.reference: expected 'commit <12-40 hex> \(vX.Y\)' or 'lore <message-id>', got "see the list"/);
  writeFileSync(k, 'known:\n  - { id: x, clauses: [no-such], revisions: [hisi-acc/v7.0], verdict: hang, description: d, reference: "commit 8be14dd48dfe (v7.0)" }\n');
  bad(['--rev', 'v7.0', '--known', k], /clauses: unknown clause no-such/);
});

test('a matrix page of the same run links the conformance page, and the other way round', () => {
  const root = tmp();
  const dir = join(root, 'run7');
  writeRunFiles(dir, handGrid(), { history: false, bundles: false });
  expect(readFileSync(join(dir, 'matrix.html'), 'utf8')).not.toContain('conformance.html');
  const r = cli(['conform', '--rev', 'v7.0', '--clause', 'flags-advertise-stop-copy', '--out', dir]);
  expect(r.status, r.stderr).toBe(0);
  expect(readFileSync(join(dir, 'matrix.html'), 'utf8')).toContain('<a href="conformance.html">uAPI conformance of this run</a>');
  expect(readFileSync(join(dir, 'conformance.html'), 'utf8')).toContain('<a href="matrix.html">');
  // a matrix written after the conformance run links it too
  writeRunFiles(dir, handGrid(), { history: false, bundles: false });
  expect(readFileSync(join(dir, 'matrix.html'), 'utf8')).toContain('href="conformance.html"');
});
