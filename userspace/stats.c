// SPDX-License-Identifier: GPL-2.0
/*
 * zcsend stats / zcsend config: the module's counters and tunables over the
 * generic netlink family "zcsend", with libnl-genl-3.
 *
 * One struct zc_nl holds the socket, the callbacks, the family id and the
 * outcome of the last request (errno and the kernel's extended-ack message).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <linux/netlink.h>
#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/handlers.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include <linux/zcsend.h>

#include "zcsend.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define ZC_NOT_LOADED \
	"zcsend: module not loaded (generic netlink family 'zcsend' not found)"

/* Counter names, indexed by enum zcsend_a_stats. */
static const char *const stat_names[ZCSEND_A_STATS_MAX + 1] = {
	[ZCSEND_A_STATS_CALLS]		= "calls",
	[ZCSEND_A_STATS_BYTES]		= "bytes",
	[ZCSEND_A_STATS_FILE_BYTES]	= "file_bytes",
	[ZCSEND_A_STATS_INLINE_BYTES]	= "inline_bytes",
	[ZCSEND_A_STATS_PAGES]		= "pages",
	[ZCSEND_A_STATS_BATCHES]	= "batches",
	[ZCSEND_A_STATS_COPY_FALLBACKS]	= "copy_fallbacks",
	[ZCSEND_A_STATS_ERR_AGAIN]	= "err_again",
	[ZCSEND_A_STATS_ERR_INTR]	= "err_intr",
	[ZCSEND_A_STATS_ERR_PIPE]	= "err_pipe",
	[ZCSEND_A_STATS_ERR_INVAL]	= "err_inval",
	[ZCSEND_A_STATS_ERR_OTHER]	= "err_other",
};

#define STAT_FIRST ZCSEND_A_STATS_CALLS

struct zc_stats {
	int cpu;			/* -1: summed over CPUs */
	uint64_t val[ZCSEND_A_STATS_MAX + 1];
};

struct zc_nl;

/* Called with each reply message's top-level attributes. */
typedef int (*zc_reply_fn)(struct zc_nl *nl, struct nlattr **tb);

struct zc_nl {
	struct nl_sock *sk;
	struct nl_cb *cb;
	int family;
	unsigned int seq;		/* of the request in flight */
	bool done;
	int err;			/* 0 or a positive errno */
	char extack[256];		/* the kernel's message, or "" */
	zc_reply_fn reply;
	void *arg;
};

static struct nla_policy top_policy[ZCSEND_A_MAX + 1] = {
	[ZCSEND_A_CPU]		= { .type = NLA_U32 },
	[ZCSEND_A_STATS]	= { .type = NLA_NESTED },
	[ZCSEND_A_CONFIG]	= { .type = NLA_NESTED },
};

static struct nla_policy extack_policy[NLMSGERR_ATTR_MAX + 1] = {
	[NLMSGERR_ATTR_MSG]	= { .type = NLA_STRING },
	[NLMSGERR_ATTR_OFFS]	= { .type = NLA_U32 },
	[NLMSGERR_ATTR_POLICY]	= { .type = NLA_NESTED },
};

static struct nla_policy extack_range_policy[NL_POLICY_TYPE_ATTR_MAX + 1] = {
	[NL_POLICY_TYPE_ATTR_MIN_VALUE_U] = { .type = NLA_U64 },
	[NL_POLICY_TYPE_ATTR_MAX_VALUE_U] = { .type = NLA_U64 },
};

/* The range the kernel's policy allows, when it said (as with ERANGE). */
static void zc_nl_read_range(struct zc_nl *nl, struct nlattr *pol)
{
	struct nlattr *tb[NL_POLICY_TYPE_ATTR_MAX + 1];
	size_t n = strlen(nl->extack);

	if (nla_parse_nested(tb, NL_POLICY_TYPE_ATTR_MAX, pol,
			     extack_range_policy) < 0 ||
	    !tb[NL_POLICY_TYPE_ATTR_MIN_VALUE_U] ||
	    !tb[NL_POLICY_TYPE_ATTR_MAX_VALUE_U])
		return;
	snprintf(nl->extack + n, sizeof(nl->extack) - n,
		 "%svalid range %" PRIu64 "..%" PRIu64, n ? ", " : "",
		 (uint64_t)nla_get_u64(tb[NL_POLICY_TYPE_ATTR_MIN_VALUE_U]),
		 (uint64_t)nla_get_u64(tb[NL_POLICY_TYPE_ATTR_MAX_VALUE_U]));
}

