// SPDX-License-Identifier: GPL-2.0
/*
 * The io_uring commands (ZCSEND_URING_CMD_SENDFILE, _SENDVEC): byte-exact
 * through the ring, the ioctl's errno as the CQE's result for the same
 * input, a full socket finished by io-wq once the reader drains, linked,
 * drained and IOSQE_ASYNC commands in order, a ring closed (or a process
 * killed) with a command blocked in flight releasing the module, counters
 * that move by exactly what was sent, and "zcsend send --uring" (with its
 * message when io_uring is disabled, on 6.12).
 *
 * The inline issue: a ZCSEND_F_NONBLOCK command on cached pages completes
 * in io_uring_enter() itself (its CQE is there when the submit returns,
 * and no io-wq worker thread was made for it), a full socket's -EAGAIN is
 * posted from there, counted once; a blocking command goes to io-wq; an
 * uncached range (ext4 on a loop device, its cache dropped) is given up
 * inline and sent from io-wq, counted once.
 *
 * ZCSEND_SCALED=1 (the debug kernel): fewer ranges, every check still made.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <liburing.h>
#include <linux/zcsend.h>

#include "kselftest_harness.h"
#include "zcsend_test.h"
#include "genl.h"

#define FILE_SIZE	(1024 * 1024 + 1234)
#define SMALL_BUF	(16 * 1024)
#define CQE_WAIT_MS	20000
#define TOOL		"../userspace/zcsend"
#define URING_SYSCTL	"/proc/sys/kernel/io_uring_disabled"

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

/* An IORING_OP_URING_CMD SQE for @op with @arg in its command area. */
static void prep_cmd(struct io_uring_sqe *sqe, int dev, uint32_t op,
		     const void *arg, uint64_t user_data)
{
	struct zcsend_uring_cmd c = { .arg = (uintptr_t)arg };

	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, dev, NULL, 0, 0);
	sqe->cmd_op = op;
	memcpy((char *)sqe + offsetof(struct io_uring_sqe, cmd), &c, sizeof(c));
	sqe->user_data = user_data;
}

static int queue_cmd(struct io_uring *ring, int dev, uint32_t op,
		     const void *arg, uint64_t user_data, uint8_t sqe_flags)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe)
		return -EBUSY;
	prep_cmd(sqe, dev, op, arg, user_data);
	sqe->flags |= sqe_flags;
	return 0;
}

/* Wait for one CQE: 0 with its user_data and res, or -errno (-ETIME). */
static int reap(struct io_uring *ring, int ms, uint64_t *user_data, int *res)
{
	struct __kernel_timespec ts = { .tv_sec = ms / 1000,
					.tv_nsec = (ms % 1000) * 1000000LL };
	struct io_uring_cqe *cqe;
	int ret;

	do
		ret = io_uring_wait_cqe_timeout(ring, &cqe, &ts);
	while (ret == -EINTR);
	if (ret)
		return ret;
	*user_data = cqe->user_data;
	*res = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return 0;
}

/* One command, submitted and reaped: its CQE's res, or -ETIME. */
static int run_cmd(struct io_uring *ring, int dev, uint32_t op,
		   const void *arg)
{
	uint64_t ud;
	int res, ret;

	ret = queue_cmd(ring, dev, op, arg, 1, 0);
	if (!ret)
		ret = io_uring_submit(ring);
	if (ret < 0)
		return ret;
	ret = reap(ring, CQE_WAIT_MS, &ud, &res);
	return ret ? ret : res;
}

