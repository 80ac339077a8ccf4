/*
 * kmeta.c - quantities, owner indexes, and pods, namespaces and nodes into
 * the metadata batch (see kmeta.h and common/meta.h).
 *
 * Design.  Each list page is validated whole first (json.h), so a bad page
 * leaves the batch as it was; then one walk reads each item.  A pod's
 * fields may come in any order (its phase after its containers, its
 * containerStatuses after or before its spec), so a pod is first read into
 * a scratch record (struct pod: spans of the page's text, parsed numbers,
 * one struct ctr per spec container) and emitted at the end of its object:
 * the pod set, then its containers' sets.  Strings the batch keeps are
 * copied into the batch's arena once per pod; a container set carries only
 * its own labels (the pod's are on the pod's set alone, common/meta.h),
 * and its seven fixed values only when they are not 0.  The scratch grows
 * to the largest pod seen and is reused.
 *
 * Watch mode keeps the pods, and the namespaces, in caches (struct
 * scr_cache): a batch of their sets in which each object's sets are
 * contiguous, with span[] marking where each object starts.  An event
 * (scr_event_begin() reads its type, object and resourceVersion) re-reads
 * the object with the same code as a listing; emit_pod() and
 * namespace_obj() first drop the object's previous sets from the key index
 * (they stay in the arrays as garbage), then append the new ones.
 * Rendering copies the live objects into the round's metadata batch,
 * sharing label strings; compaction copies them into a fresh batch once
 * garbage outweighs them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hc.h"
#include "json.h"
#include "kmeta.h"
#include "log.h"
#include "meta.h"

#define KEY_MAX 1024    /* longer entity keys are skipped */

/* ---- quantities ----------------------------------------------------------- */

typedef unsigned __int128 u128;

int scr_quantity_parse(const char *s, size_t len, int scale10, int64_t *out)
{
	const char *p = s, *end = s + len;
	uint64_t mant = 0;
	int e10 = scale10, e2 = 0, digits = 0, sig = 0, neg = 0, inexact = 0;
	u128 v, lim = (u128)INT64_MAX;

	if (p < end && (*p == '+' || *p == '-'))
		neg = *p++ == '-';
	/* at most 19 significant digits exactly; the rest only scale or round */
	for (; p < end && *p >= '0' && *p <= '9'; p++, digits++) {
		if (sig < 19) {
			mant = mant * 10 + (uint64_t)(*p - '0');
			sig += mant > 0;
		} else {
			e10++;
			inexact |= *p != '0';
		}
	}
	if (p < end && *p == '.') {
		for (p++; p < end && *p >= '0' && *p <= '9'; p++, digits++) {
			if (sig < 19) {
				mant = mant * 10 + (uint64_t)(*p - '0');
				sig += mant > 0;
				e10--;
			} else {
				inexact |= *p != '0';
			}
		}
	}
	if (digits == 0)
		return HC_ERR_PARSE;
	/* the suffix */
	if (p == end) {
		/* none */
	} else if (end - p == 2 && p[1] == 'i') {
		static const char bin[] = "KMGTPE";
		const char *b = memchr(bin, p[0], sizeof(bin) - 1);

		if (b == NULL)
			return HC_ERR_PARSE;
		e2 = 10 * (int)(b - bin + 1);
	} else if ((*p == 'e' || *p == 'E') && end - p > 1) {
		int x = 0, xneg = 0, xd = 0;

		p++;
		if (*p == '+' || *p == '-')
			xneg = *p++ == '-';
		for (; p < end && *p >= '0' && *p <= '9'; p++, xd++)
			if (x < 100000)
				x = x * 10 + (*p - '0');
		if (xd == 0 || p != end)
			return HC_ERR_PARSE;
		e10 += xneg ? -x : x;
	} else if (end - p == 1) {
		switch (*p) {
		case 'n': e10 -= 9; break;
		case 'u': e10 -= 6; break;
		case 'm': e10 -= 3; break;
		case 'k': e10 += 3; break;
		case 'M': e10 += 6; break;
		case 'G': e10 += 9; break;
		case 'T': e10 += 12; break;
		case 'P': e10 += 15; break;
		case 'E': e10 += 18; break;
		default: return HC_ERR_PARSE;
		}
	} else {
		return HC_ERR_PARSE;
	}
	v = mant;
	if (v == 0 && !inexact) {
		*out = 0;
		return 0;
	}
	/* mant < 10^19 < 2^64, so a shift of up to 60 fits in 128 bits */
	v <<= e2;
	for (; e10 > 0; e10--) {
		if (v > lim)
			return HC_ERR_TOOBIG;
		v *= 10;
	}
	if (e10 < 0) {
		u128 q = v;
		int rem = 0;

		for (; e10 < 0 && q > 0; e10++) {
			rem |= q % 10 != 0;
			q /= 10;
		}
		v = q + (rem || inexact);     /* rounded up */
	} else if (inexact) {
		v++;
	}
	if (v > lim)
		return HC_ERR_TOOBIG;
	*out = neg ? -(int64_t)v : (int64_t)v;
	return 0;
}

/* ---- small helpers ---------------------------------------------------------- */

/* A raw string copied (unescaped) into an arena; NULL on ENOMEM. */
static const char *arena_copy(struct hc_arena *a, const struct scr_str *s)
{
	char *d = hc_arena_alloc(a, (size_t)s->len + 1);

	if (d != NULL)
		scr_json_unescape(s, d, (size_t)s->len + 1);
	return d;
}

/* An RFC 3339 string value in ms; 0 if absent or malformed. */
static int64_t str_time(const struct scr_str *s)
{
	int64_t ms;

	if (s->len == 0 || s->esc || hc_time_parse(s->p, s->len, &ms) != 0 || ms <= 0)
		return 0;
	return ms;
}

/*
 * Validates a list page and positions j inside its top object.  0, or
 * HC_ERR_PARSE for what is not JSON or has no "items" array (a Status).
 */
static int page_begin(struct scr_json *j, const char *json, size_t len)
{
	char items;
	int rc = scr_json_validate(json, len, "items", &items);

	if (rc != 0)
		return rc;
	if (items != '[' && items != 'n')
		return HC_ERR_PARSE;
	scr_json_init(j, json, len);
	scr_json_obj_enter(j);
	return 0;
}

/* Copies a short raw string (a resourceVersion) into dst[cap]; "" if too long. */
static void copy_short(const struct scr_str *s, char *dst, size_t cap)
{
	dst[0] = '\0';
	if ((size_t)s->len + 1 <= cap)
		scr_json_unescape(s, dst, cap);
}

