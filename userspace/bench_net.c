// SPDX-License-Identifier: GPL-2.0
/*
 * zcsend bench: the connection. The routes are a table (bench_routes[]):
 * loopback (127.0.0.1), or a veth pair between two network namespaces that
 * the tool makes with ip(8) and removes again (on exit and on
 * SIGINT/SIGTERM); veth-nosg also turns scatter-gather off on the sending
 * end with ethtool(8). The receiver is a forked process in the receiving
 * namespace.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

/* Run a shell command built from fmt; 0 if it exited 0. */
static int run_cmd(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int n, st;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(cmd))
		return -1;
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "zcsend bench: command failed: %s\n", cmd);
		return -1;
	}
	return 0;
}

static int enter_netns(const char *name)
{
	char path[64];
	int fd, err;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	err = setns(fd, CLONE_NEWNET);
	close(fd);
	return err;
}

/* Two namespaces named after this process, entered later by setns. */
static int netns_pair_add(struct route *r)
{
	int pid = (int)getpid();

	if (geteuid() != 0) {
		fprintf(stderr, "zcsend bench: route %s needs root (network namespaces)\n",
			r->def->name);
		return -1;
	}
	snprintf(r->ns_send, sizeof(r->ns_send), "zcb-s-%d", pid);
	snprintf(r->ns_recv, sizeof(r->ns_recv), "zcb-r-%d", pid);
	r->netns_made = 1;
	if (run_cmd("ip netns add %s", r->ns_send) ||
	    run_cmd("ip netns add %s", r->ns_recv) ||
	    run_cmd("ip -n %s link set lo up", r->ns_send) ||
	    run_cmd("ip -n %s link set lo up", r->ns_recv))
		return -1;
	return 0;
}

/* Addresses and links up on dev_send/dev_recv; then the sender (this
 * process) moves into the sending namespace. */
static int netns_pair_finish(struct route *r, const char *net)
{
	snprintf(r->addr, sizeof(r->addr), "%s.2", net);
	if (run_cmd("ip -n %s addr add %s.1/24 dev %s", r->ns_send, net, r->dev_send) ||
	    run_cmd("ip -n %s addr add %s.2/24 dev %s", r->ns_recv, net, r->dev_recv) ||
	    run_cmd("ip -n %s link set %s up", r->ns_send, r->dev_send) ||
	    run_cmd("ip -n %s link set %s up", r->ns_recv, r->dev_recv))
		return -1;
	if (enter_netns(r->ns_send)) {
		perror("zcsend bench: setns");
		return -1;
	}
	return 0;
}

static int setup_loopback(struct route *r)
{
	snprintf(r->addr, sizeof(r->addr), "127.0.0.1");
	return 0;
}

static int setup_veth(struct route *r)
{
	int pid = (int)getpid();

	if (netns_pair_add(r))
		return -1;
	snprintf(r->dev_send, sizeof(r->dev_send), "zcb%ds", pid);
	snprintf(r->dev_recv, sizeof(r->dev_recv), "zcb%dr", pid);
	if (run_cmd("ip -n %s link add %s type veth peer name %s netns %s",
		    r->ns_send, r->dev_send, r->dev_recv, r->ns_recv))
		return -1;
	return netns_pair_finish(r, "10.211.0");
}

/* Offloads are set before the sender enters its namespace. */
static int setup_veth_nosg(struct route *r)
{
	int err = setup_veth(r);

	if (!err)
		err = run_cmd("ip netns exec %s ethtool -K %s sg off >/dev/null",
			      r->ns_send, r->dev_send);
	return err;
}

/* Back to the original namespace; deleting the namespaces removes the
 * links in them (veth pairs) or returns them to the root namespace. */
static void teardown_netns(struct route *r)
{
	char cmd[128];

	if (r->orig_ns >= 0) {
		if (setns(r->orig_ns, CLONE_NEWNET))
			perror("zcsend bench: setns back");
		close(r->orig_ns);
		r->orig_ns = -1;
	}
	if (!r->netns_made)
		return;
	r->netns_made = 0;
	snprintf(cmd, sizeof(cmd),
		 "ip netns del %s 2>/dev/null; ip netns del %s 2>/dev/null",
		 r->ns_send, r->ns_recv);
	if (system(cmd) == -1)
		perror("zcsend bench: ip netns del");
}

const struct bench_route bench_routes[] = {
	{ .name = "loopback", .setup = setup_loopback, .teardown = teardown_netns },
	{ .name = "veth", .setup = setup_veth, .teardown = teardown_netns },
	{ .name = "veth-nosg", .setup = setup_veth_nosg, .teardown = teardown_netns,
	  .no_sg = 1 },
};

const int bench_nroutes = (int)(sizeof(bench_routes) / sizeof(bench_routes[0]));

