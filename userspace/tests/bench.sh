#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host-side tests of zcsend bench: the statistics, units and parsing in
# bench_util.c (built here into a unit-test binary with ASan/UBSan, C11,
# -Wall -Wextra -Werror), and the argument handling of `zcsend bench`
# (ZCSEND_TOOL, which scripts/check sets to the ASan/UBSan build). Prints TAP.
set -uo pipefail

TOP=$(cd "$(dirname "$0")/../.." && pwd)
TOOL=${ZCSEND_TOOL:-$TOP/userspace/zcsend}
CC=${CC:-gcc}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/zcsend-bench-test.XXXXXX") || exit 1
trap 'rm -rf "$WORK"' EXIT
n=0
failed=0

ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=1
	fi
}

echo "TAP version 13"

# --- unit tests of bench_util.c ---
cat > "$WORK/unit.c" <<'EOF'
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"

volatile int bench_stop_signal;
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

int main(void)
{
	double odd[] = { 5, 1, 3 }, even[] = { 4, 1, 3, 2 }, one[] = { 42 };
	double neg[] = { -1, -5, 10, 0, 2 }, big[100];
	struct spread s;
	char buf[32];
	uint64_t v, w;
	unsigned long u;
	int i, count;

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

	count = 0;
	check(for_each_item("a,b,c", count_item, &count) == 0 && count == 3, "list of 3");
	count = 0;
	check(for_each_item("a,stop,c", count_item, &count) == 7 && count == 2, "list stops at the callback's error");
	check(for_each_item("a,,c", count_item, &count) == -1, "empty item refused");
	check(for_each_item("", count_item, &count) == -1, "empty list refused");
	check(for_each_item("a,", count_item, &count) == -1, "trailing comma refused");
	printf("1..%d\n", n);
	return failed;
}
EOF
if $CC -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O1 -g \
	-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
	-I"$TOP/userspace" -I"$TOP/uapi" -o "$WORK/unit" "$WORK/unit.c" \
	"$TOP/userspace/bench_util.c" -lm > "$WORK/cc.log" 2>&1; then
	ok 0 "unit tests build with -Wall -Wextra -Werror and ASan/UBSan"
	# Renumber the unit binary's TAP lines into ours.
	"$WORK/unit" > "$WORK/unit.out" 2>&1
	st=$?
	while IFS= read -r line; do
		case $line in
		"ok "*)		ok 0 "${line#* - }" ;;
		"not ok "*)	ok 1 "${line#* - }" ;;
		1..*)		;;
		*)		echo "# $line" ;;
		esac
	done < "$WORK/unit.out"
	ok $st "unit test binary exits 0 (no sanitizer report)"
else
	ok 1 "unit tests build with -Wall -Wextra -Werror and ASan/UBSan"
	sed 's/^/# /' "$WORK/cc.log"
fi

# --- argument handling of zcsend bench ---
# expect STATUS PATTERN DESCRIPTION -- ARGS...
expect() {
	local want=$1 re=$2 what=$3 got out
	shift 4
	out=$("$TOOL" bench "$@" 2>&1)
	got=$?
	if [ "$got" = "$want" ] && echo "$out" | grep -E -q -- "$re"; then
		ok 0 "$what"
	else
		ok 1 "$what (exit $got, want $want; output did not match /$re/?)"
		echo "$out" | head -n 20 | sed 's/^/# /'
	fi
}

expect 0 '^usage: zcsend bench' "bench --help prints usage, exits 0" -- --help
expect 2 "invalid --size '0'" "bench --size 0 is a usage error" -- --size 0
expect 2 "invalid --size '1M,x'" "bench --size with a bad item" -- --size 1M,x
expect 2 "invalid --runs" "bench --runs 0" -- --runs 0
expect 2 "invalid --runs" "bench --runs junk" -- --runs 5x
expect 2 "invalid --method 'sendfile,nope'" "bench --method with an unknown method" -- --method sendfile,nope
expect 2 "invalid --receiver" "bench --receiver bogus" -- --receiver bogus
expect 2 "invalid --route" "bench --route bogus" -- --route wifi
expect 2 "invalid --workload" "bench --workload bogus" -- --workload huge
expect 2 "invalid --bufsize" "bench --bufsize below 4K" -- --bufsize 100
expect 2 "invalid --object-size '8K-4K'" "bench --object-size MIN above MAX" -- --object-size 8K-4K
expect 2 "invalid --object-size '1-2G'" "bench --object-size above 1 GiB" -- --object-size 1-2G
# More files than the hard open-file limit allows: a clear error before any work.
out=$(ulimit -Sn 1024 && ulimit -Hn 1024 && "$TOOL" bench --workload small --objects 5000 --no-trace 2>&1)
st=$?
if [ $st = 1 ] && echo "$out" | grep -q -- "--objects 5000 needs 5064 open files, the hard limit is 1024"; then
	ok 0 "bench --objects above the open-file hard limit is refused, with the limit named"
else
	ok 1 "bench --objects above the open-file hard limit (exit $st): $out"
fi
expect 2 "invalid argument 'extra'" "bench refuses a stray argument" -- extra
expect 2 "usage" "bench refuses an unknown option" -- --frobnicate

# A real (small) run on loopback: no module, no root needed. zcsend must be
# reported unavailable with a reason when /dev/zcsend is absent.
out=$("$TOOL" bench --size 64K --runs 1 --method read+write,sendfile,splice,zcsend \
	--no-trace --dir "$WORK" 2>&1)
st=$?
ok $st "a 64K loopback run exits 0"
echo "$out" | grep -E -q '^sendfile +[0-9.]+ [kMG]?B/s' ; ok $? "the table has a sendfile row with a rate"
echo "$out" | grep -E -q '^read\+write .* 0\.[0-9]+x' ; ok $? "read+write has a ratio against sendfile"
if [ -e /dev/zcsend ]; then
	ok 0 "zcsend row (module present here: not checked) # SKIP /dev/zcsend exists"
else
	echo "$out" | grep -E -q '^zcsend +unavailable: module not loaded'
	ok $? "zcsend is 'unavailable: module not loaded' without the module"
fi
echo "$out" | grep -q 'not measured: --no-trace'; ok $? "--no-trace says copies are not measured, and why"

json=$("$TOOL" bench --size 64K,128K --runs 2 --method read+write,sendfile --no-trace \
	--dir "$WORK" --json 2>&1)
ok $? "--json run exits 0"
if command -v python3 > /dev/null; then
	echo "$json" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert len(d["cases"]) == 2, "two cases"
for c in d["cases"]:
    for m in c["methods"]:
        assert m["available"], m
        assert len(m["runs"]) == 3, "warm-up + 2 runs"
        for r in m["runs"]:
            assert r["ok"] and r["bytes_sent"] == r["bytes_requested"] == r["bytes_received"] == c["bytes"], r
            for k in ("wall_s", "cpu_user_s", "cpu_sys_s", "syscalls", "ctx_voluntary", "ctx_involuntary"):
                assert k in r, k
        s = m["summary"]["bytes_per_s"]
        assert s["min"] <= s["median"] <= s["max"], s
' 2>&1 | sed 's/^/# /'
	ok "${PIPESTATUS[1]}" "--json is valid JSON with every raw run, exact byte counts, min <= median <= max"
else
	ok 0 "JSON check # SKIP no python3"
fi
ls "$WORK"/zcsend-bench.* > /dev/null 2>&1
[ $? != 0 ]; ok $? "test files removed after the run"

echo "1..$n"
exit $failed
