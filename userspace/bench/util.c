// SPDX-License-Identifier: GPL-2.0
/*
 * zcsend bench: statistics, units, parsing and the stop signal. It depends
 * on no other part, so the host tests (tests/bench.sh) build it on its own.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "util.h"

volatile int bench_stop_signal;

static void on_signal(int sig)
{
	bench_stop_signal = sig;
}

int catch_signals(void)
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

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

struct spread spread_of(const double *v, size_t n)
{
	struct spread s = { 0, 0, 0 };
	double small[64];
	double *tmp = small;
	size_t i;

	if (n == 0)
		return s;
	if (n > sizeof(small) / sizeof(small[0])) {
		tmp = malloc(n * sizeof(*tmp));
		if (!tmp) {
			/* No memory: min/max still exact, median = mean. */
			double sum = 0;

			s.min = s.max = v[0];
			for (i = 0; i < n; i++) {
				sum += v[i];
				if (v[i] < s.min)
					s.min = v[i];
				if (v[i] > s.max)
					s.max = v[i];
			}
			s.median = sum / (double)n;
			return s;
		}
	}
	memcpy(tmp, v, n * sizeof(*tmp));
	qsort(tmp, n, sizeof(*tmp), cmp_double);
	s.min = tmp[0];
	s.max = tmp[n - 1];
	if (n % 2)
		s.median = tmp[n / 2];
	else
		s.median = (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
	if (tmp != small)
		free(tmp);
	return s;
}

double sign_test_p(int k, int n)
{
	double c = 1, sum = 0;
	int i, lo = k < n - k ? k : n - k;

	if (n <= 0 || k < 0 || k > n)
		return 1;
	for (i = 0; i <= lo; i++) {
		sum += c;
		c = c * (n - i) / (i + 1);
	}
	sum = 2 * sum / pow(2, n);
	return sum < 1 ? sum : 1;
}

int parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	uint64_t mult = 1;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	switch (*end) {
	case '\0':
		break;
	case 'k': case 'K':
		mult = 1ULL << 10;
		end++;
		break;
	case 'm': case 'M':
		mult = 1ULL << 20;
		end++;
		break;
	case 'g': case 'G':
		mult = 1ULL << 30;
		end++;
		break;
	default:
		return -1;
	}
	if (mult > 1 && strcmp(end, "iB") == 0)
		end += 2;
	else if (mult > 1 && (strcmp(end, "B") == 0 || strcmp(end, "b") == 0))
		end++;
	if (*end)
		return -1;
	if (v == 0 || v > UINT64_MAX / mult)
		return -1;
	*out = v * mult;
	return 0;
}

int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v == 0 || v > max)
		return -1;
	*out = v;
	return 0;
}

/* value scaled down by step while it is at least step, with unit names. */
static const char *fmt_scaled(char *buf, size_t len, double v, double step,
			      const char *const *units, size_t nunits)
{
	size_t u = 0;
	double a = v < 0 ? -v : v;

	while (a >= step && u + 1 < nunits) {
		v /= step;
		a /= step;
		u++;
	}
	if (u == 0 && a == (double)(long long)a)
		snprintf(buf, len, "%lld %s", (long long)v, units[u]);
	else if (a >= 100)
		snprintf(buf, len, "%.0f %s", v, units[u]);
	else if (a >= 10)
		snprintf(buf, len, "%.1f %s", v, units[u]);
	else
		snprintf(buf, len, "%.2f %s", v, units[u]);
	return buf;
}

/* "MIN-MAX", each a size as parse_size() takes it, MIN <= MAX. */
int parse_size_range(const char *s, uint64_t *min, uint64_t *max)
{
	const char *dash = s ? strchr(s, '-') : NULL;
	char lo[32];
	uint64_t a, b;

	if (!dash || (size_t)(dash - s) >= sizeof(lo))
		return -1;
	memcpy(lo, s, (size_t)(dash - s));
	lo[dash - s] = '\0';
	if (parse_size(lo, &a) || parse_size(dash + 1, &b) || a > b)
		return -1;
	*min = a;
	*max = b;
	return 0;
}

const char *fmt_bytes(char *buf, size_t len, double bytes)
{
	static const char *const u[] = { "B", "KiB", "MiB", "GiB", "TiB" };

	return fmt_scaled(buf, len, bytes, 1024, u, 5);
}

const char *fmt_rate(char *buf, size_t len, double bytes_per_s)
{
	static const char *const u[] = { "B/s", "kB/s", "MB/s", "GB/s", "TB/s" };

	return fmt_scaled(buf, len, bytes_per_s, 1000, u, 5);
}

const char *fmt_secs(char *buf, size_t len, double secs)
{
	double a = secs < 0 ? -secs : secs;

	if (a >= 1)
		snprintf(buf, len, "%.2f s", secs);
	else if (a >= 1e-3)
		snprintf(buf, len, "%.1f ms", secs * 1e3);
	else
		snprintf(buf, len, "%.0f us", secs * 1e6);
	return buf;
}

int run_cmd(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	int n, st;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(cmd))
		return -1;
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "zcsend bench: command failed: %s\n", cmd);
		return -1;
	}
	return 0;
}

const void *find_by_name(const void *table, int n, size_t size,
			 const char *name)
{
	const char *entry = table;
	int i;

	for (i = 0; i < n; i++, entry += size)
		if (strcmp(name, *(const char *const *)entry) == 0)
			return entry;
	return NULL;
}

int for_each_item(const char *list, int (*fn)(const char *item, void *arg),
		  void *arg)
{
	char item[64];
	const char *p = list;

	if (!list || !*list)
		return -1;
	for (;;) {
		size_t n = strcspn(p, ",");
		int err;

		if (n == 0 || n >= sizeof(item))
			return -1;
		memcpy(item, p, n);
		item[n] = '\0';
		err = fn(item, arg);
		if (err)
			return err;
		if (!p[n])
			return 0;
		p += n + 1;
	}
}

int add_unique(const void **list, int *n, int max, const void *p)
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

double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double bench_tv_secs(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec * 1e-6;
}
