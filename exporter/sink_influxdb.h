/*
 * sink_influxdb.h - what the InfluxDB sink exposes beyond its ops table,
 * for the unit tests: the answer classifier and the chunk size.
 */
#ifndef EXP_SINK_INFLUXDB_H
#define EXP_SINK_INFLUXDB_H

#include <stdint.h>

/* Points per POST /write, as Heapster (InfluxDB advises 5,000-10,000). */
#define SINK_INFLUX_CHUNK_POINTS 10000

enum sink_influx_verdict {
	SINK_INFLUX_OK = 0,      /* 2xx: written */
	SINK_INFLUX_PARTIAL,     /* 400 "partial write": some points refused for good */
	SINK_INFLUX_REJECTED,    /* other 400, 413: the body can never be written */
	SINK_INFLUX_NODB,        /* "database not found": create it, then retry */
	SINK_INFLUX_RETRY,       /* 5xx, 401, 403, 429...: try again later */
};

/*
 * Classifies InfluxDB's answer to a write (status and the start of the
 * body, NUL-terminated).  For SINK_INFLUX_PARTIAL, *dropped is the "dropped=N"
 * count the server reported (0 if it reported none).
 */
enum sink_influx_verdict sink_influxdb_verdict(long status, const char *body,
					       uint64_t *dropped);

#endif
