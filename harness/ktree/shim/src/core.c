/*
 * The VFIO core's state walk as drivers call it. The work is done by the tree's own
 * vfio_mig_get_next_state, compiled from its source under another name (harness/ktree/coreUnit.ts);
 * this wrapper only runs it under a CPU-time budget and tells the harness each answer:
 * - the tree's function is pure (flags, cur, target in; next state or -EINVAL out) and returns in
 *   microseconds or never (the v6.2 core's skip loop spins forever on a blocked arc). Not
 *   returning within the budget is that spin: the SET request is abandoned as a hang, never
 *   turned into an errno the kernel would not return.
 * - the harness records each arc and may end a walk that exceeds its bound (a driver whose loop
 *   never reaches the target), also as a hang.
 */
#include <shim/runtime.h>

int shim_tree_vfio_mig_get_next_state(struct vfio_device *device, enum vfio_device_mig_state cur_fsm,
				      enum vfio_device_mig_state new_fsm, enum vfio_device_mig_state *next_fsm);

/* generous against a function that needs well under a millisecond (harness may change it) */
static unsigned int core_budget_ms = SHIM_CORE_BUDGET_MS;

void shim_set_core_budget(unsigned int ms) { core_budget_ms = ms ? ms : SHIM_CORE_BUDGET_MS; }

struct core_call {
	struct vfio_device *device;
	enum vfio_device_mig_state cur, target;
	enum vfio_device_mig_state *next;
};

static int call_tree_core(void *p)
{
	struct core_call *c = p;

	return shim_tree_vfio_mig_get_next_state(c->device, c->cur, c->target, c->next);
}

/* the tree's answer, SHIM_CORE_HANG when it never came */
static int ask_tree_core(struct core_call *c)
{
	int ret = 0;
	int r;

	shim_hold_log(true); /* no harness callback inside the budget */
	r = shim_bounded_call(call_tree_core, c, core_budget_ms, &ret);
	shim_hold_log(false);
	if (r == 0)
		return ret;
	if (r > 0)
		return SHIM_CORE_HANG;
	/* no CPU-time timer here: ask without a budget, as the kernel would */
	shim_log(SHIM_LOG_WARN, NULL, "no CPU-time timer: the core's state walk runs unbounded");
	return call_tree_core(c);
}

int vfio_mig_get_next_state(struct vfio_device *device, enum vfio_device_mig_state cur_fsm,
			    enum vfio_device_mig_state new_fsm, enum vfio_device_mig_state *next_fsm)
{
	struct core_call c = { device, cur_fsm, new_fsm, next_fsm };
	int inst = device && device->dev ? device->dev->shim_inst : -1;
	int ret = ask_tree_core(&c);

	if (shim_core_step(inst, (u32)cur_fsm, (u32)new_fsm, ret, ret ? 0u : (u32)*next_fsm) || ret == SHIM_CORE_HANG) {
		shim_escape();
		/* no guarded entry: the kernel would never return either */
		shim_log(SHIM_LOG_ERR, NULL, "state walk hang outside a guarded SET request");
		for (;;)
			shim_pause();
	}
	return ret;
}

/* The core alone, for comparing it with a model's table: flags, cur and target in; 0 with the
 * next state, a negative errno, or SHIM_CORE_HANG. */
int shim_core_next_state(u32 flags, u32 cur, u32 target, u32 *next)
{
	struct vfio_device dev = { .migration_flags = flags };
	enum vfio_device_mig_state n = VFIO_DEVICE_STATE_ERROR;
	struct core_call c = { &dev, (enum vfio_device_mig_state)cur, (enum vfio_device_mig_state)target, &n };
	int ret = ask_tree_core(&c);

	*next = (u32)n;
	return ret;
}
