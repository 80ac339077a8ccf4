/*
 * kube.c - the scraper's API server client: paged listings of nodes, and
 * the metadata listing of each resolution (nodes, namespaces, pods,
 * ReplicaSets, Jobs -> the metadata batch of common/meta.h).
 *
 * Design.  One easy handle (s->api) talks to the API server, reused so its
 * connection is kept alive.  Every listing is paged (?limit=500&continue=)
 * and each page is parsed as soon as it has arrived, into its destination
 * (the node list, the owner indexes, the metadata batch); the page buffer
 * (s->api_body) is reused by the next page and freed after the round, so
 * what stays in memory is the parsed objects, not the listing's text.
 *
 * Order within a round: the node list first (scrape.c needs the targets),
 * then, after the kubelet scrape, ReplicaSets and Jobs (owner indexes),
 * namespaces and pods.  A ReplicaSet or Job listing that fails costs only
 * precision (the pod-template-hash fallback); an API server that answers
 * 404 (not served) or 403 (no RBAC for them) is asked again only every
 * SCR_OWNERS_RETRY rounds.  Any other listing that fails makes
 * the round's metadata incomplete: it is not sent, and the processor keeps
 * the previous one.
 *
 * Watch mode (the default): nodes, namespaces and pods live in tables (the
 * node list, and two caches of metadata sets, struct scr_cache) that are
 * listed whole once and then kept current by watch streams (watch.c) that
 * run between rounds: each round costs the changes since the last one,
 * not the cluster's size.  A table is listed again at its sync point (the
 * round's start for nodes, its metadata for the others) when it never was,
 * after a 410 Gone or an ERROR event, after a watch request that failed
 * (the listing then also tells whether the API server is back), and every
 * SCR_RELIST_MS as a safety net against a missed event: a full listing of
 * 5,000 simulated nodes is about 12 MB, of their 150,000 pods about 530 MB
 * (2 CPU seconds), once in ten minutes.  Each round's metadata batch is
 * rendered from the tables.
 * --metadata_watch=false lists the three every round instead; --once lists
 * them into the tables without starting a stream.
 *
 * A node added, removed or turned NotReady reaches the node table when its
 * event arrives, and the next round's targets (scrape.c) follow the table.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "hc.h"
#include "kmeta.h"
#include "log.h"
#include "prom.h"
#include "scraper.h"

#define API_MAX_BODY     (512u << 20) /* a list page larger than this fails */
#define SCR_OWNERS_RETRY 10           /* rounds between two tries of a 404 listing */
#define SCR_RELIST_MS    (10 * 60000) /* watch mode: a full listing this often (safety net) */

static size_t api_body_cb(char *data, size_t size, size_t nmemb, void *ud)
{
	struct scr_buf *b = ud;
	size_t n = size * nmemb;

	if (b->len + n > API_MAX_BODY)
		return 0;
	if (b->len + n + 1 > b->cap) {
		size_t ncap = b->cap ? b->cap : 256 * 1024;
		char *p;

		while (ncap < b->len + n + 1)
			ncap *= 2;
		p = realloc(b->p, ncap);
		if (p == NULL)
			return 0;
		b->p = p;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	return n;
}

/* Event callbacks of the three watches (ctx: the scraper). */
static int node_event_cb(void *ctx, const char *line, size_t len, char *rv)
{
	struct scr_scraper *s = ctx;

	return scr_node_event(line, len, s->cfg->host_id_annotation, &s->list, rv);
}

static int ns_event_cb(void *ctx, const char *line, size_t len, char *rv)
{
	struct scr_scraper *s = ctx;
	int rc;

	s->meta_ctx.ns_cache = &s->nss;
	rc = scr_namespace_event(line, len, &s->meta_ctx, rv);
	s->meta_ctx.ns_cache = NULL;
	return rc;
}

static int pod_event_cb(void *ctx, const char *line, size_t len, char *rv)
{
	struct scr_scraper *s = ctx;
	int rc;

	s->meta_ctx.cache = &s->pods;
	rc = scr_pod_event(line, len, &s->meta_ctx, rv);
	s->meta_ctx.cache = NULL;
	return rc;
}

int scr_api_init(struct scr_scraper *s)
{
	CURL *h;
	int rc;

	s->api = h = curl_easy_init();
	if (h == NULL)
		return -ENOMEM;
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, api_body_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &s->api_body);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(s->cfg->resolution_ms / 2));
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_USERAGENT, "heapster-c/scraper");
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, s->api_err);
	scr_creds_apply_api(&s->creds, h);
	rc = scr_owners_init(&s->replicasets);
	if (rc == 0)
		rc = scr_owners_init(&s->jobs);
	if (rc == 0)
		rc = scr_meta_ctx_init(&s->meta_ctx);
	if (rc == 0)
		rc = scr_cache_init(&s->pods);
	if (rc == 0)
		rc = scr_cache_init(&s->nss);
	if (rc != 0)
		return rc;
	s->meta_ctx.replicasets = &s->replicasets;
	s->meta_ctx.jobs = &s->jobs;
	s->watch = s->cfg->metadata_watch;
	s->streams = s->watch && !s->cfg->once;
	scr_watch_init(&s->w_nodes, "node", node_event_cb, s);
	scr_watch_init(&s->w_nss, "namespace", ns_event_cb, s);
	scr_watch_init(&s->w_pods, "pod", pod_event_cb, s);
	snprintf(s->w_nodes.path, sizeof(s->w_nodes.path), "/api/v1/nodes");
	snprintf(s->w_nss.path, sizeof(s->w_nss.path), "/api/v1/namespaces");
	if (s->streams) {
		s->wmulti = curl_multi_init();
		if (s->wmulti == NULL)
			return -ENOMEM;
	}
	return 0;
}

