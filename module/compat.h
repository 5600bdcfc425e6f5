/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zcsend: every difference between the supported kernels (6.1 and 6.12)
 * lives here, as small helpers with one meaning on every version.
 *
 * The switch is on the kernel version, never on whether a flag is defined:
 * 6.1's headers define MSG_SPLICE_PAGES, but 6.1's TCP ignores it and copies.
 */
#ifndef _ZCSEND_COMPAT_H
#define _ZCSEND_COMPAT_H

#include <linux/bvec.h>
#include <linux/file.h>
#include <linux/net.h>
#include <linux/skbuff.h>
#include <linux/socket.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <linux/version.h>
#include <net/sock.h>

/*
 * The kernel built for, as major.minor. Named constants rather than a raw
 * LINUX_VERSION_CODE test, which checkpatch rightly flags in in-tree code;
 * out of tree, this header is the one place that compares versions.
 */
#define ZCSEND_KERNEL \
	KERNEL_VERSION(LINUX_VERSION_MAJOR, LINUX_VERSION_PATCHLEVEL, 0)
#define ZCSEND_KERNEL_SPLICE_PAGES	KERNEL_VERSION(6, 5, 0)
#define ZCSEND_KERNEL_FD_FILE		KERNEL_VERSION(6, 12, 0)
#define ZCSEND_KERNEL_MASKED_UACCESS	KERNEL_VERSION(6, 12, 0)

#if ZCSEND_KERNEL >= ZCSEND_KERNEL_SPLICE_PAGES

/**
 * zcsend_send_pages() - hand a batch of page fragments to a socket
 * @sock: a connected stream socket
 * @bv: the fragments; the caller holds a reference on each page
 * @nr: number of fragments in @bv
 * @len: total bytes in @bv
 * @flags: MSG_* flags for the whole batch (MSG_MORE when data follows)
 *
 * 6.5 and later: one sock_sendmsg() with MSG_SPLICE_PAGES over a bvec
 * iterator. TCP takes its own reference on every page it keeps (or copies
 * the bytes on a route without scatter-gather), so the caller may drop its
 * references when this returns.
 *
 * Return: bytes queued (possibly fewer than @len), or a negative errno when
 * nothing was queued.
 */
static __always_inline int zcsend_send_pages(struct socket *sock,
					     struct bio_vec *bv,
					     unsigned int nr, size_t len,
					     int flags)
{
	struct msghdr msg = { .msg_flags = flags | MSG_SPLICE_PAGES };

	iov_iter_bvec(&msg.msg_iter, ITER_SOURCE, bv, nr, len);
	return sock_sendmsg(sock, &msg);
}

#else /* before 6.5 */

/**
 * zcsend_send_pages() - hand a batch of page fragments to a socket
 * @sock: a connected stream socket
 * @bv: the fragments; the caller holds a reference on each page
 * @nr: number of fragments in @bv
 * @len: total bytes in @bv
 * @flags: MSG_* flags for the whole batch (MSG_MORE when data follows)
 *
 * Before 6.5 (MSG_SPLICE_PAGES came in 6.5 and ->sendpage left in 6.5):
 * one kernel_sendpage() per fragment, as splice does, with MSG_MORE and
 * MSG_SENDPAGE_NOTLAST on all but the last so that TCP pushes once per
 * batch. TCP takes its own page references (tcp_build_frag), or copies on a
 * route without scatter-gather (sock_no_sendpage).
 *
 * Return: bytes queued (possibly fewer than @len), or a negative errno when
 * nothing was queued.
 */
static __always_inline int zcsend_send_pages(struct socket *sock,
					     struct bio_vec *bv,
					     unsigned int nr, size_t len,
					     int flags)
{
	unsigned int i;
	int sent = 0;
	int ret = 0;

	for (i = 0; i < nr; i++) {
		int f = flags;

		if (i + 1 < nr)
			f |= MSG_MORE | MSG_SENDPAGE_NOTLAST;
		ret = kernel_sendpage(sock, bv[i].bv_page, bv[i].bv_offset,
				      bv[i].bv_len, f);
		if (ret <= 0)
			break;
		sent += ret;
		if ((unsigned int)ret < bv[i].bv_len)
			break;
	}
	return sent ? sent : ret;
}

#endif /* ZCSEND_KERNEL >= ZCSEND_KERNEL_SPLICE_PAGES */

/*
 * io_uring commands (->uring_cmd). Between 6.1 and 6.12 struct io_uring_cmd
 * moved to its own header and began to carry the whole SQE instead of its
 * command area, and io_uring began to post a positive return itself.
 */
#define ZCSEND_KERNEL_URING_SQE		KERNEL_VERSION(6, 12, 0)

#if ZCSEND_KERNEL >= ZCSEND_KERNEL_URING_SQE

#include <linux/io_uring/cmd.h>

