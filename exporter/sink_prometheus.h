/*
 * sink_prometheus.h - what the Prometheus remote-write sink exposes for the
 * unit tests: its window size and its answer classifier.
 */
#ifndef EXP_SINK_PROMETHEUS_H
#define EXP_SINK_PROMETHEUS_H

#include <stdint.h>

#include "http.h"

/* WriteRequests (of max_samples_per_send series each) per window. */
#define SINK_PROM_WINDOW_CHUNKS 16

/* Classifies the receiver's answer to a write (see sink_prometheus.c). */
enum exp_http_verdict sink_prometheus_judge(long status, const char *body,
					    uint32_t points, uint64_t *dropped);

#endif
