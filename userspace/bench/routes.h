/* SPDX-License-Identifier: GPL-2.0 */
/* zcsend bench: the routes, one table entry each, and the receiver (routes.c). */
#ifndef ZCSEND_BENCH_ROUTES_H
#define ZCSEND_BENCH_ROUTES_H

#include <stdint.h>

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
 * route is one entry in bench_routes[] (routes.c).
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

#endif /* ZCSEND_BENCH_ROUTES_H */
