// SPDX-License-Identifier: GPL-2.0
/*
 * Faults, load, leaks and fuzzing of the zcsend ioctls.
 *
 * faults: the peer closes mid-transfer; a signal arrives during a blocking
 *	send (EINTR with nothing queued, a partial count otherwise, a restart
 *	with SA_RESTART); SO_SNDTIMEO; the file truncated or rewritten while
 *	in flight; the sender killed mid-transfer; rmmod during a blocked
 *	transfer (refused, then allowed once it ends).
 * load:	32 senders (16 threads, 16 processes), each with its own file
 *	and connection, for ZCSEND_LOAD_SECS seconds (default 30), every
 *	received byte checked against the file.
 * leaks:	1 GiB through the ioctl, then everything closed and the file
 *	removed: free memory plus page cache return to where they were.
 * fuzz:	ZCSEND_FUZZ_CALLS (default 100000) ioctls with random commands,
 *	sizes, flags, fds and pointers: only documented errors, and the
 *	module still sends correctly afterwards.
 *
 * Kernel warnings are caught by the VM runner, which scans the kernel log.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <linux/zcsend.h>

#include "kselftest_harness.h"
#include "zcsend_test.h"

#define MIB (1024UL * 1024UL)

/* The byte at offset @off of test file @id: checkable without the file. */
static inline uint8_t pattern(unsigned int id, uint64_t off)
{
	return (uint8_t)((off ^ (off >> 8) ^ (off >> 17) ^ (id * 37u)) & 0xff);
}

static void fill_pattern(unsigned char *buf, uint64_t off, size_t n,
			 void *arg)
{
	unsigned int id = *(unsigned int *)arg;
	size_t i;

	for (i = 0; i < n; i++)
		buf[i] = pattern(id, off + i);
}

static int make_file(unsigned int id, size_t size)
{
	return zcsend_make_file_fill(NULL, size, fill_pattern, &id);
}

static void small_buffers(int tx, int rx)
{
	int v = 16384;

	setsockopt(tx, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
}

/* Fill @tx's send buffer (and the peer's receive buffer) completely. */
static void fill_send_buffer(int tx)
{
	static char junk[65536];

	while (send(tx, junk, sizeof(junk), MSG_DONTWAIT) > 0)
		;
}

static int zc_sendfile(int dev, int file, int sock, uint64_t off, uint64_t len,
		       uint32_t flags, uint64_t *sent)
{
	struct zcsend_file a = {
		.size = sizeof(a), .flags = flags, .file_fd = file,
		.sock_fd = sock, .offset = off, .length = len,
	};
	int ret = ioctl(dev, ZCSEND_IOC_SENDFILE, &a);

	if (sent)
		*sent = a.sent;
	return ret;
}

static int open_dev(void)
{
	return open(ZCSEND_DEVICE_PATH, O_RDWR | O_CLOEXEC);
}

/* Read and discard until EOF or error; return the bytes read. */
static uint64_t drain(int fd)
{
	static char buf[65536];
	uint64_t total = 0;
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
		total += n;
	return total;
}

/* Read and check against file @id's pattern from offset @start. */
static int drain_check(int fd, unsigned int id, uint64_t start, uint64_t *total)
{
	static __thread char buf[65536];
	uint64_t pos = start;
	ssize_t n, i;

	*total = 0;
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) {
		for (i = 0; i < n; i++)
			if ((uint8_t)buf[i] != pattern(id, pos + i))
				return -1;
		pos += n;
		*total += n;
	}
	return 0;
}

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	(void)sig;
	got_signal++;
}

static void set_handler(int sig, int flags)
{
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = flags };

	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static void arm_timer(long ms)
{
	struct itimerval it = {
		.it_value = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 },
	};

	setitimer(ITIMER_REAL, &it, NULL);
}

/*
 * The harness's default of 30 s per test is too short under QEMU's TCG,
 * where these run in make check; a hang still ends in a failure.
 */
#define FAULT_TIMEOUT	300
#define STRESS_TIMEOUT	900

FIXTURE(stress) {
	int unused;
};

FIXTURE_SETUP(stress)
{
}

FIXTURE_TEARDOWN(stress)
{
}

