// Prints the run's closing line in the plain form CI reads:
//   "N passed, N failed[, N skipped (K × reason; …)][, N did not run]"
// Playwright's own summary is multi-line; this reporter is listed last so its line comes last.
// An expected failure (a declared known defect) counts as passed: it behaved as declared. A skip is
// counted with its reason (only tests that need real VFs may skip), and tests that never ran (a
// project they depend on failed, a serial group stopped, the run was interrupted) are counted too,
// so nothing disappears.
import type { FullResult, Reporter, Suite, TestCase, TestResult } from '@playwright/test/reporter';

type Annotation = { type: string; description?: string };

/** "3 skipped (2 × no VFs: …; 1 × needs two VFs …)": the reasons, most frequent first. */
export function skippedPart(reasons: string[]): string {
  if (!reasons.length) return '';
  const counts = new Map<string, number>();
  for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  const parts = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([r, n]) => `${n} × ${r}`);
  return `, ${reasons.length} skipped (${parts.join('; ')})`;
}

export default class ClosingLineReporter implements Reporter {
  private passed = 0;
  private failed = 0;
  private skipReasons: string[] = [];
  private total = 0;
  private ended = new Set<string>();
  private notRun = 0;

  onBegin(_config: unknown, suite: Suite): void {
    this.total = suite.allTests().length;
  }

  onTestEnd(test: TestCase, result: TestResult): void {
    this.ended.add(test.id);
    // Count only the final attempt of a retried test.
    if (result.retry < test.retries && result.status !== 'passed' && result.status !== 'skipped') return;
    const outcome = test.outcome();
    if (outcome === 'skipped') {
      const notes: Annotation[] = [...(result.annotations ?? []), ...test.annotations];
      const why = notes.find((a) => a.type === 'skip' || a.type === 'fixme');
      // skipped with no skip of its own: a serial group stopped at an earlier failure, so it did not run
      if (!why) this.notRun++;
      else this.skipReasons.push(why.description?.trim() || `${why.type} with no reason given`);
    } else if (outcome === 'expected' || outcome === 'flaky') this.passed++;
    else this.failed++;
  }

  onEnd(result: FullResult): void {
    const didNotRun = Math.max(0, this.total - this.ended.size) + this.notRun;
    // An interrupted or timed-out run with nothing failed is still not a pass.
    if (this.failed === 0 && result.status !== 'passed' && this.passed + this.skipReasons.length + didNotRun > 0) this.failed++;
    const tail = skippedPart(this.skipReasons) + (didNotRun ? `, ${didNotRun} did not run` : '');
    process.stdout.write(`${this.passed} passed, ${this.failed} failed${tail}\n`);
  }

  printsToStdio(): boolean {
    return true;
  }
}