/**
 * zcsend_uring_payload() - the command area of a command's SQE
 * @cmd: the command, at its first issue
 *
 * 6.12: ioucmd->sqe points into the SQ ring until io_uring copies it, and
 * an io-wq retry after -EAGAIN still points there (a slot the application
 * may have reused): valid only at the first issue.
 *
 * Return: the area: 16 bytes, 80 on a ring with 128-byte SQEs.
 */
static inline const void *zcsend_uring_payload(const struct io_uring_cmd *cmd)
{
	return io_uring_sqe_cmd(cmd->sqe);
}

/**
 * zcsend_uring_result() - post a command's result
 * @cmd: the command
 * @res: bytes queued, or a negative errno
 * @issue_flags: the flags of this issue
 *
 * 6.12 posts whatever ->uring_cmd returns (io_uring_cmd: io_req_set_res).
 *
 * Return: what ->uring_cmd returns.
 */
static inline int zcsend_uring_result(struct io_uring_cmd *cmd, int res,
				      unsigned int issue_flags)
{
	return res;
}

#else /* before 6.12 */

#include <linux/io_uring.h>

/**
 * zcsend_uring_payload() - the command area of a command's SQE
 * @cmd: the command, at its first issue
 *
 * 6.1: ioucmd->cmd, repointed by io_uring at its own copy for a retry.
 *
 * Return: the area: 16 bytes, 80 on a ring with 128-byte SQEs.
 */
static inline const void *zcsend_uring_payload(const struct io_uring_cmd *cmd)
{
	return cmd->cmd;
}

/**
 * zcsend_uring_result() - post a command's result
 * @cmd: the command
 * @res: bytes queued, or a negative errno
 * @issue_flags: the flags of this issue
 *
 * 6.1 mishandles a positive return from ->uring_cmd: issued inline it takes
 * the failure path (which cancels the linked requests), from io-wq it is
 * never posted. So a count is posted with io_uring_cmd_done() and
 * ->uring_cmd returns -EIOCBQUEUED, as ublk does. An errno is returned as
 * it is: io_uring fails the request (and its links) and turns restart
 * codes into EINTR, which io_uring_cmd_done() would not.
 *
 * Return: what ->uring_cmd returns.
 */
static inline int zcsend_uring_result(struct io_uring_cmd *cmd, int res,
				      unsigned int issue_flags)
{
	if (res <= 0)
		return res;
	io_uring_cmd_done(cmd, res, 0, issue_flags);
	return -EIOCBQUEUED;
}

#endif /* ZCSEND_KERNEL >= ZCSEND_KERNEL_URING_SQE */

/*
 * Release notifications (ZCSEND_F_NOTIFY): the batch goes to TCP as a
 * MSG_ZEROCOPY send with the call's ubuf_info (the kernel's own, from
 * msg_zerocopy_realloc()) in msg_ubuf. The same sock_sendmsg() on both
 * versions; only what TCP does with the ubuf after a failed send differs.
 */
#if ZCSEND_KERNEL >= ZCSEND_KERNEL_SPLICE_PAGES

/* 6.12's TCP leaves a caller's msg_ubuf alone on error ("pinned by the caller"). */
static inline void zcsend_zc_send_failed(struct sock *sk,
					 struct ubuf_info *uarg, u16 len)
{
}

#else /* before 6.5 */

/**
 * zcsend_zc_send_failed() - undo 6.1's abort of the call's id
 * @sk: the socket sent to
 * @uarg: the call's ubuf_info (msg_zerocopy_realloc())
 * @len: its id count before the send
 *
 * 6.1's tcp_sendmsg_locked() ends a send that queued nothing with
 * net_zcopy_put_abort() even on a caller's msg_ubuf: for the kernel's own
 * ubuf that gives its id back (sk_zckey and the ubuf's len one lower), as if
 * the whole call had queued nothing, while earlier batches of the call may
 * be in flight. Take the id again, under the socket lock as TCP changes it.
 * If another send on the socket took an id meanwhile (senders racing on one
 * socket), the count is restored but sk_zckey is left: the ids may repeat.
 * An error before TCP (an LSM) aborts nothing: @len tells.
 */
static inline void zcsend_zc_send_failed(struct sock *sk,
					 struct ubuf_info *uarg, u16 len)
{
	struct ubuf_info_msgzc *zc = uarg_to_msgzc(uarg);

	lock_sock(sk);
	if ((u16)(zc->len + 1) == len) {
		if ((u32)(zc->id + zc->len) == (u32)atomic_read(&sk->sk_zckey))
			atomic_inc(&sk->sk_zckey);
		zc->len++;
	}
	release_sock(sk);
}

#endif /* ZCSEND_KERNEL >= ZCSEND_KERNEL_SPLICE_PAGES */

