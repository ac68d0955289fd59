/*
 * migcompat shim runtime: kernel services for the driver (MMIO forwarding, delays, allocation,
 * anonymous files with VFS semantics, the VFIO core's device and migration entry points) and
 * the entry points the harness calls. Written from the interfaces; no kernel code.
 */
#include <shim/runtime.h>

void *calloc(size_t n, size_t size);
void *malloc(size_t size);
void free(void *p);
int vsnprintf(char *s, size_t n, const char *fmt, va_list ap);
int snprintf(char *s, size_t n, const char *fmt, ...);
unsigned long strtoul(const char *s, char **end, int base);

static shim_read32_fn *cb_read32;
static shim_write32_fn *cb_write32;
static shim_write64_fn *cb_write64;
static shim_write128_fn *cb_write128;
static shim_delay_fn *cb_delay;
static shim_core_step_fn *cb_core_step;
static shim_log_fn *cb_log;

void shim_set_callbacks(shim_read32_fn *r32, shim_write32_fn *w32, shim_write64_fn *w64,
			shim_write128_fn *w128, shim_delay_fn *delay, shim_core_step_fn *step,
			shim_log_fn *log)
{
	cb_read32 = r32; cb_write32 = w32; cb_write64 = w64; cb_write128 = w128;
	cb_delay = delay; cb_core_step = step; cb_log = log;
}

int shim_core_step(int inst, u32 cur, u32 target, int ret, u32 next)
{
	return cb_core_step ? cb_core_step(inst, cur, target, ret, next) : 0;
}

struct shim_inst {
	bool used;
	struct pci_dev vf, pf;
	void *pf_qm;
	struct vfio_device *vdev;
	bool opened;
	bool wedged; /* a SET request on it never returned */
};
static struct shim_inst insts[SHIM_MAX_INST];
static struct pci_driver *the_driver;
static int probing = -1;
/* the PF drivers the VF driver asks for (hisi_{sec,hpre,zip}_get_pf_driver) */
static struct pci_driver pf_drv_sec = { .name = "hisi_sec2" };
static struct pci_driver pf_drv_hpre = { .name = "hisi_hpre" };
static struct pci_driver pf_drv_zip = { .name = "hisi_zip" };

/* ---- logging ---- */
/* While the core's walk runs under its CPU budget no harness callback may run (the budget's jump
 * must never cross a JavaScript frame): its log lines (a WARN) are held and sent afterwards. */
#define SHIM_HELD_LOGS 4
static bool log_held;
static int held_n;
static struct { int inst, level; char msg[256]; } held[SHIM_HELD_LOGS];

void shim_hold_log(bool hold)
{
	log_held = hold;
	if (hold)
		return;
	for (int i = 0; i < held_n; i++)
		if (cb_log)
			cb_log(held[i].inst, held[i].level, held[i].msg);
	held_n = 0;
}

void shim_log(int level, const struct device *dev, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (log_held) {
		if (held_n < SHIM_HELD_LOGS) {
			held[held_n].inst = dev ? dev->shim_inst : -1;
			held[held_n].level = level;
			snprintf(held[held_n].msg, sizeof(held[held_n].msg), "%s", msg);
			held_n++;
		}
		return;
	}
	if (cb_log)
		cb_log(dev ? dev->shim_inst : -1, level, msg);
}

void shim_warn(const char *file, int line)
{
	shim_log(SHIM_LOG_WARN, NULL, "WARNING at %s:%d", file, line);
}

/* ---- MMIO: decode the cookie from ioremap and forward ---- */
static bool decode(const volatile void *addr, int *inst, int *space, u32 *off)
{
	u64 a = (u64)(uintptr_t)addr;

	if ((a & ~((1ULL << 44) - 1)) != SHIM_IO_BASE) {
		shim_log(SHIM_LOG_ERR, NULL, "MMIO access to a non-device address %#llx", (unsigned long long)a);
		return false;
	}
	*off = (u32)a;
	*space = (int)((a >> 32) & 1);
	*inst = (int)((a >> 33) & 0x7ff);
	return true;
}

u32 readl(const volatile void __iomem *addr)
{
	int inst, space;
	u32 off;

	if (!decode(addr, &inst, &space, &off) || !cb_read32)
		return 0xffffffffu;
	return cb_read32(inst, space, off);
}

