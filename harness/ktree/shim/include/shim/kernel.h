/*
 * migcompat user-space kernel shim: the types, macros and functions a VFIO migration driver
 * (drivers/vfio/pci/hisilicon/) expects from the kernel, written from the interfaces they are
 * used through. Every <linux/X.h> of this include directory is a one-line alias of this file,
 * so a driver sees one consistent set of declarations whatever it includes.
 *
 * What crosses to the harness (MMIO, delays, the core's next-state table, logging) is a call
 * through the callback table in shim/runtime.h; locks are no-ops because a case runs on one
 * thread, and user copies are plain memcpy because "user" buffers live in this process.
 */
#ifndef MIGCOMPAT_SHIM_KERNEL_H
#define MIGCOMPAT_SHIM_KERNEL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdarg.h>

/* ---- basic types ---- */
typedef uint8_t u8;   typedef uint16_t u16;  typedef uint32_t u32;  typedef uint64_t u64;
typedef int8_t s8;    typedef int16_t s16;   typedef int32_t s32;   typedef int64_t s64;
typedef u8 __u8;      typedef u16 __u16;     typedef u32 __u32;     typedef u64 __u64;
typedef s8 __s8;      typedef s16 __s16;     typedef s32 __s32;     typedef s64 __s64;
typedef u16 __le16;   typedef u32 __le32;    typedef u64 __le64;
typedef u64 __aligned_u64 __attribute__((aligned(8)));
typedef long long loff_t;
typedef long ssize_t;
typedef u64 dma_addr_t;
typedef u64 resource_size_t;
typedef u64 phys_addr_t;
typedef unsigned int gfp_t;
typedef unsigned int fmode_t;
typedef unsigned short umode_t;
typedef int pci_power_t;
typedef unsigned int pci_ers_result_t;
typedef unsigned int pci_channel_state_t;
typedef struct { int counter; } atomic_t;
typedef struct { s64 counter; } atomic64_t;

#define __user
#define __iomem
#define __force
#define __must_check
#define __always_inline inline __attribute__((always_inline))
#define __init
#define __exit
#define __maybe_unused __attribute__((unused))
#define __printf(a, b) __attribute__((format(printf, a, b)))

/* ---- compiler and arithmetic helpers ---- */
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define BIT(n) (1UL << (n))
#define BIT_ULL(n) (1ULL << (n))
#define GENMASK(h, l) (((~0UL) >> (63 - (h))) & (~0UL << (l)))
#define GENMASK_ULL(h, l) (((~0ULL) >> (63 - (h))) & (~0ULL << (l)))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))
#define sizeof_field(t, m) sizeof(((t *)0)->m)
#define offsetofend(t, m) (offsetof(t, m) + sizeof_field(t, m))
#define min(a, b) ((a) < (b) ? (a) : (b))
#define max(a, b) ((a) > (b) ? (a) : (b))
#define min_t(t, a, b) ((t)(a) < (t)(b) ? (t)(a) : (t)(b))
#define max_t(t, a, b) ((t)(a) > (t)(b) ? (t)(a) : (t)(b))
#define check_add_overflow(a, b, d) __builtin_add_overflow(a, b, d)
#define lower_32_bits(n) ((u32)((n) & 0xffffffff))
#define upper_32_bits(n) ((u32)(((u64)(n)) >> 32))
#define cpu_to_le16(x) ((u16)(x))
#define cpu_to_le32(x) ((u32)(x))
#define le32_to_cpu(x) ((u32)(x))
#define READ_ONCE(x) (*(volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))
#define IS_ENABLED(x) 0
#define __bf_shf(x) (__builtin_ffsll(x) - 1)
#define FIELD_PREP(mask, val) (((u64)(val) << __bf_shf(mask)) & (mask))
#define FIELD_GET(mask, reg) (((reg) & (mask)) >> __bf_shf(mask))

/* bit operations on unsigned long words (one thread per case: plain read-modify-write) */
#define BITS_PER_LONG (8 * (int)sizeof(long))
static inline void set_bit(long nr, volatile unsigned long *addr) { addr[nr / BITS_PER_LONG] |= 1UL << (nr % BITS_PER_LONG); }
static inline void clear_bit(long nr, volatile unsigned long *addr) { addr[nr / BITS_PER_LONG] &= ~(1UL << (nr % BITS_PER_LONG)); }
static inline bool test_bit(long nr, const volatile unsigned long *addr) { return (addr[nr / BITS_PER_LONG] >> (nr % BITS_PER_LONG)) & 1; }
static inline bool test_and_set_bit(long nr, volatile unsigned long *addr)
{
	bool old = test_bit(nr, addr);

	set_bit(nr, addr);
	return old;
}
static inline bool test_and_clear_bit(long nr, volatile unsigned long *addr)
{
	bool old = test_bit(nr, addr);

	clear_bit(nr, addr);
	return old;
}

