/*
 * auth.h - how the scraper reaches the API server and the kubelets:
 * Heapster's cluster access modes (REFERENCE §2) as one struct scr_creds.
 *
 *   inClusterConfig=true (default)  token and CA from the service account
 *                                   directory, server from
 *                                   KUBERNETES_SERVICE_HOST/PORT (the URL of
 *                                   --source, if any, wins)
 *   auth=KUBECONFIG                 current context: server, CA, client
 *                                   certificate and key, token / tokenFile,
 *                                   username / password (files or -data)
 *   useServiceAccount=true          the service account token, if readable
 *   insecure=true                   no verification of the API server's (and
 *                                   the kubelets') certificates
 *   kubeletHttps=true               https to kubelets with the API server's
 *                                   CA and client certificate; the bearer
 *                                   token is sent to kubelets only over https
 *   kubeletInsecure=true            (heapster-c) no verification of kubelet
 *                                   certificates only
 *
 * The service account directory is /var/run/secrets/kubernetes.io/
 * serviceaccount, or $HEAPSTER_SERVICE_ACCOUNT_DIR (tests).  Certificates
 * and keys are read once into memory and handed to libcurl as blobs; a
 * token file (service account, tokenFile) is read again every round, since
 * projected tokens rotate.
 *
 * Kubeconfig files are read with a small YAML reader (block mappings and
 * sequences, plain and quoted scalars, comments, empty flow collections):
 * what kubectl and kind write.  Block scalars, anchors and JSON kubeconfigs
 * are refused with a message; exec and auth-provider plugins likewise.
 */
#ifndef SCR_AUTH_H
#define SCR_AUTH_H

#include <stddef.h>

#define SCR_SA_DIR     "/var/run/secrets/kubernetes.io/serviceaccount"
#define SCR_SA_DIR_ENV "HEAPSTER_SERVICE_ACCOUNT_DIR"

/* A file's or a -data field's bytes. */
struct scr_blob {
	char  *p;
	size_t len;
};

struct scr_creds {
	char            server[512];     /* API server URL, no trailing '/' */
	struct scr_blob ca;              /* PEM; none: the system's CAs */
	struct scr_blob cert, key;       /* client certificate and key, PEM */
	char           *token;           /* bearer token, or NULL */
	char            token_file[512]; /* re-read each round, or "" */
	char           *basic;           /* "user:password", or NULL */
	int             insecure;        /* API server (and kubelets) unverified */
	int             kubelet_https;
	int             kubelet_insecure;
};

struct scr_config;

/*
 * Resolves the access mode of cfg into cr: reads the service account or
 * the kubeconfig, the certificates, the token.  0, or HC_ERR_CONFIG with
 * the reason logged.  cr must be freed with scr_creds_free() either way.
 */
int  scr_creds_load(const struct scr_config *cfg, struct scr_creds *cr);
void scr_creds_free(struct scr_creds *cr);

/*
 * Reads the token file again (rotation).  0, or a negative code with the
 * previous token kept.
 */
int  scr_creds_refresh(struct scr_creds *cr);

/* Configures a libcurl easy handle for the API server / a kubelet. */
void scr_creds_apply_api(const struct scr_creds *cr, void *curl);
void scr_creds_apply_kubelet(const struct scr_creds *cr, void *curl);

/*
 * A kubeconfig's current context, resolved (tests use it directly).
 * Relative paths are taken from the kubeconfig's directory.
 */
struct scr_kubeconfig {
	char            server[512];
	struct scr_blob ca, cert, key;
	char           *token;
	char            token_file[512];
	char           *basic;
	int             insecure;
};

/* 0, or HC_ERR_CONFIG with the reason in err. */
int  scr_kubeconfig_load(const char *path, struct scr_kubeconfig *kc, char *err,
			 size_t errcap);
void scr_kubeconfig_free(struct scr_kubeconfig *kc);

/* Standard base64 (padding optional, whitespace skipped) into a new blob. */
int  scr_base64_decode(const char *s, size_t len, struct scr_blob *out);

#endif
