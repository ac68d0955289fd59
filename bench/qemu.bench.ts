// Whole-VM figures: boot to the first workload line, live migration total time and downtime (from
// QEMU's query-migrate), the whole case (boot + workload + migrate + verify), and peak memory of the
// harness and of the QEMU pair, for an x86_64 and an aarch64 guest (HiSilicon guest drivers loaded)
// in the same run, side by side. Target for the whole case: under 30 s on these machines. Lab mode: one
// hop to a destination started over SSH (a throwaway sshd on 127.0.0.1, as in specs/qemu/lab.spec.ts).
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QemuRunner } from '../harness/runners/qemu/runner.ts';
import { DEFAULT_DEVICE } from '../harness/device/mmio.ts';
import { judge } from '../harness/oracle/judge.ts';
import { ensureImage } from '../harness/runners/qemu/image.ts';
import { GUEST_ARCHES, type GuestArch } from '../harness/runners/qemu/arch.ts';
import { livePids } from '../harness/runners/qemu/procs.ts';
import { peakRssMiB, report, rssMiB } from './util.ts';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { parseInventory } from '../harness/runners/lab/inventory.ts';
import { startSshd } from '../specs/qemu/sshd.ts';

for (const arch of GUEST_ARCHES) await ensureImage(arch, (s) => process.stdout.write(`${s}\n`));
let qemuPeak = 0;
const sampler = setInterval(() => {
  const sum = livePids().reduce((a, p) => a + rssMiB(p), 0);
  if (sum > qemuPeak) qemuPeak = sum;
}, 100);
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
interface ArchFigures { outcome: string; bootMs: number; totalMs: number; downtimeMs: number; sentMiB: number; firstLineMs: number; wallS: number }
/** One ping-pong case (boot, 3 live hops, verify) on an architecture, through the runner. */
async function pingPong(arch: GuestArch): Promise<ArchFigures> {
  const runner = new QemuRunner({ dir: join(tmpdir(), `migcompat-qemu-bench-${arch}-${process.pid}`) });
  const t0 = Date.now();
  const r = await runner.runCase({
    src: 'qemu/installed', dst: 'qemu/installed', workload: 'kernel-crypto', scenario: 'ping-pong', transfer: 'unix',
    device: DEFAULT_DEVICE, requests: 0, inflight: 0, requestSize: 0, seed: 0, arch,
  });
  const wallS = (Date.now() - t0) / 1000;
  const v = judge(r.evidence);
  const first = r.evidence.timeline.find((e) => e.detail.retried)?.detail.firstAttempt;
  process.stdout.write(`${arch} case: ${v.outcome} (${v.reason})${r.attempts > 1 ? ` after a retry (first attempt: ${first ?? 'no reason recorded'})` : ''}\n`);
  const hops = r.hops.filter((h) => h.figures.totalTimeMs !== null);
  return {
    outcome: v.outcome, bootMs: r.bootMs, wallS,
    totalMs: med(hops.map((h) => h.figures.totalTimeMs!)), downtimeMs: med(hops.map((h) => h.figures.downtimeMs!)),
    sentMiB: med(hops.map((h) => h.figures.transferredBytes!)) / 1048576, firstLineMs: med(hops.map((h) => h.figures.migrateToFirstLineMs ?? NaN)),
  };
}
// one after the other: each case's two TCG guests want both cores
const figs = {} as Record<GuestArch, ArchFigures>;
for (const arch of GUEST_ARCHES) figs[arch] = await pingPong(arch);
clearInterval(sampler);
for (const arch of GUEST_ARCHES) {
  const f = figs[arch];
  report(`${arch}: boot to first workload line`, f.bootMs / 1000, 's');
  report(`${arch}: migration total time (median of 3 hops)`, f.totalMs, 'ms');
  report(`${arch}: migration downtime (median)`, f.downtimeMs, 'ms');
  report(`${arch}: data sent per hop (median)`, f.sentMiB, 'MiB');
  report(`${arch}: migrate -> first line on destination (median)`, f.firstLineMs, 'ms');
  report(`${arch}: whole case: boot + 3 live hops + verify`, f.wallS, 's', '< 30 s for boot + 1 hop');
}
const row = (name: string, k: keyof ArchFigures, unit: string, scale = 1) => `| ${name} | ${GUEST_ARCHES.map((a) => `${(Number(figs[a][k]) * scale).toFixed(unit === 's' ? 1 : 0)} ${unit}`).join(' | ')} |`;
process.stdout.write(['', `| figure (same run) | ${GUEST_ARCHES.join(' | ')} |`, `|---|${GUEST_ARCHES.map(() => '---').join('|')}|`,
  row('boot to first workload line', 'bootMs', 's', 1 / 1000), row('per-hop total time (median)', 'totalMs', 'ms'),
  row('downtime (median)', 'downtimeMs', 'ms'), row('whole ping-pong case', 'wallS', 's'), ''].join('\n') + '\n');
report('peak RSS, QEMU processes together', qemuPeak, 'MiB');
report('peak RSS, harness', peakRssMiB(), 'MiB');
const v = { outcome: GUEST_ARCHES.every((a) => figs[a].outcome === 'migrated') ? 'migrated' : 'not migrated' };
let labOk = true;
if (process.getuid?.() !== 0 || !existsSync('/usr/sbin/sshd')) {
  process.stdout.write('lab hop over SSH: skipped (needs root and openssh-server)\n');
} else {
  const sshd = await startSshd();
  const work = mkdtempSync(join(tmpdir(), 'mclab-bench-'));
  try {
    const inventory = parseInventory(`hosts:
  - { name: here, local: true, kernel: k, vfs: [0000:7a:01.1] }
  - name: peer
    ssh: { host: 127.0.0.1, port: ${sshd.port}, key: ${sshd.clientKey}, hostKey: "${sshd.hostKeyFingerprint}" }
    kernel: k
    vfs: [0000:7a:02.1]
    workdir: ${work}
`);
    const lab = new QemuRunner({ dir: join(tmpdir(), `migcompat-qemu-bench-lab-${process.pid}`), inventory });
    const t1 = Date.now();
    const l = await lab.runCase({
      src: 'qemu/installed@here', dst: 'qemu/installed@peer', workload: 'kernel-crypto', scenario: 'single-hop', transfer: 'tcp',
      device: DEFAULT_DEVICE, requests: 0, inflight: 0, requestSize: 0, seed: 0,
    });
    const lv = judge(l.evidence);
    labOk = lv.outcome === 'migrated';
    const h = l.hops[0]!;
    const started = l.evidence.timeline.find((e) => e.detail.started === 'vm1');
    const before = started ? l.evidence.timeline[started.seq - 1] : undefined;
    process.stdout.write(`lab case: ${lv.outcome} (${lv.reason})\n`);
    if (started && before) report('lab: destination QEMU start over SSH to QMP ready (first case: includes the image upload)', started.t - before.t, 'ms');
    report('lab: migration total time over TCP', h.figures.totalTimeMs ?? NaN, 'ms');
    report('lab: downtime', h.figures.downtimeMs ?? NaN, 'ms');
    report('lab: migrate -> first line on the SSH host', h.figures.migrateToFirstLineMs ?? NaN, 'ms');
    report('lab: whole case (boot, hop to the SSH host, verify)', (Date.now() - t1) / 1000, 's');
  } finally {
    await sshd.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
process.exitCode = v.outcome === 'migrated' && labOk ? 0 : 1;
