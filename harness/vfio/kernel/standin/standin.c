/*
 * migcompat VFIO stand-in: a shared library exporting open/close/read/write/pread/pwrite/ioctl/poll
 * that speaks the VFIO and iommufd fd protocol for fake /dev/vfio/... and /dev/iommu paths, so the
 * kernel backend's marshalling, errno handling and fd lifetimes run for real without hardware.
 *
 * What the kernel core does (argument sizes, flag checks and their order, fd kinds, access modes,
 * O_CLOEXEC, ESPIPE, group/container/iommufd bookkeeping) is done here in C. What the device driver
 * does (state arcs, stream bytes, precopy info, data size, reset) is forwarded to JavaScript through
 * callbacks registered with koffi, which drive a simulated VfioDevice.
 *
 * Every fake fd is backed by a real eventfd so fd numbers are unique, fcntl works, and a leaked fd is
 * a real leak. Other paths and fds go straight to the kernel through syscall().
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/vfio.h>

/* Numbers newer than the 6.1 uapi header: docs/reference.md#ioctl-numbers-and-device-opening (checked by specs/hw/header.spec.ts). */
#define SI_VFIO_DEVICE_BIND_IOMMUFD 0x3B76
#define SI_VFIO_DEVICE_ATTACH_IOMMUFD_PT 0x3B77
#define SI_VFIO_DEVICE_DETACH_IOMMUFD_PT 0x3B78
#define SI_VFIO_MIG_GET_PRECOPY_INFO 0x3B79
#define SI_IOMMU_IOAS_ALLOC 0x3B81
#define SI_FEATURE_MIG_DATA_SIZE 9

typedef int (*cb_open_t)(int dev);
typedef void (*cb_close_t)(int dev);
typedef int64_t (*cb_query_t)(int dev, int what);
typedef int (*cb_set_state_t)(int dev, uint32_t target);
typedef int (*cb_reset_t)(int dev);
typedef int64_t (*cb_read_t)(int session, uint8_t *buf, uint64_t len);
typedef int64_t (*cb_write_t)(int session, const uint8_t *buf, uint64_t len);
typedef int (*cb_precopy_t)(int session, int argsz_ok, uint8_t *out16);
typedef void (*cb_data_close_t)(int session);

static struct {
	cb_open_t open;
	cb_close_t close;
	cb_query_t query;
	cb_set_state_t set_state;
	cb_reset_t reset;
	cb_read_t read;
	cb_write_t write;
	cb_precopy_t precopy;
	cb_data_close_t data_close;
} cb;

enum kind { K_NONE, K_CONTAINER, K_GROUP, K_DEVICE, K_IOMMUFD, K_DATA };

#define MAX_FD 4096
#define MAX_DEV 64
#define MAX_CONT 256

struct fdent {
	enum kind kind;
	int obj;      /* container index, group number, device index, iommufd index, session id */
	int accmode;  /* O_RDONLY / O_WRONLY / O_RDWR */
	int cdev;     /* device fd opened through /dev/vfio/devices: needs bind */
	int bound, attached, ioas_of; /* cdev state: iommufd index it is bound to */
};
struct dev {
	char name[64];
	int group, cdev, handle, used;
	int open_count;
};
struct container { int used, refs, iommu, groups; };
struct group { int number, open, container; };

static struct fdent fds[MAX_FD];
static struct dev devs[MAX_DEV];
static struct container conts[MAX_CONT];
static struct group groups[MAX_DEV];
static int ngroups;
static int next_ioas[MAX_FD];
static char fault_prefix[128];
static int fault_errno;
static long calls;

static int fail(int e) { errno = e; return -1; }

static int new_backing_fd(int cloexec)
{
	return (int)syscall(SYS_eventfd2, 0, cloexec ? EFD_CLOEXEC : 0);
}

static int alloc_fd(enum kind k, int obj, int accmode, int cloexec)
{
	int fd = new_backing_fd(cloexec);
	if (fd < 0) return -1;
	if (fd >= MAX_FD) { syscall(SYS_close, fd); return fail(EMFILE); }
	memset(&fds[fd], 0, sizeof(fds[fd]));
	fds[fd].kind = k;
	fds[fd].obj = obj;
	fds[fd].accmode = accmode;
	fds[fd].ioas_of = -1;
	return fd;
}

static struct fdent *fake(int fd)
{
	if (fd < 0 || fd >= MAX_FD || fds[fd].kind == K_NONE) return NULL;
	return &fds[fd];
}

