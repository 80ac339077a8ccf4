/*
 * config.c - heapster-scraper's flags and Heapster's --source syntax.
 *
 * Flags are GNU long options (--flag=value and --flag value).  Durations use
 * Go's syntax, as Heapster's flags did.  The --source value goes through
 * environment expansion ($VAR, ${VAR}) and then hc_uri_parse(); its options
 * are those of REFERENCE §2 for the kinds kubernetes.summary_api and
 * kubernetes (kubelet /stats/summary) and kubernetes.resource_metrics
 * (kubelet /metrics/resource, resource.h), plus kubeletInsecure (no verification of
 * kubelet certificates only).  The access mode (service account,
 * kubeconfig, URL; auth.h) is resolved here once, so that a missing token
 * or an unreadable kubeconfig stops the process at start with its reason,
 * and api_url is the server it names.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "hc.h"
#include "log.h"
#include "scraper.h"
#include "uri.h"

/* Copies spec into out expanding $VAR and ${VAR} (unset: empty). */
static int expand_env(const char *spec, char *out, size_t cap)
{
	size_t o = 0;

	for (const char *p = spec; *p;) {
		const char *val = NULL;
		char name[128];
		size_t n = 0;

		if (*p != '$') {
			if (o + 1 >= cap)
				return HC_ERR_CONFIG;
			out[o++] = *p++;
			continue;
		}
		p++;
		if (*p == '{') {
			const char *close = strchr(p, '}');

			if (close == NULL || (size_t)(close - p - 1) >= sizeof(name))
				return HC_ERR_CONFIG;
			n = (size_t)(close - p - 1);
			memcpy(name, p + 1, n);
			p = close + 1;
		} else {
			while ((p[n] >= 'A' && p[n] <= 'Z') || (p[n] >= 'a' && p[n] <= 'z') ||
			       (p[n] >= '0' && p[n] <= '9') || p[n] == '_') {
				if (n + 1 >= sizeof(name))
					return HC_ERR_CONFIG;
				name[n] = p[n];
				n++;
			}
			p += n;
		}
		name[n] = '\0';
		if (n == 0) {
			val = "$";      /* a lone '$' stays */
		} else {
			val = getenv(name);
			if (val == NULL)
				val = "";
		}
		n = strlen(val);
		if (o + n >= cap)
			return HC_ERR_CONFIG;
		memcpy(out + o, val, n);
		o += n;
	}
	out[o] = '\0';
	return 0;
}

static int copy_opt(const struct hc_uri *u, const char *key, char *dst, size_t cap)
{
	const char *v = hc_uri_opt(u, key);

	if (v == NULL)
		return 0;
	if (strlen(v) >= cap)
		return HC_ERR_CONFIG;
	strcpy(dst, v);
	return 0;
}

