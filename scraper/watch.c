/*
 * watch.c - the scraper's watch streams: nodes, namespaces and pods kept
 * up to date between full listings (see kube.c for when they list).
 *
 * Design.  Each resource has one struct scr_watch: a long-lived
 * `?watch=1&resourceVersion=RV&allowWatchBookmarks=true` request on its own
 * easy handle, all of them in one libcurl multi handle of their own
 * (s->wmulti), separate from the kubelet scrapes and from the blocking
 * listings.  The process pumps that handle whenever it would otherwise
 * sleep (main.c waits in scr_watch_pump() between rounds) and once at the
 * start of each round, so events are applied as they come, not in a burst
 * at the round: a round only reads tables that are already current.
 *
 * A stream's bytes go through scr_watch_feed(), which cuts them into lines
 * (one event per line, a line may span many writes; the incomplete tail
 * waits in w->pending) and hands each line to the resource's apply
 * function (kmeta.c, nodes.c), which updates the table and gives the
 * event's resourceVersion; the stream resumes from the last one applied.
 *
 * How a stream ends decides what happens next:
 *   - the API server ends it (timeoutSeconds, SCR_WATCH_TIMEOUT_S plus
 *     jitter) or the connection breaks after a 200: resumed at once from
 *     the last resourceVersion, no listing;
 *   - 410 Gone as the HTTP status, or an ERROR event (410 Expired, ...), or
 *     a line that does not parse: `expired`, the next round lists again;
 *   - no answer or another status (API server down, 401, 403): `broken`,
 *     the next round lists again (which tells whether the server is back).
 * A stream that ended within a second of starting is not resumed at once
 * (a server ending every watch at once would make a loop): the next round
 * starts it again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "hc.h"
#include "log.h"
#include "scraper.h"

#define SCR_WATCH_TIMEOUT_S 300          /* timeoutSeconds, plus up to as much jitter */
#define SCR_WATCH_LINE_MAX  (64u << 20)  /* one event longer than this fails the stream */

void scr_watch_init(struct scr_watch *w, const char *what, scr_event_fn apply, void *ctx)
{
	memset(w, 0, sizeof(*w));
	w->what = what;
	w->apply = apply;
	w->ctx = ctx;
}

void scr_watch_free(struct scr_scraper *s, struct scr_watch *w)
{
	scr_watch_stop(s, w);
	if (w->easy != NULL)
		curl_easy_cleanup(w->easy);
	free(w->pending.p);
	w->easy = NULL;
	w->pending.p = NULL;
	w->pending.len = w->pending.cap = 0;
}

/* Appends n bytes to the pending line.  0 or HC_ERR_TOOBIG / -ENOMEM. */
static int pending_add(struct scr_buf *b, const char *data, size_t n)
{
	if (b->len + n > SCR_WATCH_LINE_MAX)
		return HC_ERR_TOOBIG;
	if (b->len + n > b->cap) {
		size_t ncap = b->cap ? b->cap : 64 * 1024;
		char *p;

		while (ncap < b->len + n)
			ncap *= 2;
		p = realloc(b->p, ncap);
		if (p == NULL)
			return -ENOMEM;
		b->p = p;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	return 0;
}

/* One complete line (without its '\n'): blank lines are keep-alives. */
static int feed_line(struct scr_watch *w, const char *line, size_t len)
{
	char rv[SCR_RV_MAX] = "";
	int rc;

	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' '))
		len--;
	while (len > 0 && (*line == ' ' || *line == '\t'))
		line++, len--;
	if (len == 0)
		return 0;
	rc = w->apply(w->ctx, line, len, rv);
	if (rc < 0)
		return rc;
	if (rv[0] != '\0')
		memcpy(w->rv, rv, sizeof(w->rv));
	w->events += rc == 0;
	w->events_total += rc == 0;
	return 0;
}

int scr_watch_feed(struct scr_watch *w, const char *data, size_t n)
{
	const char *p = data, *end = data + n;
	int rc;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (nl == NULL)
			return pending_add(&w->pending, p, (size_t)(end - p));
		if (w->pending.len > 0) {
			rc = pending_add(&w->pending, p, (size_t)(nl - p));
			if (rc == 0)
				rc = feed_line(w, w->pending.p, w->pending.len);
			w->pending.len = 0;
		} else {
			rc = feed_line(w, p, (size_t)(nl - p));
		}
		if (rc != 0)
			return rc;
		p = nl + 1;
	}
	return 0;
}

/* libcurl's write callback: the body of a 200 is fed, another one dropped. */
static size_t watch_body_cb(char *data, size_t size, size_t nmemb, void *ud)
{
	struct scr_watch *w = ud;
	size_t n = size * nmemb;
	int rc;

	if (w->status == 0)
		curl_easy_getinfo(w->easy, CURLINFO_RESPONSE_CODE, &w->status);
	if (w->status != 200)
		return n;       /* a Status object: the code says enough */
	rc = scr_watch_feed(w, data, n);
	if (rc != 0) {
		w->end_rc = rc;
		return 0;       /* aborts the transfer */
	}
	return n;
}

