// SPDX-License-Identifier: GPL-2.0
/*
 * zcsend: ZCSEND_F_NOWAIT, sending only what the page cache already holds.
 *
 * The splice read that gathers the pages cannot be told not to wait for
 * the disk (it uses a synchronous kiocb in 6.1 and 6.12 alike). So the
 * send path asks here, just before each batch, how many bytes from the
 * offset are in uptodate page-cache pages, and reads no further. The
 * lookup is lock-free (RCU), so it sleeps on nothing; it is advisory, as a
 * page can be evicted between the lookup and the read of its batch. When
 * nothing is cached at the offset the call starts readahead for the rest
 * of the range and stops.
 *
 * The pages are those of the real file: overlayfs's own mapping stays
 * empty, its reads go to the upper or lower file (d_real_inode()).
 */
#include <linux/dcache.h>
#include <linux/fadvise.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/pagemap.h>
#include <linux/pagevec.h>
#include <linux/xarray.h>

#include "zcsend.h"

static struct inode *zcsend_real_inode(struct file *file)
{
	return d_real_inode(file->f_path.dentry);
}

/**
 * zcsend_nowait_check() - can ZCSEND_F_NOWAIT be honoured for @file?
 * @file: a file that passed the send path's checks
 *
 * Only where the page cache is the whole truth, so that a page found
 * uptodate is read without any I/O: tmpfs and the local block file
 * systems that read through it (also under overlayfs). NFS and FUSE may
 * revalidate over the network in their read, other file systems are not
 * known; O_DIRECT reads bypass the cache.
 *
 * Return: 0, or -EOPNOTSUPP.
 */
int zcsend_nowait_check(struct file *file)
{
	if (file->f_flags & O_DIRECT)
		return -EOPNOTSUPP;

	switch (zcsend_real_inode(file)->i_sb->s_magic) {
	case TMPFS_MAGIC:
	case EXT4_SUPER_MAGIC:		/* ext2 and ext3 too */
	case XFS_SUPER_MAGIC:
	case BTRFS_SUPER_MAGIC:
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

static bool zcsend_is_tmpfs(struct inode *inode)
{
	return inode->i_sb->s_magic == TMPFS_MAGIC;
}

/*
 * tmpfs: everything reads without I/O except a page in swap (a value
 * entry). A hole reads as zeros, and a folio that is not uptodate
 * (fallocated) too. The entries are not dereferenced, so no reference is
 * taken. Return: the first index from @index on that would need I/O, or
 * @last + 1.
 */
static pgoff_t zcsend_tmpfs_end(struct address_space *mapping, pgoff_t index,
				pgoff_t last)
{
	XA_STATE(xas, &mapping->i_pages, index);
	void *entry;

	rcu_read_lock();
	for (entry = xas_load(&xas); xas.xa_index <= last;
	     entry = xas_next(&xas)) {
		if (xas_retry(&xas, entry))
			continue;
		if (xa_is_value(entry))
			break;
	}
	rcu_read_unlock();
	return min_t(pgoff_t, xas.xa_index, last + 1);
}

/*
 * Page-cache file systems: uptodate folios from @index on, without a gap.
 * filemap_get_folios_contig() is an RCU lookup that takes a reference on
 * each folio it returns and stops at the first gap or swap/shadow entry.
 * Return: the index after the uptodate run (@index when there is none).
 */
static pgoff_t zcsend_cache_end(struct address_space *mapping, pgoff_t index,
				pgoff_t last)
{
	struct folio_batch fbatch;
	pgoff_t next = index;
	bool stop = false;

	folio_batch_init(&fbatch);
	while (!stop && next <= last) {
		pgoff_t start = next;
		unsigned int i, nr;

		nr = filemap_get_folios_contig(mapping, &start, last, &fbatch);
		if (!nr)
			break;
		for (i = 0; i < nr; i++) {
			struct folio *folio = fbatch.folios[i];

			if (folio->index > next || !folio_test_uptodate(folio)) {
				stop = true;
				break;
			}
			next = folio_next_index(folio);
		}
		folio_batch_release(&fbatch);
	}
	return next;
}

/**
 * zcsend_nowait_cached() - bytes that can be read without waiting for I/O
 * @file: the file (checked with zcsend_nowait_check())
 * @pos: offset of the next batch
 * @len: bytes the batch wants (at most a batch: the walk is bounded by it)
 *
 * Return: @len when all of it, or all of it up to end of file, is cached;
 * else the bytes from @pos to the end of the cached prefix (0 when the
 * page at @pos is missing or not uptodate).
 */
size_t zcsend_nowait_cached(struct file *file, loff_t pos, size_t len)
{
	struct inode *inode = zcsend_real_inode(file);
	loff_t size = i_size_read(file_inode(file));
	pgoff_t index, last, end;
	size_t want;

	if (!len || pos >= size)
		return len;	/* the read finds end of file by itself */

	want = min_t(loff_t, len, size - pos);
	index = pos >> PAGE_SHIFT;
	last = (pos + want - 1) >> PAGE_SHIFT;
	if (zcsend_is_tmpfs(inode))
		end = zcsend_tmpfs_end(inode->i_mapping, index, last);
	else
		end = zcsend_cache_end(inode->i_mapping, index, last);

	if (end > last)
		return len;
	if (end == index)
		return 0;
	return min_t(loff_t, want, ((loff_t)end << PAGE_SHIFT) - pos);
}

/**
 * zcsend_nowait_miss() - a ZCSEND_F_NOWAIT call stops at a page not cached
 * @file: the file
 * @pos: offset of the missing page's bytes
 * @len: bytes of the range left from @pos
 * @d: the call's counts (committed only if the call's result is posted)
 *
 * Starts readahead for the rest of the range, as POSIX_FADV_WILLNEED does
 * (overlayfs forwards it to the real file): the pages are allocated and
 * their reads submitted, up to the file's readahead window, and none is
 * waited for. tmpfs has nothing to read ahead (a miss there is a page in
 * swap, which the call without the flag brings back).
 */
void zcsend_nowait_miss(struct file *file, loff_t pos, size_t len,
			struct zcsend_stats_delta *d)
{
	zcsend_stats_delta_add(d, ZCSEND_A_STATS_NOWAIT_MISSES, 1);
	if (zcsend_is_tmpfs(zcsend_real_inode(file)))
		return;
	if (!vfs_fadvise(file, pos, len, POSIX_FADV_WILLNEED))
		zcsend_stats_delta_add(d, ZCSEND_A_STATS_NOWAIT_READAHEADS, 1);
}
