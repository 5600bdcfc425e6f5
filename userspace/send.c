// SPDX-License-Identifier: GPL-2.0
/*
 * zcsend send FILE HOST:PORT [--offset N] [--length N] [--nonblock] [--nowait]
 *                              [--uring]
 *
 * Connects to HOST:PORT over TCP (IPv4 or IPv6; "[::1]:PORT" for a literal
 * IPv6 address) and sends the file, or a range of it, with
 * ZCSEND_IOC_SENDFILE, calling again from the returned offset until the
 * range is sent or end of file is reached. Prints the bytes sent. With
 * --uring, through io_uring commands instead of the ioctl (send_uring.c).
 * --nowait sends with ZCSEND_F_NOWAIT: only what is in the page cache; at
 * the first page that is not, it says so (the module has started
 * readahead) and stops, exit status 1, after printing the bytes sent.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/zcsend.h>

#include "zcsend.h"

struct send_opts {
	const char *file;
	const char *dest;	/* as given, for messages */
	char *dest_buf;		/* a copy, split into host and port */
	char *host;
	char *port;
	uint64_t offset;
	uint64_t length;	/* UINT64_MAX: to end of file */
	bool nonblock;
	bool uring;
	bool nowait;
};

static void send_usage(FILE *out)
{
	fprintf(out,
		"usage: zcsend send FILE HOST:PORT [--offset N] [--length N] [--nonblock]\n"
		"                   [--nowait] [--uring]\n"
		"  Send FILE (from --offset, --length bytes, default to end of file)\n"
		"  to a TCP listener with the zcsend ioctl. HOST may be a name, an\n"
		"  IPv4 address or an IPv6 address in brackets ([::1]:8080).\n"
		"  --nonblock  non-blocking socket; wait with poll() on EAGAIN\n"
		"  --nowait    send only what is in the page cache; stop at the\n"
		"              first page that is not (readahead is started)\n"
		"  --uring     send with io_uring commands (ZCSEND_URING_CMD_SENDFILE)\n");
}

static int parse_u64(const char *s, const char *what, uint64_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	if (*s == '-' || *s == '\0')
		goto bad;
	v = strtoull(s, &end, 0);
	if (errno || *end != '\0')
		goto bad;
	*out = v;
	return 0;
bad:
	fprintf(stderr, "zcsend send: bad %s '%s'\n", what, s);
	return -1;
}

/* Split HOST:PORT or [HOST]:PORT in place. */
static int split_dest(char *dest, char **host, char **port)
{
	char *colon;

	if (dest[0] == '[') {
		char *close = strchr(dest, ']');

		if (!close || close[1] != ':')
			return -1;
		*close = '\0';
		*host = dest + 1;
		*port = close + 2;
	} else {
		colon = strrchr(dest, ':');
		if (!colon)
			return -1;
		*colon = '\0';
		*host = dest;
		*port = colon + 1;
	}
	return (**host && **port) ? 0 : -1;
}

static int connect_dest(const struct send_opts *o)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_protocol = IPPROTO_TCP,
	};
	struct addrinfo *res, *ai;
	int fd = -1, err, saved = 0;

	err = getaddrinfo(o->host, o->port, &hints, &res);
	if (err) {
		fprintf(stderr, "zcsend send: %s: %s\n", o->dest,
			gai_strerror(err));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		fprintf(stderr, "zcsend send: connect %s: %s\n", o->dest,
			strerror(saved));
	return fd;
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		perror("zcsend send: fcntl O_NONBLOCK");
		return -1;
	}
	return 0;
}

static int wait_writable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };

	for (;;) {
		int n = poll(&p, 1, -1);

		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR) {
			perror("zcsend send: poll");
			return -1;
		}
	}
}

/*
 * Send the range, resuming from the returned offset. Returns 0 and the
 * total in *total, or -1 after printing why (*total still says how much
 * went out before).
 */
