// SPDX-License-Identifier: GPL-2.0
/*
 * The generic netlink client of the "zcsend" family (see genl.h): the
 * transport, with libnl's auto-ack and sequence checking, and the family's
 * requests.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/netlink.h>
#include <netlink/errno.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/handlers.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "genl.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

const char *const zc_stat_names[ZC_NSTATS] = {
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
	[ZCSEND_A_STATS_NOWAIT_MISSES]	= "nowait_misses",
	[ZCSEND_A_STATS_NOWAIT_READAHEADS] = "nowait_readaheads",
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
static void read_extack_range(struct zc_genl *g, struct nlattr *pol)
{
	struct nlattr *tb[NL_POLICY_TYPE_ATTR_MAX + 1];
	size_t n = strlen(g->extack);

	if (nla_parse_nested(tb, NL_POLICY_TYPE_ATTR_MAX, pol,
			     extack_range_policy) < 0 ||
	    !tb[NL_POLICY_TYPE_ATTR_MIN_VALUE_U] ||
	    !tb[NL_POLICY_TYPE_ATTR_MAX_VALUE_U])
		return;
	snprintf(g->extack + n, sizeof(g->extack) - n,
		 "%svalid range %" PRIu64 "..%" PRIu64, n ? ", " : "",
		 (uint64_t)nla_get_u64(tb[NL_POLICY_TYPE_ATTR_MIN_VALUE_U]),
		 (uint64_t)nla_get_u64(tb[NL_POLICY_TYPE_ATTR_MAX_VALUE_U]));
}

/*
 * The extended ack's attributes follow the nlmsgerr: directly, since
 * NETLINK_CAP_ACK is on (the kernel does not echo the request).
 */
static void read_extack(struct zc_genl *g, struct nlmsgerr *e)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)((char *)e - NLMSG_HDRLEN);
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	size_t off = sizeof(*e);
	size_t len = nlmsg_datalen(nlh);

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	off = NLMSG_ALIGN(off);
	if (off >= len ||
	    nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)((char *)e + off),
		      (int)(len - off), extack_policy) < 0)
		return;
	if (tb[NLMSGERR_ATTR_MSG])
		snprintf(g->extack, sizeof(g->extack), "%s",
			 nla_get_string(tb[NLMSGERR_ATTR_MSG]));
	if (tb[NLMSGERR_ATTR_POLICY])
		read_extack_range(g, tb[NLMSGERR_ATTR_POLICY]);
}

static int error_cb(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
	struct zc_genl *g = arg;

	(void)who;
	g->err = e->error < 0 ? -e->error : e->error;
	read_extack(g, e);
	g->done = true;
	return NL_STOP;
}

/* The ack of a do, or the end of a dump. */
static int done_cb(struct nl_msg *msg, void *arg)
{
	struct zc_genl *g = arg;

	(void)msg;
	g->done = true;
	return NL_STOP;
}

static int valid_cb(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[ZCSEND_A_MAX + 1];
	struct zc_genl *g = arg;
	int ret;

	ret = genlmsg_parse(nlmsg_hdr(msg), 0, tb, ZCSEND_A_MAX, top_policy);
	if (ret < 0) {
		snprintf(g->extack, sizeof(g->extack), "malformed reply: %s",
			 nl_geterror(ret));
		ret = EPROTO;
	} else {
		ret = g->reply ? g->reply(tb, g->arg) : 0;
	}
	if (!ret)
		return NL_OK;
	g->err = ret;
	g->done = true;
	return NL_STOP;
}

/* Extended acks, and acks without a copy of the request. */
static int set_sockopts(struct nl_sock *sk)
{
	int fd = nl_socket_get_fd(sk), one = 1;

	if (setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one)))
		return errno;
	return 0;
}

static int set_callbacks(struct zc_genl *g)
{
	if (nl_cb_err(g->cb, NL_CB_CUSTOM, error_cb, g) ||
	    nl_cb_set(g->cb, NL_CB_ACK, NL_CB_CUSTOM, done_cb, g) ||
	    nl_cb_set(g->cb, NL_CB_FINISH, NL_CB_CUSTOM, done_cb, g) ||
	    nl_cb_set(g->cb, NL_CB_VALID, NL_CB_CUSTOM, valid_cb, g))
		return EINVAL;
	return 0;
}

/* Connect and resolve the family: 0, ENOENT (not registered) or errno. */
static int connect_family(struct zc_genl *g)
{
	int ret;

	ret = genl_connect(g->sk);
	if (ret < 0)
		return EIO;
	ret = set_sockopts(g->sk);
	if (ret)
		return ret;
	ret = genl_ctrl_resolve(g->sk, ZCSEND_GENL_NAME);
	if (ret == -NLE_OBJ_NOTFOUND)
		return ENOENT;
	if (ret < 0)
		return EIO;
	g->family = ret;
	return set_callbacks(g);
}

