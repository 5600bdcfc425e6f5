// SPDX-License-Identifier: GPL-2.0
/*
 * zcsend bench --workload server: what a page-cache miss costs an event-loop
 * server (issue 22), and what each way around it costs. A workload with a
 * runner of its own (workload.h).
 *
 * One event-loop thread (epoll) serves --connections loopback connections
 * from a set of --set-size bytes of --file-size files in --dir (meant to be
 * larger than the page cache, on a slow disk: scripts/testbed/slow-disk).
 * A client thread in the same process keeps one request in flight per
 * connection: it asks for a file (a 4-byte index), reads the whole body
 * (recv MSG_TRUNC) and times the request; --hot-share percent of requests
 * go to the first --hot percent of the files (the hot set, meant to fit in
 * the cache), the rest to the others, at random. The server sends each body
 * one of four ways:
 *   sendfile  sendfile(2) inline: the loop blocks on every miss;
 *   pool      every sendfile(2) call run by a thread of a pool, cached or
 *             not (nginx's "aio threads");
 *   warmup    a pool thread first reads the file by sendfile(2) to
 *             /dev/null, then the loop sends it (Kafka's KAFKA-7504);
 *   nowait    ZCSEND_IOC_SENDFILE inline with ZCSEND_F_NOWAIT; on EBUSY the
 *             request goes to a pool thread that repeats the call without
 *             the flag (the "thread only on a miss" wait of zcsend(4)).
 * Each run runs the four in turn, each for --duration seconds from the same
 * cache: every file's pages dropped (POSIX_FADV_DONTNEED; the files were
 * synced once written) and the whole page cache by drop_caches when root,
 * then the hot set read in, untimed, as in a server's steady state
 * (--cold-hot: not), then the requests in flight complete. Per run: MB/s and requests/s (bodies
 * completed over the time to the last one), the server's CPU seconds per
 * GiB (the process's getrusage less the client thread's), hot-set latency
 * p50/p99/p99.9, hand-offs to the pool per request; then medians over
 * --runs, and ratios against sendfile and pool. Timing is reported, never
 * asserted; the run fails only if bytes sent and received differ.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <linux/zcsend.h>

#include "methods.h"
#include "util.h"
#include "workload.h"

enum srv_mode { SM_SENDFILE, SM_POOL, SM_WARMUP, SM_NOWAIT, SM_COUNT };
static const char *const mode_names[SM_COUNT] = {
	"sendfile", "pool", "warmup", "nowait",
};
static const char *const mode_desc[SM_COUNT] = {
	"sendfile(2) inline, the loop blocks on each miss",
	"every sendfile(2) in a thread pool (nginx aio threads)",
	"pool thread reads the file to /dev/null, then the loop sends (KAFKA-7504)",
	"ZCSEND_IOC_SENDFILE + ZCSEND_F_NOWAIT inline; on EBUSY a pool thread repeats it without",
};

#define SRV_MAX_CONN	1024
#define SRV_MAX_THREADS	256

struct srv_opts {
	uint64_t set_size, file_size;
	unsigned long hot_pct, hot_share, connections, threads, duration;
	int runs, json, cold_hot;
	const char *json_file, *dir;
};

/* One run of one mode. */
struct srv_run {
	int ok;
	uint64_t requests, hot_requests, bytes, handoffs;
	double secs, cpu_s, usr_s, sys_s, mbps, rps, cpu_per_gib, p50, p99, p999, cold_p50;
	long vcs;	/* voluntary context switches, server threads */
	double guest_busy;	/* percent of all CPUs' time not idle (/proc/stat) */
};

/* The file set. */
static struct {
	char dir[PATH_MAX];
	int *fd;
	unsigned long n, hot;
	uint64_t file_size;
	uint64_t avail_after_drop;	/* MemAvailable once dropped, bytes */
} set;

/* What a pool thread is asked to do for a connection. */
enum job_kind { JOB_SENDFILE, JOB_WARMUP, JOB_ZCSEND };

enum conn_state { CS_IDLE, CS_SENDING, CS_BUSY };

/* A server-side connection. */
struct conn {
	int fd;
	enum conn_state state;
	uint32_t events;	/* epoll interest now */
	unsigned char req[4];
	int req_len;
	uint32_t file;
	uint64_t off, left;
	/* the job while CS_BUSY */
	enum job_kind kind;
	ssize_t ret;
	int err;
	struct conn *next;
};

/* A client-side connection. */
struct cconn {
	int fd;
	uint64_t left;
	int hot;
	double t0;
};

/* One mode's run: the server, its pool, the client. */
struct srv {
	const struct srv_opts *o;
	enum srv_mode mode;
	int ep, efd, stopfd, devnull, zdev;
	struct conn conn[SRV_MAX_CONN];
	/* the pool: jobs in, results out (the loop wakes on efd) */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct conn *todo, **todo_tail, *done;
	int quit;
	pthread_t workers[SRV_MAX_THREADS];
	/* counted by the loop */
	uint64_t sent, handoffs;
	unsigned long inpool;	/* jobs handed over, not yet back */
	int stopping;
	int failed;
	char err[160];
	/* the client */
	struct cconn cc[SRV_MAX_CONN];
	int cep;
	uint64_t rng;
	uint64_t received, requests, hot_requests;
	double *hot_ms, *cold_ms;
	size_t nhot, ncold, cap_hot, cap_cold;
	double t_start, t_end;
	struct rusage cl_ru0, cl_ru1;
};



