// SPDX-License-Identifier: GPL-2.0
/* zcsend bench: placeholder until the benchmark lands. */
#include <stdio.h>

#include "zcsend.h"

int cmd_bench(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "zcsend bench: not implemented yet\n");
	return 1;
}
