// SPDX-License-Identifier: GPL-2.0
/*
 * zcsend bench --workload stream: a catalogue larger than the page cache
 * streamed once past a hot set that is served again and again (issue 24,
 * item 4). A workload with a runner of its own (workload.h); loopback, or
 * one other --route (nic: through a NIC driver, which does not copy).
 *
 * Files in --dir: the catalogue (one file of --catalogue bytes) and the hot
 * set (--hot-set bytes in files of --hot-file). One connection; a receiver
 * thread reads everything (recv MSG_TRUNC), at most --rx-rate bytes a
 * second if given (a slow peer: the sender's queue stays full, so pages
 * are still in flight when sendfile(2) returns), from the route's
 * receiving namespace (its listener is made there). The sender streams the
 * catalogue in --chunk responses and, after each, sends --hot-every hot
 * files (round robin) with sendfile(2). Before each hot response it counts
 * the hot file's pages resident in the page cache with mincore(2): the hot
 * hit ratio is resident pages / pages over all hot responses ("hit"); the
 * share of hot responses that found every page cached is "full". The
 * catalogue responses go out one of three ways:
 *   sendfile  sendfile(2);
 *   fadvise   sendfile(2), then posix_fadvise(POSIX_FADV_DONTNEED) on the
 *             response's range (what servers do today);
 *   drop      ZCSEND_IOC_SENDFILE with ZCSEND_F_DROP.
 * Each mode starts from the same state: the catalogue dropped (and the
 * whole page cache by drop_caches when root), the hot set read in. Per run:
 * MB/s (all bytes over the time to the receiver's last byte), CPU seconds
 * per GiB (the whole process, both ends, by getrusage; the module's drop
 * work runs in a kernel worker and is not in it), the hit ratios.
 *
 * A second, separate case: the cost of release notifications. The same
 * cached file, --bulk (one call each) and --small (one call each), sent
 * --notify-bytes at a time with ZCSEND_IOC_SENDFILE, plain and with
 * ZCSEND_F_NOTIFY (the error queue read as it fills, the time taken to the
 * last notification). MB/s of each and their ratio.
 *
 * Medians over --runs. Timing is reported, never asserted; a run fails only
 * when bytes sent and received differ or a call fails.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/errqueue.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/zcsend.h>

#include "methods.h"
#include "routes.h"
#include "util.h"
#include "workload.h"

/* --part: the stream case, the notification case, or both (default). */
enum { PART_BOTH, PART_STREAM, PART_NOTIFY };

enum st_mode { ST_SENDFILE, ST_FADVISE, ST_DROP, ST_COUNT };
static const char *const mode_names[ST_COUNT] = { "sendfile", "fadvise", "drop" };
static const char *const mode_desc[ST_COUNT] = {
	"catalogue by sendfile(2)",
	"catalogue by sendfile(2), then POSIX_FADV_DONTNEED on each response's range",
	"catalogue by ZCSEND_IOC_SENDFILE + ZCSEND_F_DROP",
};

/* The notification case: two objects, two ways. */
enum { NC_BULK, NC_SMALL, NC_COUNT };
static const char *const nc_names[NC_COUNT] = { "bulk", "small" };

static struct {
	uint64_t catalogue, chunk, hot_set, hot_file, bulk, small, notify_bytes;
	uint64_t rx_rate, rx_buf;	/* 0: as fast as it can; the default */
	int part;			/* PART_*: which cases run */
	unsigned long hot_every;
	int runs, json;
	const char *json_file, *dir;
} opts = {
	.catalogue = 512ULL << 20, .chunk = 1ULL << 20, .hot_set = 16ULL << 20,
	.hot_file = 256ULL << 10, .bulk = 64ULL << 20, .small = 16ULL << 10,
	.notify_bytes = 256ULL << 20, .hot_every = 4,
};

struct st_run {
	int ok;
	uint64_t bytes, hot_pages, hot_hit, hot_reqs, hot_full;
	double secs, cpu_s, mbps, cpu_per_gib, hit, full;
	double cat_left;	/* catalogue pages still cached at the end */
};

struct nc_run {
	int ok;
	double mbps[2];	/* plain, notify */
	uint64_t calls, notified, copied, waits;
};

static struct st_run *res;	/* [mode][run] */
static struct nc_run *nres;	/* [case][run] */
#define RES(m, i)	res[(size_t)(m) * (size_t)opts.runs + (size_t)(i)]
#define NRES(c, i)	nres[(size_t)(c) * (size_t)opts.runs + (size_t)(i)]
static char unavail[160], failure[ST_COUNT][200], nfailure[200];