int scr_source_parse(const char *spec, struct scr_config *c)
{
	static const char *known[] = {
		"inClusterConfig", "insecure", "auth", "useServiceAccount",
		"kubeletPort", "kubeletHttps", "host_id_annotation",
		"useNodeStatusPort", "kubeletInsecure",
	};
	char expanded[2048];
	struct scr_creds *cr;
	struct hc_uri *u;
	int64_t port;
	int rc;

	u = malloc(sizeof(*u));
	if (u == NULL)
		return -ENOMEM;
	rc = expand_env(spec, expanded, sizeof(expanded));
	if (rc == 0)
		rc = hc_uri_parse(expanded, u);
	if (rc != 0) {
		hc_error("--source=%s: does not parse as KIND:URL?opts", spec);
		goto free_uri;
	}
	rc = HC_ERR_CONFIG;
	if (strcmp(u->kind, "kubernetes.summary_api") != 0 &&
	    strcmp(u->kind, "kubernetes") != 0 &&
	    strcmp(u->kind, "kubernetes.resource_metrics") != 0) {
		hc_error("--source: kind '%s' is not supported (kubernetes.summary_api, kubernetes, "
			 "kubernetes.resource_metrics)", u->kind);
		goto free_uri;
	}
	c->resource_metrics = strcmp(u->kind, "kubernetes.resource_metrics") == 0;
	for (int i = 0; i < u->nopts; i++) {
		size_t k;

		for (k = 0; k < HC_ARRAY_LEN(known); k++)
			if (strcmp(u->opts[i].key, known[k]) == 0)
				break;
		if (k == HC_ARRAY_LEN(known))
			hc_warn("--source: unknown option '%s' ignored", u->opts[i].key);
	}
	if (hc_uri_opt_bool(u, "inClusterConfig", 1, &c->in_cluster) ||
	    hc_uri_opt_bool(u, "insecure", 0, &c->insecure) ||
	    hc_uri_opt_bool(u, "useServiceAccount", 0, &c->use_service_account) ||
	    hc_uri_opt_bool(u, "kubeletHttps", 0, &c->kubelet_https) ||
	    hc_uri_opt_bool(u, "kubeletInsecure", 0, &c->kubelet_insecure) ||
	    hc_uri_opt_bool(u, "useNodeStatusPort", 0, &c->use_node_status_port)) {
		hc_error("--source: a boolean option is not true/false");
		goto free_uri;
	}
	if (hc_uri_opt_int(u, "kubeletPort", c->kubelet_https ? 10250 : 10255, &port) ||
	    port <= 0 || port > 65535) {
		hc_error("--source: kubeletPort must be a port number");
		goto free_uri;
	}
	c->kubelet_port = (int)port;
	if (copy_opt(u, "auth", c->auth, sizeof(c->auth)) ||
	    copy_opt(u, "host_id_annotation", c->host_id_annotation,
		     sizeof(c->host_id_annotation))) {
		hc_error("--source: an option value is too long");
		goto free_uri;
	}
	/* Heapster's documented "kubernetes.summary_api:''" is an empty URL */
	if (strcmp(u->url, "''") == 0 || strcmp(u->url, "\"\"") == 0)
		u->url[0] = '\0';
	if (strlen(u->url) >= sizeof(c->api_url)) {
		hc_error("--source: URL too long");
		goto free_uri;
	}
	strcpy(c->api_url, u->url);
	while (c->api_url[0] && c->api_url[strlen(c->api_url) - 1] == '/')
		c->api_url[strlen(c->api_url) - 1] = '\0';

	if (u->url[0] != '\0' && ((strcmp(u->scheme, "http") != 0 &&
				   strcmp(u->scheme, "https") != 0) || u->host[0] == '\0')) {
		hc_error("--source: '%s' is not an http(s)://HOST[:PORT] URL", u->url);
		goto free_uri;
	}
	/* the access mode: service account, kubeconfig, URL (auth.c) */
	cr = malloc(sizeof(*cr));
	if (cr == NULL) {
		rc = -ENOMEM;
		goto free_uri;
	}
	rc = scr_creds_load(c, cr);
	if (rc == 0)
		memcpy(c->api_url, cr->server, sizeof(c->api_url));
	scr_creds_free(cr);
	free(cr);
	if (rc != 0)
		goto free_uri;
	rc = 0;

free_uri:
	free(u);
	return rc;
}

