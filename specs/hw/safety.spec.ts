// Safety rules of the hardware runner, exercised through the stand-in: variant-driver check, the
// per-device lock, clear errors for missing /dev/vfio and EACCES, and the device left RUNNING.
import { test, expect } from '@playwright/test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { capture, load, probe, withDevice, type HostContext } from '../../harness/runners/vfio-host/ops.ts';
import { lockDevice } from '../../harness/runners/vfio-host/safety.ts';
import { fakeSysfs, standin, usageMessage, VF_A, VF_B } from './fixtures.ts';

function setup(fakeB: Parameters<typeof standin>[0][number]['fake'] = {}) {
  const s = standin([{ bdf: VF_A, group: 12, cdev: 3 }, { bdf: VF_B, group: 13, cdev: 4, fake: fakeB }]);
  const sysfsRoot = fakeSysfs([
    { bdf: VF_A, driver: 'hisi_acc_vfio_pci', group: 12, cdev: 3 },
    { bdf: VF_B, driver: 'hisi_acc_vfio_pci', group: 13, cdev: 4 },
    { bdf: '0000:77:00.1', driver: 'vfio-pci', group: 14 },
    { bdf: '0000:78:00.1', driver: 'hisi_sec2', group: 15 },
    { bdf: '0000:79:00.1', driver: null, group: 16 },
  ]);
  const ctx: HostContext = { libc: s.host.libc, sysfsRoot, lockDir: mkdtempSync(join(tmpdir(), 'mc-lock-')) };
  return { ...s, ctx };
}

test('refuses devices not bound to a VFIO variant driver, before opening anything', () => {
  const { host, ctx } = setup();
  expect(usageMessage(() => probe(ctx, '0000:77:00.1'))).toMatch(/bound to 'vfio-pci', not a VFIO variant driver/);
  expect(usageMessage(() => probe(ctx, '0000:78:00.1'))).toMatch(/bound to 'hisi_sec2'/);
  expect(usageMessage(() => probe(ctx, '0000:79:00.1'))).toMatch(/no driver bound/);
  expect(usageMessage(() => probe(ctx, '0000:7a:00.1'))).toMatch(/no PCI device 0000:7a:00.1/);
  expect(usageMessage(() => probe(ctx, '75:00.1; rm -rf /'))).toMatch(/not a PCI address/);
  expect(host.calls()).toBe(0);
  const ok = probe(ctx, '75:00.1'); // short form gets domain 0000
  expect(ok).toMatchObject({ bdf: VF_A, driver: 'hisi_acc_vfio_pci', migrationFlags: '0x5', flagNames: ['STOP_COPY', 'PRE_COPY'], state: 'RUNNING', dataSize: '176', deviceId: '0xa256' });
});

test('clear one-line errors when /dev/vfio is missing or access is denied', () => {
  const { host, ctx } = setup();
  host.setOpenFault('/dev/vfio', 'ENOENT');
  expect(usageMessage(() => probe(ctx, VF_A))).toMatch(/\/dev\/vfio\/vfio is missing: is the vfio module loaded/);
  host.setOpenFault('/dev/vfio/12', 'EACCES');
  expect(usageMessage(() => probe(ctx, VF_A))).toMatch(/permission denied opening \/dev\/vfio\/12: run as root/);
  host.setOpenFault('/dev/iommu', 'ENOENT');
  expect(usageMessage(() => probe({ ...ctx, via: 'cdev' }, VF_A))).toMatch(/\/dev\/iommu is missing/);
  host.setOpenFault('', null);
  expect(probe({ ...ctx, via: 'cdev' }, VF_A).via).toBe('cdev');
  // every failed open closed what it had opened, and the lock was released each time
  expect(host.openFdCount()).toBe(0);
  expect(probe(ctx, VF_A).state).toBe('RUNNING');
});

test('one run per device: a live lock refuses, a stale lock is taken over', () => {
  const { ctx } = setup();
  const held = lockDevice(VF_A, ctx.lockDir);
  expect(usageMessage(() => probe(ctx, VF_A))).toMatch(new RegExp(`in use by process ${process.pid}`));
  expect(probe(ctx, VF_B).bdf).toBe(VF_B); // other devices are unaffected
  held.release();
  writeFileSync(held.path, '999999999 deadhost 2020-01-01\n'); // owner long gone
  expect(probe(ctx, VF_A).bdf).toBe(VF_A);
  // the lock is held exactly while the device is open
  withDevice(ctx, VF_A, () => {
    expect(() => lockDevice(VF_A, ctx.lockDir)).toThrow(/in use/);
  });
  lockDevice(VF_A, ctx.lockDir).release();
});

test('capture leaves the source RUNNING and returns the stream it read', () => {
  const { models, ctx } = setup();
  const r = capture(ctx, VF_A);
  expect(r.stream).toEqual(models.get(VF_A)![0].image());
  expect(r.provenance).toMatchObject({ bdf: VF_A, driver: 'hisi_acc_vfio_pci', precopy: true, bytes: 176, flagNames: ['STOP_COPY', 'PRE_COPY'] });
  expect(r.recovery).toMatchObject({ action: 'none', finalState: 'RUNNING' });
  const noPre = capture(ctx, VF_A, { precopy: false });
  expect(noPre.provenance.precopy).toBe(false);
  expect(noPre.stream).toEqual(r.stream);
});

test('load: accepted stream → migrated; refused at write → reset, device RUNNING, verdict refused', () => {
  const { host, models, ctx } = setup();
  const { stream } = capture(ctx, VF_A);
  const good = load(ctx, VF_B, stream, 'chunks:40,100');
  expect(good.verdict.outcome).toBe('migrated');
  expect(good.recovery.action).toBe('none');
  expect(host.log.filter((l) => l.bdf === VF_B && l.op === 'write').map((l) => l.detail)).toEqual(['40 -> 40', '100 -> 100', '36 -> 36']);
  const bad = Uint8Array.from(stream);
  bad[0] ^= 0xff; // magic
  const refused = load(ctx, VF_B, bad);
  expect(refused.verdict).toMatchObject({ outcome: 'refused', errno: 'EFAULT', stage: 'write' });
  expect(refused.recovery).toMatchObject({ action: 'reset', finalState: 'RUNNING', ok: true });
  const model = models.get(VF_B)!.at(-1)!;
  expect(model.resets).toBe(1);
  expect(model.state).toBe('RUNNING');
});

test('load: a destination checking at RESUMING→STOP refuses there and is reset, never left in STOP or RESUMING', () => {
  const { models, ctx } = setup({ matchAt: 'stop', deviceId: 0xa259 });
  const { stream } = capture(ctx, VF_A);
  const r = load(ctx, VF_B, stream);
  expect(r.verdict).toMatchObject({ outcome: 'refused', errno: 'EINVAL', stage: 'resuming->stop' });
  expect(r.evidence.dstFinalState).toBe('RUNNING');
  expect(r.evidence.checks).toEqual([expect.objectContaining({ name: 'device left RUNNING', ok: true })]);
  expect(models.get(VF_B)!.at(-1)!.state).toBe('RUNNING');
});

test('a harness failure mid-capture still leaves the device RUNNING', () => {
  const { models, ctx } = setup();
  expect(() =>
    withDevice(ctx, VF_A, ({ dev }) => {
      const r = dev.setState('STOP_COPY');
      if (r.ok) r.value.dataFd?.close();
      throw new Error('boom');
    }),
  ).toThrow('boom');
  expect(models.get(VF_A)![0].state).toBe('RUNNING');
});