/* Read exactly @len bytes: 0, or -1. */
static int read_exact(int fd, unsigned char *buf, size_t len)
{
	while (len) {
		ssize_t n = read(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= n;
	}
	return 0;
}

/*
 * Fill @fd's send buffer (and the peer's receive buffer) until it stays
 * full: two rounds 50 ms apart in a row that queue nothing (loopback goes
 * on moving bytes to the receiver for a while, slowly on the debug
 * kernel). Return: bytes queued.
 */
static size_t fill_socket(int fd)
{
	static unsigned char junk[4096];
	size_t total = 0;
	int idle = 0;
	ssize_t n;

	while (idle < 2) {
		size_t round = 0;

		while ((n = send(fd, junk, sizeof(junk), MSG_DONTWAIT)) > 0)
			round += n;
		if (n < 0 && errno != EAGAIN)
			break;
		total += round;
		idle = round ? 0 : idle + 1;
		usleep(50000);
	}
	return total;
}

/* Discard @len bytes. Return: 0, or -1. */
static int drain(int fd, size_t len)
{
	unsigned char buf[4096];

	while (len) {
		size_t n = len < sizeof(buf) ? len : sizeof(buf);

		if (read_exact(fd, buf, n))
			return -1;
		len -= n;
	}
	return 0;
}

static int module_refcnt(void)
{
	FILE *f = fopen("/sys/module/zcsend/refcnt", "re");
	int v = -1;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* Wait up to @ms for the module's refcount to be @want: 0, or -1. */
static int wait_refcnt(int want, int ms)
{
	for (; ms >= 0; ms -= 20) {
		if (module_refcnt() == want)
			return 0;
		usleep(20000);
	}
	return -1;
}

static int get_stats(struct zc_genl *g, uint64_t *v)
{
	struct zc_stats st;
	int ret;

	ret = zc_stats_get(g, &st);
	memcpy(v, st.val, sizeof(st.val));
	return ret;
}

#define STAT_DELTA(a, b, id)	((b)[id] - (a)[id])

/*
 * io-wq worker threads of this process: its threads but the main one (the
 * test makes none of its own). io_uring creates the first worker in the
 * submitting task when it punts a request, before io_uring_enter()
 * returns, and the last one stays: so a test process that has punted
 * nothing has none. (Not by name: a new worker names itself "iou-wrk-PID"
 * only once it runs.) Return: count, or -1.
 */
static int iowq_workers(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' && atoi(e->d_name) != getpid())
			n++;
	closedir(d);
	return n;
}

FIXTURE(ring) {
	struct io_uring ring;
	struct zc_genl *g;
	unsigned char *data;
	int dev, file, snd, rcv;
};

/* Replace the fixture's pair by one with small buffers, quick to fill. */
#define SMALL_PAIR(self) do {						\
	close((self)->snd);						\
	close((self)->rcv);						\
	ASSERT_EQ(0, zcsend_tcp_pair(AF_INET, &(self)->snd, &(self)->rcv,	\
				     SMALL_BUF));			\
} while (0)

FIXTURE_SETUP(ring)
{
	self->dev = open(ZCSEND_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev);
	ASSERT_EQ(0, io_uring_queue_init(16, &self->ring, 0));
	self->data = malloc(FILE_SIZE);
	ASSERT_NE(NULL, self->data);
	fill_pattern(self->data, FILE_SIZE, 23);
	self->file = zcsend_make_file(NULL, self->data, FILE_SIZE);
	ASSERT_LE(0, self->file);
	ASSERT_EQ(0, zcsend_tcp_pair(AF_INET, &self->snd, &self->rcv, 0));
	self->g = zc_genl_alloc();
	ASSERT_NE(NULL, self->g);
	signal(SIGPIPE, SIG_IGN);
}

FIXTURE_TEARDOWN(ring)
{
	zc_genl_free(self->g);
	close(self->snd);
	close(self->rcv);
	close(self->file);
	free(self->data);
	io_uring_queue_exit(&self->ring);
	close(self->dev);
}

/* File ranges through the ring, byte-exact, with the output fields. */
TEST_F(ring, sendfile_exact)
{
	static const struct { uint64_t off, len; } ranges[] = {
		{ 0, FILE_SIZE },
		{ 1, 4095 },
		{ 3 * 4096 + 17, 200000 },
		{ FILE_SIZE - 10, 100 },	/* cut at end of file */
		{ FILE_SIZE + 5, 10 },		/* past it: 0 */
	};
	size_t n = sizeof(ranges) / sizeof(ranges[0]), calls = 0;
	uint64_t before[ZC_NSTATS], after[ZC_NSTATS], total = 0;
	unsigned char *got = malloc(FILE_SIZE);
	size_t i;

	ASSERT_NE(NULL, got);
	ASSERT_EQ(0, get_stats(self->g, before));
	for (i = 0; i < n; i++) {
		uint64_t off = ranges[i].off, len = ranges[i].len;
		uint64_t want = off >= FILE_SIZE ? 0 :
				len < FILE_SIZE - off ? len : FILE_SIZE - off;
		struct zcsend_file a = {
			.size = sizeof(a), .file_fd = self->file,
			.sock_fd = self->snd, .offset = off, .length = len,
			.sent = 12345,
		};
		uint64_t ud;
		int res;

		/* Scaled: the whole file, the cut and the empty range. */
		if (zcsend_scaled() && (i == 1 || i == 2))
			continue;
		calls++;
		ASSERT_EQ(0, queue_cmd(&self->ring, self->dev,
				       ZCSEND_URING_CMD_SENDFILE, &a, i, 0));
		ASSERT_EQ(1, io_uring_submit(&self->ring));
		/* A whole file does not fit in the socket: read meanwhile. */
		ASSERT_EQ(0, read_exact(self->rcv, got, want));
		ASSERT_EQ(0, reap(&self->ring, CQE_WAIT_MS, &ud, &res));
		EXPECT_EQ(i, ud);
		EXPECT_EQ((int)want, res);
		EXPECT_EQ(want, a.sent);
		EXPECT_EQ(off + want, a.offset);
		EXPECT_EQ(0, memcmp(got, self->data + off, want));
		total += want;
	}
	ASSERT_EQ(0, get_stats(self->g, after));
	EXPECT_EQ(calls, STAT_DELTA(before, after, ZCSEND_A_STATS_CALLS));
	EXPECT_EQ(total, STAT_DELTA(before, after, ZCSEND_A_STATS_BYTES));
	EXPECT_EQ(total, STAT_DELTA(before, after, ZCSEND_A_STATS_FILE_BYTES));
	EXPECT_EQ(0, STAT_DELTA(before, after, ZCSEND_A_STATS_INLINE_BYTES));
	free(got);
}

/* A vector (header, file, trailer, file) as one stream. */
TEST_F(ring, sendvec_exact)
{
	static const char hdr[] = "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n";
	static const char trl[] = "\r\n--boundary--\r\n";
	uint64_t before[ZC_NSTATS], after[ZC_NSTATS];
	const uint64_t a_off = 100, a_len = 300000;
	const uint64_t b_off = 4096, b_len = 70000;
	struct zcsend_seg segs[] = {
		{ .type = ZCSEND_SEG_INLINE, .length = sizeof(hdr) - 1,
		  .addr = (uintptr_t)hdr },
		{ .type = ZCSEND_SEG_FILE, .fd = self->file, .offset = a_off,
		  .length = a_len },
		{ .type = ZCSEND_SEG_INLINE, .length = sizeof(trl) - 1,
		  .addr = (uintptr_t)trl },
		{ .type = ZCSEND_SEG_FILE, .fd = self->file, .offset = b_off,
		  .length = b_len },
	};
	struct zcsend_vec v = {
		.size = sizeof(v), .sock_fd = self->snd, .nr_segs = 4,
		.segs = (uintptr_t)segs, .segs_done = 99, .seg_sent = 99,
	};
	size_t inl = sizeof(hdr) - 1 + sizeof(trl) - 1;
	size_t total = inl + a_len + b_len;
	unsigned char *want = malloc(total), *got = malloc(total), *p;
	uint64_t ud;
	int res;

	ASSERT_NE(NULL, want);
	ASSERT_NE(NULL, got);
	p = want;
	memcpy(p, hdr, sizeof(hdr) - 1);
	p += sizeof(hdr) - 1;
	memcpy(p, self->data + a_off, a_len);
	p += a_len;
	memcpy(p, trl, sizeof(trl) - 1);
	p += sizeof(trl) - 1;
	memcpy(p, self->data + b_off, b_len);

	ASSERT_EQ(0, get_stats(self->g, before));
	ASSERT_EQ(0, queue_cmd(&self->ring, self->dev,
			       ZCSEND_URING_CMD_SENDVEC, &v, 7, 0));
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(0, read_exact(self->rcv, got, total));
	ASSERT_EQ(0, reap(&self->ring, CQE_WAIT_MS, &ud, &res));
	ASSERT_EQ(0, get_stats(self->g, after));
	EXPECT_EQ(7, ud);
	EXPECT_EQ((int)total, res);
	EXPECT_EQ(total, v.sent);
	EXPECT_EQ(4, v.segs_done);
	EXPECT_EQ(0, v.seg_sent);
	EXPECT_EQ(0, memcmp(got, want, total));
	EXPECT_EQ(1, STAT_DELTA(before, after, ZCSEND_A_STATS_CALLS));
	EXPECT_EQ(total, STAT_DELTA(before, after, ZCSEND_A_STATS_BYTES));
	EXPECT_EQ(a_len + b_len,
		  STAT_DELTA(before, after, ZCSEND_A_STATS_FILE_BYTES));
	EXPECT_EQ(inl, STAT_DELTA(before, after, ZCSEND_A_STATS_INLINE_BYTES));
	free(want);
	free(got);
}

/* A valid SENDFILE argument: 10 bytes of the file. */
static void file_arg(struct zcsend_file *a, FIXTURE_DATA(ring) *self)
{
	*a = (struct zcsend_file){ .size = sizeof(*a), .file_fd = self->file,
				   .sock_fd = self->snd, .length = 10 };
}

/* The errno of the ioctl, and the CQE of the command, for one input. */
static void same_errno(struct __test_metadata *_metadata, FIXTURE_DATA(ring) *self,
		       const char *what, bool vec, void *arg, int want)
{
	unsigned long ioc = vec ? ZCSEND_IOC_SENDVEC : ZCSEND_IOC_SENDFILE;
	uint32_t op = vec ? ZCSEND_URING_CMD_SENDVEC : ZCSEND_URING_CMD_SENDFILE;
	int ret, err, res;

	ret = ioctl(self->dev, ioc, arg);
	err = errno;
	res = run_cmd(&self->ring, self->dev, op, arg);
	TH_LOG("%s: ioctl %d errno %d, CQE %d", what, ret, err, res);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(want, err);
	EXPECT_EQ(-want, res);
}

TEST_F(ring, errnos_as_ioctl)
{
	uint64_t before[ZC_NSTATS], after[ZC_NSTATS];
	struct zcsend_file a;
	struct zcsend_vec v;
	struct zcsend_seg seg;
	struct zcsend_uring_cmd c;
	void *ro;
	int udp, calls = 0;

	ASSERT_EQ(0, get_stats(self->g, before));
#define FILE_ARG(field, val) (file_arg(&a, self), a.field = (val), (void *)&a)
	same_errno(_metadata, self, "unknown flag", false,
		   FILE_ARG(flags, 0x80000000U), EINVAL);
	same_errno(_metadata, self, "reserved", false,
		   FILE_ARG(reserved[1], 1), EINVAL);
	same_errno(_metadata, self, "size too small", false,
		   FILE_ARG(size, 8), EINVAL);
	same_errno(_metadata, self, "bad file fd", false,
		   FILE_ARG(file_fd, -1), EBADF);
	same_errno(_metadata, self, "closed sock fd", false,
		   FILE_ARG(sock_fd, 9999), EBADF);
	same_errno(_metadata, self, "file as socket", false,
		   FILE_ARG(sock_fd, self->file), ENOTSOCK);
	same_errno(_metadata, self, "negative offset", false,
		   FILE_ARG(offset, 1ULL << 63), EINVAL);
	udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, udp);
	same_errno(_metadata, self, "UDP socket", false,
		   FILE_ARG(sock_fd, udp), EOPNOTSUPP);
	close(udp);
	calls += 8;

	same_errno(_metadata, self, "bad pointer", false, (void *)8, EFAULT);
	/* Readable but not writable: refused before anything is sent. */
	ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	memcpy(ro, FILE_ARG(length, 10), sizeof(a));
	ASSERT_EQ(0, mprotect(ro, 4096, PROT_READ));
	same_errno(_metadata, self, "read-only struct", false, ro, EFAULT);
	munmap(ro, 4096);
	calls += 2;

	seg = (struct zcsend_seg){ .type = 99, .length = 1 };
	v = (struct zcsend_vec){ .size = sizeof(v), .sock_fd = self->snd,
				 .nr_segs = 1, .segs = (uintptr_t)&seg };
	same_errno(_metadata, self, "vec: unknown segment type", true, &v,
		   EINVAL);
	v.nr_segs = ZCSEND_SEGS_MAX + 1;
	same_errno(_metadata, self, "vec: too many segments", true, &v,
		   EINVAL);
	seg = (struct zcsend_seg){ .type = ZCSEND_SEG_FILE, .fd = -1,
				   .length = 1 };
	v.nr_segs = 1;
	same_errno(_metadata, self, "vec: bad segment fd", true, &v, EBADF);
	v.segs = 8;
	same_errno(_metadata, self, "vec: bad segment pointer", true, &v,
		   EFAULT);
	calls += 4;
	ASSERT_EQ(0, get_stats(self->g, after));
	/* Both paths count every call, and send nothing. */
	EXPECT_EQ(2 * calls, STAT_DELTA(before, after, ZCSEND_A_STATS_CALLS));
	EXPECT_EQ(0, STAT_DELTA(before, after, ZCSEND_A_STATS_BYTES));

	/* The command area itself: the ring's own answers. */
	EXPECT_EQ(-EOPNOTSUPP, run_cmd(&self->ring, self->dev, 0x1234,
				       FILE_ARG(length, 10)));
	{
		struct io_uring_sqe *sqe = io_uring_get_sqe(&self->ring);
		uint64_t ud;
		int res;

		ASSERT_NE(NULL, sqe);
		prep_cmd(sqe, self->dev, ZCSEND_URING_CMD_SENDFILE,
			 FILE_ARG(length, 10), 3);
		c = (struct zcsend_uring_cmd){ .arg = (uintptr_t)&a,
					       .reserved = 1 };
		memcpy((char *)sqe + offsetof(struct io_uring_sqe, cmd), &c,
		       sizeof(c));
		ASSERT_EQ(1, io_uring_submit(&self->ring));
		ASSERT_EQ(0, reap(&self->ring, CQE_WAIT_MS, &ud, &res));
		EXPECT_EQ(-EINVAL, res);
	}
#undef FILE_ARG
}

