/*
 * summary.c - maps a kubelet /stats/summary body into a batch (REFERENCE §2).
 *
 * Design.  scr_summary_parse() first validates the whole body (json.c): a
 * body that is not complete, well-formed JSON, or not a summary, is
 * rejected before the batch is touched.  Then one walk over the text maps
 * it.  Each entity (node, system container, pod, container) is an
 * `struct ent`: while its object is read, its values are appended to the
 * batch at once, but under a placeholder set id (PENDING_*), because the
 * set's key may only be known at the end of the object (a pod's podRef may
 * follow its volumes; JSON objects have no order).  At the end of the object
 * ent_commit() finds or creates the set, takes it over from an older
 * duplicate or gives up to a newer one (Heapster: "the newer startTime
 * wins"), and rewrites the placeholders in the entity's range of values
 * [vals_start, nvals) to the real set index.  Containers read inside a pod
 * commit first with their own placeholder, so the pod's rewrite skips them.
 * A pod's containers need the pod's key: when "containers" comes before
 * "podRef", the array's position is remembered and it is mapped after the
 * pod object (the same for a node's systemContainers and its nodeName).
 *
 * Values that lose (an older duplicate, an entity without a usable key) are
 * marked DEAD and compacted away once at the end of the body.  While the
 * body is mapped, a set's vals_off/vals_n (meaningful only in a grouped
 * batch; the batch is ungrouped after any add) hold the range of values of
 * the entity that last claimed it, so a later duplicate kills exactly
 * those.  Sets from earlier bodies (another node reported the same pod) are
 * remembered in `struct ctx`.prev and their old values killed in one pass at
 * the end; their saved state makes -ENOMEM roll back exactly.
 *
 * Costs: no allocation per value beyond the batch's amortized array growth;
 * label strings are copied into the batch arena once per node (node labels)
 * or per pod (pod labels) and shared by the pod's containers.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "hc.h"
#include "json.h"
#include "log.h"
#include "summary.h"

#define PENDING_NODE 0xfffffff0u
#define PENDING_POD  0xfffffff1u
#define PENDING_CTR  0xfffffff2u
#define DEAD         0xffffffffu

#define KEY_MAX      1024      /* longer entity keys are dropped */
#define NAME_MAX_LEN 512       /* longer custom metric names are dropped */

/* A set from an earlier body that this body took over. */
struct prev_set {
	uint32_t      idx;
	struct hc_set saved;
};

/* The state of one scr_summary_parse() call. */
struct ctx {
	struct hc_batch      *b;
	const struct scr_node *node;
	struct scr_json       j;
	int64_t               now_ms;
	const char           *nodename, *hostname, *host_id;  /* arena copies */
	uint32_t              base_nsets, base_nvals, base_nlabels, base_nnames;
	uint32_t              dead_from;     /* lowest DEAD value, UINT32_MAX if none */
	struct prev_set      *prev;          /* earlier bodies' sets taken over */
	uint32_t              nprev, prev_cap;
	int                   err;           /* first -ENOMEM */
	char                  key[KEY_MAX];
};

/* An entity being read. */
struct ent {
	uint32_t       pending;     /* placeholder set id of its values */
	uint32_t       vals_start;  /* its first value in b->vals */
	int64_t        start_ms, cpu_ms, mem_ms, net_ms;
	struct scr_str name;
	int            have_name;
};

/* The labels a pod hands to its containers. */
struct pod_ref {
	const char *ns, *name, *uid;     /* arena copies, NULL if absent */
	size_t      ns_len, name_len;
};

/* A plain numeric field of a stats object and the metric it becomes. */
struct field {
	const char *key;
	uint32_t    len;
	uint32_t    metric;
};

#define F(k, m) { k, sizeof(k) - 1, m }

static const struct field cpu_fields[] = {
	F("usageCoreNanoSeconds", HC_M_CPU_USAGE),
};
static const struct field mem_fields[] = {
	F("usageBytes", HC_M_MEM_USAGE),
	F("workingSetBytes", HC_M_MEM_WORKING_SET),
	F("rssBytes", HC_M_MEM_RSS),
	F("pageFaults", HC_M_MEM_PAGE_FAULTS),
	F("majorPageFaults", HC_M_MEM_MAJOR_PAGE_FAULTS),
};
static const struct field net_fields[] = {
	F("rxBytes", HC_M_NET_RX),
	F("rxErrors", HC_M_NET_RX_ERRORS),
	F("txBytes", HC_M_NET_TX),
	F("txErrors", HC_M_NET_TX_ERRORS),
};

