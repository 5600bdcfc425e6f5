// SPDX-License-Identifier: GPL-2.0
/*
 * zcsend: ZCSEND_F_DROP, dropping a call's clean pages from the page cache
 * once the network stack has let go of them.
 *
 * The call's pages go to TCP as MSG_ZEROCOPY sends carrying the module's
 * own ubuf_info (one per call), as io_uring's SEND_ZC carries its own: every
 * skb that holds any of the call's pages holds a reference on it. Its
 * completion callback runs when the last one goes, often in softirq, so it
 * only queues a work item; the work drops the pages in process context and
 * then, for ZCSEND_F_NOTIFY, puts the call's MSG_ZEROCOPY ubuf, which queues
 * the notification: a caller that reads it knows the drop is done.
 *
 * Why the work runs on the CPU that queued it (a bound workqueue): the
 * kernel calls the callback in skb_release_data() before it drops the
 * skb's own page references (skb_zcopy_clear(), then the frags). Work run
 * on another CPU could find the last skb's pages still referenced, and
 * skip them; on the same CPU it runs once that function has returned. See
 * zcsend_drop_range() for the other references that make a page busy.
 *
 * Lifetime: each pending call holds a module reference (its callback is
 * module code) and a reference on each file it sent from. Both are dropped
 * by the work, on the module's own workqueue, which module exit destroys
 * (so it waits for the last work to return); the callback queues the work
 * inside an RCU read-side section, and exit waits for a grace period, so
 * no callback is still returning into module text either.
 */
#include <linux/backing-dev.h>
#include <linux/dcache.h>
#include <linux/fadvise.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/pagevec.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <net/sock.h>

#include "compat.h"
#include "zcsend.h"

/* A byte range of one file that the call queued. @file: a reference. */
struct zcsend_drop_range {
	struct file	*file;
	loff_t		start;
	loff_t		end;		/* exclusive */
};

struct zcsend_drop {
	struct ubuf_info	ubuf;	/* on every skb with the call's pages */
	struct delayed_work	work;
	unsigned int		tries;	/* retries made (ZCSEND_DROP_RETRIES) */
	struct ubuf_info	*notify; /* ZCSEND_F_NOTIFY: the call's id */
	bool			copied;	/* some skb was copied: not zero-copy */
	unsigned int		nr;
	unsigned int		max;
	struct zcsend_drop_range range[];
};

static struct workqueue_struct *zcsend_drop_wq;

/* Clean and not mapped: a folio the drop should have dropped. */
static bool zcsend_drop_droppable(struct folio *folio)
{
	return !folio_test_dirty(folio) && !folio_test_writeback(folio) &&
	       !folio_mapped(folio);
}

/*
 * A folio that invalidate_mapping_pages() would drop but for a per-CPU
 * LRU batch: clean, not mapped, and not on an LRU list. folio_add_lru()
 * (every page cache insertion: the read that gathered the call's pages)
 * parks a new folio, with a reference, in a per-CPU batch of up to 15
 * (6.1) or 31 (6.12) folios, until that CPU drains it. Folios another CPU
 * read stay there while that CPU adds no page: those cannot be dropped,
 * and only lru_add_drain_all() (not exported) drains them.
 */
static bool zcsend_drop_parked(struct folio *folio)
{
	return !folio_test_lru(folio) && zcsend_drop_droppable(folio);
}

/* Runs of parked pages found in one lookup batch, dropped after it. */
#define ZCSEND_DROP_RUNS	8

struct zcsend_drop_runs {
	unsigned int	nr;
	pgoff_t		start[ZCSEND_DROP_RUNS];
	pgoff_t		end[ZCSEND_DROP_RUNS];	/* exclusive */
};

/*
 * Add [@start, @end), joined to the last run when it follows it. A run
 * never bridges a gap: POSIX_FADV_DONTNEED would start writeback of a
 * dirty page in it.
 * Return: false when every run is taken and a new one is needed.
 */