/*
 * On a ring with 128-byte SQEs the command area has 64 more bytes: zero
 * sends as on any ring, a byte set there is EINVAL.
 */
TEST_F(ring, sqe128_area)
{
	struct zcsend_file a = {
		.size = sizeof(a), .file_fd = self->file, .sock_fd = self->snd,
		.offset = 7, .length = 1000,
	};
	unsigned char got[1000];
	struct io_uring r;
	uint64_t ud;
	int res;

	ASSERT_EQ(0, io_uring_queue_init(4, &r, IORING_SETUP_SQE128));
	ASSERT_EQ(0, queue_cmd(&r, self->dev, ZCSEND_URING_CMD_SENDFILE, &a,
			       1, 0));
	ASSERT_EQ(1, io_uring_submit(&r));
	ASSERT_EQ(0, reap(&r, CQE_WAIT_MS, &ud, &res));
	EXPECT_EQ(1000, res);
	ASSERT_EQ(0, read_exact(self->rcv, got, sizeof(got)));
	EXPECT_EQ(0, memcmp(got, self->data + 7, sizeof(got)));

	{
		struct io_uring_sqe *sqe = io_uring_get_sqe(&r);

		ASSERT_NE(NULL, sqe);
		prep_cmd(sqe, self->dev, ZCSEND_URING_CMD_SENDFILE, &a, 2);
		/* The last byte of the 80-byte area. */
		((unsigned char *)sqe)[offsetof(struct io_uring_sqe, cmd) +
				       79] = 1;
		ASSERT_EQ(1, io_uring_submit(&r));
		ASSERT_EQ(0, reap(&r, CQE_WAIT_MS, &ud, &res));
		EXPECT_EQ(-EINVAL, res);
	}
	io_uring_queue_exit(&r);
}

