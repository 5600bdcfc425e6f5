/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zcsend bench: the results of a run (results.c), the floor that the table,
 * the JSON and the charts (report.c, plot.c) read and that the runner
 * (transfer.c) fills: every raw run of every method in every case, and the
 * figures derived from them (metrics, their spreads, the article's claims).
 */
#ifndef ZCSEND_BENCH_RESULTS_H
#define ZCSEND_BENCH_RESULTS_H

#include <stddef.h>
#include <stdint.h>

#include "methods.h"
#include "routes.h"
#include "trace.h"
#include "util.h"

#define MAX_RUNS	1000
#define MAX_METHODS	16
#define MAX_ROUTES	16

/* One run of one method: what it moved, what it cost, what it copied. */
struct run_rec {
	int ok;
	char err[96];
	int errnum;		/* the failure's errno, 0 if none */
	uint64_t requested, sent, received, syscalls;
	double wall, usr, sys;
	long vcs, ivcs;
	struct copies cp;
	struct trace_sample ts;
	uint64_t zc_sends, zc_done, zc_copied;
	int zc_known;
};

struct method_res {
	const struct bench_method *method;
	char unavail[200];
	struct run_rec *runs;	/* runs[0] is the warm-up */
	int nruns;
};

/*
 * struct case_res - one case: one workload's files on one route, every
 * method. The workload describes itself here (name, header, title), so
 * that what reads the results needs no workload.
 */
struct case_res {
	const char *workload;	/* its name */
	int one_file;		/* one file per transfer (else object_min/max) */
	uint32_t header_bytes;	/* in-memory header before each file */
	char title[256];	/* the case's title line */
	uint64_t bytes;		/* per transfer, headers included */
	unsigned long objects;
	uint64_t obj_min, obj_max;	/* file sizes, before headers */
	const struct bench_route *route;
	int cold;		/* really cold (not tmpfs) */
	char note[160];
	char unavail[160];	/* the whole case (route setup failed) */
	struct method_res m[MAX_METHODS];
	int nm;
};

/* struct results - a run of the benchmark: its settings and its cases. */
struct results {
	unsigned long runs;	/* measured runs per method, after 1 warm-up */
	enum receiver_mode rx;
	const struct bench_method *methods[MAX_METHODS];
	int nmethods;
	const struct bench_route *routes[MAX_ROUTES];
	int nroutes;
	const char *copy_why;	/* NULL if CPU copies were measured, else why not */
	int complete;		/* every case ran (else: stopped by a failure) */
	struct case_res *cases;
	int ncases;
};

/* A new, zeroed case at the end of res->cases; NULL if out of memory. */
struct case_res *results_new_case(struct results *res);
void results_free(struct results *res);
/* "read" or "discard". */
const char *receiver_name(enum receiver_mode rx);

/* The figures derived from a run; names as in the JSON summary. */
enum metric {
	BYTES_PER_S, REQUESTS_PER_S, CPU_S_PER_GIB, USER_S_PER_GIB,
	SYS_S_PER_GIB, SYSCALLS, CTX_VOLUNTARY, CTX_INVOLUNTARY,
	COPIES_PER_BYTE, COPIES_FILE_READ_PER_BYTE, COPIES_SEND_PER_BYTE,
	COPIES_SEGMENT_PER_BYTE, COPIES_ZC_REPORTED_PER_BYTE,
	BY_REFERENCE_PER_BYTE, RX_SIDE_COPIES_PER_BYTE, ENCRYPTED_PER_BYTE,
	TLS_COPIES_PER_BYTE, NIC_FRAMES, NIC_HEAD_BYTES_PER_BYTE,
	NIC_FRAG_BYTES_PER_BYTE, METRIC_COUNT
};

/* The JSON name of a metric, or NULL if the summary leaves it out. */
const char *metric_json_name(enum metric x);
/* Spread of a metric over the successful runs (warm-up excluded); *nok,
 * if not NULL, gets how many runs succeeded. */
struct spread metric_spread(const struct case_res *cs, const struct method_res *m,
			    enum metric x, int *nok);
/* The method's result in a case if it ran, else NULL. */
const struct method_res *find_method(const struct case_res *cs, const char *name);
/* The article's figures for a method on a route: 0 if it has no row. */
int article_claim_of(const struct bench_method *m, const struct bench_route *r,
		     int *switches, int *copies);

#endif /* ZCSEND_BENCH_RESULTS_H */
