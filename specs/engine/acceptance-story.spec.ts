// The story the maintainers told (docs/reference.md#revisions-at-a-glance,
// docs/reference.md#the-2025-fix-series), end to end on the simulated device: guest on the source with
// requests in flight → uAPI migration (QEMU's transfer) → verdict.
import { test, expect } from '@playwright/test';
import { DEFAULT_DEVICE, type DeviceConfig } from '../../harness/device/mmio.ts';
import { runAndJudge } from '../../harness/runners/sim.ts';
import type { CaseSpec, WorkloadName } from '../../harness/runners/types.ts';

const run = (src: string, dst: string, workload: WorkloadName, o: Partial<CaseSpec> = {}) => runAndJudge({
  src, dst, workload, scenario: 'single-hop', transfer: 'qemu', device: DEFAULT_DEVICE,
  requests: 16, inflight: 4, requestSize: 4096, seed: 1, ...o,
});
const dstWrites = (r: ReturnType<typeof run>) => r.evidence.timeline.filter((e) => e.side === 'dst' && e.kind === 'write').map((e) => e.detail.size);

test('v5.18 -> v5.18 kernel-crypto is broken: the destination VF delivers EQEs to the wrongly composed address', () => {
  const r = run('v5.18', 'v5.18', 'kernel-crypto');
  expect(r.verdict.outcome).toBe('broken');
  expect(r.verdict.reason).toMatch(/never completed|no-stall|events/);
  const bases = r.evidence.timeline.find((e) => e.side === 'dst' && e.detail.what === 'firmware-event-bases');
  expect(bases).toBeTruthy();
});

test('v5.18 -> v5.18 user-polling migrates: polling reads CQEs directly', () => {
  expect(run('v5.18', 'v5.18', 'user-polling').verdict.outcome).toBe('migrated');
});

test('v5.18 -> v6.16 migrates with one write (V1 accepted, DMA addresses recomputed)', () => {
  const r = run('v5.18', 'v6.16', 'kernel-crypto');
  expect(r.verdict.outcome).toBe('migrated');
  expect(dstWrites(r)).toEqual([176]);
});

// Every revision's start_device rings one SQ doorbell per queue of the driver's vf_qm.qp_num, which
// only a match check or a load sets: a source VF that never was a destination rings none after a
// refusal. Its paused queues restart at the guest's next submission (docs/device-model.md #5).
test('v6.16 -> v5.18 is refused and the source keeps running with nothing lost', () => {
  const r = run('v6.16', 'v5.18', 'kernel-crypto');
  expect(r.verdict).toMatchObject({ outcome: 'refused', errno: 'EINVAL', stage: 'resuming->stop' });
  expect(r.evidence.srcFinalState).toBe('RUNNING');
  expect(r.evidence.guestOn).toBe('src');
  expect(r.evidence.checks.every((c) => c.ok)).toBe(true);
  const hostSqDoorbells = r.evidence.timeline.filter((e) => e.side === 'src' && e.kind === 'doorbell' && e.detail.by === 'host' && e.detail.cmd === 0);
  expect(hostSqDoorbells).toEqual([]);
});

test('a VF that was a destination before restarts its queues after a refusal: refused, nothing lost', () => {
  // ping-pong: v5.18 -> v6.16 migrates (V1 accepted), then v6.16 -> v5.18 is refused on the way back
  const r = run('v5.18', 'v6.16', 'kernel-crypto', { scenario: 'ping-pong' });
  expect(r.verdict).toMatchObject({ outcome: 'refused', errno: 'EINVAL', stage: 'resuming->stop' });
  const restart = r.evidence.timeline.filter((e) => e.side === 'dst' && e.kind === 'doorbell' && e.detail.by === 'host' && e.detail.prio === 1);
  expect(restart.map((e) => e.detail.qn)).toEqual([0, 1, 2, 3, 0, 1, 2, 3]); // after the load, and after the refusal
});

test('v6.16 -> v6.16 migrates', () => {
  for (const w of ['kernel-crypto', 'user-polling', 'ras-recovery'] as const) expect(run('v6.16', 'v6.16', w).verdict.outcome, w).toBe('migrated');
});

test.describe('a source/destination mismatch is refused', () => {
  const cases: [string, Partial<DeviceConfig>][] = [['device id', { type: 'ZIP' }], ['queue count', { qpNum: 8 }], ['isolation', { queIsoCfg: 1 }]];
  for (const [what, d] of cases) {
    test(what, () => {
      const r = run('v6.16', 'v6.16', 'kernel-crypto', { dstDevice: { ...DEFAULT_DEVICE, ...d } });
      expect(r.verdict).toMatchObject({ outcome: 'refused', errno: 'EFAULT', stage: 'write' });
      expect(r.evidence.timeline.filter((e) => e.side === 'dst' && typeof e.detail.dmesg === 'string').map((e) => e.detail.dmesg).join()).toMatch(
        what === 'device id' ? /dev_id/ : what === 'queue count' ? /qp_num/ : /que_iso_cfg/);
    });
  }
});

test('scenarios: ping-pong on the same devices, retry after a refusal', () => {
  const pp = run('v6.16', 'v7.0', 'kernel-crypto', { scenario: 'ping-pong' });
  expect(pp.verdict.outcome).toBe('migrated');
  expect(pp.evidence.timeline.filter((e) => e.side === 'harness' && e.detail.hop).map((e) => e.detail.hop)).toEqual(
    ['hisi-acc/v6.16 -> hisi-acc/v7.0', 'hisi-acc/v7.0 -> hisi-acc/v6.16']);
  // refused by v5.18, the guest runs on at the source, then the retry to v7.0 migrates
  const retry = run('v6.16', 'v5.18', 'user-polling', { scenario: 'retry-after-refusal', retryDst: 'v7.0', inflight: 0 });
  expect(retry.verdict.outcome).toBe('migrated');
  expect(retry.evidence.timeline.filter((e) => e.side === 'harness' && e.detail.hop).length).toBe(2);
  // a guest without a driver has no queue to restart: the same refusal is clean
  expect(run('v6.16', 'v5.18', 'no-driver').verdict.outcome).toBe('refused');
});

test('no-driver guest: v5.18 programs NULL addresses (broken), v6.16 guards them and the guest loads its driver after (migrated)', () => {
  expect(run('v5.18', 'v5.18', 'no-driver').verdict.outcome).toBe('broken');
  expect(run('v6.16', 'v6.16', 'no-driver').verdict.outcome).toBe('migrated');
});
