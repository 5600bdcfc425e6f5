// SPDX-License-Identifier: GPL-2.0
/*
 * zcsend bench: every way of sending a file, on the same file and the same
 * kind of connection, side by side. Options, the run loop and the output;
 * the senders are in bench_methods.c, the connection in bench_net.c, the
 * in-kernel copy counting in bench_trace.c.
 *
 * Per run of a method: a fresh TCP connection to a receiver in another
 * process; the clock (CLOCK_MONOTONIC) runs from the first send call until
 * the receiver has read the whole stream to EOF; sender CPU and context
 * switches come from getrusage(RUSAGE_SELF) around the send calls (io_uring
 * workers are threads of this process, so they count); the sender counts
 * its own system calls. Runs are interleaved (one round = every method
 * once) after one warm-up round, and every figure is the median of the
 * rounds with min and max.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "zcsend.h"

#define HDR_LEN		200
#define MAX_SIZES	8
#define MAX_RUNS	1000

volatile int bench_stop_signal;

enum workload { W_BULK, W_SMALL };

struct opts {
	uint64_t sizes[MAX_SIZES];
	int nsizes;
	unsigned long runs;
	unsigned long objects;
	uint64_t obj_min, obj_max;	/* small workload: file sizes */
	int methods[M_COUNT];
	int nmethods;
	int routes[R_COUNT];
	int nroutes;
	int workloads[2];
	int nworkloads;
	enum receiver_mode rx;
	int cold;
	int trace;
	int json;
	const char *json_file;
	const char *plot_file;
	const char *dir;
	uint64_t buf_len;
};

struct run_rec {
	int ok;
	char err[96];
	uint64_t requested, sent, received, syscalls;
	double wall, usr, sys;
	long vcs, ivcs;
	struct copies cp;
	struct trace_sample ts;
	uint64_t zc_sends, zc_done, zc_copied;
	int zc_known;
};

struct method_res {
	enum method_id id;
	char unavail[200];
	struct run_rec *runs;
	int nruns;
};

struct case_res {
	enum workload wl;
	uint64_t bytes;		/* per transfer, headers included */
	unsigned long objects;
	uint64_t obj_min, obj_max;	/* small: file sizes, before headers */
	enum route_id route;
	int cold;		/* really cold (not tmpfs) */
	char note[160];
	char unavail[160];	/* the whole case (route setup failed) */
	struct method_res m[M_COUNT];
	int nm;
};

static struct case_res *cases;
static int ncases;
static const char *copy_why;	/* non-NULL: copies not measured, why */
static struct route cur_route;
static struct receiver cur_rx;
static int progress;

static void usage(FILE *out)
{
	fprintf(out,
"usage: zcsend bench [OPTIONS]\n"
"  --size LIST        bulk transfer sizes, e.g. 1M,64M (default 1M,64M)\n"
"  --runs N           measured runs per method after one warm-up (default 5)\n"
"  --method LIST      methods (default all): read+write, mmap+write, sendfile,\n"
"                     splice, zcsend, msg_zerocopy, uring_splice, uring_send_zc\n"
"  --workload LIST    bulk (one file) and/or small (many files of 4-64 KiB, each\n"
"                     after a %d-byte header) (default bulk)\n"
"  --objects N        files in the small workload (default 256)\n"
"  --object-size MIN-MAX\n"
"                     sizes of the small workload's files, spread evenly\n"
"                     (default 4K-64K; 1 byte to 1 GiB)\n"
"  --receiver MODE    discard (recv MSG_TRUNC, no copy) or read (default discard)\n"
"  --route LIST       loopback, veth, veth-nosg (default loopback); veth routes\n"
"                     run between two network namespaces the tool makes (root)\n"
"  --cold             drop the file's page cache before each run\n"
"  --dir DIR          where the test files go (default $TMPDIR or /tmp)\n"
"  --bufsize SIZE     read+write buffer (default 128K)\n"
"  --no-trace         do not count CPU copies with kprobes\n"
"  --json[=FILE]      every raw run as JSON, on stdout instead of the table, or to FILE\n"
"  --plot FILE        bar charts (.png or .svg) drawn with gnuplot\n",
		HDR_LEN);
}

static int add_size(const char *item, void *arg)
{
	struct opts *o = arg;

	if (o->nsizes == MAX_SIZES || parse_size(item, &o->sizes[o->nsizes]))
		return -1;
	o->nsizes++;
	return 0;
}

static int add_method(const char *item, void *arg)
{
	struct opts *o = arg;
	int m = method_by_name(item), i;

	if (m < 0)
		return -1;
	for (i = 0; i < o->nmethods; i++)
		if (o->methods[i] == m)
			return 0;
	o->methods[o->nmethods++] = m;
	return 0;
}

static int add_route(const char *item, void *arg)
{
	struct opts *o = arg;
	int r = route_by_name(item), i;

	if (r < 0)
		return -1;
	for (i = 0; i < o->nroutes; i++)
		if (o->routes[i] == r)
			return 0;
	o->routes[o->nroutes++] = r;
	return 0;
}

static int add_workload(const char *item, void *arg)
{
	struct opts *o = arg;
	int w, i;

	if (strcmp(item, "bulk") == 0)
		w = W_BULK;
	else if (strcmp(item, "small") == 0)
		w = W_SMALL;
	else
		return -1;
	for (i = 0; i < o->nworkloads; i++)
		if (o->workloads[i] == w)
			return 0;
	o->workloads[o->nworkloads++] = w;
	return 0;
}

static int bad_arg(const char *opt, const char *val)
{
	fprintf(stderr, "zcsend bench: invalid %s '%s'\n", opt, val ? val : "");
	usage(stderr);
	return EXIT_USAGE;
}

