// SPDX-License-Identifier: GPL-2.0
/*
 * zccheck: commits, on purpose and once, the bug that each of the debug
 * kernel's checkers exists to catch, chosen by the "bug" parameter:
 *
 *	none		nothing (the control: this module itself is clean)
 *	uaf		reads a kmalloc'ed object after kfree (KASAN)
 *	kfence		reads past a KFENCE-guarded object (KFENCE)
 *	leak		loses the only pointers to kmalloc'ed objects (kmemleak)
 *	abba		takes two mutexes in both orders (lockdep)
 *	atomic_sleep	a GFP_KERNEL allocation under a spinlock
 *			(DEBUG_ATOMIC_SLEEP)
 *	shift		shifts a 32-bit value by 40 (UBSAN shift)
 *	bounds		indexes past the end of an array (UBSAN bounds)
 *	page_ref	drops a page reference it does not hold (DEBUG_VM)
 *	hung		sleeps uninterruptibly for "secs" seconds (the hung task
 *			detector, with kernel.hung_task_timeout_secs set below)
 *	rcustall	spins with preemption off for "secs" seconds (RCU's CPU
 *			stall warning, with rcupdate.rcu_cpu_stall_timeout set
 *			below)
 *
 * Used only by scripts/tests/test-checkers, in guests of the 6.12 debug kernel
 * (every case) and of Debian's stock kernels (hung, rcustall); never part
 * of zcsend. The values that make each bug happen come from
 * module parameters, so the compiler cannot see (and warn about, or fold
 * away) what happens at run time.
 */
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/kfence.h>
#include <linux/module.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/preempt.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>

static char *bug = "none";
module_param(bug, charp, 0444);
MODULE_PARM_DESC(bug, "which bug to commit (see the source)");

static int shift = 40;
module_param(shift, int, 0444);
MODULE_PARM_DESC(shift, "the shift count for bug=shift");

static int idx = 4;
module_param(idx, int, 0444);
MODULE_PARM_DESC(idx, "the array index for bug=bounds");

static size_t size = 48;
module_param(size, ulong, 0444);
MODULE_PARM_DESC(size, "the object size for bug=uaf and bug=leak");

static int secs = 8;
module_param(secs, int, 0444);
MODULE_PARM_DESC(secs, "how long bug=hung sleeps and bug=rcustall spins");

static DEFINE_MUTEX(lock_a);
static DEFINE_MUTEX(lock_b);
static DEFINE_SPINLOCK(lock_s);
static int table[4];

static int use_after_free(void)
{
	char *p = kmalloc(size, GFP_KERNEL);
	char c;

	if (!p)
		return -ENOMEM;
	memset(p, 0x5a, size);
	kfree(p);
	OPTIMIZER_HIDE_VAR(p);
	c = READ_ONCE(p[0]);
	pr_info("read %#x after free\n", c);
	return 0;
}

/*
 * KFENCE guards one allocation in a while (every kfence.sample_interval ms,
 * 100 here): allocate until one lands in its pool, then read the byte just
 * outside it, which is on a guard page. KASAN does not instrument KFENCE
 * objects, so the fault is KFENCE's to report. Gives up after 30 s.
 */
static int kfence_oob(void)
{
	unsigned long until = jiffies + 30 * HZ;
	char *p, c;
	long off;

	do {
		p = kmalloc(size, GFP_KERNEL);
		if (!p)
			return -ENOMEM;
		if (is_kfence_address(p))
			break;
		kfree(p);
		p = NULL;
		usleep_range(1000, 2000);
	} while (time_before(jiffies, until));
	if (!p) {
		pr_err("no KFENCE allocation in 30 s\n");
		return -ETIMEDOUT;
	}
	/*
	 * The object sits at one end of its page, but at the right end only
	 * up to the cache's alignment (canary bytes may follow it): step onto
	 * the guard page itself, the first byte after the page or the last
	 * before it.
	 */
	off = offset_in_page(p) ? (long)(PAGE_SIZE - offset_in_page(p)) : -1;
	OPTIMIZER_HIDE_VAR(off);
	c = READ_ONCE(p[off]);
	pr_info("read %#x next to a KFENCE object\n", c);
	kfree(p);
	return 0;
}