/*
 * A full socket: a blocking command waits in io-wq until the reader
 * drains, then sends all; a non-blocking one answers EAGAIN, as the ioctl.
 */
TEST_F(ring, full_socket_finishes_in_iowq)
{
	const uint64_t len = 256 * 1024;
	struct zcsend_file a = {
		.size = sizeof(a), .file_fd = self->file, .sock_fd = self->snd,
		.offset = 5, .length = len, .flags = ZCSEND_F_NONBLOCK,
	};
	unsigned char *got = malloc(len);
	uint64_t s0[ZC_NSTATS], s1[ZC_NSTATS], s2[ZC_NSTATS], s3[ZC_NSTATS];
	struct io_uring_cqe *cqe;
	size_t filled;
	uint64_t ud;
	int res;

	ASSERT_NE(NULL, got);
	SMALL_PAIR(self);
	a.sock_fd = self->snd;
	filled = fill_socket(self->snd);
	ASSERT_LT(0, filled);
	ASSERT_EQ(0, iowq_workers());
	ASSERT_EQ(0, get_stats(self->g, s0));
	EXPECT_EQ(-1, ioctl(self->dev, ZCSEND_IOC_SENDFILE, &a));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, get_stats(self->g, s1));
	/* Non-blocking: the ioctl's answer, posted inline, counted once. */
	ASSERT_EQ(0, queue_cmd(&self->ring, self->dev,
			       ZCSEND_URING_CMD_SENDFILE, &a, 8, 0));
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	EXPECT_EQ(0, iowq_workers());
	ASSERT_EQ(0, reap(&self->ring, CQE_WAIT_MS, &ud, &res));
	EXPECT_EQ(8, ud);
	EXPECT_EQ(-EAGAIN, res);
	EXPECT_EQ(0, a.sent);
	EXPECT_EQ(5, a.offset);
	ASSERT_EQ(0, get_stats(self->g, s2));
	EXPECT_EQ(1, STAT_DELTA(s0, s1, ZCSEND_A_STATS_CALLS));
	EXPECT_EQ(1, STAT_DELTA(s0, s1, ZCSEND_A_STATS_ERR_AGAIN));
	EXPECT_EQ(1, STAT_DELTA(s1, s2, ZCSEND_A_STATS_CALLS));
	EXPECT_EQ(1, STAT_DELTA(s1, s2, ZCSEND_A_STATS_ERR_AGAIN));
	EXPECT_EQ(0, STAT_DELTA(s1, s2, ZCSEND_A_STATS_NOWAIT_MISSES));

	/* Blocking: to io-wq, where it waits; counted once, when done. */
	a.flags = 0;
	ASSERT_EQ(0, queue_cmd(&self->ring, self->dev,
			       ZCSEND_URING_CMD_SENDFILE, &a, 9, 0));
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	EXPECT_LE(1, iowq_workers());
	usleep(200000);
	/* Still waiting for space, in an io-wq worker. */
	EXPECT_EQ(-EAGAIN, io_uring_peek_cqe(&self->ring, &cqe));
	ASSERT_EQ(0, drain(self->rcv, filled));
	ASSERT_EQ(0, read_exact(self->rcv, got, len));
	ASSERT_EQ(0, reap(&self->ring, CQE_WAIT_MS, &ud, &res));
	ASSERT_EQ(0, get_stats(self->g, s3));
	EXPECT_EQ(9, ud);
	EXPECT_EQ((int)len, res);
	EXPECT_EQ(len, a.sent);
	EXPECT_EQ(5 + len, a.offset);
	EXPECT_EQ(0, memcmp(got, self->data + 5, len));
	EXPECT_EQ(1, STAT_DELTA(s2, s3, ZCSEND_A_STATS_CALLS));
	EXPECT_EQ(0, STAT_DELTA(s2, s3, ZCSEND_A_STATS_ERR_AGAIN));
	EXPECT_EQ(len, STAT_DELTA(s2, s3, ZCSEND_A_STATS_BYTES));
	free(got);
}