/* FsStats, in the order of struct fs_vals.v. */
enum { FS_USED, FS_CAP, FS_AVAIL, FS_INODES, FS_INODES_FREE, FS_N };
static const struct field fs_fields[FS_N] = {
	F("usedBytes", HC_M_FS_USAGE),
	F("capacityBytes", HC_M_FS_LIMIT),
	F("availableBytes", HC_M_FS_AVAILABLE),
	F("inodes", HC_M_FS_INODES),
	F("inodesFree", HC_M_FS_INODES_FREE),
};

struct fs_vals {
	int64_t        v[FS_N];
	unsigned       have;       /* bit i: v[i] present */
	struct scr_str name;       /* a volume's "name" */
	int            have_name;
};

/* ---- small helpers ---------------------------------------------------- */

static void ent_begin(struct ctx *c, struct ent *e, uint32_t pending)
{
	memset(e, 0, sizeof(*e));
	e->pending = pending;
	e->vals_start = c->b->nvals;
}

static void put_int(struct ctx *c, struct ent *e, uint32_t metric, int64_t v)
{
	int rc = hc_batch_add_int(c->b, e->pending, metric, v);

	if (rc != 0 && c->err == 0)
		c->err = rc;
}

static void put_labeled(struct ctx *c, struct ent *e, uint32_t metric,
			const struct hc_label *l, uint16_t n, int64_t v)
{
	int rc = hc_batch_add_labeled(c->b, e->pending, metric, l, n, HC_INT, v, 0);

	if (rc != 0 && c->err == 0)
		c->err = rc;
}

/* A string value copied (unescaped) into the batch arena; NULL if absent. */
static const char *arena_str(struct ctx *c, const struct scr_str *s, size_t *len)
{
	char *d = hc_arena_alloc(&c->b->arena, (size_t)s->len + 1);
	size_t n;

	if (d == NULL) {
		if (c->err == 0)
			c->err = -ENOMEM;
		return NULL;
	}
	n = scr_json_unescape(s, d, (size_t)s->len + 1);
	if (len)
		*len = n;
	return d;
}

/* An RFC 3339 time value in ms; 0 if absent, null, malformed or <= epoch. */
static int64_t read_time(struct scr_json *j)
{
	struct scr_str s;
	int64_t ms;
	char buf[64];

	if (!scr_json_get_str(j, &s))
		return 0;
	if (s.esc) {
		if (s.len >= sizeof(buf))
			return 0;
		s.len = (uint32_t)scr_json_unescape(&s, buf, sizeof(buf));
		s.p = buf;
	}
	if (hc_time_parse(s.p, s.len, &ms) != 0 || ms <= 0)
		return 0;
	return ms;
}

/*
 * Reads an object of plain counters (cpu, memory, network) and emits the
 * ones present; *time_ms receives its "time".  A repeated key keeps its
 * last value, as Go's decoder does.
 */
static void map_plain(struct ctx *c, struct ent *e, const struct field *f,
		      unsigned n, int64_t *time_ms)
{
	struct scr_json *j = &c->j;
	struct scr_str k;
	int64_t vals[8];
	unsigned have = 0;

	if (!scr_json_obj_enter(j))
		return;
	while (scr_json_obj_next(j, &k)) {
		unsigned i;

		if (SCR_KEY_IS(k, "time")) {
			*time_ms = read_time(j);
			continue;
		}
		for (i = 0; i < n; i++)
			if (k.len == f[i].len && memcmp(k.p, f[i].key, k.len) == 0)
				break;
		if (i == n) {
			scr_json_skip(j);
			continue;
		}
		if (scr_json_get_i64(j, &vals[i]))
			have |= 1u << i;
		else
			have &= ~(1u << i);
	}
	for (unsigned i = 0; i < n; i++)
		if (have & (1u << i))
			put_int(c, e, f[i].metric, vals[i]);
}

/* Reads an FsStats object (and a volume's "name") into *fs. */
static void read_fs(struct ctx *c, struct fs_vals *fs)
{
	struct scr_json *j = &c->j;
	struct scr_str k;

	memset(fs, 0, sizeof(*fs));
	if (!scr_json_obj_enter(j))
		return;
	while (scr_json_obj_next(j, &k)) {
		unsigned i;

		if (SCR_KEY_IS(k, "name")) {
			fs->have_name = scr_json_get_str(j, &fs->name);
			continue;
		}
		for (i = 0; i < FS_N; i++)
			if (k.len == fs_fields[i].len &&
			    memcmp(k.p, fs_fields[i].key, k.len) == 0)
				break;
		if (i == FS_N) {
			scr_json_skip(j);
			continue;
		}
		if (scr_json_get_i64(j, &fs->v[i]))
			fs->have |= 1u << i;
		else
			fs->have &= ~(1u << i);
	}
}

