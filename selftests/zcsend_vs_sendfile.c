// SPDX-License-Identifier: GPL-2.0
/*
 * zcsend against sendfile(2), the oracle: the same file range is sent with
 * sendfile over one loopback connection and with ZCSEND_IOC_SENDFILE over
 * another, and both must agree on the result, the errno, the count, the
 * new offset and the received bytes (FNV-1a of them), and on what
 * /proc/self/io and inotify report. On every file system the guest mounts
 * from images this test makes: tmpfs, tmpfs huge=always, ext4, XFS, btrfs,
 * overlayfs (files of the lower and of the upper layer), squashfs, and 9p
 * (the guest's root); a file system that cannot be mounted fails the test.
 *
 * Files and ranges are random but seeded: the seed is printed, and
 * ZCSEND_SEED=N replays a run. ZCSEND_SCALED=1 (the debug kernel) caps the
 * longest ranges at 2 and 1 MiB instead of 8 and 4, every case still made. The bytes the ioctl sent are also checked
 * against the file's contents made again from the seed, so sendfile is not
 * the only oracle. Each file is sent from a cold page cache, and the two
 * take turns going first, so on every file system each reads pages that
 * were not cached (btrfs, overlayfs and squashfs included).
 *
 * Also here: the page-cache bytes a blocked send keeps pinned, bounded as
 * sendfile's are (the pinned tests, on ext4 and XFS).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/sockios.h>
#include <linux/zcsend.h>

#include "kselftest_harness.h"
#include "zcsend_test.h"

#define KIB		1024ULL
#define MIB		(1024 * KIB)
#define GIB		(1024 * MIB)
#define MAX_RW		(0x7fffffffULL & ~4095ULL)	/* MAX_RW_COUNT */

static uint64_t seed;

/* xorshift64*: the test's only source of randomness. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

static void fill_random(unsigned char *buf, size_t len, uint64_t s)
{
	size_t i;

	s |= 1;
	for (i = 0; i < len; i++)
		buf[i] = rnd(&s) >> 56;
}

/*
 * A receiver thread: reads one connection and keeps the count and the
 * FNV-1a hash of what arrived; discard mode drops bytes uncounted by hash
 * (MSG_TRUNC), for the 2 GiB clamp.
 */
struct rx {
	int fd;
	pthread_t thr;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t count;
	uint64_t hash;
	bool discard;
};

