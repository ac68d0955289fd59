// Device + guest core speed: one kernel-crypto case (16 requests of 4 KiB, 3 in flight at the stop
// point) through boot, stop point, a register-level save/load (the minimal host of the device specs,
// not a revision model) and resume on the destination, with all checks. Also raw engine throughput
// and memory over many cases.
import { measure, peakRssMiB, report } from './util.ts';
import { setup, migrate } from '../specs/engine/device-host.ts';

let bad = 0;
let seed = 1;
const rate = measure('device+guest full cases (kernel-crypto, 16 x 4 KiB, fixed compose)', () => {
  const b = setup('kernel-crypto', { seed: seed++ });
  const r = migrate(b, 'fixed', true);
  if (!r.checks.every((c) => c.ok)) bad++;
}, { unit: 'cases/s', target: '>= 1,000 incl. driver models' });
if (bad) throw new Error(`${bad} cases failed their checks`);

measure('device+guest full cases (user-polling, 16 x 4 KiB)', () => {
  const b = setup('user-polling', { seed: seed++ });
  migrate(b, 'fixed', true);
}, { unit: 'cases/s' });

// memory stays flat: RSS after N more cases
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const before = process.memoryUsage().heapUsed / 2 ** 20;
const n = Math.max(2000, Math.round(rate * 3));
for (let i = 0; i < n; i++) migrate(setup('kernel-crypto', { seed: seed++ }), 'fixed', true);
gc?.();
const after = process.memoryUsage().heapUsed / 2 ** 20;
report(`heap after ${n} more cases minus before`, after - before, 'MiB');
report('peak RSS', peakRssMiB(), 'MiB');
