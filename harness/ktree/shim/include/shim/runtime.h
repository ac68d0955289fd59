/*
 * migcompat shim runtime: what the harness (TypeScript, through koffi) calls, and the callbacks
 * it registers. One loaded library holds any number of simulated functions ("instances"); an
 * instance is one VF with its PF, probed by the driver the library was built from.
 */
#ifndef MIGCOMPAT_SHIM_RUNTIME_H
#define MIGCOMPAT_SHIM_RUNTIME_H
#include <shim/kernel.h>

#define SHIM_MAX_INST 2048
#define SHIM_SPACE_VF 0
#define SHIM_SPACE_PF 1
/* fake bus addresses: ioremap hands them back as cookies; only readl/writel decode them */
#define SHIM_IO_BASE 0x0000100000000000ULL
#define SHIM_IO_ADDR(inst, space) (SHIM_IO_BASE | ((u64)(inst) << 33) | ((u64)(space) << 32))

typedef u32 shim_read32_fn(int inst, int space, u32 off);
typedef void shim_write32_fn(int inst, int space, u32 off, u32 val);
typedef void shim_write64_fn(int inst, int space, u32 off, u64 val);
typedef void shim_write128_fn(int inst, int space, u32 off, u64 lo, u64 hi);
typedef void shim_delay_fn(u32 us);
/* each answer of the core's state walk (ret: 0 with next, -errno, or SHIM_CORE_HANG); a non-zero
 * return ends the SET request as a hang (the harness's bound on a driver's walk) */
typedef int shim_core_step_fn(int inst, u32 cur, u32 target, int ret, u32 next);
typedef void shim_log_fn(int inst, int level, const char *msg);

void shim_set_callbacks(shim_read32_fn *r32, shim_write32_fn *w32, shim_write64_fn *w64,
			shim_write128_fn *w128, shim_delay_fn *delay, shim_core_step_fn *step,
			shim_log_fn *log);

/* core.c: the tree's state walk under a CPU-time budget; its answers go to the harness */
#define SHIM_CORE_BUDGET_MS 1000
/* not errnos: the core's walk never returned / a SET request was abandoned as a hang */
#define SHIM_CORE_HANG (-100000)
#define SHIM_SET_HANG (-100001)
/* 64-bit MMIO stores in one SET request past the model's start_device bound (START_DEVICE_BOUND,
 * docs/revisions.md): the driver's doorbell loop over a scrambled u32 qp_num, ended as the model
 * ends it (only doorbells are 64-bit stores) */
#define SHIM_DOORBELL_BOUND 0x10000
#define SHIM_DOORBELL_HANG (-100002)
int shim_core_step(int inst, u32 cur, u32 target, int ret, u32 next);
void shim_hold_log(bool hold);
void shim_set_core_budget(unsigned int ms);

/* host/watchdog.c (compiled against the C library): budgets and exits for driver code */
int shim_bounded_call(int (*fn)(void *), void *arg, unsigned int budget_ms, int *ret);
int shim_guarded(void (*fn)(void *), void *arg);
void shim_escape(void);
void shim_pause(void);

/* glue.c: the only code that knows the driver's own structs (compiled against the tree's headers) */
void *shim_glue_new_pf_qm(struct pci_dev *pf, void __iomem *io_base, int hw_ver);
void shim_glue_free_pf_qm(void *qm);
int shim_glue_vf_qm(struct vfio_device *vdev, u64 *dma4, u32 *qp);
#endif