void scr_api_free(struct scr_scraper *s)
{
	if (s->wmulti != NULL) {
		scr_watch_free(s, &s->w_nodes);
		scr_watch_free(s, &s->w_nss);
		scr_watch_free(s, &s->w_pods);
		curl_multi_cleanup(s->wmulti);
		s->wmulti = NULL;
	}
	if (s->api)
		curl_easy_cleanup(s->api);
	s->api = NULL;
	free(s->api_body.p);
	memset(&s->api_body, 0, sizeof(s->api_body));
	scr_owners_free(&s->replicasets);
	scr_owners_free(&s->jobs);
	scr_meta_ctx_free(&s->meta_ctx);
	scr_cache_free(&s->pods);
	scr_cache_free(&s->nss);
}

int scr_api_get(struct scr_scraper *s, const char *path)
{
	char url[sizeof(s->cfg->api_url) + SCR_CONT_MAX * 3 + 256];
	CURL *h = s->api;
	CURLcode cc;

	s->api_body.len = 0;
	s->api_status = 0;
	if ((size_t)snprintf(url, sizeof(url), "%s%s", s->cfg->api_url, path) >= sizeof(url))
		return HC_ERR_TOOBIG;
	curl_easy_setopt(h, CURLOPT_URL, url);
	s->api_err[0] = '\0';
	cc = curl_easy_perform(h);
	if (cc != CURLE_OK) {
		hc_warn("API server %s: %s%s%s", url, curl_easy_strerror(cc),
			s->api_err[0] ? ": " : "", s->api_err);
		if (cc == CURLE_OPERATION_TIMEDOUT)
			return HC_ERR_TIMEOUT;
		if (cc == CURLE_COULDNT_CONNECT)
			return -ECONNREFUSED;
		return cc == CURLE_COULDNT_RESOLVE_HOST ? -EHOSTUNREACH : -EIO;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &s->api_status);
	if (s->api_status != 200) {
		if (s->api_status == 401 || s->api_status == 403)
			hc_warn("API server %s: HTTP %ld (%s: check the token, client certificate "
				"and RBAC of the access mode)", url, s->api_status,
				s->api_status == 401 ? "not authenticated" : "forbidden");
		else if (s->api_status != 404)
			hc_warn("API server %s: HTTP %ld", url, s->api_status);
		return HC_ERR_HTTP;
	}
	return 0;
}

