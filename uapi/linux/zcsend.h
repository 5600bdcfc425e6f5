/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * zcsend: send a file's page-cache pages to a TCP socket without a CPU copy.
 *
 * This header (with zcsend_nl.h, which it includes) is the whole contract
 * between the zcsend module, the zcsend tool and the selftests. It is used
 * unchanged by all three.
 *
 * Character device: /dev/zcsend (misc device, mode 0600, owner root).
 *
 * Every ioctl argument starts with a __u32 size field that the caller sets
 * to sizeof() of the struct it was compiled with. The module accepts any
 * size from the first published version of the struct (*_SIZE_VER0) up to
 * one page; bytes beyond what the module knows must be zero. So the structs
 * can grow at the end without new ioctl numbers, like openat2(2) and
 * clone3(2). The ioctl numbers encode the VER0 size and never change; the
 * module matches them by number, whatever size a caller's number encodes.
 * Only the output fields are written back, never past the caller's size.
 *
 * All ioctls return 0 on success and -1 with errno on failure. Byte counts
 * are returned in the struct, since ioctl(2) returns an int.
 */
#ifndef _UAPI_LINUX_ZCSEND_H
#define _UAPI_LINUX_ZCSEND_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define ZCSEND_DEVICE_NAME	"zcsend"
#define ZCSEND_DEVICE_PATH	"/dev/zcsend"

/**
 * DOC: flags, for struct zcsend_file.flags and struct zcsend_vec.flags
 *
 * ZCSEND_F_NONBLOCK: do not block on a full send buffer, as MSG_DONTWAIT.
 *	A socket opened O_NONBLOCK never blocks either.
 * ZCSEND_F_NOSIGNAL: do not raise SIGPIPE when the peer is gone, as
 *	MSG_NOSIGNAL. EPIPE is still returned.
 * ZCSEND_F_MORE: more data follows in another call, as MSG_MORE: the last
 *	partial segment is held back (corked) until the next send.
 * ZCSEND_F_NOWAIT: never wait for the disk (FreeBSD's SF_NODISKIO). Only
 *	the part of the range that is in the page cache and uptodate, from
 *	the offset on, is sent; see "DOC: ZCSEND_F_NOWAIT" below.
 * ZCSEND_F_NOTIFY: queue a release notification on the socket's error
 *	queue once the network stack holds no reference to any of the
 *	call's file pages (see "DOC: release notifications" below).
 * ZCSEND_F_DROP: once the network stack holds no reference to the call's
 *	file pages, drop its clean pages from the page cache (see "DOC:
 *	drop after send (ZCSEND_F_DROP)" below).
 *
 * Any other bit set: EINVAL.
 */
#define ZCSEND_F_NONBLOCK	0x1U
#define ZCSEND_F_NOSIGNAL	0x2U
#define ZCSEND_F_MORE		0x4U
#define ZCSEND_F_NOWAIT		0x8U
#define ZCSEND_F_NOTIFY		0x10U
#define ZCSEND_F_DROP		0x20U
#define ZCSEND_F_ALL		(ZCSEND_F_NONBLOCK | ZCSEND_F_NOSIGNAL | \
				 ZCSEND_F_MORE | ZCSEND_F_NOWAIT | \
				 ZCSEND_F_NOTIFY | ZCSEND_F_DROP)