static int cat_fd = -1, bulk_fd = -1, small_fd = -1, zdev = -1, devnull = -1;
static int *hot_fd;
static void **hot_map;
static unsigned long nhot;
static struct route route;	/* set up once, for every connection */


static double ru_cpu(const struct rusage *ru)
{
	return (double)ru->ru_utime.tv_sec + (double)ru->ru_utime.tv_usec * 1e-6 +
	       (double)ru->ru_stime.tv_sec + (double)ru->ru_stime.tv_usec * 1e-6;
}

/* ---- files ---- */

static int make_file(const char *name, uint64_t size)
{
	char path[PATH_MAX], buf[1 << 16];
	uint64_t off;
	size_t i;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", opts.dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		perror(path);
		return -1;
	}
	unlink(path);	/* nothing left behind; the open file serves */
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 7 + size);
	for (off = 0; off < size; off += sizeof(buf)) {
		size_t n = size - off < sizeof(buf) ? size - off : sizeof(buf);

		if (pwrite(fd, buf, n, (off_t)off) != (ssize_t)n) {
			perror(path);
			close(fd);
			return -1;
		}
	}
	if (fsync(fd) || posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)) {
		perror(path);
		close(fd);
		return -1;
	}
	return fd;
}

static int make_files(void)
{
	char name[64];
	unsigned long i;

	if (opts.part == PART_NOTIFY) {
		bulk_fd = make_file("stream-bulk", opts.bulk);
		small_fd = make_file("stream-small", opts.small);
		return bulk_fd < 0 || small_fd < 0 ? -1 : 0;
	}
	nhot = opts.hot_set / opts.hot_file;
	hot_fd = calloc(nhot, sizeof(*hot_fd));
	hot_map = calloc(nhot, sizeof(*hot_map));
	if (!hot_fd || !hot_map)
		return -1;
	for (i = 0; i < nhot; i++) {
		snprintf(name, sizeof(name), "stream-hot-%lu", i);
		hot_fd[i] = make_file(name, opts.hot_file);
		if (hot_fd[i] < 0)
			return -1;
		hot_map[i] = mmap(NULL, opts.hot_file, PROT_READ, MAP_SHARED, hot_fd[i], 0);
		if (hot_map[i] == MAP_FAILED) {
			hot_map[i] = NULL;
			perror("zcsend bench: stream: mmap");
			return -1;
		}
	}
	cat_fd = make_file("stream-catalogue", opts.catalogue);
	if (cat_fd < 0 || opts.part == PART_STREAM)
		return cat_fd < 0 ? -1 : 0;
	bulk_fd = make_file("stream-bulk", opts.bulk);
	small_fd = make_file("stream-small", opts.small);
	return bulk_fd < 0 || small_fd < 0 ? -1 : 0;
}

static void free_files(void)
{
	unsigned long i;

	for (i = 0; hot_fd && i < nhot; i++) {
		if (hot_map[i])
			munmap(hot_map[i], opts.hot_file);
		if (hot_fd[i] > 0)
			close(hot_fd[i]);
	}
	free(hot_fd);
	free(hot_map);
	if (cat_fd >= 0)
		close(cat_fd);
	if (bulk_fd >= 0)
		close(bulk_fd);
	if (small_fd >= 0)
		close(small_fd);
}

/* Read a file into the page cache, untimed. */
static void warm(int fd, uint64_t size)
{
	off_t off = 0;

	while (off < (off_t)size && sendfile(devnull, fd, &off, size - (uint64_t)off) > 0)
		;
}

/* Pages of hot file i resident now; *pages its pages. */
static uint64_t resident(unsigned long i, uint64_t *pages)
{
	long psz = sysconf(_SC_PAGESIZE);
	unsigned char vec[4096];
	uint64_t n = (opts.hot_file + (uint64_t)psz - 1) / (uint64_t)psz, r = 0, j;

	*pages = n;
	if (n > sizeof(vec) || mincore(hot_map[i], opts.hot_file, vec))
		return 0;
	for (j = 0; j < n; j++)
		r += vec[j] & 1;
	return r;
}

/*
 * The share of the catalogue's pages resident (mincore) once the last byte
 * was received: what neither eviction nor the mode's dropping took.
 */
static double cat_resident(void)
{
	long psz = sysconf(_SC_PAGESIZE);
	uint64_t n = (opts.catalogue + (uint64_t)psz - 1) / (uint64_t)psz, r = 0, j;
	unsigned char *vec = malloc(n);
	void *map;

	map = mmap(NULL, opts.catalogue, PROT_READ, MAP_SHARED, cat_fd, 0);
	if (vec && map != MAP_FAILED && !mincore(map, opts.catalogue, vec))
		for (j = 0; j < n; j++)
			r += vec[j] & 1;
	if (map != MAP_FAILED)
		munmap(map, opts.catalogue);
	free(vec);
	return (double)r / (double)n;
}

