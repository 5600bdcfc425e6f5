// SPDX-License-Identifier: GPL-2.0
/*
 * preload_test: libzcsend-preload.so's sendfile() against the kernel's
 * sendfile(2), case by case. The shim (preload.c) is linked into this
 * program, so "sendfile" is the shim and syscall(SYS_sendfile) the kernel.
 * Each case runs once with each and must give the same return value,
 * errno, offset, file position, SIGPIPE count and received bytes (which
 * are also checked against the file).
 *
 * Without /dev/zcsend (the host) every call must take the fallback; with
 * the module loaded (the VM, "--ioctl") TCP cases must take the ioctl and
 * the rest the fallback, checked with the shim's counters. Prints TAP.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../preload.h"

typedef ssize_t (*sf_fn)(int, int, off_t *, size_t);

static ssize_t kernel_sendfile(int out, int in, off_t *off, size_t n)
{
	return syscall(SYS_sendfile, out, in, off, n);
}

static int tests, failures;
static bool expect_ioctl;
static volatile sig_atomic_t sigpipes;

static void on_sigpipe(int sig)
{
	(void)sig;
	sigpipes++;
}

static void on_alarm(int sig)
{
	(void)sig;
}

#define die(...) do { fprintf(stderr, __VA_ARGS__); exit(1); } while (0)

static void tap(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tap(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", ok ? "" : "not ", ++tests);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!ok)
		failures++;
}

/* A file of SIZE pattern bytes in TMPDIR (or /tmp), unlinked. */
static unsigned char pattern(uint64_t i)
{
	return (unsigned char)((i * 2654435761u) >> 13);
}

static int make_file(size_t size, int flags)
{
	char path[] = "/tmp/preload_test.XXXXXX";
	unsigned char buf[65536];
	size_t done = 0, i, n;
	int fd = mkstemp(path);

	if (fd < 0)
		die("mkstemp: %s\n", strerror(errno));
	while (done < size) {
		n = size - done < sizeof(buf) ? size - done : sizeof(buf);
		for (i = 0; i < n; i++)
			buf[i] = pattern(done + i);
		if (write(fd, buf, n) != (ssize_t)n)
			die("write: %s\n", strerror(errno));
		done += n;
	}
	if (flags != O_RDWR) {
		int fd2 = open(path, flags | O_CLOEXEC);

		if (fd2 < 0)
			die("open: %s\n", strerror(errno));
		close(fd);
		fd = fd2;
	}
	unlink(path);
	return fd;
}

static void tcp_pair(int *a, int *b)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (l < 0 || bind(l, (struct sockaddr *)&sin, len) ||
	    listen(l, 1) || getsockname(l, (struct sockaddr *)&sin, &len))
		die("listen: %s\n", strerror(errno));
	*a = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*a < 0 || connect(*a, (struct sockaddr *)&sin, len))
		die("connect: %s\n", strerror(errno));
	*b = accept(l, NULL, NULL);
	if (*b < 0)
		die("accept: %s\n", strerror(errno));
	close(l);
}

/* A reader thread: everything from fd until EOF, into a growing buffer. */
struct reader {
	pthread_t thread;
	int fd;
	unsigned char *buf;
	size_t len, cap;
};

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	ssize_t n;

	for (;;) {
		if (r->cap - r->len < 65536) {
			r->cap = r->cap * 2 + 65536;
			r->buf = realloc(r->buf, r->cap);
			if (!r->buf)
				die("realloc\n");
		}
		n = read(r->fd, r->buf + r->len, r->cap - r->len);
		if (n <= 0)
			break;
		r->len += (size_t)n;
	}
	return NULL;
}

static void reader_start(struct reader *r, int fd)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	if (pthread_create(&r->thread, NULL, reader_main, r))
		die("pthread_create\n");
}

static void reader_join(struct reader *r)
{
	pthread_join(r->thread, NULL);
}

/* What one run of a case observed. */
struct outcome {
	ssize_t ret;
	int err;
	off_t off;		/* *offset after the call (or -1) */
	off_t pos;		/* the file position after the call */
	int sigpipes;
	size_t rx;		/* bytes the peer received */
	bool rx_ok;		/* and they are the file's bytes from start */
};

static bool rx_matches(const unsigned char *buf, size_t len, off_t start)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i] != pattern((uint64_t)start + i))
			return false;
	return true;
}

