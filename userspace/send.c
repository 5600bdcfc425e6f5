// SPDX-License-Identifier: GPL-2.0
/* zcsend send: placeholder until the SG-send ioctl lands. */
#include <stdio.h>

#include "zcsend.h"

int cmd_send(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "zcsend send: not implemented yet\n");
	return 1;
}
