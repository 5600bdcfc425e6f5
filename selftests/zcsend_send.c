// SPDX-License-Identifier: GPL-2.0
/*
 * The send ioctls on tmpfs over loopback TCP: byte-exact delivery (checked
 * by a receiver in a forked process), every argument refusal with its
 * errno, EAGAIN on a full non-blocking socket, EPIPE with and without
 * SIGPIPE, and the vectored form. File systems, faults and load are tested
 * elsewhere.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/sockios.h>
#include <linux/tls.h>
#include <linux/zcsend.h>

#include "kselftest_harness.h"
#include "zcsend_test.h"

#define MIB		(1024 * 1024)

/* Deterministic bytes that differ at every offset and between files. */
static void fill_pattern(unsigned char *buf, size_t len, uint32_t seed)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL ^ seed;
	size_t i;

	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = x >> 24;
	}
}

/*
 * Fork a receiver that reads @fd to EOF and compares with @want. Its exit
 * status: 0 same bytes, 1 different bytes, 2 wrong length, 3 read error.
 */
static pid_t start_receiver(int fd, const unsigned char *want, size_t len)
{
	size_t got;
	pid_t pid;

	pid = fork();
	if (pid)
		return pid;
	_exit(zcsend_recv_compare(fd, want, len, &got));
}

static int receiver_status(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static int zc_sendfile(int dev, int file_fd, int sock_fd, uint64_t off,
		       uint64_t len, uint32_t flags, struct zcsend_file *out)
{
	struct zcsend_file a = {
		.size = sizeof(a), .flags = flags, .file_fd = file_fd,
		.sock_fd = sock_fd, .offset = off, .length = len,
	};

	if (ioctl(dev, ZCSEND_IOC_SENDFILE, &a))
		return -errno;
	if (out)
		*out = a;
	return 0;
}

/* Errno of a SENDFILE that must fail (0 when it succeeded). */
static int sendfile_errno(int dev, int file_fd, int sock_fd, uint64_t off,
			  uint64_t len, uint32_t flags)
{
	return -zc_sendfile(dev, file_fd, sock_fd, off, len, flags, NULL);
}

static int zc_sendvec(int dev, int sock_fd, struct zcsend_seg *segs,
		      uint32_t nr, uint32_t flags, struct zcsend_vec *out)
{
	struct zcsend_vec v = {
		.size = sizeof(v), .flags = flags, .sock_fd = sock_fd,
		.nr_segs = nr, .segs = (uintptr_t)segs,
	};

	if (ioctl(dev, ZCSEND_IOC_SENDVEC, &v))
		return -errno;
	if (out)
		*out = v;
	return 0;
}

FIXTURE(integrity) {
	int dev;
};

FIXTURE_VARIANT(integrity) {
	size_t size;
	size_t offset;
	int family;
};

FIXTURE_VARIANT_ADD(integrity, size_0) { .size = 0, .offset = 7 };
FIXTURE_VARIANT_ADD(integrity, size_1) { .size = 1, .offset = 4095 };
FIXTURE_VARIANT_ADD(integrity, size_4095) { .size = 4095, .offset = 1 };
FIXTURE_VARIANT_ADD(integrity, size_4096) { .size = 4096, .offset = 3 };
FIXTURE_VARIANT_ADD(integrity, size_4097) { .size = 4097, .offset = 4097 };
FIXTURE_VARIANT_ADD(integrity, size_65535) { .size = 65535, .offset = 513 };
FIXTURE_VARIANT_ADD(integrity, size_65537) { .size = 65537, .offset = 8191 };
FIXTURE_VARIANT_ADD(integrity, size_1m_1) { .size = MIB + 1, .offset = 12345 };
FIXTURE_VARIANT_ADD(integrity, size_1m_1_ipv6) {
	.size = MIB + 1, .offset = 4099, .family = AF_INET6 };
FIXTURE_VARIANT_ADD(integrity, size_9m_aligned) { .size = 9 * MIB };

FIXTURE_SETUP(integrity)
{
	self->dev = open(ZCSEND_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev);
}

FIXTURE_TEARDOWN(integrity)
{
	close(self->dev);
}

/* The range arrives byte-exact, sent in as many calls as it takes. */
TEST_F(integrity, bytes_match)
{
	size_t flen = variant->offset + variant->size + 100;
	unsigned char *buf = malloc(flen);
	uint64_t off = variant->offset, left = variant->size;
	int ffd, cli, srv, calls = 0;
	pid_t rx;

	ASSERT_NE(NULL, buf);
	fill_pattern(buf, flen, variant->size);
	ffd = zcsend_make_file(NULL, buf, flen);
	ASSERT_LE(0, ffd);
	ASSERT_EQ(0, zcsend_tcp_pair(variant->family ?: AF_INET, &cli, &srv, 0));
	rx = start_receiver(srv, buf + variant->offset, variant->size);
	ASSERT_LE(0, rx);
	close(srv);

	do {
		struct zcsend_file r;

		ASSERT_EQ(0, zc_sendfile(self->dev, ffd, cli, off, left,
					 ZCSEND_F_NOSIGNAL, &r));
		ASSERT_EQ(off + r.sent, r.offset);
		ASSERT_LE(r.sent, left);
		if (left)
			ASSERT_LT(0, r.sent);
		off = r.offset;
		left -= r.sent;
		calls++;
	} while (left);
	TH_LOG("%zu bytes in %d call(s)", variant->size, calls);

	ASSERT_EQ(0, shutdown(cli, SHUT_WR));
	EXPECT_EQ(0, receiver_status(rx));
	close(cli);
	close(ffd);
	free(buf);
}

/* A range past end of file stops there; at or after EOF sends nothing. */
TEST_F(integrity, stops_at_eof)
{
	unsigned char buf[10000];
	struct zcsend_file r;
	int ffd, cli, srv;
	pid_t rx;

	fill_pattern(buf, sizeof(buf), 42);
	ffd = zcsend_make_file(NULL, buf, sizeof(buf));
	ASSERT_LE(0, ffd);
	ASSERT_EQ(0, zcsend_tcp_pair(AF_INET, &cli, &srv, 0));
	rx = start_receiver(srv, buf + 9000, 1000);
	close(srv);

	ASSERT_EQ(0, zc_sendfile(self->dev, ffd, cli, 9000, 1 << 20, 0, &r));
	EXPECT_EQ(1000, r.sent);
	EXPECT_EQ(10000, r.offset);
	ASSERT_EQ(0, zc_sendfile(self->dev, ffd, cli, 10000, 5, 0, &r));
	EXPECT_EQ(0, r.sent);
	ASSERT_EQ(0, zc_sendfile(self->dev, ffd, cli, 1 << 30, 5, 0, &r));
	EXPECT_EQ(0, r.sent);

	shutdown(cli, SHUT_WR);
	EXPECT_EQ(0, receiver_status(rx));
	close(cli);
	close(ffd);
}

/* Refusals: each with its documented errno, and nothing sent. */
/*
 * Errno of sendfile(2) itself for the same file and socket (the oracle),
 * 0 if it sent something.
 */
static int real_sendfile_errno(int file_fd, int sock_fd)
{
	off_t off = 0;

	return sendfile(sock_fd, file_fd, &off, 1) < 0 ? errno : 0;
}

/* The ioctl refuses @fd as a file with the errno sendfile(2) gives. */
#define EXPECT_REFUSED_AS_SENDFILE(fd)					\
	do {								\
		int _want = real_sendfile_errno(fd, self->cli);		\
									\
		EXPECT_NE(0, _want);					\
		EXPECT_EQ(_want, sendfile_errno(self->dev, fd, self->cli, \
						0, 1, 0));		\
	} while (0)

/* The same for a file the test opens (@fd: the open's result), then closed. */
#define EXPECT_OPENED_REFUSED(fd)					\
	do {								\
		int _fd = (fd);						\
									\
		ASSERT_LE(0, _fd);					\
		EXPECT_REFUSED_AS_SENDFILE(_fd);			\
		close(_fd);						\
	} while (0)

/* @fd's file opened again with @flags. */
static int reopen(int fd, int flags)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return open(path, flags | O_CLOEXEC);
}

FIXTURE(refuse) {
	int dev;
	int file;	/* a 64 KiB tmpfs file */
	int cli;	/* connected TCP */
	int srv;
};

FIXTURE_SETUP(refuse)
{
	static unsigned char buf[65536];

	self->dev = open(ZCSEND_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev);
	fill_pattern(buf, sizeof(buf), 1);
	self->file = zcsend_make_file(NULL, buf, sizeof(buf));
	ASSERT_LE(0, self->file);
	ASSERT_EQ(0, zcsend_tcp_pair(AF_INET, &self->cli, &self->srv, 0));
}

