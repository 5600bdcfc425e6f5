/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by zcsend's selftests. Include after kselftest_harness.h.
 */
#ifndef ZCSEND_TEST_H
#define ZCSEND_TEST_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * ZCSEND_SCALED=1: scripts/check sets it on the debug kernel, where each
 * byte costs many times more; a test sends less there, every check made.
 */
static inline int zcsend_scaled(void)
{
	const char *s = getenv("ZCSEND_SCALED");

	return s && !strcmp(s, "1");
}

/* insmod @path (the module file): 0, or -1 with errno. */
static inline int zcsend_load_module(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int ret, err;

	if (fd < 0)
		return -1;
	ret = syscall(SYS_finit_module, fd, "", 0);
	err = errno;
	close(fd);
	errno = err;
	return ret;
}

/* rmmod zcsend without waiting: 0, or -1 with errno (EWOULDBLOCK in use). */
static inline int zcsend_unload_module(void)
{
	return syscall(SYS_delete_module, "zcsend", O_NONBLOCK);
}

/*
 * A connected loopback TCP pair of @family (AF_INET or AF_INET6): *snd
 * sends, *rcv receives. @bufsize, when not 0, is the sender's SO_SNDBUF and
 * the receiver's SO_RCVBUF (set before connecting, so the window fits it).
 * Return: 0, or -1 with errno.
 */
static inline int zcsend_tcp_pair(int family, int *snd, int *rcv, int bufsize)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6,
				   .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct sockaddr_in a4 = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr *a = family == AF_INET6 ? (void *)&a6 : (void *)&a4;
	socklen_t alen = family == AF_INET6 ? sizeof(a6) : sizeof(a4);
	int l, c = -1, s = -1, err;

	l = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0)
		return -1;
	if (bufsize)
		setsockopt(l, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof(bufsize));
	if (bind(l, a, alen) || listen(l, 1) || getsockname(l, a, &alen))
		goto err;
	c = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c < 0)
		goto err;
	if (bufsize)
		setsockopt(c, SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof(bufsize));
	if (connect(c, a, alen))
		goto err;
	s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	if (s < 0)
		goto err;
	close(l);
	*snd = c;
	*rcv = s;
	return 0;
err:
	err = errno;
	if (c >= 0)
		close(c);
	close(l);
	errno = err;
	return -1;
}