/* The same start for every mode. */
static void start_state(void)
{
	unsigned long i;
	int fd;

	posix_fadvise(cat_fd, 0, 0, POSIX_FADV_DONTNEED);
	if (geteuid() == 0) {
		fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "1\n", 2) != 2)
			perror("zcsend bench: drop_caches");
		if (fd >= 0)
			close(fd);
	}
	for (i = 0; i < nhot; i++)
		warm(hot_fd[i], opts.hot_file);
}

/* ---- the connection ---- */

struct rx {
	int fd;
	pthread_t t;
	uint64_t bytes;
};

/* --rx-rate: sleep until @bytes are due since @t0. */
static void rx_pace(double t0, uint64_t bytes)
{
	double wait = t0 + (double)bytes / (double)opts.rx_rate - bench_now();
	struct timespec ts;

	if (wait <= 0)
		return;
	ts.tv_sec = (time_t)wait;
	ts.tv_nsec = (long)((wait - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void *receiver(void *arg)
{
	static __thread char buf[1 << 16];
	struct rx *r = arg;
	double t0 = bench_now();
	size_t len = sizeof(buf);
	ssize_t n;

	/* Paced: reads of a hundredth of a second's worth at most. */
	if (opts.rx_rate && opts.rx_rate / 100 < len)
		len = opts.rx_rate / 100 ? opts.rx_rate / 100 : 1;
	for (;;) {
		n = recv(r->fd, buf, len, MSG_TRUNC);
		if (n > 0)
			r->bytes += (uint64_t)n;
		else if (n == 0 || errno != EINTR)
			break;
		if (opts.rx_rate)
			rx_pace(t0, r->bytes);
	}
	return NULL;
}

/*
 * A listener on the route's receiving address, made in its receiving
 * namespace (a socket stays in the namespace it was made in; setns()
 * changes only this thread's): the fd, or -1.
 */
static int rx_listen(struct sockaddr_in *a, socklen_t *al)
{
	int here = -1, there = -1, l = -1, rcvbuf = (int)opts.rx_buf;
	char path[64];

	if (route.ns_recv[0]) {
		snprintf(path, sizeof(path), "/run/netns/%s", route.ns_recv);
		here = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		there = open(path, O_RDONLY | O_CLOEXEC);
		if (here < 0 || there < 0 || setns(there, CLONE_NEWNET))
			goto out;
	}
	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (here >= 0 && setns(here, CLONE_NEWNET)) {
		perror("zcsend bench: stream: setns back");
		exit(1);	/* the sender must not run in the peer's */
	}
	/* SO_RCVBUF before listen(): the window scale is chosen then. */
	if (l >= 0 && ((rcvbuf && setsockopt(l, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
					      sizeof(rcvbuf))) ||
		       inet_pton(AF_INET, route.addr, &a->sin_addr) != 1 ||
		       bind(l, (struct sockaddr *)a, sizeof(*a)) || listen(l, 1) ||
		       getsockname(l, (struct sockaddr *)a, al))) {
		close(l);
		l = -1;
	}
out:
	if (here >= 0)
		close(here);
	if (there >= 0)
		close(there);
	return l;
}

/* A connection over the route: the sending end, or -1 (printed). */
static int connect_rx(struct rx *r)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof(a);
	int l, s = -1;

	r->fd = -1;
	r->bytes = 0;
	l = rx_listen(&a, &al);
	if (l < 0)
		goto fail;
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)))
		goto fail;
	r->fd = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	if (r->fd < 0 || pthread_create(&r->t, NULL, receiver, r))
		goto fail;
	close(l);
	return s;
fail:
	fprintf(stderr, "zcsend bench: stream: connection over %s: %s\n",
		route.def->name, strerror(errno));
	if (r->fd >= 0)
		close(r->fd);
	if (s >= 0)
		close(s);
	if (l >= 0)
		close(l);
	return -1;
}

/* Close the sending end, wait for the receiver: its byte count. */
static uint64_t finish_rx(struct rx *r, int s)
{
	shutdown(s, SHUT_WR);
	pthread_join(r->t, NULL);
	close(r->fd);
	close(s);
	return r->bytes;
}

/* ZCSEND_IOC_SENDFILE until done: 0, or -1 with errno. *calls counts the
 * calls that sent bytes (each takes one notification id). */
