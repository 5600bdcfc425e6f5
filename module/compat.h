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
#include <linux/socket.h>
#include <linux/uio.h>
#include <linux/version.h>

/*
 * The kernel built for, as major.minor. Named constants rather than a raw
 * LINUX_VERSION_CODE test, which checkpatch rightly flags in in-tree code;
 * out of tree, this header is the one place that compares versions.
 */
#define ZCSEND_KERNEL \
	KERNEL_VERSION(LINUX_VERSION_MAJOR, LINUX_VERSION_PATCHLEVEL, 0)
#define ZCSEND_KERNEL_SPLICE_PAGES	KERNEL_VERSION(6, 5, 0)
#define ZCSEND_KERNEL_FD_FILE		KERNEL_VERSION(6, 12, 0)

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
static inline int zcsend_send_pages(struct socket *sock, struct bio_vec *bv,
				    unsigned int nr, size_t len, int flags)
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
static inline int zcsend_send_pages(struct socket *sock, struct bio_vec *bv,
				    unsigned int nr, size_t len, int flags)
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

#endif /* _ZCSEND_COMPAT_H */
