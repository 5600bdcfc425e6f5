#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# nginx through libzcsend-preload.so: a real server as the ioctl's client.
#
# nginx (Debian's binary, unpacked by scripts/setup into $ZCSEND_CACHE/nginx,
# never installed) runs with a config generated in a temporary directory
# (its own prefix, pid, logs, temp paths), "sendfile on; tcp_nopush on;",
# two workers as nobody (the device is opened by the master, as root, when
# the library loads, and the workers inherit it), serving files of 0 and 1
# byte, page edges, 4-64 KiB, 64 MiB and a sparse 3 GiB file (with
# ZCSEND_SCALED=1, which scripts/check sets on the slow debug kernel, 8
# files of 0 to 64 KiB instead of 19, and 16 MiB instead of 64: still four
# times what the socket buffers hold, so the stall and the clients that go
# away mid-body happen as they do with 64).
#
# With the module loaded and the shim preloaded:
#  - every file fetched with curl is byte-exact (cmp); Range requests
#    (first, middle, last, suffix, open-ended; past 2 GiB in the 3 GiB
#    file) give exactly the bytes of the range;
#  - a client that stalls mid-body (nginx sees EAGAIN and resumes from the
#    returned offset) gets the whole body exact once it reads again, while
#    other clients are served;
#  - the module's byte counters (zcsend stats --json: bytes, file_bytes)
#    move by exactly the bodies served, and so does the shim's own
#    ioctl_bytes count (ZCSEND_PRELOAD_STATS), with no fallback;
#  - clients that disconnect mid-body (close, and reset) leave nginx
#    healthy: same worker pids, nothing logged above [error], later
#    requests served exact.
# Then the module is unloaded, nginx restarted with the shim: every call
# falls back to sendfile (ioctl_calls=0) and everything still matches.
# The module is loaded again at the end (ZCSEND_KO, set by vm-run). That
# round is left out with ZCSEND_SCALED=1 (the shim's user-space fallback,
# judged on 6.1 and 6.12).
#
# Needs root and the module loaded (exit 4 otherwise); prints KTAP with the
# kernel's ktap_helpers.sh (zcsend_lib.sh).
set -uo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
TOOL=$TOP/userspace/zcsend
SHIM=$TOP/userspace/libzcsend-preload.so
CACHE=${ZCSEND_CACHE:-/var/cache/zcsend}
NGINX=$CACHE/nginx/$(cat "$CACHE/nginx/current" 2>/dev/null)/usr/sbin/nginx
PORT=8080
URL=http://127.0.0.1:$PORT
D=
MASTER=

# shellcheck source=zcsend_lib.sh
. "$(dirname "$0")/zcsend_lib.sh"
require_module
[ -n "${ZCSEND_KO:-}" ] && [ -f "$ZCSEND_KO" ] || skip_all "ZCSEND_KO not set (run through scripts/testbed/vm-run --load)"
[ -x "$NGINX" ] || skip_all "no nginx in $CACHE/nginx (run scripts/setup)"
for f in "$TOOL" "$SHIM"; do
	[ -e "$f" ] || skip_all "$f not built"
done
for c in curl python3 cmp dd truncate seq; do
	command -v "$c" > /dev/null || skip_all "$c missing"
done

# Each test line says when it ended, in seconds from the start.
T0=$SECONDS
ok() { ktap_test_pass "$* ($((SECONDS - T0)) s)"; }
not_ok() { ktap_test_fail "$* ($((SECONDS - T0)) s)"; }
check() { if [ "$1" = 0 ]; then ok "$2"; else not_ok "$2"; fi; }

cleanup() {
	[ -n "$MASTER" ] && kill -TERM "$MASTER" 2> /dev/null && sleep 1
	[ -e /sys/module/zcsend ] || insmod "$ZCSEND_KO" || true
	[ -n "$D" ] && rm -rf "$D"
}
trap cleanup EXIT

D=$(mktemp -d /tmp/zcsend-nginx.XXXXXX)
chmod 0755 "$D"
mkdir -p "$D/www" "$D/logs" "$D/tmp"

# The tree. Sizes: 0, 1, page edges, 4-64 KiB, BIG_MIB MiB; a 3 GiB sparse file
# with data at its start, across 2 GiB and at its end.
FILES=()
declare -A SIZE_OF
make_file() {
	local name=$1 size=$2

	head -c "$size" /dev/urandom > "$D/www/$name"
	FILES+=("$name")
	SIZE_OF[$name]=$size
}
SMALL=(0 1 4095 4096 4097 8191 8192 8193 65535 65536 65537)
BIG_MIB=64
ODD=(4321 9000 17000 23456 33333 47000 55555 65000)
if [ "${ZCSEND_SCALED:-0}" = 1 ]; then
	# The debug kernel (scripts/check): fewer small files, each check made.
	SMALL=(0 1 4096 4097 65537)
	ODD=(9000 33333 47000)
	BIG_MIB=16
