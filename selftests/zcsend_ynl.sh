#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The family through a client nobody here wrote: the kernel's own
# tools/net/ynl/cli.py (Debian's linux-source-6.12, extracted by
# scripts/setup), driven by our spec uapi/zcsend.yaml against the loaded
# module. A dump of stats-get has one message per possible CPU with every
# counter; config-get answers; config-set is refused for nobody (EPERM) and
# accepted for root, and what was set reads back, over netlink and as the
# module parameter; an out-of-range value is refused (ERANGE); the tool's
# zcsend stats --json agrees with cli.py. The tunable is restored on exit.
#
# Needs root and the module loaded (exit 4 otherwise); prints KTAP with the
# kernel's ktap_helpers.sh.
set -uo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
SRC=${ZCSEND_CACHE:-/var/cache/zcsend}/linux-source-6.12
CLI=$SRC/tools/net/ynl/cli.py
TOOL=$TOP/userspace/zcsend
PARAM=/sys/module/zcsend/parameters/batch_pages
# Debian's python3, with python3-yaml and python3-jsonschema.
PYTHON=${PYTHON:-/usr/bin/python3}
NOBODY=65534
SAVED=

# shellcheck source=/dev/null
. "$SRC/tools/testing/selftests/kselftest/ktap_helpers.sh" || {
	echo "1..0 # SKIP no ktap_helpers.sh: run scripts/setup"
	exit 4
}

ktap_print_header
[ "$(id -u)" = 0 ] || { ktap_skip_all "needs root"; exit "$KSFT_SKIP"; }
[ -e /sys/module/zcsend ] || { ktap_skip_all "zcsend module not loaded"; exit "$KSFT_SKIP"; }
[ -f "$CLI" ] || { ktap_skip_all "no $CLI: run scripts/setup"; exit "$KSFT_SKIP"; }
command -v setpriv > /dev/null || { ktap_skip_all "setpriv missing"; exit "$KSFT_SKIP"; }
command -v jq > /dev/null || { ktap_skip_all "jq missing: run scripts/setup"; exit "$KSFT_SKIP"; }

OUT=$(mktemp)
cleanup() {
	[ -n "$SAVED" ] && echo "$SAVED" > "$PARAM"
	rm -f "$OUT" "$OUT.tool"
}
trap cleanup EXIT

# ynl ARGS...: cli.py on our spec; its output (JSON, or the error) in $OUT.
# The spec is validated against the schema on the host (scripts/codegen/ynl-gen
# --check); here that would only cost time: --no-schema. Under TCG each
# run of cli.py takes a while, so requests are batched with --multi.
ynl() {
	"$PYTHON" "$CLI" --spec "$TOP/uapi/zcsend.yaml" --no-schema \
		--output-json "$@" > "$OUT" 2>&1
}

# js [JQ OPTIONS] FILTER: a jq filter over the JSON in $OUT; true when it
# yields true (jq, not Python: each Python start costs ~40 s on the debug
# kernel). The output, and jq's own error if any, are shown on failure.
js() {
	jq -e "$@" "$OUT" 2>&1 > /dev/null | sed 's/^/# jq: /'
	[ "${PIPESTATUS[0]}" = 0 ] || { sed 's/^/# /' "$OUT"; return 1; }
}

# refused MESSAGE: cli.py failed with that errno's message (strerror).
refused() {
	grep -q "^Netlink error: $1" "$OUT" || { sed 's/^/# /' "$OUT"; return 1; }
}

# result DESCRIPTION: one test line, from the status of the command before.
result() {
	local st=$?

	ktap_test_result "$1" test "$st" = 0
}

COUNTERS="calls bytes file-bytes inline-bytes pages batches copy-fallbacks err-again err-intr err-pipe err-inval err-other nowait-misses nowait-readaheads"
# Possible CPUs, from a list such as "0-3,8": summed ranges.
possible=0
IFS=, read -r -a ranges < /sys/devices/system/cpu/possible
for r in "${ranges[@]}"; do
	possible=$((possible + ${r#*-} - ${r%-*} + 1))
done
read -r -a names <<< "$COUNTERS"
COUNTERS_JSON=$(printf '"%s",' "${names[@]}")
COUNTERS_JSON="[${COUNTERS_JSON%,}] | sort"

ktap_set_plan 9
SAVED=$(cat "$PARAM")
new=$((SAVED == 17 ? 18 : 17))
ktap_print_msg "batch_pages is $SAVED, $possible possible CPUs"

ynl --dump stats-get &&
js "length == $possible and ([.[].cpu] | sort) == [range($possible)] and all(.[]; (.stats | keys) == ($COUNTERS_JSON))"
result "cli.py stats-get (dump): one message per possible CPU, each with all 14 counters"

# The tool (userspace/genl.c) first: nothing else runs, so the counters do
# not move before cli.py reads them.
tool_ok=0
"$TOOL" stats --json > "$OUT.tool" 2>&1 || tool_ok=$?
ynl --multi stats-get '{}' --multi config-get '{}'
st=$?
[ $st = 0 ] && js ".[0].stats | keys == ($COUNTERS_JSON)"
result "cli.py stats-get (do): the summed counters, all 14"
# shellcheck disable=SC2016 # $tool is jq's
[ $st = 0 ] && [ $tool_ok = 0 ] &&
js --slurpfile tool "$OUT.tool" '(.[0].stats | with_entries(.key |= gsub("-"; "_"))) == $tool[0]'
result "zcsend stats --json says what cli.py stats-get says"
[ $st = 0 ] && js ".[1] == {config: {\"batch-pages\": $SAVED}}"
result "cli.py config-get: batch-pages is the module parameter ($SAVED)"

setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups -- \
	"$PYTHON" "$CLI" --spec "$TOP/uapi/zcsend.yaml" --no-schema \
	--do config-set --json "{\"config\": {\"batch-pages\": $new}}" > "$OUT" 2>&1
st=$?
[ $st != 0 ] && refused 'Operation not permitted' && [ "$(cat "$PARAM")" = "$SAVED" ]
result "cli.py config-set as nobody: refused with EPERM, nothing changed"

ynl --multi config-set "{\"config\": {\"batch-pages\": $new}}" --multi config-get '{}'
st=$?
[ $st = 0 ]
result "cli.py config-set as root: accepted"
[ $st = 0 ] && js ".[1] == {config: {\"batch-pages\": $new}}" && [ "$(cat "$PARAM")" = "$new" ]
result "cli.py config-get reads back $new, and so does the module parameter"

! ynl --do config-set --json '{"config": {"batch-pages": 0}}' && refused 'Numerical result out of range' &&
	[ "$(cat "$PARAM")" = "$new" ]
result "cli.py config-set batch-pages 0: refused with ERANGE, nothing changed"

ynl --multi config-set "{\"config\": {\"batch-pages\": $SAVED}}" --multi config-get '{}' &&
	js ".[1] == {config: {\"batch-pages\": $SAVED}}"
result "cli.py config-set restores $SAVED"

ktap_finished
