// SPDX-License-Identifier: GPL-2.0
/*
 * The device's lifecycle: /dev/zcsend exists with its documented mode while
 * the module is loaded, answers ENOTTY to unknown ioctls, and is gone after
 * the module is removed. The unload test needs ZCSEND_KO (the module file,
 * set by scripts/testbed/vm-run --load) to load the module again afterwards.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/zcsend.h>

#include "kselftest_harness.h"
#include "zcsend_test.h"

static int module_loaded(void)
{
	return access("/sys/module/zcsend", F_OK) == 0;
}

FIXTURE(dev) {
	int fd;
};

FIXTURE_SETUP(dev)
{
	self->fd = open(ZCSEND_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %m", ZCSEND_DEVICE_PATH);
}

FIXTURE_TEARDOWN(dev)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(dev, node_mode)
{
	struct stat st;

	ASSERT_EQ(0, stat(ZCSEND_DEVICE_PATH, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0600, st.st_mode & 07777);
	EXPECT_EQ(0, st.st_uid);
	EXPECT_EQ(0, st.st_gid);
}

FIXTURE_VARIANT(dev_ioctl) {
	unsigned long cmd;
};

FIXTURE(dev_ioctl) {
	int fd;
};

FIXTURE_VARIANT_ADD(dev_ioctl, zero) { .cmd = 0 };
FIXTURE_VARIANT_ADD(dev_ioctl, other_magic) { .cmd = _IO('X', 0x40) };
FIXTURE_VARIANT_ADD(dev_ioctl, unused_nr) { .cmd = _IOWR('Z', 0x7f, struct zcsend_file) };
FIXTURE_VARIANT_ADD(dev_ioctl, wrong_dir) { .cmd = _IOR('Z', 0x40, struct zcsend_file) };
FIXTURE_VARIANT_ADD(dev_ioctl, tty_get) { .cmd = TCGETS };

FIXTURE_SETUP(dev_ioctl)
{
	self->fd = open(ZCSEND_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(dev_ioctl)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(dev_ioctl, enotty)
{
	char buf[256] = { 0 };

	EXPECT_EQ(-1, ioctl(self->fd, variant->cmd, buf));
	EXPECT_EQ(ENOTTY, errno);
}

/*
 * The size encoded in an ioctl number is not checked: the struct's own
 * size field is, so a caller built against a grown struct reaches the same
 * command. A zeroed struct (size 0) is then refused with EINVAL.
 */
TEST(encoded_size_ignored)
{
	char buf[256] = { 0 };
	int fd = open(ZCSEND_DEVICE_PATH, O_RDWR | O_CLOEXEC);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, ioctl(fd, _IOWR('Z', 0x40, __u32), buf));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(fd, _IOWR('Z', 0x41, char[128]), buf));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
}

TEST(unload_removes_node)
{
	const char *ko = getenv("ZCSEND_KO");
	struct stat st;

	if (!ko)
		SKIP(return, "ZCSEND_KO not set: cannot load the module again");

	ASSERT_EQ(0, stat(ZCSEND_DEVICE_PATH, &st));
	ASSERT_EQ(0, zcsend_unload_module())
		TH_LOG("delete_module: %m");
	EXPECT_EQ(-1, stat(ZCSEND_DEVICE_PATH, &st));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_FALSE(module_loaded());

	ASSERT_EQ(0, zcsend_load_module(ko)) TH_LOG("finit_module %s: %m", ko);
	EXPECT_EQ(0, stat(ZCSEND_DEVICE_PATH, &st));
}

ZCSEND_TEST_MAIN
