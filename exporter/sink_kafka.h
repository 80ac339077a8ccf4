/*
 * sink_kafka.h - the kafka sink's sizes, for the unit tests.
 */
#ifndef EXP_SINK_KAFKA_H
#define EXP_SINK_KAFKA_H

/* Messages per chunk, chunks per window (one flush). */
#define SINK_KAFKA_CHUNK_MESSAGES 1000
#define SINK_KAFKA_WINDOW_CHUNKS  10

#endif