FIXTURE_TEARDOWN(refuse)
{
	int n = 0;

	/* Nothing may have reached the peer. */
	ioctl(self->srv, FIONREAD, &n);
	EXPECT_EQ(0, n);
	close(self->srv);
	close(self->cli);
	close(self->file);
	close(self->dev);
}

TEST_F(refuse, sanity_ok)
{
	EXPECT_EQ(0, sendfile_errno(self->dev, self->file, self->cli, 0, 0, 0));
}

TEST_F(refuse, bad_file_fd)
{
	EXPECT_EQ(EBADF, sendfile_errno(self->dev, -1, self->cli, 0, 1, 0));
	EXPECT_EQ(EBADF, sendfile_errno(self->dev, 100000, self->cli, 0, 1, 0));
	EXPECT_EQ(EBADF, sendfile_errno(self->dev, 1000, self->cli, 0, 1, 0));
}

TEST_F(refuse, file_is_pipe)
{
	int p[2];

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	EXPECT_REFUSED_AS_SENDFILE(p[0]);
	close(p[0]);
	close(p[1]);
}

TEST_F(refuse, file_is_dir)
{
	EXPECT_OPENED_REFUSED(open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
}

TEST_F(refuse, file_is_socket)
{
	EXPECT_REFUSED_AS_SENDFILE(self->srv);
}

TEST_F(refuse, file_is_eventfd)
{
	EXPECT_OPENED_REFUSED(eventfd(0, EFD_CLOEXEC));
}

TEST_F(refuse, file_is_proc)
{
	EXPECT_OPENED_REFUSED(open("/proc/self/status", O_RDONLY | O_CLOEXEC));
}

#ifndef __NR_memfd_secret
#define __NR_memfd_secret 447
#endif

TEST_F(refuse, file_secretmem)
{
	int f = syscall(__NR_memfd_secret, O_CLOEXEC);

	if (f < 0)
		SKIP(return, "memfd_secret: %s", strerror(errno));
	ASSERT_EQ(0, ftruncate(f, 8192));
	EXPECT_REFUSED_AS_SENDFILE(f);
	close(f);
}

TEST_F(refuse, file_o_path)
{
	EXPECT_OPENED_REFUSED(reopen(self->file, O_PATH));
}

TEST_F(refuse, file_write_only)
{
	EXPECT_OPENED_REFUSED(reopen(self->file, O_WRONLY));
}

TEST_F(refuse, bad_sock_fd)
{
	EXPECT_EQ(EBADF, sendfile_errno(self->dev, self->file, -1, 0, 1, 0));
	EXPECT_EQ(EBADF, sendfile_errno(self->dev, self->file, 100000, 0, 1, 0));
}

TEST_F(refuse, sock_not_socket)
{
	EXPECT_EQ(ENOTSOCK, sendfile_errno(self->dev, self->file, self->file,
					   0, 1, 0));
}

TEST_F(refuse, sock_udp)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(9),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	ASSERT_LE(0, s);
	ASSERT_EQ(0, connect(s, (void *)&a, sizeof(a)));
	EXPECT_EQ(EOPNOTSUPP, sendfile_errno(self->dev, self->file, s, 0, 1, 0));
	close(s);
}

TEST_F(refuse, sock_unix)
{
	int sv[2];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	EXPECT_EQ(EOPNOTSUPP, sendfile_errno(self->dev, self->file, sv[0],
					     0, 1, 0));
	close(sv[0]);
	close(sv[1]);
}

/*
 * Sockets that are not connected: TCP answers, as it answers sendfile(2)
 * (EPIPE, with SIGPIPE, here ignored; a zero-length call succeeds).
 */
static void expect_sock_as_sendfile(struct __test_metadata *_metadata,
				    int dev, int file, int s)
{
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	off_t off = 0;
	int want;

	want = sendfile(s, file, &off, 1) < 0 ? errno : 0;
	EXPECT_EQ(EPIPE, want);
	EXPECT_EQ(want, sendfile_errno(dev, file, s, 0, 1, 0));
	EXPECT_EQ(0, sendfile(s, file, &off, 0));
	EXPECT_EQ(0, sendfile_errno(dev, file, s, 0, 0, 0));
	signal(SIGPIPE, old);
}

TEST_F(refuse, sock_unconnected)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ASSERT_LE(0, s);
	expect_sock_as_sendfile(_metadata, self->dev, self->file, s);
	close(s);
}

TEST_F(refuse, sock_listening)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6,
				  .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int s = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ASSERT_LE(0, s);
	ASSERT_EQ(0, bind(s, (struct sockaddr *)&a, sizeof(a)));
	ASSERT_EQ(0, listen(s, 1));
	expect_sock_as_sendfile(_metadata, self->dev, self->file, s);
	close(s);
}

TEST_F(refuse, sock_shut_down)
{
	ASSERT_EQ(0, shutdown(self->cli, SHUT_WR));
	EXPECT_EQ(EPIPE, sendfile_errno(self->dev, self->file, self->cli, 0, 1,
					ZCSEND_F_NOSIGNAL));
}

TEST_F(refuse, offset_negative)
{
	EXPECT_EQ(EINVAL, sendfile_errno(self->dev, self->file, self->cli,
					 1ULL << 63, 1, 0));
	EXPECT_EQ(EINVAL, sendfile_errno(self->dev, self->file, self->cli,
					 UINT64_MAX, 0, 0));
}

TEST_F(refuse, offset_length_overflow)
{
	EXPECT_EQ(EINVAL, sendfile_errno(self->dev, self->file, self->cli,
					 INT64_MAX - 10, 11, 0));
	EXPECT_EQ(EINVAL, sendfile_errno(self->dev, self->file, self->cli,
					 1, UINT64_MAX, 0));
	/* The largest range that fits is fine (and sends to EOF). */
	EXPECT_EQ(0, sendfile_errno(self->dev, self->file, self->cli,
				    INT64_MAX - 10, 10, 0));
}

TEST_F(refuse, unknown_flags)
{
	EXPECT_EQ(EINVAL, sendfile_errno(self->dev, self->file, self->cli, 0, 1,
					 1U << 6));
	EXPECT_EQ(EINVAL, sendfile_errno(self->dev, self->file, self->cli, 0, 1,
					 1U << 31));
}

TEST_F(refuse, reserved_set)
{
	struct zcsend_file a = {
		.size = sizeof(a), .file_fd = self->file, .sock_fd = self->cli,
		.length = 1, .reserved = { 0, 1 },
	};

	EXPECT_EQ(-1, ioctl(self->dev, ZCSEND_IOC_SENDFILE, &a));
	EXPECT_EQ(EINVAL, errno);
}

/* A struct larger than ours: zero tail accepted, else E2BIG. */
TEST_F(refuse, struct_sizes)
{
	struct {
		struct zcsend_file f;
		uint64_t tail[2];
	} big = { .f = { .file_fd = self->file, .sock_fd = self->cli } };
	static char page[8192] __attribute__((aligned(8)));
	struct zcsend_file *p = (void *)page;

	big.f.size = ZCSEND_FILE_SIZE_VER0 - 8;
	EXPECT_EQ(-1, ioctl(self->dev, ZCSEND_IOC_SENDFILE, &big));
	EXPECT_EQ(EINVAL, errno);
	big.f.size = 0;
	EXPECT_EQ(-1, ioctl(self->dev, ZCSEND_IOC_SENDFILE, &big));
	EXPECT_EQ(EINVAL, errno);

	big.f.size = sizeof(big);
	EXPECT_EQ(0, ioctl(self->dev, ZCSEND_IOC_SENDFILE, &big));
	big.tail[1] = 1;
	EXPECT_EQ(-1, ioctl(self->dev, ZCSEND_IOC_SENDFILE, &big));
	EXPECT_EQ(E2BIG, errno);

	p->file_fd = self->file;
	p->sock_fd = self->cli;
	p->size = 4096;
	EXPECT_EQ(0, ioctl(self->dev, ZCSEND_IOC_SENDFILE, p));
	p->size = 4097;
	EXPECT_EQ(-1, ioctl(self->dev, ZCSEND_IOC_SENDFILE, p));
	EXPECT_EQ(E2BIG, errno);
}