/* Emits the filesystem metrics of *fs labeled resource_id = rid (outliving the batch). */
static void put_fs(struct ctx *c, struct ent *e, const char *rid,
		   const struct fs_vals *fs)
{
	struct hc_label l = { HC_L_RESOURCE_ID, rid };

	for (unsigned i = 0; i < FS_N; i++)
		if (fs->have & (1u << i))
			put_labeled(c, e, fs_fields[i].metric, &l, 1, fs->v[i]);
}

/* containers[].accelerators[] -> accelerator metrics labeled make, model, id. */
static void map_accelerators(struct ctx *c, struct ent *e)
{
	struct scr_json *j = &c->j;

	if (!scr_json_arr_enter(j))
		return;
	while (scr_json_arr_next(j)) {
		struct scr_str k, make = { "", 0, 0 }, model = { "", 0, 0 }, id = { "", 0, 0 };
		int64_t total = 0, used = 0, duty = 0;
		unsigned have = 0;
		struct hc_label l[3];

		if (!scr_json_obj_enter(j))
			continue;
		while (scr_json_obj_next(j, &k)) {
			if (SCR_KEY_IS(k, "make"))
				scr_json_get_str(j, &make);
			else if (SCR_KEY_IS(k, "model"))
				scr_json_get_str(j, &model);
			else if (SCR_KEY_IS(k, "id"))
				scr_json_get_str(j, &id);
			else if (SCR_KEY_IS(k, "memoryTotal"))
				have = scr_json_get_i64(j, &total) ? have | 1 : have & ~1u;
			else if (SCR_KEY_IS(k, "memoryUsed"))
				have = scr_json_get_i64(j, &used) ? have | 2 : have & ~2u;
			else if (SCR_KEY_IS(k, "dutyCycle"))
				have = scr_json_get_i64(j, &duty) ? have | 4 : have & ~4u;
			else
				scr_json_skip(j);
		}
		if (have == 0)
			continue;
		l[0].key = SCR_L_MAKE;
		l[0].value = arena_str(c, &make, NULL);
		l[1].key = SCR_L_MODEL;
		l[1].value = arena_str(c, &model, NULL);
		l[2].key = SCR_L_ACCELERATOR_ID;
		l[2].value = arena_str(c, &id, NULL);
		if (!l[0].value || !l[1].value || !l[2].value)
			continue;
		if (have & 1)
			put_labeled(c, e, HC_M_ACC_MEMORY_TOTAL, l, 3, total);
		if (have & 2)
			put_labeled(c, e, HC_M_ACC_MEMORY_USED, l, 3, used);
		if (have & 4)
			put_labeled(c, e, HC_M_ACC_DUTY_CYCLE, l, 3, duty);
	}
}

/* containers[].userDefinedMetrics[] -> "custom/<name>", float, declared kind. */
static void map_custom(struct ctx *c, struct ent *e)
{
	struct scr_json *j = &c->j;

	if (!scr_json_arr_enter(j))
		return;
	while (scr_json_arr_next(j)) {
		struct scr_str k, name = { NULL, 0, 0 }, type = { NULL, 0, 0 };
		double value = 0;
		int have_value = 0, kind, rc;
		char buf[sizeof("custom/") + NAME_MAX_LEN];
		uint32_t id;
		size_t n;

		if (!scr_json_obj_enter(j))
			continue;
		while (scr_json_obj_next(j, &k)) {
			if (SCR_KEY_IS(k, "name"))
				scr_json_get_str(j, &name);
			else if (SCR_KEY_IS(k, "type"))
				scr_json_get_str(j, &type);
			else if (SCR_KEY_IS(k, "value"))
				have_value = scr_json_get_f64(j, &value);
			else
				scr_json_skip(j);
		}
		if (!have_value || name.len == 0 || name.len > NAME_MAX_LEN ||
		    type.p == NULL)
			continue;
		if (SCR_KEY_IS(type, "gauge"))
			kind = HC_GAUGE;
		else if (SCR_KEY_IS(type, "cumulative"))
			kind = HC_CUMULATIVE;
		else if (SCR_KEY_IS(type, "delta"))
			kind = HC_DELTA;
		else
			continue;       /* Heapster skipped unknown kinds too */
		memcpy(buf, "custom/", 7);
		n = scr_json_unescape(&name, buf + 7, sizeof(buf) - 7);
		if (n == 0)
			continue;
		rc = hc_batch_name(c->b, buf, 7 + n, (uint8_t)kind, &id);
		if (rc == 0)
			rc = hc_batch_add_float(c->b, e->pending, id, value);
		if (rc != 0 && c->err == 0)
			c->err = rc;
	}
}