/*
 * A small cached response (ZCSEND_F_NONBLOCK), range and vector, completes
 * in the submitting io_uring_enter(): its CQE is in the ring when the
 * submit returns, and no io-wq worker was made (a punt makes one before
 * the submit returns). Counted once each, with exactly its bytes.
 */
TEST_F(ring, nonblock_cached_completes_inline)
{
	static const char hdr[] = "HTTP/1.1 200 OK\r\n\r\n";
	const uint64_t off = 777, len = 3000;
	struct zcsend_file a = {
		.size = sizeof(a), .file_fd = self->file, .sock_fd = self->snd,
		.offset = off, .length = len, .flags = ZCSEND_F_NONBLOCK,
	};
	struct zcsend_seg segs[] = {
		{ .type = ZCSEND_SEG_INLINE, .length = sizeof(hdr) - 1,
		  .addr = (uintptr_t)hdr },
		{ .type = ZCSEND_SEG_FILE, .fd = self->file, .offset = off,
		  .length = len },
	};
	struct zcsend_vec v = {
		.size = sizeof(v), .sock_fd = self->snd, .nr_segs = 2,
		.segs = (uintptr_t)segs, .flags = ZCSEND_F_NONBLOCK,
	};
	const size_t vlen = sizeof(hdr) - 1 + len;
	uint64_t s0[ZC_NSTATS], s1[ZC_NSTATS], s2[ZC_NSTATS];
	unsigned char got[sizeof(hdr) - 1 + 3000];
	struct io_uring_cqe *cqe;

	ASSERT_EQ(0, iowq_workers());
	ASSERT_EQ(0, get_stats(self->g, s0));
	ASSERT_EQ(0, queue_cmd(&self->ring, self->dev,
			       ZCSEND_URING_CMD_SENDFILE, &a, 1, 0));
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(0, io_uring_peek_cqe(&self->ring, &cqe));
	EXPECT_EQ(1, cqe->user_data);
	EXPECT_EQ((int)len, cqe->res);
	io_uring_cqe_seen(&self->ring, cqe);
	EXPECT_EQ(0, iowq_workers());
	ASSERT_EQ(0, get_stats(self->g, s1));
	EXPECT_EQ(len, a.sent);
	EXPECT_EQ(off + len, a.offset);
	ASSERT_EQ(0, read_exact(self->rcv, got, len));
	EXPECT_EQ(0, memcmp(got, self->data + off, len));
	EXPECT_EQ(1, STAT_DELTA(s0, s1, ZCSEND_A_STATS_CALLS));
	EXPECT_EQ(len, STAT_DELTA(s0, s1, ZCSEND_A_STATS_BYTES));
	EXPECT_EQ(0, STAT_DELTA(s0, s1, ZCSEND_A_STATS_NOWAIT_MISSES));

	ASSERT_EQ(0, queue_cmd(&self->ring, self->dev,
			       ZCSEND_URING_CMD_SENDVEC, &v, 2, 0));
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(0, io_uring_peek_cqe(&self->ring, &cqe));
	EXPECT_EQ(2, cqe->user_data);
	EXPECT_EQ((int)vlen, cqe->res);
	io_uring_cqe_seen(&self->ring, cqe);
	EXPECT_EQ(0, iowq_workers());
	ASSERT_EQ(0, get_stats(self->g, s2));
	EXPECT_EQ(vlen, v.sent);
	EXPECT_EQ(2, v.segs_done);
	ASSERT_EQ(0, read_exact(self->rcv, got, vlen));
	EXPECT_EQ(0, memcmp(got, hdr, sizeof(hdr) - 1));
	EXPECT_EQ(0, memcmp(got + sizeof(hdr) - 1, self->data + off, len));
	EXPECT_EQ(1, STAT_DELTA(s1, s2, ZCSEND_A_STATS_CALLS));
	EXPECT_EQ(vlen, STAT_DELTA(s1, s2, ZCSEND_A_STATS_BYTES));
}