/**
 * DOC: ZCSEND_F_NOWAIT
 *
 * Before each batch is read, the module looks up the file's pages from the
 * offset on in the page cache (a lock-free lookup of the real file's
 * mapping: the lower or upper file under overlayfs) and reads no further
 * than the uptodate pages it found. Where the range starts on a page that
 * is missing or still being read, the call starts readahead for the range
 * (as posix_fadvise(POSIX_FADV_WILLNEED): up to the file's readahead
 * window, read_ahead_kb of the device) and stops without waiting for it:
 *  - nothing was queued yet: the call fails with EBUSY (EAGAIN keeps its
 *    meaning, a full send buffer);
 *  - a cached prefix was queued: the call succeeds with the short count,
 *    as for any partial send. The next call from the returned offset
 *    fails with EBUSY until the readahead has brought the pages in.
 * ZCSEND_IOC_SENDVEC stops at the file segment that misses, as at any
 * partial send (segs_done, seg_sent).
 *
 * Waiting without spinning: EBUSY means the readahead is already under
 * way. Hand that one request to a thread that repeats the call without
 * ZCSEND_F_NOWAIT (it sleeps until the pages are read, and sends them);
 * the event loop goes on with its other connections. Only misses cost a
 * thread hand-off; cached data is sent inline. See zcsend(4).
 *
 * What the call still may sleep on: the socket (unless non-blocking, as
 * always), memory allocation, and locks: a file system lock held by a
 * writer (XFS's IOLOCK, taken shared by its read), the readahead's block
 * I/O submission (a request slot on a busy device) and the block mapping
 * it needs (a file's extent tree blocks, read from disk when they are not
 * cached), and the access-time update (relatime: at most once a day, it
 * may wait for the journal). The lookup is advisory: a page evicted
 * between the lookup and the read of its batch is read synchronously; the
 * lookup runs just before each batch, so at most one batch (batch_pages)
 * is exposed, and only to pages evicted in that window.
 *
 * File systems: the flag is taken where the page cache holds the whole
 * truth: tmpfs (a hole reads as zeros without I/O and counts as cached;
 * a page in swap is a miss, with no readahead: the call without the flag
 * swaps it in), ext2/3/4, XFS and Btrfs, and overlayfs over any of these.
 * Any other file system (NFS and FUSE, whose reads may revalidate over
 * the network, network and cluster file systems, ...) and a file opened
 * O_DIRECT (its read bypasses the cache): EOPNOTSUPP.
 */

/**
 * DOC: release notifications (ZCSEND_F_NOTIFY)
 *
 * Until the stack lets go of a file's pages, rewriting or truncating the
 * file changes what goes out. With ZCSEND_F_NOTIFY a call tells when that
 * is over: its file pages go to TCP as a MSG_ZEROCOPY send (msg(2) flags;
 * see the kernel's Documentation/networking/msg_zerocopy.rst), and the
 * notification is MSG_ZEROCOPY's own, read with recvmsg(MSG_ERRQUEUE)
 * unchanged by code written for MSG_ZEROCOPY: a struct sock_extended_err
 * (cmsg level SOL_IP / SOL_IPV6, type IP_RECVERR / IPV6_RECVERR) with
 * ee_errno 0, ee_origin SO_EE_ORIGIN_ZEROCOPY, and the inclusive range of
 * call ids ee_info..ee_data (consecutive ids are merged into one range).
 * SO_ZEROCOPY need not be set.
 *
 * Ids: a call that queues at least one byte takes the socket's next
 * MSG_ZEROCOPY id: the counter starts at 0 and is shared with the socket's
 * own send(MSG_ZEROCOPY) calls, each of which takes one too. So, as with
 * MSG_ZEROCOPY, the caller knows a call's id by counting its calls. A call
 * that queues nothing (it fails, or has nothing to send) takes no id and
 * is never notified (unless another thread sent on the socket meanwhile).
 * One id per call, however many sends into TCP the call makes. Once
 * notified, the call's bytes are in the peer's hands or copies: the file can
 * be rewritten, truncated or dropped from the page cache.
 *
 * ee_code SO_EE_CODE_ZEROCOPY_COPIED: the stack copied some of the call's
 * file bytes (loopback, veth and other software routes copy on receive;
 * so does a route without scatter-gather). Bytes of ZCSEND_SEG_INLINE
 * segments are always copied and do not count.
 *
 * Costs and limits, as for MSG_ZEROCOPY: each pending call holds a small
 * buffer charged to the socket's option memory (net.core.optmem_max), and
 * its bytes are charged to the caller's RLIMIT_MEMLOCK (locked_vm of the
 * user; CAP_IPC_LOCK is exempt) from the send until the notification. Past
 * the option memory the call fails with ENOBUFS before it sends anything
 * (a call that shares the previous call's buffer takes none); past
 * RLIMIT_MEMLOCK it stops there: ENOBUFS when nothing was queued, else a
 * short count. Read the error queue (which also frees that memory) and
 * call again. A socket that cannot take zero-copy sends (kTLS, a sockmap:
 * the kernel clears its SOCK_SUPPORT_ZC) is refused with EOPNOTSUPP. The
 * flag applies to the file pages of both ioctls; on Linux 6.1 such a call
 * hands TCP one sendmsg() per batch instead of one sendpage per page.
 */

