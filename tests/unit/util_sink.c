/*
 * util_sink.c - fixtures shared by the sink unit tests; see util_sink.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hc.h"
#include "metrics.h"
#include "sink.h"
#include "uri.h"
#include "util_sink.h"

void ut_assert_text(const char *got, const char *want)
{
	size_t i = 0;

	while (got[i] && got[i] == want[i])
		i++;
	if (got[i] == want[i])
		return;
	fprintf(stderr, "texts differ at byte %zu:\n got: %.160s\nwant: %.160s\n", i,
		got + (i > 60 ? i - 60 : 0), want + (i > 60 ? i - 60 : 0));
	fail();
}

void *ut_sink_new(const struct exp_sink_ops *ops, const char *spec)
{
	struct hc_uri u;
	void *s = NULL;

	assert_int_equal(hc_uri_parse(spec, &u), 0);
	assert_int_equal(ops->init(&u, &s), 0);
	assert_non_null(s);
	return s;
}

int ut_sink_init_rc(const struct exp_sink_ops *ops, const char *spec)
{
	struct hc_uri u;
	void *s = NULL;
	int rc;

	assert_int_equal(hc_uri_parse(spec, &u), 0);
	rc = ops->init(&u, &s);
	ops->close(s);
	return rc;
}

char *ut_format_all(const struct exp_sink_ops *ops, const char *spec,
		    const struct hc_batch *b, struct exp_out *out, int *windows)
{
	void *s = ut_sink_new(ops, spec);
	struct exp_buf all;
	uint32_t pos = 0;
	int w = 0;

	exp_buf_init(&all);
	do {
		uint32_t before = pos;

		exp_out_reset(out);
		assert_int_equal(ops->format(s, b, &pos, out), 0);
		assert_true(pos > before || pos == b->nvals);
		assert_int_equal(exp_buf_append(&all, out->buf.data, out->buf.len), 0);
		w++;
	} while (pos < b->nvals);
	assert_int_equal(exp_buf_append(&all, "", 1), 0);
	ops->close(s);
	if (windows)
		*windows = w;
	return all.data;
}

uint32_t ut_format_window(const struct exp_sink_ops *ops, void *s,
			  const struct hc_batch *b, struct exp_out *out)
{
	uint32_t pos = 0;

	exp_out_reset(out);
	assert_int_equal(ops->format(s, b, &pos, out), 0);
	return pos;
}

uint32_t ut_add_set(struct hc_batch *b, const char *key)
{
	uint32_t idx;

	assert_int_equal(hc_batch_set(b, key, strlen(key), &idx, NULL), 0);
	return idx;
}

void ut_label(struct hc_batch *b, uint32_t set, const char *k, const char *v)
{
	assert_int_equal(hc_batch_label(b, set, k, v), 0);
}

uint32_t ut_custom_name(struct hc_batch *b, const char *name)
{
	uint32_t id;

	assert_int_equal(hc_batch_name(b, name, strlen(name), HC_GAUGE, &id), 0);
	return id;
}

uint32_t ut_count_lines(const char *p, size_t n)
{
	uint32_t lines = 0;

	for (size_t i = 0; i < n; i++)
		lines += p[i] == '\n';
	return lines;
}

/* ---- a scripted HTTP server on loopback -------------------------------- */

/* Reads one request (headers, then Content-Length bytes of body). */
static int fake_read(int c, struct ut_fake_req *r)
{
	size_t cap = 1 << 16, len = 0, want = 0, hlen = 0;
	char *buf = malloc(cap), *p;

	if (buf == NULL)
		return -1;
	for (;;) {
		ssize_t n;

		if (len + 1 >= cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			if (buf == NULL)
				return -1;
		}
		n = read(c, buf + len, cap - len - 1);
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		if (hlen == 0 && (p = strstr(buf, "\r\n\r\n")) != NULL) {
			char *cl = strcasestr(buf, "\r\ncontent-length:");

			hlen = (size_t)(p - buf) + 4;
			want = cl && cl < p ? strtoul(cl + 17, NULL, 10) : 0;
		}
		if (hlen && len >= hlen + want)
			break;
	}
	if (hlen == 0) {
		free(buf);
		return -1;
	}
	snprintf(r->head, sizeof(r->head), "%.*s", (int)hlen, buf);
	p = strstr(buf, "\r\n");
	snprintf(r->line, sizeof(r->line), "%.*s", (int)(p - buf), buf);
	p = strcasestr(buf, "\r\nauthorization: ");
	r->auth[0] = '\0';
	if (p != NULL && p < buf + hlen)
		snprintf(r->auth, sizeof(r->auth), "%.*s",
			 (int)strcspn(p + 17, "\r"), p + 17);
	r->body = malloc(want + 1);
	memcpy(r->body, buf + hlen, want);
	r->body[want] = '\0';
	r->body_len = want;
	free(buf);
	return 0;
}

