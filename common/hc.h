/*
 * hc.h - the conventions every heapster-c module shares.
 *
 * Error convention: a function that can fail returns 0 on success or a
 * negative code.  Codes from -1 to -4095 are negated errno values
 * (-ENOMEM, -EAGAIN, ...); heapster-c's own codes live in the reserved range
 * [HC_ERR_FIRST, HC_ERR_LAST] below, so one int carries both without
 * ambiguity, and hc_strerror() turns any of them into text.  No macro hides
 * control flow: callers test the result and jump to a cleanup label named
 * after what it releases.
 *
 * Module prefixes: hc_ (common), scr_ (scraper), proc_ (processor),
 * store_ (storage), api_ (apiserver), exp_ / sink_ (exporter),
 * launch_ (launcher), sim_ (test simulator).
 */
#ifndef HC_H
#define HC_H

#include <stddef.h>
#include <stdint.h>

#define HC_ERR_FIRST   (-30000)
#define HC_ERR_PARSE   (-30000)   /* input is not in the expected syntax */
#define HC_ERR_PROTO   (-30001)   /* a peer broke the message protocol */
#define HC_ERR_HTTP    (-30002)   /* an HTTP peer answered with an error status */
#define HC_ERR_TIMEOUT (-30003)   /* an operation ran out of time */
#define HC_ERR_TOOBIG  (-30004)   /* input larger than the configured bound */
#define HC_ERR_NOTFOUND (-30005)  /* the named object does not exist */
#define HC_ERR_STORE   (-30006)   /* an LMDB call failed (detail logged) */
#define HC_ERR_CONFIG  (-30007)   /* invalid flag or URI */
#define HC_ERR_SINK    (-30008)   /* a sink refused the data */
#define HC_ERR_LAST    (-30008)

/* Text for a code returned by any heapster-c function; never NULL. */
const char *hc_strerror(int code);

#define HC_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Milliseconds since the Unix epoch (CLOCK_REALTIME). */
int64_t hc_now_ms(void);
/* Milliseconds of CLOCK_MONOTONIC, for durations and deadlines. */
int64_t hc_mono_ms(void);
/* Microseconds of CPU time used by the calling thread (benchmark figures). */
int64_t hc_thread_cpu_us(void);

/*
 * RFC 3339 times.  hc_time_parse() accepts "2026-06-26T10:14:35Z", with
 * optional fractional seconds and a numeric offset, and stores milliseconds
 * since the epoch.  hc_time_format() writes "YYYY-MM-DDTHH:MM:SSZ" (whole
 * seconds, as Heapster printed) into buf, which must hold 21 bytes, and
 * returns the length written.
 */
int hc_time_parse(const char *s, size_t len, int64_t *out_ms);
size_t hc_time_format(int64_t ms, char *buf);

/*
 * Go durations as Heapster's flags took them (time.ParseDuration): "60s",
 * "1m30s", "500ms", "2h", "1500us", "0"; a bare number other than 0 is
 * refused, as Go refuses it.  0 or HC_ERR_CONFIG.
 */
int hc_duration_parse(const char *s, int64_t *out_ms);

/* Sizes: "1073741824", "512M", "1G", "64Ki"... 0 or HC_ERR_CONFIG. */
int hc_size_parse(const char *s, uint64_t *out);

#endif
