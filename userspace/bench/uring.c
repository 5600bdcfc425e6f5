// SPDX-License-Identifier: GPL-2.0
/*
 * zcsend bench: workload "uring", a runner of its own (workload.h). The
 * io_uring ways of sending files from the page cache, over many connections
 * at once, beside the blocking calls they replace, in the same run:
 *
 *   uring_cmd     IORING_OP_URING_CMD on /dev/zcsend: one SQE per response
 *                 (ZCSEND_URING_CMD_SENDVEC, header segment + file segment;
 *                 ZCSEND_URING_CMD_SENDFILE for bulk); blocking commands,
 *                 which the module runs in io-wq, unless --cmd-nonblock:
 *                 ZCSEND_F_NONBLOCK, which it runs inline, a short count
 *                 or EAGAIN sending the rest of the response blocking
 *   uring_splice  IORING_OP_SEND of the header (MSG_MORE), then per 64 KiB
 *                 IORING_OP_SPLICE file -> pipe linked to pipe -> socket,
 *                 a pipe per connection
 *   uring_send_zc IORING_OP_READ into a buffer (after the header, copied in
 *                 by the CPU) linked to IORING_OP_SEND_ZC of header + data
 *                 ("uring_send", IORING_OP_SEND, where SEND_ZC is missing)
 *   sendfile      blocking: write(2) of the header and sendfile(2) under
 *                 TCP_CORK, one response after the other
 *   zcsend        blocking: ZCSEND_IOC_SENDVEC (bulk: one file segment)
 *
 * A case is a number of responses spread round-robin over a number of
 * connections (responses on one connection go in order). The queue depth
 * is the number of steps in flight on the ring: a step is one command, one
 * splice pair (with the header send before the first), or one read + send.
 * A connection has at most one chain of linked steps in flight, of at most
 * max(1, depth / connections) steps. Idle connections are refilled in
 * index order: with more connections than the depth, every connection
 * sends at least one response but the low-numbered ones send more (the
 * blocking methods go round-robin). Without SQPOLL the runner submits
 * everything it can and waits, in the same io_uring_enter(), for every CQE
 * it is owed (or for --wait N of them); with SQPOLL it enters only when the SQ thread sleeps and
 * otherwise polls the CQ ring. The system calls counted are those entries
 * (the flags liburing tests to decide to enter), plus, for the blocking
 * methods, every call they make.
 *
 * The receiver is a forked process that accepts every connection of a run
 * and reads them to EOF (recv MSG_TRUNC); the clock runs from the first
 * send until it has counted every byte. CPU is getrusage(RUSAGE_SELF) of the
 * sender, which includes its io-wq workers and SQ thread. A response's
 * latency runs from the queueing of its first SQE (or its first call) to
 * the CQE (or return) that completes it: the time until the kernel took
 * the whole response, not a client's round trip. Loopback only.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/zcsend.h>

#include "routes.h"
#include "util.h"
#include "workload.h"

#define UR_HDR_LEN	200
#define UR_CHUNK	(1U << 16)	/* a splice pair: the pipe's size */
#define UR_MAX_CASES	3
#define UR_MAX_METHODS	5

enum ur_kind { K_HDR, K_F2P, K_P2S, K_READ, K_SEND, K_CMD };
enum ur_method { M_CMD, M_SPLICE, M_SENDZC, M_SENDFILE, M_IOCTL };

static const char *const ur_names[UR_MAX_METHODS] = {
	"uring_cmd", "uring_splice", "uring_send_zc", "sendfile", "zcsend",
};

static struct {
	int cases;		/* bit per case: bulk, small, many */
	uint64_t size;
	unsigned long objects, responses, conns, many, qd, wait;
	uint64_t omin, omax;
	int sqpoll;
	int methods;		/* bit per enum ur_method */
	int nonblock;		/* uring_cmd: ZCSEND_F_NONBLOCK first */
} uo = {
	7, 64 << 20, 256, 2048, 64, 256, 64, 0, 4 << 10, 64 << 10, 0, 0x1f, 0,
};

static const char *const case_names[UR_MAX_CASES] = { "bulk", "small", "many" };
static unsigned long ur_runs;	/* measured runs, after one warm-up */

/* ---- options ---- */

static int set_cases(const char *arg)
{
	char buf[64], *save = NULL, *t;
	int i, m = 0;

	snprintf(buf, sizeof(buf), "%s", arg);
	for (t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < UR_MAX_CASES && strcmp(t, case_names[i]); i++)
			;
		if (i == UR_MAX_CASES)
			return -1;
		m |= 1 << i;
	}
	uo.cases = m;
	return m ? 0 : -1;
}

static int set_methods(const char *arg)
{
	char buf[128], *save = NULL, *t;
	int i, m = 0;

	snprintf(buf, sizeof(buf), "%s", arg);
	for (t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < UR_MAX_METHODS && strcmp(t, ur_names[i]); i++)
			;
		if (i == UR_MAX_METHODS)
			return -1;
		m |= 1 << i;
	}
	uo.methods = m;
	return m ? 0 : -1;
}

static int set_size(const char *arg)
{
	return parse_size(arg, &uo.size) || !uo.size || uo.size > (1ULL << 30) ? -1 : 0;
}

static int set_objects(const char *arg)
{
	return parse_uint(arg, 100000, &uo.objects);
}

static int set_object_size(const char *arg)
{
	return parse_size_range(arg, &uo.omin, &uo.omax) || uo.omin < 1 ||
	       uo.omax > (16 << 20) ? -1 : 0;
}

static int set_responses(const char *arg)
{
	return parse_uint(arg, 10000000, &uo.responses);
}

static int set_conns(const char *arg)
{
	return parse_uint(arg, 4096, &uo.conns);
}

static int set_many(const char *arg)
{
	return parse_uint(arg, 4096, &uo.many);
}

static int set_qd(const char *arg)
{
	return parse_uint(arg, 1024, &uo.qd);
}

static int set_wait(const char *arg)
{
	return parse_uint(arg, 1 << 20, &uo.wait);
}

static int set_sqpoll(const char *arg)
{
	(void)arg;
	uo.sqpoll = 1;
	return 0;
}

static int set_nonblock(const char *arg)
{
	(void)arg;
	uo.nonblock = 1;
	return 0;
}