static void *rx_main(void *arg)
{
	static __thread unsigned char buf[256 * 1024];
	struct rx *r = arg;

	for (;;) {
		ssize_t n;
		bool discard;

		pthread_mutex_lock(&r->lock);
		discard = r->discard;
		pthread_mutex_unlock(&r->lock);
		n = recv(r->fd, discard ? NULL : buf,
			 discard ? 64 * MIB : sizeof(buf),
			 discard ? MSG_TRUNC : 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		pthread_mutex_lock(&r->lock);
		if (!discard) {
			ssize_t i;

			for (i = 0; i < n; i++)
				r->hash = (r->hash ^ buf[i]) *
					  0x100000001b3ULL;
		}
		r->count += n;
		pthread_cond_broadcast(&r->cond);
		pthread_mutex_unlock(&r->lock);
	}
	return NULL;
}

/* Seconds without a byte after which rx_take() gives up. */
#define RX_STALL_SECS	20

/*
 * Wait until @want bytes arrived; return their hash and start over. A call
 * that claims more bytes than it queued must fail, not hang: when nothing
 * arrives for RX_STALL_SECS, *@stalled is set and the bytes that did come
 * are taken.
 */
static uint64_t rx_take(struct rx *r, uint64_t want, bool *stalled)
{
	uint64_t h, last;
	struct timespec dl;
	int idle = 0;

	*stalled = false;
	pthread_mutex_lock(&r->lock);
	last = r->count;
	while (r->count < want) {
		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_sec++;
		if (pthread_cond_timedwait(&r->cond, &r->lock, &dl) != ETIMEDOUT)
			continue;
		if (r->count != last) {
			last = r->count;
			idle = 0;
		} else if (++idle >= RX_STALL_SECS) {
			fprintf(stderr, "# rx: %" PRIu64 " of %" PRIu64
				" bytes came, then none for %d s\n",
				r->count, want, RX_STALL_SECS);
			*stalled = true;
			want = r->count;
		}
	}
	h = r->hash;
	r->hash = 0xcbf29ce484222325ULL;
	r->count -= want;
	pthread_mutex_unlock(&r->lock);
	return h;
}

/* Whatever arrived beyond what was taken (0 when the two agree). */
static uint64_t rx_extra(struct rx *r)
{
	uint64_t n;

	pthread_mutex_lock(&r->lock);
	n = r->count;
	pthread_mutex_unlock(&r->lock);
	return n;
}

static void rx_set_discard(struct rx *r, bool on)
{
	pthread_mutex_lock(&r->lock);
	r->discard = on;
	pthread_mutex_unlock(&r->lock);
}

/* One sender socket and its receiver thread. */
struct conn {
	int snd;
	struct rx rx;
};

static int conn_open(struct conn *c)
{
	memset(c, 0, sizeof(*c));
	if (zcsend_tcp_pair(AF_INET, &c->snd, &c->rx.fd, 0))
		return -1;
	pthread_mutex_init(&c->rx.lock, NULL);
	pthread_cond_init(&c->rx.cond, NULL);
	c->rx.hash = 0xcbf29ce484222325ULL;
	return pthread_create(&c->rx.thr, NULL, rx_main, &c->rx) ? -1 : 0;
}

static void conn_close(struct conn *c)
{
	shutdown(c->snd, SHUT_WR);
	pthread_join(c->rx.thr, NULL);
	close(c->snd);
	close(c->rx.fd);
}

/* One call's outcome, as both sides report it. */
#define RX_STALLED	(-2LL)	/* ret: fewer bytes came than it said */

struct outcome {
	long long ret;		/* bytes, -1, or RX_STALLED */
	int err;
	uint64_t off;
	uint64_t hash;
};

static struct outcome by_sendfile(struct conn *c, int fd, uint64_t off,
				  uint64_t len)
{
	struct outcome o = { .off = off };
	off_t pos = off;
	bool stalled;

	o.ret = sendfile(c->snd, fd, &pos, len);
	o.err = o.ret < 0 ? errno : 0;
	o.off = pos;
	o.hash = rx_take(&c->rx, o.ret > 0 ? o.ret : 0, &stalled);
	if (stalled)
		o.ret = RX_STALLED;
	return o;
}

static struct outcome by_ioctl(struct conn *c, int dev, int fd, uint64_t off,
			       uint64_t len)
{
	struct zcsend_file a = { .size = sizeof(a), .file_fd = fd,
				 .sock_fd = c->snd, .offset = off,
				 .length = len };
	struct outcome o = { .off = off };
	bool stalled;

	if (ioctl(dev, ZCSEND_IOC_SENDFILE, &a)) {
		o.ret = -1;
		o.err = errno;
	} else {
		o.ret = a.sent;
		o.off = a.offset;
	}
	o.hash = rx_take(&c->rx, o.ret > 0 ? o.ret : 0, &stalled);
	if (stalled)
		o.ret = RX_STALLED;
	return o;
}

/* The file system variants, and where the files live. */
enum fs_kind {
	FS_TMPFS, FS_TMPFS_HUGE, FS_EXT4, FS_XFS, FS_BTRFS,
	FS_OVL_LOWER, FS_OVL_UPPER, FS_SQUASHFS, FS_9P,
};

FIXTURE(vs) {
	char work[64];		/* scratch dir on the guest's /tmp */
	char dir[128];		/* where the test opens its files */
	char stage[128];	/* where files are made before mounting */
	int dev;
	int nfiles;
	int fds[8];
	uint64_t sizes[8];
	unsigned char *data[8];	/* the bytes the seed put at each file's end */
	uint64_t dlen[8];	/* how many (the rest, before them, is a hole) */
	struct conn a, b;	/* a: sendfile, b: ioctl */
};

FIXTURE_VARIANT(vs) {
	enum fs_kind kind;
	const char *mkfs;	/* image-based: mkfs command */
	const char *type;
};

FIXTURE_VARIANT_ADD(vs, tmpfs) { .kind = FS_TMPFS, .type = "tmpfs" };
FIXTURE_VARIANT_ADD(vs, tmpfs_huge) { .kind = FS_TMPFS_HUGE,
				      .type = "tmpfs" };
FIXTURE_VARIANT_ADD(vs, ext4) { .kind = FS_EXT4, .type = "ext4",
				.mkfs = "mkfs.ext4 -q -F" };
FIXTURE_VARIANT_ADD(vs, xfs) { .kind = FS_XFS, .type = "xfs",
			       .mkfs = "mkfs.xfs -q -f" };
FIXTURE_VARIANT_ADD(vs, btrfs) { .kind = FS_BTRFS, .type = "btrfs",
				 .mkfs = "mkfs.btrfs -q -f" };
FIXTURE_VARIANT_ADD(vs, overlay_lower) { .kind = FS_OVL_LOWER,
					 .type = "overlay" };
FIXTURE_VARIANT_ADD(vs, overlay_upper) { .kind = FS_OVL_UPPER,
					 .type = "overlay" };
FIXTURE_VARIANT_ADD(vs, squashfs) { .kind = FS_SQUASHFS,
				    .type = "squashfs" };
FIXTURE_VARIANT_ADD(vs, ninep) { .kind = FS_9P, .type = "9p" };

#define FILE_BUF	(3 * MIB + 4096)

/* Bytes of file @i's data (at its end; before them, a hole). */
static uint64_t data_len(uint64_t size)
{
	return size < FILE_BUF ? size : 70000;
}

/*
 * The files: sizes 0, 1, a page, a page + 1, two random ones up to 3 MiB,
 * and a sparse one whose data starts past 4 GiB. Made in @dir, named f0..
 */
static int make_files(const char *dir, uint64_t *sizes, int *n, uint64_t big)
{
	uint64_t s = seed;
	static unsigned char buf[FILE_BUF];
	char path[256];
	int i, fd;

	sizes[0] = 0;
	sizes[1] = 1;
	sizes[2] = 4096;
	sizes[3] = 4097;
	sizes[4] = 1 + rnd(&s) % (3 * MIB);
	sizes[5] = 1 + rnd(&s) % (256 * KIB);
	sizes[6] = big;
	*n = 7;
	for (i = 0; i < *n; i++) {
		uint64_t len = data_len(sizes[i]);

		snprintf(path, sizeof(path), "%s/f%d", dir, i);
		fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0)
			return -1;
		fill_random(buf, len, seed + i);
		if (zcsend_pwrite_all(fd, buf, len, sizes[i] - len) ||
		    ftruncate(fd, sizes[i]) || close(fd))
			return -1;
	}
	return 0;
}

static int open_files(struct _test_data_vs *self)
{
	char path[256];
	int i;

	for (i = 0; i < self->nfiles; i++) {
		snprintf(path, sizeof(path), "%s/f%d", self->dir, i);
		self->fds[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (self->fds[i] < 0)
			return -1;
	}
	return 0;
}

/* Mount the image in the scratch dir on a loop device of its own. */
static int mount_image(struct _test_data_vs *self, const char *type)
{
	/* Debian builds loop as a module, and nothing else loads it here. */
	return zcsend_run("modprobe loop && mount -t %s "
		   "$(losetup --find --show %s/img) %s", type, self->work,
		   self->dir);
}

/* The type of the file system that holds @path (from mountinfo). */
static int fs_type_of(const char *path, char *type, size_t size)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096], mnt[1024], t[64];
	size_t best = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - ");
		size_t n;

		if (!sep || sscanf(line, "%*s %*s %*s %*s %1023s", mnt) != 1 ||
		    sscanf(sep + 3, "%63s", t) != 1)
			continue;
		n = strlen(mnt);
		if (strncmp(path, mnt, n) ||
		    (path[n] != '/' && path[n] && n > 1) || n < best)
			continue;
		best = n;
		snprintf(type, size, "%s", t);
	}
	fclose(f);
	return best ? 0 : -1;
}

