/*
 * sink_opentsdb.h - what the OpenTSDB sink exposes for the unit tests:
 * its sizes and its answer classifier.
 */
#ifndef EXP_SINK_OPENTSDB_H
#define EXP_SINK_OPENTSDB_H

#include <stdint.h>

#include "http.h"

/* Points per POST /api/put (Heapster's batch size), chunks per window. */
#define SINK_TSDB_CHUNK_POINTS  1000
#define SINK_TSDB_WINDOW_CHUNKS 10

/* Classifies OpenTSDB's answer to a put (see sink_opentsdb.c). */
enum exp_http_verdict sink_opentsdb_judge(long status, const char *body,
					  uint32_t points, uint64_t *dropped);

#endif
