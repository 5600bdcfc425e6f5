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
 * rounds and hands TCP one batch per send call: at most batch_pages pages'
 * worth of bytes, and no more than the socket can take now (its space,
 * and the one skb TCP starts beyond it), so that a
 * blocked or non-blocking call never reads or pins much more than it can
 * send (sendfile(2) reads one 16-page pipe round ahead).
 *
 * Page references: one per gathered page, dropped as soon as the send call
 * returns; TCP takes its own for every fragment it keeps. A blocking call
 * hands TCP a batch larger than one pipe round without waiting first, and
 * keeps at most one round of what TCP did not take for the send that
 * waits: so a call asleep in TCP (window closed, TCP_NOTSENT_LOWAT, memory
 * pressure) holds at most one round of the file's pages, as sendfile(2)
 * does. Data written or truncated while in flight goes on the wire as it
 * is then, as with sendfile(2): bytes gathered before a truncation can
 * still go out past the new end of file (zeros within a gathered page, old
 * data in whole pages), at most one round from a call waiting in TCP, and
 * at most the batch being gathered when the truncation comes (up to
 * batch_pages pages' worth) otherwise.
 *
 * The helpers on a call's path (argument, descriptors, state, the send of
 * a batch) are __always_inline, against the usual rule for functions of
 * this size: the ioctl then runs in one frame, and the saved registers,
 * stack canaries and return thunks of the levels it had cost about 170 of
 * the module's 973 instructions in a 4 KiB call (userspace/bench/RESULTS.md,
 * "The call in one frame"). The io_uring command keeps its own copy.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/fsnotify.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/net.h>
#include <linux/netdevice.h>
#include <linux/overflow.h>
#include <linux/pipe_fs_i.h>
#include <linux/sched/signal.h>
#include <linux/sched/xacct.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/splice.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <net/dst.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <net/tls.h>

#include "compat.h"
#include "zcsend.h"

/*
 * Batches of up to 16 pages need no allocation: a 64 KiB body at an
 * offset within a page spans 17 pages.
 */
#define ZCSEND_TX_STACK_BVECS	17

/* One call's transfer state: the socket, the batch being gathered, progress. */
struct zcsend_tx {
	struct socket	*sock;
	struct bio_vec	*bvec;		/* the batch: @stack_bvec or allocated */
	unsigned int	nr;		/* pages in the batch */
	unsigned int	max;		/* capacity of @bvec */
	size_t		cap;		/* bytes one batch may pin */
	size_t		batch_bytes;	/* bytes in the batch */
	unsigned int	batch_pages;	/* pages its entries touch */
	size_t		gathered;	/* bytes of the current range gathered */
	size_t		queued;		/* bytes of the current range queued */
	int		err;		/* send error that stopped the range */
	int		msg_flags;	/* MSG_DONTWAIT, MSG_NOSIGNAL */
	struct ubuf_info *zc;		/* ZCSEND_F_NOTIFY: the call's id */
	struct zcsend_drop *drop;	/* ZCSEND_F_DROP: its ubuf and ranges */
	bool		user_more;	/* ZCSEND_F_MORE */
	bool		nowait;		/* ZCSEND_F_NOWAIT */
	bool		trimmed;	/* gathered bytes dropped unsent */
	bool		borrowed;	/* @bvec's pages: the pipe's references */
	bool		batch_more;	/* MSG_MORE after the whole batch */
	size_t		batch_len;	/* bytes the batch asks for */
	bool		tls;		/* kTLS socket: see zcsend_sock_tls() */
	struct zcsend_stats_delta stats; /* committed by zcsend_tx_destroy() */
	struct bio_vec	stack_bvec[ZCSEND_TX_STACK_BVECS];
};

/*
 * SENDVEC copies up to this many of the user's segments onto the stack
 * rather than into an allocation: a response's header, body and trailer,
 * with room to spare.
 */
#define ZCSEND_SEGS_STACK	8

/* A validated segment of ZCSEND_IOC_SENDVEC. */
struct zcsend_vseg {
	struct file	*file;		/* file segment, else NULL */
	struct fd	ref;		/* @file's, from fdget() */
	void __user	*addr;		/* inline segment */
	loff_t		pos;
	size_t		len;		/* bytes to send (clamped) */
	u64		want;		/* bytes asked for */
	bool		cut;		/* ends at EOF or is clamped: call stops */
	bool		empty;		/* expected to send nothing */
	bool		more;		/* MSG_MORE after it */
};

/*
 * The argument struct of whatever size its first field gives: an older or
 * newer caller's struct, and the errnos of one that cannot be read whole.
 * A struct of this module's size, the common case, is read by
 * zcsend_file_in_one() or zcsend_vec_in_one() instead.
 */
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

/*
 * A call's output fields, written in one user-access window (one STAC/CLAC
 * pair under SMAP) instead of one per field: the window of
 * zcsend_file_in_one(), which reads too (the same on x86). Return: 0 or
 * -EFAULT.
 */
static int zcsend_file_put_out(void __user *arg, u64 sent, u64 offset)
{
	size_t n = offsetofend(struct zcsend_file, sent);
	struct zcsend_file __user *u;

	if (!zcsend_user_access_begin(&arg, n))
		return -EFAULT;
	u = arg;
	unsafe_put_user(sent, &u->sent, efault);
	unsafe_put_user(offset, &u->offset, efault);
	user_access_end();
	return 0;
efault:
	user_access_end();
	return -EFAULT;
}

/*
 * Read a struct zcsend_file of this module's size, and write its output
 * fields back (@sent 0, @offset its own value) in the same user-access
 * window: so they are known to be writable before anything is sent, and
 * queued bytes never end in EFAULT. One window, where sendfile(2) makes
 * one access for its offset in and one out; a struct read whole and then
 * written would take two, and a copy_from_user().
 * Return: 0, 1 when the struct is of another size (only @size read), or
 * -EFAULT.
 */
static __always_inline int zcsend_file_in_one(struct zcsend_file *k,
					      void __user *arg)
{
	struct zcsend_file __user *u;

	BUILD_BUG_ON(offsetofend(struct zcsend_file, reserved) != sizeof(*k));

	if (!zcsend_user_access_begin(&arg, sizeof(*u)))
		return -EFAULT;
	u = arg;
	unsafe_get_user(k->size, &u->size, efault);
	if (k->size != sizeof(*k)) {
		user_access_end();
		return 1;
	}
	unsafe_get_user(k->flags, &u->flags, efault);
	unsafe_get_user(k->file_fd, &u->file_fd, efault);
	unsafe_get_user(k->sock_fd, &u->sock_fd, efault);
	unsafe_get_user(k->offset, &u->offset, efault);
	unsafe_get_user(k->length, &u->length, efault);
	unsafe_get_user(k->reserved[0], &u->reserved[0], efault);
	unsafe_get_user(k->reserved[1], &u->reserved[1], efault);
	unsafe_put_user(0, &u->sent, efault);
	unsafe_put_user(k->offset, &u->offset, efault);
	user_access_end();
	k->sent = 0;
	return 0;
efault:
	user_access_end();
	return -EFAULT;
}

static int zcsend_vec_put_out(void __user *arg, u64 sent, u32 segs_done,
			      u64 seg_sent)
{
	size_t n = offsetofend(struct zcsend_vec, seg_sent);
	struct zcsend_vec __user *u;

	if (!zcsend_user_access_begin(&arg, n))
		return -EFAULT;
	u = arg;
	unsafe_put_user(sent, &u->sent, efault);
	unsafe_put_user(segs_done, &u->segs_done, efault);
	unsafe_put_user(seg_sent, &u->seg_sent, efault);
	user_access_end();
	return 0;
efault:
	user_access_end();
	return -EFAULT;
}

