/*
 * scrape.c - one resolution of the scraper: sync the node list, then fetch every
 * Ready node's /stats/summary/ (or /metrics/resource with the kind
 * kubernetes.resource_metrics) concurrently and parse each body as soon as
 * it is complete.
 *
 * Design.  SCR_MULTIS libcurl multi handles drive the kubelet transfers,
 * each node's always through the same one, with libcurl's socket API on
 * one epoll instance: only the transfers whose sockets are ready (or whose
 * timers are due) run, so a loop turn costs what happened, not the number
 * in flight (curl_multi_perform() and curl_multi_poll() visit every
 * transfer each turn).  Several multi handles rather than one because
 * libcurl 7.88 walks its whole connection cache each time a transfer
 * leaves a multi handle (curl_multi_remove_handle(), looking for
 * "connect-only" connections): one cache of 5,000 connections made that
 * 25 M steps a round, 13 % of the scraper's CPU; split SCR_MULTIS ways it
 * is negligible.  libcurl's DNS cache is off for the same reason (pruning
 * it walked every entry per finished transfer; node addresses are IP
 * literals anyway).  Each node has a struct scr_target holding an easy
 * handle configured once (URL, timeouts, callbacks) and reused every
 * resolution, so its keep-alive connection, kept in its multi handle's
 * connection cache, is reused too.  At most max_inflight transfers run at
 * once (file descriptors and memory bound this, not the cluster size): the
 * rest wait in a queue and are admitted as others finish; a node that cannot start
 * within resolution/2 of the round's start is failed (Heapster skipped
 * scrapes that could not start in time).  Each transfer has the whole
 * per-node deadline (--kubelet_timeout) as CURLOPT_TIMEOUT_MS.
 *
 * Bodies land in buffers taken from a pool when a transfer is admitted and
 * returned when it completes (the pool keeps POOL_KEEP_N of them): memory
 * follows concurrency, and idles at a few MB between rounds.  The write
 * callback refuses to grow a body past SCR_MAX_BODY (a 1 GB answer is cut
 * off, not buffered).  A completed body is parsed at once, into the batch
 * (scr_summary_parse leaves the batch unchanged when a body is bad), while
 * the other transfers wait in their sockets.
 *
 * A failed node (connect error, timeout, HTTP status != 200, bad body)
 * contributes no set, counts in b->nodes_failed and in its own counters,
 * and is logged through a rate limit.
 *
 * Node list (kube.c): the node table kept by watch (or listed every round
 * with --metadata_watch=false: GET {api}/api/v1/nodes?limit=500, following
 * metadata.continue).  A failed listing keeps the previous targets (the API
 * server may be down while the kubelets are fine).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "hc.h"
#include "log.h"
#include "prom.h"
#include "scraper.h"
#include "resource.h"
#include "summary.h"

#define POOL_KEEP_MAX  (4u << 20)   /* larger body buffers are freed, not pooled */
#define POOL_KEEP_N    64           /* buffers kept between transfers */

/* One node to scrape, kept across resolutions. */
struct scr_target {
	struct scr_node  node;          /* the latest listing of the node */
	CURL            *easy;
	char             url[128];
	struct scr_buf   body;          /* from the pool while in flight */
	size_t           max_body;
	int              too_big;       /* the write callback refused the body */
	int              nomem;
	int              listed;        /* in the current node list */
	int              inflight;      /* added to its multi handle */
	int              mi;            /* which multi handle (s->multis[mi]) */
	uint64_t         ok, errors;    /* scrapes over the process' life */
	uint32_t         consecutive;   /* failures in a row */
	uint32_t         fails[SCR_FAIL_N]; /* failures by reason (/metrics) */
	int32_t          last_ms;       /* duration of the last request, -1: none yet */
	int64_t          started_mono;
	char             err[CURL_ERROR_SIZE];
};

static int curl_ready;

/* ---- buffers -------------------------------------------------------------- */