static double ru_usr(const struct rusage *ru)
{
	return bench_tv_secs(ru->ru_utime);
}

static double ru_sys(const struct rusage *ru)
{
	return bench_tv_secs(ru->ru_stime);
}

static int failed(struct srv *s)
{
	return __atomic_load_n(&s->failed, __ATOMIC_ACQUIRE);
}

/* The first failure of a run: its message kept, both threads stop. */
static void fail(struct srv *s, const char *what, int err)
{
	if (failed(s))
		return;
	snprintf(s->err, sizeof(s->err), "%s: %s", what, strerror(err));
	__atomic_store_n(&s->failed, 1, __ATOMIC_RELEASE);
}

/* ---- the server: the event loop and its pool ---- */

static void set_interest(struct srv *s, struct conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	if (c->events == events)
		return;
	c->events = events;
	if (epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &ev))
		fail(s, "epoll_ctl", errno);
}

/* Hand the connection to the pool; the loop leaves it alone until done. */
static void submit(struct srv *s, struct conn *c, enum job_kind kind)
{
	c->state = CS_BUSY;
	c->kind = kind;
	c->next = NULL;
	set_interest(s, c, 0);
	s->handoffs++;
	s->inpool++;
	pthread_mutex_lock(&s->lock);
	*s->todo_tail = c;
	s->todo_tail = &c->next;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

static void do_job(struct srv *s, struct conn *c)
{
	int file = set.fd[c->file];
	struct zcsend_file z;
	off_t off = (off_t)c->off;
	ssize_t n = 0;

	switch (c->kind) {
	case JOB_SENDFILE:
		n = sendfile(c->fd, file, &off, c->left);
		break;
	case JOB_WARMUP:
		/* Read the whole body into the cache; the loop sends it. */
		for (off = 0; off < (off_t)set.file_size; ) {
			n = sendfile(s->devnull, file, &off, set.file_size - (uint64_t)off);
			if (n <= 0)
				break;
		}
		n = n < 0 ? -1 : 0;
		break;
	case JOB_ZCSEND:
		memset(&z, 0, sizeof(z));
		z.size = sizeof(z);
		z.file_fd = file;
		z.sock_fd = c->fd;
		z.offset = c->off;
		z.length = c->left;
		n = ioctl(s->zdev, ZCSEND_IOC_SENDFILE, &z) < 0 ? -1 : (ssize_t)z.sent;
		break;
	}
	c->err = n < 0 ? errno : 0;
	c->ret = n;
}

static void *worker(void *arg)
{
	struct srv *s = arg;
	uint64_t one = 1;
	struct conn *c;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		while (!s->todo && !s->quit)
			pthread_cond_wait(&s->cond, &s->lock);
		c = s->todo;
		if (!c)
			break;
		s->todo = c->next;
		if (!s->todo)
			s->todo_tail = &s->todo;
		pthread_mutex_unlock(&s->lock);
		do_job(s, c);
		pthread_mutex_lock(&s->lock);
		c->next = s->done;
		s->done = c;
		pthread_mutex_unlock(&s->lock);
		if (write(s->efd, &one, sizeof(one)) != sizeof(one))
			fail(s, "eventfd write", errno);
		pthread_mutex_lock(&s->lock);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

static void account(struct srv *s, struct conn *c, ssize_t n)
{
	c->off += (uint64_t)n;
	c->left -= (uint64_t)n;
	s->sent += (uint64_t)n;
}

static void request_done(struct srv *s, struct conn *c)
{
	c->state = CS_IDLE;
	c->req_len = 0;
	set_interest(s, c, EPOLLIN);
}

/* Send what the socket takes, the mode's way, until the body is out, the
 * socket is full (wait for EPOLLOUT) or the pool has it. */
static void progress(struct srv *s, struct conn *c)
{
	struct zcsend_file z;
	off_t off;
	ssize_t n;

	while (c->left) {
		switch (s->mode) {
		case SM_POOL:
			submit(s, c, JOB_SENDFILE);
			return;
		case SM_NOWAIT:
			memset(&z, 0, sizeof(z));
			z.size = sizeof(z);
			z.flags = ZCSEND_F_NOWAIT;
			z.file_fd = set.fd[c->file];
			z.sock_fd = c->fd;
			z.offset = c->off;
			z.length = c->left;
			n = ioctl(s->zdev, ZCSEND_IOC_SENDFILE, &z) < 0 ? -1 : (ssize_t)z.sent;
			if (n < 0 && errno == EBUSY) {
				submit(s, c, JOB_ZCSEND);
				return;
			}
			break;
		default:
			off = (off_t)c->off;
			n = sendfile(c->fd, set.fd[c->file], &off, c->left);
			break;
		}
		if (n < 0 && errno == EAGAIN) {
			set_interest(s, c, EPOLLOUT);
			return;
		}
		if (n <= 0) {
			fail(s, s->mode == SM_NOWAIT ? "ZCSEND_IOC_SENDFILE" : "sendfile",
			     n < 0 ? errno : EIO);
			return;
		}
		account(s, c, n);
	}
	request_done(s, c);
}

/* A pool thread finished the connection's job. */
static void job_done(struct srv *s, struct conn *c)
{
	s->inpool--;
	c->state = CS_SENDING;
	if (c->ret < 0 && c->err != EAGAIN) {
		fail(s, c->kind == JOB_ZCSEND ? "ZCSEND_IOC_SENDFILE (pool)" :
			c->kind == JOB_WARMUP ? "sendfile to /dev/null" : "sendfile (pool)",
		     c->err);
		return;
	}
	if (c->kind == JOB_WARMUP) {
		progress(s, c);
		return;
	}
	if (c->ret > 0)
		account(s, c, c->ret);
	if (!c->left)
		request_done(s, c);
	else	/* short or EAGAIN: the socket is full, as a rule */
		set_interest(s, c, EPOLLOUT);
}

static void take_done(struct srv *s)
{
	struct conn *c, *next;
	uint64_t v;

	if (read(s->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		fail(s, "eventfd read", errno);
	pthread_mutex_lock(&s->lock);
	c = s->done;
	s->done = NULL;
	pthread_mutex_unlock(&s->lock);
	for (; c; c = next) {
		next = c->next;
		job_done(s, c);
	}
}

/* A request (a 4-byte file index) arrives. */
static void readable(struct srv *s, struct conn *c)
{
	ssize_t n = recv(c->fd, c->req + c->req_len, sizeof(c->req) - (size_t)c->req_len, 0);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		fail(s, "server recv", n < 0 ? errno : ECONNRESET);
		return;
	}
	c->req_len += (int)n;
	if (c->req_len < (int)sizeof(c->req))
		return;
	memcpy(&c->file, c->req, sizeof(c->file));
	if (c->file >= set.n) {
		fail(s, "bad request", EPROTO);
		return;
	}
	c->off = 0;
	c->left = set.file_size;
	c->state = CS_SENDING;
	if (s->mode == SM_WARMUP)
		submit(s, c, JOB_WARMUP);
	else
		progress(s, c);
}

static void *event_loop(void *arg)
{
	struct epoll_event ev[64];
	struct srv *s = arg;
	uint64_t v;
	int i, n;

	/*
	 * Stop once the client is done and every job is back: a pool
	 * thread's last bytes may reach the client before their count
	 * reaches the loop.
	 */
	while (!failed(s) && !(s->stopping && !s->inpool)) {
		n = epoll_wait(s->ep, ev, 64, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fail(s, "epoll_wait", errno);
			break;
		}
		for (i = 0; i < n && !failed(s); i++) {
			struct conn *c = ev[i].data.ptr;

			if (ev[i].data.ptr == &s->efd)
				take_done(s);
			else if (ev[i].data.ptr == &s->stopfd)
				s->stopping = read(s->stopfd, &v, sizeof(v)) == sizeof(v);
			else if (c->state == CS_IDLE && (ev[i].events & EPOLLIN))
				readable(s, c);
			else if (c->state == CS_SENDING && ev[i].events)
				progress(s, c);
		}
	}
	return NULL;
}

/* ---- the client ---- */

static uint64_t rnd(struct srv *s)
{
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return s->rng * 2685821657736338717ULL;
}

static void issue(struct srv *s, struct cconn *cc)
{
	uint32_t file;
	ssize_t n;

	cc->hot = set.hot == set.n || rnd(s) % 100 < s->o->hot_share;
	file = (uint32_t)(cc->hot ? rnd(s) % set.hot : set.hot + rnd(s) % (set.n - set.hot));
	cc->left = set.file_size;
	cc->t0 = bench_now();
	n = send(cc->fd, &file, sizeof(file), 0);
	if (n != sizeof(file))
		fail(s, "client send", n < 0 ? errno : EIO);
}

static int push(double **v, size_t *n, size_t *cap, double x)
{
	double *p;

	if (*n == *cap) {
		p = realloc(*v, (*cap ? *cap * 2 : 4096) * sizeof(**v));
		if (!p)
			return -1;
		*v = p;
		*cap = *cap ? *cap * 2 : 4096;
	}
	(*v)[(*n)++] = x;
	return 0;
}

/* A body read to its end: timed, and the next request unless time is up. */
static int answered(struct srv *s, struct cconn *cc, double deadline)
{
	double t = bench_now();
	int err;

	s->t_end = t;
	s->requests++;
	s->hot_requests += (uint64_t)cc->hot;
	err = cc->hot ? push(&s->hot_ms, &s->nhot, &s->cap_hot, (t - cc->t0) * 1e3) :
			push(&s->cold_ms, &s->ncold, &s->cap_cold, (t - cc->t0) * 1e3);
	if (err)
		fail(s, "client", ENOMEM);
	if (t >= deadline || bench_stop_signal)
		return 0;
	issue(s, cc);
	return 1;
}

static void *client(void *arg)
{
	static char sink[256 << 10];	/* MSG_TRUNC on TCP: never written */
	struct epoll_event ev[64];
	struct srv *s = arg;
	unsigned long i, inflight = s->o->connections;
	double deadline;
	int k, n;

	getrusage(RUSAGE_THREAD, &s->cl_ru0);
	s->t_start = bench_now();
	s->t_end = s->t_start;
	deadline = s->t_start + (double)s->o->duration;
	for (i = 0; i < s->o->connections; i++)
		issue(s, &s->cc[i]);
	while (inflight && !failed(s)) {
		/* A body that never completes is a failure, not a hang. */
		if (bench_now() > deadline + 10.0 * (double)(s->o->duration + 1))
			fail(s, "requests in flight did not complete", ETIMEDOUT);
		n = epoll_wait(s->cep, ev, 64, 100);
		if (n < 0 && errno != EINTR)
			fail(s, "client epoll_wait", errno);
		for (k = 0; k < n && !failed(s); k++) {
			struct cconn *cc = ev[k].data.ptr;
			ssize_t r = 1;

			while (cc->left && r > 0) {
				r = recv(cc->fd, sink, cc->left < sizeof(sink) ? cc->left : sizeof(sink),
					 MSG_TRUNC | MSG_DONTWAIT);
				if (r > 0) {
					s->received += (uint64_t)r;
					cc->left -= (uint64_t)r;
				}
				if (!cc->left && !answered(s, cc, deadline))
					inflight--;
			}
			if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
				fail(s, "client recv", r < 0 ? errno : ECONNRESET);
		}
	}
	getrusage(RUSAGE_THREAD, &s->cl_ru1);
	return NULL;
}

/* ---- one run of one mode ---- */

static int add_fd(int ep, int fd, uint32_t events, void *ptr)
{
	struct epoll_event ev = { .events = events, .data.ptr = ptr };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

/* Loopback connections: conn[i] the server's end, cc[i] the client's. */
static int connect_all(struct srv *s)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int l, one = 1, err = 0;
	unsigned long i;

	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(l, (struct sockaddr *)&a, &alen) || listen(l, SRV_MAX_CONN)) {
		perror("zcsend bench: server listen");
		if (l >= 0)
			close(l);
		return -1;
	}
	for (i = 0; i < s->o->connections && !err; i++) {
		s->cc[i].fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		err = s->cc[i].fd < 0 ||
		      connect(s->cc[i].fd, (struct sockaddr *)&a, sizeof(a)) ||
		      (s->conn[i].fd = accept4(l, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) < 0 ||
		      fcntl(s->cc[i].fd, F_SETFL, O_NONBLOCK) ||
		      setsockopt(s->cc[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ||
		      add_fd(s->cep, s->cc[i].fd, EPOLLIN, &s->cc[i]) ||
		      add_fd(s->ep, s->conn[i].fd, EPOLLIN, &s->conn[i]);
		s->conn[i].events = EPOLLIN;
	}
	if (err)
		perror("zcsend bench: loopback connection");
	close(l);
	return err ? -1 : 0;
}

static void srv_free(struct srv *s)
{
	unsigned long i;

	for (i = 0; i < SRV_MAX_CONN; i++) {
		if (s->conn[i].fd > 0)
			close(s->conn[i].fd);
		if (s->cc[i].fd > 0)
			close(s->cc[i].fd);
	}
	if (s->ep >= 0)
		close(s->ep);
	if (s->cep >= 0)
		close(s->cep);
	if (s->efd >= 0)
		close(s->efd);
	if (s->stopfd >= 0)
		close(s->stopfd);
	free(s->hot_ms);
	free(s->cold_ms);
}

static double percentile(double *v, size_t n, double p)
{
	size_t k;

	if (!n)
		return 0;
	k = (size_t)ceil(p * (double)n);
	return v[k ? k - 1 : 0];
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void summarize(struct srv *s, const struct rusage *ru0,
		      const struct rusage *ru1, struct srv_run *r)
{
	double gib;

	r->requests = s->requests;
	r->hot_requests = s->hot_requests;
	r->bytes = s->received;
	r->handoffs = s->handoffs;
	r->secs = s->t_end - s->t_start;
	r->usr_s = ru_usr(ru1) - ru_usr(ru0) - (ru_usr(&s->cl_ru1) - ru_usr(&s->cl_ru0));
	r->sys_s = ru_sys(ru1) - ru_sys(ru0) - (ru_sys(&s->cl_ru1) - ru_sys(&s->cl_ru0));
	r->cpu_s = r->usr_s + r->sys_s;
	r->vcs = ru1->ru_nvcsw - ru0->ru_nvcsw - (s->cl_ru1.ru_nvcsw - s->cl_ru0.ru_nvcsw);
	gib = (double)r->bytes / (double)(1 << 30);
	r->mbps = r->secs > 0 ? (double)r->bytes / r->secs / 1e6 : 0;
	r->rps = r->secs > 0 ? (double)r->requests / r->secs : 0;
	r->cpu_per_gib = gib > 0 ? r->cpu_s / gib : 0;
	qsort(s->hot_ms, s->nhot, sizeof(double), cmp_double);
	qsort(s->cold_ms, s->ncold, sizeof(double), cmp_double);
	r->p50 = percentile(s->hot_ms, s->nhot, 0.5);
	r->p99 = percentile(s->hot_ms, s->nhot, 0.99);
	r->p999 = percentile(s->hot_ms, s->nhot, 0.999);
	r->cold_p50 = percentile(s->cold_ms, s->ncold, 0.5);
	r->ok = r->requests > 0 && s->sent == s->received;
}

/* All CPUs' busy and total time from /proc/stat, in ticks. */
static void cpu_ticks(double *busy, double *total)
{
	unsigned long long v[8] = { 0 };
	FILE *f = fopen("/proc/stat", "r");
	int i;

	*busy = *total = 0;
	if (!f)
		return;
	if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
		   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) == 8) {
		for (i = 0; i < 8; i++)
			*total += (double)v[i];
		*busy = *total - (double)v[3] - (double)v[4];
	}
	fclose(f);
}

/* The hot set read in, untimed (sendfile to /dev/null): 0, or -1. */
static int warm_hot(int devnull)
{
	unsigned long i;
	off_t off;
	ssize_t n;

	for (i = 0; i < set.hot; i++)
		for (off = 0, n = 1; off < (off_t)set.file_size && n > 0; )
			n = sendfile(devnull, set.fd[i], &off, set.file_size - (uint64_t)off);
	return 0;
}

/* The same cold cache for every mode: 0, or -1 (printed). */
static int drop_cache(void)
{
	unsigned long i;
	int fd;

	for (i = 0; i < set.n; i++)
		if (posix_fadvise(set.fd[i], 0, 0, POSIX_FADV_DONTNEED)) {
			perror("zcsend bench: posix_fadvise");
			return -1;
		}
	if (geteuid() == 0) {
		fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "1\n", 2) != 2)
			perror("zcsend bench: drop_caches");
		if (fd >= 0)
			close(fd);
	}
	return 0;
}

/* Start the threads, wait for the client, stop the rest. */
static void run_threads(struct srv *s)
{
	unsigned long i, nw = s->mode == SM_SENDFILE ? 0 : s->o->threads;
	pthread_t loop, cl;
	uint64_t one = 1;

	for (i = 0; i < nw; i++)
		if (pthread_create(&s->workers[i], NULL, worker, s)) {
			fail(s, "pthread_create", EAGAIN);
			nw = i;
			break;
		}
	if (!failed(s) && pthread_create(&loop, NULL, event_loop, s) == 0) {
		if (pthread_create(&cl, NULL, client, s) == 0)
			pthread_join(cl, NULL);
		else
			fail(s, "pthread_create", EAGAIN);
		if (write(s->stopfd, &one, sizeof(one)) != sizeof(one))
			fail(s, "eventfd write", errno);
		pthread_join(loop, NULL);
	}
	pthread_mutex_lock(&s->lock);
	s->quit = 1;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	for (i = 0; i < nw; i++)
		pthread_join(s->workers[i], NULL);
}

static int run_mode(const struct srv_opts *o, enum srv_mode m, int run,
		    int zdev, int devnull, struct srv_run *r, char *err, size_t errlen)
{
	double busy0, total0, busy1, total1;
	struct rusage ru0, ru1;
	struct srv *s = calloc(1, sizeof(*s));
	int st = -1;

	memset(r, 0, sizeof(*r));
	if (!s)
		return -1;
	s->o = o;
	s->mode = m;
	s->zdev = zdev;
	s->devnull = devnull;
	s->rng = 0x9e3779b97f4a7c15ULL * (uint64_t)(run + 1);
	s->todo_tail = &s->todo;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	s->cep = epoll_create1(EPOLL_CLOEXEC);
	s->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->ep < 0 || s->cep < 0 || s->efd < 0 || s->stopfd < 0 ||
	    add_fd(s->ep, s->efd, EPOLLIN, &s->efd) ||
	    add_fd(s->ep, s->stopfd, EPOLLIN, &s->stopfd)) {
		perror("zcsend bench: epoll/eventfd");
		goto out;
	}
	if (connect_all(s) || drop_cache() || (!o->cold_hot && warm_hot(devnull)))
		goto out;
	cpu_ticks(&busy0, &total0);
	getrusage(RUSAGE_SELF, &ru0);
	run_threads(s);
	getrusage(RUSAGE_SELF, &ru1);
	cpu_ticks(&busy1, &total1);
	if (failed(s)) {
		snprintf(err, errlen, "%s", s->err);
		st = 1;
		goto out;
	}
	summarize(s, &ru0, &ru1, r);
	r->guest_busy = total1 > total0 ? 100 * (busy1 - busy0) / (total1 - total0) : 0;
	if (!r->ok)
		snprintf(err, errlen, "sent %" PRIu64 " bytes, received %" PRIu64,
			 s->sent, s->received);
	st = r->ok ? 0 : 1;
out:
	srv_free(s);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	free(s);
	return st;
}

/* ---- the file set ---- */

static uint64_t meminfo(const char *key)
{
	char line[256];
	unsigned long long kb = 0;
	size_t klen = strlen(key);
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, key, klen) == 0 && line[klen] == ':')
			sscanf(line + klen + 1, "%llu", &kb);
	if (f)
		fclose(f);
	return (uint64_t)kb << 10;
}

