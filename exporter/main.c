/*
 * main.c - heapster-exporter: one process per sink.
 *
 *   heapster-exporter --sink=influxdb:http://influx:8086?db=k8s \
 *       --name=influxdb-0 --store=/var/lib/heapster/store --instance=default
 *
 * Flags take "--flag=value" or "--flag value".  --name is the exporter's
 * identity: its cursor in the store and its notification queue
 * "/heapster-<instance>-exporter-<name>"; it defaults to the sink kind, so
 * two exporters of one kind need distinct names.  The loop itself is
 * exp_run() (exporter.c); this file parses flags, sets up logging, libcurl
 * and signals, and builds the sink.
 */
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exporter.h"
#include "hc.h"
#include "log.h"
#include "sink.h"
#include "uri.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: heapster-exporter --sink=KIND[:URL][?opts] --store=DIR\n"
		"                         [--name=NAME] [--instance=NAME] [--log_level=LEVEL]\n"
		"  --sink       where to send batches; kinds: %s\n"
		"  --store      the pipeline's LMDB store directory\n"
		"  --name       exporter identity: cursor and queue (default: the sink kind)\n"
		"  --instance   pipeline instance, for queue names (default: default)\n"
		"  --log_level  debug, info, warn or error (default: info)\n",
		exp_sink_kinds());
}

/*
 * Matches argv[*i] against --name: sets *val from "--name=V" or from the
 * next argument.  1 when matched, 0 when not, -1 when the value is missing.
 */
static int flag(int argc, char **argv, int *i, const char *name, const char **val)
{
	const char *a = argv[*i];
	size_t n = strlen(name);

	if (strncmp(a, "--", 2) != 0 || strncmp(a + 2, name, n) != 0)
		return 0;
	if (a[2 + n] == '=') {
		*val = a + 3 + n;
		return 1;
	}
	if (a[2 + n] != '\0')
		return 0;
	if (*i + 1 >= argc)
		return -1;
	*val = argv[++*i];
	return 1;
}

static int parse_level(const char *s, enum hc_log_level *out)
{
	static const char *names[] = { "debug", "info", "warn", "error" };

	for (int i = 0; i < 4; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (enum hc_log_level)i;
			return 0;
		}
	}
	if (strcmp(s, "warning") == 0) {
		*out = HC_LOG_WARN;
		return 0;
	}
	return HC_ERR_CONFIG;
}

int main(int argc, char **argv)
{
	const char *sink_spec = NULL, *name = NULL, *store = NULL;
	const char *instance = "default", *level = "info";
	const struct exp_sink_ops *ops;
	struct exp_config cfg = { 0 };
	enum hc_log_level lvl;
	struct sigaction sa;
	static struct hc_uri uri;
	void *sink = NULL;
	int rc;

	for (int i = 1; i < argc; i++) {
		int m = 0;

		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		}
		if ((m = flag(argc, argv, &i, "sink", &sink_spec)) == 0 &&
		    (m = flag(argc, argv, &i, "name", &name)) == 0 &&
		    (m = flag(argc, argv, &i, "store", &store)) == 0 &&
		    (m = flag(argc, argv, &i, "instance", &instance)) == 0 &&
		    (m = flag(argc, argv, &i, "log_level", &level)) == 0) {
			fprintf(stderr, "heapster-exporter: unknown argument %s\n", argv[i]);
			usage(stderr);
			return 2;
		}
		if (m < 0) {
			fprintf(stderr, "heapster-exporter: %s needs a value\n", argv[i]);
			return 2;
		}
	}
	if (parse_level(level, &lvl) != 0) {
		fprintf(stderr, "heapster-exporter: bad --log_level %s\n", level);
		return 2;
	}
	hc_log_init("exporter", lvl);
	if (sink_spec == NULL || store == NULL) {
		usage(stderr);
		return 2;
	}
	if (hc_uri_parse(sink_spec, &uri) != 0) {
		hc_error("bad --sink %s", sink_spec);
		return 2;
	}
	ops = exp_sink_find(uri.kind);
	if (ops == NULL) {
		hc_error("unknown sink kind '%s' (known: %s)", uri.kind, exp_sink_kinds());
		return 2;
	}
	if (name == NULL)
		name = ops->kind;
	if (name[0] == '\0' || strchr(name, '/') != NULL) {
		hc_error("bad --name '%s'", name);
		return 2;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;   /* no SA_RESTART: waits return EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		hc_error("curl_global_init failed");
		return 1;
	}
	rc = ops->init(&uri, &sink);
	if (rc != 0) {
		hc_error("sink %s:%s: %s", uri.kind, uri.url, hc_strerror(rc));
		goto cleanup_curl;
	}
	cfg.name = name;
	cfg.store_path = store;
	cfg.instance = instance;
	cfg.stop = &stop_flag;
	hc_info("exporter %s: sink %s, store %s, instance %s", name, ops->kind,
		store, instance);
	rc = exp_run(&cfg, ops, sink);
	ops->close(sink);

cleanup_curl:
	curl_global_cleanup();
	return rc == 0 ? 0 : 1;
}
