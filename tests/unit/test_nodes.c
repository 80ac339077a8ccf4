/*
 * test_nodes.c - the NodeList parser (scraper/nodes.c) on the real node
 * list fixture and hand-written edge cases (NotReady, no Ready condition,
 * ExternalIP fallback, pagination), plus the scraper's flag helpers
 * (Go durations, --source options) that decide which nodes and ports are
 * scraped, and the cluster access modes (kubeconfig, service account,
 * base64 -data fields; scraper/auth.c).  Runs from the repository root (fixtures at ../shared/fixtures/,
 * or HC_FIXTURES=DIR).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "hc.h"
#include "log.h"
#include "nodes.h"
#include "auth.h"
#include "scraper.h"

static char *load_fixture(const char *name, size_t *len)
{
	const char *dir = getenv("HC_FIXTURES");
	char path[1024];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "../shared/fixtures", name);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open fixture %s (run from the repository root)", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static int parse(struct scr_nodelist *l, const char *json, const char *anno)
{
	return scr_nodes_parse(json, strlen(json), anno, l);
}

/* One item of a node list with the given status parts. */
static void item(char *buf, size_t cap, const char *name, const char *addresses,
		 const char *conditions)
{
	snprintf(buf, cap,
		 "{\"kind\":\"NodeList\",\"items\":[{\"metadata\":{\"name\":\"%s\"},"
		 "\"status\":{\"addresses\":[%s],\"conditions\":[%s]}}]}",
		 name, addresses, conditions);
}

static void test_fixture(void **state)
{
	struct scr_nodelist l;
	size_t len;
	char *json = load_fixture("nodelist-nri-kubernetes-k8s1.35.from-yaml.json", &len);
	const struct scr_node *n;
	int64_t created;

	(void)state;
	scr_nodelist_init(&l);
	assert_int_equal(scr_nodes_parse(json, len, "node.alpha.kubernetes.io/ttl", &l), 0);
	assert_int_equal(l.n, 1);
	n = &l.nodes[0];
	assert_string_equal(n->name, "datagen-1-35");
	assert_string_equal(n->ip, "192.168.67.2");           /* InternalIP */
	assert_string_equal(n->hostname, "datagen-1-35");     /* Hostname address */
	assert_int_equal(n->kubelet_port, 10250);             /* daemonEndpoints...Port */
	assert_int_equal(n->ready, 1);                        /* Ready=True */
	assert_int_equal(hc_time_parse("2026-06-26T10:12:11Z", 20, &created), 0);
	assert_int_equal(n->create_ms, created);
	assert_string_equal(n->host_id, "0");                 /* the annotation's value */
	assert_string_equal(l.cont, "");

	/* without the annotation option, host_id is empty */
	l.n = 0;
	assert_int_equal(scr_nodes_parse(json, len, NULL, &l), 0);
	assert_string_equal(l.nodes[0].host_id, "");
	/* a page is appended to what the list holds */
	assert_int_equal(scr_nodes_parse(json, len, "", &l), 0);
	assert_int_equal(l.n, 2);
	scr_nodelist_free(&l);
	free(json);
}

static void test_ready_conditions(void **state)
{
	struct scr_nodelist l;
	char buf[2048];
	const char *ip = "{\"type\":\"InternalIP\",\"address\":\"10.0.0.1\"}";

	(void)state;
	scr_nodelist_init(&l);
	item(buf, sizeof(buf), "notready", ip,
	     "{\"type\":\"MemoryPressure\",\"status\":\"False\"},{\"type\":\"Ready\",\"status\":\"False\"}");
	assert_int_equal(parse(&l, buf, NULL), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.nodes[0].ready, 0);

	item(buf, sizeof(buf), "unknown", ip, "{\"type\":\"Ready\",\"status\":\"Unknown\"}");
	assert_int_equal(parse(&l, buf, NULL), 0);
	assert_int_equal(l.nodes[1].ready, 0);

	/* no Ready condition at all: scraped */
	item(buf, sizeof(buf), "nocond", ip, "{\"type\":\"DiskPressure\",\"status\":\"True\"}");
	assert_int_equal(parse(&l, buf, NULL), 0);
	assert_int_equal(l.nodes[2].ready, 1);
	item(buf, sizeof(buf), "empty", ip, "");
	assert_int_equal(parse(&l, buf, NULL), 0);
	assert_int_equal(l.nodes[3].ready, 1);

	item(buf, sizeof(buf), "ready", ip, "{\"status\":\"True\",\"type\":\"Ready\"}");
	assert_int_equal(parse(&l, buf, NULL), 0);
	assert_int_equal(l.nodes[4].ready, 1);
	assert_string_equal(l.nodes[4].name, "ready");
	scr_nodelist_free(&l);
}