FIXTURE(fault) {
	int dev, file, tx, rx;
	size_t size;
};

FIXTURE_SETUP(fault)
{
	self->tx = -1;
	self->rx = -1;
	self->size = 16 * MIB;
	self->dev = open_dev();
	ASSERT_LE(0, self->dev);
	self->file = make_file(1, self->size);
	ASSERT_LE(0, self->file);
	ASSERT_EQ(0, zcsend_tcp_pair(AF_INET, &self->tx, &self->rx, 0));
}

FIXTURE_TEARDOWN(fault)
{
	close(self->tx);
	close(self->rx);
	close(self->file);
	close(self->dev);
}

struct reader_arg {
	int fd;
	uint64_t limit;		/* read this much, then close */
	uint64_t got;
	int linger0;		/* close with a reset */
};

static void *read_then_close(void *p)
{
	struct reader_arg *r = p;
	char buf[65536];
	ssize_t n;

	while (r->got < r->limit) {
		n = recv(r->fd, buf, sizeof(buf), 0);
		if (n <= 0)
			break;
		r->got += n;
	}
	if (r->linger0) {
		struct linger l = { .l_onoff = 1, .l_linger = 0 };

		setsockopt(r->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	}
	close(r->fd);
	return NULL;
}

static void peer_goes_away(struct __test_metadata *_metadata,
			   FIXTURE_DATA(fault) *self, int linger0)
{
	struct reader_arg r = { .fd = self->rx, .limit = MIB, .linger0 = linger0 };
	uint64_t total = 0, sent = 0;
	pthread_t t;
	int ret = 0;

	got_signal = 0;
	set_handler(SIGPIPE, 0);
	ASSERT_EQ(0, pthread_create(&t, NULL, read_then_close, &r));
	while (total < self->size) {
		ret = zc_sendfile(self->dev, self->file, self->tx, total,
				  self->size - total, ZCSEND_F_NOSIGNAL, &sent);
		if (ret)
			break;
		total += sent;
	}
	pthread_join(t, NULL);
	self->rx = -1;
	ASSERT_EQ(-1, ret) TH_LOG("all %llu bytes went to a closed peer",
				  (unsigned long long)total);
	EXPECT_TRUE(errno == EPIPE || errno == ECONNRESET) TH_LOG("errno %d", errno);
	EXPECT_EQ(0, got_signal);
	EXPECT_LE(r.got, total);
	/* Once failed, it keeps failing; without NOSIGNAL, SIGPIPE comes. */
	EXPECT_EQ(-1, zc_sendfile(self->dev, self->file, self->tx, 0, 4096, 0, NULL));
	EXPECT_EQ(EPIPE, errno);
	EXPECT_EQ(1, got_signal);
	signal(SIGPIPE, SIG_DFL);
}

TEST_F_TIMEOUT(fault, peer_closes, FAULT_TIMEOUT)
{
	peer_goes_away(_metadata, self, 0);
}

TEST_F_TIMEOUT(fault, peer_resets, FAULT_TIMEOUT)
{
	peer_goes_away(_metadata, self, 1);
}

TEST_F_TIMEOUT(fault, signal_before_anything_queued, FAULT_TIMEOUT)
{
	uint64_t sent = 1;

	small_buffers(self->tx, self->rx);
	fill_send_buffer(self->tx);
	set_handler(SIGALRM, 0);
	got_signal = 0;
	arm_timer(200);
	EXPECT_EQ(-1, zc_sendfile(self->dev, self->file, self->tx, 0, MIB, 0, &sent));
	EXPECT_EQ(EINTR, errno);
	EXPECT_EQ(0, sent);
	EXPECT_EQ(1, got_signal);
}

TEST_F_TIMEOUT(fault, signal_after_partial_send, FAULT_TIMEOUT)
{
	uint64_t sent = 0;

	small_buffers(self->tx, self->rx);
	set_handler(SIGALRM, 0);
	got_signal = 0;
	arm_timer(300);
	ASSERT_EQ(0, zc_sendfile(self->dev, self->file, self->tx, 0, self->size,
				 0, &sent));
	EXPECT_LT(0, sent);
	EXPECT_GT(self->size, sent);
	EXPECT_EQ(1, got_signal);
}

static void *read_after_delay(void *p)
{
	struct reader_arg *r = p;
	struct timespec ts = { .tv_nsec = 600 * 1000 * 1000 };

	nanosleep(&ts, NULL);
	r->got = drain(r->fd);
	return NULL;
}

TEST_F_TIMEOUT(fault, signal_with_sa_restart, FAULT_TIMEOUT)
{
	struct reader_arg r = { .fd = self->rx };
	uint64_t sent = 0;
	pthread_t t;

	small_buffers(self->tx, self->rx);
	fill_send_buffer(self->tx);
	set_handler(SIGALRM, SA_RESTART);
	got_signal = 0;
	ASSERT_EQ(0, pthread_create(&t, NULL, read_after_delay, &r));
	arm_timer(200);
	/* Interrupted with nothing queued, restarted, then completes. */
	EXPECT_EQ(0, zc_sendfile(self->dev, self->file, self->tx, 0, MIB, 0, &sent));
	EXPECT_EQ(MIB, sent);
	EXPECT_EQ(1, got_signal);
	shutdown(self->tx, SHUT_WR);
	pthread_join(t, NULL);
}

TEST_F_TIMEOUT(fault, send_timeout, FAULT_TIMEOUT)
{
	struct timeval tv = { .tv_usec = 100 * 1000 };
	uint64_t sent = 1;

	small_buffers(self->tx, self->rx);
	ASSERT_EQ(0, setsockopt(self->tx, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)));
	/* Some fits, then the timeout ends the call with a count. */
	ASSERT_EQ(0, zc_sendfile(self->dev, self->file, self->tx, 0, self->size,
				 0, &sent));
	EXPECT_LT(0, sent);
	EXPECT_GT(self->size, sent);
	/* Nothing fits: EAGAIN. */
	fill_send_buffer(self->tx);
	EXPECT_EQ(-1, zc_sendfile(self->dev, self->file, self->tx, 0, MIB, 0, &sent));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, sent);
}