static void compare(const char *name, const struct outcome *shim,
		    const struct outcome *kern)
{
	bool same = shim->ret == kern->ret && shim->err == kern->err &&
		    shim->off == kern->off && shim->pos == kern->pos &&
		    shim->sigpipes == kern->sigpipes && shim->rx == kern->rx &&
		    shim->rx_ok && kern->rx_ok;

	tap(same, "%s: shim ret %zd errno %d off %lld pos %lld sigpipe %d rx %zu%s, sendfile ret %zd errno %d off %lld pos %lld sigpipe %d rx %zu%s",
	    name, shim->ret, shim->err, (long long)shim->off,
	    (long long)shim->pos, shim->sigpipes, shim->rx,
	    shim->rx_ok ? "" : " (bad bytes)", kern->ret, kern->err,
	    (long long)kern->off, (long long)kern->pos, kern->sigpipes,
	    kern->rx, kern->rx_ok ? "" : " (bad bytes)");
}

/* One call to a stream peer (TCP, a UNIX socket pair or a pipe). */
enum peer { PEER_TCP, PEER_UNIX, PEER_PIPE, PEER_UDP };

struct call {
	enum peer peer;
	size_t file_size;
	int file_flags;
	bool null_offset;
	off_t start;		/* offset, or file position with NULL */
	size_t count;
};

static void run_call(sf_fn fn, const struct call *c, struct outcome *o)
{
	int file = make_file(c->file_size, c->file_flags);
	int fds[2], out, in;
	struct reader r;
	off_t off = c->start;
	off_t s = c->start;

	switch (c->peer) {
	case PEER_TCP:
		tcp_pair(&out, &in);
		break;
	case PEER_UNIX:
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds))
			die("socketpair\n");
		out = fds[0], in = fds[1];
		break;
	case PEER_PIPE:
		if (pipe2(fds, O_CLOEXEC))
			die("pipe\n");
		out = fds[1], in = fds[0];
		break;
	default: {
		struct sockaddr_in sin = { .sin_family = AF_INET };
		socklen_t len = sizeof(sin);

		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		in = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		out = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (bind(in, (struct sockaddr *)&sin, len) ||
		    getsockname(in, (struct sockaddr *)&sin, &len) ||
		    connect(out, (struct sockaddr *)&sin, len))
			die("udp\n");
		break;
	}
	}
	if (c->peer != PEER_UDP)
		reader_start(&r, in);
	if (c->null_offset && lseek(file, c->start, SEEK_SET) < 0)
		o->pos = -2;
	errno = 0;
	o->ret = fn(out, file, c->null_offset ? NULL : &off, c->count);
	o->err = o->ret < 0 ? errno : 0;
	o->off = c->null_offset ? -1 : off;
	o->pos = lseek(file, 0, SEEK_CUR);
	close(out);
	if (c->peer == PEER_UDP) {
		unsigned char buf[65536];
		ssize_t n = o->ret > 0 ? recv(in, buf, sizeof(buf), MSG_DONTWAIT) : 0;

		o->rx = n > 0 ? (size_t)n : 0;
		o->rx_ok = rx_matches(buf, o->rx, s);
	} else {
		reader_join(&r);
		o->rx = r.len;
		o->rx_ok = rx_matches(r.buf, r.len, s);
		free(r.buf);
	}
	close(in);
	close(file);
}

static void case_call(const char *name, const struct call *c)
{
	struct outcome shim = { 0 }, kern = { 0 };

	run_call(sendfile, c, &shim);
	run_call(kernel_sendfile, c, &kern);
	compare(name, &shim, &kern);
}

/* Argument errors: no data moves; compare the result. */
static void case_bad(const char *name, int out, int in, off_t *off, size_t n)
{
	struct outcome shim = { .rx_ok = true }, kern = { .rx_ok = true };
	off_t o0 = off ? *off : 0;

	errno = 0;
	shim.ret = sendfile(out, in, off, n);
	shim.err = shim.ret < 0 ? errno : 0;
	if (off)
		*off = o0;
	errno = 0;
	kern.ret = kernel_sendfile(out, in, off, n);
	kern.err = kern.ret < 0 ? errno : 0;
	compare(name, &shim, &kern);
}