/**
 * zc_genl_alloc() - a socket connected to the zcsend family
 *
 * Return: a context to free with zc_genl_free(), or NULL with errno set:
 * ENOENT when the family is not registered (the module is not loaded).
 */
struct zc_genl *zc_genl_alloc(void)
{
	struct zc_genl *g;
	int err = ENOMEM;

	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->sk = nl_socket_alloc();
	g->cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (g->sk && g->cb)
		err = connect_family(g);
	if (err) {
		zc_genl_free(g);
		errno = err;
		return NULL;
	}
	return g;
}

/**
 * zc_genl_free() - close the socket and free the context
 * @g: a context from zc_genl_alloc(), or NULL
 */
void zc_genl_free(struct zc_genl *g)
{
	if (!g)
		return;
	nl_cb_put(g->cb);
	nl_socket_free(g->sk);
	free(g);
}

/**
 * zc_genl_open() - zc_genl_alloc(), saying on stderr why it failed
 *
 * Return: the context, or NULL (the reason printed).
 */
struct zc_genl *zc_genl_open(void)
{
	struct zc_genl *g = zc_genl_alloc();

	if (g)
		return g;
	if (errno == ENOENT)
		fprintf(stderr, "zcsend: module not loaded (generic netlink family '%s' not found)\n",
			ZCSEND_GENL_NAME);
	else
		fprintf(stderr, "zcsend: netlink family '%s': %s\n",
			ZCSEND_GENL_NAME, strerror(errno));
	return NULL;
}

/**
 * zc_genl_status() - a request's outcome as the tool's exit status
 * @g: the context
 * @err: what the request returned: 0 or a positive errno
 * @what: the request, for the reader
 *
 * Return: 0 if @err is 0, else 1 after "zcsend: WHAT: strerror (kernel:
 * message)" on stderr.
 */
int zc_genl_status(const struct zc_genl *g, int err, const char *what)
{
	if (!err)
		return 0;
	if (err == EPERM)
		fprintf(stderr, "zcsend: %s: %s (needs CAP_NET_ADMIN)\n", what,
			strerror(err));
	else if (g->extack[0])
		fprintf(stderr, "zcsend: %s: %s (kernel: %s)\n", what,
			strerror(err), g->extack);
	else
		fprintf(stderr, "zcsend: %s: %s\n", what, strerror(err));
	return 1;
}

/**
 * zc_genl_msg() - a request of @cmd to the family
 * @g: the context
 * @cmd: ZCSEND_CMD_*
 * @dump: a dump rather than a do
 *
 * Return: the message, or NULL without memory.
 */
struct nl_msg *zc_genl_msg(struct zc_genl *g, uint8_t cmd, bool dump)
{
	struct nl_msg *msg;