struct sender_arg {
	int dev, file, sock;
	uint64_t len, sent;
	int ret, err;
};

static void *send_all(void *p)
{
	struct sender_arg *s = p;
	uint64_t sent;

	s->sent = 0;
	while (s->sent < s->len) {
		s->ret = zc_sendfile(s->dev, s->file, s->sock, s->sent,
				     s->len - s->sent, ZCSEND_F_NOSIGNAL, &sent);
		s->err = errno;
		if (s->ret || !sent)
			break;
		s->sent += sent;
	}
	shutdown(s->sock, SHUT_WR);
	return NULL;
}

static uint64_t wait_received(int rx, uint64_t want)
{
	static char buf[65536];
	uint64_t got = 0;
	ssize_t n;

	while (got < want && (n = recv(rx, buf, sizeof(buf), 0)) > 0)
		got += n;
	return got;
}

/*
 * Documented result: the bytes of the file as they are when gathered. A
 * truncation ends the transfer at the new end of file (pages already
 * gathered go out as they are); nothing crashes, nothing leaks.
 */
TEST_F_TIMEOUT(fault, truncate_in_flight, FAULT_TIMEOUT)
{
	struct sender_arg s = {
		.dev = self->dev, .file = self->file, .sock = self->tx,
		.len = self->size,
	};
	uint64_t got;
	pthread_t t;

	small_buffers(self->tx, self->rx);
	ASSERT_EQ(0, pthread_create(&t, NULL, send_all, &s));
	got = wait_received(self->rx, 2 * MIB);
	ASSERT_EQ(0, ftruncate(self->file, MIB));
	got += drain(self->rx);
	pthread_join(t, NULL);
	EXPECT_EQ(s.sent, got);
	EXPECT_LE(2 * MIB, got);
	EXPECT_GT(self->size, got);
}

TEST_F_TIMEOUT(fault, rewrite_in_flight, FAULT_TIMEOUT)
{
	struct sender_arg s = {
		.dev = self->dev, .file = self->file, .sock = self->tx,
		.len = self->size,
	};
	char *buf = calloc(1, MIB);
	uint64_t got, off;
	pthread_t t;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, pthread_create(&t, NULL, send_all, &s));
	got = wait_received(self->rx, MIB);
	for (off = 0; off < self->size; off += MIB)
		ASSERT_EQ(MIB, pwrite(self->file, buf, MIB, off));
	got += drain(self->rx);
	pthread_join(t, NULL);
	free(buf);
	EXPECT_EQ(0, s.ret);
	EXPECT_EQ(self->size, s.sent);
	EXPECT_EQ(self->size, got);
}

