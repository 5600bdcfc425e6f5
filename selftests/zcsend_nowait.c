// SPDX-License-Identifier: GPL-2.0
/*
 * ZCSEND_F_NOWAIT (issue 22): only what the page cache holds is sent.
 *
 *   disk.nowait	on ext4 (all parts, in order) and on XFS and Btrfs
 *			(ranges), each on the slow disk:
 *     ranges		a cached range goes out whole, a partly cached one up
 *			to the end of its cached prefix (also from an unaligned
 *			offset, and up to end of file), an uncached one fails
 *			with EBUSY and starts readahead; bytes identical,
 *			exact counter deltas; O_DIRECT is EOPNOTSUPP
 *     not_waited	with a 1 s delay per read: EBUSY comes back while the
 *			readahead is still in flight (the pages are not
 *			resident right after the call), and the range becomes
 *			resident without another call
 *     vec		ZCSEND_IOC_SENDVEC stops at the segment that misses
 *     overlay		overlayfs over the disk: the real file's cache counts
 *   tmpfs		a tmpfs file with holes is sent whole, no miss
 *   refused		EOPNOTSUPP: sysfs, the 9p root; unknown
 *			flags still EINVAL
 *
 * The disk is scripts/testbed/slow-disk (dm-delay over a loop device). On a
 * kernel without dm-delay (the 6.12 debug kernel has no device mapper) the
 * disk is the plain loop device: everything is checked but the "not
 * resident right after the call", which needs the delay (said in the log).
 * Residency is set with posix_fadvise (DONTNEED; reads through a
 * POSIX_FADV_RANDOM descriptor, which reads no more than asked) and checked
 * with mincore(2), which counts only uptodate pages.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <libgen.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/zcsend.h>

#include "kselftest_harness.h"
#include "zcsend_test.h"
#include "genl.h"

#define PG		4096
#define FILE_SIZE	(64 * PG + 100)	/* not page-aligned: EOF mid-page */
#define RANGE		(16 * PG)	/* within the default readahead window */
#define SLOW_MS		1000
#define RESIDENT_MS	8000

/* Where scripts/testbed/slow-disk is, from this program's own path. */
static const char *slow_disk(void)
{
	static char path[PATH_MAX];
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n < 0)
		return "false";
	exe[n] = '\0';
	snprintf(path, sizeof(path), "%s/../scripts/testbed/slow-disk",
		 dirname(exe));
	return path;
}

struct disk {
	char dir[64];		/* DIR/mnt is the file system */
	char mnt[80];
	char name[64];		/* device-mapper name, "" when plain */
};

/* Bring up the slow disk, or a plain loop device where there is no delay. */
static int disk_up(struct disk *d, const char *fs, int mb)
{
	char cmd[512];
	FILE *p;
	int st;

	snprintf(d->dir, sizeof(d->dir), "/tmp/zcsend-nowait.XXXXXX");
	if (!mkdtemp(d->dir))
		return -1;
	snprintf(d->mnt, sizeof(d->mnt), "%s/mnt", d->dir);
	snprintf(cmd, sizeof(cmd), "%s up %s %s %d", slow_disk(), d->dir, fs,
		 mb);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	if (!fgets(d->name, sizeof(d->name), p))
		d->name[0] = '\0';
	d->name[strcspn(d->name, "\n")] = '\0';
	st = pclose(p);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 4) {
		d->name[0] = '\0';
		return zcsend_run("mkdir -p %s && truncate -s %dM %s/img && "
				  "mkfs.%s %s %s/img >/dev/null 2>&1 && "
				  "mount -o loop %s/img %s", d->mnt, mb, d->dir,
				  fs, strcmp(fs, "ext4") ? "-q -f" : "-q -F",
				  d->dir, d->dir, d->mnt);
	}
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static void disk_down(struct disk *d)
{
	if (!d->dir[0])
		return;
	if (d->name[0])
		zcsend_run("%s down %s", slow_disk(), d->dir);
	else
		zcsend_run("umount %s; rm -f %s/img", d->mnt, d->dir);
	zcsend_run("rm -rf %s", d->dir);
}

