/*
 * http.c - chunk POSTs through one curl multi handle (see http.h).
 *
 * The transfer slots (one easy handle each) are created on the first send,
 * so that init() of a sink stays free of network state.  A slot takes the
 * next chunk not yet done as soon as it is free; its answer is kept up to
 * 2 KiB for the judge and for log lines, which are rate limited (an
 * unreachable peer would otherwise log once per chunk per retry).
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hc.h"
#include "http.h"
#include "log.h"

#define HTTP_RESP_MAX 2048
#define HTTP_CONNECT_TIMEOUT_MS 5000
#define HTTP_TIMEOUT_MS 60000

struct http_xfer {
	CURL     *easy;
	uint32_t  chunk;
	int       busy;
	size_t    resp_len;
	char      resp[HTTP_RESP_MAX + 1];
};

struct exp_http {
	char               *what, *url, *user, *pw;
	struct curl_slist  *hdrs;
	int                 insecure, concurrency;
	exp_http_judge_fn   judge;
	CURLM              *multi;
	struct http_xfer   *xf;
	struct hc_ratelimit rl;
	int                 last_err;
};

static char *dup_or_null(const char *s, int *failed)
{
	char *d;

	if (s == NULL)
		return NULL;
	d = strdup(s);
	if (d == NULL)
		*failed = 1;
	return d;
}

int exp_http_open(const struct exp_http_opts *o, struct exp_http **out)
{
	struct exp_http *h;
	int failed = 0;

	if (o->url == NULL || o->judge == NULL || o->concurrency < 1)
		return HC_ERR_CONFIG;
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return -ENOMEM;
	h->what = dup_or_null(o->what ? o->what : "http sink", &failed);
	h->url = dup_or_null(o->url, &failed);
	if (o->user != NULL && o->user[0] != '\0') {
		h->user = dup_or_null(o->user, &failed);
		h->pw = dup_or_null(o->pw ? o->pw : "", &failed);
	}
	for (const char *const *p = o->headers; p != NULL && *p != NULL && !failed; p++) {
		struct curl_slist *l = curl_slist_append(h->hdrs, *p);

		if (l == NULL)
			failed = 1;
		else
			h->hdrs = l;
	}
	if (!failed) {
		struct curl_slist *l = curl_slist_append(h->hdrs, "Expect:");

		if (l == NULL)
			failed = 1;
		else
			h->hdrs = l;
	}
	if (failed) {
		exp_http_close(h);
		return -ENOMEM;
	}
	h->insecure = o->insecure;
	h->concurrency = o->concurrency;
	h->judge = o->judge;
	h->rl = (struct hc_ratelimit)HC_RATELIMIT_INIT(60000, 10);
	*out = h;
	return 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct http_xfer *x = arg;
	size_t n = size * nmemb, room = HTTP_RESP_MAX - x->resp_len;

	if (n < room)
		room = n;
	memcpy(x->resp + x->resp_len, data, room);
	x->resp_len += room;
	x->resp[x->resp_len] = '\0';
	return n;
}

/* Creates the transfer slots on first use. */
static int transport_open(struct exp_http *h)
{
	if (h->multi != NULL)
		return 0;
	h->xf = calloc((size_t)h->concurrency, sizeof(*h->xf));
	if (h->xf == NULL)
		return -ENOMEM;
	h->multi = curl_multi_init();
	if (h->multi == NULL)
		return -ENOMEM;
	for (int i = 0; i < h->concurrency; i++) {
		CURL *e = curl_easy_init();

		if (e == NULL)
			return -ENOMEM;
		h->xf[i].easy = e;
		curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)HTTP_CONNECT_TIMEOUT_MS);
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)HTTP_TIMEOUT_MS);
		curl_easy_setopt(e, CURLOPT_USERAGENT, "heapster-c");
		curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
		curl_easy_setopt(e, CURLOPT_URL, h->url);
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, h->hdrs);
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(e, CURLOPT_WRITEDATA, &h->xf[i]);
		curl_easy_setopt(e, CURLOPT_PRIVATE, &h->xf[i]);
		if (h->user != NULL) {
			curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
			curl_easy_setopt(e, CURLOPT_USERNAME, h->user);
			curl_easy_setopt(e, CURLOPT_PASSWORD, h->pw);
		}
		if (h->insecure) {
			curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
			curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
		}
	}
	return 0;
}

