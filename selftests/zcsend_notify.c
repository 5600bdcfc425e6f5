// SPDX-License-Identifier: GPL-2.0
/*
 * Release notifications (ZCSEND_F_NOTIFY) over loopback TCP: read with a
 * reader written for MSG_ZEROCOPY (recvmsg(MSG_ERRQUEUE), a struct
 * sock_extended_err of origin SO_EE_ORIGIN_ZEROCOPY, ids ee_info..ee_data).
 *
 * What loopback does, and so what is asserted: the receiving side copies
 * every skb that carries the file's pages (skb_orphan_frags_rx), so the
 * pages are free once the sender's TCP has freed its own skbs, that is once
 * all the call's bytes are acknowledged: the receiver need not read them.
 * So a paused receiver withholds the notification only while its full
 * window keeps bytes in the sender's queue (SIOCOUTQ > 0), and the code is
 * always SO_EE_CODE_ZEROCOPY_COPIED. The notification never comes while
 * SIOCOUTQ is above 0 (bytes not acknowledged are still held by skbs).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/errqueue.h>
#include <linux/sockios.h>
#include <linux/tls.h>
#include <linux/zcsend.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "zcsend_test.h"

#ifndef SO_EE_ORIGIN_ZEROCOPY
#define SO_EE_ORIGIN_ZEROCOPY	5
#endif
#ifndef SO_ZEROCOPY
#define SO_ZEROCOPY		60
#endif
#ifndef MSG_ZEROCOPY
#define MSG_ZEROCOPY		0x4000000
#endif

#define KIB		1024
#define MIB		(1024 * 1024)
#define WAIT_MS		5000	/* for a notification that must come */
#define QUIET_MS	300	/* for one that must not */

static void fill_pattern(unsigned char *buf, size_t len, uint32_t seed)
{
	size_t i;

	for (i = 0; i < len; i++) {
		seed = seed * 1103515245 + 12345;
		buf[i] = seed >> 16;
	}
}

static int zc_sendfile(int dev, int file_fd, int sock_fd, uint64_t off,
		       uint64_t len, uint32_t flags, uint64_t *sent)
{
	struct zcsend_file a = {
		.size = sizeof(a), .flags = flags, .file_fd = file_fd,
		.sock_fd = sock_fd, .offset = off, .length = len,
	};

	if (ioctl(dev, ZCSEND_IOC_SENDFILE, &a))
		return -errno;
	if (sent)
		*sent = a.sent;
	return 0;
}

static int zc_sendvec(int dev, int sock_fd, struct zcsend_seg *segs,
		      uint32_t nr, uint32_t flags, uint64_t *sent)
{
	struct zcsend_vec v = {
		.size = sizeof(v), .flags = flags, .sock_fd = sock_fd,
		.nr_segs = nr, .segs = (uintptr_t)segs,
	};

	if (ioctl(dev, ZCSEND_IOC_SENDVEC, &v))
		return -errno;
	if (sent)
		*sent = v.sent;
	return 0;
}

/* Whether a completion is queued within @ms, without reading it. */
static int zc_pending(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = 0 };

	return poll(&p, 1, ms) == 1 && (p.revents & POLLERR);
}

/* Bytes the sender's TCP still holds: sent but unacknowledged, or unsent. */
static int outq(int fd)
{
	int n = -1;

	ioctl(fd, SIOCOUTQ, &n);
	return n;
}

/* Read exactly @len bytes from @fd into @buf: 0, or -1. */
static int read_full(int fd, unsigned char *buf, size_t len)
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

FIXTURE(notify) {
	int dev;
	int file;
	unsigned char *data;
	size_t size;
	int cli, srv;
};

FIXTURE_VARIANT(notify) {
	int family;
};

FIXTURE_VARIANT_ADD(notify, ipv4) { .family = AF_INET };
FIXTURE_VARIANT_ADD(notify, ipv6) { .family = AF_INET6 };