static void test_addresses(void **state)
{
	struct scr_nodelist l;
	char buf[2048];

	(void)state;
	scr_nodelist_init(&l);
	/* ExternalIP only: used; no Hostname address: hostname = name */
	item(buf, sizeof(buf), "ext", "{\"type\":\"ExternalIP\",\"address\":\"203.0.113.7\"}", "");
	assert_int_equal(parse(&l, buf, NULL), 0);
	assert_string_equal(l.nodes[0].ip, "203.0.113.7");
	assert_string_equal(l.nodes[0].hostname, "ext");
	assert_int_equal(l.nodes[0].kubelet_port, 0);

	/* InternalIP wins even when listed after ExternalIP; first of each kind */
	item(buf, sizeof(buf), "both",
	     "{\"type\":\"Hostname\",\"address\":\"host-b\"},"
	     "{\"type\":\"ExternalIP\",\"address\":\"203.0.113.8\"},"
	     "{\"type\":\"InternalIP\",\"address\":\"10.1.2.3\"},"
	     "{\"type\":\"InternalIP\",\"address\":\"fd00::3\"},"
	     "{\"type\":\"Hostname\",\"address\":\"second\"}", "");
	assert_int_equal(parse(&l, buf, NULL), 0);
	assert_string_equal(l.nodes[1].ip, "10.1.2.3");
	assert_string_equal(l.nodes[1].hostname, "host-b");

	/* no address at all: listed, with an empty ip (the scraper fails it) */
	item(buf, sizeof(buf), "none", "{\"type\":\"InternalDNS\",\"address\":\"x.local\"}", "");
	assert_int_equal(parse(&l, buf, NULL), 0);
	assert_string_equal(l.nodes[2].ip, "");

	/* IPv6 */
	item(buf, sizeof(buf), "v6", "{\"address\":\"fd00::1\",\"type\":\"InternalIP\"}", "");
	assert_int_equal(parse(&l, buf, NULL), 0);
	assert_string_equal(l.nodes[3].ip, "fd00::1");
	scr_nodelist_free(&l);
}

static void test_items_and_pages(void **state)
{
	struct scr_nodelist l;
	const char *page1 =
		"{\"kind\":\"NodeList\",\"metadata\":{\"resourceVersion\":\"7\",\"continue\":\"abc\\u003d\"},"
		"\"items\":[{\"metadata\":{\"name\":\"a\",\"annotations\":{\"example.com\\/host-id\":\"h-a\"}},"
		"\"status\":{\"daemonEndpoints\":{\"kubeletEndpoint\":{\"Port\":10255}},"
		"\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"10.0.0.1\"}]}},"
		"{\"metadata\":{\"namespace\":\"x\"}},"                 /* no name: skipped */
		"{\"metadata\":{\"name\":\"\"}},"                      /* empty name: skipped */
		"7, null,"
		"{\"metadata\":{\"name\":\"b\",\"creationTimestamp\":null},\"status\":null}]}";
	const char *page2 = "{\"kind\":\"NodeList\",\"metadata\":{},\"items\":null}";

	(void)state;
	scr_nodelist_init(&l);
	assert_int_equal(parse(&l, page1, "example.com/host-id"), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.cont, "abc=");
	assert_string_equal(l.nodes[0].host_id, "h-a");
	assert_int_equal(l.nodes[0].kubelet_port, 10255);
	assert_string_equal(l.nodes[1].name, "b");
	assert_int_equal(l.nodes[1].create_ms, 0);
	assert_int_equal(l.nodes[1].ready, 1);
	assert_string_equal(l.nodes[1].host_id, "");
	/* the last page clears the continue token */
	assert_int_equal(parse(&l, page2, NULL), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.cont, "");
	scr_nodelist_free(&l);
}

