// One case's result as the grid reporter stores it in summary.json. A matrix test sends the
// worker-side part as a test annotation (type CASE_ANNOTATION, JSON) so it survives sharding and
// `merge-reports` unchanged; the reporter adds the status and the artifact paths.
import type { KnownDefect } from '../matrix/types.ts';
import type { Outcome } from '../oracle/types.ts';
import type { CaseSpec } from '../runners/types.ts';

export const CASE_ANNOTATION = 'migcompat-case';

/**
 * expected: the actual outcome is the expected one.
 * known: a declared known defect still fails as declared (an expected failure).
 * unexpected: the actual outcome differs and no defect is declared.
 * fixed: a declared known defect no longer fails: the declaration must go (red, like unexpected).
 */
export type CellStatus = 'expected' | 'known' | 'unexpected' | 'fixed';

/** What the worker knows after running a case. */
export interface TestRecord {
  id: string;
  title: string;
  matrix: string;
  runner: string;
  direction: string;
  /** positions of src and dst in the matrix's revision order (oldest first): grids sort by them */
  srcRank: number;
  dstRank: number;
  spec: CaseSpec;
  /** the case seed (also spec.seed): a case is a pure function of (spec, seed) on sim */
  seed: number;
  expected: Outcome;
  /** further outcomes that pass (a lab cell passes when it is migrated or refused) */
  acceptable?: Outcome[];
  rule: string;
  known: KnownDefect | null;
  actual: Outcome;
  reason: string;
  errno: string | null;
  stage: string | null;
  /** captured stream as lowercase hex, null when nothing was read */
  streamHex: string | null;
  /** sha1 of the full timeline JSON: replay compares it */
  timelineDigest: string;
  timelineEvents: number;
  /** decoded stream summary line (revision guess, length), null when there is no stream */
  streamSummary: string | null;
}

export interface CaseRecord extends TestRecord {
  status: CellStatus;
  durationMs: number;
  /** Playwright's test id: links into its HTML report */
  reportTestId: string | null;
  artifacts: { bundle: string | null };
}

export function cellStatus(r: Pick<TestRecord, 'expected' | 'actual' | 'known' | 'acceptable'>): CellStatus {
  const same = r.actual === r.expected || (r.acceptable?.includes(r.actual) ?? false);
  if (r.known) return same ? 'fixed' : 'known';
  return same ? 'expected' : 'unexpected';
}

/** "migrated", or "migrated or refused" when further outcomes pass. */
export function expectedText(r: Pick<TestRecord, 'expected' | 'acceptable'>): string {
  return [r.expected, ...(r.acceptable ?? []).filter((o) => o !== r.expected)].join(' or ');
}

export const isRed = (s: CellStatus): boolean => s === 'unexpected' || s === 'fixed';

export interface Summary {
  format: 'migcompat-summary';
  version: 1;
  runId: string;
  createdAt: string;
  matrix: string[];
  counts: Record<CellStatus, number> & Record<Outcome, number> & { total: number };
  previousRunId: string | null;
  /** case ids whose actual outcome differs from the previous run's */
  changed: string[];
  cases: CaseRecord[];
}

/** One line of results/history.jsonl. */
export interface HistoryLine {
  runId: string;
  createdAt: string;
  matrix: string[];
  total: number;
  migrated: number;
  refused: number;
  broken: number;
  error: number;
  unexpected: number;
  known: number;
  changed: number;
}
