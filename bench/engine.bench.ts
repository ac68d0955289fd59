// Engine throughput on one core: full cases per second (kernel-crypto, 16 requests of 4 KiB,
// v6.16 -> v6.16, QEMU transfer), destination checks per second, and memory over 100,000 cases.
import { DEFAULT_DEVICE } from '../harness/device/mmio.ts';
import { runAndJudge } from '../harness/runners/sim.ts';
import { checkStream } from '../harness/runners/simCheck.ts';
import { captureStream } from '../harness/runners/simCapture.ts';
import type { CaseSpec } from '../harness/runners/types.ts';
import { measure, peakRssMiB, report } from './util.ts';

const spec = (seed: number): CaseSpec => ({
  src: 'hisi-acc/v6.16', dst: 'hisi-acc/v6.16', workload: 'kernel-crypto', scenario: 'single-hop', transfer: 'qemu',
  device: DEFAULT_DEVICE, requests: 16, inflight: 4, requestSize: 4096, seed,
});
let seed = 1;
let bad = 0;
measure('full cases (kernel-crypto, 16 x 4 KiB, qemu)', () => {
  if (runAndJudge(spec(seed++)).verdict.outcome !== 'migrated') bad++;
}, { unit: 'cases/s', target: '>= 1,000' });
if (bad) report('  cases not migrated (should be 0)', bad, 'cases');

const stream = captureStream({ rev: 'hisi-acc/v6.16' });
if (!stream.ok) throw new Error(`capture failed: ${stream.errno}`);
let refused = 0;
measure('destination checks (v6.16 stream -> v6.16)', () => {
  if (!checkStream({ rev: 'hisi-acc/v6.16', stream: stream.value }).accepted) refused++;
}, { unit: 'checks/s', target: '>= 50,000' });
if (refused) report('  checks refused (should be 0)', refused, 'checks');

// memory: heap after GC at intervals over 100,000 cases must stay flat
const gc = (globalThis as { gc?: () => void }).gc;
const N = Number(process.env.BENCH_CASES ?? 100_000);
const samples: number[] = [];
const t0 = process.hrtime.bigint();
for (let i = 0; i < N; i++) {
  runAndJudge(spec(i + 1));
  if ((i + 1) % (N / 5) === 0) {
    gc?.();
    samples.push(process.memoryUsage().heapUsed / 2 ** 20);
  }
}
const secs = Number(process.hrtime.bigint() - t0) / 1e9;
report(`${N.toLocaleString('en-US')} cases`, secs, 's');
process.stdout.write(`heap after GC every ${(N / 5).toLocaleString('en-US')} cases: ${samples.map((m) => m.toFixed(1)).join(', ')} MiB\n`);
report('heap growth first -> last sample', samples[samples.length - 1] - samples[0], 'MiB', '~0 (flat)');
report('peak RSS', peakRssMiB(), 'MiB');