int scr_api_list(struct scr_scraper *s, const char *path, scr_page_fn fn, void *ctx,
		 uint32_t *pages, uint64_t *bytes)
{
	char *cont = NULL, *query = NULL;
	size_t qcap = strlen(path) + SCR_CONT_MAX * 3 + 64;
	uint32_t n = 0;
	int rc;

	cont = malloc(SCR_CONT_MAX);
	query = malloc(qcap);
	if (cont == NULL || query == NULL) {
		rc = -ENOMEM;
		goto free_buffers;
	}
	cont[0] = '\0';
	do {
		/* path may carry its own query (a fieldSelector) */
		char sep = strchr(path, '?') ? '&' : '?';

		if (n == 0) {
			snprintf(query, qcap, "%s%climit=%d", path, sep, SCR_NODES_PAGE);
		} else {
			char *esc = curl_easy_escape(s->api, cont, 0);

			if (esc == NULL) {
				rc = -ENOMEM;
				goto free_buffers;
			}
			snprintf(query, qcap, "%s%climit=%d&continue=%s", path, sep, SCR_NODES_PAGE, esc);
			curl_free(esc);
		}
		rc = scr_api_get(s, query);
		if (rc != 0)
			goto free_buffers;
		if (bytes)
			*bytes += s->api_body.len;
		rc = fn(ctx, s->api_body.p ? s->api_body.p : "", s->api_body.len, cont);
		if (rc != 0) {
			hc_warn("API server %s%s: %s", s->cfg->api_url, query, hc_strerror(rc));
			goto free_buffers;
		}
		if (++n > 100000) {
			rc = HC_ERR_PROTO;   /* a server looping on continue */
			goto free_buffers;
		}
	} while (cont[0] != '\0');
	rc = 0;

free_buffers:
	if (pages)
		*pages += n;
	free(query);
	free(cont);
	return rc;
}

/* ---- nodes ------------------------------------------------------------------- */

static int nodes_page(void *ctx, const char *body, size_t len, char *cont)
{
	struct scr_scraper *s = ctx;
	int rc = scr_nodes_parse(body, len, s->cfg->host_id_annotation, &s->list);

	if (rc == 0)
		memcpy(cont, s->list.cont, strlen(s->list.cont) + 1);
	return rc;
}

int scr_list_nodes(struct scr_scraper *s)
{
	int rc;

	scr_nodelist_clear(&s->list);
	rc = scr_api_list(s, "/api/v1/nodes", nodes_page, s, NULL, NULL);
	s->list_ok = rc == 0;
	return rc;
}

/* ---- metadata --------------------------------------------------------------- */

static int owners_page(void *ctx, const char *body, size_t len, char *cont)
{
	return scr_owners_parse(body, len, ctx, cont);
}

struct meta_page_ctx {
	struct scr_scraper *s;
	struct hc_batch    *meta;
};

static int pods_page(void *ctx, const char *body, size_t len, char *cont)
{
	struct meta_page_ctx *c = ctx;

	return scr_meta_pods_parse(body, len, &c->s->meta_ctx, c->meta, cont);
}

static int namespaces_page(void *ctx, const char *body, size_t len, char *cont)
{
	struct meta_page_ctx *c = ctx;

	return scr_meta_namespaces_parse(body, len, &c->s->meta_ctx, c->meta, cont);
}

/*
 * Lists ReplicaSets or Jobs into o.  Returns whether o is usable; a 404
 * (not served) or 403 (no RBAC) is retried after SCR_OWNERS_RETRY rounds.
 */
static int list_owners(struct scr_scraper *s, const char *path, struct scr_owners *o,
		       uint32_t *retry, struct scr_meta_round *mr)
{
	int rc;

	scr_owners_reset(o);
	if (*retry > 0) {
		(*retry)--;
		return 0;
	}
	rc = scr_api_list(s, path, owners_page, o, &mr->pages, &mr->bytes);
	if (rc == HC_ERR_HTTP && (s->api_status == 404 || s->api_status == 403)) {
		hc_info("API server: %s is %s: workloads of its pods are guessed "
			"(asked again in %d rounds)", path,
			s->api_status == 404 ? "not served" : "forbidden (RBAC: list replicasets, jobs)",
			SCR_OWNERS_RETRY);
		*retry = SCR_OWNERS_RETRY;
		return 0;
	}
	if (rc != 0) {
		hc_warn("API server: %s: %s: workloads of its pods are guessed this round",
			path, hc_strerror(rc));
		return 0;
	}
	o->complete = 1;
	return 1;
}

static int64_t cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/*
 * Lists every pod into dst (the metadata batch, or the cache's batch in
 * watch mode), letting the API server keep only running ones unless it
 * refuses that field selector (400), after which they are filtered here
 * (kmeta.c checks the phase anyway).
 */
static int list_pods(struct scr_scraper *s, struct hc_batch *dst, struct scr_meta_round *mr)
{
	struct meta_page_ctx pc = { s, dst };
	int rc;

	if (!s->no_phase_selector) {
		uint32_t st0 = s->meta_ctx.st.pods_listed;

		rc = scr_api_list(s, "/api/v1/pods?fieldSelector=status.phase%3DRunning", pods_page,
				  &pc, &mr->pages, &mr->bytes);
		if (rc != HC_ERR_HTTP || s->api_status != 400 || s->meta_ctx.st.pods_listed != st0)
			return rc;
		hc_info("API server: pods' fieldSelector=status.phase refused: listing every pod");
		s->no_phase_selector = 1;
	}
	return scr_api_list(s, "/api/v1/pods", pods_page, &pc, &mr->pages, &mr->bytes);
}

