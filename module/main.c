// SPDX-License-Identifier: GPL-2.0
/*
 * zcsend: the character device /dev/zcsend and module lifecycle.
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>

#include "zcsend.h"

/*
 * Commands are matched on type, direction and number, not on the size the
 * number encodes: the structs carry their own size field, so a caller
 * built with a grown struct (whose _IOWR encodes the larger size) reaches
 * the same command, as with openat2(2) and clone3(2).
 */
static long zcsend_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	if (_IOC_TYPE(cmd) != ZCSEND_IOC_MAGIC ||
	    _IOC_DIR(cmd) != (_IOC_READ | _IOC_WRITE))
		return -ENOTTY;

	switch (_IOC_NR(cmd)) {
	case _IOC_NR(ZCSEND_IOC_SENDFILE):
		return zcsend_ioctl_sendfile(uarg);
	case _IOC_NR(ZCSEND_IOC_SENDVEC):
		return zcsend_ioctl_sendvec(uarg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations zcsend_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= zcsend_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.uring_cmd	= zcsend_uring_cmd,
	.llseek		= noop_llseek,
};

/*
 * Mode 0600: the ioctl makes every check sendfile(2) makes, but it is new
 * kernel surface; a lab that wants it open to users says so with udev.
 */
static struct miscdevice zcsend_miscdev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= ZCSEND_DEVICE_NAME,
	.fops	= &zcsend_fops,
	.mode	= 0600,
};

static int __init zcsend_init(void)
{
	int err;

	err = zcsend_stats_init();
	if (err)
		return err;

	err = zcsend_genl_init();
	if (err)
		goto err_stats;

	err = zcsend_drop_init();
	if (err)
		goto err_genl;

	err = misc_register(&zcsend_miscdev);
	if (err)
		goto err_drop;

	pr_debug("loaded, batch_pages=%u\n", zcsend_batch_pages_get());
	return 0;

err_drop:
	zcsend_drop_exit();
err_genl:
	zcsend_genl_exit();
err_stats:
	zcsend_stats_exit();
	return err;
}

static void __exit zcsend_exit(void)
{
	misc_deregister(&zcsend_miscdev);
	/* After every pending drop: each held a module reference. */
	zcsend_drop_exit();
	zcsend_genl_exit();
	zcsend_stats_exit();
}

module_init(zcsend_init);
module_exit(zcsend_exit);

MODULE_DESCRIPTION("Send page-cache pages to TCP sockets without a CPU copy");
MODULE_AUTHOR("The zcsend authors");
MODULE_LICENSE("GPL");
MODULE_VERSION(ZCSEND_VERSION);