/* Pages of @fd in [@first, @stop) in the page cache (mincore), or -1. */
static int resident(int fd, size_t first, size_t stop)
{
	unsigned char vec[(FILE_SIZE + 4095) / 4096];
	int n = 0;
	void *map;

	map = mmap(NULL, FILE_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return -1;
	if (mincore(map, FILE_SIZE, vec))
		n = -1;
	while (n >= 0 && first < stop)
		n += vec[first++] & 1;
	munmap(map, FILE_SIZE);
	return n;
}

/*
 * A non-blocking command on a range not in the page cache (ext4 on a loop
 * device, its cache dropped; no ZCSEND_F_NOWAIT): the inline attempt
 * misses and is given up without a trace, io-wq reads the disk. The
 * result is what the non-blocking ioctl gives (here all of it), the call
 * counted once, no miss. Range first, then a vector; then a third range
 * with ZCSEND_F_DROP (ext4: tmpfs pages are never dropped).
 */
/* mkfs and mount take most of a minute on the debug kernel. */
TEST_F_TIMEOUT(ring, nonblock_uncached_finishes_in_iowq, 180)
{
	char dir[] = "/tmp/zcsend-uring.XXXXXX", path[64];
	const uint64_t off = 4096 + 9, len = zcsend_scaled() ? 20000 : 150000;
	/* Beyond what the first range's reads can read ahead (128 KiB). */
	const uint64_t voff = 640 * 1024 + 3;
	/* Sent only with ZCSEND_F_DROP: its whole pages [dfirst, dstop). */
	const uint64_t doff = 400 * 1024 + 7;
	const size_t dfirst = (doff + 4095) / 4096, dstop = (doff + len) / 4096;
	uint64_t s0[ZC_NSTATS], s1[ZC_NSTATS], s2[ZC_NSTATS];
	struct zcsend_file a = {
		.size = sizeof(a), .sock_fd = self->snd,
		.offset = off, .length = len, .flags = ZCSEND_F_NONBLOCK,
	};
	struct zcsend_seg seg = {
		.type = ZCSEND_SEG_FILE, .offset = voff, .length = len,
	};
	struct zcsend_vec v = {
		.size = sizeof(v), .sock_fd = self->snd, .nr_segs = 1,
		.segs = (uintptr_t)&seg, .flags = ZCSEND_F_NONBLOCK,
	};
	unsigned char *got = malloc(len), *map;
	unsigned char vec[(FILE_SIZE + 4095) / 4096];
	int fd, wfd, ok;
	size_t i;

	ASSERT_NE(NULL, got);
	ASSERT_EQ(0, iowq_workers());
	/* Room for all of it: the non-blocking ioctl would send it whole. */
	close(self->snd);
	close(self->rcv);
	ASSERT_EQ(0, zcsend_tcp_pair(AF_INET, &self->snd, &self->rcv, 1 << 20));
	a.sock_fd = self->snd;
	v.sock_fd = self->snd;
	ASSERT_NE(NULL, mkdtemp(dir));
	/* loop: a module on Debian's kernels, built in on the debug one. */
	zcsend_run("modprobe loop 2>/dev/null || true");
	ASSERT_EQ(0, zcsend_run("truncate -s 16M %s/img && "
				"mkfs.ext4 -q -F %s/img >/dev/null 2>&1 && "
				"mkdir %s/mnt && mount -o loop %s/img %s/mnt",
				dir, dir, dir, dir, dir));
	snprintf(path, sizeof(path), "%s/mnt/f", dir);
	wfd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	ok = wfd >= 0 && !zcsend_pwrite_all(wfd, self->data, FILE_SIZE, 0) &&
	     !fsync(wfd);
	if (wfd >= 0)
		close(wfd);
	fd = ok ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (fd >= 0 && posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED))
		ok = 0;
	/* Nothing of the two ranges cached (mincore counts uptodate pages). */
	map = fd >= 0 ? mmap(NULL, FILE_SIZE, PROT_READ, MAP_SHARED, fd, 0) :
			MAP_FAILED;
	if (map == MAP_FAILED || mincore(map, FILE_SIZE, vec))
		ok = 0;
	for (i = off / 4096; ok && i <= (off + len - 1) / 4096; i++)
		if (vec[i] & 1)
			ok = 0;
	for (i = voff / 4096; ok && i <= (voff + len - 1) / 4096; i++)
		if (vec[i] & 1)
			ok = 0;
	if (map != MAP_FAILED)
		munmap(map, FILE_SIZE);
	EXPECT_TRUE(ok);
	if (!ok)
		goto out;
	a.file_fd = fd;
	seg.fd = fd;

	ASSERT_EQ(0, get_stats(self->g, s0));
	EXPECT_EQ((int)len, run_cmd(&self->ring, self->dev,
				    ZCSEND_URING_CMD_SENDFILE, &a));
	ASSERT_EQ(0, get_stats(self->g, s1));
	EXPECT_EQ(len, a.sent);
	EXPECT_EQ(off + len, a.offset);
	EXPECT_EQ(0, read_exact(self->rcv, got, len));
	EXPECT_EQ(0, memcmp(got, self->data + off, len));
	EXPECT_EQ(1, STAT_DELTA(s0, s1, ZCSEND_A_STATS_CALLS));
	EXPECT_EQ(len, STAT_DELTA(s0, s1, ZCSEND_A_STATS_BYTES));
	EXPECT_EQ(0, STAT_DELTA(s0, s1, ZCSEND_A_STATS_ERR_AGAIN));
	EXPECT_EQ(0, STAT_DELTA(s0, s1, ZCSEND_A_STATS_ERR_OTHER));
	EXPECT_EQ(0, STAT_DELTA(s0, s1, ZCSEND_A_STATS_NOWAIT_MISSES));
	EXPECT_EQ(0, STAT_DELTA(s0, s1, ZCSEND_A_STATS_NOWAIT_READAHEADS));
	/* The punt is what happened: io-wq ran it. */
	EXPECT_LE(1, iowq_workers());

	EXPECT_EQ((int)len, run_cmd(&self->ring, self->dev,
				    ZCSEND_URING_CMD_SENDVEC, &v));
	ASSERT_EQ(0, get_stats(self->g, s2));
	EXPECT_EQ(len, v.sent);
	EXPECT_EQ(1, v.segs_done);
	EXPECT_EQ(0, read_exact(self->rcv, got, len));
	EXPECT_EQ(0, memcmp(got, self->data + voff, len));
	EXPECT_EQ(1, STAT_DELTA(s1, s2, ZCSEND_A_STATS_CALLS));
	EXPECT_EQ(len, STAT_DELTA(s1, s2, ZCSEND_A_STATS_BYTES));
	EXPECT_EQ(0, STAT_DELTA(s1, s2, ZCSEND_A_STATS_ERR_OTHER));
	EXPECT_EQ(0, STAT_DELTA(s1, s2, ZCSEND_A_STATS_NOWAIT_MISSES));

	/*
	 * ZCSEND_F_DROP through the command, on a third range that a read
	 * cached and nothing sent: once the command completed and the
	 * receiver has read it, its whole pages leave the cache (the drop
	 * runs when the stack lets go: poll); the vector's range stays.
	 * Not a range sent before: over loopback the receiver's buffers of
	 * that earlier send hold its pages after they were read, until the
	 * CPU that allocated them frees them (skb_attempt_defer_free(); on
	 * 6.1, an idle CPU's three buffers were seen to hold 35 pages for
	 * seconds), and a drop leaves pages something holds.
	 */
	ASSERT_EQ((ssize_t)len, pread(fd, got, len, doff));
	EXPECT_EQ((int)(dstop - dfirst), resident(fd, dfirst, dstop));
	a.offset = doff;
	a.flags = ZCSEND_F_DROP;
	EXPECT_EQ((int)len, run_cmd(&self->ring, self->dev,
				    ZCSEND_URING_CMD_SENDFILE, &a));
	EXPECT_EQ(0, read_exact(self->rcv, got, len));
	EXPECT_EQ(0, memcmp(got, self->data + doff, len));
	for (i = 0; i < 100 && resident(fd, dfirst, dstop); i++)
		usleep(20000);
	EXPECT_EQ(0, resident(fd, dfirst, dstop));
	EXPECT_EQ((int)((voff + len) / 4096 - (voff + 4095) / 4096),
		  resident(fd, (voff + 4095) / 4096, (voff + len) / 4096));
out:
	if (fd >= 0)
		close(fd);
	free(got);
	zcsend_run("umount %s/mnt; rm -rf %s", dir, dir);
}