/* zcsend_file_in_one() for struct zcsend_vec: @sent, @segs_done, @seg_sent. */
static int zcsend_vec_in_one(struct zcsend_vec *k, void __user *arg)
{
	struct zcsend_vec __user *u;

	BUILD_BUG_ON(offsetofend(struct zcsend_vec, reserved) != sizeof(*k));

	if (!zcsend_user_access_begin(&arg, sizeof(*u)))
		return -EFAULT;
	u = arg;
	unsafe_get_user(k->size, &u->size, efault);
	if (k->size != sizeof(*k)) {
		user_access_end();
		return 1;
	}
	unsafe_get_user(k->flags, &u->flags, efault);
	unsafe_get_user(k->sock_fd, &u->sock_fd, efault);
	unsafe_get_user(k->nr_segs, &u->nr_segs, efault);
	unsafe_get_user(k->segs, &u->segs, efault);
	unsafe_get_user(k->reserved0, &u->reserved0, efault);
	unsafe_get_user(k->reserved[0], &u->reserved[0], efault);
	unsafe_get_user(k->reserved[1], &u->reserved[1], efault);
	unsafe_put_user(0, &u->sent, efault);
	unsafe_put_user(0, &u->segs_done, efault);
	unsafe_put_user(0, &u->seg_sent, efault);
	user_access_end();
	k->sent = 0;
	k->segs_done = 0;
	k->seg_sent = 0;
	return 0;
efault:
	user_access_end();
	return -EFAULT;
}

/* Offsets are loff_t: the range must end at or before S64_MAX. */
static int zcsend_check_range(u64 offset, u64 length)
{
	if (offset > S64_MAX || length > S64_MAX - offset)
		return -EINVAL;
	return 0;
}

/*
 * The checks sendfile(2) makes on its input, in its order (do_sendfile,
 * then splice_direct_to_actor and the splice read). A file is accepted
 * exactly when splice can read it (its own ->splice_read), which covers
 * overlayfs and copying file systems such as sysfs; beyond sendfile, only
 * regular files are taken (a design choice: no block or character devices)
 * and DAX is refused (its pages are not page-cache pages). memfd_secret has
 * no ->splice_read, so sendfile refuses it too.
 */
static __always_inline int zcsend_file_check(struct file *file, loff_t pos,
					     size_t len)
{
	int err;

	if (!(file->f_mode & FMODE_READ))
		return -EBADF;
	if (!(file->f_mode & FMODE_PREAD))
		return -ESPIPE;
	err = rw_verify_area(READ, file, &pos, len);
	if (err)
		return err;
	if (!S_ISREG(file_inode(file)->i_mode))
		return -EINVAL;
	if (!(file->f_mode & FMODE_LSEEK) || !file->f_op->splice_read)
		return -EINVAL;
	if (IS_DAX(file_inode(file)))
		return -EINVAL;
	return 0;
}

/*
 * sendfile(2)'s s_maxbytes limit (the socket's sb allows any offset): a
 * range starting at or past the file system's largest offset is EOVERFLOW,
 * one reaching past it is cut there.
 */
static int zcsend_file_limit(struct file *file, loff_t pos, size_t *lenp)
{
	loff_t max = file_inode(file)->i_sb->s_maxbytes;

	if (pos + (loff_t)*lenp <= max)
		return 0;
	if (pos >= max)
		return -EOVERFLOW;
	*lenp = max - pos;
	return 0;
}

/*
 * Look up the file behind @fd and check it for a send of @length bytes
 * from @offset; @lenp gets the length clamped to what one call sends
 * (MAX_RW_COUNT, as read(2) and sendfile(2)). fdget(), as the system calls
 * do: a process that shares no file table takes no reference, and a
 * shared table gives one; either way it is released with fdput(@fp)
 * before the call returns.
 */
static __always_inline int zcsend_file_get(int fd, u64 offset, u64 length,
					   struct fd *fp, struct file **filep,
					   size_t *lenp)
{
	size_t len = min_t(u64, length, MAX_RW_COUNT);
	struct file *file;
	struct fd f;
	int err;

	err = zcsend_check_range(offset, length);
	if (err)
		return err;

	f = fdget(fd);		/* a negative fd finds nothing; O_PATH neither */
	file = zcsend_fd_file(f);
	if (!file)
		return -EBADF;

	err = zcsend_file_check(file, offset, len);
	if (!err)
		err = zcsend_file_limit(file, offset, &len);
	if (err) {
		fdput(f);
		return err;
	}
	*fp = f;
	*filep = file;
	*lenp = len;
	return 0;
}

static __always_inline int zcsend_sock_check(struct socket *sock)
{
	struct sock *sk = sock->sk;

	if (!(sock->file->f_mode & FMODE_WRITE))
		return -EBADF;
	if (sock->type != SOCK_STREAM || sk->sk_protocol != IPPROTO_TCP)
		return -EOPNOTSUPP;
	if (sk->sk_family != AF_INET && sk->sk_family != AF_INET6)
		return -EOPNOTSUPP;

	/*
	 * The connection state is left to TCP, which answers a socket that
	 * is not connected, listening, shut down or reset (EPIPE,
	 * ECONNRESET) as it answers sendfile(2).
	 */
	return rw_verify_area(WRITE, sock->file, NULL, 0);
}

/*
 * sockfd_lookup()'s answers (EBADF, ENOTSOCK) from fdget(), as
 * zcsend_file_get(): released with fdput(@fp).
 */
static __always_inline int zcsend_sock_get(int fd, struct fd *fp,
					   struct socket **sockp)
{
	struct socket *sock;
	struct file *file;
	struct fd f;
	int err;

	f = fdget(fd);
	file = zcsend_fd_file(f);
	if (!file)
		return -EBADF;

	sock = sock_from_file(file);
	err = sock ? zcsend_sock_check(sock) : -ENOTSOCK;
	if (err) {
		fdput(f);
		return err;
	}
	*fp = f;
	*sockp = sock;
	return 0;
}

/*
 * batch_pages: how much one batch may pin, in pages' worth of bytes (a
 * large folio counts for all its bytes). The default is set by measurement
 * (see README); it is read once per ioctl call.
 */
static unsigned int zcsend_batch_pages = 256;

static int zcsend_batch_pages_param_set(const char *val,
					const struct kernel_param *kp)
{
	unsigned int pages;
	int err;

	err = kstrtouint(val, 0, &pages);
	if (err)
		return err;
	return zcsend_batch_pages_set(pages);
}

static const struct kernel_param_ops zcsend_batch_pages_ops = {
	.set	= zcsend_batch_pages_param_set,
	.get	= param_get_uint,
};

module_param_cb(batch_pages, &zcsend_batch_pages_ops, &zcsend_batch_pages,
		0644);
MODULE_PARM_DESC(batch_pages, "Pages per send call into TCP (1-1024)");

/**
 * zcsend_batch_pages_get() - the current batch size
 *
 * Return: pages per send call, ZCSEND_BATCH_PAGES_MIN..ZCSEND_BATCH_PAGES_MAX.
 */
unsigned int zcsend_batch_pages_get(void)
{
	return READ_ONCE(zcsend_batch_pages);
}

/**
 * zcsend_batch_pages_set() - change the batch size
 * @pages: new value
 *
 * Return: 0, or -ERANGE when @pages is out of bounds.
 */
int zcsend_batch_pages_set(unsigned int pages)
{
	if (pages < ZCSEND_BATCH_PAGES_MIN || pages > ZCSEND_BATCH_PAGES_MAX)
		return -ERANGE;
	WRITE_ONCE(zcsend_batch_pages, pages);
	return 0;
}

/*
 * Whether the socket is kernel TLS (TCP_ULP "tls"), which encrypts each
 * send call under the socket lock: see zcsend_send_pages_tls(). The ULP
 * is set once and stays until the socket is destroyed.
 */
static bool zcsend_sock_tls(struct sock *sk)
{
	const struct tcp_ulp_ops *ulp = READ_ONCE(inet_csk(sk)->icsk_ulp_ops);

	/* With TLS_TX set up: an RX-only one sends as plain TCP. */
	return ulp && !strcmp(ulp->name, "tls") &&
	       tls_get_ctx(sk)->tx_conf != TLS_BASE;
}