static int disk_delay(struct disk *d, int ms)
{
	return zcsend_run("%s delay %s %d", slow_disk(), d->name, ms);
}

/* Pages of [off, off + len) resident and uptodate, by mincore(2). */
static int resident(int fd, off_t off, size_t len)
{
	off_t start = off & ~(off_t)(PG - 1);
	size_t maplen = off + len - start;
	unsigned char vec[1024];
	size_t i, pages = (maplen + PG - 1) / PG;
	int n = 0;
	void *map;

	if (pages > sizeof(vec))
		return -1;
	map = mmap(NULL, maplen, PROT_READ, MAP_SHARED, fd, start);
	if (map == MAP_FAILED)
		return -1;
	if (mincore(map, maplen, vec))
		n = -1;
	for (i = 0; n >= 0 && i < pages; i++)
		n += vec[i] & 1;
	munmap(map, maplen);
	return n;
}

/* Wait up to RESIDENT_MS for @want pages of the range to be resident. */
static int wait_resident(int fd, off_t off, size_t len, int want)
{
	int waited, n = -1;

	for (waited = 0; waited <= RESIDENT_MS; waited += 20) {
		n = resident(fd, off, len);
		if (n == want)
			return n;
		usleep(20000);
	}
	fprintf(stderr, "# resident %lld+%zu: %d pages, wanted %d\n",
		(long long)off, len, n, want);
	return n;
}

/* Read [off, off + len) into the cache, and nothing around it. */
static int warm(const char *path, off_t off, size_t len)
{
	static char buf[FILE_SIZE];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);
	n = pread(fd, buf, len, off);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

static int drop(int fd)
{
	return posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
}

/*
 * skb_defer_max, set to 0 while a test runs (restored after): a loopback
 * receiver's read buffers hold the page-cache pages of a send until the
 * CPU that allocated them frees them (skb_attempt_defer_free()); that CPU,
 * idle, kept pages busy past RESIDENT_MS, and cold() failed (6.1 and the
 * debug kernel, both with another guest on the same two cores).
 * zcsend_fs.sh and zcsend_vs_sendfile's pinned tests do the same.
 */
#define DEFER_PARAM	"/proc/sys/net/core/skb_defer_max"

struct ctx {
	struct disk disk;
	char defer[16];		/* skb_defer_max before the test, or "" */
	char path[128];
	unsigned char data[FILE_SIZE];
	int fd, dev, snd, rcv;
	struct zc_genl *nl;
	uint64_t before[ZC_NSTATS];
};