static size_t body_cb(char *data, size_t size, size_t nmemb, void *ud)
{
	struct scr_target *t = ud;
	struct scr_buf *b = &t->body;
	size_t n = size * nmemb;

	if (b->len + n > t->max_body) {
		t->too_big = 1;
		return 0;                   /* curl aborts: CURLE_WRITE_ERROR */
	}
	if (b->len + n + 1 > b->cap) {
		size_t ncap = b->cap ? b->cap : 64 * 1024;
		char *p;

		while (ncap < b->len + n + 1)
			ncap *= 2;
		if (ncap > t->max_body + 1)
			ncap = t->max_body + 1;
		p = realloc(b->p, ncap);
		if (p == NULL) {
			t->nomem = 1;
			return 0;
		}
		b->p = p;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	return n;
}

static void pool_get(struct scr_scraper *s, struct scr_buf *b)
{
	if (s->npool > 0) {
		*b = s->pool[--s->npool];
	} else {
		b->p = NULL;
		b->cap = 0;
	}
	b->len = 0;
}

static void pool_put(struct scr_scraper *s, struct scr_buf *b)
{
	if (b->p != NULL && b->cap <= POOL_KEEP_MAX && s->npool < POOL_KEEP_N) {
		if (s->npool == s->pool_cap) {
			uint32_t ncap = s->pool_cap ? s->pool_cap * 2 : 16;
			struct scr_buf *p = realloc(s->pool, ncap * sizeof(*p));

			if (p == NULL)
				goto free_buffer;
			s->pool = p;
			s->pool_cap = ncap;
		}
		s->pool[s->npool++] = *b;
		b->p = NULL;
		b->cap = b->len = 0;
		return;
	}
free_buffer:
	free(b->p);
	b->p = NULL;
	b->cap = b->len = 0;
}

/* ---- the multi handles and their epoll instance ---------------------------- */

/*
 * libcurl's socket callback: watch fd for what libcurl wants, on behalf of
 * multi handle mi (in the epoll data next to the descriptor).
 */
static int sock_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct scr_multi *m = userp;
	struct epoll_event ev;

	(void)easy;
	(void)socketp;
	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(m->s->epfd, EPOLL_CTL_DEL, fd, NULL);
		return 0;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
	ev.data.u64 = (uint64_t)m->mi << 32 | (uint32_t)fd;
	if (epoll_ctl(m->s->epfd, EPOLL_CTL_MOD, fd, &ev) != 0 && errno == ENOENT)
		epoll_ctl(m->s->epfd, EPOLL_CTL_ADD, fd, &ev);
	return 0;
}

/* libcurl's timer callback: when multi handle mi wants to be run. */
static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct scr_multi *m = userp;

	(void)multi;
	m->timer_at = timeout_ms < 0 ? -1 : hc_mono_ms() + timeout_ms;
	return 0;
}

static int multis_init(struct scr_scraper *s)
{
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0)
		return -errno;
	for (int i = 0; i < SCR_MULTIS; i++) {
		struct scr_multi *m = &s->multis[i];

		m->s = s;
		m->mi = i;
		m->timer_at = -1;
		m->h = curl_multi_init();
		if (m->h == NULL)
			return -ENOMEM;
		curl_multi_setopt(m->h, CURLMOPT_SOCKETFUNCTION, sock_cb);
		curl_multi_setopt(m->h, CURLMOPT_SOCKETDATA, m);
		curl_multi_setopt(m->h, CURLMOPT_TIMERFUNCTION, timer_cb);
		curl_multi_setopt(m->h, CURLMOPT_TIMERDATA, m);
	}
	return 0;
}

static void multis_free(struct scr_scraper *s)
{
	for (int i = 0; i < SCR_MULTIS; i++) {
		if (s->multis[i].h != NULL)
			curl_multi_cleanup(s->multis[i].h);
		s->multis[i].h = NULL;
	}
	if (s->epfd >= 0)
		close(s->epfd);
	s->epfd = -1;
}

/* ---- setup ---------------------------------------------------------------- */

