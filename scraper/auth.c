/*
 * auth.c - cluster access: service account, kubeconfig, TLS and tokens for
 * libcurl (see auth.h).
 *
 * Design.  Everything is resolved once, at start, into struct scr_creds:
 * the server URL, PEM blobs (files and base64 -data fields alike), a token
 * or a token file, basic credentials.  Applying it to a libcurl handle is
 * then a handful of setopt calls with no file access, done when a handle
 * is created and again when a rotated token changed.
 *
 * The kubeconfig reader parses the YAML subset kubeconfigs use into a small
 * tree (struct ynode, in one arena): lines are cut into (indent, text)
 * after comments are stripped; a block is a mapping ("key: value" or
 * "key:" and a deeper block, or a sequence at the key's own indent, as
 * kubectl writes it) or a sequence ("- " items, whose first line is
 * re-read as a deeper block at the column after the dash) or a scalar.
 * Anything else is an error with its line number, never a guess.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <curl/curl.h>

#include "auth.h"
#include "batch.h"
#include "hc.h"
#include "log.h"
#include "scraper.h"

#define FILE_MAX (1u << 20)     /* a certificate, key, token or kubeconfig */

/* ---- files and base64 ------------------------------------------------------- */

/* Reads a whole (small) file into a NUL-terminated blob.  0 or -errno. */
static int read_file(const char *path, struct scr_blob *out)
{
	struct stat st;
	FILE *f;
	char *p;
	size_t n;
	int rc;

	out->p = NULL;
	out->len = 0;
	f = fopen(path, "rb");
	if (f == NULL)
		return -errno;
	if (fstat(fileno(f), &st) != 0 || st.st_size > (off_t)FILE_MAX) {
		rc = st.st_size > (off_t)FILE_MAX ? HC_ERR_TOOBIG : -errno;
		goto close_file;
	}
	p = malloc((size_t)st.st_size + 1);
	if (p == NULL) {
		rc = -ENOMEM;
		goto close_file;
	}
	n = fread(p, 1, (size_t)st.st_size, f);
	p[n] = '\0';
	out->p = p;
	out->len = n;
	rc = 0;
close_file:
	fclose(f);
	return rc;
}

static void blob_free(struct scr_blob *b)
{
	free(b->p);
	b->p = NULL;
	b->len = 0;
}

int scr_base64_decode(const char *s, size_t len, struct scr_blob *out)
{
	uint32_t acc = 0;
	size_t o = 0;
	int bits = 0;
	char *p = malloc(len / 4 * 3 + 4);

	if (p == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)s[i], v;

		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= 'a' && c <= 'z')
			v = c - 'a' + 26;
		else if (c >= '0' && c <= '9')
			v = c - '0' + 52;
		else if (c == '+' || c == '-')
			v = 62;
		else if (c == '/' || c == '_')
			v = 63;
		else if (c == '=' || c == ' ' || c == '\n' || c == '\r' || c == '\t')
			continue;
		else {
			free(p);
			return HC_ERR_PARSE;
		}
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			p[o++] = (char)(acc >> bits);
		}
	}
	p[o] = '\0';
	out->p = p;
	out->len = o;
	return 0;
}

/* ---- a YAML subset ------------------------------------------------------------ */

enum { Y_NULL, Y_SCALAR, Y_MAP, Y_SEQ };

struct ynode {
	int           type;
	const char   *key;      /* in a mapping */
	const char   *val;      /* a scalar */
	struct ynode *child;    /* entries or items */
	struct ynode *next;
};

struct yline {
	int   indent;
	int   lineno;
	char *text;             /* trimmed, comment stripped */
};

struct yparser {
	struct hc_arena arena;
	struct yline   *lines;
	int             n, i;
	char           *err;
	size_t          errcap;
};

static struct ynode *ynew(struct yparser *y, int type)
{
	struct ynode *n = hc_arena_alloc(&y->arena, sizeof(*n));

	if (n != NULL) {
		memset(n, 0, sizeof(*n));
		n->type = type;
	}
	return n;
}

static void yerr(struct yparser *y, int lineno, const char *what)
{
	if (y->err[0] == '\0')
		snprintf(y->err, y->errcap, "line %d: %s", lineno, what);
}

