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
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/tls.h>
#include <sys/wait.h>
#include <unistd.h>

#include "routes.h"
#include "trace.h"
#include "util.h"

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

/* ---- loopback-ktls: both ends in kernel TLS ---- */

/*
 * TLS 1.3 with AES-GCM-128 and a key made up here: the handshake is not
 * what is measured, the record layer is. The sender's TX state equals the
 * receiver's RX state, as after a real handshake.
 */
static void ktls_crypto(struct tls12_crypto_info_aes_gcm_128 *ci)
{
	static const unsigned char key[TLS_CIPHER_AES_GCM_128_KEY_SIZE] = "zcsend bench key";

	memset(ci, 0, sizeof(*ci));
	ci->info.version = TLS_1_3_VERSION;
	ci->info.cipher_type = TLS_CIPHER_AES_GCM_128;
	memcpy(ci->key, key, sizeof(ci->key));
	memcpy(ci->iv, "zcsendiv", sizeof(ci->iv));
	memcpy(ci->salt, "salt", sizeof(ci->salt));
}

/* Attach the "tls" ULP and set one direction's key. 0 or -errno. */
static int ktls_set(int fd, int direction)
{
	struct tls12_crypto_info_aes_gcm_128 ci;

	if (setsockopt(fd, IPPROTO_TCP, TCP_ULP, "tls", sizeof("tls")))
		return -errno;
	ktls_crypto(&ci);
	if (setsockopt(fd, SOL_TLS, direction, &ci, sizeof(ci)))
		return -errno;
	return 0;
}

static int ktls_sender(int sock)
{
	return ktls_set(sock, TLS_TX);
}

static int ktls_receiver(int fd)
{
	return ktls_set(fd, TLS_RX) ? -1 : 0;
}

/* The tls module, loaded before the probes go in (its functions and the
 * AEAD code it calls are then probe-able). */
static int ktls_prepare(void)
{
	return system("modprobe -q tls 2>/dev/null") == 0 ? 0 : -1;
}

/* Fails here, with the reason, if this kernel cannot do kTLS. */
static int setup_loopback_ktls(struct route *r)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), err;

	if (fd < 0)
		return -1;
	/* An unconnected socket: ENOTCONN means the ULP exists. */
	err = setsockopt(fd, IPPROTO_TCP, TCP_ULP, "tls", sizeof("tls")) ? errno : 0;
	close(fd);
	if (err && err != ENOTCONN) {
		fprintf(stderr, "zcsend bench: route %s: TCP_ULP \"tls\": %s (kernel without CONFIG_TLS?)\n",
			r->def->name, strerror(err));
		return -1;
	}
	return setup_loopback(r);
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
	snprintf(cmd, sizeof(cmd), "ip netns del %s 2>/dev/null; ip netns del %s 2>/dev/null",
		 r->ns_send[0] ? r->ns_send : r->ns_recv, r->ns_recv);
	if (system(cmd) == -1)
		perror("zcsend bench: ip netns del");
}

/* ---- nic, nic-nosg, nic-notso: two virtio-net NICs (vm-run --nic) ---- */

/*
 * The guest's virtio-net NICs in PCI order (the first on the host's tap0,
 * the second on tap1; the host bridges the two). 0 if two were found.
 */
static int find_nics(char tx[16], char rx[16])
{
	char found[2][2][PATH_MAX];	/* [i][0] device path, [i][1] name */
	struct dirent *e;
	int n = 0;
	DIR *d = opendir("/sys/class/net");

	if (!d)
		return -1;
	while ((e = readdir(d)) && n < 3) {
		char link[PATH_MAX], drv[PATH_MAX], dev[PATH_MAX];
		ssize_t len;

		snprintf(link, sizeof(link), "/sys/class/net/%s/device/driver", e->d_name);
		len = readlink(link, drv, sizeof(drv) - 1);
		if (len <= 0)
			continue;
		drv[len] = '\0';
		if (strcmp(strrchr(drv, '/') ? strrchr(drv, '/') + 1 : drv, "virtio_net"))
			continue;
		snprintf(link, sizeof(link), "/sys/class/net/%s/device", e->d_name);
		if (!realpath(link, dev) || n == 2)
			continue;
		snprintf(found[n][0], PATH_MAX, "%s", dev);
		snprintf(found[n][1], PATH_MAX, "%s", e->d_name);
		n++;
	}
	closedir(d);
	if (n != 2)
		return -1;
	n = strcmp(found[0][0], found[1][0]) > 0;
	snprintf(tx, 16, "%s", found[n][1]);
	snprintf(rx, 16, "%s", found[!n][1]);
	return 0;
}

static int read_ifindex(const char *dev)
{
	char path[64], buf[16] = "";
	int fd, n;

	snprintf(path, sizeof(path), "/sys/class/net/%s/ifindex", dev);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = (int)read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? atoi(buf) : -1;
}

