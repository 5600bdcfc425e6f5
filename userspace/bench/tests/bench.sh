#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host-side tests of zcsend bench: the statistics, units and parsing in
# util.c (bench_unit.c, built here with ASan/UBSan, C11, -Wall -Wextra
# -Werror), the hand-over from `zcsend bench` to zcsend-bench and the
# argument handling (ZCSEND_TOOL, which scripts/check sets to the ASan/UBSan
# build, with its zcsend-bench beside it), and the output's shape: the
# columns and JSON keys of a fixed run still include every one in
# bench-shape.txt (bench_shape.py). Prints KTAP with the kernel's
# ktap_helpers.sh (scripts/setup extracts it).
set -uo pipefail

TOP=$(cd "$(dirname "$0")/../../.." && pwd)
TOOL=${ZCSEND_TOOL:-$TOP/userspace/zcsend}
KTAP=${ZCSEND_CACHE:-/var/cache/zcsend}/linux-source-6.12/tools/testing/selftests/kselftest/ktap_helpers.sh
CC=${CC:-gcc}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/zcsend-bench-test.XXXXXX") || exit 1
trap 'rm -rf "$WORK"' EXIT

# shellcheck source=/dev/null
. "$KTAP" || { echo "Bail out! no $KTAP: run scripts/setup"; exit 1; }

# ok STATUS DESCRIPTION: a test that passed if STATUS is 0.
ok() {
	if [ "$1" = 0 ]; then
		ktap_test_pass "$2"
	else
		ktap_test_fail "$2"
	fi
}

ktap_print_header

# --- unit tests of bench_util.c ---
if $CC -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O1 -g \
	-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
	-I"$TOP/userspace/bench" -I"$TOP/uapi" -o "$WORK/unit" "$TOP/userspace/bench/tests/bench_unit.c" \
	"$TOP/userspace/bench/util.c" -lm > "$WORK/cc.log" 2>&1; then
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

# --- the hand-over: zcsend runs zcsend-bench, and carries none of it ---
# (The tool links liburing for "zcsend send --uring" alone.)
if nm "$TOOL" 2>/dev/null | grep -q ' T article_claim_of$'; then
	ok 1 "zcsend does not carry the benchmark (a program of its own)"
else
	ok 0 "zcsend does not carry the benchmark (a program of its own)"
fi
cp "$TOOL" "$WORK/zcsend-alone"
out=$("$WORK/zcsend-alone" bench --help 2>&1)
st=$?
if [ $st = 1 ] && grep -q "cannot run .*zcsend-bench" <<< "$out"; then
	ok 0 "zcsend bench without zcsend-bench beside it or installed: a clear error, exit 1"