FIXTURE_SETUP(notify)
{
	self->size = 4 * MIB;
	self->data = malloc(self->size);
	ASSERT_NE(NULL, self->data);
	fill_pattern(self->data, self->size, 7);
	self->file = zcsend_make_file(NULL, self->data, self->size);
	ASSERT_LE(0, self->file);
	self->dev = open(ZCSEND_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev);
	/* 64 KiB buffers: a paused receiver's window fills quickly. */
	ASSERT_EQ(0, zcsend_tcp_pair(variant->family, &self->cli, &self->srv,
				     64 * KIB));
}

FIXTURE_TEARDOWN(notify)
{
	close(self->cli);
	close(self->srv);
	close(self->dev);
	close(self->file);
	free(self->data);
}

/* Unknown flags are still refused, by both ioctls. */
TEST_F(notify, unknown_flags)
{
	struct zcsend_seg s = { .type = ZCSEND_SEG_FILE, .fd = self->file,
				.length = 1 };

	EXPECT_EQ(-EINVAL, zc_sendfile(self->dev, self->file, self->cli, 0, 1,
				       ZCSEND_F_NOTIFY | 0x40, NULL));
	EXPECT_EQ(-EINVAL, zc_sendfile(self->dev, self->file, self->cli, 0, 1,
				       ZCSEND_F_NOTIFY | 1U << 31, NULL));
	EXPECT_EQ(-EINVAL, zc_sendvec(self->dev, self->cli, &s, 1,
				      ZCSEND_F_NOTIFY | 0x40, NULL));
	EXPECT_EQ(-EINVAL, zc_sendfile(self->dev, self->file, self->cli, 0, 1,
				       ZCSEND_F_DROP | 0x40, NULL));
	EXPECT_EQ(-EINVAL, zc_sendvec(self->dev, self->cli, &s, 1,
				      ZCSEND_F_DROP | ZCSEND_F_NOTIFY | 0x80,
				      NULL));
	/* Refused calls take no id and notify nothing. */
	EXPECT_EQ(-1, recv(self->cli, NULL, 0, MSG_ERRQUEUE | MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
}

/*
 * A small call fits the receiver's window: its notification comes although
 * the receiver has read nothing (loopback copied the bytes into its
 * receive queue), with id 0 and the COPIED code; the bytes arrive intact.
 */
TEST_F(notify, copied_on_loopback)
{
	unsigned char *got = malloc(16 * KIB);
	struct zc_note n;
	uint64_t sent = 0;

	ASSERT_NE(NULL, got);
	ASSERT_EQ(0, zc_sendfile(self->dev, self->file, self->cli, 4096,
				 16 * KIB, ZCSEND_F_NOTIFY, &sent));
	ASSERT_EQ(16 * KIB, sent);
	ASSERT_EQ(1, zc_wait_note(self->cli, &n, WAIT_MS));
	EXPECT_EQ(0, n.lo);
	EXPECT_EQ(0, n.hi);
	EXPECT_EQ(1, n.copied);
	EXPECT_EQ(0, outq(self->cli));
	ASSERT_EQ(0, read_full(self->srv, got, 16 * KIB));
	EXPECT_EQ(0, memcmp(got, self->data + 4096, 16 * KIB));
	EXPECT_EQ(0, zc_read_note(self->cli, &n));	/* exactly one */
	free(got);
}

/*
 * A call larger than the paused receiver's window: no notification while
 * bytes wait in the sender's queue; it comes as the receiver reads, never
 * while SIOCOUTQ is above 0. At the notification the file is rewritten:
 * the receiver still gets the bytes as they were when sent.
 */
TEST_F(notify, held_until_acked)
{
	size_t len = 2 * MIB, done = 0;
	unsigned char *got = malloc(len);
	unsigned char *junk = malloc(len);
	int noted = 0, ret;
	struct zc_note n;
	uint64_t sent = 0;

	ASSERT_NE(NULL, got);
	ASSERT_NE(NULL, junk);
	memset(junk, 0xa5, len);
	/* Non-blocking: as much as the send buffer takes now. */
	ASSERT_EQ(0, zc_sendfile(self->dev, self->file, self->cli, 0, len,
				 ZCSEND_F_NOTIFY | ZCSEND_F_NONBLOCK, &sent));
	ASSERT_LT(0, sent);
	ASSERT_GT(len, sent);
	ASSERT_LT(0, outq(self->cli));

	/* The receiver sleeps: nothing comes. */
	EXPECT_EQ(0, zc_pending(self->cli, QUIET_MS));
	EXPECT_LT(0, outq(self->cli));

	while (done < sent) {
		size_t chunk = sent - done < 8 * KIB ? sent - done : 8 * KIB;

		if (!noted) {
			ret = zc_read_note(self->cli, &n);
			ASSERT_LE(0, ret);
			if (ret) {
				noted = 1;
				/* Every byte was acknowledged first. */
				EXPECT_EQ(0, outq(self->cli));
				ASSERT_EQ(0, zcsend_pwrite_all(self->file, junk,
							       len, 0));
			}
		}
		ASSERT_EQ(0, read_full(self->srv, got + done, chunk));
		done += chunk;
	}
	if (!noted) {
		ASSERT_EQ(1, zc_wait_note(self->cli, &n, WAIT_MS));
		EXPECT_EQ(0, outq(self->cli));
	}
	EXPECT_EQ(0, n.lo);
	EXPECT_EQ(0, n.hi);
	EXPECT_EQ(1, n.copied);
	EXPECT_EQ(0, memcmp(got, self->data, sent));
	free(junk);
	free(got);
}

/* Completions over ids @first..@last: all of them, in order, each once. */
static int collect_ids(int fd, uint32_t first, uint32_t last, int *notes)
{
	uint32_t next = first;
	struct zc_note n;

	*notes = 0;
	while (next <= last) {
		if (zc_wait_note(fd, &n, WAIT_MS) != 1)
			return -1;
		(*notes)++;
		if (n.lo != next || n.hi < n.lo || n.hi > last)
			return -1;
		next = n.hi + 1;
	}
	return zc_read_note(fd, &n) == 0 ? 0 : -1;
}

/*
 * Ids as MSG_ZEROCOPY numbers them: one per call that queues bytes, in
 * order, shared with the socket's own send(MSG_ZEROCOPY); calls that queue
 * nothing (length 0, a full non-blocking socket) take none. Completions
 * queued before the reader looks merge into one range.
 */
TEST_F(notify, ids_and_ranges)
{
	struct zcsend_seg s[2] = {
		{ .type = ZCSEND_SEG_INLINE, .length = 10 },
		{ .type = ZCSEND_SEG_FILE, .fd = self->file, .offset = 100,
		  .length = 5000 },
	};
	static unsigned char user[4096];
	size_t want = 0;
	unsigned char *got;
	int one = 1, notes;
	uint64_t sent = 0;
	uint32_t i;

	s[0].addr = (uintptr_t)user;
	memset(user, 'u', sizeof(user));
	ASSERT_EQ(0, setsockopt(self->cli, SOL_SOCKET, SO_ZEROCOPY, &one,
				sizeof(one)));
	/* Ids 0-2: three SENDFILE calls, then a call of 0 bytes (no id). */
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, zc_sendfile(self->dev, self->file, self->cli,
					 i * 4096, 4096, ZCSEND_F_NOTIFY,
					 &sent));
		ASSERT_EQ(4096, sent);
		want += sent;
	}
	ASSERT_EQ(0, zc_sendfile(self->dev, self->file, self->cli, 0, 0,
				 ZCSEND_F_NOTIFY, &sent));
	/* Id 3: the socket's own MSG_ZEROCOPY send. */
	ASSERT_EQ(sizeof(user), send(self->cli, user, sizeof(user),
				     MSG_ZEROCOPY));
	want += sizeof(user);
	/* Id 4: SENDVEC, an inline header and a file segment. */
	ASSERT_EQ(0, zc_sendvec(self->dev, self->cli, s, 2, ZCSEND_F_NOTIFY,
				&sent));
	ASSERT_EQ(5010, sent);
	want += sent;

	got = malloc(want + 1);
	ASSERT_NE(NULL, got);
	ASSERT_EQ(0, read_full(self->srv, got, want));
	ASSERT_EQ(0, collect_ids(self->cli, 0, 4, &notes));
	TH_LOG("ids 0-4 in %d completion(s)", notes);
	EXPECT_EQ(0, memcmp(got, self->data, 3 * 4096));
	EXPECT_EQ(0, memcmp(got + 3 * 4096, user, sizeof(user)));
	EXPECT_EQ(0, memcmp(got + 4 * 4096, user, 10));
	EXPECT_EQ(0, memcmp(got + 4 * 4096 + 10, self->data + 100, 5000));
	free(got);

	/*
	 * Non-blocking calls until one finds the socket full: each that
	 * queued bytes took an id (5, 6, ...), the one that got EAGAIN none.
	 */
	for (want = 0, i = 5;; i++) {
		int ret = zc_sendfile(self->dev, self->file, self->cli, want,
				      self->size - want, ZCSEND_F_NOTIFY |
				      ZCSEND_F_NONBLOCK, &sent);

		if (ret == -EAGAIN)
			break;
		ASSERT_EQ(0, ret);
		ASSERT_LT(0, sent);
		want += sent;
		ASSERT_GT(self->size, want);
	}
	got = malloc(want);
	ASSERT_NE(NULL, got);
	ASSERT_EQ(0, read_full(self->srv, got, want));
	EXPECT_EQ(0, memcmp(got, self->data, want));
	/* The next call takes the next id. */
	ASSERT_EQ(0, zc_sendfile(self->dev, self->file, self->cli, 0, 4096,
				 ZCSEND_F_NOTIFY, NULL));
	ASSERT_EQ(0, read_full(self->srv, got, 4096));
	ASSERT_EQ(0, collect_ids(self->cli, 5, i, &notes));
	TH_LOG("ids 5-%u in %d completion(s)", i, notes);
	free(got);
}