void writel(u32 value, volatile void __iomem *addr)
{
	int inst, space;
	u32 off;

	if (decode(addr, &inst, &space, &off) && cb_write32)
		cb_write32(inst, space, off, value);
}

u64 readq(const volatile void __iomem *addr)
{
	return readl(addr) | ((u64)readl((const volatile char *)addr + 4) << 32);
}

/* 64-bit stores (doorbells) of the SET request in progress, against SHIM_DOORBELL_BOUND */
static bool in_set;
static u32 set_doorbells;

void writeq(u64 value, volatile void __iomem *addr)
{
	int inst, space;
	u32 off;

	if (!decode(addr, &inst, &space, &off))
		return;
	if (in_set && ++set_doorbells > SHIM_DOORBELL_BOUND) {
		shim_core_step(inst, 0, 0, SHIM_DOORBELL_HANG, 0);
		shim_escape();
	}
	if (cb_write64)
		cb_write64(inst, space, off, value);
}

/* a 16-byte copy to MMIO is the mailbox's single 128-bit store */
void memcpy_toio(volatile void __iomem *dst, const void *src, size_t n)
{
	int inst, space;
	u32 off;
	const u8 *b = src;

	if (!decode(dst, &inst, &space, &off))
		return;
	if (n == 16 && cb_write128) {
		u64 lo = 0, hi = 0;
		for (int i = 7; i >= 0; i--) {
			lo = (lo << 8) | b[i];
			hi = (hi << 8) | b[8 + i];
		}
		cb_write128(inst, space, off, lo, hi);
		return;
	}
	for (size_t i = 0; i + 4 <= n; i += 4)
		writel(b[i] | b[i + 1] << 8 | b[i + 2] << 16 | (u32)b[i + 3] << 24, (volatile char *)dst + i);
}

void __iomem *ioremap(resource_size_t start, resource_size_t size)
{
	(void)size;
	return (void __iomem *)(uintptr_t)start;
}

void iounmap(volatile void __iomem *addr) { (void)addr; }

void udelay(unsigned long us)
{
	if (cb_delay)
		cb_delay((u32)us);
}
void usleep_range(unsigned long min_us, unsigned long max_us) { (void)max_us; udelay(min_us); }
void msleep(unsigned int ms) { udelay(ms * 1000UL); }

/* ---- allocation and user copies ---- */
void *kzalloc(size_t size, gfp_t flags) { (void)flags; return calloc(1, size); }
void *kmalloc(size_t size, gfp_t flags) { (void)flags; return malloc(size); }
void *kvzalloc(size_t size, gfp_t flags) { (void)flags; return calloc(1, size); }
void kfree(const void *p) { free((void *)p); }
void kvfree(const void *p) { free((void *)p); }
unsigned long copy_from_user(void *to, const void __user *from, unsigned long n) { memcpy(to, from, n); return 0; }
unsigned long copy_to_user(void __user *to, const void *from, unsigned long n) { memcpy(to, from, n); return 0; }
int kstrtou32(const char *s, unsigned int base, u32 *res) { char *e; *res = (u32)strtoul(s, &e, (int)base); return *e && *e != '\n' ? -EINVAL : 0; }
int param_set_int(const char *val, const struct kernel_param *kp) { (void)val; (void)kp; return 0; }

/* ---- PCI ---- */
int pci_iov_vf_id(struct pci_dev *dev) { return dev->is_virtfn ? dev->vf_index : -EINVAL; }
struct pci_dev *pci_physfn(struct pci_dev *dev) { return dev->is_virtfn ? dev->physfn : dev; }
void *pci_iov_get_pf_drvdata(struct pci_dev *dev, struct pci_driver *pf_driver)
{
	if (!dev->is_virtfn)
		return ERR_PTR(-EINVAL);
	if (dev->physfn->driver != pf_driver)
		return ERR_PTR(-EINVAL);
	return dev_get_drvdata(&dev->physfn->dev);
}
struct pci_dev *pci_get_device(unsigned int vendor, unsigned int device, struct pci_dev *from)
{
	(void)vendor; (void)device; (void)from;
	return NULL;
}
void pci_dev_put(struct pci_dev *dev) { (void)dev; }
struct pci_driver *hisi_sec_get_pf_driver(void) { return &pf_drv_sec; }
struct pci_driver *hisi_hpre_get_pf_driver(void) { return &pf_drv_hpre; }
struct pci_driver *hisi_zip_get_pf_driver(void) { return &pf_drv_zip; }

