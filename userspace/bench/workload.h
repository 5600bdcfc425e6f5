/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zcsend bench: the workloads, one table entry each (main.c lists them),
 * and the runners that run them:
 *
 *   transfer.c  the methods side by side: for each route, each case of each
 *               selected workload is a set of files that every method sends
 *               in turn (bulk: one file per --size; small: many files after
 *               a header each);
 *   nginx.c     a runner of its own: nginx served three ways under wrk;
 *   server.c    a runner of its own: an epoll server on a slow disk, four
 *               ways around page-cache misses (issue 22);
 *   stream.c    a runner of its own: a catalogue streamed once past a hot
 *               set, and what release notifications cost (issue 24).
 *
 * Adding a workload is one entry: its name, its own options, and either
 * the files of its cases (then the methods' runner measures it) or a run
 * function of its own.
 */
#ifndef ZCSEND_BENCH_WORKLOAD_H
#define ZCSEND_BENCH_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "results.h"

/* The options that every workload shares (main.c parses them). */
struct bench_opts {
	/* common */
	unsigned long runs;	/* measured runs per case */
	const struct bench_route *routes[MAX_ROUTES];
	int nroutes;
	int json;
	const char *json_file;	/* NULL: JSON on stdout instead of the table */
	const char *dir;	/* where test files go */
	/* the methods' runner (transfer.c) */
	const struct bench_method *methods[MAX_METHODS];
	int nmethods;
	enum receiver_mode rx;
	int cold;
	int trace;
	const char *plot_file;
	uint64_t buf_len;
};

/*
 * struct bench_option - an option of one workload, --NAME [ARG]. Several
 * workloads may have an option of the same name (each gets the value).
 * @name: without the dashes
 * @arg:  the value's name in --help; NULL: the option takes no value
 * @help: one line for --help
 * @set:  take the value: 0, or -1 if it is invalid
 */
struct bench_option {
	const char *name;
	const char *arg;
	const char *help;
	int (*set)(const char *arg);
};

/*
 * struct bench_workload - what is measured.
 * @name:         as given to --workload and printed
 * @help:         one line for --help
 * @options:      its own options, ended by an entry without a name
 * @runs:         its default --runs
 * @routes:       its default --route list
 * A workload of the methods' runner (transfer.c):
 * @files:        the files of its case number i: sets cs->objects,
 *                ->obj_min, ->obj_max; 0, or -1 if there is no case i
 * @title:        the case's title line, once it has run
 * @one_file:     each transfer is one file (the JSON then leaves out the
 *                file size range)
 * @header_bytes: an in-memory header sent before each file
 * A workload with a runner of its own, which runs alone:
 * @run:          measure, print, write the JSON: the exit status
 */
struct bench_workload {
	const char *name;
	const char *help;
	const struct bench_option *options;
	unsigned long runs;
	const char *routes;
	int (*files)(int i, struct case_res *cs);
	void (*title)(const struct case_res *cs, enum receiver_mode rx,
		      char *buf, size_t len);
	int one_file;
	uint32_t header_bytes;
	int (*run)(const struct bench_opts *o);
};

extern const struct bench_workload workload_bulk;	/* transfer.c */
extern const struct bench_workload workload_small;	/* transfer.c */
extern const struct bench_workload workload_nginx;	/* nginx.c */
extern const struct bench_workload workload_uring;	/* uring.c */
extern const struct bench_workload workload_server;	/* server.c */
extern const struct bench_workload workload_stream;	/* stream.c */

/*
 * transfer.c: the methods' runner. Every case of the n workloads (each
 * with files) on every route of o; the tables on stdout as each case ends
 * (unless --json takes stdout), the JSON rewritten after each case (so a
 * run cut short keeps what finished), the charts at the end. The exit
 * status.
 */
int transfer_run(const struct bench_opts *o,
		 const struct bench_workload *const *wl, int n);

#endif /* ZCSEND_BENCH_WORKLOAD_H */