/*
 * A blocking call much larger than the socket buffer makes many sends into
 * TCP, some of which find the socket full (on 6.1 TCP then takes the id
 * back, and the module takes it again): still one id, one notification,
 * once everything was read, and the next call gets the next id.
 */
TEST_F(notify, one_id_per_blocking_call)
{
	int notes, st;
	uint64_t sent = 0;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		size_t got;

		close(self->cli);
		_exit(zcsend_recv_compare(self->srv, self->data, self->size,
					  &got));
	}
	ASSERT_EQ(0, zc_sendfile(self->dev, self->file, self->cli, 0,
				 self->size / 2, ZCSEND_F_NOTIFY, &sent));
	ASSERT_EQ(self->size / 2, sent);
	ASSERT_EQ(0, zc_sendfile(self->dev, self->file, self->cli, sent,
				 self->size - sent, ZCSEND_F_NOTIFY, &sent));
	ASSERT_EQ(self->size / 2, sent);
	ASSERT_EQ(0, shutdown(self->cli, SHUT_WR));
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_EQ(0, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	EXPECT_EQ(0, collect_ids(self->cli, 0, 1, &notes));
}

/* Drop CAP_IPC_LOCK from this process's effective set: 0, or -1. */
static int drop_ipc_lock(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -1;
	d[CAP_IPC_LOCK / 32].effective &= ~(1U << (CAP_IPC_LOCK % 32));
	return syscall(SYS_capset, &h, d);
}

