/*
 * migcompat shim, host side (compiled against the C library, not the kernel shim): how the shim
 * runs a pure function of the tree under a CPU-time budget, and how it leaves driver code that
 * would never return.
 *
 * - shim_bounded_call: run fn under a timer on this thread's CPU clock. The kernel function it is
 *   used for (the VFIO core's state walk) reads no device and takes no lock: it returns within
 *   microseconds or never. When the budget expires, the timer's signal jumps back here and the
 *   call is reported as not returning.
 * - shim_guarded / shim_escape: an exit point around one harness entry into driver code (a SET
 *   request). Escaping abandons the driver's frames where the kernel would spin forever; nothing
 *   of the harness (no JavaScript frame) lies between the two.
 * Both use sigsetjmp/siglongjmp within C frames of the calling thread only.
 */
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SHIM_BUDGET_SIGNAL SIGVTALRM

static __thread sigjmp_buf *budget_jump;
static __thread sigjmp_buf *escape_jump;
static __thread timer_t cpu_timer;
static __thread int timer_ready; /* 0 not tried, 1 ready, -1 unavailable */
static int handler_installed;

static void on_budget(int sig, siginfo_t *info, void *uc)
{
	(void)sig; (void)info; (void)uc;
	if (budget_jump)
		siglongjmp(*budget_jump, 1);
}

static int ensure_timer(void)
{
	struct sigaction sa;
	struct sigevent sev;

	if (timer_ready)
		return timer_ready > 0 ? 0 : -1;
	timer_ready = -1;
	if (!handler_installed) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = on_budget;
		sa.sa_flags = SA_SIGINFO;
		sigemptyset(&sa.sa_mask);
		if (sigaction(SHIM_BUDGET_SIGNAL, &sa, NULL))
			return -1;
		handler_installed = 1;
	}
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = SHIM_BUDGET_SIGNAL;
#ifdef sigev_notify_thread_id
	sev.sigev_notify_thread_id = gettid();
#else
	sev._sigev_un._tid = gettid();
#endif
	if (timer_create(CLOCK_THREAD_CPUTIME_ID, &sev, &cpu_timer))
		return -1;
	timer_ready = 1;
	return 0;
}

static void set_timer(unsigned int ms)
{
	struct itimerspec its;

	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = ms / 1000;
	its.it_value.tv_nsec = (long)(ms % 1000) * 1000000L;
	timer_settime(cpu_timer, 0, &its, NULL);
}

/* 0: fn returned (its result in *ret); 1: it did not return within budget_ms of CPU time;
 * -1: no CPU-time timer on this system (fn was not called) */
int shim_bounded_call(int (*fn)(void *), void *arg, unsigned int budget_ms, int *ret)
{
	sigjmp_buf jb;

	if (ensure_timer())
		return -1;
	if (sigsetjmp(jb, 1)) {
		budget_jump = NULL;
		set_timer(0);
		return 1;
	}
	budget_jump = &jb;
	set_timer(budget_ms ? budget_ms : 1);
	*ret = fn(arg);
	budget_jump = NULL;
	set_timer(0);
	return 0;
}

/* 0: fn returned; 1: something inside it called shim_escape */
int shim_guarded(void (*fn)(void *), void *arg)
{
	sigjmp_buf jb;
	sigjmp_buf *outer = escape_jump;

	if (sigsetjmp(jb, 1)) {
		escape_jump = outer;
		return 1;
	}
	escape_jump = &jb;
	fn(arg);
	escape_jump = outer;
	return 0;
}

/* leave the innermost guarded call; returns only when there is none */
void shim_escape(void)
{
	if (escape_jump)
		siglongjmp(*escape_jump, 1);
}

/* wait forever, as a task that never returns from the kernel does */
void shim_pause(void)
{
	pause();
}
