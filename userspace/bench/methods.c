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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/zcsend.h>

#include "methods.h"
#include "util.h"

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

static const char *uring_unavailable(int op, const char *what)
{
	struct io_uring_probe *probe;
	struct io_uring ring;
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
		snprintf(unavail_uring, sizeof(unavail_uring),
			 "this kernel's io_uring lacks %s", what);
		return unavail_uring;
	}
	return NULL;
}

static const char *uring_splice_unavailable(void)
{
	return uring_unavailable(IORING_OP_SPLICE, "IORING_OP_SPLICE");
}

static const char *uring_send_zc_unavailable(void)
{
	return uring_unavailable(IORING_OP_SEND_ZC, "IORING_OP_SEND_ZC (6.0+)");
}

/* ---- setup and teardown of a run's resources ---- */

static int setup_buffer(struct method_ctx *ctx, size_t buf_len)
{
	ctx->buf_len = buf_len;
	ctx->buf = malloc(buf_len);
	return ctx->buf ? 0 : -ENOMEM;
}

static int setup_pipe(struct method_ctx *ctx, size_t buf_len)
{
	int p[2];

	(void)buf_len;
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	ctx->pipe_rd = p[0];
	ctx->pipe_wr = p[1];
	return 0;
}

static int setup_ring(struct method_ctx *ctx, size_t buf_len)
{
	int err;

	(void)buf_len;
	ctx->ring = calloc(1, sizeof(struct io_uring));
	if (!ctx->ring)
		return -ENOMEM;
	err = io_uring_queue_init(8, ctx->ring, 0);
	if (err < 0) {
		free(ctx->ring);
		ctx->ring = NULL;
		return err;
	}
	ctx->report_usage = 1;
	return 0;
}

static int setup_pipe_and_ring(struct method_ctx *ctx, size_t buf_len)
{
	int err = setup_pipe(ctx, buf_len);

	return err ? err : setup_ring(ctx, buf_len);
}

static int setup_device(struct method_ctx *ctx, size_t buf_len)
{
	(void)buf_len;
	ctx->dev = open(ZCSEND_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
	return ctx->dev < 0 ? -errno : 0;
}

static int setup_so_zerocopy(struct method_ctx *ctx, size_t buf_len)
{
	int one = 1;

	(void)buf_len;
	if (setsockopt(ctx->sock, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)))
		return -errno;
	ctx->c.zc_copied_known = 1;
	return 0;
}

/* Releases whatever a setup made: every method's teardown. */
static void release_all(struct method_ctx *ctx)
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

int method_open(struct method_ctx *ctx, const struct bench_method *m,
		int sock, size_t buf_len)
{
	int err;

	memset(ctx, 0, sizeof(*ctx));
	ctx->method = m;
	ctx->sock = sock;
	ctx->pipe_rd = ctx->pipe_wr = ctx->dev = -1;
	err = m->setup ? m->setup(ctx, buf_len) : 0;
	if (err)
		method_close(ctx);
	return err;
}

void method_close(struct method_ctx *ctx)
{
	ctx->method->teardown(ctx);
}

/*
 * Count one call that returned @ret: bytes moved, or -1 with errno set.
 * Return: @ret; 0 when a signal that does not stop the run interrupted it
 * (call again); -errno when it failed; -@at_zero when it moved nothing.
 */
static ssize_t counted(struct method_ctx *ctx, ssize_t ret, int at_zero)
{
	ctx->c.syscalls++;
	if (ret < 0)
		return errno == EINTR && !bench_stop_signal ? 0 : -errno;
	return ret ? ret : -at_zero;
}

#define USE_WRITE	(-1)

/* All of buf by send(2) with flags, or write(2) if flags is USE_WRITE,
 * counting calls. */