/* Write all @len bytes of @buf at @off: 0, or -1 with errno. */
static inline int zcsend_pwrite_all(int fd, const void *buf, size_t len,
				    off_t off)
{
	const char *p = buf;

	while (len) {
		ssize_t n = pwrite(fd, p, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		off += n;
		len -= n;
	}
	return 0;
}

/*
 * A new, already unlinked file in @dir (default /tmp, the guest's tmpfs)
 * holding @len bytes of @buf (none when @buf is NULL).
 * Return: its fd (read-write), or -1 with errno.
 */
static inline int zcsend_make_file(const char *dir, const void *buf,
				   size_t len)
{
	char path[256];
	int fd, err;

	snprintf(path, sizeof(path), "%s/zcsend-test.XXXXXX", dir ?: "/tmp");
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return -1;
	unlink(path);
	if (buf && zcsend_pwrite_all(fd, buf, len, 0)) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

/* Fills @n bytes of @buf with the file's bytes from offset @off. */
typedef void (*zcsend_fill_fn)(unsigned char *buf, uint64_t off, size_t n,
			       void *arg);

/*
 * Like zcsend_make_file(), @size bytes made by @fill a chunk at a time
 * (for files larger than a test wants to hold in memory).
 */
static inline int zcsend_make_file_fill(const char *dir, uint64_t size,
					zcsend_fill_fn fill, void *arg)
{
	/* Per thread: the load test makes files from 16 threads at once. */
	static __thread unsigned char buf[1 << 16];
	uint64_t off;
	int fd, err;

	fd = zcsend_make_file(dir, NULL, 0);
	if (fd < 0)
		return -1;
	for (off = 0; off < size; off += sizeof(buf)) {
		size_t n = size - off < sizeof(buf) ? size - off : sizeof(buf);

		fill(buf, off, n, arg);
		if (zcsend_pwrite_all(fd, buf, n, off)) {
			err = errno;
			close(fd);
			errno = err;
			return -1;
		}
	}
	return fd;
}

/*
 * Read @fd to EOF, comparing with the @len bytes of @want; *@got: how many
 * came. Return: what a receiver process exits with: 0 the same bytes, 1
 * different (or more) bytes, 2 fewer bytes (a prefix), 3 a read error.
 */
static inline int zcsend_recv_compare(int fd, const unsigned char *want,
				      size_t len, size_t *got)
{
	static unsigned char buf[1 << 16];
	int bad = 0;

	*got = 0;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return 3;
		if (!n)
			break;
		if (*got + n > len || memcmp(buf, want + *got, n))
			bad = 1;
		*got += n;
	}
	return bad ? 1 : *got == len ? 0 : 2;
}

/* Run a shell command built from @fmt: its exit status (-1 if it did not
 * exit), said on stderr when not 0. */
static inline int zcsend_run(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static inline int zcsend_run(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	st = st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	if (st)
		fprintf(stderr, "# '%s' failed (status %d)\n", cmd, st);
	return st;
}

/* Read a /proc or /sys parameter's text into @val: 0, or -1. */
static inline int zcsend_read_param(const char *path, char *val, size_t size)
{
	FILE *f = fopen(path, "re");
	int ret;

	if (!f)
		return -1;
	ret = fgets(val, size, f) ? 0 : -1;
	fclose(f);
	return ret;
}

/* Write @val to a /proc or /sys parameter: 0, or -1. */
static inline int zcsend_write_param(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

/*
 * Wait up to @timeout_ms for task @tid (a process or a thread: /proc/TID
 * names both) to sleep in the kernel ('S' in /proc/TID/stat) at a wait
 * channel named in @wchans (NULL-terminated): that it blocked where the
 * test means it to, not merely that it is running or slept elsewhere.
 * @got (@len bytes) receives the last wait channel read ("0" when not
 * sleeping), for the test's log.
 * Return: 0 once blocked there, -1 on timeout.
 */
static inline int zcsend_wait_blocked(pid_t tid, const char *const *wchans,
				      int timeout_ms, char *got, size_t len)
{
	char path[64], state;
	int waited;

	snprintf(got, len, "?");
	for (waited = 0; waited <= timeout_ms; waited += 10) {
		const char *const *w;
		FILE *f;

		state = 0;
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)tid);
		f = fopen(path, "re");
		if (f) {
			if (fscanf(f, "%*d %*s %c", &state) != 1)
				state = 0;
			fclose(f);
		}
		snprintf(path, sizeof(path), "/proc/%d/wchan", (int)tid);
		f = fopen(path, "re");
		if (f) {
			if (!fgets(got, len, f))
				snprintf(got, len, "?");
			fclose(f);
		}
		for (w = wchans; state == 'S' && *w; w++)
			if (!strcmp(got, *w))
				return 0;
		usleep(10000);
	}
	return -1;
}

/* Where a TCP sender sleeps for send-buffer space (sk_stream_wait_memory). */
static const char *const zcsend_wchans_sndbuf[] __attribute__((unused)) = {
	"sk_stream_wait_memory", "wait_woken", NULL,
};

/*
 * Instead of TEST_HARNESS_MAIN: the whole program is skipped (exit 4, TAP
 * "1..0 # SKIP") when not root or the module is not loaded. Skipping
 * per test from FIXTURE_SETUP is not enough with 6.1's harness, which runs
 * the test body after a setup that skipped.
 */
#define ZCSEND_TEST_MAIN						\
	int main(int argc, char **argv)					\
	{								\
		if (geteuid() != 0)					\
			ksft_exit_skip("needs root\n");			\
		if (access("/sys/module/zcsend", F_OK) != 0)		\
			ksft_exit_skip("zcsend module not loaded\n");	\
		return test_harness_run(argc, argv);			\
	}

/* One completion as a MSG_ZEROCOPY reader sees it. */
struct zc_note {
	uint32_t lo, hi;
	int copied;
};

/*
 * Read one completion from @fd's error queue without waiting, as a reader
 * written for MSG_ZEROCOPY does (the kernel's msg_zerocopy selftest):
 * zcsend's release notifications use that format.
 * Return: 1 with *@n filled, 0 when the queue is empty, -1 on anything that
 * is not a MSG_ZEROCOPY completion (errno EPROTO) or a recvmsg error.
 */
static inline int zc_read_note(int fd, struct zc_note *n)
{
	char control[CMSG_SPACE(sizeof(struct sock_extended_err)) + 64];
	struct msghdr msg = {
		.msg_control = control, .msg_controllen = sizeof(control),
	};
	struct sock_extended_err *serr;
	struct cmsghdr *cm;

	if (recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
		return errno == EAGAIN ? 0 : -1;
	cm = CMSG_FIRSTHDR(&msg);
	errno = EPROTO;
	if (!cm || msg.msg_flags & MSG_CTRUNC)
		return -1;
	if (!((cm->cmsg_level == SOL_IP && cm->cmsg_type == IP_RECVERR) ||
	      (cm->cmsg_level == SOL_IPV6 && cm->cmsg_type == IPV6_RECVERR)))
		return -1;
	serr = (void *)CMSG_DATA(cm);
	if (serr->ee_origin != SO_EE_ORIGIN_ZEROCOPY || serr->ee_errno)
		return -1;
	n->lo = serr->ee_info;
	n->hi = serr->ee_data;
	n->copied = !!(serr->ee_code & SO_EE_CODE_ZEROCOPY_COPIED);
	return 1;
}

/* Wait up to @ms for a completion: as zc_read_note(), 0 on timeout. */
static inline int zc_wait_note(int fd, struct zc_note *n, int ms)
{
	struct pollfd p = { .fd = fd, .events = 0 };
	int ret;

	for (;;) {
		ret = zc_read_note(fd, n);
		if (ret)
			return ret;
		/* POLLERR: the error queue is not empty. */
		if (poll(&p, 1, ms) <= 0)
			return 0;
		if (!(p.revents & POLLERR))
			return 0;
		ms = 0;
	}
}

#endif /* ZCSEND_TEST_H */
