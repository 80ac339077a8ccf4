/*
 * nodes.c - NodeList JSON -> struct scr_node (see nodes.h).
 *
 * Same reader as the summary (json.h): the page is validated whole first,
 * so a truncated page never yields a partial list; then one walk picks the
 * few fields the scraper needs from each item and skips the rest (images,
 * managedFields, capacity, ...).  Strings land unescaped in the node's
 * fixed-size fields; an item whose name does not fit (longer than
 * Kubernetes allows) is skipped.
 *
 * Watch mode keeps the list as a table: indexed by name once listed, then
 * changed in place by events.  An event's node is read into the slot past
 * the end (the same code as a listing item) and then either copied over
 * the node of the same name, kept as a new one, or dropped with the node it
 * deletes (the last node takes the deleted one's slot).  Replaced labels
 * strings stay in strs as garbage until they outweigh the live ones.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hc.h"
#include "json.h"
#include "kmeta.h"
#include "log.h"
#include "nodes.h"

void scr_nodelist_init(struct scr_nodelist *l)
{
	memset(l, 0, sizeof(*l));
	scr_labels_init(&l->lb);
}

void scr_nodelist_free(struct scr_nodelist *l)
{
	free(l->nodes);
	free(l->strs);
	scr_labels_free(&l->lb);
	hc_map_free(&l->by_name);
	memset(l, 0, sizeof(*l));
}

void scr_nodelist_clear(struct scr_nodelist *l)
{
	l->n = 0;
	l->strs_len = l->strs_live = 0;
	l->cont[0] = '\0';
	l->rv[0] = '\0';
	if (l->indexed)
		hc_map_clear(&l->by_name);
	l->indexed = 0;
}

/* Reads a labels object into the list's string buffer for node n. */
static int read_labels(struct scr_json *j, struct scr_nodelist *l, struct scr_node *n)
{
	const char *s;
	size_t len;
	int rc = scr_labels_read(&l->lb, j);

	if (rc != 0)
		return rc;
	s = scr_labels_str(&l->lb, &len);
	if (l->strs_len + len + 1 > l->strs_cap) {
		size_t ncap = l->strs_cap ? l->strs_cap : 4096;
		char *p;

		while (ncap < l->strs_len + len + 1)
			ncap *= 2;
		if (ncap > UINT32_MAX)
			return HC_ERR_TOOBIG;
		p = realloc(l->strs, ncap);
		if (p == NULL)
			return -ENOMEM;
		l->strs = p;
		l->strs_cap = ncap;
	}
	memcpy(l->strs + l->strs_len, s, len + 1);
	n->labels_off = (uint32_t)l->strs_len;
	n->labels_len = (uint32_t)len;
	l->strs_len += len + 1;
	l->strs_live += len + 1;
	return 0;
}

/*
 * status.capacity or allocatable: cpu in millicores, memory and
 * ephemeral-storage in bytes; a quantity that does not parse stays -1.
 */
static void read_resources(struct scr_json *j, int64_t *out, const char *node)
{
	static const struct { const char *name; int scale; } res[SCR_RES_N] = {
		[SCR_RES_CPU] = { "cpu", 3 }, [SCR_RES_MEM] = { "memory", 0 },
		[SCR_RES_EPH] = { "ephemeral-storage", 0 },
	};
	struct scr_str k, s;

	if (!scr_json_obj_enter(j))
		return;
	while (scr_json_obj_next(j, &k)) {
		int r;

		for (r = 0; r < SCR_RES_N; r++)
			if (k.len == strlen(res[r].name) && memcmp(k.p, res[r].name, k.len) == 0)
				break;
		if (r == SCR_RES_N) {
			scr_json_skip(j);
			continue;
		}
		if (!scr_json_get_str(j, &s))
			continue;
		if (scr_quantity_parse(s.p, s.len, res[r].scale, &out[r]) != 0) {
			out[r] = -1;
			hc_warn("node %s: %s quantity '%.*s' does not parse", node,
				res[r].name, (int)s.len, s.p);
		}
	}
}

/* Unescapes s into dst[cap]; 0, or -1 (dst = "") when it does not fit. */
static int copy_str(const struct scr_str *s, char *dst, size_t cap)
{
	char tmp[4096];
	size_t n;

	dst[0] = '\0';
	if ((size_t)s->len + 1 <= cap) {
		scr_json_unescape(s, dst, cap);
		return 0;
	}
	if (!s->esc || (size_t)s->len + 1 > sizeof(tmp))
		return -1;
	n = scr_json_unescape(s, tmp, sizeof(tmp));
	if (n + 1 > cap)
		return -1;
	memcpy(dst, tmp, n + 1);
	return 0;
}