/* ---- tables kept by watch --------------------------------------------------- */

/* Lists a watched resource whole into its table and sets w->rv.  0 or an error. */
typedef int (*table_list_fn)(struct scr_scraper *s, struct scr_meta_round *mr);

static int table_list_nodes(struct scr_scraper *s, struct scr_meta_round *mr)
{
	int rc = scr_list_nodes(s);

	(void)mr;
	if (rc == 0)
		rc = scr_nodelist_index(&s->list);
	if (rc == 0)
		memcpy(s->w_nodes.rv, s->list.rv, sizeof(s->w_nodes.rv));
	return rc;
}

static int table_list_nss(struct scr_scraper *s, struct scr_meta_round *mr)
{
	struct scr_meta_ctx *c = &s->meta_ctx;
	struct meta_page_ctx pc = { s, &s->nss.b };
	int rc;

	scr_cache_reset(&s->nss);
	c->list_rv[0] = '\0';
	c->ns_cache = &s->nss;
	rc = scr_api_list(s, "/api/v1/namespaces", namespaces_page, &pc, &mr->pages, &mr->bytes);
	c->ns_cache = NULL;
	if (rc != 0) {
		scr_cache_reset(&s->nss);
		return rc;
	}
	memcpy(s->w_nss.rv, c->list_rv, sizeof(s->w_nss.rv));
	return 0;
}

static int table_list_pods(struct scr_scraper *s, struct scr_meta_round *mr)
{
	struct scr_meta_ctx *c = &s->meta_ctx;
	int rc;

	scr_cache_reset(&s->pods);
	c->list_rv[0] = '\0';
	c->cache = &s->pods;
	rc = list_pods(s, &s->pods.b, mr);
	c->cache = NULL;
	if (rc != 0) {
		scr_cache_reset(&s->pods);
		return rc;
	}
	memcpy(s->w_pods.rv, c->list_rv, sizeof(s->w_pods.rv));
	/* the watch asks what the listing asked */
	snprintf(s->w_pods.path, sizeof(s->w_pods.path), "/api/v1/pods%s",
		 s->no_phase_selector ? "" : "?fieldSelector=status.phase%3DRunning");
	return 0;
}

/*
 * The sync point of a table: lists it when it never was, after a 410 or an
 * ERROR event (expired), after a failed watch request (broken), or every
 * SCR_RELIST_MS; then makes sure its stream runs.  0, or the listing's
 * error (the table is then incomplete: listed again next round).
 */
static int table_sync(struct scr_scraper *s, struct scr_watch *w, table_list_fn list,
		      struct scr_meta_round *mr)
{
	int rc;

	if (!w->synced || w->expired || w->broken ||
	    hc_mono_ms() - w->listed_mono >= SCR_RELIST_MS) {
		if (s->streams)
			scr_watch_stop(s, w);
		w->rv[0] = '\0';
		w->lists++;
		rc = list(s, mr);
		if (rc != 0) {
			w->synced = 0;
			return rc;
		}
		w->synced = w->rv[0] != '\0';   /* no resourceVersion: list each round */
		w->expired = w->broken = 0;
		w->listed_mono = hc_mono_ms();
		w->listed_round = 1;
	}
	if (!s->streams || !w->synced || w->running)
		return 0;
	rc = scr_watch_start(s, w);
	if (rc != 0) {
		hc_warn("%s watch: %s: listing again next round", w->what, hc_strerror(rc));
		w->broken = 1;
	}
	return 0;
}

int scr_nodes_sync(struct scr_scraper *s)
{
	struct scr_meta_round unused;
	int rc;

	if (!s->watch)
		return scr_list_nodes(s);
	scr_watch_pump(s, 0);
	memset(&unused, 0, sizeof(unused));
	rc = table_sync(s, &s->w_nodes, table_list_nodes, &unused);
	s->list_ok = rc == 0;
	return rc;
}

void scr_scraper_idle(struct scr_scraper *s, int wait_ms)
{
	struct timespec ts;

	if (s->wmulti != NULL) {
		scr_watch_pump(s, wait_ms);
		return;
	}
	ts.tv_sec = wait_ms / 1000;
	ts.tv_nsec = (long)(wait_ms % 1000) * 1000000L;
	nanosleep(&ts, NULL);
}