static struct group *group_by_number(int n)
{
	for (int i = 0; i < ngroups; i++) if (groups[i].number == n) return &groups[i];
	return NULL;
}

/* ------------------------------------------------------------------ control (from JS) */

void standin_set_callbacks(cb_open_t o, cb_close_t c, cb_query_t q, cb_set_state_t s, cb_reset_t r,
			   cb_read_t rd, cb_write_t wr, cb_precopy_t pc, cb_data_close_t dc)
{
	cb.open = o; cb.close = c; cb.query = q; cb.set_state = s; cb.reset = r;
	cb.read = rd; cb.write = wr; cb.precopy = pc; cb.data_close = dc;
}

/* A VF named `name` ("0000:bb:dd.f") in IOMMU group `group`, reachable as /dev/vfio/devices/vfio<cdev>. */
int standin_add_device(const char *name, int group, int cdev, int handle)
{
	for (int i = 0; i < MAX_DEV; i++) {
		if (devs[i].used) continue;
		memset(&devs[i], 0, sizeof(devs[i]));
		strncpy(devs[i].name, name, sizeof(devs[i].name) - 1);
		devs[i].group = group; devs[i].cdev = cdev; devs[i].handle = handle; devs[i].used = 1;
		if (!group_by_number(group) && ngroups < MAX_DEV) {
			groups[ngroups].number = group; groups[ngroups].open = 0; groups[ngroups].container = -1;
			ngroups++;
		}
		return i;
	}
	return fail(ENOSPC);
}

/* open() of any path starting with `prefix` fails with `err` (0 clears): missing /dev/vfio, EACCES. */
void standin_set_open_fault(const char *prefix, int err)
{
	strncpy(fault_prefix, prefix ? prefix : "", sizeof(fault_prefix) - 1);
	fault_errno = err;
}

/* Kind of a fake fd (0 = not ours), for tests of fd lifetimes. */
int standin_fd_kind(int fd) { struct fdent *e = fake(fd); return e ? (int)e->kind : 0; }

int standin_open_fds(void)
{
	int n = 0;
	for (int i = 0; i < MAX_FD; i++) if (fds[i].kind != K_NONE) n++;
	return n;
}

long standin_calls(void) { return calls; }

/* Forget every device and close every fake fd (between tests). */
void standin_reset_all(void)
{
	for (int i = 0; i < MAX_FD; i++) if (fds[i].kind != K_NONE) { fds[i].kind = K_NONE; syscall(SYS_close, i); }
	memset(devs, 0, sizeof(devs)); memset(conts, 0, sizeof(conts)); memset(groups, 0, sizeof(groups));
	memset(next_ioas, 0, sizeof(next_ioas));
	ngroups = 0; fault_prefix[0] = 0; fault_errno = 0; calls = 0;
}

/* ------------------------------------------------------------------ open / close */

static int device_first_open(struct dev *d)
{
	if (d->open_count == 0 && cb.open) {
		int r = cb.open(d->handle);
		if (r < 0) return fail(-r);
	}
	d->open_count++;
	return 0;
}

static void device_last_close(struct dev *d)
{
	if (--d->open_count == 0 && cb.close) cb.close(d->handle);
}

