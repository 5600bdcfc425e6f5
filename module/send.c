// SPDX-License-Identifier: GPL-2.0
/*
 * zcsend: the send path. Placeholder until the SG-send ioctl lands.
 */
#include <linux/errno.h>

#include "zcsend.h"

/**
 * zcsend_ioctl_sendfile() - ZCSEND_IOC_SENDFILE
 * @arg: user pointer to struct zcsend_file
 *
 * Return: -ENOTTY until implemented.
 */
long zcsend_ioctl_sendfile(void __user *arg)
{
	return -ENOTTY;
}

/**
 * zcsend_ioctl_sendvec() - ZCSEND_IOC_SENDVEC
 * @arg: user pointer to struct zcsend_vec
 *
 * Return: -ENOTTY until implemented.
 */
long zcsend_ioctl_sendvec(void __user *arg)
{
	return -ENOTTY;
}
