/*
 * dump.c - a batch as JSON, for `heapster-scraper --once` and for tests.
 *
 *   {"timestamp":"RFC3339","nodes_ok":N,"nodes_failed":N,
 *    "sets":{"<entity key>":{"labels":{..},"create_time":"RFC3339"|null,
 *            "start_time":..,"scrape_time":..,"metrics":{"cpu/usage":123,..},
 *            "labeled_metrics":[{"name":..,"labels":{..},"value":..}]}}}
 *
 * One set per line, so that grep and diff work on the output.  Integers are
 * printed exactly, floats with 17 significant digits (NaN and infinities,
 * which JSON lacks, as null).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>

#include "hc.h"
#include "scraper.h"

/* Writes s as a JSON string. */
static void put_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void put_time(FILE *f, int64_t ms)
{
	char buf[32];

	if (ms == 0) {
		fputs("null", f);
		return;
	}
	hc_time_format(ms, buf);
	fprintf(f, "\"%s\"", buf);
}

static void put_labels(FILE *f, const struct hc_label *l, uint32_t n)
{
	fputc('{', f);
	for (uint32_t i = 0; i < n; i++) {
		if (i)
			fputc(',', f);
		put_str(f, l[i].key);
		fputc(':', f);
		put_str(f, l[i].value);
	}
	fputc('}', f);
}

static void put_value(FILE *f, const struct hc_value *v)
{
	if (v->type == HC_FLOAT) {
		if (isfinite(v->v.f))
			fprintf(f, "%.17g", v->v.f);
		else
			fputs("null", f);
	} else {
		fprintf(f, "%lld", (long long)v->v.i);
	}
}

int scr_dump_json(FILE *f, struct hc_batch *b)
{
	char ts[32];
	int rc;

	rc = hc_batch_group(b);
	if (rc != 0)
		return rc;
	hc_time_format(b->ts_ms, ts);
	fprintf(f, "{\"timestamp\":\"%s\",\"nodes_ok\":%u,\"nodes_failed\":%u,\"sets\":{",
		ts, b->nodes_ok, b->nodes_failed);
	for (uint32_t s = 0; s < b->nsets; s++) {
		const struct hc_set *set = &b->sets[s];
		int first = 1;

		fputs(s ? ",\n" : "\n", f);
		put_str(f, set->key);
		fputs(":{\"labels\":", f);
		put_labels(f, &b->labels[set->labels_off], set->labels_n);
		fputs(",\"create_time\":", f);
		put_time(f, set->create_ms);
		fputs(",\"start_time\":", f);
		put_time(f, set->start_ms);
		fputs(",\"scrape_time\":", f);
		put_time(f, set->scrape_ms);
		fputs(",\"metrics\":{", f);
		for (uint32_t i = 0; i < set->vals_n; i++) {
			const struct hc_value *v = &b->vals[set->vals_off + i];

			if (v->labels_n)
				continue;
			if (!first)
				fputc(',', f);
			first = 0;
			put_str(f, b->names[v->name]);
			fputc(':', f);
			put_value(f, v);
		}
		fputs("},\"labeled_metrics\":[", f);
		first = 1;
		for (uint32_t i = 0; i < set->vals_n; i++) {
			const struct hc_value *v = &b->vals[set->vals_off + i];

			if (!v->labels_n)
				continue;
			if (!first)
				fputc(',', f);
			first = 0;
			fputs("{\"name\":", f);
			put_str(f, b->names[v->name]);
			fputs(",\"labels\":", f);
			put_labels(f, &b->labels[v->labels_off], v->labels_n);
			fputs(",\"value\":", f);
			put_value(f, v);
			fputc('}', f);
		}
		fputs("]}", f);
	}
	fputs("\n}}\n", f);
	return ferror(f) ? -EIO : 0;
}