TEST_F(refuse, bad_pointer)
{
	EXPECT_EQ(-1, ioctl(self->dev, ZCSEND_IOC_SENDFILE, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->dev, ZCSEND_IOC_SENDFILE, (void *)8));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->dev, ZCSEND_IOC_SENDVEC, NULL));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(refuse, vec_segments)
{
	static struct zcsend_seg segs[ZCSEND_SEGS_MAX + 1];
	static char big[ZCSEND_INLINE_MAX + 1];
	struct zcsend_seg s;

	EXPECT_EQ(-EINVAL, zc_sendvec(self->dev, self->cli, segs,
				      ZCSEND_SEGS_MAX + 1, 0, NULL));
	/* All-zero segments: type 0 is unknown. */
	EXPECT_EQ(-EINVAL, zc_sendvec(self->dev, self->cli, segs,
				      ZCSEND_SEGS_MAX, 0, NULL));
	s = (struct zcsend_seg){ .type = 3 };
	EXPECT_EQ(-EINVAL, zc_sendvec(self->dev, self->cli, &s, 1, 0, NULL));
	s = (struct zcsend_seg){ .type = ZCSEND_SEG_INLINE,
				 .addr = (uintptr_t)big, .length = sizeof(big) };
	EXPECT_EQ(-EINVAL, zc_sendvec(self->dev, self->cli, &s, 1, 0, NULL));
	s.length = 10;
	s.fd = self->file;
	EXPECT_EQ(-EINVAL, zc_sendvec(self->dev, self->cli, &s, 1, 0, NULL));
	s = (struct zcsend_seg){ .type = ZCSEND_SEG_FILE, .fd = self->file,
				 .length = 10, .addr = 1 };
	EXPECT_EQ(-EINVAL, zc_sendvec(self->dev, self->cli, &s, 1, 0, NULL));
	s.addr = 0;
	s.fd = -1;
	EXPECT_EQ(-EBADF, zc_sendvec(self->dev, self->cli, &s, 1, 0, NULL));
	EXPECT_EQ(-EFAULT, zc_sendvec(self->dev, self->cli, (void *)8, 1, 0,
				      NULL));
	s = (struct zcsend_seg){ .type = ZCSEND_SEG_INLINE,
				 .addr = UINT64_MAX - 100, .length = 1000 };
	EXPECT_EQ(-EFAULT, zc_sendvec(self->dev, self->cli, &s, 1, 0, NULL));
}

/* A bad segment late in the list: nothing at all is sent. */
TEST_F(refuse, vec_validates_first)
{
	struct zcsend_seg s[3] = {
		{ .type = ZCSEND_SEG_INLINE, .addr = (uintptr_t)"hello",
		  .length = 5 },
		{ .type = ZCSEND_SEG_FILE, .fd = self->file, .length = 100 },
		{ .type = ZCSEND_SEG_FILE, .fd = self->srv, .length = 100 },
	};

	/* A socket as a file: ESPIPE, as sendfile(2) says. */
	EXPECT_EQ(-ESPIPE, zc_sendvec(self->dev, self->cli, s, 3, 0, NULL));
}

TEST_F(refuse, vec_flags_reserved)
{
	struct zcsend_vec v = { .size = sizeof(v), .sock_fd = self->cli };

	v.flags = 1U << 30;
	EXPECT_EQ(-1, ioctl(self->dev, ZCSEND_IOC_SENDVEC, &v));
	EXPECT_EQ(EINVAL, errno);
	v.flags = 0;
	v.reserved0 = 1;
	EXPECT_EQ(-1, ioctl(self->dev, ZCSEND_IOC_SENDVEC, &v));
	EXPECT_EQ(EINVAL, errno);
	v.reserved0 = 0;
	v.reserved[1] = 1;
	EXPECT_EQ(-1, ioctl(self->dev, ZCSEND_IOC_SENDVEC, &v));
	EXPECT_EQ(EINVAL, errno);
	v.reserved[1] = 0;
	v.size = ZCSEND_VEC_SIZE_VER0 - 1;
	EXPECT_EQ(-1, ioctl(self->dev, ZCSEND_IOC_SENDVEC, &v));
	EXPECT_EQ(EINVAL, errno);
	v.size = sizeof(v);
	EXPECT_EQ(0, ioctl(self->dev, ZCSEND_IOC_SENDVEC, &v));
	EXPECT_EQ(0, v.sent);
}

/* Full send buffer, nobody reading: partial sends, then EAGAIN. */
static void fill_until_eagain(struct __test_metadata *_metadata, int dev,
			      int ffd, int sock, size_t flen, uint32_t flags)
{
	uint64_t off = 0, total = 0;
	int err = 0;

	while (off < flen) {
		struct zcsend_file r;

		err = zc_sendfile(dev, ffd, sock, off, flen - off, flags, &r);
		if (err)
			break;
		ASSERT_LT(0, r.sent);
		total += r.sent;
		off = r.offset;
	}
	EXPECT_EQ(-EAGAIN, err);
	EXPECT_LT(0, total);
	EXPECT_GT(flen, total);
	TH_LOG("%llu bytes queued before EAGAIN", (unsigned long long)total);
}

typedef void (*nonblock_check_fn)(struct __test_metadata *_metadata,
				  int dev, int ffd, int sock, size_t flen,
				  uint32_t flags);

/*
 * @check on a new connection with 64 KiB buffers, non-blocking both ways:
 * by ZCSEND_F_NONBLOCK, then by an O_NONBLOCK socket and no flag.
 */
static void check_both_nonblock_ways(struct __test_metadata *_metadata,
				     int dev, int ffd, size_t flen,
				     nonblock_check_fn check)
{
	int cli, srv;

	ASSERT_EQ(0, zcsend_tcp_pair(AF_INET, &cli, &srv, 65536));
	check(_metadata, dev, ffd, cli, flen,
	      ZCSEND_F_NONBLOCK | ZCSEND_F_NOSIGNAL);
	close(cli);
	close(srv);

	ASSERT_EQ(0, zcsend_tcp_pair(AF_INET, &cli, &srv, 65536));
	ASSERT_EQ(0, fcntl(cli, F_SETFL, fcntl(cli, F_GETFL) | O_NONBLOCK));
	check(_metadata, dev, ffd, cli, flen, ZCSEND_F_NOSIGNAL);
	close(cli);
	close(srv);
}

TEST(nonblock_full_buffer)
{
	size_t flen = 32 * MIB;
	unsigned char *buf = malloc(flen);
	int dev, ffd;

	ASSERT_NE(NULL, buf);
	fill_pattern(buf, flen, 7);
	ffd = zcsend_make_file(NULL, buf, flen);
	ASSERT_LE(0, ffd);
	dev = open(ZCSEND_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dev);
	check_both_nonblock_ways(_metadata, dev, ffd, flen, fill_until_eagain);
	close(dev);
	close(ffd);
	free(buf);
}

static void on_alarm(int sig)
{
	(void)sig;
}

/*
 * A blocking send into a full buffer: a signal ends the call with the
 * bytes queued so far, or with EINTR when none were (no SA_RESTART).
 */
TEST(signal_interrupts)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	size_t flen = 32 * MIB;
	unsigned char *buf = malloc(flen);
	uint64_t off = 0;
	int dev, ffd, cli, srv, err = 0, i;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	fill_pattern(buf, flen, 8);
	ffd = zcsend_make_file(NULL, buf, flen);
	ASSERT_LE(0, ffd);
	dev = open(ZCSEND_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dev);
	ASSERT_EQ(0, zcsend_tcp_pair(AF_INET, &cli, &srv, 65536));

	for (i = 0; i < 10; i++) {
		struct zcsend_file r;

		ualarm(200000, 0);
		err = zc_sendfile(dev, ffd, cli, off, flen - off,
				  ZCSEND_F_NOSIGNAL, &r);
		if (err)
			break;
		ASSERT_LT(0, r.sent);
		off = r.offset;
	}
	EXPECT_EQ(-EINTR, err);
	EXPECT_LT(0, off);

	close(cli);
	close(srv);
	close(dev);
	close(ffd);
	free(buf);
}

/* A thread sending a whole file, call after call, then a FIN. */
struct file_sender {
	int dev, ffd, cli;
	uint64_t flen;
	pid_t tid;		/* set by the thread when it starts */
	uint64_t total;
	int err;		/* of the last call: 0 or -errno */
};

