// Run files from hand-built records: summary counts, the Markdown grid, changed cells, history.
import { test, expect } from '@playwright/test';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeRunFiles } from '../../harness/report/gridReporter.ts';
import { readBundle } from '../../harness/report/bundle.ts';
import { cellText, gridMarkdown } from '../../harness/report/markdown.ts';
import type { Summary } from '../../harness/report/record.ts';
import { buildSummary } from '../../harness/report/summary.ts';
import { handGrid } from './records.ts';

test('summary counts outcomes and statuses; the grid shows actual outcomes with marks', () => {
  const s = buildSummary(handGrid(), 'r1', null);
  expect(s.counts).toMatchObject({ total: 18, migrated: 14, refused: 2, broken: 1, error: 1, expected: 16, known: 1, unexpected: 1, fixed: 0 });
  const md = gridMarkdown(s);
  // one table per workload/transfer, rows = src, columns = dst, in revision order
  expect(md).toContain('### user-polling, qemu');
  expect(md).toContain('### kernel-crypto, qemu');
  expect(md).toContain('| src \\ dst | v5.18 | v6.16 | v7.0 |');
  const kc = md.split('### kernel-crypto, qemu')[1];
  expect(kc).toContain('| v5.18 | B* | M | M |'); // known defect: actual broken, marked *
  const up = md.split('### kernel-crypto, qemu')[0];
  expect(up).toContain('| v6.16 | M | M | E! |'); // unexpected: actual error, marked !
  expect(up).toContain('| v7.0 | R | M | M |');
  expect(cellText([])).toBe('');
});

test('run files: summary.json, matrix.md, matrix.html, bundles, history; changes since the previous run', () => {
  const root = mkdtempSync(join(tmpdir(), 'mc-results-'));
  const first = writeRunFiles(join(root, 'run-1'), handGrid(), { snapshots: () => ({}) });
  expect(first.previousRunId).toBeNull();
  const flipped = handGrid({ 'v7.0_to_v5.18_user-polling_qemu_SEC': 'broken' });
  const second = writeRunFiles(join(root, 'run-2'), flipped, { snapshots: () => ({}) });
  expect(second.previousRunId).toBe('run-1');
  expect(second.changed).toEqual(['v7.0_to_v5.18_user-polling_qemu_SEC']);

  const dir = join(root, 'run-2');
  for (const f of ['summary.json', 'matrix.md', 'matrix.html']) expect(existsSync(join(dir, f)), f).toBe(true);
  expect(readdirSync(join(dir, 'repro'))).toHaveLength(18);
  expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  const s = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Summary;
  const c = s.cases.find((x) => x.id === 'v7.0_to_v5.18_user-polling_qemu_SEC')!;
  expect(c).toMatchObject({ actual: 'broken', expected: 'refused', status: 'unexpected', seed: 1020 });
  expect(c.spec.seed).toBe(1020);
  expect(c.artifacts.bundle).toBe('repro/v7.0_to_v5.18_user-polling_qemu_SEC.json');
  const b = readBundle(join(dir, c.artifacts.bundle!));
  expect(b).toMatchObject({ format: 'migcompat-bundle', version: 1, title: c.title, stream: 'ccaaedfecdcdcdcd', verdict: { outcome: 'broken' } });
  const md = readFileSync(join(dir, 'matrix.md'), 'utf8');
  expect(md).toContain('## Unexpected cells');
  expect(md).toContain(`npm run -s migcompat -- replay`);
  expect(md).toContain('## Changed since run-1');
  const hist = readFileSync(join(root, 'history.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  expect(hist.map((h) => h.runId)).toEqual(['run-1', 'run-2']);
  expect(hist[1]).toMatchObject({ total: 18, broken: 2, unexpected: 2, changed: 1 });
  const html = readFileSync(join(dir, 'matrix.html'), 'utf8');
  expect(html.match(/class="case /g)).toHaveLength(18);
  expect(html.match(/class="case [^"]*changed/g)).toHaveLength(1);
  expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)="https?:/); // self-contained
});
