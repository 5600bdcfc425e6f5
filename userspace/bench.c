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
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "zcsend.h"

/* The small workload's response header: an HTTP-like 200 bytes. */
#define HDR_LEN		200

volatile int bench_stop_signal;

static struct case_res *cases;
static int ncases;
static const char *copy_why;	/* non-NULL: copies not measured, why */
static struct route cur_route;
static struct receiver cur_rx;
static int progress;

/* ---- workloads ---- */

static void bulk_files(const struct opts *o, int size_idx, struct case_res *cs)
{
	cs->objects = 1;
	cs->obj_min = cs->obj_max = o->sizes[size_idx];
}

static void small_files(const struct opts *o, int size_idx, struct case_res *cs)
{
	(void)size_idx;
	cs->objects = o->objects;
	cs->obj_min = o->obj_min;
	cs->obj_max = o->obj_max;
}

static const char *receiver_name(const struct opts *o)
{
	return o->rx == RECEIVER_READ ? "read" : "discard";
}

static void bulk_title(const struct opts *o, const struct case_res *cs,
		       char *buf, size_t len)
{
	char sz[32];

	fmt_bytes(sz, sizeof(sz), (double)cs->bytes);
	snprintf(buf, len, "bulk %s, route %s, receiver %s, %s cache",
		 sz, cs->route->name, receiver_name(o), cs->cold ? "cold" : "warm");
}

static void small_title(const struct opts *o, const struct case_res *cs,
			char *buf, size_t len)
{
	char sz[32], lo[32], hi[32];

	fmt_bytes(sz, sizeof(sz), (double)cs->bytes);
	fmt_bytes(lo, sizeof(lo), (double)cs->obj_min);
	fmt_bytes(hi, sizeof(hi), (double)cs->obj_max);
	snprintf(buf, len, "small: %lu files of %s-%s + %d B header each (%s), route %s, receiver %s, %s cache",
		 cs->objects, lo, hi, HDR_LEN, sz, cs->route->name,
		 receiver_name(o), cs->cold ? "cold" : "warm");
}

const struct bench_workload bench_workloads[] = {
	{ .name = "bulk", .per_size = 1, .files = bulk_files, .title = bulk_title },
	{ .name = "small", .header_bytes = HDR_LEN, .files = small_files,
	  .title = small_title },
};

const int bench_nworkloads = (int)(sizeof(bench_workloads) / sizeof(bench_workloads[0]));

static const struct bench_workload *workload_by_name(const char *name)
{
	return find_by_name(bench_workloads, bench_nworkloads,
			    sizeof(bench_workloads[0]), name);
}

/* ---- options ---- */

/* Names of a table, comma-separated, wrapped under the option texts. */
static void print_names(FILE *out, const char *first, size_t stride, int n)
{
	int i, col = 40;

	for (i = 0; i < n; i++) {
		const char *name = *(const char *const *)(first + (size_t)i * stride);
		int len = (int)strlen(name) + 2;

		if (i && col + len > 79) {
			fprintf(out, ",\n%21s", "");
			col = 21;
		} else if (i) {
			fputs(", ", out);
		}
		fputs(name, out);
		col += len;
	}
	fputc('\n', out);
}

static void usage(FILE *out)
{
	fprintf(out,
"usage: zcsend bench [OPTIONS]\n"
"  --size LIST        bulk transfer sizes, e.g. 1M,64M (default 1M,64M)\n"
"  --runs N           measured runs per method after one warm-up (default 5)\n"
"  --method LIST      methods (default all): ");
	print_names(out, (const char *)&bench_methods[0].name, sizeof(bench_methods[0]),
		    bench_nmethods);
	fprintf(out,
"  --workload LIST    bulk (one file) and/or small (many files of 4-64 KiB, each\n"
"                     after a %d-byte header) (default bulk)\n"
"                     --workload nginx alone: nginx served three ways under wrk\n"
"                     (zcsend bench --workload nginx --help)\n"
"  --objects N        files in the small workload (default 256)\n"
"  --object-size MIN-MAX\n"
"                     sizes of the small workload's files, spread evenly\n"
"                     (default 4K-64K; 1 byte to 1 GiB)\n"
"  --receiver MODE    discard (recv MSG_TRUNC, no copy) or read (default discard)\n"
"  --route LIST       (default loopback): ", HDR_LEN);
	print_names(out, (const char *)&bench_routes[0].name, sizeof(bench_routes[0]),
		    bench_nroutes);
	fprintf(out,
"                     all but loopback run between two network namespaces\n"
"                     the tool makes (root)\n"
"  --cold             drop the file's page cache before each run\n"
"  --dir DIR          where the test files go (default $TMPDIR or /tmp)\n"
"  --bufsize SIZE     read+write buffer (default 128K)\n"
"  --no-trace         do not count CPU copies with kprobes\n"
"  --json[=FILE]      every raw run as JSON, on stdout instead of the table, or to FILE\n"
"  --plot FILE        charts (.png or .svg; a .png gets an .svg beside it),\n"
"                     drawn with gnuplot\n");
}

