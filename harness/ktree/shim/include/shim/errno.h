/* Linux errno numbers (asm-generic), as the driver returns them negated. */
#ifndef MIGCOMPAT_SHIM_ERRNO_H
#define MIGCOMPAT_SHIM_ERRNO_H
#define EPERM 1
#define ENOENT 2
#define EINTR 4
#define EIO 5
#define ENXIO 6
#define E2BIG 7
#define EBADF 9
#define EAGAIN 11
#define ENOMEM 12
#define EACCES 13
#define EFAULT 14
#define EBUSY 16
#define EEXIST 17
#define ENODEV 19
#define EINVAL 22
#define ENOTTY 25
#define EFBIG 27
#define ENOSPC 28
#define ESPIPE 29
#define ERANGE 34
#define ENOMSG 42
#define ENODATA 61
#define EOVERFLOW 75
#define EOPNOTSUPP 95
#define ETIMEDOUT 110
#define ENOIOCTLCMD 515
#define ENOTSUPP 524
#endif