/* Returns -1 to go on, else the exit status. */
static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lopts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "runs", required_argument, NULL, 'n' },
		{ "method", required_argument, NULL, 'm' },
		{ "workload", required_argument, NULL, 'w' },
		{ "objects", required_argument, NULL, 'o' },
		{ "object-size", required_argument, NULL, 'O' },
		{ "receiver", required_argument, NULL, 'r' },
		{ "route", required_argument, NULL, 'R' },
		{ "cold", no_argument, NULL, 'c' },
		{ "dir", required_argument, NULL, 'd' },
		{ "bufsize", required_argument, NULL, 'b' },
		{ "no-trace", no_argument, NULL, 'T' },
		{ "json", optional_argument, NULL, 'j' },
		{ "plot", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, i;

	memset(o, 0, sizeof(*o));
	o->runs = 5;
	o->objects = 256;
	o->obj_min = 4 << 10;
	o->obj_max = 64 << 10;
	o->trace = 1;
	o->buf_len = 128 << 10;
	o->dir = getenv("TMPDIR");
	if (!o->dir || !*o->dir)
		o->dir = "/tmp";
	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {

		switch (c) {
		case 's':
			o->nsizes = 0;
			if (for_each_item(optarg, add_size, o))
				return bad_arg("--size", optarg);
			break;
		case 'n':
			if (parse_uint(optarg, MAX_RUNS, &o->runs))
				return bad_arg("--runs", optarg);
			break;
		case 'm':
			o->nmethods = 0;
			if (for_each_item(optarg, add_method, o))
				return bad_arg("--method", optarg);
			break;
		case 'w':
			o->nworkloads = 0;
			if (for_each_item(optarg, add_workload, o))
				return bad_arg("--workload", optarg);
			break;
		case 'o':
			if (parse_uint(optarg, 100000, &o->objects))
				return bad_arg("--objects", optarg);
			break;
		case 'O':
			if (parse_size_range(optarg, &o->obj_min, &o->obj_max) ||
			    o->obj_min < 1 || o->obj_max > (1ULL << 30))
				return bad_arg("--object-size", optarg);
			break;
		case 'r':
			if (strcmp(optarg, "discard") == 0)
				o->rx = RX_DISCARD;
			else if (strcmp(optarg, "read") == 0)
				o->rx = RX_READ;
			else
				return bad_arg("--receiver", optarg);
			break;
		case 'R':
			o->nroutes = 0;
			if (for_each_item(optarg, add_route, o))
				return bad_arg("--route", optarg);
			break;
		case 'c':
			o->cold = 1;
			break;
		case 'd':
			o->dir = optarg;
			break;
		case 'b':
			if (parse_size(optarg, &o->buf_len) || o->buf_len < 4096 ||
			    o->buf_len > (1ULL << 30))
				return bad_arg("--bufsize", optarg);
			break;
		case 'T':
			o->trace = 0;
			break;
		case 'j':
			o->json = 1;
			o->json_file = optarg;
			break;
		case 'p':
			o->plot_file = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return bad_arg("argument", argv[optind]);
	if (!o->nsizes) {
		o->sizes[0] = 1 << 20;
		o->sizes[1] = 64 << 20;
		o->nsizes = 2;
	}
	if (!o->nmethods)
		for (i = 0; i < M_COUNT; i++)
			o->methods[o->nmethods++] = i;
	if (!o->nroutes)
		o->routes[o->nroutes++] = R_LOOPBACK;
	if (!o->nworkloads)
		o->workloads[o->nworkloads++] = W_BULK;
	return -1;
}

/* ---- test files ---- */

struct files {
	char dir[256];
	int nfd;
	int *fd;
	uint64_t *len;
	char hdr[HDR_LEN];
};

static int fill_file(int fd, uint64_t len, uint32_t seed)
{
	char buf[1 << 16];
	uint64_t done = 0;
	uint32_t x = seed | 1;

	while (done < len) {
		size_t n = len - done > sizeof(buf) ? sizeof(buf) : (size_t)(len - done), i;
		ssize_t w;

		for (i = 0; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			buf[i] = (char)x;
		}
		w = write(fd, buf, n);
		if (w < 0 || (size_t)w != n)
			return -1;
		done += n;
	}
	return 0;
}

static void files_free(struct files *f)
{
	int i;

	for (i = 0; i < f->nfd; i++) {
		char path[300];

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

/* n files, sizes spread evenly over [min, max] (bulk: one, min == max). */
static int files_make(struct files *f, const char *dir, int n, uint64_t min,
		      uint64_t max)
{
	uint32_t x = 2463534242u;
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
		char path[300];

		snprintf(path, sizeof(path), "%s/f%d", f->dir, i);
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		f->len[i] = min + x % (max - min + 1);
		f->fd[i] = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		f->nfd = i + 1;
		if (f->fd[i] < 0 || fill_file(f->fd[i], f->len[i], (uint32_t)i + 7)) {
			fprintf(stderr, "zcsend bench: %s: %s\n", path, strerror(errno));
			goto err;
		}
	}
	/* An HTTP-like response header, padded to HDR_LEN. */
	memset(f->hdr, ' ', sizeof(f->hdr));
	memcpy(f->hdr, "HTTP/1.1 200 OK\r\nServer: zcsend-bench\r\nX-Pad: ", 46);
	memcpy(f->hdr + HDR_LEN - 4, "\r\n\r\n", 4);
	return 0;
err:
	files_free(f);
	return -1;
}

static int on_tmpfs(int fd)
{
	struct statfs s;

	return fstatfs(fd, &s) == 0 && (s.f_type == TMPFS_MAGIC || s.f_type == RAMFS_MAGIC);
}

static int drop_cache(const struct files *f)
{
	int i;

	for (i = 0; i < f->nfd; i++)
		if (fdatasync(f->fd[i]) ||
		    posix_fadvise(f->fd[i], 0, 0, POSIX_FADV_DONTNEED))
			return -1;
	return 0;
}

/* ---- one run ---- */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double tv_secs(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec * 1e-6;
}

static void run_fail(struct run_rec *r, const char *what, int err)
{
	r->ok = 0;
	snprintf(r->err, sizeof(r->err), "%s: %s", what, strerror(err < 0 ? -err : err));
}

static void run_once(const struct opts *o, const struct case_res *cs,
		     struct files *f, enum method_id id, struct run_rec *r)
{
	struct trace_sample before, after;
	struct method_ctx ctx;
	struct rusage ru0, ru1;
	double t0, t1;
	int sock, err, i, traced = 0;

	memset(r, 0, sizeof(*r));
	r->requested = cs->bytes;
	if (cs->cold && drop_cache(f)) {
		run_fail(r, "drop page cache", errno);
		return;
	}
	sock = receiver_connect(&cur_rx, &cur_route);
	if (sock < 0) {
		run_fail(r, "connect", errno);
		return;
	}
	err = method_open(&ctx, id, sock, (size_t)o->buf_len);
	if (err) {
		run_fail(r, "setup", err);
		close(sock);
		/* The receiver reports this connection too: consume it. */
		if (receiver_result(&cur_rx, &r->received))
			r->received = 0;
		return;
	}
	if (!copy_why && trace_snapshot(&before, 0) == 0)
		traced = 1;
	if (getrusage(RUSAGE_SELF, &ru0)) {
		err = -errno;
		goto out;
	}
	t0 = now();
	for (i = 0; i < f->nfd && !err; i++) {
		struct object obj = {
			.fd = f->fd[i], .off = 0, .len = f->len[i],
			.hdr = cs->wl == W_SMALL ? f->hdr : NULL,
			.hdr_len = cs->wl == W_SMALL ? HDR_LEN : 0,
		};

		err = method_send(&ctx, &obj);
	}
	if (!err)
		err = method_finish(&ctx);
	if (getrusage(RUSAGE_SELF, &ru1) && !err)
		err = -errno;
	if (!err && shutdown(sock, SHUT_WR))
		err = -errno;
	if (!err && receiver_result(&cur_rx, &r->received))
		err = -EPIPE;
	t1 = now();
	if (err)
		goto out;
	r->ok = 1;
	r->wall = t1 - t0;
	r->usr = tv_secs(ru1.ru_utime) - tv_secs(ru0.ru_utime);
	r->sys = tv_secs(ru1.ru_stime) - tv_secs(ru0.ru_stime);
	r->vcs = ru1.ru_nvcsw - ru0.ru_nvcsw;
	r->ivcs = ru1.ru_nivcsw - ru0.ru_nivcsw;
out:
	if (traced && trace_snapshot(&after, 1) == 0) {
		trace_delta(&r->ts, &before, &after);
		copies_from_sample(&r->ts, &r->cp);
	}
	r->sent = ctx.c.bytes;
	r->syscalls = ctx.c.syscalls;
	r->zc_sends = ctx.c.zc_sends;
	r->zc_done = ctx.c.zc_done;
	r->zc_copied = ctx.c.zc_copied_bytes;
	r->zc_known = ctx.c.zc_copied_known;
	method_close(&ctx);
	close(sock);
	if (err) {
		run_fail(r, "send", err);
		/* The receiver still reports this connection: consume it. */
		if (err != -EPIPE && receiver_result(&cur_rx, &r->received))
			r->received = 0;
		return;
	}
	if (r->sent != r->requested || r->received != r->requested) {
		r->ok = 0;
		snprintf(r->err, sizeof(r->err), "moved %llu/%llu bytes, wanted %llu",
			 (unsigned long long)r->sent, (unsigned long long)r->received,
			 (unsigned long long)r->requested);
	}
}

/* ---- figures derived from runs ---- */

enum metric {
	X_RATE, X_REQS, X_CPU_GIB, X_USR_GIB, X_SYS_GIB, X_SYSCALLS, X_VCS, X_IVCS,
	X_COPY_FILE, X_COPY_SEND, X_COPY_SEG, X_COPY_ZC, X_COPY_TOTAL, X_BYREF,
	X_COLLAPSE, X_COUNT
};

static double metric_of(const struct case_res *cs, const struct run_rec *r, enum metric x)
{
	double gib = (double)r->requested / (double)(1ULL << 30);
	double b = (double)r->requested;

	switch (x) {
	case X_RATE: return b / r->wall;
	case X_REQS: return (double)cs->objects / r->wall;
	case X_CPU_GIB: return (r->usr + r->sys) / gib;
	case X_USR_GIB: return r->usr / gib;
	case X_SYS_GIB: return r->sys / gib;
	case X_SYSCALLS: return (double)r->syscalls;
	case X_VCS: return (double)r->vcs;
	case X_IVCS: return (double)r->ivcs;
	case X_COPY_FILE: return r->cp.file_read / b;
	case X_COPY_SEND: return r->cp.send / b;
	case X_COPY_SEG: return r->cp.segment / b;
	case X_COPY_ZC: return (double)r->zc_copied / b;
	case X_COPY_TOTAL:
		return (r->cp.file_read + r->cp.send + r->cp.segment +
			(double)r->zc_copied) / b;
	case X_BYREF: return r->cp.by_ref / b;
	case X_COLLAPSE: return r->cp.rx_other / b;
	default: return 0;
	}
}

/* Spread of a metric over the successful runs (warm-up excluded). */
static struct spread metric_spread(const struct case_res *cs, const struct method_res *m,
				   enum metric x, int *nok)
{
	double v[MAX_RUNS];
	int i, n = 0;

	for (i = 1; i < m->nruns; i++)
		if (m->runs[i].ok)
			v[n++] = metric_of(cs, &m->runs[i], x);
	if (nok)
		*nok = n;
	return spread_of(v, (size_t)n);
}

static const struct method_res *find_method(const struct case_res *cs, enum method_id id)
{
	int i;

	for (i = 0; i < cs->nm; i++)
		if (cs->m[i].id == id && !cs->m[i].unavail[0])
			return &cs->m[i];
	return NULL;
}

/* The article's table (DESIGN.md section 4): mode switches, CPU copies. */
static int claim_of(enum method_id id, enum route_id route, int *switches, int *copies)
{
	switch (id) {
	case M_READ_WRITE: *switches = 4; *copies = 2; return 1;
	case M_MMAP_WRITE: *switches = 4; *copies = 1; return 1;
	case M_SENDFILE:
		/* "sendfile" (no SG-DMA) vs "sendfile + SG-DMA" */
		*switches = 2;
		*copies = route == R_VETH_NOSG ? 1 : 0;
		return 1;
	case M_SPLICE: *switches = 2; *copies = 0; return 1;
	default: return 0;
	}
}

static void case_title(const struct opts *o, const struct case_res *cs, char *buf, size_t len)
{
	char sz[32], lo[32], hi[32];

	fmt_bytes(sz, sizeof(sz), (double)cs->bytes);
	fmt_bytes(lo, sizeof(lo), (double)cs->obj_min);
	fmt_bytes(hi, sizeof(hi), (double)cs->obj_max);
	if (cs->wl == W_BULK)
		snprintf(buf, len, "bulk %s, route %s, receiver %s, %s cache",
			 sz, route_names[cs->route], o->rx == RX_READ ? "read" : "discard",
			 cs->cold ? "cold" : "warm");
	else
		snprintf(buf, len, "small: %lu files of %s-%s + %d B header each (%s), route %s, receiver %s, %s cache",
			 cs->objects, lo, hi, HDR_LEN, sz, route_names[cs->route],
			 o->rx == RX_READ ? "read" : "discard", cs->cold ? "cold" : "warm");
}

static void print_case(const struct opts *o, const struct case_res *cs, FILE *out)
{
	const struct method_res *sf = find_method(cs, M_SENDFILE);
	struct spread sf_rate = { 0, 0, 0 }, sf_cpu = { 0, 0, 0 };
	char title[256];
	int i;

	case_title(o, cs, title, sizeof(title));
	fprintf(out, "\n== %s: median of %lu runs after 1 warm-up [min..max]\n", title, o->runs);
	if (cs->note[0])
		fprintf(out, "   note: %s\n", cs->note);
	if (cs->unavail[0]) {
		fprintf(out, "   unavailable: %s\n", cs->unavail);
		return;
	}
	if (sf) {
		sf_rate = metric_spread(cs, sf, X_RATE, NULL);
		sf_cpu = metric_spread(cs, sf, X_CPU_GIB, NULL);
	}
	fprintf(out, "%-14s %-34s %7s %-9s %7s %9s %9s %11s\n", "method",
		cs->wl == W_SMALL ? "throughput (requests/s)" : "throughput",
		"x sendf", "CPU s/GiB", "x sendf", "usr/sys%", "syscalls", "cs vol/inv");
	for (i = 0; i < cs->nm; i++) {
		const struct method_res *m = &cs->m[i];
		struct spread rate, reqs, cpu, usr, sys, sc, vcs, ivcs;
		char a[32], b[32], c[32], rs[80], ratio[16], cratio[16];
		int nok;

		if (m->unavail[0]) {
			fprintf(out, "%-14s unavailable: %s\n", method_names[m->id], m->unavail);
			continue;
		}
		rate = metric_spread(cs, m, X_RATE, &nok);
		if (nok == 0) {
			fprintf(out, "%-14s failed: %s\n", method_names[m->id],
				m->nruns > 1 ? m->runs[1].err : m->runs[0].err);
			continue;
		}
		reqs = metric_spread(cs, m, X_REQS, NULL);
		cpu = metric_spread(cs, m, X_CPU_GIB, NULL);
		usr = metric_spread(cs, m, X_USR_GIB, NULL);
		sys = metric_spread(cs, m, X_SYS_GIB, NULL);
		sc = metric_spread(cs, m, X_SYSCALLS, NULL);
		vcs = metric_spread(cs, m, X_VCS, NULL);
		ivcs = metric_spread(cs, m, X_IVCS, NULL);
		if (cs->wl == W_SMALL)
			snprintf(rs, sizeof(rs), "%.0f/s [%.0f..%.0f]", reqs.median, reqs.min, reqs.max);
		else
			snprintf(rs, sizeof(rs), "%s [%s..%s]",
				 fmt_rate(a, sizeof(a), rate.median),
				 fmt_rate(b, sizeof(b), rate.min), fmt_rate(c, sizeof(c), rate.max));
		snprintf(ratio, sizeof(ratio), "%.2fx", sf_rate.median > 0 ? rate.median / sf_rate.median : 0);
		snprintf(cratio, sizeof(cratio), "%.2fx", sf_cpu.median > 0 ? cpu.median / sf_cpu.median : 0);
		snprintf(a, sizeof(a), "%.2f", cpu.median);
		snprintf(b, sizeof(b), "%.0f/%.0f", cpu.median > 0 ? 100 * usr.median / cpu.median : 0,
			 cpu.median > 0 ? 100 * sys.median / cpu.median : 0);
		snprintf(c, sizeof(c), "%.0f/%.0f", vcs.median, ivcs.median);
		fprintf(out, "%-14s %-34s %7s %-9s %7s %9s %9.0f %11s", method_names[m->id], rs,
			sf ? ratio : "-", a, sf ? cratio : "-", b, sc.median, c);
		if (nok < (int)o->runs)
			fprintf(out, "  (%d/%lu runs ok)", nok, o->runs);
		fputc('\n', out);
	}

	fprintf(out, "\n%-14s %-32s %6s %6s %6s %6s %7s %6s | %-7s %-17s %s\n", "CPU copies/B",
		"total [min..max]", "read", "send", "segm", "zc-cp", "by-ref", "calls", "article",
		"mode sw: meas/art", "rx-side");
	for (i = 0; i < cs->nm; i++) {
		const struct method_res *m = &cs->m[i];
		struct spread tot, fr, se, sg, zc, br, sc, co;
		int nok, sw, cp, has_claim;
		char zcs[16], claim[16], sws[40], ts[48];
		double per_obj;

		if (m->unavail[0])
			continue;
		tot = metric_spread(cs, m, X_COPY_TOTAL, &nok);
		if (nok == 0)
			continue;
		fr = metric_spread(cs, m, X_COPY_FILE, NULL);
		se = metric_spread(cs, m, X_COPY_SEND, NULL);
		sg = metric_spread(cs, m, X_COPY_SEG, NULL);
		zc = metric_spread(cs, m, X_COPY_ZC, NULL);
		br = metric_spread(cs, m, X_BYREF, NULL);
		sc = metric_spread(cs, m, X_SYSCALLS, NULL);
		co = metric_spread(cs, m, X_COLLAPSE, NULL);
		per_obj = sc.median / (double)cs->objects;
		has_claim = claim_of(m->id, cs->route, &sw, &cp);
		if (m->runs[1 < m->nruns ? 1 : 0].zc_known || (m->id != M_MSG_ZEROCOPY &&
							       m->id != M_URING_SEND_ZC))
			snprintf(zcs, sizeof(zcs), "%6.2f", zc.median);
		else
			snprintf(zcs, sizeof(zcs), "%6s", "n/r");
		if (copy_why)
			snprintf(ts, sizeof(ts), "not measured");
		else
			snprintf(ts, sizeof(ts), "%.2f [%.2f..%.2f]", tot.median, tot.min, tot.max);
		if (has_claim) {
			/* a mark where the measurement disagrees with the claim */
			int copy_bad = !copy_why && (tot.median < cp - 0.15 || tot.median > cp + 0.15);
			int sw_bad = (int)(2 * per_obj + 0.5) != sw;

			snprintf(claim, sizeof(claim), "%d%s", cp, copy_bad ? " *" : "");
			snprintf(sws, sizeof(sws), "%.0f/%d%s", 2 * per_obj, sw, sw_bad ? " *" : "");
		} else {
			snprintf(claim, sizeof(claim), "-");
			snprintf(sws, sizeof(sws), "%.0f/-", 2 * per_obj);
		}
		if (copy_why)
			fprintf(out, "%-14s %-32s %6s %6s %6s %s %7s %6.0f | %-7s %-16s\n",
				method_names[m->id], ts, "-", "-", "-", zcs, "-", sc.median, claim, sws);
		else
			fprintf(out, "%-14s %-32s %6.2f %6.2f %6.2f %s %7.2f %6.0f | %-7s %-17s %.2f\n",
				method_names[m->id], ts, fr.median, se.median, sg.median, zcs,
				br.median, sc.median, claim, sws, co.median);
	}
}

static void print_legend(FILE *out)
{
	int p;

	fprintf(out,
"\nLegend: x sendf = ratio to sendfile's median in the same case. CPU s/GiB = sender\n"
"user+system CPU seconds per GiB (getrusage). syscalls and cs (context switches,\n"
"getrusage voluntary/involuntary) per transfer. CPU copies/B = payload bytes the CPU\n"
"copied per byte sent: read = page cache -> user (read(2)); send = user -> socket\n"
"buffer; segm = software segmentation copy (skb_copy_bits); zc-cp = bytes the kernel\n"
"reported as copied after all (SO_EE_CODE_ZEROCOPY_COPIED / IORING_NOTIF_USAGE_ZC_COPIED,\n"
"n/r = not reported by this kernel; the kernel flags a whole send call, so for one big\n"
"send it is an upper bound); by-ref = handed to TCP by page reference (no copy).\n"
"article = the article's CPU copies (DESIGN.md section 4; sendfile: 1 on veth-nosg, else\n"
"the SG-DMA row's 0); mode sw = 2 x syscalls per file (the article counts a system call\n"
"as two switches) vs its figure; '*' marks a disagreement. rx-side = other\n"
"skb_copy_bits bytes per byte, mostly the receiving socket coalescing small linear\n"
"skbs (skb_try_coalesce): a receive-side copy, not in the sender's total.\n");
	if (copy_why) {
		fprintf(out, "CPU copies: %s\n", copy_why);
		return;
	}
	fprintf(out, "CPU copies measured with kprobe events + hist triggers, summed over all tasks:\n");
	for (p = 0; p < P_COUNT; p++)
		fprintf(out, "  %-55s %s\n", trace_probe_desc(p),
			trace_probe_ok(p) ? "probed" : "refused by this kernel (counted as 0)");
}

/* ---- JSON ---- */

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void json_spread(FILE *f, const char *name, struct spread s)
{
	fprintf(f, "\"%s\": {\"median\": %.6g, \"min\": %.6g, \"max\": %.6g}", name,
		s.median, s.min, s.max);
}

static void json_run(FILE *f, const struct run_rec *r, int warmup)
{
	int p;

	fprintf(f, "{\"warmup\": %s, \"ok\": %s, ", warmup ? "true" : "false",
		r->ok ? "true" : "false");
	if (!r->ok) {
		fprintf(f, "\"error\": ");
		json_str(f, r->err);
		fprintf(f, ", ");
	}
	fprintf(f, "\"bytes_requested\": %llu, \"bytes_sent\": %llu, \"bytes_received\": %llu, ",
		(unsigned long long)r->requested, (unsigned long long)r->sent,
		(unsigned long long)r->received);
	fprintf(f, "\"wall_s\": %.9f, \"cpu_user_s\": %.6f, \"cpu_sys_s\": %.6f, ",
		r->wall, r->usr, r->sys);
	fprintf(f, "\"syscalls\": %llu, \"ctx_voluntary\": %ld, \"ctx_involuntary\": %ld, ",
		(unsigned long long)r->syscalls, r->vcs, r->ivcs);
	fprintf(f, "\"zc_sends\": %llu, \"zc_completions\": %llu, \"zc_copied_bytes\": ",
		(unsigned long long)r->zc_sends, (unsigned long long)r->zc_done);
	if (r->zc_known)
		fprintf(f, "%llu, ", (unsigned long long)r->zc_copied);
	else
		fprintf(f, "null, ");
	if (r->cp.measured) {
		fprintf(f, "\"copied_bytes\": {\"file_read\": %.0f, \"send\": %.0f, \"segment\": %.0f, \"by_reference\": %.0f, \"rx_coalesce\": %lld, \"rx_other\": %lld}, ",
			r->cp.file_read, r->cp.send, r->cp.segment, r->cp.by_ref,
			(long long)r->ts.scb_coalesce, (long long)r->ts.scb_other);
		fprintf(f, "\"probes\": {");
		for (p = 0; p < P_COUNT; p++)
			fprintf(f, "%s\"%d\": {\"hits\": %llu, \"sum\": %lld}", p ? ", " : "", p,
				(unsigned long long)r->ts.hits[p], (long long)r->ts.sum[p]);
		fprintf(f, "}}");
	} else {
		fprintf(f, "\"copied_bytes\": null}");
	}
}

static void json_write(const struct opts *o, FILE *f)
{
	static const enum metric xs[] = { X_RATE, X_REQS, X_CPU_GIB, X_SYSCALLS, X_VCS,
					  X_IVCS, X_COPY_TOTAL, X_COPY_FILE, X_COPY_SEND,
					  X_COPY_SEG, X_COPY_ZC, X_BYREF, X_COLLAPSE };
	static const char *const xn[] = { "bytes_per_s", "requests_per_s", "cpu_s_per_gib",
					  "syscalls", "ctx_voluntary", "ctx_involuntary",
					  "copies_per_byte", "copies_file_read_per_byte",
					  "copies_send_per_byte", "copies_segment_per_byte",
					  "copies_zc_reported_per_byte", "by_reference_per_byte",
					  "rx_side_copies_per_byte" };
	struct utsname u;
	int c, i, j, p;

	if (uname(&u))
		snprintf(u.release, sizeof(u.release), "unknown");
	fprintf(f, "{\"tool\": \"zcsend bench\", \"version\": \"%s\", \"kernel\": ", ZCSEND_VERSION);
	json_str(f, u.release);
	fprintf(f, ", \"runs\": %lu, \"warmup_runs\": 1, \"receiver\": \"%s\",\n \"copies\": ",
		o->runs, o->rx == RX_READ ? "read" : "discard");
	if (copy_why) {
		json_str(f, copy_why);
	} else {
		fprintf(f, "{\"method\": \"kprobe events + hist triggers, all tasks\", \"probes\": [");
		for (p = 0; p < P_COUNT; p++) {
			fprintf(f, "%s{\"id\": %d, \"what\": ", p ? ", " : "", p);
			json_str(f, trace_probe_desc(p));
			fprintf(f, ", \"ok\": %s}", trace_probe_ok(p) ? "true" : "false");
		}
		fprintf(f, "]}");
	}
	fprintf(f, ",\n \"cases\": [");
	for (c = 0; c < ncases; c++) {
		const struct case_res *cs = &cases[c];

		fprintf(f, "%s\n  {\"workload\": \"%s\", \"bytes\": %llu, \"objects\": %lu, \"header_bytes\": %d, \"route\": \"%s\", \"cold\": %s",
			c ? "," : "", cs->wl == W_BULK ? "bulk" : "small",
			(unsigned long long)cs->bytes, cs->objects, cs->wl == W_SMALL ? HDR_LEN : 0,
			route_names[cs->route], cs->cold ? "true" : "false");
		if (cs->wl == W_SMALL)
			fprintf(f, ", \"object_min\": %llu, \"object_max\": %llu",
				(unsigned long long)cs->obj_min,
				(unsigned long long)cs->obj_max);
		if (cs->note[0]) {
			fprintf(f, ", \"note\": ");
			json_str(f, cs->note);
		}
		if (cs->unavail[0]) {
			fprintf(f, ", \"unavailable\": ");
			json_str(f, cs->unavail);
		}
		fprintf(f, ", \"methods\": [");
		for (i = 0; i < cs->nm; i++) {
			const struct method_res *m = &cs->m[i];
			int sw, cp;

			fprintf(f, "%s\n   {\"method\": \"%s\", \"available\": %s", i ? "," : "",
				method_names[m->id], m->unavail[0] ? "false" : "true");
			if (m->unavail[0]) {
				fprintf(f, ", \"reason\": ");
				json_str(f, m->unavail);
				fprintf(f, "}");
				continue;
			}
			if (claim_of(m->id, cs->route, &sw, &cp))
				fprintf(f, ", \"article\": {\"mode_switches\": %d, \"cpu_copies\": %d}", sw, cp);
			fprintf(f, ", \"summary\": {");
			for (j = 0; j < (int)(sizeof(xs) / sizeof(xs[0])); j++) {
				if (j)
					fprintf(f, ", ");
				json_spread(f, xn[j], metric_spread(cs, m, xs[j], NULL));
			}
			fprintf(f, "},\n    \"runs\": [");
			for (j = 0; j < m->nruns; j++) {
				fprintf(f, "%s\n     ", j ? "," : "");
				json_run(f, &m->runs[j], j == 0);
			}
			fprintf(f, "]}");
		}
		fprintf(f, "]}");
	}
	fprintf(f, "\n ]}\n");
}

/* ---- plot: three bar charts, one bar per case and method ---- */

static int plot_write(const struct opts *o, const char *file)
{
	char dat[] = "/tmp/zcsend-plot.XXXXXX";
	const char *ext = strrchr(file, '.');
	int svg = ext && strcmp(ext, ".svg") == 0;
	FILE *d, *g;
	int fd, c, i, st, rows = 0;

	fd = mkstemp(dat);
	if (fd < 0)
		return -1;
	d = fdopen(fd, "w");
	if (!d) {
		close(fd);
		unlink(dat);
		return -1;
	}
	for (c = 0; c < ncases; c++) {
		const struct case_res *cs = &cases[c];
		char sz[32];

		fmt_bytes(sz, sizeof(sz), (double)cs->bytes);
		for (i = 0; i < cs->nm; i++) {
			const struct method_res *m = &cs->m[i];
			int nok;
			struct spread r;

			if (m->unavail[0])
				continue;
			r = metric_spread(cs, m, X_RATE, &nok);
			if (!nok)
				continue;
			fprintf(d, "\"%s %s %s\" %g %g %g\n", method_names[m->id],
				cs->wl == W_SMALL ? "small" : sz, route_names[cs->route],
				r.median / 1e6, metric_spread(cs, m, X_CPU_GIB, NULL).median,
				copy_why ? 0 : metric_spread(cs, m, X_COPY_TOTAL, NULL).median);
			rows++;
		}
	}
	if (fclose(d) || !rows) {
		unlink(dat);
		return -1;
	}
	/* fontconfig wants a writable cache; the guest root is read-only */
	g = popen("XDG_CACHE_HOME=${XDG_CACHE_HOME:-/tmp} gnuplot", "w");
	if (!g) {
		unlink(dat);
		return -1;
	}
	fprintf(g, "set terminal %s size 1200,%d\n", svg ? "svg" : "pngcairo", 900 + 8 * rows);
	fprintf(g, "set output '%s'\n", file);
	fprintf(g, "set style data histograms\nset style fill solid 0.8 border -1\n"
		   "set termoption noenhanced\nset xtics rotate by -60 font ',8'\nset grid y\nset key off\n"
		   "set multiplot layout 3,1 title 'zcsend bench (%lu runs, median; receiver %s)'\n",
		o->runs, o->rx == RX_READ ? "read" : "discard");
	fprintf(g, "set ylabel 'MB/s'\nplot '%s' using 2:xtic(1)\n", dat);
	fprintf(g, "set ylabel 'CPU s/GiB'\nplot '%s' using 3:xtic(1)\n", dat);
	fprintf(g, "set ylabel 'CPU copies/byte'\nplot '%s' using 4:xtic(1)\n", dat);
	fprintf(g, "unset multiplot\n");
	st = pclose(g);
	unlink(dat);
	return st == 0 ? 0 : -1;
}

/* ---- the loop ---- */

static void on_signal(int sig)
{
	bench_stop_signal = sig;
}

static void show_progress(const char *what, const char *method, int run, unsigned long runs)
{
	if (!progress)
		return;
	if (run == 0)
		fprintf(stderr, "\r\033[K%s: %s warm-up", what, method);
	else
		fprintf(stderr, "\r\033[K%s: %s run %d/%lu", what, method, run, runs);
}

static void run_case(const struct opts *o, struct case_res *cs, struct files *f)
{
	char what[64], sz[32];
	int round, i;

	fmt_bytes(sz, sizeof(sz), (double)cs->bytes);
	snprintf(what, sizeof(what), "%s %s %s", cs->wl == W_BULK ? "bulk" : "small", sz,
		 route_names[cs->route]);
	for (i = 0; i < o->nmethods; i++) {
		struct method_res *m = &cs->m[cs->nm++];
		const char *why = method_unavailable(o->methods[i]);

		m->id = o->methods[i];
		if (why) {
			snprintf(m->unavail, sizeof(m->unavail), "%s", why);
			continue;
		}
		m->runs = calloc(o->runs + 1, sizeof(*m->runs));
		if (!m->runs) {
			snprintf(m->unavail, sizeof(m->unavail), "out of memory");
			continue;
		}
	}
	/* Round 0 is the warm-up; rounds interleave the methods. */
	for (round = 0; round <= (int)o->runs && !bench_stop_signal; round++) {
		for (i = 0; i < cs->nm && !bench_stop_signal; i++) {
			struct method_res *m = &cs->m[i];

			if (m->unavail[0])
				continue;
			show_progress(what, method_names[m->id], round, o->runs);
			run_once(o, cs, f, m->id, &m->runs[round]);
			m->nruns = round + 1;
		}
	}
	if (progress)
		fprintf(stderr, "\r\033[K");
}

static struct case_res *new_case(void)
{
	struct case_res *p = realloc(cases, (size_t)(ncases + 1) * sizeof(*cases));

	if (!p)
		return NULL;
	cases = p;
	memset(&cases[ncases], 0, sizeof(*cases));
	return &cases[ncases++];
}

static void free_cases(void)
{
	int c, i;

	for (c = 0; c < ncases; c++)
		for (i = 0; i < cases[c].nm; i++)
			free(cases[c].m[i].runs);
	free(cases);
	cases = NULL;
	ncases = 0;
}

/* All cases of one route. 0, or -1 on a fatal error. */
static int run_route(const struct opts *o, enum route_id route, FILE *table)
{
	int w, s, err = 0;

	if (route_setup(&cur_route, route)) {
		struct case_res *cs = new_case();

		if (!cs)
			return -1;
		cs->route = route;
		cs->bytes = o->sizes[0];
		snprintf(cs->unavail, sizeof(cs->unavail), "route %s could not be set up%s",
			 route_names[route], geteuid() ? " (needs root)" : "");
		if (table)
			print_case(o, cs, table);
		return 0;
	}
	if (receiver_start(&cur_rx, &cur_route, o->rx)) {
		route_teardown(&cur_route);
		return -1;
	}
	for (w = 0; w < o->nworkloads && !err && !bench_stop_signal; w++) {
		int nsz = o->workloads[w] == W_BULK ? o->nsizes : 1;

		for (s = 0; s < nsz && !bench_stop_signal; s++) {
			struct case_res *cs = new_case();
			struct files f;
			int j, n = o->workloads[w] == W_BULK ? 1 : (int)o->objects;

			if (!cs) {
				err = -1;
				break;
			}
			cs->wl = o->workloads[w];
			cs->route = route;
			cs->objects = (unsigned long)n;
			cs->obj_min = cs->wl == W_BULK ? o->sizes[s] : o->obj_min;
			cs->obj_max = cs->wl == W_BULK ? o->sizes[s] : o->obj_max;
			if (files_make(&f, o->dir, n, cs->obj_min, cs->obj_max)) {
				snprintf(cs->unavail, sizeof(cs->unavail), "could not create test files in %s", o->dir);
				continue;
			}
			for (j = 0; j < f.nfd; j++)
				cs->bytes += f.len[j] + (cs->wl == W_SMALL ? HDR_LEN : 0);
			if (o->cold) {
				if (on_tmpfs(f.fd[0]))
					snprintf(cs->note, sizeof(cs->note),
						 "--cold ignored: %s is tmpfs, its page cache is the storage (use --dir on a disk filesystem)",
						 o->dir);
				else
					cs->cold = 1;
			}
			run_case(o, cs, &f);
			files_free(&f);
			if (table) {
				print_case(o, cs, table);
				fflush(table);
			}
		}
	}
	receiver_stop(&cur_rx);
	route_teardown(&cur_route);
	return err;
}

/*
 * The small workload keeps every file open: raise the soft RLIMIT_NOFILE
 * to fit (up to the hard limit), or say why it cannot run.
 */
static int fit_open_files(const struct opts *o)
{
	rlim_t need = (rlim_t)o->objects + 64;	/* sockets, pipes, tracefs */
	struct rlimit rl;
	int w, small = 0;

	for (w = 0; w < o->nworkloads; w++)
		small |= o->workloads[w] == W_SMALL;
	if (!small || getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= need)
		return 0;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
		fprintf(stderr, "zcsend bench: --objects %lu needs %llu open files, the hard limit is %llu (ulimit -Hn)\n",
			o->objects, (unsigned long long)need,
			(unsigned long long)rl.rlim_max);
		return -1;
	}
	rl.rlim_cur = need;
	if (setrlimit(RLIMIT_NOFILE, &rl)) {
		perror("zcsend bench: setrlimit RLIMIT_NOFILE");
		return -1;
	}
	return 0;
}

int cmd_bench(int argc, char **argv)
{
	struct sigaction sa;
	struct opts o;
	FILE *table;
	int st, i, err = 0;

	st = parse_opts(argc, argv, &o);
	if (st >= 0)
		return st;
	if (fit_open_files(&o))
		return 1;
	/* Table on stdout, unless --json (no FILE) takes stdout. */
	table = o.json && !o.json_file ? NULL : stdout;
	progress = isatty(STDERR_FILENO) && getenv("TERM") &&
		   strcmp(getenv("TERM"), "dumb") != 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: blocking calls return */
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL) ||
	    signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
		perror("zcsend bench: sigaction");
		return 1;
	}
	copy_why = "not measured: --no-trace";
	if (o.trace && trace_init(&copy_why) == 0 && trace_start()) {
		copy_why = "not measured: could not arm the hist triggers";
		trace_cleanup();
	}
	for (i = 0; i < o.nroutes && !err && !bench_stop_signal; i++)
		err = run_route(&o, o.routes[i], table);
	trace_cleanup();
	if (bench_stop_signal) {
		free_cases();
		fprintf(stderr, "zcsend bench: interrupted; namespaces and probes removed\n");
		signal(bench_stop_signal, SIG_DFL);
		raise(bench_stop_signal);
		return 1;
	}
	if (table)
		print_legend(table);
	if (o.json) {
		FILE *f = o.json_file ? fopen(o.json_file, "we") : stdout;

		if (!f) {
			perror(o.json_file);
			err = -1;
		} else {
			json_write(&o, f);
			if (f != stdout && fclose(f)) {
				perror(o.json_file);
				err = -1;
			}
		}
	}
	if (o.plot_file && plot_write(&o, o.plot_file)) {
		fprintf(stderr, "zcsend bench: gnuplot could not draw %s\n", o.plot_file);
		err = -1;
	}
	free_cases();
	return err ? 1 : 0;
}
