// SPDX-License-Identifier: GPL-2.0
/*
 * zcsend: the send path of ZCSEND_IOC_SENDFILE and ZCSEND_IOC_SENDVEC.
 *
 * Pages are gathered through the file system's own ->splice_read, with
 * splice_direct_to_actor() and an actor that takes a reference on each pipe
 * buffer's page instead of copying it (as knfsd does). So every file system
 * runs its own locking, revalidation and end-of-file clamping (XFS IOLOCK,
 * NFS revalidation, tmpfs with and without huge pages, holes), and a file
 * is refused exactly where sendfile(2) refuses it. The per-task splice pipe
 * carries at most 16 pages per round, but the actor keeps collecting across
 * rounds and hands TCP a batch of batch_pages pages per send call.
 *
 * Page references: one per gathered page, dropped as soon as the send call
 * returns; TCP takes its own for every fragment it keeps. Data written or
 * truncated while in flight goes on the wire as it is then, as with
 * sendfile(2) (zeros past a truncation point within a gathered page).
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/net.h>
#include <linux/netdevice.h>
#include <linux/overflow.h>
#include <linux/pipe_fs_i.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/splice.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <net/sock.h>
#include <net/tcp_states.h>

#include "compat.h"
#include "zcsend.h"

/* One call's transfer state: the socket, the batch being gathered, progress. */
struct zcsend_tx {
	struct socket	*sock;
	struct bio_vec	*bvec;		/* the batch */
	unsigned int	nr;		/* pages in the batch */
	unsigned int	max;		/* capacity of @bvec */
	size_t		batch_bytes;	/* bytes in the batch */
	size_t		gathered;	/* bytes of the current range gathered */
	size_t		queued;		/* bytes of the current range queued */
	int		err;		/* send error that stopped the range */
	int		msg_flags;	/* MSG_DONTWAIT, MSG_NOSIGNAL */
	bool		user_more;	/* ZCSEND_F_MORE */
};

/* A validated segment of ZCSEND_IOC_SENDVEC. */
struct zcsend_vseg {
	struct file	*file;		/* file segment, else NULL */
	void __user	*addr;		/* inline segment */
	loff_t		pos;
	size_t		len;		/* bytes to send (clamped) */
	u64		want;		/* bytes asked for */
	bool		cut;		/* ends at EOF or is clamped: call stops */
	bool		empty;		/* expected to send nothing */
	bool		more;		/* MSG_MORE after it */
};

static int zcsend_copy_arg(void *karg, size_t ksize, size_t ver0,
			   const void __user *uarg)
{
	u32 usize;

	if (get_user(usize, (const u32 __user *)uarg))
		return -EFAULT;
	if (usize < ver0)
		return -EINVAL;
	if (usize > PAGE_SIZE)
		return -E2BIG;
	return copy_struct_from_user(karg, ksize, uarg, usize);
}

/* Offsets are loff_t: the range must end at or before S64_MAX. */
static int zcsend_check_range(u64 offset, u64 length)
{
	if (offset > S64_MAX || length > S64_MAX - offset)
		return -EINVAL;
	return 0;
}

/*
 * Whether the file's data lives in a page cache the pipe can reference:
 * no ->splice_read (secretmem, most special files) or DAX is refused, and so
 * is a mapping that can neither read a folio nor write one (procfs, sysfs,
 * anon inodes). tmpfs has no ->read_folio but does have ->write_begin.
 */
static bool zcsend_file_has_page_cache(struct file *file)
{
	const struct address_space_operations *aops = file->f_mapping->a_ops;

	if (!file->f_op->splice_read)
		return false;
	if (IS_DAX(file->f_mapping->host))
		return false;
	return aops->read_folio || aops->write_begin;
}