/*
 * Pending bytes are charged to RLIMIT_MEMLOCK (without CAP_IPC_LOCK):
 * past it, ENOBUFS and no id; without the flag the same call sends.
 */
TEST_F(notify, memlock_limit)
{
	struct rlimit rl = { 0, 0 };
	struct zc_note n;
	int st;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		uint64_t sent = 0;

		if (drop_ipc_lock() || setrlimit(RLIMIT_MEMLOCK, &rl))
			_exit(10);
		if (zc_sendfile(self->dev, self->file, self->cli, 0, 4096,
				ZCSEND_F_NOTIFY, NULL) != -ENOBUFS)
			_exit(11);
		if (zc_sendfile(self->dev, self->file, self->cli, 0, 4096, 0,
				&sent) || sent != 4096)
			_exit(12);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	ASSERT_EQ(0, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	/* The refused call took no id: the next one is 0. */
	ASSERT_EQ(0, zc_sendfile(self->dev, self->file, self->cli, 4096, 4096,
				 ZCSEND_F_NOTIFY, NULL));
	ASSERT_EQ(1, zc_wait_note(self->cli, &n, WAIT_MS));
	EXPECT_EQ(0, n.lo);
	EXPECT_EQ(0, n.hi);
}

/*
 * Notifications pending when the socket is closed, or when the process
 * that sent is killed: the stack frees them with the socket (no leak for
 * kmemleak, and the module unloads after the suite, which vm-run checks).
 */
TEST_F(notify, pending_at_close_and_kill)
{
	int cli2, srv2, st;
	uint64_t sent = 0;
	pid_t pid;

	ASSERT_EQ(0, zc_sendfile(self->dev, self->file, self->cli, 0, MIB,
				 ZCSEND_F_NOTIFY | ZCSEND_F_NONBLOCK, &sent));
	ASSERT_LT(0, outq(self->cli));
	close(self->cli);
	self->cli = -1;

	ASSERT_EQ(0, zcsend_tcp_pair(variant->family, &cli2, &srv2, 64 * KIB));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/*
		 * Blocks on the paused receiver, holding a call's pages; with
		 * ZCSEND_F_DROP too, its drop (a file reference and a module
		 * reference) is pending when it dies: the module must still
		 * unload once the socket is gone (vm-run's rmmod).
		 */
		zc_sendfile(self->dev, self->file, cli2, 0, 4 * MIB,
			    ZCSEND_F_NOTIFY | ZCSEND_F_DROP, NULL);
		_exit(1);
	}
	close(cli2);
	{
		char wchan[64];

		EXPECT_EQ(0, zcsend_wait_blocked(pid, zcsend_wchans_sndbuf,
						 WAIT_MS, wchan,
						 sizeof(wchan)));
	}
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_TRUE(WIFSIGNALED(st));
	close(srv2);
}

