// SPDX-License-Identifier: GPL-2.0
/*
 * zcsend bench: CPU-copied payload bytes, measured in the kernel.
 *
 * How: kprobe events (tracefs kprobe_events) with hist triggers that sum a
 * byte count per process. The triggers are armed once for the whole
 * benchmark and each run is the difference of two readings of the hist
 * files: arming or disarming per run would live-patch kernel text (kprobes,
 * and the sched_wakeup tracepoint that .execname keys turn on) thousands of
 * times, and under QEMU TCG that patching raced with the other vCPU and
 * oopsed (int3 in ttwu_do_activate, seen on 6.12). Sums are over all processes during
 * the run (copies done in softirq context are charged to whatever task was
 * running, so filtering on the sender's pid would miss some); during a run
 * only the sender and the receiver are busy, and the receiver's own copy
 * (skb_copy_datagram_iter, into its buffer) is not probed.
 *
 *   tcp_sendmsg_locked  return value > 0: bytes a sendmsg queued, whatever
 *                       the path (copy, MSG_ZEROCOPY, or 6.5+'s
 *                       MSG_SPLICE_PAGES for sendfile/splice/zcsend).
 *   skb_splice_from_iter (6.5+) return value > 0: of those, bytes attached
 *                       by page reference (no copy).
 *   skb_zerocopy_iter_stream return value > 0: of those, bytes pinned from
 *                       user memory (MSG_ZEROCOPY, io_uring SEND_ZC).
 *   do_tcp_sendpages    (6.1) return value > 0: bytes given to TCP by page
 *                       reference through sendpage; not part of
 *                       tcp_sendmsg_locked on 6.1.
 *   skb_copy_bits       len, keyed on the kernel stack, and attributed by
 *   skb_copy_and_csum_bits  it, not by function: the innermost frame that
 *                       belongs to the receive path (skb_try_coalesce,
 *                       tcp_collapse, tcp_v4_rcv, netif_receive_skb, ...)
 *                       makes it the receiver's copy (reported apart, not
 *                       charged to the method); any other stack is the
 *                       sender's: the software-GSO copy under skb_segment
 *                       of a route without scatter-gather, linearisation
 *                       (validate_xmit_skb -> __pskb_pull_tail) for a
 *                       device without it, the checksum copy of a device
 *                       with neither SG nor checksum offload.
 *   copy_splice_read    (6.12) return value > 0: a file system without page
 *                       cache splice (9p without cache, FUSE...) copies the
 *                       file into the pipe: a file read copy.
 *   vfs_read            return value > 0: bytes read(2) copied from the page
 *                       cache to user memory.
 *   tcp_collapse        hits only: the receive queue was compacted by
 *                       copying (skb_copy_bits), a receiver-side copy that
 *                       also lands in the skb_copy_bits sum.
 *
 * Return values are fetched with the function's own width (int: s32),
 * since the upper half of the register is undefined for an int.
 *
 *   crypto_aead_encrypt req->cryptlen: bytes kTLS encrypted (a pass that
 *                       reads and writes every byte; reported apart).
 *   sk_msg_memcopy_from_iter bytes: what kTLS copied from user memory into
 *                       its records (kTLS hands TCP the encrypted pages by
 *                       reference, so tcp_sendmsg_locked does not see it).
 *
 * Send-path copy = tcp_sendmsg_locked - skb_splice_from_iter -
 * skb_zerocopy_iter_stream + sk_msg_memcopy_from_iter. The copy functions themselves (_copy_from_iter,
 * copy_page_to_iter) cannot be probed on these kernels.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trace.h"

#define GROUP "zcsend_bench"

/*
 * struct probe_def - one kprobe event. The event is named after the
 * function it probes (name), in the GROUP group.
 * @def:    after "p:GROUP/name " or "r:GROUP/name ": symbol and fetch args
 * @kind:   'p' (entry) or 'r' (return)
 * @field:  the fetch arg the hist trigger sums, NULL: hits only
 * @filter: the trigger's filter on it
 */