/* Fill a TCP send buffer (nobody reads): returns the bytes queued. */
static size_t fill(sf_fn fn, int sock, int file, off_t *off, size_t size,
		   int *err)
{
	size_t total = 0;
	ssize_t n;

	for (;;) {
		n = fn(sock, file, off, size - (size_t)*off);
		if (n <= 0) {
			*err = n < 0 ? errno : 0;
			return total;
		}
		total += (size_t)n;
	}
}

/* Non-blocking socket, nobody reading: partial counts, then EAGAIN. */
static void run_eagain(sf_fn fn, struct outcome *o)
{
	size_t size = 16 << 20;
	int file = make_file(size, O_RDONLY);
	int out, in;
	struct reader r;
	off_t off = 0;

	tcp_pair(&out, &in);
	fcntl(out, F_SETFL, O_NONBLOCK);
	o->rx = fill(fn, out, file, &off, size, &o->err);
	o->ret = -1;
	o->off = off == (off_t)o->rx;	/* offset moved by what was sent */
	reader_start(&r, in);
	close(out);
	reader_join(&r);
	o->rx_ok = r.len == o->rx && rx_matches(r.buf, r.len, 0);
	o->rx = o->rx > 0;		/* the amount varies, not its sign */
	o->pos = lseek(file, 0, SEEK_CUR);
	free(r.buf);
	close(in);
	close(file);
}

/*
 * Blocking socket with a full buffer, a signal without SA_RESTART: EINTR.
 * The peer's window can still open a little after the fill (a call that
 * queues some bytes before the signal): filled again until a call finds
 * the socket full, for both, so the outcome does not depend on timing.
 */
static void run_eintr(sf_fn fn, struct outcome *o)
{
	size_t size = 16 << 20;
	int file = make_file(size, O_RDONLY);
	struct itimerval it = { .it_value = { .tv_usec = 100000 } };
	struct sigaction sa = { .sa_handler = on_alarm };
	int out, in, err, i;
	off_t off = 0;

	tcp_pair(&out, &in);
	sigaction(SIGALRM, &sa, NULL);
	for (i = 0; i < 20; i++) {
		fcntl(out, F_SETFL, O_NONBLOCK);
		fill(fn, out, file, &off, size, &err);
		fcntl(out, F_SETFL, 0);
		setitimer(ITIMER_REAL, &it, NULL);
		errno = 0;
		o->ret = fn(out, file, &off, size - (size_t)off);
		o->err = o->ret < 0 ? errno : 0;
		if (o->ret < 0)
			break;
	}
	o->rx_ok = true;
	close(out);
	close(in);
	close(file);
}

