#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host test of "scripts/testbed/vm-run --nic": QEMU guests with two virtio-net NICs
# on taps in a host network namespace made for each run. Five runs at the
# same time (so they must not collide):
#   A, B  set the NICs up in the guest (scripts/testbed/nic-setup up, which checks
#         that the second NIC answers through the first) and exit 0;
#   C     a failing command (exit 3);
#   D     a command that outlives --timeout (exit 124);
#   E     killed with SIGTERM once its namespace exists (exit 143); while it
#         runs, the namespace must hold tap0, tap1 and br0.
# Before them, a namespace as a vm-run killed with SIGKILL leaves it
# (zcsend-vm-DEADPID, empty): the next --nic run must remove it.
# After each, its namespace (zcsend-vm-PID) must be gone, and at the end
# none of the namespaces of these runs (and the stale one) may be left, nor
# any of the devices vm-run makes (tap0, tap1, br0) in the host's own
# namespace that was not there before. Only what these runs made is judged:
# other vm-run guests on the same machine (make check's, anyone's) come and
# go with their namespaces meanwhile.
# Prints KTAP with the kernel's ktap_helpers.sh (scripts/setup extracts
# it). Needs root, QEMU and a kernel set up by scripts/setup.
set -uo pipefail

TOP=$(cd "$(dirname "$0")/../.." && pwd)
VMRUN=$TOP/scripts/testbed/vm-run
CACHE=${ZCSEND_CACHE:-/var/cache/zcsend}
KTAP=$CACHE/linux-source-6.12/tools/testing/selftests/kselftest/ktap_helpers.sh
WORK=$(mktemp -d /tmp/zcsend-vmnic.XXXXXX)
pids=()
stale=
declare -A pid st

# shellcheck source=/dev/null
. "$KTAP" || { echo "Bail out! no $KTAP: run scripts/setup"; exit 1; }
ktap_print_header

cleanup() {
	local p

	for p in "${pids[@]}"; do
		kill -TERM "$p" 2> /dev/null
	done
	wait
	[ -z "$stale" ] || ip netns del "$stale" 2> /dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

# The kernel: 6.12 if set up (it boots fastest), else the first one.
kernel=
for k in 6.12 ${ZCSEND_KERNELS:-6.1}; do
	[ -f "$CACHE/kernels/$k" ] && { kernel=$k; break; }
done
if [ -z "$kernel" ] || [ "$(id -u)" != 0 ] || ! command -v qemu-system-x86_64 > /dev/null; then
	ktap_test_fail "vm-run --nic: needs root, QEMU and a kernel from scripts/setup"
	exit 1
fi

# Host state: the devices vm-run makes (in its namespace; one of them in
# the host's own would be a leak), and the namespaces of the runs of this
# test (their PIDs, once known, as arguments). Other namespaces, and other
# devices, belong to other work on this machine and come and go.
snapshot() {
	local p

	for p in "$@"; do
		ip netns list | awk '{ print $1 }' | grep -x "zcsend-vm-$p" | sed 's/^/netns /'
	done
	ip -o link | awk -F': ' '{ print "link " $2 }' | sed 's/@.*//' |
		grep -E -x 'link (tap0|tap1|br0)'
}

gone() {
	! ip netns list | grep -q "^zcsend-vm-$1\b"
}

snapshot | sort > "$WORK/before"

# The stale namespace, named after a PID that has just exited.
sh -c : &
dead=$!
wait "$dead"
stale=zcsend-vm-$dead
ip netns add "$stale" || { ktap_test_fail "ip netns add $stale"; exit 1; }

run_vm() {
	local name=$1
	shift

	"$VMRUN" --kernel "$kernel" --nic --mem 512 "$@" > "$WORK/$name.out" 2>&1 &
	pids+=($!)
	pid[$name]=$!
}

# shellcheck disable=SC2016
run_vm A --timeout 900 -- sh -c 'scripts/testbed/nic-setup up && [ "$ZCSEND_VM_NIC" = 1 ]'
# shellcheck disable=SC2016
run_vm B --timeout 900 -- sh -c 'scripts/testbed/nic-setup up && [ "$ZCSEND_VM_NIC" = 1 ]'
run_vm C --timeout 900 -- sh -c 'exit 3'
run_vm D --timeout 20 -- sleep 3600
run_vm E --timeout 900 -- sleep 3600

# E: wait for its namespace and devices, then SIGTERM it.
seen=no
for ((i = 0; i < 600; i++)); do
	if ip -n "zcsend-vm-${pid[E]}" -o link 2> /dev/null |
			awk -F': ' '{ print $2 }' | sort | tr '\n' ' ' |
			grep -q '^br0 lo tap0 tap1 $'; then
		seen=yes
		break
	fi
	kill -0 "${pid[E]}" 2> /dev/null || break
	sleep 0.5
done
ktap_test_result "vm-run --nic made namespace zcsend-vm-${pid[E]} with tap0, tap1 and br0" [ $seen = yes ]
sleep 2
kill -TERM "${pid[E]}"

for v in A B C D E; do
	wait "${pid[$v]}"
	st[$v]=$?
done
ktap_test_result "run A: NICs set up in the guest, exit 0 (got ${st[A]})" [ "${st[A]}" = 0 ]
ktap_test_result "run B at the same time: NICs set up, exit 0 (got ${st[B]})" [ "${st[B]}" = 0 ]
ktap_test_result "run C: the failing command's status 3 (got ${st[C]})" [ "${st[C]}" = 3 ]
ktap_test_result "run D: timeout, status 124 (got ${st[D]})" [ "${st[D]}" = 124 ]
ktap_test_result "run E: SIGTERM, status 143 (got ${st[E]})" [ "${st[E]}" = 143 ]
grep -q '^NIC_RX_ADDR=192.0.2.2' "$WORK/A.out" && grep -q '^NIC_RX_ADDR=192.0.2.2' "$WORK/B.out"
ktap_test_result "runs A and B printed their NIC addresses" [ $? = 0 ]
for v in A B C D E; do
	ktap_test_result "run $v: namespace zcsend-vm-${pid[$v]} removed" gone "${pid[$v]}"
done
pids=()
gone "$dead" && grep -q "^vm-run: removing stale namespace $stale " "$WORK/"?.out
ktap_test_result "a namespace left by a killed vm-run ($stale) removed by the next runs" [ $? = 0 ]

snapshot "$dead" "${pid[@]}" | sort > "$WORK/after"
if diff "$WORK/before" "$WORK/after" > "$WORK/diff"; then
	ktap_test_pass "no namespace of these runs left (ip netns list), no tap0/tap1/br0 on the host"
else
	ktap_test_fail "no namespace of these runs left (ip netns list), no tap0/tap1/br0 on the host"
	sed 's/^/# /' "$WORK/diff"
fi
if [ "${st[A]}" != 0 ] || [ "${st[B]}" != 0 ]; then
	sed 's/^/# A: /' "$WORK/A.out" | tail -n 30
	sed 's/^/# B: /' "$WORK/B.out" | tail -n 30
fi
ktap_set_plan $((KTAP_TESTNO - 1))
ktap_finished