/* kTLS clears SOCK_SUPPORT_ZC: the flag is refused with EOPNOTSUPP. */
TEST_F(notify, ktls_refused)
{
	struct tls12_crypto_info_aes_gcm_128 ci = {
		.info.version = TLS_1_2_VERSION,
		.info.cipher_type = TLS_CIPHER_AES_GCM_128,
	};
	uint64_t sent = 0;

	/* Debian builds tls as a module; TCP_ULP would also load it. */
	if (system("modprobe tls 2>/dev/null"))
		TH_LOG("modprobe tls failed; relying on TCP_ULP autoload");
	if (setsockopt(self->cli, IPPROTO_TCP, TCP_ULP, "tls", sizeof("tls")))
		SKIP(return, "no kTLS: %s", strerror(errno));
	ASSERT_EQ(0, setsockopt(self->cli, SOL_TLS, TLS_TX, &ci, sizeof(ci)));
	EXPECT_EQ(-EOPNOTSUPP, zc_sendfile(self->dev, self->file, self->cli,
					   0, 4096, ZCSEND_F_NOTIFY, NULL));
	EXPECT_EQ(-EOPNOTSUPP, zc_sendfile(self->dev, self->file, self->cli,
					   0, 4096, ZCSEND_F_DROP, NULL));
	EXPECT_EQ(-EOPNOTSUPP, zc_sendfile(self->dev, self->file, self->cli,
					   0, 4096,
					   ZCSEND_F_DROP | ZCSEND_F_NOTIFY,
					   NULL));
	/* The same call without the flag sends. */
	EXPECT_EQ(0, zc_sendfile(self->dev, self->file, self->cli, 0, 4096, 0,
				 &sent));
	EXPECT_EQ(4096, sent);
}

/*
 * ZCSEND_F_DROP on ext4 over a loop device (tmpfs pages are never dropped:
 * they are the only copy). One file system for every check (mkfs is slow
 * under TCG). The file is 1 MiB + 100 bytes: its last page is partial.
 */
#define PG		4096
#define DFILE_SIZE	(MIB + 100)
#define DFILE_PAGES	((DFILE_SIZE + PG - 1) / PG)