/* A blocking batch on a full socket still takes one pipe round's worth. */
#define ZCSEND_BATCH_MIN_BYTES	(PIPE_DEF_BUFFERS * PAGE_SIZE)

static bool zcsend_tx_nonblock(const struct zcsend_tx *tx)
{
	return tx->msg_flags & MSG_DONTWAIT;
}

/*
 * What TCP takes beyond the space: while any is left it starts a new skb
 * and fills it up to the size goal (tcp_sendmsg_locked; 6.1's
 * do_tcp_sendpages), so a non-blocking sendfile(2) moves up to one skb
 * more per call than the space. The goal TCP last computed is gso_segs
 * MSS-sized segments (tcp_xmit_size_goal); read without the socket lock,
 * it only sizes the batch, and TCP still decides what it takes.
 */
static int zcsend_size_goal(struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);

	return max_t(u16, READ_ONCE(tp->gso_segs), 1) * READ_ONCE(tp->mss_cache);
}

/*
 * Bytes to gather for the next batch: what the socket can take now (the
 * space, sk_stream_wspace, plus one skb's size goal when there is any),
 * within the byte cap. A non-blocking call on a full socket gets 0 and
 * answers EAGAIN without reading the file; a blocking one gathers a small
 * batch and waits in the send.
 */
static size_t zcsend_batch_budget(const struct zcsend_tx *tx)
{
	struct sock *sk = tx->sock->sk;
	int space = sk_stream_wspace(sk);
	size_t floor = zcsend_tx_nonblock(tx) ? 0 : ZCSEND_BATCH_MIN_BYTES;
	size_t n;

	/* kTLS waits for memory before each record instead (tls_sw_sendmsg). */
	if (space > 0 && !tx->tls)
		space += min(zcsend_size_goal(sk), INT_MAX - space);
	n = clamp_t(size_t, max(space, 0), min(floor, tx->cap), tx->cap);
	/*
	 * kTLS closes its open record where a send call without MSG_MORE
	 * ends (6.1: at every batch), so a batch cut by the space anywhere
	 * else would add a short record: keep it to whole records, as
	 * sendfile(2)'s 64 KiB rounds are.
	 */
	if (tx->tls && n > TLS_MAX_PAYLOAD_SIZE)
		n = round_down(n, TLS_MAX_PAYLOAD_SIZE);
	return n;
}

/*
 * A non-blocking call on a full socket answers EAGAIN without handing TCP
 * any data, so it does what sk_stream_wait_memory() does before its EAGAIN:
 * set SOCK_NOSPACE. tcp_check_space() calls ->sk_write_space() only when
 * that bit is set, and without it an edge-triggered epoll waiter (nginx)
 * never hears that space came back. The bit is set before the second look
 * at the space, as tcp_poll() does, so an ACK in between is not missed.
 * Called once zcsend_batch_budget() found no space.
 * Return: true if the socket is still full.
 */
static bool zcsend_sock_full(struct socket *sock)
{
	struct sock *sk = sock->sk;

	sk_set_bit(SOCKWQ_ASYNC_NOSPACE, sk);
	set_bit(SOCK_NOSPACE, &sock->flags);
	/* Pairs with the barrier in tcp_check_space(). */
	smp_mb__after_atomic();
	return sk_stream_wspace(sk) <= 0;
}

/*
 * Before a non-blocking call on a full socket answers EAGAIN, it makes the
 * check TCP makes before it looks at the space (tcp_sendmsg_locked, and
 * sk_stream_wait_memory for kTLS): a pending socket error or SEND_SHUTDOWN
 * is answered as TCP answers sendfile(2), with the error, or EPIPE and
 * SIGPIPE (unless ZCSEND_F_NOSIGNAL). Without it, a socket shut down for
 * writing would answer EAGAIN forever while poll() reports it writable.
 * Read without the socket lock, as tcp_poll() reads them.
 * Return: 0 when the socket has no error, else a negative errno.
 */
static int zcsend_sock_error(struct zcsend_tx *tx)
{
	struct sock *sk = tx->sock->sk;

	if (!READ_ONCE(sk->sk_err) &&
	    !(READ_ONCE(sk->sk_shutdown) & SEND_SHUTDOWN))
		return 0;
	return sk_stream_error(sk, tx->msg_flags, -EPIPE);
}

/*
 * ZCSEND_F_NOTIFY: the call's pages go to TCP as MSG_ZEROCOPY sends that
 * all carry one of the kernel's own MSG_ZEROCOPY ubufs (msg_zerocopy_realloc,
 * as send(MSG_ZEROCOPY) gets it). It takes the socket's next id (sk_zckey,
 * shared with the socket's own MSG_ZEROCOPY sends), every skb that holds
 * any of the call's pages holds a reference on it, and when the last one
 * goes the kernel queues the notification on the socket's error queue in
 * MSG_ZEROCOPY's format: so no module code runs at release, and a pending
 * notification never pins the module. The call holds a reference of its
 * own until it returns, so that one call is one id however many batches
 * it sends.
 *
 * A call that finds the previous call's bytes still unsent at the tail of
 * the socket's write queue, under a ubuf of this kind whose last id is
 * the latest, extends that ubuf by its own id instead, as TCP does for
 * consecutive send(MSG_ZEROCOPY)s: one notification then covers both ids,
 * when the pages of both are free, and the call's bytes go on in the same
 * skb. Each new ubuf is an skb charged to the socket's optmem_max (20 KiB
 * on 6.1), so small calls each with its own ubuf, some hundreds in flight,
 * make calls fail with ENOBUFS until notifications are read; and an skb
 * holds one ubuf, so each such call also starts a new skb. The ubuf's byte
 * count (zcsend_tx_charge() adds to it) keeps one ubuf to a few TSO frames.
 */
static int zcsend_tx_notify_init(struct zcsend_tx *tx)
{
	struct sock *sk = tx->sock->sk;
	struct ubuf_info *uarg = NULL;
	struct sk_buff *skb;

	/* TCP changes sk_zckey under the socket lock: so do we. */
	lock_sock(sk);
	/*
	 * Only a tail whose skb is marked as holding shared frags: the call's
	 * pages join that skb, and a send(MSG_ZEROCOPY) skb of the caller's
	 * own lacks the mark that the page-cache pages need (below).
	 * NULL if not TCP's own kind (a ZCSEND_F_DROP call's), or too long.
	 */
	skb = tcp_write_queue_tail(sk);
	if (skb && (skb_shinfo(skb)->flags & SKBFL_SHARED_FRAG) &&
	    skb_zcopy(skb))
		uarg = msg_zerocopy_realloc(sk, 0, skb_zcopy(skb));
	if (!uarg)
		uarg = msg_zerocopy_realloc(sk, 0, NULL);
	if (uarg) {
		/*
		 * Page-cache pages, which a writer may change in flight:
		 * marked as sendfile marks them, so a software checksum
		 * linearizes first. Under the lock: the ubuf may be shared.
		 */
		uarg->flags |= SKBFL_SHARED_FRAG;
		/*
		 * Without scatter-gather TCP copies, and marks only its own
		 * ubufs COPIED for it. (TCP sockets get SG from software
		 * GSO: never seen.)
		 */
		if (!(READ_ONCE(sk->sk_route_caps) & NETIF_F_SG))
			uarg_to_msgzc(uarg)->zerocopy = 0;
	}
	release_sock(sk);
	if (!uarg)
		return -ENOBUFS;	/* the socket's optmem_max */
	tx->zc = uarg;
	return 0;
}

/*
 * Charge a batch to the caller's RLIMIT_MEMLOCK, as MSG_ZEROCOPY charges
 * its sends (CAP_IPC_LOCK exempt), until the notification is queued; and
 * count it in the ubuf's bytes, which msg_zerocopy_realloc() reads before
 * it extends the ubuf (saturated: a call can send more than 4 GiB).
 * Under the socket lock: TCP's own MSG_ZEROCOPY sends may extend the ubuf.
 * Return: 0, or -ENOBUFS past the limit.
 */
