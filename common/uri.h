/*
 * uri.h - Heapster's --source / --sink syntax: KIND[:URL][?k=v&k=v...].
 *
 * Examples:
 *   kubernetes.summary_api:http://127.0.0.1:8080?inClusterConfig=false&kubeletPort=10255
 *   influxdb:http://monitoring-influxdb:8086?db=k8s&withfields=true
 *   log
 * The kind is everything before the first ':'; options are percent-decoded;
 * a repeated option keeps its last value.
 */
#ifndef HC_URI_H
#define HC_URI_H

#include <stdint.h>

#define HC_URI_MAX_OPTS 32

struct hc_uri_opt {
	char key[64];
	char value[512];
};

struct hc_uri {
	char               kind[64];
	char               url[512];    /* without the query; "" if none */
	char               scheme[16];  /* "http", "https", "tcp", "udp", or "" */
	char               host[256];   /* without brackets or port */
	int                port;        /* 0 if none */
	struct hc_uri_opt  opts[HC_URI_MAX_OPTS];
	int                nopts;
};

/* 0, or HC_ERR_CONFIG for a spec that does not parse or does not fit. */
int hc_uri_parse(const char *spec, struct hc_uri *out);

/* An option's value or NULL. */
const char *hc_uri_opt(const struct hc_uri *u, const char *key);

/*
 * An option as a bool ("true/false/1/0/yes/no") or an integer; *out = def
 * when absent.  0, or HC_ERR_CONFIG when present but malformed.
 */
int hc_uri_opt_bool(const struct hc_uri *u, const char *key, int def, int *out);
int hc_uri_opt_int(const struct hc_uri *u, const char *key, int64_t def,
		   int64_t *out);

#endif
