// SPDX-License-Identifier: GPL-2.0
/*
 * zcsend bench: the hand-over to the benchmark, a program of its own
 * (bench/, zcsend-bench), so that the tool does not carry the benchmark
 * (it links liburing only for "zcsend send --uring", send_uring.c). The
 * program is looked for beside this one (the build tree:
 * userspace/zcsend-bench, built with the tool), then in ZCSEND_LIBDIR
 * (where the package installs it), and runs with this command's arguments.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "zcsend.h"

#ifndef ZCSEND_LIBDIR
#define ZCSEND_LIBDIR "/usr/lib/zcsend"
#endif
#define BENCH_PROGRAM "zcsend-bench"

/* BENCH_PROGRAM in the directory of this program: 0, or -1 if none. */
static int beside_self(char *path, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return -1;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	if ((size_t)snprintf(path, len, "%s/%s", self, BENCH_PROGRAM) >= len)
		return -1;
	return access(path, X_OK);
}

int cmd_bench(int argc, char **argv)
{
	char path[PATH_MAX];

	(void)argc;
	if (beside_self(path, sizeof(path)))
		snprintf(path, sizeof(path), "%s/%s", ZCSEND_LIBDIR, BENCH_PROGRAM);
	argv[0] = path;
	execv(path, argv);
	fprintf(stderr, "zcsend bench: cannot run %s: %s (the benchmark is built with the tool: make -C userspace)\n",
		path, strerror(errno));
	return 1;
}
