# SPDX-License-Identifier: GPL-2.0
#
# Sourced by zcsend's shell selftests: the kernel's ktap_helpers.sh (from
# Debian's linux-source-6.12, which scripts/setup extracts) and the skips of
# a whole program (KTAP "1..0 # SKIP", exit 4).

# shellcheck source=/dev/null
. "${ZCSEND_CACHE:-/var/cache/zcsend}/linux-source-6.12/tools/testing/selftests/kselftest/ktap_helpers.sh" ||
	{ echo "1..0 # SKIP no ktap_helpers.sh: run scripts/setup"; exit 4; }

# skip_all REASON: skip the whole program.
skip_all() {
	ktap_skip_all "$*"
	exit "$KSFT_SKIP"
}

# The module's tests run as root with the module loaded.
require_module() {
	[ "$(id -u)" = 0 ] || skip_all "needs root"
	[ -e /sys/module/zcsend ] || skip_all "zcsend module not loaded"
}

# plan N: the KTAP plan, printed before any case runs, so that a case that
# never ran (a crash, an early exit) shows as a count short of the plan.
plan() {
	ktap_set_plan "$1"
}

# finish: the totals; exit 0 only when every planned case ran and passed
# (or skipped), as ktap_finished decides. A count off the plan is said.
finish() {
	local ran=$((KTAP_TESTNO - 1))

	[ "$ran" = "$KSFT_NUM_TESTS" ] ||
		ktap_print_msg "planned $KSFT_NUM_TESTS cases, $ran ran"
	ktap_finished
}

# zstat NAME: the module's counter NAME, as "$TOOL stats" prints it.
zstat() {
	local name val

	while read -r name val; do
		[ "$name" = "$1" ] && { echo "$val"; return 0; }
	done < <("$TOOL" stats)
	return 1
}
