// The properties against the engine (revision models on the simulated device), fixed seeds and
// bounded runs. A violation the findings registry (specs/findings/fuzz.yaml) knows is counted; a new
// one fails here with its seed, path (and replayPath) and minimal case.
import { test, expect } from '@playwright/test';
import { engineTarget } from '../../harness/fuzz/engineTarget.ts';
import { FindingsLedger, loadRegistry } from '../../harness/fuzz/findings.ts';
import { configProperty, streamProperty, transferProperty, transparencyProperty, uapiProperty, type PropertyResult } from '../../harness/fuzz/properties.ts';
import { SensitivityTable } from '../../harness/fuzz/sensitivity.ts';
import { acceptanceRuleFor, checkedFieldNames } from '../../harness/fuzz/checkedFields.ts';
import { DEFAULT_DEVICE } from '../../harness/device/mmio.ts';
import { runFuzz } from '../../harness/fuzz/run.ts';
import { replayFuzzCommand } from '../../harness/fuzz/replay.ts';
import { readBundle } from '../../harness/report/bundle.ts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { loadRevision } from '../../harness/drivers/registry.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** v7.0's driver on a kernel whose core has the blocked-arc fix: a what-if profile, as a user writes one. */
function fixedCoreV70(): string {
  const f = join(mkdtempSync(join(tmpdir(), 'mc-rev-')), 'v7.0-fixed-core.yaml');
  writeFileSync(f, 'id: what-if/v7.0-fixed-core\ntitle: v7.0 driver on a core with the blocked-arc fix\nkernel: hypothetical\nextends: hisi-acc/v7.0\ntraits:\n  vfioCore: fixed-loop\n');
  return loadRevision(f).id;
}

const noNew = (r: PropertyResult) => expect(r.failed, r.report ?? '').toBe(false);

test('stream: checked fields are refused everywhere; accepted mutants run the guest; sensitivity measured', async () => {
  const t = await engineTarget();
  const table = new SensitivityTable();
  const r = streamProperty(t, { seed: 5, numRuns: 250, guestEvery: 2 }, new FindingsLedger(loadRegistry()), table);
  noNew(r);
  expect(r.runs).toBeGreaterThan(3000); // a run is one mutated-stream check (16 per generated value)
  for (const dst of t.revisions) {
    // any change of these is ruled out (length and magic have legal alternatives: 40 bytes, the other magic)
    const rule = acceptanceRuleFor(dst)!;
    for (const f of checkedFieldNames(rule).filter((n) => ['dev_id', 'qp_num', 'que_iso_cfg', 'major_ver'].includes(n))) {
      const cell = table.revisions[dst]?.[f];
      if (!cell) continue;
      expect(cell.counts.migrated + cell.counts.accepted + cell.counts.broken, `${dst} ${f}`).toBe(0);
    }
    expect(Object.values(table.revisions[dst] ?? {}).some((c) => c.counts.refused > 0), dst).toBe(true);
  }
  // the body columns mean something: with real DMA fields from a booted guest, an accepted but
  // wrong queue-context base breaks the guest on a destination that takes it (v6.16 trusts sqc_dma)
  const body = ['sqc_dma', 'cqc_dma'].map((f) => table.revisions['hisi-acc/v6.16']?.[f]);
  expect(body.some((c) => (c?.counts.broken ?? 0) > 0), JSON.stringify(body)).toBe(true);
  // and untouched reserved words migrate cleanly after a guest run
  expect(Object.entries(table.revisions['hisi-acc/v6.16'] ?? {}).some(([f, c]) => f.startsWith('qm_rsv_regs') && c.counts.migrated > 0)).toBe(true);
  // baselines: kernel-crypto streams between R0–R2 revisions are broken unmutated (known) and not fuzzed
  expect(table.baselines.find((b) => b.src === 'hisi-acc/v5.18 (kernel-crypto)' && b.dst === 'hisi-acc/v5.18')?.outcome).toBe('broken');
  expect(table.baselines.find((b) => b.src === 'hisi-acc/v6.16 (kernel-crypto)' && b.dst === 'hisi-acc/v6.16')?.outcome).toBe('migrated');
});