int scr_scraper_init(struct scr_scraper *s, const struct scr_config *cfg,
		     volatile sig_atomic_t *stop)
{
	struct rlimit rl;
	int rc;

	memset(s, 0, sizeof(*s));
	s->epfd = -1;
	s->cfg = cfg;
	s->stop = stop;
	s->node_rl = (struct hc_ratelimit)HC_RATELIMIT_INIT(cfg->resolution_ms, 20);
	s->max_inflight = cfg->max_inflight;
	/* every transfer and every kept connection is a descriptor */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		if (rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
			getrlimit(RLIMIT_NOFILE, &rl);
		}
		if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 1u << 30) {
			long budget = (long)rl.rlim_cur - 64;

			if (budget < 16)
				budget = 16;
			if (s->max_inflight > budget) {
				hc_warn("only %ld file descriptors: at most %ld scrapes in flight",
					(long)rl.rlim_cur, budget);
				s->max_inflight = (int)budget;
			}
			s->multi_maxconnects = (int)budget;
		}
	}
	if (s->multi_maxconnects == 0)
		s->multi_maxconnects = 100000;
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_ALL) != 0)
			return -ENOMEM;
		curl_ready = 1;
	}
	rc = scr_creds_load(cfg, &s->creds);
	if (rc != 0) {
		scr_creds_free(&s->creds);
		return rc;
	}
	rc = hc_map_init(&s->by_name, 256);
	if (rc != 0) {
		scr_creds_free(&s->creds);
		return rc;
	}
	scr_nodelist_init(&s->list);
	rc = multis_init(s);
	if (rc != 0)
		goto cleanup_curl;
	rc = scr_api_init(s);
	if (rc != 0)
		goto cleanup_curl;
	return 0;

cleanup_curl:
	scr_api_free(s);
	multis_free(s);
	hc_map_free(&s->by_name);
	scr_nodelist_free(&s->list);
	scr_creds_free(&s->creds);
	return rc;
}

static void target_free(struct scr_target *t)
{
	if (t->easy)
		curl_easy_cleanup(t->easy);
	free(t->body.p);
	free(t);
}

void scr_scraper_free(struct scr_scraper *s)
{
	for (uint32_t i = 0; i < s->ntargets; i++)
		target_free(s->targets[i]);
	free(s->targets);
	for (uint32_t i = 0; i < s->npool; i++)
		free(s->pool[i].p);
	free(s->pool);
	scr_api_free(s);
	multis_free(s);
	hc_map_free(&s->by_name);
	scr_nodelist_free(&s->list);
	scr_creds_free(&s->creds);
	memset(s, 0, sizeof(*s));
}

/* Sets up (or re-points) a target's easy handle for its node's address. */
static int target_configure(struct scr_scraper *s, struct scr_target *t)
{
	const struct scr_config *cfg = s->cfg;
	int port = cfg->kubelet_port;
	long connect_ms = cfg->kubelet_timeout_ms < 5000 ? (long)cfg->kubelet_timeout_ms : 5000;
	const char *ip = t->node.ip;

	if (cfg->use_node_status_port && t->node.kubelet_port > 0)
		port = t->node.kubelet_port;
	/* an IPv6 address needs brackets in a URL */
	snprintf(t->url, sizeof(t->url), strchr(ip, ':') ? "%s://[%s]:%d%s" : "%s://%s:%d%s",
		 cfg->kubelet_https ? "https" : "http", ip, port,
		 cfg->resource_metrics ? "/metrics/resource" : "/stats/summary/");
	if (t->easy == NULL) {
		t->easy = curl_easy_init();
		if (t->easy == NULL)
			return -ENOMEM;
		curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, body_cb);
		curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
		curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t);
		curl_easy_setopt(t->easy, CURLOPT_TIMEOUT_MS, (long)cfg->kubelet_timeout_ms);
		curl_easy_setopt(t->easy, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
		curl_easy_setopt(t->easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)SCR_MAX_BODY);
		curl_easy_setopt(t->easy, CURLOPT_TCP_KEEPALIVE, 1L);
		/*
		 * libcurl's DNS cache is one hash of 7 chains for the whole
		 * multi handle, and every finished transfer walks all of it to
		 * prune: with an entry per node address that is O(nodes) per
		 * node.  Addresses are IP literals: nothing to cache.
		 */
		curl_easy_setopt(t->easy, CURLOPT_DNS_CACHE_TIMEOUT, 0L);
		/* 64 KiB reads instead of 16: a quarter of the recv() calls */
		curl_easy_setopt(t->easy, CURLOPT_BUFFERSIZE, 65536L);
		curl_easy_setopt(t->easy, CURLOPT_USERAGENT, "heapster-c/scraper");
		curl_easy_setopt(t->easy, CURLOPT_ERRORBUFFER, t->err);
		/* protocol, CA, client certificate, bearer token (https only) */
		scr_creds_apply_kubelet(&s->creds, t->easy);
	}
	curl_easy_setopt(t->easy, CURLOPT_URL, t->url);
	t->max_body = SCR_MAX_BODY;
	return 0;
}