static const struct probe_def {
	const char *name;
	const char *def;
	char kind;
	const char *field;
	const char *filter;
	const char *desc;
} probes[PROBE_COUNT] = {
	[PROBE_TCP_SENDMSG] = { "tcp_sendmsg_locked", "tcp_sendmsg_locked bytes=$retval:s32",
		'r', "bytes", "bytes > 0", "tcp_sendmsg_locked return (bytes into TCP by sendmsg)" },
	[PROBE_SPLICE_FROM_ITER] = { "skb_splice_from_iter", "skb_splice_from_iter bytes=$retval:s64",
		'r', "bytes", "bytes > 0", "skb_splice_from_iter return (by reference, 6.5+)" },
	[PROBE_DO_TCP_SENDPAGES] = { "do_tcp_sendpages", "do_tcp_sendpages bytes=$retval:s64",
		'r', "bytes", "bytes > 0", "do_tcp_sendpages return (by reference, 6.1)" },
	[PROBE_ZEROCOPY_ITER] = { "skb_zerocopy_iter_stream",
		"skb_zerocopy_iter_stream bytes=$retval:s32",
		'r', "bytes", "bytes > 0", "skb_zerocopy_iter_stream return (user pages pinned)" },
	/* skb_copy_bits(skb, offset, to, len) */
	[PROBE_SKB_COPY_BITS] = { "skb_copy_bits", "skb_copy_bits len=$arg4:s32", 'p',
		"len", "len > 0", "skb_copy_bits len (segmentation, linearisation)" },
	/* skb_copy_and_csum_bits(skb, offset, to, len) */
	[PROBE_SKB_COPY_CSUM] = { "skb_copy_and_csum_bits",
		"skb_copy_and_csum_bits len=$arg4:s32", 'p', "len", "len > 0",
		"skb_copy_and_csum_bits len (copy with checksum)" },
	[PROBE_COPY_SPLICE_READ] = { "copy_splice_read", "copy_splice_read bytes=$retval:s64",
		'r', "bytes", "bytes > 0", "copy_splice_read return (file -> pipe by copy, 6.5+)" },
	[PROBE_VFS_READ] = { "vfs_read", "vfs_read bytes=$retval:s64", 'r',
		"bytes", "bytes > 0", "vfs_read return (page cache -> user)" },
	[PROBE_TCP_COLLAPSE] = { "tcp_collapse", "tcp_collapse", 'p',
		NULL, NULL, "tcp_collapse hits (receive queue compaction)" },
	/* crypto_aead_encrypt(req): req->cryptlen, the same offset in 6.1
	 * and 6.12 (after a 48-byte crypto_async_request and assoclen) */
	[PROBE_AEAD_ENCRYPT] = { "crypto_aead_encrypt", "crypto_aead_encrypt bytes=+52($arg1):u32",
		'p', "bytes", "bytes > 0", "crypto_aead_encrypt cryptlen (kTLS encryption)" },
	/* sk_msg_memcopy_from_iter(sk, from, msg, bytes) */
	[PROBE_SK_MSG_COPY] = { "sk_msg_memcopy_from_iter",
		"sk_msg_memcopy_from_iter bytes=$arg4:u32", 'p', "bytes", "bytes > 0",
		"sk_msg_memcopy_from_iter bytes (copy into kTLS records)" },
	/* virtio-net's start_xmit(skb, dev): the definition is built at init
	 * (nic_probe_def), the filter keeps the sending NIC's frames */
	[PROBE_NIC_XMIT] = { "start_xmit", NULL, 'p', "len", NULL,
		"virtio-net start_xmit skb->len, ->data_len (NIC driver)" },
};

static int nic_ifindex;
static char nic_filter[48];

static const char *tracedir;
static int probe_ok[PROBE_COUNT];
static int armed[PROBE_COUNT];

int trace_probe_ok(enum probe_id p)
{
	return probe_ok[p];
}

const char *trace_probe_desc(enum probe_id p)
{
	return probes[p].desc;
}

