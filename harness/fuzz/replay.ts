// Replays a fuzz repro bundle: the same property, revision, seed and path (and replayPath for a
// command sequence), one run, no shrinking. `migcompat replay` delegates here for bundles whose
// `extra.fuzz` is set; `migcompat fuzz --property P --seed S --path X [--replay-path R]` does the same.
import type { Bundle } from '../report/bundle.ts';
import { UsageError } from '../util/usage-error.ts';
import { engineTarget } from './engineTarget.ts';
import { PROPERTIES, type PropertyName } from './findings.ts';
import { runFuzz, type FuzzSummary } from './run.ts';

export interface FuzzReplayInfo {
  property: PropertyName;
  revision: string;
  seed: number;
  path: string;
  replayPath?: string;
  /** the original run's revision list (the counterexample path indexes it) */
  revisions?: string[];
}

export function fuzzInfo(b: Bundle): FuzzReplayInfo | null {
  const f = (b.extra as { fuzz?: Record<string, unknown> } | undefined)?.fuzz;
  if (!f) return null;
  if (!PROPERTIES.includes(f.property as PropertyName) || typeof f.path !== 'string' || typeof f.seed !== 'number') {
    throw new UsageError(`${b.title}: extra.fuzz needs property, seed and path`);
  }
  return { property: f.property as PropertyName, revision: String(f.revision), seed: f.seed, path: f.path, replayPath: f.replayPath as string | undefined,
    revisions: Array.isArray(f.revisions) ? f.revisions.map(String) : undefined };
}

/** Reruns the failure without the registry; `new` is non-empty when it still reproduces. */
export async function replayFuzz(info: FuzzReplayInfo): Promise<FuzzSummary> {
  const target = await engineTarget({ revisions: info.revisions });
  return runFuzz(target, {
    properties: [info.property], seed: info.seed, path: info.path, replayPath: info.replayPath, numRuns: 1, outDir: null,
    registry: null,
  });
}