static bool zcsend_drop_runs_add(struct zcsend_drop_runs *runs, pgoff_t start,
				 pgoff_t end)
{
	unsigned int n = runs->nr;

	if (n && runs->end[n - 1] == start) {
		runs->end[n - 1] = end;
		return true;
	}
	if (n == ZCSEND_DROP_RUNS)
		return false;
	runs->start[n] = start;
	runs->end[n] = end;
	runs->nr++;
	return true;
}

static void zcsend_drop_runs_flush(struct zcsend_drop_runs *runs,
				   struct file *file)
{
	unsigned int i;

	for (i = 0; i < runs->nr; i++)
		vfs_fadvise(file, (loff_t)runs->start[i] << PAGE_SHIFT,
			    (loff_t)(runs->end[i] - runs->start[i]) << PAGE_SHIFT,
			    POSIX_FADV_DONTNEED);
	runs->nr = 0;
}

/*
 * Drop the parked folios of [@first, @last] with POSIX_FADV_DONTNEED,
 * which drains every CPU's batches when a folio resists. It also starts
 * writeback of dirty pages, but only of its range: runs of parked pages,
 * clean when they were looked up. Each lookup batch is released
 * before its runs are dropped (its references would keep them); releasing
 * it drains this CPU's LRU batches (folio_batch_release() does so once).
 * Done before invalidate_mapping_pages(), which moves each folio it fails
 * on to a per-CPU deactivation batch: a busy folio would look parked.
 * @retry: after such a failure, every clean unmapped folio is taken: one
 * in a deactivation batch is still on its LRU list (deactivate_file_folio()
 * leaves PG_lru set, 6.1 and 6.12) and held by the batch until its CPU
 * drains it, which only fadvise's lru_add_drain_all() makes happen.
 */
static void zcsend_drop_parked_runs(struct file *file,
				    struct address_space *mapping,
				    pgoff_t first, pgoff_t last, bool retry)
{
	struct zcsend_drop_runs runs = { .nr = 0 };
	struct folio_batch fbatch;
	pgoff_t index = first;
	unsigned int i;

	folio_batch_init(&fbatch);
	while (filemap_get_folios(mapping, &index, last, &fbatch)) {
		for (i = 0; i < folio_batch_count(&fbatch); i++) {
			struct folio *folio = fbatch.folios[i];

			if (!(retry ? zcsend_drop_droppable(folio) :
				      zcsend_drop_parked(folio)))
				continue;
			if (!zcsend_drop_runs_add(&runs,
						  max(folio->index, first),
						  min(folio_next_index(folio),
						      last + 1))) {
				/* Runs full: look it up again after them. */
				index = folio->index;
				break;
			}
		}
		folio_batch_release(&fbatch);
		zcsend_drop_runs_flush(&runs, file);
		cond_resched();
	}
}

/* Whether a droppable folio is left in [@first, @last]. */
static bool zcsend_drop_left(struct address_space *mapping, pgoff_t first,
			     pgoff_t last)
{
	struct folio_batch fbatch;
	pgoff_t index = first;
	bool left = false;
	unsigned int i;

	folio_batch_init(&fbatch);
	while (!left && filemap_get_folios(mapping, &index, last, &fbatch)) {
		for (i = 0; i < folio_batch_count(&fbatch); i++)
			left |= zcsend_drop_droppable(fbatch.folios[i]);
		folio_batch_release(&fbatch);
		cond_resched();
	}
	return left;
}

/*
 * Drop the pages of @r from the page cache of the real file (overlayfs's
 * own mapping is empty: its reads go to the upper or lower file). Whole
 * pages only, as POSIX_FADV_DONTNEED rounds: the first and last pages are
 * kept when the range covers only part of them, except that the page with
 * end of file goes when the range reaches end of file.
 *
 * invalidate_mapping_pages() only trylocks, and skips dirty, writeback,
 * mapped and otherwise referenced folios: pages another call (or the
 * stack, for another socket) still holds, and pages parked in a per-CPU
 * LRU batch, which zcsend_drop_parked_runs() drops first.
 *
 * Return: true when a clean, unmapped page is left (a reference that may
 * be about to go: the caller tries again a few ticks later).
 */