/* The events a stream applied since the last round, for the round's log. */
static uint32_t take_events(struct scr_watch *w)
{
	uint32_t n = w->events;

	w->events = 0;
	return n;
}

static int take_listed(struct scr_watch *w)
{
	int l = w->listed_round;

	w->listed_round = 0;
	return l;
}

int scr_meta_round(struct scr_scraper *s, struct hc_batch *meta, int64_t ts_ms,
		   struct scr_meta_round *mr)
{
	struct scr_meta_ctx *c = &s->meta_ctx;
	struct meta_page_ctx pc = { s, meta };
	int64_t t0 = hc_mono_ms(), cpu0 = cpu_us();
	int rc;

	memset(mr, 0, sizeof(*mr));
	if (s->watch)
		scr_watch_pump(s, 0);     /* before the owner indexes are listed again */
	memset(&c->st, 0, sizeof(c->st));
	hc_batch_reset(meta, ts_ms);
	mr->nodes_listed = take_listed(&s->w_nodes);
	mr->node_events = take_events(&s->w_nodes);
	if (!s->list_ok) {
		rc = HC_ERR_NOTFOUND;       /* no node list this round */
		goto shrink_body;
	}
	rc = scr_meta_nodes(&s->list, c, meta);
	if (rc != 0)
		goto shrink_body;
	mr->replicasets = list_owners(s, "/apis/apps/v1/replicasets", &s->replicasets,
				      &s->rs_retry, mr);
	mr->jobs = list_owners(s, "/apis/batch/v1/jobs", &s->jobs, &s->jobs_retry, mr);
	if (!s->watch) {
		rc = scr_api_list(s, "/api/v1/namespaces", namespaces_page, &pc, &mr->pages,
				  &mr->bytes);
		if (rc == 0)
			rc = list_pods(s, meta, mr);
		goto shrink_body;
	}
	rc = table_sync(s, &s->w_nss, table_list_nss, mr);
	if (rc == 0)
		rc = table_sync(s, &s->w_pods, table_list_pods, mr);
	mr->nss_listed = take_listed(&s->w_nss);
	mr->pods_listed_whole = take_listed(&s->w_pods);
	mr->ns_events = take_events(&s->w_nss);
	mr->watch_events = take_events(&s->w_pods);
	if (rc == 0)
		rc = scr_cache_compact(&s->nss);
	if (rc == 0)
		rc = scr_cache_compact(&s->pods);
	if (rc == 0) {
		/* the round's counters are the caches' contents */
		c->st.pods_listed = c->st.pods_running = c->st.containers = 0;
		c->st.pods_in_workloads = c->st.namespaces = 0;
		rc = scr_cache_render(&s->nss, meta, &c->st);
	}
	if (rc == 0)
		rc = scr_cache_render(&s->pods, meta, &c->st);

shrink_body:
	/* the listing's text is not kept beyond the round */
	free(s->api_body.p);
	memset(&s->api_body, 0, sizeof(s->api_body));
	mr->st = c->st;
	mr->wall_ms = hc_mono_ms() - t0;
	mr->cpu_us = cpu_us() - cpu0;
	return rc;
}

void scr_watch_metrics(const struct scr_scraper *s, struct hc_text *t)
{
	const struct scr_watch *w[] = { &s->w_nodes, &s->w_nss, &s->w_pods };
	char lb[64];

	if (!s->watch)
		return;
	for (size_t i = 0; i < HC_ARRAY_LEN(w); i++) {
		snprintf(lb, sizeof(lb), "resource=\"%ss\"", w[i]->what);
		hc_prom_counter(t, "heapster_scraper_api_lists_total", i ? NULL :
				"Full listings of a watched resource (start, 410, failed watch, "
				"safety relist).", lb, (double)w[i]->lists);
	}
	for (size_t i = 0; i < HC_ARRAY_LEN(w); i++) {
		snprintf(lb, sizeof(lb), "resource=\"%ss\"", w[i]->what);
		hc_prom_counter(t, "heapster_scraper_watch_events_total", i ? NULL :
				"Watch events applied (added, modified, deleted).", lb,
				(double)w[i]->events_total);
	}
	for (size_t i = 0; i < HC_ARRAY_LEN(w); i++) {
		snprintf(lb, sizeof(lb), "resource=\"%ss\"", w[i]->what);
		hc_prom_counter(t, "heapster_scraper_watch_resumes_total", i ? NULL :
				"Watches resumed from their resourceVersion without a listing.",
				lb, (double)w[i]->resumes);
	}
}
