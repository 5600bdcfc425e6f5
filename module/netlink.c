// SPDX-License-Identifier: GPL-2.0
/*
 * zcsend: the generic netlink family "zcsend", statistics and configuration.
 *
 * The family only uses what 6.1 and 6.12 share: struct genl_ops with a
 * policy per operation. resv_start_op is left at 0, so the core validates
 * every command strictly: reserved header fields and flags, unknown
 * attributes, attributes an operation does not take. Operations without a
 * policy take no attributes at all: the core rejects any it is given.
 */
#include <linux/cpumask.h>
#include <linux/module.h>
#include <net/genetlink.h>
#include <net/netlink.h>

#include "zcsend.h"

static const struct nla_policy zcsend_config_policy[ZCSEND_A_CONFIG_MAX + 1] = {
	[ZCSEND_A_CONFIG_BATCH_PAGES] = NLA_POLICY_RANGE(NLA_U32,
							 ZCSEND_BATCH_PAGES_MIN,
							 ZCSEND_BATCH_PAGES_MAX),
};

/* CONFIG_SET takes ZCSEND_A_CONFIG and nothing else. */
static const struct nla_policy zcsend_config_set_policy[ZCSEND_A_CONFIG + 1] = {
	[ZCSEND_A_CONFIG] = NLA_POLICY_NESTED(zcsend_config_policy),
};

static struct genl_family zcsend_genl_family;

/* Room for one ZCSEND_A_STATS nest with every counter. */
static size_t zcsend_stats_msg_size(void)
{
	return nla_total_size(sizeof(u32)) +		/* ZCSEND_A_CPU */
	       nla_total_size(0) +			/* ZCSEND_A_STATS */
	       (ZCSEND_STAT_NR - ZCSEND_STAT_FIRST) *
	       nla_total_size_64bit(sizeof(u64));
}

static int zcsend_put_stats(struct sk_buff *skb, const u64 *vals)
{
	struct nlattr *nest;
	unsigned int id;

	nest = nla_nest_start(skb, ZCSEND_A_STATS);
	if (!nest)
		return -EMSGSIZE;

	for (id = ZCSEND_STAT_FIRST; id < ZCSEND_STAT_NR; id++) {
		if (nla_put_u64_64bit(skb, id, vals[id], ZCSEND_A_STATS_PAD)) {
			nla_nest_cancel(skb, nest);
			return -EMSGSIZE;
		}
	}
	nla_nest_end(skb, nest);
	return 0;
}

static int zcsend_nl_stats_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	u64 vals[ZCSEND_STAT_NR];
	struct sk_buff *msg;
	void *hdr;
	int err;

	msg = genlmsg_new(zcsend_stats_msg_size(), GFP_KERNEL);
	if (!msg)
		return -ENOMEM;

	hdr = genlmsg_put_reply(msg, info, &zcsend_genl_family, 0,
				ZCSEND_CMD_STATS_GET);
	if (!hdr) {
		err = -EMSGSIZE;
		goto err_free_msg;
	}

	zcsend_stats_read_sum(vals);
	err = zcsend_put_stats(msg, vals);
	if (err)
		goto err_free_msg;

	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_free_msg:
	nlmsg_free(msg);
	return err;
}