/* The kernel's extended ack, if any, follows the nlmsgerr. */
static void zc_nl_read_extack(struct zc_nl *nl, struct nlmsgerr *e)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)((char *)e - NLMSG_HDRLEN);
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	size_t off = sizeof(*e);
	size_t len = nlmsg_datalen(nlh);

	nl->extack[0] = '\0';
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	off = NLMSG_ALIGN(off);
	if (off >= len)
		return;
	if (nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)((char *)e + off),
		      (int)(len - off), extack_policy) < 0)
		return;
	if (tb[NLMSGERR_ATTR_MSG])
		snprintf(nl->extack, sizeof(nl->extack), "%s",
			 nla_get_string(tb[NLMSGERR_ATTR_MSG]));
	if (tb[NLMSGERR_ATTR_POLICY])
		zc_nl_read_range(nl, tb[NLMSGERR_ATTR_POLICY]);
}

static int zc_nl_error_cb(struct sockaddr_nl *who, struct nlmsgerr *e,
			  void *arg)
{
	struct zc_nl *nl = arg;

	(void)who;
	if (e->msg.nlmsg_seq != nl->seq)
		return NL_SKIP;
	nl->err = e->error < 0 ? -e->error : e->error;
	zc_nl_read_extack(nl, e);
	nl->done = true;
	return NL_STOP;
}

static int zc_nl_finish_cb(struct nl_msg *msg, void *arg)
{
	struct zc_nl *nl = arg;

	(void)msg;
	nl->done = true;
	return NL_STOP;
}

/* Auto-ack (and libnl's own sequence check) is off: check it here. */
static int zc_nl_seq_cb(struct nl_msg *msg, void *arg)
{
	struct zc_nl *nl = arg;

	return nlmsg_hdr(msg)->nlmsg_seq == nl->seq ? NL_OK : NL_SKIP;
}

static int zc_nl_valid_cb(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[ZCSEND_A_MAX + 1];
	struct zc_nl *nl = arg;
	int ret;

	ret = genlmsg_parse(nlmsg_hdr(msg), 0, tb, ZCSEND_A_MAX, top_policy);
	if (ret < 0) {
		nl->err = EPROTO;
		snprintf(nl->extack, sizeof(nl->extack),
			 "malformed reply: %s", nl_geterror(ret));
		nl->done = true;
		return NL_STOP;
	}
	if (!nl->reply)
		return NL_OK;
	ret = nl->reply(nl, tb);
	if (ret) {
		nl->err = ret;
		nl->done = true;
		return NL_STOP;
	}
	return NL_OK;
}

static int zc_nl_set_callbacks(struct zc_nl *nl)
{
	if (nl_cb_err(nl->cb, NL_CB_CUSTOM, zc_nl_error_cb, nl) ||
	    nl_cb_set(nl->cb, NL_CB_ACK, NL_CB_CUSTOM, zc_nl_finish_cb, nl) ||
	    nl_cb_set(nl->cb, NL_CB_FINISH, NL_CB_CUSTOM, zc_nl_finish_cb, nl) ||
	    nl_cb_set(nl->cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, zc_nl_seq_cb, nl) ||
	    nl_cb_set(nl->cb, NL_CB_VALID, NL_CB_CUSTOM, zc_nl_valid_cb, nl))
		return -1;
	return 0;
}

/**
 * zc_nl_free() - close the socket and free the context
 * @nl: a context from zc_nl_alloc(), or NULL
 */
static void zc_nl_free(struct zc_nl *nl)
{
	if (!nl)
		return;
	nl_cb_put(nl->cb);
	nl_socket_free(nl->sk);
	free(nl);
}