/* The list's metadata: its continue token into cont, resourceVersion into rv. */
static int read_list_meta(struct scr_json *j, char *cont, char *rv)
{
	struct scr_str k, s;

	if (!scr_json_obj_enter(j))
		return 0;
	while (scr_json_obj_next(j, &k)) {
		if (SCR_KEY_IS(k, "resourceVersion") && rv != NULL) {
			if (scr_json_get_str(j, &s))
				copy_short(&s, rv, SCR_RV_MAX);
			continue;
		}
		if (!SCR_KEY_IS(k, "continue") || !scr_json_get_str(j, &s)) {
			if (!SCR_KEY_IS(k, "continue"))
				scr_json_skip(j);
			continue;
		}
		if ((size_t)s.len + 1 > SCR_CONT_MAX)
			return HC_ERR_TOOBIG;
		scr_json_unescape(&s, cont, SCR_CONT_MAX);
	}
	return 0;
}

/*
 * ownerReferences: the controller (controller: true), else the first one.
 * kind/name stay empty when there is none.
 */
static void read_owner_refs(struct scr_json *j, struct scr_str *kind, struct scr_str *name)
{
	int have_controller = 0;

	kind->len = name->len = 0;
	if (!scr_json_arr_enter(j))
		return;
	while (scr_json_arr_next(j)) {
		struct scr_str k, ok = { "", 0, 0 }, on = { "", 0, 0 };
		int controller = 0;

		if (!scr_json_obj_enter(j))
			continue;
		while (scr_json_obj_next(j, &k)) {
			if (SCR_KEY_IS(k, "kind")) {
				scr_json_get_str(j, &ok);
			} else if (SCR_KEY_IS(k, "name")) {
				scr_json_get_str(j, &on);
			} else if (SCR_KEY_IS(k, "controller")) {
				controller = scr_json_peek(j) == 't';
				scr_json_skip(j);
			} else {
				scr_json_skip(j);
			}
		}
		if (have_controller || ok.len == 0 || on.len == 0)
			continue;
		if (controller || kind->len == 0) {
			*kind = ok;
			*name = on;
			have_controller = controller;
		}
	}
}

/* ---- owner indexes (ReplicaSets, Jobs) ------------------------------------ */

int scr_owners_init(struct scr_owners *o)
{
	memset(o, 0, sizeof(*o));
	hc_arena_init(&o->arena, 64 * 1024);
	return hc_map_init(&o->map, 256);
}

void scr_owners_reset(struct scr_owners *o)
{
	hc_map_clear(&o->map);
	hc_arena_reset(&o->arena);
	o->n = 0;
	o->complete = 0;
}

void scr_owners_free(struct scr_owners *o)
{
	hc_map_free(&o->map);
	hc_arena_free(&o->arena);
	free(o->refs);
	memset(o, 0, sizeof(*o));
}

/* One ReplicaSet or Job item into o. */
static int owners_item(struct scr_json *j, struct scr_owners *o)
{
	struct scr_str k, ns = { "", 0, 0 }, name = { "", 0, 0 }, okind, oname;
	const char *kind_c = NULL, *name_c = NULL;
	char key[KEY_MAX];
	size_t klen;
	char *kcopy;

	okind.len = oname.len = 0;
	if (!scr_json_obj_enter(j))
		return 0;
	while (scr_json_obj_next(j, &k)) {
		if (!SCR_KEY_IS(k, "metadata") || !scr_json_obj_enter(j)) {
			if (!SCR_KEY_IS(k, "metadata"))
				scr_json_skip(j);
			continue;
		}
		while (scr_json_obj_next(j, &k)) {
			if (SCR_KEY_IS(k, "name"))
				scr_json_get_str(j, &name);
			else if (SCR_KEY_IS(k, "namespace"))
				scr_json_get_str(j, &ns);
			else if (SCR_KEY_IS(k, "ownerReferences"))
				read_owner_refs(j, &okind, &oname);
			else
				scr_json_skip(j);
		}
	}
	if (name.len == 0 || (size_t)ns.len + name.len + 2 > sizeof(key))
		return 0;
	klen = scr_json_unescape(&ns, key, sizeof(key));
	key[klen++] = '/';
	klen += scr_json_unescape(&name, key + klen, sizeof(key) - klen);
	if (okind.len > 0) {
		kind_c = arena_copy(&o->arena, &okind);
		name_c = arena_copy(&o->arena, &oname);
		if (kind_c == NULL || name_c == NULL)
			return -ENOMEM;
	}
	kcopy = hc_arena_strndup(&o->arena, key, klen);
	if (kcopy == NULL)
		return -ENOMEM;
	if (o->n == o->cap) {
		uint32_t ncap = o->cap ? o->cap * 2 : 256;
		struct scr_ownerref *r = realloc(o->refs, ncap * sizeof(*r));

		if (r == NULL)
			return -ENOMEM;
		o->refs = r;
		o->cap = ncap;
	}
	o->refs[o->n].kind = kind_c;
	o->refs[o->n].name = name_c;
	if (hc_map_put(&o->map, kcopy, klen, o->n) != 0)
		return -ENOMEM;
	o->n++;
	return 0;
}

int scr_owners_parse(const char *json, size_t len, struct scr_owners *o, char *cont)
{
	struct scr_json j;
	struct scr_str k;
	int rc;

	cont[0] = '\0';
	rc = page_begin(&j, json, len);
	if (rc != 0)
		return rc;
	while (scr_json_obj_next(&j, &k)) {
		if (SCR_KEY_IS(k, "items")) {
			if (!scr_json_arr_enter(&j))
				continue;
			while (scr_json_arr_next(&j)) {
				rc = owners_item(&j, o);
				if (rc != 0)
					return rc;
			}
		} else if (SCR_KEY_IS(k, "metadata")) {
			rc = read_list_meta(&j, cont, NULL);
			if (rc != 0)
				return rc;
		} else {
			scr_json_skip(&j);
		}
	}
	return 0;
}

const struct scr_ownerref *scr_owners_get(const struct scr_owners *o,
					  const char *ns, const char *name)
{
	char key[KEY_MAX];
	uint32_t idx;
	int n = snprintf(key, sizeof(key), "%s/%s", ns, name);

	if (n < 0 || (size_t)n >= sizeof(key) || o->cap == 0 ||
	    hc_map_get(&o->map, key, (size_t)n, &idx) != 0)
		return NULL;
	return &o->refs[idx];
}

/* ---- pods ------------------------------------------------------------------- */

enum { R_CPU, R_MEM, R_EPH, R_N };

/* One spec container while its pod is read. */
struct ctr {
	struct scr_str name, image;
	int64_t        req[R_N], lim[R_N];
	uint32_t       other_off, other_n;   /* in scratch.other */
	int64_t        restarts;
};