FIXTURE(drop) {
	char dir[64];
	char mnt[80];
	int mounted;
	int dev, fd, cli, srv;
	unsigned char *data;
	unsigned char *got;
};

FIXTURE_SETUP(drop)
{
	char path[128];

	self->fd = self->cli = self->srv = self->dev = -1;
	snprintf(self->dir, sizeof(self->dir), "/tmp/zcsend-drop.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->mnt, sizeof(self->mnt), "%s/mnt", self->dir);
	if (zcsend_run("modprobe loop && mkdir -p %s && "
		       "truncate -s 16M %s/img && "
		       "mkfs.ext4 -q -F %s/img >/dev/null 2>&1 && "
		       "losetup --find --show %s/img > %s/loopdev && "
		       "mount -t ext4 $(cat %s/loopdev) %s", self->mnt,
		       self->dir, self->dir, self->dir, self->dir, self->dir,
		       self->mnt))
		SKIP(return, "cannot mount ext4 on a loop device");
	self->mounted = 1;
	self->data = malloc(DFILE_SIZE);
	self->got = malloc(DFILE_SIZE);
	ASSERT_NE(NULL, self->data);
	ASSERT_NE(NULL, self->got);
	fill_pattern(self->data, DFILE_SIZE, 11);
	snprintf(path, sizeof(path), "%s/f", self->mnt);
	self->fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, zcsend_pwrite_all(self->fd, self->data, DFILE_SIZE, 0));
	ASSERT_EQ(0, fsync(self->fd));
	self->dev = open(ZCSEND_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev);
	/* Room for every send: the notification needs no reader. */
	ASSERT_EQ(0, zcsend_tcp_pair(AF_INET, &self->cli, &self->srv,
				     4 * MIB));
}

FIXTURE_TEARDOWN(drop)
{
	close(self->cli);
	close(self->srv);
	close(self->dev);
	close(self->fd);
	free(self->data);
	free(self->got);
	if (self->mounted)
		zcsend_run("umount %s && losetup -d $(cat %s/loopdev)",
			   self->mnt, self->dir);
	zcsend_run("rm -rf %s", self->dir);
}

/* Pages of @fd's [@pg, @pg + @n) in the page cache (mincore). */
static int cached(int fd, size_t pg, size_t n)
{
	unsigned char vec[DFILE_PAGES];
	int count = 0;
	size_t i;
	void *p;

	p = mmap(NULL, DFILE_PAGES * PG, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -1;
	if (mincore(p, DFILE_PAGES * PG, vec))
		count = -1;
	for (i = pg; count >= 0 && i < pg + n; i++)
		count += vec[i] & 1;
	munmap(p, DFILE_PAGES * PG);
	return count;
}

/* Say which pages of [@pg, @pg + @n) are cached (for a failure). */
static void log_cached(struct __test_metadata *_metadata, int fd, size_t pg,
		       size_t n)
{
	char list[256] = "";
	size_t i, len = 0;

	for (i = pg; i < pg + n && len < sizeof(list) - 8; i++)
		if (cached(fd, i, 1) == 1)
			len += snprintf(list + len, sizeof(list) - len,
					" %zu", i);
	TH_LOG("cached pages:%s", list);
}

/* Evict the whole file, then read [@off, @off + @len) back in. */
static int recache(int fd, off_t off, size_t len, unsigned char *buf)
{
	if (posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED))
		return -1;
	if (cached(fd, 0, DFILE_PAGES))
		return -1;
	return pread(fd, buf, len, off) == (ssize_t)len ? 0 : -1;
}

/*
 * Send [@off, @off + @len) with DROP | NOTIFY, wait for the notification
 * (id @id), and check the bytes the receiver got.
 */
