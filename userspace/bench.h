/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zcsend bench: shared declarations of the benchmark's parts.
 *
 *   bench.c          options, workloads, the run loop, derived figures
 *   bench_report.c   the table, the legend and the JSON
 *   bench_plot.c     the charts (gnuplot)
 *   bench_methods.c  the methods: one table entry per way of sending a file
 *   bench_net.c      the routes (one table entry each) and the receiver
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
/* Run a shell command built from fmt; 0 if it exited 0, else -1 (the
 * command printed). */
int run_cmd(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The entry of a table of n entries of size bytes that is called name; each
 * entry starts with its name (const char *). NULL if none is. */
const void *find_by_name(const void *table, int n, size_t size,
			 const char *name);

/* ---- methods: bench_methods.c ---- */

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

struct bench_method;

/*
 * struct method_ctx - per-run state of one method: the socket, a pipe, an
 * io_uring, /dev/zcsend, reused for every object of the run.
 */
struct method_ctx {
	const struct bench_method *method;
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

/* The article's figures for a method (DESIGN.md section 4). */
struct article_claim {
	int listed;		/* the article has a row for this method */
	int mode_switches;	/* per transfer: 2 per system call */
	int cpu_copies;		/* with scatter-gather DMA on the route */
	int cpu_copies_nosg;	/* without it ("sendfile" vs "+ SG-DMA") */
};

/*
 * struct bench_method - one way of sending a file. Adding a method is one
 * entry in bench_methods[] (bench_methods.c).
 * @name:        as given to --method and printed
 * @unavailable: why it cannot run here (static string), or NULL; NULL
 *               hook: always available
 * @setup:       prepare @ctx on a connected socket (ctx->sock set,
 *               everything else empty): 0 or -errno; NULL: nothing to do
 * @send:        send one object: 0 or -errno
 * @finish:      after the last object (wait for completions); may be NULL
 * @teardown:    release what @setup made; safe after a failed setup
 * @reports_zc_copies: the kernel can say it copied after all (zc-cp)
 */
struct bench_method {
	const char *name;
	const char *(*unavailable)(void);
	int (*setup)(struct method_ctx *ctx, size_t buf_len);
	int (*send)(struct method_ctx *ctx, const struct object *obj);
	int (*finish)(struct method_ctx *ctx);
	void (*teardown)(struct method_ctx *ctx);
	struct article_claim article;
	int reports_zc_copies;
};

extern const struct bench_method bench_methods[];
extern const int bench_nmethods;
/* Method by name, or NULL. */
const struct bench_method *method_by_name(const char *name);

/* Set up ctx for one run on a connected socket. 0, or -errno. */
int method_open(struct method_ctx *ctx, const struct bench_method *m,
		int sock, size_t buf_len);
void method_close(struct method_ctx *ctx);

/* ---- routes and the receiver: bench_net.c ---- */

enum receiver_mode { RECEIVER_DISCARD, RECEIVER_READ };

struct bench_route;

/* struct route - a route set up for a run of the benchmark. */
struct route {
	const struct bench_route *def;
	int netns_made;
	char ns_send[32], ns_recv[32];
	char dev_send[16], dev_recv[16];
	int orig_ns;		/* fd of the netns we started in, or -1 */
	int nic;		/* a NIC's address and offloads to put back */
	char addr[16];		/* receiver's IPv4 address */
};

/*
 * struct bench_route - one path from the sender to the receiver. Adding a
 * route is one entry in bench_routes[] (bench_net.c).
 * @name:       as given to --route and printed
 * @prepare:    once before the probes are defined (load a module whose
 *              functions are probed); NULL: nothing; 0 or -1
 * @setup:      build the route (namespaces, links, offloads): 0, or -1
 *              with the reason printed; r->def and r->orig_ns are set
 * @teardown:   undo @setup; safe to call twice and after a failed setup
 * @sender:     on each connected sending socket (e.g. kTLS TX): 0/-errno
 * @receiver:   on each accepted socket in the receiver: 0 or -1
 * @no_sg:      the sending device lacks scatter-gather: the article's
 *              plain "sendfile" row (one CPU copy) applies
 * @force_read: the receiver must read (kTLS decrypts on read)
 * @ktls:       the sending socket is a kTLS one: methods that kTLS refuses
 *              are reported unavailable; the encryption pass is counted
 * @nic:        through a NIC driver: frames and fragments are counted
 */
struct bench_route {
	const char *name;
	int (*prepare)(void);
	int (*setup)(struct route *r);
	void (*teardown)(struct route *r);
	int (*sender)(int sock);
	int (*receiver)(int fd);
	int no_sg;
	int force_read;
	int ktls;
	int nic;
};

extern const struct bench_route bench_routes[];
extern const int bench_nroutes;
const struct bench_route *route_by_name(const char *name);

/* Create the route; 0 or -1 (printed). */
int route_setup(struct route *r, const struct bench_route *def);
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
/* Connect a fresh TCP socket to it. fd or -errno. */
int receiver_connect(const struct receiver *rx, const struct route *r);
/* Wait for the receiver's byte count of the connection just shut down. */
int receiver_result(const struct receiver *rx, uint64_t *bytes);
void receiver_stop(struct receiver *rx);

/* ---- bench_trace.c: CPU-copied bytes from kprobe events ---- */

enum probe_id {
	PROBE_TCP_SENDMSG,	/* bytes into TCP by any sendmsg */
	PROBE_SPLICE_FROM_ITER,	/* of those, by page reference (6.5+) */
	PROBE_DO_TCP_SENDPAGES,	/* by page reference through sendpage (6.1) */
	PROBE_ZEROCOPY_ITER,	/* user pages pinned (MSG_ZEROCOPY, SEND_ZC) */
	PROBE_SKB_COPY_BITS,	/* skb_copy_bits, split by caller */
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
	/* skb_copy_bits split by caller (hist keyed on the stack trace) */
	int64_t copy_bits_segment;	/* under skb_segment: software GSO */
	int64_t copy_bits_coalesce;	/* under skb_try_coalesce: receiver */
	int64_t copy_bits_other;
	int64_t nic_frag_bytes;		/* of the NIC's bytes, in page frags */
};

/* CPU-copied payload bytes of one run, derived from a trace_sample. */
struct copies {
	int measured;
	double file_read;	/* page cache -> user memory (read(2)) */
	double send;		/* user memory -> socket buffer (sendmsg) */
	double segment;		/* skb_copy_bits under skb_segment (SG off) */
	double rx_other;	/* other skb_copy_bits: receiver coalescing... */
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

/* ---- bench_nginx.c: --workload nginx, its own options and table ---- */
int bench_nginx(int argc, char **argv);

/* ---- runs and their results: bench.c, bench_report.c, bench_plot.c ---- */

#define MAX_SIZES	8
#define MAX_RUNS	1000
#define MAX_METHODS	16
#define MAX_ROUTES	16
#define MAX_WORKLOADS	8

struct bench_workload;

struct opts {
	uint64_t sizes[MAX_SIZES];
	int nsizes;
	unsigned long runs;
	unsigned long objects;
	uint64_t obj_min, obj_max;	/* small workload: file sizes */
	const struct bench_method *methods[MAX_METHODS];
	int nmethods;
	const struct bench_route *routes[MAX_ROUTES];
	int nroutes;
	const struct bench_workload *workloads[MAX_WORKLOADS];
	int nworkloads;
	enum receiver_mode rx;
	int cold;
	int trace;
	int json;
	const char *json_file;
	const char *plot_file;
	const char *dir;
	uint64_t buf_len;
};

/* One run of one method: what it moved, what it cost, what it copied. */
struct run_rec {
	int ok;
	char err[96];
	int errnum;		/* the failure's errno, 0 if none */
	uint64_t requested, sent, received, syscalls;
	double wall, usr, sys;
	long vcs, ivcs;
	struct copies cp;
	struct trace_sample ts;
	uint64_t zc_sends, zc_done, zc_copied;
	int zc_known;
};

struct method_res {
	const struct bench_method *method;
	char unavail[200];
	struct run_rec *runs;	/* runs[0] is the warm-up */
	int nruns;
};

/* One case: a workload of one size on one route, every method. */
struct case_res {
	const struct bench_workload *wl;
	uint64_t bytes;		/* per transfer, headers included */
	unsigned long objects;
	uint64_t obj_min, obj_max;	/* file sizes, before headers */
	const struct bench_route *route;
	int cold;		/* really cold (not tmpfs) */
	char note[160];
	char unavail[160];	/* the whole case (route setup failed) */
	struct method_res m[MAX_METHODS];
	int nm;
};

/*
 * struct bench_workload - what one transfer is. Adding a workload is one
 * entry in bench_workloads[] (bench.c).
 * @name:         as given to --workload and printed
 * @per_size:     one case per --size (else one case)
 * @header_bytes: an in-memory header sent before each file
 * @files:        how many files a case sends, and their size range
 * @title:        the case's title line
 */
struct bench_workload {
	const char *name;
	int per_size;
	uint32_t header_bytes;
	void (*files)(const struct opts *o, int size_idx, struct case_res *cs);
	void (*title)(const struct opts *o, const struct case_res *cs,
		      char *buf, size_t len);
};

extern const struct bench_workload bench_workloads[];
extern const int bench_nworkloads;

/* The figures derived from a run; names as in the JSON summary. */
enum metric {
	BYTES_PER_S, REQUESTS_PER_S, CPU_S_PER_GIB, USER_S_PER_GIB,
	SYS_S_PER_GIB, SYSCALLS, CTX_VOLUNTARY, CTX_INVOLUNTARY,
	COPIES_PER_BYTE, COPIES_FILE_READ_PER_BYTE, COPIES_SEND_PER_BYTE,
	COPIES_SEGMENT_PER_BYTE, COPIES_ZC_REPORTED_PER_BYTE,
	BY_REFERENCE_PER_BYTE, RX_SIDE_COPIES_PER_BYTE, ENCRYPTED_PER_BYTE,
	TLS_COPIES_PER_BYTE, NIC_FRAMES, NIC_HEAD_BYTES_PER_BYTE,
	NIC_FRAG_BYTES_PER_BYTE, METRIC_COUNT
};

/* The JSON name of a metric, or NULL if the summary leaves it out. */
const char *metric_json_name(enum metric x);
/* Spread of a metric over the successful runs (warm-up excluded); *nok,
 * if not NULL, gets how many runs succeeded. */
struct spread metric_spread(const struct case_res *cs, const struct method_res *m,
			    enum metric x, int *nok);
/* The method's result in a case if it ran, else NULL. */
const struct method_res *find_method(const struct case_res *cs, const char *name);
/* The article's figures for a method on a route: 0 if it has no row. */
int article_claim_of(const struct bench_method *m, const struct bench_route *r,
		     int *switches, int *copies);

/* bench_report.c: the table, legend and JSON. copy_why: NULL if CPU
 * copies were measured, else why not. */
void print_case(const struct opts *o, const struct case_res *cs,
		const char *copy_why, FILE *out);
void print_legend(const char *copy_why, FILE *out);
void json_write(const struct opts *o, const struct case_res *cases, int ncases,
		const char *copy_why, FILE *f);

/* bench_plot.c: charts of the cases (.png or .svg). 0 or -1. */
int plot_write(const struct opts *o, const struct case_res *cases, int ncases,
	       const char *copy_why, const char *file);

/* ---- signals: set by bench.c's handler ---- */
extern volatile int bench_stop_signal;

#endif /* ZCSEND_BENCH_H */