/* A resource other than cpu, memory and ephemeral-storage, requested. */
struct other_res {
	struct scr_str name;
	int64_t        value;
};

/* A containerStatuses entry. */
struct status {
	struct scr_str name;
	int64_t        restarts;
};

struct scratch {
	struct ctr       *ctrs;
	uint32_t          nctrs, ctrs_cap;
	struct other_res *other;
	uint32_t          nother, other_cap;
	struct status    *st;
	uint32_t          nst, st_cap;
};

/* The pod being read. */
struct pod {
	struct scr_str ns, name, uid, node, phase, okind, oname, rv;
	int64_t        create_ms, start_ms;
	const char    *labels;       /* arena copy, NULL until read */
	const char    *hash;         /* pod-template-hash label, arena copy */
};

static int grow(void **p, uint32_t *cap, uint32_t need, size_t size)
{
	uint32_t ncap;
	void *np;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	while (ncap < need)
		ncap *= 2;
	np = realloc(*p, (size_t)ncap * size);
	if (np == NULL)
		return -ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

int scr_meta_ctx_init(struct scr_meta_ctx *c)
{
	memset(c, 0, sizeof(*c));
	scr_labels_init(&c->labels);
	c->scratch = calloc(1, sizeof(struct scratch));
	return c->scratch ? 0 : -ENOMEM;
}

void scr_meta_ctx_free(struct scr_meta_ctx *c)
{
	struct scratch *sc = c->scratch;

	if (sc != NULL) {
		free(sc->ctrs);
		free(sc->other);
		free(sc->st);
		free(sc);
	}
	scr_labels_free(&c->labels);
	memset(c, 0, sizeof(*c));
}

/* resources.requests or .limits of a container. */
static int read_res_map(struct scr_json *j, struct scratch *sc, struct ctr *c, int limits)
{
	struct scr_str k, v;
	int64_t *dst = limits ? c->lim : c->req;

	if (!scr_json_obj_enter(j))
		return 0;
	while (scr_json_obj_next(j, &k)) {
		struct scr_str raw = k;
		int64_t x;
		int r = -1;

		/* the cursor may have decoded k into its key buffer: keep a copy */
		if (SCR_KEY_IS(k, "cpu"))
			r = R_CPU;
		else if (SCR_KEY_IS(k, "memory"))
			r = R_MEM;
		else if (SCR_KEY_IS(k, "ephemeral-storage"))
			r = R_EPH;
		if (!scr_json_get_str(j, &v))
			continue;
		if (scr_quantity_parse(v.p, v.len, r == R_CPU ? 3 : 0, &x) != 0) {
			hc_debug("quantity '%.*s' does not parse", (int)v.len, v.p);
			continue;
		}
		if (r >= 0) {
			dst[r] = x;
			continue;
		}
		if (limits || raw.p == j->keybuf)
			continue;   /* only requests of others; an escaped name is skipped */
		if (grow((void **)&sc->other, &sc->other_cap, sc->nother + 1,
			 sizeof(*sc->other)) != 0)
			return -ENOMEM;
		sc->other[sc->nother].name = raw;
		sc->other[sc->nother].value = x;
		sc->nother++;
		c->other_n++;
	}
	return 0;
}

/* One element of spec.containers. */
static int read_container(struct scr_json *j, struct scratch *sc)
{
	struct scr_str k;
	struct ctr *c;
	int rc;

	if (grow((void **)&sc->ctrs, &sc->ctrs_cap, sc->nctrs + 1, sizeof(*sc->ctrs)) != 0)
		return -ENOMEM;
	c = &sc->ctrs[sc->nctrs];
	memset(c, 0, sizeof(*c));
	c->other_off = sc->nother;
	if (!scr_json_obj_enter(j))
		return 0;
	while (scr_json_obj_next(j, &k)) {
		if (SCR_KEY_IS(k, "name")) {
			scr_json_get_str(j, &c->name);
		} else if (SCR_KEY_IS(k, "image")) {
			scr_json_get_str(j, &c->image);
		} else if (SCR_KEY_IS(k, "resources") && scr_json_obj_enter(j)) {
			while (scr_json_obj_next(j, &k)) {
				if (SCR_KEY_IS(k, "requests") || SCR_KEY_IS(k, "limits")) {
					rc = read_res_map(j, sc, c, SCR_KEY_IS(k, "limits"));
					if (rc != 0)
						return rc;
				} else {
					scr_json_skip(j);
				}
			}
		} else if (!SCR_KEY_IS(k, "resources")) {
			scr_json_skip(j);
		}
	}
	if (c->name.len > 0)
		sc->nctrs++;
	else
		sc->nother = c->other_off;
	return 0;
}

static int read_spec(struct scr_json *j, struct scratch *sc, struct pod *p)
{
	struct scr_str k;
	int rc;

	if (!scr_json_obj_enter(j))
		return 0;
	while (scr_json_obj_next(j, &k)) {
		if (SCR_KEY_IS(k, "nodeName")) {
			scr_json_get_str(j, &p->node);
		} else if (SCR_KEY_IS(k, "containers")) {
			if (!scr_json_arr_enter(j))
				continue;
			while (scr_json_arr_next(j)) {
				rc = read_container(j, sc);
				if (rc != 0)
					return rc;
			}
		} else {
			scr_json_skip(j);
		}
	}
	return 0;
}

static int read_status(struct scr_json *j, struct scratch *sc, struct pod *p)
{
	struct scr_str k, s;

	if (!scr_json_obj_enter(j))
		return 0;
	while (scr_json_obj_next(j, &k)) {
		if (SCR_KEY_IS(k, "phase")) {
			scr_json_get_str(j, &p->phase);
		} else if (SCR_KEY_IS(k, "startTime")) {
			if (scr_json_get_str(j, &s))
				p->start_ms = str_time(&s);
		} else if (SCR_KEY_IS(k, "containerStatuses")) {
			if (!scr_json_arr_enter(j))
				continue;
			while (scr_json_arr_next(j)) {
				struct status *st;

				if (grow((void **)&sc->st, &sc->st_cap, sc->nst + 1, sizeof(*sc->st)) != 0)
					return -ENOMEM;
				st = &sc->st[sc->nst];
				memset(st, 0, sizeof(*st));
				if (!scr_json_obj_enter(j))
					continue;
				while (scr_json_obj_next(j, &k)) {
					if (SCR_KEY_IS(k, "name"))
						scr_json_get_str(j, &st->name);
					else if (SCR_KEY_IS(k, "restartCount"))
						scr_json_get_i64(j, &st->restarts);
					else
						scr_json_skip(j);
				}
				if (st->name.len > 0)
					sc->nst++;
			}
		} else {
			scr_json_skip(j);
		}
	}
	return 0;
}

static int read_pod_metadata(struct scr_json *j, struct scr_meta_ctx *c,
			     struct hc_batch *meta, struct pod *p)
{
	struct scr_str k, s;
	const char *h;
	size_t len;
	int rc;

	if (!scr_json_obj_enter(j))
		return 0;
	while (scr_json_obj_next(j, &k)) {
		if (SCR_KEY_IS(k, "name")) {
			scr_json_get_str(j, &p->name);
		} else if (SCR_KEY_IS(k, "namespace")) {
			scr_json_get_str(j, &p->ns);
		} else if (SCR_KEY_IS(k, "uid")) {
			scr_json_get_str(j, &p->uid);
		} else if (SCR_KEY_IS(k, "resourceVersion")) {
			scr_json_get_str(j, &p->rv);
		} else if (SCR_KEY_IS(k, "creationTimestamp")) {
			if (scr_json_get_str(j, &s))
				p->create_ms = str_time(&s);
		} else if (SCR_KEY_IS(k, "ownerReferences")) {
			read_owner_refs(j, &p->okind, &p->oname);
		} else if (SCR_KEY_IS(k, "labels")) {
			rc = scr_labels_read(&c->labels, j);
			if (rc != 0)
				return rc;
			h = scr_labels_str(&c->labels, &len);
			p->labels = hc_batch_str(meta, h, len);
			h = scr_labels_get(&c->labels, "pod-template-hash");
			p->hash = h ? hc_batch_str(meta, h, strlen(h)) : NULL;
			if (p->labels == NULL || (h != NULL && p->hash == NULL))
				return -ENOMEM;
		} else {
			scr_json_skip(j);
		}
	}
	return 0;
}

/*
 * The pod's workload (common/meta.h): kind in lower case and name, or
 * *kind = NULL.  name may point into buf.
 */
static void resolve_workload(struct scr_meta_ctx *c, const struct pod *p,
			     const char *ns, const char *okind, const char *oname,
			     const char **kind, const char **name, char *buf, size_t cap)
{
	static const struct { const char *k8s, *type; } direct[] = {
		{ "StatefulSet", HC_TYPE_STATEFULSET }, { "DaemonSet", HC_TYPE_DAEMONSET },
		{ "ReplicationController", HC_TYPE_RC }, { "Deployment", HC_TYPE_DEPLOYMENT },
		{ "CronJob", HC_TYPE_CRONJOB },
	};
	const struct scr_ownerref *r;

	*kind = NULL;
	*name = oname;
	if (okind == NULL)
		return;
	if (strcmp(okind, "ReplicaSet") == 0) {
		size_t on = strlen(oname), hn;

		if (c->replicasets != NULL && c->replicasets->complete &&
		    (r = scr_owners_get(c->replicasets, ns, oname)) != NULL) {
			c->st.workloads_by_index++;
			if (r->kind != NULL && strcmp(r->kind, "Deployment") == 0) {
				*kind = HC_TYPE_DEPLOYMENT;
				*name = r->name;
			} else {
				*kind = HC_TYPE_REPLICASET;
			}
			return;
		}
		/* "<deployment>-<pod-template-hash>" */
		hn = p->hash ? strlen(p->hash) : 0;
		if (hn > 0 && on > hn + 1 && oname[on - hn - 1] == '-' &&
		    strcmp(oname + on - hn, p->hash) == 0 && on - hn - 1 < cap) {
			memcpy(buf, oname, on - hn - 1);
			buf[on - hn - 1] = '\0';
			*kind = HC_TYPE_DEPLOYMENT;
			*name = buf;
			c->st.workloads_by_hash++;
		} else {
			*kind = HC_TYPE_REPLICASET;
		}
		return;
	}
	if (strcmp(okind, "Job") == 0) {
		*kind = HC_TYPE_JOB;
		if (c->jobs != NULL && c->jobs->complete &&
		    (r = scr_owners_get(c->jobs, ns, oname)) != NULL) {
			c->st.workloads_by_index++;
			if (r->kind != NULL && strcmp(r->kind, "CronJob") == 0) {
				*kind = HC_TYPE_CRONJOB;
				*name = r->name;
			}
		}
		return;
	}
	for (size_t i = 0; i < HC_ARRAY_LEN(direct); i++) {
		if (strcmp(okind, direct[i].k8s) == 0) {
			*kind = direct[i].type;
			return;
		}
	}
	/* Node (static pods) and unknown controllers: no workload */
}

/* Labels of a set from (key, value) pairs, skipping NULL values. */
static int put_labels(struct hc_batch *b, uint32_t s, const struct hc_label *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rc;

		if (l[i].value == NULL)
			continue;
		rc = hc_batch_label(b, s, l[i].key, l[i].value);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Adds an int value unless it is 0 (absent means 0: common/meta.h). */
static int add_nonzero(struct hc_batch *b, uint32_t s, uint32_t name, int64_t v)
{
	return v != 0 ? hc_batch_add_int(b, s, name, v) : 0;
}

/*
 * One container's set: its own labels and values only (common/meta.h: the
 * processor takes the pod's labels from the pod's set); the seven fixed
 * values are left out when 0.
 */
static int emit_container(struct scr_meta_ctx *c, struct hc_batch *meta,
			  const struct ctr *ct, const char *podkey, size_t podkey_len)
{
	static const uint32_t req_m[R_N] = { HC_M_CPU_REQUEST, HC_M_MEM_REQUEST, HC_M_EPH_REQUEST };
	static const uint32_t lim_m[R_N] = { HC_M_CPU_LIMIT, HC_M_MEM_LIMIT, HC_M_EPH_LIMIT };
	struct scratch *sc = c->scratch;
	char key[KEY_MAX], name[320];
	const char *cname, *image;
	uint32_t s;
	size_t n;
	int created, rc;

	if (podkey_len + sizeof("/container:") + ct->name.len >= sizeof(key))
		return 0;
	cname = arena_copy(&meta->arena, &ct->name);
	image = arena_copy(&meta->arena, &ct->image);
	if (cname == NULL || image == NULL)
		return -ENOMEM;
	n = (size_t)snprintf(key, sizeof(key), "%.*s/container:%s", (int)podkey_len, podkey, cname);
	rc = hc_batch_set(meta, key, n, &s, &created);
	if (rc != 0)
		return rc;
	if (!created)
		return 0;      /* a container name listed twice: the first wins */
	{
		const struct hc_label own[] = {
			{ HC_L_TYPE, HC_TYPE_POD_CONTAINER }, { HC_L_CONTAINER_NAME, cname },
			{ HC_L_CONTAINER_IMAGE, image },
		};

		rc = put_labels(meta, s, own, HC_ARRAY_LEN(own));
		if (rc != 0)
			return rc;
	}
	for (int r = 0; r < R_N; r++) {
		rc = add_nonzero(meta, s, req_m[r], ct->req[r]);
		if (rc == 0)
			rc = add_nonzero(meta, s, lim_m[r], ct->lim[r]);
		if (rc != 0)
			return rc;
	}
	for (uint32_t i = 0; i < ct->other_n; i++) {
		const struct other_res *o = &sc->other[ct->other_off + i];
		uint32_t id;

		if (o->name.len + sizeof("/request") > sizeof(name))
			continue;
		memcpy(name, o->name.p, o->name.len);
		memcpy(name + o->name.len, "/request", sizeof("/request"));
		rc = hc_batch_name(meta, name, o->name.len + sizeof("/request") - 1, HC_GAUGE, &id);
		if (rc == 0)
			rc = hc_batch_add_int(meta, s, id, o->value);
		if (rc != 0)
			return rc;
	}
	rc = add_nonzero(meta, s, HC_M_RESTART_COUNT, ct->restarts);
	if (rc != 0)
		return rc;
	c->st.containers++;
	return 0;
}

/*
 * A pod read whole: its set and its containers' sets, if it is running.
 * With a cache (watch mode), the pod's previous sets are removed first, and
 * a deleted pod is only removed.
 */
static int emit_pod(struct scr_meta_ctx *c, struct hc_batch *meta, struct pod *p, int deleted)
{
	struct scratch *sc = c->scratch;
	const char *ns, *name, *uid, *node, *okind = NULL, *oname = NULL;
	const char *wkind, *wname;
	char key[KEY_MAX], wbuf[256], kbuf[64], obuf[256];
	uint32_t s;
	size_t n;
	int created, rc;

	c->st.pods_listed++;
	if (p->name.len == 0 || p->ns.len == 0 || (size_t)p->ns.len + p->name.len + 16 >= sizeof(key))
		return 0;
	if (c->cache != NULL) {
		n = (size_t)snprintf(key, sizeof(key), "namespace:");
		n += scr_json_unescape(&p->ns, key + n, sizeof(key) - n);
		n += (size_t)snprintf(key + n, sizeof(key) - n, "/pod:");
		n += scr_json_unescape(&p->name, key + n, sizeof(key) - n);
		scr_cache_remove(c->cache, key, n);
	}
	if (deleted || !scr_json_str_eq(&p->phase, "Running"))
		return 0;
	ns = arena_copy(&meta->arena, &p->ns);
	name = arena_copy(&meta->arena, &p->name);
	uid = arena_copy(&meta->arena, &p->uid);
	node = arena_copy(&meta->arena, &p->node);
	if (ns == NULL || name == NULL || uid == NULL || node == NULL)
		return -ENOMEM;
	/* the owner is only read (a longer one than Kubernetes allows: none) */
	if (p->okind.len > 0 && (size_t)p->okind.len < sizeof(kbuf) &&
	    (size_t)p->oname.len < sizeof(obuf)) {
		scr_json_unescape(&p->okind, kbuf, sizeof(kbuf));
		scr_json_unescape(&p->oname, obuf, sizeof(obuf));
		okind = kbuf;
		oname = obuf;
	}
	resolve_workload(c, p, ns, okind, oname, &wkind, &wname, wbuf, sizeof(wbuf));
	if (wkind != NULL) {
		/* wname may be in a buffer here or in an owner index reset each round */
		wname = hc_batch_str(meta, wname, strlen(wname));
		if (wname == NULL)
			return -ENOMEM;
	}
	n = (size_t)snprintf(key, sizeof(key), "namespace:%s/pod:%s", ns, name);
	rc = hc_batch_set(meta, key, n, &s, &created);
	if (rc != 0)
		return rc;
	if (!created)
		return 0;      /* listed twice (a page boundary moved): first wins */
	{
		const struct hc_label pl[] = {
			{ HC_L_TYPE, HC_TYPE_POD }, { HC_L_NAMESPACE_NAME, ns },
			{ HC_L_POD_NAME, name }, { HC_L_POD_ID, uid }, { HC_L_NODENAME, node },
			{ HC_L_LABELS, p->labels ? p->labels : "" },
			{ HC_META_WORKLOAD_KIND, wkind }, { HC_META_WORKLOAD_NAME, wkind ? wname : NULL },
		};

		rc = put_labels(meta, s, pl, HC_ARRAY_LEN(pl));
		if (rc != 0)
			return rc;
		meta->sets[s].create_ms = p->create_ms;
		meta->sets[s].start_ms = p->start_ms;
		c->st.pods_running++;
		c->st.pods_in_workloads += wkind != NULL;
		/* restart counts by container name */
		for (uint32_t i = 0; i < sc->nctrs; i++) {
			struct ctr *ct = &sc->ctrs[i];

			for (uint32_t k = 0; k < sc->nst; k++) {
				if (sc->st[k].name.len == ct->name.len &&
				    memcmp(sc->st[k].name.p, ct->name.p, ct->name.len) == 0) {
					ct->restarts = sc->st[k].restarts;
					break;
				}
			}
			rc = emit_container(c, meta, ct, key, n);
			if (rc != 0)
				return rc;
		}
	}
	return c->cache != NULL ? scr_cache_added(c->cache, s) : 0;
}

/* Reads one pod object (its strings stay spans of the text). */
static int pod_read(struct scr_json *j, struct scr_meta_ctx *c, struct hc_batch *meta,
		    struct pod *pp)
{
	struct scratch *sc = c->scratch;
	struct scr_str k;
	struct pod p;
	int rc;

	memset(&p, 0, sizeof(p));
	p.ns.p = p.name.p = p.uid.p = p.node.p = p.phase.p = p.rv.p = "";
	sc->nctrs = sc->nother = sc->nst = 0;
	*pp = p;
	if (!scr_json_obj_enter(j))
		return 0;
	while (scr_json_obj_next(j, &k)) {
		if (SCR_KEY_IS(k, "metadata"))
			rc = read_pod_metadata(j, c, meta, &p);
		else if (SCR_KEY_IS(k, "spec"))
			rc = read_spec(j, sc, &p);
		else if (SCR_KEY_IS(k, "status"))
			rc = read_status(j, sc, &p);
		else
			rc = (scr_json_skip(j), 0);
		if (rc != 0)
			return rc;
	}
	*pp = p;
	return 0;
}

static int pod_item(struct scr_json *j, struct scr_meta_ctx *c, struct hc_batch *meta)
{
	struct pod p;
	int rc = pod_read(j, c, meta, &p);

	return rc != 0 ? rc : emit_pod(c, meta, &p, 0);
}

/* Saved batch counts, to undo a page that failed half way. */
struct mark {
	uint32_t nsets, nvals, nlabels;
	struct scr_meta_stats st;
};

static void mark_take(struct mark *m, const struct hc_batch *b, const struct scr_meta_ctx *c)
{
	m->nsets = b->nsets;
	m->nvals = b->nvals;
	m->nlabels = b->nlabels;
	m->st = c->st;
}

/* Drops the sets added since m (their keys leave the index too). */
static void mark_undo(const struct mark *m, struct hc_batch *b, struct scr_meta_ctx *c)
{
	for (uint32_t s = m->nsets; s < b->nsets; s++)
		hc_map_del(&b->set_index, b->sets[s].key, strlen(b->sets[s].key));
	b->nsets = m->nsets;
	b->nvals = m->nvals;
	b->nlabels = m->nlabels;
	b->grouped = 0;
	c->st = m->st;
}

/* The items of one list page through item_fn; undone whole on error. */
static int parse_page(const char *json, size_t len, struct scr_meta_ctx *c,
		      struct hc_batch *meta, char *cont,
		      int (*item_fn)(struct scr_json *, struct scr_meta_ctx *, struct hc_batch *))
{
	struct scr_json j;
	struct scr_str k;
	struct mark m;
	int rc;

	cont[0] = '\0';
	rc = page_begin(&j, json, len);
	if (rc != 0)
		return rc;
	mark_take(&m, meta, c);
	while (scr_json_obj_next(&j, &k)) {
		if (SCR_KEY_IS(k, "items")) {
			if (!scr_json_arr_enter(&j))
				continue;
			while (scr_json_arr_next(&j)) {
				rc = item_fn(&j, c, meta);
				if (rc != 0)
					goto undo_page;
			}
		} else if (SCR_KEY_IS(k, "metadata")) {
			rc = read_list_meta(&j, cont, c->list_rv);
			if (rc != 0)
				goto undo_page;
		} else {
			scr_json_skip(&j);
		}
	}
	return 0;

undo_page:
	mark_undo(&m, meta, c);
	return rc;
}

int scr_meta_pods_parse(const char *json, size_t len, struct scr_meta_ctx *c,
			struct hc_batch *meta, char *cont)
{
	return parse_page(json, len, c, meta, cont, pod_item);
}

/* ---- the pod cache of watch mode ------------------------------------------- */

int scr_cache_init(struct scr_cache *k)
{
	memset(k, 0, sizeof(*k));
	return hc_batch_init(&k->b);
}

void scr_cache_reset(struct scr_cache *k)
{
	hc_batch_reset(&k->b, 0);
	k->nlive = k->ndead = 0;
}

void scr_cache_free(struct scr_cache *k)
{
	hc_batch_free(&k->b);
	free(k->span);
	memset(k, 0, sizeof(*k));
}

void scr_cache_remove(struct scr_cache *k, const char *key, size_t len)
{
	uint32_t idx, n;

	if (hc_batch_find(&k->b, key, len, &idx) != 0 || idx >= k->span_cap ||
	    (n = k->span[idx]) == 0)
		return;
	for (uint32_t i = idx; i < idx + n; i++)
		hc_map_del(&k->b.set_index, k->b.sets[i].key, strlen(k->b.sets[i].key));
	k->span[idx] = 0;
	k->nlive -= n;
	k->ndead += n;
}

int scr_cache_added(struct scr_cache *k, uint32_t first)
{
	uint32_t n = k->b.nsets;

	if (n > k->span_cap) {
		uint32_t ncap = k->span_cap ? k->span_cap : 1024, *p;

		while (ncap < n)
			ncap *= 2;
		p = realloc(k->span, (size_t)ncap * sizeof(*p));
		if (p == NULL)
			return -ENOMEM;
		memset(p + k->span_cap, 0, (size_t)(ncap - k->span_cap) * sizeof(*p));
		k->span = p;
		k->span_cap = ncap;
	}
	for (uint32_t i = first; i < n; i++)
		k->span[i] = 0;
	k->span[first] = n - first;
	k->nlive += n - first;
	return 0;
}

/*
 * Copies set i of src (key, times, labels) into dst.  copy_strings: label
 * values are copied into dst's arena (one copy per object through the
 * small map `seen`), else shared.
 */
struct str_pair {
	const char *from, *to;
};

static int copy_set(struct hc_batch *dst, const struct hc_batch *src, uint32_t i,
		    int copy_strings, struct str_pair *seen, uint32_t *nseen, uint32_t seen_cap)
{
	const struct hc_set *ss = &src->sets[i];
	uint32_t d;
	int created, rc;

	rc = hc_batch_set(dst, ss->key, strlen(ss->key), &d, &created);
	if (rc != 0 || !created)
		return rc;
	dst->sets[d].create_ms = ss->create_ms;
	dst->sets[d].start_ms = ss->start_ms;
	dst->sets[d].scrape_ms = ss->scrape_ms;
	for (uint32_t l = 0; l < ss->labels_n; l++) {
		const struct hc_label *lb = &src->labels[ss->labels_off + l];
		const char *v = lb->value;

		if (copy_strings) {
			uint32_t x;

			for (x = 0; x < *nseen && seen[x].from != v; x++)
				;
			if (x < *nseen) {
				v = seen[x].to;
			} else {
				v = hc_batch_str(dst, lb->value, strlen(lb->value));
				if (v == NULL)
					return -ENOMEM;
				if (*nseen < seen_cap) {
					seen[*nseen].from = lb->value;
					seen[(*nseen)++].to = v;
				}
			}
		}
		rc = hc_batch_label(dst, d, lb->key, v);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Copies the values of sets [first, first + n) of src to their copies in dst. */
static int copy_values_range(struct hc_batch *dst, const struct hc_batch *src,
			     uint32_t first, uint32_t n, uint32_t vstart, uint32_t *vnext,
			     uint32_t *idmap)
{
	uint32_t v = vstart;

	/* an object's values follow its sets' creation: they start at vstart */
	for (; v < src->nvals && src->vals[v].set >= first && src->vals[v].set < first + n; v++) {
		const struct hc_value *sv = &src->vals[v];
		const char *key = src->sets[sv->set].key;
		struct hc_value *dv;
		uint32_t d, id = sv->name;
		int rc;

		if (hc_batch_find(dst, key, strlen(key), &d) != 0)
			continue;
		if (id >= HC_M_COUNT) {
			if (idmap[id] == UINT32_MAX) {
				rc = hc_batch_name(dst, src->names[id], strlen(src->names[id]),
						   src->name_kinds[id], &idmap[id]);
				if (rc != 0)
					return rc;
			}
			id = idmap[id];
		}
		dv = hc_batch_add(dst, d, id);
		if (dv == NULL)
			return -ENOMEM;
		dv->type = sv->type;
		dv->kind = sv->kind;
		dv->v = sv->v;
	}
	*vnext = v;
	return 0;
}

/*
 * Walks the live objects of k in order, copying each into dst.  The values
 * of an object are found by a cursor over k->b.vals: the cache batch is
 * never grouped, sets are only created at its end and values only added to
 * the sets just created, so its values are ordered by set.
 */
static int copy_live(const struct scr_cache *k, struct hc_batch *dst, int copy_strings,
		     uint32_t *new_first, uint32_t *new_span, struct scr_meta_stats *st)
{
	const struct hc_batch *src = &k->b;
	struct str_pair seen[64];
	uint32_t *idmap, v = 0, nobj = 0;
	int rc = 0;

	idmap = malloc((size_t)(src->nnames + 1) * sizeof(*idmap));
	if (idmap == NULL)
		return -ENOMEM;
	memset(idmap, 0xff, (size_t)(src->nnames + 1) * sizeof(*idmap));
	for (uint32_t i = 0; i < src->nsets && rc == 0;) {
		uint32_t n = i < k->span_cap ? k->span[i] : 0, nseen = 0, first = dst->nsets;

		if (n == 0) {
			/* a removed object or a stray set: skip its values too */
			while (v < src->nvals && src->vals[v].set <= i)
				v++;
			i++;
			continue;
		}
		while (v < src->nvals && src->vals[v].set < i)
			v++;
		for (uint32_t s = i; s < i + n && rc == 0; s++)
			rc = copy_set(dst, src, s, copy_strings, seen, &nseen, HC_ARRAY_LEN(seen));
		if (rc == 0)
			rc = copy_values_range(dst, src, i, n, v, &v, idmap);
		if (rc == 0 && new_first != NULL) {
			new_first[nobj] = first;
			new_span[nobj] = dst->nsets - first;
		}
		if (st != NULL && n == 1 && src->sets[i].type == HC_T_NS) {
			st->namespaces++;
		} else if (st != NULL) {
			st->pods_running++;
			st->pods_listed++;
			st->containers += n - 1;
			st->pods_in_workloads +=
				hc_batch_get_label(src, i, HC_META_WORKLOAD_KIND) != NULL;
		}
		nobj++;
		i += n;
	}
	free(idmap);
	return rc;
}

int scr_cache_render(const struct scr_cache *k, struct hc_batch *meta,
		     struct scr_meta_stats *st)
{
	return copy_live(k, meta, 0, NULL, NULL, st);
}

int scr_cache_compact(struct scr_cache *k)
{
	struct hc_batch nb;
	uint32_t *first = NULL, *span = NULL, nobj = 0;
	int rc;

	if (k->ndead < 4096 || k->ndead < k->nlive)
		return 0;
	for (uint32_t i = 0; i < k->b.nsets && i < k->span_cap; i++)
		nobj += k->span[i] > 0;
	rc = hc_batch_init(&nb);
	if (rc != 0)
		return rc;
	first = malloc((size_t)(nobj + 1) * sizeof(*first));
	span = malloc((size_t)(nobj + 1) * sizeof(*span));
	if (first == NULL || span == NULL) {
		rc = -ENOMEM;
		goto free_new;
	}
	rc = copy_live(k, &nb, 1, first, span, NULL);
	if (rc != 0)
		goto free_new;
	memset(k->span, 0, (size_t)k->span_cap * sizeof(*k->span));
	for (uint32_t o = 0; o < nobj; o++)
		k->span[first[o]] = span[o];
	hc_batch_free(&k->b);
	k->b = nb;              /* a move: the batch holds only heap pointers */
	k->ndead = 0;
	free(first);
	free(span);
	return 0;

free_new:
	hc_batch_free(&nb);
	free(first);
	free(span);
	return rc;
}

/* ---- watch events ------------------------------------------------------------ */

/* metadata.resourceVersion of an event's object, and its "code" (ERROR). */
static void read_object_rv(struct scr_json *j, char *rv, int64_t *code)
{
	struct scr_str k, s;

	if (!scr_json_obj_enter(j))
		return;
	while (scr_json_obj_next(j, &k)) {
		if (SCR_KEY_IS(k, "code")) {
			scr_json_get_i64(j, code);
		} else if (SCR_KEY_IS(k, "metadata") && scr_json_obj_enter(j)) {
			while (scr_json_obj_next(j, &k)) {
				if (SCR_KEY_IS(k, "resourceVersion") && scr_json_get_str(j, &s))
					copy_short(&s, rv, SCR_RV_MAX);
				else if (!SCR_KEY_IS(k, "resourceVersion"))
					scr_json_skip(j);
			}
		} else if (!SCR_KEY_IS(k, "metadata")) {
			scr_json_skip(j);
		}
	}
}

int scr_event_begin(const char *line, size_t len, const char *what, enum scr_ev *type,
		    struct scr_json *obj, char *rv)
{
	struct scr_json j, o;
	struct scr_str k, t = { "", 0, 0 };
	int64_t code = 0;
	int have_obj = 0;

	if (scr_json_validate(line, len, NULL, NULL) != 0)
		return HC_ERR_PARSE;
	scr_json_init(&j, line, len);
	if (!scr_json_obj_enter(&j))
		return HC_ERR_PARSE;
	while (scr_json_obj_next(&j, &k)) {
		if (SCR_KEY_IS(k, "type")) {
			scr_json_get_str(&j, &t);
		} else if (SCR_KEY_IS(k, "object")) {
			*obj = j;       /* read once the type is known */
			have_obj = 1;
			scr_json_skip(&j);
		} else {
			scr_json_skip(&j);
		}
	}
	if (!have_obj)
		return HC_ERR_PARSE;
	*type = scr_json_str_eq(&t, "ADDED") ? SCR_EV_ADDED : scr_json_str_eq(&t, "MODIFIED") ? SCR_EV_MODIFIED :
		scr_json_str_eq(&t, "DELETED") ? SCR_EV_DELETED : scr_json_str_eq(&t, "BOOKMARK") ? SCR_EV_BOOKMARK :
		scr_json_str_eq(&t, "ERROR") ? SCR_EV_ERROR : SCR_EV_OTHER;
	if (*type == SCR_EV_OTHER)
		return 1;       /* an unknown type: skipped */
	if (*type == SCR_EV_ERROR) {
		char erv[SCR_RV_MAX] = "";

		o = *obj;
		read_object_rv(&o, erv, &code);
		hc_info("%s watch: ERROR event, code %lld%s: listing again", what, (long long)code,
			code == 410 ? " (Expired)" : "");
		return HC_ERR_PROTO;
	}
	o = *obj;
	read_object_rv(&o, rv, &code);
	return *type == SCR_EV_BOOKMARK ? 1 : 0;
}

int scr_pod_event(const char *line, size_t len, struct scr_meta_ctx *c, char *rv)
{
	struct scr_json obj;
	enum scr_ev type;
	struct pod p;
	int rc = scr_event_begin(line, len, "pod", &type, &obj, rv);

	if (rc != 0)
		return rc;
	rc = pod_read(&obj, c, &c->cache->b, &p);
	if (rc == 0)
		rc = emit_pod(c, &c->cache->b, &p, type == SCR_EV_DELETED);
	return rc;
}

/* ---- namespaces ------------------------------------------------------------ */

/*
 * One namespace object into meta.  With c->ns_cache (meta is then its
 * batch), its previous set is dropped first, and a deleted one only dropped.
 */
static int namespace_obj(struct scr_json *j, struct scr_meta_ctx *c, struct hc_batch *meta,
			 int deleted)
{
	struct scr_str k, name = { "", 0, 0 }, uid = { "", 0, 0 };
	const char *n, *u;
	char key[KEY_MAX];
	uint32_t s;
	int created, rc, kl;

	if (!scr_json_obj_enter(j))
		return 0;
	while (scr_json_obj_next(j, &k)) {
		if (!SCR_KEY_IS(k, "metadata") || !scr_json_obj_enter(j)) {
			if (!SCR_KEY_IS(k, "metadata"))
				scr_json_skip(j);
			continue;
		}
		while (scr_json_obj_next(j, &k)) {
			if (SCR_KEY_IS(k, "name"))
				scr_json_get_str(j, &name);
			else if (SCR_KEY_IS(k, "uid"))
				scr_json_get_str(j, &uid);
			else
				scr_json_skip(j);
		}
	}
	if (name.len == 0 || (size_t)name.len + 16 >= sizeof(key))
		return 0;
	if (c->ns_cache != NULL) {
		kl = snprintf(key, sizeof(key), "namespace:");
		kl += (int)scr_json_unescape(&name, key + kl, sizeof(key) - (size_t)kl);
		scr_cache_remove(c->ns_cache, key, (size_t)kl);
	}
	if (deleted)
		return 0;
	n = arena_copy(&meta->arena, &name);
	u = arena_copy(&meta->arena, &uid);
	if (n == NULL || u == NULL)
		return -ENOMEM;
	kl = snprintf(key, sizeof(key), "namespace:%s", n);
	rc = hc_batch_set(meta, key, (size_t)kl, &s, &created);
	if (rc != 0 || !created)
		return rc;
	rc = hc_batch_label(meta, s, HC_L_TYPE, HC_TYPE_NS);
	if (rc == 0)
		rc = hc_batch_label(meta, s, HC_L_NAMESPACE_NAME, n);
	if (rc == 0)
		rc = hc_batch_label(meta, s, HC_L_NAMESPACE_ID, u);
	if (rc == 0)
		c->st.namespaces++;
	if (rc == 0 && c->ns_cache != NULL)
		rc = scr_cache_added(c->ns_cache, s);
	return rc;
}

static int namespace_item(struct scr_json *j, struct scr_meta_ctx *c, struct hc_batch *meta)
{
	return namespace_obj(j, c, meta, 0);
}

int scr_namespace_event(const char *line, size_t len, struct scr_meta_ctx *c, char *rv)
{
	struct scr_json obj;
	enum scr_ev type;
	int rc = scr_event_begin(line, len, "namespace", &type, &obj, rv);

	if (rc != 0)
		return rc;
	return namespace_obj(&obj, c, &c->ns_cache->b, type == SCR_EV_DELETED);
}

int scr_meta_namespaces_parse(const char *json, size_t len, struct scr_meta_ctx *c,
			      struct hc_batch *meta, char *cont)
{
	return parse_page(json, len, c, meta, cont, namespace_item);
}

/* ---- nodes ----------------------------------------------------------------- */

int scr_meta_nodes(const struct scr_nodelist *l, struct scr_meta_ctx *c,
		   struct hc_batch *meta)
{
	static const uint32_t cap_m[SCR_RES_N] = {
		HC_M_CPU_NODE_CAPACITY, HC_M_MEM_NODE_CAPACITY, HC_M_EPH_NODE_CAPACITY,
	};
	static const uint32_t alloc_m[SCR_RES_N] = {
		HC_M_CPU_NODE_ALLOCATABLE, HC_M_MEM_NODE_ALLOCATABLE, HC_M_EPH_NODE_ALLOCATABLE,
	};
	char key[300];

	for (uint32_t i = 0; i < l->n; i++) {
		const struct scr_node *nd = &l->nodes[i];
		const char *name, *host, *hid, *labels;
		uint32_t s;
		int created, rc, kl;

		kl = snprintf(key, sizeof(key), "node:%s", nd->name);
		rc = hc_batch_set(meta, key, (size_t)kl, &s, &created);
		if (rc != 0)
			return rc;
		if (!created)
			continue;
		name = hc_batch_str(meta, nd->name, strlen(nd->name));
		host = hc_batch_str(meta, nd->hostname, strlen(nd->hostname));
		hid = nd->host_id[0] ? hc_batch_str(meta, nd->host_id, strlen(nd->host_id)) : "";
		labels = hc_batch_str(meta, scr_node_labels(l, nd), nd->labels_len);
		if (name == NULL || host == NULL || hid == NULL || labels == NULL)
			return -ENOMEM;
		if (hid[0] == '\0')
			hid = NULL;     /* not sent: an empty host_id is no host_id */
		{
			const struct hc_label nl[] = {
				{ HC_L_TYPE, HC_TYPE_NODE }, { HC_L_NODENAME, name },
				{ HC_L_HOSTNAME, host }, { HC_L_HOST_ID, hid },
				{ HC_L_LABELS, labels },
			};

			rc = put_labels(meta, s, nl, HC_ARRAY_LEN(nl));
			if (rc != 0)
				return rc;
		}
		meta->sets[s].create_ms = nd->create_ms;
		for (int r = 0; r < SCR_RES_N; r++) {
			/* both or neither: the enricher needs the pair */
			if (nd->cap[r] < 0 || nd->alloc[r] < 0)
				continue;
			rc = hc_batch_add_float(meta, s, cap_m[r], (double)nd->cap[r]);
			if (rc == 0)
				rc = hc_batch_add_float(meta, s, alloc_m[r], (double)nd->alloc[r]);
			if (rc != 0)
				return rc;
		}
		c->st.nodes++;
	}
	return 0;
}
