// SPDX-License-Identifier: GPL-2.0
/*
 * zcsend: the io_uring commands ZCSEND_URING_CMD_SENDFILE and
 * ZCSEND_URING_CMD_SENDVEC (IORING_OP_URING_CMD on /dev/zcsend).
 *
 * The SQE's command area holds a user pointer to the struct the ioctl of
 * the same name takes; the command runs the ioctl's own code on it
 * (send.c), so every check the ioctl makes is made, and the CQE carries
 * the bytes queued or the ioctl's errno. security_file_ioctl() does not
 * run on this path (io_uring calls security_uring_cmd() instead); the
 * device's mode (0600, root) is what keeps both paths to the same users.
 *
 * io_uring issues a command first inline, in the submitter's
 * io_uring_enter() or SQPOLL thread (IO_URING_F_NONBLOCK), where it must
 * not sleep; -EAGAIN there hands it to an io-wq worker thread, which
 * issues it again without that flag and may block. The worker is a thread
 * of the submitting process (fds resolve in its table) and is interrupted
 * when the ring is closed or the process dies, so a command blocked on a
 * full socket ends as the ioctl ends on a signal.
 *
 * The command area is read once, at the first issue, and the user pointer
 * kept in the command's private area (pdu): a retry on 6.12 would read the
 * SQ ring slot again, which the application may have reused by then.
 */
#include <linux/bits.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/string.h>
#include <linux/types.h>

#include "compat.h"
#include "zcsend.h"

/* What a command keeps between its issues, in io_uring_cmd.pdu. */
struct zcsend_uring_pdu {
	u64	arg;	/* user address of the command's struct */
};

static struct zcsend_uring_pdu *zcsend_uring_pdu(struct io_uring_cmd *cmd)
{
	BUILD_BUG_ON(sizeof(struct zcsend_uring_pdu) > sizeof(cmd->pdu));
	return (struct zcsend_uring_pdu *)cmd->pdu;
}

/*
 * Set in io_uring_cmd.flags once the pdu holds the command's argument.
 * Whether an issue is the command's first cannot be told from the issue
 * flags: the first issue is inline (IO_URING_F_NONBLOCK), or in io-wq for
 * IOSQE_ASYNC, a drain, or a linked command whose predecessor completed in
 * io-wq (which runs it next); a retry after -EAGAIN is in io-wq too. And
 * the pdu is not cleared between requests. The flags are: io_uring sets
 * them from the SQE when it prepares each request, refusing any bit but
 * IORING_URING_CMD_FIXED there, and itself uses only bit 30 (6.12,
 * IORING_URING_CMD_CANCELABLE, for commands marked cancelable, which these
 * are not). So this bit, in the byte io_uring keeps for the kernel's own
 * use, never outlives its request.
 */
#define ZCSEND_URING_CMD_READ	BIT(24)

/*
 * Read the command area once, check it, and keep the user pointer in the
 * pdu. Return: 0, or a negative errno for the CQE.
 */
static int zcsend_uring_read_sqe(struct io_uring_cmd *cmd,
				 unsigned int issue_flags)
{
	const struct zcsend_uring_cmd *area = zcsend_uring_payload(cmd);
	const u8 *tail = (const u8 *)(area + 1);
	size_t i;

	BUILD_BUG_ON(sizeof(*area) != ZCSEND_URING_CMD_SIZE);

	if (cmd->cmd_op != ZCSEND_URING_CMD_SENDFILE &&
	    cmd->cmd_op != ZCSEND_URING_CMD_SENDVEC)
		return -EOPNOTSUPP;
	/* A registered buffer means nothing to these commands. */
	if (cmd->flags & IORING_URING_CMD_FIXED)
		return -EINVAL;
	if (READ_ONCE(area->reserved))
		return -EINVAL;
	/* A 128-byte SQE's extra 64 bytes extend the area: zero, for now. */
	if (issue_flags & IO_URING_F_SQE128) {
		for (i = 0; i < 64; i++)
			if (READ_ONCE(tail[i]))
				return -EINVAL;
	}
	zcsend_uring_pdu(cmd)->arg = READ_ONCE(area->arg);
	cmd->flags |= ZCSEND_URING_CMD_READ;
	return 0;
}