/* Enough open files for the set and the sockets (up to the hard limit). */
static int fit_open_files(unsigned long files, unsigned long conns)
{
	rlim_t need = (rlim_t)files + 2 * (rlim_t)conns + 64;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= need)
		return 0;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
		fprintf(stderr, "zcsend bench: %lu files and %lu connections need %llu open files, the hard limit is %llu (ulimit -Hn)\n",
			files, conns, (unsigned long long)need, (unsigned long long)rl.rlim_max);
		return -1;
	}
	rl.rlim_cur = need;
	if (setrlimit(RLIMIT_NOFILE, &rl)) {
		perror("zcsend bench: setrlimit RLIMIT_NOFILE");
		return -1;
	}
	return 0;
}

static void set_free(void)
{
	unsigned long i;

	for (i = 0; set.fd && i < set.n; i++)
		if (set.fd[i] >= 0)
			close(set.fd[i]);
	free(set.fd);
	set.fd = NULL;
	if (set.dir[0])
		run_cmd("rm -rf '%s'", set.dir);
	set.dir[0] = 0;
}

/*
 * The files, of random bytes, written and synced (so that dropping their
 * pages leaves none). The default size: 90% of the file system's free
 * space, at most twice MemTotal. 0, or -1 (printed).
 */
static int make_set(struct srv_opts *o)
{
	uint64_t size = o->set_size, chunk = 1 << 20, left, x = 88172645463325252ULL;
	struct statvfs sv;
	unsigned long i, k;
	char path[PATH_MAX + 32];
	uint64_t *buf;
	ssize_t n;

	if ((size_t)snprintf(set.dir, sizeof(set.dir), "%s/zcsend-bench.server.XXXXXX",
			     o->dir) >= sizeof(set.dir) || !mkdtemp(set.dir)) {
		perror("zcsend bench: mkdtemp");
		set.dir[0] = 0;
		return -1;
	}
	if (!size) {
		if (statvfs(set.dir, &sv)) {
			perror("zcsend bench: statvfs");
			return -1;
		}
		size = (uint64_t)sv.f_bavail * sv.f_frsize / 10 * 9;
		if (size > 2 * meminfo("MemTotal"))
			size = 2 * meminfo("MemTotal");
	}
	set.file_size = o->file_size;
	set.n = (unsigned long)(size / o->file_size);
	set.hot = set.n * o->hot_pct / 100;
	set.hot = set.hot ? set.hot : 1;
	o->set_size = (uint64_t)set.n * o->file_size;
	if (set.n < 2 || set.n > UINT32_MAX) {
		fprintf(stderr, "zcsend bench: a set of %" PRIu64 " bytes holds %lu files of %" PRIu64 " bytes: need 2 or more\n",
			size, set.n, o->file_size);
		return -1;
	}
	if (fit_open_files(set.n, o->connections))
		return -1;
	set.fd = malloc(set.n * sizeof(*set.fd));
	buf = malloc(chunk);
	if (!set.fd || !buf) {
		free(buf);
		return -1;
	}
	for (k = 0; k < chunk / sizeof(*buf); k++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[k] = x;
	}
	for (i = 0; i < set.n; i++)
		set.fd[i] = -1;
	for (i = 0; i < set.n; i++) {
		snprintf(path, sizeof(path), "%s/%lu", set.dir, i);
		set.fd[i] = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		for (left = o->file_size, n = 0; set.fd[i] >= 0 && left; left -= (uint64_t)n) {
			/* a different start in the buffer for each file */
			n = pwrite(set.fd[i], (char *)buf + (i * 4096 + o->file_size - left) % (chunk / 2),
				   left < chunk / 2 ? left : chunk / 2, (off_t)(o->file_size - left));
			if (n <= 0)
				break;
		}
		if (set.fd[i] < 0 || left) {
			fprintf(stderr, "zcsend bench: writing %s: %s\n", path, strerror(errno));
			free(buf);
			return -1;
		}
	}
	free(buf);
	if (syncfs(set.fd[0])) {
		perror("zcsend bench: syncfs");
		return -1;
	}
	if (drop_cache())
		return -1;
	set.avail_after_drop = meminfo("MemAvailable");
	return 0;
}