static int send_all(struct method_ctx *ctx, const char *p, size_t len, int flags)
{
	while (len) {
		ssize_t n = counted(ctx, flags == USE_WRITE ? write(ctx->sock, p, len) :
					 send(ctx->sock, p, len, flags), 0);

		if (n < 0)
			return (int)n;
		ctx->c.bytes += (uint64_t)n;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int write_all(struct method_ctx *ctx, const char *p, size_t len)
{
	return send_all(ctx, p, len, USE_WRITE);
}

/* The object's header, if any, with MSG_MORE: its file data follows. */
static int send_header_more(struct method_ctx *ctx, const struct object *o)
{
	return o->hdr_len ? send_all(ctx, o->hdr, o->hdr_len, MSG_MORE) : 0;
}

/* What one splice moves at most: the pipe's default size, 16 pages (what
 * sendfile uses too). */
#define SPLICE_CHUNK	(1 << 16)

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
			ssize_t n = counted(ctx, pread(o->fd, ctx->buf + fill, want,
						       (off_t)off), ENODATA);

			if (n <= 0) {
				if (n == 0)
					continue;
				return (int)n;
			}
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
		ssize_t n = counted(ctx, sendfile(ctx->sock, o->fd, &off,
						  (size_t)left), ENODATA);

		if (n < 0)
			return (int)n;
		ctx->c.bytes += (uint64_t)n;
		left -= (uint64_t)n;
	}
	return o->hdr_len ? set_cork(ctx, 0) : 0;
}

/*
 * splice everything in the pipe to the socket; SPLICE_F_MORE unless this
 * is the object's last data, as sendfile does: a kTLS socket keeps a
 * record open under MORE, and shutdown(2) does not push it out.
 */
static int drain_pipe(struct method_ctx *ctx, size_t in_pipe, int more)
{
	while (in_pipe) {
		ssize_t n = counted(ctx, splice(ctx->pipe_rd, NULL, ctx->sock, NULL,
						in_pipe, SPLICE_F_MOVE |
						(more ? SPLICE_F_MORE : 0)), EPIPE);

		if (n < 0)
			return (int)n;
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

	err = send_header_more(ctx, o);
	if (err)
		return err;
	while (left) {
		size_t want = left > SPLICE_CHUNK ? SPLICE_CHUNK : (size_t)left;
		ssize_t n = counted(ctx, splice(o->fd, &off, ctx->pipe_wr, NULL,
						want, SPLICE_F_MOVE | SPLICE_F_MORE),
				    ENODATA);

		if (n <= 0) {
			if (n == 0)
				continue;
			return (int)n;
		}
		left -= (uint64_t)n;
		err = drain_pipe(ctx, (size_t)n, left > 0);
		if (err)
			return err;
	}
	return 0;
}

static int zcsend_file(struct method_ctx *ctx, const struct object *o)
{
	uint64_t off = o->off, left = o->len;
	ssize_t n;

	while (left) {
		struct zcsend_file z;

		memset(&z, 0, sizeof(z));
		z.size = sizeof(z);
		z.file_fd = o->fd;
		z.sock_fd = ctx->sock;
		z.offset = off;
		z.length = left;
		n = counted(ctx, ioctl(ctx->dev, ZCSEND_IOC_SENDFILE, &z) < 0 ?
			    -1 : (ssize_t)z.sent, EIO);
		if (n < 0 || (uint64_t)n > left)
			return n < 0 ? (int)n : -EIO;
		ctx->c.bytes += (uint64_t)n;
		off += (uint64_t)n;
		left -= (uint64_t)n;
	}
	return 0;
}

/* Header + file in one ZCSEND_IOC_SENDVEC; resumes after a partial send. */
static int zcsend_vec(struct method_ctx *ctx, const struct object *o)
{
	uint64_t done = 0, total = o->hdr_len + o->len;
	ssize_t sent;

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
		sent = counted(ctx, ioctl(ctx->dev, ZCSEND_IOC_SENDVEC, &v) < 0 ?
			       -1 : (ssize_t)v.sent, EIO);
		if (sent < 0 || (uint64_t)sent > total - done)
			return sent < 0 ? (int)sent : -EIO;
		ctx->c.bytes += (uint64_t)sent;
		done += (uint64_t)sent;
	}
	return 0;
}

/* Wait for the error queue to become readable (10 s at most). */
static int zc_wait_errqueue(struct method_ctx *ctx)
{
	struct pollfd pfd = { .fd = ctx->sock, .events = 0 };

	ctx->c.syscalls++;
	if (poll(&pfd, 1, 10000) < 0 && errno != EINTR)
		return -errno;
	return bench_stop_signal ? -EINTR : 0;
}

