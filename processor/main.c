/*
 * heapster-processor - turns scraped batches into stored series.
 *
 * It is the store's only writer of data.  It reads batch streams from its
 * queue (HC_MSG_BATCH_CHUNK messages, FIRST ... LAST, decoded incrementally
 * as chunks arrive) and metadata streams (HC_MSG_META_CHUNK, common/meta.h:
 * pods, namespaces, nodes, kept until the next one replaces them), runs the
 * processors in Heapster's order (rates, enrichers, aggregators), writes the batch into both rings of the store in one
 * transaction, and tells every exporter with a HC_MSG_BATCH_STORED handle.
 * Exporters read the batch from the store themselves, by their own cursor,
 * so an exporter that is down or slow never blocks this process and loses
 * nothing: its queue may overflow (notifications are dropped), the store
 * still holds the batches.
 *
 * A stream broken in the middle (the scraper died, a chunk is missing) is
 * dropped whole and logged; the next FIRST chunk starts afresh.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aggregate.h"
#include "codec.h"
#include "enrich.h"
#include "hc.h"
#include "log.h"
#include "mq.h"
#include "prom.h"
#include "rate.h"
#include "store.h"

#define MAX_EXPORTERS 16

struct proc_config {
	const char *instance;
	const char *store_path;
	uint64_t    store_size;
	int64_t     short_ret, long_ret, backlog;
	const char *exporters[MAX_EXPORTERS];
	int         nexporters;
	const char *long_metrics[65];       /* NULL-terminated; [0] NULL = default */
	struct proc_label_opts labels;
	enum hc_log_level log_level;
	const char *record_dir;             /* --record: keep every stream's bytes */
	const char *replay_dir;             /* --bench_replay: process them offline */
};

/* One incoming stream being decoded: a metrics batch or a metadata batch. */
struct proc_stream {
	int                active;
	uint32_t           stream;
	uint32_t           next_seq;
	struct hc_decoder  dec;
	struct hc_batch   *into;      /* the batch being decoded */
	FILE              *record;    /* --record: the stream's bytes, or NULL */
	uint32_t           record_no; /* its number in the recording */
};

/* Everything the loop works with. */
struct proc_state {
	struct proc_stream batch_stream, meta_stream;
	struct hc_batch    batch;
	struct hc_batch    meta[2];   /* current metadata and the one being decoded */
	int                meta_cur;
	int                have_meta;
	struct proc_rates  rates;
	const struct proc_label_opts *labels;
	struct store      *st;
	mqd_t             *exq;
	int                nexq;
	/* self-metrics, published in the store after every batch */
	uint64_t           batches, failed, streams_dropped;
	uint64_t           dropped_unexported, dropped_full;
	struct hc_hist     duration;     /* seconds per batch */
	struct hc_text     stats;
	const char        *record_dir;
	uint32_t           recorded;     /* streams recorded so far */
	int64_t            last_cpu_us[5]; /* rates, enrich, aggregate, store, total */
	uint16_t          *room_seen;    /* values per decoded set, before processing */
	uint32_t           room_nseen, room_cap;
};

/*
 * Room in the batch for the values the processors add to decoded sets
 * (batch.h, room mode), so that rates, enrichers and sums append in place
 * and the batch never needs regrouping (a copy of every value, about 30 ms
 * per regrouping at 5,000 x 30).  The sizes are learned per set type from
 * the batch before: the most values any set of that type was given.  A
 * batch that had no rates (the first) or no metadata yet only lets them
 * grow: the next one will add more.  They start from what the processors
 * add to a batch of the summary API with metadata (measured on the
 * simulator's and the fixtures' batches).
 */
static const uint8_t proc_room_start[HC_T_CLUSTER + 1] = {
	[HC_T_POD_CONTAINER] = 10, [HC_T_POD] = 14, [HC_T_NODE] = 25,
	[HC_T_SYS_CONTAINER] = 3,
};

