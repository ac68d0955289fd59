// The properties against the engine (revision models on the simulated device), fixed seeds and
// bounded runs. A violation the findings registry (specs/findings/fuzz.yaml) knows is counted; a new
// one fails here with its seed, path (and replayPath) and minimal case.
import { test, expect } from '@playwright/test';
import { engineTarget } from '../../harness/fuzz/engineTarget.ts';
import { FindingsLedger, loadRegistry } from '../../harness/fuzz/findings.ts';
import { configProperty, streamProperty, transferProperty, transparencyProperty, uapiProperty, type PropertyResult } from '../../harness/fuzz/properties.ts';
import { SensitivityTable } from '../../harness/fuzz/sensitivity.ts';
import { acceptanceRuleFor, checkedFieldNames } from '../../harness/fuzz/checkedFields.ts';

const noNew = (r: PropertyResult) => expect(r.failed, r.report ?? '').toBe(false);

test('stream: mutations of checked fields are refused by every revision; sensitivity measured', async () => {
  const t = await engineTarget();
  const table = new SensitivityTable();
  const r = streamProperty(t, { seed: 5, numRuns: 4000 }, new FindingsLedger(loadRegistry()), table);
  noNew(r);
  for (const dst of t.revisions) {
    // any change of these is ruled out (length and magic have legal alternatives: 40 bytes, the other magic)
    const rule = acceptanceRuleFor(dst)!;
    for (const f of checkedFieldNames(rule).filter((n) => ['dev_id', 'qp_num', 'que_iso_cfg', 'major_ver'].includes(n))) {
      const cell = table.revisions[dst]?.[f];
      if (!cell) continue;
      expect(cell.counts.migrated + cell.counts.broken, `${dst} ${f}`).toBe(0);
    }
    // the measurement reaches the destination: something was refused on every revision
    expect(Object.values(table.revisions[dst] ?? {}).some((c) => c.counts.refused > 0), dst).toBe(true);
  }
});

test('transfer: chunking never changes the verdict, except the registered offset-blind revisions', async () => {
  const t = await engineTarget();
  const ledger = new FindingsLedger(loadRegistry());
  noNew(transferProperty(t, { seed: 6, numRuns: 400 }, ledger));
  // the known finding is really met on the offset-blind revisions (the property can fail)
  expect(ledger.summary().known.find((k) => k.id === 'offset-blind-resume-write')?.revisions).toEqual(
    expect.arrayContaining(['hisi-acc/v5.18', 'hisi-acc/v6.2']));
});

test('config: refused exactly when a checked device field differs', async () => {
  noNew(configProperty(await engineTarget(), { seed: 7, numRuns: 400 }, new FindingsLedger(loadRegistry())));
});

test('uapi: command sequences stay within the uAPI text (known: reset on PRE_COPY revisions)', async () => {
  const ledger = new FindingsLedger(loadRegistry());
  noNew(uapiProperty(await engineTarget(), { seed: 8, numRuns: 1500 }, ledger));
  expect(ledger.summary().known.map((k) => k.id)).toContain('reset-done-gate-pre-copy');
});

test('uapi: a known finding replays from its seed, path and replayPath without the registry', async () => {
  const t = await engineTarget({ revisions: ['hisi-acc/v6.2'] });
  const first = uapiProperty(t, { seed: 1, numRuns: 300 }, new FindingsLedger([]));
  expect(first.failed).toBe(true);
  expect(first.violation?.kind).toBe('reset-keeps-state');
  expect(String(first.violation?.minimal.commands)).toMatch(/reset\(\)$/);
  const again = uapiProperty(t, { seed: 1, numRuns: 1, path: first.violation!.path, replayPath: first.violation!.replayPath }, new FindingsLedger([]));
  expect(again.violation?.kind).toBe('reset-keeps-state');
  // v7.0 has the reset_done fix: the same search finds nothing there
  const fixed = uapiProperty(await engineTarget({ revisions: ['hisi-acc/v7.0'] }), { seed: 1, numRuns: 300 }, new FindingsLedger([]));
  expect(fixed.failed, fixed.report ?? '').toBe(false);
});

test('transparency: same-revision migration is invisible to the guest', async () => {
  const r = transparencyProperty(await engineTarget(), { seed: 9, numRuns: 100 }, new FindingsLedger(loadRegistry()));
  test.skip(r.unavailable !== undefined, r.unavailable ?? '');
  noNew(r);
});
