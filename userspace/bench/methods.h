/* SPDX-License-Identifier: GPL-2.0 */
/* zcsend bench: the methods, one table entry per way of sending a file (methods.c). */
#ifndef ZCSEND_BENCH_METHODS_H
#define ZCSEND_BENCH_METHODS_H

#include <stddef.h>
#include <stdint.h>

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

/* The article's figures for a method (README.md, "Why"). */
struct article_claim {
	int listed;		/* the article has a row for this method */
	int mode_switches;	/* per transfer: 2 per system call */
	int cpu_copies;		/* with scatter-gather DMA on the route */
	int cpu_copies_nosg;	/* without it ("sendfile" vs "+ SG-DMA") */
};

/*
 * struct bench_method - one way of sending a file. Adding a method is one
 * entry in bench_methods[] (methods.c).
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

#endif /* ZCSEND_BENCH_METHODS_H */
