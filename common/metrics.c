/*
 * metrics.c - the metric table and name lookups.
 */
#include <string.h>

#include "metrics.h"

const struct hc_metric_def hc_metric_table[HC_M_COUNT] = {
#define HC_METRIC_ROW(id, name, kind, type, units, desc) { name, kind, type, units, desc },
	HC_METRICS(HC_METRIC_ROW)
#undef HC_METRIC_ROW
};

int hc_metric_lookup(const char *name, size_t len)
{
	/* ~50 entries, looked up per set at most: a linear scan is cheapest. */
	for (int i = 0; i < HC_M_COUNT; i++) {
		const char *n = hc_metric_table[i].name;

		if (strncmp(n, name, len) == 0 && n[len] == '\0')
			return i;
	}
	return -1;
}

const char *hc_metric_alias(const char *name)
{
	static const char *aliases[][2] = {
		{ "cpu-usage", "cpu/usage_rate" },
		{ "cpu-limit", "cpu/limit" },
		{ "memory-limit", "memory/limit" },
		{ "memory-usage", "memory/usage" },
		{ "memory-working", "memory/working_set" },
	};

	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (strcmp(name, aliases[i][0]) == 0)
			return aliases[i][1];
	return name;
}