static int mount_fs(struct _test_data_vs *self,
		    const struct _fixture_variant_vs *v)
{
	char *w = self->work;

	switch (v->kind) {
	case FS_TMPFS:
	case FS_TMPFS_HUGE:
		return mount("tmpfs", self->dir, "tmpfs", 0,
			     v->kind == FS_TMPFS ? "size=6G" :
			     "size=6G,huge=always");
	case FS_EXT4:
	case FS_XFS:
	case FS_BTRFS:
		if (zcsend_run("truncate -s 1G %s/img && %s %s/img >/dev/null 2>&1",
			w, v->mkfs, w))
			return -1;
		return mount_image(self, v->type);
	case FS_OVL_LOWER:
	case FS_OVL_UPPER:
		return zcsend_run("mkdir -p %s/upper %s/ovlwork && mount -t overlay "
			   "overlay -o lowerdir=%s,upperdir=%s/upper,"
			   "workdir=%s/ovlwork %s", w, w, self->stage, w, w,
			   self->dir);
	case FS_SQUASHFS:
		if (zcsend_run("mksquashfs %s %s/img -quiet -no-progress >/dev/null",
			self->stage, w))
			return -1;
		return mount_image(self, v->type);
	case FS_9P:
		return 0;
	}
	return -1;
}

FIXTURE_SETUP(vs)
{
	/* mksquashfs reads every hole: a smaller sparse file there. */
	uint64_t big = variant->kind == FS_SQUASHFS ? 64 * MIB + 5000 :
		       4 * GIB + 5000;
	char type[64];

	self->dev = open(ZCSEND_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev);
	strcpy(self->work, "/tmp/zcsend-vs.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->work));
	snprintf(self->stage, sizeof(self->stage), "%s/stage", self->work);
	ASSERT_EQ(0, mkdir(self->stage, 0755));
	if (variant->kind == FS_9P) {
		/*
		 * The checkout is the guest's writable 9p share, and the
		 * guests of other kernels run this test in it at the same
		 * time: a directory of this run's own (a shared one had
		 * another guest's files, of another seed, replace ours).
		 */
		ASSERT_NE(NULL, getcwd(self->dir, sizeof(self->dir) - 32));
		strcat(self->dir, "/.vs-9p");
		mkdir(self->dir, 0755);
		strcat(self->dir, "/run.XXXXXX");
		ASSERT_NE(NULL, mkdtemp(self->dir));
	} else {
		snprintf(self->dir, sizeof(self->dir), "%s/mnt", self->work);
		ASSERT_EQ(0, mkdir(self->dir, 0755));
	}

	/* Lower-layer and squashfs files exist before the mount. */
	if (variant->kind == FS_OVL_LOWER || variant->kind == FS_SQUASHFS)
		ASSERT_EQ(0, make_files(self->stage, self->sizes,
					&self->nfiles, big));
	ASSERT_EQ(0, mount_fs(self, variant)) {
		TH_LOG("mounting %s failed", variant->type);
	}
	ASSERT_EQ(0, fs_type_of(self->dir, type, sizeof(type)));
	ASSERT_EQ(0, strcmp(type, variant->type)) {
		TH_LOG("%s is on %s, not %s", self->dir, type, variant->type);
	}
	if (variant->kind != FS_OVL_LOWER && variant->kind != FS_SQUASHFS)
		ASSERT_EQ(0, make_files(self->dir, self->sizes,
					&self->nfiles, big));
	/* What the files hold, made again from the seed: the second oracle. */
	for (int i = 0; i < self->nfiles; i++) {
		self->dlen[i] = data_len(self->sizes[i]);
		self->data[i] = malloc(self->dlen[i] + 1);
		ASSERT_NE(NULL, self->data[i]);
		fill_random(self->data[i], self->dlen[i], seed + i);
	}
	/* Written files leave the page cache: reads go to the file system. */
	sync();
	ASSERT_EQ(0, zcsend_run("echo 3 > /proc/sys/vm/drop_caches"));
	ASSERT_EQ(0, open_files(self));
	ASSERT_EQ(0, conn_open(&self->a));
	ASSERT_EQ(0, conn_open(&self->b));
}

FIXTURE_TEARDOWN(vs)
{
	int i;

	conn_close(&self->a);
	conn_close(&self->b);
	for (i = 0; i < self->nfiles; i++) {
		close(self->fds[i]);
		free(self->data[i]);
	}
	if (variant->kind == FS_9P) {
		zcsend_run("rm -rf %s", self->dir);
	} else {
		umount2(self->dir, 0);
		zcsend_run("for d in $(losetup -n -O NAME -j %s/img); do "
		    "losetup -d $d; done", self->work);
	}
	zcsend_run("rm -rf %s", self->work);
	close(self->dev);
}

/*
 * Both ways must agree on everything: sendfile over @a, the ioctl over @b,
 * in that order or, @ioctl_first, the other (the first one reads what is
 * not cached yet).
 * Return: the common result (bytes, or -1).
 */
static long long compare_order(struct __test_metadata *_metadata, int dev,
			       struct conn *a, struct conn *b, int fd,
			       uint64_t off, uint64_t len, bool ioctl_first,
			       struct outcome *out)
{
	struct outcome s, z;

	if (ioctl_first) {
		z = by_ioctl(b, dev, fd, off, len);
		s = by_sendfile(a, fd, off, len);
	} else {
		s = by_sendfile(a, fd, off, len);
		z = by_ioctl(b, dev, fd, off, len);
	}
	if (out)
		*out = z;

	if (s.ret != z.ret || s.err != z.err || s.off != z.off ||
	    s.hash != z.hash)
		TH_LOG("off %" PRIu64 " len %" PRIu64 ": sendfile %lld/%d/%"
		       PRIu64 ", ioctl %lld/%d/%" PRIu64 "%s (seed %" PRIu64
		       ")", off, len, s.ret, s.err, s.off, z.ret, z.err,
		       z.off, s.hash != z.hash ? ", bytes differ" : "", seed);
	EXPECT_NE(RX_STALLED, s.ret);
	EXPECT_EQ(s.ret, z.ret);
	EXPECT_EQ(s.err, z.err);
	EXPECT_EQ(s.off, z.off);
	EXPECT_EQ(s.hash, z.hash);
	return s.ret;
}

static long long compare(struct __test_metadata *_metadata, int dev,
			 struct conn *a, struct conn *b, int fd,
			 uint64_t off, uint64_t len)
{
	return compare_order(_metadata, dev, a, b, fd, off, len, false, NULL);
}

/* FNV-1a of file @i's bytes [@off, @off + @n), as the seed made them. */
static uint64_t known_hash(struct _test_data_vs *self, int i, uint64_t off,
			   uint64_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	uint64_t start = self->sizes[i] - self->dlen[i], p;

	for (p = off; p < off + n; p++) {
		unsigned char c = p >= start ? self->data[i][p - start] : 0;

		h = (h ^ c) * 0x100000001b3ULL;
	}
	return h;
}

/*
 * Both ways agree, in the order @ioctl_first says, and what the ioctl sent
 * is the file's known bytes (not only sendfile's).
 */
static void same_order(struct __test_metadata *_metadata,
		       struct _test_data_vs *self, int i, uint64_t off,
		       uint64_t len, bool ioctl_first)
{
	struct outcome z;
	long long ret;

	ret = compare_order(_metadata, self->dev, &self->a, &self->b,
			    self->fds[i], off, len, ioctl_first, &z);
	if (ret > 0)
		EXPECT_EQ(known_hash(self, i, off, ret), z.hash)
			TH_LOG("file %d, off %" PRIu64 " len %" PRIu64
			       ": not the file's bytes (seed %" PRIu64 ")",
			       i, off, len, seed);
}

/* Alternating which goes first, call by call. */
static int same_calls;

static void same(struct __test_metadata *_metadata, struct _test_data_vs *self,
		 int i, uint64_t off, uint64_t len)
{
	same_order(_metadata, self, i, off, len, same_calls++ & 1);
}

/* Evict clean page-cache pages (no process: cheap on the debug kernel). */
static int drop_page_cache(void)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
	int ok = fd >= 0 && write(fd, "1", 1) == 1;

	if (fd >= 0)
		close(fd);
	return ok ? 0 : -1;
}