static void *file_sender_main(void *arg)
{
	struct file_sender *t = arg;
	uint64_t off = 0;

	__atomic_store_n(&t->tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
	for (;;) {
		struct zcsend_file r;

		t->err = zc_sendfile(t->dev, t->ffd, t->cli, off, t->flen - off,
				     ZCSEND_F_NOSIGNAL, &r);
		if (t->err || !r.sent)
			break;
		t->total += r.sent;
		off = r.offset;
	}
	shutdown(t->cli, SHUT_WR);
	return NULL;
}

/* Its thread id, once it runs (0 after 10 s). */
static pid_t file_sender_tid(struct file_sender *t)
{
	int i;

	for (i = 0; i < 1000; i++) {
		pid_t tid = __atomic_load_n(&t->tid, __ATOMIC_ACQUIRE);

		if (tid)
			return tid;
		usleep(10000);
	}
	return 0;
}

/*
 * The file shrinks while a call is sending it: the call ends at the new end
 * of file. Made deterministic: nobody reads until the sender sleeps on a
 * full socket buffer (its wait channel says so), with far less than the new
 * size queued; only then is the file truncated and the stream drained. So
 * every page gathered before the truncation lies below the new end: the
 * total is exactly the new size (the contract allows up to the old one, for
 * pages gathered before a truncation), and the bytes are the file's.
 */
TEST(truncate_during_send)
{
	const size_t flen = 16 * MIB, newlen = 6 * MIB + 5;
	unsigned char *buf = malloc(flen), *got = malloc(flen + 1);
	struct file_sender t = { .flen = flen };
	int srv, outq = 0, inq = 0;
	char wchan[64];
	size_t n = 0;
	pthread_t thr;
	pid_t tid;

	ASSERT_TRUE(buf && got);
	fill_pattern(buf, flen, 9);
	t.ffd = zcsend_make_file(NULL, buf, flen);
	ASSERT_LE(0, t.ffd);
	t.dev = open(ZCSEND_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, t.dev);
	ASSERT_EQ(0, zcsend_tcp_pair(AF_INET, &t.cli, &srv, 65536));
	ASSERT_EQ(0, pthread_create(&thr, NULL, file_sender_main, &t));
	tid = file_sender_tid(&t);
	ASSERT_LT(0, tid);
	ASSERT_EQ(0, zcsend_wait_blocked(tid, zcsend_wchans_sndbuf, 30000,
					 wchan, sizeof(wchan)))
		TH_LOG("the sender never blocked on the socket (wchan %s)",
		       wchan);
	ASSERT_EQ(0, ioctl(t.cli, SIOCOUTQ, &outq));
	ASSERT_EQ(0, ioctl(srv, FIONREAD, &inq));
	TH_LOG("blocked in %s with %d + %d bytes queued", wchan, outq, inq);
	/* Gathered so far: what is queued and one batch (at most 4 MiB). */
	ASSERT_GT(newlen, (size_t)outq + inq + 4 * MIB);

	ASSERT_EQ(0, ftruncate(t.ffd, newlen));
	for (;;) {
		ssize_t r = read(srv, got + n, flen + 1 - n);

		if (r < 0 && errno == EINTR)
			continue;
		ASSERT_LE(0, r);
		if (!r || n + r > flen)
			break;
		n += r;
	}
	ASSERT_EQ(0, pthread_join(thr, NULL));
	TH_LOG("%llu bytes sent of %zu, truncated to %zu",
	       (unsigned long long)t.total, flen, newlen);
	EXPECT_EQ(0, t.err);
	EXPECT_EQ(t.total, n);
	EXPECT_LE(newlen, t.total);
	EXPECT_GE(flen, t.total);
	EXPECT_EQ(newlen, t.total);
	EXPECT_EQ(0, memcmp(got, buf, n < newlen ? n : newlen));
	close(srv);
	close(t.cli);
	close(t.dev);
	close(t.ffd);
	free(got);
	free(buf);
}

static volatile sig_atomic_t got_sigpipe;

static void on_sigpipe(int sig)
{
	(void)sig;
	got_sigpipe++;
}

FIXTURE(epipe) {
	int dev;
	int file;
	int cli;
	int srv;
};

FIXTURE_SETUP(epipe)
{
	static unsigned char buf[65536];
	struct sigaction sa = { .sa_handler = on_sigpipe };

	ASSERT_EQ(0, sigaction(SIGPIPE, &sa, NULL));
	got_sigpipe = 0;
	self->dev = open(ZCSEND_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev);
	fill_pattern(buf, sizeof(buf), 3);
	self->file = zcsend_make_file(NULL, buf, sizeof(buf));
	ASSERT_LE(0, self->file);
	ASSERT_EQ(0, zcsend_tcp_pair(AF_INET, &self->cli, &self->srv, 0));
}

FIXTURE_TEARDOWN(epipe)
{
	close(self->srv);
	close(self->cli);
	close(self->file);
	close(self->dev);
}

TEST_F(epipe, shutdown_sigpipe)
{
	ASSERT_EQ(0, shutdown(self->cli, SHUT_WR));
	EXPECT_EQ(EPIPE, sendfile_errno(self->dev, self->file, self->cli, 0,
					1000, 0));
	EXPECT_EQ(1, got_sigpipe);
}

TEST_F(epipe, shutdown_nosignal)
{
	ASSERT_EQ(0, shutdown(self->cli, SHUT_WR));
	EXPECT_EQ(EPIPE, sendfile_errno(self->dev, self->file, self->cli, 0,
					1000, ZCSEND_F_NOSIGNAL));
	EXPECT_EQ(0, got_sigpipe);
}

/* The peer resets: ECONNRESET once, then EPIPE; never a success. */
TEST_F(epipe, peer_reset)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int err;

	ASSERT_EQ(0, setsockopt(self->srv, SOL_SOCKET, SO_LINGER, &lg,
				sizeof(lg)));
	close(self->srv);
	self->srv = -1;
	usleep(100000);

	err = sendfile_errno(self->dev, self->file, self->cli, 0, 1000,
			     ZCSEND_F_NOSIGNAL);
	EXPECT_TRUE(err == ECONNRESET || err == EPIPE) TH_LOG("errno %d", err);
	EXPECT_EQ(EPIPE, sendfile_errno(self->dev, self->file, self->cli, 0,
					1000, ZCSEND_F_NOSIGNAL));
	EXPECT_EQ(0, got_sigpipe);
}

/* The peer closes mid-stream: some bytes, then EPIPE/ECONNRESET. */
TEST_F(epipe, peer_closes_midway)
{
	uint64_t total = 0;
	int err = 0, i;

	close(self->srv);
	self->srv = -1;
	for (i = 0; i < 1000 && !err; i++) {
		struct zcsend_file r;

		err = zc_sendfile(self->dev, self->file, self->cli, 0, 65536,
				  ZCSEND_F_NOSIGNAL, &r);
		if (!err)
			total += r.sent;
		usleep(1000);
	}
	EXPECT_TRUE(err == -EPIPE || err == -ECONNRESET) TH_LOG("err %d", err);
	EXPECT_EQ(0, got_sigpipe);
}

FIXTURE(vec) {
	int dev;
	int cli;
	int srv;
};

FIXTURE_SETUP(vec)
{
	self->dev = open(ZCSEND_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev);
	ASSERT_EQ(0, zcsend_tcp_pair(AF_INET, &self->cli, &self->srv, 0));
}

FIXTURE_TEARDOWN(vec)
{
	close(self->cli);
	if (self->srv >= 0)
		close(self->srv);
	close(self->dev);
}

/*
 * A header, a range of a first file, a trailer and all of a second file:
 * their segments in s[0..3] and the stream they make in want.
 */
struct four_parts {
	size_t f1len, off1, len1, hlen, tlen, f2len;	/* given */
	unsigned char *f1, *f2, *hdr, *trl, *want;
	int fd1, fd2;
	size_t total;
	struct zcsend_seg s[4];
};

/* Fill @p's parts with patterns @seed to @seed + 3 and make its files. */
static void four_parts_make(struct __test_metadata *_metadata,
			    struct four_parts *p, int seed)
{
	p->total = p->hlen + p->len1 + p->tlen + p->f2len;
	p->f1 = malloc(p->f1len);
	p->f2 = malloc(p->f2len);
	p->hdr = malloc(p->hlen);
	p->trl = malloc(p->tlen);
	p->want = malloc(p->total);
	ASSERT_TRUE(p->f1 && p->f2 && p->hdr && p->trl && p->want);
	fill_pattern(p->f1, p->f1len, seed);
	fill_pattern(p->f2, p->f2len, seed + 1);
	fill_pattern(p->hdr, p->hlen, seed + 2);
	fill_pattern(p->trl, p->tlen, seed + 3);
	p->fd1 = zcsend_make_file(NULL, p->f1, p->f1len);
	p->fd2 = zcsend_make_file(NULL, p->f2, p->f2len);
	ASSERT_LE(0, p->fd1);
	ASSERT_LE(0, p->fd2);
	memcpy(p->want, p->hdr, p->hlen);
	memcpy(p->want + p->hlen, p->f1 + p->off1, p->len1);
	memcpy(p->want + p->hlen + p->len1, p->trl, p->tlen);
	memcpy(p->want + p->hlen + p->len1 + p->tlen, p->f2, p->f2len);
	p->s[0] = (struct zcsend_seg){ .type = ZCSEND_SEG_INLINE,
				       .addr = (uintptr_t)p->hdr,
				       .length = p->hlen };
	p->s[1] = (struct zcsend_seg){ .type = ZCSEND_SEG_FILE, .fd = p->fd1,
				       .offset = p->off1, .length = p->len1 };
	p->s[2] = (struct zcsend_seg){ .type = ZCSEND_SEG_INLINE,
				       .addr = (uintptr_t)p->trl,
				       .length = p->tlen };
	p->s[3] = (struct zcsend_seg){ .type = ZCSEND_SEG_FILE, .fd = p->fd2,
				       .length = p->f2len };
}

