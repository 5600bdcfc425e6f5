#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Integrity of ZCSEND_IOC_SENDFILE on real filesystems, through a peer that
# zcsend did not write: `zcsend send` sends a file range to socat, which
# writes what it receives into a file; cmp compares it with the range.
#
# Filesystems: tmpfs, tmpfs with huge=always (large folios), ext4 and XFS
# (large folios since 5.18) on loop devices over sparse images made here.
# Sizes 0, 1, 4095, 4096, 4097, 65535, 65537, 1 MiB + 1 and 64 MiB (16 of
# the largest batches, 64 of the default ones), at
# unaligned offsets (ZCSEND_SCALED=1, which scripts/check sets on the debug
# kernel, where every process takes a second to start: 1, 4097, 1 MiB + 1
# and 8 MiB + 1, still 2 of the largest batches and a partial one), some
# ranges running past end of file (sent up to EOF),
# with a warm page cache and, on ext4 and XFS, a cold one: the file's own
# pages written back and evicted (POSIX_FADV_DONTNEED), and fincore showing
# none left before the send (tmpfs has no cold cache: its pages are the
# only copy and are never evicted, so a cold row there would repeat the warm
# one). Only the file is evicted, not the whole cache with drop_caches,
# which also evicted every program the next cases start: the guest read
# them again over 9p, about 30 s a case on the debug kernel.
#
# On ext4 and XFS each case also checks that no page of the file is left
# pinned: once the transfer is over, POSIX_FADV_DONTNEED (dd iflag=nocache)
# must evict every page (fincore counts none). A page zcsend kept a
# reference on cannot be evicted. tmpfs pages are never evicted, so it is
# checked on the disk file systems only. While it runs, net.core.
# skb_defer_max is 0 (restored on exit): by default a receiver frees skbs
# that another CPU allocated on that CPU's defer list, and they keep their
# page references until it next runs network softirqs, which on an idle CPU
# can be never. That left pages pinned after 6 of 8 80 KiB sends on 6.12;
# with 0, after none.
#
# Needs root and the module loaded (exit 4 otherwise); prints KTAP with the
# kernel's ktap_helpers.sh (zcsend_lib.sh).
# ZCSEND_FS_BIG=0 leaves out the biggest size.
set -uo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
TOOL=$TOP/userspace/zcsend
WORK=
MNT=
LOOPDEV=
RECV_PID=
PINCHECK=0
DEFER=/proc/sys/net/core/skb_defer_max
DEFER_MAX=

if [ "${ZCSEND_SCALED:-0}" = 1 ]; then
	SIZES=(1 4097 1048577)
	BIG=8388609
else
	SIZES=(0 1 4095 4096 4097 65535 65537 1048577)
	BIG=67108864
fi
[ "${ZCSEND_FS_BIG:-1}" = 1 ] && SIZES+=("$BIG")
OFFSETS=(1 511 4097 77777 12345)

# shellcheck source=zcsend_lib.sh
. "$(dirname "$0")/zcsend_lib.sh"
require_module
[ -x "$TOOL" ] || skip_all "$TOOL not built"
for c in socat losetup mkfs.ext4 mkfs.xfs cmp fincore python3; do
	command -v "$c" > /dev/null || skip_all "$c missing"
done


cleanup() {
	[ -n "$RECV_PID" ] && kill "$RECV_PID" 2> /dev/null
	if [ -n "$MNT" ] && mountpoint -q "$MNT"; then
		umount "$MNT"
	fi
	[ -n "$LOOPDEV" ] && losetup -d "$LOOPDEV" 2> /dev/null
	[ -n "$WORK" ] && rm -rf "$WORK"
	[ -n "$DEFER_MAX" ] && echo "$DEFER_MAX" > "$DEFER"
}
trap cleanup EXIT

WORK=$(mktemp -d /tmp/zcsend-fs.XXXXXX)
MNT=$WORK/mnt
mkdir -p "$MNT"
# The files' bytes, read from /dev/urandom once: under TCG it gives about
# a MiB a second, and every file system would read the largest size again.
POOL=$WORK/pool
maxoff=0
for off in "${OFFSETS[@]}"; do
	[ "$off" -gt "$maxoff" ] && maxoff=$off