/*
 * The file system's s_maxbytes, found as truncate(2) finds it: the largest
 * size ftruncate() accepts (EFBIG above). Return: it, or -1 when ftruncate()
 * fails for another reason.
 */
static long long probe_maxbytes(int fd)
{
	long long lo = 0, hi = INT64_MAX, mid;

	if (!ftruncate(fd, hi))
		return hi;
	if (errno != EFBIG)
		return -1;
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (!ftruncate(fd, mid))
			lo = mid;
		else if (errno == EFBIG)
			hi = mid;
		else
			return -1;
	}
	return ftruncate(fd, lo) ? -1 : lo;
}

/*
 * Ranges at the file system's s_maxbytes, on a sparse file that ends there:
 * one that starts there (EOVERFLOW) and ones that run past it (cut there,
 * the bytes before it sent). On ext4 (16 TiB - 4 KiB with 4 KiB blocks)
 * this is the only place the limit is reached; elsewhere the limit is
 * MAX_LFS_FILESIZE and the same ranges overflow loff_t (EINVAL). As the
 * file ends at the limit, only the range that starts there tells the limit
 * from the end of the file.
 */
static void at_maxbytes(struct __test_metadata *_metadata,
			struct _test_data_vs *self,
			const struct _fixture_variant_vs *v)
{
	long long max, sent;
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/maxbytes", self->dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd) TH_LOG("%s: %s", path, strerror(errno));
	max = probe_maxbytes(fd);
	ASSERT_LT(0, max) TH_LOG("ftruncate: %s", strerror(errno));
	if (v->kind == FS_EXT4)
		EXPECT_GT(INT64_MAX, max);	/* the limit is reached */
	sent = compare(_metadata, self->dev, &self->a, &self->b, fd, max - 5,
		       10);
	if (v->kind == FS_EXT4)
		EXPECT_EQ(5, sent);
	compare(_metadata, self->dev, &self->a, &self->b, fd, max - 8192,
		3 * 4096 + 7);
	compare(_metadata, self->dev, &self->a, &self->b, fd, max, 1);
	compare(_metadata, self->dev, &self->a, &self->b, fd, max - 1, 1);
	close(fd);
	EXPECT_EQ(0, unlink(path));
}

/* /proc/self/io fields of this process. */
struct io {
	unsigned long long rchar, wchar, syscr, syscw;
	unsigned long long self_bytes;
};

/*
 * One read() of /proc/self/io. That read itself adds its length to rchar
 * and 1 to syscr after the values were taken: @io->self_bytes says how
 * much, so deltas can be corrected exactly.
 */
static int read_io(struct io *io)
{
	char buf[1024], *p;
	int fd = open("/proc/self/io", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	memset(io, 0, sizeof(*io));
	io->self_bytes = n;
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		sscanf(p, "rchar: %llu", &io->rchar);
		sscanf(p, "wchar: %llu", &io->wchar);
		sscanf(p, "syscr: %llu", &io->syscr);
		sscanf(p, "syscw: %llu", &io->syscw);
	}
	return 0;
}

/* What a transfer between two samples added (the first sample's read out). */
static struct io io_delta(const struct io *a, const struct io *b)
{
	struct io d = {
		.rchar = b->rchar - a->rchar - a->self_bytes,
		.wchar = b->wchar - a->wchar,
		.syscr = b->syscr - a->syscr - 1,
		.syscw = b->syscw - a->syscw,
	};

	return d;
}

/* The watches: IN_ACCESS on the file, IN_MODIFY on each sending socket. */
enum { W_FILE, W_SOCK_A, W_SOCK_B, W_NR };

/*
 * Count the inotify events since the last call (non-blocking), per watch:
 * @n[i] gets the events on @wd[i] that carry @mask[i].
 */