static int send_loop(int dev, int file_fd, int sock_fd,
		     const struct send_opts *o, uint64_t *total)
{
	uint64_t offset = o->offset, left = o->length;

	*total = 0;
	while (left) {
		struct zcsend_file a = {
			.size = sizeof(a),
			.flags = ZCSEND_F_NOSIGNAL |
				 (o->nowait ? ZCSEND_F_NOWAIT : 0),
			.file_fd = file_fd,
			.sock_fd = sock_fd,
			.offset = offset,
			.length = left,
		};

		if (ioctl(dev, ZCSEND_IOC_SENDFILE, &a) < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN && o->nonblock) {
				if (wait_writable(sock_fd))
					return -1;
				continue;
			}
			if (errno == EBUSY && o->nowait) {
				fprintf(stderr, "zcsend send: offset %" PRIu64 " is not in the page cache (EBUSY); readahead started\n",
					offset);
				return -1;
			}
			if (errno == EOPNOTSUPP && o->nowait) {
				fprintf(stderr, "zcsend send: --nowait: %s: the page cache of this file cannot be checked (EOPNOTSUPP)\n",
					o->file);
				return -1;
			}
			fprintf(stderr, "zcsend send: ZCSEND_IOC_SENDFILE at offset %" PRIu64 ": %s\n",
				offset, strerror(errno));
			return -1;
		}
		if (a.sent == 0)
			break;	/* end of file */
		*total += a.sent;
		left -= a.sent;
		offset = a.offset;
	}
	return 0;
}

/* Largest length that keeps offset + length within the kernel's loff_t. */
static uint64_t length_to_eof(uint64_t offset)
{
	return offset > INT64_MAX ? 0 : (uint64_t)INT64_MAX - offset;
}

static int parse_send_args(int argc, char **argv, struct send_opts *o)
{
	static const struct option opts[] = {
		{ "offset", required_argument, NULL, 'o' },
		{ "length", required_argument, NULL, 'l' },
		{ "nonblock", no_argument, NULL, 'n' },
		{ "uring", no_argument, NULL, 'u' },
		{ "nowait", no_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool have_length = false;
	int c;

	memset(o, 0, sizeof(*o));
	while ((c = getopt_long(argc, argv, "o:l:nuwh", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			if (parse_u64(optarg, "offset", &o->offset))
				return EXIT_USAGE;
			break;
		case 'l':
			if (parse_u64(optarg, "length", &o->length))
				return EXIT_USAGE;
			have_length = true;
			break;
		case 'n':
			o->nonblock = true;
			break;
		case 'u':
			o->uring = true;
			break;
		case 'w':
			o->nowait = true;
			break;
		case 'h':
			send_usage(stdout);
			return 0;
		default:
			send_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 2) {
		send_usage(stderr);
		return EXIT_USAGE;
	}
	o->file = argv[optind];
	o->dest = argv[optind + 1];
	o->dest_buf = strdup(o->dest);
	if (!o->dest_buf) {
		perror("zcsend send: strdup");
		return 1;
	}
	if (split_dest(o->dest_buf, &o->host, &o->port)) {
		fprintf(stderr, "zcsend send: bad destination '%s' (want HOST:PORT)\n",
			o->dest);
		return EXIT_USAGE;
	}
	if (o->offset > INT64_MAX) {
		fprintf(stderr, "zcsend send: offset too large\n");
		return EXIT_USAGE;
	}
	if (o->uring && o->nowait) {
		/* The ring's inline issue already never waits for the disk. */
		fprintf(stderr, "zcsend send: --nowait and --uring do not go together\n");
		return EXIT_USAGE;
	}
	if (!have_length)
		o->length = length_to_eof(o->offset);
	return -1;	/* go on */
}

int cmd_send(int argc, char **argv)
{
	struct send_opts o;
	int file_fd, sock_fd, dev, ret = 1;
	uint64_t total = 0;

	ret = parse_send_args(argc, argv, &o);
	if (ret >= 0)
		goto out_opts;
	ret = 1;

	file_fd = open(o.file, O_RDONLY | O_CLOEXEC);
	if (file_fd < 0) {
		fprintf(stderr, "zcsend send: %s: %s\n", o.file, strerror(errno));
		goto out_opts;
	}
	dev = open(ZCSEND_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		fprintf(stderr, "zcsend send: %s: %s%s\n", ZCSEND_DEVICE_PATH,
			strerror(errno),
			errno == ENOENT ? " (is the zcsend module loaded?)" : "");
		goto out_file;
	}
	sock_fd = connect_dest(&o);
	if (sock_fd < 0)
		goto out_dev;
	if (o.nonblock && set_nonblock(sock_fd))
		goto out_sock;

	if (o.uring)
		ret = send_uring(dev, file_fd, sock_fd, o.offset, o.length,
				 o.nonblock, &total) ? 1 : 0;
	else if (send_loop(dev, file_fd, sock_fd, &o, &total) == 0)
		ret = 0;
	printf("%" PRIu64 "\n", total);

out_sock:
	close(sock_fd);
out_dev:
	close(dev);
out_file:
	close(file_fd);
out_opts:
	free(o.dest_buf);
	return ret;
}