/* ---- node targets ------------------------------------------------------------ */

/* Makes the targets follow s->list: new nodes added, gone nodes released. */
static int sync_targets(struct scr_scraper *s)
{
	uint32_t w = 0;
	int rc;

	for (uint32_t i = 0; i < s->ntargets; i++)
		s->targets[i]->listed = 0;
	for (uint32_t i = 0; i < s->list.n; i++) {
		const struct scr_node *n = &s->list.nodes[i];
		struct scr_target *t;
		uint32_t idx;

		if (hc_map_get(&s->by_name, n->name, strlen(n->name), &idx) == 0) {
			t = s->targets[idx];
			if (t->listed)
				continue;       /* a name listed twice: first wins */
			if (strcmp(t->node.ip, n->ip) != 0 ||
			    t->node.kubelet_port != n->kubelet_port) {
				t->node = *n;
				rc = target_configure(s, t);
				if (rc != 0)
					return rc;
			}
			t->node = *n;
			t->listed = 1;
			continue;
		}
		if (s->ntargets == s->targets_cap) {
			uint32_t ncap = s->targets_cap ? s->targets_cap * 2 : 64;
			struct scr_target **p = realloc(s->targets, ncap * sizeof(*p));

			if (p == NULL)
				return -ENOMEM;
			s->targets = p;
			s->targets_cap = ncap;
		}
		t = calloc(1, sizeof(*t));
		if (t == NULL)
			return -ENOMEM;
		t->last_ms = -1;
		t->mi = (int)(s->next_mi++ % SCR_MULTIS);
		t->node = *n;
		t->listed = 1;
		rc = target_configure(s, t);
		if (rc == 0)
			rc = hc_map_put(&s->by_name, t->node.name, strlen(t->node.name),
					s->ntargets);
		if (rc != 0) {
			target_free(t);
			return rc;
		}
		s->targets[s->ntargets++] = t;
	}
	/* drop unlisted targets, then re-index the survivors */
	for (uint32_t i = 0; i < s->ntargets; i++) {
		struct scr_target *t = s->targets[i];

		if (!t->listed) {
			hc_debug("node %s left the cluster", t->node.name);
			target_free(t);
			continue;
		}
		s->targets[w++] = t;
	}
	s->ntargets = w;
	hc_map_clear(&s->by_name);
	for (uint32_t i = 0; i < s->ntargets; i++) {
		rc = hc_map_put(&s->by_name, s->targets[i]->node.name,
				strlen(s->targets[i]->node.name), i);
		if (rc != 0)
			return rc;
	}
	/* each multi handle keeps one connection per node of its own */
	{
		uint32_t per[SCR_MULTIS] = { 0 };
		uint32_t cap = (uint32_t)s->multi_maxconnects / SCR_MULTIS + 1;

		for (uint32_t i = 0; i < s->ntargets; i++)
			per[s->targets[i]->mi]++;
		for (int i = 0; i < SCR_MULTIS; i++)
			curl_multi_setopt(s->multis[i].h, CURLMOPT_MAXCONNECTS,
					  (long)(per[i] + 8 < cap ? per[i] + 8 : cap));
	}
	return 0;
}

/* ---- scraping -------------------------------------------------------------- */

static int64_t thread_cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* What a failed transfer counts as in heapster_kubelet_request_failures_total. */
static enum scr_fail curl_fail_reason(CURLcode cc)
{
	switch (cc) {
	case CURLE_OPERATION_TIMEDOUT:
		return SCR_FAIL_TIMEOUT;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return SCR_FAIL_CONNECT;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
		return SCR_FAIL_TLS;
	case CURLE_FILESIZE_EXCEEDED:
		return SCR_FAIL_TOO_LARGE;
	default:
		return SCR_FAIL_TRANSFER;   /* reset, closed early, bad reply... */
	}
}

static void node_failed(struct scr_scraper *s, struct scr_target *t,
			struct hc_batch *b, struct scr_round *r, enum scr_fail reason,
			const char *why)
{
	b->nodes_failed++;
	r->nodes_failed++;
	t->errors++;
	t->consecutive++;
	t->fails[reason]++;
	if (hc_ratelimit_ok(&s->node_rl))
		hc_warn("node %s (%s): %s; %u failure(s) in a row, %llu in all",
			t->node.name, t->url, why, t->consecutive,
			(unsigned long long)t->errors);
}