static void test_not_a_node_list(void **state)
{
	static const char *bad[] = {
		"", "null", "[]", "{}",
		"{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"code\":403}",
		"{\"items\":{}}", "{\"items\":[{\"metadata\":{\"name\":\"a\"}}]",
		"{\"items\":[{\"metadata\":{\"name\":\"a\"}}]} trailing",
	};
	struct scr_nodelist l;
	char buf[512];

	(void)state;
	scr_nodelist_init(&l);
	item(buf, sizeof(buf), "keep", "", "");
	assert_int_equal(parse(&l, buf, NULL), 0);
	for (size_t i = 0; i < HC_ARRAY_LEN(bad); i++) {
		if (parse(&l, bad[i], NULL) != HC_ERR_PARSE)
			fail_msg("accepted: %s", bad[i]);
		assert_int_equal(l.n, 1);
		assert_string_equal(l.nodes[0].name, "keep");
	}
	/* every cut of a real page fails */
	{
		size_t len;
		char *json = load_fixture("nodelist-nri-kubernetes-k8s1.35.from-yaml.json", &len);

		for (size_t cut = 0; cut + 2 < len; cut++)
			if (scr_nodes_parse(json, cut, NULL, &l) != HC_ERR_PARSE)
				fail_msg("a page cut at %zu was accepted", cut);
		assert_int_equal(l.n, 1);
		free(json);
	}
	scr_nodelist_free(&l);
}

/* ---- the flags that choose what is scraped --------------------------------- */

static void test_durations(void **state)
{
	static const struct { const char *s; int64_t ms; } ok[] = {
		{ "5s", 5000 }, { "1m", 60000 }, { "1m30s", 90000 }, { "500ms", 500 },
		{ "1.5s", 1500 }, { "2h", 7200000 }, { "0", 0 }, { "1h1m1s1ms", 3661001 },
		{ "90s", 90000 }, { "1500us", 1 }, { "+10s", 10000 },
	};
	static const char *bad[] = { "", "5", "s", "5x", "-5s", "1e3s", "0x10s", "5 s", "1..5s" };
	int64_t v;

	(void)state;
	for (size_t i = 0; i < HC_ARRAY_LEN(ok); i++) {
		if (hc_duration_parse(ok[i].s, &v) != 0)
			fail_msg("refused %s", ok[i].s);
		assert_int_equal(v, ok[i].ms);
	}
	for (size_t i = 0; i < HC_ARRAY_LEN(bad); i++)
		if (hc_duration_parse(bad[i], &v) == 0)
			fail_msg("accepted %s", bad[i]);
}

