// Our Playwright reporter: collects the result every matrix test records (annotation
// CASE_ANNOTATION) and writes results/<run-id>/ summary.json, matrix.md, matrix.html and repro/
// bundles, then appends results/history.jsonl. Tests without the annotation are ignored, so the
// reporter is harmless for other projects. A shard of a sharded run writes nothing: the grid of
// a sharded run comes from `npx playwright merge-reports` with this reporter (same files).
import { relative } from 'node:path';
import type { FullConfig, FullResult, Reporter, Suite, TestCase, TestResult } from '@playwright/test/reporter';
import { finishRecord, writeRunFiles, type GridFilesOptions } from './gridFiles.ts';
import { CASE_ANNOTATION, type CaseRecord, type TestRecord } from './record.ts';
import { runDir } from '../util/runDir.ts';

export interface GridReporterOptions extends GridFilesOptions {
  /** results/<run-id> (default: runDir()) */
  outputDir?: string;
}

export { replayCommand, writeRunFiles } from './gridFiles.ts';

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
    this.records.set(r.id, finishRecord(r, result.duration, test.id));
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
