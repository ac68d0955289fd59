// The one road from results to grid files: (case, evidence, verdict, expected) → a case record →
// results/<run-id>/ summary.json, matrix.md, matrix.html and repro/ bundles, plus a line in
// results/history.jsonl. The Playwright grid reporter (matrix tests on every runner) and
// `migcompat lab` (hardware lab runs) both write through here, so their grids look alike.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { Evidence, Outcome, Verdict } from '../oracle/types.ts';
import { toJson } from '../util/hex.ts';
import type { KnownDefect } from '../matrix/types.ts';
import { appendLine, writeFileAtomic } from '../util/atomic.ts';
import { citationHref, parseCitation } from '../util/citations.ts';
import { BUNDLE_RUNNERS, streamHex, timelineDigest, writeBundle, type BundleRunner, type ProfileSnapshot } from './bundle.ts';
import { previousSummary, readHistory } from './history.ts';
import { renderHtml } from './html.ts';
import { summaryMarkdown } from './markdown.ts';
import { cellStatus, type CaseRecord, type HistoryLine, type Summary, type TestRecord } from './record.ts';
import { buildSummary, historyLine } from './summary.ts';

/** What the grid needs to know about a case besides its result. */
export type GridCase = Pick<TestRecord, 'id' | 'title' | 'matrix' | 'runner' | 'direction' | 'srcRank' | 'dstRank' | 'spec'>;

export interface GridExpectation {
  outcome: Outcome;
  /** the rule that decided it ('expect[2]', 'default', 'lab: …') */
  rule: string;
  known: KnownDefect | null;
  /** further outcomes that pass */
  acceptable?: Outcome[];
}

/** The record of one case as it travels (test annotation, summary.json). */
export function caseRecord(c: GridCase, evidence: Evidence | null, verdict: Verdict, expected: GridExpectation,
  streamSummary: string | null = null): TestRecord {
  const stream = evidence?.stream ?? null;
  return {
    id: c.id, title: c.title, matrix: c.matrix, runner: c.runner, direction: c.direction,
    srcRank: c.srcRank, dstRank: c.dstRank, spec: c.spec, seed: c.spec.seed,
    expected: expected.outcome, ...(expected.acceptable?.length ? { acceptable: expected.acceptable } : {}),
    rule: expected.rule, known: expected.known,
    actual: verdict.outcome, reason: verdict.reason, errno: verdict.errno, stage: verdict.stage,
    streamHex: streamHex(stream),
    timelineDigest: evidence ? timelineDigest(evidence.timeline) : '',
    timelineEvents: evidence?.timeline.length ?? 0,
    streamSummary,
  };
}

/** A record plus what only the end of the run knows (status, duration, where the artifacts are). */
export function finishRecord(r: TestRecord, durationMs = 0, reportTestId: string | null = null): CaseRecord {
  return { ...r, status: cellStatus(r), durationMs, reportTestId, artifacts: { bundle: null } };
}

export interface GridFilesOptions {
  /** revision id → profile snapshot, for sim bundles (default: none) */
  snapshots?: (ids: string[]) => Record<string, ProfileSnapshot>;
  /** append to <dir>/../history.jsonl and write <dir>/../latest (default true) */
  history?: boolean;
  /** write repro/<id>.json bundles (default true) */
  bundles?: boolean;
  /** how to rerun a case (default: `migcompat replay <bundle>`); null: no command */
  replay?: (c: CaseRecord, bundlePath: string | null) => string | null;
}

export function replayCommand(bundlePath: string): string {
  return `npm run -s migcompat -- replay ${relative(process.cwd(), bundlePath)}`;
}

const bundleRunner = (r: string): BundleRunner | null => ((BUNDLE_RUNNERS as readonly string[]).includes(r) ? (r as BundleRunner) : null);