/* a WARN is a driver defect: logged through the harness (it shows in the evidence), not fatal */
void shim_warn(const char *file, int line);
#define WARN_ON(cond) ({ int __w = !!(cond); if (__w) shim_warn(__FILE__, __LINE__); __w; })
#define WARN_ON_ONCE(cond) WARN_ON(cond)
#define BUG_ON(cond) WARN_ON(cond)

/* ---- errno and error pointers ---- */
#include <shim/errno.h>
#define MAX_ERRNO 4095
#define IS_ERR_VALUE(x) unlikely((unsigned long)(void *)(x) >= (unsigned long)-MAX_ERRNO)
static inline void *ERR_PTR(long error) { return (void *)error; }
static inline long PTR_ERR(const void *ptr) { return (long)ptr; }
static inline bool IS_ERR(const void *ptr) { return IS_ERR_VALUE((unsigned long)ptr); }
static inline bool IS_ERR_OR_NULL(const void *ptr) { return !ptr || IS_ERR(ptr); }
static inline void *ERR_CAST(const void *ptr) { return (void *)ptr; }

/* ---- logging ---- */
struct device;
void shim_log(int level, const struct device *dev, const char *fmt, ...) __printf(3, 4);
#define SHIM_LOG_ERR 3
#define SHIM_LOG_WARN 4
#define SHIM_LOG_INFO 6
#define SHIM_LOG_DEBUG 7
#define dev_err(d, ...) shim_log(SHIM_LOG_ERR, d, __VA_ARGS__)
#define dev_warn(d, ...) shim_log(SHIM_LOG_WARN, d, __VA_ARGS__)
#define dev_info(d, ...) shim_log(SHIM_LOG_INFO, d, __VA_ARGS__)
#define dev_dbg(d, ...) shim_log(SHIM_LOG_DEBUG, d, __VA_ARGS__)
#define pr_err(...) shim_log(SHIM_LOG_ERR, NULL, __VA_ARGS__)
#define pr_warn(...) shim_log(SHIM_LOG_WARN, NULL, __VA_ARGS__)
#define pr_info(...) shim_log(SHIM_LOG_INFO, NULL, __VA_ARGS__)
#define pr_debug(...) shim_log(SHIM_LOG_DEBUG, NULL, __VA_ARGS__)
#define pci_err(p, ...) dev_err(&(p)->dev, __VA_ARGS__)
#define pci_warn(p, ...) dev_warn(&(p)->dev, __VA_ARGS__)
#define pci_info(p, ...) dev_info(&(p)->dev, __VA_ARGS__)

/* ---- locks: one thread per case, so they only have to exist ---- */
struct mutex { int locked; };
typedef struct { int locked; } spinlock_t;
struct rw_semaphore { int count; };
#define mutex_init(m) ((m)->locked = 0)
#define mutex_destroy(m) ((void)(m))
#define mutex_lock(m) ((m)->locked = 1)
#define mutex_unlock(m) ((m)->locked = 0)
static inline int mutex_trylock(struct mutex *m) { if (m->locked) return 0; m->locked = 1; return 1; }
#define spin_lock_init(l) ((l)->locked = 0)
#define spin_lock(l) ((l)->locked = 1)
#define spin_unlock(l) ((l)->locked = 0)
#define lockdep_assert_held(l) ((void)(l))
#define atomic64_inc(a) ((a)->counter++)
#define atomic_set(a, v) ((a)->counter = (v))
#define atomic_read(a) ((a)->counter)
#define dma_wmb() __sync_synchronize()
#define wmb() __sync_synchronize()

/* ---- lists, work, misc kernel objects the QM header embeds by value ---- */
struct list_head { struct list_head *next, *prev; };
static inline void INIT_LIST_HEAD(struct list_head *l) { l->next = l; l->prev = l; }
static inline void list_add_tail(struct list_head *n, struct list_head *head)
{
	n->prev = head->prev; n->next = head; head->prev->next = n; head->prev = n;
}
static inline void list_del(struct list_head *e)
{
	e->prev->next = e->next; e->next->prev = e->prev; e->next = e->prev = NULL;
}
struct idr { void *root; };
struct work_struct { void (*func)(struct work_struct *); };
struct workqueue_struct;
struct dentry;
struct debugfs_regset32;
typedef struct { u8 b[16]; } uuid_t;