static void count_events(int in, const int *wd, const uint32_t *mask, int *n)
{
	char buf[4096] __attribute__((aligned(8)));
	ssize_t len;
	int i;

	memset(n, 0, W_NR * sizeof(*n));
	while ((len = read(in, buf, sizeof(buf))) > 0) {
		char *p = buf;

		while (p < buf + len) {
			struct inotify_event *e = (void *)p;

			for (i = 0; i < W_NR; i++)
				if (e->wd == wd[i] && (e->mask & mask[i]))
					n[i]++;
			p += sizeof(*e) + e->len;
		}
	}
}

/*
 * An inotify watch on a socket, through its /proc/self/fd link: sockfs
 * inodes can be watched (mode 0777, so MAY_READ holds), and do_sendfile's
 * fsnotify_modify(out) reaches them as IN_MODIFY, as write(2) does.
 */
static int watch_sock(int in, int sock)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", sock);
	return inotify_add_watch(in, path, IN_MODIFY);
}

/*
 * /proc/self/io deltas, inotify IN_ACCESS on the file and IN_MODIFY on the
 * socket equal to sendfile's, for a transfer, a zero-length one and a
 * refused one. The receiver threads read with recv(), which /proc/self/io
 * also counts (one process), so the reads are waited for before each
 * sample.
 */
static void accounting(struct __test_metadata *_metadata,
		       struct _test_data_vs *self)
{
	static const uint32_t mask[W_NR] = { IN_ACCESS, IN_MODIFY, IN_MODIFY };
	char path[256];
	int in, wd[W_NR], na[W_NR], nb[W_NR], i, f = 4;
	uint64_t lens[3] = { 100000, 0, 5 };

	snprintf(path, sizeof(path), "%s/f%d", self->dir, f);
	in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	ASSERT_LE(0, in);
	wd[W_FILE] = inotify_add_watch(in, path, IN_ACCESS);
	ASSERT_LE(0, wd[W_FILE]);
	wd[W_SOCK_A] = watch_sock(in, self->a.snd);
	ASSERT_LE(0, wd[W_SOCK_A]) TH_LOG("socket watch: %s", strerror(errno));
	wd[W_SOCK_B] = watch_sock(in, self->b.snd);
	ASSERT_LE(0, wd[W_SOCK_B]);

	for (i = 0; i < 3; i++) {
		uint64_t len = lens[i] < self->sizes[f] ? lens[i] :
			       self->sizes[f];
		uint64_t off = i == 2 ? self->sizes[f] + 1 : 0;
		struct io a0, a1, b0, b1, da, db;
		struct outcome s, z;

		/* Settle the receivers' own recv() accounting first. */
		count_events(in, wd, mask, na);
		ASSERT_EQ(0, read_io(&a0));
		s = by_sendfile(&self->a, self->fds[f], off, len);
		ASSERT_EQ(0, read_io(&a1));
		count_events(in, wd, mask, na);

		ASSERT_EQ(0, read_io(&b0));
		z = by_ioctl(&self->b, self->dev, self->fds[f], off, len);
		ASSERT_EQ(0, read_io(&b1));
		count_events(in, wd, mask, nb);

		da = io_delta(&a0, &a1);
		db = io_delta(&b0, &b1);
		EXPECT_EQ(s.ret, z.ret);
		EXPECT_EQ(da.rchar, db.rchar);
		EXPECT_EQ(da.wchar, db.wchar);
		EXPECT_EQ(da.syscr, db.syscr);
		EXPECT_EQ(da.syscw, db.syscw);
		TH_LOG("len %" PRIu64 ": rchar %llu wchar %llu syscr %llu "
		       "syscw %llu, IN_ACCESS %d (sendfile) %d (ioctl), "
		       "IN_MODIFY on the socket %d (sendfile) %d (ioctl)",
		       len, da.rchar, da.wchar, da.syscr, da.syscw,
		       na[W_FILE], nb[W_FILE], na[W_SOCK_A], nb[W_SOCK_B]);
		EXPECT_EQ(na[W_FILE], nb[W_FILE]);
		EXPECT_EQ(s.ret > 0, na[W_FILE] > 0);
		EXPECT_EQ(na[W_SOCK_A], nb[W_SOCK_B]);
		EXPECT_EQ(s.ret > 0, na[W_SOCK_A] > 0);
		/* Each transfer touches its own socket only. */
		EXPECT_EQ(0, na[W_SOCK_B]);
		EXPECT_EQ(0, nb[W_SOCK_A]);
	}
	close(in);
}

/*
 * Edge ranges of every file, then random ones; then /proc/self/io and
 * inotify (one mount per file system: mkfs under TCG is slow).
 */
TEST_F_TIMEOUT(vs, ranges, 600)
{
	uint64_t s = seed ^ variant->kind, sz;
	/* Longest ranges: 8 and 4 MiB, a few batches (2 and 1 scaled). */
	uint64_t edge = zcsend_scaled() ? 2 * MIB : 8 * MIB;
	uint64_t span = zcsend_scaled() ? 1 * MIB : 4 * MIB;
	int i, k;

	for (i = 0; i < self->nfiles; i++) {
		sz = self->sizes[i];
		/*
		 * Each file from a cold cache, the first reading call by the
		 * ioctl for even files and by sendfile for odd ones: on every
		 * file system both read pages that were not cached.
		 */
		ASSERT_EQ(0, drop_page_cache());
		same_calls = i & 1;
		same(_metadata, self, i, 0, 0);
		same(_metadata, self, i, 0, 1);
		same(_metadata, self, i, 0, sz < edge ? sz : edge);
		same(_metadata, self, i, 4095, 2);
		same(_metadata, self, i, 4096, 4096);
		same(_metadata, self, i, sz, 1);
		same(_metadata, self, i, sz ? sz - 1 : 0, 100);
		same(_metadata, self, i, sz + 4096, 10);
		same(_metadata, self, i, sz > 70000 ? sz - 70000 : 0, 1 * MIB);
		same(_metadata, self, i, 1ULL << 62, 10);	/* s_maxbytes */
		same(_metadata, self, i, (1ULL << 63) - 5, 10);	/* overflow */
		for (k = 0; k < 4; k++) {
			uint64_t lim = sz < span ? sz + 8192 : span;
			uint64_t off = rnd(&s) % (lim + 1);

			if (sz > span)
				off += sz - span;
			same(_metadata, self, i, off, rnd(&s) % (lim + 1));
		}
	}
	/* Read-only: squashfs; 9p's limit would be the host's. */
	if (variant->kind != FS_SQUASHFS && variant->kind != FS_9P)
		at_maxbytes(_metadata, self, variant);
	EXPECT_EQ(0, rx_extra(&self->a.rx));
	EXPECT_EQ(0, rx_extra(&self->b.rx));
	accounting(_metadata, self);
}