/* A child blocked in a send that never completes; returns its pid. */
static pid_t blocked_sender(int *rx_out)
{
	int ready[2], tx, rx, dev, file;
	pid_t pid;
	char c;

	if (pipe(ready) || zcsend_tcp_pair(AF_INET, &tx, &rx, 0))
		return -1;
	small_buffers(tx, rx);
	pid = fork();
	if (pid == 0) {
		dev = open_dev();
		file = make_file(2, 4 * MIB);
		if (dev < 0 || file < 0)
			_exit(1);
		close(rx);
		fill_send_buffer(tx);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		zc_sendfile(dev, file, tx, 0, 4 * MIB, 0, NULL);
		_exit(2);
	}
	close(tx);
	close(ready[1]);
	if (pid < 0 || read(ready[0], &c, 1) != 1) {
		close(ready[0]);
		close(rx);
		return -1;
	}
	close(ready[0]);
	*rx_out = rx;
	return pid;
}

/*
 * The child really sleeps in the send, waiting for buffer space (its state
 * and wait channel), before the test acts on it: else a kill or an rmmod
 * could land before the call started and prove nothing.
 */
#define ASSERT_BLOCKED_IN_SEND(pid)					\
	do {								\
		char _wchan[64];					\
									\
		ASSERT_EQ(0, zcsend_wait_blocked(pid, zcsend_wchans_sndbuf, \
						 60000, _wchan,		\
						 sizeof(_wchan)))	\
			TH_LOG("not blocked in the send: wchan %s", _wchan); \
	} while (0)

TEST_F_TIMEOUT(stress, sender_killed, STRESS_TIMEOUT)
{
	int rx, status;
	pid_t pid;

	pid = blocked_sender(&rx);
	ASSERT_LT(0, pid);
	ASSERT_BLOCKED_IN_SEND(pid);
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(SIGKILL, WTERMSIG(status));
	close(rx);
}

TEST_F_TIMEOUT(stress, rmmod_during_blocked_transfer, STRESS_TIMEOUT)
{
	const char *ko = getenv("ZCSEND_KO");
	int rx, status;
	pid_t pid;

	if (!ko)
		SKIP(return, "ZCSEND_KO not set: cannot load the module again");
	pid = blocked_sender(&rx);
	ASSERT_LT(0, pid);
	ASSERT_BLOCKED_IN_SEND(pid);
	/* The transfer holds the module: unloading is refused. */
	EXPECT_EQ(-1, zcsend_unload_module());
	EXPECT_EQ(EWOULDBLOCK, errno);
	EXPECT_EQ(0, access("/sys/module/zcsend", F_OK));
	/* Unblock it: the transfer ends, then the module may go. */
	drain(rx);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	close(rx);
	ASSERT_EQ(0, zcsend_unload_module())
		TH_LOG("delete_module after the transfer: %m");
	ASSERT_EQ(0, zcsend_load_module(ko)) TH_LOG("finit_module %s: %m", ko);
}

/* Load: one sender with its own file and connection, checked by a reader. */
struct load_arg {
	unsigned int id;
	int seconds;
	int failed;
	uint64_t bytes;
};

struct load_reader {
	int fd;
	unsigned int id;
	size_t size;
	uint64_t got;
	int bad;
};

/* The stream is the file repeated: byte k is file[k % size]. */
static void *load_read(void *p)
{
	struct load_reader *r = p;
	static __thread char buf[65536];
	ssize_t n, i;

	while ((n = recv(r->fd, buf, sizeof(buf), 0)) > 0) {
		for (i = 0; i < n && !r->bad; i++)
			if ((uint8_t)buf[i] != pattern(r->id, (r->got + i) % r->size))
				r->bad = 1;
		r->got += n;
	}
	return NULL;
}

