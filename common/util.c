/*
 * util.c - error texts, clocks and RFC 3339 times.
 *
 * Time parsing avoids strptime/timegm on the hot path: a summary carries a
 * few dozen timestamps per pod, so the parser reads the fixed-width fields
 * directly and converts a civil date to days with integer arithmetic.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hc.h"

const char *hc_strerror(int code)
{
	static const char *texts[] = {
		"malformed input",              /* HC_ERR_PARSE */
		"protocol violation",           /* HC_ERR_PROTO */
		"HTTP error status",            /* HC_ERR_HTTP */
		"timed out",                    /* HC_ERR_TIMEOUT */
		"input too large",              /* HC_ERR_TOOBIG */
		"not found",                    /* HC_ERR_NOTFOUND */
		"store error",                  /* HC_ERR_STORE */
		"invalid configuration",        /* HC_ERR_CONFIG */
		"sink refused data",            /* HC_ERR_SINK */
	};

	if (code == 0)
		return "success";
	if (code <= HC_ERR_FIRST && code >= HC_ERR_LAST)
		return texts[HC_ERR_FIRST - code];
	if (code < 0 && code > -4096)
		return strerror(-code);
	return "unknown error";
}

int64_t hc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t hc_thread_cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t hc_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int read_digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return HC_ERR_PARSE;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int hc_time_parse(const char *s, size_t len, int64_t *out_ms)
{
	int y, mo, d, h, mi, sec, ms = 0, off_min = 0;
	size_t i = 19;

	if (len < 20 || s[4] != '-' || s[7] != '-' ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    s[13] != ':' || s[16] != ':')
		return HC_ERR_PARSE;
	if (read_digits(s, 4, &y) || read_digits(s + 5, 2, &mo) ||
	    read_digits(s + 8, 2, &d) || read_digits(s + 11, 2, &h) ||
	    read_digits(s + 14, 2, &mi) || read_digits(s + 17, 2, &sec))
		return HC_ERR_PARSE;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return HC_ERR_PARSE;
	if (s[i] == '.') {
		int scale = 100;

		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
			ms += (s[i] - '0') * scale;
			scale /= 10;
		}
	}
	if (i >= len)
		return HC_ERR_PARSE;
	if (s[i] == 'Z' || s[i] == 'z') {
		i++;
	} else if ((s[i] == '+' || s[i] == '-') && i + 6 <= len && s[i + 3] == ':') {
		int oh, om;

		if (read_digits(s + i + 1, 2, &oh) || read_digits(s + i + 4, 2, &om))
			return HC_ERR_PARSE;
		off_min = (oh * 60 + om) * (s[i] == '+' ? 1 : -1);
		i += 6;
	} else {
		return HC_ERR_PARSE;
	}
	if (i != len)
		return HC_ERR_PARSE;
	*out_ms = ((days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 +
		    h * 3600 + mi * 60 + sec - off_min * 60) * 1000) + ms;
	return 0;
}

size_t hc_time_format(int64_t ms, char *buf)
{
	time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	return strftime(buf, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int hc_duration_parse(const char *s, int64_t *ms)
{
	static const struct { const char *unit; double ms; } units[] = {
		{ "ns", 1e-6 }, { "us", 1e-3 }, { "\xc2\xb5s", 1e-3 },
		{ "\xce\xbcs", 1e-3 }, { "ms", 1 }, { "s", 1e3 }, { "m", 6e4 },
		{ "h", 3.6e6 },
	};
	double total = 0;
	const char *p = s;

	if (s == NULL || *s == '\0')
		return HC_ERR_CONFIG;
	if (*p == '+')
		p++;
	if (strcmp(p, "0") == 0) {
		*ms = 0;
		return 0;
	}
	while (*p) {
		double v = 0, scale = 0.1;
		size_t best = 0, ulen;
		int u = -1, digits = 0;

		/* digits [. digits]: strict, no exponent or hex as strtod allows */
		for (; *p >= '0' && *p <= '9'; p++, digits++)
			v = v * 10 + (*p - '0');
		if (*p == '.')
			for (p++; *p >= '0' && *p <= '9'; p++, digits++, scale /= 10)
				v += (*p - '0') * scale;
		if (digits == 0)
			return HC_ERR_CONFIG;
		/* the longest unit that matches ("ms" before "m") */
		for (size_t i = 0; i < HC_ARRAY_LEN(units); i++) {
			ulen = strlen(units[i].unit);
			if (strncmp(p, units[i].unit, ulen) == 0 && ulen > best) {
				best = ulen;
				u = (int)i;
			}
		}
		if (u < 0)
			return HC_ERR_CONFIG;
		p += best;
		total += v * units[u].ms;
	}
	if (total > 9.2e15)
		return HC_ERR_CONFIG;
	*ms = (int64_t)total;
	return 0;
}

int hc_size_parse(const char *s, uint64_t *out)
{
	char *end;
	double n;
	uint64_t mult = 1;

	if (s == NULL || *s == '\0')
		return HC_ERR_CONFIG;
	n = strtod(s, &end);
	if (end == s || n < 0)
		return HC_ERR_CONFIG;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': mult = 1ULL << 10; break;
	case 'M': mult = 1ULL << 20; break;
	case 'G': mult = 1ULL << 30; break;
	case 'T': mult = 1ULL << 40; break;
	default: return HC_ERR_CONFIG;
	}
	if (*end != '\0') {
		end++;
		if (*end == 'i')
			end++;
		if (*end == 'B')
			end++;
		if (*end != '\0')
			return HC_ERR_CONFIG;
	}
	*out = (uint64_t)(n * (double)mult);
	return 0;
}