/* A fresh pair of connections for the tests without the fixture. */
#define WITH_CONNS(a, b)						\
	struct conn a, b;						\
	ASSERT_EQ(0, conn_open(&a));					\
	ASSERT_EQ(0, conn_open(&b))

/* sysfs files (kernfs, copied into the pipe by splice) as sendfile. */
TEST(sysfs_as_sendfile)
{
	static const char *const files[] = {
		"/sys/module/zcsend/parameters/batch_pages",
		"/sys/kernel/mm/transparent_hugepage/enabled",
		"/sys/devices/system/cpu/online",
	};
	int dev = open(ZCSEND_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	unsigned int i;
	WITH_CONNS(a, b);

	ASSERT_LE(0, dev);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		int fd = open(files[i], O_RDONLY | O_CLOEXEC);

		ASSERT_LE(0, fd) TH_LOG("%s: %s", files[i], strerror(errno));
		compare(_metadata, dev, &a, &b, fd, 0, 4096);
		compare(_metadata, dev, &a, &b, fd, 1, 3);
		compare(_metadata, dev, &a, &b, fd, 4096, 10);
		close(fd);
	}
	conn_close(&a);
	conn_close(&b);
	close(dev);
}

#ifndef __NR_memfd_secret
#define __NR_memfd_secret 447
#endif

/* Files that sendfile refuses: the ioctl refuses them with its errno. */
TEST(bad_files_as_sendfile)
{
	int dev = open(ZCSEND_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	int fds[8], n = 0, p[2], i, tmp;
	WITH_CONNS(a, b);

	ASSERT_LE(0, dev);
	tmp = zcsend_make_file(NULL, "0123456789", 10);
	ASSERT_LE(0, tmp);
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	fds[n++] = p[0];
	fds[n++] = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	fds[n++] = eventfd(0, EFD_CLOEXEC);
	fds[n++] = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	fds[n++] = syscall(__NR_memfd_secret, O_CLOEXEC);
	fds[n++] = a.rx.fd;
	{
		char path[64];

		snprintf(path, sizeof(path), "/proc/self/fd/%d", tmp);
		fds[n++] = open(path, O_PATH | O_CLOEXEC);
		fds[n++] = open(path, O_WRONLY | O_CLOEXEC);
	}
	if (fds[4] >= 0)
		ASSERT_EQ(0, ftruncate(fds[4], 8192));
	for (i = 0; i < n; i++) {
		if (fds[i] < 0)
			continue;
		EXPECT_EQ(-1, compare(_metadata, dev, &a, &b, fds[i], 0, 1))
			TH_LOG("fd kind %d", i);
		close(fds[i]);
	}
	EXPECT_EQ(-1, compare(_metadata, dev, &a, &b, tmp, 1ULL << 63, 1));
	EXPECT_EQ(-1, compare(_metadata, dev, &a, &b, tmp, INT64_MAX - 5,
			      10));
	close(p[1]);
	close(tmp);
	conn_close(&a);
	conn_close(&b);
	close(dev);
}

/*
 * The 2 GiB clamp: one call sends at most MAX_RW_COUNT (2 GiB - 4 KiB), the
 * same count and offset as sendfile, from a sparse tmpfs file (holes read
 * as the zero page). Received bytes are counted, not hashed (time).
 * Scaled (the debug kernel), nothing is sent: the ioctl alone took 289 s
 * there (2026-12-07), a third of this program's time, repeating one batch
 * loop 32,768 times; the clamp is the same code on every kernel and is
 * judged on 6.1 and 6.12, in seconds.
 */
FIXTURE(big) {
	int unused;
};

FIXTURE_SETUP(big)
{
}

FIXTURE_TEARDOWN(big)
{
}

TEST_F_TIMEOUT(big, clamp_2g, 600)
{
	int dev = open(ZCSEND_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	int fd = zcsend_make_file(NULL, NULL, 0);
	struct outcome s, z;
	WITH_CONNS(a, b);

	ASSERT_LE(0, dev);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 3 * GIB));
	if (zcsend_scaled()) {
		TH_LOG("scaled: the 2 GiB clamp is judged on the stock kernels");
		goto out;
	}
	rx_set_discard(&a.rx, true);
	rx_set_discard(&b.rx, true);
	z = by_ioctl(&b, dev, fd, 4096, 3 * GIB);
	EXPECT_EQ(MAX_RW, z.ret);
	EXPECT_EQ(4096 + MAX_RW, z.off);
	s = by_sendfile(&a, fd, 4096, 3 * GIB);
	EXPECT_EQ(MAX_RW, s.ret);
	EXPECT_EQ(s.off, z.off);
out:
	conn_close(&a);
	conn_close(&b);
	close(fd);
	close(dev);
}

