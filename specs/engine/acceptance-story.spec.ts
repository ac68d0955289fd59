// The story the maintainers told (reference summary, E.1), end to end on the simulated device:
// guest on the source with requests in flight → uAPI migration (QEMU's transfer) → verdict.
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

test('v6.16 -> v5.18 is refused and the source keeps running', () => {
  const r = run('v6.16', 'v5.18', 'kernel-crypto');
  expect(r.verdict).toMatchObject({ outcome: 'refused', errno: 'EINVAL', stage: 'resuming->stop' });
  expect(r.evidence.srcFinalState).toBe('RUNNING');
  expect(r.evidence.guestOn).toBe('src');
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
  const retry = run('v6.16', 'v5.18', 'user-polling', { scenario: 'retry-after-refusal', retryDst: 'v7.0', inflight: 0 });
  expect(retry.verdict.outcome).toBe('migrated');
  expect(retry.evidence.timeline.filter((e) => e.side === 'harness' && e.detail.hop).length).toBe(2);
});

test('no-driver guest: v5.18 programs NULL addresses (broken), v6.16 guards them and the guest loads its driver after (migrated)', () => {
  expect(run('v5.18', 'v5.18', 'no-driver').verdict.outcome).toBe('broken');
  expect(run('v6.16', 'v6.16', 'no-driver').verdict.outcome).toBe('migrated');
});