/*
 * Where the ubuf's byte count saturates: past msg_zerocopy_realloc()'s
 * 512 KiB limit (so no further call extends it), and far enough from
 * U32_MAX that its own u32 sum with a send's size cannot wrap below it.
 */
#define ZCSEND_ZC_BYTELEN_MAX	SZ_1M

static int zcsend_tx_charge(struct zcsend_tx *tx, size_t bytes)
{
	struct ubuf_info_msgzc *zc = uarg_to_msgzc(tx->zc);
	struct sock *sk = tx->sock->sk;
	int err;

	lock_sock(sk);
	err = mm_account_pinned_pages(&zc->mmp, bytes);
	if (!err)
		zc->bytelen = min_t(u64, (u64)zc->bytelen + bytes,
				    ZCSEND_ZC_BYTELEN_MAX);
	release_sock(sk);
	return err;
}

/*
 * Drop the call's own reference on its ubuf: the notification comes when
 * TCP drops the last one (now, if no skb holds the call's pages). A call
 * that queued nothing gives its id back and notifies nothing, as a failed
 * send(MSG_ZEROCOPY) does (from an extended ubuf, the earlier ids stay);
 * only if another send on the socket took an id since (senders racing on
 * one socket) can it not, and its id is notified.
 */
static void zcsend_tx_notify_done(struct zcsend_tx *tx, ssize_t queued)
{
	struct ubuf_info_msgzc *zc = uarg_to_msgzc(tx->zc);
	struct sock *sk = tx->sock->sk;

	if (queued > 0) {
		net_zcopy_put(tx->zc);
		return;
	}
	lock_sock(sk);
	if ((u32)(zc->id + zc->len) == (u32)atomic_read(&sk->sk_zckey))
		msg_zerocopy_put_abort(tx->zc, true);
	else
		net_zcopy_put(tx->zc);
	release_sock(sk);
}

/* Add @val to counter @id in the sum the call commits at its end. */
static void zcsend_tx_stat(struct zcsend_tx *tx, unsigned int id, u32 val)
{
	zcsend_stats_delta_add(&tx->stats, id, val);
}

/*
 * ZCSEND_F_NOTIFY and ZCSEND_F_DROP: the MSG_ZEROCOPY send path, then the
 * call's ubufs. With both, the drop holds a reference on the notification's
 * ubuf, so the notification comes once the pages are dropped.
 */
static int zcsend_tx_zc_init(struct zcsend_tx *tx, u32 flags,
			     unsigned int nr_files)
{
	int err;

	/* kTLS and sockmap clear it: they would copy or refuse the send. */
	if (!test_bit(SOCK_SUPPORT_ZC, &tx->sock->flags))
		return -EOPNOTSUPP;
	if (flags & ZCSEND_F_NOTIFY) {
		err = zcsend_tx_notify_init(tx);
		if (err)
			return err;
	}
	if (flags & ZCSEND_F_DROP) {
		tx->drop = zcsend_drop_alloc(nr_files, tx->zc);
		if (!tx->drop) {
			if (tx->zc)
				zcsend_tx_notify_done(tx, 0);
			return -ENOMEM;
		}
	}
	return 0;
}

/*
 * The call is counted here (ZCSEND_A_STATS_CALLS), with everything it
 * sends, by zcsend_tx_destroy(); a call refused before it gets here is
 * counted by zcsend_refuse(). Its failure, if any, by zcsend_fail().
 * @tx: declared zeroed (= {}): one clearing, which the kernel's stack
 *      auto-initialization (INIT_STACK_ALL_ZERO) does not repeat
 * @nr_files: the file ranges (segments) the call may send.
 */
static __always_inline int zcsend_tx_init(struct zcsend_tx *tx,
					  struct socket *sock, u32 flags,
					  size_t max_len,
					  unsigned int nr_files)
{
	size_t pages;
	int err;

	zcsend_tx_stat(tx, ZCSEND_A_STATS_CALLS, 1);
	tx->sock = sock;
	tx->tls = zcsend_sock_tls(sock->sk);
	tx->user_more = flags & ZCSEND_F_MORE;
	tx->nowait = flags & ZCSEND_F_NOWAIT;
	if (flags & ZCSEND_F_NOSIGNAL)
		tx->msg_flags |= MSG_NOSIGNAL;
	if ((flags & ZCSEND_F_NONBLOCK) || (sock->file->f_flags & O_NONBLOCK))
		tx->msg_flags |= MSG_DONTWAIT;

	if (max_len) {
		tx->cap = (size_t)zcsend_batch_pages_get() * PAGE_SIZE;
		/* A batch of cap bytes spans at most one page more. */
		pages = DIV_ROUND_UP(min(max_len, tx->cap), PAGE_SIZE) + 1;
		tx->max = pages;
		/*
		 * One batch is one send call over one bio_vec array, so a
		 * cap of 256 pages or more (the default) takes more than a
		 * page of entries: kvmalloc() falls back to vmalloc memory
		 * rather than fail for want of contiguous pages.
		 */
		if (pages <= ZCSEND_TX_STACK_BVECS)
			tx->bvec = tx->stack_bvec;
		else
			tx->bvec = kvmalloc_array(pages, sizeof(*tx->bvec),
						  GFP_KERNEL);
		if (!tx->bvec) {
			zcsend_stats_commit(&tx->stats);
			return -ENOMEM;
		}
	}
	if (flags & (ZCSEND_F_NOTIFY | ZCSEND_F_DROP)) {
		err = zcsend_tx_zc_init(tx, flags, nr_files);
		if (err) {
			if (tx->bvec != tx->stack_bvec)
				kvfree(tx->bvec);
			zcsend_stats_commit(&tx->stats);
			return err;
		}
	}
	return 0;
}

/* @queued: what the call returns (bytes queued, or a negative errno). */
static void zcsend_tx_destroy(struct zcsend_tx *tx, ssize_t queued)
{
	if (tx->zc)
		zcsend_tx_notify_done(tx, queued);
	if (tx->drop)
		zcsend_drop_put(tx->drop);
	if (tx->bvec != tx->stack_bvec)
		kvfree(tx->bvec);
	zcsend_stats_commit(&tx->stats);
}

static void zcsend_batch_release(struct zcsend_tx *tx)
{
	unsigned int i;

	for (i = 0; i < tx->nr && !tx->borrowed; i++)
		put_page(tx->bvec[i].bv_page);
	tx->nr = 0;
	tx->batch_bytes = 0;
	tx->batch_pages = 0;
}

/*
 * Pages that the first @len bytes of an entry touch. An entry can span
 * several pages of a large folio (6.1's splice read hands out whole folios).
 */
static unsigned int zcsend_bv_pages(const struct bio_vec *bv, size_t len)
{
	size_t off = bv->bv_offset;

	return (off + len - 1) / PAGE_SIZE - off / PAGE_SIZE + 1;
}

/* Add an entry of @len bytes at @offset of @page to the batch. */
static void zcsend_batch_add(struct zcsend_tx *tx, struct page *page,
			     unsigned int offset, unsigned int len)
{
	struct bio_vec *bv = &tx->bvec[tx->nr++];

	bv->bv_page = page;
	bv->bv_offset = offset;
	bv->bv_len = len;
	tx->batch_bytes += len;
	tx->batch_pages += zcsend_bv_pages(bv, len);
}

/*
 * After TCP took the first @skip bytes of the batch, keep at most @keep of
 * the bytes that follow and drop the page references of the rest.
 */
static void zcsend_batch_trim(struct zcsend_tx *tx, size_t skip, size_t keep)
{
	size_t kept = 0;
	unsigned int i, n = 0, pages = 0;

	for (i = 0; i < tx->nr; i++) {
		struct bio_vec bv = tx->bvec[i];

		if (skip >= bv.bv_len || kept == keep) {
			skip -= min_t(size_t, skip, bv.bv_len);
			put_page(bv.bv_page);
			continue;
		}
		bv.bv_offset += skip;
		bv.bv_len = min_t(size_t, bv.bv_len - skip, keep - kept);
		skip = 0;
		kept += bv.bv_len;
		pages += zcsend_bv_pages(&bv, bv.bv_len);
		tx->bvec[n++] = bv;
	}
	tx->nr = n;
	tx->batch_bytes = kept;
	tx->batch_pages = pages;
}