static void four_parts_free(struct four_parts *p)
{
	close(p->fd1);
	close(p->fd2);
	free(p->f1);
	free(p->f2);
	free(p->hdr);
	free(p->trl);
	free(p->want);
}

/* A receiver of the vec fixture's connection, expecting @len of @want. */
static pid_t vec_receiver(FIXTURE_DATA(vec) *self, const unsigned char *want,
			  size_t len)
{
	pid_t rx = start_receiver(self->srv, want, len);

	close(self->srv);
	self->srv = -1;
	return rx;
}

/* Header + file range + trailer + second file, in order, byte-exact. */
TEST_F(vec, header_file_trailer)
{
	struct four_parts p = { .f1len = 300000, .off1 = 4097, .len1 = 200001,
				.hlen = 123, .tlen = 4096, .f2len = 5000 };
	struct zcsend_seg s[5];
	struct zcsend_vec v;
	pid_t rx;

	four_parts_make(_metadata, &p, 11);
	/* and an empty file segment before the second file */
	memcpy(s, p.s, 3 * sizeof(s[0]));
	s[3] = (struct zcsend_seg){ .type = ZCSEND_SEG_FILE, .fd = p.fd1,
				    .offset = 5, .length = 0 };
	s[4] = p.s[3];
	rx = vec_receiver(self, p.want, p.total);

	ASSERT_EQ(0, zc_sendvec(self->dev, self->cli, s, 5, ZCSEND_F_NOSIGNAL,
				&v));
	EXPECT_EQ(p.total, v.sent);
	EXPECT_EQ(5, v.segs_done);
	EXPECT_EQ(0, v.seg_sent);

	shutdown(self->cli, SHUT_WR);
	EXPECT_EQ(0, receiver_status(rx));
	four_parts_free(&p);
}

/* A file segment past EOF is cut there and the call stops after it. */
TEST_F(vec, stops_at_eof)
{
	unsigned char f[3000], want[3010];
	struct zcsend_seg s[3];
	struct zcsend_vec v;
	int fd;
	pid_t rx;

	fill_pattern(f, sizeof(f), 21);
	fd = zcsend_make_file(NULL, f, sizeof(f));
	ASSERT_LE(0, fd);
	memcpy(want, "0123456789", 10);
	memcpy(want + 10, f + 1000, 2000);

	s[0] = (struct zcsend_seg){ .type = ZCSEND_SEG_INLINE,
				    .addr = (uintptr_t)"0123456789",
				    .length = 10 };
	s[1] = (struct zcsend_seg){ .type = ZCSEND_SEG_FILE, .fd = fd,
				    .offset = 1000, .length = 5000 };
	s[2] = (struct zcsend_seg){ .type = ZCSEND_SEG_INLINE,
				    .addr = (uintptr_t)"trailer", .length = 7 };

	rx = vec_receiver(self, want, 2010);

	ASSERT_EQ(0, zc_sendvec(self->dev, self->cli, s, 3, 0, &v));
	EXPECT_EQ(2010, v.sent);
	EXPECT_EQ(1, v.segs_done);
	EXPECT_EQ(2000, v.seg_sent);

	shutdown(self->cli, SHUT_WR);
	EXPECT_EQ(0, receiver_status(rx));
	close(fd);
}

/*
 * What a server sends for 64 small responses: a 200-byte header before each
 * of 64 files of 1 KiB to 64 KiB, 128 segments in one call, in order.
 */
TEST_F(vec, sixty_four_small_files)
{
	enum { NFILES = 64, HDR = 200 };
	struct zcsend_seg s[2 * NFILES];
	size_t total = 0, len[NFILES], pos = 0;
	unsigned char *data[NFILES], hdr[NFILES][HDR], *want;
	struct zcsend_vec v;
	int fd[NFILES], i;
	pid_t rx;

	for (i = 0; i < NFILES; i++) {
		len[i] = 1024 + (size_t)i * 1024 - (i % 3);
		total += HDR + len[i];
	}
	want = malloc(total);
	ASSERT_NE(NULL, want);
	for (i = 0; i < NFILES; i++) {
		data[i] = malloc(len[i]);
		ASSERT_NE(NULL, data[i]);
		fill_pattern(data[i], len[i], 100 + i);
		fill_pattern(hdr[i], HDR, 200 + i);
		fd[i] = zcsend_make_file(NULL, data[i], len[i]);
		ASSERT_LE(0, fd[i]);
		memcpy(want + pos, hdr[i], HDR);
		memcpy(want + pos + HDR, data[i], len[i]);
		pos += HDR + len[i];
		s[2 * i] = (struct zcsend_seg){ .type = ZCSEND_SEG_INLINE,
						.addr = (uintptr_t)hdr[i],
						.length = HDR };
		s[2 * i + 1] = (struct zcsend_seg){ .type = ZCSEND_SEG_FILE,
						    .fd = fd[i],
						    .length = len[i] };
	}

	rx = vec_receiver(self, want, total);

	ASSERT_EQ(0, zc_sendvec(self->dev, self->cli, s, 2 * NFILES, 0, &v));
	EXPECT_EQ(total, v.sent);
	EXPECT_EQ(2 * NFILES, v.segs_done);
	EXPECT_EQ(0, v.seg_sent);

	shutdown(self->cli, SHUT_WR);
	EXPECT_EQ(0, receiver_status(rx));
	for (i = 0; i < NFILES; i++) {
		close(fd[i]);
		free(data[i]);
	}
	free(want);
}

/* Move @seg's start forward by @done bytes (a partially sent segment). */
static void seg_advance(struct zcsend_seg *seg, uint64_t done)
{
	if (seg->type == ZCSEND_SEG_FILE)
		seg->offset += done;
	else
		seg->addr += done;
	seg->length -= done;
}

/*
 * Non-blocking into a small send buffer: every call sends part of the
 * vector; resuming from segs_done and seg_sent delivers the stream exactly.
 */
TEST_F(vec, partial_send_resumes)
{
	struct four_parts p = { .f1len = 4 * 1024 * 1024 + 3, .off1 = 0,
				.len1 = 4 * 1024 * 1024 + 3, .hlen = 200,
				.tlen = 100, .f2len = 1024 * 1024 };
	struct pollfd pfd = { .fd = self->cli, .events = POLLOUT };
	int bufsize = 16384, calls = 0, again = 0;
	uint32_t idx = 0, n = 4;
	struct zcsend_seg *s = p.s;
	uint64_t sent = 0;
	pid_t rx;

	four_parts_make(_metadata, &p, 31);
	ASSERT_EQ(0, setsockopt(self->cli, SOL_SOCKET, SO_SNDBUF, &bufsize,
				sizeof(bufsize)));
	rx = vec_receiver(self, p.want, p.total);

	while (idx < n) {
		struct zcsend_vec v;
		int ret;

		ret = zc_sendvec(self->dev, self->cli, s + idx, n - idx,
				 ZCSEND_F_NONBLOCK | ZCSEND_F_NOSIGNAL, &v);
		if (ret == -EAGAIN) {
			again++;
			ASSERT_LT(0, poll(&pfd, 1, 10000));
			continue;
		}
		ASSERT_EQ(0, ret);
		ASSERT_GE(n - idx, v.segs_done);
		calls++;
		sent += v.sent;
		idx += v.segs_done;
		if (idx < n)
			seg_advance(&s[idx], v.seg_sent);
	}
	EXPECT_EQ(p.total, sent);
	EXPECT_LT(1, calls) TH_LOG("the buffer never filled: nothing resumed");
	TH_LOG("%d calls, %d EAGAIN", calls, again);

	shutdown(self->cli, SHUT_WR);
	EXPECT_EQ(0, receiver_status(rx));
	four_parts_free(&p);
}