/* debugfs is not mounted in the shim: lookups find nothing, creations fail softly, seq_file
 * output goes nowhere (a driver's debugfs hooks only read state, and nothing here reads them) */
struct seq_file { void *private; };
enum { DUMP_PREFIX_NONE, DUMP_PREFIX_ADDRESS, DUMP_PREFIX_OFFSET };
static inline bool debugfs_initialized(void) { return false; }
struct dentry *debugfs_lookup(const char *name, struct dentry *parent);
struct dentry *debugfs_create_dir(const char *name, struct dentry *parent);
struct dentry *debugfs_create_file(const char *name, umode_t mode, struct dentry *parent, void *data, const void *fops);
void debugfs_create_devm_seqfile(struct device *dev, const char *name, struct dentry *parent,
				 int (*read_fn)(struct seq_file *s, void *data));
void debugfs_remove_recursive(struct dentry *dentry);
void dput(struct dentry *dentry);
void seq_puts(struct seq_file *m, const char *s);
void seq_printf(struct seq_file *m, const char *fmt, ...) __printf(2, 3);
void seq_hex_dump(struct seq_file *m, const char *prefix_str, int prefix_type, int rowsize, int groupsize,
		  const void *buf, size_t len, bool ascii);
struct kernel_param;
struct scatterlist;
struct uacce_device;
struct uacce_queue;
struct module;
struct eventfd_ctx;
struct iommufd_ctx;
struct completion { int done; };
#define THIS_MODULE ((struct module *)0)

/* ---- allocation and user copies ---- */
#define GFP_KERNEL 0u
#define GFP_KERNEL_ACCOUNT 0u
void *kzalloc(size_t size, gfp_t flags);
void *kmalloc(size_t size, gfp_t flags);
void *kvzalloc(size_t size, gfp_t flags);
void kfree(const void *p);
void kvfree(const void *p);
unsigned long copy_from_user(void *to, const void __user *from, unsigned long n);
unsigned long copy_to_user(void __user *to, const void *from, unsigned long n);
void *memset(void *s, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int kstrtou32(const char *s, unsigned int base, u32 *res);
int param_set_int(const char *val, const struct kernel_param *kp);

/* ---- MMIO, delays and polling: forwarded to the simulated device ---- */
u32 readl(const volatile void __iomem *addr);
void writel(u32 value, volatile void __iomem *addr);
u64 readq(const volatile void __iomem *addr);
void writeq(u64 value, volatile void __iomem *addr);
void memcpy_toio(volatile void __iomem *dst, const void *src, size_t n);
#define readl_relaxed readl
#define writel_relaxed writel
void __iomem *ioremap(resource_size_t start, resource_size_t size);
void iounmap(volatile void __iomem *addr);
void udelay(unsigned long us);
void usleep_range(unsigned long min_us, unsigned long max_us);
void msleep(unsigned int ms);
#define ndelay(ns) udelay(((ns) + 999) / 1000)
#define mdelay(ms) udelay((ms) * 1000UL)
/* the kernel helper's contract: read, test, sleep the period, give up after the timeout with
 * one last read; simulated time only moves through udelay. */
#define read_poll_timeout(op, val, cond, sleep_us, timeout_us, sleep_before, args...) ({ \
	unsigned long __left = (timeout_us); \
	unsigned long __step = (sleep_us) ? (unsigned long)(sleep_us) : 1; \
	if ((sleep_before) && (sleep_us)) udelay(sleep_us); \
	for (;;) { \
		(val) = op(args); \
		if (cond) break; \
		if ((timeout_us) && __left == 0) { (val) = op(args); break; } \
		udelay(__step); \
		__left = __left > __step ? __left - __step : 0; \
	} \
	(cond) ? 0 : -ETIMEDOUT; })
#define readl_poll_timeout(addr, val, cond, delay_us, timeout_us) \
	read_poll_timeout(readl, val, cond, delay_us, timeout_us, false, addr)
#define readl_relaxed_poll_timeout readl_poll_timeout
#define readl_poll_timeout_atomic readl_poll_timeout
#define readl_relaxed_poll_timeout_atomic readl_poll_timeout