static const struct bench_option uring_options[] = {
	{ "cases", "LIST", "bulk, small, many (default all three)", set_cases },
	{ "uring-method", "LIST", "uring_cmd, uring_splice, uring_send_zc, sendfile, zcsend (default all)",
	  set_methods },
	{ "size", "SIZE", "bulk: the file, one response on one connection (default 64M)", set_size },
	{ "objects", "N", "small, many: files (default 256)", set_objects },
	{ "object-size", "MIN-MAX", "their sizes (default 4K-64K; at most 16M)", set_object_size },
	{ "responses", "N", "small, many: responses per run, each header + file (default 2048)",
	  set_responses },
	{ "connections", "N", "small: connections (default 64)", set_conns },
	{ "many", "N", "many: connections (default 256)", set_many },
	{ "qd", "N", "steps in flight on the ring (default 64)", set_qd },
	{ "wait", "N", "each io_uring_enter waits for N CQEs (default: every CQE owed)", set_wait },
	{ "sqpoll", NULL, "IORING_SETUP_SQPOLL: no io_uring_enter while the SQ thread is awake",
	  set_sqpoll },
	{ "cmd-nonblock", NULL,
	  "uring_cmd: ZCSEND_F_NONBLOCK (completes inline); after a short count or EAGAIN "
	  "the rest of that response goes blocking (io-wq)", set_nonblock },
	{ NULL, NULL, NULL, NULL },
};

/* ---- what one run of one method measured ---- */

struct ur_run {
	int ok;
	char err[120];
	double wall, usr, sys;
	long vcs, ivcs;
	uint64_t bytes, received, syscalls, responses;
	double p50, p99, p999;	/* seconds */
};

struct ur_case {
	int kind;		/* index into case_names */
	unsigned long conns, responses, nfiles;
	uint64_t bytes;		/* per run, headers included */
	struct {
		int avail;
		char why[160];
		char label[32];
		struct ur_run *runs;	/* [0] is the warm-up */
	} m[UR_MAX_METHODS];
};



/* ---- files ---- */

struct ur_files {
	char dir[256];
	int n;
	int *fd;
	uint64_t *len;
	char hdr[UR_HDR_LEN];
};

static void files_free(struct ur_files *f)
{
	char path[300];
	int i;

	for (i = 0; i < f->n; i++) {
		if (f->fd[i] >= 0)
			close(f->fd[i]);
		snprintf(path, sizeof(path), "%s/f%d", f->dir, i);
		unlink(path);
	}
	if (f->dir[0])
		rmdir(f->dir);
	free(f->fd);
	free(f->len);
	memset(f, 0, sizeof(*f));
}

static int fill(int fd, uint64_t len, unsigned int seed)
{
	char buf[1 << 16];
	uint64_t done = 0;
	size_t i;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 131 + seed);
	while (done < len) {
		size_t n = len - done > sizeof(buf) ? sizeof(buf) : (size_t)(len - done);

		if (write(fd, buf, n) != (ssize_t)n)
			return -1;
		done += n;
	}
	return 0;
}

static int files_make(struct ur_files *f, const char *dir, int n, uint64_t min,
		      uint64_t max)
{
	char path[300];
	int i;

	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "%s/zcsend-bench.XXXXXX", dir);
	if (!mkdtemp(f->dir)) {
		fprintf(stderr, "zcsend bench: mkdtemp %s: %s\n", f->dir, strerror(errno));
		f->dir[0] = '\0';
		return -1;
	}
	f->fd = calloc((size_t)n, sizeof(*f->fd));
	f->len = calloc((size_t)n, sizeof(*f->len));
	if (!f->fd || !f->len)
		goto err;
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/f%d", f->dir, i);
		f->len[i] = n > 1 ? min + (max - min) * (uint64_t)i / (uint64_t)(n - 1) : max;
		f->fd[i] = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		f->n = i + 1;
		if (f->fd[i] < 0 || fill(f->fd[i], f->len[i], (unsigned int)i)) {
			fprintf(stderr, "zcsend bench: %s: %s\n", path, strerror(errno));
			goto err;
		}
	}
	memset(f->hdr, ' ', sizeof(f->hdr));
	memcpy(f->hdr, "HTTP/1.1 200 OK\r\nServer: zcsend-bench\r\nX-Pad: ", 46);
	memcpy(f->hdr + UR_HDR_LEN - 4, "\r\n\r\n", 4);
	return 0;
err:
	files_free(f);
	return -1;
}

/* ---- the receiver: every connection of a run, read to EOF ---- */

struct ur_rx {
	pid_t pid;
	int lfd;
	int port;
	int result_rd;
};

/* One run: accept n connections, drain all to EOF, write the byte count. */
static int rx_one_run(int lfd, int ep, unsigned long n, char *buf, size_t len,
		      uint64_t *total)
{
	unsigned long accepted = 0, closed = 0;
	struct epoll_event ev[64];

	*total = 0;
	while (closed < n) {
		int i, k = epoll_wait(ep, ev, 64, -1);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		for (i = 0; i < k; i++) {
			int fd = ev[i].data.fd;
			ssize_t r;

			if (fd == lfd) {
				struct epoll_event e = { .events = EPOLLIN };
				int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

				if (c < 0)
					continue;
				e.data.fd = c;
				if (epoll_ctl(ep, EPOLL_CTL_ADD, c, &e))
					return -1;
				if (++accepted == n)
					epoll_ctl(ep, EPOLL_CTL_DEL, lfd, NULL);
				continue;
			}
			while ((r = recv(fd, buf, len, MSG_TRUNC)) > 0)
				*total += (uint64_t)r;
			if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
				close(fd);
				closed++;
			}
		}
	}
	return 0;
}

static void rx_child(int lfd, int result_wr, unsigned long n)
{
	size_t len = 1 << 20;
	char *buf = malloc(len);
	uint64_t total;

	if (!buf)
		_exit(1);
	for (;;) {
		struct epoll_event e = { .events = EPOLLIN, .data.fd = lfd };
		int ep = epoll_create1(EPOLL_CLOEXEC);

		if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &e) ||
		    rx_one_run(lfd, ep, n, buf, len, &total) ||
		    write(result_wr, &total, sizeof(total)) != sizeof(total))
			_exit(1);
		close(ep);
	}
}

static int rx_start(struct ur_rx *rx, unsigned long n)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int p[2];

	rx->pid = -1;
	rx->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (rx->lfd < 0 || bind(rx->lfd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(rx->lfd, 4096) || getsockname(rx->lfd, (struct sockaddr *)&a, &alen) ||
	    pipe2(p, O_CLOEXEC)) {
		perror("zcsend bench: receiver");
		if (rx->lfd >= 0)
			close(rx->lfd);
		return -1;
	}
	rx->port = ntohs(a.sin_port);
	rx->pid = fork();
	if (rx->pid == 0) {
		close(p[0]);
		rx_child(rx->lfd, p[1], n);
	}
	close(p[1]);
	rx->result_rd = p[0];
	if (rx->pid < 0) {
		close(p[0]);
		close(rx->lfd);
		return -1;
	}
	return 0;
}

static void rx_stop(struct ur_rx *rx)
{
	if (rx->pid > 0) {
		kill(rx->pid, SIGKILL);
		waitpid(rx->pid, NULL, 0);
	}
	close(rx->result_rd);
	close(rx->lfd);
	rx->pid = -1;
}

static int rx_result(struct ur_rx *rx, uint64_t *bytes)
{
	ssize_t r;

	do
		r = read(rx->result_rd, bytes, sizeof(*bytes));
	while (r < 0 && errno == EINTR && !bench_stop_signal);
	return r == sizeof(*bytes) ? 0 : -1;
}