static void drop_send(struct __test_metadata *_metadata,
		      FIXTURE_DATA(drop) *self, off_t off, size_t len,
		      uint32_t id)
{
	struct zc_note n;
	uint64_t sent = 0;

	ASSERT_EQ(0, zc_sendfile(self->dev, self->fd, self->cli, off, len,
				 ZCSEND_F_DROP | ZCSEND_F_NOTIFY, &sent));
	ASSERT_EQ(len, sent);
	/* The window may be smaller than the range (net.core.rmem_max). */
	ASSERT_EQ(0, read_full(self->srv, self->got, len));
	EXPECT_EQ(0, memcmp(self->got, self->data + off, len));
	ASSERT_EQ(1, zc_wait_note(self->cli, &n, WAIT_MS));
	EXPECT_EQ(id, n.lo);
	EXPECT_EQ(id, n.hi);
	EXPECT_EQ(1, n.copied);
}

/*
 * After the notification the sent range is out of the cache, to whole
 * pages inward (as POSIX_FADV_DONTNEED), and the rest of the file is not.
 * The range is read cold just before the send, as a streaming server's
 * is: its last pages are still in a CPU's LRU batch when it is sent.
 */
TEST_F_TIMEOUT(drop, sent_range, 300)
{
	char buf[64];

	/* Whole pages 16..143. */
	ASSERT_EQ(0, recache(self->fd, 0, DFILE_SIZE, self->got));
	ASSERT_EQ(DFILE_PAGES, cached(self->fd, 0, DFILE_PAGES));
	drop_send(_metadata, self, 16 * PG, 128 * PG, 0);
	EXPECT_EQ(0, cached(self->fd, 16, 128))
		log_cached(_metadata, self->fd, 16, 128);
	EXPECT_EQ(16, cached(self->fd, 0, 16));
	EXPECT_EQ(DFILE_PAGES - 144, cached(self->fd, 144, DFILE_PAGES - 144));

	/* Unaligned: pages 161..163 are whole in it, 160 and 164 are not. */
	drop_send(_metadata, self, 160 * PG + 100, 4 * PG, 1);
	EXPECT_EQ(1, cached(self->fd, 160, 1));
	EXPECT_EQ(0, cached(self->fd, 161, 3));
	EXPECT_EQ(1, cached(self->fd, 164, 1));

	/* Up to end of file: the partial last page goes too. */
	drop_send(_metadata, self, 200 * PG + 5, DFILE_SIZE - 200 * PG - 5,
		  2);
	EXPECT_EQ(1, cached(self->fd, 200, 1));
	EXPECT_EQ(0, cached(self->fd, 201, DFILE_PAGES - 201));
	EXPECT_EQ(DFILE_PAGES - 128 - 3 - (DFILE_PAGES - 201),
		  cached(self->fd, 0, DFILE_PAGES));

	/* DROP alone: dropped the same way, with no notification. */
	ASSERT_EQ(0, recache(self->fd, 0, 64 * PG, self->got));
	ASSERT_EQ(0, zc_sendfile(self->dev, self->fd, self->cli, 0, 64 * PG,
				 ZCSEND_F_DROP, NULL));
	ASSERT_EQ(0, read_full(self->srv, self->got, 64 * PG));
	EXPECT_EQ(0, memcmp(self->got, self->data, 64 * PG));
	{
		int i;

		for (i = 0; i < 100 && cached(self->fd, 0, 64); i++)
			usleep(20000);
	}
	EXPECT_EQ(0, cached(self->fd, 0, 64));
	EXPECT_EQ(-1, recv(self->cli, buf, 0, MSG_ERRQUEUE | MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
}

/* SENDVEC: each file segment's range, with inline bytes between. */
TEST_F_TIMEOUT(drop, sendvec, 300)
{
	static const char hdr[] = "HTTP/1.1 200 OK\r\n\r\n";
	struct zcsend_seg s[3] = {
		{ .type = ZCSEND_SEG_INLINE, .addr = (uintptr_t)hdr,
		  .length = sizeof(hdr) - 1 },
		{ .type = ZCSEND_SEG_FILE, .fd = self->fd, .offset = 0,
		  .length = 32 * PG },
		{ .type = ZCSEND_SEG_FILE, .fd = self->fd, .offset = 100 * PG,
		  .length = 8 * PG },
	};
	size_t len = sizeof(hdr) - 1 + 40 * PG;
	struct zc_note n;
	uint64_t sent = 0;

	ASSERT_EQ(0, recache(self->fd, 0, DFILE_SIZE, self->got));
	ASSERT_EQ(0, zc_sendvec(self->dev, self->cli, s, 3,
				ZCSEND_F_DROP | ZCSEND_F_NOTIFY, &sent));
	ASSERT_EQ(len, sent);
	ASSERT_EQ(0, read_full(self->srv, self->got, len));
	EXPECT_EQ(0, memcmp(self->got + sizeof(hdr) - 1, self->data, 32 * PG));
	ASSERT_EQ(1, zc_wait_note(self->cli, &n, WAIT_MS));
	EXPECT_EQ(0, n.lo);
	EXPECT_EQ(0, n.hi);
	EXPECT_EQ(0, cached(self->fd, 0, 32));
	EXPECT_EQ(0, cached(self->fd, 100, 8));
	EXPECT_EQ(DFILE_PAGES - 40, cached(self->fd, 0, DFILE_PAGES));
}

/*
 * Busy pages are left: dirty ones (written, not synced) and ones another
 * mapping has touched; the clean, unmapped rest of the range goes.
 */
TEST_F_TIMEOUT(drop, dirty_and_mapped_left, 300)
{
	unsigned char *m;
	volatile unsigned char sum = 0;
	int i;

	ASSERT_EQ(0, recache(self->fd, 0, DFILE_SIZE, self->got));
	/* Pages 10..13 dirty, with new bytes the receiver must get. */
	fill_pattern(self->data + 10 * PG, 4 * PG, 99);
	ASSERT_EQ(0, zcsend_pwrite_all(self->fd, self->data + 10 * PG,
				       4 * PG, 10 * PG));
	/* Pages 40..47 mapped and touched. */
	m = mmap(NULL, 8 * PG, PROT_READ, MAP_SHARED, self->fd, 40 * PG);
	ASSERT_NE(MAP_FAILED, m);
	for (i = 0; i < 8; i++)
		sum += m[i * PG];
	drop_send(_metadata, self, 0, 64 * PG, 0);
	EXPECT_EQ(4, cached(self->fd, 10, 4));
	EXPECT_EQ(8, cached(self->fd, 40, 8));
	EXPECT_EQ(12, cached(self->fd, 0, 64));
	munmap(m, 8 * PG);
	(void)sum;
}

/*
 * Under overlayfs the pages are the lower file's (the overlay's own mapping
 * stays empty): they are dropped there.
 */
TEST_F_TIMEOUT(drop, overlay, 300)
{
	char ovl[96], path[128];
	struct zc_note n;
	uint64_t sent = 0;
	int fd;

	snprintf(ovl, sizeof(ovl), "%s/ovl", self->dir);
	ASSERT_EQ(0, zcsend_run("mkdir -p %s %s/lower %s/upper %s/work && "
				"ln %s/f %s/lower/f && mount -t overlay overlay "
				"-o lowerdir=%s/lower,upperdir=%s/upper,"
				"workdir=%s/work %s", ovl, self->mnt,
				self->mnt, self->mnt, self->mnt, self->mnt,
				self->mnt, self->mnt, self->mnt, ovl));
	snprintf(path, sizeof(path), "%s/f", ovl);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, recache(self->fd, 0, DFILE_SIZE, self->got));
	ASSERT_EQ(0, zc_sendfile(self->dev, fd, self->cli, 0, 64 * PG,
				 ZCSEND_F_DROP | ZCSEND_F_NOTIFY, &sent));
	ASSERT_EQ(64 * PG, sent);
	ASSERT_EQ(0, read_full(self->srv, self->got, 64 * PG));
	EXPECT_EQ(0, memcmp(self->got, self->data, 64 * PG));
	ASSERT_EQ(1, zc_wait_note(self->cli, &n, WAIT_MS));
	EXPECT_EQ(0, cached(self->fd, 0, 64))
		log_cached(_metadata, self->fd, 0, 64);
	EXPECT_EQ(DFILE_PAGES - 64, cached(self->fd, 0, DFILE_PAGES));
	close(fd);
	zcsend_run("umount %s", ovl);
}

ZCSEND_TEST_MAIN