/* ---- the report ---- */

static struct srv_opts opts = {
	.file_size = 256 << 10, .hot_pct = 5, .hot_share = 90, .connections = 64,
	.threads = 8, .duration = 5,
};
static struct srv_run *res;	/* [mode][run] */
static char unavail[SM_COUNT][160], failure[SM_COUNT][200];

#define RES(m, i)	res[(size_t)(m) * (size_t)opts.runs + (size_t)(i)]

static double median(int m, size_t field, int nruns)
{
	double v[MAX_RUNS];
	int i, k = 0;

	for (i = 0; i < nruns; i++)
		if (RES(m, i).ok)
			v[k++] = *(const double *)((const char *)&RES(m, i) + field);
	return spread_of(v, (size_t)k).median;
}

#define MED(m, f)	median(m, offsetof(struct srv_run, f), nruns)

static int usable(int m, int nruns)
{
	return !unavail[m][0] && !failure[m][0] && nruns > 0;
}

static double ratio(double a, double b)
{
	return b > 0 ? a / b : 0;
}

static double med_handoffs(int m, int nruns)
{
	double v[MAX_RUNS];
	int i, k = 0;

	for (i = 0; i < nruns; i++)
		if (RES(m, i).ok && RES(m, i).requests)
			v[k++] = (double)RES(m, i).handoffs / (double)RES(m, i).requests;
	return spread_of(v, (size_t)k).median;
}

