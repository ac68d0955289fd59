// Linux errno names and numbers used across the harness. Errors travel by name (readable in
// evidence and JSON) and convert to numbers only at the FFI boundary.
export const ERRNO = {
  EPERM: 1, ENOENT: 2, EIO: 5, EBADF: 9, EAGAIN: 11, ENOMEM: 12, EACCES: 13, EFAULT: 14, EBUSY: 16,
  ENODEV: 19, EINVAL: 22, ENOTTY: 25, ESPIPE: 29, ENOMSG: 42, ETIMEDOUT: 110,
  ENXIO: 6, EEXIST: 17, ENOSYS: 38, EBADFD: 77, EOPNOTSUPP: 95,
} as const;

export type ErrnoName = keyof typeof ERRNO;

const BY_NUMBER = new Map<number, ErrnoName>(Object.entries(ERRNO).map(([k, v]) => [v, k as ErrnoName]));

export function errnoName(n: number): ErrnoName | `E${number}` {
  return BY_NUMBER.get(Math.abs(n)) ?? (`E${Math.abs(n)}` as `E${number}`);
}

export function errnoNumber(name: ErrnoName): number {
  return ERRNO[name];
}

/** Result of one uAPI call: a value, or the errno the kernel (or model) returned. */
export type IoResult<T> = { ok: true; value: T } | { ok: false; errno: ErrnoName };

export const ok = <T>(value: T): IoResult<T> => ({ ok: true, value });
export const fail = <T = never>(errno: ErrnoName): IoResult<T> => ({ ok: false, errno });