static int rx_connect(const struct ur_rx *rx)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(rx->port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		return -errno;
	if (connect(s, (struct sockaddr *)&a, sizeof(a))) {
		int e = -errno;

		close(s);
		return e;
	}
	return s;
}

/* ---- a run's state ---- */

/* One SQE of a chain in flight: what its CQE must say, what it moves. */
struct ur_sqe {
	uint32_t expect;
	uint32_t hdr, file;	/* header and file bytes it sends */
};

struct ur_conn {
	int sock, pipe_rd, pipe_wr;
	long resp;		/* global index of the response, -1: none */
	uint32_t hdr_done;
	uint64_t file_done;
	double t0;		/* the response's first SQE */
	int pending;		/* CQEs owed */
	int notifs;		/* SEND_ZC notifications owed */
	int steps;		/* steps of the chain in flight */
	struct ur_sqe *sq;	/* max_sqes */
	char *buf;		/* uring_send_zc: chunk per step */
	struct zcsend_vec vec;
	struct zcsend_seg seg[2];
	struct zcsend_file zf;
	int blocking;		/* --cmd-nonblock: the rest goes blocking */
};

struct ur_ctx {
	enum ur_method m;
	const struct ur_case *cs;
	const struct ur_files *f;
	struct io_uring ring;
	int ring_up, dev, sendzc;
	struct ur_conn *c;
	unsigned long nconn;
	int max_steps;		/* per chain */
	int max_sqes;		/* per chain */
	size_t chunk;		/* uring_send_zc: bytes per step */
	long next_resp;		/* the next response not yet begun */
	unsigned long done;	/* responses completed */
	int inflight;		/* steps in flight */
	unsigned long owed;	/* CQEs owed, over all connections */
	uint64_t syscalls, bytes;
	double *lat;
	char err[120];
};

static int fail(struct ur_ctx *x, int err, const char *what)
{
	if (!x->err[0])
		snprintf(x->err, sizeof(x->err), "%s: %s", what, strerror(err < 0 ? -err : err));
	return err < 0 ? err : -err;
}

static uint32_t hdr_len(const struct ur_ctx *x)
{
	return x->cs->kind ? UR_HDR_LEN : 0;
}

static uint64_t resp_len(const struct ur_ctx *x, long r)
{
	return x->f->len[(unsigned long)r % x->f->n];
}

static int resp_fd(const struct ur_ctx *x, long r)
{
	return x->f->fd[(unsigned long)r % x->f->n];
}

/* The connection's next response, if any is left: 0, or 1 when none. */
static int conn_next(struct ur_ctx *x, struct ur_conn *c)
{
	if (x->next_resp >= (long)x->cs->responses) {
		c->resp = -1;
		return 1;
	}
	c->resp = x->next_resp++;
	c->hdr_done = 0;
	c->file_done = 0;
	c->t0 = 0;
	c->blocking = 0;
	return 0;
}

static struct io_uring_sqe *get_sqe(struct ur_ctx *x, unsigned long ci, int i,
				    enum ur_kind k, uint32_t expect, uint32_t hdr,
				    uint32_t file)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&x->ring);
	struct ur_conn *c = &x->c[ci];

	if (!sqe)
		return NULL;
	c->sq[i].expect = expect;
	c->sq[i].hdr = hdr;
	c->sq[i].file = file;
	sqe->user_data = ((uint64_t)ci << 20) | ((uint64_t)i << 4) | k;
	return sqe;
}

static uint32_t cmd_flags(const struct ur_conn *c)
{
	return uo.nonblock && !c->blocking ? ZCSEND_F_NONBLOCK : 0;
}

/*
 * --cmd-nonblock: a non-blocking command may queue less than asked (a
 * full socket: -EAGAIN, 0 bytes). Take what it queued; the rest of the
 * response goes as a blocking command, which waits in io-wq.
 * Return: whether the CQE was such a short one (and is accounted).
 */
static int cmd_short(struct ur_ctx *x, struct ur_conn *c, const struct ur_sqe *s, int res)
{
	uint32_t h;

	if (!uo.nonblock || c->blocking || (res < 0 && res != -EAGAIN) ||
	    (res >= 0 && (uint32_t)res >= s->expect))
		return 0;
	if (res < 0)
		res = 0;
	h = (uint32_t)res < s->hdr ? (uint32_t)res : s->hdr;
	c->hdr_done += h;
	c->file_done += (uint32_t)res - h;
	x->bytes += (uint32_t)res;
	c->blocking = 1;
	return 1;
}

/* uring_cmd: the rest of the response in one command. */
static int chain_cmd(struct ur_ctx *x, unsigned long ci)
{
	struct ur_conn *c = &x->c[ci];
	uint32_t hl = hdr_len(x), hrest = hl - c->hdr_done;
	uint64_t flen = resp_len(x, c->resp), frest = flen - c->file_done;
	struct zcsend_uring_cmd uc = { 0 };
	struct io_uring_sqe *sqe;
	int n = 0;

	if (frest + hrest > (1U << 30))
		frest = (1U << 30) - hrest;
	sqe = get_sqe(x, ci, 0, K_CMD, (uint32_t)(hrest + frest), hrest, (uint32_t)frest);
	if (!sqe)
		return -EBUSY;
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, x->dev, NULL, 0, 0);
	if (hl) {
		memset(c->seg, 0, sizeof(c->seg));
		memset(&c->vec, 0, sizeof(c->vec));
		if (hrest) {
			c->seg[n].type = ZCSEND_SEG_INLINE;
			c->seg[n].addr = (uintptr_t)(x->f->hdr + c->hdr_done);
			c->seg[n++].length = hrest;
		}
		c->seg[n].type = ZCSEND_SEG_FILE;
		c->seg[n].fd = resp_fd(x, c->resp);
		c->seg[n].offset = c->file_done;
		c->seg[n++].length = frest;
		c->vec.size = sizeof(c->vec);
		c->vec.sock_fd = c->sock;
		c->vec.nr_segs = (uint32_t)n;
		c->vec.segs = (uintptr_t)c->seg;
		c->vec.flags = cmd_flags(c);
		uc.arg = (uintptr_t)&c->vec;
		sqe->cmd_op = ZCSEND_URING_CMD_SENDVEC;
	} else {
		memset(&c->zf, 0, sizeof(c->zf));
		c->zf.size = sizeof(c->zf);
		c->zf.file_fd = resp_fd(x, c->resp);
		c->zf.sock_fd = c->sock;
		c->zf.offset = c->file_done;
		c->zf.length = frest;
		c->zf.flags = cmd_flags(c);
		uc.arg = (uintptr_t)&c->zf;
		sqe->cmd_op = ZCSEND_URING_CMD_SENDFILE;
	}
	memcpy((char *)sqe + offsetof(struct io_uring_sqe, cmd), &uc, sizeof(uc));
	c->steps = 1;
	return 1;
}

