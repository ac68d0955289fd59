// The conformance report: results/<run>/conformance.json (format migcompat-conformance, version 1),
// conformance.md and conformance.html (clause × revision: ✓ holds, ✗ violated, ⧖ hang, — does not
// apply), and for every ✗ and ⧖ a repro bundle conformance/<clause>--<revision>.json that
// `migcompat replay` reruns. Each file is written whole or not at all (util/atomic.ts).
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { DEFAULT_DEVICE } from '../device/mmio.ts';
import { profileSnapshots } from '../matrix/revisions.ts';
import { writeBundle } from '../report/bundle.ts';
import { rewriteMatrixHtml } from '../report/gridFiles.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { toJson } from '../util/hex.ts';
import { formatCmd } from './commands.ts';
import { plainCmds } from './engine.ts';
import { isRedStatus, referenceHref, type CellStatus } from './known.ts';
import type { Cell, ConformanceResult } from './run.ts';
import { sequenceLines } from './session.ts';
import { VERDICT_MARK } from './verdict.ts';

export const CONFORMANCE_FORMAT = 'migcompat-conformance';
export const CONFORMANCE_VERSION = 1;

export interface CellReport extends Omit<Cell, 'known'> {
  known: { id: string; description: string; reference: string } | null;
  /** the evidence as readable lines (command = answer → state) */
  sequence: string[] | null;
  /** bundle path relative to the run folder */
  bundle: string | null;
  replay: string | null;
}

export interface ConformanceReport {
  format: typeof CONFORMANCE_FORMAT;
  version: typeof CONFORMANCE_VERSION;
  runId: string;
  createdAt: string;
  contract: { file: string; name: string };
  known: string;
  clauses: ConformanceResult['clauses'];
  subjects: ConformanceResult['subjects'];
  counts: ConformanceResult['counts'];
  ok: boolean;
  ms: number;
  cells: CellReport[];
}

