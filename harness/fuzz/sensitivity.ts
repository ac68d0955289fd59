// The field-sensitivity report (issue #5): per destination revision, per stream field, how mutations
// of it end (refused, migrated, broken), with one minimal example each. It answers which parts of
// the stream a destination can trust. Written as results/<run>/fuzz/sensitivity.{json,md,html}.
import { join } from 'node:path';
import type { Outcome } from '../oracle/types.ts';
import { toJson } from '../util/hex.ts';
import { writeFileAtomic as writeAtomic } from '../report/atomic.ts';

export interface SensitivityExample {
  src: string;
  mutation: string;
  /** bytes that differ from the source stream (smaller is more minimal) */
  size: number;
  errno: string | null;
  reason: string;
  /** the mutation as data, for a bundle or a replay */
  data: Record<string, unknown>;
}

export interface FieldCell {
  counts: Record<Outcome, number>;
  examples: Partial<Record<Outcome, SensitivityExample>>;
  /** per reference C.2 this revision checks the field: every mutation must be refused */
  checked: boolean;
}

export interface SensitivityReport {
  generated: string;
  seed: number;
  runs: number;
  /** destination revision -> field -> cell */
  revisions: Record<string, Record<string, FieldCell>>;
}

export class SensitivityTable {
  readonly revisions: Record<string, Record<string, FieldCell>> = {};
  runs = 0;

  /** `size` = bytes changed; the example is built only when it is the most minimal so far (speed). */
  record(dst: string, field: string, checked: boolean, outcome: Outcome, size: number, example: () => SensitivityExample): void {
    this.runs++;
    const byField = (this.revisions[dst] ??= {});
    const cell = (byField[field] ??= { counts: { migrated: 0, refused: 0, broken: 0, error: 0 }, examples: {}, checked });
    cell.counts[outcome]++;
    const old = cell.examples[outcome];
    if (!old || size < old.size) cell.examples[outcome] = example();
  }

  toReport(seed: number, now = new Date()): SensitivityReport {
    return { generated: now.toISOString(), seed, runs: this.runs, revisions: this.revisions };
  }
}

const OUT: Outcome[] = ['refused', 'migrated', 'broken', 'error'];

export function renderMarkdown(r: SensitivityReport): string {
  const lines = [`# Field sensitivity`, '', `${r.runs} mutated-stream checks, seed ${r.seed}, ${r.generated}.`,
    'A field marked ✓ is checked by the destination (reference C.2): all its mutations must end `refused`.', ''];
  for (const [dst, fields] of Object.entries(r.revisions).sort()) {
    lines.push(`## ${dst}`, '', '| field | checked | refused | migrated | broken | error | minimal example (not refused) |', '|---|---|---|---|---|---|---|');
    for (const [name, c] of Object.entries(fields)) {
      const ex = c.examples.migrated ?? c.examples.broken ?? c.examples.error;
      const exText = ex ? `${ex.mutation} (from ${ex.src})` : c.examples.refused ? `— (e.g. ${c.examples.refused.mutation}: ${c.examples.refused.errno ?? ''})` : '';
      lines.push(`| ${name} | ${c.checked ? '✓' : ''} | ${OUT.map((o) => c.counts[o]).join(' | ')} | ${exText.replace(/\|/g, '\\|')} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

export function renderHtml(r: SensitivityReport): string {
  const sections = Object.entries(r.revisions).sort().map(([dst, fields]) => {
    const rows = Object.entries(fields).map(([name, c]) => {
      const total = OUT.reduce((a, o) => a + c.counts[o], 0) || 1;
      const cells = OUT.map((o) => {
        const ex = c.examples[o];
        const title = ex ? esc(`${ex.mutation} from ${ex.src}: ${ex.reason}`) : '';
        return `<td class="${o}" style="--p:${(c.counts[o] / total).toFixed(3)}" title="${title}">${c.counts[o]}</td>`;
      }).join('');
      const bad = c.checked && c.counts.refused !== total ? ' class="bad"' : '';
      return `<tr${bad}><th>${esc(name)}</th><td>${c.checked ? '✓' : ''}</td>${cells}</tr>`;
    }).join('\n');
    return `<h2>${esc(dst)}</h2><table><tr><th>field</th><th>checked</th>${OUT.map((o) => `<th>${o}</th>`).join('')}</tr>\n${rows}</table>`;
  }).join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><title>migcompat field sensitivity</title><style>
body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:2em}
td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}th{text-align:left}
td.refused{background:rgba(40,120,220,var(--p))}td.migrated{background:rgba(40,180,80,var(--p))}
td.broken{background:rgba(220,40,40,var(--p))}td.error{background:rgba(120,120,120,var(--p))}tr.bad th{color:#b00}
</style></head><body><h1>Field sensitivity</h1><p>${r.runs} mutated-stream checks, seed ${r.seed}, ${esc(r.generated)}.
Hover a count for its minimal example. ✓ = checked by the destination (reference C.2).</p>${sections}</body></html>\n`;
}

/** Writes sensitivity.json/.md/.html under `dir` (results/&lt;run&gt;/fuzz). */
export function writeSensitivity(dir: string, r: SensitivityReport): string[] {
  const files = [join(dir, 'sensitivity.json'), join(dir, 'sensitivity.md'), join(dir, 'sensitivity.html')];
  writeAtomic(files[0], toJson(r) + '\n');
  writeAtomic(files[1], renderMarkdown(r));
  writeAtomic(files[2], renderHtml(r));
  return files;
}