/* ---- devices ---- */
struct device_driver { const char *name; };
struct device {
	void *driver_data;
	struct device_driver *driver;
	const char *init_name;
	int shim_inst; /* which simulated function this is (harness side) */
};
static inline void *dev_get_drvdata(const struct device *d) { return d->driver_data; }
static inline void dev_set_drvdata(struct device *d, void *data) { d->driver_data = data; }
static inline const char *dev_name(const struct device *d) { return d->init_name ? d->init_name : "shim"; }

/* ---- PCI ---- */
#define PCI_VENDOR_ID_HUAWEI 0x19e5
#define PCI_DEVICE_ID_HUAWEI_ZIP_PF 0xa250
#define PCI_DEVICE_ID_HUAWEI_ZIP_VF 0xa251
#define PCI_DEVICE_ID_HUAWEI_SEC_PF 0xa255
#define PCI_DEVICE_ID_HUAWEI_SEC_VF 0xa256
#define PCI_DEVICE_ID_HUAWEI_HPRE_PF 0xa258
#define PCI_DEVICE_ID_HUAWEI_HPRE_VF 0xa259
#define PCI_ANY_ID (~0)
#define PCI_STD_NUM_BARS 6
#define PCI_ERS_RESULT_NONE 1
#define PCI_ERS_RESULT_CAN_RECOVER 2
#define PCI_ERS_RESULT_NEED_RESET 3
#define PCI_ERS_RESULT_DISCONNECT 4
#define PCI_ERS_RESULT_RECOVERED 5

struct pci_driver;
struct resource { resource_size_t start, end; };
struct pci_dev {
	struct device dev;
	unsigned short vendor;
	unsigned short device;
	u8 revision;
	unsigned int is_virtfn:1;
	unsigned int is_physfn:1;
	struct pci_dev *physfn;
	struct pci_driver *driver;
	int vf_index; /* SR-IOV VF index (harness side) */
	struct resource resource[PCI_STD_NUM_BARS];
};
#define to_pci_dev(d) container_of(d, struct pci_dev, dev)
#define pci_resource_start(p, bar) ((p)->resource[(bar)].start)
#define pci_resource_len(p, bar) ((p)->resource[(bar)].end ? (p)->resource[(bar)].end - (p)->resource[(bar)].start + 1 : 0)
#define pci_resource_end(p, bar) ((p)->resource[(bar)].end)

struct pci_device_id {
	u32 vendor, device, subvendor, subdevice, class, class_mask;
	unsigned long driver_data;
	u32 override_only;
};
#define PCI_ID_F_VFIO_DRIVER_OVERRIDE 1
#define PCI_DEVICE(v, d) .vendor = (v), .device = (d), .subvendor = PCI_ANY_ID, .subdevice = PCI_ANY_ID
#define PCI_DRIVER_OVERRIDE_DEVICE_VFIO(v, d) PCI_DEVICE(v, d), .override_only = PCI_ID_F_VFIO_DRIVER_OVERRIDE
#define PCI_VDEVICE(v, d) .vendor = PCI_VENDOR_ID_##v, .device = (d), .subvendor = PCI_ANY_ID, .subdevice = PCI_ANY_ID

struct pci_error_handlers {
	pci_ers_result_t (*error_detected)(struct pci_dev *dev, pci_channel_state_t state);
	pci_ers_result_t (*mmio_enabled)(struct pci_dev *dev);
	pci_ers_result_t (*slot_reset)(struct pci_dev *dev);
	void (*reset_prepare)(struct pci_dev *dev);
	void (*reset_done)(struct pci_dev *dev);
	void (*resume)(struct pci_dev *dev);
};
struct pci_driver {
	const char *name;
	const struct pci_device_id *id_table;
	int (*probe)(struct pci_dev *dev, const struct pci_device_id *id);
	void (*remove)(struct pci_dev *dev);
	int (*sriov_configure)(struct pci_dev *dev, int num_vfs);
	const struct pci_error_handlers *err_handler;
	struct device_driver driver;
	bool driver_managed_dma;
};
int pci_iov_vf_id(struct pci_dev *dev);
void *pci_iov_get_pf_drvdata(struct pci_dev *dev, struct pci_driver *pf_driver);
struct pci_dev *pci_physfn(struct pci_dev *dev);
struct pci_dev *pci_get_device(unsigned int vendor, unsigned int device, struct pci_dev *from);
void pci_dev_put(struct pci_dev *dev);
int pci_try_reset_function(struct pci_dev *dev);

/* module registration: the shim keeps the driver so the harness can probe functions with it */
void shim_register_pci_driver(struct pci_driver *drv);
#define module_pci_driver(drv) \
	static void __attribute__((constructor)) shim_register_##drv(void) { shim_register_pci_driver(&drv); }
