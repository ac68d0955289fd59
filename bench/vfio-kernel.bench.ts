// Kernel backend cost through koffi and the stand-in library: one VFIO_DEVICE_FEATURE GET round
// trip (C checks + JS callback), and a whole capture + load cycle of a 176-byte stream.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDevice } from '../harness/vfio/kernel/open.ts';
import { StandinHost } from '../harness/vfio/kernel/standin/host.ts';
import { FakeHisiDevice } from '../harness/vfio/kernel/standin/fake-device.ts';
import { capture, load } from '../harness/runners/vfio-host/ops.ts';
import { measure, peakRssMiB, report } from './util.ts';
import { fakeSysfs } from '../specs/hw/fixtures.ts';

const t0 = process.hrtime.bigint();
const host = StandinHost.get();
report('stand-in build+load (cached after first)', Number(process.hrtime.bigint() - t0) / 1e6, 'ms');
host.reset();
const bdf = '0000:75:00.1';
host.addDevice({ bdf, group: 12, cdev: 3, open: () => new FakeHisiDevice({ name: bdf }) });
const dev = openDevice(host.libc, bdf, { via: 'group', group: 12 });
measure('VFIO_DEVICE_FEATURE GET MIG_DEVICE_STATE', () => {
  if (!dev.getState().ok) throw new Error('getState failed');
}, { unit: 'calls/s' });
measure('save session (PRE_COPY, 2 reads, STOP_COPY, RUNNING)', () => {
  const r = dev.setState('PRE_COPY');
  if (!r.ok || !r.value.dataFd) throw new Error('no fd');
  r.value.dataFd.read(4096);
  dev.setState('STOP_COPY');
  r.value.dataFd.read(4096);
  r.value.dataFd.close();
  dev.setState('RUNNING');
}, { unit: 'sessions/s' });
dev.close();
const ctx = {
  libc: host.libc,
  sysfsRoot: fakeSysfs([{ bdf, driver: 'hisi_acc_vfio_pci', group: 12, cdev: 3 }]),
  lockDir: mkdtempSync(join(tmpdir(), 'mc-bench-lock-')),
};
measure('capture + load cycle (sysfs, lock, open, save, resume, recover, close)', () => {
  const c = capture(ctx, bdf);
  if (load(ctx, bdf, c.stream, 'chunks:40,136').verdict.outcome !== 'migrated') throw new Error('not migrated');
}, { unit: 'cycles/s', seconds: 2 });
report('peak RSS', peakRssMiB(), 'MiB');