/**
 * zcsend_send_pages_zc() - hand a batch to a socket as a MSG_ZEROCOPY send
 * @sock: a connected TCP socket with SOCK_SUPPORT_ZC
 * @bv: the fragments; the caller holds a reference on each page
 * @nr: number of fragments in @bv
 * @len: total bytes in @bv
 * @flags: MSG_* flags for the whole batch
 * @uarg: the call's ubuf_info, on which the caller holds a reference
 *
 * TCP takes a page reference per fragment (iov_iter_get_pages2 on the
 * bvec) and attaches @uarg to every skb that carries them: @uarg's last
 * reference goes when no skb holds any of these pages any more (or copies
 * them: "success" false). Without scatter-gather on the route TCP copies
 * instead, and @uarg is attached to nothing.
 *
 * Return: bytes queued (possibly fewer than @len), or a negative errno when
 * nothing was queued.
 */
static inline int zcsend_send_pages_zc(struct socket *sock, struct bio_vec *bv,
				       unsigned int nr, size_t len, int flags,
				       struct ubuf_info *uarg)
{
	struct msghdr msg = {
		.msg_flags	= flags | MSG_ZEROCOPY,
		.msg_ubuf	= uarg,
	};
	u16 ids = READ_ONCE(uarg_to_msgzc(uarg)->len);
	int ret;

	iov_iter_bvec(&msg.msg_iter, ITER_SOURCE, bv, nr, len);
	ret = sock_sendmsg(sock, &msg);
	if (ret < 0)
		zcsend_zc_send_failed(sock->sk, uarg, ids);
	return ret;
}

/*
 * ZCSEND_F_DROP: the module's own ubuf_info. 6.10 moved its callback into
 * an ops table (struct ubuf_info_ops); before, it was a member. Either way
 * the callback runs on every put, and counts the references itself.
 */
#define ZCSEND_KERNEL_UBUF_OPS		KERNEL_VERSION(6, 10, 0)

#if ZCSEND_KERNEL >= ZCSEND_KERNEL_UBUF_OPS

struct zcsend_ubuf_ops {
	struct ubuf_info_ops	ops;
};

#define ZCSEND_UBUF_OPS_INIT(fn)	{ .ops = { .complete = (fn) } }

static inline void zcsend_ubuf_init(struct ubuf_info *uarg,
				    const struct zcsend_ubuf_ops *ops)
{
	uarg->ops = &ops->ops;
}

/**
 * zcsend_ubuf_complete() - put a ubuf_info reference, saying how it went
 * @uarg: the ubuf (the kernel's MSG_ZEROCOPY one, or the module's own)
 * @success: false when the bytes it covered were copied
 *
 * net_zcopy_put() with a success argument: what an skb's release does.
 */
static inline void zcsend_ubuf_complete(struct ubuf_info *uarg, bool success)
{
	uarg->ops->complete(NULL, uarg, success);
}

#else /* before 6.10 */

struct zcsend_ubuf_ops {
	void (*complete)(struct sk_buff *skb, struct ubuf_info *uarg,
			 bool success);
};

#define ZCSEND_UBUF_OPS_INIT(fn)	{ .complete = (fn) }

static inline void zcsend_ubuf_init(struct ubuf_info *uarg,
				    const struct zcsend_ubuf_ops *ops)
{
	uarg->callback = ops->complete;
}

/**
 * zcsend_ubuf_complete() - put a ubuf_info reference, saying how it went
 * @uarg: the ubuf (the kernel's MSG_ZEROCOPY one, or the module's own)
 * @success: false when the bytes it covered were copied
 *
 * net_zcopy_put() with a success argument: what an skb's release does.
 */
static inline void zcsend_ubuf_complete(struct ubuf_info *uarg, bool success)
{
	uarg->callback(NULL, uarg, success);
}

#endif /* ZCSEND_KERNEL >= ZCSEND_KERNEL_UBUF_OPS */

/**
 * zcsend_fd_file() - the file that fdget() found
 * @f: what fdget() returned
 *
 * 6.12 packs struct fd into one word read with fd_file(); before, the file
 * was the member @f.file.
 *
 * Return: the file, or NULL when fdget() found none.
 */
static inline struct file *zcsend_fd_file(struct fd f)
{
#if ZCSEND_KERNEL >= ZCSEND_KERNEL_FD_FILE
	return fd_file(f);
#else
	return f.file;
#endif
}

/**
 * zcsend_user_access_begin() - open a user-access window for reads and writes
 * @ptr: the user pointer, replaced by the one to access within the window
 * @len: bytes from *@ptr that the window accesses, all of them from the start
 *
 * 6.12 and later, where the architecture can (x86-64): the pointer is
 * masked so that a kernel address faults, as with get_user() and
 * put_user(), and no speculation barrier is needed (copy_from_user() masks
 * it the same way). Otherwise user_access_begin(): access_ok() and the
 * barrier.
 *
 * Return: true when the window is open (close it with user_access_end()),
 * false when the range is not user memory.
 */
static __always_inline bool zcsend_user_access_begin(void __user **ptr,
						     size_t len)
{
#if ZCSEND_KERNEL >= ZCSEND_KERNEL_MASKED_UACCESS
	if (can_do_masked_user_access()) {
		*ptr = masked_user_access_begin(*ptr);
		return true;
	}
#endif
	return user_access_begin(*ptr, len);
}

#endif /* _ZCSEND_COMPAT_H */