/* metadata: name, creationTimestamp, and the host_id annotation if asked. */
static int read_metadata(struct scr_json *j, struct scr_node *n, const char *anno,
			 int *name_ok, struct scr_nodelist *l)
{
	struct scr_str k, s;
	int rc;

	if (!scr_json_obj_enter(j))
		return 0;
	while (scr_json_obj_next(j, &k)) {
		if (SCR_KEY_IS(k, "labels")) {
			rc = read_labels(j, l, n);
			if (rc != 0)
				return rc;
			continue;
		}
		if (SCR_KEY_IS(k, "name")) {
			*name_ok = scr_json_get_str(j, &s) &&
				   copy_str(&s, n->name, sizeof(n->name)) == 0 &&
				   n->name[0] != '\0';
		} else if (SCR_KEY_IS(k, "creationTimestamp")) {
			if (scr_json_get_str(j, &s) && !s.esc &&
			    hc_time_parse(s.p, s.len, &n->create_ms) != 0)
				n->create_ms = 0;
		} else if (SCR_KEY_IS(k, "annotations") && anno && *anno) {
			if (!scr_json_obj_enter(j))
				continue;
			while (scr_json_obj_next(j, &k)) {
				if (k.len == strlen(anno) && memcmp(k.p, anno, k.len) == 0 &&
				    scr_json_get_str(j, &s)) {
					if (copy_str(&s, n->host_id, sizeof(n->host_id)) != 0)
						hc_warn("node %s: host_id annotation too long, ignored",
							n->name);
				} else {
					scr_json_skip(j);
				}
			}
		} else {
			scr_json_skip(j);
		}
	}
	return 0;
}

/*
 * status.addresses: the first InternalIP, else the first ExternalIP, is the
 * address to scrape; the first Hostname address is the hostname label.
 */
static void read_addresses(struct scr_json *j, struct scr_node *n, int *have_host)
{
	char external[sizeof(n->ip)] = "";
	int have_internal = 0;

	if (!scr_json_arr_enter(j))
		return;
	while (scr_json_arr_next(j)) {
		struct scr_str k, type = { "", 0, 0 }, addr = { "", 0, 0 };

		if (!scr_json_obj_enter(j))
			continue;
		while (scr_json_obj_next(j, &k)) {
			if (SCR_KEY_IS(k, "type"))
				scr_json_get_str(j, &type);
			else if (SCR_KEY_IS(k, "address"))
				scr_json_get_str(j, &addr);
			else
				scr_json_skip(j);
		}
		if (addr.len == 0)
			continue;
		if (scr_json_str_eq(&type, "InternalIP") && !have_internal)
			have_internal = copy_str(&addr, n->ip, sizeof(n->ip)) == 0;
		else if (scr_json_str_eq(&type, "ExternalIP") && !external[0])
			copy_str(&addr, external, sizeof(external));
		else if (scr_json_str_eq(&type, "Hostname") && !*have_host)
			*have_host = copy_str(&addr, n->hostname, sizeof(n->hostname)) == 0;
	}
	if (!have_internal)
		memcpy(n->ip, external, sizeof(n->ip));
}

/* status.conditions: ready unless a Ready condition says other than "True". */
static void read_conditions(struct scr_json *j, struct scr_node *n)
{
	if (!scr_json_arr_enter(j))
		return;
	while (scr_json_arr_next(j)) {
		struct scr_str k, type = { "", 0, 0 }, status = { "", 0, 0 };

		if (!scr_json_obj_enter(j))
			continue;
		while (scr_json_obj_next(j, &k)) {
			if (SCR_KEY_IS(k, "type"))
				scr_json_get_str(j, &type);
			else if (SCR_KEY_IS(k, "status"))
				scr_json_get_str(j, &status);
			else
				scr_json_skip(j);
		}
		if (scr_json_str_eq(&type, "Ready"))
			n->ready = scr_json_str_eq(&status, "True");
	}
}

/* status.daemonEndpoints.kubeletEndpoint.Port (capital P). */
static void read_daemon_endpoints(struct scr_json *j, struct scr_node *n)
{
	struct scr_str k;
	int64_t port;

	if (!scr_json_obj_enter(j))
		return;
	while (scr_json_obj_next(j, &k)) {
		if (!SCR_KEY_IS(k, "kubeletEndpoint") || !scr_json_obj_enter(j)) {
			if (!SCR_KEY_IS(k, "kubeletEndpoint"))
				scr_json_skip(j);
			continue;
		}
		while (scr_json_obj_next(j, &k)) {
			if (SCR_KEY_IS(k, "Port") && scr_json_get_i64(j, &port))
				n->kubelet_port = port > 0 && port < 65536 ? (int)port : 0;
			else if (!SCR_KEY_IS(k, "Port"))
				scr_json_skip(j);
		}
	}
}

