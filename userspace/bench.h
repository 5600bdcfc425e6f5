/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zcsend bench: shared declarations of the benchmark's parts.
 *
 *   bench.c          options, the run loop, the table, JSON and the plot
 *   bench_methods.c  one sender per way of sending a file
 *   bench_net.c      routes (loopback, veth between two netns), receiver
 *   bench_trace.c    CPU-copied bytes from kprobe events + hist triggers
 *   bench_util.c     statistics, units, parsing (host-tested, no I/O)
 */
#ifndef ZCSEND_BENCH_H
#define ZCSEND_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- bench_util.c: pure helpers, unit-tested on the host ---- */

/** struct spread - median, min and max of a set of samples */
struct spread {
	double median;
	double min;
	double max;
};

/* Median (mean of the middle two for even n), min, max. n == 0: all 0. */
struct spread spread_of(const double *v, size_t n);

/* "1M", "64MiB", "4k", "1G", "4096": bytes. 0 on success, -1 if bad. */
int parse_size(const char *s, uint64_t *out);
int parse_size_range(const char *s, uint64_t *min, uint64_t *max);
/* A positive decimal integer no larger than max. 0 ok, -1 bad. */
int parse_uint(const char *s, unsigned long max, unsigned long *out);
/* Human units with binary prefixes: "1.00 MiB", "512 B". */
const char *fmt_bytes(char *buf, size_t len, double bytes);
/* Rate in decimal MB/s style: "123.4 MB/s", "1.23 GB/s". */
const char *fmt_rate(char *buf, size_t len, double bytes_per_s);
/* Seconds as "12.3 ms", "4.56 s", "789 us". */
const char *fmt_secs(char *buf, size_t len, double secs);
/* Split "a,b,c" into items; calls fn(item, arg) per item. 0 or fn's error. */
int for_each_item(const char *list, int (*fn)(const char *item, void *arg),
		  void *arg);

/* ---- methods ---- */

enum method_id {
	M_READ_WRITE,
	M_MMAP_WRITE,
	M_SENDFILE,
	M_SPLICE,
	M_ZCSEND,
	M_MSG_ZEROCOPY,
	M_URING_SPLICE,
	M_URING_SEND_ZC,
	M_COUNT
};

extern const char *const method_names[M_COUNT];
/* Method by name, or -1. */
int method_by_name(const char *name);

/* One object to send: an optional header in memory, then a file range. */
struct object {
	int fd;
	uint64_t off;
	uint64_t len;
	const char *hdr;	/* NULL or hdr_len bytes, sent before the file */
	uint32_t hdr_len;
};

/* What a sender counted itself. */
struct send_counts {
	uint64_t bytes;		/* bytes the calls reported as queued */
	uint64_t syscalls;	/* system calls made while sending */
	uint64_t zc_sends;	/* zero-copy sends / notifications expected */
	uint64_t zc_done;	/* notifications received */
	uint64_t zc_copied_bytes; /* bytes the kernel said it copied anyway */
	int zc_copied_known;	/* the kernel reports copied-or-not */
};

/*
 * struct method_ctx - per-run state of one method: the socket, a pipe, an
 * io_uring, /dev/zcsend, reused for every object of the run.
 */
struct method_ctx {
	enum method_id id;
	int sock;
	int pipe_rd, pipe_wr;
	int dev;
	void *ring;		/* struct io_uring *, opaque here */
	char *buf;
	size_t buf_len;
	int report_usage;	/* io_uring SEND_ZC: IORING_SEND_ZC_REPORT_USAGE */
	struct send_counts c;
	/* MSG_ZEROCOPY: bytes of each zero-copy send id, to convert the
	 * kernel's copied ranges into bytes. */
	uint64_t *zc_len;
	size_t zc_cap;
	uint32_t zc_next;
};

/*
 * Why a method cannot run here (module missing, kernel too old), or NULL.
 * Checked once before the runs; reason points to static storage.
 */
const char *method_unavailable(enum method_id id);
/* Set up ctx for one run on a connected socket. 0, or -errno. */
int method_open(struct method_ctx *ctx, enum method_id id, int sock,
		size_t buf_len);