/* The easy handle of a stream, made once. */
static int watch_handle(struct scr_scraper *s, struct scr_watch *w)
{
	CURL *h;

	if (w->easy != NULL)
		return 0;
	w->easy = h = curl_easy_init();
	if (h == NULL)
		return -ENOMEM;
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, watch_body_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, w);
	curl_easy_setopt(h, CURLOPT_PRIVATE, w);
	/* the server ends the watch; this only catches one that never does */
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(2 * SCR_WATCH_TIMEOUT_S + 60) * 1000L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_USERAGENT, "heapster-c/scraper");
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 30L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 10L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, w->err);
	scr_creds_apply_api(&s->creds, h);
	return 0;
}

int scr_watch_start(struct scr_scraper *s, struct scr_watch *w)
{
	char url[sizeof(s->cfg->api_url) + sizeof(w->path) + SCR_RV_MAX * 3 + 160];
	char *esc;
	int rc, n;

	scr_watch_stop(s, w);
	rc = watch_handle(s, w);
	if (rc != 0)
		return rc;
	esc = curl_easy_escape(w->easy, w->rv, 0);
	if (esc == NULL)
		return -ENOMEM;
	/* jitter: the streams of many scrapers do not all end together */
	n = snprintf(url, sizeof(url), "%s%s%cwatch=1&resourceVersion=%s&allowWatchBookmarks=true"
		     "&timeoutSeconds=%d", s->cfg->api_url, w->path, strchr(w->path, '?') ? '&' : '?',
		     esc, SCR_WATCH_TIMEOUT_S + (int)(hc_mono_ms() % SCR_WATCH_TIMEOUT_S));
	curl_free(esc);
	if (n < 0 || (size_t)n >= sizeof(url))
		return HC_ERR_TOOBIG;
	curl_easy_setopt(w->easy, CURLOPT_URL, url);
	w->status = 0;
	w->end_rc = 0;
	w->err[0] = '\0';
	w->pending.len = 0;
	w->started_mono = hc_mono_ms();
	if (curl_multi_add_handle(s->wmulti, w->easy) != CURLM_OK)
		return -ENOMEM;
	w->running = 1;
	return 0;
}

void scr_watch_stop(struct scr_scraper *s, struct scr_watch *w)
{
	if (w->running)
		curl_multi_remove_handle(s->wmulti, w->easy);
	w->running = 0;
	w->pending.len = 0;
}

/* A stream is over: decide between resuming now and listing next round. */
static void watch_ended(struct scr_scraper *s, struct scr_watch *w, CURLcode cc)
{
	int64_t ran = hc_mono_ms() - w->started_mono;
	long status = 0;

	curl_easy_getinfo(w->easy, CURLINFO_RESPONSE_CODE, &status);
	scr_watch_stop(s, w);
	if (w->end_rc == HC_ERR_PROTO || status == 410) {
		if (status == 410)
			hc_info("%s watch: HTTP 410 Gone: listing again next round", w->what);
		w->expired = 1;
		return;
	}
	if (w->end_rc != 0) {
		hc_warn("%s watch: %s: listing again next round", w->what, hc_strerror(w->end_rc));
		w->expired = 1;
		return;
	}
	if (status != 200) {
		if (status == 0)
			hc_warn("%s watch: API server %s: %s%s%s: listing again next round", w->what,
				s->cfg->api_url, curl_easy_strerror(cc), w->err[0] ? ": " : "", w->err);
		else
			hc_warn("%s watch: API server %s: HTTP %ld%s: listing again next round",
				w->what, s->cfg->api_url, status,
				status == 401 ? " (not authenticated: check the token)" :
				status == 403 ? " (forbidden: RBAC watch)" : "");
		w->broken = 1;
		return;
	}
	if (cc != CURLE_OK)
		hc_info("%s watch broken after %lld s (%s): resuming from resourceVersion %s",
			w->what, (long long)(ran / 1000), curl_easy_strerror(cc), w->rv);
	if (ran < 1000)
		return;         /* started again by the next round */
	w->resumes++;
	if (scr_watch_start(s, w) != 0)
		w->broken = 1;
}

void scr_watch_pump(struct scr_scraper *s, int wait_ms)
{
	CURLMsg *msg;
	int running, left;

	if (s->wmulti == NULL)
		return;
	if (wait_ms > 0)
		curl_multi_poll(s->wmulti, NULL, 0, wait_ms, NULL);
	curl_multi_perform(s->wmulti, &running);
	while ((msg = curl_multi_info_read(s->wmulti, &left)) != NULL) {
		struct scr_watch *w;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&w);
		watch_ended(s, w, msg->data.result);
	}
}
