// SPDX-License-Identifier: GPL-2.0
/*
 * zcsend: generic netlink family. Placeholder until the netlink issue lands.
 */
#include "zcsend.h"

/**
 * zcsend_genl_init() - register the generic netlink family
 *
 * Return: 0.
 */
int zcsend_genl_init(void)
{
	return 0;
}

/**
 * zcsend_genl_exit() - unregister the generic netlink family
 */
void zcsend_genl_exit(void)
{
}
