// Pure functions from case records to the run summary, the grid layout and the history line. The
// order is fixed by the records themselves, so a sharded and merged run gives the same files.
import { OUTCOMES, type Outcome } from '../oracle/types.ts';
import { WORKLOADS } from '../runners/types.ts';
import type { CaseRecord, CellStatus, HistoryLine, Summary } from './record.ts';

const STATUSES: CellStatus[] = ['expected', 'known', 'unexpected', 'fixed'];

export function compareRecords(a: CaseRecord, b: CaseRecord): number {
  return (
    a.matrix.localeCompare(b.matrix) ||
    a.srcRank - b.srcRank ||
    a.dstRank - b.dstRank ||
    WORKLOADS.indexOf(a.spec.workload) - WORKLOADS.indexOf(b.spec.workload) ||
    a.spec.transfer.localeCompare(b.spec.transfer) ||
    a.spec.scenario.localeCompare(b.spec.scenario) ||
    a.title.localeCompare(b.title)
  );
}

export function buildSummary(records: CaseRecord[], runId: string, previous: Summary | null, now = new Date()): Summary {
  const cases = [...records].sort(compareRecords);
  const counts = { total: cases.length } as Summary['counts'];
  for (const s of STATUSES) counts[s] = 0;
  for (const o of OUTCOMES) counts[o] = 0;
  for (const c of cases) {
    counts[c.status]++;
    counts[c.actual]++;
  }
  const before = new Map((previous?.cases ?? []).map((c) => [c.id, c.actual]));
  const changed = previous ? cases.filter((c) => before.has(c.id) && before.get(c.id) !== c.actual).map((c) => c.id) : [];
  return {
    format: 'migcompat-summary',
    version: 1,
    runId,
    createdAt: now.toISOString(),
    matrix: [...new Set(cases.map((c) => c.matrix))],
    counts,
    previousRunId: previous?.runId ?? null,
    changed,
    cases,
  };
}

export function historyLine(s: Summary): HistoryLine {
  return {
    runId: s.runId, createdAt: s.createdAt, matrix: s.matrix, total: s.counts.total,
    migrated: s.counts.migrated, refused: s.counts.refused, broken: s.counts.broken, error: s.counts.error,
    unexpected: s.counts.unexpected + s.counts.fixed, known: s.counts.known, changed: s.changed.length,
  };
}

/** One grid: a source × destination table for one matrix, workload, transfer, scenario and guest architecture. */
export interface Grid {
  key: string;
  matrix: string;
  workload: string;
  transfer: string;
  scenario: string;
  /** guest architecture (qemu runner); x86_64 for every other case */
  arch: string;
  srcs: string[];
  dsts: string[];
  /** `${src}\u0000${dst}` → the cases of that cell (one per device configuration) */
  cells: Map<string, CaseRecord[]>;
}

export const cellKey = (src: string, dst: string): string => `${src}\u0000${dst}`;

export function grids(cases: CaseRecord[]): Grid[] {
  const out = new Map<string, Grid>();
  const ranks = new Map<string, number>();
  for (const c of [...cases].sort(compareRecords)) {
    ranks.set(c.spec.src, c.srcRank);
    ranks.set(c.spec.dst, c.dstRank);
    const arch = c.spec.arch ?? 'x86_64';
    const key = [c.matrix, c.spec.workload, c.spec.transfer, c.spec.scenario, arch].join(' ');
    let g = out.get(key);
    if (!g) {
      g = { key, matrix: c.matrix, workload: c.spec.workload, transfer: c.spec.transfer, scenario: c.spec.scenario, arch, srcs: [], dsts: [], cells: new Map() };
      out.set(key, g);
    }
    if (!g.srcs.includes(c.spec.src)) g.srcs.push(c.spec.src);
    if (!g.dsts.includes(c.spec.dst)) g.dsts.push(c.spec.dst);
    const k = cellKey(c.spec.src, c.spec.dst);
    const list = g.cells.get(k) ?? [];
    list.push(c);
    g.cells.set(k, list);
  }
  const byRank = (a: string, b: string) => (ranks.get(a) ?? 0) - (ranks.get(b) ?? 0);
  for (const g of out.values()) {
    g.srcs.sort(byRank);
    g.dsts.sort(byRank);
  }
  return [...out.values()];
}

/** ", aarch64" after a grid's heading; nothing for x86_64 (every grid before architectures existed). */
export const archSuffix = (g: Grid): string => (g.arch === 'x86_64' ? '' : `, ${g.arch}`);

export const shortRev = (id: string): string => id.replace(/^hisi-acc\//, '');

export const OUTCOME_LETTER: Record<Outcome, string> = { migrated: 'M', refused: 'R', broken: 'B', error: 'E' };
