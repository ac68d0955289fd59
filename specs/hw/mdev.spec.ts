// Mediated devices (`--device mdev:UUID`) through the stand-in: the sysfs look-up (bus/mdev/devices,
// type and parent), the safety rules (a bound driver, an IOMMU group, migration support reported by
// the opened device), the per-device lock, and capture/load leaving the device RUNNING. The same
// code meets a real kernel's mtty in the kernel project (specs/kernel).
import { test, expect } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { capture, load, probe, type HostContext } from '../../harness/runners/vfio-host/ops.ts';
import { lockDevice } from '../../harness/runners/vfio-host/safety.ts';
import { normalizeDeviceId, readDevice } from '../../harness/runners/vfio-host/sysfs.ts';
import { parseInventory } from '../../harness/runners/lab/inventory.ts';
import { fakeMdevSysfs, standin, usageMessage } from './fixtures.ts';

const U1 = '83b8f4f2-509f-382f-3c1e-e6bfe0fa1001';
const U2 = '83b8f4f2-509f-382f-3c1e-e6bfe0fa1002';
const U3 = '83b8f4f2-509f-382f-3c1e-e6bfe0fa1003';
const U4 = '83b8f4f2-509f-382f-3c1e-e6bfe0fa1004';

function setup() {
  // the stand-in's devices are named as VFIO_GROUP_GET_DEVICE_FD names an mdev: by its bare UUID
  const s = standin([
    { bdf: U1, group: 20, cdev: 5 },
    { bdf: U2, group: 21, cdev: 6 },
    { bdf: U3, group: 22, cdev: 7, fake: { flags: 0 } },
  ]);
  const sysfsRoot = fakeMdevSysfs([
    { uuid: U1, driver: 'mtty', group: 20, type: 'mtty-1', parent: 'mtty' },
    { uuid: U2, driver: 'mtty', group: 21, type: 'mtty-1', parent: 'mtty' },
    { uuid: U3, driver: 'mdpy', group: 22, type: 'mdpy-vga', parent: 'mdpy' },
    { uuid: U4, driver: null, group: null, type: 'mtty-2', parent: 'mtty' },
  ]);
  const ctx: HostContext = { libc: s.host.libc, sysfsRoot, lockDir: mkdtempSync(join(tmpdir(), 'mc-lock-')) };
  return { ...s, ctx, sysfsRoot };
}

test('device ids: mdev:UUID beside PCI addresses, malformed ones refused in one line', () => {
  expect(normalizeDeviceId(`MDEV:${U1.toUpperCase()}`)).toBe(`mdev:${U1}`);
  expect(normalizeDeviceId('75:00.1')).toBe('0000:75:00.1');
  expect(usageMessage(() => normalizeDeviceId(U1))).toMatch(/looks like an mdev UUID: write it as mdev:/);
  expect(usageMessage(() => normalizeDeviceId('mdev:nope'))).toMatch(/not an mdev device/);
  expect(usageMessage(() => normalizeDeviceId('mdev:../../etc'))).toMatch(/not an mdev device/);
  const inv = parseInventory(`hosts:\n  - { name: guest, local: true, kernel: k, vfs: [mdev:${U1}, 0000:75:00.1] }\n`);
  expect(inv.hosts[0]!.vfs).toEqual([`mdev:${U1}`, '0000:75:00.1']);
});

test('sysfs: an mdev is found under bus/mdev/devices with its type, parent, driver and group', () => {
  const { sysfsRoot } = setup();
  expect(readDevice(`mdev:${U1}`, sysfsRoot)).toEqual({
    kind: 'mdev', bdf: `mdev:${U1}`, vfioName: U1, driver: 'mtty', iommuGroup: 20, cdev: null,
    vendorId: null, deviceId: null, physfn: null, mdevType: 'mtty-1', parent: 'mtty',
  });
  expect(usageMessage(() => readDevice(`mdev:${U1.replace('1001', '9999')}`, sysfsRoot))).toMatch(/no mdev device .*create one through mdev_supported_types/);
});

test('safety: unbound or migration-less mdevs are refused and nothing is left open', () => {
  const { host, ctx } = setup();
  expect(usageMessage(() => probe(ctx, `mdev:${U4}`))).toMatch(/refusing mdev:.*: no driver bound \(is the vendor driver of its parent mtty loaded\?\)/);
  expect(host.calls()).toBe(0);
  // mdpy opens, reports flags 0: refused before any state change, closed, unlocked
  expect(usageMessage(() => probe(ctx, `mdev:${U3}`))).toMatch(/driver 'mdpy' migration flags 0x0 lack STOP_COPY/);
  expect(host.log.filter((l) => l.op === 'set-state')).toEqual([]);
  expect(host.openFdCount()).toBe(0);
  lockDevice(`mdev:${U3}`, ctx.lockDir).release();
});

test('probe, capture and load by mdev id: lock held while open, device left RUNNING', () => {
  const { models, ctx } = setup();
  const p = probe(ctx, `mdev:${U1}`);
  expect(p).toMatchObject({ bdf: `mdev:${U1}`, kind: 'mdev', mdevType: 'mtty-1', parent: 'mtty', driver: 'mtty', iommuGroup: 20, via: 'group', state: 'RUNNING', vendorId: 'unknown' });
  const held = lockDevice(`mdev:${U2}`, ctx.lockDir);
  expect(usageMessage(() => probe(ctx, `mdev:${U2}`))).toMatch(/in use by process/);
  held.release();
  const c = capture(ctx, `mdev:${U1}`);
  expect(c.provenance).toMatchObject({ bdf: `mdev:${U1}`, mdevType: 'mtty-1', driver: 'mtty', deviceId: 'unknown' });
  const bad = Uint8Array.from(c.stream);
  bad[0] ^= 0xff;
  const r = load(ctx, `mdev:${U2}`, bad);
  expect(r.verdict).toMatchObject({ outcome: 'refused', errno: 'EFAULT', stage: 'write' });
  expect(r.recovery).toMatchObject({ action: 'reset', finalState: 'RUNNING', ok: true });
  expect(load(ctx, `mdev:${U2}`, c.stream).verdict.outcome).toBe('migrated');
  expect(models.get(U2)!.every((m) => m.state === 'RUNNING')).toBe(true);
});