static void test_source(void **state)
{
	struct scr_config c;
	char *argv[8];
	int argc;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(scr_source_parse("kubernetes.summary_api:http://127.0.0.1:8080/?"
					  "inClusterConfig=false&kubeletPort=10266&"
					  "host_id_annotation=example.com%2Fid", &c), 0);
	assert_string_equal(c.api_url, "http://127.0.0.1:8080");
	assert_int_equal(c.kubelet_port, 10266);
	assert_int_equal(c.in_cluster, 0);
	assert_string_equal(c.host_id_annotation, "example.com/id");

	/* kind "kubernetes", default port, environment expansion */
	setenv("SCR_TEST_API", "127.0.0.1:9", 1);
	memset(&c, 0, sizeof(c));
	assert_int_equal(scr_source_parse("kubernetes:http://${SCR_TEST_API}?inClusterConfig=false",
					  &c), 0);
	assert_string_equal(c.api_url, "http://127.0.0.1:9");
	assert_int_equal(c.kubelet_port, 10255);

	/* https, kubeletHttps (port 10250 by default) */
	memset(&c, 0, sizeof(c));
	assert_int_equal(scr_source_parse("kubernetes:https://h:6443/?inClusterConfig=false&"
					  "kubeletHttps=true&insecure=true&kubeletInsecure=1", &c), 0);
	assert_string_equal(c.api_url, "https://h:6443");
	assert_int_equal(c.kubelet_https, 1);
	assert_int_equal(c.kubelet_port, 10250);
	assert_int_equal(c.insecure, 1);
	assert_int_equal(c.kubelet_insecure, 1);

	/* refused: wrong kind, in-cluster without a service account, no kubeconfig */
	setenv(SCR_SA_DIR_ENV, "/nonexistent-sa-dir", 1);
	unsetenv("KUBERNETES_SERVICE_HOST");
	assert_int_equal(scr_source_parse("kubernetes.summary_api:http://h:1", &c), HC_ERR_CONFIG);
	assert_int_equal(scr_source_parse("influxdb:http://h:1?inClusterConfig=false", &c),
			 HC_ERR_CONFIG);
	assert_int_equal(scr_source_parse("kubernetes:ftp://h:1?inClusterConfig=false", &c),
			 HC_ERR_CONFIG);
	assert_int_equal(scr_source_parse("kubernetes:http://h:1?inClusterConfig=false&auth=/k", &c),
			 HC_ERR_CONFIG);
	assert_int_equal(scr_source_parse("kubernetes:?inClusterConfig=false", &c), HC_ERR_CONFIG);
	assert_int_equal(scr_source_parse("kubernetes:http://h:1?inClusterConfig=maybe", &c),
			 HC_ERR_CONFIG);
	assert_int_equal(scr_source_parse("kubernetes:http://h:1?inClusterConfig=false&kubeletPort=0",
					  &c), HC_ERR_CONFIG);

	/* the command line: resolution minimum, offset cap, timeout default */
	argv[0] = "heapster-scraper";
	argv[1] = "--source=kubernetes:http://h:1?inClusterConfig=false";
	argv[2] = "--metric_resolution";
	argv[3] = "8s";
	argc = 4;
	assert_int_equal(scr_config_parse(argc, argv, &c), 0);
	assert_int_equal(c.resolution_ms, 8000);
	assert_int_equal(c.offset_ms, 4000);
	assert_int_equal(c.kubelet_timeout_ms, 4000);
	assert_string_equal(c.instance, "default");
	argv[3] = "4s";
	assert_int_equal(scr_config_parse(argc, argv, &c), HC_ERR_CONFIG);
	argv[3] = "2m";
	assert_int_equal(scr_config_parse(argc, argv, &c), 0);
	assert_int_equal(c.offset_ms, 5000);
	assert_int_equal(c.kubelet_timeout_ms, 20000);
	argv[4] = "--kubelet_timeout=3s";
	argv[5] = "--once";
	argc = 6;
	assert_int_equal(scr_config_parse(argc, argv, &c), 0);
	assert_int_equal(c.kubelet_timeout_ms, 3000);
	assert_int_equal(c.once, 1);
	assert_int_equal(c.metadata, 1);            /* defaults */
	assert_int_equal(c.metadata_watch, 1);
	argv[4] = "--metadata_watch=false";
	argv[5] = "--once_metadata";
	argv[6] = "--metadata=0";
	argc = 7;
	assert_int_equal(scr_config_parse(argc, argv, &c), 0);
	assert_int_equal(c.metadata_watch, 0);
	assert_int_equal(c.metadata, 0);
	assert_int_equal(c.once_metadata, 1);
	argv[4] = "--metadata_watch=maybe";
	assert_int_equal(scr_config_parse(argc, argv, &c), HC_ERR_CONFIG);
}


/* ---- cluster access: kubeconfig, service account ---------------------------- */

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_base64(void **state)
{
	struct scr_blob b;

	(void)state;
	assert_int_equal(scr_base64_decode("aGVsbG8gd29ybGQ=", 16, &b), 0);
	assert_int_equal(b.len, 11);
	assert_memory_equal(b.p, "hello world", 11);
	free(b.p);
	assert_int_equal(scr_base64_decode("LS0t\nLS1C\r\nRUdJTg", 17, &b), 0);   /* no padding */
	assert_string_equal(b.p, "-----BEGIN");
	free(b.p);
	assert_int_equal(scr_base64_decode("a$b=", 4, &b), HC_ERR_PARSE);
}

