// SPDX-License-Identifier: GPL-2.0
/*
 * zcsend bench: the senders. Each sends objects (an optional in-memory
 * header, then a file range) on a connected, blocking TCP socket, and counts
 * the system calls it makes. Headers go the way that method's users send
 * them: in the same buffer (read+write), writev (mmap+write), TCP_CORK +
 * write (sendfile, as nginx does), MSG_MORE (splice, MSG_ZEROCOPY, io_uring)
 * and an inline segment of ZCSEND_IOC_SENDVEC (zcsend).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/zcsend.h>

#include "bench.h"

#ifndef SO_ZEROCOPY
#define SO_ZEROCOPY 60
#endif
#ifndef MSG_ZEROCOPY
#define MSG_ZEROCOPY 0x4000000
#endif
#ifndef SO_EE_ORIGIN_ZEROCOPY
#define SO_EE_ORIGIN_ZEROCOPY 5
#endif
#ifndef SO_EE_CODE_ZEROCOPY_COPIED
#define SO_EE_CODE_ZEROCOPY_COPIED 1
#endif
/* liburing 2.3 ships an io_uring.h older than 6.2's usage report. */
#ifndef IORING_SEND_ZC_REPORT_USAGE
#define IORING_SEND_ZC_REPORT_USAGE (1U << 3)
#endif
#ifndef IORING_NOTIF_USAGE_ZC_COPIED
#define IORING_NOTIF_USAGE_ZC_COPIED (1U << 31)
#endif

const char *const method_names[M_COUNT] = {
	[M_READ_WRITE] = "read+write",
	[M_MMAP_WRITE] = "mmap+write",
	[M_SENDFILE] = "sendfile",
	[M_SPLICE] = "splice",
	[M_ZCSEND] = "zcsend",
	[M_MSG_ZEROCOPY] = "msg_zerocopy",
	[M_URING_SPLICE] = "uring_splice",
	[M_URING_SEND_ZC] = "uring_send_zc",
};

int method_by_name(const char *name)
{
	int i;

	for (i = 0; i < M_COUNT; i++)
		if (strcmp(name, method_names[i]) == 0)
			return i;
	return -1;
}

static char unavail_zcsend[160];
static char unavail_uring[160];

/* /dev/zcsend present, and its ioctl implemented (ENOTTY = not yet). */
static const char *zcsend_unavailable(void)
{
	struct zcsend_file z;
	int fd = open(ZCSEND_DEVICE_PATH, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(unavail_zcsend, sizeof(unavail_zcsend),
			 errno == ENOENT ? "module not loaded (no %s)" : "%s: %s",
			 ZCSEND_DEVICE_PATH, strerror(errno));
		return unavail_zcsend;
	}
	/* A bad file fd: EBADF/EINVAL means the ioctl exists. */
	memset(&z, 0, sizeof(z));
	z.size = sizeof(z);
	z.file_fd = -1;
	z.sock_fd = -1;
	z.length = 1;
	if (ioctl(fd, ZCSEND_IOC_SENDFILE, &z) < 0 && errno == ENOTTY) {
		close(fd);
		snprintf(unavail_zcsend, sizeof(unavail_zcsend),
			 "the loaded module does not implement ZCSEND_IOC_SENDFILE (ENOTTY)");
		return unavail_zcsend;
	}
	close(fd);
	return NULL;
}

static const char *uring_unavailable(enum method_id id)
{
	struct io_uring_probe *probe;
	struct io_uring ring;
	int op = id == M_URING_SPLICE ? IORING_OP_SPLICE : IORING_OP_SEND_ZC;
	int err;

	err = io_uring_queue_init(4, &ring, 0);
	if (err < 0) {
		snprintf(unavail_uring, sizeof(unavail_uring),
			 "io_uring_setup: %s", strerror(-err));
		return unavail_uring;
	}
	probe = io_uring_get_probe_ring(&ring);
	io_uring_queue_exit(&ring);
	if (!probe) {
		snprintf(unavail_uring, sizeof(unavail_uring),
			 "io_uring has no opcode probe (kernel older than 5.6)");
		return unavail_uring;
	}
	err = io_uring_opcode_supported(probe, op);
	io_uring_free_probe(probe);
	if (!err) {
		snprintf(unavail_uring, sizeof(unavail_uring), "this kernel's io_uring lacks %s",
			 op == IORING_OP_SPLICE ? "IORING_OP_SPLICE" : "IORING_OP_SEND_ZC (6.0+)");
		return unavail_uring;
	}
	return NULL;
}