static int zc_nl_connect(struct zc_nl *nl)
{
	int one = 1;
	int ret;

	ret = genl_connect(nl->sk);
	if (ret < 0) {
		fprintf(stderr, "zcsend: netlink connect: %s\n",
			nl_geterror(ret));
		return -1;
	}
	/* Extended acks, and acks without a copy of our request. */
	if (setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_EXT_ACK,
		       &one, sizeof(one)) ||
	    setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_CAP_ACK,
		       &one, sizeof(one))) {
		perror("zcsend: setsockopt(NETLINK_EXT_ACK)");
		return -1;
	}
	return 0;
}

static int zc_nl_resolve(struct zc_nl *nl)
{
	int ret;

	ret = genl_ctrl_resolve(nl->sk, ZCSEND_GENL_NAME);
	if (ret == -NLE_OBJ_NOTFOUND) {
		fprintf(stderr, "%s\n", ZC_NOT_LOADED);
		return -1;
	}
	if (ret < 0) {
		fprintf(stderr, "zcsend: resolving family '%s': %s\n",
			ZCSEND_GENL_NAME, nl_geterror(ret));
		return -1;
	}
	nl->family = ret;
	return 0;
}

/**
 * zc_nl_alloc() - connect to the zcsend family
 *
 * Prints why on failure (including "module not loaded").
 *
 * Return: a context to free with zc_nl_free(), or NULL.
 */
static struct zc_nl *zc_nl_alloc(void)
{
	struct zc_nl *nl;

	nl = calloc(1, sizeof(*nl));
	if (!nl) {
		perror("zcsend");
		return NULL;
	}
	nl->sk = nl_socket_alloc();
	nl->cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!nl->sk || !nl->cb) {
		fprintf(stderr, "zcsend: out of memory for the netlink socket\n");
		goto err_free;
	}
	if (zc_nl_connect(nl) || zc_nl_resolve(nl))
		goto err_free;
	nl_socket_disable_auto_ack(nl->sk);
	if (zc_nl_set_callbacks(nl)) {
		fprintf(stderr, "zcsend: cannot set netlink callbacks\n");
		goto err_free;
	}
	return nl;

err_free:
	zc_nl_free(nl);
	return NULL;
}

/* A request of @cmd: a do with an ack, or a dump. NULL on no memory. */
static struct nl_msg *zc_nl_msg(struct zc_nl *nl, uint8_t cmd, bool dump)
{
	int flags = dump ? NLM_F_DUMP : NLM_F_ACK;
	struct nl_msg *msg;

