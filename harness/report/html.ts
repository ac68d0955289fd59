// matrix.html: one self-contained page (no network, no external files needed to render it). Static
// markup carries the grid, so it reads without JavaScript; a small inline script adds the filters
// (workload, transfer, device, only-red) and the detail panel. Every case is one `.case` element with
// data-* attributes: the browser test and anyone scripting the page count and filter on them.
import { expectedText, isRed, type CaseRecord, type HistoryLine, type Summary } from './record.ts';
import { archSuffix, cellKey, grids, OUTCOME_LETTER, shortRev } from './summary.ts';
import { countsLine } from './markdown.ts';

export const OUTCOME_COLORS = {
  migrated: '#b7e1b0',
  refused: '#b3d4f5',
  broken: '#f4a3a3',
  error: '#d0c4e8',
} as const;

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

export interface HtmlOptions {
  replay(c: CaseRecord): string | null;
  /** link to the case in Playwright's HTML report, relative to the page */
  reportLink(c: CaseRecord): string | null;
  /** href of a known defect's citation, relative to the page (null: not a citation) */
  citeHref(link: string): string | null;
  history: HistoryLine[];
  /** pages of the same run to link from the header (e.g. conformance.html) */
  links?: { href: string; text: string }[];
}

function caseChip(c: CaseRecord, changed: boolean, o: HtmlOptions): string {
  const mark = isRed(c.status) ? '!' : c.status === 'known' ? '*' : '';
  const links = [
    c.artifacts.bundle ? `<a href="${esc(c.artifacts.bundle)}">bundle</a>` : '',
    o.reportLink(c) ? `<a href="${esc(o.reportLink(c) as string)}">test report</a>` : '',
  ].filter(Boolean).join(' · ');
  const knownHref = c.known ? o.citeHref(c.known.link) : null;
  const knownLink = c.known ? (knownHref ? `<a class="cite" href="${esc(knownHref)}">${esc(c.known.link)}</a>` : esc(c.known.link)) : '';
  const known = c.known ? `<div>known defect <b>${esc(c.known.id)}</b>: ${esc(c.known.description)} (${knownLink})</div>` : '';
  const detail =
    `<div class="detail"><div class="t">${esc(c.title)}</div>` +
    `<div><b>${esc(c.actual)}</b> (expected ${esc(expectedText(c))}, ${esc(c.rule)}; ${esc(c.status)})</div>` +
    `<div>reason: <span class="reason">${esc(c.reason)}</span></div>` +
    `<div>errno: <span class="errno">${esc(c.errno ?? '-')}</span> · stage: <span class="stage">${esc(c.stage ?? '-')}</span> · seed ${c.spec.seed}</div>` +
    known +
    (c.streamSummary ? `<div>stream: ${esc(c.streamSummary)}</div>` : '') +
    (o.replay(c) ? `<div>replay: <code class="replay">${esc(o.replay(c) as string)}</code></div>` : '') +
    (links ? `<div>${links}</div>` : '') +
    (changed ? '<div class="chg">changed since the previous run</div>' : '') +
    `</div>`;
  const cls = `case o-${c.actual} s-${c.status}${changed ? ' changed' : ''}`;
  const tip = `${c.title}: ${c.actual}${c.errno ? ' ' + c.errno : ''}${c.stage ? ' @' + c.stage : ''} (${c.reason})`;
  return `<div class="${cls}" tabindex="0" data-id="${esc(c.id)}" data-outcome="${c.actual}" data-status="${c.status}" ` +
    `data-workload="${esc(c.spec.workload)}" data-transfer="${esc(c.spec.transfer)}" data-device="${esc(c.spec.device.type)}" ` +
    `title="${esc(tip)}">${OUTCOME_LETTER[c.actual]}${mark}<small>${esc(c.spec.device.type)}</small>${detail}</div>`;
}

function trendSvg(history: HistoryLine[]): string {
  const runs = history.slice(-30);
  if (runs.length === 0) return '<p>No earlier runs.</p>';
  const w = 14, h = 60;
  const bars = runs.map((r, i) => {
    const total = Math.max(r.total, 1);
    let y = h;
    const parts = (['migrated', 'refused', 'broken', 'error'] as const).map((k) => {
      const bh = (r[k] / total) * h;
      y -= bh;
      return `<rect x="${i * w}" y="${y.toFixed(1)}" width="${w - 2}" height="${bh.toFixed(1)}" fill="${OUTCOME_COLORS[k]}"/>`;
    }).join('');
    const red = r.unexpected ? `<circle cx="${i * w + (w - 2) / 2}" cy="${h + 6}" r="3" fill="#c00"/>` : '';
    return `<g class="run"><title>${esc(r.runId)}: ${r.total} cases, ${r.migrated} M, ${r.refused} R, ${r.broken} B, ${r.error} E, ${r.unexpected} unexpected, ${r.changed} changed</title>${parts}${red}</g>`;
  }).join('');
  return `<svg class="trend" width="${runs.length * w}" height="${h + 12}" role="img" aria-label="outcomes per run">${bars}</svg>`;
}

