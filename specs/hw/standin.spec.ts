// The kernel backend end to end against the user-space stand-in: both open paths, the uAPI's
// argument checks and errnos, data-fd semantics and fd lifetimes, all through koffi and real fds.
import { test, expect } from '@playwright/test';
import { openDevice } from '../../harness/vfio/kernel/open.ts';
import { O_CLOEXEC, O_RDWR, POLLIN, POLLOUT } from '../../harness/vfio/kernel/libc.ts';
import { FEATURE_FLAG, FEATURE_ID, featureBuf, IOCTL, STRUCTS, argszBuf } from '../../harness/vfio/kernel/uapi.ts';
import { KernelVfioDevice } from '../../harness/vfio/kernel/device.ts';
import { standin, VF_A } from './fixtures.ts';

const A = { bdf: VF_A, group: 12, cdev: 3 };

for (const via of ['group', 'cdev'] as const) {
  test(`save and resume through the ${via} path`, () => {
    const { host, models } = standin([A]);
    const dev = openDevice(host.libc, VF_A, via === 'group' ? { via, group: 12 } : { via, cdev: 3 });
    expect(dev.migrationFlags()).toEqual({ ok: true, value: 5 });
    expect(dev.getState()).toEqual({ ok: true, value: 'RUNNING' });
    expect(dev.dataSize()).toEqual({ ok: true, value: 176n });
    const pre = dev.setState('PRE_COPY');
    if (!pre.ok || !pre.value.dataFd) throw new Error(`PRE_COPY failed: ${JSON.stringify(pre)}`);
    const fd = pre.value.dataFd;
    expect(fd.precopyInfo()).toEqual({ ok: true, value: { initialBytes: 40n, dirtyBytes: 0n } });
    const head = fd.read(4096);
    expect(head.ok && head.value.length).toBe(40);
    expect(fd.precopyInfo()).toEqual({ ok: true, value: { initialBytes: 0n, dirtyBytes: 0n } });
    expect(dev.setState('STOP_COPY')).toEqual({ ok: true, value: { dataFd: null } }); // same fd continues
    const body = fd.read(4096);
    expect(body.ok && body.value.length).toBe(136);
    expect(fd.read(4096)).toEqual({ ok: true, value: new Uint8Array(0) });
    // PRECOPY_INFO is only valid in PRE_COPY states
    expect(fd.precopyInfo()).toEqual({ ok: false, errno: 'EINVAL' });
    const image = models.get(VF_A)![0].image();
    expect(Buffer.concat([head.ok ? head.value : [], body.ok ? body.value : []] as Uint8Array[])).toEqual(Buffer.from(image));
    fd.close();
    const res = dev.setState('RESUMING');
    expect(dev.getState()).toEqual({ ok: true, value: 'RESUMING' });
    dev.close();
    expect(host.openFdCount()).toBe(1); // the resume fd is a real fd until closed
    if (res.ok) res.value.dataFd?.close();
    expect(host.openFdCount()).toBe(0);
    expect(host.errors).toEqual([]);
  });
}

