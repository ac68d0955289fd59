// Fuzz throughput on one core: executions per second per property (targets: ≥20,000 mutated-stream
// checks/s, ≥2,000 command sequences/s). Every property runs under a time budget with a fixed seed.
// The stream property is measured three ways, so the figure says what it measures:
//   end to end     fast-check descriptors → derived mutations → checkStream (no guest), report table
//   check loop     the same kind of mutated streams through checkStream alone (the engine's cost)
//   fuzz overhead  the property with a stand-in check that answers at once (the fuzzer's own cost)
// and once more with the guest case run for 1 in 4 accepted mutants (the default of `migcompat fuzz`).
import { DEFAULT_DEVICE } from '../harness/device/mmio.ts';
import { engineTarget } from '../harness/fuzz/engineTarget.ts';
import { FindingsLedger, loadRegistry } from '../harness/fuzz/findings.ts';
import { applyMutation, drawMutation, familyCount } from '../harness/fuzz/mutations.ts';
import { chunksOf, configProperty, streamProperty, transferProperty, transparencyProperty, uapiProperty, type RunOptions } from '../harness/fuzz/properties.ts';
import { SensitivityTable } from '../harness/fuzz/sensitivity.ts';
import type { FuzzTarget } from '../harness/fuzz/target.ts';
import { Rng } from '../harness/util/rng.ts';
import { peakRssMiB, report } from './util.ts';

const seconds = Number(process.env.BENCH_FUZZ_SECONDS ?? 3);
const t = await engineTarget();
const o: RunOptions = { seed: 1, seconds };
const ledger = () => new FindingsLedger(loadRegistry());
const run = (name: string, unit: string, target: string | undefined, f: () => { runs: number; ms: number; failed: boolean }) => {
  const r = f();
  report(`fuzz ${name}`, (r.runs / r.ms) * 1000, unit, target);
  if (r.failed) process.stdout.write(`  (${name} stopped early on a new finding after ${r.runs} runs)\n`);
};

run('stream end to end (no guest)', 'checks/s', '20,000', () => streamProperty(t, { ...o, guestEvery: 0 }, ledger(), new SensitivityTable()));

// the check loop alone: mutated streams drawn the way the property draws them
{
  const rng = new Rng(1);
  const items: { dst: string; s: Uint8Array; chunks: number[] | null }[] = [];
  for (const src of t.revisions) {
    for (const w of ['user-polling', 'kernel-crypto'] as const) {
      const base = t.save(src, DEFAULT_DEVICE, w);
      for (const dst of t.revisions) {
        for (let i = 0; i < 200; i++) {
          const s = applyMutation(base, drawMutation(base, rng.int(0, familyCount(base) - 1), rng));
          // like the property: one write 1 in 3, else 0-4 random cut points
          const cuts = Array.from({ length: rng.int(0, 4) }, () => rng.int(1, s.length + 63));
          items.push({ dst, s, chunks: rng.u32() % 3 === 0 ? null : chunksOf(s.length, cuts) });
        }
      }
    }
  }
  for (const it of items.slice(0, 2000)) t.check(it.dst, it.s, it.chunks, DEFAULT_DEVICE); // warm-up
  let n = 0;
  const t0 = process.hrtime.bigint();
  const budget = BigInt(seconds * 1e9);
  while (process.hrtime.bigint() - t0 < budget) {
    for (let i = 0; i < 500; i++, n++) {
      const it = items[n % items.length];
      t.check(it.dst, it.s, it.chunks, DEFAULT_DEVICE);
    }
  }
  report('fuzz stream check loop (checkStream only, no fast-check)', n / (Number(process.hrtime.bigint() - t0) / 1e9), 'checks/s', '20,000');
}

// the fuzzer's own cost: same property, a check that answers at once
{
  const stub: FuzzTarget = { ...t, runMutated: undefined, check: () => ({ outcome: 'refused', errno: 'EINVAL', stage: 'write', reason: 'stub' }) };
  run('stream fuzz overhead (stand-in check)', 'checks/s', undefined, () => streamProperty(stub, { ...o, guestEvery: 0 }, new FindingsLedger([]), new SensitivityTable()));
}

run('stream with guest (1 in 4 accepted mutants run the case)', 'checks/s', undefined, () => streamProperty(t, { ...o, guestEvery: 4 }, ledger(), new SensitivityTable()));
run('transfer (check + case per chunking)', 'runs/s', undefined, () => transferProperty(t, o, ledger()));
run('config (save with guest + check)', 'runs/s', undefined, () => configProperty(t, o, ledger()));
run('uapi (command sequences, ≤30 commands)', 'sequences/s', '2,000', () => uapiProperty(t, o, ledger()));
run('transparency (case + unmigrated run)', 'runs/s', undefined, () => transparencyProperty(t, o, ledger()));
report('fuzz peak RSS', peakRssMiB(), 'MiB');