	msg = nlmsg_alloc();
	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, g->family, 0,
			 dump ? NLM_F_DUMP : 0, cmd, ZCSEND_GENL_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/**
 * zc_genl_send() - send a request and do not wait for its answer
 * @g: the context
 * @msg: from zc_genl_msg(), freed here (NULL: ENOMEM)
 *
 * Return: 0 or a positive errno.
 */
int zc_genl_send(struct zc_genl *g, struct nl_msg *msg)
{
	int ret;

	g->done = false;
	g->err = 0;
	g->extack[0] = '\0';
	if (!msg)
		return ENOMEM;
	ret = nl_send_auto(g->sk, msg);
	nlmsg_free(msg);
	if (ret < 0) {
		snprintf(g->extack, sizeof(g->extack), "send: %s",
			 nl_geterror(ret));
		return EIO;
	}
	return 0;
}

/**
 * zc_genl_transact() - send a request and receive up to its end
 * @g: the context
 * @msg: from zc_genl_msg(), freed here (NULL: ENOMEM)
 * @reply: called with each reply message, or NULL
 * @arg: for @reply
 *
 * Return: 0 or a positive errno (the kernel's, or from @reply); g->extack
 * holds the kernel's message.
 */
int zc_genl_transact(struct zc_genl *g, struct nl_msg *msg,
		     zc_genl_reply_fn reply, void *arg)
{
	int ret;

	ret = zc_genl_send(g, msg);
	if (ret)
		return ret;
	g->reply = reply;
	g->arg = arg;
	while (!g->done) {
		ret = nl_recvmsgs(g->sk, g->cb);
		if (ret < 0 && !g->err) {
			snprintf(g->extack, sizeof(g->extack), "receive: %s",
				 nl_geterror(ret));
			g->err = ret == -NLE_INTR ? EINTR : EIO;
		}
		if (ret < 0)
			break;
	}
	g->reply = NULL;
	return g->err;
}

/* Every counter, always: a missing one is a malformed reply. */
static int parse_stats(struct nlattr **tb, struct zc_stats *st)
{
	static struct nla_policy pol[ZC_NSTATS];
	struct nlattr *sa[ZC_NSTATS];
	int id;

	for (id = ZC_STAT_FIRST; id < ZC_NSTATS; id++)
		pol[id].type = NLA_U64;
	if (!tb[ZCSEND_A_STATS] ||
	    nla_parse_nested(sa, ZCSEND_A_STATS_MAX, tb[ZCSEND_A_STATS], pol))
		return EPROTO;
	st->cpu = tb[ZCSEND_A_CPU] ? (int)nla_get_u32(tb[ZCSEND_A_CPU]) : -1;
	for (id = ZC_STAT_FIRST; id < ZC_NSTATS; id++) {
		if (!sa[id])
			return EPROTO;
		st->val[id] = nla_get_u64(sa[id]);
	}
	return 0;
}

static int stats_reply(struct nlattr **tb, void *arg)
{
	return parse_stats(tb, arg);
}

/**
 * zc_stats_get() - the counters, summed over all CPUs
 * @g: the context
 * @st: filled in (cpu is -1)
 *
 * Return: 0 or a positive errno.
 */
int zc_stats_get(struct zc_genl *g, struct zc_stats *st)
{
	memset(st, 0, sizeof(*st));
	return zc_genl_transact(g, zc_genl_msg(g, ZCSEND_CMD_STATS_GET, false),
				stats_reply, st);
}

struct stats_dump {
	zc_stats_fn fn;
	void *arg;
};

static int stats_dump_reply(struct nlattr **tb, void *arg)
{
	struct stats_dump *d = arg;
	struct zc_stats st;
	int ret;

	ret = parse_stats(tb, &st);
	if (!ret && st.cpu < 0)
		ret = EPROTO;
	return ret ? ret : d->fn(&st, d->arg);
}

/**
 * zc_stats_dump() - the counters of each possible CPU
 * @g: the context
 * @fn: called with each CPU's counters; 0 or a positive errno (stops)
 * @arg: for @fn
 *
 * Return: 0 or a positive errno.
 */
int zc_stats_dump(struct zc_genl *g, zc_stats_fn fn, void *arg)
{
	struct stats_dump d = { .fn = fn, .arg = arg };

	return zc_genl_transact(g, zc_genl_msg(g, ZCSEND_CMD_STATS_GET, true),
				stats_dump_reply, &d);
}

/* Make every counter read zero. Needs CAP_NET_ADMIN. */
int zc_stats_reset(struct zc_genl *g)
{
	return zc_genl_transact(g,
				zc_genl_msg(g, ZCSEND_CMD_STATS_RESET, false),
				NULL, NULL);
}

static int config_reply(struct nlattr **tb, void *arg)
{
	static struct nla_policy pol[ZCSEND_A_CONFIG_MAX + 1] = {
		[ZCSEND_A_CONFIG_BATCH_PAGES] = { .type = NLA_U32 },
	};
	struct nlattr *ca[ZCSEND_A_CONFIG_MAX + 1];
	uint32_t *batch_pages = arg;

	if (!tb[ZCSEND_A_CONFIG] ||
	    nla_parse_nested(ca, ZCSEND_A_CONFIG_MAX, tb[ZCSEND_A_CONFIG], pol) ||
	    !ca[ZCSEND_A_CONFIG_BATCH_PAGES])
		return EPROTO;
	*batch_pages = nla_get_u32(ca[ZCSEND_A_CONFIG_BATCH_PAGES]);
	return 0;
}

/* The tunables (there is one). 0 or a positive errno. */
int zc_config_get(struct zc_genl *g, uint32_t *batch_pages)
{
	return zc_genl_transact(g, zc_genl_msg(g, ZCSEND_CMD_CONFIG_GET, false),
				config_reply, batch_pages);
}

/**
 * zc_config_set() - set one tunable
 * @g: the context
 * @attr: its ZCSEND_A_CONFIG_* attribute
 * @value: the value; its range is the kernel's to check
 *
 * Return: 0 or a positive errno. Needs CAP_NET_ADMIN.
 */
int zc_config_set(struct zc_genl *g, int attr, uint32_t value)
{
	struct nl_msg *msg = zc_genl_msg(g, ZCSEND_CMD_CONFIG_SET, false);
	struct nlattr *nest;

	if (!msg)
		return ENOMEM;
	nest = nla_nest_start(msg, ZCSEND_A_CONFIG);
	if (!nest || nla_put_u32(msg, attr, value) ||
	    nla_nest_end(msg, nest)) {
		nlmsg_free(msg);
		return ENOMEM;
	}
	return zc_genl_transact(g, msg, NULL, NULL);
}