/**
 * DOC: drop after send (ZCSEND_F_DROP)
 *
 * For a file sent once (a catalogue streamed past a hot set), so that it
 * does not push the hot set out of the page cache (FreeBSD's SF_NOCACHE).
 * The call's file pages go to TCP as zero-copy sends, as with
 * ZCSEND_F_NOTIFY (the flags can be given alone or together). Once the
 * network stack holds no reference to any of them, the module drops the
 * call's pages from the page cache of the real file (the upper or lower
 * file under overlayfs), in process context, shortly after the release.
 *
 * What is dropped: the whole pages of each range the call queued (a short
 * call's range ends where it stopped), rounded inward as
 * POSIX_FADV_DONTNEED rounds: a page only partly in the range is kept,
 * except the last page of the file when the range reaches end of file.
 * Ranges of one file that follow each other within one call (SENDVEC
 * segments) count as one. Only clean, unmapped pages that nobody else
 * holds go, as invalidate_mapping_pages() drops them: dirty pages (not yet
 * written back, and no writeback is started for them), pages under
 * writeback, pages mapped by any process, and pages another call or
 * socket still holds are left. Pages of tmpfs and ramfs, the file's only
 * copy, are never dropped.
 *
 * With ZCSEND_F_NOTIFY too, the notification is queued after the drop:
 * once it is read, the call's droppable pages are gone. ZCSEND_F_DROP alone
 * queues nothing on the error queue, takes no MSG_ZEROCOPY id and charges
 * nothing to RLIMIT_MEMLOCK; each pending call holds a small allocation and
 * a reference on each of its files (closing them does not free them) until
 * its drop has run.
 *
 * A socket that cannot take zero-copy sends (kTLS, a sockmap) is refused
 * with EOPNOTSUPP, as for ZCSEND_F_NOTIFY; ENOMEM when the call's state
 * cannot be allocated. On Linux 6.1 such a call hands TCP one sendmsg()
 * per batch instead of one sendpage per page.
 */

/**
 * struct zcsend_file - argument of ZCSEND_IOC_SENDFILE
 * @size:	in: sizeof(struct zcsend_file) as the caller knows it.
 * @flags:	in: ZCSEND_F_* flags.
 * @file_fd:	in: a regular file opened for reading.
 * @sock_fd:	in: a connected TCP (IPv4 or IPv6) stream socket.
 * @offset:	in: file offset to start at; out: the offset after the last
 *		byte queued (like the offset pointer of sendfile(2)). The
 *		file's own position (f_pos) is neither used nor changed.
 * @length:	in: number of bytes to send. 0 sends nothing and succeeds
 *		(the file's access time is updated, as by sendfile(2)). A
 *		range that extends past end of file sends up to end of file.
 * @sent:	out: number of bytes queued on the socket.
 * @reserved:	must be zero.
 *
 * Like sendfile(2): once any byte has been queued the call succeeds and
 * @sent says how many, so a retried call never sends data twice. @sent can
 * be less than @length on a signal, a full non-blocking socket, a send
 * timeout, an error after some data, end of file, or the per-call limit of
 * read(2) and sendfile(2) (MAX_RW_COUNT, 2 GiB - 4 KiB): call again from
 * the returned @offset.
 */
