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
 * Pods (watch mode, the default): listed whole at start and every
 * SCR_RELIST_MS, and between listings kept up to date by a watch from the
 * cache's resourceVersion that the API server ends after SCR_WATCH_S
 * seconds (?watch=true&resourceVersion=RV&timeoutSeconds=1): each round
 * costs the changes since the last one, not the cluster's size.  A 410
 * Expired (an ERROR event or the status) lists again at once.  The cached
 * pods (struct scr_cache, kmeta.c) are copied into each round's metadata
 * batch.  --metadata_watch=false lists pods every round instead.
 *
 * Nodes and namespaces are listed every round (they are few; the node
 * list also drives the kubelet targets): a node added, removed or NotReady
 * is picked up at the next resolution.
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
#include "scraper.h"

#define API_MAX_BODY     (512u << 20) /* a list page larger than this fails */
#define SCR_OWNERS_RETRY 10           /* rounds between two tries of a 404 listing */
#define SCR_RELIST_MS    (10 * 60000) /* watch mode: a full pod listing this often */
#define SCR_WATCH_S      1            /* watch mode: how long a round's watch lasts */

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
	return rc;
}

void scr_api_free(struct scr_scraper *s)
{
	if (s->api)
		curl_easy_cleanup(s->api);
	s->api = NULL;
	free(s->api_body.p);
	memset(&s->api_body, 0, sizeof(s->api_body));
	scr_owners_free(&s->replicasets);
	scr_owners_free(&s->jobs);
	scr_meta_ctx_free(&s->meta_ctx);
	scr_cache_free(&s->pods);
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

/*
 * Watch mode: brings the pod cache up to date, with a full listing when it
 * is not synced (start, an ERROR event such as 410 Expired, a failed watch)
 * or every SCR_RELIST_MS, else with the events since its resourceVersion
 * (a watch that the API server ends after SCR_WATCH_S seconds).  0 or a
 * negative code; the cache stays usable after a failed watch (it is
 * complete as of its resourceVersion) and is listed again next round.
 */
static int sync_pods(struct scr_scraper *s, struct scr_meta_round *mr)
{
	struct scr_cache *k = &s->pods;
	struct scr_meta_ctx *c = &s->meta_ctx;
	char path[256 + SCR_RV_MAX * 3];
	uint32_t events = 0;
	int rc = 0;

	c->cache = k;
	for (int attempt = 0; attempt < 2; attempt++) {
		if (!k->synced || hc_mono_ms() - k->listed_mono >= SCR_RELIST_MS) {
			scr_cache_reset(k);
			c->list_rv[0] = '\0';
			rc = list_pods(s, &k->b, mr);
			if (rc != 0) {
				scr_cache_reset(k);
				break;
			}
			memcpy(k->rv, c->list_rv, sizeof(k->rv));
			k->synced = k->rv[0] != '\0';   /* no resourceVersion: list each round */
			k->listed_mono = hc_mono_ms();
			mr->pods_listed_whole = 1;
			break;
		}
		{
			char *esc = curl_easy_escape(s->api, k->rv, 0);

			if (esc == NULL) {
				rc = -ENOMEM;
				break;
			}
			snprintf(path, sizeof(path), "/api/v1/pods?watch=true&resourceVersion=%s&"
				 "timeoutSeconds=%d&allowWatchBookmarks=true%s", esc, SCR_WATCH_S,
				 s->no_phase_selector ? "" : "&fieldSelector=status.phase%3DRunning");
			curl_free(esc);
		}
		rc = scr_api_get(s, path);
		if (rc == 0) {
			mr->bytes += s->api_body.len;
			mr->pages++;
			rc = scr_cache_pod_events(s->api_body.p ? s->api_body.p : "", s->api_body.len,
						  c, &events);
			mr->watch_events += events;
		}
		if (rc == HC_ERR_PROTO || (rc == HC_ERR_HTTP && s->api_status == 410)) {
			k->synced = 0;          /* expired: list again, now */
			continue;
		}
		if (rc != 0) {
			/* the cache is still whole as of k->rv: use it, list next round */
			hc_warn("pod watch: %s: the pods are listed again next round", hc_strerror(rc));
			k->synced = 0;
			rc = 0;
		}
		break;
	}
	c->cache = NULL;
	if (rc == 0)
		rc = scr_cache_compact(k);
	return rc;
}

int scr_meta_round(struct scr_scraper *s, struct hc_batch *meta, int64_t ts_ms,
		   struct scr_meta_round *mr)
{
	struct scr_meta_ctx *c = &s->meta_ctx;
	struct meta_page_ctx pc = { s, meta };
	int64_t t0 = hc_mono_ms(), cpu0 = cpu_us();
	int rc;

	memset(mr, 0, sizeof(*mr));
	memset(&c->st, 0, sizeof(c->st));
	hc_batch_reset(meta, ts_ms);
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
	c->replicasets = &s->replicasets;
	c->jobs = &s->jobs;
	rc = scr_api_list(s, "/api/v1/namespaces", namespaces_page, &pc, &mr->pages, &mr->bytes);
	if (rc != 0)
		goto shrink_body;
	if (!s->cfg->metadata_watch) {
		rc = list_pods(s, meta, mr);
		goto shrink_body;
	}
	rc = sync_pods(s, mr);
	if (rc == 0) {
		/* the round's counters are the cache's contents */
		c->st.pods_listed = c->st.pods_running = c->st.containers = 0;
		c->st.pods_in_workloads = 0;
		rc = scr_cache_render(&s->pods, meta, &c->st);
	}

shrink_body:
	/* the listing's text is not kept beyond the round */
	free(s->api_body.p);
	memset(&s->api_body, 0, sizeof(s->api_body));
	mr->st = c->st;
	mr->wall_ms = hc_mono_ms() - t0;
	mr->cpu_us = cpu_us() - cpu0;
	return rc;
}
