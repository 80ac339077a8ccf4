/*
 * mq.c - POSIX message queues with a typed header and chunked streams.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hc.h"
#include "mq.h"

void hc_mq_name(char *buf, size_t size, const char *instance, const char *role)
{
	snprintf(buf, size, "/heapster-%s-%s", instance, role);
}

int hc_mq_open(const char *name, int flags, long msgsize, mqd_t *out)
{
	struct mq_attr attr = { 0 };
	int oflag = 0;
	mqd_t q;

	if ((flags & HC_MQ_READ) && (flags & HC_MQ_WRITE))
		oflag = O_RDWR;
	else if (flags & HC_MQ_WRITE)
		oflag = O_WRONLY;
	else
		oflag = O_RDONLY;
	if (flags & HC_MQ_NONBLOCK)
		oflag |= O_NONBLOCK;
	if (flags & HC_MQ_CREATE)
		oflag |= O_CREAT;
	attr.mq_maxmsg = HC_MQ_MAXMSG;
	attr.mq_msgsize = msgsize > 0 ? msgsize : HC_MQ_MSGSIZE;
	q = mq_open(name, oflag | O_CLOEXEC, 0600, (flags & HC_MQ_CREATE) ? &attr : NULL);
	if (q == (mqd_t)-1)
		return -errno;
	*out = q;
	return 0;
}

int hc_mq_unlink(const char *name)
{
	return mq_unlink(name) == 0 ? 0 : -errno;
}

static void deadline(struct timespec *ts, int timeout_ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += timeout_ms / 1000;
	ts->tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* Sends n bytes already laid out as header + payload. */
static int mq_send_raw(mqd_t q, const char *buf, size_t n, int timeout_ms)
{
	struct timespec ts;
	int rc;

	do {
		if (timeout_ms < 0) {
			rc = mq_send(q, buf, n, 0);
		} else {
			deadline(&ts, timeout_ms);
			rc = mq_timedsend(q, buf, n, 0, &ts);
		}
	} while (rc != 0 && errno == EINTR);
	if (rc == 0)
		return 0;
	if (errno == ETIMEDOUT)
		return HC_ERR_TIMEOUT;
	return -errno;
}

int hc_mq_send(mqd_t q, const struct hc_msg_hdr *h, const void *payload,
	       int timeout_ms)
{
	char buf[HC_MQ_MSGSIZE];

	if (h->len > HC_MQ_PAYLOAD_MAX)
		return HC_ERR_TOOBIG;
	memcpy(buf, h, sizeof(*h));
	if (h->len)
		memcpy(buf + sizeof(*h), payload, h->len);
	return mq_send_raw(q, buf, sizeof(*h) + h->len, timeout_ms);
}

int hc_mq_recv(mqd_t q, char *buf, int timeout_ms, struct hc_msg_hdr **hdr,
	       const char **payload)
{
	struct hc_msg_hdr *h;
	struct timespec ts;
	ssize_t n;

	if (timeout_ms < 0) {
		n = mq_receive(q, buf, HC_MQ_MSGSIZE, NULL);
	} else {
		deadline(&ts, timeout_ms);
		n = mq_timedreceive(q, buf, HC_MQ_MSGSIZE, NULL, &ts);
	}
	if (n < 0) {
		if (errno == ETIMEDOUT)
			return HC_ERR_TIMEOUT;
		return -errno;
	}
	h = (struct hc_msg_hdr *)buf;
	if ((size_t)n < sizeof(*h) || h->magic != HC_MSG_MAGIC ||
	    h->version != HC_MSG_VERSION || sizeof(*h) + h->len != (size_t)n)
		return HC_ERR_PROTO;
	*hdr = h;
	*payload = buf + sizeof(*h);
	return 0;
}

void hc_mq_writer_init(struct hc_mq_writer *w, mqd_t q, int64_t ts_ms,
		       int timeout_ms)
{
	static uint32_t counter;

	w->q = q;
	w->type = HC_MSG_BATCH_CHUNK;
	w->stream = ((uint32_t)getpid() << 12) ^ ++counter;
	w->seq = 0;
	w->ts_ms = ts_ms;
	w->timeout_ms = timeout_ms;
	w->used = 0;
	w->bytes = 0;
}

static int writer_flush(struct hc_mq_writer *w, uint16_t flags)
{
	struct hc_msg_hdr h = {
		.magic = HC_MSG_MAGIC, .version = HC_MSG_VERSION,
		.type = w->type, .flags = flags, .stream = w->stream,
		.seq = w->seq, .len = (uint32_t)w->used, .ts_ms = w->ts_ms,
	};
	int rc;

	if (w->seq == 0)
		h.flags |= HC_MSG_FIRST;
	/* the payload already sits after room for the header: no copy */
	memcpy(w->buf, &h, sizeof(h));
	rc = mq_send_raw(w->q, w->buf, sizeof(h) + w->used, w->timeout_ms);
	if (rc != 0)
		return rc;
	w->seq++;
	w->bytes += w->used;
	w->used = 0;
	return 0;
}

int hc_mq_writer_write(void *ctx, const char *data, size_t len)
{
	struct hc_mq_writer *w = ctx;
	int rc;

	while (len > 0) {
		size_t room = HC_MQ_PAYLOAD_MAX - w->used;
		size_t n = len < room ? len : room;

		memcpy(w->buf + sizeof(struct hc_msg_hdr) + w->used, data, n);
		w->used += n;
		data += n;
		len -= n;
		if (w->used == HC_MQ_PAYLOAD_MAX) {
			rc = writer_flush(w, 0);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

int hc_mq_writer_finish(struct hc_mq_writer *w)
{
	return writer_flush(w, HC_MSG_LAST);
}