/* One file, one connection, one device: for the tests below. */
FIXTURE(conn) {
	int dev;
	int file;	/* 64 KiB of pattern 5 on tmpfs */
	int cli;
	int srv;
	unsigned char data[65536];
};

FIXTURE_SETUP(conn)
{
	fill_pattern(self->data, sizeof(self->data), 5);
	self->dev = open(ZCSEND_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev);
	self->file = zcsend_make_file(NULL, self->data, sizeof(self->data));
	ASSERT_LE(0, self->file);
	ASSERT_EQ(0, zcsend_tcp_pair(AF_INET, &self->cli, &self->srv, 0));
}

FIXTURE_TEARDOWN(conn)
{
	close(self->srv);
	close(self->cli);
	close(self->file);
	close(self->dev);
}

/* Bytes waiting at the receiver (0 when none). */
static int pending(int fd)
{
	int n = 0;

	ioctl(fd, FIONREAD, &n);
	return n;
}

/*
 * A caller built with a grown struct (its _IOWR encodes 64 bytes) reaches
 * the same command; other directions and types do not.
 */
TEST_F(conn, grown_struct_same_command)
{
	struct {
		struct zcsend_file f;
		uint64_t tail;
	} big = { .f = { .size = sizeof(big), .file_fd = self->file,
			 .sock_fd = self->cli, .length = 10 } };

	EXPECT_EQ(0, ioctl(self->dev, _IOWR(ZCSEND_IOC_MAGIC, 0x40,
					    typeof(big)), &big));
	EXPECT_EQ(10, big.f.sent);
	EXPECT_EQ(10, big.f.offset);
	EXPECT_EQ(-1, ioctl(self->dev, _IOW(ZCSEND_IOC_MAGIC, 0x40,
					    struct zcsend_file), &big));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->dev, _IOWR('z', 0x40, struct zcsend_file),
			    &big));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(10, pending(self->srv));
}

/*
 * A 56-byte struct (and a 64-byte zcsend_vec) at the end of a page that
 * is followed by an inaccessible page: the call succeeds, so nothing past
 * the caller's size is read or written; guard bytes behind an in-page
 * struct stay as they were, and so do its input fields.
 */
TEST_F(conn, writes_only_output_fields)
{
	long pg = sysconf(_SC_PAGESIZE);
	unsigned char *m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct zcsend_file *f, want;
	struct zcsend_vec *v;
	struct zcsend_seg seg = { .type = ZCSEND_SEG_FILE, .fd = self->file,
				  .length = 7 };
	int i;

	ASSERT_NE(MAP_FAILED, m);
	memset(m, 0xa5, 2 * pg);
	f = (void *)(m + 64);
	*f = (struct zcsend_file){ .size = ZCSEND_FILE_SIZE_VER0,
		.file_fd = self->file, .sock_fd = self->cli, .offset = 100,
		.length = 50, .flags = ZCSEND_F_NOSIGNAL };
	want = *f;
	ASSERT_EQ(0, ioctl(self->dev, ZCSEND_IOC_SENDFILE, f));
	want.sent = 50;
	want.offset = 150;
	EXPECT_EQ(0, memcmp(&want, f, sizeof(want)));
	for (i = 0; i < 64; i++)
		EXPECT_EQ(0xa5, m[i]);
	for (i = 64 + ZCSEND_FILE_SIZE_VER0; i < 512; i++)
		EXPECT_EQ(0xa5, m[i]);

	ASSERT_EQ(0, mprotect(m + pg, pg, PROT_NONE));
	f = (void *)(m + pg - ZCSEND_FILE_SIZE_VER0);
	*f = (struct zcsend_file){ .size = ZCSEND_FILE_SIZE_VER0,
		.file_fd = self->file, .sock_fd = self->cli, .length = 3 };
	EXPECT_EQ(0, ioctl(self->dev, ZCSEND_IOC_SENDFILE, f));
	EXPECT_EQ(3, f->sent);

	v = (void *)(m + pg - ZCSEND_VEC_SIZE_VER0);
	*v = (struct zcsend_vec){ .size = ZCSEND_VEC_SIZE_VER0,
		.sock_fd = self->cli, .nr_segs = 1, .segs = (uintptr_t)&seg };
	EXPECT_EQ(0, ioctl(self->dev, ZCSEND_IOC_SENDVEC, v));
	EXPECT_EQ(7, v->sent);
	EXPECT_EQ(1, v->segs_done);
	EXPECT_EQ(60, pending(self->srv));
	munmap(m, 2 * pg);
}

/*
 * A struct that can be read but not written back: EFAULT, and nothing
 * went out (so a retry cannot send the bytes twice).
 */
TEST_F(conn, unwritable_struct_sends_nothing)
{
	long pg = sysconf(_SC_PAGESIZE);
	void *m = mmap(NULL, pg, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct zcsend_seg *seg = (void *)((char *)m + 256);
	struct zcsend_file *f = m;
	struct zcsend_vec *v = (void *)((char *)m + 128);

	ASSERT_NE(MAP_FAILED, m);
	*f = (struct zcsend_file){ .size = sizeof(*f), .file_fd = self->file,
				   .sock_fd = self->cli, .length = 1000 };
	*seg = (struct zcsend_seg){ .type = ZCSEND_SEG_FILE, .fd = self->file,
				    .length = 1000 };
	*v = (struct zcsend_vec){ .size = sizeof(*v), .sock_fd = self->cli,
				  .nr_segs = 1, .segs = (uintptr_t)seg };
	ASSERT_EQ(0, mprotect(m, pg, PROT_READ));
	EXPECT_EQ(-1, ioctl(self->dev, ZCSEND_IOC_SENDFILE, f));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->dev, ZCSEND_IOC_SENDVEC, v));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0, pending(self->srv));
	munmap(m, pg);
}

static long file_atime(int fd)
{
	struct stat st;

	if (fstat(fd, &st))
		return -1;
	return st.st_atime;
}

static int set_old_atime(int fd)
{
	struct timespec ts[2] = { { .tv_sec = 1 }, { .tv_nsec = UTIME_OMIT } };

	return futimens(fd, ts);
}

/*
 * A non-blocking call on a full socket answers EAGAIN without reading the
 * file: every read updates the atime of a file whose atime is a day old
 * (relatime), which a pread shows first. The socket is refilled until a
 * call finds it full, so no timing decides the outcome.
 */
static void eagain_without_read(struct __test_metadata *_metadata, int dev,
				int ffd, int sock, size_t flen, uint32_t flags)
{
	struct zcsend_file r;
	uint64_t off = 0;
	char c;
	int i, err = 0;

	ASSERT_EQ(0, set_old_atime(ffd));
	ASSERT_EQ(1, pread(ffd, &c, 1, 0));
	ASSERT_NE(1, file_atime(ffd));

	for (i = 0; i < 100000; i++) {
		ASSERT_EQ(0, set_old_atime(ffd));
		err = zc_sendfile(dev, ffd, sock, off, flen - off, flags, &r);
		if (err)
			break;
		off = r.offset;
		ASSERT_GT(flen, off);
	}
	EXPECT_EQ(-EAGAIN, err);
	EXPECT_EQ(1, file_atime(ffd));
}

TEST(nonblock_eagain_reads_nothing)
{
	size_t flen = 64 * MIB;
	int dev, ffd;

	ffd = zcsend_make_file(NULL, NULL, 0);
	ASSERT_LE(0, ffd);
	ASSERT_EQ(0, ftruncate(ffd, flen));
	dev = open(ZCSEND_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dev);
	check_both_nonblock_ways(_metadata, dev, ffd, flen,
				 eagain_without_read);
	close(dev);
	close(ffd);
}

/* Monotonic milliseconds. */
static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Wait up to @ms for @want bytes at @fd: the bytes there then. */
static int pending_within(int fd, int want, int ms)
{
	long long end = now_ms() + ms;
	int n;

	while ((n = pending(fd)) < want && now_ms() < end)
		usleep(1000);
	return n;
}

/*
 * ZCSEND_F_MORE holds a partial segment back (corked) until the next call;
 * a call without it pushes everything, so the peer can read all at once,
 * well before TCP's probe timer (200 ms at least) would have sent it.
 * Both ioctls.
 */
