// The body of one matrix test: run the case, judge it, attach the evidence, record the result for
// the grid reporter, then assert the expected outcome. A declared known defect runs as an expected
// failure (test.fail), so it stays visible and turns red the day it stops failing.
import { test, expect } from '@playwright/test';
import { createHash } from 'node:crypto';
import type { Evidence, TimelineEvent, Verdict } from '../oracle/types.ts';
import type { CaseSpec } from '../runners/types.ts';
import { toJson } from '../util/hex.ts';
import { CASE_ANNOTATION, type TestRecord } from '../report/record.ts';
import type { MatrixCase } from './types.ts';

/** What a matrix test needs from the engine (harness/runners/sim.ts, harness/oracle, harness/formats). */
export interface Engine {
  runCase(spec: CaseSpec): Evidence;
  judge(evidence: Evidence): Verdict;
  /** decoded stream for humans, and a one-line summary; null when the decoder is unavailable */
  decode(stream: Uint8Array): { summary: string; decoded: unknown } | null;
}

/** Run and judge; a thrown harness error is an `error` verdict, never a device verdict. */
export function runAndJudge(engine: Engine, spec: CaseSpec): { evidence: Evidence | null; verdict: Verdict } {
  try {
    const evidence = engine.runCase(spec);
    return { evidence, verdict: engine.judge(evidence) };
  } catch (e) {
    return { evidence: null, verdict: { outcome: 'error', reason: `harness error: ${(e as Error).message ?? e}`, errno: null, stage: null } };
  }
}

export function digestTimeline(events: TimelineEvent[]): string {
  return createHash('sha1').update(toJson(events, 0)).digest('hex');
}

const MAX_LINES = 400;

/** One line per event (register reads dropped); long timelines keep their head and tail. */
export function compactTimeline(events: TimelineEvent[]): string {
  const fmt = (e: TimelineEvent) => {
    const d = Object.entries(e.detail).map(([k, v]) => `${k}=${v}`).join(' ');
    return `${String(e.t).padStart(8)}us #${e.seq} ${e.side.padEnd(5)} ${e.kind.padEnd(11)} ${d}${e.errno ? ` errno=${e.errno}` : ''}`;
  };
  const lines = events.filter((e) => e.kind !== 'reg-read').map(fmt);
  if (lines.length <= MAX_LINES) return lines.join('\n') + '\n';
  const half = MAX_LINES / 2;
  return [...lines.slice(0, half), `… ${lines.length - MAX_LINES} events omitted …`, ...lines.slice(-half)].join('\n') + '\n';
}

export function testRecord(c: MatrixCase, ranks: { src: number; dst: number }, evidence: Evidence | null, verdict: Verdict,
  streamSummary: string | null): TestRecord {
  const stream = evidence?.stream ?? null;
  return {
    id: c.id, title: c.title, matrix: c.matrix, runner: c.runner, direction: c.direction,
    srcRank: ranks.src, dstRank: ranks.dst, spec: c.spec, seed: c.spec.seed,
    expected: c.expect.outcome, rule: c.expect.rule, known: c.expect.known,
    actual: verdict.outcome, reason: verdict.reason, errno: verdict.errno, stage: verdict.stage,
    streamHex: stream ? Buffer.from(stream).toString('hex') : null,
    timelineDigest: evidence ? digestTimeline(evidence.timeline) : '',
    timelineEvents: evidence?.timeline.length ?? 0,
    streamSummary,
  };
}

export async function runMatrixTest(c: MatrixCase, engine: Engine, ranks: { src: number; dst: number }): Promise<void> {
  const info = test.info();
  if (c.expect.known) test.fail(true, `known defect ${c.expect.known.id}: ${c.expect.known.description}`);
  const { evidence, verdict } = runAndJudge(engine, c.spec);
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
  if (evidence) await info.attach('timeline.txt', { body: compactTimeline(evidence.timeline), contentType: 'text/plain' });
  await info.attach('verdict.json', {
    body: toJson({ verdict, expected: c.expect, checks: evidence?.checks ?? [], hang: evidence?.hang ?? null, harnessError: evidence?.harnessError ?? null }),
    contentType: 'application/json',
  });
  const where = `${verdict.reason}${verdict.errno ? ` (${verdict.errno})` : ''}${verdict.stage ? ` at ${verdict.stage}` : ''}`;
  expect(verdict.outcome, `${c.title}: ${where}; expected by ${c.expect.rule}`).toBe(c.expect.outcome);
}
