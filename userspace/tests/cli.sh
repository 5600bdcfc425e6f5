#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host-side tests of the zcsend tool's command line (no module needed).
# ZCSEND_TOOL names the binary (scripts/check passes the ASan/UBSan build).
# Prints KTAP with the kernel's ktap_helpers.sh (scripts/setup extracts it).
set -uo pipefail

TOP=$(cd "$(dirname "$0")/../.." && pwd)
TOOL=${ZCSEND_TOOL:-$TOP/userspace/zcsend}
KTAP=${ZCSEND_CACHE:-/var/cache/zcsend}/linux-source-6.12/tools/testing/selftests/kselftest/ktap_helpers.sh
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT

# shellcheck source=/dev/null
. "$KTAP" || { echo "Bail out! no $KTAP: run scripts/setup"; exit 1; }

# expect STATUS DESCRIPTION -- COMMAND...: run, compare the exit status.
expect() {
	local want=$1 what=$2 got
	shift 3
	"$@" > "$OUT" 2>&1
	got=$?
	if [ "$got" = "$want" ]; then
		ktap_test_pass "$what"
	else
		ktap_test_fail "$what (exit $got, want $want)"
		sed 's/^/# /' "$OUT"
	fi
}

# expect_out PATTERN DESCRIPTION -- COMMAND...: output must match.
expect_out() {
	local re=$1 what=$2
	shift 3
	"$@" > "$OUT" 2>&1
	if grep -E -q "$re" "$OUT"; then
		ktap_test_pass "$what"
	else
		ktap_test_fail "$what: output did not match /$re/"
		sed 's/^/# /' "$OUT"
	fi
}

version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$TOP/dkms.conf")

ktap_print_header
expect 0 "--help exits 0" -- "$TOOL" --help
expect_out '^usage: zcsend' "--help prints usage" -- "$TOOL" --help
expect 0 "--version exits 0" -- "$TOOL" --version
expect_out "^zcsend ${version//./\\.}\$" "--version prints the dkms.conf version ($version)" -- "$TOOL" --version
expect 2 "no command is a usage error" -- "$TOOL"
expect 2 "an unknown command is a usage error" -- "$TOOL" frobnicate
expect 2 "an unknown option is a usage error" -- "$TOOL" --frobnicate
# The destination is checked before the file, the device or the network.
expect 2 "send: a destination without a port is a usage error" -- "$TOOL" send /nonexistent localhost
expect_out "bad destination 'localhost' \\(want HOST:PORT\\)" "send: says which destination is bad" -- "$TOOL" send /nonexistent localhost
expect 2 "send: an unclosed [ in the destination is a usage error" -- "$TOOL" send /nonexistent '[::1:80'
expect 2 "send: an empty port is a usage error" -- "$TOOL" send /nonexistent 127.0.0.1:
expect 2 "send: a missing destination is a usage error" -- "$TOOL" send /dev/null
expect 1 "send: a missing file fails with status 1" -- "$TOOL" send /nonexistent 127.0.0.1:9
expect_out "^zcsend send: /nonexistent: No such file or directory" "send: names the missing file" -- "$TOOL" send /nonexistent 127.0.0.1:9
ktap_set_plan $((KTAP_TESTNO - 1))
ktap_finished
