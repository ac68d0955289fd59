// What a matrix spec declares per case (the specs of the sim, qemu and hw projects call test() with
// these at collection time, so Playwright locates each test in the spec file): greppable title,
// direction and runner tags, a `known` annotation for a declared upstream defect, and the body.
import type { TestDetails } from '@playwright/test';
import type { Engine, RunnerEngine } from '../../harness/matrix/caseRun.ts';
import type { SuiteCase } from '../../harness/matrix/suite.ts';
import { runMatrixTest } from './caseTest.ts';

export interface MatrixTest {
  title: string;
  details: TestDetails;
  body: () => Promise<void>;
}

/**
 * `engine`: the sim engine (synchronous cases), or a factory for a runner engine, created on a
 * worker's first case and shared by its later ones. `after` runs once a case has ended.
 */
export function matrixTests(cases: SuiteCase[], engine: Engine | (() => Promise<RunnerEngine>), after?: () => void | Promise<void>): MatrixTest[] {
  let shared: RunnerEngine | null = null;
  return cases.map((c) => {
    const annotation = c.expect.known
      ? [{ type: 'known', description: `${c.expect.known.id}: ${c.expect.known.description} (${c.expect.known.link})` }]
      : [];
    const details: TestDetails = { tag: c.tags, annotation };
    if (typeof engine !== 'function') return { title: c.title, details, body: () => runMatrixTest(c, engine, c.ranks) };
    return {
      title: c.title, details,
      body: async () => {
        shared ??= await engine();
        await runMatrixTest(c, shared, c.ranks);
        await after?.();
      },
    };
  });
}
