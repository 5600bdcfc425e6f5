/* SPDX-License-Identifier: GPL-2.0 */
/* zcsend tool: subcommands, one source file each. */
#ifndef ZCSEND_TOOL_H
#define ZCSEND_TOOL_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Each subcommand gets argv with argv[0] the subcommand's name and returns
 * the process exit status: 0 ok, 1 failure, 2 usage error.
 */
int cmd_send(int argc, char **argv);	/* send.c */
int cmd_stats(int argc, char **argv);	/* stats.c */
int cmd_config(int argc, char **argv);	/* config.c */
int cmd_bench(int argc, char **argv);	/* bench_cmd.c: runs zcsend-bench */

#define EXIT_USAGE 2

/* send_uring.c: zcsend send --uring, the tool's only use of liburing. */
int send_uring(int dev, int file_fd, int sock_fd, uint64_t offset,
	       uint64_t length, bool nonblock, uint64_t *total);

#endif /* ZCSEND_TOOL_H */