/* The checks sendfile(2) makes on its input, in its order. */
static int zcsend_file_check(struct file *file, loff_t pos, size_t len)
{
	if (!(file->f_mode & FMODE_READ))
		return -EBADF;
	if (!S_ISREG(file_inode(file)->i_mode))
		return -EINVAL;
	if (!(file->f_mode & FMODE_LSEEK))
		return -EINVAL;
	if (!zcsend_file_has_page_cache(file))
		return -EINVAL;
	return rw_verify_area(READ, file, &pos, len);
}

/*
 * Take a reference on the file behind @fd and check it for a send of
 * @length bytes from @offset; @lenp gets the length clamped to what one
 * call sends (MAX_RW_COUNT, as read(2) and sendfile(2)).
 */
static int zcsend_file_get(int fd, u64 offset, u64 length,
			   struct file **filep, size_t *lenp)
{
	size_t len = min_t(u64, length, MAX_RW_COUNT);
	struct file *file;
	int err;

	err = zcsend_check_range(offset, length);
	if (err)
		return err;

	file = fget(fd);	/* a negative fd finds nothing; O_PATH neither */
	if (!file)
		return -EBADF;

	err = zcsend_file_check(file, offset, len);
	if (err) {
		fput(file);
		return err;
	}
	*filep = file;
	*lenp = len;
	return 0;
}

static int zcsend_sock_check(struct socket *sock)
{
	struct sock *sk = sock->sk;
	int state;

	if (!(sock->file->f_mode & FMODE_WRITE))
		return -EBADF;
	if (sock->type != SOCK_STREAM || sk->sk_protocol != IPPROTO_TCP)
		return -EOPNOTSUPP;
	if (sk->sk_family != AF_INET && sk->sk_family != AF_INET6)
		return -EOPNOTSUPP;

	/*
	 * Never connected (or connect failed) and listening sockets are
	 * refused here; a connection that was reset or shut down is left to
	 * TCP, which answers EPIPE or ECONNRESET as it does for sendfile(2).
	 */
	state = READ_ONCE(sk->sk_state);
	if (state == TCP_LISTEN)
		return -ENOTCONN;
	if (state == TCP_CLOSE && READ_ONCE(sock->state) == SS_UNCONNECTED)
		return -ENOTCONN;

	return rw_verify_area(WRITE, sock->file, NULL, 0);
}

static int zcsend_sock_get(int fd, struct socket **sockp)
{
	struct socket *sock;
	int err;

	sock = sockfd_lookup(fd, &err);
	if (!sock)
		return err;

	err = zcsend_sock_check(sock);
	if (err) {
		sockfd_put(sock);
		return err;
	}
	*sockp = sock;
	return 0;
}

/* Pages a batch needs for @len bytes: no more than the tunable allows. */
static unsigned int zcsend_batch_size(size_t len)
{
	size_t pages = DIV_ROUND_UP(len, PAGE_SIZE) + 1;

	return min_t(size_t, pages, zcsend_batch_pages_get());
}

static int zcsend_tx_init(struct zcsend_tx *tx, struct socket *sock,
			  u32 flags, size_t max_len)
{
	memset(tx, 0, sizeof(*tx));
	tx->sock = sock;
	tx->user_more = flags & ZCSEND_F_MORE;
	if (flags & ZCSEND_F_NOSIGNAL)
		tx->msg_flags |= MSG_NOSIGNAL;
	if ((flags & ZCSEND_F_NONBLOCK) || (sock->file->f_flags & O_NONBLOCK))
		tx->msg_flags |= MSG_DONTWAIT;

	if (max_len) {
		tx->max = zcsend_batch_size(max_len);
		tx->bvec = kvmalloc_array(tx->max, sizeof(*tx->bvec),
					  GFP_KERNEL);
		if (!tx->bvec)
			return -ENOMEM;
	}
	return 0;
}

static void zcsend_tx_destroy(struct zcsend_tx *tx)
{
	kvfree(tx->bvec);
}

static void zcsend_batch_release(struct zcsend_tx *tx)
{
	unsigned int i;

	for (i = 0; i < tx->nr; i++)
		put_page(tx->bvec[i].bv_page);
	tx->nr = 0;
	tx->batch_bytes = 0;
}