/* ---- entity lifecycle ------------------------------------------------- */

static void mark_dead(struct ctx *c, uint32_t i)
{
	c->b->vals[i].set = DEAD;
	if (i < c->dead_from)
		c->dead_from = i;
}

/* Drops the values an entity has emitted so far. */
static void ent_drop(struct ctx *c, struct ent *e)
{
	struct hc_batch *b = c->b;

	for (uint32_t i = e->vals_start; i < b->nvals; i++)
		if (b->vals[i].set == e->pending)
			mark_dead(c, i);
}

/*
 * Before set idx is taken over by a newer entity: kills the values it holds.
 * Values of this body lie in the range its last owner recorded; a set of an
 * earlier body is remembered (with its state, for rollback) and its old
 * values are killed in one pass at the end.
 */
static int claim_existing(struct ctx *c, uint32_t idx)
{
	struct hc_batch *b = c->b;
	struct hc_set *s = &b->sets[idx];
	uint32_t i, end;

	if (idx < c->base_nsets) {
		for (i = 0; i < c->nprev; i++)
			if (c->prev[i].idx == idx)
				break;
		if (i == c->nprev) {
			if (c->nprev == c->prev_cap) {
				uint32_t ncap = c->prev_cap ? c->prev_cap * 2 : 8;
				struct prev_set *p = realloc(c->prev, ncap * sizeof(*p));

				if (p == NULL)
					return -ENOMEM;
				c->prev = p;
				c->prev_cap = ncap;
			}
			c->prev[c->nprev].idx = idx;
			c->prev[c->nprev].saved = *s;
			c->nprev++;
			return 0;   /* never claimed in this body: nothing of ours to kill */
		}
	}
	end = s->vals_off + s->vals_n;
	if (end > b->nvals)
		end = b->nvals;
	for (i = s->vals_off; i < end; i++)
		if (b->vals[i].set == idx)
			mark_dead(c, i);
	return 0;
}

/*
 * Gives entity e the set named key: creates it, or takes it over from an
 * older entity of the same key, or, if the set already there started later,
 * drops e.  0 and *out when e got the set (with no labels yet), 1 when e
 * was dropped, or a negative code (recorded in c->err).
 */
static int ent_commit(struct ctx *c, struct ent *e, const char *key, size_t len,
		      uint32_t *out)
{
	struct hc_batch *b = c->b;
	struct hc_set *s;
	uint32_t idx;
	int created, rc;

	rc = hc_batch_set(b, key, len, &idx, &created);
	if (rc != 0)
		goto drop_entity;
	s = &b->sets[idx];
	if (!created) {
		if (s->start_ms > e->start_ms) {
			ent_drop(c, e);
			return 1;
		}
		rc = claim_existing(c, idx);
		if (rc != 0)
			goto drop_entity;
		s->labels_off = b->nlabels;
		s->labels_n = 0;
	}
	for (uint32_t i = e->vals_start; i < b->nvals; i++)
		if (b->vals[i].set == e->pending)
			b->vals[i].set = idx;
	s->vals_off = e->vals_start;
	s->vals_n = b->nvals - e->vals_start;
	s->start_ms = e->start_ms;
	s->create_ms = e->start_ms;
	s->scrape_ms = e->cpu_ms ? e->cpu_ms : e->mem_ms ? e->mem_ms : e->net_ms;
	b->grouped = 0;
	*out = idx;
	return 0;

drop_entity:
	if (c->err == 0)
		c->err = rc;
	ent_drop(c, e);
	return rc;
}

static void set_labels(struct ctx *c, uint32_t idx, const struct hc_label *l,
		       unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		int rc = hc_batch_label(c->b, idx, l[i].key, l[i].value);

		if (rc != 0 && c->err == 0)
			c->err = rc;
	}
}

static void put_uptime(struct ctx *c, struct ent *e)
{
	if (e->start_ms > 0)
		put_int(c, e, HC_M_UPTIME,
			c->now_ms > e->start_ms ? c->now_ms - e->start_ms : 0);
}

