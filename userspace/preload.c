// SPDX-License-Identifier: GPL-2.0
/*
 * libzcsend-preload.so: sendfile(2) through the zcsend module, for programs
 * that cannot be changed (nginx, any static file server):
 *
 *   LD_PRELOAD=/usr/lib/zcsend/libzcsend-preload.so nginx ...
 *
 * sendfile() and sendfile64() try ZCSEND_IOC_SENDFILE first and fall back
 * to the C library's sendfile (dlsym(RTLD_NEXT)) on the errors that mean
 * "the ioctl does not apply" (uapi/linux/zcsend.h): EINVAL (not a regular
 * file, no page cache, a bad offset), ENOTSOCK (a pipe, a file),
 * EOPNOTSUPP (not TCP), ENOTCONN, EBADF, E2BIG, ENOTTY (the device fd is
 * not zcsend's any more). The fallback then gives sendfile's own result
 * and errno for these cases. Every other result of the ioctl is sendfile's
 * contract already: a partial count once any byte is queued, EAGAIN on a
 * full non-blocking socket, EPIPE with SIGPIPE, ECONNRESET, EINTR.
 *
 * With an offset pointer (what servers pass) the common path is the ioctl
 * alone: no extra system call. With a NULL offset the file position is
 * read and moved with lseek(2), as sendfile(2) reads and moves it.
 *
 * /dev/zcsend is opened once, O_CLOEXEC, when the library is loaded, so a
 * server started as root keeps it in workers that drop privileges after
 * fork. If it cannot be opened (missing, not permitted), every call goes
 * to the real sendfile. No locks: the state is atomics, so threads and
 * fork() (at any time) are safe.
 *
 * Counters: ZCSEND_PRELOAD_STATS=FILE (read at load time, since servers
 * such as nginx clear their workers' environment) makes every process
 * append one line to FILE at exit:
 *   zcsend-preload pid=P ioctl_calls=N ioctl_bytes=N fallback_calls=N fallback_bytes=N
 * Counts are per process: a child starts at zero after fork().
 * ZCSEND_PRELOAD_DEVICE=PATH opens PATH instead of /dev/zcsend (tests).
 *
 * Difference from sendfile(2): an offset pointer that is not readable
 * faults in the caller (SIGSEGV) instead of returning EFAULT.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/zcsend.h>

#include "preload.h"

#define PUBLIC __attribute__((visibility("default")))

/* dev_fd: an open /dev/zcsend, or one of these. */
#define DEV_NONE	(-1)	/* not available: always fall back */
#define DEV_REOPEN	(-2)	/* lost (closed or reused): open again */

typedef ssize_t (*sendfile_fn)(int, int, off_t *, size_t);

static _Atomic int dev_fd = DEV_NONE;
static _Atomic uint64_t dev_id[2];	/* st_dev, st_ino of what we opened */
static _Atomic(sendfile_fn) real_sendfile_fn;
static char stats_path[PATH_MAX];
static char dev_path[PATH_MAX] = ZCSEND_DEVICE_PATH;

static _Atomic uint64_t n_ioctl_calls, n_ioctl_bytes;
static _Atomic uint64_t n_fallback_calls, n_fallback_bytes;

static void tally(_Atomic uint64_t *calls, _Atomic uint64_t *bytes, ssize_t ret)
{
	atomic_fetch_add_explicit(calls, 1, memory_order_relaxed);
	if (ret > 0)
		atomic_fetch_add_explicit(bytes, (uint64_t)ret,
					  memory_order_relaxed);
}

void zcsend_preload_counters(struct zcsend_preload_counters *c)
{
	c->ioctl_calls = atomic_load(&n_ioctl_calls);
	c->ioctl_bytes = atomic_load(&n_ioctl_bytes);
	c->fallback_calls = atomic_load(&n_fallback_calls);
	c->fallback_bytes = atomic_load(&n_fallback_bytes);
}

static void reset_counters(void)
{
	atomic_store(&n_ioctl_calls, 0);
	atomic_store(&n_ioctl_bytes, 0);
	atomic_store(&n_fallback_calls, 0);
	atomic_store(&n_fallback_bytes, 0);
}

static ssize_t real_sendfile(int out_fd, int in_fd, off_t *offset, size_t count)
{
	sendfile_fn fn = atomic_load_explicit(&real_sendfile_fn,
					      memory_order_acquire);

	if (!fn) {
		/* Racing threads find the same pointer: no lock needed. */
		fn = (sendfile_fn)dlsym(RTLD_NEXT, "sendfile");
		if (!fn) {
			errno = ENOSYS;
			return -1;
		}
		atomic_store_explicit(&real_sendfile_fn, fn,
				      memory_order_release);
	}
	return fn(out_fd, in_fd, offset, count);
}

/* Open the device; the first opener wins, a loser closes its copy. */
static int device(void)
{
	int fd = atomic_load_explicit(&dev_fd, memory_order_acquire);
	int want = DEV_REOPEN;
	struct stat st;

	if (fd != DEV_REOPEN)
		return fd;
	fd = open(dev_path, O_RDWR | O_CLOEXEC);
	if (fd >= 0 && fstat(fd, &st) == 0) {
		atomic_store(&dev_id[0], (uint64_t)st.st_dev);
		atomic_store(&dev_id[1], (uint64_t)st.st_ino);
	} else if (fd >= 0) {
		close(fd);
		fd = DEV_NONE;
	} else {
		fd = DEV_NONE;
	}
	if (!atomic_compare_exchange_strong(&dev_fd, &want, fd)) {
		if (fd >= 0)
			close(fd);
		return want;
	}
	return fd;
}

