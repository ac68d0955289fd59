// docs/reference.md#resume-fd-write-semantics, docs/reference.md#pre-copy-support, docs/reference.md#device-feature-ioctl,
// docs/reference.md#data-fd-semantics: the data fd as user space sees it through the simulated VFIO core.
import { test, expect } from '@playwright/test';
import { GuestMemory, QmVf } from '../../harness/device/index.ts';
import { DEFAULT_DEVICE } from '../../harness/device/mmio.ts';
import { loadRevision } from '../../harness/drivers/registry.ts';
import { Vm, createWorkload } from '../../harness/guest/index.ts';
import { SimClock } from '../../harness/util/clock.ts';
import { Rng } from '../../harness/util/rng.ts';
import { Timeline } from '../../harness/util/timeline.ts';
import { SimVfioDevice } from '../../harness/vfio/sim.ts';
import type { DataFd } from '../../harness/vfio/types.ts';

function source(rev: string, workload: 'user-polling' | 'driver-unloaded' = 'user-polling') {
  const clock = new SimClock();
  const timeline = new Timeline(clock);
  const memory = new GuestMemory(5);
  const dev = new QmVf({ config: DEFAULT_DEVICE, memory, clock, timeline, side: 'src', rng: new Rng(5) });
  const vfio = new SimVfioDevice(rev, loadRevision(rev).bind({ host: dev, config: DEFAULT_DEVICE, timeline, side: 'src' }), timeline, 'src');
  const vm = new Vm({ memory, device: dev, clock, timeline, rng: new Rng(5) });
  const wl = createWorkload(workload, { requests: 4, inflight: 1, requestSize: 64, seed: 5, deviceType: 'SEC' });
  wl.boot(vm);
  wl.runToStopPoint(vm);
  return { vfio, timeline, dev };
}
const fdOf = (r: ReturnType<SimVfioDevice['setState']>): DataFd => {
  if (!r.ok || !r.value.dataFd) throw new Error(`no data fd: ${JSON.stringify(r)}`);
  return r.value.dataFd;
};
const len = (r: { ok: boolean; value?: Uint8Array }) => (r.ok ? r.value!.length : r);

// docs/reference.md#pre-copy-support, docs/reference.md#device-feature-ioctl
test('migration flags and MIG_DATA_SIZE per revision', () => {
  expect(source('v5.18').vfio.migrationFlags()).toEqual({ ok: true, value: 0x1 });
  expect(source('debian-6.1.192').vfio.migrationFlags()).toEqual({ ok: true, value: 0x1 });
  expect(source('v6.2').vfio.migrationFlags()).toEqual({ ok: true, value: 0x5 });
  expect(source('v5.18').vfio.dataSize()).toEqual({ ok: false, errno: 'ENOTTY' });
  expect(source('v6.16').vfio.dataSize()).toEqual({ ok: true, value: 176n });
  expect(source('v6.16', 'driver-unloaded').vfio.dataSize()).toEqual({ ok: true, value: 176n }); // even for a 40-byte stream
});

// docs/reference.md#stream-length-by-situation, docs/reference.md#data-fd-semantics
test('STOP_COPY stream: 176 bytes then permanent end; disabled after STOP_COPY→STOP', () => {
  const { vfio } = source('v6.16');
  const fd = fdOf(vfio.setState('STOP_COPY'));
  expect(len(fd.read(100))).toBe(100);
  expect(len(fd.read(1000))).toBe(76);
  expect(len(fd.read(1000))).toBe(0);
  expect(len(fd.read(1000))).toBe(0);
  expect(fd.precopyInfo()).toEqual({ ok: false, errno: 'EINVAL' }); // not in PRE_COPY
  expect(fd.write(new Uint8Array(4))).toEqual({ ok: false, errno: 'EBADF' }); // the save fd is read-only
  expect(vfio.setState('STOP').ok).toBe(true);
  expect(fd.read(10)).toEqual({ ok: false, errno: 'ENODEV' });
});

// docs/reference.md#precopy_info-on-the-save-fd, docs/reference.md#save-fd-read-semantics
test('PRE_COPY: 40-byte header, temporary end is read() = 0, PRECOPY_INFO, then 136 bytes in STOP_COPY', () => {
  const { vfio, timeline } = source('v6.16');
  const fd = fdOf(vfio.setState('PRE_COPY'));
  expect(fd.precopyInfo()).toEqual({ ok: true, value: { initialBytes: 40n, dirtyBytes: 0n } });
  expect(len(fd.read(1 << 20))).toBe(40);
  expect(fd.precopyInfo()).toEqual({ ok: true, value: { initialBytes: 0n, dirtyBytes: 0n } });
  expect(len(fd.read(1 << 20))).toBe(0); // temporary end: 0, not ENOMSG
  const sc = vfio.setState('STOP_COPY');
  expect(sc).toEqual({ ok: true, value: { dataFd: null } }); // same fd continues
  expect(len(fd.read(1 << 20))).toBe(136);
  expect(len(fd.read(1 << 20))).toBe(0);
  const arcs = timeline.events.filter((e) => e.kind === 'arc').map((e) => `${e.detail.from}->${e.detail.to}`);
  expect(arcs).toEqual(['RUNNING->PRE_COPY', 'PRE_COPY->STOP_COPY']);
  expect(timeline.events.filter((e) => e.kind === 'read').map((e) => e.detail.bytes)).toEqual([40, 0, 136, 0]);
});