/* uring_splice: the header (if not sent), then pairs of 64 KiB. */
static int chain_splice(struct ur_ctx *x, unsigned long ci)
{
	struct ur_conn *c = &x->c[ci];
	uint32_t hrest = hdr_len(x) - c->hdr_done;
	uint64_t flen = resp_len(x, c->resp), off = c->file_done;
	int fd = resp_fd(x, c->resp), n = 0;
	struct io_uring_sqe *sqe = NULL;

	if (hrest) {
		sqe = get_sqe(x, ci, n++, K_HDR, hrest, hrest, 0);
		if (!sqe)
			return -EBUSY;
		io_uring_prep_send(sqe, c->sock, x->f->hdr + c->hdr_done, hrest,
				   MSG_MORE | MSG_WAITALL);
		sqe->flags |= IOSQE_IO_LINK;
	}
	for (c->steps = 0; c->steps < x->max_steps && off < flen; c->steps++) {
		uint32_t want = flen - off > UR_CHUNK ? UR_CHUNK : (uint32_t)(flen - off);
		int more = off + want < flen;

		sqe = get_sqe(x, ci, n++, K_F2P, want, 0, 0);
		if (!sqe)
			return -EBUSY;
		io_uring_prep_splice(sqe, fd, (int64_t)off, c->pipe_wr, -1, want,
				     SPLICE_F_MOVE);
		sqe->flags |= IOSQE_IO_LINK;
		sqe = get_sqe(x, ci, n++, K_P2S, want, 0, want);
		if (!sqe)
			return -EBUSY;
		io_uring_prep_splice(sqe, c->pipe_rd, -1, c->sock, -1, want,
				     SPLICE_F_MOVE | (more ? SPLICE_F_MORE : 0));
		sqe->flags |= IOSQE_IO_LINK;
		off += want;
	}
	if (sqe)
		sqe->flags &= ~IOSQE_IO_LINK;
	if (!c->steps)
		c->steps = 1;
	return n;
}

/* uring_send_zc: per step, a read into its own chunk, then SEND_ZC. */
static int chain_sendzc(struct ur_ctx *x, unsigned long ci)
{
	struct ur_conn *c = &x->c[ci];
	uint32_t hrest = hdr_len(x) - c->hdr_done;
	uint64_t flen = resp_len(x, c->resp), off = c->file_done;
	int fd = resp_fd(x, c->resp), n = 0;
	struct io_uring_sqe *sqe = NULL;

	for (c->steps = 0; c->steps < x->max_steps && (off < flen || hrest); c->steps++) {
		char *b = c->buf + (size_t)c->steps * x->chunk;
		uint32_t h = hrest, want;

		memcpy(b, x->f->hdr + c->hdr_done, h);	/* the CPU copy */
		want = flen - off > x->chunk - h ? (uint32_t)(x->chunk - h) :
		       (uint32_t)(flen - off);
		if (want) {
			sqe = get_sqe(x, ci, n++, K_READ, want, 0, 0);
			if (!sqe)
				return -EBUSY;
			io_uring_prep_read(sqe, fd, b + h, want, off);
			sqe->flags |= IOSQE_IO_LINK;
		}
		sqe = get_sqe(x, ci, n++, K_SEND, h + want, h, want);
		if (!sqe)
			return -EBUSY;
		if (x->sendzc)
			io_uring_prep_send_zc(sqe, c->sock, b, h + want,
					      MSG_WAITALL | (off + want < flen ? MSG_MORE : 0), 0);
		else
			io_uring_prep_send(sqe, c->sock, b, h + want,
					   MSG_WAITALL | (off + want < flen ? MSG_MORE : 0));
		sqe->flags |= IOSQE_IO_LINK;
		off += want;
		hrest = 0;
	}
	if (sqe)
		sqe->flags &= ~IOSQE_IO_LINK;
	return n;
}

/* Queue a chain on every idle connection while the depth allows. */
static int fill_ring(struct ur_ctx *x)
{
	unsigned long ci;
	int n;

	for (ci = 0; ci < x->nconn && x->inflight < (int)uo.qd; ci++) {
		struct ur_conn *c = &x->c[ci];

		if (c->pending || c->notifs || c->resp < 0)
			continue;
		if (io_uring_sq_space_left(&x->ring) < (unsigned int)x->max_sqes)
			break;
		if (c->t0 == 0)
			c->t0 = bench_now();
		n = x->m == M_CMD ? chain_cmd(x, ci) : x->m == M_SPLICE ?
		    chain_splice(x, ci) : chain_sendzc(x, ci);
		if (n < 0)
			return fail(x, n, "queue");
		c->pending = n;
		x->owed += (unsigned long)n;
		x->inflight += c->steps;
	}
	return 0;
}

/* The chain of c is complete: account it, start its next response. */
static void chain_done(struct ur_ctx *x, struct ur_conn *c)
{
	x->inflight -= c->steps;
	c->steps = 0;
	if (c->hdr_done < hdr_len(x) || c->file_done < resp_len(x, c->resp))
		return;		/* more chains to come */
	x->lat[x->done++] = bench_now() - c->t0;
	conn_next(x, c);
}

static int reap_one(struct ur_ctx *x, const struct io_uring_cqe *cqe)
{
	unsigned long ci = (unsigned long)(cqe->user_data >> 20);
	int i = (int)((cqe->user_data >> 4) & 0xffff);
	enum ur_kind k = (enum ur_kind)(cqe->user_data & 15);
	struct ur_conn *c;
	struct ur_sqe *s;

	if (ci >= x->nconn)
		return fail(x, EIO, "unexpected CQE");
	c = &x->c[ci];
	s = &c->sq[i];
	if (cqe->flags & IORING_CQE_F_NOTIF) {
		c->notifs--;
		x->owed--;
	} else {
		c->pending--;
		x->owed--;
		if (k == K_CMD && cmd_short(x, c, s, cqe->res))
			goto done;
		if (cqe->res < 0)
			return fail(x, cqe->res, k == K_CMD ? "uring_cmd" : k == K_F2P ||
				    k == K_P2S ? "splice" : k == K_READ ? "read" : "send");
		if ((uint32_t)cqe->res != s->expect) {
			snprintf(x->err, sizeof(x->err), "short completion: %d of %u bytes",
				 cqe->res, s->expect);
			return -EIO;
		}
		c->hdr_done += s->hdr;
		c->file_done += s->file;
		x->bytes += s->hdr + s->file;
		if (cqe->flags & IORING_CQE_F_MORE) {
			c->notifs++;
			x->owed++;
		}
	}
done:
	if (!c->pending && !c->notifs)
		chain_done(x, c);
	return 0;
}

static int reap(struct ur_ctx *x)
{
	struct io_uring_cqe *cqe;
	int err = 0;

	while (!err && io_uring_peek_cqe(&x->ring, &cqe) == 0) {
		err = reap_one(x, cqe);
		io_uring_cqe_seen(&x->ring, cqe);
	}
	return err;
}

