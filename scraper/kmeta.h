/*
 * kmeta.h - Kubernetes objects -> the metadata batch of common/meta.h.
 *
 * The scraper lists nodes, namespaces, pods, and (when the API server has
 * them) ReplicaSets and Jobs, page by page (?limit=&continue=), and keeps
 * the first three current by watch events (scr_*_event()).  Each page
 * is parsed with the scraper's JSON reader (json.h) straight into the
 * metadata batch: a pod becomes its "namespace:NS/pod:P" set and one
 * "namespace:NS/pod:P/container:C" set per spec container, and the page's
 * text is no longer needed once its parse returns.  Memory therefore
 * follows the number of objects (what the batch keeps), not the size of the
 * listing: a page is a few MB whatever the cluster.
 *
 * ReplicaSets and Jobs are only kept as an owner index (struct scr_owners:
 * "ns/name" -> the controller's kind and name), to resolve a pod's
 * workload: ReplicaSet -> its Deployment, Job -> its CronJob.  Without that
 * index (an API server that does not serve them, or a ReplicaSet created
 * after the listing) a ReplicaSet named "<x>-<pod-template-hash>" resolves
 * to deployment <x>.
 *
 * Quantities ("100m", "16Gi", "1e3", ...) are parsed exactly (128-bit
 * integers, no floating point) and rounded up, as Kubernetes' Value() and
 * MilliValue() do.
 */
#ifndef SCR_KMETA_H
#define SCR_KMETA_H

#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "json.h"
#include "nodes.h"

#define SCR_CONT_MAX 4096        /* a continue token longer than this fails */
#define SCR_RV_MAX   64          /* a resourceVersion longer than this is dropped */

/*
 * A Kubernetes quantity times 10^scale10, rounded up (away from zero):
 * scale10 = 3 gives millicores for cpu, 0 gives bytes.  Accepts
 * "<sign><digits>[.<digits>]<suffix>" with suffix one of n u m "" k M G T P
 * E, Ki Mi Gi Ti Pi Ei, or e<int>/E<int>.  0, HC_ERR_PARSE, or
 * HC_ERR_TOOBIG when the result does not fit an int64.
 */
int scr_quantity_parse(const char *s, size_t len, int scale10, int64_t *out);

/* The controller of a ReplicaSet or a Job. */
struct scr_ownerref {
	const char *kind;        /* NULL: none */
	const char *name;
};

/* ReplicaSets or Jobs by "namespace/name". */
struct scr_owners {
	struct hc_arena      arena;
	struct hc_map        map;
	struct scr_ownerref *refs;
	uint32_t             n, cap;
	int                  complete;    /* the last listing succeeded */
};

int  scr_owners_init(struct scr_owners *o);
void scr_owners_reset(struct scr_owners *o);
void scr_owners_free(struct scr_owners *o);
/*
 * Adds the items of one page of a ReplicaSetList or JobList; cont receives
 * the page's continue token ("" on the last page).  0, HC_ERR_PARSE (o
 * unchanged), HC_ERR_TOOBIG (token) or -ENOMEM.
 */
int  scr_owners_parse(const char *json, size_t len, struct scr_owners *o,
		      char *cont);
/* The object ns/name, or NULL when it was not listed. */
const struct scr_ownerref *scr_owners_get(const struct scr_owners *o,
					  const char *ns, const char *name);

/* Counters of one metadata listing. */
struct scr_meta_stats {
	uint32_t nodes, namespaces, pods_listed, pods_running, containers;
	uint32_t workloads_by_index;     /* resolved through an owner listing */
	uint32_t workloads_by_hash;      /* resolved by the pod-template-hash rule */
	uint32_t pods_in_workloads;      /* pods given a workload */
};

/*
 * The pods (or the namespaces) of the cluster kept up to date by watch
 * events between full listings: their metadata sets in a batch of their
 * own, each object's sets (a pod, then its containers) contiguous.  span[i]
 * is the number of sets of the object whose first set is i, 0 for a
 * container set or a removed object; removed sets stay in the arrays (out
 * of the key index) until scr_cache_compact() copies the live ones into a
 * fresh batch.
 */
