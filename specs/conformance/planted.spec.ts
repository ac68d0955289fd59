// Every clause's check can fail: a reference driver that keeps the whole contract holds every
// clause, and the same driver with one planted defect (an external revision registered here) breaks
// exactly the clause the defect is about, with a sequence that breaks it again when replayed.
import { test, expect } from '@playwright/test';
import { registerRevision } from '../../harness/drivers/registry.ts';
import { CHECK_PARAMS, CHECK_RUNNERS } from '../../harness/conformance/checks/index.ts';
import { loadContract } from '../../harness/conformance/contract.ts';
import { plainCmds, runClause, runSequence, startSubject } from '../../harness/conformance/engine.ts';
import { resolveSubject } from '../../harness/conformance/subjects.ts';
import { sequenceLines } from '../../harness/conformance/session.ts';
import { PLANTABLE, referenceRevision, type Defect } from './referenceDriver.ts';

const contract = loadContract(undefined, CHECK_PARAMS);
const clause = (id: string) => contract.clauses.find((c) => c.id === id)!;

/** Register a revision and take it back as `conform --rev` would (the registry lookup). */
function subjectOf(defect: Defect | null, flags?: number) {
  const rev = referenceRevision(defect, flags);
  registerRevision(rev, { replace: true });
  const spec = resolveSubject(rev.id);
  if (spec.where !== 'here') throw new Error('a registered revision runs in this process');
  return spec.subject;
}

test('every clause of the contract has a planted defect here', () => {
  expect([...PLANTABLE].sort()).toEqual(contract.clauses.map((c) => c.id).sort());
});

test('the reference driver keeps every clause (with P2P and PRE_COPY, and without P2P)', () => {
  const run = startSubject(subjectOf(null));
  expect(run.flags).toBe(0x7);
  for (const c of contract.clauses) {
    const r = runClause(run, c, CHECK_RUNNERS);
    // with every flag advertised no optional state is left out
    const want = c.id === 'optional-states-need-flags' ? 'na' : 'holds';
    expect(r.verdict, `${c.id}: ${r.detail} ${r.evidence ? sequenceLines(r.evidence.steps).join(' | ') : ''}`).toBe(want);
    if (want === 'holds') expect(r.scenarios, c.id).toBeGreaterThan(0);
  }
  const noP2p = startSubject(subjectOf(null, 0x5));
  for (const id of ['optional-states-need-flags', 'set-returns', 'set-failure-on-path', 'data-fd-on-opening-arcs']) {
    expect(runClause(noP2p, clause(id), CHECK_RUNNERS).verdict, id).toBe('holds');
  }
});

for (const defect of PLANTABLE) {
  test(`planted: ${defect} is caught, shrunk and replays`, () => {
    // advertising fewer flags than it accepts is the optional-states defect; the others keep 0x7
    const subject = subjectOf(defect, defect === 'optional-states-need-flags' ? 0x5 : undefined);
    const run = startSubject(subject);
    const r = runClause(run, clause(defect), CHECK_RUNNERS);
    expect(['violated', 'hang'], `${defect}: ${r.verdict}: ${r.detail}`).toContain(r.verdict);
    expect(r.evidence?.violation.clause).toBe(defect);
    const ev = r.evidence!;
    expect(ev.steps.length).toBeLessThanOrEqual(ev.shrunkFrom);
    expect(ev.at).toBe(ev.steps.length - 1);
    // the minimal sequence alone, on a fresh device, breaks the clause the same way
    const again = runSequence(run, defect, plainCmds(ev.steps));
    const v = again.first(defect);
    expect(v?.detail, sequenceLines(again.steps).join('\n')).toBe(ev.violation.detail);
    expect(Boolean(v?.hang)).toBe(r.verdict === 'hang');
  });
}

test('a hang is a verdict with the arcs walked, not a time-out', () => {
  const run = startSubject(subjectOf('set-returns'));
  const r = runClause(run, clause('set-returns'), CHECK_RUNNERS);
  expect(r.verdict).toBe('hang');
  const last = r.evidence!.steps.at(-1)!;
  expect(last.res).toBe('HANG');
  expect(last.hang?.arcs).toEqual(['STOP_COPY->STOP']);
  expect(r.evidence!.violation.hang?.where).toMatch(/planted/);
});