/* Pages of the batch that the first @bytes bytes touch. */
static unsigned int zcsend_batch_pages_in(struct zcsend_tx *tx, size_t bytes)
{
	unsigned int i;

	for (i = 0; i < tx->nr && bytes; i++)
		bytes -= min_t(size_t, bytes, tx->bvec[i].bv_len);
	return i;
}

/*
 * Send the gathered batch, then drop the page references.
 * Return: 0 when all of it was queued, else a negative errno (-EAGAIN for a
 * short send): the range stops there either way.
 */
static int zcsend_batch_flush(struct zcsend_tx *tx, bool more)
{
	int flags = tx->msg_flags | (more ? MSG_MORE : 0);
	size_t bytes = tx->batch_bytes;
	int ret;

	if (!tx->nr)
		return 0;

	if (!(READ_ONCE(tx->sock->sk->sk_route_caps) & NETIF_F_SG))
		zcsend_stat_add(ZCSEND_A_STATS_COPY_FALLBACKS, 1);
	zcsend_stat_add(ZCSEND_A_STATS_BATCHES, 1);

	ret = zcsend_send_pages(tx->sock, tx->bvec, tx->nr, bytes, flags);
	if (ret > 0) {
		tx->queued += ret;
		zcsend_stat_add(ZCSEND_A_STATS_BYTES, ret);
		zcsend_stat_add(ZCSEND_A_STATS_FILE_BYTES, ret);
		zcsend_stat_add(ZCSEND_A_STATS_PAGES,
				zcsend_batch_pages_in(tx, ret));
	}
	zcsend_batch_release(tx);

	if (ret < 0)
		return ret;
	if ((size_t)ret < bytes)
		return -EAGAIN;
	return 0;
}

/* splice_actor: take a reference on one pipe buffer's page. */
static int zcsend_gather_buf(struct pipe_inode_info *pipe,
			     struct pipe_buffer *buf, struct splice_desc *sd)
{
	struct zcsend_tx *tx = sd->u.data;
	struct bio_vec *bv;
	int err;

	if (tx->nr == tx->max) {
		err = zcsend_batch_flush(tx, true);
		if (err) {
			tx->err = err;
			return err;
		}
	}

	get_page(buf->page);
	bv = &tx->bvec[tx->nr++];
	bv->bv_page = buf->page;
	bv->bv_offset = buf->offset;
	bv->bv_len = sd->len;
	tx->batch_bytes += sd->len;
	tx->gathered += sd->len;
	return sd->len;
}

/* splice_direct_actor: gather one round of the internal pipe. */
static int zcsend_gather_pipe(struct pipe_inode_info *pipe,
			      struct splice_desc *sd)
{
	return __splice_from_pipe(pipe, sd, zcsend_gather_buf);
}

/*
 * Send @len bytes of @file from @pos. @more: MSG_MORE after the last byte
 * when the whole range goes out (a range cut short ends the call, and then
 * only ZCSEND_F_MORE holds data back).
 * Return: bytes queued, or a negative errno when none were.
 */
static ssize_t zcsend_send_range(struct zcsend_tx *tx, struct file *file,
				 loff_t pos, size_t len, bool more)
{
	struct splice_desc sd = {
		.total_len	= len,
		.pos		= pos,
		.u.data		= tx,
	};
	ssize_t ret;
	int err;

	if (!len)
		return 0;

	tx->gathered = 0;
	tx->queued = 0;
	tx->err = 0;

	ret = splice_direct_to_actor(file, &sd, zcsend_gather_pipe);
	if (!tx->err) {
		if (tx->gathered < len)
			more = tx->user_more;
		err = zcsend_batch_flush(tx, more);
		if (err)
			tx->err = err;
	}

	if (tx->queued)
		return tx->queued;
	if (tx->err)
		return tx->err;
	return ret < 0 ? ret : 0;
}

