// The field-sensitivity report (issue #5): per destination revision, per stream field, how mutations
// of it end (refused, migrated, broken), with one minimal example each. It answers which parts of
// the stream a destination can trust. Written as results/<run>/fuzz/sensitivity.{json,md,html}.
import { join } from 'node:path';
import type { Outcome } from '../oracle/types.ts';
import { toJson } from '../util/hex.ts';
import { writeFileAtomic as writeAtomic } from '../util/atomic.ts';
import { FIELDS_V1, FIELDS_V2, LENGTH_FIELD } from './streamFields.ts';

// rows in stream order (V2 names first where the layouts differ), then length and delivery
const ORDER = new Map([...new Set([LENGTH_FIELD, ...FIELDS_V2.map((f) => f.name), ...FIELDS_V1.map((f) => f.name)])]
  .sort((a, b) => offsetOf(a) - offsetOf(b)).map((n, i) => [n, i]));
function offsetOf(name: string): number {
  return name === LENGTH_FIELD ? -1 : (FIELDS_V2.find((f) => f.name === name) ?? FIELDS_V1.find((f) => f.name === name))?.offset ?? 999;
}
const rows = (fields: Record<string, FieldCell>) =>
  Object.entries(fields).sort((a, b) => (ORDER.get(a[0]) ?? 999) - (ORDER.get(b[0]) ?? 999) || a[0].localeCompare(b[0]));

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

/** An oracle outcome, or `accepted`: the destination took it but no guest ran after it (sampling). */
export type FuzzOutcome = Outcome | 'accepted';
export const FUZZ_OUTCOMES: readonly FuzzOutcome[] = ['refused', 'accepted', 'migrated', 'broken', 'error'];

export interface FieldCell {
  counts: Record<FuzzOutcome, number>;
  examples: Partial<Record<FuzzOutcome, SensitivityExample>>;
  /** per docs/reference.md#match-check-order-and-errnos this revision checks the field: every mutation must be refused */
  checked: boolean;
}

export interface BaselineRow {
  dst: string;
  /** source revision (guest workload) */
  src: string;
  outcome: FuzzOutcome;
  reason: string;
}

export interface SensitivityReport {
  generated: string;
  seed: number;
  runs: number;
  /** accepted mutants ran the guest case 1 in `guestEvery` times (0: never; the rest count as `accepted`) */
  guestEvery: number;
  /** unmutated outcome per pair; pairs already broken unmutated are not fuzzed */
  baselines: BaselineRow[];
  /** destination revision -> field -> cell */
  revisions: Record<string, Record<string, FieldCell>>;
}

export class SensitivityTable {
  readonly revisions: Record<string, Record<string, FieldCell>> = {};
  readonly baselines: BaselineRow[] = [];
  runs = 0;
  guestEvery = 0;

  baseline(dst: string, src: string, outcome: FuzzOutcome, reason: string): void {
    if (!this.baselines.some((b) => b.dst === dst && b.src === src)) this.baselines.push({ dst, src, outcome, reason });
  }

  /** `size` = bytes changed; the example is built only when it is the most minimal so far (speed). */
  record(dst: string, field: string, checked: boolean, outcome: FuzzOutcome, size: number, example: () => SensitivityExample): void {
    this.runs++;
    const byField = (this.revisions[dst] ??= {});
    const cell = (byField[field] ??= { counts: { refused: 0, accepted: 0, migrated: 0, broken: 0, error: 0 }, examples: {}, checked });
    cell.counts[outcome]++;
    const old = cell.examples[outcome];
    if (!old || size < old.size) cell.examples[outcome] = example();
  }

  toReport(seed: number, now = new Date()): SensitivityReport {
    return { generated: now.toISOString(), seed, runs: this.runs, guestEvery: this.guestEvery, baselines: this.baselines, revisions: this.revisions };
  }
}

const OUT = FUZZ_OUTCOMES;