static int add_size(const char *item, void *arg)
{
	struct opts *o = arg;

	if (o->nsizes == MAX_SIZES || parse_size(item, &o->sizes[o->nsizes]))
		return -1;
	o->nsizes++;
	return 0;
}

/* Append p to list (of *n, at most max) unless it is there already. */
static int add_unique(const void **list, int *n, int max, const void *p)
{
	int i;

	if (!p)
		return -1;
	for (i = 0; i < *n; i++)
		if (list[i] == p)
			return 0;
	if (*n == max)
		return -1;
	list[(*n)++] = p;
	return 0;
}

static int add_method(const char *item, void *arg)
{
	struct opts *o = arg;

	return add_unique((const void **)o->methods, &o->nmethods, MAX_METHODS,
			  method_by_name(item));
}

static int add_route(const char *item, void *arg)
{
	struct opts *o = arg;

	return add_unique((const void **)o->routes, &o->nroutes, MAX_ROUTES,
			  route_by_name(item));
}

static int add_workload(const char *item, void *arg)
{
	struct opts *o = arg;

	return add_unique((const void **)o->workloads, &o->nworkloads,
			  MAX_WORKLOADS, workload_by_name(item));
}

static int bad_arg(const char *opt, const char *val)
{
	fprintf(stderr, "zcsend bench: invalid %s '%s'\n", opt, val ? val : "");
	usage(stderr);
	return EXIT_USAGE;
}

static void set_defaults(struct opts *o)
{
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
}

/* What was not given: every method, loopback, bulk of 1 MiB and 64 MiB. */
static void fill_defaults(struct opts *o)
{
	int i;

	if (!o->nsizes) {
		o->sizes[0] = 1 << 20;
		o->sizes[1] = 64 << 20;
		o->nsizes = 2;
	}
	if (!o->nmethods)
		for (i = 0; i < bench_nmethods && i < MAX_METHODS; i++)
			o->methods[o->nmethods++] = &bench_methods[i];
	if (!o->nroutes)
		o->routes[o->nroutes++] = &bench_routes[0];
	if (!o->nworkloads)
		o->workloads[o->nworkloads++] = &bench_workloads[0];
}

/* The options that take a comma-separated list: each replaces the default. */
static const struct list_opt {
	int c;
	const char *name;
	int (*add)(const char *item, void *o);
	size_t count;			/* offset of the list's length in opts */
} list_opts[] = {
	{ 's', "--size", add_size, offsetof(struct opts, nsizes) },
	{ 'm', "--method", add_method, offsetof(struct opts, nmethods) },
	{ 'w', "--workload", add_workload, offsetof(struct opts, nworkloads) },
	{ 'R', "--route", add_route, offsetof(struct opts, nroutes) },
};

/* 0, or -1 if c is not a list option, or the exit status of a bad value. */
static int parse_list_opt(int c, const char *arg, struct opts *o)
{
	const struct list_opt *l;

	for (l = list_opts; l < list_opts + sizeof(list_opts) / sizeof(list_opts[0]); l++) {
		if (l->c != c)
			continue;
		*(int *)((char *)o + l->count) = 0;
		return for_each_item(arg, l->add, o) ? bad_arg(l->name, arg) : 0;
	}
	return -1;
}