const char *method_unavailable(enum method_id id)
{
	switch (id) {
	case M_ZCSEND:
		return zcsend_unavailable();
	case M_URING_SPLICE:
	case M_URING_SEND_ZC:
		return uring_unavailable(id);
	default:
		return NULL;
	}
}

int method_open(struct method_ctx *ctx, enum method_id id, int sock,
		size_t buf_len)
{
	int one = 1, err;

	memset(ctx, 0, sizeof(*ctx));
	ctx->id = id;
	ctx->sock = sock;
	ctx->pipe_rd = ctx->pipe_wr = ctx->dev = -1;
	switch (id) {
	case M_READ_WRITE:
		ctx->buf_len = buf_len;
		ctx->buf = malloc(buf_len);
		if (!ctx->buf)
			return -ENOMEM;
		break;
	case M_SPLICE:
	case M_URING_SPLICE: {
		int p[2];

		if (pipe2(p, O_CLOEXEC))
			return -errno;
		ctx->pipe_rd = p[0];
		ctx->pipe_wr = p[1];
		if (id == M_SPLICE)
			break;
	}
		/* fall through */
	case M_URING_SEND_ZC:
		ctx->ring = calloc(1, sizeof(struct io_uring));
		if (!ctx->ring)
			goto err_close;
		err = io_uring_queue_init(8, ctx->ring, 0);
		if (err < 0) {
			free(ctx->ring);
			ctx->ring = NULL;
			method_close(ctx);
			return err;
		}
		ctx->report_usage = 1;
		break;
	case M_ZCSEND:
		ctx->dev = open(ZCSEND_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
		if (ctx->dev < 0)
			return -errno;
		break;
	case M_MSG_ZEROCOPY:
		if (setsockopt(sock, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)))
			return -errno;
		ctx->c.zc_copied_known = 1;
		break;
	default:
		break;
	}
	return 0;

err_close:
	method_close(ctx);
	return -ENOMEM;
}

void method_close(struct method_ctx *ctx)
{
	if (ctx->ring) {
		io_uring_queue_exit(ctx->ring);
		free(ctx->ring);
		ctx->ring = NULL;
	}
	if (ctx->pipe_rd >= 0)
		close(ctx->pipe_rd);
	if (ctx->pipe_wr >= 0)
		close(ctx->pipe_wr);
	if (ctx->dev >= 0)
		close(ctx->dev);
	ctx->pipe_rd = ctx->pipe_wr = ctx->dev = -1;
	free(ctx->buf);
	ctx->buf = NULL;
	free(ctx->zc_len);
	ctx->zc_len = NULL;
}