fi
for s in "${SMALL[@]}"; do
	make_file "f$s" "$s"
done
for s in "${ODD[@]}"; do
	make_file "k$s" "$s"
done
# BIG_MIB MiB of numbered lines, 17 bytes each: every line differs, so a
# byte out of place shows; /dev/urandom is slow under TCG. Integers of one
# width, without -f: seq's fast path, 5 times faster than a format.
seq 1000000000000000 $((1000000000000000 + (BIG_MIB << 20) / 17)) |
	head -c $((BIG_MIB << 20)) > "$D/www/big"
FILES+=(big)
SIZE_OF[big]=$((BIG_MIB << 20))
SIZE_OF[sparse3g]=$((3 << 30))
truncate -s 3G "$D/www/sparse3g"
for off in 0 $(((2048 << 20) - (512 << 10))) $(((3072 << 20) - (1 << 20))); do
	head -c $((1 << 20)) /dev/urandom |
		dd of="$D/www/sparse3g" bs=1M seek="$off" oflag=seek_bytes conv=notrunc status=none
done
chmod -R a+rX "$D/www"

write_conf() {
	cat > "$D/nginx.conf" <<EOF
user nobody nogroup;
worker_processes 2;
pid $D/nginx.pid;
error_log $D/logs/error.log info;
events { worker_connections 256; }
http {
	default_type application/octet-stream;
	access_log $D/logs/access.log;
	client_body_temp_path $D/tmp/body;
	proxy_temp_path $D/tmp/proxy;
	fastcgi_temp_path $D/tmp/fastcgi;
	uwsgi_temp_path $D/tmp/uwsgi;
	scgi_temp_path $D/tmp/scgi;
	sendfile on;
	tcp_nopush on;
	keepalive_timeout 10;
	server {
		listen 127.0.0.1:$PORT;
		root $D/www;
	}
}
EOF
}

# workers: nginx's worker pids, from /proc without a process (pgrep, sort
# and tr took about 8 s on the debug kernel, which has no
# /proc/PID/task/TID/children).
workers() {
	local f pid rest ppid
	local -a pids=()

	for f in /proc/[0-9]*/stat; do
		read -r pid rest 2> /dev/null < "$f" || continue
		# After the command name, in parentheses: state, then ppid.
		read -r _ ppid _ <<< "${rest##*) }"
		[ "$ppid" = "$MASTER" ] && pids+=("$pid")
	done
	echo "${pids[*]}"
}

# start_nginx STATSFILE: nginx with the shim, counters to STATSFILE.
start_nginx() {
	local i

	rm -f "$D/nginx.pid"
	: > "$1"
	chmod 0666 "$1"		# workers run as nobody
	LD_PRELOAD=$SHIM ZCSEND_PRELOAD_STATS=$1 \
		"$NGINX" -p "$D" -c "$D/nginx.conf" -e "$D/logs/error.log" \
		-g 'daemon off; master_process on;' &
	MASTER=$!
	for i in $(seq 100); do
		curl -s -o /dev/null "$URL/f1" && [ -n "$(workers)" ] && return 0
		sleep 0.2
	done
	return 1
}

stop_nginx() {
	local i

	kill -QUIT "$MASTER"
	for i in $(seq 100); do
		kill -0 "$MASTER" 2> /dev/null || break
		sleep 0.2
	done
	wait "$MASTER" 2> /dev/null
	kill -0 "$MASTER" 2> /dev/null && return 1
	MASTER=
}


# shim_sum STATSFILE FIELD: the field summed over nginx's processes.
shim_sum() {
	sed -n "s/.* $2=\([0-9]*\).*/\1/p" "$1" | awk '{ s += $1 } END { print s + 0 }'
}

# range_of NAME SPEC: "FIRST LENGTH" of the bytes the Range header SPEC
# names in the file (its size from SIZE_OF: no process).
range_of() {
	local size=${SIZE_OF[$1]} spec=${2#bytes=} a b

	case $spec in
	-*)	a=$((size + spec)); b=$((size - 1)) ;;
	*-)	a=${spec%-}; b=$((size - 1)) ;;
	*)	a=${spec%-*}; b=${spec#*-} ;;
	esac
	echo "$a $((b - a + 1))"
}

BODIES=0

