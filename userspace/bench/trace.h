/* SPDX-License-Identifier: GPL-2.0 */
/* zcsend bench: CPU-copied bytes from kprobe events + hist triggers (trace.c). */
#ifndef ZCSEND_BENCH_TRACE_H
#define ZCSEND_BENCH_TRACE_H

#include <stdint.h>

enum probe_id {
	PROBE_TCP_SENDMSG,	/* bytes into TCP by any sendmsg */
	PROBE_SPLICE_FROM_ITER,	/* of those, by page reference (6.5+) */
	PROBE_DO_TCP_SENDPAGES,	/* by page reference through sendpage (6.1) */
	PROBE_ZEROCOPY_ITER,	/* user pages pinned (MSG_ZEROCOPY, SEND_ZC) */
	PROBE_SKB_COPY_BITS,	/* skb_copy_bits, split by caller */
	PROBE_SKB_COPY_CSUM,	/* skb_copy_and_csum_bits, split by caller */
	PROBE_COPY_SPLICE_READ,	/* 6.12: file -> pipe by copy (no page cache splice) */
	PROBE_VFS_READ,		/* page cache -> user memory */
	PROBE_TCP_COLLAPSE,	/* receive queue compaction, hits */
	PROBE_AEAD_ENCRYPT,	/* bytes encrypted (kTLS records) */
	PROBE_SK_MSG_COPY,	/* kTLS: user memory -> record buffer copy */
	PROBE_NIC_XMIT,		/* virtio-net transmit: frames, bytes, frags */
	PROBE_COUNT
};

struct trace_sample {
	int64_t sum[PROBE_COUNT];
	uint64_t hits[PROBE_COUNT];
	/*
	 * skb_copy_bits and skb_copy_and_csum_bits split by caller (hist
	 * keyed on the stack trace; the innermost known frame decides)
	 */
	int64_t copy_bits_segment;	/* under skb_segment: software GSO */
	int64_t copy_bits_tx;		/* other send side: linearisation... */
	int64_t copy_bits_coalesce;	/* under skb_try_coalesce: receiver */
	int64_t copy_bits_other;	/* other receive side (tcp_collapse...) */
	int64_t nic_frag_bytes;		/* of the NIC's bytes, in page frags */
};

/* CPU-copied payload bytes of one run, derived from a trace_sample. */
struct copies {
	int measured;
	double file_read;	/* page cache -> user memory (read(2)) */
	double send;		/* user memory -> socket buffer (sendmsg) */
	double segment;		/* sender's copies below TCP: segmentation,
				 * linearisation (SG off), any stack that is
				 * not the receiver's */
	double rx_other;	/* receiver's skb copies: coalescing... */
	double by_ref;		/* handed to TCP by page reference */
	double encrypt;		/* encrypted (kTLS), not part of the copies */
	double tls_copy;	/* of send: copied into kTLS records */
	double nic_frames;	/* frames handed to the sending NIC's driver */
	double nic_bytes;	/* their bytes, protocol headers included */
	double nic_frag_bytes;	/* of those, in page fragments (DMA gather) */
};

/* Define the kprobes. 0 if at least the core probes work, else -1 and
 * *why says why ("not measured: ..."). */
int trace_init(const char **why);
int trace_probe_ok(enum probe_id p);
const char *trace_probe_desc(enum probe_id p);
/* The NIC whose transmit path is counted (its ifindex); before trace_init. */
void trace_nic_device(int ifindex);
/* Arm the hist triggers once, for the whole benchmark. */
int trace_start(void);
/* Read the cumulative sums before (after = 0) or after (1) a run. */
int trace_snapshot(struct trace_sample *s, int after);
void trace_delta(struct trace_sample *d, const struct trace_sample *before,
		 const struct trace_sample *after);
void trace_cleanup(void);
void copies_from_sample(const struct trace_sample *s, struct copies *c);

#endif /* ZCSEND_BENCH_TRACE_H */