/** Run files from finished records; `dir` is results/<run-id>, its parent holds history.jsonl. */
export function writeRunFiles(dir: string, records: CaseRecord[], opts: GridFilesOptions = {}): Summary {
  const root = dirname(dir);
  const runId = dir.replace(/^.*[\\/]/, '');
  const history = readHistory(root);
  const previous = previousSummary(root, history, runId);
  const summary = buildSummary(records, runId, previous);
  const snapshot = opts.snapshots;
  for (const c of summary.cases) {
    const runner = bundleRunner(c.runner);
    // only runner cases are replayable: a lab cell's "revisions" are host names
    if (opts.bundles === false || !runner) continue;
    const path = join(dir, 'repro', `${c.id}.json`);
    c.artifacts.bundle = relative(dir, path);
    writeBundle(path, {
      createdAt: summary.createdAt, createdBy: 'matrix', ...(runner === 'sim' ? {} : { runner }), title: c.title, case: c.spec,
      profiles: snapshot && runner === 'sim' ? snapshot([c.spec.src, c.spec.dst]) : {},
      stream: c.streamHex,
      verdict: { outcome: c.actual, reason: c.reason, errno: c.errno, stage: c.stage },
      timelineDigest: c.timelineDigest || null,
      expected: { outcome: c.expected, rule: c.rule, known: c.known?.id ?? null },
    });
  }
  const replay = (c: CaseRecord) => {
    const bundle = c.artifacts.bundle ? join(dir, c.artifacts.bundle) : null;
    return opts.replay ? opts.replay(c, bundle) : bundle ? replayCommand(bundle) : null;
  };
  writeFileAtomic(join(dir, 'summary.json'), toJson(summary) + '\n');
  writeFileAtomic(join(dir, 'matrix.md'), summaryMarkdown(summary, replay, citeHrefFrom(dir)));
  const line = historyLine(summary);
  writeMatrixHtml(dir, summary, replay, [...history.filter((h) => h.runId !== runId), line]);
  if (opts.history !== false) appendLine(join(root, 'history.jsonl'), JSON.stringify(line));
  if (opts.history !== false) writeFileAtomic(join(root, 'latest'), runId + '\n');
  return summary;
}

/** matrix.html of a run; it links the run's other pages (conformance.html) that exist. */
function writeMatrixHtml(dir: string, summary: Summary, replay: (c: CaseRecord) => string | null, history: HistoryLine[]): void {
  const links = existsSync(join(dir, 'conformance.html')) ? [{ href: 'conformance.html', text: 'uAPI conformance of this run' }] : [];
  writeFileAtomic(join(dir, 'matrix.html'), renderHtml(summary, {
    replay,
    reportLink: (c) => (c.reportTestId ? `playwright/index.html#?testId=${encodeURIComponent(c.reportTestId)}` : null),
    citeHref: citeHrefFrom(dir),
    history,
    links,
  }));
}

/** Known-defect citations link to the repository's docs relative to the run folder, or upstream. */
function citeHrefFrom(dir: string): (link: string) => string | null {
  return (link: string) => {
    const c = parseCitation(link);
    return 'error' in c ? null : citationHref(c, dir);
  };
}

/**
 * Write matrix.html again from the run's summary.json (a page written later in the same run, like
 * conformance.html, gets its link). The replay commands are the bundles' default ones.
 */
export function rewriteMatrixHtml(dir: string): boolean {
  let summary: Summary;
  try {
    summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Summary;
  } catch {
    return false;
  }
  if (summary.format !== 'migcompat-summary' || !Array.isArray(summary.cases)) return false;
  const history = readHistory(dirname(dir));
  const replay = (c: CaseRecord) => (c.artifacts.bundle ? replayCommand(join(dir, c.artifacts.bundle)) : null);
  writeMatrixHtml(dir, summary, replay, history.some((h) => h.runId === summary.runId) ? history : [...history, historyLine(summary)]);
  return true;
}

export interface GridEntry {
  case: GridCase;
  evidence: Evidence | null;
  verdict: Verdict;
  expected: GridExpectation;
  streamSummary?: string | null;
  durationMs?: number;
}

/** Run files straight from results (what a producer outside Playwright, like `migcompat lab`, calls). */
export function writeGridFiles(dir: string, entries: GridEntry[], opts: GridFilesOptions = {}): Summary {
  const records = entries.map((e) => finishRecord(caseRecord(e.case, e.evidence, e.verdict, e.expected, e.streamSummary ?? null), e.durationMs ?? 0));
  return writeRunFiles(dir, records, opts);
}
