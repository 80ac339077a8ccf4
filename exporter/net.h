/*
 * net.h - plain sockets for the sinks that speak TCP or UDP themselves
 * (graphite, statsd): connecting with a deadline, writing a whole buffer
 * with a deadline, confirming that a TCP peer read everything, and sending
 * an exp_out's chunks as one datagram each.
 *
 * Every function returns 0 or a negative code (-errno, HC_ERR_TIMEOUT).
 */
#ifndef EXP_NET_H
#define EXP_NET_H

#include <stddef.h>

#include "sink.h"

/* Largest datagram the UDP sinks build: fits a 1500-byte MTU with headers. */
#define EXP_NET_UDP_MAX 1432

/*
 * Resolves host (name or address) and connects a socket of `type`
 * (SOCK_STREAM or SOCK_DGRAM) to host:port, within timeout_ms for TCP.
 * The socket is blocking, close-on-exec.  0 and *fd, or a negative code.
 */
int exp_net_connect(const char *host, int port, int type, int timeout_ms, int *fd);

/* Writes all n bytes of p to a stream socket within timeout_ms. */
int exp_net_write_all(int fd, const void *p, size_t n, int timeout_ms);

/*
 * Ends a TCP conversation so that success means "the peer read every byte
 * sent": half-closes (FIN after the data), then waits up to timeout_ms for
 * the peer to close its side, discarding anything it says.  Closes fd in
 * every case.  0, HC_ERR_TIMEOUT, or -errno.
 */
int exp_net_close_confirmed(int fd, int timeout_ms);

/*
 * Sends every chunk of `out` not yet done as one datagram on the connected
 * UDP socket fd (sendmmsg, 64 at a time), marking each one done.  Loopback
 * and local peers report a closed port (ECONNREFUSED) on a *later* send, so
 * such an error marks the whole window not done again: the retry repeats it
 * rather than lose the datagrams before the error.  0 or a negative code.
 */
int exp_net_send_datagrams(int fd, struct exp_out *out);

/*
 * The UDP sinks' send: connects *fd to host:port first when it is -1, then
 * sends out's chunks with exp_net_send_datagrams().  An error other than
 * -ECONNREFUSED (which keeps the socket for the retry) closes *fd and sets
 * it to -1, so the next call connects again.  0 or a negative code.
 */
int exp_net_send_udp(const char *host, int port, int *fd, struct exp_out *out);

#endif
