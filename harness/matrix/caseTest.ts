// The body of one matrix test: run the case, judge it, attach the evidence, record the result for
// the grid reporter, then assert the expected outcome. A declared known defect runs as an expected
// failure (test.fail), so it stays visible and turns red the day it stops failing. The sim engine
// runs a case synchronously (the 640-case matrix lives on that); other runners go through the
// Runner interface (prepare, run) and are awaited.
import { test, expect } from '@playwright/test';
import type { Evidence, TimelineEvent, Verdict } from '../oracle/types.ts';
import type { CaseSpec, Runner } from '../runners/types.ts';
import { toJson } from '../util/hex.ts';
import { timelineDigest } from '../report/bundle.ts';
import { caseRecord } from '../report/gridFiles.ts';
import { CASE_ANNOTATION, type TestRecord } from '../report/record.ts';
import type { MatrixCase } from './types.ts';

type Decode = (stream: Uint8Array) => { summary: string; decoded: unknown } | null;

/** What a matrix test needs from the sim engine (harness/runners/sim.ts, harness/oracle, harness/formats). */
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

export const digestTimeline = (events: TimelineEvent[]): string => timelineDigest(events);

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

export function testRecord(c: MatrixCase, ranks: { src: number; dst: number }, evidence: Evidence | null, verdict: Verdict,
  streamSummary: string | null): TestRecord {
  return caseRecord({ ...c, srcRank: ranks.src, dstRank: ranks.dst }, evidence, verdict, c.expect, streamSummary);
}

export async function runMatrixTest(c: MatrixCase, engine: Engine | RunnerEngine, ranks: { src: number; dst: number }): Promise<void> {
  const info = test.info();
  if (c.expect.known) test.fail(true, `known defect ${c.expect.known.id}: ${c.expect.known.description}`);
  const { evidence, verdict } = 'runCase' in engine ? runAndJudge(engine, c.spec) : await runAndJudgeWith(engine, c.spec);
  const stream = evidence?.stream ?? null;
  let decoded: { summary: string; decoded: unknown } | null = null;
  if (stream) {
    try {
      decoded = engine.decode(stream);
    } catch (e) {
      decoded = { summary: `undecodable: ${(e as Error).message}`, decoded: null };
    }
  }
  const record = testRecord(c, ranks, evidence, verdict, decoded?.summary ?? null);
  info.annotations.push({ type: CASE_ANNOTATION, description: JSON.stringify(record) });
  if (stream) await info.attach('stream.bin', { body: Buffer.from(stream), contentType: 'application/octet-stream' });
  if (decoded) await info.attach('stream.decoded.json', { body: toJson(decoded.decoded), contentType: 'application/json' });
  if (evidence) await info.attach('timeline.txt', { body: compactTimeline(evidence.timeline, c.runner === 'sim' ? 'us' : 'ms'), contentType: 'text/plain' });
  await info.attach('verdict.json', {
    body: toJson({ verdict, expected: c.expect, checks: evidence?.checks ?? [], hang: evidence?.hang ?? null, harnessError: evidence?.harnessError ?? null }),
    contentType: 'application/json',
  });
  const where = `${verdict.reason}${verdict.errno ? ` (${verdict.errno})` : ''}${verdict.stage ? ` at ${verdict.stage}` : ''}`;
  expect(verdict.outcome, `${c.title}: ${where}; expected by ${c.expect.rule}`).toBe(c.expect.outcome);
}
