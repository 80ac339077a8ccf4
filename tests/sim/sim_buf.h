/*
 * sim_buf.h - growable byte buffers and the hand-rolled text formatters used
 * on the simulator's hot path (prefix sb_ for buffers, fmt_ for formatters,
 * jw_ for the pretty JSON writer).
 *
 * Design: every response body is produced by appending into an `sb` (data,
 * len, cap).  Renderers reserve a generous block once (sb_reserve) and then
 * write through a raw cursor `char *p` with the fmt_* helpers, committing the
 * cursor at the end (sb_commit).  This keeps the inner loops free of bounds
 * checks and of printf: literals are memcpy'd with compile-time sizes, integers
 * go through a two-digits-at-a-time itoa, RFC 3339 times through a
 * days-to-civil conversion.  Allocation failure is fatal (the simulator is a
 * test tool; sb_reserve aborts with a message rather than returning NULL).
 *
 * jw_* is a tiny writer for the kubelet's pretty-printed JSON (go-restful
 * MarshalIndent with a one-space indent, which is what real kubelets send):
 * it tracks depth and "first member" state so renderers only name fields.
 */
#ifndef SIM_BUF_H
#define SIM_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct sb {
    char *data;
    size_t len;
    size_t cap;
} sb;

/* Make room for n more bytes; aborts on out-of-memory. Returns cursor. */
void sb_grow(sb *b, size_t n);
void sb_free(sb *b);

static inline char *sb_reserve(sb *b, size_t n)
{
    if (b->cap - b->len < n)
        sb_grow(b, n);
    return b->data + b->len;
}

static inline void sb_commit(sb *b, char *p) { b->len = (size_t)(p - b->data); }

static inline void sb_put(sb *b, const void *s, size_t n)
{
    char *p = sb_reserve(b, n);
    memcpy(p, s, n);
    b->len += n;
}

#define SB_LIT(b, s) sb_put((b), "" s, sizeof("" s) - 1) /* s must be a literal */
/* Cursor variant: copy a string literal and advance the cursor. */
#define P_LIT(p, s) do { memcpy((p), "" s, sizeof("" s) - 1); (p) += sizeof("" s) - 1; } while (0)

static inline char *fmt_mem(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

static inline char *fmt_str(char *p, const char *s) { return fmt_mem(p, s, strlen(s)); }

extern const char fmt_digits2[200];

/* Unsigned decimal. At most 20 bytes.  Counts the digits first so it can
 * write in place, two at a time, without a variable-length memcpy. */
static inline char *fmt_u64(char *p, uint64_t v)
{
    int n = 1;
    char *q;

    for (uint64_t x = v; x >= 10; x /= 10)
        n++;
    q = p + n;
    while (v >= 100) {
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        q -= 2;
        q[0] = fmt_digits2[r * 2];
        q[1] = fmt_digits2[r * 2 + 1];
    }
    if (v >= 10) {
        q[-2] = fmt_digits2[v * 2];
        q[-1] = fmt_digits2[v * 2 + 1];
    } else {
        q[-1] = (char)('0' + v);
    }
    return p + n;
}

static inline char *fmt_i64(char *p, int64_t v)
{
    if (v < 0) {
        *p++ = '-';
        return fmt_u64(p, (uint64_t)0 - (uint64_t)v);
    }
    return fmt_u64(p, (uint64_t)v);
}

/* "2026-06-26T10:14:35Z" (20 bytes) from unix seconds. */
char *fmt_rfc3339(char *p, int64_t t);
#define RFC3339_LEN 20

/* Hundredths as a JSON number the way Go prints float64: 7391 -> 73.91,
 * 10 -> 0.1, 0 -> 0, 1200 -> 12. */
char *fmt_hundredths(char *p, uint64_t h);

/* mant / 10^scale in Go strconv 'g' shortest style, as the Prometheus text
 * encoder prints it: 6197.005020909, 1.616273408e+09, 0.5, 0. */
char *fmt_prom_decimal(char *p, uint64_t mant, int scale);

/* 2*n lowercase hex digits of the low n bytes of v, most significant first. */
char *fmt_hex(char *p, uint64_t v, int nbytes);

/* JSON string body with escaping (no surrounding quotes); worst case 6x. */
char *fmt_json_escaped(char *p, const char *s, size_t n);

/* ---- pretty JSON writer (one-space indent, Go MarshalIndent layout) ---- */

typedef struct jw {
    sb *b;
    char *p;          /* write cursor; valid while enough room is reserved */
    int depth;        /* nesting level of the innermost open container */
    uint64_t members; /* bit d set: container at depth d already has a member */
} jw;

#define JW_SPACES "                                                                "

static inline void jw_init(jw *w, sb *b)
{
    w->b = b;
    w->p = b->data + b->len;
    w->depth = 0;
    w->members = 0;
}

/* Flush the cursor into the buffer and make sure n more bytes fit. */
static inline void jw_room(jw *w, size_t n)
{
    sb_commit(w->b, w->p);
    w->p = sb_reserve(w->b, n);
}

static inline void jw_done(jw *w) { sb_commit(w->b, w->p); }

/* Separator + newline + indent before a member/element. */
static inline void jw_sep(jw *w)
{
    uint64_t bit = (uint64_t)1 << w->depth;
    char *p = w->p;
    if (w->members & bit)
        *p++ = ',';
    w->members |= bit;
    *p++ = '\n';
    memcpy(p, JW_SPACES, 16); /* depth is < 16 in all our documents */
    w->p = p + w->depth;
}

static inline void jw_open(jw *w, char c)
{
    *w->p++ = c;
    w->depth++;
    w->members &= ~((uint64_t)1 << w->depth);
}

static inline void jw_close(jw *w, char c)
{
    uint64_t bit = (uint64_t)1 << w->depth;
    w->depth--;
    if (w->members & bit) {
        *w->p++ = '\n';
        memcpy(w->p, JW_SPACES, 16);
        w->p += w->depth;
    }
    *w->p++ = c;
}

/* Member key, given pre-quoted as "\"name\": " (see the JW_* macros). */
static inline void jw_key(jw *w, const char *qk, size_t n)
{
    jw_sep(w);
    memcpy(w->p, qk, n);
    w->p += n;
}

#define JW_KEY(w, k) jw_key((w), "\"" k "\": ", sizeof("\"" k "\": ") - 1)
#define JW_U64(w, k, v) do { JW_KEY(w, k); (w)->p = fmt_u64((w)->p, (v)); } while (0)
#define JW_H(w, k, v) do { JW_KEY(w, k); (w)->p = fmt_hundredths((w)->p, (v)); } while (0)
/* value is a string of known length, written without escaping */
#define JW_STRN(w, k, s, n) do { JW_KEY(w, k); *(w)->p++ = '"'; \
        (w)->p = fmt_mem((w)->p, (s), (n)); *(w)->p++ = '"'; } while (0)
#define JW_OBJ(w, k) do { JW_KEY(w, k); jw_open((w), '{'); } while (0)
#define JW_ARR(w, k) do { JW_KEY(w, k); jw_open((w), '['); } while (0)
#define JW_END_OBJ(w) jw_close((w), '}')
#define JW_END_ARR(w) jw_close((w), ']')
/* anonymous object as an array element */
#define JW_ELEM_OBJ(w) do { jw_sep(w); jw_open((w), '{'); } while (0)

#endif