int open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	if (flags & (O_CREAT | __O_TMPFILE)) {
		va_list ap; va_start(ap, flags); mode = va_arg(ap, mode_t); va_end(ap);
	}
	calls++;
	const char *volatile checked = path; /* glibc declares path nonnull; a caller may still pass NULL */
	if (!checked) return fail(EFAULT);
	int ours = strncmp(path, "/dev/vfio/", 10) == 0 || strcmp(path, "/dev/vfio") == 0 || strcmp(path, "/dev/iommu") == 0;
	if (!ours) return (int)syscall(SYS_openat, AT_FDCWD, path, flags, mode);
	if (fault_errno && strncmp(path, fault_prefix, strlen(fault_prefix)) == 0) return fail(fault_errno);
	int acc = flags & O_ACCMODE, cloexec = !!(flags & O_CLOEXEC);
	if (strcmp(path, "/dev/vfio/vfio") == 0) {
		for (int i = 0; i < MAX_CONT; i++) {
			if (conts[i].used) continue;
			memset(&conts[i], 0, sizeof(conts[i]));
			conts[i].used = 1; conts[i].refs = 1;
			int fd = alloc_fd(K_CONTAINER, i, acc, cloexec);
			if (fd < 0) conts[i].used = 0;
			return fd;
		}
		return fail(ENOSPC);
	}
	if (strcmp(path, "/dev/iommu") == 0) return alloc_fd(K_IOMMUFD, 0, acc, cloexec);
	if (strncmp(path, "/dev/vfio/devices/vfio", 22) == 0) {
		long n = 0;
		const char *p = path + 22;
		if (!*p) return fail(ENOENT);
		for (; *p; p++) { if (*p < '0' || *p > '9') return fail(ENOENT); n = n * 10 + (*p - '0'); }
		for (int i = 0; i < MAX_DEV; i++) {
			if (!devs[i].used || devs[i].cdev != n) continue;
			int fd = alloc_fd(K_DEVICE, i, acc, cloexec);
			if (fd >= 0) fds[fd].cdev = 1;
			return fd;
		}
		return fail(ENOENT);
	}
	const char *p = path + 10;
	int n = 0;
	if (!*p) return fail(ENOENT);
	for (; *p; p++) { if (*p < '0' || *p > '9') return fail(ENOENT); n = n * 10 + (*p - '0'); }
	struct group *g = group_by_number(n);
	if (!g) return fail(ENOENT);
	if (g->open) return fail(EBUSY); /* one open group file at a time */
	int fd = alloc_fd(K_GROUP, n, acc, cloexec);
	if (fd >= 0) g->open = 1;
	return fd;
}

static void container_put(int c)
{
	if (c >= 0 && --conts[c].refs == 0) conts[c].used = 0;
}

static void group_unset_container(struct group *g)
{
	if (g->container < 0) return;
	struct container *c = &conts[g->container];
	if (--c->groups == 0) c->iommu = 0; /* the last group takes the IOMMU model down with it */
	container_put(g->container);
	g->container = -1;
}

int close(int fd)
{
	calls++;
	struct fdent *e = fake(fd);
	if (!e) return (int)syscall(SYS_close, fd);
	struct fdent copy = *e;
	e->kind = K_NONE;
	syscall(SYS_close, fd);
	switch (copy.kind) {
	case K_CONTAINER: container_put(copy.obj); break;
	case K_GROUP: {
		struct group *g = group_by_number(copy.obj);
		if (g) { group_unset_container(g); g->open = 0; }
		break;
	}
	case K_DEVICE:
		if (!copy.cdev || copy.bound) device_last_close(&devs[copy.obj]);
		break;
	case K_DATA: if (cb.data_close) cb.data_close(copy.obj); break;
	default: break;
	}
	return 0;
}

/* ------------------------------------------------------------------ read / write */

ssize_t read(int fd, void *buf, size_t len)
{
	calls++;
	struct fdent *e = fake(fd);
	if (!e) return syscall(SYS_read, fd, buf, len);
	if (e->kind != K_DATA) return fail(EINVAL); /* region access is not modelled */
	if (e->accmode == O_WRONLY) return fail(EBADF);
	if (!buf && len) return fail(EFAULT);
	int64_t r = cb.read(e->obj, buf, len);
	return r < 0 ? fail((int)-r) : (ssize_t)r;
}

ssize_t write(int fd, const void *buf, size_t len)
{
	calls++;
	struct fdent *e = fake(fd);
	if (!e) return syscall(SYS_write, fd, buf, len);
	if (e->kind != K_DATA) return fail(EINVAL);
	if (e->accmode == O_RDONLY) return fail(EBADF);
	if (!buf && len) return fail(EFAULT);
	int64_t r = cb.write(e->obj, buf, len);
	return r < 0 ? fail((int)-r) : (ssize_t)r;
}

/* Migration data fds are stream_open()ed: positional I/O is ESPIPE. */
ssize_t pread(int fd, void *buf, size_t len, off_t off)
{
	calls++;
	struct fdent *e = fake(fd);
	if (!e) return syscall(SYS_pread64, fd, buf, len, off);
	if (e->kind == K_DATA) return e->accmode == O_WRONLY ? fail(EBADF) : fail(ESPIPE);
	return fail(EINVAL);
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
	calls++;
	struct fdent *e = fake(fd);
	if (!e) return syscall(SYS_pwrite64, fd, buf, len, off);
	if (e->kind == K_DATA) return e->accmode == O_RDONLY ? fail(EBADF) : fail(ESPIPE);
	return fail(EINVAL);
}

