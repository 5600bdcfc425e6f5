// SPDX-License-Identifier: GPL-2.0
/*
 * zcsend-bench, run as "zcsend bench": every way of sending a file, side by
 * side. The command line: the table of workloads, the options they share,
 * each workload's own options, and the hand-over to the workload's runner
 * (workload.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "workload.h"

/* Adding a workload is one entry here (and its definition). */
static const struct bench_workload *const workloads[] = {
	&workload_bulk, &workload_small, &workload_nginx,
	&workload_uring, &workload_server,
	&workload_stream,
};
#define NWORKLOADS	((int)(sizeof(workloads) / sizeof(workloads[0])))
#define MAX_PENDING	32

/* The command line as parsed so far. */
struct cmdline {
	struct bench_opts o;
	const struct bench_workload *wl[NWORKLOADS];
	int nwl;
	const char *runner_opt;	/* an option of the methods' runner, if given */
	struct {		/* workloads' options, set once --workload is known */
		const char *name, *arg;
	} pending[MAX_PENDING];
	int npending;
};

/*
 * struct common_opt - an option that is not a workload's own.
 * @methods: an option of the methods' runner (transfer.c), which a
 *           workload with a runner of its own refuses
 */
struct common_opt {
	const char *name;
	const char *arg;
	const char *help;
	int methods;
	int (*set)(struct cmdline *c, const char *arg);
};

static int add_route(const char *item, void *arg)
{
	struct bench_opts *o = arg;

	return add_unique((const void **)o->routes, &o->nroutes, MAX_ROUTES,
			  route_by_name(item));
}

static int add_method(const char *item, void *arg)
{
	struct bench_opts *o = arg;

	return add_unique((const void **)o->methods, &o->nmethods, MAX_METHODS,
			  method_by_name(item));
}

static const struct bench_workload *workload_by_name(const char *name)
{
	int i;

	for (i = 0; i < NWORKLOADS; i++)
		if (strcmp(workloads[i]->name, name) == 0)
			return workloads[i];
	return NULL;
}

static int add_workload(const char *item, void *arg)
{
	struct cmdline *c = arg;

	return add_unique((const void **)c->wl, &c->nwl, NWORKLOADS,
			  workload_by_name(item));
}

static int set_workload(struct cmdline *c, const char *arg)
{
	c->nwl = 0;
	return for_each_item(arg, add_workload, c);
}

static int set_route(struct cmdline *c, const char *arg)
{
	c->o.nroutes = 0;
	return for_each_item(arg, add_route, &c->o);
}

static int set_runs(struct cmdline *c, const char *arg)
{
	return parse_uint(arg, MAX_RUNS, &c->o.runs);
}

static int set_json(struct cmdline *c, const char *arg)
{
	c->o.json = 1;
	c->o.json_file = arg;
	return 0;
}

static int set_dir(struct cmdline *c, const char *arg)
{
	c->o.dir = arg;
	return 0;
}

static int set_method(struct cmdline *c, const char *arg)
{
	c->o.nmethods = 0;
	return for_each_item(arg, add_method, &c->o);
}

static int set_receiver(struct cmdline *c, const char *arg)
{
	if (strcmp(arg, "discard") == 0)
		c->o.rx = RECEIVER_DISCARD;
	else if (strcmp(arg, "read") == 0)
		c->o.rx = RECEIVER_READ;
	else
		return -1;
	return 0;
}

static int set_cold(struct cmdline *c, const char *arg)
{
	(void)arg;
	c->o.cold = 1;
	return 0;
}

static int set_bufsize(struct cmdline *c, const char *arg)
{
	return parse_size(arg, &c->o.buf_len) || c->o.buf_len < 4096 ||
	       c->o.buf_len > (1ULL << 30) ? -1 : 0;
}

static int set_no_trace(struct cmdline *c, const char *arg)
{
	(void)arg;
	c->o.trace = 0;
	return 0;
}

static int set_plot(struct cmdline *c, const char *arg)
{
	c->o.plot_file = arg;
	return 0;
}

