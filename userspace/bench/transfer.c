// SPDX-License-Identifier: GPL-2.0
/*
 * zcsend bench: the methods' runner. Every way of sending a file, on the
 * same files and the same kind of connection, side by side; the workloads
 * that it runs (bulk, small) say which files a case sends. The senders are
 * in methods.c, the connection in routes.c, the in-kernel copy counting in
 * trace.c; what it measures goes into the results (results.h), which
 * report.c and plot.c print.
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
#include <linux/magic.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "methods.h"
#include "report.h"
#include "results.h"
#include "routes.h"
#include "trace.h"
#include "util.h"
#include "workload.h"

/* The small workload's response header: an HTTP-like 200 bytes. */
#define HDR_LEN		200
#define MAX_SIZES	8

static struct results res;
static struct route cur_route;
static struct receiver cur_rx;
static int progress;

/* ---- the workloads: bulk and small ---- */

static struct {
	uint64_t sizes[MAX_SIZES];
	int nsizes;
} bulk = { { 1 << 20, 64 << 20 }, 2 };

static struct {
	unsigned long objects;
	uint64_t min, max;
} small = { 256, 4 << 10, 64 << 10 };

static int add_size(const char *item, void *arg)
{
	(void)arg;
	if (bulk.nsizes == MAX_SIZES || parse_size(item, &bulk.sizes[bulk.nsizes]))
		return -1;
	bulk.nsizes++;
	return 0;
}

static int bulk_set_size(const char *arg)
{
	bulk.nsizes = 0;
	return for_each_item(arg, add_size, NULL);
}

static int small_set_objects(const char *arg)
{
	return parse_uint(arg, 100000, &small.objects);
}

static int small_set_object_size(const char *arg)
{
	if (parse_size_range(arg, &small.min, &small.max) ||
	    small.min < 1 || small.max > (1ULL << 30))
		return -1;
	return 0;
}

static int bulk_files(int i, struct case_res *cs)
{
	if (i >= bulk.nsizes)
		return -1;
	cs->objects = 1;
	cs->obj_min = cs->obj_max = bulk.sizes[i];
	return 0;
}

static int small_files(int i, struct case_res *cs)
{
	if (i > 0)
		return -1;
	cs->objects = small.objects;
	cs->obj_min = small.min;
	cs->obj_max = small.max;
	return 0;
}

static void bulk_title(const struct case_res *cs, enum receiver_mode rx,
		       char *buf, size_t len)
{
	char sz[32];

	fmt_bytes(sz, sizeof(sz), (double)cs->bytes);
	snprintf(buf, len, "bulk %s, route %s, receiver %s, %s cache",
		 sz, cs->route->name, receiver_name(rx), cs->cold ? "cold" : "warm");
}

static void small_title(const struct case_res *cs, enum receiver_mode rx,
			char *buf, size_t len)
{
	char sz[32], lo[32], hi[32];

	fmt_bytes(sz, sizeof(sz), (double)cs->bytes);
	fmt_bytes(lo, sizeof(lo), (double)cs->obj_min);
	fmt_bytes(hi, sizeof(hi), (double)cs->obj_max);
	snprintf(buf, len, "small: %lu files of %s-%s + %d B header each (%s), route %s, receiver %s, %s cache",
		 cs->objects, lo, hi, HDR_LEN, sz, cs->route->name,
		 receiver_name(rx), cs->cold ? "cold" : "warm");
}

static const struct bench_option bulk_options[] = {
	{ "size", "LIST", "transfer sizes, e.g. 1M,64M (default 1M,64M)", bulk_set_size },
	{ NULL, NULL, NULL, NULL },
};

static const struct bench_option small_options[] = {
	{ "objects", "N", "files (default 256)", small_set_objects },
	{ "object-size", "MIN-MAX", "their sizes, spread evenly (default 4K-64K; 1 byte to 1 GiB)",
	  small_set_object_size },
	{ NULL, NULL, NULL, NULL },
};

const struct bench_workload workload_bulk = {
	.name = "bulk", .help = "one file per transfer, each method in turn",
	.options = bulk_options, .runs = 5, .routes = "loopback",
	.files = bulk_files, .title = bulk_title, .one_file = 1,
};

