// Real QEMU (TCG) migrations of a guest running kernel crypto through AF_ALG. One booted source serves
// a chain: three refusals (machine type, RAM size, missing device), new->old over a unix socket,
// old->new over loopback TCP, a save to a file that is decoded end to end and restored into a new QEMU.
// A second case goes through QemuRunner and the oracle: a source holding virtio-crypto-pci is blocked.
// A third boots the Kunpeng lab's architecture (aarch64, machine virt, the HiSilicon guest drivers
// loaded): refused by an older machine type, then migrated to the other QEMU build.
// A guest oops (QEMU 7.2's TCG dirty-page race) is infrastructure: the chain is retried once.
import { test, expect } from '@playwright/test';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveBuild, installedBuild } from '../../harness/runners/qemu/builds.ts';
import { InfraError } from '../../harness/runners/qemu/errors.ts';
import { archProfile } from '../../harness/runners/qemu/arch.ts';
import { DEFAULT_HOP, liveHop, restoreFromFile, saveToFile, type HopResult } from '../../harness/runners/qemu/hop.ts';
import { ensureImage } from '../../harness/runners/qemu/image.ts';
import { livePids } from '../../harness/runners/qemu/procs.ts';
import { QemuRunner } from '../../harness/runners/qemu/runner.ts';
import { DEFAULT_VM, QemuVm, type VmConfig } from '../../harness/runners/qemu/vm.ts';
import { checkContinuity, servingDrivers } from '../../harness/runners/qemu/workload.ts';
import { decodeQemuMigration } from '../../harness/formats/qemuMigration.ts';
import { judge } from '../../harness/oracle/judge.ts';
import { raceSymptom } from '../../harness/runners/qemu/retry.ts';
import { DEFAULT_DEVICE } from '../../harness/device/mmio.ts';
import type { TimelineEvent } from '../../harness/oracle/types.ts';

test.describe.configure({ mode: 'serial' });

/** hops as the runner makes them under TCG: the short live phase (arch.ts) */
const HOP = { ...DEFAULT_HOP, downtimeLimitMs: archProfile('x86_64').tcgDowntimeLimitMs ?? undefined };

/** Once more after QEMU 7.2's TCG race hit the guest (an oops, or a corrupted destination: retry.ts). */
async function retryOnOops<T>(fn: (attempt: number) => Promise<T>): Promise<T> {
  try {
    return await fn(1);
  } catch (e) {
    if (!(e instanceof InfraError) || !/oops|dirty-page race/.test(e.message)) throw e;
    test.info().annotations.push({ type: 'retried', description: `infrastructure: ${e.message}` });
    return fn(2);
  }
}