static ssize_t zcsend_send_inline(struct zcsend_tx *tx, void __user *addr,
				  size_t len, bool more)
{
	struct iovec iov = { .iov_base = addr, .iov_len = len };
	struct msghdr msg = {
		.msg_flags = tx->msg_flags | (more ? MSG_MORE : 0),
	};
	int ret;

	if (!len)
		return 0;

	/* TCP copies straight from the caller's memory, as write(2) does. */
	iov_iter_init(&msg.msg_iter, ITER_SOURCE, &iov, 1, len);
	ret = sock_sendmsg(tx->sock, &msg);
	if (ret > 0) {
		zcsend_stat_add(ZCSEND_A_STATS_BYTES, ret);
		zcsend_stat_add(ZCSEND_A_STATS_INLINE_BYTES, ret);
	}
	return ret;
}

/* Count a call that queued nothing, by what stopped it. */
static long zcsend_fail(long err)
{
	unsigned int id;

	switch (err) {
	case -EAGAIN:
		id = ZCSEND_A_STATS_ERR_AGAIN;
		break;
	case -EINTR:
	case -ERESTARTSYS:
	case -ERESTARTNOINTR:
	case -ERESTARTNOHAND:
	case -ERESTART_RESTARTBLOCK:
		id = ZCSEND_A_STATS_ERR_INTR;
		break;
	case -EPIPE:
	case -ECONNRESET:
		id = ZCSEND_A_STATS_ERR_PIPE;
		break;
	default:
		id = ZCSEND_A_STATS_ERR_OTHER;
		break;
	}
	zcsend_stat_add(id, 1);
	return err;
}

static long zcsend_refuse(long err)
{
	zcsend_stat_add(ZCSEND_A_STATS_ERR_INVAL, 1);
	return err;
}

static int zcsend_file_arg_check(const struct zcsend_file *k)
{
	if (k->flags & ~ZCSEND_F_ALL)
		return -EINVAL;
	if (k->reserved[0] || k->reserved[1])
		return -EINVAL;
	return 0;
}

/**
 * zcsend_ioctl_sendfile() - ZCSEND_IOC_SENDFILE
 * @arg: user pointer to struct zcsend_file
 *
 * Sends a file range to a connected TCP socket from the page cache, as
 * documented in uapi/linux/zcsend.h.
 *
 * Return: 0 with @sent and @offset updated when any byte was queued (or
 * none was asked for, or the range is past end of file), else a negative
 * errno.
 */
long zcsend_ioctl_sendfile(void __user *arg)
{
	struct zcsend_file k;
	struct socket *sock;
	struct zcsend_tx tx;
	struct file *file;
	ssize_t ret;
	size_t len;
	int err;

	zcsend_stat_add(ZCSEND_A_STATS_CALLS, 1);

	err = zcsend_copy_arg(&k, sizeof(k), ZCSEND_FILE_SIZE_VER0, arg);
	if (!err)
		err = zcsend_file_arg_check(&k);
	if (!err)
		err = zcsend_file_get(k.file_fd, k.offset, k.length, &file,
				      &len);
	if (err)
		return zcsend_refuse(err);

	err = zcsend_sock_get(k.sock_fd, &sock);
	if (err)
		goto err_put_file;

	err = zcsend_tx_init(&tx, sock, k.flags, len);
	if (err)
		goto err_put_sock;

	ret = zcsend_send_range(&tx, file, k.offset, len, tx.user_more);

	zcsend_tx_destroy(&tx);
	sockfd_put(sock);
	fput(file);
	if (ret < 0)
		return zcsend_fail(ret);

	k.sent = ret;
	k.offset += ret;
	if (copy_to_user(arg, &k, sizeof(k)))
		return -EFAULT;
	return 0;

err_put_sock:
	sockfd_put(sock);
	fput(file);
	return zcsend_fail(err);
err_put_file:
	fput(file);
	return zcsend_refuse(err);
}

