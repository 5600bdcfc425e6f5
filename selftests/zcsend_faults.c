// SPDX-License-Identifier: GPL-2.0
/*
 * Allocation failures inside a call (issue 20): the kernel's fault
 * injection (failslab and fail_page_alloc, CONFIG_FAULT_INJECTION) fails
 * the Nth allocation this thread makes (/proc/thread-self/fail-nth), for
 * N = 1, 2, ... until a call makes fewer than N allocations. Every
 * allocation on the call's path fails once: the module's own, the page
 * cache's and the socket's.
 *
 * Each call must then either fail with ENOMEM (or EAGAIN, when TCP could
 * not allocate an skb for a non-blocking send), having sent nothing, or
 * succeed with the file's exact bytes, as many as it says. The guest's
 * own checks (kmemleak, KASAN, lockdep, the module unloading) judge what
 * the error paths leave behind.
 *
 * Only in the debug kernel's guest (scripts/tests/run-selftests lists it
 * there): Debian's kernels have no fault injection.
 *
 *   sendfile_nth	ZCSEND_IOC_SENDFILE of 256 KiB (a bvec array of 64)
 *   sendvec_nth	ZCSEND_IOC_SENDVEC: header, two file segments, trailer
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/zcsend.h>

#include "kselftest_harness.h"
#include "zcsend_test.h"

#define LEN		(256 * 1024)
#define MAX_NTH		400	/* far more than one call allocates */
#define DEBUGFS		"/sys/kernel/debug"

static unsigned char data[LEN];

/*
 * Let fail-nth reach every allocation: by default failslab skips those
 * that may sleep (ignore-gfp-wait) and fail_page_alloc those of order 0,
 * which are most of a call's. Quiet: a forced failure is no kernel bug.
 */
static int inject_setup(void)
{
	static const char *const set[][2] = {
		{ DEBUGFS "/failslab/ignore-gfp-wait", "N" },
		{ DEBUGFS "/failslab/verbose", "0" },
		{ DEBUGFS "/fail_page_alloc/ignore-gfp-wait", "N" },
		{ DEBUGFS "/fail_page_alloc/ignore-gfp-highmem", "N" },
		{ DEBUGFS "/fail_page_alloc/min-order", "0" },
		{ DEBUGFS "/fail_page_alloc/verbose", "0" },
	};
	size_t i;

	if (access(DEBUGFS "/failslab", F_OK) &&
	    mount("debugfs", DEBUGFS, "debugfs", 0, NULL))
		return -1;
	for (i = 0; i < sizeof(set) / sizeof(set[0]); i++)
		if (zcsend_write_param(set[i][0], set[i][1]))
			return -1;
	return 0;
}

FIXTURE(faults) {
	int nth;	/* /proc/thread-self/fail-nth */
	int dev;
	int file;
};

FIXTURE_SETUP(faults)
{
	size_t i;

	for (i = 0; i < LEN; i++)
		data[i] = (unsigned char)(i * 131 + (i >> 12));
	ASSERT_EQ(0, inject_setup())
		TH_LOG("fault injection (failslab, fail_page_alloc in debugfs): %s",
		       strerror(errno));
	self->nth = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->nth) TH_LOG("fail-nth: %s", strerror(errno));
	self->dev = open(ZCSEND_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev);
	self->file = zcsend_make_file(NULL, data, LEN);
	ASSERT_LE(0, self->file);
}

FIXTURE_TEARDOWN(faults)
{
	close(self->file);
	close(self->dev);
	close(self->nth);
}

/* Fail the @n-th allocation from now on (0: none). */
static int nth_arm(int fd, unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	return pwrite(fd, buf, len, 0) == len ? 0 : -1;
}

/* 0 once the armed failure happened; otherwise disarm and return 1. */
static int nth_left(int fd)
{
	char buf[16] = "";

	if (pread(fd, buf, sizeof(buf) - 1, 0) <= 0)
		return -1;
	if (strtoul(buf, NULL, 10) == 0)
		return 0;
	nth_arm(fd, 0);
	return 1;
}

/* What one call under fault injection did. */
struct outcome {
	int ret, err;
	uint64_t sent;
};

/*
 * Drain @rcv after the sender closed and compare with @want (@len bytes).
 * Return: bytes received if they are a prefix of @want (all of it or
 * less), else -1 (different bytes, or a read error).
 */
static ssize_t drain_compare(int rcv, const unsigned char *want, size_t len)
{
	size_t got;
	int st = zcsend_recv_compare(rcv, want, len, &got);

	return st == 0 || st == 2 ? (ssize_t)got : -1;
}

/* The stream SENDVEC sends: header, data[0..LEN/2), data[LEN/2..LEN), trailer. */
static const char hdr[] = "HTTP/1.1 200 OK\r\nContent-Length: 262144\r\n\r\n";
static const char trl[] = "\r\n--end--\r\n";
static unsigned char stream[sizeof(hdr) - 1 + LEN + sizeof(trl) - 1];