struct zcsend_file {
	__u32 size;
	__u32 flags;
	__s32 file_fd;
	__s32 sock_fd;
	__u64 offset;
	__u64 length;
	__u64 sent;
	__u64 reserved[2];
};

#define ZCSEND_FILE_SIZE_VER0	56

/**
 * DOC: segment types, for struct zcsend_seg.type
 *
 * ZCSEND_SEG_FILE: @length bytes of file @fd from @offset, sent from the
 *	page cache without a copy. @addr must be 0.
 * ZCSEND_SEG_INLINE: @length bytes of the caller's memory at @addr (a
 *	protocol header or trailer). These bytes ARE copied, once, into the
 *	socket buffer. At most ZCSEND_INLINE_MAX bytes; @fd and @offset must
 *	be 0.
 */
#define ZCSEND_SEG_FILE		1
#define ZCSEND_SEG_INLINE	2

/* Bounds of ZCSEND_IOC_SENDVEC. */
#define ZCSEND_SEGS_MAX		1024	/* segments per call */
#define ZCSEND_INLINE_MAX	4096	/* bytes per inline segment */

/**
 * struct zcsend_seg - one segment of ZCSEND_IOC_SENDVEC
 * @type:	ZCSEND_SEG_FILE or ZCSEND_SEG_INLINE.
 * @fd:		file segment: a regular file opened for reading.
 * @offset:	file segment: offset in the file.
 * @length:	bytes in this segment. A file segment that extends past end of
 *		file is cut there, and the call stops after it (as sendfile
 *		does at end of file). So does one longer than MAX_RW_COUNT,
 *		and the one that reaches MAX_RW_COUNT bytes over the call.
 * @addr:	inline segment: user address of the bytes. They are read when
 *		their segment is sent: an unmapped address stops the call
 *		there (EFAULT if nothing was queued yet).
 */
struct zcsend_seg {
	__u32 type;
	__s32 fd;
	__u64 offset;
	__u64 length;
	__u64 addr;
};

/**
 * struct zcsend_vec - argument of ZCSEND_IOC_SENDVEC
 * @size:	in: sizeof(struct zcsend_vec) as the caller knows it.
 * @flags:	in: ZCSEND_F_* flags, for the whole call. ZCSEND_F_MORE applies
 *		after the last segment; segments inside the call are always
 *		sent as one corked stream.
 * @sock_fd:	in: a connected TCP (IPv4 or IPv6) stream socket.
 * @nr_segs:	in: number of segments, 0 to ZCSEND_SEGS_MAX.
 * @segs:	in: user address of an array of @nr_segs struct zcsend_seg.
 * @sent:	out: total bytes queued, over all segments.
 * @segs_done:	out: number of leading segments queued completely.
 * @reserved0:	must be zero.
 * @seg_sent:	out: bytes queued of segment @segs_done (when it is not
 *		complete); resume a partial send from there.
 * @reserved:	must be zero.
 *
 * Segments are sent in order as one byte stream. Partial progress is
 * reported as for struct zcsend_file: once any byte is queued the call
 * succeeds. All segments are validated before anything is sent.
 */
struct zcsend_vec {
	__u32 size;
	__u32 flags;
	__s32 sock_fd;
	__u32 nr_segs;
	__u64 segs;
	__u64 sent;
	__u32 segs_done;
	__u32 reserved0;
	__u64 seg_sent;
	__u64 reserved[2];
};

#define ZCSEND_VEC_SIZE_VER0	64

#define ZCSEND_IOC_MAGIC	'Z'

