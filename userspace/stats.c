// SPDX-License-Identifier: GPL-2.0
/*
 * zcsend stats: the module's counters, summed and per CPU, once or every
 * few seconds, as text or JSON; and stats reset. Over genl.c.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "genl.h"
#include "zcsend.h"

/* A growing array of per-CPU counters, filled by a dump. */
struct stats_list {
	struct zc_stats *v;
	size_t n, cap;
};

static int stats_list_add(const struct zc_stats *st, void *arg)
{
	struct stats_list *l = arg;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct zc_stats *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *st;
	return 0;
}

static void print_stats_json(const struct zc_stats *st)
{
	int id;

	printf("{");
	if (st->cpu >= 0)
		printf("\"cpu\": %d, ", st->cpu);
	for (id = ZC_STAT_FIRST; id < ZC_NSTATS; id++)
		printf("\"%s\": %" PRIu64 "%s", zc_stat_names[id], st->val[id],
		       id < ZC_NSTATS - 1 ? ", " : "");
	printf("}");
}

static void print_stats_text(const struct zc_stats *st)
{
	int id;

	for (id = ZC_STAT_FIRST; id < ZC_NSTATS; id++)
		printf("%-16s %" PRIu64 "\n", zc_stat_names[id], st->val[id]);
}

static void print_cpu_text(const struct zc_stats *st)
{
	int id;

	printf("cpu%d:", st->cpu);
	for (id = ZC_STAT_FIRST; id < ZC_NSTATS; id++)
		printf(" %s=%" PRIu64, zc_stat_names[id], st->val[id]);
	printf("\n");
}

static void print_sample_json(const struct zc_stats *sum,
			      const struct stats_list *l)
{
	size_t i;

	if (!l) {
		print_stats_json(sum);
		printf("\n");
		return;
	}
	printf("{\"total\": ");
	print_stats_json(sum);
	printf(", \"per_cpu\": [");
	for (i = 0; i < l->n; i++) {
		printf("%s", i ? ", " : "");
		print_stats_json(&l->v[i]);
	}
	printf("]}\n");
}

static void print_sample(const struct zc_stats *sum,
			 const struct stats_list *l, bool json)
{
	size_t i;

	if (json) {
		print_sample_json(sum, l);
		return;
	}
	print_stats_text(sum);
	for (i = 0; l && i < l->n; i++)
		print_cpu_text(&l->v[i]);
}

/* One sample: the sum, and with @per_cpu every CPU. 0 or 1 (printed). */
static int stats_sample(struct zc_genl *g, bool json, bool per_cpu)
{
	struct stats_list l = { 0 };
	struct zc_stats sum;
	int ret = 1;

	if (zc_genl_status(g, zc_stats_get(g, &sum), "stats"))
		return 1;
	if (per_cpu && zc_genl_status(g, zc_stats_dump(g, stats_list_add, &l),
				      "stats --per-cpu"))
		goto out;
	print_sample(&sum, per_cpu ? &l : NULL, json);
	if (fflush(stdout) == EOF) {
		perror("zcsend: stdout");
		goto out;
	}
	ret = 0;
out:
	free(l.v);
	return ret;
}

static volatile sig_atomic_t stop_watch;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_watch = 1;
}

/* SIGINT and SIGTERM end --watch cleanly; no SA_RESTART, so sleeps end. */
static int catch_stop_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL)) {
		perror("zcsend: sigaction");
		return -1;
	}
	return 0;
}

static int stats_watch(struct zc_genl *g, bool json, bool per_cpu,
		       double interval)
{
	struct timespec ts = {
		.tv_sec = (time_t)interval,
		.tv_nsec = (long)((interval - (double)(time_t)interval) * 1e9),
	};
	bool first = true;

	if (catch_stop_signals())
		return 1;
	while (!stop_watch) {
		if (!first && !json)
			printf("\n");
		first = false;
		if (stats_sample(g, json, per_cpu))
			return stop_watch ? 0 : 1;
		if (nanosleep(&ts, NULL) && errno != EINTR) {
			perror("zcsend: nanosleep");
			return 1;
		}
	}
	return 0;
}

static void stats_usage(FILE *out)
{
	fprintf(out,
		"usage: zcsend stats [--json] [--per-cpu] [--watch SECONDS]\n"
		"       zcsend stats reset\n");
}

static int parse_interval(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || v > 86400) {
		fprintf(stderr, "zcsend: --watch wants seconds (0 < s <= 86400), not '%s'\n",
			s);
		return -1;
	}
	*out = v;
	return 0;
}

struct stats_opts {
	bool json, per_cpu, reset;
	double interval;		/* 0: one sample */
};

/* The command line: 0, or the exit status to return (printed). */
static int parse_stats_opts(int argc, char **argv, struct stats_opts *o)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "per-cpu", no_argument, NULL, 'p' },
		{ "watch", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "jpw:h", opts, NULL)) != -1) {
		if (c == 'j') {
			o->json = true;
		} else if (c == 'p') {
			o->per_cpu = true;
		} else if (c == 'w') {
			if (parse_interval(optarg, &o->interval))
				return EXIT_USAGE;
		} else {
			stats_usage(c == 'h' ? stdout : stderr);
			return c == 'h' ? -1 : EXIT_USAGE;
		}
	}
	if (optind < argc && strcmp(argv[optind], "reset") == 0) {
		o->reset = true;
		optind++;
	}
	if (optind < argc ||
	    (o->reset && (o->json || o->per_cpu || o->interval > 0))) {
		stats_usage(stderr);
		return EXIT_USAGE;
	}
	return 0;
}

/**
 * cmd_stats() - zcsend stats [--json] [--per-cpu] [--watch S] | stats reset
 * @argc: argument count, argv[0] is "stats"
 * @argv: arguments
 *
 * Return: exit status: 0, 1 on failure, EXIT_USAGE on bad usage.
 */
int cmd_stats(int argc, char **argv)
{
	struct stats_opts o = { 0 };
	struct zc_genl *g;
	int ret;

	ret = parse_stats_opts(argc, argv, &o);
	if (ret)
		return ret < 0 ? 0 : ret;
	g = zc_genl_open();
	if (!g)
		return 1;
	if (o.reset)
		ret = zc_genl_status(g, zc_stats_reset(g), "stats reset");
	else if (o.interval > 0)
		ret = stats_watch(g, o.json, o.per_cpu, o.interval);
	else
		ret = stats_sample(g, o.json, o.per_cpu);
	zc_genl_free(g);
	return ret;
}