static void usage(FILE *f)
{
	fputs("usage: heapster-scraper --source=kubernetes.summary_api:[URL]?opts [options]\n"
	      "  kinds: kubernetes.summary_api (= kubernetes), kubernetes.resource_metrics (lighter:\n"
	      "    cpu/usage, memory/working_set, start times from /metrics/resource)\n"
	      "  source options: inClusterConfig (true), auth=KUBECONFIG, insecure, useServiceAccount,\n"
	      "    kubeletPort, kubeletHttps, kubeletInsecure, useNodeStatusPort, host_id_annotation\n"
	      "  --metric_resolution=D      scrape period (default 60s, minimum 5s)\n"
	      "  --scrape_offset=D          delay after the window end (default 5s, <= resolution/2)\n"
	      "  --kubelet_timeout=D        whole per-node deadline (default min(resolution/2, 20s))\n"
	      "  --instance=NAME            queue names /heapster-NAME-* (default \"default\")\n"
	      "  --once                     scrape once, print the batch as JSON, exit\n"
	      "  --once_metadata            with --once: print the metadata batch instead\n"
	      "  --metadata=true|false      send the metadata stream (nodes, pods, workloads; default true)\n"
	      "  --metadata_watch=true|false  keep pods by watch between full listings (default true)\n"
	      "                             or list them every round\n"
	      "  --max_concurrent_scrapes=N kubelet requests in flight (default 256)\n"
	      "  --store=DIR                publish self-metrics in the store (docs/STORE.md)\n"
	      "  --log_level=info|debug     (default info)\n"
	      "  --bench_parse=FILE         parse a summary --bench_iterations times (1000), print MB/s\n"
	      "Durations: 500ms, 5s, 1m, 1m30s, 1h.\n", f);
}