	msg = nlmsg_alloc();
	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0, flags,
			 cmd, ZCSEND_GENL_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/*
 * Send @msg (always freed) and receive until the ack, the end of the dump
 * or an error. @reply sees each reply message.
 *
 * Return: 0 or a positive errno; nl->extack holds the kernel's message.
 */
static int zc_nl_transact(struct zc_nl *nl, struct nl_msg *msg,
			  zc_reply_fn reply, void *arg)
{
	int ret;

	nl->done = false;
	nl->err = 0;
	nl->extack[0] = '\0';
	nl->reply = reply;
	nl->arg = arg;

	ret = nl_send_auto(nl->sk, msg);
	nl->seq = nlmsg_hdr(msg)->nlmsg_seq;
	nlmsg_free(msg);
	if (ret < 0) {
		snprintf(nl->extack, sizeof(nl->extack), "send: %s",
			 nl_geterror(ret));
		return EIO;
	}
	while (!nl->done) {
		ret = nl_recvmsgs(nl->sk, nl->cb);
		if (ret < 0 && !nl->err) {
			snprintf(nl->extack, sizeof(nl->extack), "receive: %s",
				 nl_geterror(ret));
			nl->err = ret == -NLE_INTR ? EINTR : EIO;
		}
		if (ret < 0)
			break;
	}
	return nl->err;
}

/* Print "zcsend: WHAT: strerror (kernel: message)". */
static void zc_nl_perror(const struct zc_nl *nl, const char *what)
{
	if (nl->err == EPERM) {
		fprintf(stderr, "zcsend: %s: %s (needs CAP_NET_ADMIN)\n", what,
			strerror(nl->err));
		return;
	}
	if (nl->extack[0])
		fprintf(stderr, "zcsend: %s: %s (kernel: %s)\n", what,
			strerror(nl->err), nl->extack);
	else
		fprintf(stderr, "zcsend: %s: %s\n", what, strerror(nl->err));
}

static int zc_parse_stats(struct nlattr **tb, struct zc_stats *st)
{
	static struct nla_policy pol[ZCSEND_A_STATS_MAX + 1];
	struct nlattr *sa[ZCSEND_A_STATS_MAX + 1];
	int id;

	for (id = STAT_FIRST; id <= ZCSEND_A_STATS_MAX; id++)
		pol[id].type = NLA_U64;
	if (!tb[ZCSEND_A_STATS] ||
	    nla_parse_nested(sa, ZCSEND_A_STATS_MAX, tb[ZCSEND_A_STATS], pol))
		return EPROTO;

	st->cpu = tb[ZCSEND_A_CPU] ? (int)nla_get_u32(tb[ZCSEND_A_CPU]) : -1;
	for (id = STAT_FIRST; id <= ZCSEND_A_STATS_MAX; id++)
		st->val[id] = sa[id] ? nla_get_u64(sa[id]) : 0;
	return 0;
}

static int zc_stats_reply(struct zc_nl *nl, struct nlattr **tb)
{
	return zc_parse_stats(tb, nl->arg);
}

/* A growing array of per-CPU counters, filled by a dump. */
struct zc_stats_list {
	struct zc_stats *v;
	size_t n, cap;
};

static int zc_stats_list_reply(struct zc_nl *nl, struct nlattr **tb)
{
	struct zc_stats_list *l = nl->arg;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct zc_stats *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	if (zc_parse_stats(tb, &l->v[l->n]) || l->v[l->n].cpu < 0)
		return EPROTO;
	l->n++;
	return 0;
}

static int zc_stats_get(struct zc_nl *nl, struct zc_stats *st)
{
	struct nl_msg *msg = zc_nl_msg(nl, ZCSEND_CMD_STATS_GET, false);

	if (!msg)
		return ENOMEM;
	memset(st, 0, sizeof(*st));
	return zc_nl_transact(nl, msg, zc_stats_reply, st);
}

static int zc_stats_dump(struct zc_nl *nl, struct zc_stats_list *l)
{
	struct nl_msg *msg = zc_nl_msg(nl, ZCSEND_CMD_STATS_GET, true);

	if (!msg)
		return ENOMEM;
	return zc_nl_transact(nl, msg, zc_stats_list_reply, l);
}

static void print_stats_json(const struct zc_stats *st)
{
	int id;

	printf("{");
	if (st->cpu >= 0)
		printf("\"cpu\": %d, ", st->cpu);
	for (id = STAT_FIRST; id <= ZCSEND_A_STATS_MAX; id++)
		printf("\"%s\": %" PRIu64 "%s", stat_names[id], st->val[id],
		       id < ZCSEND_A_STATS_MAX ? ", " : "");
	printf("}");
}

static void print_stats_text(const struct zc_stats *st)
{
	int id;

	for (id = STAT_FIRST; id <= ZCSEND_A_STATS_MAX; id++)
		printf("%-16s %" PRIu64 "\n", stat_names[id], st->val[id]);
}

static void print_cpu_text(const struct zc_stats *st)
{
	int id;

	printf("cpu%d:", st->cpu);
	for (id = STAT_FIRST; id <= ZCSEND_A_STATS_MAX; id++)
		printf(" %s=%" PRIu64, stat_names[id], st->val[id]);
	printf("\n");
}

static void print_sample(const struct zc_stats *sum,
			 const struct zc_stats_list *l, bool json)
{
	size_t i;

	if (json) {
		if (!l) {
			print_stats_json(sum);
			printf("\n");
			return;
		}
		printf("{\"total\": ");
		print_stats_json(sum);
		printf(", \"per_cpu\": [");
		for (i = 0; i < l->n; i++) {
			printf("%s", i ? ", " : "");
			print_stats_json(&l->v[i]);
		}
		printf("]}\n");
		return;
	}
	print_stats_text(sum);
	for (i = 0; l && i < l->n; i++)
		print_cpu_text(&l->v[i]);
}

/* One sample: the sum, and with @per_cpu every CPU. 0 or 1 (printed). */
static int stats_sample(struct zc_nl *nl, bool json, bool per_cpu)
{
	struct zc_stats_list l = { 0 };
	struct zc_stats sum;
	int ret = 1;

	if (zc_stats_get(nl, &sum)) {
		zc_nl_perror(nl, "stats");
		return 1;
	}
	if (per_cpu && zc_stats_dump(nl, &l)) {
		zc_nl_perror(nl, "stats --per-cpu");
		goto out;
	}
	print_sample(&sum, per_cpu ? &l : NULL, json);
	if (fflush(stdout) == EOF) {
		perror("zcsend: stdout");
		goto out;
	}
	ret = 0;
out:
	free(l.v);
	return ret;
}

static volatile sig_atomic_t stop_watch;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_watch = 1;
}