#define MODULE_LICENSE(x)
#define MODULE_AUTHOR(x)
#define MODULE_DESCRIPTION(x)
#define MODULE_VERSION(x)
#define MODULE_IMPORT_NS(x)
#define MODULE_DEVICE_TABLE(type, name)
#define EXPORT_SYMBOL(x)
#define EXPORT_SYMBOL_GPL(x)
#define module_param(n, t, p)
#define MODULE_PARM_DESC(n, d)

/* ---- files: anonymous inode files with f_pos, the way VFS drives them ---- */
struct inode { int shim_unused; };
struct file;
struct poll_table_struct;
typedef unsigned int __poll_t;
struct vm_area_struct { unsigned long vm_start, vm_end, vm_pgoff, vm_flags; void *vm_private_data; };
#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)
struct file_operations {
	struct module *owner;
	loff_t (*llseek)(struct file *, loff_t, int);
	ssize_t (*read)(struct file *, char __user *, size_t, loff_t *);
	ssize_t (*write)(struct file *, const char __user *, size_t, loff_t *);
	__poll_t (*poll)(struct file *, struct poll_table_struct *);
	long (*unlocked_ioctl)(struct file *, unsigned int, unsigned long);
	long (*compat_ioctl)(struct file *, unsigned int, unsigned long);
	int (*mmap)(struct file *, struct vm_area_struct *);
	int (*open)(struct inode *, struct file *);
	int (*release)(struct inode *, struct file *);
};
#define FMODE_READ 0x1u
#define FMODE_WRITE 0x2u
#define FMODE_LSEEK 0x4u
#define FMODE_PREAD 0x8u
#define FMODE_PWRITE 0x10u
#define FMODE_ATOMIC_POS 0x8000u
#define FMODE_STREAM 0x200000u
#define O_RDONLY 00
#define O_WRONLY 01
#define O_RDWR 02
#define O_CLOEXEC 02000000
struct file {
	const struct file_operations *f_op;
	void *private_data;
	loff_t f_pos;
	struct inode *f_inode;
	fmode_t f_mode;
	unsigned int f_flags;
	long f_count;
	struct inode shim_inode;
};
struct file *anon_inode_getfile(const char *name, const struct file_operations *fops, void *priv, int flags);
int stream_open(struct inode *inode, struct file *filp);
int nonseekable_open(struct inode *inode, struct file *filp);
struct file *get_file(struct file *f);
void fput(struct file *f);
loff_t no_llseek(struct file *file, loff_t offset, int whence);
/* 32-bit user space on a 64-bit kernel: the same ioctl with the argument as a pointer */
long compat_ptr_ioctl(struct file *file, unsigned int cmd, unsigned long arg);
static inline struct inode *file_inode(const struct file *f) { return f->f_inode; }

/* ---- the VFIO core as drivers see it ---- */
#include <uapi/linux/vfio.h>
struct vfio_device;
struct vfio_migration_ops {
	struct file *(*migration_set_state)(struct vfio_device *device, enum vfio_device_mig_state new_state);
	int (*migration_get_state)(struct vfio_device *device, enum vfio_device_mig_state *curr_state);
	int (*migration_get_data_size)(struct vfio_device *device, unsigned long *stop_copy_length);
};
struct vfio_log_ops;
struct vfio_info_cap { struct vfio_info_cap_header *buf; size_t size; };
struct vfio_device_ops {
	char *name;
	int (*init)(struct vfio_device *vdev);
	void (*release)(struct vfio_device *vdev);
	int (*bind_iommufd)(struct vfio_device *vdev, struct iommufd_ctx *ictx, u32 *out_device_id);
	void (*unbind_iommufd)(struct vfio_device *vdev);
	int (*attach_ioas)(struct vfio_device *vdev, u32 *pt_id);
	void (*detach_ioas)(struct vfio_device *vdev);
	int (*open_device)(struct vfio_device *vdev);
	void (*close_device)(struct vfio_device *vdev);
	ssize_t (*read)(struct vfio_device *vdev, char __user *buf, size_t count, loff_t *ppos);
	ssize_t (*write)(struct vfio_device *vdev, const char __user *buf, size_t count, loff_t *size);
	long (*ioctl)(struct vfio_device *vdev, unsigned int cmd, unsigned long arg);
	int (*mmap)(struct vfio_device *vdev, struct vm_area_struct *vma);
	void (*request)(struct vfio_device *vdev, unsigned int count);
	int (*match)(struct vfio_device *vdev, char *buf);
	void (*dma_unmap)(struct vfio_device *vdev, u64 iova, u64 length);
	int (*device_feature)(struct vfio_device *device, u32 flags, void __user *arg, size_t argsz);
	/* newer cores: region info through the core, token match */
	int (*get_region_info_caps)(struct vfio_device *vdev, struct vfio_region_info *info, struct vfio_info_cap *caps);
	int (*match_token_uuid)(struct vfio_device *vdev, const uuid_t *uuid);
};
struct vfio_device {
	struct device *dev;
	const struct vfio_device_ops *ops;
	const struct vfio_migration_ops *mig_ops;
	const struct vfio_log_ops *log_ops;
	u32 migration_flags;
	int open_count;
	struct dentry *debug_root;
	void *shim_priv;
};
int vfio_mig_get_next_state(struct vfio_device *device, enum vfio_device_mig_state cur_fsm,
			    enum vfio_device_mig_state new_fsm, enum vfio_device_mig_state *next_fsm);
