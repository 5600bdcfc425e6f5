// SPDX-License-Identifier: GPL-2.0
/*
 * zcsend: per-CPU counters.
 *
 * Each CPU bumps its own counters under u64_stats_sync, so a reader on
 * another CPU sees whole 64-bit values on every architecture. A reset does
 * not write other CPUs' counters (that would race with their updates):
 * it records the current values as a baseline that reads subtract.
 */
#include <linux/bitops.h>
#include <linux/cpumask.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/u64_stats_sync.h>

#include "zcsend.h"

struct zcsend_pcpu_stats {
	u64_stats_t		val[ZCSEND_STAT_NR];
	struct u64_stats_sync	syncp;
	u64			base[ZCSEND_STAT_NR];	/* under zcsend_stats_lock */
};

static struct zcsend_pcpu_stats __percpu *zcsend_stats;
static DEFINE_MUTEX(zcsend_stats_lock);

/**
 * zcsend_stat_add() - add to one of this CPU's counters
 * @id: an enum zcsend_a_stats value, ZCSEND_STAT_FIRST or above
 * @val: amount to add
 *
 * Process context only.
 */
void zcsend_stat_add(unsigned int id, u64 val)
{
	struct zcsend_pcpu_stats *s;

	if (WARN_ON_ONCE(id < ZCSEND_STAT_FIRST || id >= ZCSEND_STAT_NR))
		return;

	s = get_cpu_ptr(zcsend_stats);
	u64_stats_update_begin(&s->syncp);
	u64_stats_add(&s->val[id], val);
	u64_stats_update_end(&s->syncp);
	put_cpu_ptr(zcsend_stats);
}

/**
 * zcsend_stats_commit() - add one call's counts to this CPU's counters
 * @d: the amounts of the counters in its @set, ZCSEND_STAT_FIRST and above
 *
 * One update section for all of a call's counters rather than one per
 * counter, and only of the counters it counted. Process context only.
 */
void zcsend_stats_commit(const struct zcsend_stats_delta *d)
{
	struct zcsend_pcpu_stats *s;
	unsigned long set = d->set;
	unsigned int i;

	BUILD_BUG_ON(BITS_PER_TYPE(d->set) < ZCSEND_STAT_NR);
	s = get_cpu_ptr(zcsend_stats);
	u64_stats_update_begin(&s->syncp);
	for (; set; set &= set - 1) {
		i = __ffs(set);
		u64_stats_add(&s->val[i], d->val[i]);
	}
	u64_stats_update_end(&s->syncp);
	put_cpu_ptr(zcsend_stats);
}

static void zcsend_stats_fetch(int cpu, u64 *vals)
{
	struct zcsend_pcpu_stats *s = per_cpu_ptr(zcsend_stats, cpu);
	unsigned int start, i;

	do {
		start = u64_stats_fetch_begin(&s->syncp);
		for (i = 0; i < ZCSEND_STAT_NR; i++)
			vals[i] = u64_stats_read(&s->val[i]);
	} while (u64_stats_fetch_retry(&s->syncp, start));
}

/**
 * zcsend_stats_read_cpu() - one CPU's counters since the last reset
 * @cpu: a possible CPU
 * @vals: ZCSEND_STAT_NR values, filled in
 */
void zcsend_stats_read_cpu(int cpu, u64 *vals)
{
	struct zcsend_pcpu_stats *s = per_cpu_ptr(zcsend_stats, cpu);
	unsigned int i;

	mutex_lock(&zcsend_stats_lock);
	zcsend_stats_fetch(cpu, vals);
	for (i = 0; i < ZCSEND_STAT_NR; i++)
		vals[i] -= s->base[i];
	mutex_unlock(&zcsend_stats_lock);
}

/**
 * zcsend_stats_read_sum() - counters summed over all CPUs since the last reset
 * @vals: ZCSEND_STAT_NR values, filled in
 */
void zcsend_stats_read_sum(u64 *vals)
{
	u64 cpu_vals[ZCSEND_STAT_NR];
	unsigned int i;
	int cpu;

	memset(vals, 0, sizeof(u64) * ZCSEND_STAT_NR);
	for_each_possible_cpu(cpu) {
		zcsend_stats_read_cpu(cpu, cpu_vals);
		for (i = 0; i < ZCSEND_STAT_NR; i++)
			vals[i] += cpu_vals[i];
	}
}

/**
 * zcsend_stats_reset() - make every counter read zero from now on
 */
void zcsend_stats_reset(void)
{
	int cpu;

	mutex_lock(&zcsend_stats_lock);
	for_each_possible_cpu(cpu) {
		struct zcsend_pcpu_stats *s = per_cpu_ptr(zcsend_stats, cpu);

		zcsend_stats_fetch(cpu, s->base);
	}
	mutex_unlock(&zcsend_stats_lock);
}

/**
 * zcsend_stats_init() - allocate the per-CPU counters
 *
 * Return: 0 or -ENOMEM.
 */
int zcsend_stats_init(void)
{
	int cpu;

	zcsend_stats = alloc_percpu(struct zcsend_pcpu_stats);
	if (!zcsend_stats)
		return -ENOMEM;

	for_each_possible_cpu(cpu)
		u64_stats_init(&per_cpu_ptr(zcsend_stats, cpu)->syncp);
	return 0;
}

/**
 * zcsend_stats_exit() - free the per-CPU counters
 */
void zcsend_stats_exit(void)
{
	free_percpu(zcsend_stats);
}