# get REQUEST...: each REQUEST is "NAME" (GET the whole file: 200) or
# "NAME bytes=SPEC" (a Range request: 206), all made by one curl over one
# keep-alive connection (under the debug kernel each process takes seconds
# to start); every body is compared byte for byte with the file or the
# range (cmp: cheaper than checksums under TCG, and as strict). Adds the
# bodies' bytes to BODIES; returns how many requests went wrong.
get() {
	local -a args=() codes=()
	local i=0 r name spec code size want first len st bad=0

	for r in "$@"; do
		read -r name spec <<< "$r"
		[ $i = 0 ] || args+=(--next)
		args+=(-s --max-time 120 -o "$D/got.$i" -w '%{http_code} %{size_download}\n')
		[ -z "$spec" ] || args+=(-H "Range: $spec")
		args+=("$URL/$name")
		i=$((i + 1))
	done
	rm -f "$D"/got.*
	curl "${args[@]}" > "$D/codes"
	mapfile -t codes < "$D/codes"
	i=0
	for r in "$@"; do
		read -r name spec <<< "$r"
		read -r code size <<< "${codes[$i]:-none 0}"
		if [ -z "$spec" ]; then
			want="200 ${SIZE_OF[$name]}"
			cmp -s "$D/got.$i" "$D/www/$name"
			st=$?
		else
			read -r first len <<< "$(range_of "$name" "$spec")"
			want="206 $len"
			cmp -s -n "$len" -i "$first:0" "$D/www/$name" "$D/got.$i"
			st=$?
		fi
		if [ $st = 0 ] && [ "$code $size" = "$want" ]; then
			BODIES=$((BODIES + size))
		else
			echo "# $r: HTTP $code, $size bytes (want $want), cmp exit $st"
			bad=$((bad + 1))
		fi
		i=$((i + 1))
	done
	return $((bad > 255 ? 255 : bad))
}

RANGES=(
	"f65537 bytes=0-99" "f65537 bytes=4000-4200" "f65537 bytes=-1"
	"f65537 bytes=65536-" "f4097 bytes=4095-4096" "k33333 bytes=-4097"
	"big bytes=0-1048575"
	"big bytes=$(((BIG_MIB << 19) - 5000))-$(((BIG_MIB << 19) + 5000))"
	"big bytes=-70000"
	"sparse3g bytes=0-1048575" "sparse3g bytes=2147000000-2148000000"
	"sparse3g bytes=-1048576" "sparse3g bytes=3221225000-"
	"sparse3g bytes=1073741824-1073745919"
)

# The fallback round (no module): the shim's sendfile(2) path is the same
# for every file, so a few files cover it: empty, page edges, the largest
# small one, the big one, and ranges inside a page, at the end and past 2 GiB.
FALLBACK_FILES=(f0 f4097 f65537 big)
FALLBACK_RANGES=("f4097 bytes=4095-4096" "big bytes=-70000"
	"sparse3g bytes=2147000000-2148000000")

# integrity WHAT [fallback]: every file and every range (with "fallback",
# those of the fallback round), each byte-exact. Sets BODIES.
integrity() {
	local what=$1 bad
	local -a files=("${FILES[@]}") ranges=("${RANGES[@]}")

	if [ "${2:-}" = fallback ]; then
		files=("${FALLBACK_FILES[@]}")
		ranges=("${FALLBACK_RANGES[@]}")
	fi
	BODIES=0
	get "${files[@]}"
	bad=$?
	check $bad "$what: ${#files[@]} files fetched whole, byte-exact ($bad wrong)"
	get "${ranges[@]}"
	bad=$?
	check $bad "$what: ${#ranges[@]} Range requests (first, middle, last, suffix, past 2 GiB) exact ($bad wrong)"
}

# A client that asks for the big file, reads 1 MiB, stalls with nginx's send
# buffer full, then reads the rest into FILE.
stall_client() {
	timeout 300 python3 - "$PORT" "$1" "$2" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=120)
s.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
buf = b""
while b"\r\n\r\n" not in buf:
    buf += s.recv(65536)
out = open(sys.argv[3], "wb")
body = buf.split(b"\r\n\r\n", 1)[1]
out.write(body)
n = len(body)
while n < (1 << 20):
    d = s.recv(65536)
    if not d:
        sys.exit("connection closed after %d bytes" % n)
    out.write(d)
    n += len(d)
time.sleep(float(sys.argv[2]))
while True:
    d = s.recv(1 << 20)
    if not d:
        break
    out.write(d)
PY
}

# A client that reads 3 MiB of the big file's body and goes away: "close" or
# "reset" (SO_LINGER 0: an RST).
gone_client() {
	timeout 150 python3 - "$PORT" "$1" <<'PY'
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=120)
s.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
n = 0
while n < (3 << 20):
    d = s.recv(65536)
    if not d:
        sys.exit("connection closed after %d bytes" % n)
    n += len(d)
if sys.argv[2] == "reset":
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
PY
}