/* The options that take a number or a size. Same returns. */
static int parse_number_opt(int c, const char *arg, struct opts *o)
{
	switch (c) {
	case 'n':
		return parse_uint(arg, MAX_RUNS, &o->runs) ? bad_arg("--runs", arg) : 0;
	case 'o':
		return parse_uint(arg, 100000, &o->objects) ? bad_arg("--objects", arg) : 0;
	case 'O':
		if (parse_size_range(arg, &o->obj_min, &o->obj_max) ||
		    o->obj_min < 1 || o->obj_max > (1ULL << 30))
			return bad_arg("--object-size", arg);
		return 0;
	case 'b':
		if (parse_size(arg, &o->buf_len) || o->buf_len < 4096 ||
		    o->buf_len > (1ULL << 30))
			return bad_arg("--bufsize", arg);
		return 0;
	default:
		return -1;
	}
}

/* The rest. 0 to go on, else the exit status (0 for --help is 'h'). */
static int parse_other_opt(int c, const char *arg, struct opts *o)
{
	switch (c) {
	case 'r':
		if (strcmp(arg, "discard") == 0)
			o->rx = RECEIVER_DISCARD;
		else if (strcmp(arg, "read") == 0)
			o->rx = RECEIVER_READ;
		else
			return bad_arg("--receiver", arg);
		return 0;
	case 'c':
		o->cold = 1;
		return 0;
	case 'd':
		o->dir = arg;
		return 0;
	case 'T':
		o->trace = 0;
		return 0;
	case 'j':
		o->json = 1;
		o->json_file = arg;
		return 0;
	case 'p':
		o->plot_file = arg;
		return 0;
	default:
		usage(stderr);
		return EXIT_USAGE;
	}
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
	int c, st;

	set_defaults(o);
	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 0;
		}
		st = parse_list_opt(c, optarg, o);
		if (st < 0)
			st = parse_number_opt(c, optarg, o);
		if (st < 0)
			st = parse_other_opt(c, optarg, o);
		if (st)
			return st;
	}
	if (optind < argc)
		return bad_arg("argument", argv[optind]);
	fill_defaults(o);
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
	r->errnum = err < 0 ? -err : err;
	snprintf(r->err, sizeof(r->err), "%s: %s", what, strerror(err < 0 ? -err : err));
}

/* Every object of the case, then the method's finish. 0 or -errno. */
static int send_objects(struct method_ctx *ctx, const struct case_res *cs,
			const struct files *f)
{
	uint32_t hdr_len = cs->wl->header_bytes;
	int i, err = 0;

	for (i = 0; i < f->nfd && !err; i++) {
		struct object obj = {
			.fd = f->fd[i], .off = 0, .len = f->len[i],
			.hdr = hdr_len ? f->hdr : NULL, .hdr_len = hdr_len,
		};

		err = ctx->method->send(ctx, &obj);
	}
	if (!err && ctx->method->finish)
		err = ctx->method->finish(ctx);
	return err;
}

/* Send the case's objects, timed and with rusage; shut the connection
 * down and wait for the receiver's count. 0 or -errno. */
static int timed_send(struct method_ctx *ctx, const struct case_res *cs,
		      const struct files *f, struct run_rec *r)
{
	struct rusage ru0, ru1;
	double t0, t1;
	int err;

	if (getrusage(RUSAGE_SELF, &ru0))
		return -errno;
	t0 = now();
	err = send_objects(ctx, cs, f);
	if (getrusage(RUSAGE_SELF, &ru1) && !err)
		err = -errno;
	if (!err && shutdown(ctx->sock, SHUT_WR))
		err = -errno;
	if (!err && receiver_result(&cur_rx, &r->received))
		err = -EPIPE;
	t1 = now();
	if (err)
		return err;
	r->ok = 1;
	r->wall = t1 - t0;
	r->usr = tv_secs(ru1.ru_utime) - tv_secs(ru0.ru_utime);
	r->sys = tv_secs(ru1.ru_stime) - tv_secs(ru0.ru_stime);
	r->vcs = ru1.ru_nvcsw - ru0.ru_nvcsw;
	r->ivcs = ru1.ru_nivcsw - ru0.ru_nivcsw;
	return 0;
}

/* What the sender counted itself. */
static void take_counts(struct run_rec *r, const struct send_counts *c)
{
	r->sent = c->bytes;
	r->syscalls = c->syscalls;
	r->zc_sends = c->zc_sends;
	r->zc_done = c->zc_done;
	r->zc_copied = c->zc_copied_bytes;
	r->zc_known = c->zc_copied_known;
}