done
maxsize=0
for size in "${SIZES[@]}"; do
	[ "$size" -gt "$maxsize" ] && maxsize=$size
done
head -c "$((maxoff + maxsize))" /dev/urandom > "$POOL"

# port_in_use PORT [STATE]: an IPv4 TCP socket with that local port (in
# STATE, hex as in /proc/net/tcp: 0A is LISTEN), read from /proc/net/tcp
# without starting a process (ss takes seconds under the debug kernel).
port_in_use() {
	local hex laddr st rest

	printf -v hex ':%04X' "$1"
	while read -r _ laddr _ st rest; do
		[[ $laddr == *"$hex" ]] || continue
		if [ -z "${2:-}" ] || [ "$st" = "$2" ]; then
			return 0
		fi
	done < /proc/net/tcp
	return 1
}

# A free TCP port on the loopback, from the kernel's ephemeral range.
free_port() {
	local i p

	for ((i = 0; i < 50; i++)); do
		p=$((20000 + RANDOM % 40000))
		port_in_use "$p" || { echo "$p"; return 0; }
	done
	return 1
}

# Wait for a listener instead of sleeping a fixed time: poll, bounded.
wait_port() {
	local i

	for ((i = 0; i < 200; i++)); do
		port_in_use "$1" 0A && return 0
		sleep 0.05
	done
	return 1
}

# now_us: the wall clock in microseconds (bash's own, no process).
now_us() {
	echo "${EPOCHREALTIME/./}"
}