static void *fake_main(void *arg)
{
	struct ut_fake_srv *f = arg;

	while (!f->stop) {
		struct pollfd pfd = { f->fd, POLLIN, 0 };
		char resp[1024], ctype[128] = "";
		int c, status, n;
		const char *body;

		if (poll(&pfd, 1, 50) <= 0)
			continue;
		c = accept(f->fd, NULL, NULL);
		if (c < 0)
			continue;
		pthread_mutex_lock(&f->mu);
		if (f->nreq < UT_FAKE_MAX && fake_read(c, &f->req[f->nreq]) == 0) {
			f->nreq++;
			status = f->next < f->nscript ? f->status[f->next] : 500;
			body = f->next < f->nscript ? f->reply[f->next] : f->unscripted;
			f->next++;
			pthread_mutex_unlock(&f->mu);
			if (f->content_type != NULL)
				snprintf(ctype, sizeof(ctype), "Content-Type: %s\r\n",
					 f->content_type);
			n = snprintf(resp, sizeof(resp),
				     "HTTP/1.1 %d X\r\n%sContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
				     status, ctype, strlen(body), body);
			if (write(c, resp, (size_t)n) < 0) {
				/* the client went away: nothing to do */
			}
		} else {
			pthread_mutex_unlock(&f->mu);
		}
		close(c);
	}
	return NULL;
}

void ut_fake_start(struct ut_fake_srv *f, const char *content_type,
		   const char *unscripted)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof(a);
	int one = 1;

	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->mu, NULL);
	f->content_type = content_type;
	f->unscripted = unscripted;
	f->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(f->fd >= 0);
	setsockopt(f->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(f->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(f->fd, 16), 0);
	assert_int_equal(getsockname(f->fd, (struct sockaddr *)&a, &al), 0);
	f->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&f->th, NULL, fake_main, f), 0);
}

void ut_fake_script(struct ut_fake_srv *f, int status, const char *body)
{
	pthread_mutex_lock(&f->mu);
	f->status[f->nscript] = status;
	f->reply[f->nscript] = body;
	f->nscript++;
	pthread_mutex_unlock(&f->mu);
}

void ut_fake_stop(struct ut_fake_srv *f)
{
	f->stop = 1;
	pthread_join(f->th, NULL);
	close(f->fd);
	for (int i = 0; i < f->nreq; i++)
		free(f->req[i].body);
	pthread_mutex_destroy(&f->mu);
}

void *ut_fake_sink(const struct exp_sink_ops *ops, const struct ut_fake_srv *f,
		   const char *scheme, const char *path, const char *opts)
{
	char spec[256];

	snprintf(spec, sizeof(spec), "%s:http://127.0.0.1:%d%s%s", scheme, f->port, path, opts);
	return ut_sink_new(ops, spec);
}

uint32_t ut_add_dns_container(struct hc_batch *b)
{
	uint32_t s = ut_add_set(b, "namespace:kube-system/pod:dns-1/container:dns");

	ut_label(b, s, HC_L_TYPE, HC_TYPE_POD_CONTAINER);
	ut_label(b, s, HC_L_NAMESPACE_NAME, "kube-system");
	ut_label(b, s, HC_L_NAMESPACE_ID, "ns-uid");
	ut_label(b, s, HC_L_POD_NAME, "dns-1");
	ut_label(b, s, HC_L_POD_ID, "pod-uid");
	ut_label(b, s, HC_L_CONTAINER_NAME, "dns");
	ut_label(b, s, HC_L_CONTAINER_IMAGE, "");
	ut_label(b, s, HC_L_LABELS, "app:dns,tier:web");
	ut_label(b, s, HC_L_NODENAME, "node-1");
	ut_label(b, s, HC_L_HOSTNAME, "node-1.example");
	ut_label(b, s, HC_L_HOST_ID, "i-123");
	return s;
}
