// Prints the run's closing line in the plain form CI reads: "N passed, N failed[, N skipped]".
// Playwright's own summary is multi-line; this reporter is listed last so its line comes last.
// An expected failure (a declared known defect) counts as passed: it behaved as declared.
import type { FullResult, Reporter, TestCase, TestResult } from '@playwright/test/reporter';

export default class ClosingLineReporter implements Reporter {
  private passed = 0;
  private failed = 0;
  private skipped = 0;

  onTestEnd(test: TestCase, result: TestResult): void {
    // Count only the final attempt of a retried test.
    if (result.retry < test.retries && result.status !== 'passed' && result.status !== 'skipped') return;
    const outcome = test.outcome();
    if (outcome === 'skipped') this.skipped++;
    else if (outcome === 'expected' || outcome === 'flaky') this.passed++;
    else this.failed++;
  }

  onEnd(result: FullResult): void {
    // An interrupted or timed-out run with nothing failed is still not a pass.
    if (this.failed === 0 && result.status !== 'passed' && this.passed + this.skipped > 0) this.failed++;
    const tail = this.skipped ? `, ${this.skipped} skipped` : '';
    process.stdout.write(`${this.passed} passed, ${this.failed} failed${tail}\n`);
  }

  printsToStdio(): boolean {
    return true;
  }
}