elif [ -x /usr/lib/*/zcsend/zcsend-bench ]; then
	ktap_test_skip "zcsend bench without zcsend-bench beside it: one is installed here"
else
	ok 1 "zcsend bench without zcsend-bench (exit $st): $out"
fi

# --- argument handling of zcsend bench ---
# expect STATUS PATTERN DESCRIPTION -- ARGS...
expect() {
	local want=$1 re=$2 what=$3 got out
	shift 4
	out=$("$TOOL" bench "$@" 2>&1)
	got=$?
	if [ "$got" = "$want" ] && grep -E -q -- "$re" <<< "$out"; then
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
expect 2 "invalid --object-size '8K-4K'" "bench --object-size MIN above MAX" -- --workload small --object-size 8K-4K
expect 2 "invalid --object-size '1-2G'" "bench --object-size above 1 GiB" -- --workload small --object-size 1-2G
# More files than the hard open-file limit allows: a clear error before any work.
out=$(ulimit -Sn 1024 && ulimit -Hn 1024 && "$TOOL" bench --workload small --objects 5000 --no-trace 2>&1)
st=$?
if [ $st = 1 ] && grep -q -- "--objects 5000 needs 5064 open files, the hard limit is 1024" <<< "$out"; then
	ok 0 "bench --objects above the open-file hard limit is refused, with the limit named"
else
	ok 1 "bench --objects above the open-file hard limit (exit $st): $out"
fi
expect 2 "invalid argument 'extra'" "bench refuses a stray argument" -- extra
expect 2 "--duration is not an option of workload bulk" \
	"an option of another workload is refused, and named" -- --duration 5
expect 2 "workload nginx runs alone" "nginx cannot share a run" -- --workload bulk,nginx
expect 2 "--method is not an option of workload nginx" \
	"nginx refuses the methods' options" -- --workload nginx --method sendfile
expect 2 "invalid --duration '0'" "nginx --duration 0" -- --workload nginx --duration 0
expect 2 "invalid --count-calls '2'" "nginx --count-calls is 0 or 1" -- --workload nginx --count-calls 2
expect 2 "usage" "bench refuses an unknown option" -- --frobnicate

# A real (small) run on loopback: no module, no root needed. zcsend must be
# reported unavailable with a reason when /dev/zcsend is absent.
out=$("$TOOL" bench --size 64K --runs 1 --method read+write,sendfile,splice,zcsend \
	--no-trace --dir "$WORK" 2>&1)
st=$?
ok $st "a 64K loopback run exits 0"
grep -E -q '^sendfile +[0-9.]+ [kMG]?B/s' <<< "$out" ; st=$?
ok $st "the table has a sendfile row with a rate"
[ $st = 0 ] || echo "$out" | sed 's/^/# /'
grep -E -q '^read\+write .* [0-9]+\.[0-9]+x' <<< "$out" ; ok $? "read+write has a ratio against sendfile"
if [ -e /dev/zcsend ]; then
	ktap_test_skip "zcsend row (module present here: not checked): /dev/zcsend exists"
else
	grep -E -q '^zcsend +unavailable: module not loaded' <<< "$out"
	ok $? "zcsend is 'unavailable: module not loaded' without the module"
fi
grep -q 'not measured: --no-trace' <<< "$out"; ok $? "--no-trace says copies are not measured, and why"

json=$("$TOOL" bench --size 64K,128K --runs 2 --method read+write,sendfile --no-trace \
	--dir "$WORK" --json 2> "$WORK/json.err")
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
	ktap_test_skip "JSON check: no python3"
fi

# The output's shape: every column header, row kind and JSON key of a fixed
# run that bench-shape.txt lists (captured before the method/route tables
# were introduced) is still there. Regenerate only when a column goes on
# purpose: bench_shape.py TABLE JSON > bench-shape.txt.
"$TOOL" bench --size 64K --runs 1 --workload bulk,small --objects 4 --no-trace \
	--method read+write,mmap+write,sendfile,splice,zcsend,msg_zerocopy,uring_splice,uring_send_zc \
	--dir "$WORK" --json="$WORK/shape.json" > "$WORK/shape.txt" 2> "$WORK/shape.err"
ok $? "fixed run for the output shape exits 0"
if command -v python3 > /dev/null; then
	python3 "$TOP/userspace/bench/tests/bench_shape.py" --check "$TOP/userspace/bench/tests/bench-shape.txt" \
		"$WORK/shape.txt" "$WORK/shape.json" > "$WORK/shape.diff" 2>&1
	st=$?
	sed 's/^/# /' "$WORK/shape.diff"
	ok $st "table columns, row kinds and JSON keys as in bench-shape.txt"
else
	ktap_test_skip "output shape: no python3"
fi

# The io_uring workload (a runner of its own): its options, and a tiny run
# of every case whose table and JSON keep the shape in bench-shape-uring.txt
# (regenerate as above). uring_cmd and zcsend need the module: their rows
# are left out of the shape.
expect 2 "invalid --cases 'bulk,huge'" "uring --cases with an unknown case" -- --workload uring --cases bulk,huge
expect 2 "invalid --uring-method 'nope'" "uring --uring-method unknown" -- --workload uring --uring-method nope
expect 2 "invalid --qd '0'" "uring --qd 0" -- --workload uring --qd 0
expect 2 "--method is not an option of workload uring" \
	"uring refuses the methods' options" -- --workload uring --method sendfile
expect 2 "workload uring runs alone" "uring cannot share a run" -- --workload bulk,uring
expect 2 "runs on route loopback only" "uring refuses other routes" -- --workload uring --route veth
"$TOOL" bench --workload uring --runs 1 --size 256K --objects 4 --responses 24 \
	--connections 4 --many 8 --qd 8 --dir "$WORK" --json="$WORK/uring.json" \
	> "$WORK/uring.txt" 2> "$WORK/uring.err"
ok $? "a tiny uring run (every case) exits 0"
if command -v python3 > /dev/null; then
	python3 "$TOP/userspace/bench/tests/bench_shape.py" --check \
		"$TOP/userspace/bench/tests/bench-shape-uring.txt" \
		"$WORK/uring.txt" "$WORK/uring.json" > "$WORK/uring.diff" 2>&1
	st=$?
	sed 's/^/# /' "$WORK/uring.diff"
	ok $st "uring: table columns, row kinds and JSON keys as in bench-shape-uring.txt"
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["complete"] and len(d["cases"]) == 3, "three cases"
for c in d["cases"]:
    for m in c["methods"]:
        if not m["available"]:
            assert m["method"] in ("uring_cmd", "zcsend"), m
            continue
        assert len(m["runs"]) == 2, "warm-up + 1 run"
        for r in m["runs"]:
            assert r["ok"], r
            assert r["bytes_sent"] == r["bytes_received"] == c["bytes"], r
            assert r["responses"] == c["responses"], r
            assert r["latency_p50_s"] <= r["latency_p99_s"] <= r["latency_p999_s"], r
        if m["method"] in ("uring_cmd", "uring_splice") and c["case"] != "bulk":
            # one io_uring_enter per batch: at most 1/min(depth, connections) + 1/responses
            # (uring_send_zc waits again for the notifications)
            n = min(d["queue_depth"], c["connections"])
            assert m["summary"]["syscalls_per_response"]["max"] <= 1.0 / n + 1.0 / c["responses"] + 1e-9, m["summary"]
' "$WORK/uring.json" 2>&1 | sed 's/^/# /'
	ok "${PIPESTATUS[0]}" "uring JSON: exact byte counts, every response, ordered percentiles, one enter per batch"
else
	ktap_test_skip "uring output shape: no python3"
	ktap_test_skip "uring JSON: no python3"
fi

# The server workload (issue 22): a tiny run on loopback, no module, no
# root (the cache is dropped per file; nowait is unavailable without the
# module). Bodies complete whole: bytes == requests x file size.
expect 2 "invalid --hot '101'" "server --hot above 100" -- --workload server --hot 101
expect 2 "runs on loopback only" "server refuses other routes" -- --workload server --route veth
"$TOOL" bench --workload server --set-size 1M --file-size 64K --connections 4 --duration 1 \
	--runs 1 --dir "$WORK" --json="$WORK/server.json" > "$WORK/server.txt" 2> "$WORK/server.err"
st=$?
ok $st "a tiny server run exits 0"
[ $st = 0 ] || sed 's/^/# /' "$WORK/server.err"
if command -v python3 > /dev/null; then
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["files"] == 16 and d["complete"], d
for m in d["modes"]:
    if not m["available"]:
        assert m["mode"] == "nowait" and m["reason"], m
        continue
    assert not m["error"] and len(m["runs"]) == 1, m
    for r in m["runs"]:
        assert r["ok"] and r["requests"] > 0, r
        assert r["bytes"] == r["requests"] * d["file_size"], r
        assert r["hot_requests"] <= r["requests"], r
        assert r["hot_p50_ms"] <= r["hot_p99_ms"] <= r["hot_p999_ms"], r
' "$WORK/server.json" 2>&1 | sed 's/^/# /'
	ok "${PIPESTATUS[0]}" "server JSON: every body whole, p50 <= p99 <= p99.9"
	python3 "$TOP/userspace/bench/tests/bench_shape.py" --check \
		"$TOP/userspace/bench/tests/bench-shape-server.txt" "$WORK/server.txt" \
		"$WORK/server.json" > "$WORK/server.diff" 2>&1
	st=$?
	sed 's/^/# /' "$WORK/server.diff"
	ok $st "server table columns, rows and JSON keys as in bench-shape-server.txt"
else
	ktap_test_skip "server JSON and shape: no python3"
fi

# The stream workload (issue 24): a tiny run on loopback, no module (drop
# and the notification case are unavailable on the host), no root.
expect 2 "runs on one route, not kTLS" "stream refuses kTLS" -- --workload stream --route loopback-ktls
"$TOOL" bench --workload stream --catalogue 4M --hot-set 256K --hot-file 64K --bulk 1M \
	--notify-bytes 2M --runs 1 --dir "$WORK" --json="$WORK/stream.json" \
	> "$WORK/stream.txt" 2> "$WORK/stream.err"
st=$?
ok $st "a tiny stream run exits 0"
[ $st = 0 ] || sed 's/^/# /' "$WORK/stream.err"
if command -v python3 > /dev/null; then
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["complete"] and d["hot_files"] == 4, d
n = d["catalogue"] // d["chunk"]
for m in d["modes"]:
    if not m["available"]:
        assert m["mode"] == "drop" and m["reason"], m
        continue
    assert not m["error"] and len(m["runs"]) == 1, m
    for r in m["runs"]:
        assert r["ok"], r
        assert r["bytes"] == d["catalogue"] + r["hot_requests"] * d["hot_file"], r
        assert r["hot_requests"] == n * d["hot_every"], r
        assert r["hot_pages_resident"] <= r["hot_pages"] and 0 <= r["hot_hit_ratio"] <= 1, r
' "$WORK/stream.json" 2>&1 | sed 's/^/# /'
	ok "${PIPESTATUS[0]}" "stream JSON: every byte received, every hot response counted"
	python3 "$TOP/userspace/bench/tests/bench_shape.py" --check \
		"$TOP/userspace/bench/tests/bench-shape-stream.txt" "$WORK/stream.txt" \
		"$WORK/stream.json" > "$WORK/stream.diff" 2>&1
	st=$?
	sed 's/^/# /' "$WORK/stream.diff"
	ok $st "stream table columns, rows and JSON keys as in bench-shape-stream.txt"
else
	ktap_test_skip "stream JSON and shape: no python3"
fi

ls "$WORK"/zcsend-bench.* > /dev/null 2>&1
[ $? != 0 ]; ok $? "test files removed after the run"

ktap_set_plan $((KTAP_TESTNO - 1))
ktap_finished