static int ctx_init(struct ctx *c, const char *fs, int mb)
{
	size_t i;
	int wfd;

	c->fd = c->dev = c->snd = c->rcv = -1;
	c->defer[0] = '\0';
	if (zcsend_read_param(DEFER_PARAM, c->defer, sizeof(c->defer)) ||
	    zcsend_write_param(DEFER_PARAM, "0")) {
		c->defer[0] = '\0';
		return -1;
	}
	srand(22);
	for (i = 0; i < sizeof(c->data); i++)
		c->data[i] = rand();
	if (disk_up(&c->disk, fs, mb))
		return -1;
	snprintf(c->path, sizeof(c->path), "%s/f", c->disk.mnt);
	wfd = open(c->path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	if (wfd < 0 || zcsend_pwrite_all(wfd, c->data, FILE_SIZE, 0) ||
	    fsync(wfd))
		return -1;
	close(wfd);
	c->fd = open(c->path, O_RDONLY | O_CLOEXEC);
	c->dev = open(ZCSEND_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	c->nl = zc_genl_open();
	if (c->fd < 0 || c->dev < 0 || !c->nl)
		return -1;
	if (zcsend_tcp_pair(AF_INET, &c->snd, &c->rcv, 1 << 20))
		return -1;
	if (drop(c->fd) || resident(c->fd, 0, FILE_SIZE) != 0)
		return -1;
	return 0;
}

static void ctx_fini(struct ctx *c)
{
	if (c->nl)
		zc_genl_free(c->nl);
	if (c->snd >= 0)
		close(c->snd);
	if (c->rcv >= 0)
		close(c->rcv);
	if (c->dev >= 0)
		close(c->dev);
	if (c->fd >= 0)
		close(c->fd);
	disk_down(&c->disk);
	if (c->defer[0])
		zcsend_write_param(DEFER_PARAM, c->defer);
}

static int stats_mark(struct ctx *c)
{
	struct zc_stats st;

	if (zc_stats_get(c->nl, &st))
		return -1;
	memcpy(c->before, st.val, sizeof(c->before));
	return 0;
}

/* Counter @id moved by exactly @delta since stats_mark(). */
static int64_t stats_delta(struct ctx *c, int id)
{
	struct zc_stats st;

	if (zc_stats_get(c->nl, &st))
		return -1;
	return st.val[id] - c->before[id];
}

/* NOWAIT sendfile of @fd: bytes sent, or -errno. */
static int64_t send_nowait(struct ctx *c, int fd, uint64_t off, uint64_t len,
			   uint32_t flags)
{
	struct zcsend_file a = {
		.size = sizeof(a),
		.flags = flags,
		.file_fd = fd,
		.sock_fd = c->snd,
		.offset = off,
		.length = len,
	};

	if (ioctl(c->dev, ZCSEND_IOC_SENDFILE, &a))
		return -errno;
	if (a.offset != off + a.sent)
		return -EPROTO;
	return a.sent;
}

/* The receiver has exactly @len bytes, the file's from @off: 0 or -1. */
static int received(struct ctx *c, uint64_t off, size_t len)
{
	static unsigned char buf[FILE_SIZE + 1];
	ssize_t n = len ? recv(c->rcv, buf, len, MSG_WAITALL) : 0;

	if (n != (ssize_t)len || memcmp(buf, c->data + off, len))
		return -1;
	/* Nothing more. */
	n = recv(c->rcv, buf, 1, MSG_DONTWAIT);
	return n < 0 && errno == EAGAIN ? 0 : -1;
}

#define NOWAIT	(ZCSEND_F_NOWAIT | ZCSEND_F_NOSIGNAL)

static int try_sendfile(int dev, int fd, int sock, uint32_t flags)
{
	struct zcsend_file a = { .size = sizeof(a), .flags = flags,
				 .file_fd = fd, .sock_fd = sock,
				 .length = 16 };

	return ioctl(dev, ZCSEND_IOC_SENDFILE, &a) ? errno : 0;
}

static int try_sendvec(int dev, int fd, int sock, uint32_t flags)
{
	struct zcsend_seg s = { .type = ZCSEND_SEG_FILE, .fd = fd,
				.length = 16 };
	struct zcsend_vec v = { .size = sizeof(v), .flags = flags,
				.sock_fd = sock, .nr_segs = 1,
				.segs = (uintptr_t)&s };

	return ioctl(dev, ZCSEND_IOC_SENDVEC, &v) ? errno : 0;
}


FIXTURE(disk) {
	struct ctx c;
};

FIXTURE_VARIANT(disk) {
	const char *fs;
	int mb;		/* XFS wants 300 MiB, Btrfs 114 (sparse, in tmpfs) */
	bool full;	/* all parts, not only ranges */
};

FIXTURE_VARIANT_ADD(disk, ext4) { .fs = "ext4", .mb = 64, .full = true };
FIXTURE_VARIANT_ADD(disk, xfs) { .fs = "xfs", .mb = 300 };
FIXTURE_VARIANT_ADD(disk, btrfs) { .fs = "btrfs", .mb = 114 };

FIXTURE_SETUP(disk)
{
	ASSERT_EQ(0, ctx_init(&self->c, variant->fs, variant->mb));
}

FIXTURE_TEARDOWN(disk)
{
	ctx_fini(&self->c);
}

/*
 * Nothing of the file resident. A read still in flight from an earlier part
 * (a readahead the module started) holds locked pages that DONTNEED skips,
 * and mincore() does not count them (only uptodate ones): dropped at once,
 * they became resident after cold() returned, and the next EBUSY expected
 * was a send (6.1, single-threaded TCG). Reading the whole file first waits
 * for them; then dropped again until the receiver's skbs let go of pages.
 */
static int cold(struct ctx *c)
{
	int waited;

	if (warm(c->path, 0, FILE_SIZE))
		return -1;
	for (waited = 0; waited <= RESIDENT_MS; waited += 20) {
		if (drop(c->fd))
			return -1;
		if (resident(c->fd, 0, FILE_SIZE) == 0)
			return 0;
		usleep(20000);
	}
	return -1;
}

#define PART(name) \
	static void name(struct __test_metadata *_metadata, struct ctx *c)

PART(ranges)
{
	int64_t ret;
	int fd;

	/* Uncached: EBUSY, nothing sent, readahead started. */
	ASSERT_EQ(0, stats_mark(c));
	EXPECT_EQ(-EBUSY, send_nowait(c, c->fd, 0, RANGE, NOWAIT));
	EXPECT_EQ(0, received(c, 0, 0));
	EXPECT_EQ(1, stats_delta(c, ZCSEND_A_STATS_NOWAIT_MISSES));
	EXPECT_EQ(1, stats_delta(c, ZCSEND_A_STATS_NOWAIT_READAHEADS));
	EXPECT_EQ(1, stats_delta(c, ZCSEND_A_STATS_ERR_OTHER));
	EXPECT_EQ(0, stats_delta(c, ZCSEND_A_STATS_BYTES));
	ASSERT_EQ(16, wait_resident(c->fd, 0, RANGE, 16));

	/* Cached: all of it, no miss. */
	ASSERT_EQ(0, stats_mark(c));
	EXPECT_EQ(RANGE, send_nowait(c, c->fd, 0, RANGE, NOWAIT));
	EXPECT_EQ(0, received(c, 0, RANGE));
	EXPECT_EQ(0, stats_delta(c, ZCSEND_A_STATS_NOWAIT_MISSES));
	EXPECT_EQ(RANGE, stats_delta(c, ZCSEND_A_STATS_FILE_BYTES));

	/* Partly cached, unaligned: up to the end of the 5 cached pages. */
	ASSERT_EQ(0, cold(c));
	ASSERT_EQ(0, warm(c->path, 0, 5 * PG));
	ASSERT_EQ(5, resident(c->fd, 0, RANGE));
	ASSERT_EQ(0, stats_mark(c));
	ret = send_nowait(c, c->fd, 1000, RANGE, NOWAIT);
	EXPECT_EQ(5 * PG - 1000, ret);
	EXPECT_EQ(0, received(c, 1000, 5 * PG - 1000));
	EXPECT_EQ(1, stats_delta(c, ZCSEND_A_STATS_NOWAIT_MISSES));
	EXPECT_EQ(1, stats_delta(c, ZCSEND_A_STATS_NOWAIT_READAHEADS));
	EXPECT_EQ(0, stats_delta(c, ZCSEND_A_STATS_ERR_OTHER));
	EXPECT_EQ(5 * PG - 1000, stats_delta(c, ZCSEND_A_STATS_FILE_BYTES));
	/* The readahead brings in the rest, then it goes out whole. */
	ASSERT_EQ(12, wait_resident(c->fd, 5 * PG, RANGE - 5 * PG + 1000,
				    12));
	EXPECT_EQ(RANGE - 5 * PG + 1000,
		  send_nowait(c, c->fd, 5 * PG, RANGE - 5 * PG + 1000,
			      NOWAIT));
	EXPECT_EQ(0, received(c, 5 * PG, RANGE - 5 * PG + 1000));

	/* A hole inside: the prefix stops at it. */
	ASSERT_EQ(0, cold(c));
	ASSERT_EQ(0, warm(c->path, 0, 2 * PG));
	ASSERT_EQ(0, warm(c->path, 3 * PG, 2 * PG));
	ASSERT_EQ(4, resident(c->fd, 0, 5 * PG));
	EXPECT_EQ(2 * PG, send_nowait(c, c->fd, 0, 5 * PG, NOWAIT));
	EXPECT_EQ(0, received(c, 0, 2 * PG));

	/* The cached last page: up to end of file, no miss. */
	ASSERT_EQ(0, warm(c->path, 64 * PG, 100));
	ASSERT_EQ(1, resident(c->fd, 64 * PG, 100));
	ASSERT_EQ(0, stats_mark(c));
	EXPECT_EQ(70, send_nowait(c, c->fd, 64 * PG + 30, RANGE, NOWAIT));
	EXPECT_EQ(0, received(c, 64 * PG + 30, 70));
	/* At or past end of file: 0 bytes, no miss, as without the flag. */
	EXPECT_EQ(0, send_nowait(c, c->fd, FILE_SIZE, RANGE, NOWAIT));
	EXPECT_EQ(0, send_nowait(c, c->fd, FILE_SIZE + PG, RANGE, NOWAIT));
	EXPECT_EQ(0, stats_delta(c, ZCSEND_A_STATS_NOWAIT_MISSES));
	EXPECT_EQ(3, stats_delta(c, ZCSEND_A_STATS_CALLS));

	/* O_DIRECT reads bypass the cache: refused, on both ioctls. */
	fd = open(c->path, O_RDONLY | O_DIRECT | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EOPNOTSUPP, send_nowait(c, fd, 0, RANGE, NOWAIT));
	EXPECT_EQ(EOPNOTSUPP, try_sendvec(c->dev, fd, c->snd, NOWAIT));
	close(fd);
}

PART(not_waited)
{
	int n;

	if (c->disk.name[0]) {
		ASSERT_EQ(0, disk_delay(&c->disk, SLOW_MS));
	} else {
		TH_LOG("no dm-delay in this kernel: a plain loop device; the pages are not checked to be absent right after the call");
	}
	ASSERT_EQ(0, stats_mark(c));
	EXPECT_EQ(-EBUSY, send_nowait(c, c->fd, 0, RANGE, NOWAIT));
	n = resident(c->fd, 0, RANGE);
	TH_LOG("right after EBUSY: %d of 16 pages resident", n);
	if (c->disk.name[0]) {
		EXPECT_EQ(0, n);
	}
	/* No other call: the readahead alone brings them in. */
	EXPECT_EQ(16, wait_resident(c->fd, 0, RANGE, 16));
	EXPECT_EQ(RANGE, send_nowait(c, c->fd, 0, RANGE, NOWAIT));
	EXPECT_EQ(0, received(c, 0, RANGE));
	EXPECT_EQ(1, stats_delta(c, ZCSEND_A_STATS_NOWAIT_MISSES));
	EXPECT_EQ(1, stats_delta(c, ZCSEND_A_STATS_NOWAIT_READAHEADS));
	if (c->disk.name[0]) {
		EXPECT_EQ(0, disk_delay(&c->disk, 0));
	}
}

PART(vec)
{
	static const char hdr[] = "HDR:";
	struct zcsend_seg segs[3] = {
		{ .type = ZCSEND_SEG_INLINE, .length = 4,
		  .addr = (uintptr_t)hdr },
		{ .type = ZCSEND_SEG_FILE, .fd = c->fd, .offset = 0,
		  .length = 2 * PG },
		{ .type = ZCSEND_SEG_FILE, .fd = c->fd, .offset = 8 * PG,
		  .length = 2 * PG },
	};
	struct zcsend_vec v = {
		.size = sizeof(v), .flags = NOWAIT, .sock_fd = c->snd,
		.nr_segs = 3, .segs = (uintptr_t)segs,
	};
	char buf[8];

	/* Segment 1 cached, segment 2 not: stops at segment 2. */
	ASSERT_EQ(0, warm(c->path, 0, 2 * PG));
	ASSERT_EQ(0, stats_mark(c));
	ASSERT_EQ(0, ioctl(c->dev, ZCSEND_IOC_SENDVEC, &v));
	EXPECT_EQ(4 + 2 * PG, v.sent);
	EXPECT_EQ(2, v.segs_done);
	EXPECT_EQ(0, v.seg_sent);
	ASSERT_EQ(4, recv(c->rcv, buf, 4, MSG_WAITALL));
	EXPECT_EQ(0, memcmp(buf, hdr, 4));
	EXPECT_EQ(0, received(c, 0, 2 * PG));
	EXPECT_EQ(1, stats_delta(c, ZCSEND_A_STATS_NOWAIT_MISSES));
	EXPECT_EQ(1, stats_delta(c, ZCSEND_A_STATS_NOWAIT_READAHEADS));

	/* Starting at the missing segment: EBUSY. */
	ASSERT_EQ(0, cold(c));
	v.segs = (uintptr_t)&segs[2];
	v.nr_segs = 1;
	EXPECT_EQ(-1, ioctl(c->dev, ZCSEND_IOC_SENDVEC, &v));
	EXPECT_EQ(EBUSY, errno);
	EXPECT_EQ(2, wait_resident(c->fd, 8 * PG, 2 * PG, 2));
	ASSERT_EQ(0, ioctl(c->dev, ZCSEND_IOC_SENDVEC, &v));
	EXPECT_EQ(2 * PG, v.sent);
	EXPECT_EQ(0, received(c, 8 * PG, 2 * PG));
	EXPECT_EQ(2, stats_delta(c, ZCSEND_A_STATS_NOWAIT_MISSES));
}

/* overlayfs's own mapping stays empty: the lower file's cache counts. */
PART(overlay)
{
	char ovl[128], path[160];
	int fd;

	snprintf(ovl, sizeof(ovl), "%s/ovl", c->disk.dir);
	ASSERT_EQ(0, zcsend_run("mkdir -p %s/lower %s/upper %s/work %s && "
				"ln %s %s/lower/f && mount -t overlay overlay "
				"-o lowerdir=%s/lower,upperdir=%s/upper,"
				"workdir=%s/work %s", c->disk.mnt, c->disk.mnt,
				c->disk.mnt, ovl, c->path, c->disk.mnt,
				c->disk.mnt, c->disk.mnt, c->disk.mnt, ovl));
	snprintf(path, sizeof(path), "%s/f", ovl);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);

	ASSERT_EQ(0, stats_mark(c));
	EXPECT_EQ(-EBUSY, send_nowait(c, fd, 0, RANGE, NOWAIT));
	EXPECT_EQ(16, wait_resident(c->fd, 0, RANGE, 16));
	EXPECT_EQ(RANGE, send_nowait(c, fd, 0, RANGE, NOWAIT));
	EXPECT_EQ(0, received(c, 0, RANGE));
	EXPECT_EQ(1, stats_delta(c, ZCSEND_A_STATS_NOWAIT_MISSES));
	EXPECT_EQ(1, stats_delta(c, ZCSEND_A_STATS_NOWAIT_READAHEADS));
	close(fd);
	zcsend_run("umount %s", ovl);
}

/* One file system per variant, set up once (mkfs is slow under TCG). */
TEST_F_TIMEOUT(disk, nowait, 240)
{
	struct ctx *c = &self->c;

	ranges(_metadata, c);
	/* The rest does not depend on the file system: ext4 only. */
	if (!variant->full)
		return;
	ASSERT_EQ(0, cold(c));
	not_waited(_metadata, c);
	ASSERT_EQ(0, cold(c));
	vec(_metadata, c);
	ASSERT_EQ(0, cold(c));
	overlay(_metadata, c);
}

/* tmpfs: holes read as zeros without I/O, so a sparse file is cached. */
TEST(tmpfs)
{
	static unsigned char want[RANGE], buf[RANGE];
	struct zcsend_file a = { .size = sizeof(a), .flags = NOWAIT,
				 .length = RANGE };
	int fd, dev, snd, rcv;

	memset(want + 3 * PG, 0x5a, PG);
	fd = zcsend_make_file("/tmp", NULL, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, zcsend_pwrite_all(fd, want + 3 * PG, PG, 3 * PG));
	ASSERT_EQ(0, ftruncate(fd, RANGE));
	dev = open(ZCSEND_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dev);
	ASSERT_EQ(0, zcsend_tcp_pair(AF_INET, &snd, &rcv, 1 << 20));
	a.file_fd = fd;
	a.sock_fd = snd;
	ASSERT_EQ(0, ioctl(dev, ZCSEND_IOC_SENDFILE, &a));
	EXPECT_EQ(RANGE, a.sent);
	ASSERT_EQ(RANGE, recv(rcv, buf, RANGE, MSG_WAITALL));
	EXPECT_EQ(0, memcmp(buf, want, RANGE));
	close(snd);
	close(rcv);
	close(dev);
	close(fd);
}

/* Where the cache cannot be checked: EOPNOTSUPP, on both ioctls. */
TEST(refused)
{
	char buf[64];
	int dev, snd, rcv, sys, nine, tmp;
	ssize_t n;

	dev = open(ZCSEND_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dev);
	ASSERT_EQ(0, zcsend_tcp_pair(AF_INET, &snd, &rcv, 1 << 20));

	/* sysfs: sent without the flag, refused with it. */
	sys = open("/sys/module/zcsend/initstate", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, sys);
	EXPECT_EQ(0, try_sendfile(dev, sys, snd, ZCSEND_F_NOSIGNAL));
	n = recv(rcv, buf, sizeof(buf), 0);
	EXPECT_LT(0, n);
	EXPECT_EQ(EOPNOTSUPP, try_sendfile(dev, sys, snd, NOWAIT));
	EXPECT_EQ(EOPNOTSUPP, try_sendvec(dev, sys, snd, NOWAIT));

	/* The guest's root is the host's, over 9p. */
	nine = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, nine);
	EXPECT_EQ(EOPNOTSUPP, try_sendfile(dev, nine, snd, NOWAIT));
	EXPECT_EQ(EOPNOTSUPP, try_sendvec(dev, nine, snd, NOWAIT));

	tmp = zcsend_make_file("/tmp", "0123456789abcdef", 16);
	ASSERT_LE(0, tmp);

	/* Unknown flags are still EINVAL, the flag itself is known. */
	EXPECT_EQ(EINVAL, try_sendfile(dev, tmp, snd, 0x80000000U | NOWAIT));
	EXPECT_EQ(EINVAL, try_sendfile(dev, tmp, snd, 0x100U));
	EXPECT_EQ(EINVAL, try_sendvec(dev, tmp, snd, 0x40000000U));
	EXPECT_EQ(0, try_sendfile(dev, tmp, snd, NOWAIT));
	EXPECT_EQ(16, recv(rcv, buf, sizeof(buf), 0));

	close(tmp);
	close(nine);
	close(sys);
	close(snd);
	close(rcv);
	close(dev);
}

ZCSEND_TEST_MAIN