/* Send one object. 0, or -errno (ctx->c has what was done). */
int method_send(struct method_ctx *ctx, const struct object *obj);
/* After the last object: wait for outstanding completions. 0 or -errno. */
int method_finish(struct method_ctx *ctx);
void method_close(struct method_ctx *ctx);

/* ---- bench_net.c ---- */

enum route_id { R_LOOPBACK, R_VETH, R_VETH_NOSG, R_COUNT };
extern const char *const route_names[R_COUNT];
int route_by_name(const char *name);

enum receiver_mode { RX_DISCARD, RX_READ };

struct route {
	enum route_id id;
	int netns_made;
	char ns_send[32], ns_recv[32];
	char dev_send[16], dev_recv[16];
	int orig_ns;		/* fd of the netns we started in, or -1 */
	char addr[16];		/* receiver's IPv4 address */
};

/* Create the route (netns, veth, addresses, ethtool). 0 or -1 (printed). */
int route_setup(struct route *r, enum route_id id);
/* Undo route_setup; safe to call twice and from exit paths. */
void route_teardown(struct route *r);

struct receiver {
	int pid;
	int port;
	int result_rd;		/* pipe: u64 byte count per connection */
};

/* Fork the receiver (in the route's receive netns), listening. 0 or -1. */
int receiver_start(struct receiver *rx, const struct route *r,
		   enum receiver_mode mode);
/* Connect a fresh TCP socket to it. fd or -1. */
int receiver_connect(const struct receiver *rx, const struct route *r);
/* Wait for the receiver's byte count of the connection just shut down. */
int receiver_result(const struct receiver *rx, uint64_t *bytes);
void receiver_stop(struct receiver *rx);

/* ---- bench_trace.c ---- */

enum probe_id {
	P_TCP_SENDMSG,		/* r: tcp_sendmsg_locked, bytes in sendmsg */
	P_SPLICE_FROM_ITER,	/* r: skb_splice_from_iter (6.5+), by ref */
	P_DO_TCP_SENDPAGES,	/* r: do_tcp_sendpages (6.1), by reference */
	P_ZEROCOPY_ITER,	/* r: skb_zerocopy_iter_stream, by reference */
	P_SKB_COPY_BITS,	/* p: skb_copy_bits len, segmentation copy */
	P_VFS_READ,		/* r: vfs_read, page cache -> user copy */
	P_TCP_COLLAPSE,		/* p: tcp_collapse, hits (receiver copies) */
	P_COUNT
};

struct trace_sample {
	int64_t sum[P_COUNT];
	uint64_t hits[P_COUNT];
	/* skb_copy_bits split by caller (hist keyed on the stack trace) */
	int64_t scb_segment;	/* under skb_segment: software GSO, sender */
	int64_t scb_coalesce;	/* under skb_try_coalesce: receiver queue */
	int64_t scb_other;
};

/* CPU-copied payload bytes of one run, derived from a trace_sample. */
struct copies {
	int measured;
	double file_read;	/* page cache -> user memory (read(2)) */
	double send;		/* user memory -> socket buffer (sendmsg) */
	double segment;		/* skb_copy_bits under skb_segment (SG off) */
	double rx_other;	/* other skb_copy_bits: receiver coalescing... */
	double by_ref;		/* handed to TCP by page reference */
};

/* Define the kprobes. 0 if at least the core probes work, else -1 and
 * *why says why ("not measured: ..."). */
int trace_init(const char **why);
int trace_probe_ok(enum probe_id p);
const char *trace_probe_desc(enum probe_id p);
/* Arm the hist triggers once, for the whole benchmark. */
int trace_start(void);
/* Read the cumulative sums before (after = 0) or after (1) a run. */
int trace_snapshot(struct trace_sample *s, int after);
void trace_delta(struct trace_sample *d, const struct trace_sample *before,
		 const struct trace_sample *after);
void trace_cleanup(void);
void copies_from_sample(const struct trace_sample *s, struct copies *c);

/* ---- signals: set by bench.c's handler ---- */
extern volatile int bench_stop_signal;

#endif /* ZCSEND_BENCH_H */