/* Cuts text into lines: indent, comment stripped, trailing space trimmed. */
static int ysplit(struct yparser *y, char *text)
{
	int cap = 64, lineno = 0;

	y->lines = malloc((size_t)cap * sizeof(*y->lines));
	if (y->lines == NULL)
		return -ENOMEM;
	for (char *line = text, *nl; line != NULL; line = nl) {
		char quote = 0, *p, *e;
		int ind = 0;

		nl = strchr(line, '\n');
		if (nl)
			*nl++ = '\0';
		lineno++;
		while (line[ind] == ' ')
			ind++;
		if (line[ind] == '\t') {
			yerr(y, lineno, "tab in indentation");
			return HC_ERR_PARSE;
		}
		p = line + ind;
		for (e = p; *e; e++) {
			if (quote) {
				if (*e == quote)
					quote = 0;
				else if (*e == '\\' && quote == '"' && e[1])
					e++;
			} else if (*e == '"' || *e == '\'') {
				if (e == p || e[-1] == ' ' || e[-1] == ':' || e[-1] == '-')
					quote = *e;
			} else if (*e == '#' && (e == p || e[-1] == ' ')) {
				break;
			}
		}
		while (e > p && (e[-1] == ' ' || e[-1] == '\r' || e[-1] == '\t'))
			e--;
		*e = '\0';
		if (*p == '\0' || strcmp(p, "---") == 0 || *p == '%')
			continue;
		if (y->n == cap) {
			struct yline *nlines;

			cap *= 2;
			nlines = realloc(y->lines, (size_t)cap * sizeof(*nlines));
			if (nlines == NULL)
				return -ENOMEM;
			y->lines = nlines;
		}
		y->lines[y->n].indent = ind;
		y->lines[y->n].lineno = lineno;
		y->lines[y->n].text = p;
		y->n++;
	}
	return 0;
}

static int is_item(const char *t)
{
	return t[0] == '-' && (t[1] == ' ' || t[1] == '\0');
}