static int zc_send(int s, int fd, uint64_t off, uint64_t len, uint32_t flags,
		   uint64_t *calls, int (*full)(int s))
{
	struct zcsend_file z;

	while (len) {
		memset(&z, 0, sizeof(z));
		z.size = sizeof(z);
		z.flags = flags;
		z.file_fd = fd;
		z.sock_fd = s;
		z.offset = off;
		z.length = len;
		if (ioctl(zdev, ZCSEND_IOC_SENDFILE, &z) < 0) {
			if (errno == ENOBUFS && full && !full(s))
				continue;
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (!z.sent) {
			errno = EIO;
			return -1;
		}
		if (calls)
			(*calls)++;
		off += z.sent;
		len -= z.sent;
	}
	return 0;
}

static int sf_send(int s, int fd, uint64_t off, uint64_t len)
{
	off_t o = (off_t)off;
	ssize_t n;

	while (len) {
		n = sendfile(s, fd, &o, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!n)
				errno = EIO;
			return -1;
		}
		len -= (uint64_t)n;
	}
	return 0;
}

/* ---- the stream case ---- */

static int run_mode(enum st_mode m, struct st_run *r, char *err, size_t elen)
{
	uint64_t off, len, pages, hit, sent = 0, got;
	struct rusage ru0, ru1;
	unsigned long h = 0, k;
	struct rx rx;
	double t0;
	int s;

	start_state();
	s = connect_rx(&rx);
	if (s < 0)
		return -1;
	getrusage(RUSAGE_SELF, &ru0);
	t0 = bench_now();
	for (off = 0; off < opts.catalogue && !bench_stop_signal; off += len) {
		len = opts.catalogue - off < opts.chunk ? opts.catalogue - off : opts.chunk;
		if (m == ST_DROP ? zc_send(s, cat_fd, off, len, ZCSEND_F_DROP, NULL, NULL) :
		    sf_send(s, cat_fd, off, len)) {
			snprintf(err, elen, "catalogue at %" PRIu64 ": %s", off, strerror(errno));
			break;
		}
		if (m == ST_FADVISE)
			posix_fadvise(cat_fd, (off_t)off, (off_t)len, POSIX_FADV_DONTNEED);
		sent += len;
		for (k = 0; k < opts.hot_every && nhot; k++, h = (h + 1) % nhot) {
			hit = resident(h, &pages);
			r->hot_hit += hit;
			r->hot_pages += pages;
			r->hot_full += hit == pages;
			r->hot_reqs++;
			if (sf_send(s, hot_fd[h], 0, opts.hot_file)) {
				snprintf(err, elen, "hot file %lu: %s", h, strerror(errno));
				break;
			}
			sent += opts.hot_file;
		}
		if (err[0])
			break;
	}
	got = finish_rx(&rx, s);
	r->secs = bench_now() - t0;
	getrusage(RUSAGE_SELF, &ru1);
	if (!err[0] && got != sent)
		snprintf(err, elen, "sent %" PRIu64 " bytes, received %" PRIu64, sent, got);
	r->bytes = got;
	r->cpu_s = ru_cpu(&ru1) - ru_cpu(&ru0);
	r->mbps = r->secs > 0 ? (double)got / r->secs / 1e6 : 0;
	r->cpu_per_gib = got ? r->cpu_s / ((double)got / (1 << 30)) : 0;
	r->hit = r->hot_pages ? (double)r->hot_hit / (double)r->hot_pages : 0;
	r->full = r->hot_reqs ? (double)r->hot_full / (double)r->hot_reqs : 0;
	r->cat_left = cat_resident();
	r->ok = !err[0];
	return 0;
}

/* ---- the notification case ---- */

static uint64_t notified, copied, enobufs;

/* Read what the error queue holds; block (up to 10 s) if block. 0, or -1
 * with errno. */
static int drain(int s, int block)
{
	char ctl[256];
	struct msghdr msg;
	struct cmsghdr *cm;
	struct sock_extended_err *ee;
	struct pollfd p = { .fd = s };

	for (;;) {
		memset(&msg, 0, sizeof(msg));
		msg.msg_control = ctl;
		msg.msg_controllen = sizeof(ctl);
		if (recvmsg(s, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) {
			if (errno != EAGAIN)
				return -1;
			if (!block)
				return 0;
			if (poll(&p, 1, 10000) <= 0) {
				errno = ETIMEDOUT;
				return -1;
			}
			continue;
		}
		for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			ee = (struct sock_extended_err *)CMSG_DATA(cm);
			if (cm->cmsg_level == SOL_IP && cm->cmsg_type == IP_RECVERR &&
			    ee->ee_origin == SO_EE_ORIGIN_ZEROCOPY) {
				notified += (uint64_t)(ee->ee_data - ee->ee_info) + 1;
				/* the stack copied the pages: loopback does */
				if (ee->ee_code & SO_EE_CODE_ZEROCOPY_COPIED)
					copied += (uint64_t)(ee->ee_data - ee->ee_info) + 1;
			}
		}
		block = 0;
	}
}

