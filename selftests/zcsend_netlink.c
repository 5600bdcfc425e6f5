// SPDX-License-Identifier: GPL-2.0
/*
 * The generic netlink family "zcsend", through the tool's own client
 * (userspace/genl.c, on libnl-genl-3): counters are readable by anyone and
 * exact, reset zeroes them, the configuration round-trips and changes what
 * the ioctl does, bad requests are refused with the right errno and an
 * extended-ack message, unprivileged users cannot change state, readers
 * during traffic see monotonic counters, and the module unloads with netlink
 * sockets open.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <grp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <netlink/cache.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/family.h>
#include <netlink/genl/genl.h>
#include <netlink/socket.h>

#include <linux/zcsend.h>

#include "kselftest_harness.h"
#include "zcsend_test.h"
#include "genl.h"		/* userspace/genl.c, the tool's client */

#define NSTATS		ZC_NSTATS
#define STAT_FIRST	ZC_STAT_FIRST
#define MAX_CPUS	1024
#define PARAM_PATH	"/sys/module/zcsend/parameters/batch_pages"
#define NOBODY		65534

/* ---- statistics and configuration, through userspace/genl.c ---------- */

struct dump_ctx {
	struct zc_stats *cpus;
	int n;
};

static int dump_add(const struct zc_stats *st, void *arg)
{
	struct dump_ctx *d = arg;

	if (d->n >= MAX_CPUS)
		return EPROTO;
	d->cpus[d->n++] = *st;
	return 0;
}

static int get_stats(struct zc_genl *c, uint64_t *v)
{
	struct zc_stats st;
	int ret;

	ret = zc_stats_get(c, &st);
	memcpy(v, st.val, sizeof(st.val));
	return ret;
}

static int dump_stats(struct zc_genl *c, struct dump_ctx *d)
{
	d->n = 0;
	return zc_stats_dump(c, dump_add, d);
}

static int set_batch_pages(struct zc_genl *c, uint32_t pages)
{
	return zc_config_set(c, ZCSEND_A_CONFIG_BATCH_PAGES, pages);
}