test('VFIO_DEVICE_FEATURE argument checks run in the core order with the core errnos', () => {
  const { host } = standin([A]);
  const dev = openDevice(host.libc, VF_A, { via: 'group', group: 12 });
  const call = (b: Buffer | null) => (host.libc.ioctlPtr(dev.fd, IOCTL.VFIO_DEVICE_FEATURE, b) < 0 ? host.libc.errno() : 'ok');
  const raw = (argsz: number, flags: number, len = 16) => {
    const b = Buffer.alloc(len);
    b.writeUInt32LE(argsz, 0);
    b.writeUInt32LE(flags >>> 0, 4);
    return b;
  };
  const { GET, SET, PROBE } = FEATURE_FLAG;
  expect(call(null)).toBe('EFAULT');
  expect(call(raw(7, GET | FEATURE_ID.MIGRATION))).toBe('EINVAL'); // argsz < 8
  expect(call(raw(16, GET | FEATURE_ID.MIGRATION | 0x80000))).toBe('EINVAL'); // unknown flag bit
  expect(call(raw(16, GET | SET | FEATURE_ID.MIG_DEVICE_STATE))).toBe('EINVAL'); // GET|SET without PROBE
  expect(call(raw(16, GET | SET | PROBE | FEATURE_ID.MIG_DEVICE_STATE))).toBe('ok'); // …allowed with PROBE
  expect(call(raw(8, PROBE | GET | FEATURE_ID.MIGRATION))).toBe('ok'); // probe needs no payload
  expect(call(raw(8, PROBE | SET | FEATURE_ID.MIGRATION))).toBe('EINVAL'); // MIGRATION is GET only
  expect(call(raw(8, FEATURE_ID.MIGRATION))).toBe('EINVAL'); // neither GET nor SET
  expect(call(raw(15, GET | FEATURE_ID.MIGRATION))).toBe('EINVAL'); // payload 7 < 8
  expect(call(raw(16, GET | 0x1234))).toBe('ENOTTY'); // unknown feature id
  // a correct GET writes the flags into data[]
  const b = featureBuf(GET | FEATURE_ID.MIGRATION, 8);
  expect(call(b)).toBe('ok');
  expect(b.readBigUInt64LE(8)).toBe(5n);
  // SET of a state outside the enum: EINVAL, and data_fd written back as -1
  const s = featureBuf(SET | FEATURE_ID.MIG_DEVICE_STATE, 8);
  s.writeUInt32LE(42, 8);
  s.writeInt32LE(7, 12);
  expect(call(s)).toBe('EINVAL');
  expect(s.readInt32LE(12)).toBe(-1);
  // ERROR is never reachable by request
  expect(dev.setState('ERROR')).toEqual({ ok: false, errno: 'EINVAL' });
  expect(dev.getState()).toEqual({ ok: true, value: 'RUNNING' });
  dev.close();
});

test('a device without PRE_COPY refuses PRE_COPY and its data fd has no PRECOPY_INFO', () => {
  const { host } = standin([{ ...A, fake: { flags: 1 } }]);
  const dev = openDevice(host.libc, VF_A, { via: 'group', group: 12 });
  expect(dev.setState('PRE_COPY')).toEqual({ ok: false, errno: 'EINVAL' });
  const sc = dev.setState('STOP_COPY');
  if (!sc.ok || !sc.value.dataFd) throw new Error('no STOP_COPY fd');
  expect(sc.value.dataFd.precopyInfo()).toEqual({ ok: false, errno: 'ENOTTY' });
  // a short argsz on a device that has the ioctl is EINVAL; without it ENOTTY whatever the argsz
  const short = Buffer.alloc(24);
  short.writeUInt32LE(16, 0);
  expect(host.libc.ioctlPtr(sc.value.dataFd.fd, IOCTL.VFIO_MIG_GET_PRECOPY_INFO, short)).toBe(-1);
  expect(host.libc.errno()).toBe('ENOTTY');
  sc.value.dataFd.close();
  dev.close();
});

test('data fds: O_CLOEXEC, stream semantics (ESPIPE), direction (EBADF), poll, ENOMEM past the struct', () => {
  const { host } = standin([A]);
  const dev = openDevice(host.libc, VF_A, { via: 'cdev', cdev: 3 });
  expect(host.libc.cloexec(dev.fd)).toBe(1);
  const sc = dev.setState('STOP_COPY');
  if (!sc.ok || !sc.value.dataFd) throw new Error('no fd');
  const save = sc.value.dataFd;
  expect(host.fdKind(save.fd)).toBe(5);
  expect(host.libc.cloexec(save.fd)).toBe(1);
  expect(host.libc.pread(save.fd, Buffer.alloc(8), 8, 0)).toBe(-1);
  expect(host.libc.errno()).toBe('ESPIPE');
  expect(save.write(new Uint8Array(4))).toEqual({ ok: false, errno: 'EBADF' }); // save fd is O_RDONLY
  expect(host.libc.poll1(save.fd, POLLIN, 0) & POLLIN).toBe(POLLIN);
  expect(host.libc.ioctlPtr(save.fd, IOCTL.VFIO_DEVICE_FEATURE, Buffer.alloc(16))).toBe(-1);
  expect(host.libc.errno()).toBe('ENOTTY'); // only PRECOPY_INFO exists on a data fd
  save.close();
  const res = dev.setState('RESUMING'); // STOP_COPY→STOP→RESUMING: a new session, write-only
  if (!res.ok || !res.value.dataFd) throw new Error('no resume fd');
  expect(host.fdKind(res.value.dataFd.fd)).toBe(5);
  res.value.dataFd.close();
  dev.close();
  expect(host.openFdCount()).toBe(0);
});

