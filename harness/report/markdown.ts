// matrix.md: a source (rows) × destination (columns) grid per workload, transfer and scenario. A cell
// lists one letter per case (device configuration): M migrated, R refused, B broken, E error, with
// `*` for a declared known defect and `!` for an unexpected outcome. The same text is the terminal grid.
import { expectedText, isRed, type CaseRecord, type Summary } from './record.ts';
import { archSuffix, grids, OUTCOME_LETTER, shortRev } from './summary.ts';

export function cellText(cases: CaseRecord[]): string {
  return cases.map((c) => OUTCOME_LETTER[c.actual] + (isRed(c.status) ? '!' : c.status === 'known' ? '*' : '')).join(' ');
}

export function gridMarkdown(s: Summary): string {
  const lines: string[] = [];
  for (const g of grids(s.cases)) {
    const scen = g.scenario === 'single-hop' ? '' : `, ${g.scenario}`;
    lines.push(`### ${g.workload}, ${g.transfer}${scen}${archSuffix(g)}${s.matrix.length > 1 ? ` (${g.matrix})` : ''}`, '');
    lines.push(`| src \\ dst | ${g.dsts.map(shortRev).join(' | ')} |`);
    lines.push(`|---|${g.dsts.map(() => '---').join('|')}|`);
    for (const src of g.srcs) {
      const row = g.dsts.map((dst) => cellText(g.cells.get(`${src}\u0000${dst}`) ?? []) || ' ');
      lines.push(`| ${shortRev(src)} | ${row.join(' | ')} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

export function countsLine(s: Summary): string {
  const c = s.counts;
  return `${c.total} cases: ${c.migrated} migrated, ${c.refused} refused, ${c.broken} broken, ${c.error} error; ` +
    `${c.expected} as expected, ${c.known} known defects, ${c.unexpected + c.fixed} unexpected` +
    (s.previousRunId ? `; ${s.changed.length} changed since ${s.previousRunId}` : '');
}

/** `citeHref` turns a known defect's citation into a link relative to the file (null: shown as text). */
export function summaryMarkdown(s: Summary, replay: (c: CaseRecord) => string | null, citeHref: (link: string) => string | null = () => null): string {
  const out = [`# migcompat matrix run ${s.runId}`, '', countsLine(s), '',
    'Cells: one letter per case (device): **M** migrated, **R** refused, **B** broken, **E** error; `*` declared known defect, `!` unexpected.', ''];
  out.push(gridMarkdown(s));
  const red = s.cases.filter((c) => isRed(c.status));
  if (red.length) {
    out.push('## Unexpected cells', '');
    for (const c of red) {
      const why = c.status === 'fixed' ? `known defect ${c.known?.id} no longer fails` : `expected ${expectedText(c)} (${c.rule})`;
      const again = replay(c);
      out.push(`- \`${c.title}\`: ${c.actual} (${c.reason}${c.errno ? `, ${c.errno}` : ''}${c.stage ? ` at ${c.stage}` : ''}); ${why}.${again ? ` Replay: \`${again}\`` : ''}`);
    }
    out.push('');
  }
  const known = new Map<string, { d: CaseRecord['known']; n: number }>();
  for (const c of s.cases) if (c.known) known.set(c.known.id, { d: c.known, n: (known.get(c.known.id)?.n ?? 0) + 1 });
  if (known.size) {
    out.push('## Declared known defects', '');
    for (const [id, { d, n }] of known) {
      const href = d ? citeHref(d.link) : null;
      out.push(`- \`${id}\` (${n} cases): ${d?.description} See ${href ? `[${d?.link}](${href})` : d?.link}.`);
    }
    out.push('');
  }
  if (s.changed.length) {
    out.push(`## Changed since ${s.previousRunId}`, '', ...s.changed.map((id) => `- ${id}`), '');
  }
  return out.join('\n');
}