/* Appends s (len n) to the key being built; 0, or -1 when it does not fit. */
static int key_cat(char *key, size_t *pos, const char *s, size_t n)
{
	if (*pos + n >= KEY_MAX)
		return -1;
	memcpy(key + *pos, s, n);
	*pos += n;
	return 0;
}

/* ---- entities ----------------------------------------------------------- */

/*
 * One container object at the cursor: of pod `pod`, or, with pod == NULL,
 * a system container of node `node_name`.
 */
static void map_container(struct ctx *c, const struct pod_ref *pod,
			  const char *node_name, size_t node_len)
{
	struct scr_json *j = &c->j;
	struct scr_str k;
	struct ent e;
	struct fs_vals root, logs;
	int have_root = 0, have_logs = 0;
	const char *cname;
	size_t clen = 0, pos = 0;
	uint32_t idx;

	ent_begin(c, &e, PENDING_CTR);
	if (!scr_json_obj_enter(j))
		return;
	while (scr_json_obj_next(j, &k)) {
		if (SCR_KEY_IS(k, "name")) {
			e.have_name = scr_json_get_str(j, &e.name);
		} else if (SCR_KEY_IS(k, "startTime")) {
			e.start_ms = read_time(j);
		} else if (SCR_KEY_IS(k, "cpu")) {
			map_plain(c, &e, cpu_fields, HC_ARRAY_LEN(cpu_fields), &e.cpu_ms);
		} else if (SCR_KEY_IS(k, "memory")) {
			map_plain(c, &e, mem_fields, HC_ARRAY_LEN(mem_fields), &e.mem_ms);
		} else if (SCR_KEY_IS(k, "rootfs")) {
			read_fs(c, &root);
			have_root = 1;
		} else if (SCR_KEY_IS(k, "logs")) {
			read_fs(c, &logs);
			have_logs = 1;
		} else if (SCR_KEY_IS(k, "accelerators")) {
			map_accelerators(c, &e);
		} else if (SCR_KEY_IS(k, "userDefinedMetrics")) {
			map_custom(c, &e);
		} else {
			scr_json_skip(j);
		}
	}
	if (have_root)
		put_fs(c, &e, "/", &root);
	if (have_logs)
		put_fs(c, &e, "logs", &logs);
	if ((have_root && (root.have & 1u << FS_USED)) ||
	    (have_logs && (logs.have & 1u << FS_USED))) {
		int64_t eph = 0;

		if (have_root && (root.have & 1u << FS_USED))
			eph += root.v[FS_USED];
		if (have_logs && (logs.have & 1u << FS_USED))
			eph += logs.v[FS_USED];
		put_int(c, &e, HC_M_EPH_USAGE, eph);
	}
	put_uptime(c, &e);

	if (!e.have_name || e.name.len == 0) {
		ent_drop(c, &e);
		return;
	}
	if (pod == NULL && SCR_KEY_IS(e.name, "runtime")) {
		cname = "docker-daemon";
		clen = 13;
	} else if (pod == NULL && SCR_KEY_IS(e.name, "misc")) {
		cname = "system";
		clen = 6;
	} else {
		cname = arena_str(c, &e.name, &clen);
		if (cname == NULL) {
			ent_drop(c, &e);
			return;
		}
	}
	if (pod != NULL) {
		if (key_cat(c->key, &pos, "namespace:", 10) ||
		    key_cat(c->key, &pos, pod->ns, pod->ns_len) ||
		    key_cat(c->key, &pos, "/pod:", 5) ||
		    key_cat(c->key, &pos, pod->name, pod->name_len) ||
		    key_cat(c->key, &pos, "/container:", 11) ||
		    key_cat(c->key, &pos, cname, clen)) {
			ent_drop(c, &e);
			return;
		}
	} else if (key_cat(c->key, &pos, "node:", 5) ||
		   key_cat(c->key, &pos, node_name, node_len) ||
		   key_cat(c->key, &pos, "/container:", 11) ||
		   key_cat(c->key, &pos, cname, clen)) {
		ent_drop(c, &e);
		return;
	}
	if (ent_commit(c, &e, c->key, pos, &idx) != 0)
		return;
	if (pod != NULL) {
		struct hc_label l[] = {
			{ HC_L_TYPE, HC_TYPE_POD_CONTAINER },
			{ HC_L_CONTAINER_NAME, cname },
			{ HC_L_NAMESPACE_NAME, pod->ns },
			{ HC_L_POD_NAME, pod->name },
			{ HC_L_POD_ID, pod->uid ? pod->uid : "" },
			{ HC_L_NODENAME, c->nodename },
			{ HC_L_HOSTNAME, c->hostname },
			{ HC_L_HOST_ID, c->host_id },
		};

		set_labels(c, idx, l, HC_ARRAY_LEN(l));
	} else {
		struct hc_label l[] = {
			{ HC_L_TYPE, HC_TYPE_SYS_CONTAINER },
			{ HC_L_CONTAINER_NAME, cname },
			{ HC_L_NODENAME, c->nodename },
			{ HC_L_HOSTNAME, c->hostname },
			{ HC_L_HOST_ID, c->host_id },
		};

		set_labels(c, idx, l, HC_ARRAY_LEN(l));
	}
}