test('resume fd: writes past 176 bytes are ENOMEM, a bad header is refused at write (EFAULT), reads are EBADF', () => {
  const { host } = standin([A]);
  const dev = openDevice(host.libc, VF_A, { via: 'group', group: 12 });
  const r = dev.setState('RESUMING');
  if (!r.ok || !r.value.dataFd) throw new Error('no resume fd');
  const fd = r.value.dataFd;
  expect(fd.read(16)).toEqual({ ok: false, errno: 'EBADF' });
  expect(host.libc.pwrite(fd.fd, Buffer.alloc(1), 1, 0)).toBe(-1);
  expect(host.libc.errno()).toBe('ESPIPE');
  expect(host.libc.poll1(fd.fd, POLLOUT, 0) & POLLOUT).toBe(POLLOUT);
  expect(fd.write(new Uint8Array(177))).toEqual({ ok: false, errno: 'ENOMEM' });
  expect(fd.write(new Uint8Array(40))).toEqual({ ok: false, errno: 'EFAULT' }); // zero magic
  fd.close();
  expect(dev.reset()).toEqual({ ok: true, value: undefined });
  expect(dev.getState()).toEqual({ ok: true, value: 'RUNNING' });
  dev.close();
});

test('fd lifetimes: the device outlives its group and container fds; the data fd outlives the device fd', () => {
  const { host, models } = standin([A]);
  const libc = host.libc;
  const container = libc.open('/dev/vfio/vfio', O_RDWR | O_CLOEXEC);
  const group = libc.open('/dev/vfio/12', O_RDWR);
  expect(libc.cloexec(group)).toBe(0); // O_CLOEXEC honoured only when asked for
  // a second open of the same group is EBUSY
  expect(libc.open('/dev/vfio/12', O_RDWR)).toBe(-1);
  expect(libc.errno()).toBe('EBUSY');
  const name = Buffer.from(`${VF_A}\0`);
  // no container yet → EINVAL; container without IOMMU → EINVAL
  expect(libc.ioctlPtr(group, IOCTL.VFIO_GROUP_GET_DEVICE_FD, name)).toBe(-1);
  expect(libc.errno()).toBe('EINVAL');
  expect(libc.ioctlVal(container, IOCTL.VFIO_SET_IOMMU, 3)).toBe(-1); // no group attached yet
  expect(libc.errno()).toBe('EINVAL');
  const cfd = Buffer.alloc(4);
  cfd.writeInt32LE(group, 0); // a group fd is not a container
  expect(libc.ioctlPtr(group, IOCTL.VFIO_GROUP_SET_CONTAINER, cfd)).toBe(-1);
  expect(libc.errno()).toBe('EINVAL');
  cfd.writeInt32LE(container, 0);
  expect(libc.ioctlPtr(group, IOCTL.VFIO_GROUP_SET_CONTAINER, cfd)).toBe(0);
  const st = argszBuf(STRUCTS.group_status);
  expect(libc.ioctlPtr(group, IOCTL.VFIO_GROUP_GET_STATUS, st)).toBe(0);
  expect(st.readUInt32LE(4)).toBe(3); // VIABLE | CONTAINER_SET
  expect(libc.ioctlPtr(group, IOCTL.VFIO_GROUP_GET_DEVICE_FD, name)).toBe(-1);
  expect(libc.errno()).toBe('EINVAL');
  expect(libc.ioctlVal(container, IOCTL.VFIO_SET_IOMMU, 3)).toBe(0);
  expect(libc.ioctlPtr(group, IOCTL.VFIO_GROUP_GET_DEVICE_FD, Buffer.from('0000:00:00.0\0'))).toBe(-1);
  expect(libc.errno()).toBe('ENODEV');
  const devFd = libc.ioctlPtr(group, IOCTL.VFIO_GROUP_GET_DEVICE_FD, name);
  expect(devFd).toBeGreaterThan(0);
  expect(libc.cloexec(devFd)).toBe(1);
  libc.close(group);
  libc.close(container);
  const dev = new KernelVfioDevice(libc, VF_A, devFd);
  const sc = dev.setState('STOP_COPY');
  if (!sc.ok || !sc.value.dataFd) throw new Error('no fd');
  const fd = sc.value.dataFd;
  dev.close(); // close_device: the driver disables its sessions
  expect(models.get(VF_A)![0].closed).toBe(true);
  expect(host.fdKind(fd.fd)).toBe(5); // still an open fd …
  expect(fd.read(16)).toEqual({ ok: false, errno: 'ENODEV' }); // … whose session is gone
  fd.close();
  expect(libc.close(fd.fd)).toBe(-1);
  expect(libc.errno()).toBe('EBADF');
  expect(host.openFdCount()).toBe(0);
});

