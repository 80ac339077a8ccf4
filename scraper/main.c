/*
 * main.c - heapster-scraper: flags, signals and Heapster's scrape loop.
 *
 * Loop (REFERENCE §1): for each resolution, the window is [start, end) with
 * start = now truncated to the resolution; the scrape runs at
 * end + scrape_offset and its batch carries timestamp end.  The batch is
 * encoded straight into the processor's queue (/heapster-<instance>-processor)
 * in <= 8 KiB messages; each message may wait resolution/2 for room, after
 * which the batch is dropped (logged and counted) rather than delaying the
 * next scrape.  One round runs at a time: the next window follows the last
 * one, and a window whose scrape cannot start within resolution/2 of its
 * time is skipped and counted (Heapster's rule for scrapes that cannot
 * start).
 *
 * Before each metrics batch, the round's metadata batch (common/meta.h:
 * nodes, namespaces, running pods and their containers, kept from the API
 * server by kube.c) goes down the same queue as an HC_MSG_META_CHUNK
 * stream; a round whose listing failed sends none (the processor keeps the
 * last one).  --metadata=false turns it off.  Between rounds the process
 * does not just sleep: it waits on the watch streams (watch.c) and applies
 * their events as they come.
 *
 * Self-metrics (--store) add, per node, the duration of its last kubelet
 * request and its failures by reason (scr_node_metrics()), and per watched
 * resource its listings, events and resumed watches.
 *
 * --once lists nodes, scrapes immediately (timestamp = now truncated to the
 * resolution), prints the batch as JSON on stdout and exits 0, or 1 if no
 * node could be scraped.  --once --once_metadata prints the metadata batch
 * instead (exit 1 if the listing failed).
 *
 * SIGTERM / SIGINT set a flag: a sleep ends at once, a scrape in progress is
 * abandoned, and the process releases everything and exits 0.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec.h"
#include "hc.h"
#include "log.h"
#include "prom.h"
#include "store.h"
#include "mq.h"
#include "scraper.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;       /* no SA_RESTART: sleeps end early */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/*
 * Waits until wall-clock time `at_ms` or a stop signal, applying the watch
 * streams' events meanwhile.
 */
static void sleep_until(struct scr_scraper *s, int64_t at_ms)
{
	for (;;) {
		int64_t left = at_ms - hc_now_ms();

		if (left <= 0 || stop_flag)
			return;
		if (left > 250)
			left = 250;     /* wake to notice wall-clock jumps */
		scr_scraper_idle(s, (int)left);
	}
}

static void log_round(enum hc_log_level level, const struct hc_batch *b,
		      const struct scr_round *r, const char *sent)
{
	char ts[32];

	hc_time_format(b->ts_ms, ts);
	hc_log(level, "batch %s: nodes ok %u failed %u not-ready %u of %u%s; %u sets, %u values; "
		"scrape %lld ms, %lld ms CPU (slowest node %lld ms); %.2f MB parsed in %lld ms CPU; %s",
		ts, r->nodes_ok, r->nodes_failed, r->nodes_skipped, r->nodes_listed,
		r->list_rc ? " (old node list)" : "", b->nsets, b->nvals,
		(long long)r->wall_ms, (long long)(r->cpu_us / 1000), (long long)r->slowest_ms,
		r->bytes / 1e6,
		(long long)(r->parse_us / 1000), sent);
}

static int s_watch;     /* --metadata_watch, for log_meta */

static void log_meta(enum hc_log_level level, const struct hc_batch *m,
		     const struct scr_meta_round *mr, const char *sent)
{
	char pods[160] = "", nodes[32], nss[40];

	if (s_watch) {
		if (mr->nodes_listed)
			snprintf(nodes, sizeof(nodes), "nodes listed whole");
		else
			snprintf(nodes, sizeof(nodes), "%u node events", mr->node_events);
		if (mr->nss_listed)
			snprintf(nss, sizeof(nss), "namespaces listed whole");
		else
			snprintf(nss, sizeof(nss), "%u namespace events", mr->ns_events);
		if (mr->pods_listed_whole)
			snprintf(pods, sizeof(pods), ", %s, %s, pods listed whole", nodes, nss);
		else
			snprintf(pods, sizeof(pods), ", %s, %s, %u pod events", nodes, nss,
				 mr->watch_events);
	}
	hc_log(level, "metadata: %u nodes, %u namespaces, %u running pods of %u, %u containers; "
	       "%u pods in workloads (resolved now: %u by owner listing, %u by pod-template-hash%s%s)%s; "
	       "%u sets, %u values, %u labels; %u requests, %.2f MB in %lld ms, %lld ms CPU; %s",
	       mr->st.nodes, mr->st.namespaces, mr->st.pods_running, mr->st.pods_listed,
	       mr->st.containers, mr->st.pods_in_workloads, mr->st.workloads_by_index,
	       mr->st.workloads_by_hash,
	       mr->replicasets ? "" : ", no ReplicaSet listing",
	       mr->jobs ? "" : ", no Job listing", pods, m->nsets, m->nvals, m->nlabels,
	       mr->pages, mr->bytes / 1e6, (long long)mr->wall_ms,
	       (long long)(mr->cpu_us / 1000), sent);
}