const sampling = (r: SensitivityReport) => r.guestEvery
  ? `Accepted mutants ran the guest case (workload checks, oracle) 1 in ${r.guestEvery} times; the rest count as \`accepted\` (not verified).`
  : 'No guest ran: accepted mutants count as `accepted` (not verified).';

const notFuzzed = (r: SensitivityReport) => r.baselines.filter((b) => b.outcome === 'broken' || b.outcome === 'error');

export function renderMarkdown(r: SensitivityReport): string {
  const lines = [`# Field sensitivity`, '', `${r.runs} mutated-stream checks, seed ${r.seed}, ${r.generated}.`,
    'A field marked ✓ is checked by the destination (docs/reference.md#match-check-order-and-errnos): all its mutations must end `refused`.', sampling(r), ''];
  const skipped = notFuzzed(r);
  if (skipped.length) {
    lines.push('Pairs not fuzzed (the unmutated stream is already broken there):', '');
    for (const b of skipped) lines.push(`- ${b.src} -> ${b.dst}: ${b.reason.replace(/\|/g, '\\|')}`);
    lines.push('');
  }
  for (const [dst, fields] of Object.entries(r.revisions).sort()) {
    lines.push(`## ${dst}`, '', '| field | checked | refused | accepted (no guest) | migrated | broken | error | minimal example (not refused) |', '|---|---|---|---|---|---|---|---|');
    for (const [name, c] of rows(fields)) {
      const ex = c.examples.broken ?? c.examples.migrated ?? c.examples.accepted ?? c.examples.error;
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
    const body = rows(fields).map(([name, c]) => {
      const total = OUT.reduce((a, o) => a + c.counts[o], 0) || 1;
      const cells = OUT.map((o) => {
        const ex = c.examples[o];
        const title = ex ? esc(`${ex.mutation} from ${ex.src}: ${ex.reason}`) : '';
        return `<td class="${o}" style="--p:${(c.counts[o] / total).toFixed(3)}" title="${title}">${c.counts[o]}</td>`;
      }).join('');
      const bad = c.checked && c.counts.refused !== total ? ' class="bad"' : '';
      return `<tr${bad}><th>${esc(name)}</th><td>${c.checked ? '✓' : ''}</td>${cells}</tr>`;
    }).join('\n');
    return `<h2>${esc(dst)}</h2><table><tr><th>field</th><th>checked</th>${OUT.map((o) => `<th>${o}</th>`).join('')}</tr>\n${body}</table>`;
  }).join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><title>migcompat field sensitivity</title><style>
body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:2em}
td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}th{text-align:left}
td.refused{background:rgba(40,120,220,var(--p))}td.accepted{background:rgba(200,180,40,var(--p))}td.migrated{background:rgba(40,180,80,var(--p))}
td.broken{background:rgba(220,40,40,var(--p))}td.error{background:rgba(120,120,120,var(--p))}tr.bad th{color:#b00}
</style></head><body><h1>Field sensitivity</h1><p>${r.runs} mutated-stream checks, seed ${r.seed}, ${esc(r.generated)}.
Hover a count for its minimal example. ✓ = checked by the destination (docs/reference.md#match-check-order-and-errnos). ${esc(sampling(r))}</p>${
  notFuzzed(r).length ? `<p>Not fuzzed (broken unmutated): ${notFuzzed(r).map((b) => esc(`${b.src} -> ${b.dst}`)).join('; ')}</p>` : ''}${sections}</body></html>\n`;
}

/** Writes sensitivity.json/.md/.html under `dir` (results/&lt;run&gt;/fuzz). */
export function writeSensitivity(dir: string, r: SensitivityReport): string[] {
  const files = [join(dir, 'sensitivity.json'), join(dir, 'sensitivity.md'), join(dir, 'sensitivity.html')];
  writeAtomic(files[0], toJson(r) + '\n');
  writeAtomic(files[1], renderMarkdown(r));
  writeAtomic(files[2], renderHtml(r));
  return files;
}