/* SIGINT and SIGTERM end --watch cleanly; no SA_RESTART, so sleeps end. */
static int catch_stop_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL)) {
		perror("zcsend: sigaction");
		return -1;
	}
	return 0;
}

static int stats_watch(struct zc_nl *nl, bool json, bool per_cpu,
		       double interval)
{
	struct timespec ts = {
		.tv_sec = (time_t)interval,
		.tv_nsec = (long)((interval - (double)(time_t)interval) * 1e9),
	};
	bool first = true;

	if (catch_stop_signals())
		return 1;
	while (!stop_watch) {
		if (!first && !json)
			printf("\n");
		first = false;
		if (stats_sample(nl, json, per_cpu))
			return stop_watch ? 0 : 1;
		if (nanosleep(&ts, NULL) && errno != EINTR) {
			perror("zcsend: nanosleep");
			return 1;
		}
	}
	return 0;
}

static int stats_reset(struct zc_nl *nl)
{
	struct nl_msg *msg = zc_nl_msg(nl, ZCSEND_CMD_STATS_RESET, false);

	if (!msg) {
		fprintf(stderr, "zcsend: out of memory\n");
		return 1;
	}
	if (zc_nl_transact(nl, msg, NULL, NULL)) {
		zc_nl_perror(nl, "stats reset");
		return 1;
	}
	return 0;
}

static void stats_usage(FILE *out)
{
	fprintf(out,
		"usage: zcsend stats [--json] [--per-cpu] [--watch SECONDS]\n"
		"       zcsend stats reset\n");
}

static int parse_interval(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || v > 86400) {
		fprintf(stderr, "zcsend: --watch wants seconds (0 < s <= 86400), not '%s'\n",
			s);
		return -1;
	}
	*out = v;
	return 0;
}

/**
 * cmd_stats() - zcsend stats [--json] [--per-cpu] [--watch S] | stats reset
 * @argc: argument count, argv[0] is "stats"
 * @argv: arguments
 *
 * Return: exit status: 0, 1 on failure, EXIT_USAGE on bad usage.
 */