static int zcsend_nl_stats_fill_cpu(struct sk_buff *skb,
				    struct netlink_callback *cb, int cpu)
{
	u64 vals[ZCSEND_STAT_NR];
	void *hdr;

	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &zcsend_genl_family, NLM_F_MULTI,
			  ZCSEND_CMD_STATS_GET);
	if (!hdr)
		return -EMSGSIZE;

	zcsend_stats_read_cpu(cpu, vals);
	if (nla_put_u32(skb, ZCSEND_A_CPU, cpu) ||
	    zcsend_put_stats(skb, vals)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

/*
 * One message per possible CPU. cb->args[0] is the next CPU to report, so
 * a dump that fills its buffer resumes where it stopped.
 */
static int zcsend_nl_stats_get_dumpit(struct sk_buff *skb,
				      struct netlink_callback *cb)
{
	int cpu;

	for (cpu = cb->args[0]; cpu < nr_cpu_ids; cpu++) {
		if (!cpu_possible(cpu))
			continue;
		if (zcsend_nl_stats_fill_cpu(skb, cb, cpu))
			break;
	}
	cb->args[0] = cpu;
	return skb->len;
}

static int zcsend_nl_stats_reset_doit(struct sk_buff *skb,
				      struct genl_info *info)
{
	zcsend_stats_reset();
	return 0;
}

static int zcsend_nl_config_get_doit(struct sk_buff *skb,
				     struct genl_info *info)
{
	struct sk_buff *msg;
	struct nlattr *nest;
	void *hdr;

	msg = genlmsg_new(nla_total_size(0) + nla_total_size(sizeof(u32)),
			  GFP_KERNEL);
	if (!msg)
		return -ENOMEM;

	hdr = genlmsg_put_reply(msg, info, &zcsend_genl_family, 0,
				ZCSEND_CMD_CONFIG_GET);
	if (!hdr)
		goto err_free_msg;

	nest = nla_nest_start(msg, ZCSEND_A_CONFIG);
	if (!nest)
		goto err_free_msg;
	if (nla_put_u32(msg, ZCSEND_A_CONFIG_BATCH_PAGES,
			zcsend_batch_pages_get()))
		goto err_free_msg;
	nla_nest_end(msg, nest);

	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_free_msg:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

static int zcsend_nl_config_set_doit(struct sk_buff *skb,
				     struct genl_info *info)
{
	struct nlattr *tb[ZCSEND_A_CONFIG_MAX + 1];
	struct nlattr *conf;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, ZCSEND_A_CONFIG)) {
		GENL_SET_ERR_MSG(info, "ZCSEND_A_CONFIG (the tunables to set) is missing");
		return -EINVAL;
	}
	conf = info->attrs[ZCSEND_A_CONFIG];

	/* Already validated against zcsend_config_policy by the core. */
	err = nla_parse_nested(tb, ZCSEND_A_CONFIG_MAX, conf,
			       zcsend_config_policy, info->extack);
	if (err)
		return err;

	if (!tb[ZCSEND_A_CONFIG_BATCH_PAGES]) {
		NL_SET_ERR_MSG_ATTR(info->extack, conf,
				    "ZCSEND_A_CONFIG holds no tunable to set");
		return -EINVAL;
	}

	err = zcsend_batch_pages_set(nla_get_u32(tb[ZCSEND_A_CONFIG_BATCH_PAGES]));
	if (err)
		NL_SET_ERR_MSG_ATTR(info->extack,
				    tb[ZCSEND_A_CONFIG_BATCH_PAGES],
				    "batch_pages out of range");
	return err;
}

static const struct genl_ops zcsend_genl_ops[] = {
	{
		.cmd	= ZCSEND_CMD_STATS_GET,
		.doit	= zcsend_nl_stats_get_doit,
		.dumpit	= zcsend_nl_stats_get_dumpit,
	},
	{
		.cmd	= ZCSEND_CMD_STATS_RESET,
		.flags	= GENL_ADMIN_PERM,
		.doit	= zcsend_nl_stats_reset_doit,
	},
	{
		.cmd	= ZCSEND_CMD_CONFIG_GET,
		.doit	= zcsend_nl_config_get_doit,
	},
	{
		.cmd	= ZCSEND_CMD_CONFIG_SET,
		.flags	= GENL_ADMIN_PERM,
		.doit	= zcsend_nl_config_set_doit,
		.policy	= zcsend_config_set_policy,
		.maxattr = ARRAY_SIZE(zcsend_config_set_policy) - 1,
	},
};

/*
 * Readable from every network namespace; GENL_ADMIN_PERM asks for
 * CAP_NET_ADMIN in the initial user namespace, as the counters and the
 * tunables are global.
 */
static struct genl_family zcsend_genl_family __ro_after_init = {
	.name		= ZCSEND_GENL_NAME,
	.version	= ZCSEND_GENL_VERSION,
	.netnsok	= true,
	.module		= THIS_MODULE,
	.ops		= zcsend_genl_ops,
	.n_ops		= ARRAY_SIZE(zcsend_genl_ops),
};

/**
 * zcsend_genl_init() - register the generic netlink family
 *
 * Return: 0, or a negative errno from genl_register_family().
 */
int zcsend_genl_init(void)
{
	BUILD_BUG_ON(ZCSEND_CMD_MAX != ZCSEND_CMD_CONFIG_SET);

	return genl_register_family(&zcsend_genl_family);
}

/**
 * zcsend_genl_exit() - unregister the generic netlink family
 *
 * Waits for running operations and dumps to finish; sockets that still
 * have the family's id simply get errors afterwards.
 */
void zcsend_genl_exit(void)
{
	genl_unregister_family(&zcsend_genl_family);
}

MODULE_ALIAS_GENL_FAMILY(ZCSEND_GENL_NAME);