/*
 * A chain of linked commands (some with IOSQE_ASYNC) runs in order, its
 * head blocked on a full socket; then drained commands (IOSQE_IO_DRAIN,
 * one with IOSQE_ASYNC) wait for all before them. The stream is the ranges
 * in submission order, every CQE the full count.
 */
TEST_F(ring, linked_async_drain_in_order)
{
	static const uint8_t flags[] = {
		IOSQE_IO_LINK, IOSQE_IO_LINK, IOSQE_IO_LINK | IOSQE_ASYNC,
		IOSQE_IO_LINK, 0, IOSQE_IO_DRAIN, IOSQE_IO_DRAIN | IOSQE_ASYNC,
	};
	enum { N = sizeof(flags) };
	const uint64_t len = 150000;
	struct zcsend_file a[N];
	unsigned char *got = malloc(len);
	size_t filled, i;
	int seen = 0, st;
	pid_t pid;

	ASSERT_NE(NULL, got);
	SMALL_PAIR(self);
	filled = fill_socket(self->snd);
	for (i = 0; i < N; i++) {
		a[i] = (struct zcsend_file){
			.size = sizeof(a[i]), .file_fd = self->file,
			.sock_fd = self->snd, .offset = 1000 * i + i,
			.length = len,
		};
		ASSERT_EQ(0, queue_cmd(&self->ring, self->dev,
				       ZCSEND_URING_CMD_SENDFILE, &a[i], i,
				       flags[i]));
	}
	ASSERT_EQ(N, io_uring_submit(&self->ring));
	ASSERT_EQ(0, drain(self->rcv, filled));
	/* A reader, so that the CQEs can be reaped while bytes flow. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		for (i = 0; i < N; i++) {
			if (read_exact(self->rcv, got, len))
				_exit(10 + i);
			if (memcmp(got, self->data + a[i].offset, len))
				_exit(20 + i);
		}
		_exit(0);
	}
	for (i = 0; i < N; i++) {
		uint64_t ud;
		int res;

		ASSERT_EQ(0, reap(&self->ring, CQE_WAIT_MS, &ud, &res));
		ASSERT_GT(N, ud);
		TH_LOG("CQE %zu: command %d, res %d", i, (int)ud, res);
		EXPECT_EQ((int)len, res);
		EXPECT_EQ(len, a[ud].sent);
		seen |= 1 << ud;
	}
	EXPECT_EQ((1 << N) - 1, seen);
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	/* 1x: range x short; 2x: range x not what was sent, in order. */
	EXPECT_EQ(0, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	free(got);
}

/*
 * A command blocked on a full socket when its ring is closed, or when its
 * process is killed: the command holds the device file (and so the
 * module) after its fd is closed, and lets go of it then, so that the
 * module can be unloaded.
 */
TEST_F(ring, closed_or_killed_in_flight)
{
	struct zcsend_file a = {
		.size = sizeof(a), .file_fd = self->file, .sock_fd = self->snd,
		.length = FILE_SIZE,
	};
	struct io_uring r2;
	int base, dev, st;
	pid_t pid;

	fill_socket(self->snd);
	base = module_refcnt();
	ASSERT_LT(0, base);

	dev = open(ZCSEND_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dev);
	ASSERT_EQ(0, io_uring_queue_init(4, &r2, 0));
	ASSERT_EQ(0, queue_cmd(&r2, dev, ZCSEND_URING_CMD_SENDFILE, &a, 1, 0));
	ASSERT_EQ(1, io_uring_submit(&r2));
	close(dev);
	usleep(200000);
	/* Blocked in flight, holding the file its fd named. */
	EXPECT_EQ(base + 1, module_refcnt());
	io_uring_queue_exit(&r2);
	EXPECT_EQ(0, wait_refcnt(base, 10000))
		TH_LOG("refcnt %d after the ring closed, %d before",
		       module_refcnt(), base);

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		dev = open(ZCSEND_DEVICE_PATH, O_RDWR | O_CLOEXEC);
		if (dev < 0 || io_uring_queue_init(4, &r2, 0) ||
		    queue_cmd(&r2, dev, ZCSEND_URING_CMD_SENDFILE, &a, 1, 0) ||
		    io_uring_submit(&r2) != 1)
			_exit(1);
		close(dev);
		pause();
		_exit(2);
	}
	usleep(300000);
	EXPECT_EQ(base + 1, module_refcnt());
	EXPECT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_TRUE(WIFSIGNALED(st));
	EXPECT_EQ(0, wait_refcnt(base, 10000))
		TH_LOG("refcnt %d after the process died, %d before",
		       module_refcnt(), base);
}