/* An array of containers at the cursor. */
static void map_containers(struct ctx *c, const struct pod_ref *pod,
			   const char *node_name, size_t node_len)
{
	if (!scr_json_arr_enter(&c->j))
		return;
	while (scr_json_arr_next(&c->j))
		map_container(c, pod, node_name, node_len);
}

/* Maps the array whose first byte is at `at`, then resumes where it was. */
static void map_deferred_containers(struct ctx *c, const char *at,
				    const struct pod_ref *pod,
				    const char *node_name, size_t node_len)
{
	const char *resume = c->j.p;

	c->j.p = at;
	map_containers(c, pod, node_name, node_len);
	c->j.p = resume;
}

/* podRef {name, namespace, uid}: copied into the arena for the labels. */
static void read_pod_ref(struct ctx *c, struct pod_ref *ref)
{
	struct scr_json *j = &c->j;
	struct scr_str k, s;

	if (!scr_json_obj_enter(j))
		return;
	while (scr_json_obj_next(j, &k)) {
		if (SCR_KEY_IS(k, "name")) {
			ref->name = scr_json_get_str(j, &s) ?
				    arena_str(c, &s, &ref->name_len) : NULL;
		} else if (SCR_KEY_IS(k, "namespace")) {
			ref->ns = scr_json_get_str(j, &s) ?
				  arena_str(c, &s, &ref->ns_len) : NULL;
		} else if (SCR_KEY_IS(k, "uid")) {
			ref->uid = scr_json_get_str(j, &s) ?
				   arena_str(c, &s, NULL) : NULL;
		} else {
			scr_json_skip(j);
		}
	}
}

static int pod_ref_ok(const struct pod_ref *r)
{
	return r->ns != NULL && r->name != NULL && r->ns_len > 0 && r->name_len > 0;
}

/* One pod object at the cursor. */
static void map_pod(struct ctx *c)
{
	struct scr_json *j = &c->j;
	struct pod_ref ref = { 0 };
	struct scr_str k;
	struct ent e;
	struct fs_vals fs;
	const char *deferred = NULL;
	int64_t eph = 0;
	int have_eph = 0;
	size_t pos = 0;
	uint32_t idx;

	ent_begin(c, &e, PENDING_POD);
	if (!scr_json_obj_enter(j))
		return;
	while (scr_json_obj_next(j, &k)) {
		if (SCR_KEY_IS(k, "podRef")) {
			read_pod_ref(c, &ref);
		} else if (SCR_KEY_IS(k, "startTime")) {
			e.start_ms = read_time(j);
		} else if (SCR_KEY_IS(k, "containers")) {
			if (pod_ref_ok(&ref)) {
				map_containers(c, &ref, NULL, 0);
			} else {
				deferred = (scr_json_peek(j), j->p);
				scr_json_skip(j);
			}
		} else if (SCR_KEY_IS(k, "cpu")) {
			map_plain(c, &e, cpu_fields, HC_ARRAY_LEN(cpu_fields), &e.cpu_ms);
		} else if (SCR_KEY_IS(k, "memory")) {
			map_plain(c, &e, mem_fields, HC_ARRAY_LEN(mem_fields), &e.mem_ms);
		} else if (SCR_KEY_IS(k, "network")) {
			map_plain(c, &e, net_fields, HC_ARRAY_LEN(net_fields), &e.net_ms);
		} else if (SCR_KEY_IS(k, "volume")) {
			if (!scr_json_arr_enter(j))
				continue;
			while (scr_json_arr_next(j)) {
				char *rid;

				read_fs(c, &fs);
				if (!fs.have_name || fs.have == 0)
					continue;
				rid = hc_arena_alloc(&c->b->arena, 7 + (size_t)fs.name.len + 1);
				if (rid == NULL) {
					c->err = -ENOMEM;
					continue;
				}
				memcpy(rid, "Volume:", 7);
				scr_json_unescape(&fs.name, rid + 7, (size_t)fs.name.len + 1);
				put_fs(c, &e, rid, &fs);
			}
		} else if (SCR_KEY_IS(k, "ephemeral-storage")) {
			read_fs(c, &fs);
			have_eph = (fs.have & 1u << FS_USED) != 0;
			eph = fs.v[FS_USED];
		} else {
			scr_json_skip(j);
		}
	}
	if (!pod_ref_ok(&ref)) {
		ent_drop(c, &e);
		return;
	}
	if (deferred != NULL)
		map_deferred_containers(c, deferred, &ref, NULL, 0);
	if (have_eph)
		put_int(c, &e, HC_M_EPH_USAGE, eph);
	put_uptime(c, &e);
	if (key_cat(c->key, &pos, "namespace:", 10) ||
	    key_cat(c->key, &pos, ref.ns, ref.ns_len) ||
	    key_cat(c->key, &pos, "/pod:", 5) ||
	    key_cat(c->key, &pos, ref.name, ref.name_len)) {
		ent_drop(c, &e);
		return;
	}
	if (ent_commit(c, &e, c->key, pos, &idx) == 0) {
		struct hc_label l[] = {
			{ HC_L_TYPE, HC_TYPE_POD },
			{ HC_L_NAMESPACE_NAME, ref.ns },
			{ HC_L_POD_NAME, ref.name },
			{ HC_L_POD_ID, ref.uid ? ref.uid : "" },
			{ HC_L_NODENAME, c->nodename },
			{ HC_L_HOSTNAME, c->hostname },
			{ HC_L_HOST_ID, c->host_id },
		};

		set_labels(c, idx, l, HC_ARRAY_LEN(l));
	}
}