static void *load_send(void *p)
{
	struct load_arg *a = p;
	struct load_reader r = { .id = a->id };
	unsigned int seed = a->id * 7919u;
	uint64_t pos = 0, sent, len;
	int dev, file, tx;
	time_t end;
	pthread_t t;

	r.size = MIB + (a->id * 4099) % 65536;
	dev = open_dev();
	file = make_file(a->id, r.size);
	if (dev < 0 || file < 0 || zcsend_tcp_pair(AF_INET, &tx, &r.fd, 0) ||
	    pthread_create(&t, NULL, load_read, &r)) {
		a->failed = 1;
		return NULL;
	}
	end = time(NULL) + a->seconds;
	while (time(NULL) < end) {
		len = 1 + rand_r(&seed) % (r.size - pos);
		if (zc_sendfile(dev, file, tx, pos, len, 0, &sent) || !sent) {
			a->failed = 1;
			break;
		}
		a->bytes += sent;
		pos = (pos + sent) % r.size;
	}
	shutdown(tx, SHUT_WR);
	pthread_join(t, NULL);
	if (r.bad || r.got != a->bytes)
		a->failed = 1;
	close(tx);
	close(r.fd);
	close(file);
	close(dev);
	return NULL;
}

#define LOAD_SENDERS	32

TEST_F_TIMEOUT(stress, load_32_senders, STRESS_TIMEOUT)
{
	struct load_arg args[LOAD_SENDERS / 2] = { 0 };
	pthread_t threads[LOAD_SENDERS / 2];
	pid_t pids[LOAD_SENDERS / 2];
	const char *env = getenv("ZCSEND_LOAD_SECS");
	int seconds = env ? atoi(env) : 30;
	uint64_t bytes = 0;
	int i, status;

	/* Half the senders are processes... */
	for (i = 0; i < LOAD_SENDERS / 2; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (pids[i] == 0) {
			struct load_arg a = { .id = 100 + i, .seconds = seconds };

			load_send(&a);
			_exit(a.failed || !a.bytes);
		}
	}
	/* ...and half are threads of this one. */
	for (i = 0; i < LOAD_SENDERS / 2; i++) {
		args[i].id = i + 1;
		args[i].seconds = seconds;
		ASSERT_EQ(0, pthread_create(&threads[i], NULL, load_send, &args[i]));
	}
	for (i = 0; i < LOAD_SENDERS / 2; i++) {
		pthread_join(threads[i], NULL);
		EXPECT_EQ(0, args[i].failed) TH_LOG("thread sender %d failed", i);
		EXPECT_LT(0, args[i].bytes);
		bytes += args[i].bytes;
	}
	for (i = 0; i < LOAD_SENDERS / 2; i++) {
		ASSERT_EQ(pids[i], waitpid(pids[i], &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
			TH_LOG("process sender %d failed", i);
	}
	TH_LOG("threads moved %llu bytes in %d s, every byte checked",
	       (unsigned long long)bytes, seconds);
}

static long meminfo_kb(const char *key)
{
	char line[256];
	size_t klen = strlen(key);
	long val = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			val = atol(line + klen + 1);
			break;
		}
	fclose(f);
	return val;
}

static void drop_caches(void)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);

	sync();
	if (fd >= 0) {
		if (write(fd, "3", 1) != 1)
			perror("drop_caches");
		close(fd);
	}
}

/*
 * Free pages parked on the per-CPU lists: MemFree leaves them out, and they
 * swing by tens of MiB between two readings on 6.12 (its lists grow with
 * the free rate). Summed from the "count:" lines of /proc/zoneinfo.
 */
static long pcp_kb(void)
{
	char line[256];
	long pages = 0, n;
	FILE *f = fopen("/proc/zoneinfo", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " count: %ld", &n) == 1)
			pages += n;
	fclose(f);
	return pages * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Free memory plus page cache, after dropping what can be dropped. */
static long settled_kb(void)
{
	drop_caches();
	return meminfo_kb("MemFree") + pcp_kb() + meminfo_kb("Cached");
}

/*
 * settled_kb() once it stops moving: closed sockets and freed pages reach
 * the free lists some time after close(), so read until two readings 200 ms
 * apart agree within 1 MiB, for at most 10 s.
 */