const safe = (s: string) => s.replace(/[^\w.-]+/g, '_');
const short = (id: string) => id.replace(/^hisi-acc\//, '');
const STATUS_MARK: Record<CellStatus, string> = { expected: '', known: '*', unexpected: '‼', fixed: '‼', error: '‼' };

export function cellMark(c: Pick<Cell, 'verdict' | 'status'>): string {
  return VERDICT_MARK[c.verdict] + STATUS_MARK[c.status];
}

export function replayCommandFor(bundlePath: string): string {
  return `npm run -s migcompat -- replay ${relative(process.cwd(), bundlePath)}`;
}

/** Write the run's conformance files into `dir` (results/<run-id>); returns the report. */
export function writeConformanceFiles(dir: string, r: ConformanceResult, o: { known: string; peers?: string[] }): ConformanceReport {
  const runId = dir.replace(/^.*[\\/]/, '');
  const createdAt = new Date().toISOString();
  const kinds = new Map(r.subjects.map((s) => [s.id, s.kind]));
  const cells: CellReport[] = r.cells.map((c) => {
    const known = c.known ? { id: c.known.id, description: c.known.description, reference: c.known.reference } : null;
    const out: CellReport = { ...c, known, sequence: c.evidence ? sequenceLines(c.evidence.steps) : null, bundle: null, replay: null };
    if (!c.evidence) return out;
    const path = join(dir, 'conformance', `${safe(c.clause)}--${safe(c.subject)}.json`);
    const kind = kinds.get(c.subject);
    writeBundle(path, {
      createdAt, createdBy: 'conformance',
      title: `conformance ${c.clause} on ${c.subject}`,
      // the case a plain replay would name (conformance bundles replay their sequence: extra.conformance)
      case: { src: c.subject, dst: c.subject, workload: 'no-driver', scenario: 'single-hop', transfer: 'single', device: DEFAULT_DEVICE, requests: 0, inflight: 0, requestSize: 64, seed: 0 },
      profiles: kind === 'model' ? profileSnapshots([c.subject]) : {},
      stream: null,
      verdict: { outcome: 'broken', reason: `${c.clause}: ${c.detail}`, errno: null, stage: c.verdict },
      timelineDigest: null,
      extra: {
        conformance: {
          clause: c.clause, subject: c.subject, subjectKind: kind, verdict: c.verdict, detail: c.detail, scenario: c.evidence.scenario,
          commands: plainCmds(c.evidence.steps), steps: c.evidence.steps, at: c.evidence.at, shrunkFrom: c.evidence.shrunkFrom,
          contract: r.contract.file, peers: o.peers ?? [], known: known?.id ?? null,
        },
      },
    });
    out.bundle = relative(dir, path);
    out.replay = replayCommandFor(path);
    return out;
  });
  const report: ConformanceReport = {
    format: CONFORMANCE_FORMAT, version: CONFORMANCE_VERSION, runId, createdAt, contract: r.contract, known: o.known,
    clauses: r.clauses, subjects: r.subjects, counts: r.counts, ok: r.ok, ms: r.ms, cells,
  };
  writeFileAtomic(join(dir, 'conformance.json'), toJson(report) + '\n');
  writeFileAtomic(join(dir, 'conformance.md'), conformanceMarkdown(report));
  writeFileAtomic(join(dir, 'conformance.html'), conformanceHtml(report, { matrixLink: existsSync(join(dir, 'matrix.html')), dir }));
  // a matrix of the same run links its page to this one
  if (existsSync(join(dir, 'summary.json'))) rewriteMatrixHtml(dir);
  return report;
}

export function countsText(r: Pick<ConformanceReport, 'counts' | 'clauses' | 'subjects' | 'ok'>, words = false): string {
  const c = r.counts;
  const verdicts = words ? `${c.holds} hold, ${c.violated} violated, ${c.hang} hang, ${c.na} do not apply` : `${c.holds} ✓, ${c.violated} ✗, ${c.hang} ⧖, ${c.na} —`;
  return `${r.clauses.length} clauses × ${r.subjects.length} revisions: ${verdicts}` +
    `${c.error ? `, ${c.error} error` : ''}; ${c.known} known, ${c.unexpected} unexpected, ${c.fixed} fixed: ${r.ok ? 'OK' : 'FAILED'}`;
}

const cellOf = (r: ConformanceReport, clause: string, subject: string) => r.cells.find((c) => c.clause === clause && c.subject === subject);

/** The clause × revision table as Markdown (also what the CLI prints). */
export function tableMarkdown(r: ConformanceReport, link = true): string[] {
  const lines = [`| clause | binds | ${r.subjects.map((s) => short(s.id)).join(' | ')} |`, `|---|---|${r.subjects.map(() => '---').join('|')}|`];
  for (const cl of r.clauses) {
    const row = r.subjects.map((s) => {
      const c = cellOf(r, cl.id, s.id);
      return c ? cellMark(c) : ' ';
    });
    lines.push(`| ${link ? `[${cl.id}](#${cl.id})` : cl.id} | ${cl.binds} | ${row.join(' | ')} |`);
  }
  return lines;
}

export const LEGEND = '✓ holds · ✗ violated · ⧖ hang (a call never returns) · — does not apply · ! error; * a declared known violation; ‼ red: undeclared, fixed since declared, or an error';

export function conformanceMarkdown(r: ConformanceReport): string {
  const out = [`# migcompat conformance: ${r.contract.name}, run ${r.runId}`, '', countsText(r), '', ...tableMarkdown(r), '', LEGEND, ''];
  const bad = r.cells.filter((c) => c.verdict === 'violated' || c.verdict === 'hang' || isRedStatus(c.status));
  if (bad.length) out.push('## Violations', '');
  for (const c of bad) {
    out.push(`### ${c.clause} on ${c.subject}: ${cellMark(c)} ${c.status}`, '', c.detail, '');
    if (c.known) out.push(`Known violation \`${c.known.id}\`: ${c.known.description} (${c.known.reference})`, '');
    if (c.status === 'fixed') out.push(`Declared as \`${c.known?.id}\` but it ${c.verdict === 'holds' ? 'holds now' : `is ${c.verdict}`}: update specs/conformance/known.yaml.`, '');
    if (c.evidence) {
      out.push(`Scenario: ${c.evidence.scenario}${c.evidence.shrunkFrom > c.evidence.steps.length ? ` (shrunk from ${c.evidence.shrunkFrom} to ${c.evidence.steps.length} calls)` : ''}`, '', '```', ...(c.sequence ?? []), '```', '');
      const hang = c.evidence.violation.hang;
      if (hang) out.push(`Never returns in: ${hang.where}. Arcs walked in that request: ${hang.arcs.length ? hang.arcs.join(', ') : 'none (it never got past its first step)'}.`, '');
    }
    if (c.failing.length > 1) out.push(`Failing scenarios (${c.failing.length}): ${c.failing.slice(0, 8).join('; ')}${c.failing.length > 8 ? '; …' : ''}`, '');
    if (c.replay) out.push(`Replay: \`${c.replay}\``, '');
  }
  const na = r.cells.filter((c) => c.verdict === 'na');
  if (na.length) {
    out.push('## Does not apply', '');
    const byReason = new Map<string, string[]>();
    for (const c of na) byReason.set(`${c.clause}: ${c.detail}`, [...(byReason.get(`${c.clause}: ${c.detail}`) ?? []), short(c.subject)]);
    for (const [why, subs] of byReason) out.push(`- ${why} (${subs.join(', ')})`);
    out.push('');
  }
  out.push('## Clauses', '');
  for (const cl of r.clauses) {
    out.push(`### ${cl.id}`, '', `**${cl.title}** (binds the ${cl.binds}). ${cl.statement}`, '',
      `Source: linux/vfio.h, ${cl.source.header}; since ${cl.source.since} (${cl.source.commit}). Check: \`${cl.check.name}\`.`, '');
  }
  return out.join('\n');
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const CSS = `
body{font:13px/1.4 system-ui,sans-serif;margin:16px;color:#222}h1{font-size:18px;margin:0 0 4px}h2{font-size:14px;margin:18px 0 6px}
table.conf{border-collapse:collapse}.conf th,.conf td{border:1px solid #ccc;padding:2px 6px;text-align:center}
.conf th.c{text-align:left;font-weight:400}.conf th{background:#f3f3f3}
.cell{cursor:pointer;font-weight:700;min-width:28px}
.v-holds{background:#b7e1b0}.v-violated{background:#f4a3a3}.v-hang{background:#f7c67a}.v-na{background:#e4e4e4;color:#777}.v-error{background:#d0c4e8}
.s-unexpected,.s-fixed,.s-error{outline:3px solid #c00;outline-offset:-3px}.s-known{outline:2px dashed #8a6d00;outline-offset:-2px}
.detail{display:none}#panel{position:fixed;right:12px;bottom:12px;width:560px;max-height:55vh;overflow:auto;background:#fffbe6;border:1px solid #bba;padding:8px;box-shadow:0 2px 8px #0003;display:none}
#panel .detail{display:block}pre{background:#f5f5f5;padding:4px;white-space:pre-wrap}code{background:#eee;padding:0 3px;word-break:break-all}
.legend span{padding:1px 6px;margin-right:4px}svg.hourglass{vertical-align:-1px}
`;

const SCRIPT = `
document.addEventListener('click', function(e){
  var c = e.target.closest ? e.target.closest('.cell') : null;
  if (!c || e.target.tagName === 'A') return;
  var p = document.getElementById('panel'); p.innerHTML = ''; p.appendChild(c.querySelector('.detail').cloneNode(true)); p.style.display = 'block';
  p.dataset.clause = c.dataset.clause; p.dataset.subject = c.dataset.subject;
});
`;

/** ⧖ is missing from common fonts (Debian's chromium draws a box): the page draws an hourglass. */
const HOURGLASS = '<svg class="hourglass" width="9" height="12" viewBox="0 0 9 12" role="img" aria-label="⧖"><path d="M0 0h9L0 12h9z" fill="currentColor"/></svg>';
const markHtml = (c: Pick<CellReport, 'verdict' | 'status'>): string => (c.verdict === 'hang' ? HOURGLASS + esc(cellMark(c).slice(1)) : esc(cellMark(c)));

function cellHtml(r: ConformanceReport, c: CellReport, dir: string): string {
  const cl = r.clauses.find((x) => x.id === c.clause)!;
  const known = c.known ? `<div>known violation <b>${esc(c.known.id)}</b>: ${esc(c.known.description)} (<a href="${esc(referenceHref(c.known.reference, dir))}">${esc(c.known.reference)}</a>)</div>` : '';
  const seq = c.sequence ? `<div>scenario: ${esc(c.evidence?.scenario ?? '')}</div><pre class="seq">${esc(c.sequence.join('\n'))}</pre>` : '';
  const detail = `<div class="detail"><div><b>${esc(c.clause)}</b> on <b>${esc(c.subject)}</b>: ${markHtml({ verdict: c.verdict, status: 'expected' })} ${esc(c.verdict)} (${esc(c.status)})</div>` +
    `<div>${esc(cl.title)}</div><div class="why">${esc(c.detail)}</div>${known}${seq}` +
    (c.replay ? `<div>replay: <code class="replay">${esc(c.replay)}</code></div>` : '') +
    (c.bundle ? `<div><a href="${esc(c.bundle)}">bundle</a></div>` : '') +
    (c.notes.length ? `<div>notes: ${esc(c.notes.join(' | '))}</div>` : '') + '</div>';
  return `<td class="cell v-${c.verdict} s-${c.status}" tabindex="0" data-clause="${esc(c.clause)}" data-subject="${esc(c.subject)}" data-verdict="${c.verdict}" data-status="${c.status}" ` +
    `title="${esc(`${c.clause} on ${c.subject}: ${c.verdict}: ${c.detail}`)}">${markHtml(c)}${detail}</td>`;
}

export function conformanceHtml(r: ConformanceReport, o: { matrixLink?: boolean; dir?: string } = {}): string {
  const head = `<tr><th>clause</th><th>binds</th>${r.subjects.map((s) => `<th title="${esc(s.title)}">${esc(short(s.id))}</th>`).join('')}</tr>`;
  const rows = r.clauses.map((cl) => `<tr><th class="c" title="${esc(cl.statement)}">${esc(cl.id)}</th><td>${cl.binds}</td>` +
    r.subjects.map((s) => {
      const c = cellOf(r, cl.id, s.id);
      return c ? cellHtml(r, c, o.dir ?? '.') : '<td></td>';
    }).join('') + '</tr>').join('\n');
  const legend = (['holds', 'violated', 'hang', 'na', 'error'] as const).map((v) => `<span class="v-${v}">${v === 'hang' ? HOURGLASS : VERDICT_MARK[v]} ${v === 'na' ? 'does not apply' : v}</span>`).join('');
  const matrix = o.matrixLink ? ' <a href="matrix.html">matrix of this run</a>' : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>migcompat conformance ${esc(r.runId)}</title><style>${CSS}</style></head>
<body data-run="${esc(r.runId)}" data-ok="${r.ok}">
<h1>VFIO migration uAPI conformance (${esc(r.contract.name)}): run ${esc(r.runId)}</h1>${matrix}
<div id="counts">${esc(countsText(r, true))}</div>
<div class="legend">${legend} <span style="outline:2px dashed #8a6d00">* known</span><span style="outline:3px solid #c00">‼ red</span></div>
<h2>Clause × revision</h2>
<table class="conf">${head}${rows}</table>
<p>Click a cell for the violation, its minimal command sequence and the replay command. What each clause means: docs/conformance.md in the repository.</p>
<div id="panel"></div>
<script>${SCRIPT}</script>
</body></html>
`;
}