/* Account one completion notification: send ids [ee_info, ee_data]. */
static int zc_account(struct method_ctx *ctx, struct msghdr *msg)
{
	struct cmsghdr *cm = CMSG_FIRSTHDR(msg);
	struct sock_extended_err *ee;
	uint32_t id;

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
	return 0;
}

/*
 * MSG_ZEROCOPY completions: each notification covers a range of send ids;
 * ee_code SO_EE_CODE_ZEROCOPY_COPIED means the kernel copied those bytes
 * after all (on loopback and veth it always does: the data is delivered
 * to a local socket).
 */
static int zc_read_completions(struct method_ctx *ctx, int wait)
{
	int err;

	while (ctx->c.zc_done < ctx->c.zc_sends) {
		char control[128];
		struct msghdr msg = { .msg_control = control,
				      .msg_controllen = sizeof(control) };

		ctx->c.syscalls++;
		if (recvmsg(ctx->sock, &msg, MSG_ERRQUEUE) >= 0) {
			err = zc_account(ctx, &msg);
			if (err)
				return err;
			continue;
		}
		if (errno == EINTR && !bench_stop_signal)
			continue;
		if (errno != EAGAIN)
			return -errno;
		if (!wait)
			return 0;
		err = zc_wait_errqueue(ctx);
		if (err)
			return err;
	}
	return 0;
}

/* Room for one more send id's length. */
static int zc_grow(struct method_ctx *ctx)
{
	size_t cap;
	uint64_t *p;

	if (ctx->zc_next < ctx->zc_cap)
		return 0;
	cap = ctx->zc_cap ? ctx->zc_cap * 2 : 256;
	p = realloc(ctx->zc_len, cap * sizeof(*p));
	if (!p)
		return -ENOMEM;
	ctx->zc_len = p;
	ctx->zc_cap = cap;
	return 0;
}

/* send(MSG_ZEROCOPY) all of data, reading completions as they come. */
static int zc_send_range(struct method_ctx *ctx, const char *data, size_t left)
{
	int err = 0;

	while (left && !err) {
		ssize_t n;

		err = zc_grow(ctx);
		if (err)
			break;
		n = send(ctx->sock, data, left, MSG_ZEROCOPY);
		ctx->c.syscalls++;
		if (n < 0) {
			/* ENOBUFS: notifications fill optmem; read them. */
			if (errno == ENOBUFS || (errno == EINTR && !bench_stop_signal))
				err = zc_read_completions(ctx, errno == ENOBUFS);
			else
				err = -errno;
			continue;
		}
		ctx->zc_len[ctx->zc_next++] = (uint64_t)n;
		ctx->c.zc_sends++;
		ctx->c.bytes += (uint64_t)n;
		data += n;
		left -= (size_t)n;
		err = zc_read_completions(ctx, 0);
	}
	return err;
}

/*
 * Header by send(MSG_MORE), then the file's mmapped range through
 * send_range, which returns only when the kernel is done with the pages.
 */
static int send_mapped(struct method_ctx *ctx, const struct object *o,
		       int (*send_range)(struct method_ctx *ctx, const char *data,
					 size_t len))
{
	const char *data;
	size_t maplen;
	void *base;
	int err;

	err = send_header_more(ctx, o);
	if (err)
		return err;
	err = map_range(ctx, o, &base, &maplen, &data);
	if (err)
		return err;
	err = send_range(ctx, data, (size_t)o->len);
	if (unmap_range(ctx, base, maplen) && !err)
		err = -errno;
	return err;
}

/* The pages stay pinned until completion: wait before unmapping. */
static int zc_send_and_wait(struct method_ctx *ctx, const char *data, size_t len)
{
	int err = zc_send_range(ctx, data, len);

	return err ? err : zc_read_completions(ctx, 1);
}

static int send_msg_zerocopy(struct method_ctx *ctx, const struct object *o)
{
	return send_mapped(ctx, o, zc_send_and_wait);
}