int cmd_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "per-cpu", no_argument, NULL, 'p' },
		{ "watch", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false, per_cpu = false, reset = false;
	double interval = 0;
	struct zc_nl *nl;
	int c, ret;

	while ((c = getopt_long(argc, argv, "jpw:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'p':
			per_cpu = true;
			break;
		case 'w':
			if (parse_interval(optarg, &interval))
				return EXIT_USAGE;
			break;
		case 'h':
			stats_usage(stdout);
			return 0;
		default:
			stats_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc && strcmp(argv[optind], "reset") == 0) {
		reset = true;
		optind++;
	}
	if (optind < argc || (reset && (json || per_cpu || interval > 0))) {
		stats_usage(stderr);
		return EXIT_USAGE;
	}

	nl = zc_nl_alloc();
	if (!nl)
		return 1;
	if (reset)
		ret = stats_reset(nl);
	else if (interval > 0)
		ret = stats_watch(nl, json, per_cpu, interval);
	else
		ret = stats_sample(nl, json, per_cpu);
	zc_nl_free(nl);
	return ret;
}

static int zc_config_reply(struct zc_nl *nl, struct nlattr **tb)
{
	static struct nla_policy pol[ZCSEND_A_CONFIG_MAX + 1] = {
		[ZCSEND_A_CONFIG_BATCH_PAGES] = { .type = NLA_U32 },
	};
	struct nlattr *ca[ZCSEND_A_CONFIG_MAX + 1];
	uint32_t *batch_pages = nl->arg;

	if (!tb[ZCSEND_A_CONFIG] ||
	    nla_parse_nested(ca, ZCSEND_A_CONFIG_MAX, tb[ZCSEND_A_CONFIG], pol) ||
	    !ca[ZCSEND_A_CONFIG_BATCH_PAGES])
		return EPROTO;
	*batch_pages = nla_get_u32(ca[ZCSEND_A_CONFIG_BATCH_PAGES]);
	return 0;
}

static int config_show(struct zc_nl *nl, bool json)
{
	struct nl_msg *msg = zc_nl_msg(nl, ZCSEND_CMD_CONFIG_GET, false);
	uint32_t batch_pages = 0;

	if (!msg) {
		fprintf(stderr, "zcsend: out of memory\n");
		return 1;
	}
	if (zc_nl_transact(nl, msg, zc_config_reply, &batch_pages)) {
		zc_nl_perror(nl, "config");
		return 1;
	}
	if (json)
		printf("{\"batch_pages\": %" PRIu32 "}\n", batch_pages);
	else
		printf("batch_pages %" PRIu32 "\n", batch_pages);
	return 0;
}

/* The tunables "config set" knows, by name, with their attribute. */
static const struct {
	const char *name;
	int attr;
} tunables[] = {
	{ "batch_pages", ZCSEND_A_CONFIG_BATCH_PAGES },
};

static int tunable_attr(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(tunables) / sizeof(tunables[0]); i++)
		if (strcmp(name, tunables[i].name) == 0)
			return tunables[i].attr;
	return -1;
}

/* Any u32; the range is the kernel's to check (it says so in extack). */
static int parse_u32(const char *s, uint32_t *out)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static struct nl_msg *config_set_msg(struct zc_nl *nl, int attr,
				     uint32_t value)
{
	struct nl_msg *msg = zc_nl_msg(nl, ZCSEND_CMD_CONFIG_SET, false);
	struct nlattr *nest;

	if (!msg)
		return NULL;
	nest = nla_nest_start(msg, ZCSEND_A_CONFIG);
	if (!nest || nla_put_u32(msg, attr, value) ||
	    nla_nest_end(msg, nest)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

static int config_set(struct zc_nl *nl, const char *name, uint32_t value)
{
	struct nl_msg *msg;
	char what[64];

	msg = config_set_msg(nl, tunable_attr(name), value);
	if (!msg) {
		fprintf(stderr, "zcsend: out of memory\n");
		return 1;
	}
	if (zc_nl_transact(nl, msg, NULL, NULL)) {
		snprintf(what, sizeof(what), "config set %s %" PRIu32, name,
			 value);
		zc_nl_perror(nl, what);
		return 1;
	}
	return 0;
}

static void config_usage(FILE *out)
{
	fprintf(out,
		"usage: zcsend config [--json]\n"
		"       zcsend config set NAME VALUE   (NAME: batch_pages)\n");
}

/**
 * cmd_config() - zcsend config [--json] | config set NAME VALUE
 * @argc: argument count, argv[0] is "config"
 * @argv: arguments
 *
 * Return: exit status: 0, 1 on failure, EXIT_USAGE on bad usage.
 */
int cmd_config(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = NULL;
	uint32_t value = 0;
	bool json = false;
	struct zc_nl *nl;
	int c, ret;

	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			config_usage(stdout);
			return 0;
		default:
			config_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		if (strcmp(argv[optind], "set") || argc - optind != 3 || json) {
			config_usage(stderr);
			return EXIT_USAGE;
		}
		name = argv[optind + 1];
		if (tunable_attr(name) < 0) {
			fprintf(stderr, "zcsend: unknown tunable '%s'\n", name);
			config_usage(stderr);
			return EXIT_USAGE;
		}
		if (parse_u32(argv[optind + 2], &value)) {
			fprintf(stderr, "zcsend: %s wants a number 0..%" PRIu32 ", not '%s'\n",
				name, UINT32_MAX, argv[optind + 2]);
			return EXIT_USAGE;
		}
	}

	nl = zc_nl_alloc();
	if (!nl)
		return 1;
	ret = name ? config_set(nl, name, value) : config_show(nl, json);
	zc_nl_free(nl);
	return ret;
}