static void print_table(int nruns, FILE *f)
{
	char b1[32], b2[32], b3[32], b4[32];
	int m;

	fprintf(f, "\n== server: 1 event loop, %lu connections, %lu files of %s (%s; MemAvailable after a drop %s), %lu%% of requests to %lu files (%s, %s at the start), pool of %lu threads, %lu s per mode, medians of %d runs\n",
		opts.connections, set.n, fmt_bytes(b1, sizeof(b1), (double)opts.file_size),
		fmt_bytes(b2, sizeof(b2), (double)opts.set_size),
		fmt_bytes(b3, sizeof(b3), (double)set.avail_after_drop),
		opts.hot_share, set.hot,
		fmt_bytes(b4, sizeof(b4), (double)set.hot * (double)opts.file_size),
		opts.cold_hot ? "cold" : "cached",
		opts.threads, opts.duration, nruns);
	fprintf(f, "%-9s %8s %8s %9s %8s %8s %9s %8s %8s %7s %7s %7s\n", "method", "MB/s",
		"req/s", "CPU s/GiB", "hot p50", "hot p99", "hot p99.9", "cold p50",
		"handoff", "p99 x", "MB/s x", "CPU x");
	fprintf(f, "%-9s %8s %8s %9s %8s %8s %9s %8s %8s %7s %7s %7s\n", "", "", "", "",
		"ms", "ms", "ms", "ms", "/req", "sendf", "pool", "pool");
	for (m = 0; m < SM_COUNT; m++) {
		if (unavail[m][0]) {
			fprintf(f, "%-9s unavailable: %s\n", mode_names[m], unavail[m]);
			continue;
		}
		if (failure[m][0]) {
			fprintf(f, "%-9s failed: %s\n", mode_names[m], failure[m]);
			continue;
		}
		fprintf(f, "%-9s %8.1f %8.0f %9.2f %8.2f %8.2f %9.2f %8.2f %8.2f %7.3f %7.3f %7.3f\n",
			mode_names[m], MED(m, mbps), MED(m, rps), MED(m, cpu_per_gib),
			MED(m, p50), MED(m, p99), MED(m, p999), MED(m, cold_p50),
			med_handoffs(m, nruns),
			usable(SM_SENDFILE, nruns) ? ratio(MED(m, p99), MED(SM_SENDFILE, p99)) : 0,
			usable(SM_POOL, nruns) ? ratio(MED(m, mbps), MED(SM_POOL, mbps)) : 0,
			usable(SM_POOL, nruns) ? ratio(MED(m, cpu_per_gib), MED(SM_POOL, cpu_per_gib)) : 0);
	}
	fprintf(f, "\nLegend:\n");
	for (m = 0; m < SM_COUNT; m++)
		fprintf(f, "  %-9s %s\n", mode_names[m], mode_desc[m]);
	fprintf(f, "  latency: request sent to last byte read, by the client thread; CPU: the process less the client thread\n");
	if (usable(SM_NOWAIT, nruns) && usable(SM_SENDFILE, nruns) && usable(SM_POOL, nruns)) {
		double p = ratio(MED(SM_NOWAIT, p99), MED(SM_SENDFILE, p99));
		double t = ratio(MED(SM_NOWAIT, mbps), MED(SM_POOL, mbps));
		double c = ratio(MED(SM_NOWAIT, cpu_per_gib), MED(SM_POOL, cpu_per_gib));

		fprintf(f, "targets (issue 22): hot p99 %.3fx sendfile (<= 0.2x: %s); MB/s %.3fx pool (>= 1.0x: %s); CPU s/GiB %.3fx pool (<= 0.8x: %s)\n",
			p, p <= 0.2 ? "met" : "missed", t, t >= 1.0 ? "met" : "missed",
			c, c <= 0.8 ? "met" : "missed");
	}
}