/* None of these files has a poll method, so the kernel reports DEFAULT_POLLMASK for them. */
int poll(struct pollfd *pfds, nfds_t n, int timeout)
{
	calls++;
	if (!pfds && n) return fail(EFAULT);
	int ready = 0, others = 0;
	for (nfds_t i = 0; i < n; i++) {
		struct fdent *e = fake(pfds[i].fd);
		if (!e) { others++; continue; }
		pfds[i].revents = (short)(pfds[i].events & (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM));
		if (pfds[i].revents) ready++;
	}
	if (!others) return ready;
	struct pollfd real[n];
	for (nfds_t i = 0; i < n; i++) { real[i] = pfds[i]; if (fake(pfds[i].fd)) real[i].fd = -1; }
	struct timespec ts = { timeout / 1000, (timeout % 1000) * 1000000L }, zero = { 0, 0 };
	long r = syscall(SYS_ppoll, real, n, ready ? &zero : (timeout < 0 ? NULL : &ts), NULL, 0);
	if (r < 0) return -1;
	for (nfds_t i = 0; i < n; i++) if (!fake(pfds[i].fd)) pfds[i].revents = real[i].revents;
	return ready + (int)r;
}

/* ------------------------------------------------------------------ ioctl */

static int container_ioctl(struct fdent *e, unsigned long req, unsigned long arg)
{
	struct container *c = &conts[e->obj];
	switch (req) {
	case VFIO_GET_API_VERSION: return VFIO_API_VERSION;
	case VFIO_CHECK_EXTENSION: return arg == VFIO_TYPE1_IOMMU || arg == VFIO_TYPE1v2_IOMMU;
	case VFIO_SET_IOMMU:
		if (c->groups == 0) return fail(EINVAL);
		if (c->iommu) return fail(EBUSY);
		if (arg != VFIO_TYPE1_IOMMU && arg != VFIO_TYPE1v2_IOMMU) return fail(ENODEV);
		c->iommu = (int)arg;
		return 0;
	default: return fail(ENOTTY);
	}
}

static int group_ioctl(struct fdent *e, unsigned long req, void *argp)
{
	struct group *g = group_by_number(e->obj);
	switch (req) {
	case VFIO_GROUP_GET_STATUS: {
		struct vfio_group_status st;
		if (!argp) return fail(EFAULT);
		memcpy(&st, argp, sizeof(st));
		if (st.argsz < sizeof(st)) return fail(EINVAL);
		st.flags = VFIO_GROUP_FLAGS_VIABLE | (g->container >= 0 ? VFIO_GROUP_FLAGS_CONTAINER_SET : 0);
		memcpy(argp, &st, sizeof(st));
		return 0;
	}
	case VFIO_GROUP_SET_CONTAINER: {
		int cfd;
		if (!argp) return fail(EFAULT);
		memcpy(&cfd, argp, sizeof(cfd));
		if (g->container >= 0) return fail(EINVAL);
		struct fdent *ce = fake(cfd);
		if (!ce) return syscall(SYS_fcntl, cfd, F_GETFD) < 0 ? fail(EBADF) : fail(EINVAL);
		if (ce->kind != K_CONTAINER) return fail(EINVAL);
		struct container *c = &conts[ce->obj];
		c->refs++; c->groups++;
		g->container = ce->obj;
		return 0;
	}
	case VFIO_GROUP_UNSET_CONTAINER:
		if (g->container < 0) return fail(EINVAL);
		for (int i = 0; i < MAX_DEV; i++)
			if (devs[i].used && devs[i].group == g->number && devs[i].open_count) return fail(EBUSY);
		group_unset_container(g);
		return 0;
	case VFIO_GROUP_GET_DEVICE_FD: {
		const char *name = argp;
		if (!name) return fail(EFAULT);
		if (g->container < 0 || !conts[g->container].iommu) return fail(EINVAL);
		for (int i = 0; i < MAX_DEV; i++) {
			if (!devs[i].used || devs[i].group != g->number || strcmp(devs[i].name, name) != 0) continue;
			if (device_first_open(&devs[i]) < 0) return -1;
			int fd = alloc_fd(K_DEVICE, i, O_RDWR, 1);
			if (fd < 0) device_last_close(&devs[i]);
			return fd;
		}
		return fail(ENODEV);
	}
	default: return fail(ENOTTY);
	}
}