static long stable_kb(void)
{
	long prev = settled_kb(), cur = prev;
	int i;

	for (i = 0; i < 50; i++) {
		usleep(200000);
		cur = settled_kb();
		if (labs(cur - prev) < 1024)
			break;
		prev = cur;
	}
	return cur;
}

/*
 * A leaked page reference keeps a page that is neither free nor cached once
 * its file is gone; 1 GiB through a 64 MiB file would leak up to 64 MiB.
 * Tolerance: 16 MiB, a quarter of that, for slab and socket noise (about
 * 3 MiB seen), measured after a warm-up pass that fills those caches.
 */
#define LEAK_TOLERANCE_KB	(16 * 1024)

/* Send TOTAL bytes, cycling through a FSIZE file, to a reader; close all. */
static void send_cycling(struct __test_metadata *_metadata, uint64_t total,
			 uint64_t fsize)
{
	struct reader_arg r = { .limit = UINT64_MAX };
	uint64_t done = 0, sent;
	int dev, file, tx;
	pthread_t t;

	dev = open_dev();
	ASSERT_LE(0, dev);
	file = make_file(3, fsize);
	ASSERT_LE(0, file);
	ASSERT_EQ(0, zcsend_tcp_pair(AF_INET, &tx, &r.fd, 0));
	ASSERT_EQ(0, pthread_create(&t, NULL, read_then_close, &r));
	while (done < total) {
		ASSERT_EQ(0, zc_sendfile(dev, file, tx, done % fsize,
					 fsize - done % fsize, 0, &sent));
		ASSERT_LT(0, sent);
		done += sent;
	}
	shutdown(tx, SHUT_WR);
	pthread_join(t, NULL);
	EXPECT_EQ(done, r.got);
	close(tx);
	close(file);
	close(dev);
}

TEST_F_TIMEOUT(stress, leak_1gib, STRESS_TIMEOUT)
{
	const uint64_t fsize = 64 * MIB;
	long before, after = 0, cached_before, cached_after;
	int i;

	send_cycling(_metadata, fsize, fsize);
	before = stable_kb();
	cached_before = meminfo_kb("Cached");
	send_cycling(_metadata, 1024 * MIB, fsize);
	/* TCP frees the last pages once ACKed and closed: allow it a moment. */
	for (i = 0; i < 5; i++) {
		after = stable_kb();
		if (before - after < LEAK_TOLERANCE_KB / 4)
			break;
	}
	cached_after = meminfo_kb("Cached");
	TH_LOG("free+pcp+cached before %ld kB, after %ld kB; cached %ld -> %ld kB",
	       before, after, cached_before, cached_after);
	EXPECT_GT(LEAK_TOLERANCE_KB, before - after);
	EXPECT_GT(LEAK_TOLERANCE_KB, cached_after - cached_before);
}

/* Fuzz: random calls; every error must be one the header documents. */
static const int fuzz_errnos[] = {
	EBADF, ESPIPE, EINVAL, EOVERFLOW, E2BIG, EFAULT, ENOTSOCK, EOPNOTSUPP,
	EPIPE,
	ECONNRESET, EAGAIN, EINTR, ENOTTY, EIO,
};

static int errno_documented(int e)
{
	size_t i;

	for (i = 0; i < sizeof(fuzz_errnos) / sizeof(fuzz_errnos[0]); i++)
		if (fuzz_errnos[i] == e)
			return 1;
	return 0;
}

struct fuzz_ctx {
	int fds[16];
	int nfds;
	char *page;		/* a valid page, followed by a PROT_NONE one */
	char *hole;		/* an address with nothing mapped */
	unsigned int seed;
};

static uint64_t fuzz_u64(struct fuzz_ctx *c)
{
	static const uint64_t special[] = {
		0, 1, 4095, 4096, 65536, (uint64_t)INT64_MAX,
		(uint64_t)INT64_MAX + 1, UINT64_MAX, UINT32_MAX,
	};
	unsigned int r = rand_r(&c->seed);

	if (r % 3 == 0)
		return special[r / 3 % (sizeof(special) / sizeof(special[0]))];
	return ((uint64_t)rand_r(&c->seed) << 16 ^ rand_r(&c->seed)) % 131072;
}