const struct bench_route *route_by_name(const char *name)
{
	int i;

	for (i = 0; i < bench_nroutes; i++)
		if (strcmp(name, bench_routes[i].name) == 0)
			return &bench_routes[i];
	return NULL;
}

int route_setup(struct route *r, const struct bench_route *def)
{
	memset(r, 0, sizeof(*r));
	r->def = def;
	r->orig_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (r->orig_ns < 0) {
		perror("zcsend bench: /proc/self/ns/net");
		return -1;
	}
	if (def->setup(r)) {
		route_teardown(r);
		return -1;
	}
	return 0;
}

void route_teardown(struct route *r)
{
	if (r->def)
		r->def->teardown(r);
}

/* Read one connection to EOF; the byte count. */
static uint64_t receive_all(int fd, char *buf, size_t len, enum receiver_mode mode)
{
	uint64_t total = 0;

	for (;;) {
		/* MSG_TRUNC on TCP: the data is dropped, not copied. */
		ssize_t n = recv(fd, buf, len, mode == RECEIVER_DISCARD ? MSG_TRUNC : 0);

		if (n > 0) {
			total += (uint64_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return total;
	}
}

/* The receiver process: accept, drain to EOF, report the count, repeat. */
static void receiver_loop(const struct route *r, int lfd, int result_wr,
			  enum receiver_mode mode)
{
	size_t len = 1 << 18;
	char *buf = malloc(len);

	if (!buf)
		_exit(1);
	for (;;) {
		uint64_t total = 0;
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		if (!r->def->receiver || r->def->receiver(fd) == 0)
			total = receive_all(fd, buf, len, mode);
		close(fd);
		if (send(result_wr, &total, sizeof(total), MSG_NOSIGNAL) != sizeof(total))
			_exit(1);
	}
}

/* The child: listen in the receiving namespace, say the port, serve. */
static void receiver_child(const struct route *r, int ready_wr, int result_wr,
			   enum receiver_mode mode)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int lfd, one = 1, port;

	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_DFL);
	if (r->ns_recv[0] && enter_netns(r->ns_recv))
		_exit(1);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    inet_pton(AF_INET, r->addr, &a.sin_addr) != 1 ||
	    bind(lfd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(lfd, 16) ||
	    getsockname(lfd, (struct sockaddr *)&a, &alen))
		_exit(1);
	port = ntohs(a.sin_port);
	/* The parent waits for this: it never sleeps on a listener. */
	if (write(ready_wr, &port, sizeof(port)) != sizeof(port))
		_exit(1);
	close(ready_wr);
	receiver_loop(r, lfd, result_wr, mode);
	_exit(0);
}

static void close_pair(int p[2])
{
	close(p[0]);
	close(p[1]);
}

int receiver_start(struct receiver *rx, const struct route *r,
		   enum receiver_mode mode)
{
	int ready[2], result[2];
	int pid, port = 0;
	ssize_t n;

	memset(rx, 0, sizeof(*rx));
	rx->pid = -1;
	rx->result_rd = -1;
	if (pipe2(ready, O_CLOEXEC))
		return -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, result)) {
		close_pair(ready);
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		close_pair(ready);
		close_pair(result);
		return -1;
	}
	if (pid == 0) {
		close(ready[0]);
		close(result[0]);
		receiver_child(r, ready[1], result[1], mode);
	}
	close(ready[1]);
	close(result[1]);
	rx->pid = pid;
	rx->result_rd = result[0];
	do {
		n = read(ready[0], &port, sizeof(port));
	} while (n < 0 && errno == EINTR);
	close(ready[0]);
	if (n != sizeof(port)) {
		fprintf(stderr, "zcsend bench: the receiver did not start\n");
		receiver_stop(rx);
		return -1;
	}
	rx->port = port;
	return 0;
}

int receiver_connect(const struct receiver *rx, const struct route *r)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int fd, one = 1, err;

	a.sin_port = htons((uint16_t)rx->port);
	if (inet_pton(AF_INET, r->addr, &a.sin_addr) != 1)
		return -EINVAL;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ||
	    connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int receiver_result(const struct receiver *rx, uint64_t *bytes)
{
	ssize_t n;

	do {
		/* recv, not read: vfs_read is probed (bench_trace.c) */
		n = recv(rx->result_rd, bytes, sizeof(*bytes), MSG_WAITALL);
	} while (n < 0 && errno == EINTR && !bench_stop_signal);
	return n == sizeof(*bytes) ? 0 : -1;
}

void receiver_stop(struct receiver *rx)
{
	if (rx->pid > 0) {
		kill(rx->pid, SIGTERM);
		while (waitpid(rx->pid, NULL, 0) < 0 && errno == EINTR)
			;
		rx->pid = -1;
	}
	if (rx->result_rd >= 0) {
		close(rx->result_rd);
		rx->result_rd = -1;
	}
}