/*
 * Pinned bytes during a blocked send. A blocking send of a large file into
 * a socket that nobody reads sleeps with some of the file's pages
 * referenced: those in the two TCP queues (the sender's write queue and,
 * over loopback, the receiver's receive queue hold the file's pages
 * themselves) and those the sender gathered but could not queue yet. The
 * module sizes a batch to what the socket can take now (its space and one
 * skb), with one 64 KiB pipe round as the floor (what sendfile(2) reads
 * ahead), so while it sleeps it holds no more than that, whatever
 * batch_pages is. A sender
 * that gathers batch_pages (1024) pipe buffers before it sends, as the
 * module once did, was measured here at 4,259,840 bytes on ext4 and, on
 * 6.1, where one pipe buffer can span a large folio, 66,846,720 on XFS.
 *
 * Measured as the kernel sees it: POSIX_FADV_DONTNEED evicts every clean
 * page-cache folio that has no extra reference, and mincore(2) counts what
 * stayed. The bound is the queues' bytes (SIOCOUTQ + SIOCINQ) plus one
 * pipe round plus one folio (the pinned range starts at offset 0 and ends
 * inside a folio). ext4 has no large folios in 6.1 or 6.12 (a folio is a
 * page); XFS makes them on readahead, on 6.1 and 6.12, up to PMD size. The
 * same bound is asserted for sendfile(2) under the same conditions, which
 * shows the bound is one a correct sender meets. tmpfs cannot be measured
 * this way: its pages are the only copy, never evicted.
 */
/*
 * More than 1024 64-KiB pipe buffers. Scaled (the debug kernel, 6.12, whose
 * pipe buffers hold one page each): 16 MiB, still four batches of 1024 pages.
 */
#define PIN_FILE	(zcsend_scaled() ? 16 * MIB : 96 * MIB)
#define PIN_BUF		16384		/* SO_SNDBUF and SO_RCVBUF, locked */
#define PIN_ROUND	(64 * KIB)	/* one pipe round: 16 pages */
#define BATCH_PARAM	"/sys/module/zcsend/parameters/batch_pages"
#define DEFER_PARAM	"/proc/sys/net/core/skb_defer_max"

FIXTURE(pinned) {
	char work[64];
	char dir[128];
	char batch[16];		/* batch_pages before the test */
	char defer[16];		/* skb_defer_max before the test */
	int dev;
	int fd;
	void *map;
	unsigned char *vec;
	long page;
};

FIXTURE_VARIANT(pinned) {
	const char *type;
	const char *mkfs;
	uint64_t folio_max;	/* largest page-cache folio of the fs */
};

FIXTURE_VARIANT_ADD(pinned, ext4) { .type = "ext4",
				    .mkfs = "mkfs.ext4 -q -F",
				    .folio_max = 4 * KIB };
FIXTURE_VARIANT_ADD(pinned, xfs) { .type = "xfs", .mkfs = "mkfs.xfs -q -f",
				   .folio_max = 2 * MIB };

/* The file's bytes: a function of the offset, checked as they arrive. */
static unsigned char pin_byte(uint64_t o)
{
	uint32_t w = (uint32_t)(o >> 2) * 2654435761u ^ (uint32_t)(o >> 30);

	return w >> (8 * (o & 3));
}

static void pin_fill(unsigned char *buf, uint64_t off, size_t n, void *arg)
{
	size_t i;

	(void)arg;
	for (i = 0; i < n; i++)
		buf[i] = pin_byte(off + i);
}

/* Bytes of the file still in the page cache after DONTNEED. */
static long long pin_resident(struct _test_data_pinned *self)
{
	long long n = 0;
	size_t i, pages = PIN_FILE / self->page;

	if (posix_fadvise(self->fd, 0, 0, POSIX_FADV_DONTNEED) ||
	    mincore(self->map, PIN_FILE, self->vec))
		return -1;
	for (i = 0; i < pages; i++)
		n += self->vec[i] & 1;
	return n * self->page;
}

FIXTURE_SETUP(pinned)
{
	char type[64];

	self->fd = -1;
	self->map = MAP_FAILED;
	self->page = sysconf(_SC_PAGESIZE);
	self->dev = open(ZCSEND_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev);
	ASSERT_EQ(0, zcsend_read_param(BATCH_PARAM, self->batch, sizeof(self->batch)));
	/* The largest batch: the most a sender that ignores the socket pins. */
	ASSERT_EQ(0, zcsend_write_param(BATCH_PARAM, "1024"));
	/*
	 * An skb read on another CPU than the one that made it is freed
	 * later, in that CPU's next network softirq (skb_attempt_defer_free),
	 * and holds its pages until then: an idle guest may keep them for
	 * good. Free at once, so that "nothing stays pinned" can be checked.
	 */
	ASSERT_EQ(0, zcsend_read_param(DEFER_PARAM, self->defer, sizeof(self->defer)));
	ASSERT_EQ(0, zcsend_write_param(DEFER_PARAM, "0"));

	strcpy(self->work, "/tmp/zcsend-pin.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->work));
	snprintf(self->dir, sizeof(self->dir), "%s/mnt", self->work);
	ASSERT_EQ(0, mkdir(self->dir, 0755));
	ASSERT_EQ(0, zcsend_run("truncate -s 1G %s/img && %s %s/img "
				">/dev/null 2>&1 && modprobe loop && "
				"mount -t %s $(losetup --find --show %s/img) "
				"%s", self->work, variant->mkfs, self->work,
				variant->type, self->work, self->dir));
	ASSERT_EQ(0, fs_type_of(self->dir, type, sizeof(type)));
	ASSERT_EQ(0, strcmp(type, variant->type));

	self->fd = zcsend_make_file_fill(self->dir, PIN_FILE, pin_fill, NULL);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, fsync(self->fd));
	self->map = mmap(NULL, PIN_FILE, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->map);
	self->vec = malloc(PIN_FILE / self->page);
	ASSERT_NE(NULL, self->vec);
	/* The measurement works here: unreferenced pages all leave. */
	ASSERT_EQ(0, pin_resident(self));
}

FIXTURE_TEARDOWN(pinned)
{
	if (self->map != MAP_FAILED)
		munmap(self->map, PIN_FILE);
	free(self->vec);
	if (self->fd >= 0)
		close(self->fd);
	umount2(self->dir, 0);
	zcsend_run("for d in $(losetup -n -O NAME -j %s/img); do "
		   "losetup -d $d; done; rm -rf %s", self->work, self->work);
	if (self->batch[0])
		zcsend_write_param(BATCH_PARAM, self->batch);
	if (self->defer[0])
		zcsend_write_param(DEFER_PARAM, self->defer);
	close(self->dev);
}