static void *fuzz_ptr(struct fuzz_ctx *c, size_t len)
{
	switch (rand_r(&c->seed) % 6) {
	case 0:
		return NULL;
	case 1:
		return c->hole;
	case 2:
		return (void *)0xffffffff81000000UL;	/* kernel text */
	case 3:		/* straddles into the PROT_NONE page */
		return c->page + 4096 - (len > 1 ? len / 2 : 1);
	default:
		return c->page;
	}
}

static int fuzz_fd(struct fuzz_ctx *c)
{
	unsigned int r = rand_r(&c->seed) % (c->nfds + 3);

	if (r < (unsigned int)c->nfds)
		return c->fds[r];
	return r == (unsigned int)c->nfds ? -1 : (int)(r * 1000);
}

static void fuzz_fill(struct fuzz_ctx *c, void *buf, size_t len)
{
	uint8_t *b = buf;
	size_t i;

	for (i = 0; i < len; i++)
		b[i] = rand_r(&c->seed);
}

static unsigned long fuzz_one(struct fuzz_ctx *c, void **argp)
{
	static const uint32_t sizes[] = { 0, 4, ZCSEND_FILE_SIZE_VER0,
		ZCSEND_VEC_SIZE_VER0, 64 + 8, 4096, 4097, UINT32_MAX };
	unsigned int r = rand_r(&c->seed);
	char *arg = c->page;
	unsigned long cmd;

	fuzz_fill(c, arg, 256);
	if (r % 4 == 0) {		/* a plausible SENDFILE */
		struct zcsend_file *f = (void *)arg;

		memset(f, 0, sizeof(*f));
		f->size = r % 8 ? sizeof(*f) : sizes[r / 8 % 8];
		f->flags = r % 5 ? ZCSEND_F_NONBLOCK : (uint32_t)rand_r(&c->seed);
		f->file_fd = fuzz_fd(c);
		f->sock_fd = fuzz_fd(c);
		f->offset = fuzz_u64(c);
		f->length = fuzz_u64(c);
		cmd = ZCSEND_IOC_SENDFILE;
	} else if (r % 4 == 1) {	/* a plausible SENDVEC */
		struct zcsend_vec *v = (void *)arg;
		struct zcsend_seg *s = (void *)(arg + 512);
		unsigned int i, n = rand_r(&c->seed) % 8;

		memset(v, 0, sizeof(*v));
		v->size = r % 8 ? sizeof(*v) : sizes[r / 8 % 8];
		v->flags = r % 5 ? ZCSEND_F_NONBLOCK : (uint32_t)rand_r(&c->seed);
		v->sock_fd = fuzz_fd(c);
		v->nr_segs = r % 16 ? n : (uint32_t)rand_r(&c->seed) % 4096;
		v->segs = (uintptr_t)(r % 7 ? (void *)s : fuzz_ptr(c, n * sizeof(*s)));
		for (i = 0; i < n; i++) {
			memset(&s[i], 0, sizeof(s[i]));
			s[i].type = rand_r(&c->seed) % 4;
			s[i].length = fuzz_u64(c) % 8192;
			if (s[i].type == ZCSEND_SEG_INLINE)
				s[i].addr = (uintptr_t)fuzz_ptr(c, s[i].length);
			else
				s[i].fd = fuzz_fd(c);
			s[i].offset = s[i].type == ZCSEND_SEG_FILE ? fuzz_u64(c) : 0;
		}
		cmd = ZCSEND_IOC_SENDVEC;
	} else if (r % 4 == 2) {	/* the right command, a bad pointer */
		cmd = r & 8 ? ZCSEND_IOC_SENDFILE : ZCSEND_IOC_SENDVEC;
		arg = fuzz_ptr(c, 64);
	} else {			/* any command at all */
		cmd = r % 2 ? _IOC(rand_r(&c->seed) % 4, 'Z', rand_r(&c->seed) % 256,
				   rand_r(&c->seed) % 512)
			    : (unsigned long)rand_r(&c->seed);
		arg = fuzz_ptr(c, 64);
	}
	*argp = arg;
	return cmd;
}

static void *discard_all(void *p)
{
	char buf[65536];
	int fd = *(int *)p;

	while (recv(fd, buf, sizeof(buf), MSG_TRUNC) > 0)
		;
	return NULL;
}

