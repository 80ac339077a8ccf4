/*
 * api_health.c - the probes: GET /healthz and /readyz (REFERENCE §5), /livez.
 *
 * Healthy means the pipeline is delivering: the newest batch of the short
 * ring is at most API_HEALTH_MAX_AGE_MS old (by its batch time, the end of
 * its window) and holds at least one metric set.  The answer is plain
 * text, "ok" with 200, or 503 with the reason, so a kubelet probe log or a
 * curl shows why.  It reads one index record: cheap enough for any probe
 * rate, and it stays open when the model API gets authentication.
 *
 * /readyz is the same check under the name Kubernetes' own components use
 * (a readiness probe: no traffic until the pipeline delivers).  /livez
 * answers 200 as long as the worker runs the event loop, without touching
 * the store: a liveness probe must not restart the API server because the
 * scraper or the processor is down, which readiness already reports.
 */
#include <inttypes.h>
#include <stdio.h>

#include "hc.h"
#include "api.h"

#define API_HEALTH_MAX_AGE_MS (3 * 60 * 1000)

int api_healthz(struct http_request *req)
{
	struct store_batch_info info;
	struct store_txn *txn;
	char why[128];
	int64_t age;
	int rc;

	if (api_txn_begin(req, &txn) != 0)
		return KORE_RESULT_OK;
	rc = store_latest(txn, STORE_SHORT, &info);
	store_read_end(txn);
	if (rc == HC_ERR_NOTFOUND) {
		api_text(req, 503, "no batch stored yet\n");
		return KORE_RESULT_OK;
	}
	if (rc != 0) {
		snprintf(why, sizeof(why), "store read failed: %s\n", hc_strerror(rc));
		api_text(req, 503, why);
		return KORE_RESULT_OK;
	}
	age = hc_now_ms() - info.ts_ms;
	if (age > API_HEALTH_MAX_AGE_MS) {
		snprintf(why, sizeof(why), "newest batch is %" PRId64 " s old (limit %d s)\n",
			 age / 1000, API_HEALTH_MAX_AGE_MS / 1000);
		api_text(req, 503, why);
		return KORE_RESULT_OK;
	}
	if (info.nsets == 0) {
		api_text(req, 503, "newest batch is empty\n");
		return KORE_RESULT_OK;
	}
	api_text(req, 200, "ok");
	return KORE_RESULT_OK;
}

int api_readyz(struct http_request *req)
{
	return api_healthz(req);
}

int api_livez(struct http_request *req)
{
	api_text(req, 200, "ok");
	return KORE_RESULT_OK;
}
