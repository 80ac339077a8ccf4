/*
 * sinks.c - the registry of sinks, looked up by the kind of --sink=KIND:...
 *
 * Adding a sink: write exporter/sink_<kind>.c defining a const struct
 * exp_sink_ops, declare it in sink.h, and add it to the table below.
 * Helpers: http.h posts chunks and judges answers (opentsdb, prometheus),
 * net.h speaks plain TCP and UDP (graphite, statsd), and sink.h's exp_tags
 * builds sorted, sanitized tag lists.
 */
#include <string.h>

#include "sink.h"

static const struct exp_sink_ops *const sink_table[] = {
	&sink_log_ops,
	&sink_influxdb_ops,
	&sink_graphite_ops,
	&sink_opentsdb_ops,
	&sink_statsd_ops,
	&sink_prometheus_ops,
	&sink_kafka_ops,
};

const struct exp_sink_ops *exp_sink_find(const char *kind)
{
	for (size_t i = 0; i < sizeof(sink_table) / sizeof(sink_table[0]); i++)
		if (strcmp(sink_table[i]->kind, kind) == 0)
			return sink_table[i];
	return NULL;
}

const char *exp_sink_kinds(void)
{
	return "log, influxdb, graphite, opentsdb, statsd, prometheus, kafka";
}
