#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# libzcsend-preload.so against sendfile(2) with the module loaded: the
# cases of userspace/tests/preload_test run with "--ioctl", so the shim's
# TCP calls must go through the ioctl (its own counters say so, case by
# case) and give what the kernel's sendfile gives: return value, errno,
# offset, file position, SIGPIPE and the received bytes. On the host
# (userspace/tests/preload.sh) the same cases can only compare the
# fallback, sendfile, with sendfile. Here, also, the module's own CALLS
# counter (zcsend stats) must have moved: the shim's word is not taken
# alone.
#
# Needs root and the module loaded (exit 4 otherwise); prints KTAP with the
# kernel's ktap_helpers.sh (zcsend_lib.sh).
set -uo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
TOOL=$TOP/userspace/zcsend
TEST=$TOP/userspace/preload_test

# shellcheck source=zcsend_lib.sh
. "$(dirname "$0")/zcsend_lib.sh"
require_module
for f in "$TOOL" "$TEST"; do
	[ -x "$f" ] || skip_all "$f not built"
done


out=$(mktemp)
trap 'rm -f "$out"' EXIT

ktap_print_header
c0=$(zstat calls)
"$TEST" --ioctl > "$out" 2>&1
st=$?
c1=$(zstat calls)

# preload_test prints its plan last; ours comes before our lines: its
# cases, its exit status, and the module's counter.
n=$(grep -c -E '^(not )?ok ' "$out")
plan $((n + 2))
while IFS= read -r line; do
	case $line in
	"ok "*) ktap_test_pass "preload --ioctl: ${line#ok * - }" ;;
	"not ok "*) ktap_test_fail "preload --ioctl: ${line#not ok * - }" ;;
	"#"*) echo "$line" ;;
	esac
done < "$out"
if [ "$st" = 0 ]; then
	ktap_test_pass "preload_test --ioctl exited 0"
else
	ktap_test_fail "preload_test --ioctl exited $st"
	grep -v -E '^(not )?ok ' "$out" | sed 's/^/# /' | tail -n 20
fi
if [ -n "$c0" ] && [ -n "$c1" ] && [ "$c1" -gt "$c0" ]; then
	ktap_test_pass "the module counted the shim's calls: calls +$((c1 - c0))"
else
	ktap_test_fail "the module's calls counter did not move ('$c0' -> '$c1')"
fi
finish