/* The run is good only if every byte went out and arrived. */
static void check_bytes(struct run_rec *r)
{
	if (r->sent != r->requested || r->received != r->requested) {
		r->ok = 0;
		snprintf(r->err, sizeof(r->err), "moved %llu/%llu bytes, wanted %llu",
			 (unsigned long long)r->sent, (unsigned long long)r->received,
			 (unsigned long long)r->requested);
	}
}

/* A connection that failed still gets a count from the receiver. */
static void consume_result(struct run_rec *r)
{
	if (receiver_result(&cur_rx, &r->received))
		r->received = 0;
}

static void run_once(const struct opts *o, const struct case_res *cs,
		     const struct files *f, const struct bench_method *m,
		     struct run_rec *r)
{
	struct trace_sample before, after;
	struct method_ctx ctx;
	int sock, err, traced = 0;

	memset(r, 0, sizeof(*r));
	r->requested = cs->bytes;
	if (cs->cold && drop_cache(f)) {
		run_fail(r, "drop page cache", errno);
		return;
	}
	sock = receiver_connect(&cur_rx, &cur_route);
	if (sock < 0) {
		run_fail(r, "connect", sock);
		return;
	}
	err = cur_route.def->sender ? cur_route.def->sender(sock) : 0;
	if (!err)
		err = method_open(&ctx, m, sock, (size_t)o->buf_len);
	if (err) {
		run_fail(r, "setup", err);
		close(sock);
		consume_result(r);
		return;
	}
	if (!copy_why && trace_snapshot(&before, 0) == 0)
		traced = 1;
	err = timed_send(&ctx, cs, f, r);
	if (traced && trace_snapshot(&after, 1) == 0) {
		trace_delta(&r->ts, &before, &after);
		copies_from_sample(&r->ts, &r->cp);
	}
	take_counts(r, &ctx.c);
	method_close(&ctx);
	close(sock);
	if (err) {
		run_fail(r, "send", err);
		if (err != -EPIPE)
			consume_result(r);
		return;
	}
	check_bytes(r);
}

/* ---- figures derived from runs ---- */

static const char *const metric_names[METRIC_COUNT] = {
	[BYTES_PER_S] = "bytes_per_s",
	[REQUESTS_PER_S] = "requests_per_s",
	[CPU_S_PER_GIB] = "cpu_s_per_gib",
	[SYSCALLS] = "syscalls",
	[CTX_VOLUNTARY] = "ctx_voluntary",
	[CTX_INVOLUNTARY] = "ctx_involuntary",
	[COPIES_PER_BYTE] = "copies_per_byte",
	[COPIES_FILE_READ_PER_BYTE] = "copies_file_read_per_byte",
	[COPIES_SEND_PER_BYTE] = "copies_send_per_byte",
	[COPIES_SEGMENT_PER_BYTE] = "copies_segment_per_byte",
	[COPIES_ZC_REPORTED_PER_BYTE] = "copies_zc_reported_per_byte",
	[BY_REFERENCE_PER_BYTE] = "by_reference_per_byte",
	[RX_SIDE_COPIES_PER_BYTE] = "rx_side_copies_per_byte",
	[ENCRYPTED_PER_BYTE] = "encrypted_per_byte",
	[TLS_COPIES_PER_BYTE] = "tls_copies_per_byte",
	[NIC_FRAMES] = "nic_frames",
	[NIC_HEAD_BYTES_PER_BYTE] = "nic_head_bytes_per_byte",
	[NIC_FRAG_BYTES_PER_BYTE] = "nic_frag_bytes_per_byte",
};

const char *metric_json_name(enum metric x)
{
	return metric_names[x];
}