/* The peer is gone: EPIPE and SIGPIPE (after shutdown), ECONNRESET (RST). */
static void run_peer_gone(sf_fn fn, bool reset, struct outcome *o)
{
	int file = make_file(100000, O_RDONLY);
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int out, in, first;
	off_t off = 0;

	tcp_pair(&out, &in);
	sigpipes = 0;
	if (reset) {
		setsockopt(in, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(in);
		in = -1;
		usleep(20000);
	} else {
		shutdown(out, SHUT_WR);
	}
	errno = 0;
	o->ret = fn(out, file, &off, 100000);
	first = o->ret < 0 ? errno : 0;
	errno = 0;
	o->ret = fn(out, file, &off, 100000);
	o->err = (o->ret < 0 ? errno : 0) * 1000 + first;
	o->off = off;
	o->sigpipes = sigpipes;
	o->rx_ok = true;
	close(out);
	if (in >= 0)
		close(in);
	close(file);
}

static void case_run(const char *name, void (*run)(sf_fn, struct outcome *))
{
	struct outcome shim = { 0 }, kern = { 0 };

	run(sendfile, &shim);
	run(kernel_sendfile, &kern);
	compare(name, &shim, &kern);
}

static void run_epipe(sf_fn fn, struct outcome *o)
{
	run_peer_gone(fn, false, o);
}

static void run_reset(sf_fn fn, struct outcome *o)
{
	run_peer_gone(fn, true, o);
}

/* Whole file in a loop, as servers do: 3 MiB + 1 from a moving offset. */
static void run_loop(sf_fn fn, struct outcome *o)
{
	size_t size = (3 << 20) + 1;
	int file = make_file(size, O_RDONLY);
	int out, in;
	struct reader r;
	off_t off = 0;
	ssize_t n;

	tcp_pair(&out, &in);
	reader_start(&r, in);
	do {
		n = fn(out, file, &off, size - (size_t)off);
	} while (n > 0);
	o->ret = n;
	o->err = n < 0 ? errno : 0;
	o->off = off;
	close(out);
	reader_join(&r);
	o->rx = r.len;
	o->rx_ok = rx_matches(r.buf, r.len, 0);
	free(r.buf);
	close(in);
	close(file);
}

/* Threads at once, each its own connection: bytes and counters add up. */
#define THREADS	8
#define ROUNDS	25

static void *thread_main(void *arg)
{
	int file = make_file(70000, O_RDONLY);
	int out, in, i;
	struct reader r;
	off_t off;
	bool *ok = arg;

	*ok = true;
	tcp_pair(&out, &in);
	reader_start(&r, in);
	for (i = 0; i < ROUNDS; i++) {
		off = 0;
		if (sendfile(out, file, &off, 70000) != 70000 || off != 70000)
			*ok = false;
	}
	close(out);
	reader_join(&r);
	if (r.len != 70000 * ROUNDS)
		*ok = false;
	for (i = 0; *ok && i < ROUNDS; i++)
		*ok = rx_matches(r.buf + (size_t)i * 70000, 70000, 0);
	free(r.buf);
	close(in);
	close(file);
	return NULL;
}

static void case_threads(void)
{
	struct zcsend_preload_counters c0, c1;
	pthread_t t[THREADS];
	bool ok[THREADS], all = true;
	uint64_t calls;
	int i;

	zcsend_preload_counters(&c0);
	for (i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, thread_main, &ok[i]);
	for (i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		all = all && ok[i];
	}
	zcsend_preload_counters(&c1);
	calls = c1.ioctl_calls + c1.fallback_calls - c0.ioctl_calls -
		c0.fallback_calls;
	tap(all && calls == THREADS * ROUNDS,
	    "%d threads x %d sends of 70000 bytes: bytes exact, %llu calls counted",
	    THREADS, ROUNDS, (unsigned long long)calls);
}

/* A child of fork() sends, and counts from zero. */
static void case_fork(void)
{
	struct zcsend_preload_counters c;
	int file = make_file(5000, O_RDONLY), out, in, st;
	char buf[5000];
	off_t off = 0;
	pid_t pid;

	tcp_pair(&out, &in);
	pid = fork();
	if (pid == 0) {
		zcsend_preload_counters(&c);
		if (c.ioctl_calls + c.fallback_calls)
			_exit(2);
		if (sendfile(out, file, &off, 5000) != 5000)
			_exit(3);
		zcsend_preload_counters(&c);
		_exit(c.ioctl_calls + c.fallback_calls == 1 ? 0 : 4);
	}
	waitpid(pid, &st, 0);
	close(out);
	tap(WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
	    recv(in, buf, sizeof(buf), MSG_WAITALL) == 5000 &&
	    rx_matches((unsigned char *)buf, 5000, 0),
	    "fork: the child's sendfile works, its counters start at 0 (status %d)",
	    WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	close(in);
	close(file);
}

/* Where each call went: the ioctl for TCP when the device is there. */
static void case_route(const char *name, enum peer peer, bool want_ioctl)
{
	struct zcsend_preload_counters c0, c1;
	struct call c = { .peer = peer, .file_size = 10000,
			  .file_flags = O_RDONLY, .count = 10000 };
	struct outcome o = { 0 };
	bool via_ioctl;

	zcsend_preload_counters(&c0);
	run_call(sendfile, &c, &o);
	zcsend_preload_counters(&c1);
	via_ioctl = c1.ioctl_calls == c0.ioctl_calls + 1 &&
		    c1.ioctl_bytes == c0.ioctl_bytes + 10000;
	tap(o.ret == 10000 && o.rx_ok && via_ioctl == want_ioctl &&
	    (via_ioctl || (c1.fallback_calls == c0.fallback_calls + 1 &&
			   c1.fallback_bytes == c0.fallback_bytes + 10000)),
	    "%s goes %s and is counted there", name,
	    want_ioctl ? "through the ioctl" : "to the real sendfile");
}

/* Calls that succeed, to each kind of output, against sendfile's result. */
static void cases_calls(void)
{
	case_call("TCP, offset 1234, 100000 of 200000 bytes",
		  &(struct call){ PEER_TCP, 200000, O_RDONLY, false, 1234, 100000 });
	case_call("TCP, NULL offset: file position 777 used and moved",
		  &(struct call){ PEER_TCP, 200000, O_RDONLY, true, 777, 5000 });
	case_call("TCP, count past end of file: partial count",
		  &(struct call){ PEER_TCP, 4097, O_RDONLY, false, 4000, 1000 });
	case_call("TCP, NULL offset past end of file: partial count",
		  &(struct call){ PEER_TCP, 4097, O_RDONLY, true, 4000, 1000 });
	case_call("TCP, offset at end of file: 0",
		  &(struct call){ PEER_TCP, 4096, O_RDONLY, false, 4096, 10 });
	case_call("TCP, count 0: 0",
		  &(struct call){ PEER_TCP, 4096, O_RDONLY, false, 0, 0 });
	case_call("TCP, empty file: 0",
		  &(struct call){ PEER_TCP, 0, O_RDONLY, false, 0, 100 });
	case_call("TCP, file opened O_RDWR",
		  &(struct call){ PEER_TCP, 65537, O_RDWR, false, 1, 65536 });
	case_call("pipe, offset 10, 3000 bytes",
		  &(struct call){ PEER_PIPE, 5000, O_RDONLY, false, 10, 3000 });
	case_call("pipe, NULL offset",
		  &(struct call){ PEER_PIPE, 5000, O_RDONLY, true, 100, 3000 });
	case_call("UNIX stream socket pair",
		  &(struct call){ PEER_UNIX, 50000, O_RDONLY, false, 3, 40000 });
	case_call("connected UDP socket",
		  &(struct call){ PEER_UDP, 5000, O_RDONLY, false, 0, 1000 });
}

/* Calls whose outcome depends on the peer or on signals. */
static void cases_runs(void)
{
	case_run("TCP, whole 3 MiB + 1 file in a loop from the returned offset", run_loop);
	case_run("TCP non-blocking, nobody reads: partial counts, then EAGAIN", run_eagain);
	case_run("TCP blocking, full, signal without SA_RESTART: EINTR", run_eintr);
	case_run("TCP shut down for writing: EPIPE twice, SIGPIPE twice", run_epipe);
	case_run("TCP reset by the peer: ECONNRESET, then EPIPE", run_reset);
}

/* Arguments sendfile refuses: the same errno from the shim. */
static void cases_bad_args(void)
{
	int file, pipefd[2], sock[2], wronly, out, in, lone;
	off_t neg = -1, zero = 0;

	file = make_file(1000, O_RDONLY);
	wronly = make_file(1000, O_WRONLY);
	if (pipe2(pipefd, O_CLOEXEC) || socketpair(AF_UNIX, SOCK_STREAM, 0, sock))
		die("pipe\n");
	lone = socket(AF_INET6, SOCK_STREAM, 0);
	tcp_pair(&out, &in);
	case_bad("input a pipe, with an offset", out, pipefd[0], &zero, 10);
	case_bad("input a pipe, NULL offset", out, pipefd[0], NULL, 10);
	case_bad("input opened O_WRONLY: EBADF", out, wronly, &zero, 10);
	case_bad("input a closed fd: EBADF", out, 999, &zero, 10);
	case_bad("output a closed fd: EBADF", 998, file, &zero, 10);
	case_bad("negative offset: EINVAL", out, file, &neg, 10);
	case_bad("output the input file itself (not a socket)", file, file, &zero, 10);
	case_bad("unconnected TCP socket", lone, file, &zero, 10);
	close(out);
	close(in);
	close(lone);
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_sigpipe };

	expect_ioctl = argc > 1 && !strcmp(argv[1], "--ioctl");
	sigaction(SIGPIPE, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n");
	printf("# device expected: %s\n", expect_ioctl ? "yes (ioctl)" : "no (fallback)");

	cases_calls();
	cases_runs();
	cases_bad_args();
	case_fork();
	case_threads();
	case_route("TCP", PEER_TCP, expect_ioctl);
	case_route("a pipe", PEER_PIPE, false);
	case_route("a UNIX socket", PEER_UNIX, false);

	printf("1..%d\n", tests);
	printf("# %d failed\n", failures);
	return failures ? 1 : 0;
}