const struct bench_workload workload_small = {
	.name = "small",
	.help = "many files per transfer, each after a 200-byte header",
	.options = small_options, .runs = 5, .routes = "loopback",
	.files = small_files, .title = small_title, .header_bytes = HDR_LEN,
};

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
	uint32_t hdr_len = cs->header_bytes;
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
	t0 = bench_now();
	err = send_objects(ctx, cs, f);
	if (getrusage(RUSAGE_SELF, &ru1) && !err)
		err = -errno;
	if (!err && shutdown(ctx->sock, SHUT_WR))
		err = -errno;
	if (!err && receiver_result(&cur_rx, &r->received))
		err = -EPIPE;
	t1 = bench_now();
	if (err)
		return err;
	r->ok = 1;
	r->wall = t1 - t0;
	r->usr = bench_tv_secs(ru1.ru_utime) - bench_tv_secs(ru0.ru_utime);
	r->sys = bench_tv_secs(ru1.ru_stime) - bench_tv_secs(ru0.ru_stime);
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

static void run_once(const struct bench_opts *o, const struct case_res *cs,
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
	if (!res.copy_why && trace_snapshot(&before, 0) == 0)
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

/* ---- the loop ---- */

/* On a terminal: the method and run, rewritten in place. */
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
static void case_methods(const struct bench_opts *o, struct case_res *cs)
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

static void run_case(const struct bench_opts *o, struct case_res *cs, struct files *f)
{
	char what[64], sz[32];
	int round, i;

	fmt_bytes(sz, sizeof(sz), (double)cs->bytes);
	snprintf(what, sizeof(what), "%s %s %s", cs->workload, sz, cs->route->name);
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

/* The JSON, rewritten after each case: a file that is always whole (a
 * temporary renamed over it), so that a run cut short keeps what ran. */
static int write_json(const struct bench_opts *o)
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
	json_write(&res, f);
	if (fclose(f) || rename(tmp, o->json_file)) {
		perror(o->json_file);
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* A case begins: its files from its workload (the title is set at the end). */
static void case_begin(const struct bench_workload *wl, const struct bench_route *route,
		       struct case_res *cs)
{
	cs->workload = wl->name;
	cs->one_file = wl->one_file;
	cs->header_bytes = wl->header_bytes;
	cs->route = route;
}

/* A case ends: its title, its table, the JSON so far, the progress line. */
static void case_end(const struct bench_opts *o, const struct bench_workload *wl,
		     struct case_res *cs, FILE *table, int n, int total, double t0)
{
	char sz[32];

	wl->title(cs, o->rx, cs->title, sizeof(cs->title));
	if (table) {
		print_case(&res, cs, table);
		fflush(table);
	}
	write_json(o);
	fmt_bytes(sz, sizeof(sz), (double)cs->bytes);
	fprintf(stderr, "zcsend bench: case %d/%d done in %.0f s: %s %s, route %s%s\n",
		n, total, bench_now() - t0, cs->workload, sz, cs->route->name,
		cs->unavail[0] ? " (unavailable)" : "");
}

/* Make the case's files, run it. */
static void run_workload_case(const struct bench_opts *o, struct case_res *cs)
{
	struct files f;
	int j;

	if (files_make(&f, o->dir, (int)cs->objects, cs->obj_min, cs->obj_max)) {
		snprintf(cs->unavail, sizeof(cs->unavail), "could not create test files in %s", o->dir);
		return;
	}
	for (j = 0; j < f.nfd; j++)
		cs->bytes += f.len[j] + cs->header_bytes;
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
}

/* Cases of the n workloads on one route. */
static int count_cases(const struct bench_workload *const *wl, int n)
{
	struct case_res scratch;
	int w, i, total = 0;

	for (w = 0; w < n; w++)
		for (i = 0; wl[w]->files(i, &scratch) == 0; i++)
			total++;
	return total;
}

/* A case that says the route could not be set up. 0 or -1. */
static int route_unavailable(const struct bench_opts *o, const struct bench_workload *wl,
			     const struct bench_route *route, FILE *table, int n, int total)
{
	struct case_res *cs = results_new_case(&res);

	if (!cs)
		return -1;
	case_begin(wl, route, cs);
	wl->files(0, cs);
	cs->bytes = cs->obj_min;
	snprintf(cs->unavail, sizeof(cs->unavail), "route %s could not be set up%s",
		 route->name, geteuid() ? " (needs root)" : "");
	case_end(o, wl, cs, table, n, total, bench_now());
	return 0;
}

/* All cases of one route, numbered from *n on. 0, or -1 on a fatal error. */
static int run_route(const struct bench_opts *o, const struct bench_workload *const *wl,
		     int nwl, const struct bench_route *route, FILE *table, int *n, int total)
{
	int w, i, err = 0, per_route = count_cases(wl, nwl);

	fprintf(stderr, "zcsend bench: route %s: cases %d-%d of %d\n", route->name,
		*n + 1, *n + per_route, total);
	if (route_setup(&cur_route, route)) {
		*n += per_route;
		return route_unavailable(o, wl[0], route, table, *n, total);
	}
	if (receiver_start(&cur_rx, &cur_route,
			   route->force_read ? RECEIVER_READ : o->rx)) {
		route_teardown(&cur_route);
		return -1;
	}
	for (w = 0; w < nwl && !err && !bench_stop_signal; w++) {
		for (i = 0; !bench_stop_signal; i++) {
			struct case_res *cs = results_new_case(&res);
			double t0 = bench_now();

			if (!cs) {
				err = -1;
				break;
			}
			case_begin(wl[w], route, cs);
			if (wl[w]->files(i, cs)) {
				res.ncases--;	/* past its last case */
				break;
			}
			run_workload_case(o, cs);
			case_end(o, wl[w], cs, table, ++*n, total, t0);
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
static int fit_open_files(const struct bench_workload *const *wl, int n)
{
	struct case_res cs = { .objects = 0 };
	rlim_t need = 0;
	struct rlimit rl;
	int w, i;

	for (w = 0; w < n; w++)
		for (i = 0; wl[w]->files(i, &cs) == 0; i++)
			if ((rlim_t)cs.objects + 64 > need)	/* sockets, pipes, tracefs */
				need = (rlim_t)cs.objects + 64;
	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= need)
		return 0;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
		fprintf(stderr, "zcsend bench: --objects %llu needs %llu open files, the hard limit is %llu (ulimit -Hn)\n",
			(unsigned long long)need - 64, (unsigned long long)need,
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

/* Routes first load what their probes need, then the probes go in. */
static void start_tracing(const struct bench_opts *o)
{
	int i;

	res.copy_why = "not measured: --no-trace";
	if (!o->trace)
		return;
	for (i = 0; i < o->nroutes; i++)
		if (o->routes[i]->prepare)
			o->routes[i]->prepare();
	if (trace_init(&res.copy_why) == 0 && trace_start()) {
		res.copy_why = "not measured: could not arm the hist triggers";
		trace_cleanup();
	}
}

/* The JSON (on stdout, or its file once more) and the charts. 0 or -1. */
static int write_outputs(const struct bench_opts *o)
{
	int err = 0;

	if (o->json && !o->json_file)
		json_write(&res, stdout);
	if (write_json(o))
		err = -1;
	if (o->plot_file && plot_write(&res, o->plot_file)) {
		fprintf(stderr, "zcsend bench: gnuplot could not draw %s\n", o->plot_file);
		err = -1;
	}
	return err;
}

/* The results' settings, from the options. */
static void results_init(const struct bench_opts *o)
{
	memset(&res, 0, sizeof(res));
	res.runs = o->runs;
	res.rx = o->rx;
	memcpy(res.methods, o->methods, sizeof(res.methods));
	res.nmethods = o->nmethods;
	memcpy(res.routes, o->routes, sizeof(res.routes));
	res.nroutes = o->nroutes;
}

int transfer_run(const struct bench_opts *o,
		 const struct bench_workload *const *wl, int n)
{
	int i, err = 0, done = 0, total;
	FILE *table;

	if (fit_open_files(wl, n))
		return 1;
	results_init(o);
	total = count_cases(wl, n) * o->nroutes;
	/* Table on stdout, unless --json (no FILE) takes stdout. */
	table = o->json && !o->json_file ? NULL : stdout;
	progress = isatty(STDERR_FILENO) && getenv("TERM") &&
		   strcmp(getenv("TERM"), "dumb") != 0;
	start_tracing(o);
	for (i = 0; i < o->nroutes && !err && !bench_stop_signal; i++)
		err = run_route(o, wl, n, o->routes[i], table, &done, total);
	trace_cleanup();
	res.complete = !err && !bench_stop_signal;
	if (bench_stop_signal) {
		write_json(o);
		results_free(&res);
		fprintf(stderr, "zcsend bench: interrupted; namespaces and probes removed\n");
		signal(bench_stop_signal, SIG_DFL);
		raise(bench_stop_signal);
		return 1;
	}
	if (table)
		print_legend(&res, table);
	if (write_outputs(o))
		err = -1;
	results_free(&res);
	return err ? 1 : 0;
}
