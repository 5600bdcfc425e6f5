/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zcsend: internal interfaces between the parts of the module.
 */
#ifndef _ZCSEND_H
#define _ZCSEND_H

#include <linux/bits.h>
#include <linux/types.h>
#include <uapi/linux/zcsend.h>

struct file;

/*
 * Counters, indexed by the netlink attribute that reports them, so that
 * the statistics and the uapi cannot drift apart.
 */
#define ZCSEND_STAT_FIRST	ZCSEND_A_STATS_CALLS
#define ZCSEND_STAT_NR		(ZCSEND_A_STATS_MAX + 1)

void zcsend_stat_add(unsigned int id, u64 val);

/*
 * One call's counts, summed as it goes and added in one update. A call
 * sends at most MAX_RW_COUNT bytes (2 GiB - 4 KiB), so each count fits in
 * 32 bits. @set: a bit per counter that has a count, so that the update
 * touches only those (a call counts five of the sixteen).
 */
struct zcsend_stats_delta {
	u32	val[ZCSEND_STAT_NR];
	u32	set;
};

static inline void zcsend_stats_delta_add(struct zcsend_stats_delta *d,
					  unsigned int id, u32 val)
{
	d->val[id] += val;
	d->set |= BIT(id);
}

void zcsend_stats_commit(const struct zcsend_stats_delta *d);
void zcsend_stats_read_cpu(int cpu, u64 *vals);
void zcsend_stats_read_sum(u64 *vals);
void zcsend_stats_reset(void);
int zcsend_stats_init(void);
void zcsend_stats_exit(void);

/* The send path (send.c), and its tunable (module parameter and netlink). */
long zcsend_ioctl_sendfile(void __user *arg);
long zcsend_ioctl_sendvec(void __user *arg);
int zcsend_file_in(struct zcsend_file *k, void __user *arg);
ssize_t zcsend_sendfile(const struct zcsend_file *k, void __user *arg,
			bool *punt);
int zcsend_vec_in(struct zcsend_vec *k, void __user *arg);
ssize_t zcsend_sendvec(const struct zcsend_vec *k, void __user *arg,
		       bool *punt);
unsigned int zcsend_batch_pages_get(void);
int zcsend_batch_pages_set(unsigned int pages);

/* The io_uring commands (uring.c): file_operations.uring_cmd. */
struct io_uring_cmd;
int zcsend_uring_cmd(struct io_uring_cmd *cmd, unsigned int issue_flags);

/* ZCSEND_F_NOWAIT: what the page cache holds (nowait.c). */
int zcsend_nowait_check(struct file *file);
size_t zcsend_nowait_cached(struct file *file, loff_t pos, size_t len);
void zcsend_nowait_miss(struct file *file, loff_t pos, size_t len,
			struct zcsend_stats_delta *d);

/* ZCSEND_F_DROP: drop the call's pages once released (drop.c). */
struct bio_vec;
struct socket;
struct ubuf_info;
struct zcsend_drop;
struct zcsend_drop *zcsend_drop_alloc(unsigned int max,
				      struct ubuf_info *notify);
void zcsend_drop_add(struct zcsend_drop *d, struct file *file, loff_t pos,
		     size_t len);
int zcsend_drop_send(struct zcsend_drop *d, struct socket *sock,
		     struct bio_vec *bv, unsigned int nr, size_t len, int flags);
void zcsend_drop_put(struct zcsend_drop *d);
int zcsend_drop_init(void);
void zcsend_drop_exit(void);

/* Generic netlink (netlink.c). */
int zcsend_genl_init(void);
void zcsend_genl_exit(void);

#endif /* _ZCSEND_H */