static int zcsend_vseg_file(struct zcsend_vseg *vs, const struct zcsend_seg *s)
{
	loff_t size;
	int err;

	if (s->addr)
		return -EINVAL;
	err = zcsend_file_get(s->fd, s->offset, s->length, &vs->file,
			      &vs->len);
	if (err)
		return err;

	/* A snapshot of the size, only to plan MSG_MORE (see zcsend_plan). */
	vs->pos = s->offset;
	size = i_size_read(file_inode(vs->file));
	if (vs->pos >= size) {
		vs->empty = true;
		vs->cut = s->length > 0;
	} else {
		vs->empty = !vs->len;
		vs->cut = vs->len < s->length || s->length > size - vs->pos;
	}
	return 0;
}

static int zcsend_vseg_inline(struct zcsend_vseg *vs,
			      const struct zcsend_seg *s)
{
	if (s->fd || s->offset || s->length > ZCSEND_INLINE_MAX)
		return -EINVAL;
	vs->addr = u64_to_user_ptr(s->addr);
	if (!access_ok(vs->addr, s->length))
		return -EFAULT;
	vs->len = s->length;
	vs->empty = !vs->len;
	return 0;
}

static int zcsend_vseg_init(struct zcsend_vseg *vs, const struct zcsend_seg *s)
{
	memset(vs, 0, sizeof(*vs));
	vs->want = s->length;

	switch (s->type) {
	case ZCSEND_SEG_FILE:
		return zcsend_vseg_file(vs, s);
	case ZCSEND_SEG_INLINE:
		return zcsend_vseg_inline(vs, s);
	default:
		return -EINVAL;
	}
}

static void zcsend_vsegs_put(struct zcsend_vseg *vs, u32 nr)
{
	u32 i;

	for (i = 0; i < nr; i++)
		if (vs[i].file)
			fput(vs[i].file);
	kvfree(vs);
}

/*
 * Copy and validate all segments, taking a reference on every file.
 * Return: the segments (put with zcsend_vsegs_put()), or an ERR_PTR.
 */
static struct zcsend_vseg *zcsend_vsegs_get(u64 uaddr, u32 nr)
{
	struct zcsend_seg *segs;
	struct zcsend_vseg *vs;
	int err = 0;
	u32 i;

	segs = vmemdup_user(u64_to_user_ptr(uaddr), array_size(nr,
							       sizeof(*segs)));
	if (IS_ERR(segs))
		return ERR_CAST(segs);

	vs = kvcalloc(nr, sizeof(*vs), GFP_KERNEL);
	if (!vs) {
		err = -ENOMEM;
		goto err_free_segs;
	}

	for (i = 0; i < nr && !err; i++)
		err = zcsend_vseg_init(&vs[i], &segs[i]);
	if (err) {
		zcsend_vsegs_put(vs, i);
		goto err_free_segs;
	}
	kvfree(segs);
	return vs;

err_free_segs:
	kvfree(segs);
	return ERR_PTR(err);
}

/*
 * Decide MSG_MORE per segment: set while a later segment of this call is
 * expected to send bytes, and after the last one only for ZCSEND_F_MORE.
 * The call stops after the first segment that is cut (EOF or clamp), so
 * nothing after it counts. The plan uses a size snapshot; a file that
 * shrinks meanwhile at worst leaves bytes corked until TCP's probe timer.
 */
static void zcsend_plan(struct zcsend_vseg *vs, u32 nr, bool user_more)
{
	bool more = user_more;
	u32 end = nr;
	u32 i;

	for (i = 0; i < nr; i++) {
		if (vs[i].cut) {
			end = i + 1;
			break;
		}
	}
	for (i = end; i-- > 0;) {
		vs[i].more = more;
		if (!vs[i].empty)
			more = true;
	}
}

static size_t zcsend_vsegs_max_len(const struct zcsend_vseg *vs, u32 nr)
{
	size_t max = 0;
	u32 i;

	for (i = 0; i < nr; i++)
		if (vs[i].file)
			max = max(max, vs[i].len);
	return max;
}

