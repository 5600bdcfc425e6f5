/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by zcsend's selftests. Include after kselftest_harness.h.
 */
#ifndef ZCSEND_TEST_H
#define ZCSEND_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

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

#endif /* ZCSEND_TEST_H */