void shim_register_pci_driver(struct pci_driver *drv) { the_driver = drv; }

/* ---- anonymous files, driven the way the VFS drives them ---- */
struct file *anon_inode_getfile(const char *name, const struct file_operations *fops, void *priv, int flags)
{
	struct file *f = calloc(1, sizeof(*f));

	(void)name;
	if (!f)
		return ERR_PTR(-ENOMEM);
	f->f_op = fops;
	f->private_data = priv;
	f->f_inode = &f->shim_inode;
	f->f_flags = (unsigned int)flags;
	f->f_mode = FMODE_LSEEK | FMODE_PREAD | FMODE_PWRITE;
	if ((flags & 3) == O_RDONLY || (flags & 3) == O_RDWR)
		f->f_mode |= FMODE_READ;
	if ((flags & 3) == O_WRONLY || (flags & 3) == O_RDWR)
		f->f_mode |= FMODE_WRITE;
	f->f_count = 1;
	return f;
}

int stream_open(struct inode *inode, struct file *filp)
{
	(void)inode;
	filp->f_mode &= ~(FMODE_LSEEK | FMODE_PREAD | FMODE_PWRITE | FMODE_ATOMIC_POS);
	filp->f_mode |= FMODE_STREAM;
	return 0;
}

int nonseekable_open(struct inode *inode, struct file *filp)
{
	(void)inode;
	filp->f_mode &= ~(FMODE_LSEEK | FMODE_PREAD | FMODE_PWRITE);
	return 0;
}

struct file *get_file(struct file *f) { f->f_count++; return f; }

void fput(struct file *f)
{
	if (--f->f_count > 0)
		return;
	if (f->f_op && f->f_op->release)
		f->f_op->release(f->f_inode, f);
	free(f);
}

loff_t no_llseek(struct file *file, loff_t offset, int whence)
{
	(void)file; (void)offset; (void)whence;
	return -ESPIPE;
}

long compat_ptr_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	if (!file->f_op->unlocked_ioctl)
		return -ENOIOCTLCMD;
	return file->f_op->unlocked_ioctl(file, cmd, arg);
}

#define MAX_RW_COUNT (0x7ffff000UL)

/* read(2) on a migration fd: the VFS checks, then the driver's read with the position a stream
 * file gets (none) or the file position otherwise */
long shim_file_read(struct file *f, u8 *buf, size_t len)
{
	loff_t pos = f->f_pos;
	ssize_t ret;

	if (!(f->f_mode & FMODE_READ))
		return -EBADF;
	if (!f->f_op->read)
		return -EINVAL;
	if (len > MAX_RW_COUNT)
		len = MAX_RW_COUNT;
	ret = f->f_op->read(f, (char __user *)buf, len, (f->f_mode & FMODE_STREAM) ? NULL : &pos);
	if (ret >= 0 && !(f->f_mode & FMODE_STREAM))
		f->f_pos = pos;
	return ret;
}

long shim_file_write(struct file *f, const u8 *buf, size_t len)
{
	loff_t pos = f->f_pos;
	ssize_t ret;

	if (!(f->f_mode & FMODE_WRITE))
		return -EBADF;
	if (!f->f_op->write)
		return -EINVAL;
	if (len > MAX_RW_COUNT)
		len = MAX_RW_COUNT;
	ret = f->f_op->write(f, (const char __user *)buf, len, (f->f_mode & FMODE_STREAM) ? NULL : &pos);
	if (ret >= 0 && !(f->f_mode & FMODE_STREAM))
		f->f_pos = pos;
	return ret;
}

long shim_file_ioctl(struct file *f, unsigned int cmd, u8 *arg)
{
	if (!f->f_op->unlocked_ioctl)
		return -ENOTTY;
	return f->f_op->unlocked_ioctl(f, cmd, (unsigned long)(uintptr_t)arg);
}

long long shim_file_pos(struct file *f) { return f->f_pos; }
void shim_file_close(struct file *f) { fput(f); }

/* ---- the VFIO core (its state walk is the tree's own: core.c) ---- */
struct vfio_device *_vfio_alloc_device(size_t size, struct device *dev, const struct vfio_device_ops *ops)
{
	struct vfio_device *v = calloc(1, size);
	int ret;