/* Would liburing's submit enter the kernel on this SQPOLL ring? */
static int sqpoll_enters(const struct io_uring *ring)
{
	unsigned int f = IO_URING_READ_ONCE(*ring->sq.kflags);

	return !!(f & (IORING_SQ_NEED_WAKEUP | IORING_SQ_CQ_OVERFLOW | IORING_SQ_TASKRUN));
}

static int ring_step(struct ur_ctx *x)
{
	int err;

	if (uo.sqpoll) {
		if (io_uring_sq_ready(&x->ring)) {
			x->syscalls += (uint64_t)sqpoll_enters(&x->ring);
			err = io_uring_submit(&x->ring);
			if (err < 0)
				return fail(x, err, "io_uring_submit");
		}
		while (!io_uring_cq_ready(&x->ring) && !bench_stop_signal)
			__asm__ __volatile__("pause" ::: "memory");
		return reap(x);
	}
	do {
		x->syscalls++;
		err = io_uring_submit_and_wait(&x->ring, (unsigned int)
					       (uo.wait && uo.wait < x->owed ? uo.wait : x->owed));
	} while (err == -EINTR && !bench_stop_signal);
	if (err < 0)
		return fail(x, err, "io_uring_enter");
	return reap(x);
}

static int run_ring(struct ur_ctx *x)
{
	unsigned long ci;
	int err = 0;

	for (ci = 0; ci < x->nconn; ci++)
		conn_next(x, &x->c[ci]);
	while (!err && x->done < x->cs->responses && !bench_stop_signal) {
		err = fill_ring(x);
		if (!err && !x->owed)
			return fail(x, EIO, "nothing in flight");
		if (!err)
			err = ring_step(x);
	}
	return err ? err : bench_stop_signal ? -EINTR : 0;
}

/* ---- the blocking methods ---- */

static int counted(struct ur_ctx *x, long ret)
{
	x->syscalls++;
	return ret < 0 ? -errno : 0;
}

static int blocking_sendfile(struct ur_ctx *x, struct ur_conn *c, int fd, uint64_t len)
{
	uint32_t hl = hdr_len(x);
	int one = 1, zero = 0, err = 0;
	off_t off = 0;

	if (hl) {
		err = counted(x, setsockopt(c->sock, IPPROTO_TCP, TCP_CORK, &one, sizeof(one)));
		if (!err && write(c->sock, x->f->hdr, hl) != (ssize_t)hl)
			err = -EIO;
		x->syscalls++;
		x->bytes += hl;
	}
	while (!err && (uint64_t)off < len) {
		ssize_t n = sendfile(c->sock, fd, &off, (size_t)(len - (uint64_t)off));

		x->syscalls++;
		if (n <= 0)
			return n < 0 && errno == EINTR && !bench_stop_signal ? 0 : -(n ? errno : EIO);
		x->bytes += (uint64_t)n;
	}
	if (!err && hl)
		err = counted(x, setsockopt(c->sock, IPPROTO_TCP, TCP_CORK, &zero, sizeof(zero)));
	return err;
}

static int blocking_ioctl(struct ur_ctx *x, struct ur_conn *c, int fd, uint64_t len)
{
	uint32_t hl = hdr_len(x);
	uint64_t done = 0, total = hl + len;

	while (done < total) {
		struct zcsend_seg seg[2];
		struct zcsend_vec v;
		int n = 0, err;

		memset(seg, 0, sizeof(seg));
		memset(&v, 0, sizeof(v));
		if (done < hl) {
			seg[n].type = ZCSEND_SEG_INLINE;
			seg[n].addr = (uintptr_t)(x->f->hdr + done);
			seg[n++].length = hl - done;
		}
		seg[n].type = ZCSEND_SEG_FILE;
		seg[n].fd = fd;
		seg[n].length = total - (done > hl ? done : hl);
		seg[n].offset = len - seg[n].length;
		n++;
		v.size = sizeof(v);
		v.sock_fd = c->sock;
		v.nr_segs = (uint32_t)n;
		v.segs = (uintptr_t)seg;
		err = counted(x, ioctl(x->dev, ZCSEND_IOC_SENDVEC, &v));
		if (err == -EINTR && !bench_stop_signal)
			continue;
		if (err)
			return err;
		if (!v.sent || v.sent > total - done)
			return -EIO;
		done += v.sent;
		x->bytes += v.sent;
	}
	return 0;
}

static int run_blocking(struct ur_ctx *x)
{
	unsigned long r;

	for (r = 0; r < x->cs->responses && !bench_stop_signal; r++) {
		struct ur_conn *c = &x->c[r % x->nconn];
		double t0 = bench_now();
		int err = x->m == M_SENDFILE ?
			  blocking_sendfile(x, c, resp_fd(x, (long)r), resp_len(x, (long)r)) :
			  blocking_ioctl(x, c, resp_fd(x, (long)r), resp_len(x, (long)r));

		if (err)
			return fail(x, err, ur_names[x->m]);
		x->lat[x->done++] = bench_now() - t0;
	}
	return bench_stop_signal ? -EINTR : 0;
}

/* ---- one run ---- */

static void ctx_free(struct ur_ctx *x)
{
	unsigned long i;

	if (x->ring_up)
		io_uring_queue_exit(&x->ring);
	for (i = 0; x->c && i < x->nconn; i++) {
		if (x->c[i].sock >= 0)
			close(x->c[i].sock);
		if (x->c[i].pipe_rd >= 0)
			close(x->c[i].pipe_rd);
		if (x->c[i].pipe_wr >= 0)
			close(x->c[i].pipe_wr);
		free(x->c[i].sq);
		free(x->c[i].buf);
	}
	free(x->c);
	free(x->lat);
	if (x->dev >= 0)
		close(x->dev);
}

static int ring_init(struct ur_ctx *x)
{
	struct io_uring_params p;
	unsigned long sqes = uo.qd * 3 + (unsigned long)x->max_sqes;
	int err;

	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_CQSIZE;
	p.cq_entries = (unsigned int)(sqes * 4);
	if (uo.sqpoll) {
		p.flags |= IORING_SETUP_SQPOLL;
		p.sq_thread_idle = 1000;
	}
	err = io_uring_queue_init_params((unsigned int)sqes, &x->ring, &p);
	if (err < 0)
		return fail(x, err, "io_uring_queue_init");
	x->ring_up = 1;
	return 0;
}