static double metric_of(const struct case_res *cs, const struct run_rec *r, enum metric x)
{
	double gib = (double)r->requested / (double)(1ULL << 30);
	double b = (double)r->requested;

	switch (x) {
	case BYTES_PER_S: return b / r->wall;
	case REQUESTS_PER_S: return (double)cs->objects / r->wall;
	case CPU_S_PER_GIB: return (r->usr + r->sys) / gib;
	case USER_S_PER_GIB: return r->usr / gib;
	case SYS_S_PER_GIB: return r->sys / gib;
	case SYSCALLS: return (double)r->syscalls;
	case CTX_VOLUNTARY: return (double)r->vcs;
	case CTX_INVOLUNTARY: return (double)r->ivcs;
	case COPIES_FILE_READ_PER_BYTE: return r->cp.file_read / b;
	case COPIES_SEND_PER_BYTE: return r->cp.send / b;
	case COPIES_SEGMENT_PER_BYTE: return r->cp.segment / b;
	case COPIES_ZC_REPORTED_PER_BYTE: return (double)r->zc_copied / b;
	case COPIES_PER_BYTE:
		return (r->cp.file_read + r->cp.send + r->cp.segment +
			(double)r->zc_copied) / b;
	case BY_REFERENCE_PER_BYTE: return r->cp.by_ref / b;
	case RX_SIDE_COPIES_PER_BYTE: return r->cp.rx_other / b;
	case ENCRYPTED_PER_BYTE: return r->cp.encrypt / b;
	case TLS_COPIES_PER_BYTE: return r->cp.tls_copy / b;
	case NIC_FRAMES: return r->cp.nic_frames;
	case NIC_HEAD_BYTES_PER_BYTE: return (r->cp.nic_bytes - r->cp.nic_frag_bytes) / b;
	case NIC_FRAG_BYTES_PER_BYTE: return r->cp.nic_frag_bytes / b;
	default: return 0;
	}
}