/* A transfer is over: check it, parse its body into b, release the buffer. */
static void target_done(struct scr_scraper *s, struct scr_target *t,
			CURLcode cc, struct hc_batch *b, struct scr_round *r)
{
	char why[256];
	long status = 0;
	int64_t elapsed = hc_mono_ms() - t->started_mono, cpu0;
	int rc;

	if (elapsed > r->slowest_ms)
		r->slowest_ms = elapsed;
	t->last_ms = elapsed < INT32_MAX ? (int32_t)elapsed : INT32_MAX;
	if (cc != CURLE_OK) {
		enum scr_fail reason = curl_fail_reason(cc);

		if (t->too_big || cc == CURLE_FILESIZE_EXCEEDED) {
			snprintf(why, sizeof(why), "body larger than %u MiB, cut off",
				 SCR_MAX_BODY >> 20);
			reason = SCR_FAIL_TOO_LARGE;
		} else if (t->nomem) {
			snprintf(why, sizeof(why), "out of memory for the body");
			reason = SCR_FAIL_OTHER;
		} else {
			snprintf(why, sizeof(why), "%s after %lld ms%s%s",
				 curl_easy_strerror(cc), (long long)elapsed,
				 t->err[0] ? ": " : "", t->err);
		}
		node_failed(s, t, b, r, reason, why);
		goto release_body;
	}
	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		snprintf(why, sizeof(why), "HTTP status %ld%s", status,
			 status == 401 || status == 403 ?
			 " (kubelet refused the credentials: token, client certificate, RBAC "
			 "on nodes/stats)" : "");
		node_failed(s, t, b, r, SCR_FAIL_HTTP_STATUS, why);
		goto release_body;
	}
	t->node.now_ms = hc_now_ms();
	cpu0 = thread_cpu_us();
	if (s->cfg->resource_metrics)
		rc = scr_resource_parse(t->body.p ? t->body.p : "", t->body.len, &t->node, b);
	else
		rc = scr_summary_parse(t->body.p ? t->body.p : "", t->body.len, &t->node, b);
	r->parse_us += thread_cpu_us() - cpu0;
	if (rc != 0) {
		snprintf(why, sizeof(why), "%s of %zu bytes: %s",
			 s->cfg->resource_metrics ? "/metrics/resource" : "summary", t->body.len,
			 hc_strerror(rc));
		node_failed(s, t, b, r, SCR_FAIL_PARSE, why);
		goto release_body;
	}
	b->nodes_ok++;
	r->nodes_ok++;
	r->bytes += t->body.len;
	t->ok++;
	t->consecutive = 0;
	hc_debug("node %s: %zu bytes in %lld ms", t->node.name, t->body.len,
		 (long long)elapsed);

release_body:
	pool_put(s, &t->body);
}

/* Aborts the transfers still running (stop requested). */
static void abort_inflight(struct scr_scraper *s, struct scr_target **q, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		if (q[i]->inflight) {
			curl_multi_remove_handle(s->multis[q[i]->mi].h, q[i]->easy);
			q[i]->inflight = 0;
			pool_put(s, &q[i]->body);
		}
	}
}

/* Collects the finished transfers of multi handle m: parsed, released. */
static void collect_done(struct scr_scraper *s, struct scr_multi *m, struct hc_batch *b,
			 struct scr_round *r, uint32_t *inflight)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(m->h, &left)) != NULL) {
		struct scr_target *t;
		CURLcode cc;

		if (msg->msg != CURLMSG_DONE)
			continue;
		cc = msg->data.result;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
		curl_multi_remove_handle(m->h, msg->easy_handle);
		t->inflight = 0;
		(*inflight)--;
		target_done(s, t, cc, b, r);
	}
}

/*
 * Runs the multi handles whose timers are due; returns how long epoll may
 * wait for the next one (at most 100 ms, so a stop is noticed).
 */
static int run_timers(struct scr_scraper *s)
{
	int64_t now = hc_mono_ms(), wait = 100;
	int running;

	for (int i = 0; i < SCR_MULTIS; i++) {
		struct scr_multi *m = &s->multis[i];

		if (m->timer_at >= 0 && m->timer_at <= now) {
			m->timer_at = -1;
			curl_multi_socket_action(m->h, CURL_SOCKET_TIMEOUT, 0, &running);
			m->dirty = 1;
		}
		if (m->timer_at >= 0 && m->timer_at - now < wait)
			wait = m->timer_at - now;
	}
	return wait < 0 ? 0 : (int)wait;
}