/* An hc_write_fn that only counts: the encoded size of --once's metadata. */
static int count_bytes(void *ctx, const char *buf, size_t len)
{
	(void)buf;
	*(uint64_t *)ctx += len;
	return 0;
}

static int run_once(struct scr_scraper *s, struct hc_batch *b,
		    const struct scr_config *cfg)
{
	struct scr_round r;
	int64_t now = hc_now_ms();
	int rc;

	if (cfg->once_metadata) {
		struct scr_meta_round mr;
		uint64_t encoded = 0;
		char what[96];

		rc = scr_list_nodes(s);
		if (rc == 0)
			rc = scr_meta_round(s, b, now - now % cfg->resolution_ms, &mr);
		if (rc == 0)
			rc = hc_codec_encode(b, count_bytes, &encoded);
		if (rc != 0) {
			hc_error("metadata listing failed: %s", hc_strerror(rc));
			return 1;
		}
		snprintf(what, sizeof(what), "printed (%llu bytes encoded)",
			 (unsigned long long)encoded);
		log_meta(HC_LOG_INFO, b, &mr, what);
		rc = scr_dump_json(stdout, b);
		if (rc == 0)
			rc = fflush(stdout) == 0 ? 0 : -errno;
		return rc == 0 ? 0 : 1;
	}
	hc_batch_reset(b, now - now % cfg->resolution_ms);
	rc = scr_scrape_round(s, b, &r);
	if (rc != 0) {
		hc_error("could not list nodes from the API server: %s (the reason is logged above)",
			 hc_strerror(rc));
		return 1;
	}
	log_round(HC_LOG_INFO, b, &r, "printed");
	rc = scr_dump_json(stdout, b);
	if (rc == 0)
		rc = fflush(stdout) == 0 ? 0 : -errno;
	if (rc != 0) {
		hc_error("writing the batch: %s", hc_strerror(rc));
		return 1;
	}
	return b->nodes_ok > 0 ? 0 : 1;
}

/* Sends the round's metadata batch as an HC_MSG_META_CHUNK stream. */
static void send_meta(struct scr_scraper *s, struct hc_batch *m, mqd_t q, const char *qname,
		      const struct scr_config *cfg, int64_t ts_ms)
{
	struct scr_meta_round mr;
	struct hc_mq_writer w;
	char what[320];
	int rc;

	rc = scr_meta_round(s, m, ts_ms, &mr);
	if (rc != 0) {
		snprintf(what, sizeof(what), "NOT SENT: %s%s (the processor keeps the previous "
			 "metadata)", s->list_ok ? "listing failed: " : "no node list this round",
			 s->list_ok ? hc_strerror(rc) : "");
		log_meta(HC_LOG_WARN, m, &mr, what);
		return;
	}
	hc_mq_writer_init(&w, q, ts_ms, (int)(cfg->resolution_ms / 2));
	w.type = HC_MSG_META_CHUNK;
	rc = hc_codec_encode(m, hc_mq_writer_write, &w);
	if (rc == 0)
		rc = hc_mq_writer_finish(&w);
	if (rc != 0)
		snprintf(what, sizeof(what), "NOT SENT: queue %s: %s", qname, hc_strerror(rc));
	else
		snprintf(what, sizeof(what), "sent %llu bytes in %u messages",
			 (unsigned long long)w.bytes, w.seq);
	log_meta(rc ? HC_LOG_WARN : HC_LOG_INFO, m, &mr, what);
}

