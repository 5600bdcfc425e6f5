#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host-side tests of libzcsend-preload.so (no module needed: the host has
# no /dev/zcsend, so every call must behave exactly as sendfile(2) by
# falling back to it). Prints KTAP with the kernel's ktap_helpers.sh
# (scripts/setup extracts it).
#
#  - preload_test (the shim linked in; ASan/UBSan when ZCSEND_TOOL names the
#    sanitized build) compares the shim with the kernel's sendfile, case by
#    case, with /dev/zcsend missing and with a device that is not zcsend's
#    (/dev/null: the ioctl fails with ENOTTY);
#  - the built library, preloaded into python3, serves os.sendfile and
#    writes its counters to ZCSEND_PRELOAD_STATS at exit, and exports
#    sendfile and sendfile64 only.
set -uo pipefail

TOP=$(cd "$(dirname "$0")/../.." && pwd)
TOOL=${ZCSEND_TOOL:-$TOP/userspace/zcsend}
TEST=$(dirname "$TOOL")/preload_test
LIB=$TOP/userspace/libzcsend-preload.so
KTAP=${ZCSEND_CACHE:-/var/cache/zcsend}/linux-source-6.12/tools/testing/selftests/kselftest/ktap_helpers.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# shellcheck source=/dev/null
. "$KTAP" || { echo "Bail out! no $KTAP: run scripts/setup"; exit 1; }

# sub NAME ENV...: run preload_test, its TAP lines become ours.
sub() {
	local name=$1 st line
	shift
	env "$@" "$TEST" > "$tmp/out" 2>&1
	st=$?
	while IFS= read -r line; do
		case $line in
		"ok "*) ktap_test_pass "$name: ${line#ok * - }" ;;
		"not ok "*) ktap_test_fail "$name: ${line#not ok * - }" ;;
		esac
	done < "$tmp/out"
	if [ "$st" != 0 ] && ! grep -q '^not ok' "$tmp/out"; then
		ktap_test_fail "$name: preload_test exited with status $st"
		sed 's/^/# /' "$tmp/out" | tail -n 20
	fi
}

ktap_print_header
if [ -e /dev/zcsend ]; then
	echo "# /dev/zcsend exists here: the fallback cases use a missing path"
fi
sub "no device" ZCSEND_PRELOAD_DEVICE=/nonexistent/zcsend
sub "not zcsend's device" ZCSEND_PRELOAD_DEVICE=/dev/null

if [ ! -f "$LIB" ]; then
	ktap_test_fail "$LIB not built (make userspace)"
else
	syms=$(nm -D --defined-only "$LIB" | awk '$2 == "T" || $2 == "W" { print $3 }' | sort | tr '\n' ' ')
	if [ "$syms" = "sendfile sendfile64 " ]; then
		ktap_test_pass "the library exports sendfile and sendfile64 only"
	else
		ktap_test_fail "the library exports: $syms"
	fi
	head -c 300000 /dev/urandom > "$tmp/file"
	# python3's os.sendfile calls the C library's sendfile: the shim's.
	LD_PRELOAD=$LIB ZCSEND_PRELOAD_STATS=$tmp/stats \
		ZCSEND_PRELOAD_DEVICE=/nonexistent/zcsend python3 - "$tmp/file" "$tmp/copy" <<'PY'
import os, socket, sys, threading
a, b = socket.socketpair()
out = bytearray()
def rd():
    while True:
        d = b.recv(65536)
        if not d:
            break
        out.extend(d)
t = threading.Thread(target=rd); t.start()
with open(sys.argv[1], 'rb') as f:
    off = 0
    while True:
        n = os.sendfile(a.fileno(), f.fileno(), off, 100000)
        if n == 0:
            break
        off += n
a.close(); t.join()
open(sys.argv[2], 'wb').write(out)
PY
	if cmp -s "$tmp/file" "$tmp/copy"; then
		ktap_test_pass "preloaded into python3: os.sendfile's bytes arrive exact"
	else
		ktap_test_fail "preloaded into python3: bytes differ"
	fi
	line=$(cat "$tmp/stats" 2>/dev/null)
	if echo "$line" | grep -E -q '^zcsend-preload pid=[0-9]+ ioctl_calls=0 ioctl_bytes=0 fallback_calls=4 fallback_bytes=300000$'; then
		ktap_test_pass "ZCSEND_PRELOAD_STATS: one line at exit, 4 fallback calls, 300000 bytes"
	else
		ktap_test_fail "ZCSEND_PRELOAD_STATS: got '$line'"
	fi
fi
ktap_set_plan $((KTAP_TESTNO - 1))
ktap_finished
