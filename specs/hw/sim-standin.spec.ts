// The kernel backend against the real simulated revisions (harness/vfio/sim.ts + harness/drivers):
// the stand-in forwards every arc, read and write to a revision model, so what the simulated
// driver does is what the hardware runner sees through real fds and ioctls.
import { test, expect } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { capture, load, probe, withDevice, type HostContext } from '../../harness/runners/vfio-host/ops.ts';
import { HangError } from '../../harness/vfio/driver.ts';
import { StandinHost } from '../../harness/vfio/kernel/standin/host.ts';
import { simStandinDevice } from '../../harness/runners/vfio-host/standinSim.ts';
import { fakeSysfs, VF_A, VF_B } from './fixtures.ts';

function hosts(src: string, dst: string): HostContext {
  const host = StandinHost.get();
  host.reset();
  host.addDevice({ bdf: VF_A, group: 12, cdev: 3, open: simStandinDevice(src, {}, 1, 'src').open });
  host.addDevice({ bdf: VF_B, group: 13, cdev: 4, open: simStandinDevice(dst, {}, 2, 'dst').open });
  const sysfsRoot = fakeSysfs([
    { bdf: VF_A, driver: 'hisi_acc_vfio_pci', group: 12, cdev: 3 },
    { bdf: VF_B, driver: 'hisi_acc_vfio_pci', group: 13, cdev: 4 },
  ]);
  return { libc: host.libc, sysfsRoot, lockDir: mkdtempSync(join(tmpdir(), 'mc-lock-')) };
}

test('migration flags and data size come from the revision (v5.18: STOP_COPY only, no MIG_DATA_SIZE)', () => {
  const ctx = hosts('hisi-acc/v5.18', 'hisi-acc/v6.16');
  expect(probe(ctx, VF_A)).toMatchObject({ migrationFlags: '0x1', dataSize: 'ENOTTY', state: 'RUNNING' });
  expect(probe(ctx, VF_B)).toMatchObject({ migrationFlags: '0x5', dataSize: '176', state: 'RUNNING' });
  expect(StandinHost.get().errors).toEqual([]);
});

test('v6.16 source: the stream carries the V2 magic; a v6.16 destination accepts it', () => {
  const ctx = hosts('hisi-acc/v6.16', 'hisi-acc/v6.16');
  const c = capture(ctx, VF_A);
  expect([40, 176]).toContain(c.stream.length);
  expect(Buffer.from(c.stream).readBigUInt64LE(0)).toBe(0xaaccfeeddecadeden);
  expect(c.provenance.precopy).toBe(true);
  const l = load(ctx, VF_B, c.stream, 'single');
  expect(l.verdict.outcome).toBe('migrated');
  expect(l.evidence.dstFinalState).toBe('RUNNING');
  expect(StandinHost.get().errors).toEqual([]);
});

test('v6.16 → v5.18: the old destination refuses the V2 magic at RESUMING→STOP and is left RUNNING', () => {
  const ctx = hosts('hisi-acc/v6.16', 'hisi-acc/v5.18');
  const c = capture(ctx, VF_A);
  const l = load(ctx, VF_B, c.stream);
  expect(l.verdict).toMatchObject({ outcome: 'refused', errno: 'EINVAL', stage: 'resuming->stop' });
  expect(l.recovery.finalState).toBe('RUNNING');
  expect(StandinHost.get().errors).toEqual([]);
});

// docs/reference.md#reset-handling
test('v6.16 → v6.2: refused at write() with EFAULT; the v6.2 reset leaves RESUMING, so the runner reopens', () => {
  const ctx = hosts('hisi-acc/v6.16', 'hisi-acc/v6.2');
  const c = capture(ctx, VF_A);
  const l = load(ctx, VF_B, c.stream, 'chunks:40,136');
  expect(l.evidence.destination).toMatchObject({ accepted: false, errno: 'EFAULT', stage: 'write' });
  // v6.2's reset_done returns early when migration_flags != STOP_COPY: state stays RESUMING after reset
  expect(l.recovery).toMatchObject({ action: 'reopen', finalState: 'RUNNING', ok: true });
  expect(l.evidence.checks.find((c) => c.name.startsWith('VFIO_DEVICE_RESET'))?.ok).toBe(false);
  expect(l.verdict.outcome).toBe('broken');
  expect(StandinHost.get().errors).toEqual([]);
});

test('v6.16 → v7.0: the same refusal, and a reset that restores RUNNING', () => {
  const ctx = hosts('hisi-acc/v6.16', 'hisi-acc/v7.0');
  const bad = Uint8Array.from(capture(ctx, VF_A).stream);
  bad[12] ^= 1; // dev_id
  const l = load(ctx, VF_B, bad, 'chunks:40,136');
  expect(l.verdict).toMatchObject({ outcome: 'refused', errno: 'EFAULT', stage: 'write' });
  expect(l.recovery).toMatchObject({ action: 'reset', finalState: 'RUNNING', ok: true });
  expect(StandinHost.get().errors).toEqual([]);
});

test('a revision whose core never returns (v6.16, skip loop) makes the kernel call throw the hang, never an errno', () => {
  const ctx = hosts('hisi-acc/v6.16', 'hisi-acc/debian-6.12.118');
  let hang: unknown = null;
  try {
    withDevice(ctx, VF_A, (s) => {
      expect(s.dev.setState('STOP_COPY').ok).toBe(true);
      return s.dev.setState('PRE_COPY');
    });
  } catch (e) {
    hang = e;
  }
  expect(hang).toBeInstanceOf(HangError);
  expect((hang as HangError).where).toMatch(/skip loop cycles at ERROR for STOP_COPY->PRE_COPY/);
  // the same request on the fixed core of Debian 6.12.118: the blocked arc is EINVAL
  const r = withDevice(ctx, VF_B, (s) => {
    expect(s.dev.setState('STOP_COPY').ok).toBe(true);
    return s.dev.setState('PRE_COPY');
  });
  expect(r.value).toEqual({ ok: false, errno: 'EINVAL' });
  expect(r.recovery.finalState).toBe('RUNNING');
  expect(StandinHost.get().errors).toEqual([]);
});
