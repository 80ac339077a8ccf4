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
 */
#ifndef SCR_NODES_H
#define SCR_NODES_H

#include <stddef.h>
#include <stdint.h>

struct scr_node {
	char    name[254];        /* metadata.name (DNS subdomain, <= 253) */
	char    ip[64];           /* InternalIP, else ExternalIP; "" if none */
	char    hostname[254];    /* Hostname address, else the node name */
	char    host_id[256];     /* value of the host_id annotation, or "" */
	int     kubelet_port;     /* daemonEndpoints.kubeletEndpoint.Port, 0 if absent */
	int     ready;            /* 1: Ready=True or no Ready condition */
	int64_t create_ms;        /* metadata.creationTimestamp, 0 if absent */
	int64_t now_ms;           /* when its summary was fetched (uptime); 0: now */
};

struct scr_nodelist {
	struct scr_node *nodes;
	uint32_t         n, cap;
	char             cont[4096];   /* metadata.continue of the last page, or "" */
};

void scr_nodelist_init(struct scr_nodelist *l);
void scr_nodelist_free(struct scr_nodelist *l);

/*
 * Parses one NodeList page and appends its nodes to l (l->cont receives the
 * page's continue token).  host_id_annotation may be NULL or "".  Items
 * without a name are skipped.  0, HC_ERR_PARSE (not a NodeList: l is left
 * as it was) or -ENOMEM.
 */
int scr_nodes_parse(const char *json, size_t len, const char *host_id_annotation,
		    struct scr_nodelist *l);

#endif
