/*
 * sink_graphite.h - the graphite sink's sizes, for the unit tests.
 */
#ifndef EXP_SINK_GRAPHITE_H
#define EXP_SINK_GRAPHITE_H

/* TCP: lines per chunk, chunks per window (one confirmed connection). */
#define SINK_GRAPHITE_TCP_CHUNK  10000
#define SINK_GRAPHITE_TCP_WINDOW 10
/* UDP: datagrams per window. */
#define SINK_GRAPHITE_UDP_WINDOW 4096

#endif