static int iommufd_ioctl(int fd, unsigned long req, void *argp)
{
	if (req != SI_IOMMU_IOAS_ALLOC) return fail(ENOTTY);
	uint32_t a[3];
	if (!argp) return fail(EFAULT);
	memcpy(a, argp, 4);
	if (a[0] < sizeof(a)) return fail(EINVAL);
	memcpy(a, argp, sizeof(a));
	if (a[1] != 0) return fail(EOPNOTSUPP);
	a[2] = (uint32_t)(++next_ioas[fd]);
	memcpy(argp, a, sizeof(a));
	return 0;
}

/* vfio_check_feature(): 1 = go on, 0 = probe answered, -1 = error (errno set). */
static int check_feature(uint32_t flags, uint32_t argsz, uint32_t ops, uint32_t minsz)
{
	if ((flags & (VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET)) & ~ops) return fail(EINVAL);
	if (flags & VFIO_DEVICE_FEATURE_PROBE) return 0;
	if (!(flags & (VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET))) return fail(EINVAL);
	if (argsz < minsz) return fail(EINVAL);
	return 1;
}

static int device_feature(struct dev *d, void *argp)
{
	struct vfio_device_feature hdr;
	uint8_t *data = (uint8_t *)argp + sizeof(hdr);
	if (!argp) return fail(EFAULT);
	memcpy(&hdr, argp, sizeof(hdr));
	if (hdr.argsz < sizeof(hdr)) return fail(EINVAL);
	if (hdr.flags & ~(VFIO_DEVICE_FEATURE_MASK | VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET |
			  VFIO_DEVICE_FEATURE_PROBE))
		return fail(EINVAL);
	if (!(hdr.flags & VFIO_DEVICE_FEATURE_PROBE) && (hdr.flags & VFIO_DEVICE_FEATURE_SET) &&
	    (hdr.flags & VFIO_DEVICE_FEATURE_GET))
		return fail(EINVAL);
	uint32_t payload = hdr.argsz - sizeof(hdr);
	int r;
	switch (hdr.flags & VFIO_DEVICE_FEATURE_MASK) {
	case VFIO_DEVICE_FEATURE_MIGRATION: {
		int64_t flags = cb.query(d->handle, 1);
		if (flags < 0) return fail((int)-flags); /* no migration ops: ENOTTY */
		if ((r = check_feature(hdr.flags, payload, VFIO_DEVICE_FEATURE_GET, 8)) <= 0) return r;
		uint64_t v = (uint64_t)flags;
		memcpy(data, &v, 8);
		return 0;
	}
	case VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE: {
		int64_t flags = cb.query(d->handle, 1);
		if (flags < 0) return fail((int)-flags);
		if ((r = check_feature(hdr.flags, payload, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET, 8)) <= 0)
			return r;
		struct vfio_device_feature_mig_state st;
		memcpy(&st, data, sizeof(st));
		if (hdr.flags & VFIO_DEVICE_FEATURE_GET) {
			int64_t s = cb.query(d->handle, 2);
			if (s < 0) return fail((int)-s);
			st.device_state = (uint32_t)s;
			st.data_fd = -1;
			memcpy(data, &st, sizeof(st));
			return 0;
		}
		int session = cb.set_state(d->handle, st.device_state);
		if (session > 0) {
			int acc = st.device_state == VFIO_DEVICE_STATE_RESUMING ? O_WRONLY : O_RDONLY;
			int fd = alloc_fd(K_DATA, session, acc, 1);
			if (fd < 0) { int err = errno; cb.data_close(session); return fail(err); }
			st.data_fd = fd;
			memcpy(data, &st, sizeof(st));
			return 0;
		}
		st.data_fd = -1;
		memcpy(data, &st, sizeof(st));
		return session < 0 ? fail(-session) : 0;
	}
	case SI_FEATURE_MIG_DATA_SIZE: {
		int64_t size = cb.query(d->handle, 9);
		if (size == -ENOTTY) return fail(ENOTTY); /* no such feature on this kernel (before 6.2) */
		if ((r = check_feature(hdr.flags, payload, VFIO_DEVICE_FEATURE_GET, 8)) <= 0) return r;
		if (size < 0) return fail((int)-size);
		uint64_t v = (uint64_t)size;
		memcpy(data, &v, 8);
		return 0;
	}
	default:
		return fail(ENOTTY); /* vfio-pci core features of a VF (VF token, low power, logging) are not modelled */
	}
}