TEST_F_TIMEOUT(stress, fuzz, STRESS_TIMEOUT)
{
	const char *env = getenv("ZCSEND_FUZZ_CALLS");
	long calls = env ? atol(env) : 100000, i, ok = 0;
	struct fuzz_ctx c = { .seed = 12345 };
	struct timeval tv = { .tv_usec = 1000 };
	int dev, tx, rx, udp, p[2], efd, dir, wr, unconn;
	long before, after;
	pthread_t t;
	void *arg;

	/*
	 * Fuzzed flags may lack ZCSEND_F_NOSIGNAL, and an unconnected TCP
	 * socket answers EPIPE with SIGPIPE, as it does for sendfile(2).
	 */
	signal(SIGPIPE, SIG_IGN);
	before = stable_kb();
	dev = open_dev();
	ASSERT_LE(0, dev);
	ASSERT_EQ(0, zcsend_tcp_pair(AF_INET, &tx, &rx, 0));
	ASSERT_EQ(0, setsockopt(tx, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)));
	ASSERT_EQ(0, pthread_create(&t, NULL, discard_all, &rx));
	ASSERT_EQ(0, pipe(p));
	udp = socket(AF_INET, SOCK_DGRAM, 0);
	unconn = socket(AF_INET, SOCK_STREAM, 0);
	efd = eventfd(0, 0);
	dir = open("/tmp", O_RDONLY | O_DIRECTORY);
	wr = open("/tmp/zcsend-fuzz-wr", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	c.fds[c.nfds++] = make_file(4, 70000);
	c.fds[c.nfds++] = make_file(5, 3);
	c.fds[c.nfds++] = tx;
	c.fds[c.nfds++] = tx;
	c.fds[c.nfds++] = udp;
	c.fds[c.nfds++] = unconn;
	c.fds[c.nfds++] = p[0];
	c.fds[c.nfds++] = p[1];
	c.fds[c.nfds++] = efd;
	c.fds[c.nfds++] = dir;
	c.fds[c.nfds++] = wr;
	c.fds[c.nfds++] = dev;
	c.page = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, c.page);
	ASSERT_EQ(0, mprotect(c.page + 4096, 4096, PROT_NONE));
	c.hole = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, c.hole);
	ASSERT_EQ(0, munmap(c.hole, 4096));

	for (i = 0; i < calls; i++) {
		unsigned long cmd = fuzz_one(&c, &arg);

		if (ioctl(dev, cmd, arg) == 0) {
			ok++;
			continue;
		}
		ASSERT_TRUE(errno_documented(errno))
			TH_LOG("call %ld: cmd %#lx: undocumented errno %d (%s)",
			       i, cmd, errno, strerror(errno));
	}
	TH_LOG("%ld calls, %ld succeeded", calls, ok);

	/* Still correct afterwards. */
	{
		int rx2, tx2, f = make_file(6, 3 * MIB + 7);
		uint64_t sent, got;
		struct sender_arg s = {
			.dev = dev, .file = f, .sock = -1, .len = 3 * MIB + 7,
		};
		pthread_t st;

		ASSERT_EQ(0, zcsend_tcp_pair(AF_INET, &tx2, &rx2, 0));
		s.sock = tx2;
		ASSERT_EQ(0, pthread_create(&st, NULL, send_all, &s));
		EXPECT_EQ(0, drain_check(rx2, 6, 0, &got));
		pthread_join(st, NULL);
		sent = s.sent;
		EXPECT_EQ(3 * MIB + 7, sent);
		EXPECT_EQ(sent, got);
		close(tx2);
		close(rx2);
		close(f);
	}
	shutdown(tx, SHUT_RDWR);
	pthread_join(t, NULL);
	for (i = 0; i < c.nfds; i++)
		if (c.fds[i] != tx)
			close(c.fds[i]);
	close(tx);
	close(rx);
	unlink("/tmp/zcsend-fuzz-wr");
	munmap(c.page, 8192);
	after = stable_kb();
	TH_LOG("free+pcp+cached before %ld kB, after %ld kB", before, after);
	EXPECT_GT(LEAK_TOLERANCE_KB, before - after);
}

ZCSEND_TEST_MAIN