/*
 * Many objects, not one: kmemleak's scan is conservative, and a stale copy
 * of a pointer (a stack slot, a saved register, a free-list pointer left in
 * a neighbouring slab object) keeps an object "referenced". Guests here
 * reported 3, 7 and 8 of eight; one object alone was missed in a run, and
 * CI's run of 2026-12-07 failed the case with eight (why, its log did not
 * keep): LEAK_OBJECTS makes a miss of every one less likely still.
 */
#define LEAK_OBJECTS	32

static int leak(void)
{
	char *p;
	int i;

	for (i = 0; i < LEAK_OBJECTS; i++) {
		p = kmalloc(size, GFP_KERNEL);
		if (!p)
			return -ENOMEM;
		/* No pointer-like bytes inside: it references nothing. */
		memset(p, 0x5a, size);
		OPTIMIZER_HIDE_VAR(p);
	}
	pr_info("leaked %d objects of %zu bytes\n", LEAK_OBJECTS, size);
	return 0;
}

static int abba(void)
{
	mutex_lock(&lock_a);
	mutex_lock(&lock_b);
	mutex_unlock(&lock_b);
	mutex_unlock(&lock_a);

	mutex_lock(&lock_b);
	mutex_lock(&lock_a);
	mutex_unlock(&lock_a);
	mutex_unlock(&lock_b);
	return 0;
}

static int atomic_sleep(void)
{
	void *p;

	spin_lock(&lock_s);
	p = kmalloc(size, GFP_KERNEL);
	spin_unlock(&lock_s);
	kfree(p);
	return 0;
}

static int bad_shift(void)
{
	u32 one = 1;

	pr_info("1 << %d = %u\n", shift, one << shift);
	return 0;
}

static int out_of_bounds(void)
{
	pr_info("table[%d] = %d\n", idx, table[idx]);
	return 0;
}

static int page_ref(void)
{
	struct page *page = alloc_page(GFP_KERNEL);

	if (!page)
		return -ENOMEM;
	put_page(page);
	put_page(page);
	return 0;
}

/*
 * In D state (TASK_UNINTERRUPTIBLE) for "secs" seconds: khungtaskd reports
 * a task that did not run for hung_task_timeout_secs, which the test sets
 * to 1 for this case.
 */
static int hung(void)
{
	schedule_timeout_uninterruptible(secs * HZ);
	pr_info("slept %d s uninterruptibly\n", secs);
	return 0;
}

/*
 * Busy for "secs" seconds with preemption off: this CPU cannot pass a
 * quiescent state, and RCU reports the stall once the grace period is
 * older than rcu_cpu_stall_timeout (3 s, its minimum, in the test). An
 * idle guest may have no grace period in flight: start one once the CPU
 * can no longer pass a quiescent state. The tick still runs (interrupts
 * stay on), so jiffies advance.
 */
static int rcu_stall(void)
{
	unsigned long until = jiffies + secs * HZ;

	preempt_disable();
	start_poll_synchronize_rcu();
	while (time_before(jiffies, until))
		cpu_relax();
	preempt_enable();
	pr_info("spun %d s with preemption off\n", secs);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(void);
} bugs[] = {
	{ "uaf", use_after_free },
	{ "kfence", kfence_oob },
	{ "leak", leak },
	{ "abba", abba },
	{ "atomic_sleep", atomic_sleep },
	{ "shift", bad_shift },
	{ "bounds", out_of_bounds },
	{ "page_ref", page_ref },
	{ "hung", hung },
	{ "rcustall", rcu_stall },
};

static int __init zccheck_init(void)
{
	size_t i;

	if (!strcmp(bug, "none"))
		return 0;
	for (i = 0; i < ARRAY_SIZE(bugs); i++)
		if (!strcmp(bug, bugs[i].name))
			return bugs[i].fn();
	pr_err("unknown bug \"%s\"\n", bug);
	return -EINVAL;
}

static void __exit zccheck_exit(void)
{
}

module_init(zccheck_init);
module_exit(zccheck_exit);
MODULE_DESCRIPTION("Commits one bug on purpose, to prove a debug checker fires");
MODULE_LICENSE("GPL");