/* The "node" object at the cursor. */
static void map_node(struct ctx *c)
{
	struct scr_json *j = &c->j;
	struct scr_str k;
	struct ent e;
	struct fs_vals fs;
	int have_fs = 0;
	const char *deferred = NULL, *name;
	char namebuf[sizeof(c->node->name)];
	size_t name_len, pos = 0;
	uint32_t idx;

	ent_begin(c, &e, PENDING_NODE);
	if (!scr_json_obj_enter(j))
		return;
	name = c->node->name;
	name_len = strlen(name);
	while (scr_json_obj_next(j, &k)) {
		if (SCR_KEY_IS(k, "nodeName")) {
			e.have_name = scr_json_get_str(j, &e.name);
			if (e.have_name && e.name.len > 0 &&
			    e.name.len < sizeof(namebuf)) {
				name_len = scr_json_unescape(&e.name, namebuf,
							     sizeof(namebuf));
				name = namebuf;
			}
		} else if (SCR_KEY_IS(k, "systemContainers")) {
			if (e.have_name) {
				map_containers(c, NULL, name, name_len);
			} else {
				deferred = (scr_json_peek(j), j->p);
				scr_json_skip(j);
			}
		} else if (SCR_KEY_IS(k, "startTime")) {
			e.start_ms = read_time(j);
		} else if (SCR_KEY_IS(k, "cpu")) {
			map_plain(c, &e, cpu_fields, HC_ARRAY_LEN(cpu_fields), &e.cpu_ms);
		} else if (SCR_KEY_IS(k, "memory")) {
			map_plain(c, &e, mem_fields, HC_ARRAY_LEN(mem_fields), &e.mem_ms);
		} else if (SCR_KEY_IS(k, "network")) {
			map_plain(c, &e, net_fields, HC_ARRAY_LEN(net_fields), &e.net_ms);
		} else if (SCR_KEY_IS(k, "fs")) {
			read_fs(c, &fs);
			have_fs = 1;
		} else {
			scr_json_skip(j);
		}
	}
	if (name_len == 0) {
		ent_drop(c, &e);
		return;
	}
	if (deferred != NULL)
		map_deferred_containers(c, deferred, NULL, name, name_len);
	if (have_fs) {
		put_fs(c, &e, "/", &fs);
		if (fs.have & 1u << FS_USED)
			put_int(c, &e, HC_M_EPH_USAGE, fs.v[FS_USED]);
	}
	put_uptime(c, &e);
	if (key_cat(c->key, &pos, "node:", 5) ||
	    key_cat(c->key, &pos, name, name_len)) {
		ent_drop(c, &e);
		return;
	}
	if (ent_commit(c, &e, c->key, pos, &idx) == 0) {
		struct hc_label l[] = {
			{ HC_L_TYPE, HC_TYPE_NODE },
			{ HC_L_NODENAME, c->nodename },
			{ HC_L_HOSTNAME, c->hostname },
			{ HC_L_HOST_ID, c->host_id },
		};

		c->b->sets[idx].create_ms = c->node->create_ms;
		set_labels(c, idx, l, HC_ARRAY_LEN(l));
	}
}