TEST_F(conn, more_corks_then_pushes)
{
	struct zcsend_seg seg = { .type = ZCSEND_SEG_FILE, .fd = self->file,
				  .offset = 5000, .length = 700 };
	struct zcsend_file r;
	struct zcsend_vec v;
	long long t0;
	int n;

	t0 = now_ms();
	ASSERT_EQ(0, zc_sendfile(self->dev, self->file, self->cli, 0, 1000,
				 ZCSEND_F_MORE, &r));
	ASSERT_EQ(1000, r.sent);
	ASSERT_EQ(0, zc_sendvec(self->dev, self->cli, &seg, 1, ZCSEND_F_MORE,
				&v));
	ASSERT_EQ(700, v.sent);
	n = pending(self->srv);
	/* Corked: judged only when the calls were quick (TCG can stall). */
	if (now_ms() - t0 < 100) {
		EXPECT_EQ(0, n) TH_LOG("%d bytes went out despite ZCSEND_F_MORE", n);
	} else {
		TH_LOG("too slow to judge the cork (%lld ms)", now_ms() - t0);
	}

	ASSERT_EQ(0, zc_sendfile(self->dev, self->file, self->cli, 1000, 300, 0,
				 &r));
	EXPECT_EQ(2000, pending_within(self->srv, 2000, 100));

	/* The same through SENDVEC: its last segment without the flag. */
	ASSERT_EQ(0, zc_sendvec(self->dev, self->cli, &seg, 1, ZCSEND_F_MORE,
				&v));
	ASSERT_EQ(0, zc_sendvec(self->dev, self->cli, &seg, 1, 0, &v));
	EXPECT_EQ(3400, pending_within(self->srv, 3400, 100));
}

/* The file's own position (f_pos) is neither used nor moved. */
TEST_F(conn, file_position_unchanged)
{
	struct zcsend_seg seg = { .type = ZCSEND_SEG_FILE, .fd = self->file,
				  .length = 4000 };
	struct zcsend_file r;
	struct zcsend_vec v;

	ASSERT_EQ(1234, lseek(self->file, 1234, SEEK_SET));
	ASSERT_EQ(0, zc_sendfile(self->dev, self->file, self->cli, 0, 5000, 0,
				 &r));
	EXPECT_EQ(5000, r.sent);
	EXPECT_EQ(1234, lseek(self->file, 0, SEEK_CUR));
	ASSERT_EQ(0, zc_sendvec(self->dev, self->cli, &seg, 1, 0, &v));
	EXPECT_EQ(4000, v.sent);
	EXPECT_EQ(1234, lseek(self->file, 0, SEEK_CUR));
}

/*
 * SENDVEC at its limits: ZCSEND_SEGS_MAX segments, half of them inline
 * segments of ZCSEND_INLINE_MAX bytes, in one call, byte-exact.
 */
TEST_F(vec, limits_1024_segments)
{
	enum { N = ZCSEND_SEGS_MAX, FLEN = 1 << 20 };
	static struct zcsend_seg s[N];
	static unsigned char inl[N / 2][ZCSEND_INLINE_MAX];
	unsigned char *f = malloc(FLEN), *want;
	size_t total = 0, i;
	struct zcsend_vec v;
	int fd;
	pid_t rx;

	ASSERT_NE(NULL, f);
	fill_pattern(f, FLEN, 51);
	fd = zcsend_make_file(NULL, f, FLEN);
	ASSERT_LE(0, fd);
	want = malloc(N / 2 * (ZCSEND_INLINE_MAX + 1000));
	ASSERT_NE(NULL, want);
	for (i = 0; i < N / 2; i++) {
		size_t off = (i * 2039) % (FLEN - 1000), len = 1 + i % 1000;

		fill_pattern(inl[i], ZCSEND_INLINE_MAX, 1000 + i);
		s[2 * i] = (struct zcsend_seg){ .type = ZCSEND_SEG_INLINE,
						.addr = (uintptr_t)inl[i],
						.length = ZCSEND_INLINE_MAX };
		s[2 * i + 1] = (struct zcsend_seg){ .type = ZCSEND_SEG_FILE,
						    .fd = fd, .offset = off,
						    .length = len };
		memcpy(want + total, inl[i], ZCSEND_INLINE_MAX);
		memcpy(want + total + ZCSEND_INLINE_MAX, f + off, len);
		total += ZCSEND_INLINE_MAX + len;
	}
	rx = vec_receiver(self, want, total);

	ASSERT_EQ(0, zc_sendvec(self->dev, self->cli, s, N, 0, &v));
	EXPECT_EQ(total, v.sent);
	EXPECT_EQ(N, v.segs_done);

	shutdown(self->cli, SHUT_WR);
	EXPECT_EQ(0, receiver_status(rx));
	close(fd);
	free(want);
	free(f);
}

/* A thread sending all of a file, in as many calls as it takes. */
struct one_sender {
	int dev, fd, sock;
	uint64_t len, sent;
	int err;
};

static void *one_sender_main(void *arg)
{
	struct one_sender *o = arg;

	while (o->sent < o->len) {
		struct zcsend_file r = { 0 };

		o->err = zc_sendfile(o->dev, o->fd, o->sock, o->sent,
				     o->len - o->sent, ZCSEND_F_NOSIGNAL, &r);
		if (o->err || !r.sent)
			break;
		o->sent += r.sent;
	}
	return NULL;
}

/* A file of @len bytes all @c. */
static int const_file(size_t len, int c)
{
	unsigned char *b = malloc(len);
	int fd;

	if (!b)
		return -1;
	memset(b, c, len);
	fd = zcsend_make_file(NULL, b, len);
	free(b);
	return fd;
}

/*
 * Two threads send two files on one socket at once. The stream
 * interleaves them (at batch boundaries), but no byte may be lost,
 * repeated or changed: files of all 0xaa and all 0x55 must arrive as
 * exactly as many of each, and nothing else.
 */
TEST(concurrent_calls_one_socket)
{
	const size_t len = 8 * MIB;
	struct one_sender o[2];
	uint64_t count[256] = { 0 }, got = 0;
	static unsigned char buf[65536];
	int dev, cli, srv, i;
	pthread_t t[2];

	dev = open(ZCSEND_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dev);
	ASSERT_EQ(0, zcsend_tcp_pair(AF_INET, &cli, &srv, 65536));
	for (i = 0; i < 2; i++) {
		o[i] = (struct one_sender){ .dev = dev, .sock = cli,
					    .len = len,
					    .fd = const_file(len, i ? 0x55 : 0xaa) };
		ASSERT_LE(0, o[i].fd);
	}
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, one_sender_main, &o[i]));
	while (got < 2 * len) {
		ssize_t n = read(srv, buf, sizeof(buf));
		ssize_t k;

		if (n < 0 && errno == EINTR)
			continue;
		ASSERT_LT(0, n);
		for (k = 0; k < n; k++)
			count[buf[k]]++;
		got += n;
	}
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, pthread_join(t[i], NULL));
		EXPECT_EQ(0, o[i].err);
		EXPECT_EQ(len, o[i].sent);
		close(o[i].fd);
	}
	EXPECT_EQ(len, count[0xaa]);
	EXPECT_EQ(len, count[0x55]);
	EXPECT_EQ(2 * len, got);
	close(cli);
	close(srv);
	close(dev);
}

#define BATCH_PARAM	"/sys/module/zcsend/parameters/batch_pages"

static int write_param(const char *v)
{
	int fd = open(BATCH_PARAM, O_WRONLY | O_CLOEXEC);
	int ok = fd >= 0 && write(fd, v, strlen(v)) == (ssize_t)strlen(v);

	if (fd >= 0)
		close(fd);
	return ok ? 0 : -1;
}