/* ENOBUFS: wait for a notification, then the call is tried again. */
static int full(int s)
{
	enobufs++;
	return drain(s, 1);
}

/* One way of one case: MB/s, or -1 (err set). */
static double nc_send(int c, int notify, uint64_t *calls, char *err, size_t elen)
{
	uint64_t size = c == NC_BULK ? opts.bulk : opts.small, n, i, got, sent = 0;
	int fd = c == NC_BULK ? bulk_fd : small_fd;
	struct rx rx;
	double t0, secs;
	int s;

	n = opts.notify_bytes / size ? opts.notify_bytes / size : 1;
	warm(fd, size);
	s = connect_rx(&rx);
	if (s < 0)
		return -1;
	notified = 0;
	copied = 0;
	enobufs = 0;
	*calls = 0;
	t0 = bench_now();
	for (i = 0; i < n && !bench_stop_signal; i++) {
		if (zc_send(s, fd, 0, size, notify ? ZCSEND_F_NOTIFY : 0, calls, full) ||
		    (notify && drain(s, 0))) {
			snprintf(err, elen, "%s%s: %s", nc_names[c], notify ? " notify" : "",
				 strerror(errno));
			break;
		}
		sent += size;
	}
	while (!err[0] && notify && notified < *calls)
		if (drain(s, 1))
			snprintf(err, elen, "%" PRIu64 " of %" PRIu64 " notifications: %s",
				 notified, *calls, strerror(errno));
	got = finish_rx(&rx, s);
	secs = bench_now() - t0;
	if (!err[0] && got != sent)
		snprintf(err, elen, "sent %" PRIu64 " bytes, received %" PRIu64, sent, got);
	return err[0] ? -1 : (double)got / secs / 1e6;
}

static void run_notify(int run)
{
	int c;

	for (c = 0; c < NC_COUNT && !nfailure[0] && !bench_stop_signal; c++) {
		struct nc_run *r = &NRES(c, run);

		r->mbps[0] = nc_send(c, 0, &r->calls, nfailure, sizeof(nfailure));
		if (nfailure[0])
			return;
		r->mbps[1] = nc_send(c, 1, &r->calls, nfailure, sizeof(nfailure));
		if (nfailure[0])
			return;
		r->notified = notified;
		r->copied = copied;
		r->waits = enobufs;
		r->ok = 1;
		fprintf(stderr, "stream notify %-5s run %d: plain %.1f MB/s, notify %.1f MB/s (%.3fx), %" PRIu64 " calls, %" PRIu64 " notified, %" PRIu64 " copied, %" PRIu64 " ENOBUFS waits\n",
			nc_names[c], run + 1, r->mbps[0], r->mbps[1], r->mbps[1] / r->mbps[0],
			r->calls, r->notified, r->copied, r->waits);
	}
}

