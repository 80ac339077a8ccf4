/*
 * exporter.h - the exporter loop: store -> sink, at least once, in order.
 *
 * One exporter process serves one sink.  Its durable cursor in the store
 * (store_cursor_get/set under its name) is the time of the last batch the
 * sink accepted; the loop delivers every batch of the short ring newer than
 * the cursor, oldest first, and moves the cursor only after the sink
 * accepted a whole batch.  A crash at any point therefore repeats at most
 * the batch in flight and loses nothing the store still holds.  See
 * exporter.c for the details.
 */
#ifndef EXP_EXPORTER_H
#define EXP_EXPORTER_H

#include <signal.h>

#include "sink.h"

struct exp_config {
	const char *name;          /* identity: cursor name and queue role */
	const char *store_path;    /* LMDB store directory */
	const char *instance;      /* pipeline instance: queue names */
	int         wait_ms;       /* queue wait when idle; 0 = 1000 */
	int         backoff_min_ms;/* first retry delay; 0 = 1000 */
	int         backoff_max_ms;/* retry delay cap; 0 = 30000 */
	volatile sig_atomic_t *stop;  /* set (by a signal handler) to stop */
};

/*
 * Runs the loop until *cfg->stop is set: 0 then, or a negative code when
 * the store cannot be opened.  The sink state belongs to the caller.
 */
int exp_run(const struct exp_config *cfg, const struct exp_sink_ops *ops,
	    void *sink);

#endif
