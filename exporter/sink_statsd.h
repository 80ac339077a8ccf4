/*
 * sink_statsd.h - the statsd sink's window size, for the unit tests.
 */
#ifndef EXP_SINK_STATSD_H
#define EXP_SINK_STATSD_H

/* Datagrams (of numMetricsPerMsg lines each) per window. */
#define SINK_STATSD_WINDOW 4096

#endif