# pages_released FILE: write FILE back, then evict it from the page cache;
# no page may stay resident. TCP frees the last fragments when their ACK
# arrives, so keep trying for 3 s of wall-clock time (at least twice): a
# leaked reference never goes away. A time bound, not a number of tries:
# a try starts two processes, about a second each on the debug kernel.
pages_released() {
	local file=$1 res end tries=0

	sync "$file"
	end=$(($(now_us) + 3000000))
	while :; do
		dd if="$file" iflag=nocache count=0 status=none
		res=$(fincore --bytes --noheadings --output RES "$file")
		res=${res// /}
		[ "$res" = 0 ] && return 0
		tries=$((tries + 1))
		[ "$tries" -ge 2 ] && [ "$(now_us)" -ge "$end" ] && break
		sleep 0.1
	done
	echo "# $file: $res bytes still resident after eviction"
	return 1
}

# The pinned-page check must be able to fail: a pipe holding 16 of a file's
# pages (splice(2) without reading, as a leaked reference would) must keep
# exactly those resident, and letting the pipe go must free them. The
# holder sleeps until it is killed: on the debug kernel the eviction loop
# below can outlast any fixed sleep (a 60 s one did, under load).
pin_check_case() {
	local file=$MNT/pinned ready=$WORK/pinned.ready pid out

	head -c 1048576 /dev/urandom > "$file"
	rm -f "$ready"
	python3 -c 'import os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
r, w = os.pipe()
os.splice(fd, w, 65536)
open(sys.argv[2], "w").close()
time.sleep(3600)' "$file" "$ready" &
	pid=$!
	while [ ! -e "$ready" ] && kill -0 "$pid" 2> /dev/null; do
		sleep 0.05
	done
	out=$(pages_released "$file")
	kill "$pid"
	wait "$pid" 2> /dev/null
	if [ "$out" != "# $file: 65536 bytes still resident after eviction" ]; then
		ktap_test_fail "$1: 16 pages held by a pipe are seen as pinned (got: $out)"
	elif ! pages_released "$file"; then
		ktap_test_fail "$1: pages are released once the pipe is closed"
	else
		ktap_test_pass "$1: the pinned-page check sees 16 pages held by a pipe, then none"
	fi
	rm -f "$file"
}

# send_case NAME FILE OFFSET LENGTH EXPECTED_BYTES
send_case() {
	local name=$1 file=$2 off=$3 len=$4 want=$5 port out st got

	out=$WORK/received
	port=$(free_port) || { ktap_test_fail "$name: no free port"; return; }
	socat -u "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr" "CREATE:$out" &
	RECV_PID=$!
	if ! wait_port "$port"; then
		ktap_test_fail "$name: receiver did not listen"
		return
	fi
	"$TOOL" send "$file" "127.0.0.1:$port" --offset "$off" --length "$len" \
		> "$WORK/send.log" 2>&1
	st=$?
	wait "$RECV_PID"
	RECV_PID=
	# The file holds OFFSET + EXPECTED_BYTES bytes: what follows OFFSET
	# must be exactly what arrived, length included (one process: under
	# the debug kernel each takes about a second to start).
	if [ $st != 0 ]; then
		ktap_test_fail "$name: zcsend send exited $st: $(tr '\n' ' ' < "$WORK/send.log")"
	elif ! cmp -s -i "$off:0" "$file" "$out"; then
		got=$(stat -c %s "$out" 2> /dev/null || echo missing)
		ktap_test_fail "$name: received $got bytes, want $want, or they differ from the file"
	elif [ "$PINCHECK" = 1 ] && ! pages_released "$file"; then
		ktap_test_fail "$name: pages left pinned after the transfer"
	else
		ktap_test_pass "$name"
	fi
	rm -f "$out"
}


# run_fs NAME CACHES: the whole size table on what is mounted at $MNT,
# with each cache state in CACHES ("warm", or "warm cold").
run_fs() {
	local fs=$1 caches=$2 i=0 size off len want file cache name out

	for size in "${SIZES[@]}"; do
		off=${OFFSETS[$((i % ${#OFFSETS[@]}))]}
		file=$MNT/f$size
		head -c "$((off + size))" "$POOL" > "$file"
		# Every other case asks for more than the file holds: the
		# send stops at end of file.
		len=$size
		[ $((i % 2)) = 1 ] && len=$((size + 4096 * 3 + 5))
		want=$size
		for cache in $caches; do
			name="$fs: $size bytes at offset $off, length $len, $cache cache"
			# Cold: none of the file's pages cached (checked).
			if [ "$cache" = cold ] && ! out=$(pages_released "$file"); then
				ktap_test_fail "$name: not made cold ($out)"
				continue
			fi
			send_case "$name" "$file" "$off" "$len" "$want"
		done
		rm -f "$file"
		i=$((i + 1))
	done
}

mount_image() {
	local mkfs=$1 img=$WORK/disk.img

	truncate -s 768M "$img"
	$mkfs "$img" > /dev/null 2>&1 || return 1
	LOOPDEV=$(losetup --find --show "$img") || return 1
	mount "$LOOPDEV" "$MNT"
}

unmount_all() {
	umount "$MNT"
	if [ -n "$LOOPDEV" ]; then
		losetup -d "$LOOPDEV"
		LOOPDEV=
	fi
	rm -f "$WORK/disk.img"
}

# The plan, before anything runs: tmpfs twice warm; ext4 (with the
# pinned-page check) and XFS warm and cold.
ktap_print_header
plan $((2 * ${#SIZES[@]} + 1 + 4 * ${#SIZES[@]}))
modprobe loop 2> /dev/null
if [ -w "$DEFER" ]; then
	DEFER_MAX=$(cat "$DEFER")
	echo 0 > "$DEFER"
fi

# not_mounted WHAT N: the N cases planned on a file system that did not
# mount, each failed.
not_mounted() {
	local i

	for ((i = 0; i < $2; i++)); do
		ktap_test_fail "$1"
	done
}

if mount -t tmpfs -o size=1G tmpfs "$MNT"; then
	run_fs tmpfs warm
	unmount_all
else
	not_mounted "mount tmpfs" ${#SIZES[@]}
fi

if mount -t tmpfs -o size=1G,huge=always tmpfs "$MNT"; then
	run_fs "tmpfs huge=always" warm
	unmount_all
else
	not_mounted "mount tmpfs huge=always" ${#SIZES[@]}
fi

PINCHECK=1
if mount_image "mkfs.ext4 -q -F"; then
	pin_check_case ext4
	run_fs ext4 "warm cold"
	unmount_all
else
	not_mounted "ext4 image on a loop device" $((1 + 2 * ${#SIZES[@]}))
fi

if mount_image "mkfs.xfs -q -f"; then
	run_fs xfs "warm cold"
	unmount_all
else
	not_mounted "XFS image on a loop device" $((2 * ${#SIZES[@]}))
fi

finish