struct scr_cache {
	struct hc_batch b;
	uint32_t       *span;
	uint32_t        span_cap;
	uint32_t        nlive, ndead;     /* sets */
};

int  scr_cache_init(struct scr_cache *k);
void scr_cache_reset(struct scr_cache *k);
void scr_cache_free(struct scr_cache *k);
/* Drops the sets of the object whose first set has this key, if cached. */
void scr_cache_remove(struct scr_cache *k, const char *key, size_t len);
/* Records the sets [first, k->b.nsets) as one object.  0 or -ENOMEM. */
int  scr_cache_added(struct scr_cache *k, uint32_t first);
/* Rebuilds k->b without removed sets when they outnumber live ones.  0 or -ENOMEM. */
int  scr_cache_compact(struct scr_cache *k);
/*
 * Copies every cached set into meta (label strings are shared with the
 * cache: meta must be sent before the cache changes).  Counts pods and
 * containers, or namespaces, into st (may be NULL).  0 or -ENOMEM.
 */
int  scr_cache_render(const struct scr_cache *k, struct hc_batch *meta,
		      struct scr_meta_stats *st);

/* What the page parsers share across pages of one listing. */
struct scr_meta_ctx {
	const struct scr_owners *replicasets;   /* NULL or incomplete: fallback */
	const struct scr_owners *jobs;
	struct scr_labels        labels;
	void                    *scratch;       /* per-pod containers (kmeta.c) */
	struct scr_meta_stats    st;
	struct scr_cache        *cache;         /* pods go to this cache (watch mode) */
	struct scr_cache        *ns_cache;      /* namespaces go to this one */
	char                     list_rv[SCR_RV_MAX]; /* the last page's resourceVersion */
};

int  scr_meta_ctx_init(struct scr_meta_ctx *c);
void scr_meta_ctx_free(struct scr_meta_ctx *c);

/*
 * One page of a PodList into meta: running pods and their spec containers
 * (see common/meta.h for keys, labels and values).  cont as above.
 * 0, HC_ERR_PARSE (meta unchanged), HC_ERR_TOOBIG or -ENOMEM.
 */
int scr_meta_pods_parse(const char *json, size_t len, struct scr_meta_ctx *c,
			struct hc_batch *meta, char *cont);

/* The type of a watch event. */
enum scr_ev {
	SCR_EV_ADDED, SCR_EV_MODIFIED, SCR_EV_DELETED, SCR_EV_BOOKMARK, SCR_EV_ERROR,
	SCR_EV_OTHER
};

/*
 * Reads one watch event line ({"type":..,"object":{..}}): *type, a cursor
 * on its object, and the object's metadata.resourceVersion into rv
 * (SCR_RV_MAX; left alone when it has none).  0 for ADDED, MODIFIED and
 * DELETED (apply the object), 1 for a BOOKMARK (rv moved) or an unknown
 * type (skipped), HC_ERR_PROTO for an ERROR event (410 Expired and the
 * like: list again; logged with `what`), HC_ERR_PARSE for a line that is
 * not an event.
 */
int scr_event_begin(const char *line, size_t len, const char *what, enum scr_ev *type,
		    struct scr_json *obj, char *rv);

/*
 * One line of a pod watch applied to c->cache: ADDED and MODIFIED replace
 * a pod's sets (a pod no longer running loses them), DELETED removes them.
 * Returns as scr_event_begin(), or -ENOMEM.
 */
int scr_pod_event(const char *line, size_t len, struct scr_meta_ctx *c, char *rv);

/* One line of a namespace watch applied to c->ns_cache, likewise. */
int scr_namespace_event(const char *line, size_t len, struct scr_meta_ctx *c, char *rv);

/* One page of a NamespaceList into meta ("namespace:NS" sets). */
int scr_meta_namespaces_parse(const char *json, size_t len, struct scr_meta_ctx *c,
			      struct hc_batch *meta, char *cont);

/* The nodes of a node list (labels, capacity, allocatable) into meta. */
int scr_meta_nodes(const struct scr_nodelist *l, struct scr_meta_ctx *c,
		   struct hc_batch *meta);

#endif