	if (!v)
		return ERR_PTR(-ENOMEM);
	v->dev = dev;
	v->ops = ops;
	if (ops->init) {
		ret = ops->init(v);
		if (ret) {
			free(v);
			return ERR_PTR(ret);
		}
	}
	return v;
}

void vfio_put_device(struct vfio_device *device)
{
	if (device->ops->release)
		device->ops->release(device);
	free(device);
}

int vfio_iommufd_physical_bind(struct vfio_device *vdev, struct iommufd_ctx *ictx, u32 *out_device_id)
{
	(void)vdev; (void)ictx; (void)out_device_id;
	return -EOPNOTSUPP;
}
void vfio_iommufd_physical_unbind(struct vfio_device *vdev) { (void)vdev; }
int vfio_iommufd_physical_attach_ioas(struct vfio_device *vdev, u32 *pt_id) { (void)vdev; (void)pt_id; return -EOPNOTSUPP; }
void vfio_iommufd_physical_detach_ioas(struct vfio_device *vdev) { (void)vdev; }

int vfio_pci_core_init_dev(struct vfio_device *core_vdev)
{
	struct vfio_pci_core_device *vdev = container_of(core_vdev, struct vfio_pci_core_device, vdev);

	vdev->pdev = to_pci_dev(core_vdev->dev);
	return 0;
}
void vfio_pci_core_release_dev(struct vfio_device *core_vdev) { (void)core_vdev; }
int vfio_pci_core_register_device(struct vfio_pci_core_device *vdev)
{
	if (probing < 0)
		return -EINVAL;
	insts[probing].vdev = &vdev->vdev;
	return 0;
}
void vfio_pci_core_unregister_device(struct vfio_pci_core_device *vdev) { (void)vdev; }
int vfio_pci_core_enable(struct vfio_pci_core_device *vdev) { (void)vdev; return 0; }
void vfio_pci_core_disable(struct vfio_pci_core_device *vdev) { (void)vdev; }
void vfio_pci_core_finish_enable(struct vfio_pci_core_device *vdev) { (void)vdev; }
void vfio_pci_core_close_device(struct vfio_device *core_vdev) { (void)core_vdev; }
long vfio_pci_core_ioctl(struct vfio_device *core_vdev, unsigned int cmd, unsigned long arg)
{
	(void)core_vdev; (void)cmd; (void)arg;
	return -ENOTTY;
}
int vfio_pci_core_ioctl_feature(struct vfio_device *device, u32 flags, void __user *arg, size_t argsz)
{
	(void)device; (void)flags; (void)arg; (void)argsz;
	return -ENOTTY;
}
ssize_t vfio_pci_core_read(struct vfio_device *v, char __user *buf, size_t count, loff_t *ppos)
{
	(void)v; (void)buf; (void)count; (void)ppos;
	return -EINVAL;
}
ssize_t vfio_pci_core_write(struct vfio_device *v, const char __user *buf, size_t count, loff_t *ppos)
{
	(void)v; (void)buf; (void)count; (void)ppos;
	return -EINVAL;
}
int vfio_pci_core_mmap(struct vfio_device *v, struct vm_area_struct *vma) { (void)v; (void)vma; return -EINVAL; }
void vfio_pci_core_request(struct vfio_device *v, unsigned int count) { (void)v; (void)count; }
int vfio_pci_core_match(struct vfio_device *v, char *buf) { (void)v; (void)buf; return 0; }
int vfio_pci_core_match_token_uuid(struct vfio_device *v, const uuid_t *uuid) { (void)v; (void)uuid; return 0; }
int vfio_pci_ioctl_get_region_info(struct vfio_device *v, struct vfio_region_info *info, struct vfio_info_cap *caps)
{
	(void)v; (void)info; (void)caps;
	return -ENOTTY;
}

