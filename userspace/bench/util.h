/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zcsend bench: statistics, units, parsing, table look-ups (util.c). The
 * ground floor: every other part of the benchmark may use it, it uses none.
 */
#ifndef ZCSEND_BENCH_UTIL_H
#define ZCSEND_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

/* The exit status of a usage error (as the zcsend tool's). */
#define EXIT_USAGE	2

/*
 * The signal that asked the benchmark to stop (SIGINT, SIGTERM), or 0.
 * Set by catch_signals()' handler; blocking loops give up when it is set.
 */
extern volatile int bench_stop_signal;
/* Catch SIGINT and SIGTERM (no SA_RESTART), ignore SIGPIPE. 0 or -1. */
int catch_signals(void);

/* Seconds on CLOCK_MONOTONIC. */
double bench_now(void);
/* A struct timeval (getrusage's times) in seconds. */
double bench_tv_secs(struct timeval tv);

/** struct spread - median, min and max of a set of samples */
struct spread {
	double median;
	double min;
	double max;
};

/* Median (mean of the middle two for even n), min, max. n == 0: all 0. */
struct spread spread_of(const double *v, size_t n);

/* Two-sided sign test: the chance that k of n paired samples or fewer
 * (or as many more) go one way if each went either way with 1/2. */
double sign_test_p(int k, int n);

/* "1M", "64MiB", "4k", "1G", "4096": bytes. 0 on success, -1 if bad. */
int parse_size(const char *s, uint64_t *out);
int parse_size_range(const char *s, uint64_t *min, uint64_t *max);
/* A positive decimal integer no larger than max. 0 ok, -1 bad. */
int parse_uint(const char *s, unsigned long max, unsigned long *out);
/* Human units with binary prefixes: "1.00 MiB", "512 B". */
const char *fmt_bytes(char *buf, size_t len, double bytes);
/* Rate in decimal MB/s style: "123.4 MB/s", "1.23 GB/s". */
const char *fmt_rate(char *buf, size_t len, double bytes_per_s);
/* Seconds as "12.3 ms", "4.56 s", "789 us". */
const char *fmt_secs(char *buf, size_t len, double secs);
/* Split "a,b,c" into items; calls fn(item, arg) per item. 0 or fn's error. */
int for_each_item(const char *list, int (*fn)(const char *item, void *arg),
		  void *arg);
/* Run a shell command built from fmt; 0 if it exited 0, else -1 (the
 * command printed). */
int run_cmd(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The entry of a table of n entries of size bytes that is called name; each
 * entry starts with its name (const char *). NULL if none is. */
const void *find_by_name(const void *table, int n, size_t size,
			 const char *name);
/* Append p to list (of *n, at most max) unless it is there already: 0, or
 * -1 if p is NULL or the list is full. */
int add_unique(const void **list, int *n, int max, const void *p);

#endif /* ZCSEND_BENCH_UTIL_H */
