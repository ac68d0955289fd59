// Guest workloads on the simulated VF, migrated by the register-level host of device-host.ts (the
// revision models are tested elsewhere): each workload's path and the symptoms
// docs/reference.md#completion-paths names.
import { test, expect } from '@playwright/test';
import { setup, migrate, hostStop, hostSave, hostLoadAndStart } from './device-host.ts';
import { regs as R } from '../../harness/device/index.ts';
import { DEFAULT_DEVICE } from '../../harness/device/mmio.ts';

const failed = (checks: { name: string; ok: boolean }[]) => checks.filter((c) => !c.ok).map((c) => c.name).sort();

test.describe('guest workloads across a migration', () => {
  // docs/reference.md#event-queue-address-composition, docs/reference.md#completion-paths
  test('kernel-crypto: fixed eqe_dma composition migrates; the R0-R2 composition loses completion events', () => {
    const good = setup('kernel-crypto');
    expect(failed(migrate(good, 'fixed', true).checks)).toEqual([]);
    expect(good.dst.stats.dmaFaults).toBe(0);

    const bad = setup('kernel-crypto');
    const r = migrate(bad, 'buggy', false);
    expect(failed(r.checks)).toEqual(['all-completed', 'no-stall']);
    // the device did complete the work: the CQEs are in guest memory, only the EQEs went astray
    expect(bad.dst.stats.cqesWritten).toBeGreaterThan(0);
    expect(bad.dst.dmaFaults.every((f) => f.what === 'eqe')).toBe(true);
    expect(r.saved.eqeDma >> 32n).toBe(BigInt(r.saved.eqc[1]));
  });

  // docs/reference.md#completion-paths
  test('user-polling survives the R0-R2 composition: CQs are polled, EQE faults are invisible to it', () => {
    const b = setup('user-polling');
    const r = migrate(b, 'buggy', false);
    expect(failed(r.checks)).toEqual([]);
    expect(b.dst.stats.dmaFaults).toBeGreaterThan(0);
  });

  test('ras-recovery: AEQ event -> function reset -> reload -> traffic continues; with the buggy AEQ base the event never arrives', () => {
    const good = setup('ras-recovery');
    const resets: string[] = [];
    good.vm.resetHook = () => {
      resets.push(good.vm.device.side);
      good.vm.device.functionReset();
    };
    expect(failed(migrate(good, 'fixed', true).checks)).toEqual([]);
    expect(resets).toEqual(['dst']);
    expect(good.dst.stats.resets).toBe(1);

    const bad = setup('ras-recovery');
    expect(failed(migrate(bad, 'buggy', false).checks)).toContain('ras-recovery-finished');
    expect(bad.dst.dmaFaults.some((f) => f.what === 'aeqe')).toBe(true);
  });

  // docs/reference.md#no-guest-driver-what-the-source-saves, docs/reference.md#bugfix-live-migration-without-a-vf-device-driver
  test('no-driver: the source saves a full stream with NULL DMA addresses; without a NULL guard the destination errors and the guest driver fails to load', () => {
    const b = setup('no-driver');
    const r = migrate(b, 'fixed', false);
    expect(r.saved.ready).toBe(true); // QM_VF_STATE reads 0 with no driver (assumption)
    expect([r.saved.eqeDma, r.saved.sqcDma, r.saved.cqcDma]).toEqual([0n, 0n, 0n]);
    expect(b.dst.inError).toBe(true);
    expect(failed(r.checks)).toEqual(['all-completed', 'driver-loads-after-migration', 'eq-events-delivered', 'no-device-error']);

    const g = setup('no-driver');
    expect(failed(migrate(g, 'fixed', true).checks)).toEqual([]);
    expect(g.dst.inError).toBe(false);
  });

  test('driver-unloaded: QM_VF_STATE stays NOT_READY, the save sees a not-ready guest; the guest reloads on the destination', () => {
    const b = setup('driver-unloaded');
    const r = migrate(b, 'buggy', false);
    expect(r.saved.ready).toBe(false);
    expect(b.src.read32('vf', R.VF_QM_STATE)).toBe(1);
    expect(failed(r.checks)).toEqual([]);
    expect(b.dst.stats.requestsCompleted).toBeGreaterThanOrEqual(16);
  });

  for (const inflight of [0, 1, 5, 16]) {
    test(`requests in flight at the stop point: ${inflight} of 16, all complete exactly once after the migration`, () => {
      const b = setup('kernel-crypto', { inflight, seed: 100 + inflight });
      b.workload.boot(b.vm);
      b.workload.runToStopPoint(b.vm);
      const s = (b.workload as unknown as { summary: { inflightAtStop: number } }).summary;
      expect(s.inflightAtStop).toBe(inflight);
      hostStop(b.src);
      const saved = hostSave(b.src, 'fixed');
      hostLoadAndStart(b.dst, saved, { nullGuard: true });
      b.vm.device = b.dst;
      b.workload.resume(b.vm);
      expect(failed(b.workload.checks(b.vm))).toEqual([]);
      expect(b.src.stats.requestsCompleted + b.dst.stats.requestsCompleted).toBe(20);
    });
  }

  test('a refusal: the source is stopped and saved, then restarted (priority-1 SQ doorbells) and the guest continues on it', () => {
    const b = setup('kernel-crypto', { inflight: 6 });
    b.workload.boot(b.vm);
    b.workload.runToStopPoint(b.vm);
    hostStop(b.src);
    hostSave(b.src, 'fixed');
    for (let q = 0; q < b.src.config.qpNum; q++) b.src.write64('vf', R.VF_DB_SQCQ, R.doorbell(R.DB_CMD.SQ, q, 0, 1));
    b.workload.resume(b.vm);
    expect(failed(b.workload.checks(b.vm))).toEqual([]);
    expect(b.dst.stats.requestsCompleted).toBe(0);
  });

  test('a paused source restarts at the guest\'s next submission: nothing lost (device assumption 5)', () => {
    const b = setup('kernel-crypto', { inflight: 6 });
    b.workload.boot(b.vm);
    b.workload.runToStopPoint(b.vm);
    hostStop(b.src);
    expect(b.src.isPaused).toBe(true);
    b.workload.resume(b.vm); // no host doorbell: the guest's own SQ doorbell ends the pause
    expect(b.src.isPaused).toBe(false);
    expect(failed(b.workload.checks(b.vm))).toEqual([]);
  });

  test('a paused source with nothing new to submit is a reported stall, not a hang', () => {
    const b = setup('kernel-crypto', { inflight: 6, resumeRequests: 0 });
    b.workload.boot(b.vm);
    b.workload.runToStopPoint(b.vm);
    hostStop(b.src);
    b.workload.resume(b.vm);
    expect(failed(b.workload.checks(b.vm))).toEqual(['all-completed', 'no-stall']);
  });

  test('more requests than the SQ holds, rings wrapping across a ping-pong (A->B->A on the same objects)', () => {
    const b = setup('kernel-crypto', { requests: 150, inflight: 40, requestSize: 64 });
    b.workload.boot(b.vm);
    b.workload.runToStopPoint(b.vm);
    hostStop(b.src);
    hostLoadAndStart(b.dst, hostSave(b.src, 'fixed'), { nullGuard: true });
    b.vm.device = b.dst;
    b.workload.resume(b.vm);
    hostStop(b.dst);
    hostLoadAndStart(b.src, hostSave(b.dst, 'fixed'), { nullGuard: true });
    b.vm.device = b.src;
    b.workload.resume(b.vm);
    expect(failed(b.workload.checks(b.vm))).toEqual([]);
    expect(b.src.stats.dmaFaults + b.dst.stats.dmaFaults).toBe(0);
  });

  test('ZIP (deflate) and HPRE (modexp) VFs run the same workloads; PF-control hardware migrates too', () => {
    for (const type of ['ZIP', 'HPRE'] as const) {
      const b = setup('kernel-crypto', { device: { ...DEFAULT_DEVICE, type }, requests: 6, inflight: 2 });
      expect(failed(migrate(b, 'fixed', true).checks)).toEqual([]);
    }
    const pf = setup('kernel-crypto', { device: { ...DEFAULT_DEVICE, hwMode: 'pf-ctrl' } });
    expect(failed(migrate(pf, 'fixed', true).checks)).toEqual([]);
  });

  test('a case is a pure function of its seed: same timeline, same saved state', () => {
    const run = (seed: number) => {
      const b = setup('kernel-crypto', { seed });
      const r = migrate(b, 'fixed', true);
      return { saved: r.saved, events: b.timeline.events.map((e) => `${e.t}:${e.side}:${e.kind}:${JSON.stringify(e.detail)}`) };
    };
    const a = run(11);
    expect(run(11)).toEqual(a);
    expect(run(12).saved.sqcDma).not.toBe(a.saved.sqcDma);
    expect(a.events.some((e) => e.includes(':guest:completion:'))).toBe(true);
  });
});