struct spread metric_spread(const struct case_res *cs, const struct method_res *m,
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

const struct method_res *find_method(const struct case_res *cs, const char *name)
{
	int i;

	for (i = 0; i < cs->nm; i++)
		if (strcmp(cs->m[i].method->name, name) == 0 && !cs->m[i].unavail[0])
			return &cs->m[i];
	return NULL;
}

int article_claim_of(const struct bench_method *m, const struct bench_route *r,
		     int *switches, int *copies)
{
	if (!m->article.listed)
		return 0;
	*switches = m->article.mode_switches;
	*copies = r->no_sg ? m->article.cpu_copies_nosg : m->article.cpu_copies;
	return 1;
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

/* The case's methods, with room for their runs or why they cannot run. */
static void case_methods(const struct opts *o, struct case_res *cs)
{
	int i;

	for (i = 0; i < o->nmethods; i++) {
		struct method_res *m = &cs->m[cs->nm++];
		const char *why = o->methods[i]->unavailable ?
				  o->methods[i]->unavailable() : NULL;

		m->method = o->methods[i];
		if (why) {
			snprintf(m->unavail, sizeof(m->unavail), "%s", why);
			continue;
		}
		m->runs = calloc(o->runs + 1, sizeof(*m->runs));
		if (!m->runs)
			snprintf(m->unavail, sizeof(m->unavail), "out of memory");
	}
}

static void run_case(const struct opts *o, struct case_res *cs, struct files *f)
{
	char what[64], sz[32];
	int round, i;

	fmt_bytes(sz, sizeof(sz), (double)cs->bytes);
	snprintf(what, sizeof(what), "%s %s %s", cs->wl->name, sz, cs->route->name);
	case_methods(o, cs);
	/* Round 0 is the warm-up; rounds interleave the methods. */
	for (round = 0; round <= (int)o->runs && !bench_stop_signal; round++) {
		for (i = 0; i < cs->nm && !bench_stop_signal; i++) {
			struct method_res *m = &cs->m[i];

			if (m->unavail[0])
				continue;
			show_progress(what, m->method->name, round, o->runs);
			run_once(o, cs, f, m->method, &m->runs[round]);
			m->nruns = round + 1;
			if (round == 0 && m->runs[0].errnum == EOPNOTSUPP)
				snprintf(m->unavail, sizeof(m->unavail),
					 "the route's socket refuses it (%s)", m->runs[0].err);
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

/* Make the case's files, run it, print it. */
static void run_workload_case(const struct opts *o, struct case_res *cs, FILE *table)
{
	struct files f;
	int j;

	if (files_make(&f, o->dir, (int)cs->objects, cs->obj_min, cs->obj_max)) {
		snprintf(cs->unavail, sizeof(cs->unavail), "could not create test files in %s", o->dir);
		return;
	}
	for (j = 0; j < f.nfd; j++)
		cs->bytes += f.len[j] + cs->wl->header_bytes;
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
		print_case(o, cs, copy_why, table);
		fflush(table);
	}
}

/* A case that says the route could not be set up. 0 or -1. */
static int route_unavailable(const struct opts *o, const struct bench_route *route,
			     FILE *table)
{
	struct case_res *cs = new_case();

	if (!cs)
		return -1;
	cs->route = route;
	cs->wl = o->workloads[0];
	cs->bytes = o->sizes[0];
	snprintf(cs->unavail, sizeof(cs->unavail), "route %s could not be set up%s",
		 route->name, geteuid() ? " (needs root)" : "");
	if (table)
		print_case(o, cs, copy_why, table);
	return 0;
}

/* All cases of one route. 0, or -1 on a fatal error. */
static int run_route(const struct opts *o, const struct bench_route *route, FILE *table)
{
	int w, s, err = 0;

	if (route_setup(&cur_route, route))
		return route_unavailable(o, route, table);
	if (receiver_start(&cur_rx, &cur_route,
			   route->force_read ? RECEIVER_READ : o->rx)) {
		route_teardown(&cur_route);
		return -1;
	}
	for (w = 0; w < o->nworkloads && !err && !bench_stop_signal; w++) {
		const struct bench_workload *wl = o->workloads[w];
		int nsz = wl->per_size ? o->nsizes : 1;

		for (s = 0; s < nsz && !bench_stop_signal; s++) {
			struct case_res *cs = new_case();

			if (!cs) {
				err = -1;
				break;
			}
			cs->wl = wl;
			cs->route = route;
			wl->files(o, s, cs);
			run_workload_case(o, cs, table);
		}
	}
	receiver_stop(&cur_rx);
	route_teardown(&cur_route);
	return err;
}

/*
 * A workload with many objects keeps every file open: raise the soft
 * RLIMIT_NOFILE to fit (up to the hard limit), or say why it cannot run.
 */
static int fit_open_files(const struct opts *o)
{
	rlim_t need = (rlim_t)o->objects + 64;	/* sockets, pipes, tracefs */
	struct rlimit rl;
	int w, many = 0;

	for (w = 0; w < o->nworkloads; w++)
		many |= !o->workloads[w]->per_size;
	if (!many || getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= need)
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

static int catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: blocking calls return */
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL) ||
	    signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
		perror("zcsend bench: sigaction");
		return -1;
	}
	return 0;
}

/* Routes first load what their probes need, then the probes go in. */
static void start_tracing(const struct opts *o)
{
	int i;

	copy_why = "not measured: --no-trace";
	if (!o->trace)
		return;
	for (i = 0; i < o->nroutes; i++)
		if (o->routes[i]->prepare)
			o->routes[i]->prepare();
	if (trace_init(&copy_why) == 0 && trace_start()) {
		copy_why = "not measured: could not arm the hist triggers";
		trace_cleanup();
	}
}

/* The JSON and the plot, after the runs. 0 or -1. */
static int write_outputs(const struct opts *o)
{
	int err = 0;

	if (o->json) {
		FILE *f = o->json_file ? fopen(o->json_file, "we") : stdout;

		if (!f) {
			perror(o->json_file);
			return -1;
		}
		json_write(o, cases, ncases, copy_why, f);
		if (f != stdout && fclose(f)) {
			perror(o->json_file);
			err = -1;
		}
	}
	if (o->plot_file && plot_write(o, cases, ncases, copy_why, o->plot_file)) {
		fprintf(stderr, "zcsend bench: gnuplot could not draw %s\n", o->plot_file);
		err = -1;
	}
	return err;
}

int cmd_bench(int argc, char **argv)
{
	struct opts o;
	FILE *table;
	int st, i, err = 0;

	/* nginx + wrk measure a server, not one sender: a runner of its own. */
	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--workload=nginx") ||
		    (!strcmp(argv[i], "--workload") && i + 1 < argc &&
		     !strcmp(argv[i + 1], "nginx")))
			return bench_nginx(argc, argv);
	st = parse_opts(argc, argv, &o);
	if (st >= 0)
		return st;
	if (fit_open_files(&o) || catch_signals())
		return 1;
	/* Table on stdout, unless --json (no FILE) takes stdout. */
	table = o.json && !o.json_file ? NULL : stdout;
	progress = isatty(STDERR_FILENO) && getenv("TERM") &&
		   strcmp(getenv("TERM"), "dumb") != 0;
	start_tracing(&o);
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
		print_legend(copy_why, table);
	if (write_outputs(&o))
		err = -1;
	free_cases();
	return err ? 1 : 0;
}