static void read_status(struct scr_json *j, struct scr_node *n, int *have_host)
{
	struct scr_str k;

	if (!scr_json_obj_enter(j))
		return;
	while (scr_json_obj_next(j, &k)) {
		if (SCR_KEY_IS(k, "addresses"))
			read_addresses(j, n, have_host);
		else if (SCR_KEY_IS(k, "conditions"))
			read_conditions(j, n);
		else if (SCR_KEY_IS(k, "daemonEndpoints"))
			read_daemon_endpoints(j, n);
		else if (SCR_KEY_IS(k, "capacity"))
			read_resources(j, n->cap, n->name);
		else if (SCR_KEY_IS(k, "allocatable"))
			read_resources(j, n->alloc, n->name);
		else
			scr_json_skip(j);
	}
}

/* One item; 1 if it is a usable node (appended), 0 if skipped, -ENOMEM. */
static int read_item(struct scr_json *j, const char *anno, struct scr_nodelist *l)
{
	struct scr_node *n;
	struct scr_str k;
	int name_ok = 0, have_host = 0, rc;

	if (l->n == l->cap) {
		uint32_t ncap = l->cap ? l->cap * 2 : 64;
		struct scr_node *p = realloc(l->nodes, ncap * sizeof(*p));

		if (p == NULL)
			return -ENOMEM;
		l->nodes = p;
		l->cap = ncap;
	}
	n = &l->nodes[l->n];
	memset(n, 0, sizeof(*n));
	n->ready = 1;          /* no Ready condition: scrape it */
	for (int r = 0; r < SCR_RES_N; r++)
		n->cap[r] = n->alloc[r] = -1;
	if (!scr_json_obj_enter(j))
		return 0;
	while (scr_json_obj_next(j, &k)) {
		if (SCR_KEY_IS(k, "metadata")) {
			rc = read_metadata(j, n, anno, &name_ok, l);
			if (rc != 0)
				return rc;
		} else if (SCR_KEY_IS(k, "status"))
			read_status(j, n, &have_host);
		else
			scr_json_skip(j);
	}
	if (!name_ok)
		return 0;
	if (!have_host)
		memcpy(n->hostname, n->name, sizeof(n->hostname));
	l->n++;
	return 1;
}

int scr_nodes_parse(const char *json, size_t len, const char *host_id_annotation,
		    struct scr_nodelist *l)
{
	struct scr_json j;
	struct scr_str k, s;
	uint32_t saved_n = l->n;
	size_t saved_strs = l->strs_len, saved_live = l->strs_live;
	char items;
	int rc;

	rc = scr_json_validate(json, len, "items", &items);
	if (rc != 0)
		return rc;
	if (items != '[' && items != 'n')
		return HC_ERR_PARSE;       /* e.g. a Status object */
	l->cont[0] = '\0';
	l->rv[0] = '\0';
	scr_json_init(&j, json, len);
	scr_json_obj_enter(&j);
	while (scr_json_obj_next(&j, &k)) {
		if (SCR_KEY_IS(k, "items")) {
			if (!scr_json_arr_enter(&j))
				continue;
			while (scr_json_arr_next(&j)) {
				rc = read_item(&j, host_id_annotation, l);
				if (rc < 0) {
					l->n = saved_n;
					l->strs_len = saved_strs;
					l->strs_live = saved_live;
					return rc;
				}
			}
		} else if (SCR_KEY_IS(k, "metadata")) {
			if (!scr_json_obj_enter(&j))
				continue;
			while (scr_json_obj_next(&j, &k)) {
				if (SCR_KEY_IS(k, "continue") && scr_json_get_str(&j, &s)) {
					if (copy_str(&s, l->cont, sizeof(l->cont)) != 0) {
						l->n = saved_n;
						l->strs_len = saved_strs;
						l->strs_live = saved_live;
						return HC_ERR_TOOBIG;
					}
				} else if (SCR_KEY_IS(k, "resourceVersion") &&
					   scr_json_get_str(&j, &s)) {
					if (copy_str(&s, l->rv, sizeof(l->rv)) != 0)
						l->rv[0] = '\0';   /* too long: cannot watch */
				} else if (!SCR_KEY_IS(k, "continue") &&
					   !SCR_KEY_IS(k, "resourceVersion")) {
					scr_json_skip(&j);
				}
			}
		} else {
			scr_json_skip(&j);
		}
	}
	return 0;
}

/* ---- the node table of watch mode ---------------------------------------------- */

