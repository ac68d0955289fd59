// Opening a VFIO device both ways (docs/reference.md#ioctl-numbers-and-device-opening): the legacy
// group/container path and the iommufd character-device path. Each step that fails closes what the earlier
// steps opened and throws an OpenError naming the step and errno, with the advice a lab engineer needs.
import type { ErrnoName } from '../../util/errno.ts';
import { KernelVfioDevice, type CallObserver } from './device.ts';
import { O_CLOEXEC, O_RDWR, type Libc } from './libc.ts';
import { argszBuf, IOCTL, STRUCTS, VFIO_API_VERSION, VFIO_GROUP_FLAGS, VFIO_TYPE1v2_IOMMU } from './uapi.ts';

export class OpenError extends Error {
  override name = 'OpenError';
  constructor(readonly step: string, readonly errno: ErrnoName | null, message: string) {
    super(message);
  }
}

export type OpenPath = { via: 'group'; group: number } | { via: 'cdev'; cdev: number };

function advice(path: string, e: ErrnoName): string {
  if (e === 'ENOENT') {
    if (path === '/dev/iommu') return `${path} is missing: the kernel has no iommufd (CONFIG_IOMMUFD) or it is not loaded; try --via group`;
    if (path.startsWith('/dev/vfio/devices')) return `${path} is missing: the kernel has no VFIO cdev support (CONFIG_VFIO_DEVICE_CDEV, 6.6+); try --via group`;
    return `${path} is missing: is the vfio module loaded and the device bound to a VFIO driver?`;
  }
  if (e === 'EACCES' || e === 'EPERM') return `permission denied opening ${path}: run as root or give this user access to ${path}`;
  if (e === 'EBUSY') return `${path} is busy: another process (QEMU?) holds the VFIO group`;
  return `cannot open ${path}: ${e}`;
}

export function openDevice(libc: Libc, bdf: string, path: OpenPath, observe?: CallObserver): KernelVfioDevice {
  return path.via === 'group' ? openViaGroup(libc, bdf, path.group, observe) : openViaCdev(libc, bdf, path.cdev, observe);
}

class Opened {
  readonly fds: number[] = [];
  constructor(private readonly libc: Libc) {}
  open(path: string, step: string): number {
    const fd = this.libc.open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) this.abort(step, this.libc.errno() as ErrnoName, advice(path, this.libc.errno() as ErrnoName));
    this.fds.push(fd);
    return fd;
  }
  /** ioctl that must succeed; returns its non-negative result */
  must(r: number, step: string, what: string): number {
    if (r < 0) {
      const e = this.libc.errno() as ErrnoName;
      this.abort(step, e, `${what}: ${e}`);
    }
    return r;
  }
  abort(step: string, errno: ErrnoName | null, message: string): never {
    for (const fd of this.fds.reverse()) this.libc.close(fd);
    throw new OpenError(step, errno, message);
  }
}

function openViaGroup(libc: Libc, bdf: string, group: number, observe?: CallObserver): KernelVfioDevice {
  const o = new Opened(libc);
  const container = o.open('/dev/vfio/vfio', 'open-container');
  const api = o.must(libc.ioctlVal(container, IOCTL.VFIO_GET_API_VERSION, 0), 'api-version', 'VFIO_GET_API_VERSION');
  if (api !== VFIO_API_VERSION) o.abort('api-version', null, `unknown VFIO API version ${api}`);
  if (o.must(libc.ioctlVal(container, IOCTL.VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU), 'check-extension', 'VFIO_CHECK_EXTENSION') <= 0)
    o.abort('check-extension', null, 'the VFIO container does not support the Type1 v2 IOMMU');
  const groupFd = o.open(`/dev/vfio/${group}`, 'open-group');
  const st = argszBuf(STRUCTS.group_status);
  o.must(libc.ioctlPtr(groupFd, IOCTL.VFIO_GROUP_GET_STATUS, st), 'group-status', 'VFIO_GROUP_GET_STATUS');
  if (!(st.readUInt32LE(4) & VFIO_GROUP_FLAGS.VIABLE))
    o.abort('group-status', null, `IOMMU group ${group} is not viable: bind every device in the group to a VFIO driver`);
  const cfd = Buffer.alloc(4);
  cfd.writeInt32LE(container, 0);
  o.must(libc.ioctlPtr(groupFd, IOCTL.VFIO_GROUP_SET_CONTAINER, cfd), 'set-container', 'VFIO_GROUP_SET_CONTAINER');
  o.must(libc.ioctlVal(container, IOCTL.VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU), 'set-iommu', 'VFIO_SET_IOMMU');
  const name = Buffer.from(`${bdf}\0`, 'latin1');
  const fd = o.must(libc.ioctlPtr(groupFd, IOCTL.VFIO_GROUP_GET_DEVICE_FD, name), 'get-device-fd', `VFIO_GROUP_GET_DEVICE_FD ${bdf}`);
  // the device fd holds the group and container; we still close them after it, newest first
  return new KernelVfioDevice(libc, bdf, fd, [groupFd, container], observe);
}

function openViaCdev(libc: Libc, bdf: string, cdev: number, observe?: CallObserver): KernelVfioDevice {
  const o = new Opened(libc);
  const iommufd = o.open('/dev/iommu', 'open-iommufd');
  const ioas = argszBuf(STRUCTS.ioas_alloc);
  o.must(libc.ioctlPtr(iommufd, IOCTL.IOMMU_IOAS_ALLOC, ioas), 'ioas-alloc', 'IOMMU_IOAS_ALLOC');
  const ioasId = ioas.readUInt32LE(8);
  const fd = o.open(`/dev/vfio/devices/vfio${cdev}`, 'open-cdev');
  const bind = argszBuf(STRUCTS.bind_iommufd);
  bind.writeInt32LE(iommufd, 8);
  o.must(libc.ioctlPtr(fd, IOCTL.VFIO_DEVICE_BIND_IOMMUFD, bind), 'bind-iommufd', 'VFIO_DEVICE_BIND_IOMMUFD');
  const attach = argszBuf(STRUCTS.attach_iommufd_pt);
  attach.writeUInt32LE(ioasId, 8);
  o.must(libc.ioctlPtr(fd, IOCTL.VFIO_DEVICE_ATTACH_IOMMUFD_PT, attach), 'attach-pt', 'VFIO_DEVICE_ATTACH_IOMMUFD_PT');
  o.fds.splice(o.fds.indexOf(fd), 1);
  return new KernelVfioDevice(libc, bdf, fd, [iommufd], observe);
}