static void print_json(int nruns, int complete, FILE *f)
{
	int m, i;

	fprintf(f, "{\"workload\": \"server\", \"complete\": %s, \"set_size\": %" PRIu64 ", \"file_size\": %" PRIu64 ", \"files\": %lu, \"hot_files\": %lu, \"hot_share_pct\": %lu, \"connections\": %lu, \"threads\": %lu, \"duration_s\": %lu, \"runs\": %d, \"hot_set_cold\": %s, \"mem_available_after_drop\": %" PRIu64 ", \"modes\": [",
		complete ? "true" : "false", opts.set_size, opts.file_size, set.n, set.hot,
		opts.hot_share, opts.connections, opts.threads, opts.duration, nruns,
		opts.cold_hot ? "true" : "false", set.avail_after_drop);
	for (m = 0; m < SM_COUNT; m++) {
		fprintf(f, "%s\n {\"mode\": \"%s\", \"available\": %s, \"reason\": \"%s\", \"error\": \"%s\", \"runs\": [",
			m ? "," : "", mode_names[m], unavail[m][0] ? "false" : "true",
			unavail[m], failure[m]);
		for (i = 0; i < nruns && !unavail[m][0]; i++) {
			const struct srv_run *r = &RES(m, i);

			fprintf(f, "%s{\"ok\": %s, \"requests\": %" PRIu64 ", \"hot_requests\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"handoffs\": %" PRIu64 ", \"seconds\": %.4f, \"server_cpu_s\": %.4f, \"server_usr_s\": %.4f, \"server_sys_s\": %.4f, \"server_ctx_voluntary\": %ld, \"all_cpus_busy_pct\": %.1f, \"mbps\": %.3f, \"rps\": %.2f, \"cpu_s_per_gib\": %.4f, \"hot_p50_ms\": %.4f, \"hot_p99_ms\": %.4f, \"hot_p999_ms\": %.4f, \"cold_p50_ms\": %.4f}",
				i ? ", " : "", r->ok ? "true" : "false", r->requests,
				r->hot_requests, r->bytes, r->handoffs, r->secs, r->cpu_s,
				r->usr_s, r->sys_s, r->vcs, r->guest_busy,
				r->mbps, r->rps, r->cpu_per_gib, r->p50, r->p99, r->p999,
				r->cold_p50);
		}
		fprintf(f, "]}");
	}
	fprintf(f, "\n]}\n");
}

