/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A client of the generic netlink family "zcsend", on libnl-genl-3: one
 * context (socket, family id, outcome of the last request), the requests
 * the family knows, and the kernel's extended-ack message on errors. Used by
 * the zcsend tool (stats.c, config.c) and by selftests/zcsend_netlink.c.
 *
 * libnl does the protocol work: auto-ack (every request asks for an ack),
 * sequence numbers and their checking. Requests return 0 or a positive
 * errno, the kernel's own for refused requests.
 */
#ifndef ZCSEND_GENL_H
#define ZCSEND_GENL_H

#include <stdbool.h>
#include <stdint.h>

#include <netlink/attr.h>
#include <netlink/msg.h>

#include <linux/zcsend.h>

struct nl_sock;
struct nl_cb;

/* Called with each reply's top-level attributes; 0 or a positive errno. */
typedef int (*zc_genl_reply_fn)(struct nlattr **tb, void *arg);

struct zc_genl {
	struct nl_sock *sk;
	struct nl_cb *cb;
	int family;			/* id of "zcsend" */
	bool done;			/* the request in flight ended */
	int err;			/* its outcome: 0 or a positive errno */
	char extack[256];		/* the kernel's message for it, or "" */
	zc_genl_reply_fn reply;
	void *arg;
};

struct zc_genl *zc_genl_alloc(void);
void zc_genl_free(struct zc_genl *g);
struct zc_genl *zc_genl_open(void);
int zc_genl_status(const struct zc_genl *g, int err, const char *what);

struct nl_msg *zc_genl_msg(struct zc_genl *g, uint8_t cmd, bool dump);
int zc_genl_send(struct zc_genl *g, struct nl_msg *msg);
int zc_genl_transact(struct zc_genl *g, struct nl_msg *msg,
		     zc_genl_reply_fn reply, void *arg);

/* Counters, indexed by enum zcsend_a_stats; first is ZC_STAT_FIRST. */
#define ZC_STAT_FIRST	ZCSEND_A_STATS_CALLS
#define ZC_NSTATS	(ZCSEND_A_STATS_MAX + 1)

extern const char *const zc_stat_names[ZC_NSTATS];

struct zc_stats {
	int cpu;			/* -1: summed over all CPUs */
	uint64_t val[ZC_NSTATS];
};

typedef int (*zc_stats_fn)(const struct zc_stats *st, void *arg);

int zc_stats_get(struct zc_genl *g, struct zc_stats *st);
int zc_stats_dump(struct zc_genl *g, zc_stats_fn fn, void *arg);
int zc_stats_reset(struct zc_genl *g);
int zc_config_get(struct zc_genl *g, uint32_t *batch_pages);
int zc_config_set(struct zc_genl *g, int attr, uint32_t value);

#endif /* ZCSEND_GENL_H */