const CSS = `
body{font:13px/1.4 system-ui,sans-serif;margin:16px;color:#222}
h1{font-size:18px;margin:0 0 4px}h2{font-size:14px;margin:18px 0 6px}
.bar{display:flex;gap:12px;align-items:center;flex-wrap:wrap;margin:8px 0;position:sticky;top:0;background:#fff;padding:6px 0;z-index:2}
table.grid{border-collapse:collapse;margin-bottom:6px}
.grid th,.grid td{border:1px solid #ccc;padding:2px 4px;vertical-align:top}
.grid th{background:#f3f3f3;font-weight:600;white-space:nowrap}
.case{display:inline-block;min-width:38px;margin:1px;padding:1px 3px;border-radius:3px;cursor:pointer;font-weight:700;position:relative}
.case small{font-weight:400;margin-left:3px;font-size:10px}
.o-migrated{background:${OUTCOME_COLORS.migrated}}.o-refused{background:${OUTCOME_COLORS.refused}}
.o-broken{background:${OUTCOME_COLORS.broken}}.o-error{background:${OUTCOME_COLORS.error}}
.s-unexpected,.s-fixed{outline:3px solid #c00}
.s-known{outline:2px dashed #8a6d00}
.changed::after{content:'●';color:#e65c00;position:absolute;top:-7px;right:-3px;font-size:11px}
.case .detail{display:none}
#panel{position:fixed;right:12px;bottom:12px;width:460px;max-height:45vh;overflow:auto;background:#fffbe6;border:1px solid #bba;padding:8px;box-shadow:0 2px 8px #0003;display:none;z-index:3}
#panel .detail{display:block}#panel .t{font-weight:700;margin-bottom:4px}
code{background:#eee;padding:0 3px;word-break:break-all}
.legend span{padding:1px 6px;border-radius:3px;margin-right:4px}
.hidden{display:none!important}
`;

// Runs in the browser: filters and the detail panel. Plain ES2017, no dependencies.
const SCRIPT = `
(function(){
  var sel = function(id){ return document.getElementById(id); };
  function apply(){
    var w = sel('f-workload').value, t = sel('f-transfer').value, d = sel('f-device').value, red = sel('f-red').checked;
    document.querySelectorAll('section.g').forEach(function(s){
      var show = (!w || s.dataset.workload === w) && (!t || s.dataset.transfer === t);
      s.classList.toggle('hidden', !show);
    });
    document.querySelectorAll('.case').forEach(function(c){
      var show = (!d || c.dataset.device === d) && (!red || c.dataset.status === 'unexpected' || c.dataset.status === 'fixed' || c.classList.contains('changed'));
      c.classList.toggle('hidden', !show);
    });
    var n = document.querySelectorAll('section.g:not(.hidden) .case:not(.hidden)').length;
    sel('shown').textContent = n + ' cases shown';
  }
  ['f-workload','f-transfer','f-device','f-red'].forEach(function(id){ sel(id).addEventListener('change', apply); });
  document.addEventListener('click', function(e){
    var c = e.target.closest ? e.target.closest('.case') : null;
    if (!c || e.target.tagName === 'A') return;
    var p = sel('panel'); p.innerHTML = ''; p.appendChild(c.querySelector('.detail').cloneNode(true)); p.style.display = 'block';
    p.dataset.id = c.dataset.id;
  });
  apply();
})();
`;

export function renderHtml(s: Summary, o: HtmlOptions): string {
  const changed = new Set(s.changed);
  const gs = grids(s.cases);
  const opts = (vals: string[]) => ['<option value="">all</option>', ...vals.map((v) => `<option value="${esc(v)}">${esc(v)}</option>`)].join('');
  const workloads = [...new Set(gs.map((g) => g.workload))];
  const transfers = [...new Set(gs.map((g) => g.transfer))];
  const devices = [...new Set(s.cases.map((c) => c.spec.device.type))];
  const sections = gs.map((g) => {
    const head = `<tr><th>src \\ dst</th>${g.dsts.map((d) => `<th>${esc(shortRev(d))}</th>`).join('')}</tr>`;
    const rows = g.srcs.map((src) => `<tr><th>${esc(shortRev(src))}</th>${g.dsts.map((dst) =>
      `<td>${(g.cells.get(cellKey(src, dst)) ?? []).map((c) => caseChip(c, changed.has(c.id), o)).join('')}</td>`).join('')}</tr>`).join('');
    const scen = g.scenario === 'single-hop' ? '' : `, ${g.scenario}`;
    return `<section class="g" data-workload="${esc(g.workload)}" data-transfer="${esc(g.transfer)}" data-scenario="${esc(g.scenario)}">` +
      `<h2>${esc(g.workload)}, ${esc(g.transfer)}${esc(scen)}${esc(archSuffix(g))}${s.matrix.length > 1 ? ` (${esc(g.matrix)})` : ''}</h2>` +
      `<table class="grid">${head}${rows}</table></section>`;
  }).join('\n');
  const legend = (['migrated', 'refused', 'broken', 'error'] as const).map((k) => `<span class="o-${k}">${OUTCOME_LETTER[k]} ${k}</span>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>migcompat ${esc(s.runId)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>${CSS}</style></head>
<body data-run="${esc(s.runId)}">
<h1>migcompat matrix ${esc(s.matrix.join(', '))}: run ${esc(s.runId)}</h1>
<div id="counts">${esc(countsLine(s))}</div>${o.links?.length ? `<div class="links">${o.links.map((l) => `<a href="${esc(l.href)}">${esc(l.text)}</a>`).join(' · ')}</div>` : ''}
<div class="legend">${legend} <span>* known defect</span><span style="outline:3px solid #c00">! unexpected</span><span>● changed since ${esc(s.previousRunId ?? '-')}</span></div>
<h2>Trend (last ${Math.min(o.history.length, 30)} runs)</h2>${trendSvg(o.history)}
<div class="bar">
<label>workload <select id="f-workload">${opts(workloads)}</select></label>
<label>transfer <select id="f-transfer">${opts(transfers)}</select></label>
<label>device <select id="f-device">${opts(devices)}</select></label>
<label><input type="checkbox" id="f-red"> only unexpected or changed</label>
<span id="shown"></span>
</div>
${sections}
<div id="panel"></div>
<script>${SCRIPT}</script>
</body></html>
`;
}