/* Notes how many values each decoded set has.  0 or -ENOMEM. */
static int room_note(struct proc_state *p, struct hc_batch *b)
{
	int rc = hc_batch_group(b);

	if (rc != 0)
		return rc;
	if (b->nsets > p->room_cap) {
		uint16_t *n = realloc(p->room_seen, (size_t)b->nsets * sizeof(*n));

		if (n == NULL)
			return -ENOMEM;
		p->room_seen = n;
		p->room_cap = b->nsets;
	}
	for (uint32_t s = 0; s < b->nsets; s++)
		p->room_seen[s] = b->sets[s].vals_n > UINT16_MAX ? UINT16_MAX
								 : (uint16_t)b->sets[s].vals_n;
	p->room_nseen = b->nsets;
	return 0;
}

/*
 * Sizes the next batch's room by what this one's sets were given; with
 * `partial` (no rates or no metadata in this batch), only upwards.
 */
static int room_learn(struct proc_state *p, struct hc_batch *b, int partial)
{
	uint32_t need[HC_T_CLUSTER + 1] = { 0 };
	uint8_t room[HC_T_CLUSTER + 1];
	int rc = hc_batch_group(b);

	if (rc != 0)
		return rc;
	for (uint32_t s = 0; s < p->room_nseen && s < b->nsets; s++) {
		const struct hc_set *set = &b->sets[s];
		uint32_t added = set->vals_n > p->room_seen[s] ? set->vals_n - p->room_seen[s] : 0;

		if (set->type < HC_ARRAY_LEN(need) && added > need[set->type])
			need[set->type] = added;
	}
	for (size_t t = 0; t < HC_ARRAY_LEN(room); t++) {
		if (partial && need[t] < b->room[t])
			need[t] = b->room[t];
		room[t] = need[t] > UINT8_MAX ? UINT8_MAX : (uint8_t)need[t];
	}
	hc_batch_set_room(b, room, sizeof(room));
	return 0;
}

/* Renders and publishes the processor's self-metrics (docs/STORE.md "stats"). */
static void publish_stats(struct proc_state *p, const struct hc_batch *b)
{
	struct hc_text *t = &p->stats;
	uint64_t live = 0, file = 0, map = 0;

	hc_text_reset(t);
	hc_prom_counter(t, "heapster_processor_batches_total",
			"Batches processed and stored.", "", (double)p->batches);
	hc_prom_counter(t, "heapster_processor_batches_failed_total",
			"Batches that could not be processed or stored.", "", (double)p->failed);
	hc_prom_counter(t, "heapster_processor_streams_dropped_total",
			"Incoming batch streams dropped as broken or undecodable.", "",
			(double)p->streams_dropped);
	hc_prom_histogram(t, "heapster_processor_duration_seconds",
			  "Time to process and store one batch.", "", &p->duration);
	hc_prom_gauge(t, "heapster_processor_batch_sets", "Metric sets in the newest batch.",
		      "", (double)b->nsets);
	hc_prom_gauge(t, "heapster_processor_batch_values", "Values in the newest batch.",
		      "", (double)hc_batch_count(b));
	hc_prom_gauge(t, "heapster_processor_nodes", "Nodes in the newest batch by scrape outcome.",
		      "outcome=\"ok\"", (double)b->nodes_ok);
	hc_prom_gauge(t, "heapster_processor_nodes", NULL, "outcome=\"failed\"",
		      (double)b->nodes_failed);
	hc_prom_gauge(t, "heapster_processor_last_batch_timestamp_seconds",
		      "Time of the newest stored batch.", "", (double)b->ts_ms / 1000.0);
	hc_prom_counter(t, "heapster_processor_rate_resets_total",
			"Counters seen going down (no rate emitted).", "", (double)p->rates.resets);
	hc_prom_counter(t, "heapster_processor_rate_restarts_total",
			"Containers seen restarting (no rate emitted).", "", (double)p->rates.restarts);
	hc_prom_counter(t, "heapster_store_batches_dropped_total",
			"Batches dropped before every exporter delivered them, by reason.",
			"reason=\"export_backlog\"", (double)p->dropped_unexported);
	hc_prom_counter(t, "heapster_store_batches_dropped_total", NULL,
			"reason=\"store_full\"", (double)p->dropped_full);
	if (store_usage(p->st, &live, &file, &map) == 0) {
		hc_prom_gauge(t, "heapster_store_bytes", "Store size by measure.",
			      "measure=\"live\"", (double)live);
		hc_prom_gauge(t, "heapster_store_bytes", NULL, "measure=\"file\"", (double)file);
		hc_prom_gauge(t, "heapster_store_bytes", NULL, "measure=\"map\"", (double)map);
	}
	if (!t->failed && store_stats_put(p->st, "processor", t->buf, t->len) != 0)
		hc_warn("cannot publish self-metrics");
}