/* One blocking send of the whole file in a thread: the ioctl or sendfile. */
struct pin_send {
	pthread_t thr;
	int dev;		/* -1: sendfile(2) */
	int fd;
	int snd;
	long long ret;
	int err;
	int tid;
};

static void *pin_send_main(void *arg)
{
	struct pin_send *p = arg;

	__atomic_store_n(&p->tid, (int)syscall(SYS_gettid), __ATOMIC_RELEASE);
	if (p->dev < 0) {
		off_t pos = 0;

		p->ret = sendfile(p->snd, p->fd, &pos, PIN_FILE);
	} else {
		struct zcsend_file a = { .size = sizeof(a), .file_fd = p->fd,
					 .sock_fd = p->snd,
					 .length = PIN_FILE };

		p->ret = ioctl(p->dev, ZCSEND_IOC_SENDFILE, &a) ? -1 :
			 (long long)a.sent;
	}
	p->err = p->ret < 0 ? errno : 0;
	return NULL;
}

/* The thread's state letter and wchan (what it sleeps in). */
static char task_state(int tid, char *wchan, size_t size)
{
	char path[64], buf[512], *p, st = '?';
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	f = fopen(path, "re");
	if (f) {
		if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')))
			st = p[2];
		fclose(f);
	}
	snprintf(path, sizeof(path), "/proc/self/task/%d/wchan", tid);
	wchan[0] = 0;
	f = fopen(path, "re");
	if (f) {
		if (!fgets(wchan, size, f))
			wchan[0] = 0;
		fclose(f);
	}
	return st;
}

/*
 * Wait until the sender sleeps and neither queue has moved for a second.
 * Return: the queues' bytes (SIOCOUTQ + SIOCINQ), or -1 after 300 s.
 */
static long long wait_blocked(struct pin_send *p, int rcv, char *wchan,
			      size_t size)
{
	int outq, inq, last_out = -1, last_in = -1, same = 0, t, tid = 0;

	for (t = 0; t < 3000; t++) {
		usleep(100000);
		if (!tid)
			tid = __atomic_load_n(&p->tid, __ATOMIC_ACQUIRE);
		if (!tid || ioctl(p->snd, SIOCOUTQ, &outq) ||
		    ioctl(rcv, SIOCINQ, &inq))
			continue;
		if (outq == last_out && inq == last_in && outq + inq > 0 &&
		    task_state(tid, wchan, size) == 'S')
			same++;
		else
			same = 0;
		last_out = outq;
		last_in = inq;
		if (same == 10)
			return (long long)outq + inq;
	}
	return -1;
}

/* Read @len bytes of the file's pattern from @fd: 0 when all are exact. */
static int pin_receive(int fd, uint64_t len)
{
	static unsigned char buf[256 * 1024], want[256 * 1024];
	uint64_t got = 0;
	int bad = 0;

	while (got < len) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		pin_fill(want, got, n, NULL);
		bad |= memcmp(buf, want, n) != 0;
		got += n;
	}
	return bad ? -1 : 0;
}

/*
 * One blocked send by @dev (or sendfile when -1): what stays resident while
 * it sleeps must fit the bound; then the receiver reads all, the bytes are
 * exact, and nothing of the file stays pinned.
 */
static void pin_measure(struct __test_metadata *_metadata,
			struct _test_data_pinned *self,
			const struct _fixture_variant_pinned *variant, int dev)
{
	const char *who = dev < 0 ? "sendfile" : "ioctl";
	struct pin_send p = { .dev = dev, .fd = self->fd };
	long long queued, res, res2, bound;
	struct timespec t0, t1;
	char wchan[128];
	int rcv, t;

	ASSERT_EQ(0, zcsend_tcp_pair(AF_INET, &p.snd, &rcv, PIN_BUF));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ASSERT_EQ(0, pthread_create(&p.thr, NULL, pin_send_main, &p));
	queued = wait_blocked(&p, rcv, wchan, sizeof(wchan));
	ASSERT_LT(0, queued) TH_LOG("%s never blocked", who);

	/* Twice, the smaller one counts: a transient reference is no pin. */
	res = pin_resident(self);
	res2 = pin_resident(self);
	ASSERT_LE(0, res);
	ASSERT_LE(0, res2);
	if (res2 < res)
		res = res2;
	bound = queued + PIN_ROUND + variant->folio_max;
	TH_LOG("%s on %s, blocked in %s: %lld bytes resident, %lld queued, "
	       "bound %lld", who, variant->type, wchan, res, queued, bound);
	EXPECT_LE(res, bound);

	EXPECT_EQ(0, pin_receive(rcv, PIN_FILE));
	pthread_join(p.thr, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	EXPECT_EQ(PIN_FILE, p.ret) TH_LOG("%s: errno %d", who, p.err);
	TH_LOG("%s: the whole send took %.1f s", who, t1.tv_sec - t0.tv_sec +
	       (t1.tv_nsec - t0.tv_nsec) / 1e9);
	close(p.snd);
	close(rcv);

	/* Nothing stays pinned (ACKs and frees may lag a moment). */
	for (t = 0; t < 50 && (res = pin_resident(self)) > 0; t++)
		usleep(100000);
	EXPECT_EQ(0, res) {
		size_t i = 0;

		while (i < PIN_FILE / self->page && !(self->vec[i] & 1))
			i++;
		TH_LOG("%s: still resident from offset %zu", who,
		       i * self->page);
	}
}

TEST_F_TIMEOUT(pinned, blocked_send, 600)
{
	pin_measure(_metadata, self, variant, -1);
	pin_measure(_metadata, self, variant, self->dev);
}

int main(int argc, char **argv)
{
	const char *env = getenv("ZCSEND_SEED");

	seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL);
	printf("# seed %" PRIu64 " (replay with ZCSEND_SEED=%" PRIu64 ")\n",
	       seed, seed);
	fflush(stdout);
	if (geteuid() != 0)
		ksft_exit_skip("needs root\n");
	if (access("/sys/module/zcsend", F_OK) != 0)
		ksft_exit_skip("zcsend module not loaded\n");
	return test_harness_run(argc, argv);
}
