// The clause × revision table of the released revision models, as docs/conformance.md shows it, and
// the pieces it stands on: the text's paths agree with the core's table, and every declared known
// violation is met (none has gone quietly "fixed").
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, expect } from '@playwright/test';
import { CHECK_PARAMS, CHECK_RUNNERS } from '../../harness/conformance/checks/index.ts';
import { loadContract } from '../../harness/conformance/contract.ts';
import { runClause, startSubject } from '../../harness/conformance/engine.ts';
import { loadKnown } from '../../harness/conformance/known.ts';
import { runConformance } from '../../harness/conformance/run.ts';
import { resolveSubject, resolveSubjects } from '../../harness/conformance/subjects.ts';
import { textPath } from '../../harness/conformance/uapiText.ts';
import { VERDICT_MARK } from '../../harness/conformance/verdict.ts';
import { loadRevision } from '../../harness/drivers/registry.ts';
import { resolvePath } from '../../harness/vfio/fsm.ts';
import { MIG_STATE_NAMES } from '../../harness/vfio/types.ts';

const contract = loadContract(undefined, CHECK_PARAMS);
const known = loadKnown(undefined, new Set(contract.clauses.map((c) => c.id)));

// oldest kernel first: v5.18, Debian 6.1.192, v6.2, v6.8, Debian 6.12.118, v6.16, v6.19, v7.0
const TABLE: Record<string, string> = {
  'flags-advertise-stop-copy': '✓✓✓✓✓✓✓✓',
  'set-returns': '✓✓⧖⧖✓⧖⧖⧖',
  'set-reaches-target': '✓✓✓✓✓✓✓✓',
  'set-failure-on-path': '✓✓✓✓✓✓✓✓',
  'data-fd-on-opening-arcs': '✓✓✓✓✓✓✓✓',
  'error-not-requestable': '✓✓✓✓✓✓✓✓',
  'error-left-only-by-reset': '————————',
  'optional-states-need-flags': '✓✓✓✓✓✓✓✓',
  'blocked-arcs-refused': '——⧖⧖✓⧖⧖⧖',
  'no-spontaneous-transitions': '✓✓✓✓✓✓✓✓',
  'reset-returns-running': '✓✓✗✗✓✗✗✓',
  'session-ends-on-leave': '✓✓✓✓✓✓✓✓',
  'saving-group-one-session': '——✓✓✓✓✓✓',
  'data-direction': '✓✓✓✓✓✓✓✓',
  'stop-copy-end-permanent': '✓✓✓✓✓✓✓✓',
  'save-read-sequential': '✗✗✗✓✓✓✓✓',
  'precopy-info-mandatory': '——✓✓✓✓✓✓',
  'precopy-info-only-in-precopy': '——✓✓✓✓✓✓',
  'precopy-end-temporary': '——✓✓✓✓✓✓',
  'data-size-any-state': '——✓✓✓✓✓✓',
  'resume-stop-validates': '✗✗✗✗✗✗✗✗',
  'refused-write-never-loaded': '——✗✗✗✗✗✗',
  'resume-session-validates-own-data': '✓✓✗✗✗✗✗✗',
  'stream-refused-from-incompatible-device': '✓✓✓✓✓✓✓✓',
  'resume-segmentation-free': '✗✗✗✓✓✓✓✓',
};

test('the released revisions: the table, every violation declared, every declaration met', async () => {
  const subjects = resolveSubjects('released');
  expect(subjects.map((s) => s.id)).toEqual(['v5.18', 'debian-6.1.192', 'v6.2', 'v6.8', 'debian-6.12.118', 'v6.16', 'v6.19', 'v7.0'].map((v) => `hisi-acc/${v}`));
  const r = await runConformance({ contract, clauses: contract.clauses, known, subjects });
  const table = Object.fromEntries(contract.clauses.map((c) => [c.id,
    subjects.map((s) => VERDICT_MARK[r.cells.find((x) => x.clause === c.id && x.subject === s.id)!.verdict]).join('')]));
  expect(table).toEqual(TABLE);
  expect(r.cells.filter((c) => c.status !== 'expected' && c.status !== 'known').map((c) => `${c.clause} ${c.subject} ${c.status}: ${c.detail}`)).toEqual([]);
  expect(r.ok).toBe(true);
  // every violation carries its minimal sequence; every hang names the call that never returns
  for (const c of r.cells.filter((x) => x.verdict === 'violated' || x.verdict === 'hang')) {
    expect(c.evidence, `${c.clause} ${c.subject}`).not.toBeNull();
    if (c.verdict === 'hang') expect(c.evidence!.steps.at(-1)!.res).toBe('HANG');
  }
  // each declared (clause, released revision) is met by a red-free violation
  for (const k of known) for (const rev of k.revisions.filter((x) => subjects.some((s) => s.id === x))) {
    for (const cl of k.clauses) expect(r.cells.find((c) => c.clause === cl && c.subject === rev)?.status, `${k.id} ${cl} ${rev}`).toBe('known');
  }
});

test('the v6.2 skip loop is the core\'s: v7.0\'s driver on a fixed core refuses the blocked arc at once', () => {
  const f = join(mkdtempSync(join(tmpdir(), 'mc-conf-')), 'v7.0-fixed-core.yaml');
  writeFileSync(f, 'id: what-if/v7.0-fixed-core-conf\ntitle: v7.0 driver on a fixed core\nkernel: hypothetical\nextends: hisi-acc/v7.0\ntraits:\n  vfioCore: fixed-loop\n');
  const spec = resolveSubject(loadRevision(f).id);
  if (spec.where !== 'here') throw new Error('a model runs here');
  const run = startSubject(spec.subject);
  for (const id of ['set-returns', 'blocked-arcs-refused']) {
    const r = runClause(run, contract.clauses.find((c) => c.id === id)!, CHECK_RUNNERS);
    expect(r.verdict, `${id}: ${r.detail}`).toBe('holds');
  }
});

test('the text\'s paths (shortest, no saving-group state inside) are the core\'s next-step table\'s', () => {
  for (const flags of [0x1, 0x3, 0x5, 0x7]) {
    for (const a of MIG_STATE_NAMES.filter((s) => s !== 'ERROR')) {
      for (const b of MIG_STATE_NAMES) {
        const t = textPath(a, b, flags);
        if (!t.ok || a === b) continue;
        const core = resolvePath(a, b, flags, 'fixed-loop');
        expect(core.ok && core.value.join('>'), `${a}->${b} flags ${flags}`).toBe(t.path.join('>'));
      }
    }
  }
  expect(textPath('PRE_COPY', 'STOP_COPY', 0x7)).toEqual({ ok: true, path: ['PRE_COPY', 'PRE_COPY_P2P', 'STOP_COPY'], opensFd: false });
  expect(textPath('STOP_COPY', 'PRE_COPY', 0x5)).toEqual({ ok: false, why: 'blocked-arc' });
  expect(textPath('RUNNING', 'RUNNING_P2P', 0x5)).toEqual({ ok: false, why: 'unsupported' });
});