static int write_str(const char *rel, const char *s, int append)
{
	char path[256];
	size_t len = strlen(s);
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", tracedir, rel);
	fd = open(path, O_WRONLY | O_CLOEXEC | (append ? O_APPEND : O_TRUNC));
	if (fd < 0)
		return -errno;
	n = write(fd, s, len);
	if (n < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	if (close(fd))
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

static void trigger_str(char *buf, size_t len, enum probe_id p, int remove)
{
	if (p == PROBE_SKB_COPY_BITS || p == PROBE_SKB_COPY_CSUM) {
		snprintf(buf, len, "%shist:keys=stacktrace:vals=hitcount,len:size=4096 if len > 0",
			 remove ? "!" : "");
		return;
	}
	if (!probes[p].field) {
		snprintf(buf, len, "%shist:keys=common_pid:vals=hitcount:size=4096",
			 remove ? "!" : "");
		return;
	}
	if (p == PROBE_NIC_XMIT) {
		snprintf(buf, len, "%shist:keys=common_pid:vals=hitcount,len,data_len:size=4096 if %s",
			 remove ? "!" : "", nic_filter);
		return;
	}
	snprintf(buf, len, "%shist:keys=common_pid:vals=hitcount,%s:size=4096 if %s",
		 remove ? "!" : "", probes[p].field, probes[p].filter);
}

void trace_nic_device(int ifindex)
{
	nic_ifindex = ifindex;
	snprintf(nic_filter, sizeof(nic_filter), "ifindex == %d", ifindex);
}

/* A member's offset in a kernel struct, from BTF by pahole; -1 if not. */
static int pahole_offset(const char *type, const char *member)
{
	char cmd[128], line[256], pat[48];
	int off = -1;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "pahole -C %s /sys/kernel/btf/vmlinux 2>/dev/null", type);
	snprintf(pat, sizeof(pat), " %s;", member);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		const char *c = strstr(line, "/*");

		if (off < 0 && strstr(line, pat) && c)
			off = atoi(c + 2);
	}
	pclose(f);
	return off;
}

/*
 * Define the driver probe: with BTF-typed fetch args where the kernel has
 * them (6.6+: "skb->len"), else with the members' offsets that pahole
 * reads from the kernel's BTF (6.1). 0 if one form was accepted.
 */
static int define_nic_probe(const char *prefix)
{
	char line[320];
	int len, data_len, ifindex;

	snprintf(line, sizeof(line), "%s virtio_net:start_xmit len=skb->len data_len=skb->data_len ifindex=dev->ifindex",
		 prefix);
	if (write_str("kprobe_events", line, 1) == 0)
		return 0;
	len = pahole_offset("sk_buff", "len");
	data_len = pahole_offset("sk_buff", "data_len");
	ifindex = pahole_offset("net_device", "ifindex");
	if (len < 0 || data_len < 0 || ifindex < 0)
		return -1;
	snprintf(line, sizeof(line), "%s virtio_net:start_xmit len=+%d($arg1):u32 data_len=+%d($arg1):u32 ifindex=+%d($arg2):s32",
		 prefix, len, data_len, ifindex);
	return write_str("kprobe_events", line, 1);
}

static void remove_probe(enum probe_id p)
{
	char line[128];

	snprintf(line, sizeof(line), "-:%s/%s", GROUP, probes[p].name);
	write_str("kprobe_events", line, 1);
}

int trace_init(const char **why)
{
	static const char *const dirs[] = {
		"/sys/kernel/tracing", "/sys/kernel/debug/tracing",
	};
	char path[256];
	size_t i;
	int p;

	tracedir = NULL;
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/kprobe_events", dirs[i]);
		if (access(path, F_OK) == 0) {
			tracedir = dirs[i];
			break;
		}
	}
	if (!tracedir) {
		*why = "not measured: tracefs with kprobe_events is not mounted at /sys/kernel/tracing";
		return -1;
	}
	snprintf(path, sizeof(path), "%s/kprobe_events", tracedir);
	if (access(path, W_OK) != 0) {
		*why = "not measured: kprobe_events not writable (needs root)";
		tracedir = NULL;
		return -1;
	}
	for (p = 0; p < PROBE_COUNT; p++) {
		char line[256];

		remove_probe(p);	/* a leftover of a killed run */
		snprintf(line, sizeof(line), "%c:%s/%s", probes[p].kind, GROUP, probes[p].name);
		if (p == PROBE_NIC_XMIT) {
			probe_ok[p] = nic_ifindex > 0 && define_nic_probe(line) == 0;
			continue;
		}
		snprintf(line + strlen(line), sizeof(line) - strlen(line), " %s", probes[p].def);
		probe_ok[p] = write_str("kprobe_events", line, 1) == 0;
	}
	if (!probe_ok[PROBE_TCP_SENDMSG]) {
		*why = "not measured: the kernel refused a kprobe on tcp_sendmsg_locked";
		trace_cleanup();
		return -1;
	}
	*why = NULL;
	return 0;
}