static bool zcsend_drop_range(const struct zcsend_drop_range *r, bool retry)
{
	struct inode *inode = d_real_inode(r->file->f_path.dentry);
	struct address_space *mapping = inode->i_mapping;
	loff_t size = i_size_read(inode);
	pgoff_t first, stop;

	first = DIV_ROUND_UP_ULL(r->start, PAGE_SIZE);
	if (r->end >= size)
		stop = DIV_ROUND_UP_ULL(r->end, PAGE_SIZE);
	else
		stop = r->end >> PAGE_SHIFT;
	/* tmpfs, ramfs: the cache is the file (fadvise ignores them too). */
	if (stop <= first || inode_to_bdi(inode) == &noop_backing_dev_info)
		return false;
	zcsend_drop_parked_runs(r->file, mapping, first, stop - 1, retry);
	invalidate_mapping_pages(mapping, first, stop - 1);
	return zcsend_drop_left(mapping, first, stop - 1);
}

#define ZCSEND_DROP_RETRIES	3

static void zcsend_drop_work(struct work_struct *work)
{
	struct zcsend_drop *d = container_of(to_delayed_work(work),
					     struct zcsend_drop, work);
	bool left = false;
	unsigned int i;

	for (i = 0; i < d->nr; i++)
		left |= zcsend_drop_range(&d->range[i], d->tries);
	/*
	 * A page can still be held for a moment: its skb's frags are put
	 * after the callback (skb_release_data), and a CPU may not have
	 * drained its batches. That CPU may not run at once (a guest's vCPU
	 * preempted by a loaded host: one tick was seen too short on 6.1),
	 * so up to three more tries, 1, 4 and 16 ticks apart, before the
	 * notification.
	 */
	if (left && d->tries < ZCSEND_DROP_RETRIES) {
		unsigned long delay = 1UL << (2 * d->tries++);

		queue_delayed_work(zcsend_drop_wq, &d->work, delay);
		return;
	}
	for (i = 0; i < d->nr; i++)
		fput(d->range[i].file);
	/* The notification comes after the drop, never before it. */
	if (d->notify)
		zcsend_ubuf_complete(d->notify, !READ_ONCE(d->copied));
	kvfree(d);
	module_put(THIS_MODULE);
}

/*
 * The ubuf's callback: on every put, in any context (softirq from the
 * skb's release, process context from TCP's send or the call's end).
 * @success false: that skb's bytes were copied (loopback, veth, a route
 * without scatter-gather).
 */
static void zcsend_drop_complete(struct sk_buff *skb, struct ubuf_info *uarg,
				 bool success)
{
	struct zcsend_drop *d = container_of(uarg, struct zcsend_drop, ubuf);

	if (!success)
		WRITE_ONCE(d->copied, true);
	if (!refcount_dec_and_test(&uarg->refcnt))
		return;
	rcu_read_lock();	/* zcsend_drop_exit() waits for it */
	queue_delayed_work(zcsend_drop_wq, &d->work, 0);
	rcu_read_unlock();
}

static const struct zcsend_ubuf_ops zcsend_drop_ops =
	ZCSEND_UBUF_OPS_INIT(zcsend_drop_complete);

/**
 * zcsend_drop_alloc() - the ubuf of a ZCSEND_F_DROP call
 * @max: the most ranges the call can record (its file segments)
 * @notify: the call's MSG_ZEROCOPY ubuf (ZCSEND_F_NOTIFY), else NULL; the
 *	drop takes a reference of its own, put once the pages are dropped
 *
 * The call owns the first reference, and drops it with zcsend_drop_put().
 *
 * Return: the ubuf, or NULL when out of memory.
 */
struct zcsend_drop *zcsend_drop_alloc(unsigned int max,
				      struct ubuf_info *notify)
{
	struct zcsend_drop *d;

