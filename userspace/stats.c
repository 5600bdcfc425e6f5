// SPDX-License-Identifier: GPL-2.0
/* zcsend stats/config: placeholder until the netlink family lands. */
#include <stdio.h>

#include "zcsend.h"

int cmd_stats(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "zcsend stats: not implemented yet\n");
	return 1;
}

int cmd_config(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "zcsend config: not implemented yet\n");
	return 1;
}
