// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of util.c (statistics, units, parsing), built and run by
 * userspace/bench/tests/bench.sh with ASan/UBSan, C11, -Wall -Wextra -Werror.
 * Prints TAP.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

static int n, failed;

static void check(int cond, const char *what)
{
	n++;
	printf("%s %d - %s\n", cond ? "ok" : "not ok", n, what);
	if (!cond)
		failed = 1;
}

static int near(double a, double b)
{
	return fabs(a - b) < 1e-9;
}

static int count_item(const char *item, void *arg)
{
	int *count = arg;

	(*count)++;
	return strcmp(item, "stop") == 0 ? 7 : 0;
}

static void test_spread(void)
{
	double odd[] = { 5, 1, 3 }, even[] = { 4, 1, 3, 2 }, one[] = { 42 };
	double neg[] = { -1, -5, 10, 0, 2 }, big[100];
	struct spread s;
	int i;

	s = spread_of(odd, 3);
	check(near(s.median, 3) && near(s.min, 1) && near(s.max, 5), "median/min/max of 3 (odd)");
	check(near(odd[0], 5) && near(odd[1], 1), "spread_of leaves its input alone");
	s = spread_of(even, 4);
	check(near(s.median, 2.5) && near(s.min, 1) && near(s.max, 4), "median of 4 is the mean of the middle two");
	s = spread_of(one, 1);
	check(near(s.median, 42) && near(s.min, 42) && near(s.max, 42), "one sample");
	s = spread_of(NULL, 0);
	check(near(s.median, 0) && near(s.min, 0) && near(s.max, 0), "no samples: zeros");
	s = spread_of(neg, 5);
	check(near(s.median, 0) && near(s.min, -5) && near(s.max, 10), "negative samples");
	for (i = 0; i < 100; i++)
		big[i] = 100 - i;
	s = spread_of(big, 100);
	check(near(s.median, 50.5) && near(s.min, 1) && near(s.max, 100), "100 samples (heap path)");
}

static void test_sign_test(void)
{
	check(near(sign_test_p(16, 20), 0.0118179321), "16 of 20: p = 0.0118");
	check(near(sign_test_p(4, 20), sign_test_p(16, 20)), "two-sided: 4 of 20 as 16 of 20");
	check(near(sign_test_p(5, 5), 0.0625) && near(sign_test_p(0, 5), 0.0625), "all of 5 either way: 1/16");
	check(near(sign_test_p(10, 20), 1) && near(sign_test_p(3, 7), 1), "an even split: 1");
	check(near(sign_test_p(0, 0), 1) && near(sign_test_p(3, 2), 1), "no rounds, or k > n: 1");
}

static void test_parse(void)
{
	uint64_t v, w;
	unsigned long u;

	check(parse_size("4096", &v) == 0 && v == 4096, "size 4096");
	check(parse_size("1M", &v) == 0 && v == 1048576, "size 1M");
	check(parse_size("64MiB", &v) == 0 && v == 64ULL << 20, "size 64MiB");
	check(parse_size("4k", &v) == 0 && v == 4096, "size 4k");
	check(parse_size("1G", &v) == 0 && v == 1ULL << 30, "size 1G");
	check(parse_size("2GB", &v) == 0 && v == 2ULL << 30, "size 2GB");
	check(parse_size("0", &v) == -1, "size 0 refused");
	check(parse_size("", &v) == -1, "empty size refused");
	check(parse_size("-1", &v) == -1, "negative size refused");
	check(parse_size("1X", &v) == -1, "unknown suffix refused");
	check(parse_size("1Mx", &v) == -1, "trailing junk refused");
	check(parse_size("99999999999999999999", &v) == -1, "overflow refused");
	check(parse_size("17179869184G", &v) == -1, "overflow by suffix refused");
	check(parse_size_range("4K-64K", &v, &w) == 0 && v == 4096 && w == 65536,
	      "range 4K-64K");
	check(parse_size_range("1-1", &v, &w) == 0 && v == 1 && w == 1, "range 1-1");
	check(parse_size_range("8K-4K", &v, &w) == -1, "range MIN > MAX refused");
	check(parse_size_range("4K", &v, &w) == -1, "range without a dash refused");
	check(parse_size_range("-4K", &v, &w) == -1, "range without MIN refused");
	check(parse_size_range("4K-", &v, &w) == -1, "range without MAX refused");
	check(parse_size_range("0-4K", &v, &w) == -1, "range from 0 refused");
	check(parse_uint("5", 10, &u) == 0 && u == 5, "uint 5");
	check(parse_uint("11", 10, &u) == -1, "uint above max refused");
	check(parse_uint("0", 10, &u) == -1, "uint 0 refused");
	check(parse_uint("3a", 10, &u) == -1, "uint junk refused");
}

static void test_fmt(void)
{
	char buf[32];

	check(strcmp(fmt_bytes(buf, sizeof(buf), 512), "512 B") == 0, "512 B");
	check(strcmp(fmt_bytes(buf, sizeof(buf), 1 << 20), "1.00 MiB") == 0, "1.00 MiB");
	check(strcmp(fmt_bytes(buf, sizeof(buf), 64.0 * (1 << 20)), "64.0 MiB") == 0, "64.0 MiB");
	check(strcmp(fmt_bytes(buf, sizeof(buf), 1536), "1.50 KiB") == 0, "1.50 KiB");
	check(strcmp(fmt_bytes(buf, sizeof(buf), 3.0 * (1ULL << 30)), "3.00 GiB") == 0, "3.00 GiB");
	check(strcmp(fmt_rate(buf, sizeof(buf), 123.4e6), "123 MB/s") == 0, "123 MB/s");
	check(strcmp(fmt_rate(buf, sizeof(buf), 1.234e9), "1.23 GB/s") == 0, "1.23 GB/s");
	check(strcmp(fmt_rate(buf, sizeof(buf), 999), "999 B/s") == 0, "999 B/s");
	check(strcmp(fmt_secs(buf, sizeof(buf), 0.0123), "12.3 ms") == 0, "12.3 ms");
	check(strcmp(fmt_secs(buf, sizeof(buf), 4.561), "4.56 s") == 0, "4.56 s");
	check(strcmp(fmt_secs(buf, sizeof(buf), 0.000789), "789 us") == 0, "789 us");
	check(strcmp(fmt_bytes(buf, 6, 1 << 20), "1.00 ") == 0, "a short buffer truncates, never overflows");
}

static void test_for_each_item(void)
{
	int count = 0;

	check(for_each_item("a,b,c", count_item, &count) == 0 && count == 3, "list of 3");
	count = 0;
	check(for_each_item("a,stop,c", count_item, &count) == 7 && count == 2, "list stops at the callback's error");
	check(for_each_item("a,,c", count_item, &count) == -1, "empty item refused");
	check(for_each_item("", count_item, &count) == -1, "empty list refused");
	check(for_each_item("a,", count_item, &count) == -1, "trailing comma refused");
}

int main(void)
{
	test_spread();
	test_sign_test();
	test_parse();
	test_fmt();
	test_for_each_item();
	printf("1..%d\n", n);
	return failed;
}
