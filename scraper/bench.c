/*
 * bench.c - `heapster-scraper --bench_parse=FILE [--bench_iterations=N]`:
 * the summary parser's speed in MB per CPU second, not timed by any test.
 *
 * It parses FILE N times into one batch (reset between iterations, the
 * resets timed apart and subtracted) and prints, for comparison, the cost
 * of the validation pass alone and of jsmn's tokenizer alone on the same
 * bytes - the figure that chose this reader over jsmn (json.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define JSMN_STATIC
#include <jsmn.h>

#include "hc.h"
#include "json.h"
#include "scraper.h"
#include "summary.h"

static int64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Reads a whole file into a malloc'd buffer. */
static int read_file(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;
	int rc = 0;

	if (f == NULL)
		return -errno;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		rc = -EIO;
		goto close_file;
	}
	buf = malloc((size_t)n + 1);
	if (buf == NULL) {
		rc = -ENOMEM;
		goto close_file;
	}
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		rc = -EIO;
		goto close_file;
	}
	*out = buf;
	*len = (size_t)n;
close_file:
	fclose(f);
	return rc;
}

static double mb_per_s(size_t len, int iters, int64_t ns)
{
	return ns > 0 ? (double)len * iters / 1e6 / ((double)ns / 1e9) : 0;
}

int scr_bench_parse(const char *path, int iterations)
{
	struct scr_node node = { .name = "bench-node", .hostname = "bench-node" };
	struct hc_batch b;
	jsmntok_t *toks = NULL;
	unsigned int ntoks = 1024;
	jsmn_parser jp;
	char *buf = NULL;
	size_t len = 0;
	int64_t t0, parse_ns, reset_ns, valid_ns, jsmn_ns;
	int rc;

	rc = read_file(path, &buf, &len);
	if (rc != 0) {
		fprintf(stderr, "%s: %s\n", path, hc_strerror(rc));
		return rc;
	}
	rc = hc_batch_init(&b);
	if (rc != 0)
		goto free_buf;

	node.now_ms = hc_now_ms();
	t0 = cpu_ns();
	for (int i = 0; i < iterations; i++) {
		hc_batch_reset(&b, 0);
		rc = scr_summary_parse(buf, len, &node, &b);
		if (rc != 0) {
			fprintf(stderr, "%s: %s\n", path, hc_strerror(rc));
			goto free_batch;
		}
	}
	parse_ns = cpu_ns() - t0;

	/* the per-iteration batch reset is not parsing: measure it and subtract */
	t0 = cpu_ns();
	for (int i = 0; i < iterations; i++)
		hc_batch_reset(&b, 0);
	reset_ns = cpu_ns() - t0;
	if (reset_ns < parse_ns)
		parse_ns -= reset_ns;
	scr_summary_parse(buf, len, &node, &b);     /* for the counts printed */

	t0 = cpu_ns();
	for (int i = 0; i < iterations; i++)
		scr_json_validate(buf, len, "node", NULL);
	valid_ns = cpu_ns() - t0;

	/* jsmn: size the token array once (grown on JSMN_ERROR_NOMEM) */
	for (;;) {
		jsmntok_t *t = realloc(toks, ntoks * sizeof(*t));

		if (t == NULL) {
			rc = -ENOMEM;
			goto free_batch;
		}
		toks = t;
		jsmn_init(&jp);
		rc = jsmn_parse(&jp, buf, len, toks, ntoks);
		if (rc != JSMN_ERROR_NOMEM)
			break;
		ntoks *= 2;
	}
	t0 = cpu_ns();
	for (int i = 0; i < iterations; i++) {
		jsmn_init(&jp);
		jsmn_parse(&jp, buf, len, toks, ntoks);
	}
	jsmn_ns = cpu_ns() - t0;
	rc = 0;

	printf("%s: %zu bytes x %d: %u sets, %u values per body\n",
	       path, len, iterations, b.nsets, b.nvals);
	printf("  scr_summary_parse (validate + map): %8.1f MB/CPU-s  %7.1f us/body\n",
	       mb_per_s(len, iterations, parse_ns), parse_ns / 1e3 / iterations);
	printf("  validation pass alone:              %8.1f MB/CPU-s\n",
	       mb_per_s(len, iterations, valid_ns));
	printf("  jsmn_parse tokens alone (no map):   %8.1f MB/CPU-s\n",
	       mb_per_s(len, iterations, jsmn_ns));

free_batch:
	free(toks);
	hc_batch_free(&b);
free_buf:
	free(buf);
	return rc;
}