static int write_json(int nruns, int complete)
{
	char tmp[PATH_MAX];
	FILE *f;

	if (!opts.json_file)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp", opts.json_file);
	f = fopen(tmp, "w");
	if (!f) {
		perror(tmp);
		return 1;
	}
	print_json(nruns, complete, f);
	if (fclose(f) || rename(tmp, opts.json_file)) {
		perror(opts.json_file);
		unlink(tmp);
		return 1;
	}
	return 0;
}

/* ---- the options and the runner ---- */

static int set_ulong(const char *arg, unsigned long max, unsigned long *out)
{
	return parse_uint(arg, max, out);
}

static int set_set_size(const char *arg)
{
	return parse_size(arg, &opts.set_size);
}

static int set_file_size(const char *arg)
{
	return parse_size(arg, &opts.file_size) || opts.file_size > (1ULL << 30) ? -1 : 0;
}

static int set_hot(const char *arg)
{
	return set_ulong(arg, 100, &opts.hot_pct);
}

static int set_hot_share(const char *arg)
{
	return set_ulong(arg, 100, &opts.hot_share);
}

static int set_connections(const char *arg)
{
	return set_ulong(arg, SRV_MAX_CONN, &opts.connections);
}

static int set_threads(const char *arg)
{
	return set_ulong(arg, SRV_MAX_THREADS, &opts.threads);
}