static volatile sig_atomic_t proc_stop;

static void on_signal(int sig)
{
	(void)sig;
	proc_stop = 1;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: heapster-processor --store=DIR [--instance=NAME] [--exporter=NAME]...\n"
		"         [--store_size=1G] [--short_retention=140s] [--long_retention=15m]\n"
		"         [--export_backlog=15m] [--log_level=info]\n"
		"         [--long_retention_metrics=cpu/usage_rate,memory/usage,memory/working_set]\n"
		"         [--label_separator=,] [--store_label=NAME[=KEY]]... [--ignore_label=KEY]...\n"
		"         [--record=DIR]\n"
		"       heapster-processor --store=DIR --bench_replay=DIR\n");
}

static int parse_args(int argc, char **argv, struct proc_config *c)
{
	static const struct option opts[] = {
		{ "instance", required_argument, NULL, 'i' },
		{ "store", required_argument, NULL, 's' },
		{ "store_size", required_argument, NULL, 'z' },
		{ "short_retention", required_argument, NULL, 'r' },
		{ "long_retention", required_argument, NULL, 'l' },
		{ "export_backlog", required_argument, NULL, 'b' },
		{ "exporter", required_argument, NULL, 'e' },
		{ "long_retention_metrics", required_argument, NULL, 'm' },
		{ "label_separator", required_argument, NULL, 'S' },
		{ "store_label", required_argument, NULL, 'L' },
		{ "ignore_label", required_argument, NULL, 'I' },
		{ "log_level", required_argument, NULL, 'v' },
		{ "record", required_argument, NULL, 'R' },
		{ "bench_replay", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	memset(c, 0, sizeof(*c));
	c->instance = "default";
	c->store_size = 1ULL << 30;
	c->short_ret = 140000;
	c->long_ret = 15 * 60000;
	c->backlog = 15 * 60000;
	c->log_level = HC_LOG_INFO;
	c->labels.separator = ",";
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		int rc = 0;

		switch (ch) {
		case 'i': c->instance = optarg; break;
		case 's': c->store_path = optarg; break;
		case 'z': rc = hc_size_parse(optarg, &c->store_size); break;
		case 'r': rc = hc_duration_parse(optarg, &c->short_ret); break;
		case 'l': rc = hc_duration_parse(optarg, &c->long_ret); break;
		case 'b': rc = hc_duration_parse(optarg, &c->backlog); break;
		case 'e':
			if (c->nexporters == MAX_EXPORTERS) {
				fprintf(stderr, "heapster-processor: at most %d exporters\n",
					MAX_EXPORTERS);
				return HC_ERR_CONFIG;
			}
			c->exporters[c->nexporters++] = optarg;
			break;
		case 'm': {
			/* comma-separated metric names; the list keeps pointers into argv */
			int n = 0;

			for (char *tok = strtok(optarg, ","); tok && n < 64; tok = strtok(NULL, ","))
				c->long_metrics[n++] = tok;
			c->long_metrics[n] = NULL;
			if (n == 0)
				rc = HC_ERR_CONFIG;
			break;
		}
		case 'S': c->labels.separator = optarg; break;
		case 'L': {
			/* NAME or NAME=POD_LABEL_KEY */
			char *eq = strchr(optarg, '=');

			if (c->labels.nstore == PROC_MAX_LABEL_OPTS || !*optarg) {
				rc = HC_ERR_CONFIG;
				break;
			}
			if (eq)
				*eq = '\0';
			c->labels.store_name[c->labels.nstore] = optarg;
			c->labels.store_key[c->labels.nstore++] = eq ? eq + 1 : optarg;
			break;
		}
		case 'I':
			if (c->labels.nignore == PROC_MAX_LABEL_OPTS) {
				rc = HC_ERR_CONFIG;
				break;
			}
			c->labels.ignore[c->labels.nignore++] = optarg;
			break;
		case 'R': c->record_dir = optarg; break;
		case 'P': c->replay_dir = optarg; break;
		case 'v':
			c->log_level = !strcmp(optarg, "debug") ? HC_LOG_DEBUG :
				       !strcmp(optarg, "warn") ? HC_LOG_WARN : HC_LOG_INFO;
			break;
		default:
			usage();
			return HC_ERR_CONFIG;
		}
		if (rc != 0) {
			fprintf(stderr, "heapster-processor: bad value: %s\n", optarg);
			return HC_ERR_CONFIG;
		}
	}
	if (c->store_path == NULL || optind != argc) {
		usage();
		return HC_ERR_CONFIG;
	}
	if (c->short_ret < 1000 || c->long_ret < 1000 || c->backlog < c->short_ret) {
		fprintf(stderr, "heapster-processor: retentions must be >= 1s and "
			"--export_backlog >= --short_retention\n");
		return HC_ERR_CONFIG;
	}
	return 0;
}

/*
 * Registers the configured exporters' cursors (a new exporter starts from
 * the oldest stored batch) and forgets exporters no longer configured, so
 * a removed sink holds no batch back.
 */
static int sync_cursors(struct store *st, const struct proc_config *c)
{
	struct store_batch_info first;
	struct store_txn *t;
	int64_t start = 0, ts;
	int rc, removed;

	rc = store_read_begin(st, &t);
	if (rc != 0)
		return rc;
	if (store_next_batch(t, STORE_SHORT, -1, &first) == 0)
		start = first.ts_ms - 1;
	store_read_end(t);
	for (int i = 0; i < c->nexporters; i++) {
		if (store_cursor_get(st, c->exporters[i], &ts) == 0)
			continue;
		rc = store_cursor_set(st, c->exporters[i], start);
		if (rc != 0)
			return rc;
		hc_info("registered exporter %s", c->exporters[i]);
	}
	return store_cursor_prune(st, c->exporters, c->nexporters, &removed);
}

/*
 * Runs the processors in Heapster's order on a decoded batch (rates, pod and
 * namespace enrichers, aggregators, node autoscaling enricher, then the
 * workload aggregator), stores it and notifies the exporters.
 */
static void process_batch(struct proc_state *ps_)
{
	struct hc_batch *b = &ps_->batch;
	const struct hc_batch *meta = ps_->have_meta ? &ps_->meta[ps_->meta_cur] : NULL;
	struct proc_rates *rates = &ps_->rates;
	struct store *st = ps_->st;
	mqd_t *exq = ps_->exq;
	int nexq = ps_->nexq;
	struct store_put_stats ps;
	int64_t t0 = hc_mono_ms();
	uint32_t in_vals = hc_batch_count(b);
	int rc;

	int64_t t_rates, t_enrich, t_agg, t_store;
	int64_t c0 = hc_thread_cpu_us(), *cpu = ps_->last_cpu_us;
	int partial = rates->last_batch_ms == 0 || meta == NULL;

	rc = room_note(ps_, b);
	if (rc == 0)
		rc = proc_rates_apply(rates, b);
	t_rates = hc_mono_ms();
	cpu[0] = hc_thread_cpu_us();
	if (rc == 0)
		rc = proc_enrich_pods(b, meta, ps_->labels);
	t_enrich = hc_mono_ms();
	cpu[1] = hc_thread_cpu_us();
	if (rc == 0)
		rc = proc_aggregate(b);
	if (rc == 0)
		rc = proc_enrich_nodes(b, meta);
	if (rc == 0)
		rc = proc_aggregate_workloads(b, meta);
	if (rc == 0)
		rc = room_learn(ps_, b, partial);
	t_agg = hc_mono_ms();
	cpu[2] = hc_thread_cpu_us();
	if (rc != 0) {
		hc_error("batch %lld: processing failed: %s", (long long)b->ts_ms,
			 hc_strerror(rc));
		ps_->failed++;
		return;
	}
	rc = store_put_batch(st, b, &ps);
	t_store = hc_mono_ms();
	cpu[3] = hc_thread_cpu_us();
	/* per phase, not cumulative */
	cpu[4] = cpu[3] - c0;
	cpu[3] -= cpu[2];
	cpu[2] -= cpu[1];
	cpu[1] -= cpu[0];
	cpu[0] -= c0;
	if (rc != 0) {
		hc_error("batch %lld: not stored: %s", (long long)b->ts_ms,
			 rc == -EEXIST ? "not newer than the newest stored batch"
				       : hc_strerror(rc));
		ps_->failed++;
		return;
	}
	ps_->batches++;
	ps_->dropped_unexported += ps.dropped_unexported;
	ps_->dropped_full += ps.dropped_full;
	hc_hist_observe(&ps_->duration, (double)(hc_mono_ms() - t0) / 1000.0);
	publish_stats(ps_, b);
	for (int i = 0; i < nexq; i++) {
		struct hc_msg_hdr h = {
			.magic = HC_MSG_MAGIC, .version = HC_MSG_VERSION,
			.type = HC_MSG_BATCH_STORED, .flags = HC_MSG_FIRST | HC_MSG_LAST,
			.ts_ms = b->ts_ms,
		};

		/* a full queue means the exporter is behind or down: it will
		 * find the batch in the store anyway */
		rc = hc_mq_send(exq[i], &h, NULL, 0);
		if (rc != 0 && rc != -EAGAIN)
			hc_warn("notify exporter %d: %s", i, hc_strerror(rc));
	}
	hc_info("batch %lld stored: nodes %u ok %u failed, %u sets, %u values "
		"(%u scraped), %lld ms (rates %lld, enrich %lld, aggregate %lld, store %lld)%s; "
		"CPU ms: processors %lld (rates %lld, enrich %lld, aggregate %lld), store %lld; "
		"trimmed %u short, %u long, %u unexported, %u full; rate state %u entities",
		(long long)b->ts_ms, b->nodes_ok, b->nodes_failed, b->nsets, hc_batch_count(b),
		in_vals, (long long)(hc_mono_ms() - t0), (long long)(t_rates - t0),
		(long long)(t_enrich - t_rates), (long long)(t_agg - t_enrich),
		(long long)(t_store - t_agg),
		meta ? "" : ", no metadata yet",
		(long long)((cpu[0] + cpu[1] + cpu[2]) / 1000), (long long)(cpu[0] / 1000),
		(long long)(cpu[1] / 1000), (long long)(cpu[2] / 1000),
		(long long)(cpu[3] / 1000), ps.dropped_short,
		ps.dropped_long, ps.dropped_unexported, ps.dropped_full,
		proc_rates_size(rates));
}

/*
 * --record=DIR: each stream's bytes go to DIR/NNNNNN-batch.mp or
 * NNNNNN-meta.mp (numbered in arrival order, written as .part and renamed
 * when complete), for --bench_replay and for looking at what a real
 * cluster sent.  A write error stops that recording, never the stream.
 */
static void record_close(struct proc_state *p, struct proc_stream *ps, int complete);

static void record_open(struct proc_state *p, struct proc_stream *ps, int is_meta)
{
	char path[4096];

	if (ps->record != NULL)
		record_close(p, ps, 0);
	if (p->record_dir == NULL)
		return;
	ps->record_no = p->recorded++;
	snprintf(path, sizeof(path), "%s/%06u-%s.mp.part", p->record_dir,
		 ps->record_no, is_meta ? "meta" : "batch");
	ps->record = fopen(path, "w");
	if (ps->record == NULL)
		hc_warn("record %s: %s", path, strerror(errno));
}

/* Ends a recording: kept (renamed without .part) if `complete`, else removed. */
static void record_close(struct proc_state *p, struct proc_stream *ps, int complete)
{
	char part[4096], done[4096];
	int is_meta = ps == &p->meta_stream;

	if (ps->record == NULL)
		return;
	snprintf(part, sizeof(part), "%s/%06u-%s.mp.part", p->record_dir,
		 ps->record_no, is_meta ? "meta" : "batch");
	snprintf(done, sizeof(done), "%s/%06u-%s.mp", p->record_dir,
		 ps->record_no, is_meta ? "meta" : "batch");
	if (fclose(ps->record) != 0)
		complete = 0;
	ps->record = NULL;
	if (complete && rename(part, done) == 0)
		return;
	unlink(part);
}

/*
 * Feeds one chunk to its stream.  On LAST, a metrics batch is processed; a
 * metadata batch replaces the current metadata (only once complete, so a
 * broken metadata stream leaves the previous one in force).
 */
static void on_chunk(struct proc_state *p, const struct hc_msg_hdr *h,
		     const char *payload)
{
	int is_meta = h->type == HC_MSG_META_CHUNK;
	struct proc_stream *ps = is_meta ? &p->meta_stream : &p->batch_stream;
	const char *what = is_meta ? "metadata" : "batch";
	int rc;

	if (h->flags & HC_MSG_FIRST) {
		if (ps->active) {
			hc_warn("%s stream %u abandoned after %u chunks (sender restarted?)",
				what, ps->stream, ps->next_seq);
			hc_decoder_free(&ps->dec);
			ps->active = 0;
		}
		ps->into = is_meta ? &p->meta[!p->meta_cur] : &p->batch;
		rc = hc_decoder_init(&ps->dec, ps->into);
		if (rc != 0) {
			hc_error("decoder: %s", hc_strerror(rc));
			return;
		}
		ps->active = 1;
		ps->stream = h->stream;
		ps->next_seq = 0;
		record_open(p, ps, is_meta);
	}
	if (!ps->active)
		return;   /* the rest of a stream we already dropped */
	if (h->stream != ps->stream || h->seq != ps->next_seq) {
		hc_warn("%s stream %u: expected chunk %u, got stream %u chunk %u: dropped",
			what, ps->stream, ps->next_seq, h->stream, h->seq);
		goto drop_stream;
	}
	ps->next_seq++;
	if (ps->record != NULL && fwrite(payload, 1, h->len, ps->record) != h->len)
		record_close(p, ps, 0);
	rc = hc_decoder_feed(&ps->dec, payload, h->len);
	if (rc != 0) {
		hc_error("%s stream %u: undecodable: %s", what, ps->stream, hc_strerror(rc));
		goto drop_stream;
	}
	if (!(h->flags & HC_MSG_LAST))
		return;
	rc = hc_decoder_finish(&ps->dec);
	if (rc != 0) {
		hc_error("%s stream %u: incomplete: %s", what, ps->stream, hc_strerror(rc));
		goto drop_stream;
	}
	hc_decoder_free(&ps->dec);
	ps->active = 0;
	record_close(p, ps, 1);
	if (is_meta) {
		rc = hc_batch_group(ps->into);
		if (rc != 0) {
			hc_error("metadata: %s", hc_strerror(rc));
			return;
		}
		p->meta_cur = !p->meta_cur;
		p->have_meta = 1;
		hc_debug("metadata: %u objects", ps->into->nsets);
		return;
	}
	process_batch(p);
	return;

drop_stream:
	hc_decoder_free(&ps->dec);
	ps->active = 0;
	record_close(p, ps, 0);
	p->streams_dropped++;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * --bench_replay=DIR: feeds the streams of a --record directory, in order,
 * through the decoder, the processors and the store as if they came from
 * the queue, and prints the CPU time of each step per batch.  This is how
 * the processors' cost is measured (make bench, BENCHMARKS.md) apart from
 * the simulator and the scraper sharing the machine.
 */
static int replay(struct proc_state *p, const char *dir)
{
	struct hc_msg_hdr h = { .magic = HC_MSG_MAGIC, .version = HC_MSG_VERSION };
	char **names = NULL, path[4096];
	size_t n = 0, cap = 0;
	struct dirent *de;
	char *buf = NULL;
	DIR *d;
	int rc = 0;

	d = opendir(dir);
	if (d == NULL) {
		fprintf(stderr, "heapster-processor: %s: %s\n", dir, strerror(errno));
		return -errno;
	}
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);

		if (len < 4 || strcmp(de->d_name + len - 3, ".mp") != 0)
			continue;
		if (n == cap) {
			char **nn = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(*nn));

			if (nn == NULL) {
				rc = -ENOMEM;
				goto free_names;
			}
			names = nn;
		}
		if ((names[n] = strdup(de->d_name)) == NULL) {
			rc = -ENOMEM;
			goto free_names;
		}
		n++;
	}
	qsort(names, n, sizeof(*names), cmp_str);
	buf = malloc(HC_MQ_MSGSIZE);
	if (buf == NULL) {
		rc = -ENOMEM;
		goto free_names;
	}
	printf("%-24s %9s %9s %9s %9s %9s %9s %9s\n", "stream", "sets", "values",
	       "decode", "rates", "enrich", "aggregate", "store");
	for (size_t i = 0; i < n; i++) {
		int is_meta = strstr(names[i], "-meta.") != NULL;
		size_t got, max = HC_MQ_MSGSIZE - sizeof(struct hc_msg_hdr);
		int64_t c0, decode_us = 0;
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		f = fopen(path, "r");
		if (f == NULL) {
			fprintf(stderr, "heapster-processor: %s: %s\n", path, strerror(errno));
			continue;
		}
		h.type = is_meta ? HC_MSG_META_CHUNK : HC_MSG_BATCH_CHUNK;
		h.stream = (uint32_t)i + 1;
		h.seq = 0;
		h.flags = HC_MSG_FIRST;
		memset(p->last_cpu_us, 0, sizeof(p->last_cpu_us));
		while ((got = fread(buf, 1, max, f)) > 0) {
			int c = getc(f);

			if (c == EOF)
				h.flags |= HC_MSG_LAST;
			else
				ungetc(c, f);
			h.len = (uint32_t)got;
			c0 = hc_thread_cpu_us();
			on_chunk(p, &h, buf);
			/* the last chunk of a batch also processes it: that part is
			 * timed in last_cpu_us[4] */
			decode_us += hc_thread_cpu_us() - c0;
			h.seq++;
			h.flags = 0;
		}
		fclose(f);
		decode_us -= p->last_cpu_us[4];
		{
			const struct hc_batch *b = is_meta ? &p->meta[p->meta_cur] : &p->batch;

			printf("%-24s %9u %9u %9.0f %9.0f %9.0f %9.0f %9.0f\n", names[i],
			       b->nsets, hc_batch_count(b), decode_us / 1e3,
			       p->last_cpu_us[0] / 1e3, p->last_cpu_us[1] / 1e3,
			       p->last_cpu_us[2] / 1e3, p->last_cpu_us[3] / 1e3);
		}
	}
	printf("(CPU ms of this thread per step)\n");
	free(buf);