/* ---- the report ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double med(double *v, int n)
{
	if (!n)
		return 0;
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double median(int m, size_t field, int nruns)
{
	double v[256];
	int i, n = 0;

	for (i = 0; i < nruns && n < 256; i++)
		if (RES(m, i).ok)
			v[n++] = *(const double *)((const char *)&RES(m, i) + field);
	return med(v, n);
}

static double nmedian(int c, int which, int nruns)
{
	double v[256];
	int i, n = 0;

	for (i = 0; i < nruns && n < 256; i++)
		if (NRES(c, i).ok)
			v[n++] = which < 2 ? NRES(c, i).mbps[which] :
				 NRES(c, i).mbps[1] / NRES(c, i).mbps[0];
	return med(v, n);
}

static int usable(int m, int nruns)
{
	return !unavail[0] || m != ST_DROP ? nruns && !failure[m][0] : 0;
}

static void print_table(int nruns, FILE *f)
{
	char b1[32], b2[32], b3[32], b4[32];
	double hit_f, hit_d;
	int m, c;

	if (opts.part == PART_NOTIFY)
		goto notify;
	fprintf(f, "\n== stream: catalogue %s in %s responses, %lu hot files of %s (%s) after each, %s, medians of %d runs\n",
		fmt_bytes(b1, sizeof(b1), (double)opts.catalogue),
		fmt_bytes(b2, sizeof(b2), (double)opts.chunk), opts.hot_every,
		fmt_bytes(b3, sizeof(b3), (double)opts.hot_file),
		fmt_bytes(b4, sizeof(b4), (double)opts.hot_set), route.def->name, nruns);
	if (opts.rx_rate)
		fprintf(f, "   receiver paced to %s/s\n",
			fmt_bytes(b1, sizeof(b1), (double)opts.rx_rate));
	fprintf(f, "%-9s %8s %9s %8s %8s %8s\n", "method", "MB/s", "CPU s/GiB", "hot hit", "hot full",
		"cat left");
	for (m = 0; m < ST_COUNT; m++) {
		if (m == ST_DROP && unavail[0]) {
			fprintf(f, "%-9s unavailable: %s\n", mode_names[m], unavail);
			continue;
		}
		if (failure[m][0]) {
			fprintf(f, "%-9s failed: %s\n", mode_names[m], failure[m]);
			continue;
		}
		fprintf(f, "%-9s %8.1f %9.2f %8.3f %8.3f %8.3f\n", mode_names[m],
			median(m, offsetof(struct st_run, mbps), nruns),
			median(m, offsetof(struct st_run, cpu_per_gib), nruns),
			median(m, offsetof(struct st_run, hit), nruns),
			median(m, offsetof(struct st_run, full), nruns),
			median(m, offsetof(struct st_run, cat_left), nruns));
	}
	if (opts.part == PART_STREAM)
		goto legend;
notify:
	fprintf(f, "\n== stream: notifications, ZCSEND_IOC_SENDFILE plain and with ZCSEND_F_NOTIFY, %s per case, %s, medians of %d runs\n",
		fmt_bytes(b1, sizeof(b1), (double)opts.notify_bytes), route.def->name, nruns);
	fprintf(f, "%-9s %10s %11s %8s\n", "object", "plain MB/s", "notify MB/s", "ratio");
	for (c = 0; c < NC_COUNT; c++) {
		fmt_bytes(b2, sizeof(b2), (double)(c == NC_BULK ? opts.bulk : opts.small));
		if (unavail[0])
			fprintf(f, "%-9s unavailable: %s\n", nc_names[c], unavail);
		else if (nfailure[0])
			fprintf(f, "%-9s failed: %s\n", nc_names[c], nfailure);
		else
			fprintf(f, "%-9s %10.1f %11.1f %8.3f\n", nc_names[c], nmedian(c, 0, nruns),
				nmedian(c, 1, nruns), nmedian(c, 2, nruns));
	}
legend:
	fprintf(f, "\nLegend:\n");
	for (m = 0; m < ST_COUNT; m++)
		fprintf(f, "  %-9s %s\n", mode_names[m], mode_desc[m]);
	fprintf(f, "  hot hit: hot-set pages resident (mincore) before each hot response / pages; hot full: share of hot responses with every page resident\n");
	fprintf(f, "  cat left: share of the catalogue's pages resident once the receiver had every byte\n");
	fprintf(f, "  CPU: the whole process (sender and receiver), not the module's drop worker; bulk %s and small %s objects, one call each\n",
		fmt_bytes(b1, sizeof(b1), (double)opts.bulk), fmt_bytes(b2, sizeof(b2), (double)opts.small));
	if (unavail[0])
		return;
	fprintf(f, "targets (issue 24):");
	if (opts.part != PART_NOTIFY && usable(ST_FADVISE, nruns) && usable(ST_DROP, nruns)) {
		hit_f = median(ST_FADVISE, offsetof(struct st_run, hit), nruns);
		hit_d = median(ST_DROP, offsetof(struct st_run, hit), nruns);
		fprintf(f, " drop hot hit %.3f (>= 0.95 and > fadvise's %.3f: %s)",
			hit_d, hit_f, hit_d >= 0.95 && hit_d > hit_f ? "met" : "missed");
	}
	if (opts.part != PART_STREAM && !nfailure[0])
		fprintf(f, " notify bulk %.3fx plain (>= 0.95x: %s)", nmedian(NC_BULK, 2, nruns),
			nmedian(NC_BULK, 2, nruns) >= 0.95 ? "met" : "missed");
	fprintf(f, "\n");
}

static void print_json(int nruns, int complete, FILE *f)
{
	int m, c, i;

	fprintf(f, "{\"workload\": \"stream\", \"route\": \"%s\", \"rx_rate\": %" PRIu64 ", \"complete\": %s, \"catalogue\": %" PRIu64 ", \"chunk\": %" PRIu64 ", \"hot_set\": %" PRIu64 ", \"hot_file\": %" PRIu64 ", \"hot_files\": %lu, \"hot_every\": %lu, \"runs\": %d, \"modes\": [",
		route.def->name, opts.rx_rate, complete ? "true" : "false", opts.catalogue,
		opts.chunk, opts.hot_set,
		opts.hot_file, nhot, opts.hot_every, nruns);
	for (m = 0; m < ST_COUNT; m++) {
		int av = m != ST_DROP || !unavail[0];

		fprintf(f, "%s\n {\"mode\": \"%s\", \"available\": %s, \"reason\": \"%s\", \"error\": \"%s\", \"runs\": [",
			m ? "," : "", mode_names[m], av ? "true" : "false", av ? "" : unavail,
			failure[m]);
		for (i = 0; av && i < nruns; i++) {
			const struct st_run *r = &RES(m, i);

			fprintf(f, "%s{\"ok\": %s, \"bytes\": %" PRIu64 ", \"seconds\": %.4f, \"cpu_s\": %.4f, \"mbps\": %.3f, \"cpu_s_per_gib\": %.4f, \"hot_requests\": %" PRIu64 ", \"hot_full\": %" PRIu64 ", \"hot_pages\": %" PRIu64 ", \"hot_pages_resident\": %" PRIu64 ", \"hot_hit_ratio\": %.4f, \"hot_full_ratio\": %.4f, \"catalogue_left\": %.4f}",
				i ? ", " : "", r->ok ? "true" : "false", r->bytes, r->secs, r->cpu_s,
				r->mbps, r->cpu_per_gib, r->hot_reqs, r->hot_full, r->hot_pages,
				r->hot_hit, r->hit, r->full, r->cat_left);
		}
		fprintf(f, "]}");
	}
	fprintf(f, "\n], \"notify\": {\"available\": %s, \"reason\": \"%s\", \"error\": \"%s\", \"bytes\": %" PRIu64 ", \"cases\": [",
		unavail[0] ? "false" : "true", unavail, nfailure, opts.notify_bytes);
	for (c = 0; c < NC_COUNT; c++) {
		fprintf(f, "%s\n {\"case\": \"%s\", \"object\": %" PRIu64 ", \"runs\": [", c ? "," : "",
			nc_names[c], c == NC_BULK ? opts.bulk : opts.small);
		for (i = 0; !unavail[0] && i < nruns; i++) {
			const struct nc_run *r = &NRES(c, i);

			fprintf(f, "%s{\"ok\": %s, \"plain_mbps\": %.3f, \"notify_mbps\": %.3f, \"calls\": %" PRIu64 ", \"notified\": %" PRIu64 ", \"copied\": %" PRIu64 ", \"enobufs_waits\": %" PRIu64 "}",
				i ? ", " : "", r->ok ? "true" : "false", r->mbps[0], r->mbps[1],
				r->calls, r->notified, r->copied, r->waits);
		}
		fprintf(f, "]}");
	}
	fprintf(f, "\n]}}\n");
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
		return 1;
	}
	return 0;
}

/* ---- options ---- */

