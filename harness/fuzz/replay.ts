// Replays a fuzz repro bundle: the same property, revision, seed and path (and replayPath for a
// command sequence), one run, no shrinking. `migcompat replay` delegates here for bundles whose
// `extra.fuzz` is set; `migcompat fuzz --property P --seed S --path X [--replay-path R]` does the same.
import type { Bundle } from '../report/bundle.ts';
import { UsageError } from '../util/usage-error.ts';
import { engineTarget } from './engineTarget.ts';
import { PROPERTIES, type PropertyName } from './findings.ts';
import { runFuzz, type FuzzSummary } from './run.ts';
import { toJson } from '../util/hex.ts';

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

/**
 * `migcompat replay BUNDLE` for a bundle with `extra.fuzz`: rerun the property at the bundle's seed
 * and path; exit 0 when the same violation (property, kind, revision) comes back, 1 when it does not.
 */
export async function replayFuzzCommand(b: Bundle, json: boolean, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const info = fuzzInfo(b)!;
  const f = (b.extra as { fuzz: { kind?: string } }).fuzz;
  const s = await replayFuzz(info);
  const again = s.new.find((v) => v.property === info.property && v.kind === f.kind && v.revision === info.revision) ?? null;
  if (json) {
    out.write(toJson({ title: b.title, fuzz: b.extra?.fuzz, reproduced: again !== null, violation: again, results: s.results }) + '\n');
  } else {
    const lines = [`fuzz bundle: ${b.title}`, `property ${info.property}, seed ${info.seed}, path "${info.path}"${info.replayPath ? `, replayPath "${info.replayPath}"` : ''}`];
    if (again) lines.push(`reproduced: ${again.kind} on ${again.revision}: ${again.detail}`, `minimal: ${JSON.stringify(again.minimal)}`, 'same finding as the bundle');
    else lines.push(`not reproduced${s.new.length ? ` (other violation: ${s.new[0].kind} on ${s.new[0].revision})` : ''}`, 'DIFFERS from the bundle');
    out.write(lines.join('\n') + '\n');
  }
  return again ? 0 : 1;
}
