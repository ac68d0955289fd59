// Running one matrix case for a verdict, as the matrix specs (specs/matrix/caseTest.ts) and `replay`
// do it: the sim engine runs a case synchronously (the 640-case matrix lives on that); other runners
// go through the Runner interface (prepare, run) and are awaited. A thrown harness error is an
// `error` verdict, never a device verdict.
import type { Evidence, TimelineEvent, Verdict } from '../oracle/types.ts';
import type { CaseSpec, Runner } from '../runners/types.ts';

type Decode = (stream: Uint8Array) => { summary: string; decoded: unknown } | null;

/** What a matrix case needs from the sim engine (harness/runners/sim.ts, harness/oracle, harness/formats). */
export interface Engine {
  runCase(spec: CaseSpec): Evidence;
  judge(evidence: Evidence): Verdict;
  /** decoded stream for humans, and a one-line summary; null when the decoder is unavailable */
  decode: Decode;
}

/** Any other runner: the Runner interface, the verdict function that fits its evidence, a decoder. */
export interface RunnerEngine {
  runner: Runner;
  judge(evidence: Evidence): Verdict;
  decode: Decode;
}

const harnessError = (e: unknown): Verdict =>
  ({ outcome: 'error', reason: `harness error: ${(e as Error).message ?? e}`, errno: null, stage: null });

/** Run and judge; a thrown harness error is an `error` verdict, never a device verdict. */
export function runAndJudge(engine: Engine, spec: CaseSpec): { evidence: Evidence | null; verdict: Verdict } {
  try {
    const evidence = engine.runCase(spec);
    return { evidence, verdict: engine.judge(evidence) };
  } catch (e) {
    return { evidence: null, verdict: harnessError(e) };
  }
}

/** The same through the Runner interface. */
export async function runAndJudgeWith(engine: RunnerEngine, spec: CaseSpec): Promise<{ evidence: Evidence | null; verdict: Verdict }> {
  try {
    await engine.runner.prepare(spec);
    const evidence = await engine.runner.run(spec);
    return { evidence, verdict: engine.judge(evidence) };
  } catch (e) {
    return { evidence: null, verdict: harnessError(e) };
  }
}

const MAX_LINES = 400;

/**
 * One line per event (register reads dropped); long timelines keep their head and tail. Times are
 * simulated microseconds on sim, wall-clock milliseconds on the real runners.
 */
export function compactTimeline(events: TimelineEvent[], unit: 'us' | 'ms' = 'us'): string {
  const fmt = (e: TimelineEvent) => {
    const d = Object.entries(e.detail).map(([k, v]) => `${k}=${v}`).join(' ');
    return `${String(e.t).padStart(8)}${unit} #${e.seq} ${e.side.padEnd(5)} ${e.kind.padEnd(11)} ${d}${e.errno ? ` errno=${e.errno}` : ''}`;
  };
  const lines = events.filter((e) => e.kind !== 'reg-read').map(fmt);
  if (lines.length <= MAX_LINES) return lines.join('\n') + '\n';
  const half = MAX_LINES / 2;
  return [...lines.slice(0, half), `… ${lines.length - MAX_LINES} events omitted …`, ...lines.slice(-half)].join('\n') + '\n';
}