/* A listener on loopback: its fd, and its port in @port. */
static int listener(int *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (l < 0)
		return -1;
	if (bind(l, (void *)&sa, len) || listen(l, 4) ||
	    getsockname(l, (void *)&sa, &len)) {
		close(l);
		return -1;
	}
	*port = ntohs(sa.sin_port);
	return l;
}

static int read_sysctl(const char *path)
{
	FILE *f = fopen(path, "re");
	int v = -1;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static int write_sysctl(const char *path, int v)
{
	FILE *f = fopen(path, "we");
	int ret;

	if (!f)
		return -1;
	ret = fprintf(f, "%d\n", v) < 0;
	return fclose(f) || ret ? -1 : 0;
}

/*
 * "zcsend send --uring" sends a file byte-exact. With io_uring disabled
 * (kernel.io_uring_disabled=2, 6.12 only; 6.1 has no such sysctl, and there
 * the first assertion is the test) it fails with a message that says so.
 */
TEST_F(ring, tool_send_uring)
{
	const size_t len = 100000;
	char path[] = "/tmp/zcsend-uring.XXXXXX";
	char err_path[] = "/tmp/zcsend-uring-err.XXXXXX";
	unsigned char *got = malloc(len);
	int l, port, c, fd, efd, old;
	char msg[512] = "";
	ssize_t n;

	ASSERT_NE(NULL, got);
	fd = mkostemp(path, O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, zcsend_pwrite_all(fd, self->data, len, 0));
	close(fd);
	l = listener(&port);
	ASSERT_LE(0, l);

	EXPECT_EQ(0, zcsend_run(TOOL " send --uring %s 127.0.0.1:%d >/dev/null",
				path, port));
	c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	ASSERT_LE(0, c);
	EXPECT_EQ(0, read_exact(c, got, len));
	EXPECT_EQ(0, memcmp(got, self->data, len));
	EXPECT_EQ(0, read(c, got, 1));	/* and nothing more */
	close(c);

	old = read_sysctl(URING_SYSCTL);
	if (old >= 0) {
		char cmd[512];
		int st;

		efd = mkostemp(err_path, O_CLOEXEC);
		ASSERT_LE(0, efd);
		ASSERT_EQ(0, write_sysctl(URING_SYSCTL, 2));
		snprintf(cmd, sizeof(cmd),
			 TOOL " send --uring %s 127.0.0.1:%d 2>%s >/dev/null",
			 path, port, err_path);
		st = system(cmd);
		EXPECT_EQ(0, write_sysctl(URING_SYSCTL, old));
		EXPECT_TRUE(WIFEXITED(st));
		EXPECT_EQ(1, WEXITSTATUS(st));
		n = pread(efd, msg, sizeof(msg) - 1, 0);
		ASSERT_LE(0, n);
		msg[n] = '\0';
		TH_LOG("stderr: %s", msg);
		EXPECT_NE(NULL, strstr(msg, "io_uring is disabled"));
		EXPECT_NE(NULL, strstr(msg, "io_uring_disabled"));
		close(efd);
		unlink(err_path);
	} else {
		EXPECT_NE(0, access(URING_SYSCTL, F_OK));
	}
	close(l);
	unlink(path);
	free(got);
}

ZCSEND_TEST_MAIN