static const struct common_opt common_opts[] = {
	{ "workload", "LIST", "the workloads (default bulk); see below", 0, set_workload },
	{ "route", "LIST", "the routes (default: the workload's):", 0, set_route },
	{ "runs", "N", "measured runs per case (default: the workload's)", 0, set_runs },
	{ "json", "[=FILE]", "every raw run as JSON, on stdout instead of the table, or to FILE",
	  0, set_json },
	{ "dir", "DIR", "where the test files go (default $TMPDIR or /tmp)", 0, set_dir },
	{ "method", "LIST", "methods (default all):", 1, set_method },
	{ "receiver", "MODE", "discard (recv MSG_TRUNC, no copy) or read (default discard)",
	  1, set_receiver },
	{ "cold", NULL, "drop the files' page cache before each run", 1, set_cold },
	{ "bufsize", "SIZE", "read+write buffer (default 128K)", 1, set_bufsize },
	{ "no-trace", NULL, "do not count CPU copies with kprobes", 1, set_no_trace },
	{ "plot", "FILE", "charts (.png or .svg; a .png gets an .svg beside it), by gnuplot",
	  1, set_plot },
};
#define NCOMMON	((int)(sizeof(common_opts) / sizeof(common_opts[0])))

/* Names of a table, comma-separated, wrapped under the option texts. */
static void print_names(FILE *out, const char *first, size_t stride, int n)
{
	int i, col = 21;

	fprintf(out, "%21s", "");
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

static void print_opt(FILE *out, const char *name, const char *arg, const char *help)
{
	char left[40];

	snprintf(left, sizeof(left), "--%s%s%s", name,
		 arg && arg[0] != '[' ? " " : "", arg ? arg : "");
	if (strlen(left) > 17)
		fprintf(out, "  %s\n%21s%s\n", left, "", help);
	else
		fprintf(out, "  %-18s %s\n", left, help);
}

static void usage(FILE *out)
{
	const struct bench_option *bo;
	int i;

	fprintf(out, "usage: zcsend bench [OPTIONS]\n");
	for (i = 0; i < NCOMMON; i++) {
		const struct common_opt *c = &common_opts[i];

		if (i && c->methods && !common_opts[i - 1].methods)
			fprintf(out, "of the workloads that compare the methods (bulk, small):\n");
		print_opt(out, c->name, c->arg, c->help);
		if (c->set == set_route)
			print_names(out, (const char *)&bench_routes[0].name,
				    sizeof(bench_routes[0]), bench_nroutes);
		if (c->set == set_method)
			print_names(out, (const char *)&bench_methods[0].name,
				    sizeof(bench_methods[0]), bench_nmethods);
	}
	for (i = 0; i < NWORKLOADS; i++) {
		fprintf(out, "workload %s: %s\n  (default %lu runs, route %s)\n",
			workloads[i]->name, workloads[i]->help, workloads[i]->runs,
			workloads[i]->routes);
		for (bo = workloads[i]->options; bo->name; bo++)
			print_opt(out, bo->name, bo->arg, bo->help);
	}
	fprintf(out, "Routes other than loopback run between network namespaces the tool makes\n"
		     "(root). A workload with a runner of its own (nginx) runs alone.\n");
}

static int bad_arg(const char *opt, const char *val)
{
	fprintf(stderr, "zcsend bench: invalid --%s '%s'\n", opt, val ? val : "");
	usage(stderr);
	return EXIT_USAGE;
}

static int refuse(const char *opt, const struct bench_workload *wl)
{
	fprintf(stderr, "zcsend bench: --%s is not an option of workload %s\n", opt, wl->name);
	usage(stderr);
	return EXIT_USAGE;
}

/*
 * The getopt table: the common options (val = their index), then every
 * workload's options, each name once (val = NCOMMON + the index of its
 * first workload option in names[]). NULL if out of memory.
 */
static struct option *long_options(const char ***names)
{
	const struct bench_option *bo;
	struct option *lo;
	int i, j, n = NCOMMON + 2;

	for (i = 0; i < NWORKLOADS; i++)
		for (bo = workloads[i]->options; bo->name; bo++)
			n++;
	lo = calloc((size_t)n, sizeof(*lo));
	*names = calloc((size_t)n, sizeof(**names));
	if (!lo || !*names) {
		free(lo);
		free(*names);
		return NULL;
	}
	for (n = 0; n < NCOMMON; n++) {
		lo[n].name = common_opts[n].name;
		lo[n].has_arg = !common_opts[n].arg ? no_argument :
				common_opts[n].arg[0] == '[' ? optional_argument :
				required_argument;
		lo[n].val = n;
	}
	for (i = 0; i < NWORKLOADS; i++)
		for (bo = workloads[i]->options; bo->name; bo++) {
			for (j = NCOMMON; j < n && strcmp(lo[j].name, bo->name); j++)
				;
			if (j < n)
				continue;
			lo[n].name = bo->name;
			lo[n].has_arg = bo->arg ? required_argument : no_argument;
			lo[n].val = n;
			(*names)[n] = bo->name;
			n++;
		}
	lo[n].name = "help";
	lo[n].val = 'h';
	return lo;
}

/* One workload's option for every selected workload that has it. */
static int apply_pending(struct cmdline *c, const char *name, const char *arg)
{
	const struct bench_option *bo;
	int i, owned = 0;

	for (i = 0; i < c->nwl; i++)
		for (bo = c->wl[i]->options; bo->name; bo++) {
			if (strcmp(bo->name, name))
				continue;
			owned = 1;
			if (bo->set(arg))
				return bad_arg(name, arg);
		}
	return owned ? 0 : refuse(name, c->wl[0]);
}

/* The workloads' defaults for what was not given; then their options. */
static int finish(struct cmdline *c)
{
	const struct bench_workload *first;
	int i, st;

	if (!c->nwl)
		c->wl[c->nwl++] = &workload_bulk;
	first = c->wl[0];
	for (i = 0; i < c->nwl; i++)
		if (c->wl[i]->run && c->nwl > 1) {
			fprintf(stderr, "zcsend bench: workload %s runs alone\n", c->wl[i]->name);
			return EXIT_USAGE;
		}
	if (first->run && c->runner_opt)
		return refuse(c->runner_opt, first);
	for (i = 0; i < c->npending; i++) {
		st = apply_pending(c, c->pending[i].name, c->pending[i].arg);
		if (st)
			return st;
	}
	if (!c->o.runs)
		c->o.runs = first->runs;
	if (!c->o.nroutes && for_each_item(first->routes, add_route, &c->o))
		return 1;
	if (!c->o.nmethods)
		for (i = 0; i < bench_nmethods && i < MAX_METHODS; i++)
			c->o.methods[c->o.nmethods++] = &bench_methods[i];
	return 0;
}

/* One option: 0, or the exit status. */
static int take_option(struct cmdline *c, const char *const *names, int val,
		       const char *arg)
{
	const struct common_opt *co;

	if (val >= NCOMMON) {
		if (c->npending == MAX_PENDING)
			return bad_arg(names[val], arg);
		c->pending[c->npending].name = names[val];
		c->pending[c->npending++].arg = arg;
		return 0;
	}
	co = &common_opts[val];
	if (co->methods && !c->runner_opt)
		c->runner_opt = co->name;
	return co->set(c, arg) ? bad_arg(co->name, arg) : 0;
}

/* -1 to go on, else the exit status. */
static int parse(int argc, char **argv, struct cmdline *c)
{
	const char **names;
	struct option *lo = long_options(&names);
	int val, st = -1;

	if (!lo) {
		perror("zcsend bench");
		return 1;
	}
	memset(c, 0, sizeof(*c));
	c->o.trace = 1;
	c->o.buf_len = 128 << 10;
	c->o.dir = getenv("TMPDIR");
	if (!c->o.dir || !*c->o.dir)
		c->o.dir = "/tmp";
	while (st < 0 && (val = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (val == 'h') {
			usage(stdout);
			st = 0;
		} else if (val == '?') {
			usage(stderr);
			st = EXIT_USAGE;
		} else {
			st = take_option(c, names, val, optarg);
			st = st ? st : -1;
		}
	}
	if (st < 0 && optind < argc) {
		fprintf(stderr, "zcsend bench: invalid argument '%s'\n", argv[optind]);
		usage(stderr);
		st = EXIT_USAGE;
	}
	if (st < 0) {
		st = finish(c);
		st = st ? st : -1;
	}
	free(lo);
	free(names);
	return st;
}

int main(int argc, char **argv)
{
	struct cmdline c;
	int st, i;

	st = parse(argc, argv, &c);
	if (st >= 0)
		return st;
	if (catch_signals())
		return 1;
	if (c.wl[0]->run)
		return c.wl[0]->run(&c.o);
	for (i = 0; i < c.nwl; i++)
		if (!c.wl[i]->files) {
			fprintf(stderr, "zcsend bench: workload %s has no runner\n", c.wl[i]->name);
			return 1;
		}
	return transfer_run(&c.o, c.wl, c.nwl);
}