/* Judges one finished transfer; 1 when the chunk must be retried. */
static int finish_xfer(struct exp_http *h, struct exp_out *out,
		       struct http_xfer *x, CURLcode cc)
{
	uint32_t points = out->chunk_points[x->chunk];
	uint64_t dropped = 0;
	long status = 0;

	if (cc != CURLE_OK) {
		if (hc_ratelimit_ok(&h->rl))
			hc_warn("%s: POST %s: %s", h->what, h->url, curl_easy_strerror(cc));
		h->last_err = cc == CURLE_COULDNT_CONNECT ? -ECONNREFUSED :
			      cc == CURLE_OPERATION_TIMEDOUT ? HC_ERR_TIMEOUT : -EIO;
		return 1;
	}
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	switch (h->judge(status, x->resp, points, &dropped)) {
	case EXP_HTTP_OK:
		out->chunk_done[x->chunk] = 1;
		if (dropped > 0) {
			out->dropped += dropped;
			if (hc_ratelimit_ok(&h->rl))
				hc_warn("%s: %llu of %u points refused: HTTP %ld %s", h->what,
					(unsigned long long)dropped, points, status, x->resp);
		}
		return 0;
	case EXP_HTTP_REJECTED:
		out->chunk_done[x->chunk] = 1;
		out->dropped += points;
		if (hc_ratelimit_ok(&h->rl))
			hc_error("%s: HTTP %ld, %u points lost: %s", h->what, status,
				 points, x->resp);
		return 0;
	case EXP_HTTP_RETRY:
		break;
	}
	h->last_err = HC_ERR_HTTP;
	if (hc_ratelimit_ok(&h->rl))
		hc_warn("%s: HTTP %ld: %s", h->what, status, x->resp);
	return 1;
}

static void abort_transfers(struct exp_http *h)
{
	for (int i = 0; i < h->concurrency; i++) {
		if (h->xf[i].busy) {
			curl_multi_remove_handle(h->multi, h->xf[i].easy);
			h->xf[i].busy = 0;
		}
	}
}

int exp_http_send(struct exp_http *h, struct exp_out *out)
{
	uint32_t next = 0, failed = 0;
	int active = 0, running, rc;
	CURLMsg *msg;

	rc = transport_open(h);
	if (rc != 0)
		return rc;
	for (;;) {
		for (int i = 0; i < h->concurrency && next < out->nchunks; i++) {
			struct http_xfer *x = &h->xf[i];
			size_t off;

			if (x->busy)
				continue;
			while (next < out->nchunks && out->chunk_done[next])
				next++;
			if (next == out->nchunks)
				break;
			off = exp_out_chunk_start(out, next);
			x->chunk = next++;
			x->resp_len = 0;
			x->resp[0] = '\0';
			curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, out->buf.data + off);
			curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE,
					 (curl_off_t)(out->chunk_end[x->chunk] - off));
			if (curl_multi_add_handle(h->multi, x->easy) != CURLM_OK)
				goto abort;
			x->busy = 1;
			active++;
		}
		if (active == 0)
			break;
		if (curl_multi_perform(h->multi, &running) != CURLM_OK)
			goto abort;
		while ((msg = curl_multi_info_read(h->multi, &running)) != NULL) {
			struct http_xfer *x;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
			failed += (uint32_t)finish_xfer(h, out, x, msg->data.result);
			curl_multi_remove_handle(h->multi, x->easy);
			x->busy = 0;
			active--;
		}
		if (active > 0 && curl_multi_poll(h->multi, NULL, 0, 1000, NULL) != CURLM_OK)
			goto abort;
	}
	return failed ? h->last_err : 0;

abort:
	abort_transfers(h);
	return HC_ERR_SINK;
}

void exp_http_close(struct exp_http *h)
{
	if (h == NULL)
		return;
	if (h->xf != NULL) {
		for (int i = 0; i < h->concurrency; i++) {
			if (h->xf[i].easy == NULL)
				continue;
			if (h->xf[i].busy)
				curl_multi_remove_handle(h->multi, h->xf[i].easy);
			curl_easy_cleanup(h->xf[i].easy);
		}
		free(h->xf);
	}
	if (h->multi != NULL)
		curl_multi_cleanup(h->multi);
	curl_slist_free_all(h->hdrs);
	free(h->what);
	free(h->url);
	free(h->user);
	free(h->pw);
	free(h);
}
