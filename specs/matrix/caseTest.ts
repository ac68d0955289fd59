// The body of one matrix test: run the case, judge it, attach the evidence, record the result for
// the grid reporter, then assert the expected outcome. A declared known defect runs as an expected
// failure (test.fail), so it stays visible and turns red the day it stops failing. Running and
// judging is the product's (harness/matrix/caseRun.ts); this file is the Playwright side of it.
import { test, expect } from '@playwright/test';
import { compactTimeline, runAndJudge, runAndJudgeWith, type Engine, type RunnerEngine } from '../../harness/matrix/caseRun.ts';
import type { MatrixCase } from '../../harness/matrix/types.ts';
import type { Evidence, Verdict } from '../../harness/oracle/types.ts';
import { caseRecord } from '../../harness/report/gridFiles.ts';
import { CASE_ANNOTATION, type TestRecord } from '../../harness/report/record.ts';
import { toJson } from '../../harness/util/hex.ts';

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
