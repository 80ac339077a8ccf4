/*
 * net.c - sockets for the graphite and statsd sinks (see net.h).
 *
 * Blocking sockets with poll() deadlines: an exporter serves one sink and
 * has nothing else to do while it sends, so there is no event loop here.
 * Connecting is non-blocking only until the connection is made, to honour
 * the deadline.  SIGPIPE is ignored by the exporter; MSG_NOSIGNAL makes the
 * functions safe without that too.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hc.h"
#include "net.h"

/* Waits until fd is ready for `events` or the deadline (monotonic ms). */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - hc_mono_ms();
		struct pollfd p = { fd, events, 0 };
		int n;

		if (left <= 0)
			return HC_ERR_TIMEOUT;
		n = poll(&p, 1, left > 1000 ? 1000 : (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

/* Connects fd to a, finishing a non-blocking connect by the deadline. */
static int connect_deadline(int fd, const struct addrinfo *a, int64_t deadline)
{
	int flags = fcntl(fd, F_GETFL), err = 0, rc;
	socklen_t len = sizeof(err);

	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return -errno;
	if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
		if (errno != EINPROGRESS)
			return -errno;
		rc = wait_fd(fd, POLLOUT, deadline);
		if (rc != 0)
			return rc;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
			return -errno;
		if (err != 0)
			return -err;
	}
	if (fcntl(fd, F_SETFL, flags) < 0)
		return -errno;
	return 0;
}

int exp_net_connect(const char *host, int port, int type, int timeout_ms, int *fd)
{
	struct addrinfo hints = { .ai_socktype = type }, *res, *a;
	int64_t deadline = hc_mono_ms() + timeout_ms;
	char service[16];
	int rc, s;

	snprintf(service, sizeof(service), "%d", port);
	rc = getaddrinfo(host, service, &hints, &res);
	if (rc != 0)
		return rc == EAI_SYSTEM ? -errno : -EHOSTUNREACH;
	rc = -EHOSTUNREACH;
	for (a = res; a != NULL; a = a->ai_next) {
		s = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (s < 0) {
			rc = -errno;
			continue;
		}
		rc = connect_deadline(s, a, deadline);
		if (rc == 0) {
			*fd = s;
			break;
		}
		close(s);
	}
	freeaddrinfo(res);
	return rc;
}

int exp_net_write_all(int fd, const void *p, size_t n, int timeout_ms)
{
	int64_t deadline = hc_mono_ms() + timeout_ms;
	const char *c = p;
	int rc;

	while (n > 0) {
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w > 0) {
			c += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		rc = wait_fd(fd, POLLOUT, deadline);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int exp_net_close_confirmed(int fd, int timeout_ms)
{
	int64_t deadline = hc_mono_ms() + timeout_ms;
	char sink[4096];
	int rc = 0;

	if (shutdown(fd, SHUT_WR) != 0) {
		rc = -errno;
		goto close_fd;
	}
	for (;;) {
		ssize_t r = recv(fd, sink, sizeof(sink), MSG_DONTWAIT);

		if (r == 0)
			break;                  /* the peer read all and closed */
		if (r > 0)
			continue;
		if (errno != EAGAIN && errno != EINTR) {
			rc = -errno;            /* a reset: data may be lost */
			break;
		}
		rc = wait_fd(fd, POLLIN, deadline);
		if (rc != 0)
			break;
	}
close_fd:
	close(fd);
	return rc;
}

#define NET_MMSG 64

int exp_net_send_datagrams(int fd, struct exp_out *out)
{
	struct mmsghdr msg[NET_MMSG];
	struct iovec iov[NET_MMSG];
	uint32_t idx[NET_MMSG];
	uint32_t i = 0;

	while (i < out->nchunks) {
		int n = 0, sent;

		for (; i < out->nchunks && n < NET_MMSG; i++) {
			size_t off = exp_out_chunk_start(out, i);

			if (out->chunk_done[i])
				continue;
			iov[n].iov_base = out->buf.data + off;
			iov[n].iov_len = out->chunk_end[i] - off;
			memset(&msg[n], 0, sizeof(msg[n]));
			msg[n].msg_hdr.msg_iov = &iov[n];
			msg[n].msg_hdr.msg_iovlen = 1;
			idx[n++] = i;
		}
		for (int done = 0; done < n; done += sent) {
			sent = sendmmsg(fd, msg + done, (unsigned)(n - done), MSG_NOSIGNAL);
			if (sent < 0 && errno == EINTR) {
				sent = 0;
				continue;
			}
			if (sent <= 0) {
				int rc = sent < 0 ? -errno : -EIO;

				if (rc == -ECONNREFUSED)
					memset(out->chunk_done, 0, out->nchunks);
				return rc;
			}
			for (int k = done; k < done + sent; k++)
				out->chunk_done[idx[k]] = 1;
		}
	}
	return 0;
}

int exp_net_send_udp(const char *host, int port, int *fd, struct exp_out *out)
{
	int rc;

	if (*fd < 0) {
		rc = exp_net_connect(host, port, SOCK_DGRAM, 0, fd);
		if (rc != 0)
			return rc;
	}
	rc = exp_net_send_datagrams(*fd, out);
	if (rc != 0 && rc != -ECONNREFUSED) {
		close(*fd);
		*fd = -1;
	}
	return rc;
}