struct vfio_device *_vfio_alloc_device(size_t size, struct device *dev, const struct vfio_device_ops *ops);
/* the core requires the vfio_device to be the first member of the driver's struct */
#define vfio_alloc_device(dev_struct, member, dev, ops) \
	container_of(({ _Static_assert(offsetof(struct dev_struct, member) == 0, "vfio_device must come first"); \
		_vfio_alloc_device(sizeof(struct dev_struct), dev, ops); }), struct dev_struct, member)
void vfio_put_device(struct vfio_device *device);
/* iommufd binding of a physical device: no IOMMU here, the harness never binds one */
int vfio_iommufd_physical_bind(struct vfio_device *vdev, struct iommufd_ctx *ictx, u32 *out_device_id);
void vfio_iommufd_physical_unbind(struct vfio_device *vdev);
int vfio_iommufd_physical_attach_ioas(struct vfio_device *vdev, u32 *pt_id);
void vfio_iommufd_physical_detach_ioas(struct vfio_device *vdev);

/* vfio-pci core: the parts of a PCI VFIO device a variant driver delegates to */
#define VFIO_PCI_OFFSET_SHIFT 40
#define VFIO_PCI_OFFSET_TO_INDEX(off) ((off) >> VFIO_PCI_OFFSET_SHIFT)
#define VFIO_PCI_INDEX_TO_OFFSET(index) ((u64)(index) << VFIO_PCI_OFFSET_SHIFT)
#define VFIO_PCI_OFFSET_MASK (((u64)(1) << VFIO_PCI_OFFSET_SHIFT) - 1)
struct vfio_pci_core_device {
	struct vfio_device vdev;
	struct pci_dev *pdev;
};
int vfio_pci_core_init_dev(struct vfio_device *core_vdev);
void vfio_pci_core_release_dev(struct vfio_device *core_vdev);
int vfio_pci_core_register_device(struct vfio_pci_core_device *vdev);
void vfio_pci_core_unregister_device(struct vfio_pci_core_device *vdev);
int vfio_pci_core_enable(struct vfio_pci_core_device *vdev);
void vfio_pci_core_disable(struct vfio_pci_core_device *vdev);
void vfio_pci_core_finish_enable(struct vfio_pci_core_device *vdev);
void vfio_pci_core_close_device(struct vfio_device *core_vdev);
long vfio_pci_core_ioctl(struct vfio_device *core_vdev, unsigned int cmd, unsigned long arg);
int vfio_pci_core_ioctl_feature(struct vfio_device *device, u32 flags, void __user *arg, size_t argsz);
ssize_t vfio_pci_core_read(struct vfio_device *core_vdev, char __user *buf, size_t count, loff_t *ppos);
ssize_t vfio_pci_core_write(struct vfio_device *core_vdev, const char __user *buf, size_t count, loff_t *ppos);
int vfio_pci_core_mmap(struct vfio_device *core_vdev, struct vm_area_struct *vma);
void vfio_pci_core_request(struct vfio_device *core_vdev, unsigned int count);
int vfio_pci_core_match(struct vfio_device *core_vdev, char *buf);
int vfio_pci_core_match_token_uuid(struct vfio_device *core_vdev, const uuid_t *uuid);
int vfio_pci_ioctl_get_region_info(struct vfio_device *core_vdev, struct vfio_region_info *info, struct vfio_info_cap *caps);
pci_ers_result_t vfio_pci_core_aer_err_detected(struct pci_dev *pdev, pci_channel_state_t state);

#endif