static int set_size_max(const char *arg, uint64_t *out)
{
	return parse_size(arg, out) || !*out || *out > (1ULL << 40) ? -1 : 0;
}

static int set_catalogue(const char *arg) { return set_size_max(arg, &opts.catalogue); }
static int set_chunk(const char *arg) { return set_size_max(arg, &opts.chunk); }
static int set_hot_set(const char *arg) { return set_size_max(arg, &opts.hot_set); }
static int set_bulk(const char *arg) { return set_size_max(arg, &opts.bulk); }
static int set_small(const char *arg) { return set_size_max(arg, &opts.small); }
static int set_notify_bytes(const char *arg) { return set_size_max(arg, &opts.notify_bytes); }
static int set_rx_rate(const char *arg) { return set_size_max(arg, &opts.rx_rate); }

static int set_part(const char *arg)
{
	static const char *const names[] = { "both", "stream", "notify" };
	int i;

	for (i = 0; i < 3; i++)
		if (!strcmp(arg, names[i])) {
			opts.part = i;
			return 0;
		}
	return -1;
}

static int set_rx_buf(const char *arg)
{
	return set_size_max(arg, &opts.rx_buf) || opts.rx_buf > INT_MAX / 2 ? -1 : 0;
}

static int set_hot_file(const char *arg)
{
	/* mincore's vector is 4096 pages at most */
	return set_size_max(arg, &opts.hot_file) || opts.hot_file > (16ULL << 20) ? -1 : 0;
}

static int set_hot_every(const char *arg)
{
	return parse_uint(arg, 1000, &opts.hot_every);
}