/* ---- debugfs: not mounted here ---- */
struct dentry *debugfs_lookup(const char *name, struct dentry *parent) { (void)name; (void)parent; return NULL; }
struct dentry *debugfs_create_dir(const char *name, struct dentry *parent) { (void)name; (void)parent; return ERR_PTR(-ENODEV); }
struct dentry *debugfs_create_file(const char *name, umode_t mode, struct dentry *parent, void *data, const void *fops)
{
	(void)name; (void)mode; (void)parent; (void)data; (void)fops;
	return ERR_PTR(-ENODEV);
}
void debugfs_create_devm_seqfile(struct device *dev, const char *name, struct dentry *parent,
				 int (*read_fn)(struct seq_file *s, void *data))
{
	(void)dev; (void)name; (void)parent; (void)read_fn;
}
void debugfs_remove_recursive(struct dentry *dentry) { (void)dentry; }
void dput(struct dentry *dentry) { (void)dentry; }
void seq_puts(struct seq_file *m, const char *s) { (void)m; (void)s; }
void seq_printf(struct seq_file *m, const char *fmt, ...) { (void)m; (void)fmt; }
void seq_hex_dump(struct seq_file *m, const char *prefix_str, int prefix_type, int rowsize, int groupsize,
		  const void *buf, size_t len, bool ascii)
{
	(void)m; (void)prefix_str; (void)prefix_type; (void)rowsize; (void)groupsize; (void)buf; (void)len; (void)ascii;
}
pci_ers_result_t vfio_pci_core_aer_err_detected(struct pci_dev *pdev, pci_channel_state_t state)
{
	(void)pdev; (void)state;
	return PCI_ERS_RESULT_CAN_RECOVER;
}
int pci_try_reset_function(struct pci_dev *dev) { (void)dev; return 0; }

/* ---- harness entry points ---- */
static struct shim_inst *get(int i)
{
	return (i >= 0 && i < SHIM_MAX_INST && insts[i].used) ? &insts[i] : NULL;
}

const char *shim_driver_name(void) { return the_driver ? the_driver->name : NULL; }

/* Create a VF (and its PF) and probe it with the driver, as the PCI core does on bind. */
int shim_create(u32 vf_device_id, int vf_index, int pf_hw_ver)
{
	const struct pci_device_id *id;
	struct shim_inst *s = NULL;
	int i, ret;

	if (!the_driver)
		return -ENODEV;
	for (i = 0; i < SHIM_MAX_INST; i++)
		if (!insts[i].used) {
			s = &insts[i];
			break;
		}
	if (!s)
		return -ENOSPC;
	memset(s, 0, sizeof(*s));
	s->used = true;

	s->pf.vendor = PCI_VENDOR_ID_HUAWEI;
	s->pf.device = (unsigned short)(vf_device_id - 1);
	s->pf.is_physfn = 1;
	s->pf.revision = (u8)pf_hw_ver;
	s->pf.dev.shim_inst = i;
	s->pf.driver = vf_device_id == PCI_DEVICE_ID_HUAWEI_SEC_VF ? &pf_drv_sec :
		       vf_device_id == PCI_DEVICE_ID_HUAWEI_HPRE_VF ? &pf_drv_hpre :
		       vf_device_id == PCI_DEVICE_ID_HUAWEI_ZIP_VF ? &pf_drv_zip : NULL;
	s->pf.resource[2].start = SHIM_IO_ADDR(i, SHIM_SPACE_PF);
	s->pf.resource[2].end = s->pf.resource[2].start + 0x400000 - 1;
	s->pf_qm = shim_glue_new_pf_qm(&s->pf, (void __iomem *)(uintptr_t)s->pf.resource[2].start, pf_hw_ver);
	dev_set_drvdata(&s->pf.dev, s->pf_qm);

	s->vf.vendor = PCI_VENDOR_ID_HUAWEI;
	s->vf.device = (unsigned short)vf_device_id;
	s->vf.revision = (u8)pf_hw_ver;
	s->vf.is_virtfn = 1;
	s->vf.physfn = &s->pf;
	s->vf.vf_index = vf_index;
	s->vf.dev.shim_inst = i;
	s->vf.resource[2].start = SHIM_IO_ADDR(i, SHIM_SPACE_VF);
	s->vf.resource[2].end = s->vf.resource[2].start + 0x10000 - 1;

	for (id = the_driver->id_table; id && id->vendor; id++)
		if (id->vendor == s->vf.vendor && id->device == s->vf.device)
			break;
	if (!id || !id->vendor) {
		shim_glue_free_pf_qm(s->pf_qm);
		s->used = false;
		return -ENODEV;
	}
	probing = i;
	ret = the_driver->probe(&s->vf, id);
	probing = -1;
	if (ret || !s->vdev) {
		shim_glue_free_pf_qm(s->pf_qm);
		s->used = false;
		return ret ? ret : -ENODEV;
	}
	return i;
}

/* open(2) of the device fd: the core calls open_device on the first open */
int shim_open(int i)
{
	struct shim_inst *s = get(i);
	int ret = 0;

	if (!s)
		return -EBADF;
	if (!s->opened && s->vdev->ops->open_device)
		ret = s->vdev->ops->open_device(s->vdev);
	if (!ret)
		s->opened = true;
	return ret;
}

