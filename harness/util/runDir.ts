// Where a run writes: results/<run-id>/. The id comes from MIGCOMPAT_RUN_ID (set by `npm run matrix`
// and CI so that every process of one run, Playwright workers included, agrees), else from the time.
import { resolve } from 'node:path';

export const RESULTS_ROOT = resolve(process.env.MIGCOMPAT_RESULTS ?? 'results');

export function newRunId(now = new Date()): string {
  return now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

export function runDir(): string {
  if (!process.env.MIGCOMPAT_RUN_ID) process.env.MIGCOMPAT_RUN_ID = newRunId();
  return resolve(RESULTS_ROOT, process.env.MIGCOMPAT_RUN_ID);
}