/* Self-metrics of the scraper, published in the store after every round. */
struct scr_selfstats {
	struct store   *st;
	struct hc_hist  duration;     /* seconds, first request to last answer */
	uint64_t        nodes_ok, nodes_failed, bytes, batches_sent, batches_dropped;
	uint64_t        windows_skipped;
	double          parse_seconds;
	struct hc_text  text;
};

static void publish_stats(struct scr_selfstats *ss, const struct scr_scraper *s,
			  const struct scr_round *r, int64_t ts_ms)
{
	struct hc_text *t = &ss->text;

	if (ss->st == NULL)
		return;
	ss->nodes_ok += r->nodes_ok;
	ss->nodes_failed += r->nodes_failed;
	ss->bytes += r->bytes;
	ss->parse_seconds += (double)r->parse_us / 1e6;
	hc_hist_observe(&ss->duration, (double)r->wall_ms / 1000.0);
	hc_text_reset(t);
	hc_prom_histogram(t, "heapster_scraper_duration_seconds",
			  "Time of one scrape, first kubelet request to last answer.", "",
			  &ss->duration);
	hc_prom_gauge(t, "heapster_scraper_last_time_seconds",
		      "End of the window last scraped.", "", (double)ts_ms / 1000.0);
	hc_prom_counter(t, "heapster_scraper_node_scrapes_total",
			"Kubelet scrapes by outcome (a failed node adds no metrics).",
			"outcome=\"ok\"", (double)ss->nodes_ok);
	hc_prom_counter(t, "heapster_scraper_node_scrapes_total", NULL,
			"outcome=\"failed\"", (double)ss->nodes_failed);
	hc_prom_gauge(t, "heapster_scraper_nodes", "Nodes in the last round by outcome.",
		      "outcome=\"ok\"", (double)r->nodes_ok);
	hc_prom_gauge(t, "heapster_scraper_nodes", NULL, "outcome=\"failed\"",
		      (double)r->nodes_failed);
	hc_prom_gauge(t, "heapster_scraper_nodes", NULL, "outcome=\"not_ready\"",
		      (double)r->nodes_skipped);
	hc_prom_counter(t, "heapster_scraper_bytes_parsed_total",
			"Summary bytes parsed.", "", (double)ss->bytes);
	hc_prom_counter(t, "heapster_scraper_parse_seconds_total",
			"CPU seconds spent parsing summaries.", "", ss->parse_seconds);
	hc_prom_counter(t, "heapster_scraper_batches_total", "Batches handed to the processor.",
			"result=\"sent\"", (double)ss->batches_sent);
	hc_prom_counter(t, "heapster_scraper_batches_total", NULL, "result=\"dropped\"",
			(double)ss->batches_dropped);
	hc_prom_counter(t, "heapster_scraper_windows_skipped_total",
			"Windows skipped because the previous round overran.", "",
			(double)ss->windows_skipped);
	scr_watch_metrics(s, t);
	scr_node_metrics(s, t);
	if (!t->failed)
		store_stats_put(ss->st, "scraper", t->buf, t->len);
}