int trace_start(void)
{
	int p;

	if (!tracedir)
		return -1;
	for (p = 0; p < PROBE_COUNT; p++) {
		char rel[128], trig[192];

		if (!probe_ok[p] || armed[p])
			continue;
		snprintf(rel, sizeof(rel), "events/%s/%s/trigger", GROUP, probes[p].name);
		trigger_str(trig, sizeof(trig), p, 0);
		if (write_str(rel, trig, 1))
			return -1;
		armed[p] = 1;
	}
	return 0;
}

/* A probe's hist file, or NULL. */
static FILE *open_hist(enum probe_id p)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/events/%s/%s/hist", tracedir, GROUP,
		 probes[p].name);
	return fopen(path, "re");
}

/* Sum "FIELD: N" and "hitcount: N" over every entry of a hist file. */
static int read_hist_field(enum probe_id p, const char *field, int64_t *sum,
			   uint64_t *hits)
{
	char line[512], key[40];
	FILE *f;

	*sum = 0;
	*hits = 0;
	f = open_hist(p);
	if (!f)
		return -1;
	snprintf(key, sizeof(key), " %s:", field ? field : "hitcount");
	while (fgets(line, sizeof(line), f)) {
		const char *h, *v;

		if (line[0] != '{')
			continue;
		h = strstr(line, "hitcount:");
		v = strstr(line, key);
		if (h)
			*hits += strtoull(h + 9, NULL, 10);
		if (v && field)
			/* hist sums are u64; the filter kept them positive */
			*sum += (int64_t)strtoull(v + strlen(key), NULL, 10);
	}
	fclose(f);
	return 0;
}

static int read_hist(enum probe_id p, struct trace_sample *s)
{
	uint64_t hits;

	if (p == PROBE_NIC_XMIT &&
	    read_hist_field(p, "data_len", &s->nic_frag_bytes, &hits))
		return -1;
	return read_hist_field(p, probes[p].field, &s->sum[p], &s->hits[p]);
}

/* Frames of the receive path: a copy under one of them is the receiver's. */
static const char *const rx_frames[] = {
	"skb_try_coalesce", "tcp_collapse", "tcp_v4_rcv", "tcp_v6_rcv",
	"tcp_rcv_established", "tcp_data_queue", "__netif_receive_skb",
	"netif_receive_skb", "napi_gro_receive", "gro_receive", "process_backlog",
};

enum copy_owner { COPY_UNKNOWN, COPY_SEGMENT, COPY_TX, COPY_COALESCE, COPY_RX };

/* The owner a stack frame says, or COPY_UNKNOWN. */
static enum copy_owner frame_owner(const char *line)
{
	size_t i;

	if (strstr(line, "skb_segment"))
		return COPY_SEGMENT;
	if (strstr(line, "skb_try_coalesce"))
		return COPY_COALESCE;
	for (i = 0; i < sizeof(rx_frames) / sizeof(rx_frames[0]); i++)
		if (strstr(line, rx_frames[i]))
			return COPY_RX;
	return COPY_UNKNOWN;
}

/*
 * The copy functions' hists are keyed on stack traces: each entry is
 * "{ stacktrace:" then one frame per line, innermost first, then
 * "} hitcount: N len: N". The first frame that says whose copy it is
 * decides; a stack none of whose frames does is the sender's (the
 * transmit path: linearisation, checksum), so that no copy escapes the
 * sender's count by being made in a function this list does not know.
 */
static int read_hist_stacks(enum probe_id p, struct trace_sample *s)
{
	enum copy_owner owner = COPY_UNKNOWN, o;
	char line[512];
	FILE *f;

	f = open_hist(p);
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		const char *h = strstr(line, "hitcount:"), *v = strstr(line, " len:");
		int64_t len;

		o = frame_owner(line);
		if (owner == COPY_UNKNOWN)
			owner = o;
		if (!h || !v)
			continue;
		len = (int64_t)strtoull(v + 5, NULL, 10);
		s->hits[p] += strtoull(h + 9, NULL, 10);
		s->sum[p] += len;
		if (owner == COPY_SEGMENT)
			s->copy_bits_segment += len;
		else if (owner == COPY_COALESCE)
			s->copy_bits_coalesce += len;
		else if (owner == COPY_RX)
			s->copy_bits_other += len;
		else
			s->copy_bits_tx += len;
		owner = COPY_UNKNOWN;
	}
	fclose(f);
	return 0;
}