test('cdev path: device access is refused before BIND_IOMMUFD; bind checks its arguments', () => {
  const { host } = standin([A]);
  const libc = host.libc;
  const fd = libc.open('/dev/vfio/devices/vfio3', O_RDWR | O_CLOEXEC);
  expect(fd).toBeGreaterThan(0);
  expect(libc.ioctlPtr(fd, IOCTL.VFIO_DEVICE_FEATURE, featureBuf(FEATURE_FLAG.GET | FEATURE_ID.MIGRATION, 8))).toBe(-1);
  expect(libc.errno()).toBe('EINVAL');
  const bind = argszBuf(STRUCTS.bind_iommufd);
  bind.writeInt32LE(fd, 8); // not an iommufd
  expect(libc.ioctlPtr(fd, IOCTL.VFIO_DEVICE_BIND_IOMMUFD, bind)).toBe(-1);
  expect(libc.errno()).toBe('EBADFD');
  const iommufd = libc.open('/dev/iommu', O_RDWR);
  bind.writeInt32LE(iommufd, 8);
  bind.writeUInt32LE(12, 0); // argsz too small
  expect(libc.ioctlPtr(fd, IOCTL.VFIO_DEVICE_BIND_IOMMUFD, bind)).toBe(-1);
  expect(libc.errno()).toBe('EINVAL');
  bind.writeUInt32LE(16, 0);
  expect(libc.ioctlPtr(fd, IOCTL.VFIO_DEVICE_BIND_IOMMUFD, bind)).toBe(0);
  expect(bind.readUInt32LE(12)).toBeGreaterThan(0); // out_devid
  const attach = argszBuf(STRUCTS.attach_iommufd_pt);
  attach.writeUInt32LE(99, 8); // no such IOAS
  expect(libc.ioctlPtr(fd, IOCTL.VFIO_DEVICE_ATTACH_IOMMUFD_PT, attach)).toBe(-1);
  expect(libc.errno()).toBe('ENOENT');
  expect(libc.ioctlPtr(fd, IOCTL.VFIO_DEVICE_FEATURE, featureBuf(FEATURE_FLAG.GET | FEATURE_ID.MIGRATION, 8))).toBe(0);
  libc.close(fd);
  libc.close(iommufd);
  expect(libc.open('/dev/vfio/devices/vfio9', O_RDWR)).toBe(-1);
  expect(libc.errno()).toBe('ENOENT');
});

test('calls on ordinary files pass through the stand-in to the kernel', () => {
  const { host } = standin([A]);
  const fd = host.libc.open('/proc/self/stat', 0);
  expect(fd).toBeGreaterThan(0);
  expect(host.fdKind(fd)).toBe(0);
  const b = Buffer.alloc(64);
  expect(host.libc.read(fd, b, 64)).toBeGreaterThan(0);
  expect(host.libc.close(fd)).toBe(0);
  expect(host.libc.open('/nonexistent/x', 0)).toBe(-1);
  expect(host.libc.errno()).toBe('ENOENT');
});
