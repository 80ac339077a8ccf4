/*
 * nodes.h - the nodes the scraper scrapes, read from the API server's
 * NodeList (GET /api/v1/nodes).
 *
 * For each node the scraper needs what Heapster's kubelet source took from
 * the node object (REFERENCE §2): the address to scrape (InternalIP, else
 * ExternalIP), the labels of its metric sets (nodename, hostname = the
 * Hostname address else the node name, host_id from an optional
 * annotation), its kubelet port (status.daemonEndpoints.kubeletEndpoint.Port,
 * capital P), its creation time and whether it is Ready.  A node whose Ready
 * condition is not "True" is listed with ready = 0 and not scraped; a node
 * with no Ready condition at all is scraped.
 *
 * struct scr_node holds its strings inline (fixed sizes bounded by
 * Kubernetes' own limits), so a list is one flat array that can be copied
 * and compared without pointer chasing.  Pages of a paginated list
 * (?limit=&continue=) are appended to the same list.
 *
 * For the metadata batch (common/meta.h) a node also carries its capacity
 * and allocatable cpu (millicores), memory and ephemeral-storage (bytes),
 * and its labels string ("k:v" sorted, joined by ","), which is unbounded
 * and so lives in the list's string buffer, valid until the list is
 * emptied (the next listing).
 */
#ifndef SCR_NODES_H
#define SCR_NODES_H

#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "json.h"

/* Resources of a node, in struct scr_node.cap / alloc. */
enum { SCR_RES_CPU, SCR_RES_MEM, SCR_RES_EPH, SCR_RES_N };

struct scr_node {
	char    name[254];        /* metadata.name (DNS subdomain, <= 253) */
	char    ip[64];           /* InternalIP, else ExternalIP; "" if none */
	char    hostname[254];    /* Hostname address, else the node name */
	char    host_id[256];     /* value of the host_id annotation, or "" */
	int     kubelet_port;     /* daemonEndpoints.kubeletEndpoint.Port, 0 if absent */
	int     ready;            /* 1: Ready=True or no Ready condition */
	int64_t create_ms;        /* metadata.creationTimestamp, 0 if absent */
	int64_t now_ms;           /* when its summary was fetched (uptime); 0: now */
	int64_t cap[SCR_RES_N];   /* status.capacity: millicores, bytes; -1 if absent */
	int64_t alloc[SCR_RES_N]; /* status.allocatable, likewise */
	uint32_t labels_off;      /* labels string in the list's strs */
	uint32_t labels_len;
};

struct scr_nodelist {
	struct scr_node *nodes;
	uint32_t         n, cap;
	char             cont[4096];   /* metadata.continue of the last page, or "" */
	char             rv[64];       /* metadata.resourceVersion of the last page */
	char            *strs;         /* the nodes' labels strings */
	size_t           strs_len, strs_cap;
	size_t           strs_live;    /* bytes of strs still referenced (watch mode) */
	struct scr_labels lb;          /* scratch */
	struct hc_map    by_name;      /* name -> index, once indexed (watch mode) */
	int              indexed;
};

/* A node's labels string (in l->strs). */
static inline const char *scr_node_labels(const struct scr_nodelist *l,
					  const struct scr_node *n)
{
	return n->labels_len > 0 ? l->strs + n->labels_off : "";
}

/* Empties the list (keeping its memory) before a new listing. */
void scr_nodelist_clear(struct scr_nodelist *l);

void scr_nodelist_init(struct scr_nodelist *l);
void scr_nodelist_free(struct scr_nodelist *l);

/*
 * Parses one NodeList page and appends its nodes to l (l->cont receives the
 * page's continue token, l->rv its resourceVersion).  host_id_annotation may be NULL or "".  Items
 * without a name are skipped.  0, HC_ERR_PARSE (not a NodeList: l is left
 * as it was) or -ENOMEM.
 */
int scr_nodes_parse(const char *json, size_t len, const char *host_id_annotation,
		    struct scr_nodelist *l);

/*
 * Watch mode: the list becomes a table kept by events.  scr_nodelist_index()
 * indexes a complete listing by name (a name listed twice: the first
 * wins); 0 or -ENOMEM.
 */
int scr_nodelist_index(struct scr_nodelist *l);

/*
 * One line of a node watch applied to the indexed list l: ADDED and
 * MODIFIED add or replace the node of that name, DELETED removes it (the
 * last node takes its place).  rv receives the event's resourceVersion.
 * 0 (applied), 1 (a bookmark or an unknown type), HC_ERR_PROTO (an ERROR
 * event: list again), HC_ERR_PARSE or -ENOMEM.
 */
int scr_node_event(const char *line, size_t len, const char *host_id_annotation,
		   struct scr_nodelist *l, char *rv);

#endif