/* Read every armed hist, in the given order of vfs_read relative to the
 * others (its own reads of hist files must fall outside a run). */
static int read_all(struct trace_sample *s, int vfs_read_first)
{
	int i, p, err = 0;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < PROBE_COUNT; i++) {
		if (vfs_read_first)
			p = i == 0 ? PROBE_VFS_READ : i - (i <= PROBE_VFS_READ);
		else
			p = i == PROBE_COUNT - 1 ? PROBE_VFS_READ : i + (i >= PROBE_VFS_READ);
		if (!armed[p])
			continue;
		if (p == PROBE_SKB_COPY_BITS || p == PROBE_SKB_COPY_CSUM ?
		    read_hist_stacks(p, s) : read_hist(p, s))
			err = -1;
	}
	return err;
}

int trace_snapshot(struct trace_sample *s, int after)
{
	return read_all(s, after);
}

void trace_delta(struct trace_sample *d, const struct trace_sample *before,
		 const struct trace_sample *after)
{
	int p;

	for (p = 0; p < PROBE_COUNT; p++) {
		d->sum[p] = after->sum[p] - before->sum[p];
		d->hits[p] = after->hits[p] - before->hits[p];
	}
	d->copy_bits_segment = after->copy_bits_segment - before->copy_bits_segment;
	d->copy_bits_tx = after->copy_bits_tx - before->copy_bits_tx;
	d->copy_bits_coalesce = after->copy_bits_coalesce - before->copy_bits_coalesce;
	d->copy_bits_other = after->copy_bits_other - before->copy_bits_other;
	d->nic_frag_bytes = after->nic_frag_bytes - before->nic_frag_bytes;
}

static void trace_disarm(void)
{
	int p;

	for (p = 0; p < PROBE_COUNT; p++) {
		char rel[128], trig[192];

		if (!armed[p])
			continue;
		snprintf(rel, sizeof(rel), "events/%s/%s/trigger", GROUP, probes[p].name);
		trigger_str(trig, sizeof(trig), p, 1);
		write_str(rel, trig, 1);
		armed[p] = 0;
	}
}

void trace_cleanup(void)
{
	int p;

	if (!tracedir)
		return;
	trace_disarm();
	for (p = 0; p < PROBE_COUNT; p++) {
		if (probe_ok[p])
			remove_probe(p);	/* probe_ok stays: the legend shows it */
	}
	tracedir = NULL;
}

void copies_from_sample(const struct trace_sample *s, struct copies *c)
{
	int64_t send = s->sum[PROBE_TCP_SENDMSG] - s->sum[PROBE_SPLICE_FROM_ITER] -
		       s->sum[PROBE_ZEROCOPY_ITER];

	c->measured = 1;
	c->tls_copy = (double)s->sum[PROBE_SK_MSG_COPY];
	c->send = (send > 0 ? (double)send : 0) + c->tls_copy;
	c->encrypt = (double)s->sum[PROBE_AEAD_ENCRYPT];
	c->nic_frames = (double)s->hits[PROBE_NIC_XMIT];
	c->nic_bytes = (double)s->sum[PROBE_NIC_XMIT];
	c->nic_frag_bytes = (double)s->nic_frag_bytes;
	c->by_ref = (double)(s->sum[PROBE_SPLICE_FROM_ITER] + s->sum[PROBE_ZEROCOPY_ITER] +
			     s->sum[PROBE_DO_TCP_SENDPAGES]);
	c->segment = (double)(s->copy_bits_segment + s->copy_bits_tx);
	c->rx_other = (double)(s->copy_bits_coalesce + s->copy_bits_other);
	c->file_read = (double)(s->sum[PROBE_VFS_READ] + s->sum[PROBE_COPY_SPLICE_READ]);
}
