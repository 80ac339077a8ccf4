/*
 * log.h - one-line logging to stderr.
 *
 * Every line reads "2026-11-25T10:00:00.123Z LEVEL proc: message".  The
 * process name is set once with hc_log_init().  Logs go to stderr, line
 * buffered, so a launcher or a container runtime collects them as they come.
 * For errors that can repeat once per node per resolution, use an
 * hc_ratelimit so that a broken cluster does not flood the log.
 */
#ifndef HC_LOG_H
#define HC_LOG_H

#include <stdint.h>

enum hc_log_level { HC_LOG_DEBUG = 0, HC_LOG_INFO, HC_LOG_WARN, HC_LOG_ERROR };

void hc_log_init(const char *proc_name, enum hc_log_level min_level);
void hc_log(enum hc_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define hc_debug(...) hc_log(HC_LOG_DEBUG, __VA_ARGS__)
#define hc_info(...)  hc_log(HC_LOG_INFO, __VA_ARGS__)
#define hc_warn(...)  hc_log(HC_LOG_WARN, __VA_ARGS__)
#define hc_error(...) hc_log(HC_LOG_ERROR, __VA_ARGS__)

/*
 * A token bucket of `burst` lines refilled every `period_ms`.
 * hc_ratelimit_ok() says whether one more line may be printed now and counts
 * the ones suppressed; the caller can report `suppressed` later.
 */
struct hc_ratelimit {
	int64_t  period_ms;
	int      burst;
	int      left;
	int64_t  window_start;
	uint64_t suppressed;
};

#define HC_RATELIMIT_INIT(period, b) { (period), (b), (b), 0, 0 }
int hc_ratelimit_ok(struct hc_ratelimit *rl);

#endif