/* Scrapes every target of q[0..n) into b. */
static int scrape_targets(struct scr_scraper *s, struct scr_target **q, uint32_t n,
			  struct hc_batch *b, struct scr_round *r)
{
	int64_t t0 = hc_mono_ms(), start_deadline = t0 + s->cfg->resolution_ms / 2;
	int64_t cpu0 = thread_cpu_us();
	struct epoll_event evs[512];
	uint32_t next = 0, inflight = 0;

	for (uint32_t i = 0; i < n; i++)
		q[i]->started_mono = 0;
	for (;;) {
		int nev, wait, running;

		while (inflight < (uint32_t)s->max_inflight && next < n) {
			struct scr_target *t = q[next++];
			CURLMcode mc;

			if (hc_mono_ms() > start_deadline) {
				node_failed(s, t, b, r, SCR_FAIL_NOT_STARTED,
					    "could not start within resolution/2");
				continue;
			}
			pool_get(s, &t->body);
			t->too_big = t->nomem = 0;
			t->err[0] = '\0';
			t->started_mono = hc_mono_ms();
			mc = curl_multi_add_handle(s->multis[t->mi].h, t->easy);
			if (mc != CURLM_OK) {
				node_failed(s, t, b, r, SCR_FAIL_OTHER, curl_multi_strerror(mc));
				pool_put(s, &t->body);
				continue;
			}
			t->inflight = 1;
			inflight++;
		}
		if (inflight == 0 && next >= n)
			break;
		/* an added transfer asks for its timer at once: start it */
		wait = run_timers(s);
		nev = epoll_wait(s->epfd, evs, (int)HC_ARRAY_LEN(evs), wait);
		for (int e = 0; e < nev; e++) {
			struct scr_multi *m = &s->multis[evs[e].data.u64 >> 32];
			int fd = (int)(uint32_t)evs[e].data.u64, flags = 0;

			if (evs[e].events & EPOLLIN)
				flags |= CURL_CSELECT_IN;
			if (evs[e].events & EPOLLOUT)
				flags |= CURL_CSELECT_OUT;
			if (evs[e].events & (EPOLLERR | EPOLLHUP))
				flags |= CURL_CSELECT_ERR;
			curl_multi_socket_action(m->h, fd, flags, &running);
			/* a body just completed is parsed while it is in the cache */
			collect_done(s, m, b, r, &inflight);
		}
		run_timers(s);
		for (int i = 0; i < SCR_MULTIS; i++) {
			if (s->multis[i].dirty) {
				s->multis[i].dirty = 0;
				collect_done(s, &s->multis[i], b, r, &inflight);
			}
		}
		if (s->stop && *s->stop) {
			abort_inflight(s, q, next);
			return -EINTR;
		}
	}
	r->wall_ms = hc_mono_ms() - t0;
	r->cpu_us = thread_cpu_us() - cpu0;
	return 0;
}