/*
 * Pages that the first @bytes bytes of the batch touch: all it counted as
 * it was gathered, when TCP took it whole.
 */
static unsigned int zcsend_batch_pages_in(struct zcsend_tx *tx, size_t bytes)
{
	unsigned int i, pages = 0;

	if (bytes == tx->batch_bytes)
		return tx->batch_pages;
	for (i = 0; i < tx->nr && bytes; i++) {
		size_t n = min_t(size_t, bytes, tx->bvec[i].bv_len);

		pages += zcsend_bv_pages(&tx->bvec[i], n);
		bytes -= n;
	}
	return pages;
}

/*
 * Whether the device the socket's route leaves through lacks scatter-gather,
 * so that the stack copies this batch's payload after all, when it segments
 * or linearizes the skb for that device. The socket's sk_route_caps cannot
 * tell: sk_setup_caps() gives every TCP socket NETIF_F_SG through software
 * GSO, whatever the device. No cached route (just invalidated): not counted.
 */
static bool zcsend_route_copies(struct sock *sk)
{
	const struct dst_entry *dst;
	bool copies = false;

	rcu_read_lock();
	dst = __sk_dst_get(sk);
	if (dst && dst->dev)
		copies = !(READ_ONCE(dst->dev->features) & NETIF_F_SG);
	rcu_read_unlock();
	return copies;
}

/*
 * kTLS: hand the batch over in send calls of one pipe round (64 KiB, four
 * records), MSG_MORE on all but the last, as splice_to_socket() does for
 * sendfile(2). tls_sw_sendmsg() holds the socket lock while it encrypts a
 * whole call, and TCP's backlog flush (every 16 new skbs of one
 * tcp_sendmsg_locked call) never runs under it, since kTLS hands TCP one
 * page per call: so the receiver's ACKs and window updates wait until the
 * call ends, and a batch of 1 MiB can hold the transmission back (and the
 * receiver, with nothing to decrypt) while it is encrypted.
 * Chunks end at page boundaries: a batch that starts within a page ends
 * its chunks off a record boundary, which only 6.1 (whose sendpage closes
 * a record at every call's last page) turns into a short record, as its
 * sendfile(2) does at every round.
 * Return: bytes queued, or a negative errno when none were.
 */
static int zcsend_send_pages_tls(struct zcsend_tx *tx, int flags)
{
	unsigned int i = 0, first;
	size_t bytes;
	int sent = 0;
	int ret = 0;

	while (i < tx->nr) {
		first = i;
		bytes = 0;
		while (i < tx->nr && bytes < ZCSEND_BATCH_MIN_BYTES)
			bytes += tx->bvec[i++].bv_len;
		ret = zcsend_send_pages(tx->sock, tx->bvec + first, i - first,
					bytes, i < tx->nr ? flags | MSG_MORE :
					flags);
		if (ret <= 0)
			break;
		sent += ret;
		if ((size_t)ret < bytes)
			break;
	}
	return sent ? sent : ret;
}

/* Hand the batch to TCP once. Return: bytes queued, or a negative errno. */
static __always_inline int zcsend_batch_send(struct zcsend_tx *tx, int flags)
{
	int ret;

	if (tx->drop)
		ret = zcsend_drop_send(tx->drop, tx->sock, tx->bvec, tx->nr,
				       tx->batch_bytes, flags);
	else if (tx->zc)
		ret = zcsend_send_pages_zc(tx->sock, tx->bvec, tx->nr,
					   tx->batch_bytes, flags, tx->zc);
	else if (tx->tls)
		ret = zcsend_send_pages_tls(tx, flags);
	else
		ret = zcsend_send_pages(tx->sock, tx->bvec, tx->nr,
					tx->batch_bytes, flags);
	if (ret > 0) {
		tx->queued += ret;
		zcsend_tx_stat(tx, ZCSEND_A_STATS_BYTES, ret);
		zcsend_tx_stat(tx, ZCSEND_A_STATS_FILE_BYTES, ret);
		zcsend_tx_stat(tx, ZCSEND_A_STATS_PAGES,
			       zcsend_batch_pages_in(tx, ret));
	}
	return ret;
}

/*
 * Send the gathered batch, then drop the page references. A blocking call
 * with more than one pipe round gathered first sends without waiting; if
 * TCP takes less (it waits for reasons the budget cannot see: the peer's
 * window with TCP_NOTSENT_LOWAT, memory pressure), it keeps one round of
 * the rest, drops the others (@tx->trimmed: gathered again by the next
 * batch) and waits with that round only. @may_trim: false while gathering,
 * where dropping bytes would leave a hole.
 * Return: 0 when all of the (kept) batch was queued, else a negative errno
 * (-EAGAIN for a short send): the range stops there either way.
 */
