/*
 * mq.h - typed messages over POSIX message queues.
 *
 * Every message starts with struct hc_msg_hdr: a magic, a version and a
 * type, so a reader can reject what it does not understand.  Queues are
 * opened with the kernel's default limits (10 messages of at most 8 KiB,
 * see PLATFORM.md): a batch crosses a queue as a *stream* of chunks
 * (HC_MSG_BATCH_CHUNK, FIRST ... LAST), and a batch already in the store
 * crosses as a *handle* (HC_MSG_BATCH_STORED carrying its timestamp).
 *
 * Queue names are "/heapster-<instance>-<role>", so that two pipelines on
 * one machine (tests in parallel, two pods sharing an IPC namespace) do not
 * meet.  Queues persist until hc_mq_unlink(); the launcher owns them.
 *
 * A message taken by a process that then dies is lost.  That is why data
 * that must survive a consumer's crash goes through the store, and queues
 * after the processor carry only handles.
 */
#ifndef HC_MQ_H
#define HC_MQ_H

#include <mqueue.h>
#include <stdint.h>

#define HC_MQ_MSGSIZE   8192
#define HC_MQ_MAXMSG    10
#define HC_MSG_MAGIC    0x51434848u    /* "HHCQ" little-endian */
#define HC_MSG_VERSION  1

enum hc_msg_type {
	HC_MSG_BATCH_CHUNK  = 1,   /* scraper -> processor: a piece of a batch stream */
	HC_MSG_BATCH_STORED = 2,   /* processor -> exporter: batch ts_ms is in the store */
	HC_MSG_META_CHUNK   = 3,   /* scraper -> processor: a piece of a metadata batch (meta.h) */
};

#define HC_MSG_FIRST 0x1
#define HC_MSG_LAST  0x2

struct hc_msg_hdr {
	uint32_t magic;
	uint8_t  version;
	uint8_t  type;       /* enum hc_msg_type */
	uint16_t flags;      /* HC_MSG_FIRST, HC_MSG_LAST */
	uint32_t stream;     /* stream id, unique per sender and batch */
	uint32_t seq;        /* chunk number in the stream, from 0 */
	uint32_t len;        /* payload bytes after this header */
	uint32_t reserved;
	int64_t  ts_ms;      /* the batch's timestamp */
};

#define HC_MQ_PAYLOAD_MAX (HC_MQ_MSGSIZE - sizeof(struct hc_msg_hdr))

#define HC_MQ_READ     0x1
#define HC_MQ_WRITE    0x2
#define HC_MQ_CREATE   0x4
#define HC_MQ_NONBLOCK 0x8

/* "/heapster-<instance>-<role>" into buf (size >= 64). */
void hc_mq_name(char *buf, size_t size, const char *instance, const char *role);

/*
 * Opens (and with HC_MQ_CREATE creates, mode 0600) a queue of HC_MQ_MAXMSG
 * messages of `msgsize` bytes (0: HC_MQ_MSGSIZE).  0 or -errno.
 */
int hc_mq_open(const char *name, int flags, long msgsize, mqd_t *out);
int hc_mq_unlink(const char *name);

/*
 * Sends one message.  timeout_ms < 0 waits forever, 0 does not wait
 * (-EAGAIN when full), > 0 waits that long (HC_ERR_TIMEOUT).
 */
int hc_mq_send(mqd_t q, const struct hc_msg_hdr *h, const void *payload,
	       int timeout_ms);

/*
 * Receives one message into buf (HC_MQ_MSGSIZE bytes) and checks its header:
 * 0, -EAGAIN (nothing within timeout), HC_ERR_TIMEOUT, or HC_ERR_PROTO for
 * a message that is not ours (the caller logs and goes on).
 */
int hc_mq_recv(mqd_t q, char *buf, int timeout_ms, struct hc_msg_hdr **hdr,
	       const char **payload);

/*
 * A stream writer: an hc_write_fn target that cuts bytes into
 * HC_MSG_BATCH_CHUNK messages.  Each chunk waits at most timeout_ms for
 * room in the queue, so a dead reader costs the writer a bounded time.
 */
struct hc_mq_writer {
	mqd_t    q;
	uint8_t  type;        /* HC_MSG_BATCH_CHUNK (default) or HC_MSG_META_CHUNK */
	uint32_t stream;
	uint32_t seq;
	int64_t  ts_ms;
	int      timeout_ms;
	size_t   used;
	uint64_t bytes;
	char     buf[HC_MQ_MSGSIZE];   /* header, then `used` payload bytes */
};

void hc_mq_writer_init(struct hc_mq_writer *w, mqd_t q, int64_t ts_ms,
		       int timeout_ms);
int  hc_mq_writer_write(void *w, const char *data, size_t len);  /* hc_write_fn */
/* Sends the last chunk (flag LAST).  0 or a negative code. */
int  hc_mq_writer_finish(struct hc_mq_writer *w);

#endif