int scr_scrape_round(struct scr_scraper *s, struct hc_batch *b, struct scr_round *r)
{
	struct scr_target **q = NULL;
	uint32_t nq = 0;
	int rc;

	memset(r, 0, sizeof(*r));
	if (scr_creds_refresh(&s->creds) == 1) {
		/* a rotated token: every handle sends the new one */
		hc_info("token file %s changed: using the new token", s->creds.token_file);
		scr_creds_apply_api(&s->creds, s->api);
		for (uint32_t i = 0; i < s->ntargets; i++)
			scr_creds_apply_kubelet(&s->creds, s->targets[i]->easy);
		/* watch streams: from their next request on */
		if (s->w_nodes.easy != NULL)
			scr_creds_apply_api(&s->creds, s->w_nodes.easy);
		if (s->w_nss.easy != NULL)
			scr_creds_apply_api(&s->creds, s->w_nss.easy);
		if (s->w_pods.easy != NULL)
			scr_creds_apply_api(&s->creds, s->w_pods.easy);
	}
	r->list_rc = scr_nodes_sync(s);
	if (r->list_rc == 0) {
		rc = sync_targets(s);
		if (rc != 0)
			return rc;
		s->have_list = 1;
	} else if (!s->have_list) {
		return r->list_rc;      /* nothing to scrape yet */
	} else {
		hc_warn("node list unavailable (%s): scraping the %u nodes listed before",
			hc_strerror(r->list_rc), s->ntargets);
	}
	r->nodes_listed = s->ntargets;

	q = malloc((s->ntargets ? s->ntargets : 1) * sizeof(*q));
	if (q == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < s->ntargets; i++) {
		struct scr_target *t = s->targets[i];

		if (!t->node.ready) {
			r->nodes_skipped++;
			continue;
		}
		if (t->node.ip[0] == '\0') {
			node_failed(s, t, b, r, SCR_FAIL_NO_ADDRESS,
				    "no InternalIP or ExternalIP address");
			continue;
		}
		q[nq++] = t;
	}
	rc = scrape_targets(s, q, nq, b, r);
	if (s->node_rl.suppressed > s->node_rl_reported) {
		hc_warn("%llu more node failure line(s) suppressed",
			(unsigned long long)(s->node_rl.suppressed - s->node_rl_reported));
		s->node_rl_reported = s->node_rl.suppressed;
	}
	free(q);
	return rc;
}

/* ---- self-metrics ------------------------------------------------------------ */

const char *const scr_fail_names[SCR_FAIL_N] = {
	[SCR_FAIL_CONNECT] = "connect", [SCR_FAIL_TIMEOUT] = "timeout",
	[SCR_FAIL_TLS] = "tls", [SCR_FAIL_HTTP_STATUS] = "http_status",
	[SCR_FAIL_PARSE] = "parse", [SCR_FAIL_TOO_LARGE] = "too_large",
	[SCR_FAIL_TRANSFER] = "transfer", [SCR_FAIL_NO_ADDRESS] = "no_address",
	[SCR_FAIL_NOT_STARTED] = "not_started", [SCR_FAIL_OTHER] = "other",
};

/* A node name as a Prometheus label value (\\, \" and \n escaped) into buf. */
static const char *label_value(const char *in, char *buf, size_t cap)
{
	size_t o = 0;

	if (strpbrk(in, "\\\"\n") == NULL)
		return in;
	for (; *in && o + 3 < cap; in++) {
		if (*in == '\\' || *in == '"' || *in == '\n') {
			buf[o++] = '\\';
			buf[o++] = *in == '\n' ? 'n' : *in;
		} else {
			buf[o++] = *in;
		}
	}
	buf[o] = '\0';
	return buf;
}

void scr_node_metrics(const struct scr_scraper *s, struct hc_text *t)
{
	char esc[2 * sizeof(((struct scr_node *)0)->name) + 1];
	int any = 0;

	/* one gauge per node scraped at least once: ~70 bytes a node */
	hc_text_printf(t, "# HELP heapster_kubelet_request_duration_seconds Duration of the "
		       "last kubelet request of the node (answered or failed).\n"
		       "# TYPE heapster_kubelet_request_duration_seconds gauge\n");
	for (uint32_t i = 0; i < s->ntargets; i++) {
		const struct scr_target *tg = s->targets[i];

		if (tg->last_ms >= 0)
			hc_text_printf(t, "heapster_kubelet_request_duration_seconds{node=\"%s\"} %.3f\n",
				       label_value(tg->node.name, esc, sizeof(esc)),
				       tg->last_ms / 1000.0);
	}
	/* failure counters only where a node failed: a healthy cluster costs nothing */
	for (uint32_t i = 0; i < s->ntargets; i++) {
		const struct scr_target *tg = s->targets[i];

		if (tg->errors == 0)
			continue;
		for (int r = 0; r < SCR_FAIL_N; r++) {
			if (tg->fails[r] == 0)
				continue;
			if (!any)
				hc_text_printf(t, "# HELP heapster_kubelet_request_failures_total "
					       "Failed kubelet scrapes by node and reason (a node "
					       "appears once it failed).\n"
					       "# TYPE heapster_kubelet_request_failures_total counter\n");
			any = 1;
			hc_text_printf(t, "heapster_kubelet_request_failures_total{node=\"%s\","
				       "reason=\"%s\"} %u\n",
				       label_value(tg->node.name, esc, sizeof(esc)),
				       scr_fail_names[r], tg->fails[r]);
		}
	}
}