healthy() {
	local what=$1 before=$2 after

	after=$(workers)
	if [ "$after" = "$before" ] && get f65537 k47000 &&
	   ! grep -E -q '\[(alert|crit|emerg)\]|exited on signal' "$D/logs/error.log"; then
		ok "$what: nginx healthy (workers $after unchanged, requests exact, no alert)"
	else
		not_ok "$what: nginx not healthy (workers '$before' -> '$after')"
		grep -E '\[(alert|crit|emerg)\]|exited on signal' "$D/logs/error.log" | sed 's/^/# /' | tail -5
		for p in $after; do
			echo "# worker $p: $(cat /proc/$p/wchan 2>/dev/null)"
			sed 's/^/#   /' /proc/$p/stack 2>/dev/null
		done
		ss -tni | sed 's/^/# /' | head -30
	fi
}

ktap_print_header
# The plan, before anything runs: 11 cases with the module, 6 without. The
# round without the module checks the shim's own fallback, sendfile(2) in
# user space, the same on every kernel: not on the debug kernel
# (ZCSEND_SCALED=1), where it cost a minute and involves no module code.
FALLBACK=1
[ "${ZCSEND_SCALED:-0}" = 1 ] && FALLBACK=0
plan $((11 + 6 * FALLBACK))
ktap_print_msg "nginx: $NGINX"
write_conf

# 1. With the module: the ioctl serves the bodies. bs counts from before
# nginx starts, so the shim's total includes start_nginx's probe.
bs=$(zstat bytes)
if ! start_nginx "$D/stats-ioctl"; then
	not_ok "nginx starts with the shim preloaded"
	sed 's/^/# /' "$D/logs/error.log" | tail -20
	exit 1
fi
ok "nginx starts with the shim preloaded (workers $(workers))"
b0=$(zstat bytes)
f0=$(zstat file_bytes)
integrity "module loaded"
w=$(workers)
a0=$(zstat err_again)
stall_client 3 "$D/stall" &
spid=$!
sleep 1
get k9000 f4097
check $? "a request is served while another client stalls"
wait $spid
slen=$(stat -c %s "$D/stall")
if cmp -s "$D/stall" "$D/www/big"; then
	ok "a client that stalled mid-body then read on got all $BIG_MIB MiB exact"
	BODIES=$((BODIES + slen))
else
	not_ok "stalled client: $(cmp "$D/stall" "$D/www/big" 2>&1 | head -n 1)"
fi
# The stall must have made the module answer EAGAIN (a call on the full
# socket that queued nothing), else nginx's resumption was not exercised.
a1=$(zstat err_again)
check $((a1 <= a0)) "the stall made the ioctl answer EAGAIN: err_again +$((a1 - a0))"
b1=$(zstat bytes)
f1=$(zstat file_bytes)
check $((b1 - b0 != BODIES || f1 - f0 != BODIES)) \
	"module counters moved by exactly the bodies served: bytes +$((b1 - b0)), file_bytes +$((f1 - f0)), bodies $BODIES"
expect_ioctl=$BODIES
gone_client close || echo "# the closing client failed"
healthy "a client that closed mid-body" "$w"
gone_client reset || echo "# the resetting client failed"
healthy "a client that reset mid-body" "$w"
b2=$(zstat bytes)
stop_nginx
check $? "nginx stops on SIGQUIT"
ic=$(shim_sum "$D/stats-ioctl" ioctl_calls)
ib=$(shim_sum "$D/stats-ioctl" ioctl_bytes)
fc=$(shim_sum "$D/stats-ioctl" fallback_calls)
check $((ib != b2 - bs || ic == 0 || fc != 0)) \
	"shim counters (ZCSEND_PRELOAD_STATS): $ic ioctl calls, $ib bytes = module's +$((b2 - bs)), $fc fallbacks"
sed 's/^/# /' "$D/stats-ioctl"

# 2. Without the module: the shim falls back to sendfile.
if [ "$FALLBACK" = 0 ]; then
	ktap_print_msg "no round without the module (ZCSEND_SCALED=1)"
elif rmmod zcsend; then
	ok "module unloaded"
	if start_nginx "$D/stats-fallback"; then
		integrity "module unloaded" fallback
		fb=$BODIES
		w=$(workers)
		gone_client reset
		healthy "module unloaded, a client that reset mid-body" "$w"
		stop_nginx
		ic=$(shim_sum "$D/stats-fallback" ioctl_calls)
		fc=$(shim_sum "$D/stats-fallback" fallback_calls)
		fbytes=$(shim_sum "$D/stats-fallback" fallback_bytes)
		check $((ic != 0 || fc == 0 || fbytes < fb)) \
			"without the module every call fell back: $ic ioctl calls, $fc fallbacks, $fbytes bytes (bodies $fb and more)"
	else
		not_ok "nginx starts with the shim and no module"
	fi
	insmod "$ZCSEND_KO"
	check $? "module loaded again"
else
	not_ok "module unloaded (rmmod zcsend)"
fi
[ "$expect_ioctl" -gt 0 ] || not_ok "no body was served"

finish