free_names:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return rc;
}

int main(int argc, char **argv)
{
	struct proc_config cfg;
	struct store_opts so = { 0 };
	static struct proc_state p;
	mqd_t inq, exq[MAX_EXPORTERS];
	char name[128];
	static char buf[HC_MQ_MSGSIZE];
	int64_t last_check = 0;
	int rc, nexq = 0, status = 1;

	if (parse_args(argc, argv, &cfg) != 0)
		return 2;
	hc_log_init("processor", cfg.log_level);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);

	so.path = cfg.store_path;
	so.map_size = cfg.store_size;
	so.short_retention_ms = cfg.short_ret;
	so.long_retention_ms = cfg.long_ret;
	so.export_backlog_ms = cfg.backlog;
	so.long_metrics = cfg.long_metrics[0] ? cfg.long_metrics : NULL;
	so.owner = 1;
	rc = store_open(&so, &p.st);
	if (rc != 0) {
		hc_error("cannot open store %s: %s", cfg.store_path, hc_strerror(rc));
		return 1;
	}
	p.record_dir = cfg.record_dir;
	if (cfg.replay_dir != NULL) {
		p.labels = &cfg.labels;
		rc = hc_batch_init(&p.batch);
		if (rc == 0) {
			hc_batch_set_room(&p.batch, proc_room_start, sizeof(proc_room_start));
			rc = hc_batch_init(&p.meta[0]);
		}
		if (rc == 0)
			rc = hc_batch_init(&p.meta[1]);
		if (rc == 0)
			rc = proc_rates_init(&p.rates);
		if (rc == 0)
			rc = replay(&p, cfg.replay_dir);
		proc_rates_free(&p.rates);
		hc_batch_free(&p.batch);
		free(p.room_seen);
		hc_batch_free(&p.meta[0]);
		hc_batch_free(&p.meta[1]);
		hc_text_free(&p.stats);
		store_close(p.st);
		return rc == 0 ? 0 : 1;
	}
	rc = sync_cursors(p.st, &cfg);
	if (rc != 0) {
		hc_error("cannot register exporters: %s", hc_strerror(rc));
		goto close_store;
	}
	hc_mq_name(name, sizeof(name), cfg.instance, "processor");
	rc = hc_mq_open(name, HC_MQ_READ | HC_MQ_CREATE, 0, &inq);
	if (rc != 0) {
		hc_error("cannot open queue %s: %s", name, hc_strerror(rc));
		goto close_store;
	}
	for (int i = 0; i < cfg.nexporters; i++) {
		char qn[128], role[96];

		snprintf(role, sizeof(role), "exporter-%s", cfg.exporters[i]);
		hc_mq_name(qn, sizeof(qn), cfg.instance, role);
		rc = hc_mq_open(qn, HC_MQ_WRITE | HC_MQ_CREATE | HC_MQ_NONBLOCK, 256,
				&exq[nexq]);
		if (rc != 0) {
			hc_error("cannot open queue %s: %s", qn, hc_strerror(rc));
			goto close_queues;
		}
		nexq++;
	}
	p.exq = exq;
	p.nexq = nexq;
	p.labels = &cfg.labels;
	hc_hist_init(&p.duration, hc_hist_seconds_bounds, HC_ARRAY_LEN(hc_hist_seconds_bounds));
	rc = hc_batch_init(&p.batch);
	if (rc == 0) {
		hc_batch_set_room(&p.batch, proc_room_start, sizeof(proc_room_start));
		rc = hc_batch_init(&p.meta[0]);
	}
	if (rc == 0)
		rc = hc_batch_init(&p.meta[1]);
	if (rc == 0)
		rc = proc_rates_init(&p.rates);
	if (rc != 0) {
		hc_error("out of memory");
		goto close_queues;
	}
	hc_info("ready: queue %s, store %s, %d exporters", name, cfg.store_path, nexq);

	while (!proc_stop) {
		struct hc_msg_hdr *h;
		const char *payload;

		rc = hc_mq_recv(inq, buf, 1000, &h, &payload);
		if (hc_mono_ms() - last_check > 10000) {
			int dead = 0;

			last_check = hc_mono_ms();
			if (store_reader_check(p.st, &dead) == 0 && dead > 0)
				hc_warn("released %d reader slots of dead processes", dead);
		}
		if (rc == HC_ERR_TIMEOUT || rc == -EINTR)
			continue;
		if (rc == HC_ERR_PROTO) {
			hc_warn("queue %s: message with a bad header ignored", name);
			continue;
		}
		if (rc != 0) {
			hc_error("queue %s: %s", name, hc_strerror(rc));
			break;
		}
		if (h->type != HC_MSG_BATCH_CHUNK && h->type != HC_MSG_META_CHUNK) {
			hc_warn("queue %s: unexpected message type %u ignored", name, h->type);
			continue;
		}
		on_chunk(&p, h, payload);
	}
	status = proc_stop ? 0 : 1;
	hc_info("stopping");
	if (p.batch_stream.active)
		hc_decoder_free(&p.batch_stream.dec);
	if (p.meta_stream.active)
		hc_decoder_free(&p.meta_stream.dec);
	proc_rates_free(&p.rates);
	hc_batch_free(&p.batch);
	free(p.room_seen);
	hc_batch_free(&p.meta[0]);
	hc_batch_free(&p.meta[1]);
	hc_text_free(&p.stats);
close_queues:
	for (int i = 0; i < nexq; i++)
		mq_close(exq[i]);
	mq_close(inq);
close_store:
	store_close(p.st);
	return status;
}
