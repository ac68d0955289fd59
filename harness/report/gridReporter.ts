// Our Playwright reporter: collects the result every matrix test records (annotation
// CASE_ANNOTATION) and writes results/<run-id>/ summary.json, matrix.md, matrix.html and repro/
// bundles, then appends results/history.jsonl. Tests without the annotation are ignored, so the
// reporter is harmless for other projects. A shard of a sharded run writes nothing: the grid of
// a sharded run comes from `npx playwright merge-reports` with this reporter (same files).
import { dirname, join, relative } from 'node:path';
import type { FullConfig, FullResult, Reporter, Suite, TestCase, TestResult } from '@playwright/test/reporter';
import { appendLine, writeFileAtomic } from './atomic.ts';
import { writeBundle, type ProfileSnapshot } from './bundle.ts';
import { previousSummary, readHistory } from './history.ts';
import { renderHtml } from './html.ts';
import { summaryMarkdown } from './markdown.ts';
import { CASE_ANNOTATION, cellStatus, type CaseRecord, type Summary, type TestRecord } from './record.ts';
import { buildSummary, historyLine } from './summary.ts';
import { runDir } from './runDir.ts';
import { toJson } from '../util/hex.ts';

export interface GridReporterOptions {
  /** results/<run-id> (default: runDir()) */
  outputDir?: string;
  /** revision id → profile snapshot, for bundles (default: the driver registry) */
  snapshots?: (ids: string[]) => Record<string, ProfileSnapshot>;
  /** append to <outputDir>/../history.jsonl (default true) */
  history?: boolean;
}

export function replayCommand(bundlePath: string): string {
  return `npm run -s migcompat -- replay ${relative(process.cwd(), bundlePath)}`;
}

export function writeRunFiles(dir: string, records: CaseRecord[], opts: GridReporterOptions = {}): Summary {
  const root = dirname(dir);
  const runId = dir.replace(/^.*[\\/]/, '');
  const history = readHistory(root);
  const previous = previousSummary(root, history, runId);
  const summary = buildSummary(records, runId, previous);
  const snapshot = opts.snapshots;
  for (const c of summary.cases) {
    const path = join(dir, 'repro', `${c.id}.json`);
    c.artifacts.bundle = relative(dir, path);
    writeBundle(path, {
      createdAt: summary.createdAt, createdBy: 'matrix', title: c.title, case: c.spec,
      profiles: snapshot ? snapshot([c.spec.src, c.spec.dst]) : {},
      stream: c.streamHex,
      verdict: { outcome: c.actual, reason: c.reason, errno: c.errno, stage: c.stage },
      timelineDigest: c.timelineDigest || null,
      expected: { outcome: c.expected, rule: c.rule, known: c.known?.id ?? null },
    });
  }
  const replay = (c: CaseRecord) => replayCommand(join(dir, c.artifacts.bundle ?? ''));
  writeFileAtomic(join(dir, 'summary.json'), toJson(summary) + '\n');
  writeFileAtomic(join(dir, 'matrix.md'), summaryMarkdown(summary, replay));
  const line = historyLine(summary);
  const shownHistory = [...history.filter((h) => h.runId !== runId), line];
  writeFileAtomic(join(dir, 'matrix.html'), renderHtml(summary, {
    replay,
    reportLink: (c) => (c.reportTestId ? `playwright/index.html#?testId=${encodeURIComponent(c.reportTestId)}` : null),
    history: shownHistory,
  }));
  if (opts.history !== false) appendLine(join(root, 'history.jsonl'), JSON.stringify(line));
  if (opts.history !== false) writeFileAtomic(join(root, 'latest'), runId + '\n');
  return summary;
}

export default class GridReporter implements Reporter {
  private records = new Map<string, CaseRecord>();
  private dir: string;
  private sharded = false;

  constructor(private readonly opts: GridReporterOptions = {}) {
    this.dir = opts.outputDir ?? runDir();
  }

  onBegin(config: FullConfig, _suite: Suite): void {
    this.sharded = !!config.shard && config.shard.total > 1;
  }

  onTestEnd(test: TestCase, result: TestResult): void {
    const a = result.annotations?.find((x) => x.type === CASE_ANNOTATION) ?? test.annotations.find((x) => x.type === CASE_ANNOTATION);
    if (!a?.description) return;
    const r = JSON.parse(a.description) as TestRecord;
    // the last attempt wins (retries)
    this.records.set(r.id, { ...r, status: cellStatus(r), durationMs: result.duration, reportTestId: test.id, artifacts: { bundle: null } });
  }

  async onEnd(_result: FullResult): Promise<void> {
    if (this.records.size === 0) return;
    if (this.sharded) {
      process.stdout.write(`migcompat: shard run: the grid is written by \`npx playwright merge-reports\` with this reporter\n`);
      return;
    }
    let snapshots = this.opts.snapshots;
    if (!snapshots) {
      try {
        snapshots = (await import('../matrix/revisions.ts')).profileSnapshots;
      } catch {
        snapshots = undefined;
      }
    }
    const s = writeRunFiles(this.dir, [...this.records.values()], { ...this.opts, snapshots });
    const rel = relative(process.cwd(), this.dir) || '.';
    process.stdout.write(`migcompat: ${s.counts.total} cases, ${s.counts.unexpected + s.counts.fixed} unexpected; grid in ${rel}/matrix.md and ${rel}/matrix.html\n`);
  }

  printsToStdio(): boolean {
    return false;
  }
}
