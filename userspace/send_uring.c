// SPDX-License-Identifier: GPL-2.0
/*
 * zcsend send --uring: the send loop of "zcsend send" over io_uring, with
 * ZCSEND_URING_CMD_SENDFILE commands (IORING_OP_URING_CMD on /dev/zcsend)
 * instead of the ioctl, one at a time, resuming from the returned offset.
 *
 * The only file of the tool that uses liburing: the tool links it for this
 * option alone (the benchmark, a program of its own, drives the commands
 * at depth).
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <liburing.h>
#include <linux/zcsend.h>

#include "zcsend.h"

#define URING_SYSCTL "/proc/sys/kernel/io_uring_disabled"

/* Why io_uring_queue_init() failed, in words a user can act on. */
static void say_setup_error(int err)
{
	FILE *f;
	int v = -1;

	if (err == EPERM) {
		f = fopen(URING_SYSCTL, "re");
		if (f) {
			if (fscanf(f, "%d", &v) != 1)
				v = -1;
			fclose(f);
		}
		fprintf(stderr,
			"zcsend send: io_uring is disabled for this process (sysctl kernel.io_uring_disabled = %d%s): send without --uring\n",
			v, v == 1 ? ", and not in kernel.io_uring_group" : "");
		return;
	}
	if (err == ENOSYS) {
		fprintf(stderr, "zcsend send: this kernel has no io_uring: send without --uring\n");
		return;
	}
	fprintf(stderr, "zcsend send: io_uring_queue_init: %s\n",
		strerror(err));
}

static int wait_writable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };

	while (poll(&p, 1, -1) < 0) {
		if (errno != EINTR) {
			perror("zcsend send: poll");
			return -1;
		}
	}
	return 0;
}

/* One command on @ring: its CQE's res, or a negative errno of liburing. */
static int uring_sendfile(struct io_uring *ring, int dev,
			  struct zcsend_file *a)
{
	struct zcsend_uring_cmd c = { .arg = (uintptr_t)a };
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct io_uring_cqe *cqe;
	int ret;

	if (!sqe)
		return -EBUSY;
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, dev, NULL, 0, 0);
	sqe->cmd_op = ZCSEND_URING_CMD_SENDFILE;
	memcpy((char *)sqe + offsetof(struct io_uring_sqe, cmd), &c,
	       sizeof(c));
	ret = io_uring_submit(ring);
	if (ret < 0)
		return ret;
	do
		ret = io_uring_wait_cqe(ring, &cqe);
	while (ret == -EINTR);
	if (ret < 0)
		return ret;
	ret = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return ret;
}

/**
 * send_uring() - send a file range through the ring
 * @dev: /dev/zcsend
 * @file_fd: the file
 * @sock_fd: the connected socket
 * @offset: where to start
 * @length: bytes to send (stops early at end of file)
 * @nonblock: the socket is non-blocking: wait with poll() on EAGAIN
 * @total: bytes sent, also on failure
 *
 * Return: 0, or -1 after saying why on stderr.
 */
int send_uring(int dev, int file_fd, int sock_fd, uint64_t offset,
	       uint64_t length, bool nonblock, uint64_t *total)
{
	struct io_uring ring;
	int ret, res = 0;

	*total = 0;
	ret = io_uring_queue_init(4, &ring, 0);
	if (ret < 0) {
		say_setup_error(-ret);
		return -1;
	}
	while (length) {
		struct zcsend_file a = {
			.size = sizeof(a),
			.flags = ZCSEND_F_NOSIGNAL,
			.file_fd = file_fd,
			.sock_fd = sock_fd,
			.offset = offset,
			.length = length,
		};

		res = uring_sendfile(&ring, dev, &a);
		if (res == -EINTR)
			continue;
		if (res == -EAGAIN && nonblock) {
			res = wait_writable(sock_fd) ? -EIO : 0;
			if (res)
				break;
			continue;
		}
		if (res == -EOPNOTSUPP && !*total) {
			fprintf(stderr, "zcsend send: the loaded zcsend module has no io_uring commands (older than this tool?): send without --uring\n");
			break;
		}
		if (res < 0) {
			fprintf(stderr, "zcsend send: ZCSEND_URING_CMD_SENDFILE at offset %" PRIu64 ": %s\n",
				offset, strerror(-res));
			break;
		}
		if (res == 0)
			break;	/* end of file */
		*total += a.sent;
		length -= a.sent;
		offset = a.offset;
	}
	io_uring_queue_exit(&ring);
	return res < 0 ? -1 : 0;
}