static int set_duration(const char *arg)
{
	return set_ulong(arg, 3600, &opts.duration);
}

static int set_cold_hot(const char *arg)
{
	(void)arg;
	opts.cold_hot = 1;
	return 0;
}

static const struct bench_option server_options[] = {
	{ "set-size", "SIZE", "the file set (default 90% of --dir's free space, at most 2x MemTotal)",
	  set_set_size },
	{ "file-size", "SIZE", "each file (default 256K)", set_file_size },
	{ "hot", "PERCENT", "the hot set: the first PERCENT of the files (default 5)", set_hot },
	{ "hot-share", "PERCENT", "requests to the hot set (default 90)", set_hot_share },
	{ "connections", "N", "client connections, one request each in flight (default 64)",
	  set_connections },
	{ "threads", "N", "the pool's threads (default 8)", set_threads },
	{ "duration", "SEC", "per mode per run, then requests in flight complete (default 5)",
	  set_duration },
	{ "cold-hot", NULL, "leave the hot set cold too (default: read in after the drop)",
	  set_cold_hot },
	{ NULL, NULL, NULL, NULL },
};

static int run_server(const struct bench_opts *common)
{
	const struct bench_method *zm = method_by_name("zcsend");
	const char *why = zm && zm->unavailable ? zm->unavailable() : NULL;
	char err[200];
	int m, i, zdev = -1, devnull, st = 0, nruns = 0;

	opts.runs = (int)common->runs;
	opts.json = common->json;
	opts.json_file = common->json_file;
	opts.dir = common->dir;
	if (common->nroutes != 1 || strcmp(common->routes[0]->name, "loopback")) {
		fprintf(stderr, "zcsend bench: --workload server runs on loopback only\n");
		return EXIT_USAGE;
	}
	if (!zm)
		why = "no zcsend method";
	if (why)
		snprintf(unavail[SM_NOWAIT], sizeof(unavail[SM_NOWAIT]), "%s", why);
	else
		zdev = open(ZCSEND_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	res = calloc((size_t)SM_COUNT * (size_t)opts.runs, sizeof(*res));
	if (devnull < 0 || !res || (!why && zdev < 0)) {
		perror("zcsend bench: server");
		st = 1;
		goto out;
	}
	fprintf(stderr, "zcsend bench: server: writing the file set in %s\n", opts.dir);
	if (make_set(&opts)) {
		st = 1;
		goto out;
	}
	for (i = 0; i < opts.runs && !bench_stop_signal; i++) {
		for (m = 0; m < SM_COUNT && !bench_stop_signal; m++) {
			struct srv_run *r = &RES(m, i);

			if (unavail[m][0] || failure[m][0])
				continue;
			err[0] = 0;
			if (run_mode(&opts, m, i, zdev, devnull, r, err, sizeof(err)) < 0) {
				st = 1;
				goto report;
			}
			if (err[0]) {
				snprintf(failure[m], sizeof(failure[m]), "run %d: %s", i + 1, err);
				fprintf(stderr, "server %-8s run %d failed: %s\n", mode_names[m], i + 1, err);
				st = 1;
				continue;
			}
			fprintf(stderr, "server %-8s run %d: %.1f MB/s, %.0f req/s, %.2f CPU s/GiB (usr %.2f s, sys %.2f s in %.2f s), hot p50 %.2f p99 %.2f p99.9 %.2f ms, %" PRIu64 " hand-offs, %ld cs, CPUs %.0f%% busy\n",
				mode_names[m], i + 1, r->mbps, r->rps, r->cpu_per_gib,
				r->usr_s, r->sys_s, r->secs, r->p50, r->p99, r->p999,
				r->handoffs, r->vcs, r->guest_busy);
		}
		nruns = i + 1;
		write_json(nruns, 0);
	}
report:
	if (opts.json && !opts.json_file)
		print_json(nruns, nruns == opts.runs, stdout);
	else
		print_table(nruns, stdout);
	st |= write_json(nruns, nruns == opts.runs);
out:
	set_free();
	if (zdev >= 0)
		close(zdev);
	if (devnull >= 0)
		close(devnull);
	free(res);
	return st || bench_stop_signal ? 1 : 0;
}

const struct bench_workload workload_server = {
	.name = "server",
	.help = "an epoll server on a slow disk: sendfile inline, in a pool, warm-up, zcsend NOWAIT",
	.options = server_options, .runs = 5, .routes = "loopback",
	.run = run_server,
};