static int finish_msg_zerocopy(struct method_ctx *ctx)
{
	return zc_read_completions(ctx, 1);
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

/* Queue file -> pipe linked to pipe -> socket: one io_uring_enter. */
static int uring_queue_splices(struct method_ctx *ctx, int fd, uint64_t off,
			       unsigned int want, int more)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ctx->ring);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_splice(sqe, fd, (int64_t)off, ctx->pipe_wr, -1, want,
			     SPLICE_F_MOVE);
	sqe->flags |= IOSQE_IO_LINK;
	sqe->user_data = 0;
	sqe = io_uring_get_sqe(ctx->ring);
	if (!sqe)
		return -EBUSY;
	io_uring_prep_splice(sqe, ctx->pipe_rd, -1, ctx->sock, -1, want,
			     SPLICE_F_MOVE | (more ? SPLICE_F_MORE : 0));
	sqe->user_data = 1;
	return 0;
}

/* Reap both splices' CQEs: res[0] file -> pipe, res[1] pipe -> socket. */
static int uring_reap_splices(struct method_ctx *ctx, int res[2])
{
	struct io_uring_cqe *cqe;
	int i, err;

	for (i = 0; i < 2; i++) {
		if (i && io_uring_peek_cqe(ctx->ring, &cqe)) {
			err = uring_submit_wait(ctx, 1);
			if (err)
				return err;
		}
		if (io_uring_peek_cqe(ctx->ring, &cqe))
			return -EIO;
		res[cqe->user_data & 1] = cqe->res;
		io_uring_cqe_seen(ctx->ring, cqe);
	}
	return 0;
}

static int send_uring_splice(struct method_ctx *ctx, const struct object *o)
{
	uint64_t off = o->off, left = o->len;
	int err;

	err = send_header_more(ctx, o);
	if (err)
		return err;
	while (left) {
		unsigned int want = left > SPLICE_CHUNK ? SPLICE_CHUNK :
				    (unsigned int)left;
		int res[2] = { 0, 0 };

		err = uring_queue_splices(ctx, o->fd, off, want, want < left);
		if (!err)
			err = uring_submit_wait(ctx, 2);
		if (!err)
			err = uring_reap_splices(ctx, res);
		if (err)
			return err;
		if (res[0] <= 0)
			return res[0] < 0 ? res[0] : -ENODATA;
		if (res[1] < 0)
			return res[1];
		ctx->c.bytes += (uint64_t)res[1];
		off += (uint64_t)res[0];
		left -= (uint64_t)res[0];
		/* A short second splice leaves bytes in the pipe. */
		err = drain_pipe(ctx, (size_t)(res[0] - res[1]), left > 0);
		if (err)
			return err;
	}
	return 0;
}

/* A SEND_ZC notification: the pages of one send are free again. */
static void uring_notif(struct method_ctx *ctx, const struct io_uring_cqe *cqe,
			unsigned int *notifs)
{
	(*notifs)--;
	ctx->c.zc_done++;
	if (cqe->res & IORING_NOTIF_USAGE_ZC_COPIED)
		ctx->c.zc_copied_bytes += cqe->user_data;
}

/* One SEND_ZC of chunk bytes; *res its result, notifications counted. */
static int uring_send_zc_once(struct method_ctx *ctx, const char *data,
			      unsigned int chunk, int *res, unsigned int *notifs)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ctx->ring);
	struct io_uring_cqe *cqe;
	int err, got_res = 0;

	if (!sqe)
		return -EBUSY;
	io_uring_prep_send_zc(sqe, ctx->sock, data, chunk, MSG_WAITALL,
			      ctx->report_usage ? IORING_SEND_ZC_REPORT_USAGE : 0);
	sqe->user_data = chunk;	/* the notification carries it too */
	err = uring_submit_wait(ctx, 1);
	while (!err && !got_res) {
		if (io_uring_peek_cqe(ctx->ring, &cqe)) {
			err = uring_submit_wait(ctx, 1);
			continue;
		}
		if (cqe->flags & IORING_CQE_F_NOTIF) {
			uring_notif(ctx, cqe, notifs);
		} else {
			*res = cqe->res;
			got_res = 1;
			if (cqe->flags & IORING_CQE_F_MORE)
				(*notifs)++;
		}
		io_uring_cqe_seen(ctx->ring, cqe);
	}
	return err;
}

