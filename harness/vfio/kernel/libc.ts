// The handful of libc calls the kernel backend makes, bound with koffi from one library handle:
// the real libc on a host, or the stand-in library (standin/standin.c) in tests, which exports the
// same symbols for fake VFIO fds. Every call returns the raw result; errno is read right after.
import koffi from 'koffi';
import { errnoName, type ErrnoName } from '../../util/errno.ts';

export const O_RDONLY = 0o0;
export const O_WRONLY = 0o1;
export const O_RDWR = 0o2;
export const O_CLOEXEC = 0o2000000;
export const POLLIN = 0x1;
export const POLLOUT = 0x4;

export interface Libc {
  /** where the symbols come from (for messages) */
  readonly path: string;
  open(path: string, flags: number): number;
  close(fd: number): number;
  read(fd: number, buf: Buffer, len: number): number;
  write(fd: number, buf: Buffer | Uint8Array, len: number): number;
  pread(fd: number, buf: Buffer, len: number, off: number): number;
  pwrite(fd: number, buf: Buffer | Uint8Array, len: number, off: number): number;
  /** ioctl with a pointer argument: the kernel reads and writes back into `arg` */
  ioctlPtr(fd: number, req: number, arg: Buffer | null): number;
  /** ioctl with an integer argument (VFIO_CHECK_EXTENSION, VFIO_SET_IOMMU) or none */
  ioctlVal(fd: number, req: number, arg: number): number;
  /** poll one fd; returns revents, 0 on timeout, -1 on error */
  poll1(fd: number, events: number, timeoutMs: number): number;
  /** FD_CLOEXEC bit of the fd (fcntl F_GETFD), -1 if not an fd */
  cloexec(fd: number): number;
  errno(): ErrnoName | `E${number}`;
}

const cache = new Map<string, Libc>();

/** Bind the libc functions from `path` (default: the system libc). One binding per path per process. */
export function loadLibc(path = 'libc.so.6'): Libc {
  const hit = cache.get(path);
  if (hit) return hit;
  const lib = koffi.load(path);
  const open = lib.func('int open(const char *path, int flags, int mode)');
  const close = lib.func('int close(int fd)');
  const read = lib.func('long read(int fd, _Out_ uint8_t *buf, unsigned long len)');
  const write = lib.func('long write(int fd, const uint8_t *buf, unsigned long len)');
  const pread = lib.func('long pread(int fd, _Out_ uint8_t *buf, unsigned long len, long off)');
  const pwrite = lib.func('long pwrite(int fd, const uint8_t *buf, unsigned long len, long off)');
  const ioctlPtr = lib.func('int ioctl(int fd, unsigned long req, _Inout_ uint8_t *arg)');
  const ioctlVal = lib.func('ioctl', 'int', ['int', 'unsigned long', 'unsigned long']);
  const poll = lib.func('int poll(_Inout_ uint8_t *fds, unsigned long nfds, int timeout)');
  const fcntl = lib.func('int fcntl(int fd, int cmd, long arg)');
  const F_GETFD = 1;
  const libc: Libc = {
    path,
    open: (p, flags) => open(p, flags, 0),
    close: (fd) => close(fd),
    read: (fd, buf, len) => Number(read(fd, buf, len)),
    write: (fd, buf, len) => Number(write(fd, buf, len)),
    pread: (fd, buf, len, off) => Number(pread(fd, buf, len, off)),
    pwrite: (fd, buf, len, off) => Number(pwrite(fd, buf, len, off)),
    ioctlPtr: (fd, req, arg) => ioctlPtr(fd, req, arg),
    ioctlVal: (fd, req, arg) => ioctlVal(fd, req, arg),
    poll1: (fd, events, timeoutMs) => {
      // struct pollfd { int fd; short events; short revents; }
      const b = Buffer.alloc(8);
      b.writeInt32LE(fd, 0);
      b.writeInt16LE(events, 4);
      const r = poll(b, 1, timeoutMs);
      return r < 0 ? -1 : r === 0 ? 0 : b.readInt16LE(6);
    },
    cloexec: (fd) => {
      const r = fcntl(fd, F_GETFD, 0);
      return r < 0 ? -1 : r & 1;
    },
    errno: () => errnoName(koffi.errno()),
  };
  cache.set(path, libc);
  return libc;
}