/* write(2) all of buf, counting calls. */
static int write_all(struct method_ctx *ctx, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(ctx->sock, p, len);

		ctx->c.syscalls++;
		if (n < 0) {
			if (errno == EINTR && !bench_stop_signal)
				continue;
			return -errno;
		}
		ctx->c.bytes += (uint64_t)n;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* send(2) with flags, all of it. */
static int send_all(struct method_ctx *ctx, const char *p, size_t len, int flags)
{
	while (len) {
		ssize_t n = send(ctx->sock, p, len, flags);

		ctx->c.syscalls++;
		if (n < 0) {
			if (errno == EINTR && !bench_stop_signal)
				continue;
			return -errno;
		}
		ctx->c.bytes += (uint64_t)n;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int send_read_write(struct method_ctx *ctx, const struct object *o)
{
	uint64_t off = o->off, left = o->len;
	size_t fill = 0;

	/* The header shares the first buffer with the file's first bytes. */
	if (o->hdr_len) {
		if (o->hdr_len > ctx->buf_len)
			return -EINVAL;
		memcpy(ctx->buf, o->hdr, o->hdr_len);
		fill = o->hdr_len;
	}
	while (left || fill) {
		size_t want = ctx->buf_len - fill;
		int err;

		if (want > left)
			want = (size_t)left;
		if (want) {
			ssize_t n = pread(o->fd, ctx->buf + fill, want, (off_t)off);

			ctx->c.syscalls++;
			if (n < 0) {
				if (errno == EINTR && !bench_stop_signal)
					continue;
				return -errno;
			}
			if (n == 0)
				return -ENODATA;
			off += (uint64_t)n;
			left -= (uint64_t)n;
			fill += (size_t)n;
		}
		err = write_all(ctx, ctx->buf, fill);
		if (err)
			return err;
		fill = 0;
	}
	return 0;
}

/* mmap the file range; *base is what to munmap, the data at *data. */
static int map_range(struct method_ctx *ctx, const struct object *o,
		     void **base, size_t *maplen, const char **data)
{
	long pg = sysconf(_SC_PAGESIZE);
	uint64_t start = o->off & ~(uint64_t)(pg - 1);
	size_t len = (size_t)(o->off - start + o->len);
	void *m = mmap(NULL, len, PROT_READ, MAP_SHARED, o->fd, (off_t)start);

	ctx->c.syscalls++;
	if (m == MAP_FAILED)
		return -errno;
	*base = m;
	*maplen = len;
	*data = (const char *)m + (o->off - start);
	return 0;
}

static int unmap_range(struct method_ctx *ctx, void *base, size_t len)
{
	ctx->c.syscalls++;
	return munmap(base, len) ? -errno : 0;
}

static int send_mmap_write(struct method_ctx *ctx, const struct object *o)
{
	const char *data;
	size_t maplen;
	void *base;
	int err = map_range(ctx, o, &base, &maplen, &data);

	if (err)
		return err;
	if (o->hdr_len) {
		struct iovec iov[2] = {
			{ (void *)o->hdr, o->hdr_len },
			{ (void *)data, (size_t)o->len },
		};
		ssize_t n = writev(ctx->sock, iov, 2);

		ctx->c.syscalls++;
		if (n < 0) {
			err = -errno;
			goto out;
		}
		ctx->c.bytes += (uint64_t)n;
		if ((uint64_t)n < o->hdr_len) {
			err = -EIO;	/* a short header write: not expected */
			goto out;
		}
		n -= o->hdr_len;
		err = write_all(ctx, data + n, (size_t)o->len - (size_t)n);
	} else {
		err = write_all(ctx, data, (size_t)o->len);
	}
out:
	if (unmap_range(ctx, base, maplen) && !err)
		err = -errno;
	return err;
}

static int set_cork(struct method_ctx *ctx, int on)
{
	ctx->c.syscalls++;
	return setsockopt(ctx->sock, IPPROTO_TCP, TCP_CORK, &on, sizeof(on)) ? -errno : 0;
}

static int send_sendfile(struct method_ctx *ctx, const struct object *o)
{
	off_t off = (off_t)o->off;
	uint64_t left = o->len;
	int err;

	if (o->hdr_len) {
		err = set_cork(ctx, 1);
		if (!err)
			err = write_all(ctx, o->hdr, o->hdr_len);
		if (err)
			return err;
	}
	while (left) {
		ssize_t n = sendfile(ctx->sock, o->fd, &off, (size_t)left);

		ctx->c.syscalls++;
		if (n < 0) {
			if (errno == EINTR && !bench_stop_signal)
				continue;
			return -errno;
		}
		if (n == 0)
			return -ENODATA;
		ctx->c.bytes += (uint64_t)n;
		left -= (uint64_t)n;
	}
	return o->hdr_len ? set_cork(ctx, 0) : 0;
}

/* splice everything in the pipe to the socket. */
static int drain_pipe(struct method_ctx *ctx, size_t in_pipe)
{
	while (in_pipe) {
		ssize_t n = splice(ctx->pipe_rd, NULL, ctx->sock, NULL, in_pipe,
				   SPLICE_F_MOVE | SPLICE_F_MORE);

		ctx->c.syscalls++;
		if (n < 0) {
			if (errno == EINTR && !bench_stop_signal)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EPIPE;
		ctx->c.bytes += (uint64_t)n;
		in_pipe -= (size_t)n;
	}
	return 0;
}

static int send_splice(struct method_ctx *ctx, const struct object *o)
{
	loff_t off = (loff_t)o->off;
	uint64_t left = o->len;
	int err;

	if (o->hdr_len) {
		err = send_all(ctx, o->hdr, o->hdr_len, MSG_MORE);
		if (err)
			return err;
	}
	while (left) {
		/* the pipe's default size: 16 pages, what sendfile uses too */
		size_t want = left > (1 << 16) ? (1 << 16) : (size_t)left;
		ssize_t n = splice(o->fd, &off, ctx->pipe_wr, NULL, want,
				   SPLICE_F_MOVE | SPLICE_F_MORE);

		ctx->c.syscalls++;
		if (n < 0) {
			if (errno == EINTR && !bench_stop_signal)
				continue;
			return -errno;
		}
		if (n == 0)
			return -ENODATA;
		left -= (uint64_t)n;
		err = drain_pipe(ctx, (size_t)n);
		if (err)
			return err;
	}
	return 0;
}

static int zcsend_file(struct method_ctx *ctx, const struct object *o)
{
	uint64_t off = o->off, left = o->len;

	while (left) {
		struct zcsend_file z;

		memset(&z, 0, sizeof(z));
		z.size = sizeof(z);
		z.file_fd = o->fd;
		z.sock_fd = ctx->sock;
		z.offset = off;
		z.length = left;
		ctx->c.syscalls++;
		if (ioctl(ctx->dev, ZCSEND_IOC_SENDFILE, &z) < 0) {
			if (errno == EINTR && !bench_stop_signal)
				continue;
			return -errno;
		}
		if (z.sent == 0 || z.sent > left)
			return -EIO;
		ctx->c.bytes += z.sent;
		off += z.sent;
		left -= z.sent;
	}
	return 0;
}

/* Header + file in one ZCSEND_IOC_SENDVEC; resumes after a partial send. */
static int zcsend_vec(struct method_ctx *ctx, const struct object *o)
{
	uint64_t done = 0, total = o->hdr_len + o->len;

	while (done < total) {
		struct zcsend_seg seg[2];
		struct zcsend_vec v;
		unsigned int n = 0;

		memset(seg, 0, sizeof(seg));
		if (done < o->hdr_len) {
			seg[n].type = ZCSEND_SEG_INLINE;
			seg[n].addr = (uintptr_t)(o->hdr + done);
			seg[n].length = o->hdr_len - done;
			n++;
		}
		seg[n].type = ZCSEND_SEG_FILE;
		seg[n].fd = o->fd;
		seg[n].length = total - (done > o->hdr_len ? done : o->hdr_len);
		seg[n].offset = o->off + (o->len - seg[n].length);
		n++;
		memset(&v, 0, sizeof(v));
		v.size = sizeof(v);
		v.sock_fd = ctx->sock;
		v.nr_segs = n;
		v.segs = (uintptr_t)seg;
		ctx->c.syscalls++;
		if (ioctl(ctx->dev, ZCSEND_IOC_SENDVEC, &v) < 0) {
			if (errno == EINTR && !bench_stop_signal)
				continue;
			return -errno;
		}
		if (v.sent == 0 || v.sent > total - done)
			return -EIO;
		ctx->c.bytes += v.sent;
		done += v.sent;
	}
	return 0;
}

/*
 * MSG_ZEROCOPY completions: each notification covers send ids
 * [ee_info, ee_data]; ee_code SO_EE_CODE_ZEROCOPY_COPIED means the kernel
 * copied those bytes after all (on loopback and veth it always does: the
 * data is delivered to a local socket).
 */
static int zc_read_completions(struct method_ctx *ctx, int wait)
{
	while (ctx->c.zc_done < ctx->c.zc_sends) {
		char control[128];
		struct msghdr msg = { .msg_control = control,
				      .msg_controllen = sizeof(control) };
		struct sock_extended_err *ee;
		struct cmsghdr *cm;
		uint32_t id;

		if (recvmsg(ctx->sock, &msg, MSG_ERRQUEUE) < 0) {
			ctx->c.syscalls++;
			if (errno == EINTR && !bench_stop_signal)
				continue;
			if (errno != EAGAIN)
				return -errno;
			if (!wait)
				return 0;
			{
				struct pollfd pfd = { .fd = ctx->sock, .events = 0 };

				ctx->c.syscalls++;
				if (poll(&pfd, 1, 10000) < 0 && errno != EINTR)
					return -errno;
				if (bench_stop_signal)
					return -EINTR;
			}
			continue;
		}
		ctx->c.syscalls++;
		cm = CMSG_FIRSTHDR(&msg);
		if (!cm)
			return -EIO;
		ee = (struct sock_extended_err *)CMSG_DATA(cm);
		if (ee->ee_errno != 0 || ee->ee_origin != SO_EE_ORIGIN_ZEROCOPY)
			return -EIO;
		for (id = ee->ee_info; ; id++) {
			if (id < ctx->zc_next) {
				ctx->c.zc_done++;
				if (ee->ee_code & SO_EE_CODE_ZEROCOPY_COPIED)
					ctx->c.zc_copied_bytes += ctx->zc_len[id];
			}
			if (id == ee->ee_data)
				break;
		}
	}
	return 0;
}

static int send_msg_zerocopy(struct method_ctx *ctx, const struct object *o)
{
	const char *data;
	size_t maplen, left = (size_t)o->len;
	void *base;
	int err;

	if (o->hdr_len) {
		err = send_all(ctx, o->hdr, o->hdr_len, MSG_MORE);
		if (err)
			return err;
	}
	err = map_range(ctx, o, &base, &maplen, &data);
	if (err)
		return err;
	while (left) {
		ssize_t n;

		if (ctx->zc_next == ctx->zc_cap) {
			size_t cap = ctx->zc_cap ? ctx->zc_cap * 2 : 256;
			uint64_t *p = realloc(ctx->zc_len, cap * sizeof(*p));

			if (!p) {
				err = -ENOMEM;
				break;
			}
			ctx->zc_len = p;
			ctx->zc_cap = cap;
		}
		n = send(ctx->sock, data, left, MSG_ZEROCOPY);
		ctx->c.syscalls++;
		if (n < 0) {
			/* ENOBUFS: notifications fill optmem; read them. */
			if (errno == ENOBUFS || (errno == EINTR && !bench_stop_signal)) {
				err = zc_read_completions(ctx, errno == ENOBUFS);
				if (err)
					break;
				continue;
			}
			err = -errno;
			break;
		}
		ctx->zc_len[ctx->zc_next++] = (uint64_t)n;
		ctx->c.zc_sends++;
		ctx->c.bytes += (uint64_t)n;
		data += n;
		left -= (size_t)n;
		err = zc_read_completions(ctx, 0);
		if (err)
			break;
	}
	/* The pages stay pinned until completion: wait before unmapping. */
	if (!err)
		err = zc_read_completions(ctx, 1);
	if (unmap_range(ctx, base, maplen) && !err)
		err = -errno;
	return err;
}

/* Submit what is queued and wait for at least one CQE, counting the call. */
static int uring_submit_wait(struct method_ctx *ctx, unsigned int nr)
{
	int err;

	ctx->c.syscalls++;
	do {
		err = io_uring_submit_and_wait(ctx->ring, nr);
	} while (err == -EINTR && !bench_stop_signal);
	return err < 0 ? err : 0;
}

static int send_uring_splice(struct method_ctx *ctx, const struct object *o)
{
	struct io_uring *ring = ctx->ring;
	uint64_t off = o->off, left = o->len;
	int err;

	if (o->hdr_len) {
		err = send_all(ctx, o->hdr, o->hdr_len, MSG_MORE);
		if (err)
			return err;
	}
	while (left) {
		unsigned int want = left > (1 << 16) ? (1 << 16) : (unsigned int)left;
		struct io_uring_sqe *sqe;
		struct io_uring_cqe *cqe;
		int res[2] = { 0, 0 }, i;

		/* file -> pipe, linked to pipe -> socket: one io_uring_enter */
		sqe = io_uring_get_sqe(ring);
		if (!sqe)
			return -EBUSY;
		io_uring_prep_splice(sqe, o->fd, (int64_t)off, ctx->pipe_wr, -1, want,
				     SPLICE_F_MOVE);
		sqe->flags |= IOSQE_IO_LINK;
		sqe->user_data = 0;
		sqe = io_uring_get_sqe(ring);
		if (!sqe)
			return -EBUSY;
		io_uring_prep_splice(sqe, ctx->pipe_rd, -1, ctx->sock, -1, want,
				     SPLICE_F_MOVE | SPLICE_F_MORE);
		sqe->user_data = 1;
		err = uring_submit_wait(ctx, 2);
		if (err)
			return err;
		for (i = 0; i < 2; i++) {
			if (i && io_uring_peek_cqe(ring, &cqe)) {
				err = uring_submit_wait(ctx, 1);
				if (err)
					return err;
			}
			if (io_uring_peek_cqe(ring, &cqe))
				return -EIO;
			res[cqe->user_data & 1] = cqe->res;
			io_uring_cqe_seen(ring, cqe);
		}
		if (res[0] <= 0)
			return res[0] < 0 ? res[0] : -ENODATA;
		if (res[1] < 0)
			return res[1];
		ctx->c.bytes += (uint64_t)res[1];
		off += (uint64_t)res[0];
		left -= (uint64_t)res[0];
		/* A short second splice leaves bytes in the pipe. */
		err = drain_pipe(ctx, (size_t)(res[0] - res[1]));
		if (err)
			return err;
	}
	return 0;
}

/*
 * IORING_OP_SEND_ZC of the mmapped range with MSG_WAITALL: one SQE gives a
 * result CQE (flagged IORING_CQE_F_MORE) and later a notification CQE
 * (IORING_CQE_F_NOTIF) once the pages are free. With
 * IORING_SEND_ZC_REPORT_USAGE (6.2+) the notification says whether the
 * kernel copied after all; 6.1 refuses the flag (EINVAL), then we send
 * without it and the copied figure is unknown.
 */
static int send_uring_send_zc(struct method_ctx *ctx, const struct object *o)
{
	struct io_uring *ring = ctx->ring;
	const char *data;
	size_t maplen, left = (size_t)o->len;
	unsigned int notifs = 0;
	void *base;
	int err;

	if (o->hdr_len) {
		err = send_all(ctx, o->hdr, o->hdr_len, MSG_MORE);
		if (err)
			return err;
	}
	err = map_range(ctx, o, &base, &maplen, &data);
	if (err)
		return err;
	while (left && !err) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
		struct io_uring_cqe *cqe;
		int res = 0, got_res = 0;
		unsigned int chunk = left > (1U << 30) ? (1U << 30) : (unsigned int)left;

		if (!sqe) {
			err = -EBUSY;
			break;
		}
		io_uring_prep_send_zc(sqe, ctx->sock, data, chunk, MSG_WAITALL,
				      ctx->report_usage ? IORING_SEND_ZC_REPORT_USAGE : 0);
		sqe->user_data = chunk;	/* the notification carries it too */
		err = uring_submit_wait(ctx, 1);
		while (!err && !got_res) {
			if (io_uring_peek_cqe(ring, &cqe)) {
				err = uring_submit_wait(ctx, 1);
				continue;
			}
			if (cqe->flags & IORING_CQE_F_NOTIF) {
				notifs--;
				ctx->c.zc_done++;
				if (cqe->res & IORING_NOTIF_USAGE_ZC_COPIED)
					ctx->c.zc_copied_bytes += cqe->user_data;
			} else {
				res = cqe->res;
				got_res = 1;
				if (cqe->flags & IORING_CQE_F_MORE)
					notifs++;
			}
			io_uring_cqe_seen(ring, cqe);
		}
		if (err)
			break;
		if (res == -EINVAL && ctx->report_usage) {
			ctx->report_usage = 0;	/* 6.1: retry without */
			continue;
		}
		if (res < 0) {
			err = res;
			break;
		}
		ctx->c.zc_copied_known = ctx->report_usage;
		ctx->c.zc_sends++;
		ctx->c.bytes += (uint64_t)res;
		data += res;
		left -= (size_t)res;
	}
	/* The pages stay pinned until the notifications: wait for them. */
	while (!err && notifs) {
		struct io_uring_cqe *cqe;

		ctx->c.syscalls++;
		err = io_uring_wait_cqe(ring, &cqe);
		if (err == -EINTR && !bench_stop_signal) {
			err = 0;
			continue;
		}
		if (err)
			break;
		if (cqe->flags & IORING_CQE_F_NOTIF) {
			notifs--;
			ctx->c.zc_done++;
			if (cqe->res & IORING_NOTIF_USAGE_ZC_COPIED)
				ctx->c.zc_copied_bytes += cqe->user_data;
		}
		io_uring_cqe_seen(ring, cqe);
	}
	if (unmap_range(ctx, base, maplen) && !err)
		err = -errno;
	return err;
}

int method_send(struct method_ctx *ctx, const struct object *o)
{
	switch (ctx->id) {
	case M_READ_WRITE:
		return send_read_write(ctx, o);
	case M_MMAP_WRITE:
		return send_mmap_write(ctx, o);
	case M_SENDFILE:
		return send_sendfile(ctx, o);
	case M_SPLICE:
		return send_splice(ctx, o);
	case M_ZCSEND:
		return o->hdr_len ? zcsend_vec(ctx, o) : zcsend_file(ctx, o);
	case M_MSG_ZEROCOPY:
		return send_msg_zerocopy(ctx, o);
	case M_URING_SPLICE:
		return send_uring_splice(ctx, o);
	case M_URING_SEND_ZC:
		return send_uring_send_zc(ctx, o);
	default:
		return -EINVAL;
	}
}

int method_finish(struct method_ctx *ctx)
{
	if (ctx->id == M_MSG_ZEROCOPY)
		return zc_read_completions(ctx, 1);
	return 0;
}