static int zcsend_batch_flush(struct zcsend_tx *tx, bool more, bool may_trim)
{
	int flags = tx->msg_flags | (more ? MSG_MORE : 0);
	size_t bytes = tx->batch_bytes;
	int ret;

	if (!tx->nr)
		return 0;

	if (tx->zc) {
		ret = zcsend_tx_charge(tx, bytes);
		if (ret) {
			zcsend_batch_release(tx);
			return ret;
		}
	}

	if (zcsend_route_copies(tx->sock->sk))
		zcsend_tx_stat(tx, ZCSEND_A_STATS_COPY_FALLBACKS, 1);
	zcsend_tx_stat(tx, ZCSEND_A_STATS_BATCHES, 1);

	if (may_trim && !zcsend_tx_nonblock(tx) &&
	    bytes > ZCSEND_BATCH_MIN_BYTES) {
		ret = zcsend_batch_send(tx, flags | MSG_DONTWAIT);
		if (ret == -EAGAIN)
			ret = 0;
		if (ret >= 0 && (size_t)ret < bytes) {
			zcsend_batch_trim(tx, ret, ZCSEND_BATCH_MIN_BYTES);
			tx->trimmed = true;
			bytes = tx->batch_bytes;
			ret = zcsend_batch_send(tx, flags);
		}
	} else {
		ret = zcsend_batch_send(tx, flags);
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
	int err;

	if (tx->nr == tx->max) {
		err = zcsend_batch_flush(tx, true, false);
		if (err) {
			tx->err = err;
			return err;
		}
	}

	get_page(buf->page);
	zcsend_batch_add(tx, buf->page, buf->offset, sd->len);
	tx->gathered += sd->len;
	return sd->len;
}

/*
 * MSG_MORE after the batch: the range's, unless end of file cut the batch
 * short (that ends the call, and then only ZCSEND_F_MORE holds data back).
 */
static bool zcsend_batch_more(const struct zcsend_tx *tx)
{
	return tx->gathered < tx->batch_len ? tx->user_more : tx->batch_more;
}

/*
 * Send a batch that one round of the internal pipe holds whole from the
 * pipe's own page references, as splice_to_socket() sends for sendfile(2):
 * no reference of the call's own per page, taken and dropped around the
 * send. The buffers are released after it, sent or not; a buffer whose
 * page was truncated or failed to read ends the batch before it (as
 * __splice_from_pipe() ends a gather there), and the release of the rest
 * is splice_direct_to_actor()'s.
 * Return: bytes queued, or a negative errno (0: none, for another reason).
 */
static int zcsend_send_pipe(struct pipe_inode_info *pipe,
			    struct zcsend_tx *tx)
{
	unsigned int mask = pipe->ring_size - 1;
	unsigned int tail, head = pipe->head;
	struct pipe_buffer *buf;
	int bad = 0, err;

	for (tail = pipe->tail; tail != head; tail++) {
		buf = &pipe->bufs[tail & mask];
		bad = pipe_buf_confirm(pipe, buf);
		if (bad)
			break;
		zcsend_batch_add(tx, buf->page, buf->offset, buf->len);
	}
	if (!tx->nr)
		return bad == -ENODATA ? 0 : bad;

	tx->gathered = tx->batch_bytes;
	tx->borrowed = true;
	err = zcsend_batch_flush(tx, zcsend_batch_more(tx), true);
	tx->borrowed = false;
	if (err)
		tx->err = err;

	while (pipe->tail != tail)
		pipe_buf_release(pipe, &pipe->bufs[pipe->tail++ & mask]);
	return tx->queued ? tx->queued : err;
}

/*
 * splice_direct_actor: gather one round of the internal pipe, or send it
 * from the pipe when it is the whole batch (a response body of up to
 * 64 KiB, a server's common case). Not a round of more: a batch that
 * large may be trimmed (zcsend_batch_flush()), and zcsend_batch_trim()
 * drops references of the call's own.
 */
static int zcsend_gather_pipe(struct pipe_inode_info *pipe,
			      struct splice_desc *sd)
{
	struct zcsend_tx *tx = sd->u.data;

	if (!tx->gathered && sd->total_len == tx->batch_len &&
	    sd->total_len <= ZCSEND_BATCH_MIN_BYTES &&
	    pipe_occupancy(pipe->head, pipe->tail) <= tx->max)
		return zcsend_send_pipe(pipe, tx);
	return __splice_from_pipe(pipe, sd, zcsend_gather_buf);
}

/*
 * Gather and send one batch: @len bytes of @file from @pos, with MSG_MORE
 * after it when @more (and the whole batch was read; a batch cut short by
 * end of file ends the call, and then only ZCSEND_F_MORE holds data back).
 * Return: bytes queued, or a negative errno when none were.
 */
static ssize_t zcsend_send_batch(struct zcsend_tx *tx, struct file *file,
				 loff_t pos, size_t len, bool more)
{
	struct splice_desc sd = {
		.total_len	= len,
		.pos		= pos,
		.u.data		= tx,
	};
	ssize_t ret;
	int err;

	tx->gathered = 0;
	tx->queued = 0;
	tx->err = 0;
	tx->trimmed = false;
	tx->batch_len = len;
	tx->batch_more = more;

	ret = splice_direct_to_actor(file, &sd, zcsend_gather_pipe);
	if (!tx->err && tx->nr) {
		err = zcsend_batch_flush(tx, zcsend_batch_more(tx), true);
		if (err)
			tx->err = err;
	}

	if (tx->queued)
		return tx->queued;
	if (tx->err)
		return tx->err;
	return ret < 0 ? ret : 0;
}

/*
 * Send @len bytes of @file from @pos in batches sized by
 * zcsend_batch_budget(). @more: MSG_MORE after the last byte when the whole
 * range goes out. With ZCSEND_F_NOWAIT each batch is cut to the cached
 * prefix found just before it is read, and the range stops (-EBUSY when
 * nothing was queued) at the first page that is not cached. A range of 0
 * bytes touches the access time, as sendfile(2) does for any length
 * (splice_direct_to_actor).
 * Return: bytes queued, or a negative errno when none were.
 */
static ssize_t zcsend_send_range(struct zcsend_tx *tx, struct file *file,
				 loff_t pos, size_t len, bool more)
{
	size_t done = 0;
	ssize_t ret = 0;
	bool m;

	if (!len)
		file_accessed(file);

	while (done < len) {
		size_t n = min(len - done, zcsend_batch_budget(tx));

		if (!n) {
			ret = zcsend_sock_error(tx);
			if (ret)
				break;
			if (!zcsend_sock_full(tx->sock))
				continue;
			ret = -EAGAIN;
			break;
		}
		if (tx->nowait) {
			n = zcsend_nowait_cached(file, pos + done, n);
			if (!n) {
				zcsend_nowait_miss(file, pos + done,
						   len - done, &tx->stats);
				ret = -EBUSY;
				break;
			}
		}
		/*
		 * A batch cut by the socket's space goes out without
		 * MSG_MORE, as TCP pushes before it waits for space: corked
		 * bytes would otherwise wait for ACKs that never come. Not on
		 * kTLS, which would close a short record there: MSG_MORE
		 * keeps it open for the next batch, and sendfile(2) sets it
		 * on every round but the last (splice_direct_to_actor).
		 */
		m = done + n < len ? n == tx->cap || tx->tls : more;
		/*
		 * kTLS keeps a record open under MSG_MORE until the next
		 * send, with no timer to push it as TCP's cork has: a batch
		 * that ends at end of file ends the range (the next one
		 * reads nothing), so it takes the range's own @more, as
		 * sendfile(2) ends with splice_eof.
		 */
		if (m && tx->tls && done + n < len &&
		    pos + done + n >= i_size_read(file_inode(file)))
			m = more;
		/* Nor is one corked that the next batch's miss would strand. */
		if (m && tx->nowait && done + n < len &&
		    !zcsend_nowait_cached(file, pos + done + n, 1))
			m = false;
		ret = zcsend_send_batch(tx, file, pos + done, n, m);
		if (ret <= 0)
			break;
		done += ret;
		/* A trimmed batch goes on from where TCP stopped taking. */
		if ((size_t)ret < n && (tx->err || !tx->trimmed))
			break;
	}
	if (done && tx->drop)
		zcsend_drop_add(tx->drop, file, pos, done);
	return done ? done : ret;
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
		zcsend_tx_stat(tx, ZCSEND_A_STATS_BYTES, ret);
		zcsend_tx_stat(tx, ZCSEND_A_STATS_INLINE_BYTES, ret);
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

/*
 * Count a call refused before zcsend_tx_init(): the call and its refusal.
 * Not inlined: its sum stays out of the ioctls' frames (an error path).
 */
static noinline_for_stack long zcsend_refuse(long err)
{
	struct zcsend_stats_delta d = {};

	zcsend_stats_delta_add(&d, ZCSEND_A_STATS_CALLS, 1);
	zcsend_stats_delta_add(&d, ZCSEND_A_STATS_ERR_INVAL, 1);
	zcsend_stats_commit(&d);
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

/*
 * What do_sendfile() does once it has tried a transfer: /proc/PID/io's
 * syscr/syscw (whatever the result) and rchar/wchar, and fsnotify
 * IN_ACCESS on the file and IN_MODIFY on the socket when bytes went out.
 */
static __always_inline void zcsend_account_file(struct file *file,
						ssize_t bytes)
{
	if (bytes > 0) {
		add_rchar(current, bytes);
		fsnotify_access(file);
	}
}

static __always_inline void zcsend_account_sock(struct socket *sock,
						ssize_t bytes)
{
	inc_syscr(current);
	inc_syscw(current);
	if (bytes > 0) {
		add_wchar(current, bytes);
		fsnotify_modify(sock->file);
	}
}

/* do_splice_direct() refuses an O_APPEND output (syscr/syscw counted). */
static int zcsend_sock_appends(struct socket *sock)
{
	return sock->file->f_flags & O_APPEND ? -EINVAL : 0;
}

/*
 * The inline issue of an io_uring command (uring.c) runs a non-blocking
 * call with @punt set, and looks the page cache up as ZCSEND_F_NOWAIT does
 * whether or not the caller asked for it. A page-cache miss the caller did
 * not ask ZCSEND_F_NOWAIT for must not end the call with EBUSY: the
 * attempt is given up (*@punt) and io-wq issues the command again, reading
 * from the disk. The attempt must leave no trace then, or the retry would
 * count the call twice: nothing sent, no counter committed (its counts are
 * still only in the call's sum), no read or write accounted. The readahead
 * the miss started stays: it is what the retry reads.
 */
static bool zcsend_may_punt(const bool *punt, u32 flags)
{
	return punt && !(flags & ZCSEND_F_NOWAIT);
}

/* A signal (or io_uring's task_work: TIF_NOTIFY_SIGNAL) stopped the call. */
static bool zcsend_interrupted(ssize_t ret)
{
	return ret == -EINTR || ret == -ERESTARTSYS ||
	       ret == -ERESTARTNOINTR || ret == -ERESTARTNOHAND ||
	       ret == -ERESTART_RESTARTBLOCK;
}

/*
 * After the send: give the attempt up? Also when it was interrupted with
 * nothing queued: the inline issue runs in the submitting task, whose
 * signal_pending() is also true while io_uring has task_work for it, which
 * splice_from_pipe_next() takes as a signal. The ioctl would be restarted;
 * io-wq issues the command again instead.
 * Return: true when it is punted.
 */
static __always_inline bool zcsend_tx_punt(struct zcsend_tx *tx, bool *punt,
					   u32 flags, ssize_t ret)
{
	if (!punt || (!(ret == -EBUSY && zcsend_may_punt(punt, flags)) &&
		      !zcsend_interrupted(ret)))
		return false;
	memset(&tx->stats, 0, sizeof(tx->stats));
	*punt = true;
	return true;
}

/*
 * zcsend_file_in()'s body, inlined into zcsend_ioctl_sendfile() with
 * __zcsend_sendfile(): one frame for the ioctl's whole call.
 */
static __always_inline int __zcsend_file_in(struct zcsend_file *k,
					    void __user *arg)
{
	int err;

	err = zcsend_file_in_one(k, arg);
	if (err > 0) {
		err = zcsend_copy_arg(k, sizeof(*k), ZCSEND_FILE_SIZE_VER0,
				      arg);
		if (!err)
			err = zcsend_file_put_out(arg, 0, k->offset);
	}
	return err ? zcsend_refuse(err) : 0;
}

/**
 * zcsend_file_in() - copy in a call's struct zcsend_file
 * @k: the copy
 * @arg: user pointer to the caller's struct
 *
 * Also writes the struct's output fields (@sent 0, @offset unchanged), so
 * that zcsend_sendfile() knows before it sends anything that it can write
 * them after: a struct that cannot be written back is refused here with
 * EFAULT, before any other check.
 *
 * Return: 0, or a negative errno (counted as a refusal).
 */
int zcsend_file_in(struct zcsend_file *k, void __user *arg)
{
	return __zcsend_file_in(k, arg);
}

/* zcsend_sendfile()'s body; see __zcsend_file_in(). */
static __always_inline ssize_t __zcsend_sendfile(const struct zcsend_file *k,
						 void __user *arg, bool *punt)
{
	struct fd ffd, sfd;
	struct socket *sock;
	struct zcsend_tx tx = {};
	struct file *file;
	ssize_t ret;
	size_t len;
	int err;

	err = zcsend_file_arg_check(k);
	if (!err)
		err = zcsend_file_get(k->file_fd, k->offset, k->length, &ffd,
				      &file, &len);
	if (err)
		return zcsend_refuse(err);
	if ((k->flags & ZCSEND_F_NOWAIT) || punt) {
		err = zcsend_nowait_check(file);
		if (err && zcsend_may_punt(punt, k->flags)) {
			*punt = true;	/* the read could wait: not inline */
			fdput(ffd);
			return -EAGAIN;
		}
		if (err)
			goto err_put_file;
	}

	err = zcsend_sock_get(k->sock_fd, &sfd, &sock);
	if (err)
		goto err_put_file;

	err = zcsend_tx_init(&tx, sock, k->flags, len, 1);
	if (err)
		goto err_put_sock;
	if (punt)
		tx.nowait = true;

	ret = zcsend_sock_appends(sock);
	if (!ret)
		ret = zcsend_send_range(&tx, file, k->offset, len,
					tx.user_more);
	if (zcsend_tx_punt(&tx, punt, k->flags, ret)) {
		ret = -EAGAIN;
	} else {
		zcsend_account_file(file, ret);
		zcsend_account_sock(sock, ret);
	}

	zcsend_tx_destroy(&tx, ret);
	fdput(sfd);
	fdput(ffd);
	if (ret < 0)
		return punt && *punt ? ret : zcsend_fail(ret);

	if (zcsend_file_put_out(arg, ret, k->offset + ret))
		return -EFAULT;
	return ret;

err_put_sock:
	fdput(sfd);
	fdput(ffd);
	return zcsend_fail(err);
err_put_file:
	fdput(ffd);
	return zcsend_refuse(err);
}

/**
 * zcsend_sendfile() - ZCSEND_IOC_SENDFILE and ZCSEND_URING_CMD_SENDFILE
 * @k: the caller's struct, copied in by zcsend_file_in()
 * @arg: user pointer to the caller's struct, for the output fields
 * @punt: NULL, or the inline issue of an io_uring command (see
 *        zcsend_may_punt()), whose attempt is given up when set on return
 *
 * Sends a file range to a connected TCP socket from the page cache, as
 * documented in uapi/linux/zcsend.h. Only the output fields are written
 * back (never past the caller's struct), and zcsend_file_in() wrote each
 * of them before, so that queued bytes are not followed by EFAULT (unless
 * another thread unmaps or write-protects the struct during the call).
 *
 * Return: bytes queued, with @sent and @offset updated (0 when none was
 * asked for, or the range is past end of file), else a negative errno.
 */
ssize_t zcsend_sendfile(const struct zcsend_file *k, void __user *arg,
			bool *punt)
{
	return __zcsend_sendfile(k, arg, punt);
}

/**
 * zcsend_ioctl_sendfile() - ZCSEND_IOC_SENDFILE
 * @arg: user pointer to struct zcsend_file
 *
 * Return: 0 with @sent and @offset updated, else a negative errno.
 */
long zcsend_ioctl_sendfile(void __user *arg)
{
	struct zcsend_file k;
	ssize_t ret;

	ret = __zcsend_file_in(&k, arg);
	if (!ret)
		ret = __zcsend_sendfile(&k, arg, NULL);
	return ret < 0 ? ret : 0;
}

static int zcsend_vseg_file(struct zcsend_vseg *vs, const struct zcsend_seg *s)
{
	loff_t size;
	int err;

	if (s->addr)
		return -EINVAL;
	err = zcsend_file_get(s->fd, s->offset, s->length, &vs->ref,
			      &vs->file, &vs->len);
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

/*
 * One call sends at most MAX_RW_COUNT bytes over all its segments, as
 * writev(2) and sendfile(2): the segment that reaches the limit is cut
 * there, and the call stops after it. @total: bytes of the segments so far.
 */
static void zcsend_vseg_cap(struct zcsend_vseg *vs, size_t *total)
{
	size_t room = MAX_RW_COUNT - *total;

	if (vs->len > room) {
		vs->len = room;
		vs->cut = true;
		vs->empty = !room;
	}
	*total += vs->len;
}

static void zcsend_vsegs_put(struct zcsend_vseg *vs, u32 nr)
{
	u32 i;

	for (i = 0; i < nr; i++)
		if (vs[i].file)
			fdput(vs[i].ref);
	kvfree(vs);
}

/*
 * The user's @nr segments, in @segsp: copied into @stack when they fit,
 * else into memory allocated for them (free with zcsend_segs_free()).
 * Return: 0, -EFAULT or -ENOMEM.
 */
static int zcsend_segs_copy(u64 uaddr, u32 nr, struct zcsend_seg *stack,
			    struct zcsend_seg **segsp)
{
	void __user *u = u64_to_user_ptr(uaddr);
	struct zcsend_seg *segs = stack;

	if (nr > ZCSEND_SEGS_STACK) {
		segs = vmemdup_user(u, array_size(nr, sizeof(*segs)));
		if (IS_ERR(segs))
			return PTR_ERR(segs);
	} else if (copy_from_user(segs, u, nr * sizeof(*segs))) {
		return -EFAULT;
	}
	*segsp = segs;
	return 0;
}

static void zcsend_segs_free(struct zcsend_seg *segs, u32 nr)
{
	if (nr > ZCSEND_SEGS_STACK)
		kvfree(segs);
}

/*
 * Copy and validate all segments, taking a reference on every file. Not
 * inlined: the stack copy of the user's segments is gone before anything
 * is sent, and the sending ioctl's frame stays small.
 * Return: the segments (put with zcsend_vsegs_put()), or an ERR_PTR.
 */
static noinline_for_stack struct zcsend_vseg *
zcsend_vsegs_get(u64 uaddr, u32 nr)
{
	struct zcsend_seg stack_segs[ZCSEND_SEGS_STACK];
	struct zcsend_seg *segs;
	struct zcsend_vseg *vs;
	size_t total = 0;
	int err;
	u32 i;

	err = zcsend_segs_copy(uaddr, nr, stack_segs, &segs);
	if (err)
		return ERR_PTR(err);

	vs = kvcalloc(nr, sizeof(*vs), GFP_KERNEL);
	if (!vs) {
		err = -ENOMEM;
		goto err_free_segs;
	}

	for (i = 0; i < nr && !err; i++) {
		err = zcsend_vseg_init(&vs[i], &segs[i]);
		if (!err)
			zcsend_vseg_cap(&vs[i], &total);
	}
	if (err) {
		zcsend_vsegs_put(vs, i);
		goto err_free_segs;
	}
	zcsend_segs_free(segs, nr);
	return vs;

err_free_segs:
	zcsend_segs_free(segs, nr);
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
 * MSG_MORE after segment @i. With ZCSEND_F_NOWAIT, not when the next
 * segment that sends bytes is a file segment whose first page is not
 * cached: the call stops there, and corked bytes would wait for the next
 * call.
 */
static bool zcsend_vseg_more(const struct zcsend_tx *tx,
			     const struct zcsend_vseg *vs, u32 i, u32 nr)
{
	u32 j;

	if (!vs[i].more || !tx->nowait)
		return vs[i].more;
	for (j = i + 1; j < nr && vs[j].empty; j++)
		;
	if (j < nr && vs[j].file &&
	    !zcsend_nowait_cached(vs[j].file, vs[j].pos, 1))
		return false;
	return true;
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
	bool more;
	u32 i;

	k->segs_done = 0;
	k->seg_sent = 0;
	for (i = 0; i < k->nr_segs; i++) {
		/*
		 * Between segments, a blocking call stops for a signal. A
		 * non-blocking one goes on, but can still stop for one in the
		 * splice read (splice_from_pipe_next), as sendfile(2) can.
		 */
		if (!zcsend_tx_nonblock(tx) && signal_pending(current)) {
			ret = -ERESTARTSYS;
			break;
		}
		more = zcsend_vseg_more(tx, vs, i, k->nr_segs);
		if (vs[i].file) {
			ret = zcsend_send_range(tx, vs[i].file, vs[i].pos,
						vs[i].len, more);
			zcsend_account_file(vs[i].file, ret);
		} else {
			ret = zcsend_send_inline(tx, vs[i].addr, vs[i].len,
						 more);
		}
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

static int zcsend_vsegs_nowait_check(const struct zcsend_vseg *vs, u32 nr)
{
	int err = 0;
	u32 i;

	for (i = 0; i < nr && !err; i++)
		if (vs[i].file)
			err = zcsend_nowait_check(vs[i].file);
	return err;
}

static struct zcsend_vseg *zcsend_vec_prepare(struct zcsend_vec *k)
{
	struct zcsend_vseg *vs;
	int err;

	err = zcsend_vec_arg_check(k);
	if (err)
		return ERR_PTR(err);
	if (!k->nr_segs)
		return NULL;
	vs = zcsend_vsegs_get(k->segs, k->nr_segs);
	if (IS_ERR(vs) || !(k->flags & ZCSEND_F_NOWAIT))
		return vs;
	err = zcsend_vsegs_nowait_check(vs, k->nr_segs);
	if (err) {
		zcsend_vsegs_put(vs, k->nr_segs);
		return ERR_PTR(err);
	}
	return vs;
}

/**
 * zcsend_vec_in() - copy in a call's struct zcsend_vec
 * @k: the copy
 * @arg: user pointer to the caller's struct
 *
 * Also writes its output fields (all 0), as zcsend_file_in() does.
 *
 * Return: 0, or a negative errno (counted as a refusal).
 */
int zcsend_vec_in(struct zcsend_vec *k, void __user *arg)
{
	int err;

	err = zcsend_vec_in_one(k, arg);
	if (err > 0) {
		err = zcsend_copy_arg(k, sizeof(*k), ZCSEND_VEC_SIZE_VER0,
				      arg);
		if (!err)
			err = zcsend_vec_put_out(arg, 0, 0, 0);
	}
	return err ? zcsend_refuse(err) : 0;
}

/**
 * zcsend_sendvec() - ZCSEND_IOC_SENDVEC and ZCSEND_URING_CMD_SENDVEC
 * @kp: the caller's struct, copied in by zcsend_vec_in()
 * @arg: user pointer to the caller's struct, for the output fields
 * @punt: as for zcsend_sendfile()
 *
 * Sends file ranges (from the page cache) and inline bytes (copied) to a
 * connected TCP socket in order, as documented in uapi/linux/zcsend.h. All
 * segments are validated before anything is sent.
 *
 * Return: bytes queued, with @sent, @segs_done and @seg_sent updated (0
 * when none was asked for), else a negative errno.
 */
ssize_t zcsend_sendvec(const struct zcsend_vec *kp, void __user *arg,
		       bool *punt)
{
	struct zcsend_vec k = *kp;
	struct zcsend_vseg *vs;
	struct fd sfd;
	struct socket *sock;
	struct zcsend_tx tx = {};
	ssize_t ret;
	int err;

	vs = zcsend_vec_prepare(&k);
	if (IS_ERR(vs))
		return zcsend_refuse(PTR_ERR(vs));
	if (zcsend_may_punt(punt, k.flags) &&
	    zcsend_vsegs_nowait_check(vs, k.nr_segs)) {
		*punt = true;	/* a read could wait: not inline */
		zcsend_vsegs_put(vs, k.nr_segs);
		return -EAGAIN;
	}

	err = zcsend_sock_get(k.sock_fd, &sfd, &sock);
	if (err)
		goto err_put_segs;

	zcsend_plan(vs, k.nr_segs, k.flags & ZCSEND_F_MORE);
	err = zcsend_tx_init(&tx, sock, k.flags,
			     zcsend_vsegs_max_len(vs, k.nr_segs), k.nr_segs);
	if (err)
		goto err_put_sock;
	if (punt)
		tx.nowait = true;

	ret = zcsend_sock_appends(sock);
	if (!ret)
		ret = zcsend_send_vsegs(&tx, vs, &k);
	if (zcsend_tx_punt(&tx, punt, k.flags, ret))
		ret = -EAGAIN;
	else
		zcsend_account_sock(sock, ret);

	zcsend_tx_destroy(&tx, ret);
	fdput(sfd);
	zcsend_vsegs_put(vs, k.nr_segs);
	if (ret < 0)
		return punt && *punt ? ret : zcsend_fail(ret);

	if (zcsend_vec_put_out(arg, ret, k.segs_done, k.seg_sent))
		return -EFAULT;
	return ret;

err_put_sock:
	fdput(sfd);
	zcsend_vsegs_put(vs, k.nr_segs);
	return zcsend_fail(err);
err_put_segs:
	zcsend_vsegs_put(vs, k.nr_segs);
	return zcsend_refuse(err);
}

/**
 * zcsend_ioctl_sendvec() - ZCSEND_IOC_SENDVEC
 * @arg: user pointer to struct zcsend_vec
 *
 * Return: 0 with @sent, @segs_done and @seg_sent updated, else a negative
 * errno.
 */
long zcsend_ioctl_sendvec(void __user *arg)
{
	struct zcsend_vec k;
	ssize_t ret;

	ret = zcsend_vec_in(&k, arg);
	if (!ret)
		ret = zcsend_sendvec(&k, arg, NULL);
	return ret < 0 ? ret : 0;
}