/* The pages stay pinned until the notifications: wait for them. */
static int uring_wait_notifs(struct method_ctx *ctx, unsigned int notifs)
{
	while (notifs) {
		struct io_uring_cqe *cqe;
		int err;

		ctx->c.syscalls++;
		err = io_uring_wait_cqe(ctx->ring, &cqe);
		if (err == -EINTR && !bench_stop_signal)
			continue;
		if (err)
			return err;
		if (cqe->flags & IORING_CQE_F_NOTIF)
			uring_notif(ctx, cqe, &notifs);
		io_uring_cqe_seen(ctx->ring, cqe);
	}
	return 0;
}

/* SEND_ZC all of data; 6.1 refuses the usage report (EINVAL): retry
 * without it, and the copied figure is then unknown. */
static int uring_send_zc_range(struct method_ctx *ctx, const char *data,
			       size_t left)
{
	unsigned int notifs = 0;
	int err = 0;

	while (left && !err) {
		unsigned int chunk = left > (1U << 30) ? (1U << 30) : (unsigned int)left;
		int res = 0;

		err = uring_send_zc_once(ctx, data, chunk, &res, &notifs);
		if (err)
			break;
		if (res == -EINVAL && ctx->report_usage) {
			ctx->report_usage = 0;
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
	return err ? err : uring_wait_notifs(ctx, notifs);
}

/*
 * IORING_OP_SEND_ZC of the mmapped range with MSG_WAITALL: one SQE gives a
 * result CQE (flagged IORING_CQE_F_MORE) and later a notification CQE
 * (IORING_CQE_F_NOTIF) once the pages are free. With
 * IORING_SEND_ZC_REPORT_USAGE (6.2+) the notification says whether the
 * kernel copied after all.
 */
static int send_uring_send_zc(struct method_ctx *ctx, const struct object *o)
{
	return send_mapped(ctx, o, uring_send_zc_range);
}

static int send_zcsend(struct method_ctx *ctx, const struct object *o)
{
	return o->hdr_len ? zcsend_vec(ctx, o) : zcsend_file(ctx, o);
}

/*
 * The methods, in the order they are run and printed. The article's rows
 * (README.md, "Why"): mode switches, CPU copies with and without
 * scatter-gather DMA ("sendfile" vs "sendfile + SG-DMA").
 */
const struct bench_method bench_methods[] = {
	{ .name = "read+write", .setup = setup_buffer, .send = send_read_write,
	  .teardown = release_all, .article = { 1, 4, 2, 2 } },
	{ .name = "mmap+write", .send = send_mmap_write,
	  .teardown = release_all, .article = { 1, 4, 1, 1 } },
	{ .name = "sendfile", .send = send_sendfile,
	  .teardown = release_all, .article = { 1, 2, 0, 1 } },
	{ .name = "splice", .setup = setup_pipe, .send = send_splice,
	  .teardown = release_all, .article = { 1, 2, 0, 0 } },
	{ .name = "zcsend", .unavailable = zcsend_unavailable,
	  .setup = setup_device, .send = send_zcsend, .teardown = release_all },
	{ .name = "msg_zerocopy", .setup = setup_so_zerocopy,
	  .send = send_msg_zerocopy, .finish = finish_msg_zerocopy,
	  .teardown = release_all, .reports_zc_copies = 1 },
	{ .name = "uring_splice", .unavailable = uring_splice_unavailable,
	  .setup = setup_pipe_and_ring, .send = send_uring_splice,
	  .teardown = release_all },
	{ .name = "uring_send_zc", .unavailable = uring_send_zc_unavailable,
	  .setup = setup_ring, .send = send_uring_send_zc,
	  .teardown = release_all, .reports_zc_copies = 1 },
};

const int bench_nmethods = (int)(sizeof(bench_methods) / sizeof(bench_methods[0]));

const struct bench_method *method_by_name(const char *name)
{
	return find_by_name(bench_methods, bench_nmethods,
			    sizeof(bench_methods[0]), name);
}