static void stream_build(void)
{
	size_t h = sizeof(hdr) - 1;

	memcpy(stream, hdr, h);
	memcpy(stream + h, data, LEN);
	memcpy(stream + h + LEN, trl, sizeof(trl) - 1);
}

enum how { BY_FILE, BY_VEC };

/* One call with the @n-th allocation failing; *@consumed: it failed. */
static int one_call(struct __test_metadata *_metadata,
		    FIXTURE_DATA(faults) *self, enum how how, unsigned int n,
		    struct outcome *o, int *consumed)
{
	struct zcsend_seg segs[4] = {
		{ .type = ZCSEND_SEG_INLINE, .length = sizeof(hdr) - 1,
		  .addr = (uintptr_t)hdr },
		{ .type = ZCSEND_SEG_FILE, .fd = self->file, .length = LEN / 2 },
		{ .type = ZCSEND_SEG_FILE, .fd = self->file, .offset = LEN / 2,
		  .length = LEN / 2 },
		{ .type = ZCSEND_SEG_INLINE, .length = sizeof(trl) - 1,
		  .addr = (uintptr_t)trl },
	};
	struct zcsend_vec v = { .size = sizeof(v), .flags = ZCSEND_F_NONBLOCK,
				.nr_segs = 4, .segs = (uintptr_t)segs };
	struct zcsend_file f = { .size = sizeof(f), .flags = ZCSEND_F_NONBLOCK,
				 .file_fd = self->file, .length = LEN };
	const unsigned char *want = how == BY_FILE ? data : stream;
	size_t len = how == BY_FILE ? LEN : sizeof(stream);
	int snd, rcv, left;
	ssize_t got;

	/* Socket buffers wide enough that the whole call fits at once. */
	if (zcsend_tcp_pair(AF_INET, &snd, &rcv, 4 * LEN))
		return -1;
	f.sock_fd = snd;
	v.sock_fd = snd;
	if (nth_arm(self->nth, n))
		return -1;
	if (how == BY_FILE)
		o->ret = ioctl(self->dev, ZCSEND_IOC_SENDFILE, &f);
	else
		o->ret = ioctl(self->dev, ZCSEND_IOC_SENDVEC, &v);
	o->err = o->ret ? errno : 0;
	left = nth_left(self->nth);
	o->sent = how == BY_FILE ? f.sent : v.sent;
	close(snd);
	got = drain_compare(rcv, want, len);
	close(rcv);
	if (left < 0)
		return -1;
	*consumed = !left;
	if (o->ret) {
		/* Nothing went out, and the error says why. */
		EXPECT_TRUE(o->err == ENOMEM || o->err == EAGAIN)
			TH_LOG("nth=%u: errno %d (%s)", n, o->err, strerror(o->err));
		EXPECT_EQ(0, got) TH_LOG("nth=%u: failed call, %zd bytes arrived", n, got);
	} else {
		EXPECT_LT(0, o->sent);
		EXPECT_GE(len, o->sent);
		EXPECT_EQ((ssize_t)o->sent, got)
			TH_LOG("nth=%u: sent %llu, received %zd (or bytes differ)",
			       n, (unsigned long long)o->sent, got);
	}
	return 0;
}

/*
 * N = 1, 2, ...: every allocation of the call fails once, until the call
 * makes fewer than N. The last call ran without a failure and must have
 * sent everything; at least one call must have failed with ENOMEM (an
 * injection that never reached the call would test nothing).
 */
static void nth_loop(struct __test_metadata *_metadata,
		     FIXTURE_DATA(faults) *self, enum how how)
{
	size_t len = how == BY_FILE ? LEN : sizeof(stream);
	unsigned int n, nomem = 0, partial = 0;
	struct outcome o;
	int consumed = 1;

	for (n = 1; n <= MAX_NTH && consumed; n++) {
		ASSERT_EQ(0, one_call(_metadata, self, how, n, &o, &consumed))
			TH_LOG("nth=%u: test setup: %s", n, strerror(errno));
		nomem += o.ret && o.err == ENOMEM;
		partial += !o.ret && o.sent < len;
		if (!_metadata->passed)
			return;
	}
	ASSERT_FALSE(consumed) TH_LOG("still failing allocations after %u", MAX_NTH);
	TH_LOG("%u allocations on the path, %u calls failed with ENOMEM, %u sent part",
	       n - 2, nomem, partial);
	EXPECT_EQ(0, o.ret);
	EXPECT_EQ(len, o.sent);
	EXPECT_LT(0, nomem);
}

TEST_F(faults, sendfile_nth)
{
	nth_loop(_metadata, self, BY_FILE);
}

TEST_F(faults, sendvec_nth)
{
	stream_build();
	nth_loop(_metadata, self, BY_VEC);
}

ZCSEND_TEST_MAIN