/*
 * The ioctl said EBADF or ENOTTY (rare: not the common path). Either the
 * caller's descriptors are bad, or ours is gone (a daemon closed every fd)
 * or now names another file, or the device we opened is not zcsend
 * (ZCSEND_PRELOAD_DEVICE). Open the device again on the next call when ours
 * is gone or reused (the number is not ours to close then); give up on a
 * device that does not know the ioctl.
 */
static void device_lost(int fd, int err)
{
	struct stat st;
	int next;

	if (fstat(fd, &st) < 0)
		next = DEV_REOPEN;
	else if ((uint64_t)st.st_dev != atomic_load(&dev_id[0]) ||
		 (uint64_t)st.st_ino != atomic_load(&dev_id[1]))
		next = DEV_REOPEN;
	else if (err == ENOTTY)
		next = DEV_NONE;
	else
		return;		/* EBADF about the caller's fds */
	atomic_compare_exchange_strong(&dev_fd, &fd, next);
}

/*
 * One ZCSEND_IOC_SENDFILE. Returns the bytes queued (>= 0), -1 with errno
 * for a result sendfile would give, or -2 when the ioctl does not apply.
 */
static ssize_t try_ioctl(int out_fd, int in_fd, off_t off, size_t count,
			 off_t *next)
{
	struct zcsend_file zf = {
		.size = sizeof(zf),
		.file_fd = in_fd,
		.sock_fd = out_fd,
		.offset = (uint64_t)off,
		.length = count,
	};
	int fd = device();

	if (fd < 0 || off < 0)
		return -2;
	if (ioctl(fd, ZCSEND_IOC_SENDFILE, &zf) == 0) {
		*next = (off_t)zf.offset;
		return (ssize_t)zf.sent;
	}
	switch (errno) {
	case EBADF:
	case ENOTTY:
		device_lost(fd, errno);
		return -2;
	case EINVAL:
	case ENOTSOCK:
	case EOPNOTSUPP:
	case ENOTCONN:
	case E2BIG:
		return -2;
	default:
		return -1;
	}
}

static ssize_t zc_sendfile(int out_fd, int in_fd, off_t *offset, size_t count)
{
	int saved = errno;
	off_t pos, next = 0;
	ssize_t ret;

	if (atomic_load_explicit(&dev_fd, memory_order_relaxed) == DEV_NONE)
		goto fallback;

	if (offset) {
		ret = try_ioctl(out_fd, in_fd, *offset, count, &next);
		if (ret >= 0)
			*offset = next;
	} else {
		/* sendfile(2) uses and moves the file position. */
		pos = lseek(in_fd, 0, SEEK_CUR);
		if (pos < 0)
			goto fallback;	/* a pipe, a bad fd: sendfile says */
		ret = try_ioctl(out_fd, in_fd, pos, count, &next);
		if (ret > 0 && lseek(in_fd, next, SEEK_SET) < 0)
			ret = -1;	/* cannot happen for a regular file */
	}
	if (ret != -2) {
		tally(&n_ioctl_calls, &n_ioctl_bytes, ret);
		return ret;
	}
	errno = saved;
fallback:
	ret = real_sendfile(out_fd, in_fd, offset, count);
	tally(&n_fallback_calls, &n_fallback_bytes, ret);
	return ret;
}

PUBLIC ssize_t sendfile(int out_fd, int in_fd, off_t *offset, size_t count)
{
	return zc_sendfile(out_fd, in_fd, offset, count);
}

/* off_t is 64-bit on every 64-bit ABI: sendfile64 is the same call. */
_Static_assert(sizeof(off_t) == 8, "64-bit off_t");
PUBLIC ssize_t sendfile64(int out_fd, int in_fd, off_t *offset, size_t count)
{
	return zc_sendfile(out_fd, in_fd, offset, count);
}

static void copy_env(char *dst, size_t size, const char *name)
{
	const char *v = getenv(name);

	if (v && *v && strlen(v) < size)
		memcpy(dst, v, strlen(v) + 1);
}

__attribute__((constructor))
static void preload_init(void)
{
	copy_env(stats_path, sizeof(stats_path), "ZCSEND_PRELOAD_STATS");
	copy_env(dev_path, sizeof(dev_path), "ZCSEND_PRELOAD_DEVICE");
	pthread_atfork(NULL, NULL, reset_counters);
	atomic_store(&dev_fd, DEV_REOPEN);
	device();
}

__attribute__((destructor))
static void preload_fini(void)
{
	struct zcsend_preload_counters c;
	char line[256];
	int fd, len, saved = errno;

	if (!stats_path[0])
		return;
	zcsend_preload_counters(&c);
	len = snprintf(line, sizeof(line),
		       "zcsend-preload pid=%d ioctl_calls=%llu ioctl_bytes=%llu fallback_calls=%llu fallback_bytes=%llu\n",
		       (int)getpid(), (unsigned long long)c.ioctl_calls,
		       (unsigned long long)c.ioctl_bytes,
		       (unsigned long long)c.fallback_calls,
		       (unsigned long long)c.fallback_bytes);
	fd = open(stats_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0) {
		/* One write of one line: O_APPEND keeps processes' lines whole. */
		if (write(fd, line, (size_t)len) != len)
			len = -1;
		close(fd);
	}
	errno = saved;
}