/* ---- the body ------------------------------------------------------------ */

/* Kills the old values of earlier bodies' sets taken over, then compacts. */
static void finish_dead(struct ctx *c)
{
	struct hc_batch *b = c->b;
	uint32_t w;

	if (c->nprev > 0) {
		uint8_t *mark = calloc((c->base_nsets + 7) / 8, 1);

		if (mark == NULL) {
			/* rare and small: fall back to a lookup per value */
			for (uint32_t i = 0; i < c->base_nvals; i++)
				for (uint32_t p = 0; p < c->nprev; p++)
					if (b->vals[i].set == c->prev[p].idx)
						mark_dead(c, i);
		} else {
			for (uint32_t p = 0; p < c->nprev; p++)
				mark[c->prev[p].idx / 8] |= (uint8_t)(1u << (c->prev[p].idx % 8));
			for (uint32_t i = 0; i < c->base_nvals; i++) {
				uint32_t s = b->vals[i].set;

				if (s < c->base_nsets && (mark[s / 8] & (1u << (s % 8))))
					mark_dead(c, i);
			}
			free(mark);
		}
	}
	if (c->dead_from == UINT32_MAX)
		return;
	w = c->dead_from;
	for (uint32_t r = c->dead_from; r < b->nvals; r++)
		if (b->vals[r].set != DEAD)
			b->vals[w++] = b->vals[r];
	b->nvals = w;
}

/* Undoes everything this body added (after -ENOMEM). */
static void rollback(struct ctx *c)
{
	struct hc_batch *b = c->b;

	for (uint32_t p = 0; p < c->nprev; p++)
		b->sets[c->prev[p].idx] = c->prev[p].saved;
	for (uint32_t s = c->base_nsets; s < b->nsets; s++)
		hc_map_del(&b->set_index, b->sets[s].key, strlen(b->sets[s].key));
	for (uint32_t n = c->base_nnames; n < b->nnames; n++)
		hc_map_del(&b->name_index, b->names[n], strlen(b->names[n]));
	b->nsets = c->base_nsets;
	b->nvals = c->base_nvals;
	b->nlabels = c->base_nlabels;
	b->nnames = c->base_nnames;
	b->grouped = 0;
}

int scr_summary_parse(const char *json, size_t len, const struct scr_node *node,
		      struct hc_batch *b)
{
	struct ctx c;
	struct scr_str k;
	char top;
	int rc;

	if (json == NULL || node == NULL || b == NULL)
		return -EINVAL;
	rc = scr_json_validate(json, len, "node", &top);
	if (rc != 0)
		return rc;
	if (top != '{')
		return HC_ERR_PARSE;   /* valid JSON, but not a summary */

	memset(&c, 0, offsetof(struct ctx, key));
	c.b = b;
	c.node = node;
	c.now_ms = node->now_ms ? node->now_ms : hc_now_ms();
	c.base_nsets = b->nsets;
	c.base_nvals = b->nvals;
	c.base_nlabels = b->nlabels;
	c.base_nnames = b->nnames;
	c.dead_from = UINT32_MAX;
	c.nodename = hc_batch_str(b, node->name, strlen(node->name));
	c.hostname = node->hostname[0] ? hc_batch_str(b, node->hostname,
						      strlen(node->hostname))
				       : c.nodename;
	c.host_id = hc_batch_str(b, node->host_id, strlen(node->host_id));
	if (c.nodename == NULL || c.hostname == NULL || c.host_id == NULL)
		return -ENOMEM;

	scr_json_init(&c.j, json, len);
	scr_json_obj_enter(&c.j);
	while (scr_json_obj_next(&c.j, &k)) {
		if (SCR_KEY_IS(k, "node")) {
			map_node(&c);
		} else if (SCR_KEY_IS(k, "pods")) {
			if (!scr_json_arr_enter(&c.j))
				continue;
			while (scr_json_arr_next(&c.j))
				map_pod(&c);
		} else {
			scr_json_skip(&c.j);
		}
	}
	if (c.err != 0) {
		rc = c.err;
		rollback(&c);
		goto free_prev;
	}
	finish_dead(&c);
	rc = 0;

free_prev:
	free(c.prev);
	return rc;
}