static int run_loop(struct scr_scraper *s, struct hc_batch *b, struct hc_batch *meta,
		    const struct scr_config *cfg)
{
	static struct scr_selfstats ss;
	char qname[128];
	uint64_t sent = 0, dropped = 0, windows_skipped = 0;
	int64_t end = 0;     /* the current window's end: the batch timestamp */
	mqd_t q;
	int rc;

	hc_mq_name(qname, sizeof(qname), cfg->instance, "processor");
	rc = hc_mq_open(qname, HC_MQ_WRITE | HC_MQ_CREATE, 0, &q);
	if (rc != 0) {
		hc_error("queue %s: %s", qname, hc_strerror(rc));
		return 1;
	}
	hc_hist_init(&ss.duration, hc_hist_seconds_bounds, HC_ARRAY_LEN(hc_hist_seconds_bounds));
	if (cfg->store_path != NULL) {
		struct store_opts so = { .path = cfg->store_path };

		rc = store_open(&so, &ss.st);
		if (rc != 0) {
			hc_warn("store %s: %s: self-metrics not published", cfg->store_path,
				hc_strerror(rc));
			ss.st = NULL;
		}
	}
	hc_info("scraping %s every %lld ms (offset %lld ms, kubelet timeout %lld ms) into %s",
		cfg->api_url, (long long)cfg->resolution_ms, (long long)cfg->offset_ms,
		(long long)cfg->kubelet_timeout_ms, qname);

	while (!stop_flag) {
		int64_t now = hc_now_ms(), res = cfg->resolution_ms, skipped = 0;
		struct hc_mq_writer w;
		struct scr_round r;
		char what[320];

		/*
		 * The next window follows the last one, as Heapster's ticker did
		 * while its scrapes ran in the background; a window whose scrape
		 * cannot start within resolution/2 of its time is skipped.  A
		 * first round, or a clock that jumped, starts from now.
		 */
		if (end == 0 || end + cfg->offset_ms > now + 2 * res) {
			end = now - now % res + res;
		} else {
			end += res;
			while (now > end + cfg->offset_ms + res / 2) {
				end += res;
				skipped++;
			}
		}
		if (skipped > 0) {
			windows_skipped += (uint64_t)skipped;
			hc_warn("%lld window(s) skipped: the previous round overran its resolution",
				(long long)skipped);
		}
		sleep_until(s, end + cfg->offset_ms);
		if (stop_flag)
			break;
		hc_batch_reset(b, end);
		rc = scr_scrape_round(s, b, &r);
		if (rc == -EINTR)
			break;
		if (rc != 0) {
			hc_error("window ending %lld: no scrape (no node list yet?): %s",
				 (long long)end, hc_strerror(rc));
			continue;
		}
		if (cfg->metadata)
			send_meta(s, meta, q, qname, cfg, b->ts_ms);
		if (stop_flag)
			break;
		hc_mq_writer_init(&w, q, b->ts_ms, (int)(cfg->resolution_ms / 2));
		rc = hc_codec_encode(b, hc_mq_writer_write, &w);
		if (rc == 0)
			rc = hc_mq_writer_finish(&w);
		if (rc != 0) {
			dropped++;
			snprintf(what, sizeof(what), "DROPPED: queue %s: %s (%llu dropped so far)",
				 qname, hc_strerror(rc), (unsigned long long)dropped);
			log_round(HC_LOG_WARN, b, &r, what);
			ss.batches_dropped = dropped;
			ss.windows_skipped = windows_skipped;
			publish_stats(&ss, s, &r, b->ts_ms);
			continue;
		}
		sent++;
		ss.batches_sent = sent;
		ss.windows_skipped = windows_skipped;
		publish_stats(&ss, s, &r, b->ts_ms);
		snprintf(what, sizeof(what), "sent %llu bytes in %u messages",
			 (unsigned long long)w.bytes, w.seq);
		log_round(HC_LOG_INFO, b, &r, what);
	}
	hc_info("stopping: %llu batches sent, %llu dropped, %llu windows skipped",
		(unsigned long long)sent, (unsigned long long)dropped,
		(unsigned long long)windows_skipped);
	mq_close(q);
	store_close(ss.st);
	hc_text_free(&ss.text);
	return 0;
}

int main(int argc, char **argv)
{
	struct scr_config cfg;
	struct scr_scraper s;
	struct hc_batch b, meta;
	int rc, status;

	hc_log_init("scraper", HC_LOG_INFO);
	rc = scr_config_parse(argc, argv, &cfg);
	if (rc == 1)
		return 0;
	if (rc != 0)
		return 2;
	hc_log_init("scraper", cfg.log_level);
	s_watch = cfg.metadata_watch;
	if (cfg.bench_file[0])
		return scr_bench_parse(cfg.bench_file, cfg.bench_iterations) == 0 ? 0 : 1;
	install_signals();

	rc = hc_batch_init(&b);
	if (rc != 0) {
		hc_error("batch: %s", hc_strerror(rc));
		return 1;
	}
	rc = hc_batch_init(&meta);
	if (rc != 0) {
		hc_error("batch: %s", hc_strerror(rc));
		status = 1;
		goto free_batch;
	}
	rc = scr_scraper_init(&s, &cfg, &stop_flag);
	if (rc != 0) {
		hc_error("scraper: %s", hc_strerror(rc));
		status = 1;
		goto free_meta;
	}
	status = cfg.once ? run_once(&s, &b, &cfg) : run_loop(&s, &b, &meta, &cfg);
	scr_scraper_free(&s);
free_meta:
	hc_batch_free(&meta);
free_batch:
	hc_batch_free(&b);
	return status;
}