/* Read from @fd into @buf until @n reaches @want or EOF: the new @n. */
static size_t read_until(int fd, unsigned char *buf, size_t n, size_t want)
{
	while (n < want) {
		ssize_t r = read(fd, buf + n, want - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += r;
	}
	return n;
}

/*
 * batch_pages changed under a call: while one blocking call sleeps on the
 * full socket (its wait channel says so), the tunable is set to 1, 1024, 3
 * and 512 in turn, 1 MiB being read after each change so that the call
 * goes on. The call still sends the whole file, byte-exact.
 */
TEST(batch_pages_changed_during_call)
{
	static const char *const vals[] = { "1", "1024", "3", "512" };
	const size_t flen = 8 * MIB;
	unsigned char *buf = malloc(flen), *got = malloc(flen + 1);
	struct file_sender t = { .flen = flen };
	char saved[16] = "", wchan[64];
	int srv, pfd, k;
	size_t n = 0;
	pthread_t thr;
	pid_t tid;

	ASSERT_TRUE(buf && got);
	pfd = open(BATCH_PARAM, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, pfd);
	ASSERT_LT(0, read(pfd, saved, sizeof(saved) - 1));
	close(pfd);
	fill_pattern(buf, flen, 61);
	t.ffd = zcsend_make_file(NULL, buf, flen);
	ASSERT_LE(0, t.ffd);
	t.dev = open(ZCSEND_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, t.dev);
	ASSERT_EQ(0, zcsend_tcp_pair(AF_INET, &t.cli, &srv, 65536));
	ASSERT_EQ(0, pthread_create(&thr, NULL, file_sender_main, &t));
	tid = file_sender_tid(&t);
	ASSERT_LT(0, tid);

	for (k = 0; k < 4; k++) {
		ASSERT_EQ(0, zcsend_wait_blocked(tid, zcsend_wchans_sndbuf,
						 30000, wchan, sizeof(wchan)))
			TH_LOG("change %d: the call is not sleeping (wchan %s)",
			       k, wchan);
		ASSERT_EQ(0, write_param(vals[k]));
		n = read_until(srv, got, n, n + MIB);
	}
	n = read_until(srv, got, n, flen + 1);
	ASSERT_EQ(0, pthread_join(thr, NULL));
	EXPECT_EQ(0, write_param(saved));
	EXPECT_EQ(0, t.err);
	EXPECT_EQ(flen, t.total);
	EXPECT_EQ(flen, n);
	EXPECT_EQ(0, memcmp(got, buf, n < flen ? n : flen));
	close(srv);
	close(t.cli);
	close(t.dev);
	close(t.ffd);
	free(got);
	free(buf);
}

/* An O_APPEND socket is refused as sendfile(2) refuses it. */
TEST_F(conn, append_socket)
{
	off_t off = 0;

	ASSERT_EQ(0, fcntl(self->cli, F_SETFL, O_APPEND));
	EXPECT_EQ(-1, sendfile(self->cli, self->file, &off, 10));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(EINVAL, sendfile_errno(self->dev, self->file, self->cli, 0,
					 10, 0));
	EXPECT_EQ(0, pending(self->srv));
}

/*
 * kTLS: the ioctl sends through a socket with TLS_TX (6.12: MSG_SPLICE_PAGES
 * into tls_sw_sendmsg; 6.1: sendpage into tls_sw_sendpage), and a receiver
 * with TLS_RX and the same key gets exactly the file's bytes.
 */
static int ktls_on(int fd, int dir, uint16_t version)
{
	struct tls12_crypto_info_aes_gcm_128 ci = {
		.info.version = version,
		.info.cipher_type = TLS_CIPHER_AES_GCM_128,
	};

	memcpy(ci.key, "zcsend-test-key!", TLS_CIPHER_AES_GCM_128_KEY_SIZE);
	memcpy(ci.iv, "ivivivi8", TLS_CIPHER_AES_GCM_128_IV_SIZE);
	memcpy(ci.salt, "salt", TLS_CIPHER_AES_GCM_128_SALT_SIZE);
	if (setsockopt(fd, IPPROTO_TCP, TCP_ULP, "tls", sizeof("tls")))
		return -1;
	return setsockopt(fd, SOL_TLS, dir, &ci, sizeof(ci));
}

FIXTURE(ktls) {
	int dev;
};

FIXTURE_VARIANT(ktls) {
	uint16_t version;
};

FIXTURE_VARIANT_ADD(ktls, tls12) { .version = TLS_1_2_VERSION };
FIXTURE_VARIANT_ADD(ktls, tls13) { .version = TLS_1_3_VERSION };

FIXTURE_SETUP(ktls)
{
	/* Debian builds tls as a module; TCP_ULP would also load it. */
	if (system("modprobe tls 2>/dev/null"))
		TH_LOG("modprobe tls failed; relying on TCP_ULP autoload");
	self->dev = open(ZCSEND_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev);
}

FIXTURE_TEARDOWN(ktls)
{
	close(self->dev);
}

TEST_F_TIMEOUT(ktls, round_trip, 120)
{
	size_t flen = MIB + 12345, hlen = 100;
	unsigned char *want = malloc(hlen + flen);
	struct zcsend_seg s[2];
	struct zcsend_vec v;
	uint64_t off = 0;
	int ffd, cli, srv;
	pid_t pid;

	ASSERT_NE(NULL, want);
	fill_pattern(want, hlen + flen, 41);
	ffd = zcsend_make_file(NULL, want + hlen, flen);
	ASSERT_LE(0, ffd);
	ASSERT_EQ(0, zcsend_tcp_pair(AF_INET, &cli, &srv, 0));
	ASSERT_EQ(0, ktls_on(cli, TLS_TX, variant->version)) {
		TH_LOG("kTLS TX: %s", strerror(errno));
	}
	ASSERT_EQ(0, ktls_on(srv, TLS_RX, variant->version)) {
		TH_LOG("kTLS RX: %s", strerror(errno));
	}
	pid = start_receiver(srv, want, hlen + flen);
	ASSERT_LT(0, pid);
	close(srv);

	/* An inline header and 512 KiB with SENDVEC, then SENDFILE. */
	s[0] = (struct zcsend_seg){ .type = ZCSEND_SEG_INLINE,
				    .addr = (uintptr_t)want, .length = hlen };
	s[1] = (struct zcsend_seg){ .type = ZCSEND_SEG_FILE, .fd = ffd,
				    .length = MIB / 2 };
	ASSERT_EQ(0, zc_sendvec(self->dev, cli, s, 2, 0, &v));
	ASSERT_EQ(hlen + MIB / 2, v.sent);
	off = MIB / 2;
	while (off < flen) {
		struct zcsend_file r;

		ASSERT_EQ(0, zc_sendfile(self->dev, ffd, cli, off, flen - off,
					 0, &r));
		ASSERT_LT(0, r.sent);
		off = r.offset;
	}
	/* The receiver holds a copy of cli: end the stream with a FIN. */
	ASSERT_EQ(0, shutdown(cli, SHUT_WR));
	EXPECT_EQ(0, receiver_status(pid));
	close(cli);
	close(ffd);
	free(want);
}

/*
 * A range that runs past end of file, with the stream out of step with the
 * records: a first call sends 100 bytes with ZCSEND_F_MORE (the record stays
 * open), the second the next 64 KiB to EOF and asks for 1 MiB. Its one
 * batch (64 KiB: a blocking call's floor, the socket buffers being small)
 * ends exactly at EOF, and must reach kTLS without MSG_MORE: kTLS keeps a
 * record open under MSG_MORE until a next send, with no timer (6.5+), and
 * the receiver would wait for the last 100 bytes of a call that returned.
 * The receiver reads exactly the file, without the FIN, within 10 s
 * (SO_RCVTIMEO).
 */
static int recv_exact_cmp(int fd, const unsigned char *want, size_t len)
{
	unsigned char buf[4096];
	size_t got = 0;

	while (got < len) {
		size_t want_n = len - got < sizeof(buf) ? len - got : sizeof(buf);
		ssize_t n = read(fd, buf, want_n);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 2;	/* timed out, or EOF: bytes missing */
		if (memcmp(buf, want + got, n))
			return 1;
		got += n;
	}
	return 0;
}

TEST_F_TIMEOUT(ktls, past_eof_flushed, 120)
{
	struct timeval tv = { .tv_sec = 10 };
	size_t flen = 100 + 65536;
	unsigned char *want = malloc(flen);
	struct zcsend_file r;
	int ffd, cli, srv;
	pid_t pid;

	ASSERT_NE(NULL, want);
	fill_pattern(want, flen, 43);
	ffd = zcsend_make_file(NULL, want, flen);
	ASSERT_LE(0, ffd);
	ASSERT_EQ(0, zcsend_tcp_pair(AF_INET, &cli, &srv, 16384));
	ASSERT_EQ(0, ktls_on(cli, TLS_TX, variant->version));
	ASSERT_EQ(0, ktls_on(srv, TLS_RX, variant->version));
	ASSERT_EQ(0, setsockopt(srv, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(recv_exact_cmp(srv, want, flen));
	close(srv);
	ASSERT_EQ(0, zc_sendfile(self->dev, ffd, cli, 0, 100, ZCSEND_F_MORE,
				 &r));
	EXPECT_EQ(100, r.sent);
	ASSERT_EQ(0, zc_sendfile(self->dev, ffd, cli, 100, MIB, 0, &r));
	EXPECT_EQ(flen - 100, r.sent);
	EXPECT_EQ(0, receiver_status(pid)) {
		TH_LOG("the receiver did not get the file's %zu bytes in 10 s",
		       flen);
	}
	close(cli);
	close(ffd);
	free(want);
}

ZCSEND_TEST_MAIN