int scr_config_parse(int argc, char **argv, struct scr_config *c)
{
	enum { O_SOURCE = 256, O_RES, O_INSTANCE, O_OFFSET, O_TIMEOUT, O_ONCE,
	       O_LOG, O_INFLIGHT, O_BENCH, O_BENCH_N, O_HELP, O_ONCE_META, O_META, O_META_WATCH,
	       O_STORE };
	static const struct option opts[] = {
		{ "source", required_argument, NULL, O_SOURCE },
		{ "metric_resolution", required_argument, NULL, O_RES },
		{ "instance", required_argument, NULL, O_INSTANCE },
		{ "scrape_offset", required_argument, NULL, O_OFFSET },
		{ "kubelet_timeout", required_argument, NULL, O_TIMEOUT },
		{ "once", no_argument, NULL, O_ONCE },
		{ "log_level", required_argument, NULL, O_LOG },
		{ "max_concurrent_scrapes", required_argument, NULL, O_INFLIGHT },
		{ "bench_parse", required_argument, NULL, O_BENCH },
		{ "bench_iterations", required_argument, NULL, O_BENCH_N },
		{ "help", no_argument, NULL, O_HELP },
		{ "once_metadata", no_argument, NULL, O_ONCE_META },
		{ "metadata", required_argument, NULL, O_META },
		{ "metadata_watch", required_argument, NULL, O_META_WATCH },
		{ "store", required_argument, NULL, O_STORE },
		{ NULL, 0, NULL, 0 },
	};
	const char *source = NULL;
	int have_offset = 0, have_timeout = 0, opt;
	char *end;
	long n;

	memset(c, 0, sizeof(*c));
	c->resolution_ms = 60000;
	c->offset_ms = 5000;
	c->kubelet_port = 10255;
	c->in_cluster = 1;
	strcpy(c->instance, "default");
	c->log_level = HC_LOG_INFO;
	c->max_inflight = 256;
	c->bench_iterations = 1000;
	c->metadata = 1;
	c->metadata_watch = 1;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case O_SOURCE:
			source = optarg;
			break;
		case O_RES:
			if (hc_duration_parse(optarg, &c->resolution_ms) != 0) {
				hc_error("--metric_resolution=%s: not a duration", optarg);
				return HC_ERR_CONFIG;
			}
			break;
		case O_OFFSET:
			if (hc_duration_parse(optarg, &c->offset_ms) != 0) {
				hc_error("--scrape_offset=%s: not a duration", optarg);
				return HC_ERR_CONFIG;
			}
			have_offset = 1;
			break;
		case O_TIMEOUT:
			if (hc_duration_parse(optarg, &c->kubelet_timeout_ms) != 0 ||
			    c->kubelet_timeout_ms <= 0) {
				hc_error("--kubelet_timeout=%s: not a positive duration", optarg);
				return HC_ERR_CONFIG;
			}
			have_timeout = 1;
			break;
		case O_INSTANCE:
			if (optarg[0] == '\0' || strlen(optarg) >= sizeof(c->instance) ||
			    strchr(optarg, '/')) {
				hc_error("--instance=%s: empty, too long or contains '/'", optarg);
				return HC_ERR_CONFIG;
			}
			strcpy(c->instance, optarg);
			break;
		case O_ONCE:
			c->once = 1;
			break;
		case O_STORE:
			c->store_path = optarg;
			break;
		case O_ONCE_META:
			c->once_metadata = 1;
			break;
		case O_META:
		case O_META_WATCH: {
			int *dst = opt == O_META ? &c->metadata : &c->metadata_watch;

			if (strcmp(optarg, "true") == 0 || strcmp(optarg, "1") == 0) {
				*dst = 1;
			} else if (strcmp(optarg, "false") == 0 || strcmp(optarg, "0") == 0) {
				*dst = 0;
			} else {
				hc_error("--%s=%s: true or false",
					 opt == O_META ? "metadata" : "metadata_watch", optarg);
				return HC_ERR_CONFIG;
			}
			break;
		}
		case O_LOG:
			if (strcmp(optarg, "debug") == 0)
				c->log_level = HC_LOG_DEBUG;
			else if (strcmp(optarg, "info") == 0)
				c->log_level = HC_LOG_INFO;
			else if (strcmp(optarg, "warn") == 0 || strcmp(optarg, "warning") == 0)
				c->log_level = HC_LOG_WARN;
			else if (strcmp(optarg, "error") == 0)
				c->log_level = HC_LOG_ERROR;
			else {
				hc_error("--log_level=%s: info, debug, warn or error", optarg);
				return HC_ERR_CONFIG;
			}
			break;
		case O_INFLIGHT:
			n = strtol(optarg, &end, 10);
			if (*end || n < 1 || n > 100000) {
				hc_error("--max_concurrent_scrapes=%s: 1 to 100000", optarg);
				return HC_ERR_CONFIG;
			}
			c->max_inflight = (int)n;
			break;
		case O_BENCH:
			if (strlen(optarg) >= sizeof(c->bench_file)) {
				hc_error("--bench_parse: path too long");
				return HC_ERR_CONFIG;
			}
			strcpy(c->bench_file, optarg);
			break;
		case O_BENCH_N:
			n = strtol(optarg, &end, 10);
			if (*end || n < 1) {
				hc_error("--bench_iterations=%s: a positive number", optarg);
				return HC_ERR_CONFIG;
			}
			c->bench_iterations = (int)n;
			break;
		case O_HELP:
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return HC_ERR_CONFIG;
		}
	}
	if (optind < argc) {
		hc_error("unexpected argument '%s'", argv[optind]);
		return HC_ERR_CONFIG;
	}
	if (c->bench_file[0])
		return 0;
	if (source == NULL) {
		hc_error("--source is required");
		usage(stderr);
		return HC_ERR_CONFIG;
	}
	if (scr_source_parse(source, c) != 0)
		return HC_ERR_CONFIG;
	if (c->resolution_ms < SCR_MIN_RESOLUTION) {
		hc_error("--metric_resolution: %lld ms is below the minimum of 5s",
			 (long long)c->resolution_ms);
		return HC_ERR_CONFIG;
	}
	if (c->offset_ms > c->resolution_ms / 2) {
		if (have_offset)
			hc_warn("--scrape_offset capped at resolution/2 = %lld ms",
				(long long)(c->resolution_ms / 2));
		c->offset_ms = c->resolution_ms / 2;
	}
	if (!have_timeout) {
		c->kubelet_timeout_ms = c->resolution_ms / 2;
		if (c->kubelet_timeout_ms > 20000)
			c->kubelet_timeout_ms = 20000;
	} else if (c->kubelet_timeout_ms > c->resolution_ms) {
		hc_warn("--kubelet_timeout capped at the resolution, %lld ms",
			(long long)c->resolution_ms);
		c->kubelet_timeout_ms = c->resolution_ms;
	}
	return 0;
}