/* A scalar's text, unquoted, in the arena; NULL on error (reported). */
static const char *yscalar_text(struct yparser *y, const char *t, int lineno)
{
	size_t n = strlen(t);
	char *d, *o;

	if (t[0] == '|' || t[0] == '>' || t[0] == '&' || t[0] == '*' || t[0] == '!' ||
	    (t[0] == '{' && strcmp(t, "{}") != 0) || (t[0] == '[' && strcmp(t, "[]") != 0)) {
		yerr(y, lineno, "unsupported YAML (block scalar, anchor, tag or flow collection)");
		return NULL;
	}
	d = hc_arena_alloc(&y->arena, n + 1);
	if (d == NULL)
		return NULL;
	if (t[0] != '"' && t[0] != '\'') {
		memcpy(d, t, n + 1);
		return d;
	}
	if (n < 2 || t[n - 1] != t[0]) {
		yerr(y, lineno, "unterminated quoted string");
		return NULL;
	}
	o = d;
	for (const char *p = t + 1; p < t + n - 1; p++) {
		if (t[0] == '\'' && p[0] == '\'' && p[1] == '\'') {
			*o++ = '\'';
			p++;
		} else if (t[0] == '"' && p[0] == '\\' && p + 1 < t + n - 1) {
			p++;
			*o++ = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p == 'r' ? '\r' : *p;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return d;
}

/* Position of the ':' ending a mapping key in t, or -1. */
static int key_colon(const char *t)
{
	char quote = 0;

	if (t[0] == '"' || t[0] == '\'')
		quote = t[0];
	for (int i = quote ? 1 : 0; t[i]; i++) {
		if (quote) {
			if (t[i] == quote)
				quote = 0;
			continue;
		}
		if (t[i] == ':' && (t[i + 1] == ' ' || t[i + 1] == '\0'))
			return i;
	}
	return -1;
}

static struct ynode *yblock(struct yparser *y, int min_indent);

static struct ynode *ymap(struct yparser *y, int ind)
{
	struct ynode *map = ynew(y, Y_MAP), **tail;

	if (map == NULL)
		return NULL;
	tail = &map->child;
	while (y->i < y->n && y->lines[y->i].indent == ind && !is_item(y->lines[y->i].text)) {
		struct yline *l = &y->lines[y->i];
		int c = key_colon(l->text), ln = l->lineno;
		const char *rest;
		struct ynode *v;

		if (c < 0) {
			yerr(y, ln, "expected \"key: value\"");
			return NULL;
		}
		l->text[c] = '\0';
		rest = l->text + c + 1;
		while (*rest == ' ')
			rest++;
		y->i++;
		if (*rest == '\0') {
			if (y->i < y->n && (y->lines[y->i].indent > ind ||
					    (y->lines[y->i].indent == ind &&
					     is_item(y->lines[y->i].text))))
				v = yblock(y, y->lines[y->i].indent);
			else
				v = ynew(y, Y_NULL);
		} else if (strcmp(rest, "{}") == 0) {
			v = ynew(y, Y_MAP);
		} else if (strcmp(rest, "[]") == 0) {
			v = ynew(y, Y_SEQ);
		} else {
			v = ynew(y, Y_SCALAR);
			if (v != NULL && (v->val = yscalar_text(y, rest, ln)) == NULL)
				return NULL;
		}
		if (v == NULL)
			return NULL;
		v->key = yscalar_text(y, l->text, ln);
		if (v->key == NULL)
			return NULL;
		*tail = v;
		tail = &v->next;
	}
	if (y->i < y->n && y->lines[y->i].indent > ind) {
		yerr(y, y->lines[y->i].lineno, "unexpected indentation");
		return NULL;
	}
	return map;
}

static struct ynode *yseq(struct yparser *y, int ind)
{
	struct ynode *seq = ynew(y, Y_SEQ), **tail;

	if (seq == NULL)
		return NULL;
	tail = &seq->child;
	while (y->i < y->n && y->lines[y->i].indent == ind && is_item(y->lines[y->i].text)) {
		struct yline *l = &y->lines[y->i];
		struct ynode *v;

		if (l->text[1] == '\0') {
			y->i++;
			v = (y->i < y->n && y->lines[y->i].indent > ind) ?
			    yblock(y, y->lines[y->i].indent) : ynew(y, Y_NULL);
		} else {
			/* "- key: v": the rest of the line is a block at its column */
			int skip = 1;

			while (l->text[skip] == ' ')
				skip++;
			l->text += skip;
			l->indent += skip;
			v = yblock(y, l->indent);
		}
		if (v == NULL)
			return NULL;
		*tail = v;
		tail = &v->next;
	}
	return seq;
}

static struct ynode *yblock(struct yparser *y, int min_indent)
{
	struct yline *l;
	struct ynode *v;

	if (y->i >= y->n || y->lines[y->i].indent < min_indent)
		return ynew(y, Y_NULL);
	l = &y->lines[y->i];
	if (is_item(l->text))
		return yseq(y, l->indent);
	if (key_colon(l->text) >= 0)
		return ymap(y, l->indent);
	v = ynew(y, Y_SCALAR);
	if (v == NULL)
		return NULL;
	v->val = yscalar_text(y, l->text, l->lineno);
	y->i++;
	return v->val ? v : NULL;
}

static struct ynode *yget(const struct ynode *map, const char *key)
{
	if (map == NULL || map->type != Y_MAP)
		return NULL;
	for (struct ynode *e = map->child; e; e = e->next)
		if (strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

static const char *ystr(const struct ynode *map, const char *key)
{
	const struct ynode *v = yget(map, key);

	return v != NULL && v->type == Y_SCALAR ? v->val : NULL;
}

/* The item of a named list (clusters, users, contexts) whose name is name. */
static const struct ynode *ynamed(const struct ynode *root, const char *list,
				  const char *name, const char *field)
{
	const struct ynode *seq = yget(root, list);

	if (seq == NULL || seq->type != Y_SEQ)
		return NULL;
	for (const struct ynode *it = seq->child; it; it = it->next) {
		const char *n = ystr(it, "name");

		if (n != NULL && strcmp(n, name) == 0)
			return yget(it, field);
	}
	return NULL;
}

/* ---- kubeconfig ---------------------------------------------------------------- */

void scr_kubeconfig_free(struct scr_kubeconfig *kc)
{
	blob_free(&kc->ca);
	blob_free(&kc->cert);
	blob_free(&kc->key);
	free(kc->token);
	free(kc->basic);
	memset(kc, 0, sizeof(*kc));
}

/* A path of the kubeconfig, relative to its directory unless absolute. */
static int kc_path(const char *kcpath, const char *p, char *out, size_t cap)
{
	const char *slash = strrchr(kcpath, '/');
	int n;

	if (p[0] == '/' || slash == NULL)
		n = snprintf(out, cap, "%s", p);
	else
		n = snprintf(out, cap, "%.*s/%s", (int)(slash - kcpath), kcpath, p);
	return n > 0 && (size_t)n < cap ? 0 : HC_ERR_TOOBIG;
}

/* file (path field) or data (base64 field) of a map into out. */
static int kc_blob(const char *kcpath, const struct ynode *m, const char *file_key,
		   const char *data_key, struct scr_blob *out, char *err, size_t errcap)
{
	const char *data = ystr(m, data_key), *file = ystr(m, file_key);
	char path[1024];
	int rc;

	if (data != NULL && *data) {
		rc = scr_base64_decode(data, strlen(data), out);
		if (rc != 0)
			snprintf(err, errcap, "%s is not base64", data_key);
		return rc == 0 ? 0 : HC_ERR_CONFIG;
	}
	if (file == NULL || *file == '\0')
		return 0;
	if (kc_path(kcpath, file, path, sizeof(path)) != 0 ||
	    (rc = read_file(path, out)) != 0) {
		snprintf(err, errcap, "%s %s: cannot read it", file_key, file);
		return HC_ERR_CONFIG;
	}
	return 0;
}

int scr_kubeconfig_load(const char *path, struct scr_kubeconfig *kc, char *err,
			size_t errcap)
{
	struct yparser y;
	struct scr_blob text = { NULL, 0 };
	const struct ynode *root, *ctx, *cluster, *user;
	const char *cur, *cname, *uname, *v;
	int rc = HC_ERR_CONFIG;

	memset(kc, 0, sizeof(*kc));
	memset(&y, 0, sizeof(y));
	err[0] = '\0';
	y.err = err;
	y.errcap = errcap;
	hc_arena_init(&y.arena, 16 * 1024);
	if (read_file(path, &text) != 0) {
		snprintf(err, errcap, "cannot read the file");
		goto free_parser;
	}
	if (text.p[strspn(text.p, " \t\r\n")] == '{') {
		snprintf(err, errcap, "JSON kubeconfigs are not supported: write it as YAML");
		goto free_parser;
	}
	if (ysplit(&y, text.p) != 0)
		goto free_parser;
	root = yblock(&y, 0);
	if (root == NULL || y.i < y.n) {
		if (err[0] == '\0')
			yerr(&y, y.i < y.n ? y.lines[y.i].lineno : 0, "does not parse");
		goto free_parser;
	}
	cur = ystr(root, "current-context");
	if (cur == NULL || *cur == '\0') {
		snprintf(err, errcap, "no current-context");
		goto free_parser;
	}
	ctx = ynamed(root, "contexts", cur, "context");
	cname = ystr(ctx, "cluster");
	uname = ystr(ctx, "user");
	if (ctx == NULL || cname == NULL) {
		snprintf(err, errcap, "context '%s' not found or has no cluster", cur);
		goto free_parser;
	}
	cluster = ynamed(root, "clusters", cname, "cluster");
	if (cluster == NULL || (v = ystr(cluster, "server")) == NULL || *v == '\0') {
		snprintf(err, errcap, "cluster '%s' not found or has no server", cname);
		goto free_parser;
	}
	if (strlen(v) >= sizeof(kc->server)) {
		snprintf(err, errcap, "server URL too long");
		goto free_parser;
	}
	strcpy(kc->server, v);
	v = ystr(cluster, "insecure-skip-tls-verify");
	kc->insecure = v != NULL && strcmp(v, "true") == 0;
	if (kc_blob(path, cluster, "certificate-authority", "certificate-authority-data",
		    &kc->ca, err, errcap) != 0)
		goto free_parser;
	user = uname ? ynamed(root, "users", uname, "user") : NULL;
	if (uname != NULL && *uname && user == NULL) {
		snprintf(err, errcap, "user '%s' not found", uname);
		goto free_parser;
	}
	if (yget(user, "exec") || yget(user, "auth-provider")) {
		snprintf(err, errcap, "user '%s': exec and auth-provider plugins are not supported "
			 "(use a token, tokenFile or client certificate)", uname);
		goto free_parser;
	}
	if (kc_blob(path, user, "client-certificate", "client-certificate-data", &kc->cert,
		    err, errcap) != 0 ||
	    kc_blob(path, user, "client-key", "client-key-data", &kc->key, err, errcap) != 0)
		goto free_parser;
	if ((v = ystr(user, "token")) != NULL && *v) {
		kc->token = strdup(v);
		if (kc->token == NULL)
			goto free_parser;
	}
	if ((v = ystr(user, "tokenFile")) != NULL && *v &&
	    kc_path(path, v, kc->token_file, sizeof(kc->token_file)) != 0) {
		snprintf(err, errcap, "tokenFile path too long");
		goto free_parser;
	}
	if ((v = ystr(user, "username")) != NULL && *v) {
		const char *pw = ystr(user, "password");

		if (asprintf(&kc->basic, "%s:%s", v, pw ? pw : "") < 0) {
			kc->basic = NULL;
			goto free_parser;
		}
	}
	rc = 0;

free_parser:
	if (rc != 0 && err[0] == '\0')
		snprintf(err, errcap, "out of memory");
	if (rc != 0)
		scr_kubeconfig_free(kc);
	free(y.lines);
	hc_arena_free(&y.arena);
	blob_free(&text);
	return rc;
}

/* ---- credentials ---------------------------------------------------------------- */

void scr_creds_free(struct scr_creds *cr)
{
	blob_free(&cr->ca);
	blob_free(&cr->cert);
	blob_free(&cr->key);
	free(cr->token);
	free(cr->basic);
	memset(cr, 0, sizeof(*cr));
}

/* Reads a token file: trimmed, non-empty.  0, 1 if it changed, or a code. */
static int read_token(const char *path, char **token)
{
	struct scr_blob b;
	size_t n;
	int rc = read_file(path, &b);

	if (rc != 0)
		return rc;
	n = b.len;
	while (n > 0 && (b.p[n - 1] == '\n' || b.p[n - 1] == '\r' || b.p[n - 1] == ' '))
		n--;
	b.p[n] = '\0';
	if (n == 0) {
		blob_free(&b);
		return HC_ERR_PARSE;
	}
	if (*token != NULL && strcmp(*token, b.p) == 0) {
		blob_free(&b);
		return 0;
	}
	free(*token);
	*token = b.p;
	return 1;
}

int scr_creds_refresh(struct scr_creds *cr)
{
	int rc;

	if (cr->token_file[0] == '\0')
		return 0;
	rc = read_token(cr->token_file, &cr->token);
	if (rc < 0)
		hc_warn("token file %s: %s; keeping the previous token", cr->token_file,
			hc_strerror(rc));
	return rc;
}

static const char *sa_dir(void)
{
	const char *d = getenv(SCR_SA_DIR_ENV);

	return d != NULL && *d ? d : SCR_SA_DIR;
}

int scr_creds_load(const struct scr_config *cfg, struct scr_creds *cr)
{
	char path[1024], err[256];
	const char *dir = sa_dir();
	int rc;

	memset(cr, 0, sizeof(*cr));
	cr->insecure = cfg->insecure;
	cr->kubelet_https = cfg->kubelet_https;
	cr->kubelet_insecure = cfg->kubelet_insecure;
	snprintf(cr->server, sizeof(cr->server), "%s", cfg->api_url);
	if (cfg->in_cluster) {
		const char *host = getenv("KUBERNETES_SERVICE_HOST");
		const char *port = getenv("KUBERNETES_SERVICE_PORT");

		snprintf(cr->token_file, sizeof(cr->token_file), "%s/token", dir);
		rc = read_token(cr->token_file, &cr->token);
		if (rc < 0) {
			hc_error("--source: inClusterConfig=true (the default): service account token "
				 "%s: %s; outside a cluster pass inClusterConfig=false with the API "
				 "server URL, or auth=KUBECONFIG", cr->token_file, hc_strerror(rc));
			return HC_ERR_CONFIG;
		}
		snprintf(path, sizeof(path), "%s/ca.crt", dir);
		rc = read_file(path, &cr->ca);
		if (rc != 0 && !cr->insecure) {
			hc_error("--source: inClusterConfig=true: CA %s: %s (or insecure=true)",
				 path, hc_strerror(rc));
			return HC_ERR_CONFIG;
		}
		if (cr->server[0] == '\0') {
			if (host == NULL || *host == '\0') {
				hc_error("--source: inClusterConfig=true: KUBERNETES_SERVICE_HOST is "
					 "unset and --source has no URL");
				return HC_ERR_CONFIG;
			}
			snprintf(cr->server, sizeof(cr->server),
				 strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s", host,
				 port && *port ? port : "443");
		}
	} else if (cfg->auth[0]) {
		struct scr_kubeconfig kc;

		if (scr_kubeconfig_load(cfg->auth, &kc, err, sizeof(err)) != 0) {
			hc_error("--source: auth=%s: %s", cfg->auth, err);
			return HC_ERR_CONFIG;
		}
		if (cr->server[0] == '\0')
			memcpy(cr->server, kc.server, sizeof(cr->server));
		cr->ca = kc.ca;
		cr->cert = kc.cert;
		cr->key = kc.key;
		cr->token = kc.token;
		cr->basic = kc.basic;
		cr->insecure |= kc.insecure;
		memcpy(cr->token_file, kc.token_file, sizeof(cr->token_file));
		memset(&kc, 0, sizeof(kc));    /* its buffers now belong to cr */
		if (cr->token_file[0] && (rc = read_token(cr->token_file, &cr->token)) < 0) {
			hc_error("--source: auth=%s: tokenFile %s: %s", cfg->auth, cr->token_file,
				 hc_strerror(rc));
			return HC_ERR_CONFIG;
		}
	}
	if (cfg->use_service_account && !cfg->in_cluster) {
		/* Heapster: the service account token, if one is readable */
		snprintf(path, sizeof(path), "%s/token", dir);
		if (read_token(path, &cr->token) >= 0)
			snprintf(cr->token_file, sizeof(cr->token_file), "%s", path);
		else
			hc_warn("--source: useServiceAccount=true but %s is not readable: no token",
				path);
	}
	if ((cr->cert.len > 0) != (cr->key.len > 0)) {
		hc_error("--source: a client certificate needs its key (and a key its certificate)");
		return HC_ERR_CONFIG;
	}
	if (cr->server[0] == '\0') {
		hc_error("--source: no API server URL: pass kubernetes.summary_api:https://HOST:PORT, "
			 "inClusterConfig=true in a pod, or auth=KUBECONFIG");
		return HC_ERR_CONFIG;
	}
	if (strncmp(cr->server, "http://", 7) != 0 && strncmp(cr->server, "https://", 8) != 0) {
		hc_error("--source: API server '%s' is not an http:// or https:// URL", cr->server);
		return HC_ERR_CONFIG;
	}
	while (cr->server[0] && cr->server[strlen(cr->server) - 1] == '/')
		cr->server[strlen(cr->server) - 1] = '\0';
	return 0;
}

/* TLS material common to the API server and kubelets. */
static void apply_tls(const struct scr_creds *cr, CURL *h, int insecure)
{
	if (cr->ca.len > 0) {
		struct curl_blob b = { cr->ca.p, cr->ca.len, CURL_BLOB_COPY };

		/* only the cluster's CA is trusted, not the system's */
		curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &b);
		curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
	}
	if (cr->cert.len > 0) {
		struct curl_blob c = { cr->cert.p, cr->cert.len, CURL_BLOB_COPY };
		struct curl_blob k = { cr->key.p, cr->key.len, CURL_BLOB_COPY };

		curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &c);
		curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
		curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &k);
		curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
	}
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, insecure ? 0L : 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, insecure ? 0L : 2L);
}

static void apply_auth(const struct scr_creds *cr, CURL *h)
{
	if (cr->token != NULL) {
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
		curl_easy_setopt(h, CURLOPT_XOAUTH2_BEARER, cr->token);
	} else if (cr->basic != NULL) {
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(h, CURLOPT_USERPWD, cr->basic);
	}
}

void scr_creds_apply_api(const struct scr_creds *cr, void *curl)
{
	apply_tls(cr, curl, cr->insecure);
	apply_auth(cr, curl);
}

void scr_creds_apply_kubelet(const struct scr_creds *cr, void *curl)
{
	if (!cr->kubelet_https) {
		curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http");
		return;         /* no token over plain http */
	}
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
	apply_tls(cr, curl, cr->insecure || cr->kubelet_insecure);
	apply_auth(cr, curl);
}