static const struct bench_option stream_options[] = {
	{ "catalogue", "SIZE", "the catalogue streamed once (default 512M)", set_catalogue },
	{ "chunk", "SIZE", "each catalogue response (default 1M)", set_chunk },
	{ "hot-set", "SIZE", "the hot set (default 16M)", set_hot_set },
	{ "hot-file", "SIZE", "each hot file (default 256K, at most 16M)", set_hot_file },
	{ "hot-every", "N", "hot responses after each catalogue response (default 4)",
	  set_hot_every },
	{ "bulk", "SIZE", "notifications: the bulk object (default 64M)", set_bulk },
	{ "small", "SIZE", "notifications: the small object (default 16K)", set_small },
	{ "notify-bytes", "SIZE", "notifications: bytes per case and way (default 256M)",
	  set_notify_bytes },
	{ "rx-rate", "SIZE", "the receiver reads at most SIZE bytes a second (default: at once)",
	  set_rx_rate },
	{ "rx-buf", "SIZE", "the receiver's SO_RCVBUF (default: the kernel's)", set_rx_buf },
	{ "part", "WHICH", "stream, notify or both (default) cases", set_part },
	{ NULL, NULL, NULL, NULL },
};

static int run_stream(const struct bench_opts *common)
{
	const struct bench_method *zm = method_by_name("zcsend");
	const char *why = zm && zm->unavailable ? zm->unavailable() : NULL;
	char err[200];
	int m, i, st = 0, nruns = 0;

	opts.runs = (int)common->runs;
	opts.json = common->json;
	opts.json_file = common->json_file;
	opts.dir = common->dir;
	if (common->nroutes != 1 || common->routes[0]->ktls) {
		fprintf(stderr, "zcsend bench: --workload stream runs on one route, not kTLS\n");
		return EXIT_USAGE;
	}
	if (opts.hot_file > opts.hot_set) {
		fprintf(stderr, "zcsend bench: --hot-file larger than --hot-set\n");
		return EXIT_USAGE;
	}
	if (!zm)
		why = "no zcsend method";
	if (why)
		snprintf(unavail, sizeof(unavail), "%s", why);
	else
		zdev = open(ZCSEND_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	res = calloc((size_t)ST_COUNT * (size_t)opts.runs, sizeof(*res));
	nres = calloc((size_t)NC_COUNT * (size_t)opts.runs, sizeof(*nres));
	if (devnull < 0 || !res || !nres || (!why && zdev < 0)) {
		perror("zcsend bench: stream");
		st = 1;
		goto out;
	}
	if (route_setup(&route, common->routes[0])) {
		st = 1;
		goto out;
	}
	fprintf(stderr, "zcsend bench: stream: writing the files in %s\n", opts.dir);
	if (make_files()) {
		st = 1;
		goto out;
	}
	for (i = 0; i < opts.runs && !bench_stop_signal; i++) {
		for (m = 0; m < ST_COUNT && opts.part != PART_NOTIFY &&
			    !bench_stop_signal; m++) {
			struct st_run *r = &RES(m, i);

			if ((m == ST_DROP && unavail[0]) || failure[m][0])
				continue;
			err[0] = 0;
			if (run_mode(m, r, err, sizeof(err)) < 0) {
				st = 1;
				goto report;
			}
			if (err[0]) {
				snprintf(failure[m], sizeof(failure[m]), "run %d: %s", i + 1, err);
				fprintf(stderr, "stream %-8s run %d failed: %s\n", mode_names[m], i + 1, err);
				st = 1;
				continue;
			}
			fprintf(stderr, "stream %-8s run %d: %.1f MB/s, %.2f CPU s/GiB, hot hit %.3f, full %.3f (%" PRIu64 " hot responses), catalogue left %.3f\n",
				mode_names[m], i + 1, r->mbps, r->cpu_per_gib, r->hit, r->full,
				r->hot_reqs, r->cat_left);
		}
		if (!unavail[0] && !nfailure[0] && opts.part != PART_STREAM)
			run_notify(i);
		if (nfailure[0])
			st = 1;
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
	route_teardown(&route);
	free_files();
	if (zdev >= 0)
		close(zdev);
	if (devnull >= 0)
		close(devnull);
	free(res);
	free(nres);
	return st || bench_stop_signal ? 1 : 0;
}

const struct bench_workload workload_stream = {
	.name = "stream",
	.help = "a catalogue streamed once past a hot set: sendfile, + fadvise, zcsend DROP; notification cost",
	.options = stream_options, .runs = 5, .routes = "loopback",	/* or nic */
	.run = run_stream,
};