test('chain: refusals keep the source running, new->old->new live hops, file save/decode/restore', async () => {
  const image = await ensureImage();
  const fresh = installedBuild();
  const old = await resolveBuild('qemu/previous');
  expect(old.version).not.toBe(fresh.version);
  const timeline: TimelineEvent[] = [];
  const t0 = Date.now();
  const push = (side: TimelineEvent['side'], kind: TimelineEvent['kind'], detail: TimelineEvent['detail']) =>
    timeline.push({ seq: timeline.length, t: Date.now() - t0, side, kind, detail });

  await retryOnOops(async (attempt) => {
    const dir = join(test.info().outputPath(`chain-${attempt}`));
    mkdirSync(dir, { recursive: true });
    const vms: QemuVm[] = [];
    // the saved stream is ~100 MB: it lives in a temp folder removed below; its decoded summary is the artifact
    const streamDir = mkdtempSync(join(tmpdir(), 'mcq-stream-'));
    const at = (name: string, build = fresh, config: VmConfig = DEFAULT_VM) => ({ name, dir, build, image, config });
    const expectHop = (r: HopResult, outcome: string) => {
      if (r.outcome === 'error') throw new InfraError(r.reason);
      const race = outcome === 'migrated' && r.outcome === 'broken' ? raceSymptom(r.checks) : null; // no VF here, TCG
      if (race) throw new InfraError(race);
      expect(r.outcome, `${r.reason}\n${JSON.stringify(r.checks, null, 1)}`).toBe(outcome);
    };
    try {
      const vm0 = await QemuVm.start(at('vm0'));
      vms.push(vm0);
      await test.step('boot: the workload runs and reports its drivers', async () => {
        await vm0.waitIter(2, 90_000);
        const drivers = servingDrivers(vm0.workload().algs);
        expect(Object.keys(drivers).sort()).toEqual(['cbc(aes)', 'gcm(aes)', 'hmac(sha256)', 'sha256', 'sha512']);
        expect(drivers['sha256']).toBe('sha256-generic'); // no hisi_sec2 on amd64: the generic driver
      });
      const refusals: [string, VmConfig, RegExp][] = [
        ['machine type', { ...DEFAULT_VM, machine: 'pc-q35-6.2' }, /Machine type received is 'pc-q35-7.2' and local is 'pc-q35-6.2'/],
        ['RAM size', { ...DEFAULT_VM, memMiB: 512 }, /mismatch.*pc\.ram|pc\.ram.*mismatch/i],
        ['missing device', { ...DEFAULT_VM, workloadPort: false }, /Unknown savevm section or instance '0000:00:01.0\/virtio-console'/],
      ];
      for (const [i, [what, config, stderr]] of refusals.entries()) {
        await test.step(`refused: destination with another ${what}`, async () => {
          const { result, dst } = await liveHop(vm0, at(`bad${i}`, fresh, config), HOP, push);
          expectHop(result, 'refused');
          expect(dst).toBeNull();
          expect(result.migration?.status).toBe('failed');
          expect(result.srcStatus).toBe('running');
          expect(result.dstExit).toBe(1);
          expect(result.dstStderr).toMatch(stderr);
          expect(result.checks.every((c) => c.ok)).toBe(true);
        });
      }
      let cur = vm0;
      for (const [name, build, channel] of [['vm1', old, 'unix'], ['vm2', fresh, 'tcp']] as const) {
        await test.step(`live hop ${cur.spec.build.id} -> ${build.id} over ${channel}`, async () => {
          const { result, dst } = await liveHop(cur, at(name, build), { ...HOP, channel }, push);
          expectHop(result, 'migrated');
          expect(result.srcStatus).toBe('postmigrate');
          expect(result.dstFirstIter).toBe(result.srcLastIter + 1);
          expect(result.figures.totalTimeMs).toBeGreaterThan(0);
          expect(result.figures.transferredBytes).toBeGreaterThan(10 << 20);
          await cur.stop();
          cur = dst!;
          vms.push(cur);
        });
      }
      const file = join(streamDir, 'stream.bin');
      await test.step('save to a file and decode every byte of it', async () => {
        const info = await saveToFile(cur, file, DEFAULT_HOP, push);
        expect(info.status).toBe('completed');
        const bytes = readFileSync(file);
        const d = decodeQemuMigration(bytes);
        expect(d.problem).toBeNull();
        expect(d.accounted).toBe(bytes.length);
        expect(d.machineType).toBe('pc-q35-7.2');
        const ids = new Set(d.sections.map((s) => s.idstr));
        for (const id of ['ram', 'cpu', '0000:00:01.0/virtio-console', 'globalstate']) expect(ids.has(id), id).toBe(true);
        const ramPages = d.sections.reduce((a, s) => a + (s.ram?.pages ?? 0) + (s.ram?.zeroPages ?? 0), 0);
        expect(ramPages).toBeGreaterThanOrEqual((256 << 20) / 4096); // every guest page, sent once at least
        expect(d.vmdesc?.devices).toBe(d.sections.filter((s) => s.type === 'full').length);
        const { spans: _spans, ...summary } = d;
        await test.info().attach('stream-summary.json', {
          body: JSON.stringify({ bytes: bytes.length, ...summary, vfioDevices: d.vfioDevices.map((v) => ({ idstr: v.idstr, bytes: v.bytes.length, layout: v.decoded.layout })) }, null, 1),
          contentType: 'application/json',
        });
      });
      await test.step('restore the file into a new QEMU: the guest resumes and the counter goes on', async () => {
        const srcLast = cur.lastIter();
        const vm3 = await restoreFromFile(at('vm3'), file, push);
        vms.push(vm3);
        await vm3.waitIter(srcLast + 2, 30_000);
        expect(vm3.workload().iters[0]!.n).toBe(srcLast + 1);
        const whole = checkContinuity(vms.map((v) => ({ label: v.name, text: v.workloadText() })), DEFAULT_VM.workload.size, 1);
        for (const c of whole) expect(c.ok, c.detail).toBe(true);
        for (const v of vms) expect(v.oops(), v.name).toBeNull();
      });
    } finally {
      for (const v of vms) await v.stop();
      rmSync(streamDir, { recursive: true, force: true });
    }
  });
  expect(livePids()).toEqual([]);
  await test.info().attach('timeline.json', { body: JSON.stringify(timeline, null, 1), contentType: 'application/json' });
});

