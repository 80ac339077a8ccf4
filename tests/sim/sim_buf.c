/*
 * sim_buf.c - out-of-line parts of the buffer and formatter module (see
 * sim_buf.h for the design).  Nothing here allocates except sb_grow.
 */
#include "sim_buf.h"

#include <stdio.h>
#include <stdlib.h>

const char fmt_digits2[200] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

void sb_grow(sb *b, size_t n)
{
    size_t need = b->len + n;
    size_t cap = b->cap ? b->cap : 4096;
    char *d;

    while (cap < need)
        cap *= 2;
    d = realloc(b->data, cap);
    if (!d) {
        fprintf(stderr, "heapster-sim: out of memory growing a buffer to %zu bytes\n", cap);
        abort();
    }
    b->data = d;
    b->cap = cap;
}

void sb_free(sb *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* Howard Hinnant's civil_from_days: days since 1970-01-01 -> y/m/d. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

char *fmt_rfc3339(char *p, int64_t t)
{
    int64_t days = t / 86400, y;
    int64_t sod = t % 86400;
    unsigned m, d;

    if (sod < 0) {
        sod += 86400;
        days--;
    }
    civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999)
        y = 0;
    memcpy(p, fmt_digits2 + (y / 100) * 2, 2);
    memcpy(p + 2, fmt_digits2 + (y % 100) * 2, 2);
    p[4] = '-';
    memcpy(p + 5, fmt_digits2 + m * 2, 2);
    p[7] = '-';
    memcpy(p + 8, fmt_digits2 + d * 2, 2);
    p[10] = 'T';
    memcpy(p + 11, fmt_digits2 + (sod / 3600) * 2, 2);
    p[13] = ':';
    memcpy(p + 14, fmt_digits2 + ((sod / 60) % 60) * 2, 2);
    p[16] = ':';
    memcpy(p + 17, fmt_digits2 + (sod % 60) * 2, 2);
    p[19] = 'Z';
    return p + RFC3339_LEN;
}

char *fmt_hundredths(char *p, uint64_t h)
{
    unsigned frac = (unsigned)(h % 100);

    p = fmt_u64(p, h / 100);
    if (frac) {
        *p++ = '.';
        *p++ = (char)('0' + frac / 10);
        if (frac % 10)
            *p++ = (char)('0' + frac % 10);
    }
    return p;
}

char *fmt_prom_decimal(char *p, uint64_t mant, int scale)
{
    char dig[24];
    char *e = fmt_u64(dig, mant);
    int nd = (int)(e - dig), exp, i;

    if (mant == 0) {
        *p++ = '0';
        return p;
    }
    while (nd > 1 && dig[nd - 1] == '0') { /* drop trailing zeros */
        nd--;
        scale--;
    }
    exp = nd - scale - 1; /* decimal exponent of the first digit */
    if (exp < -4 || exp >= 6) {
        *p++ = dig[0];
        if (nd > 1) {
            *p++ = '.';
            p = fmt_mem(p, dig + 1, (size_t)(nd - 1));
        }
        *p++ = 'e';
        *p++ = exp < 0 ? '-' : '+';
        if (exp < 0)
            exp = -exp;
        if (exp < 10)
            *p++ = '0';
        return fmt_u64(p, (uint64_t)exp);
    }
    if (exp < 0) { /* 0.000ddd */
        P_LIT(p, "0.");
        for (i = -1; i > exp; i--)
            *p++ = '0';
        return fmt_mem(p, dig, (size_t)nd);
    }
    /* exp+1 integer digits, padded with zeros when nd is short */
    for (i = 0; i <= exp; i++)
        *p++ = i < nd ? dig[i] : '0';
    if (nd > exp + 1) {
        *p++ = '.';
        p = fmt_mem(p, dig + exp + 1, (size_t)(nd - exp - 1));
    }
    return p;
}

char *fmt_hex(char *p, uint64_t v, int nbytes)
{
    static const char hx[] = "0123456789abcdef";
    for (int i = nbytes * 2 - 1; i >= 0; i--)
        *p++ = hx[(v >> (i * 4)) & 15];
    return p;
}

char *fmt_json_escaped(char *p, const char *s, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            *p++ = '\\';
            *p++ = (char)c;
        } else if (c < 0x20) {
            P_LIT(p, "\\u00");
            *p++ = hx[c >> 4];
            *p++ = hx[c & 15];
        } else {
            *p++ = (char)c;
        }
    }
    return p;
}