/* Connections (and per method: pipes, buffers, the ring, the device). */
static int ctx_init(struct ur_ctx *x, const struct ur_rx *rx)
{
	unsigned long i;
	int p[2], err;

	x->c = calloc(x->nconn, sizeof(*x->c));
	x->lat = calloc(x->cs->responses, sizeof(*x->lat));
	if (!x->c || !x->lat)
		return fail(x, ENOMEM, "setup");
	x->max_steps = (int)(uo.qd / x->nconn) > 1 ? (int)(uo.qd / x->nconn) : 1;
	if (x->m == M_CMD)
		x->max_steps = 1;
	x->max_sqes = 2 * x->max_steps + 1;
	x->chunk = 128 << 10;
	if (x->cs->kind && uo.omax + UR_HDR_LEN <= (4 << 20))
		x->chunk = (size_t)uo.omax + UR_HDR_LEN;
	for (i = 0; i < x->nconn; i++)
		x->c[i].sock = x->c[i].pipe_rd = x->c[i].pipe_wr = -1;
	for (i = 0; i < x->nconn; i++) {
		struct ur_conn *c = &x->c[i];

		c->sock = rx_connect(rx);
		if (c->sock < 0)
			return fail(x, c->sock, "connect");
		c->sq = calloc((size_t)x->max_sqes, sizeof(*c->sq));
		if (!c->sq)
			return fail(x, ENOMEM, "setup");
		if (x->m == M_SPLICE) {
			if (pipe2(p, O_CLOEXEC))
				return fail(x, errno, "pipe2");
			c->pipe_rd = p[0];
			c->pipe_wr = p[1];
		}
		if (x->m == M_SENDZC) {
			c->buf = malloc(x->chunk * (size_t)x->max_steps);
			if (!c->buf)
				return fail(x, ENOMEM, "setup");
		}
	}
	if (x->m == M_CMD || x->m == M_IOCTL) {
		x->dev = open(ZCSEND_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
		if (x->dev < 0)
			return fail(x, errno, ZCSEND_DEVICE_PATH);
	}
	err = x->m <= M_SENDZC ? ring_init(x) : 0;
	return err;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(const double *v, unsigned long n, double p)
{
	unsigned long i = (unsigned long)(p * (double)(n - 1) + 0.5);

	return n ? v[i < n ? i : n - 1] : 0;
}

static void run_once(struct ur_case *cs, const struct ur_files *f, enum ur_method m,
		     int sendzc, struct ur_run *r)
{
	struct ur_ctx x = { .m = m, .cs = cs, .f = f, .dev = -1, .sendzc = sendzc,
			    .nconn = cs->conns };
	struct rusage ru0, ru1;
	struct ur_rx rx;
	unsigned long i;
	double t0;
	int err;

	memset(r, 0, sizeof(*r));
	if (rx_start(&rx, cs->conns)) {
		snprintf(r->err, sizeof(r->err), "receiver: %s", strerror(errno));
		return;
	}
	err = ctx_init(&x, &rx);
	if (err)
		goto out;
	getrusage(RUSAGE_SELF, &ru0);
	t0 = bench_now();
	err = m <= M_SENDZC ? run_ring(&x) : run_blocking(&x);
	getrusage(RUSAGE_SELF, &ru1);
	for (i = 0; !err && i < x.nconn; i++)
		if (shutdown(x.c[i].sock, SHUT_WR))
			err = fail(&x, errno, "shutdown");
	if (!err && rx_result(&rx, &r->received))
		err = fail(&x, EPIPE, "receiver");
	r->wall = bench_now() - t0;
	if (err)
		goto out;
	r->usr = bench_tv_secs(ru1.ru_utime) - bench_tv_secs(ru0.ru_utime);
	r->sys = bench_tv_secs(ru1.ru_stime) - bench_tv_secs(ru0.ru_stime);
	r->vcs = ru1.ru_nvcsw - ru0.ru_nvcsw;
	r->ivcs = ru1.ru_nivcsw - ru0.ru_nivcsw;
	r->bytes = x.bytes;
	r->syscalls = x.syscalls;
	r->responses = x.done;
	qsort(x.lat, x.done, sizeof(*x.lat), cmp_double);
	r->p50 = pct(x.lat, x.done, 0.50);
	r->p99 = pct(x.lat, x.done, 0.99);
	r->p999 = pct(x.lat, x.done, 0.999);
	r->ok = r->bytes == cs->bytes && r->received == cs->bytes;
	if (!r->ok)
		snprintf(r->err, sizeof(r->err), "moved %llu/%llu bytes, wanted %llu",
			 (unsigned long long)r->bytes, (unsigned long long)r->received,
			 (unsigned long long)cs->bytes);
out:
	if (err)
		snprintf(r->err, sizeof(r->err), "%s", x.err[0] ? x.err : strerror(-err));
	ctx_free(&x);
	rx_stop(&rx);
}

/* ---- availability ---- */

static const char *probe_op(int op, const char *what)
{
	static char why[128];
	struct io_uring_probe *probe = io_uring_get_probe();
	int ok;

	if (!probe)
		return "io_uring unavailable (io_uring_setup failed or no probe)";
	ok = io_uring_opcode_supported(probe, op);
	io_uring_free_probe(probe);
	if (ok)
		return NULL;
	snprintf(why, sizeof(why), "this kernel's io_uring lacks %s", what);
	return why;
}

static const char *unavailable(enum ur_method m, int *sendzc)
{
	const char *why = NULL;

	switch (m) {
	case M_CMD:
		why = probe_op(IORING_OP_URING_CMD, "IORING_OP_URING_CMD");
		/* fall through */
	case M_IOCTL:
		if (!why && access(ZCSEND_DEVICE_PATH, R_OK))
			why = "module not loaded (no " ZCSEND_DEVICE_PATH ")";
		return why;
	case M_SPLICE:
		return probe_op(IORING_OP_SPLICE, "IORING_OP_SPLICE");
	case M_SENDZC:
		*sendzc = !probe_op(IORING_OP_SEND_ZC, "");
		return probe_op(IORING_OP_READ, "IORING_OP_READ");
	default:
		return NULL;
	}
}

/* ---- summary, table, JSON ---- */

enum ur_metric { X_RPS, X_BPS, X_CPU, X_SYSC, X_CS, X_P50, X_P99, X_P999, X_COUNT };

static const char *const metric_names[X_COUNT] = {
	"requests_per_s", "bytes_per_s", "cpu_s_per_gib", "syscalls_per_response",
	"ctx_switches_per_response", "latency_p50_s", "latency_p99_s", "latency_p999_s",
};

static double metric(const struct ur_run *r, enum ur_metric k)
{
	double gib = (double)r->bytes / (double)(1 << 30), n = (double)r->responses;

	switch (k) {
	case X_RPS:	return n / r->wall;
	case X_BPS:	return (double)r->bytes / r->wall;
	case X_CPU:	return (r->usr + r->sys) / gib;
	case X_SYSC:	return (double)r->syscalls / n;
	case X_CS:	return (double)(r->vcs + r->ivcs) / n;
	case X_P50:	return r->p50;
	case X_P99:	return r->p99;
	default:	return r->p999;
	}
}

/* Median, min, max of a metric over the measured runs; n: how many ok. */
static struct spread summary(const struct ur_case *cs, int mi, enum ur_metric k, int *n)
{
	double v[MAX_RUNS];
	unsigned long i;
	size_t cnt = 0;

	for (i = 1; cs->m[mi].runs && i <= ur_runs; i++)
		if (cs->m[mi].runs[i].ok)
			v[cnt++] = metric(&cs->m[mi].runs[i], k);
	if (n)
		*n = (int)cnt;
	return spread_of(v, cnt);
}

static const char *fmt_num(char *buf, size_t len, double v)
{
	if (v >= 1e6)
		snprintf(buf, len, "%.2fM", v / 1e6);
	else if (v >= 1e4)
		snprintf(buf, len, "%.1fk", v / 1e3);
	else if (v >= 100)
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.3g", v);
	return buf;
}

static void case_title(const struct ur_case *cs, char *buf, size_t len)
{
	char a[32], b[32], w[32] = "";

	if (uo.wait)
		snprintf(w, sizeof(w), ", wait %lu", uo.wait);

	if (!cs->kind) {
		snprintf(buf, len, "== uring bulk: %s, 1 response on 1 connection, queue depth %lu%s, SQPOLL %s, route loopback",
			 fmt_bytes(a, sizeof(a), (double)cs->bytes), uo.qd, w, uo.sqpoll ? "on" : "off");
		return;
	}
	fmt_bytes(a, sizeof(a), (double)uo.omin);
	fmt_bytes(b, sizeof(b), (double)uo.omax);
	snprintf(buf, len, "== uring %s: %lu responses of %s-%s + %d B header over %lu connections, queue depth %lu%s, SQPOLL %s, route loopback",
		 case_names[cs->kind], cs->responses, a, b, UR_HDR_LEN, cs->conns, uo.qd,
		 w, uo.sqpoll ? "on" : "off");
}

static double ratio(const struct ur_case *cs, int mi, int ref, enum ur_metric k)
{
	int n1, n2;
	double a = summary(cs, mi, k, &n1).median, b;

	if (!cs->m[ref].avail)
		return 0;
	b = summary(cs, ref, k, &n2).median;
	return n1 && n2 && b > 0 ? a / b : 0;
}

static void print_row(const struct ur_case *cs, int mi, FILE *t)
{
	char v[8][32], rt[3][16];
	const struct ur_run *bad = NULL;
	double r[3];
	unsigned long i;
	int n, j;

	if (!cs->m[mi].avail) {
		fprintf(t, "%-14s unavailable: %s\n", cs->m[mi].label, cs->m[mi].why);
		return;
	}
	summary(cs, mi, X_RPS, &n);
	for (i = 0; i <= ur_runs; i++)
		if (!cs->m[mi].runs[i].ok)
			bad = &cs->m[mi].runs[i];
	if (!n || bad) {
		fprintf(t, "%-14s failed: %s\n", cs->m[mi].label, bad ? bad->err : "no run");
		if (!n)
			return;
	}
	r[0] = ratio(cs, mi, M_SPLICE, X_RPS);
	r[1] = ratio(cs, mi, M_SENDFILE, X_RPS);
	r[2] = ratio(cs, mi, M_SPLICE, X_CPU);
	for (j = 0; j < 3; j++)
		if (r[j] > 0)
			snprintf(rt[j], sizeof(rt[j]), "%.2fx", r[j]);
		else
			snprintf(rt[j], sizeof(rt[j]), "-");
	fmt_num(v[0], sizeof(v[0]), summary(cs, mi, X_RPS, NULL).median);
	fmt_rate(v[1], sizeof(v[1]), summary(cs, mi, X_BPS, NULL).median);
	snprintf(v[2], sizeof(v[2]), "%.3f", summary(cs, mi, X_CPU, NULL).median);
	snprintf(v[3], sizeof(v[3]), "%.4g", summary(cs, mi, X_SYSC, NULL).median);
	snprintf(v[4], sizeof(v[4]), "%.3g", summary(cs, mi, X_CS, NULL).median);
	fmt_secs(v[5], sizeof(v[5]), summary(cs, mi, X_P50, NULL).median);
	fmt_secs(v[6], sizeof(v[6]), summary(cs, mi, X_P99, NULL).median);
	fmt_secs(v[7], sizeof(v[7]), summary(cs, mi, X_P999, NULL).median);
	fprintf(t, "%-14s %10s %8s %8s %11s %9s %8s %9s %7s %9s %9s %9s\n",
		cs->m[mi].label, v[0], rt[0], rt[1], v[1], v[2], rt[2], v[3], v[4],
		v[5], v[6], v[7]);
}

static void print_case(const struct ur_case *cs, FILE *t)
{
	char title[256];
	int mi;

	case_title(cs, title, sizeof(title));
	fprintf(t, "%s\n", title);
	fprintf(t, "%-14s %10s %8s %8s %11s %9s %8s %9s %7s %9s %9s %9s\n",
		"method", "requests/s", "x splice", "x sendf", "throughput", "CPU s/GiB",
		"x splice", "calls/rsp", "cs/rsp", "p50", "p99", "p99.9");
	for (mi = 0; mi < UR_MAX_METHODS; mi++)
		if (uo.methods & (1 << mi))
			print_row(cs, mi, t);
	fprintf(t, "\n");
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++)
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	fputc('"', f);
}

static void json_run(FILE *f, const struct ur_run *r, int warmup)
{
	fprintf(f, "{\"warmup\": %s, \"ok\": %s, \"error\": ", warmup ? "true" : "false",
		r->ok ? "true" : "false");
	json_str(f, r->err);
	fprintf(f, ", \"wall_s\": %.9g, \"cpu_user_s\": %.6g, \"cpu_sys_s\": %.6g, \"ctx_voluntary\": %ld, \"ctx_involuntary\": %ld, \"bytes_sent\": %llu, \"bytes_received\": %llu, \"syscalls\": %llu, \"responses\": %llu, \"latency_p50_s\": %.9g, \"latency_p99_s\": %.9g, \"latency_p999_s\": %.9g}",
		r->wall, r->usr, r->sys, r->vcs, r->ivcs, (unsigned long long)r->bytes,
		(unsigned long long)r->received, (unsigned long long)r->syscalls,
		(unsigned long long)r->responses, r->p50, r->p99, r->p999);
}

static void json_method(FILE *f, const struct ur_case *cs, int mi)
{
	unsigned long i;
	int k, n;

	fprintf(f, "{\"method\": \"%s\", \"label\": ", ur_names[mi]);
	json_str(f, cs->m[mi].label);
	fprintf(f, ", \"available\": %s, \"reason\": ", cs->m[mi].avail ? "true" : "false");
	json_str(f, cs->m[mi].why);
	fprintf(f, ", \"runs\": [");
	for (i = 0; cs->m[mi].avail && i <= ur_runs; i++) {
		fprintf(f, "%s", i ? ", " : "");
		json_run(f, &cs->m[mi].runs[i], i == 0);
	}
	fprintf(f, "], \"summary\": {");
	for (k = 0; k < X_COUNT; k++) {
		struct spread s = summary(cs, mi, (enum ur_metric)k, &n);

		fprintf(f, "%s\"%s\": {\"median\": %.9g, \"min\": %.9g, \"max\": %.9g}",
			k ? ", " : "", metric_names[k], s.median, s.min, s.max);
	}
	fprintf(f, ", \"runs_ok\": %d}}", n);
}

static void json_write(FILE *f, const struct ur_case *cases, int ncases, int complete)
{
	int c, mi, first;

	fprintf(f, "{\"workload\": \"uring\", \"route\": \"loopback\", \"runs\": %lu, \"queue_depth\": %lu, \"wait\": %lu, \"sqpoll\": %s, \"complete\": %s, \"cases\": [",
		ur_runs, uo.qd, uo.wait, uo.sqpoll ? "true" : "false", complete ? "true" : "false");
	for (c = 0; c < ncases; c++) {
		const struct ur_case *cs = &cases[c];

		fprintf(f, "%s{\"case\": \"%s\", \"connections\": %lu, \"responses\": %lu, \"files\": %lu, \"bytes\": %llu, \"header_bytes\": %d, \"methods\": [",
			c ? ", " : "", case_names[cs->kind], cs->conns, cs->responses,
			cs->nfiles, (unsigned long long)cs->bytes, cs->kind ? UR_HDR_LEN : 0);
		for (mi = 0, first = 1; mi < UR_MAX_METHODS; mi++) {
			if (!(uo.methods & (1 << mi)))
				continue;
			fprintf(f, "%s", first ? "" : ", ");
			json_method(f, cs, mi);
			first = 0;
		}
		fprintf(f, "]}");
	}
	fprintf(f, "]}\n");
}

static int write_json_file(const struct bench_opts *o, const struct ur_case *cases,
			   int n, int complete)
{
	char tmp[4096];
	FILE *f;

	if (!o->json || !o->json_file)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp", o->json_file);
	f = fopen(tmp, "we");
	if (!f) {
		perror(tmp);
		return -1;
	}
	json_write(f, cases, n, complete);
	if (fclose(f) || rename(tmp, o->json_file)) {
		perror(o->json_file);
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* ---- the runner ---- */

/* Every connection, its pipe, and every file open at once. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int case_setup(struct ur_case *cs, int kind, struct ur_files *f, const char *dir)
{
	unsigned long i;
	int mi;

	memset(cs, 0, sizeof(*cs));
	cs->kind = kind;
	cs->conns = kind == 0 ? 1 : kind == 1 ? uo.conns : uo.many;
	cs->responses = kind == 0 ? 1 : uo.responses;
	cs->nfiles = kind == 0 ? 1 : uo.objects;
	if (files_make(f, dir, (int)cs->nfiles, kind ? uo.omin : uo.size,
		       kind ? uo.omax : uo.size))
		return -1;
	for (i = 0; i < cs->responses; i++)
		cs->bytes += f->len[i % cs->nfiles] + (kind ? UR_HDR_LEN : 0);
	for (mi = 0; mi < UR_MAX_METHODS; mi++) {
		int zc = 1;
		const char *why = unavailable((enum ur_method)mi, &zc);

		snprintf(cs->m[mi].label, sizeof(cs->m[mi].label), "%s",
			 mi == M_SENDZC && !zc ? "uring_send" : ur_names[mi]);
		if (!(uo.methods & (1 << mi)))
			continue;
		if (why) {
			snprintf(cs->m[mi].why, sizeof(cs->m[mi].why), "%s", why);
			continue;
		}
		cs->m[mi].runs = calloc(ur_runs + 1, sizeof(struct ur_run));
		cs->m[mi].avail = cs->m[mi].runs != NULL;
	}
	return 0;
}

static void run_case(struct ur_case *cs, const struct ur_files *f)
{
	unsigned long round;
	int mi;

	for (round = 0; round <= ur_runs && !bench_stop_signal; round++)
		for (mi = 0; mi < UR_MAX_METHODS && !bench_stop_signal; mi++) {
			if (!cs->m[mi].avail)
				continue;
			run_once(cs, f, (enum ur_method)mi,
				 strcmp(cs->m[mi].label, "uring_send") != 0,
				 &cs->m[mi].runs[round]);
		}
}

static int run_uring(const struct bench_opts *o)
{
	struct ur_case cases[UR_MAX_CASES];
	FILE *table = o->json && !o->json_file ? NULL : stdout;
	int k, n = 0, err = 0, mi;

	if (uo.qd < 1 || uo.conns < 1 || uo.many < 1 || uo.objects < 1) {
		fprintf(stderr, "zcsend bench: --qd, --connections, --many, --objects must be positive\n");
		return EXIT_USAGE;
	}
	if (o->nroutes != 1 || strcmp(o->routes[0]->name, "loopback")) {
		fprintf(stderr, "zcsend bench: workload uring runs on route loopback only\n");
		return EXIT_USAGE;
	}
	ur_runs = o->runs;
	raise_nofile();
	for (k = 0; k < UR_MAX_CASES && !bench_stop_signal; k++) {
		struct ur_files f;
		double t0 = bench_now();

		if (!(uo.cases & (1 << k)))
			continue;
		if (case_setup(&cases[n], k, &f, o->dir)) {
			err = 1;
			break;
		}
		run_case(&cases[n], &f);
		files_free(&f);
		n++;
		if (table) {
			print_case(&cases[n - 1], table);
			fflush(table);
		}
		write_json_file(o, cases, n, 0);
		fprintf(stderr, "zcsend bench: uring case %s done in %.0f s\n", case_names[k],
			bench_now() - t0);
	}
	if (table)
		fprintf(table, "Legend: requests/s and throughput until the receiver has every byte; x splice, x sendf: against uring_splice and sendfile (TCP_CORK) in the same run; CPU s/GiB: sender's user+system CPU, io-wq and SQ threads included; calls/rsp: io_uring_enter calls (or blocking calls) per response; cs/rsp: context switches per response; p50..p99.9: per response, from its first SQE (or call) to its last CQE (or return). Medians of %lu runs after one warm-up.\n",
			ur_runs);
	if (o->json && !o->json_file)
		json_write(stdout, cases, n, !err && !bench_stop_signal);
	if (write_json_file(o, cases, n, !err && !bench_stop_signal))
		err = 1;
	for (k = 0; k < n; k++)
		for (mi = 0; mi < UR_MAX_METHODS; mi++)
			free(cases[k].m[mi].runs);
	return err || bench_stop_signal ? 1 : 0;
}

const struct bench_workload workload_uring = {
	.name = "uring",
	.help = "io_uring: uring_cmd, SPLICE, READ+SEND_ZC beside sendfile and the ioctl, many connections",
	.options = uring_options, .runs = 5, .routes = "loopback",
	.run = run_uring,
};