test('stream: source streams carry real DMA fields, and the case writes the same bytes the check saw', async () => {
  const t = await engineTarget({ revisions: ['hisi-acc/v6.16', 'hisi-acc/v5.18'] });
  for (const src of t.revisions) {
    for (const w of ['user-polling', 'kernel-crypto'] as const) {
      const s = t.save(src, DEFAULT_DEVICE, w);
      expect(s.length, `${src} ${w}`).toBe(176);
      const dv = new DataView(s.buffer, s.byteOffset);
      for (const off of [144, 152, 160, 168]) expect(dv.getBigUint64(off, true), `${src} ${w} @${off}`).not.toBe(0n);
      // identity mutation through the full case: same source bytes, and v6.16 migrates it
      const run = t.runMutated!({ src, dst: 'hisi-acc/v6.16', workload: w, device: DEFAULT_DEVICE, mutate: (x) => x, chunks: null });
      expect(Buffer.from(run.original!).equals(Buffer.from(s))).toBe(true);
      expect(run.check.outcome, run.check.reason).toBe('migrated');
    }
  }
  // a NULL sqc_dma is taken by v6.8 (no NULL-DMA guard) and the guest breaks; v6.16 keeps the VF stopped
  const zero = (x: Uint8Array) => { const y = x.slice(); y.fill(0, 160, 168); return y; };
  const t2 = await engineTarget({ revisions: ['hisi-acc/v6.8', 'hisi-acc/v6.16'] });
  const old = t2.runMutated!({ src: 'hisi-acc/v6.8', dst: 'hisi-acc/v6.8', workload: 'user-polling', device: DEFAULT_DEVICE, mutate: zero, chunks: null });
  expect(old.check.outcome, old.check.reason).toBe('broken');
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

test('uapi: command sequences judged by the conformance clauses (known: reset on PRE_COPY revisions)', async () => {
  const ledger = new FindingsLedger(loadRegistry());
  noNew(uapiProperty(await engineTarget(), { seed: 8, numRuns: 1500 }, ledger));
  expect(ledger.summary().known.map((k) => k.id)).toEqual(expect.arrayContaining(['reset-done-gate-pre-copy', 'core-skip-loop-blocked-arc']));
});

test('uapi: a refused stream that goes on to RUNNING drives start_device\'s doorbell loop on v6.2, v6.8 and proposal-2024 (known)', async () => {
  const ledger = new FindingsLedger(loadRegistry());
  const t = await engineTarget({ revisions: ['hisi-acc/v6.2', 'hisi-acc/v6.8', 'hisi-acc/proposal-2024'] });
  noNew(uapiProperty(t, { seed: 2, numRuns: 4000 }, ledger));
  const known = ledger.summary().known;
  expect(known.map((k) => k.id)).toEqual(expect.arrayContaining(['refused-stream-starts-device-loop', 'early-check-refusal-forgotten']));
});

test('uapi: a known finding replays from its seed, path and replayPath without the registry', async () => {
  const t = await engineTarget({ revisions: ['hisi-acc/v6.2'] });
  const first = uapiProperty(t, { seed: 1, numRuns: 300 }, new FindingsLedger([]));
  expect(first.failed).toBe(true);
  // the violation is named by the clause it breaks (specs/conformance/vfio-migration.yaml)
  expect(first.violation?.kind).toBe('reset-returns-running');
  expect(String(first.violation?.minimal.commands)).toMatch(/reset\(\)$/);
  const again = uapiProperty(t, { seed: 1, numRuns: 1, path: first.violation!.path, replayPath: first.violation!.replayPath }, new FindingsLedger([]));
  expect(again.violation?.kind).toBe('reset-returns-running');
  // v7.0 has the reset_done fix but still the v6.2 core: the search finds the core's blocked-arc hang
  const v70 = uapiProperty(await engineTarget({ revisions: ['hisi-acc/v7.0'] }), { seed: 4, numRuns: 300 }, new FindingsLedger([]));
  expect(v70.violation?.kind).toBe('blocked-arcs-refused');
  expect(String(v70.violation?.minimal.commands)).toBe('set(STOP_COPY),set(PRE_COPY)');
  // v7.0 on a kernel with the fixed core: no call hangs any more; what is left is the driver's own
  // refused-write finding (40 refused bytes, then STOP), whichever seed finds it
  const t2 = await engineTarget({ revisions: [fixedCoreV70()] });
  for (const seed of [1, 2, 3, 4]) {
    const fixed = uapiProperty(t2, { seed, numRuns: 300 }, new FindingsLedger([]));
    if (fixed.failed) expect(fixed.violation?.kind, fixed.report).toBe('refused-write-never-loaded');
  }
});

test('transparency: same-revision migration is invisible to the guest, but for the registered revisions', async () => {
  const ledger = new FindingsLedger(loadRegistry());
  const r = transparencyProperty(await engineTarget(), { seed: 9, numRuns: 300 }, ledger);
  noNew(r);
  // the known findings are really met (the property can fail) ...
  const known = ledger.summary().known.map((k) => k.id);
  expect(known).toEqual(expect.arrayContaining(['xqc-dma-composition-kernel-crypto', 'no-vf-driver-null-dma']));
  // ... and only on R0–R2 revisions
  for (const k of ledger.summary().known) for (const rev of k.revisions) expect(['hisi-acc/v5.18', 'hisi-acc/v6.2', 'hisi-acc/v6.8']).toContain(rev);
});

test('transparency: without the registry a buggy revision fails, shrinks and replays; v7.0 holds', async () => {
  const t = await engineTarget({ revisions: ['hisi-acc/v5.18'] });
  const first = transparencyProperty(t, { seed: 2, numRuns: 50 }, new FindingsLedger([]));
  expect(first.failed).toBe(true);
  expect(first.violation?.kind).toMatch(/^guest-visible-difference:/);
  expect(first.violation?.minimal).toMatchObject({ revision: 'hisi-acc/v5.18', requests: 0 });
  const again = transparencyProperty(t, { seed: 2, numRuns: 1, path: first.violation!.path }, new FindingsLedger([]));
  expect(again.violation?.kind).toBe(first.violation?.kind);
  const fixed = transparencyProperty(await engineTarget({ revisions: ['hisi-acc/v7.0'] }), { seed: 2, numRuns: 150 }, new FindingsLedger([]));
  expect(fixed.failed, fixed.report ?? '').toBe(false);
});

test('a fuzz finding is saved as a repro bundle that `migcompat replay` hands to the fuzz replay', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fuzz-bundle-'));
  const t = await engineTarget({ revisions: ['hisi-acc/v6.2'] });
  const s = runFuzz(t, { properties: ['transparency'], seed: 4, numRuns: 50, registry: null, outDir: dir });
  expect(s.new).toHaveLength(1);
  const file = s.files.find((f) => f.includes('/bundles/'))!;
  const b = readBundle(file);
  expect(b.extra?.fuzz).toMatchObject({ property: 'transparency', revision: 'hisi-acc/v6.2', seed: s.new[0].seed, path: s.new[0].path });
  let text = '';
  const sink = { write: (x: string) => ((text += x), true) } as unknown as NodeJS.WritableStream;
  expect(await replayFuzzCommand(b, false, sink)).toBe(0);
  expect(text).toContain(`reproduced: ${s.new[0].kind} on hisi-acc/v6.2`);
  // a bundle whose finding no longer reproduces (here: pointed at a fixed revision) exits 1
  const moved = { ...b, extra: { fuzz: { ...(b.extra!.fuzz as object), revision: 'hisi-acc/v7.0', revisions: ['hisi-acc/v7.0'] } } };
  expect(await replayFuzzCommand(moved, true, sink)).toBe(1);
});