static int read_param(void)
{
	FILE *f = fopen(PARAM_PATH, "re");
	int v = -1;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static int possible_cpus(void)
{
	FILE *f = fopen("/sys/devices/system/cpu/possible", "re");
	int a, b, n = 0;
	char sep;

	if (!f)
		return -1;
	/* "0-3", "0", "0-3,8-11" */
	while (fscanf(f, "%d", &a) == 1) {
		b = a;
		if (fscanf(f, "%c", &sep) == 1 && sep == '-') {
			if (fscanf(f, "%d", &b) != 1)
				break;
			if (fscanf(f, "%c", &sep) != 1)
				sep = '\n';
		}
		n += b - a + 1;
		if (sep != ',')
			break;
	}
	fclose(f);
	return n;
}

/* ---- loopback TCP and the send ioctl -------------------------------- */

struct sink {
	pthread_t thread;
	int fd;
	uint64_t bytes;
	uint64_t bad;		/* bytes that differ from the pattern */
	bool check;
};

static unsigned char pattern(uint64_t off)
{
	return (unsigned char)(off * 7 + off / 4096);
}

static void *sink_main(void *arg)
{
	struct sink *s = arg;
	unsigned char buf[65536];
	ssize_t n, i;

	while ((n = read(s->fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR)) {
		for (i = 0; s->check && i < n; i++)
			if (buf[i] != pattern(s->bytes + i))
				s->bad++;
		if (n > 0)
			s->bytes += n;
	}
	return NULL;
}

/* A file of @len pattern bytes on tmpfs (/dev/shm), already unlinked. */
static int tmpfs_file(uint64_t len)
{
	char path[] = "/dev/shm/zcsend-nl-XXXXXX";
	unsigned char buf[4096];
	uint64_t off, i;
	int fd;

	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return -1;
	unlink(path);
	for (off = 0; off < len; off += i) {
		for (i = 0; i < sizeof(buf) && off + i < len; i++)
			buf[i] = pattern(off + i);
		if (write(fd, buf, i) != (ssize_t)i) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

/*
 * Send [0, len) of @file on @sock with ZCSEND_IOC_SENDFILE until done.
 * Return: bytes sent; *calls is the number of ioctl calls made.
 */
static uint64_t send_file(int dev, int file, int sock, uint64_t len,
			  uint64_t *calls)
{
	uint64_t done = 0;

	*calls = 0;
	while (done < len) {
		struct zcsend_file zf = {
			.size = sizeof(zf),
			.flags = ZCSEND_F_NOSIGNAL,
			.file_fd = file,
			.sock_fd = sock,
			.offset = done,
			.length = len - done,
		};

		(*calls)++;
		if (ioctl(dev, ZCSEND_IOC_SENDFILE, &zf)) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (!zf.sent)
			break;
		done += zf.sent;
	}
	return done;
}

/* One complete transfer of @len bytes, checked at the receiver. */
struct transfer {
	uint64_t sent, calls, received, bad;
	int err;
};

static void transfer(uint64_t len, struct transfer *t)
{
	struct sink s = { .check = true };
	int dev, file, snd;

	memset(t, 0, sizeof(*t));
	t->err = -1;
	dev = open(ZCSEND_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	file = tmpfs_file(len);
	if (dev < 0 || file < 0 || zcsend_tcp_pair(AF_INET, &snd, &s.fd, 0))
		goto out;
	if (pthread_create(&s.thread, NULL, sink_main, &s)) {
		close(snd);
		close(s.fd);
		goto out;
	}
	t->sent = send_file(dev, file, snd, len, &t->calls);
	close(snd);
	pthread_join(s.thread, NULL);
	close(s.fd);
	t->received = s.bytes;
	t->bad = s.bad;
	t->err = 0;
out:
	if (file >= 0)
		close(file);
	if (dev >= 0)
		close(dev);
}

/* ---- tests ------------------------------------------------------------ */

FIXTURE(nl) {
	struct zc_genl *c;
	uint32_t batch_pages;	/* to restore */
};

FIXTURE_SETUP(nl)
{
	self->c = zc_genl_alloc();
	ASSERT_NE(NULL, self->c) TH_LOG("libnl: family %s: %m", ZCSEND_GENL_NAME);
	ASSERT_EQ(0, zc_config_get(self->c, &self->batch_pages));
}

FIXTURE_TEARDOWN(nl)
{
	if (self->c) {
		set_batch_pages(self->c, self->batch_pages);
		zc_genl_free(self->c);
	}
}

TEST_F(nl, stats_get_and_dump)
{
	static struct zc_stats cpus[MAX_CPUS];
	struct dump_ctx d = { .cpus = cpus };
	uint64_t sum[NSTATS], v[NSTATS] = { 0 };
	bool seen[MAX_CPUS] = { false };
	int i, j, ncpus = possible_cpus();

	ASSERT_EQ(0, get_stats(self->c, sum)) TH_LOG("%s", self->c->extack);
	ASSERT_EQ(0, dump_stats(self->c, &d)) TH_LOG("%s", self->c->extack);
	ASSERT_LT(0, ncpus);
	EXPECT_EQ(ncpus, d.n) TH_LOG("one message per possible CPU");
	for (i = 0; i < d.n; i++) {
		ASSERT_LE(0, cpus[i].cpu);
		ASSERT_GT(MAX_CPUS, cpus[i].cpu);
		EXPECT_FALSE(seen[cpus[i].cpu]) TH_LOG("cpu %d twice", cpus[i].cpu);
		seen[cpus[i].cpu] = true;
		for (j = STAT_FIRST; j < NSTATS; j++)
			v[j] += cpus[i].val[j];
	}
	/* Nothing else runs: the dump adds up to the sum. */
	for (j = STAT_FIRST; j < NSTATS; j++)
		EXPECT_EQ(sum[j], v[j]) TH_LOG("counter %d", j);
}

/*
 * A dump longer than one message buffer resumes where it stopped
 * (cb->args[0]). libnl reads 16 KiB at a time and one CPU's message takes
 * about 200 bytes: the test bed's guests have up to 128 possible CPUs
 * (scripts/testbed/vm-run: -smp 2,maxcpus=128), and the dump then takes
 * two rounds or more. That holds on 6.1; 6.12 ignores a TCG guest's
 * hot-pluggable CPUs (acpi_is_processor_usable() counts them only under a
 * hypervisor it knows), so there the dump is one round. Either way each
 * CPU must come exactly once, in order.
 */
TEST_F(nl, dump_resumes)
{
	static struct zc_stats cpus[MAX_CPUS];
	struct dump_ctx d = { .cpus = cpus };
	int i, ncpus = possible_cpus();

	ASSERT_LT(0, ncpus);
	TH_LOG("%d possible CPUs: %s", ncpus,
	       ncpus >= 100 ? "the dump resumes" : "one round");
	ASSERT_EQ(0, dump_stats(self->c, &d)) TH_LOG("%s", self->c->extack);
	EXPECT_EQ(ncpus, d.n);
	for (i = 0; i < d.n; i++)
		EXPECT_EQ(i, cpus[i].cpu) TH_LOG("message %d", i);
}

TEST_F(nl, reset_zeroes)
{
	static struct zc_stats cpus[MAX_CPUS];
	struct dump_ctx d = { .cpus = cpus };
	struct zcsend_file zf = { .size = sizeof(zf), .file_fd = -1, .sock_fd = -1 };
	uint64_t v0[NSTATS], v[NSTATS];
	int dev, i, j;

	/* A refused call moves CALLS and ERR_INVAL, by one each. */
	dev = open(ZCSEND_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dev);
	ASSERT_EQ(0, get_stats(self->c, v0));
	EXPECT_EQ(-1, ioctl(dev, ZCSEND_IOC_SENDFILE, &zf));
	EXPECT_EQ(EBADF, errno);
	close(dev);
	ASSERT_EQ(0, get_stats(self->c, v));
	EXPECT_EQ(1, v[ZCSEND_A_STATS_CALLS] - v0[ZCSEND_A_STATS_CALLS]);
	EXPECT_EQ(1, v[ZCSEND_A_STATS_ERR_INVAL] - v0[ZCSEND_A_STATS_ERR_INVAL]);

	ASSERT_EQ(0, zc_stats_reset(self->c)) TH_LOG("%s", self->c->extack);
	ASSERT_EQ(0, get_stats(self->c, v));
	for (j = STAT_FIRST; j < NSTATS; j++)
		EXPECT_EQ(0, v[j]) TH_LOG("counter %d after reset", j);
	ASSERT_EQ(0, dump_stats(self->c, &d));
	for (i = 0; i < d.n; i++)
		for (j = STAT_FIRST; j < NSTATS; j++)
			EXPECT_EQ(0, cpus[i].val[j]) TH_LOG("cpu %d counter %d",
							  cpus[i].cpu, j);
}

TEST_F(nl, config_round_trip)
{
	static const uint32_t values[] = {
		ZCSEND_BATCH_PAGES_MIN, 17, ZCSEND_BATCH_PAGES_MAX,
	};
	uint32_t got;
	size_t i;

	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		ASSERT_EQ(0, set_batch_pages(self->c, values[i]))
			TH_LOG("set %u: %s", values[i], self->c->extack);
		ASSERT_EQ(0, zc_config_get(self->c, &got));
		EXPECT_EQ(values[i], got);
		/* The same tunable as the module parameter. */
		EXPECT_EQ((int)values[i], read_param());
	}
}

/* Bad requests: what is sent, and what the kernel must answer. */
enum bad_kind {
	BAD_RANGE_LOW, BAD_RANGE_HIGH, BAD_MISSING, BAD_EMPTY_NEST,
	BAD_UNKNOWN_NESTED, BAD_UNKNOWN_TOP, BAD_WRONG_ATTR, BAD_LENGTH,
	BAD_ATTR_ON_GET, BAD_RESERVED, BAD_CMD, BAD_DUMP,
};

FIXTURE_VARIANT(bad) {
	enum bad_kind kind;
	int cmd;
	int err;
	bool extack;	/* the kernel names the problem */
};

FIXTURE(bad) {
	struct zc_genl *c;
	uint32_t batch_pages;
};

FIXTURE_VARIANT_ADD(bad, range_low) {
	.kind = BAD_RANGE_LOW, .cmd = ZCSEND_CMD_CONFIG_SET, .err = ERANGE, .extack = true,
};
FIXTURE_VARIANT_ADD(bad, range_high) {
	.kind = BAD_RANGE_HIGH, .cmd = ZCSEND_CMD_CONFIG_SET, .err = ERANGE, .extack = true,
};
FIXTURE_VARIANT_ADD(bad, missing_config) {
	.kind = BAD_MISSING, .cmd = ZCSEND_CMD_CONFIG_SET, .err = EINVAL, .extack = true,
};
FIXTURE_VARIANT_ADD(bad, empty_config) {
	.kind = BAD_EMPTY_NEST, .cmd = ZCSEND_CMD_CONFIG_SET, .err = EINVAL, .extack = true,
};
FIXTURE_VARIANT_ADD(bad, unknown_nested_attr) {
	.kind = BAD_UNKNOWN_NESTED, .cmd = ZCSEND_CMD_CONFIG_SET, .err = EINVAL, .extack = true,
};
FIXTURE_VARIANT_ADD(bad, unknown_top_attr) {
	.kind = BAD_UNKNOWN_TOP, .cmd = ZCSEND_CMD_CONFIG_SET, .err = EINVAL, .extack = true,
};
FIXTURE_VARIANT_ADD(bad, attr_not_of_op) {
	.kind = BAD_WRONG_ATTR, .cmd = ZCSEND_CMD_CONFIG_SET, .err = EINVAL, .extack = true,
};
FIXTURE_VARIANT_ADD(bad, wrong_length) {
	.kind = BAD_LENGTH, .cmd = ZCSEND_CMD_CONFIG_SET, .err = EINVAL, .extack = true,
};
FIXTURE_VARIANT_ADD(bad, attr_on_stats_get) {
	.kind = BAD_ATTR_ON_GET, .cmd = ZCSEND_CMD_STATS_GET, .err = EINVAL, .extack = true,
};
FIXTURE_VARIANT_ADD(bad, reserved_header) {
	.kind = BAD_RESERVED, .cmd = ZCSEND_CMD_CONFIG_GET, .err = EINVAL, .extack = true,
};
/* The core answers unknown commands without a message, on 6.1 and 6.12. */
FIXTURE_VARIANT_ADD(bad, unknown_cmd) {
	.kind = BAD_CMD, .cmd = ZCSEND_CMD_MAX + 1, .err = EOPNOTSUPP,
};
FIXTURE_VARIANT_ADD(bad, unspec_cmd) {
	.kind = BAD_CMD, .cmd = 0, .err = EOPNOTSUPP,
};
FIXTURE_VARIANT_ADD(bad, dump_of_config_get) {
	.kind = BAD_DUMP, .cmd = ZCSEND_CMD_CONFIG_GET, .err = EOPNOTSUPP,
};

FIXTURE_SETUP(bad)
{
	self->c = zc_genl_alloc();
	ASSERT_NE(NULL, self->c);
	ASSERT_EQ(0, zc_config_get(self->c, &self->batch_pages));
}

FIXTURE_TEARDOWN(bad)
{
	zc_genl_free(self->c);
}

static int put_config(struct nl_msg *msg, int type, uint32_t val, bool u8)
{
	struct nlattr *nest = nla_nest_start(msg, ZCSEND_A_CONFIG);

	if (!nest)
		return -1;
	if (type && (u8 ? nla_put_u8(msg, type, (uint8_t)val) :
			  nla_put_u32(msg, type, val)))
		return -1;
	return nla_nest_end(msg, nest);
}

static int fill_bad(struct nl_msg *msg, enum bad_kind kind)
{
	struct genlmsghdr *g = nlmsg_data(nlmsg_hdr(msg));

	switch (kind) {
	case BAD_RANGE_LOW:
		return put_config(msg, ZCSEND_A_CONFIG_BATCH_PAGES,
				  ZCSEND_BATCH_PAGES_MIN - 1, false);
	case BAD_RANGE_HIGH:
		return put_config(msg, ZCSEND_A_CONFIG_BATCH_PAGES,
				  ZCSEND_BATCH_PAGES_MAX + 1, false);
	case BAD_EMPTY_NEST:
		/* by hand: libnl's nla_nest_end() drops an empty nest */
		return nla_put(msg, ZCSEND_A_CONFIG | NLA_F_NESTED, 0, NULL);
	case BAD_UNKNOWN_NESTED:
		return put_config(msg, ZCSEND_A_CONFIG_MAX + 1, 8, false);
	case BAD_LENGTH:
		return put_config(msg, ZCSEND_A_CONFIG_BATCH_PAGES, 8, true);
	case BAD_UNKNOWN_TOP:
		if (put_config(msg, ZCSEND_A_CONFIG_BATCH_PAGES, 8, false))
			return -1;
		return nla_put_u32(msg, ZCSEND_A_MAX + 1, 1);
	case BAD_WRONG_ATTR:
		if (put_config(msg, ZCSEND_A_CONFIG_BATCH_PAGES, 8, false))
			return -1;
		return nla_put_u32(msg, ZCSEND_A_CPU, 0);
	case BAD_ATTR_ON_GET:
		return nla_put_u32(msg, ZCSEND_A_CPU, 0);
	case BAD_RESERVED:
		g->reserved = 1;
		return 0;
	default:
		return 0;
	}
}

TEST_F(bad, refused)
{
	struct nl_msg *msg = zc_genl_msg(self->c, variant->cmd, variant->kind == BAD_DUMP);
	uint32_t after;
	int err;

	ASSERT_NE(NULL, msg);
	ASSERT_EQ(0, fill_bad(msg, variant->kind));
	err = zc_genl_transact(self->c, msg, NULL, NULL);
	EXPECT_EQ(variant->err, err) TH_LOG("got %s, extack '%s'",
					    strerror(err), self->c->extack);
	if (variant->extack)
		EXPECT_NE(0, self->c->extack[0]) TH_LOG("no extack message");
	TH_LOG("%s: extack '%s'", strerror(err), self->c->extack);

	ASSERT_EQ(0, zc_config_get(self->c, &after));
	EXPECT_EQ(self->batch_pages, after) TH_LOG("config changed anyway");
}

/* The tool passes the kernel's message on (needs userspace/zcsend built). */
TEST(tool_prints_extack)
{
	const char *tool = "../userspace/zcsend";
	char buf[512] = "";
	size_t n;
	FILE *p;

	if (access(tool, X_OK))
		SKIP(return, "%s not built", tool);
	p = popen("../userspace/zcsend config set batch_pages 0 2>&1", "r");
	ASSERT_NE(NULL, p);
	n = fread(buf, 1, sizeof(buf) - 1, p);
	buf[n] = '\0';
	EXPECT_EQ(1, WEXITSTATUS(pclose(p)));
	EXPECT_NE(NULL, strstr(buf, "integer out of range")) TH_LOG("%s", buf);
}

static void drop_to_nobody(struct __test_metadata *_metadata)
{
	ASSERT_EQ(0, setgroups(0, NULL));
	ASSERT_EQ(0, setgid(NOBODY));
	ASSERT_EQ(0, setuid(NOBODY));
	ASSERT_EQ(NOBODY, geteuid());
}

/* Each test runs in its own process: dropping root here is local. */
TEST(unprivileged_reads_only)
{
	uint64_t v[NSTATS];
	uint32_t before, after;
	struct zc_genl *root_c, *c;

	root_c = zc_genl_alloc();
	ASSERT_NE(NULL, root_c);
	ASSERT_EQ(0, zc_config_get(root_c, &before));

	drop_to_nobody(_metadata);
	c = zc_genl_alloc();
	ASSERT_NE(NULL, c) TH_LOG("nobody cannot open the family: %m");
	EXPECT_EQ(0, get_stats(c, v));
	EXPECT_EQ(0, zc_config_get(c, &after));
	EXPECT_EQ(EPERM, zc_stats_reset(c));
	EXPECT_EQ(EPERM, set_batch_pages(c, before == 8 ? 9 : 8));
	/* A socket root opened does not help a process that is not root. */
	EXPECT_EQ(EPERM, zc_stats_reset(root_c));
	EXPECT_EQ(EPERM, set_batch_pages(root_c, before == 8 ? 9 : 8));
	EXPECT_EQ(0, zc_config_get(c, &after));
	EXPECT_EQ(before, after);
	zc_genl_free(c);
	zc_genl_free(root_c);
}

/* N bytes through the ioctl move BYTES by N and CALLS by the calls made. */
TEST_F(nl, counters_exact)
{
	const uint64_t len = (3 << 20) + 1234;	/* not a whole page */
	uint64_t v0[NSTATS], v1[NSTATS];
	struct transfer t;

	ASSERT_EQ(0, get_stats(self->c, v0));
	transfer(len, &t);
	ASSERT_EQ(0, t.err);
	ASSERT_EQ(0, get_stats(self->c, v1));

	EXPECT_EQ(len, t.sent);
	EXPECT_EQ(len, t.received);
	EXPECT_EQ(0, t.bad);
	EXPECT_EQ(len, v1[ZCSEND_A_STATS_BYTES] - v0[ZCSEND_A_STATS_BYTES]);
	EXPECT_EQ(len, v1[ZCSEND_A_STATS_FILE_BYTES] -
		       v0[ZCSEND_A_STATS_FILE_BYTES]);
	EXPECT_EQ(0, v1[ZCSEND_A_STATS_INLINE_BYTES] -
		     v0[ZCSEND_A_STATS_INLINE_BYTES]);
	EXPECT_EQ(t.calls, v1[ZCSEND_A_STATS_CALLS] - v0[ZCSEND_A_STATS_CALLS]);
	EXPECT_LE((len + 4095) / 4096,
		  v1[ZCSEND_A_STATS_PAGES] - v0[ZCSEND_A_STATS_PAGES]);
}

/*
 * Every counter, for one call of each outcome: each moves by exactly what
 * the outcome implies, and every other stays. Nothing else uses the module
 * meanwhile (the harness runs one test at a time).
 */
struct delta {
	int id;
	uint64_t n;
};

#define DELTAS(...) ((const struct delta[]){ __VA_ARGS__, { 0, 0 } })

/* Counters before the step being checked. */
static uint64_t step_v0[NSTATS];

static void step_begin(struct __test_metadata *_metadata, struct zc_genl *c)
{
	ASSERT_EQ(0, get_stats(c, step_v0));
}

static void step_check(struct __test_metadata *_metadata, struct zc_genl *c,
		       const char *what, const struct delta *want)
{
	uint64_t v[NSTATS], exp[NSTATS] = { 0 };
	int j;

	ASSERT_EQ(0, get_stats(c, v));
	for (; want->id; want++)
		exp[want->id] = want->n;
	for (j = STAT_FIRST; j < NSTATS; j++) {
		unsigned long long got = v[j] - step_v0[j], e = exp[j];
		const char *name = zc_stat_names[j];

		EXPECT_EQ(e, got) TH_LOG("%s: %s moved by %llu, not %llu",
					 what, name, got, e);
	}
}

static int nl_sendfile(int dev, int file, int sock, uint64_t off,
		       uint64_t len, uint32_t flags, uint64_t *sent)
{
	struct zcsend_file zf = {
		.size = sizeof(zf), .flags = flags, .file_fd = file,
		.sock_fd = sock, .offset = off, .length = len,
	};

	if (ioctl(dev, ZCSEND_IOC_SENDFILE, &zf))
		return -errno;
	if (sent)
		*sent = zf.sent;
	return 0;
}

/* Fill @sock's send buffer (nobody reads the peer) until send(2) refuses. */
static void fill_socket(int sock)
{
	static char junk[65536];

	while (send(sock, junk, sizeof(junk), MSG_DONTWAIT) > 0)
		;
}

static void on_alarm(int sig)
{
	(void)sig;
}

/*
 * Non-blocking calls into a small send buffer that nobody reads, each from
 * where the last one stopped at an offset within a page, until one gets
 * EAGAIN: each call moves BYTES by what it queued, and PAGES by exactly
 * the pages those bytes touch, also when TCP took only part of a batch
 * (then the module counts again what it gathered, up to what was queued).
 */
TEST_F(nl, counters_short_sends)
{
	const uint64_t flen = 1 << 20;
	uint64_t off = 100, sent = 0, v0[NSTATS], v1[NSTATS];
	long pg = sysconf(_SC_PAGESIZE);
	int dev, file, snd, rcv, i, err = 0;

	dev = open(ZCSEND_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dev);
	file = tmpfs_file(flen);
	ASSERT_LE(0, file);
	ASSERT_EQ(0, zcsend_tcp_pair(AF_INET, &snd, &rcv, 65536));
	ASSERT_EQ(0, set_batch_pages(self->c, 256));

	for (i = 0; i < 256 && err != -EAGAIN; i++) {
		ASSERT_EQ(0, get_stats(self->c, v0));
		err = nl_sendfile(dev, file, snd, off, flen - off,
				  ZCSEND_F_NONBLOCK, &sent);
		ASSERT_EQ(0, get_stats(self->c, v1));
		if (err == -EAGAIN) {
			EXPECT_EQ(0, v1[ZCSEND_A_STATS_PAGES] -
				     v0[ZCSEND_A_STATS_PAGES]);
			break;
		}
		ASSERT_EQ(0, err);
		ASSERT_LT(0, sent);
		EXPECT_EQ(sent, v1[ZCSEND_A_STATS_BYTES] -
				v0[ZCSEND_A_STATS_BYTES]);
		EXPECT_EQ((off + sent - 1) / pg - off / pg + 1,
			  v1[ZCSEND_A_STATS_PAGES] - v0[ZCSEND_A_STATS_PAGES])
			TH_LOG("call %d: %llu bytes from offset %llu", i,
			       (unsigned long long)sent,
			       (unsigned long long)off);
		off += sent;
		ASSERT_GT(flen, off);
	}
	EXPECT_EQ(-EAGAIN, err);
	close(snd);
	close(rcv);
	close(file);
	close(dev);
}

TEST_F(nl, counters_per_outcome)
{
	const uint64_t flen = 64 << 10;
	struct sigaction sa = { .sa_handler = on_alarm };
	struct zcsend_seg seg[2];
	struct zcsend_vec vec;
	uint64_t sent = 0;
	int dev, file, snd, rcv, full, full_rcv, i, err;
	long pg = sysconf(_SC_PAGESIZE);
	void *hole;

	dev = open(ZCSEND_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dev);
	file = tmpfs_file(flen);
	ASSERT_LE(0, file);
	ASSERT_EQ(0, zcsend_tcp_pair(AF_INET, &snd, &rcv, 0));
	ASSERT_EQ(0, zcsend_tcp_pair(AF_INET, &full, &full_rcv, 65536));
	ASSERT_EQ(0, set_batch_pages(self->c, 256));

	/* Refusals: by argument checks of either ioctl, whatever the errno. */
	step_begin(_metadata, self->c);
	EXPECT_EQ(-EBADF, nl_sendfile(dev, -1, snd, 0, 1, 0, NULL));
	EXPECT_EQ(-ENOTSOCK, nl_sendfile(dev, file, file, 0, 1, 0, NULL));
	EXPECT_EQ(-EINVAL, nl_sendfile(dev, file, snd, 0, 1, 1U << 30, NULL));
	vec = (struct zcsend_vec){ .size = sizeof(vec), .sock_fd = snd,
				   .nr_segs = ZCSEND_SEGS_MAX + 1 };
	EXPECT_EQ(-1, ioctl(dev, ZCSEND_IOC_SENDVEC, &vec));
	EXPECT_EQ(EINVAL, errno);
	step_check(_metadata, self->c, "4 refusals",
		   DELTAS({ ZCSEND_A_STATS_CALLS, 4 },
			  { ZCSEND_A_STATS_ERR_INVAL, 4 }));

	/* One batch from an unaligned offset: 12 KiB over 4 pages. */
	step_begin(_metadata, self->c);
	EXPECT_EQ(0, nl_sendfile(dev, file, snd, 100, 12288, 0, &sent));
	EXPECT_EQ(12288, sent);
	step_check(_metadata, self->c, "one batch",
		   DELTAS({ ZCSEND_A_STATS_CALLS, 1 },
			  { ZCSEND_A_STATS_BYTES, 12288 },
			  { ZCSEND_A_STATS_FILE_BYTES, 12288 },
			  { ZCSEND_A_STATS_PAGES, 4 },
			  { ZCSEND_A_STATS_BATCHES, 1 }));

	/* Batches of 2 pages: 5 pages and 100 bytes go in 3 batches. */
	ASSERT_EQ(0, set_batch_pages(self->c, 2));
	step_begin(_metadata, self->c);
	EXPECT_EQ(0, nl_sendfile(dev, file, snd, 0, 5 * 4096 + 100, 0, &sent));
	EXPECT_EQ(5 * 4096 + 100, sent);
	step_check(_metadata, self->c, "three batches",
		   DELTAS({ ZCSEND_A_STATS_CALLS, 1 },
			  { ZCSEND_A_STATS_BYTES, 5 * 4096 + 100 },
			  { ZCSEND_A_STATS_FILE_BYTES, 5 * 4096 + 100 },
			  { ZCSEND_A_STATS_PAGES, 6 },
			  { ZCSEND_A_STATS_BATCHES, 3 }));
	ASSERT_EQ(0, set_batch_pages(self->c, 256));

	/* SENDVEC: an inline header (copied, no batch) and one page. */
	seg[0] = (struct zcsend_seg){ .type = ZCSEND_SEG_INLINE,
				      .addr = (uintptr_t)"0123456789",
				      .length = 10 };
	seg[1] = (struct zcsend_seg){ .type = ZCSEND_SEG_FILE, .fd = file,
				      .offset = 4096, .length = 4096 };
	vec = (struct zcsend_vec){ .size = sizeof(vec), .sock_fd = snd,
				   .nr_segs = 2, .segs = (uintptr_t)seg };
	step_begin(_metadata, self->c);
	EXPECT_EQ(0, ioctl(dev, ZCSEND_IOC_SENDVEC, &vec));
	EXPECT_EQ(4106, vec.sent);
	step_check(_metadata, self->c, "inline and file",
		   DELTAS({ ZCSEND_A_STATS_CALLS, 1 },
			  { ZCSEND_A_STATS_BYTES, 4106 },
			  { ZCSEND_A_STATS_FILE_BYTES, 4096 },
			  { ZCSEND_A_STATS_INLINE_BYTES, 10 },
			  { ZCSEND_A_STATS_PAGES, 1 },
			  { ZCSEND_A_STATS_BATCHES, 1 }));

	/* An inline segment whose memory is gone: EFAULT, while sending. */
	hole = mmap(NULL, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, hole);
	ASSERT_EQ(0, munmap(hole, pg));
	seg[0].addr = (uintptr_t)hole;
	vec = (struct zcsend_vec){ .size = sizeof(vec), .sock_fd = snd,
				   .nr_segs = 1, .segs = (uintptr_t)seg };
	step_begin(_metadata, self->c);
	EXPECT_EQ(-1, ioctl(dev, ZCSEND_IOC_SENDVEC, &vec));
	EXPECT_EQ(EFAULT, errno);
	step_check(_metadata, self->c, "EFAULT while sending",
		   DELTAS({ ZCSEND_A_STATS_CALLS, 1 },
			  { ZCSEND_A_STATS_ERR_OTHER, 1 }));

	/*
	 * A full socket, non-blocking: EAGAIN before anything is gathered.
	 * Refilled until a call finds it full (an ACK may free space between).
	 */
	err = 0;
	for (i = 0; i < 100 && err != -EAGAIN; i++) {
		fill_socket(full);
		step_begin(_metadata, self->c);
		err = nl_sendfile(dev, file, full, 0, flen, ZCSEND_F_NONBLOCK,
				  NULL);
	}
	ASSERT_EQ(-EAGAIN, err);
	step_check(_metadata, self->c, "EAGAIN",
		   DELTAS({ ZCSEND_A_STATS_CALLS, 1 },
			  { ZCSEND_A_STATS_ERR_AGAIN, 1 }));

	/*
	 * The same socket, blocking: one batch is gathered and handed to TCP,
	 * which sleeps until a signal (no SA_RESTART) ends the call: EINTR.
	 * The peer's window may still open a little (a call that queued some
	 * bytes before the signal): refilled until one queues nothing.
	 */
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	err = 0;
	for (i = 0; i < 100 && err != -EINTR; i++) {
		fill_socket(full);
		step_begin(_metadata, self->c);
		ualarm(300000, 0);
		err = nl_sendfile(dev, file, full, 0, flen, 0, NULL);
	}
	ASSERT_EQ(-EINTR, err);
	step_check(_metadata, self->c, "EINTR",
		   DELTAS({ ZCSEND_A_STATS_CALLS, 1 },
			  { ZCSEND_A_STATS_BATCHES, 1 },
			  { ZCSEND_A_STATS_ERR_INTR, 1 }));

	/* Shut down for writing: one batch, refused by TCP with EPIPE. */
	ASSERT_EQ(0, shutdown(snd, SHUT_WR));
	step_begin(_metadata, self->c);
	EXPECT_EQ(-EPIPE, nl_sendfile(dev, file, snd, 0, 1000,
				      ZCSEND_F_NOSIGNAL, NULL));
	step_check(_metadata, self->c, "EPIPE",
		   DELTAS({ ZCSEND_A_STATS_CALLS, 1 },
			  { ZCSEND_A_STATS_BATCHES, 1 },
			  { ZCSEND_A_STATS_ERR_PIPE, 1 }));

	close(full);
	close(full_rcv);
	close(snd);
	close(rcv);
	close(file);
	close(dev);
}

/* batch_pages, set over netlink, is what the send path uses. */
TEST_F(nl, config_changes_batches)
{
	const uint64_t len = 2 << 20;
	uint64_t v0[NSTATS], v1[NSTATS], v2[NSTATS];
	uint64_t small, large;
	struct transfer t;

	ASSERT_EQ(0, set_batch_pages(self->c, 1));
	ASSERT_EQ(0, get_stats(self->c, v0));
	transfer(len, &t);
	ASSERT_EQ(0, t.err);
	ASSERT_EQ(len, t.received);
	ASSERT_EQ(0, get_stats(self->c, v1));

	ASSERT_EQ(0, set_batch_pages(self->c, ZCSEND_BATCH_PAGES_MAX));
	transfer(len, &t);
	ASSERT_EQ(0, t.err);
	ASSERT_EQ(len, t.received);
	ASSERT_EQ(0, get_stats(self->c, v2));

	small = v1[ZCSEND_A_STATS_BATCHES] - v0[ZCSEND_A_STATS_BATCHES];
	large = v2[ZCSEND_A_STATS_BATCHES] - v1[ZCSEND_A_STATS_BATCHES];
	TH_LOG("batches for %llu bytes: %llu at 1 page, %llu at %d pages",
	       (unsigned long long)len, (unsigned long long)small,
	       (unsigned long long)large, ZCSEND_BATCH_PAGES_MAX);
	/* At most one page per batch... */
	EXPECT_LE(len / 4096, small);
	/* ...and many fewer batches when they may be large. */
	EXPECT_GT(small / 4, large);
}

/* ---- readers during traffic ------------------------------------------- */

#define READERS	4
#define SENDERS	8
#define RUN_MS	2000

static volatile bool traffic_stop;

struct reader {
	pthread_t thread;
	long reads, dumps, regressions, errors;
	bool done;
	char why[128];
};

static bool went_back(const uint64_t *prev, const uint64_t *v, char *why,
		      size_t len)
{
	int j;

	for (j = STAT_FIRST; j < NSTATS; j++) {
		if (v[j] < prev[j]) {
			snprintf(why, len, "counter %d: %llu then %llu", j,
				 (unsigned long long)prev[j],
				 (unsigned long long)v[j]);
			return true;
		}
	}
	return false;
}

/* The per-CPU view must not go back either. */
static void reader_dump(struct zc_genl *c, struct reader *r, struct dump_ctx *d,
			struct zc_stats *prev, int *nprev)
{
	int i;

	if (dump_stats(c, d)) {
		r->errors++;
		return;
	}
	r->dumps++;
	for (i = 0; i < d->n && i < *nprev; i++)
		if (d->cpus[i].cpu == prev[i].cpu &&
		    went_back(prev[i].val, d->cpus[i].val, r->why, sizeof(r->why)))
			r->regressions++;
	memcpy(prev, d->cpus, d->n * sizeof(*prev));
	*nprev = d->n;
}

static void *reader_main(void *arg)
{
	struct zc_stats *cpus = calloc(2 * MAX_CPUS, sizeof(*cpus));
	struct dump_ctx d = { .cpus = cpus };
	uint64_t prev[NSTATS] = { 0 }, v[NSTATS];
	struct reader *r = arg;
	struct zc_genl *c = zc_genl_alloc();
	int nprev = 0;

	if (!c || !cpus) {
		r->errors++;
		goto out;
	}
	while (!traffic_stop) {
		if (get_stats(c, v)) {
			r->errors++;
			break;
		}
		if (r->reads++ && went_back(prev, v, r->why, sizeof(r->why)))
			r->regressions++;
		memcpy(prev, v, sizeof(v));
		if (r->reads % 8 == 0)
			reader_dump(c, r, &d, cpus + MAX_CPUS, &nprev);
	}
out:
	zc_genl_free(c);
	free(cpus);
	__atomic_store_n(&r->done, true, __ATOMIC_RELEASE);
	return NULL;
}

struct sender {
	pthread_t thread;
	int dev, file, snd;
	struct sink sink;
	uint64_t bytes, calls;
	int fail_errno;
};

static void *sender_main(void *arg)
{
	const uint64_t len = 256 << 10;
	struct sender *s = arg;
	uint64_t calls;

	while (!traffic_stop) {
		uint64_t n = send_file(s->dev, s->file, s->snd, len, &calls);

		s->calls += calls;
		s->bytes += n;
		if (n < len) {
			s->fail_errno = errno;
			break;
		}
	}
	close(s->snd);
	return NULL;
}

static int sender_start(struct sender *s)
{
	memset(s, 0, sizeof(*s));
	s->dev = open(ZCSEND_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	s->file = tmpfs_file(256 << 10);
	if (s->dev < 0 || s->file < 0 ||
	    zcsend_tcp_pair(AF_INET, &s->snd, &s->sink.fd, 0))
		return -1;
	if (pthread_create(&s->sink.thread, NULL, sink_main, &s->sink))
		return -1;
	return pthread_create(&s->thread, NULL, sender_main, s);
}

static void sender_stop(struct sender *s)
{
	pthread_join(s->thread, NULL);
	pthread_join(s->sink.thread, NULL);
	close(s->sink.fd);
	close(s->file);
	close(s->dev);
}

TEST_F(nl, readers_see_monotonic_counters)
{
	struct timespec run = { RUN_MS / 1000, (RUN_MS % 1000) * 1000000L };
	struct timespec poll = { 0, 10 * 1000000L };
	struct sender senders[SENDERS];
	struct reader readers[READERS];
	uint64_t v0[NSTATS], v1[NSTATS], sent = 0, calls = 0;
	int i;

	memset(readers, 0, sizeof(readers));
	ASSERT_EQ(0, get_stats(self->c, v0));
	traffic_stop = false;
	for (i = 0; i < SENDERS; i++)
		ASSERT_EQ(0, sender_start(&senders[i]));
	for (i = 0; i < READERS; i++)
		ASSERT_EQ(0, pthread_create(&readers[i].thread, NULL,
					    reader_main, &readers[i]));
	nanosleep(&run, NULL);
	/*
	 * Stop the traffic only once every reader has read a few times while
	 * it ran: a starved reader (a busy TCG host) would otherwise fail the
	 * test on timing, not on what it read.
	 */
	for (i = 0; i < READERS; i++)
		while (__atomic_load_n(&readers[i].reads, __ATOMIC_RELAXED) < 4 &&
		       !__atomic_load_n(&readers[i].done, __ATOMIC_ACQUIRE))
			nanosleep(&poll, NULL);
	traffic_stop = true;
	for (i = 0; i < READERS; i++)
		pthread_join(readers[i].thread, NULL);
	for (i = 0; i < SENDERS; i++) {
		sender_stop(&senders[i]);
		EXPECT_EQ(0, senders[i].fail_errno)
			TH_LOG("sender %d: %s", i, strerror(senders[i].fail_errno));
		EXPECT_EQ(senders[i].bytes, senders[i].sink.bytes);
		sent += senders[i].bytes;
		calls += senders[i].calls;
	}
	ASSERT_EQ(0, get_stats(self->c, v1));

	for (i = 0; i < READERS; i++) {
		TH_LOG("reader %d: %ld reads, %ld dumps", i, readers[i].reads,
		       readers[i].dumps);
		EXPECT_EQ(0, readers[i].errors);
		EXPECT_EQ(0, readers[i].regressions) TH_LOG("%s", readers[i].why);
		EXPECT_LE(4, readers[i].reads);
	}
	EXPECT_LT(0, sent);
	EXPECT_EQ(sent, v1[ZCSEND_A_STATS_BYTES] - v0[ZCSEND_A_STATS_BYTES]);
	EXPECT_EQ(calls, v1[ZCSEND_A_STATS_CALLS] - v0[ZCSEND_A_STATS_CALLS]);
}

/* ---- unload ------------------------------------------------------------- */

/*
 * Whether the family is registered, from a dump of all families: asking for
 * it by name would make the kernel try to autoload the module (through
 * MODULE_ALIAS_GENL_FAMILY), which succeeds where it is installed.
 */
static int family_listed(void)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct nl_cache *cache = NULL;
	struct genl_family *fam;
	int ret = -1;

	if (!sk || genl_connect(sk) || genl_ctrl_alloc_cache(sk, &cache))
		goto out;
	fam = genl_ctrl_search_by_name(cache, ZCSEND_GENL_NAME);
	ret = fam != NULL;
	if (fam)
		genl_family_put(fam);
out:
	nl_cache_free(cache);
	nl_socket_free(sk);
	return ret;
}

/*
 * The harness runs tests in the order they are declared: this one, which
 * unloads and reloads the module, comes last.
 */
FIXTURE(module_unload) {
	const char *ko;
};

FIXTURE_SETUP(module_unload)
{
	self->ko = getenv("ZCSEND_KO");
}

FIXTURE_TEARDOWN(module_unload)
{
}

/*
 * A socket that used the family does not hold the module. A dump that was
 * started and not read to its end does (the netlink core pins the module
 * of a running dump): unloading waits until that socket is closed.
 */
TEST_F(module_unload, with_sockets_open)
{
	static struct zc_stats cpus[MAX_CPUS];
	struct dump_ctx d = { .cpus = cpus };
	struct zc_genl *used, *dumping, *again;
	uint64_t v[NSTATS];
	struct nl_msg *msg;

	if (!self->ko)
		SKIP(return, "ZCSEND_KO not set: cannot load the module again");

	used = zc_genl_alloc();
	dumping = zc_genl_alloc();
	ASSERT_NE(NULL, used);
	ASSERT_NE(NULL, dumping);
	ASSERT_EQ(0, get_stats(used, v));
	ASSERT_EQ(0, dump_stats(used, &d));
	msg = zc_genl_msg(dumping, ZCSEND_CMD_STATS_GET, true);
	ASSERT_NE(NULL, msg);
	ASSERT_EQ(0, zc_genl_send(dumping, msg));

	EXPECT_EQ(-1, zcsend_unload_module());
	EXPECT_EQ(EWOULDBLOCK, errno) TH_LOG("with a dump running: %m");
	zc_genl_free(dumping);

	ASSERT_EQ(0, zcsend_unload_module())
		TH_LOG("delete_module: %m");
	EXPECT_EQ(-1, access("/sys/module/zcsend", F_OK));
	EXPECT_EQ(0, family_listed());
	/* The old socket gets an error for the stale family id, no crash. */
	EXPECT_EQ(ENOENT, get_stats(used, v));
	zc_genl_free(used);

	ASSERT_EQ(0, zcsend_load_module(self->ko)) TH_LOG("finit_module %s: %m", self->ko);
	EXPECT_EQ(1, family_listed());
	again = zc_genl_alloc();
	ASSERT_NE(NULL, again);
	EXPECT_EQ(0, get_stats(again, v));
	zc_genl_free(again);
}

ZCSEND_TEST_MAIN