/*
 * ZCSEND_IOC_SENDFILE: send a file range. Errors (nothing was queued):
 *   EBADF	a bad fd, or a file not opened for reading (O_WRONLY, O_PATH)
 *   ESPIPE	a file without positional reads (a pipe, a FIFO), as sendfile(2)
 *   EINVAL	unknown flags, reserved fields set, size too small, offset
 *		negative or offset + length overflowing, a file that is not a
 *		regular file (directory, eventfd, device) or that splice cannot
 *		read (no ->splice_read: secretmem, most of procfs) or is DAX,
 *		an O_APPEND socket (as sendfile(2))
 *   EOVERFLOW	offset at or past the file system's largest file size
 *		(s_maxbytes), as sendfile(2); a range reaching past it is cut
 *   E2BIG	size larger than one page, or bytes past the known struct
 *		are not zero
 *   EFAULT	bad user pointer, or a struct that cannot be written back
 *		(checked as it is read, before any other check)
 *   ENOTSOCK	sock_fd is not a socket
 *   EOPNOTSUPP	a socket that is not TCP over IPv4/IPv6 (UDP, UNIX, ...),
 *		or ZCSEND_F_NOTIFY or ZCSEND_F_DROP on one that cannot send
 *		zero-copy (kTLS)
 *   ENOBUFS	ZCSEND_F_NOTIFY past RLIMIT_MEMLOCK or net.core.optmem_max
 *   ENOMEM	the call's state cannot be allocated (a batch's page array,
 *		the record of a ZCSEND_F_DROP call)
 *   EPIPE	a socket not connected (or listening), or shut down for
 *		writing, or reset (and SIGPIPE unless ZCSEND_F_NOSIGNAL), as
 *		TCP answers sendfile(2)
 *   ECONNRESET	the first call after the peer reset the connection (as
 *		send(2) and sendfile(2)); EPIPE from then on
 *   EAGAIN	non-blocking and the send buffer is full, or SO_SNDTIMEO
 *		expired
 *   EINTR	a signal arrived before anything was queued (restarted
 *		transparently when the handler has SA_RESTART), in either
 *		mode: the splice read stops for a signal, as for sendfile(2)
 *   EIO and other read errors of the filesystem
 *   EBUSY	ZCSEND_F_NOWAIT and the page at the offset is not in the page
 *		cache (readahead was started)
 *   EOPNOTSUPP	ZCSEND_F_NOWAIT on a file system whose cache cannot be
 *		checked, or a file opened O_DIRECT
 */
#define ZCSEND_IOC_SENDFILE	_IOC(_IOC_READ | _IOC_WRITE, ZCSEND_IOC_MAGIC, \
				     0x40, ZCSEND_FILE_SIZE_VER0)

/*
 * ZCSEND_IOC_SENDVEC: send segments in order. Errors as ZCSEND_IOC_SENDFILE,
 * and EINVAL for an unknown segment type, an inline segment longer than
 * ZCSEND_INLINE_MAX or with fd/offset set, a file segment with addr set, or
 * more than ZCSEND_SEGS_MAX segments.
 */
#define ZCSEND_IOC_SENDVEC	_IOC(_IOC_READ | _IOC_WRITE, ZCSEND_IOC_MAGIC, \
				     0x41, ZCSEND_VEC_SIZE_VER0)