/*
 * Run the ioctl's code on the caller's struct. @punt: NULL from io-wq;
 * in the inline issue, set when the command is to be issued again from
 * io-wq (see zcsend_uring_inline()).
 * Return: bytes, or -errno.
 */
static ssize_t zcsend_uring_send(u32 op, void __user *uarg, bool *punt)
{
	union {
		struct zcsend_file file;
		struct zcsend_vec vec;
	} k;
	ssize_t ret;
	u32 flags;

	if (op == ZCSEND_URING_CMD_SENDFILE) {
		ret = zcsend_file_in(&k.file, uarg);
		flags = k.file.flags;
	} else {
		ret = zcsend_vec_in(&k.vec, uarg);
		flags = k.vec.flags;
	}
	if (ret)
		return ret;
	/* Inline, only a non-blocking command is tried (see below). */
	if (punt && !(flags & ZCSEND_F_NONBLOCK)) {
		*punt = true;
		return -EAGAIN;
	}
	if (op == ZCSEND_URING_CMD_SENDFILE)
		return zcsend_sendfile(&k.file, uarg, punt);
	return zcsend_sendvec(&k.vec, uarg, punt);
}

/*
 * The inline issue must not sleep, and a send can sleep twice: on a full
 * socket and in the splice read of a page not in the page cache. So only
 * a command whose own flags hold ZCSEND_F_NONBLOCK is tried here (never
 * one that relies on the socket's O_NONBLOCK alone), with the page cache
 * looked up as ZCSEND_F_NOWAIT does (send.c: zcsend_may_punt()). It gets
 * what the non-blocking ioctl gets, posted from here: bytes queued (fewer
 * than asked when the socket fills, or when the page after a cached
 * prefix is not cached: a short count the flag already allows), -EAGAIN
 * for a full socket, any other errno. Only a miss at the first page to
 * read, which the caller did not ask ZCSEND_F_NOWAIT for, is given up
 * (it would be EBUSY) and goes to io-wq, which reads from the disk; so
 * does a file whose cache cannot be looked up without waiting. The
 * attempt given up counts nothing: the retry counts the call once.
 *
 * A blocking command always goes to io-wq: tried here, a full socket or a
 * short send would have to be finished there, after part of the data had
 * gone and been counted.
 *
 * -EAGAIN returned from here hands the command to io-wq, so a -EAGAIN
 * result is posted with io_uring_cmd_done() (on both kernels) and
 * -EIOCBQUEUED returned; that fails the linked requests as a returned
 * errno does. Other results go through zcsend_uring_result(), as from
 * io-wq (6.1 posts a count with io_uring_cmd_done() there too; inline,
 * its completion is posted at once under the ring's lock, as ublk's are).
 *
 * Return: what ->uring_cmd returns.
 */
static int zcsend_uring_inline(struct io_uring_cmd *cmd,
			       unsigned int issue_flags)
{
	bool punt = false;
	ssize_t ret;

	ret = zcsend_uring_send(cmd->cmd_op,
				u64_to_user_ptr(zcsend_uring_pdu(cmd)->arg),
				&punt);
	if (punt)
		return -EAGAIN;
	if (ret == -EAGAIN) {
		io_uring_cmd_done(cmd, ret, 0, issue_flags);
		return -EIOCBQUEUED;
	}
	return zcsend_uring_result(cmd, ret, issue_flags);
}

/**
 * zcsend_uring_cmd() - file_operations.uring_cmd of /dev/zcsend
 * @cmd: the command
 * @issue_flags: IO_URING_F_* of this issue
 *
 * Return: the result, -EAGAIN to be issued again from io-wq, or
 * -EIOCBQUEUED once the result is posted (see zcsend_uring_result()).
 */
int zcsend_uring_cmd(struct io_uring_cmd *cmd, unsigned int issue_flags)
{
	ssize_t ret;
	int err;

	if (!(cmd->flags & ZCSEND_URING_CMD_READ)) {
		err = zcsend_uring_read_sqe(cmd, issue_flags);
		if (err)
			return err;
	}
	if (issue_flags & IO_URING_F_NONBLOCK)
		return zcsend_uring_inline(cmd, issue_flags);

	ret = zcsend_uring_send(cmd->cmd_op,
				u64_to_user_ptr(zcsend_uring_pdu(cmd)->arg),
				NULL);
	return zcsend_uring_result(cmd, ret, issue_flags);
}