	d = kvzalloc(struct_size(d, range, max), GFP_KERNEL);
	if (!d)
		return NULL;
	d->max = max;
	zcsend_ubuf_init(&d->ubuf, &zcsend_drop_ops);
	refcount_set(&d->ubuf.refcnt, 1);
	/*
	 * As MSG_ZEROCOPY's and io_uring's: zero-copy frags, never orphaned;
	 * and page-cache pages another writer may change in flight, as
	 * sendfile marks them, so a software checksum linearizes first.
	 */
	d->ubuf.flags = SKBFL_ZEROCOPY_FRAG | SKBFL_DONT_ORPHAN |
			SKBFL_SHARED_FRAG;
	INIT_DELAYED_WORK(&d->work, zcsend_drop_work);
	if (notify) {
		net_zcopy_get(notify);
		d->notify = notify;
	}
	/* The ioctl's file reference pins the module: this cannot fail. */
	__module_get(THIS_MODULE);
	return d;
}

/**
 * zcsend_drop_add() - record bytes the call queued from a file
 * @d: the call's drop
 * @file: the file
 * @pos: offset of the first byte queued
 * @len: bytes queued (> 0)
 *
 * A range that continues the previous one in the same file extends it.
 */
void zcsend_drop_add(struct zcsend_drop *d, struct file *file, loff_t pos,
		     size_t len)
{
	struct zcsend_drop_range *r = d->nr ? &d->range[d->nr - 1] : NULL;

	if (r && r->file == file && r->end == pos) {
		r->end += len;
		return;
	}
	if (WARN_ON_ONCE(d->nr == d->max))
		return;
	r = &d->range[d->nr++];
	r->file = get_file(file);
	r->start = pos;
	r->end = pos + len;
}

/**
 * zcsend_drop_send() - hand a batch to TCP with the call's drop ubuf
 * @d: the call's drop
 * @sock: a connected TCP socket with SOCK_SUPPORT_ZC
 * @bv: the fragments; the caller holds a reference on each page
 * @nr: number of fragments in @bv
 * @len: total bytes in @bv
 * @flags: MSG_* flags for the whole batch
 *
 * As a MSG_ZEROCOPY send with a caller's msg_ubuf, the same on 6.1 and
 * 6.12: TCP takes a page reference per fragment and attaches @d's ubuf to
 * every skb that keeps them; on a failed send it takes no reference of
 * ours (6.1 puts back the one it took, 6.12 takes none).
 *
 * Return: bytes queued, or a negative errno when nothing was queued.
 */
int zcsend_drop_send(struct zcsend_drop *d, struct socket *sock,
		     struct bio_vec *bv, unsigned int nr, size_t len, int flags)
{
	struct msghdr msg = {
		.msg_flags	= flags | MSG_ZEROCOPY,
		.msg_ubuf	= &d->ubuf,
	};

	iov_iter_bvec(&msg.msg_iter, ITER_SOURCE, bv, nr, len);
	return sock_sendmsg(sock, &msg);
}

/**
 * zcsend_drop_put() - the call is over: drop its own reference
 * @d: the call's drop
 *
 * The drop runs when the last skb lets go, now if none holds a page.
 */
void zcsend_drop_put(struct zcsend_drop *d)
{
	net_zcopy_put(&d->ubuf);
}

/**
 * zcsend_drop_init() - the workqueue the drops run on
 *
 * Bound (per-CPU): a drop runs on the CPU whose skb release queued it.
 *
 * Return: 0, or -ENOMEM.
 */
int zcsend_drop_init(void)
{
	zcsend_drop_wq = alloc_workqueue("zcsend_drop", 0, 0);
	return zcsend_drop_wq ? 0 : -ENOMEM;
}

/**
 * zcsend_drop_exit() - at module exit, once no drop is pending
 *
 * No drop holds a module reference any more, but the last work may still
 * be returning, and the callback that queued it too.
 */
void zcsend_drop_exit(void)
{
	destroy_workqueue(zcsend_drop_wq);
	synchronize_rcu();
}