/* What kubectl writes: sequences at their key's indent, quotes, comments. */
static const char *kubeconfig =
	"# written by a test\n"
	"apiVersion: v1\n"
	"clusters:\n"
	"- cluster:\n"
	"    certificate-authority-data: Q0EtUEVN   # base64 of CA-PEM\n"
	"    server: https://127.0.0.1:6443/\n"
	"  name: kind-kind\n"
	"- cluster:\n"
	"    certificate-authority: ca.crt\n"
	"    insecure-skip-tls-verify: true\n"
	"    server: \"https://other:443\"\n"
	"  name: 'other'\n"
	"contexts:\n"
	"- context:\n"
	"    cluster: kind-kind\n"
	"    user: kind-kind\n"
	"  name: kind-kind\n"
	"-   context:\n"
	"      cluster: other\n"
	"      user: tok\n"
	"    name: other-ctx\n"
	"current-context: %s\n"
	"kind: Config\n"
	"preferences: {}\n"
	"users:\n"
	"- name: kind-kind\n"
	"  user:\n"
	"    client-certificate-data: Q0VSVA==\n"
	"    client-key: keys/client.key\n"
	"- name: tok\n"
	"  user:\n"
	"    token: 'abc''def'\n"
	"    tokenFile: \"/abs/token\"\n";

static void test_kubeconfig(void **state)
{
	char dir[] = "/tmp/test_nodes_kcXXXXXX", path[600], text[4096], err[256];
	struct scr_kubeconfig kc;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/keys", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	write_file(dir, "keys/client.key", "KEY-PEM\n");
	write_file(dir, "ca.crt", "OTHER-CA\n");
	snprintf(path, sizeof(path), "%s/config", dir);

	snprintf(text, sizeof(text), kubeconfig, "kind-kind");
	write_file(dir, "config", text);
	if (scr_kubeconfig_load(path, &kc, err, sizeof(err)) != 0)
		fail_msg("kubeconfig refused: %s", err);
	assert_string_equal(kc.server, "https://127.0.0.1:6443/");
	assert_int_equal(kc.ca.len, 6);
	assert_memory_equal(kc.ca.p, "CA-PEM", 6);
	assert_int_equal(kc.cert.len, 4);
	assert_memory_equal(kc.cert.p, "CERT", 4);
	assert_string_equal(kc.key.p, "KEY-PEM\n");          /* relative to the file */
	assert_null(kc.token);
	assert_int_equal(kc.insecure, 0);
	scr_kubeconfig_free(&kc);

	snprintf(text, sizeof(text), kubeconfig, "other-ctx");
	write_file(dir, "config", text);
	if (scr_kubeconfig_load(path, &kc, err, sizeof(err)) != 0)
		fail_msg("kubeconfig refused: %s", err);
	assert_string_equal(kc.server, "https://other:443");
	assert_string_equal(kc.ca.p, "OTHER-CA\n");
	assert_int_equal(kc.insecure, 1);
	assert_string_equal(kc.token, "abc'def");
	assert_string_equal(kc.token_file, "/abs/token");
	assert_int_equal(kc.cert.len, 0);
	scr_kubeconfig_free(&kc);

	/* refusals, each with its reason */
	snprintf(text, sizeof(text), kubeconfig, "nope");
	write_file(dir, "config", text);
	assert_int_equal(scr_kubeconfig_load(path, &kc, err, sizeof(err)), HC_ERR_CONFIG);
	assert_non_null(strstr(err, "'nope' not found"));
	write_file(dir, "config", "current-context: a\ncontexts:\n- name: a\n  context:\n"
		   "    cluster: c\n    user: u\nclusters:\n- name: c\n  cluster:\n"
		   "    server: https://x\nusers:\n- name: u\n  user:\n    exec:\n"
		   "      command: aws\n");
	assert_int_equal(scr_kubeconfig_load(path, &kc, err, sizeof(err)), HC_ERR_CONFIG);
	assert_non_null(strstr(err, "exec"));
	write_file(dir, "config", "current-context: a\nclusters:\n  - name: c\n bad: indent\n");
	assert_int_equal(scr_kubeconfig_load(path, &kc, err, sizeof(err)), HC_ERR_CONFIG);
	write_file(dir, "config", "current-context: a\nkey: |\n  block\n");
	assert_int_equal(scr_kubeconfig_load(path, &kc, err, sizeof(err)), HC_ERR_CONFIG);
	assert_non_null(strstr(err, "line 2"));
	write_file(dir, "config", "{\"current-context\":\"a\"}");
	assert_int_equal(scr_kubeconfig_load(path, &kc, err, sizeof(err)), HC_ERR_CONFIG);
	assert_non_null(strstr(err, "JSON"));
	snprintf(path, sizeof(path), "%s/missing", dir);
	assert_int_equal(scr_kubeconfig_load(path, &kc, err, sizeof(err)), HC_ERR_CONFIG);

	/* through --source: auth= gives the kubeconfig's server; a URL wins */
	snprintf(text, sizeof(text), kubeconfig, "kind-kind");
	write_file(dir, "config", text);
	{
		struct scr_config c;
		char spec[700];

		memset(&c, 0, sizeof(c));
		snprintf(spec, sizeof(spec), "kubernetes:?inClusterConfig=false&auth=%s/config", dir);
		assert_int_equal(scr_source_parse(spec, &c), 0);
		assert_string_equal(c.api_url, "https://127.0.0.1:6443");
		snprintf(spec, sizeof(spec), "kubernetes:https://h:9?inClusterConfig=false&auth=%s/config",
			 dir);
		assert_int_equal(scr_source_parse(spec, &c), 0);
		assert_string_equal(c.api_url, "https://h:9");
	}
	snprintf(text, sizeof(text), "rm -rf '%s'", dir);
	assert_int_equal(system(text), 0);
}