test('runner: a source holding virtio-crypto-pci is blocked; the oracle says refused and the guest keeps working', async () => {
  const runner = new QemuRunner({ dir: test.info().outputPath('runner') });
  const r = await runner.runCase({
    src: 'qemu/installed+virtio-crypto', dst: 'qemu/installed+virtio-crypto', workload: 'kernel-crypto', scenario: 'single-hop',
    transfer: 'unix', device: DEFAULT_DEVICE, requests: 0, inflight: 0, requestSize: 0, seed: 1,
  });
  const verdict = judge(r.evidence);
  expect(verdict.outcome, `${verdict.reason} ${r.evidence.harnessError ?? ''}`).toBe('refused');
  expect(r.hops[0]!.blockedReasons.join(' ')).toMatch(/non-migratable device: 0000:00:0\d\.0\/virtio-crypto/);
  expect(r.hops[0]!.reason).toMatch(/State blocked by non-migratable device/);
  expect(r.evidence.guestOn).toBe('src');
  expect(r.evidence.srcFinalState).toBe('RUNNING');
  expect(r.evidence.checks.find((c) => c.name === 'workload-results')?.ok).toBe(true);
  expect(r.evidence.timeline.find((e) => e.detail.migrate !== undefined)?.detail.downtimeLimitMs).toBe(archProfile('x86_64').tcgDowntimeLimitMs); // TCG: the short live phase
  expect(livePids()).toEqual([]);
  await test.info().attach('evidence.json', { body: JSON.stringify({ ...r.evidence, stream: null }, null, 1), contentType: 'application/json' });
});

test('aarch64 runner: retry-after-refusal with the HiSilicon guest drivers loaded (no VF here), across QEMU builds', async () => {
  const previous = await resolveBuild('qemu/previous', 'aarch64');
  expect(previous.arch).toBe('aarch64');
  expect(previous.version).not.toBe(installedBuild('aarch64').version);
  const runner = new QemuRunner({ dir: test.info().outputPath('aarch64') });
  const r = await runner.runCase({
    src: 'qemu/installed', dst: 'qemu/installed+machine-version=6.2', retryDst: `qemu/${previous.version}`, arch: 'aarch64',
    workload: 'kernel-crypto', scenario: 'retry-after-refusal', transfer: 'unix', device: DEFAULT_DEVICE, requests: 0, inflight: 0, requestSize: 0, seed: 2,
  });
  const verdict = judge(r.evidence);
  expect(verdict.outcome, `${verdict.reason} ${r.evidence.harnessError ?? ''}`).toBe('migrated');
  expect(r.evidence.caseId).toMatch(/ aarch64$/);
  const [refusal, hop] = r.hops;
  expect(refusal!.outcome).toBe('refused');
  expect(refusal!.dstStderr).toMatch(/Machine type received is 'virt-7\.2' and local is 'virt-6\.2'/);
  expect(refusal!.srcStatus).toBe('running');
  expect(hop!.outcome, hop!.reason).toBe('migrated');
  expect(hop!.dstFirstIter).toBe(hop!.srcLastIter + 1);
  // under TCG an aarch64 live phase is kept short (QEMU 7.2 loses dirty pages an aarch64 guest writes through kept TLB entries)
  const migrates = r.evidence.timeline.filter((e) => e.detail.migrate !== undefined);
  expect(migrates.map((e) => e.detail.downtimeLimitMs)).toEqual([2000, 2000]);
  // the guest drivers loaded and registered, before and after each hop; with no VF, generic drivers serve
  const hisi = r.evidence.checks.filter((c) => c.name === 'hisi-drivers');
  expect(hisi.length).toBeGreaterThanOrEqual(2);
  for (const c of hisi) {
    expect(c.ok, c.detail).toBe(true);
    expect(c.detail).toMatch(/^no VF present: .*hisi_qm.* loaded; PCI drivers hisi_hpre:0, hisi_sec2:0, hisi_zip:0/);
  }
  expect(r.drivers['cbc(aes)']).toBe('cbc(aes-generic)');
  expect(r.evidence.checks.find((c) => c.name === 'workload-results')?.ok).toBe(true);
  expect(livePids()).toEqual([]);
  await test.info().attach('evidence.json', { body: JSON.stringify({ ...r.evidence, stream: null }, null, 1), contentType: 'application/json' });
});