void shim_close(int i)
{
	struct shim_inst *s = get(i);

	if (!s || !s->opened)
		return;
	if (s->vdev->ops->close_device)
		s->vdev->ops->close_device(s->vdev);
	s->opened = false;
}

void shim_destroy(int i)
{
	struct shim_inst *s = get(i);

	if (!s)
		return;
	shim_close(i);
	if (the_driver->remove)
		the_driver->remove(&s->vf);
	shim_glue_free_pf_qm(s->pf_qm);
	s->used = false;
}

int shim_has_mig_ops(int i)
{
	struct shim_inst *s = get(i);

	return s && s->vdev->mig_ops ? 1 : 0;
}

long shim_migration_flags(int i)
{
	struct shim_inst *s = get(i);

	if (!s)
		return -EBADF;
	if (!s->vdev->mig_ops)
		return -ENOTTY;
	return s->vdev->migration_flags;
}

struct set_call {
	struct vfio_device *vdev;
	enum vfio_device_mig_state state;
	struct file *res;
};

static void call_set_state(void *p)
{
	struct set_call *c = p;

	c->res = c->vdev->mig_ops->migration_set_state(c->vdev, c->state);
}

/* VFIO_DEVICE_FEATURE SET MIG_DEVICE_STATE: the core hands the request to the driver's op. A walk
 * that never ends (core.c) leaves the driver's frames through the guard: SHIM_SET_HANG, and the
 * device stays wedged as a kernel's would (its state mutex never released). */
int shim_set_state(int i, u32 state, struct file **out)
{
	struct shim_inst *s = get(i);
	struct set_call c;

	*out = NULL;
	if (!s)
		return -EBADF;
	if (!s->vdev->mig_ops)
		return -ENOTTY;
	if (s->wedged)
		return SHIM_SET_HANG;
	c.vdev = s->vdev;
	c.state = (enum vfio_device_mig_state)state;
	c.res = NULL;
	in_set = true;
	set_doorbells = 0;
	if (shim_guarded(call_set_state, &c)) {
		in_set = false;
		s->wedged = true;
		return SHIM_SET_HANG;
	}
	in_set = false;
	if (IS_ERR(c.res))
		return (int)PTR_ERR(c.res);
	*out = c.res;
	return 0;
}

int shim_get_state(int i, u32 *state)
{
	struct shim_inst *s = get(i);
	enum vfio_device_mig_state st;
	int ret;

	if (!s)
		return -EBADF;
	if (!s->vdev->mig_ops)
		return -ENOTTY;
	ret = s->vdev->mig_ops->migration_get_state(s->vdev, &st);
	if (!ret)
		*state = st;
	return ret;
}

int shim_get_data_size(int i, u64 *len)
{
	struct shim_inst *s = get(i);
	unsigned long l = 0;
	int ret;

	if (!s)
		return -EBADF;
	if (!s->vdev->mig_ops || !s->vdev->mig_ops->migration_get_data_size)
		return -ENOTTY;
	ret = s->vdev->mig_ops->migration_get_data_size(s->vdev, &l);
	if (!ret)
		*len = l;
	return ret;
}

/* VFIO_DEVICE_RESET reaches a variant driver through the PCI error handlers around the FLR:
 * reset_prepare, then the function reset (the harness does it on the device), then reset_done */
int shim_reset_prepare(int i)
{
	struct shim_inst *s = get(i);

	if (!s)
		return -EBADF;
	if (the_driver->err_handler && the_driver->err_handler->reset_prepare)
		the_driver->err_handler->reset_prepare(&s->vf);
	return 0;
}

int shim_reset_done(int i)
{
	struct shim_inst *s = get(i);

	if (!s)
		return -EBADF;
	if (the_driver->err_handler && the_driver->err_handler->reset_done)
		the_driver->err_handler->reset_done(&s->vf);
	return 0;
}

/* the driver's software QM struct: eqe/aeqe/sqc/cqc DMA addresses, qp_base, qp_num */
int shim_vf_qm(int i, u64 *dma4, u32 *qp2)
{
	struct shim_inst *s = get(i);

	if (!s)
		return -EBADF;
	return shim_glue_vf_qm(s->vdev, dma4, qp2);
}