// docs/reference.md#resolved-paths, docs/reference.md#precopy_info-on-the-save-fd
test('PRE_COPY is EINVAL on a STOP_COPY-only revision; PRECOPY_INFO is ENOTTY there', () => {
  const { vfio } = source('debian-6.1.192');
  expect(vfio.setState('PRE_COPY')).toEqual({ ok: false, errno: 'EINVAL' });
  expect(vfio.getState()).toEqual({ ok: true, value: 'RUNNING' });
  const fd = fdOf(vfio.setState('STOP_COPY'));
  expect(fd.precopyInfo()).toEqual({ ok: false, errno: 'ENOTTY' });
});

// docs/reference.md#save-fd-read-semantics
test('offset-blind save read (v6.2): after the 40-byte precopy read, STOP_COPY returns bytes 0..135 again', () => {
  for (const [rev, blind] of [['v6.2', true], ['v6.8', false]] as const) {
    const { vfio } = source(rev);
    const fd = fdOf(vfio.setState('PRE_COPY'));
    const head = fd.read(40);
    vfio.setState('STOP_COPY');
    const rest = fd.read(1 << 20);
    if (!head.ok || !rest.ok) throw new Error('read failed');
    expect(rest.value.length).toBe(136);
    expect(Buffer.from(rest.value.subarray(0, 40)).equals(Buffer.from(head.value))).toBe(blind);
  }
});

// docs/reference.md#stream-length-by-situation
test('not-ready guest: STOP_COPY gives the 40-byte header only', () => {
  const { vfio } = source('v6.16', 'driver-unloaded');
  const fd = fdOf(vfio.setState('STOP_COPY'));
  expect(len(fd.read(1 << 20))).toBe(40);
  expect(len(fd.read(1 << 20))).toBe(0);
});

// docs/reference.md#resume-fd-write-semantics
test('resume fd: ENOMEM past 176, ENODEV after the session ends, EBADF on read', () => {
  const { vfio } = source('v6.16');
  const src = fdOf(vfio.setState('STOP_COPY'));
  const bytes = src.read(1 << 20);
  if (!bytes.ok) throw new Error('read');
  vfio.setState('STOP');
  const fd = fdOf(vfio.setState('RESUMING'));
  expect(fd.read(4)).toEqual({ ok: false, errno: 'EBADF' });
  expect(fd.write(new Uint8Array(177))).toEqual({ ok: false, errno: 'ENOMEM' });
  expect(fd.write(bytes.value)).toEqual({ ok: true, value: 176 });
  expect(fd.write(new Uint8Array(1))).toEqual({ ok: false, errno: 'ENOMEM' });
  expect(vfio.setState('STOP').ok).toBe(true);
  expect(fd.write(new Uint8Array(0))).toEqual({ ok: false, errno: 'ENODEV' });
});

// docs/reference.md#device-feature-ioctl, docs/reference.md#the-cores-next-step-table
test('ERROR is never requestable; failed SET leaves the intermediate state', () => {
  const { vfio, dev } = source('v5.18');
  expect(vfio.setState('ERROR')).toEqual({ ok: false, errno: 'EINVAL' });
  dev.faults.cacheWbNeverDone = true; // v5.18 writes back during the save: STOP→STOP_COPY fails
  expect(vfio.setState('STOP_COPY')).toEqual({ ok: false, errno: 'EINVAL' });
  expect(vfio.getState()).toEqual({ ok: true, value: 'STOP' });
  const r16 = source('v6.16');
  r16.dev.faults.cacheWbNeverDone = true; // v6.16 writes back during the stop: RUNNING→STOP fails
  expect(r16.vfio.setState('STOP_COPY')).toEqual({ ok: false, errno: 'ETIMEDOUT' });
  expect(r16.vfio.getState()).toEqual({ ok: true, value: 'RUNNING' });
});

// docs/reference.md#reset-handling
test('reset_done gate: v6.16 (flags 0x5) keeps the state, v7.0 returns to RUNNING', () => {
  for (const [rev, after] of [['v6.16', 'STOP'], ['v7.0', 'RUNNING'], ['v5.18', 'RUNNING']] as const) {
    const { vfio } = source(rev);
    vfio.setState('STOP');
    expect(vfio.reset()).toEqual({ ok: true, value: undefined });
    expect(vfio.getState()).toEqual({ ok: true, value: after });
  }
});

// docs/reference.md#bugfix-the-problem-of-uninstalling-driver
test('close releases the save fd from v6.16, not before', () => {
  for (const [rev, after] of [['v6.8', 40], ['v6.16', 'ENODEV']] as const) {
    const { vfio } = source(rev);
    const fd = fdOf(vfio.setState('PRE_COPY'));
    vfio.close();
    const r = fd.read(1 << 20);
    expect(r.ok ? r.value.length : r.errno).toBe(after);
  }
});
