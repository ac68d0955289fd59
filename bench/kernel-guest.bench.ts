// Kernel-guest figures: the guest's build from Debian packages, cold (an empty cache holding only the
// .debs, so no download is timed) and cached; boot to the agent's greeting (and its stages); capture+load
// cycles per second inside the guest (the library in the agent); one CLI invocation inside the guest;
// the whole `kernel` Playwright project's wall time. TCG on a shared 2-core machine: figures vary.
import { spawnSync } from 'node:child_process';
import { copyFileSync, linkSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MDEVS, KernelGuest } from '../harness/runners/kernel-guest/guest.ts';
import { ensureKernelGuestImage, resolveKernelGuestSources } from '../harness/runners/kernel-guest/image.ts';
import { livePids } from '../harness/runners/qemu/procs.ts';
import { downloadDeb } from '../harness/util/debian.ts';
import { report, rssMiB } from './util.ts';

let t = Date.now();
const src = resolveKernelGuestSources();
report('package look-up (apt-cache)', (Date.now() - t) / 1000, 's');
// the .debs in the shared cache first, so that the cold build below times building, not downloading
const debs = Object.values(src.packages).map((p) => downloadDeb(p, src.version));

const cold = mkdtempSync(join(tmpdir(), 'mc-kg-bench-'));
const saved = process.env.MIGCOMPAT_CACHE;
try {
  mkdirSync(join(cold, 'debs'), { recursive: true });
  for (const d of debs) {
    const to = join(cold, 'debs', d.split('/').pop()!);
    try {
      linkSync(d, to);
    } catch {
      copyFileSync(d, to);
    }
  }
  process.env.MIGCOMPAT_CACHE = cold;
  t = Date.now();
  const img = ensureKernelGuestImage(() => {}, src);
  report('guest build, cold (.debs present: unpack, mtty.c from the source tarball, make, initramfs)', (Date.now() - t) / 1000, 's');
  report('  of which kernel package and modules', img.buildMs.download / 1000, 's');
  report('  of which mtty.ko (source extraction, headers, make)', img.buildMs.compile / 1000, 's');
} finally {
  if (saved === undefined) delete process.env.MIGCOMPAT_CACHE;
  else process.env.MIGCOMPAT_CACHE = saved;
  rmSync(cold, { recursive: true, force: true });
}
ensureKernelGuestImage(() => {}, src); // the shared cache's entry, built once if missing
t = Date.now();
const image = ensureKernelGuestImage(() => {}, src);
report('guest build, cached (look-up of the cache entry)', Date.now() - t, 'ms');

const dir = mkdtempSync(join(tmpdir(), 'mc-kg-run-'));
let peak = 0;
const sampler = setInterval(() => {
  const sum = livePids().reduce((a, p) => a + rssMiB(p), 0);
  if (sum > peak) peak = sum;
}, 200);
const guest = await KernelGuest.boot({ image, dir, mdevs: DEFAULT_MDEVS });
let ok = true;
try {
  report('host: tsx cache for the guest (before QEMU starts)', guest.prewarmMs, 'ms');
  report('boot: QEMU start to /init', (guest.times.init ?? NaN) / 1000, 's');
  report('boot: modules loaded, mdevs created', (guest.times.modules ?? NaN) / 1000, 's');
  report('boot: ready (agent greeted)', guest.times.ready / 1000, 's');
  const [a, b] = DEFAULT_MDEVS;
  const n = 100;
  const c = await guest.call<{ n: number; ms: number; outcomes: string[] }>('cycles', [`mdev:${a!.uuid}`, `mdev:${b!.uuid}`, n], 600_000);
  ok &&= c.outcomes.length === 1 && c.outcomes[0] === 'migrated';
  report(`capture+load cycles inside the guest (library, ${n} cycles, ${c.outcomes.join('/')})`, c.n / (c.ms / 1000), 'cycles/s');
  const p = await guest.migcompat(['probe', '--device', `mdev:${a!.uuid}`, '--json']);
  ok &&= p.code === 0;
  report('one CLI invocation inside the guest (migcompat probe)', p.ms / 1000, 's');
  report('peak RSS of the QEMU process', peak, 'MiB');
} finally {
  clearInterval(sampler);
  await guest.stop();
  rmSync(dir, { recursive: true, force: true });
}

t = Date.now();
const r = spawnSync(process.execPath, [join('node_modules', '.bin', 'playwright'), 'test', '--project', 'kernel', '--reporter', 'dot'], { encoding: 'utf8', env: { ...process.env, MIGCOMPAT_WORKERS: '1' } });
const last = r.stdout.trim().split('\n').pop() ?? '';
report(`kernel project wall time (${last})`, (Date.now() - t) / 1000, 's', '~2 min on 2 cores');
ok &&= r.status === 0;
process.exitCode = ok ? 0 : 1;