/* virtio_net loaded and both NICs there (up to 10 s); the sending one
 * is then the probe's device. */
static int nic_prepare(void)
{
	char tx[16], rx[16];
	int i;

	if (system("modprobe -q virtio_net 2>/dev/null") == -1)
		return -1;
	for (i = 0; i < 100; i++) {
		if (find_nics(tx, rx) == 0) {
			trace_nic_device(read_ifindex(tx));
			return 0;
		}
		usleep(100000);
	}
	return -1;
}

/* Until the receiver's kernel answers (a refused connection), 10 s. */
static int nic_wait_peer(const char *addr)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(9) };
	int i, fd, err;

	inet_pton(AF_INET, addr, &a.sin_addr);
	for (i = 0; i < 100; i++) {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -1;
		err = connect(fd, (struct sockaddr *)&a, sizeof(a)) ? errno : 0;
		close(fd);
		if (err == ECONNREFUSED || !err)
			return 0;
		usleep(100000);
	}
	fprintf(stderr, "zcsend bench: %s does not answer over the NICs\n", addr);
	return -1;
}

/*
 * The first NIC stays in this namespace with the sender; the second goes
 * into a namespace of its own with the receiver, so that the traffic
 * leaves through a driver, crosses the host's bridge and comes back in.
 */
static int setup_nic(struct route *r)
{
	if (geteuid() != 0 || nic_prepare() || find_nics(r->dev_send, r->dev_recv)) {
		fprintf(stderr, "zcsend bench: route %s needs root and two virtio-net NICs (scripts/testbed/vm-run --nic)\n",
			r->def->name);
		return -1;
	}
	snprintf(r->ns_recv, sizeof(r->ns_recv), "zcb-r-%d", (int)getpid());
	snprintf(r->addr, sizeof(r->addr), "192.0.2.2");
	r->netns_made = 1;
	r->nic = 1;
	if (run_cmd("ip netns add %s", r->ns_recv) ||
	    run_cmd("ip link set %s netns %s", r->dev_recv, r->ns_recv) ||
	    run_cmd("sysctl -q -w net.ipv6.conf.%s.disable_ipv6=1", r->dev_send) ||
	    run_cmd("ip addr add 192.0.2.1/24 dev %s", r->dev_send) ||
	    run_cmd("ip link set %s up", r->dev_send) ||
	    run_cmd("ip -n %s link set lo up", r->ns_recv) ||
	    run_cmd("ip -n %s addr add 192.0.2.2/24 dev %s", r->ns_recv, r->dev_recv) ||
	    run_cmd("ip -n %s link set %s up", r->ns_recv, r->dev_recv))
		return -1;
	return nic_wait_peer(r->addr);
}

static int setup_nic_nosg(struct route *r)
{
	int err = setup_nic(r);

	return err ? err : run_cmd("ethtool -K %s sg off >/dev/null", r->dev_send);
}

static int setup_nic_notso(struct route *r)
{
	int err = setup_nic(r);

	return err ? err : run_cmd("ethtool -K %s tso off gso off >/dev/null", r->dev_send);
}

/* The sending NIC stays here: its offloads and address are put back. */
static void teardown_nic(struct route *r)
{
	if (r->nic) {
		run_cmd("ethtool -K %s sg on tso on gso on >/dev/null 2>&1", r->dev_send);
		run_cmd("ip addr flush dev %s", r->dev_send);
		r->nic = 0;
	}
	teardown_netns(r);
}

const struct bench_route bench_routes[] = {
	{ .name = "loopback", .setup = setup_loopback, .teardown = teardown_netns },
	{ .name = "veth", .setup = setup_veth, .teardown = teardown_netns },
	{ .name = "veth-nosg", .setup = setup_veth_nosg, .teardown = teardown_netns,
	  .no_sg = 1 },
	{ .name = "loopback-ktls", .prepare = ktls_prepare, .setup = setup_loopback_ktls,
	  .teardown = teardown_netns, .sender = ktls_sender, .receiver = ktls_receiver,
	  .force_read = 1, .ktls = 1 },
	{ .name = "nic", .prepare = nic_prepare, .setup = setup_nic,
	  .teardown = teardown_nic, .nic = 1 },
	{ .name = "nic-nosg", .prepare = nic_prepare, .setup = setup_nic_nosg,
	  .teardown = teardown_nic, .no_sg = 1, .nic = 1 },
	{ .name = "nic-notso", .prepare = nic_prepare, .setup = setup_nic_notso,
	  .teardown = teardown_nic, .nic = 1 },
};

const int bench_nroutes = (int)(sizeof(bench_routes) / sizeof(bench_routes[0]));

const struct bench_route *route_by_name(const char *name)
{
	return find_by_name(bench_routes, bench_nroutes,
			    sizeof(bench_routes[0]), name);
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
		/* recv, not read: vfs_read is probed (trace.c) */
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