static int device_ioctl(int fd, struct fdent *e, unsigned long req, void *argp)
{
	struct dev *d = &devs[e->obj];
	if (e->cdev && req == SI_VFIO_DEVICE_BIND_IOMMUFD) {
		uint32_t b[4];
		if (!argp) return fail(EFAULT);
		memcpy(b, argp, sizeof(b));
		if (b[0] < sizeof(b) || b[1] != 0) return fail(EINVAL);
		if (e->bound) return fail(EINVAL);
		struct fdent *ie = fake((int)b[2]);
		if (!ie) return syscall(SYS_fcntl, (int)b[2], F_GETFD) < 0 ? fail(EBADF) : fail(EBADFD);
		if (ie->kind != K_IOMMUFD) return fail(EBADFD);
		if (device_first_open(d) < 0) return -1;
		e->bound = 1; e->ioas_of = (int)b[2];
		b[3] = (uint32_t)(e->obj + 1);
		memcpy(argp, b, sizeof(b));
		return 0;
	}
	if (e->cdev && !e->bound) return fail(EINVAL); /* device access is refused before bind */
	switch (req) {
	case SI_VFIO_DEVICE_ATTACH_IOMMUFD_PT: {
		uint32_t a[3];
		if (!e->cdev) return fail(ENOTTY);
		if (!argp) return fail(EFAULT);
		memcpy(a, argp, sizeof(a));
		if (a[0] < sizeof(a) || a[1] != 0) return fail(EINVAL);
		if (a[2] == 0 || (int)a[2] > next_ioas[e->ioas_of]) return fail(ENOENT);
		e->attached = 1;
		a[2] = a[2] + 0x100; /* the auto-allocated HWPT id */
		memcpy(argp, a, sizeof(a));
		return 0;
	}
	case SI_VFIO_DEVICE_DETACH_IOMMUFD_PT: {
		uint32_t a[2];
		if (!e->cdev) return fail(ENOTTY);
		if (!argp) return fail(EFAULT);
		memcpy(a, argp, sizeof(a));
		if (a[0] < sizeof(a) || a[1] != 0) return fail(EINVAL);
		e->attached = 0;
		return 0;
	}
	case VFIO_DEVICE_GET_INFO: {
		struct vfio_device_info info;
		if (!argp) return fail(EFAULT);
		memcpy(&info, argp, offsetof(struct vfio_device_info, cap_offset));
		if (info.argsz < offsetof(struct vfio_device_info, cap_offset)) return fail(EINVAL);
		info.flags = VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET;
		info.num_regions = VFIO_PCI_NUM_REGIONS;
		info.num_irqs = VFIO_PCI_NUM_IRQS;
		memcpy(argp, &info, offsetof(struct vfio_device_info, cap_offset));
		return 0;
	}
	case VFIO_DEVICE_RESET: {
		int r = cb.reset(d->handle);
		return r < 0 ? fail(-r) : 0;
	}
	case VFIO_DEVICE_FEATURE: return device_feature(d, argp);
	default: (void)fd; return fail(ENOTTY);
	}
}

static int data_ioctl(struct fdent *e, unsigned long req, void *argp)
{
	if (req != SI_VFIO_MIG_GET_PRECOPY_INFO) return fail(ENOTTY);
	uint32_t argsz;
	if (!argp) return fail(EFAULT);
	memcpy(&argsz, argp, 4);
	uint8_t out[16];
	int r = cb.precopy(e->obj, argsz >= 24, out);
	if (r < 0) return fail(-r);
	memcpy((uint8_t *)argp + 8, out, 16);
	return 0;
}

int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	va_start(ap, req);
	unsigned long arg = va_arg(ap, unsigned long);
	va_end(ap);
	calls++;
	struct fdent *e = fake(fd);
	if (!e) return (int)syscall(SYS_ioctl, fd, req, arg);
	void *argp = (void *)arg;
	switch (e->kind) {
	case K_CONTAINER: return container_ioctl(e, req, arg);
	case K_GROUP: return group_ioctl(e, req, argp);
	case K_IOMMUFD: return iommufd_ioctl(fd, req, argp);
	case K_DEVICE: return device_ioctl(fd, e, req, argp);
	case K_DATA: return data_ioctl(e, req, argp);
	default: return fail(ENOTTY);
	}
}
