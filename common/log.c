/*
 * log.c - timestamped lines on stderr, and a token bucket to bound them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hc.h"
#include "log.h"

static const char *log_proc = "heapster";
static enum hc_log_level log_min = HC_LOG_INFO;

void hc_log_init(const char *proc_name, enum hc_log_level min_level)
{
	log_proc = proc_name;
	log_min = min_level;
	setvbuf(stderr, NULL, _IOLBF, 0);
}

void hc_log(enum hc_log_level level, const char *fmt, ...)
{
	static const char *names[] = { "DEBUG", "INFO", "WARN", "ERROR" };
	char line[2048], ts[32];
	int64_t now;
	size_t n;
	va_list ap;

	if (level < log_min)
		return;
	now = hc_now_ms();
	n = hc_time_format(now, ts);
	/* turn "...SSZ" into "...SS.mmmZ" */
	snprintf(ts + n - 1, sizeof(ts) - n + 1, ".%03dZ", (int)(now % 1000));
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s %s %s: %s\n", ts, names[level], log_proc, line);
}

int hc_ratelimit_ok(struct hc_ratelimit *rl)
{
	int64_t now = hc_mono_ms();

	if (now - rl->window_start >= rl->period_ms) {
		rl->window_start = now;
		rl->left = rl->burst;
	}
	if (rl->left > 0) {
		rl->left--;
		return 1;
	}
	rl->suppressed++;
	return 0;
}