/**
 * DOC: io_uring commands (IORING_OP_URING_CMD on /dev/zcsend)
 *
 * The two sends are also io_uring operations. An SQE with opcode
 * IORING_OP_URING_CMD, fd an open /dev/zcsend, cmd_op ZCSEND_URING_CMD_*
 * and its 16-byte command area (sqe->cmd) holding a struct
 * zcsend_uring_cmd does what the ioctl of the same name does with the
 * struct @arg points to: every check, the same output fields written back.
 * The CQE's res is the struct's @sent (bytes queued, at most MAX_RW_COUNT)
 * or -errno: the ioctl's errnos, and
 *   EINVAL	@reserved (or, on a ring with 128-byte SQEs, any byte of the
 *		command area past the struct) not zero, or
 *		IORING_URING_CMD_FIXED set
 *   EOPNOTSUPP	an unknown cmd_op; io_uring answers the same for a module
 *		without io_uring commands (and for an IORING_SETUP_IOPOLL ring)
 *
 * The command area is read once, when the command is first issued; the
 * struct at @arg and the fds in it are read when the command runs. A
 * blocking command (no ZCSEND_F_NONBLOCK) is finished by an io_uring
 * worker thread. A ZCSEND_F_NONBLOCK command runs in the submitting task
 * and answers as the non-blocking ioctl does (EAGAIN on a full socket),
 * except on a page-cache miss: a miss at its first page goes to a worker
 * thread (unless ZCSEND_F_NOWAIT asked for EBUSY), a miss after a cached
 * part ends it with a short count, though the socket may have room.
 * Closing the ring interrupts a command blocked on a full socket: it ends
 * as the ioctl ends on a signal (the bytes already queued, or EINTR); an
 * interruption of the inline attempt with nothing queued (a signal, or
 * io_uring's own task_work) sends the command to a worker. Links and drains
 * work as for any request; a short count does not break a link.
 *
 * On 6.12 kernels before the fix of upstream commit d6211ebbdaa5
 * ("io_uring/uring_cmd: unconditionally copy SQEs at prep time"), io_uring
 * itself reads the SQE of a linked command (after the first of its link)
 * only when that command starts, from the SQ ring: set IOSQE_ASYNC on such
 * commands, or do not reuse their SQ slots until they complete.
 *
 * Unlike the ioctl, the commands do not pass through security_file_ioctl()
 * (LSMs see security_uring_cmd() instead, which only SELinux and Smack
 * implement): whoever can open /dev/zcsend (root, mode 0600) can use both.
 */

/**
 * struct zcsend_uring_cmd - the command area of a zcsend io_uring command
 * @arg:	user address of a struct zcsend_file (ZCSEND_URING_CMD_SENDFILE)
 *		or struct zcsend_vec (ZCSEND_URING_CMD_SENDVEC), as the
 *		ioctl takes; it must stay valid until the CQE arrives.
 * @reserved:	must be zero.
 */
struct zcsend_uring_cmd {
	__u64 arg;
	__u64 reserved;
};

#define ZCSEND_URING_CMD_SIZE	16

/* Encoded as ioctl numbers (distinct from the ioctls' own). */
#define ZCSEND_URING_CMD_SENDFILE _IOC(_IOC_READ | _IOC_WRITE, \
				       ZCSEND_IOC_MAGIC, 0x80, \
				       ZCSEND_URING_CMD_SIZE)
#define ZCSEND_URING_CMD_SENDVEC  _IOC(_IOC_READ | _IOC_WRITE, \
				       ZCSEND_IOC_MAGIC, 0x81, \
				       ZCSEND_URING_CMD_SIZE)

/*
 * Generic netlink family "zcsend": statistics and configuration. Its
 * commands and attributes are specified in uapi/zcsend.yaml (YNL); their C
 * definitions in zcsend_nl.h are generated from it. Errors, with an
 * extended ack (NETLINK_EXT_ACK) that names the problem where the kernel
 * gives one:
 *   EPERM	reset or set without CAP_NET_ADMIN (in the initial user
 *		namespace: the counters and tunables are global)
 *   ERANGE	a tunable out of its range (the ack carries the range)
 *   EINVAL	a missing or empty ZCSEND_A_CONFIG, an unknown attribute or
 *		one the command does not take, a wrong attribute length, a
 *		non-zero reserved field in the genetlink header
 *   EOPNOTSUPP	an unknown command, or a dump of a command without one
 *		(no ack message: the netlink core answers these)
 */
#include "zcsend_nl.h"

#endif /* _UAPI_LINUX_ZCSEND_H */
