/* SPDX-License-Identifier: GPL-2.0 */
/* libzcsend-preload.so (preload.c): its counters, for the host tests. */
#ifndef ZCSEND_PRELOAD_H
#define ZCSEND_PRELOAD_H

#include <stdint.h>

struct zcsend_preload_counters {
	uint64_t ioctl_calls;		/* sendfile calls the ioctl answered */
	uint64_t ioctl_bytes;		/* bytes they sent */
	uint64_t fallback_calls;	/* calls passed to the real sendfile */
	uint64_t fallback_bytes;	/* bytes it sent */
};

/* This process's counts since it started (or since fork()). */
void zcsend_preload_counters(struct zcsend_preload_counters *c);

#endif /* ZCSEND_PRELOAD_H */