int scr_nodelist_index(struct scr_nodelist *l)
{
	uint32_t w = 0, idx;
	int rc;

	if (l->by_name.slots == NULL) {
		rc = hc_map_init(&l->by_name, l->n > 64 ? l->n : 64);
		if (rc != 0)
			return rc;
	} else {
		hc_map_clear(&l->by_name);
	}
	l->indexed = 0;
	for (uint32_t i = 0; i < l->n; i++) {
		const char *name = l->nodes[i].name;

		if (hc_map_get(&l->by_name, name, strlen(name), &idx) == 0) {
			l->strs_live -= l->nodes[i].labels_len > 0 ? l->nodes[i].labels_len + 1 : 0;
			continue;       /* listed twice: the first wins */
		}
		if (w != i)
			l->nodes[w] = l->nodes[i];
		rc = hc_map_put(&l->by_name, l->nodes[w].name, strlen(name), w);
		if (rc != 0)
			return rc;
		w++;
	}
	l->n = w;
	l->indexed = 1;
	return 0;
}

/* Bytes of strs a node's labels string holds. */
static size_t labels_bytes(const struct scr_node *n)
{
	return n->labels_len > 0 ? (size_t)n->labels_len + 1 : 0;
}

/*
 * Copies the live labels strings into a fresh buffer once replaced ones
 * (events) outweigh them: strs stays within a small multiple of the live
 * bytes however long the watch runs.
 */
static int compact_strs(struct scr_nodelist *l)
{
	size_t cap = l->strs_live + 4096, off = 0;
	char *p;

	if (l->strs_len < 4 * l->strs_live + (1u << 20))
		return 0;
	p = malloc(cap);
	if (p == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < l->n; i++) {
		struct scr_node *n = &l->nodes[i];

		if (n->labels_len == 0)
			continue;
		memcpy(p + off, l->strs + n->labels_off, (size_t)n->labels_len + 1);
		n->labels_off = (uint32_t)off;
		off += (size_t)n->labels_len + 1;
	}
	free(l->strs);
	l->strs = p;
	l->strs_cap = cap;
	l->strs_len = l->strs_live = off;
	return 0;
}

/* Removes node idx from the index and the array: the last node moves into its place. */
static int remove_node(struct scr_nodelist *l, uint32_t idx)
{
	struct scr_node *n = &l->nodes[idx];
	uint32_t last = l->n - 1;

	hc_map_del(&l->by_name, n->name, strlen(n->name));
	if (idx != last) {
		hc_map_del(&l->by_name, l->nodes[last].name, strlen(l->nodes[last].name));
		*n = l->nodes[last];
		if (hc_map_put(&l->by_name, n->name, strlen(n->name), idx) != 0)
			return -ENOMEM;
	}
	l->n--;
	return 0;
}

int scr_node_event(const char *line, size_t len, const char *host_id_annotation,
		   struct scr_nodelist *l, char *rv)
{
	struct scr_node *old = l->nodes;
	struct scr_json obj;
	enum scr_ev type;
	uint32_t idx, tmp;
	size_t live;
	int rc = scr_event_begin(line, len, "node", &type, &obj, rv);

	if (rc != 0)
		return rc;
	if (!l->indexed)
		return HC_ERR_PROTO;    /* a table that was never listed: list it */
	/* the object is read into a slot past the end, then moved or dropped */
	live = l->strs_live;
	rc = read_item(&obj, host_id_annotation, l);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		l->strs_live = live;
		return HC_ERR_PARSE;    /* no name */
	}
	rc = 0;
	if (l->nodes != old) {
		/* the array moved: the index points at the old one */
		l->n--;
		rc = scr_nodelist_index(l);
		l->n++;
		if (rc != 0)
			return rc;
	}
	tmp = l->n - 1;
	if (hc_map_get(&l->by_name, l->nodes[tmp].name, strlen(l->nodes[tmp].name), &idx) != 0) {
		if (type == SCR_EV_DELETED) {
			l->strs_live -= labels_bytes(&l->nodes[tmp]);
			l->n--;         /* not known: nothing to delete */
			return 0;
		}
		rc = hc_map_put(&l->by_name, l->nodes[tmp].name, strlen(l->nodes[tmp].name), tmp);
		return rc != 0 ? rc : compact_strs(l);
	}
	l->strs_live -= labels_bytes(&l->nodes[idx]);
	if (type == SCR_EV_DELETED) {
		l->strs_live -= labels_bytes(&l->nodes[tmp]);
		l->n--;
		rc = remove_node(l, idx);
	} else {
		l->nodes[idx] = l->nodes[tmp];  /* same name: the index stays right */
		l->n--;
	}
	return rc != 0 ? rc : compact_strs(l);
}