static void test_in_cluster(void **state)
{
	char dir[] = "/tmp/test_nodes_saXXXXXX", cmd[600];
	struct scr_config c;
	struct scr_creds cr;

	(void)state;
	assert_non_null(mkdtemp(dir));
	setenv(SCR_SA_DIR_ENV, dir, 1);
	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	memset(&c, 0, sizeof(c));
	/* no token yet */
	assert_int_equal(scr_source_parse("kubernetes.summary_api:", &c), HC_ERR_CONFIG);
	write_file(dir, "token", "tok-1\n");
	/* no CA: refused unless insecure */
	assert_int_equal(scr_source_parse("kubernetes.summary_api:", &c), HC_ERR_CONFIG);
	assert_int_equal(scr_source_parse("kubernetes.summary_api:?insecure=true", &c), 0);
	write_file(dir, "ca.crt", "CA\n");
	assert_int_equal(scr_source_parse("kubernetes.summary_api:", &c), 0);
	assert_string_equal(c.api_url, "https://10.96.0.1:443");
	setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
	assert_int_equal(scr_source_parse("kubernetes.summary_api:", &c), 0);
	assert_string_equal(c.api_url, "https://[fd00::1]:443");
	/* Heapster's documented empty URL, quotes and all (deploy/heapster-c.yaml) */
	assert_int_equal(scr_source_parse("kubernetes.summary_api:''?kubeletHttps=true", &c), 0);
	assert_string_equal(c.api_url, "https://[fd00::1]:443");
	/* a URL in --source wins over the service's address */
	assert_int_equal(scr_source_parse("kubernetes.summary_api:https://kubernetes.default", &c), 0);
	assert_string_equal(c.api_url, "https://kubernetes.default");

	assert_int_equal(scr_creds_load(&c, &cr), 0);
	assert_string_equal(cr.token, "tok-1");
	assert_string_equal(cr.ca.p, "CA\n");
	assert_int_equal(scr_creds_refresh(&cr), 0);          /* unchanged */
	write_file(dir, "token", "tok-2");
	assert_int_equal(scr_creds_refresh(&cr), 1);          /* rotated */
	assert_string_equal(cr.token, "tok-2");
	write_file(dir, "token", "");
	assert_true(scr_creds_refresh(&cr) < 0);              /* empty: the old one stays */
	assert_string_equal(cr.token, "tok-2");
	scr_creds_free(&cr);

	/* useServiceAccount outside the cluster reads the same token */
	write_file(dir, "token", "tok-3");
	memset(&c, 0, sizeof(c));
	assert_int_equal(scr_source_parse("kubernetes:http://h:1?inClusterConfig=false&"
					  "useServiceAccount=true", &c), 0);
	assert_int_equal(scr_creds_load(&c, &cr), 0);
	assert_string_equal(cr.token, "tok-3");
	assert_int_equal(cr.ca.len, 0);
	scr_creds_free(&cr);
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv(SCR_SA_DIR_ENV);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture),
		cmocka_unit_test(test_ready_conditions),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_items_and_pages),
		cmocka_unit_test(test_not_a_node_list),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_source),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_kubeconfig),
		cmocka_unit_test(test_in_cluster),
	};

	hc_log_init("test_nodes", HC_LOG_ERROR + 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