/*
 * Send the segments in order; stop at the first one not sent whole.
 * Return: total bytes queued, or a negative errno when none were; @k's
 * segs_done and seg_sent say where it stopped.
 */
static ssize_t zcsend_send_vsegs(struct zcsend_tx *tx, struct zcsend_vseg *vs,
				 struct zcsend_vec *k)
{
	size_t total = 0;
	ssize_t ret = 0;
	u32 i;

	k->segs_done = 0;
	k->seg_sent = 0;
	for (i = 0; i < k->nr_segs; i++) {
		if (signal_pending(current)) {
			ret = -ERESTARTSYS;
			break;
		}
		if (vs[i].file)
			ret = zcsend_send_range(tx, vs[i].file, vs[i].pos,
						vs[i].len, vs[i].more);
		else
			ret = zcsend_send_inline(tx, vs[i].addr, vs[i].len,
						 vs[i].more);
		if (ret < 0)
			break;
		total += ret;
		if (ret < vs[i].want) {
			k->seg_sent = ret;
			break;
		}
		k->segs_done++;
	}
	if (total)
		return total;
	return ret < 0 ? ret : 0;
}

static int zcsend_vec_arg_check(const struct zcsend_vec *k)
{
	if (k->flags & ~ZCSEND_F_ALL)
		return -EINVAL;
	if (k->reserved0 || k->reserved[0] || k->reserved[1])
		return -EINVAL;
	if (k->nr_segs > ZCSEND_SEGS_MAX)
		return -EINVAL;
	return 0;
}

static struct zcsend_vseg *zcsend_vec_prepare(struct zcsend_vec *k,
					      void __user *arg)
{
	int err;

	err = zcsend_copy_arg(k, sizeof(*k), ZCSEND_VEC_SIZE_VER0, arg);
	if (!err)
		err = zcsend_vec_arg_check(k);
	if (err)
		return ERR_PTR(err);
	if (!k->nr_segs)
		return NULL;
	return zcsend_vsegs_get(k->segs, k->nr_segs);
}

/**
 * zcsend_ioctl_sendvec() - ZCSEND_IOC_SENDVEC
 * @arg: user pointer to struct zcsend_vec
 *
 * Sends file ranges (from the page cache) and inline bytes (copied) to a
 * connected TCP socket in order, as documented in uapi/linux/zcsend.h. All
 * segments are validated before anything is sent.
 *
 * Return: 0 with @sent, @segs_done and @seg_sent updated when any byte was
 * queued (or none was asked for), else a negative errno.
 */
long zcsend_ioctl_sendvec(void __user *arg)
{
	struct zcsend_vseg *vs;
	struct zcsend_vec k;
	struct socket *sock;
	struct zcsend_tx tx;
	ssize_t ret;
	int err;

	zcsend_stat_add(ZCSEND_A_STATS_CALLS, 1);

	vs = zcsend_vec_prepare(&k, arg);
	if (IS_ERR(vs))
		return zcsend_refuse(PTR_ERR(vs));

	err = zcsend_sock_get(k.sock_fd, &sock);
	if (err)
		goto err_put_segs;

	zcsend_plan(vs, k.nr_segs, k.flags & ZCSEND_F_MORE);
	err = zcsend_tx_init(&tx, sock, k.flags,
			     zcsend_vsegs_max_len(vs, k.nr_segs));
	if (err)
		goto err_put_sock;

	ret = zcsend_send_vsegs(&tx, vs, &k);

	zcsend_tx_destroy(&tx);
	sockfd_put(sock);
	zcsend_vsegs_put(vs, k.nr_segs);
	if (ret < 0)
		return zcsend_fail(ret);

	k.sent = ret;
	if (copy_to_user(arg, &k, sizeof(k)))
		return -EFAULT;
	return 0;

err_put_sock:
	sockfd_put(sock);
	zcsend_vsegs_put(vs, k.nr_segs);
	return zcsend_fail(err);
err_put_segs:
	zcsend_vsegs_put(vs, k.nr_segs);
	return zcsend_refuse(err);
}
