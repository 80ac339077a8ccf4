/*
 * sim_tls.c - TLS and authentication (prefixes tls_, auth_).
 *
 * --tls-cert/--tls-key turn both listeners into https.  One server SSL_CTX
 * holds that certificate; the API server always presents it.  A kubelet
 * presents it too, unless --tls-ca-cert/--tls-ca-key are given: then the
 * kubelet at 127.0.x.y presents its own certificate, minted on the first
 * connection to that address and cached (CN=system:node:sim-node-<i>,
 * O=system:nodes, SAN IP:127.0.x.y and DNS:sim-node-<i>, signed by that CA,
 * one shared P-256 key), which is how real kubelet serving certificates
 * look.  Either way a client verifying against the CA and the address it
 * dialled succeeds, without resolve overrides.
 *
 * --client-ca requests a client certificate (SSL_VERIFY_PEER, but the
 * handshake never fails on it): the verification result is kept on the
 * connection and checked per request, so a missing or bad certificate gets
 * an HTTP 401, as from a real API server, rather than a TLS alert.
 * --token requires "Authorization: Bearer <token>".  With both, either one
 * authenticates.  Public paths: /sim/..., /healthz, /livez, /readyz and
 * /version on the API port, /healthz on kubelets.
 *
 * I/O is non-blocking: tls_send/tls_recv/tls_handshake return -EAGAIN (or
 * 0 for the handshake) on SSL_ERROR_WANT_READ/WANT_WRITE; the event loop
 * registers both directions edge-triggered and retries on any readiness.
 * Writes use SSL_MODE_ENABLE_PARTIAL_WRITE | ACCEPT_MOVING_WRITE_BUFFER, so
 * a retry may pass a longer buffer at another address.
 */
#include "sim.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

static SSL_CTX *g_srv;
static X509 *g_ca_cert;
static EVP_PKEY *g_ca_key, *g_node_key;
static X509 **g_node_cert; /* [SIM_MAX_NODES], minted on first use */
static uint64_t g_serial0;

bool tls_on(void) { return g_srv != NULL; }
bool auth_on(void) { return sim->o.client_ca || sim->o.token; }

static int tls_fail(const char *what, const char *file)
{
    unsigned long e = ERR_get_error();
    char buf[256];

    ERR_error_string_n(e, buf, sizeof(buf));
    fprintf(stderr, "heapster-sim: %s%s%s: %s\n", what, file ? " " : "", file ? file : "",
            e ? buf : "failed");
    ERR_clear_error();
    return -1;
}

static int alpn_select(SSL *s, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
    (void)s;
    (void)arg;
    /* HTTP/1.1 only: clients offering h2 fall back to it */
    for (unsigned int k = 0; k < inlen; k += 1u + in[k])
        if (in[k] == 8 && k + 9 <= inlen && memcmp(in + k + 1, "http/1.1", 8) == 0) {
            *out = in + k + 1;
            *outlen = 8;
            return SSL_TLSEXT_ERR_OK;
        }
    return SSL_TLSEXT_ERR_NOACK;
}

/* Accept any client certificate at the TLS level; the verification result
 * (SSL_get_verify_result) decides per request. */
static int verify_keep_going(int ok, X509_STORE_CTX *x)
{
    (void)ok;
    (void)x;
    return 1;
}

static void warn_uncovered(void)
{
    X509 *cert = SSL_CTX_get0_certificate(g_srv);
    char ip[32];
    uint32_t last = sim->o.nodes ? sim->o.nodes - 1 : 0;

    if (sim->o.quiet || !cert)
        return;
    if (X509_check_ip_asc(cert, "127.0.0.1", 0) != 1)
        fprintf(stderr, "heapster-sim: warning: %s has no IP SAN 127.0.0.1; clients verifying the "
                        "API server will fail\n", sim->o.tls_cert);
    if (g_ca_key || !sim->o.nodes)
        return;
    *model_node_ip(ip, last) = 0;
    if (X509_check_ip_asc(cert, ip, 0) != 1)
        fprintf(stderr, "heapster-sim: warning: %s does not cover kubelet address %s (sim-node-%u); "
                        "clients verifying kubelets fail there: give --tls-ca-cert/--tls-ca-key to "
                        "mint per-node certificates\n", sim->o.tls_cert, ip, last);
}

int tls_init(void)
{
    const sim_opts *o = &sim->o;

    if (!o->tls_cert && !o->tls_key) {
        if (o->client_ca || o->tls_ca_cert || o->tls_ca_key) {
            fprintf(stderr, "heapster-sim: --client-ca and --tls-ca-* need --tls-cert and --tls-key\n");
            return -1;
        }
        return 0;
    }
    if (!o->tls_cert || !o->tls_key) {
        fprintf(stderr, "heapster-sim: --tls-cert and --tls-key go together\n");
        return -1;
    }
    if (!o->tls_ca_cert != !o->tls_ca_key) {
        fprintf(stderr, "heapster-sim: --tls-ca-cert and --tls-ca-key go together\n");
        return -1;
    }
    g_srv = SSL_CTX_new(TLS_server_method());
    if (!g_srv)
        return tls_fail("SSL_CTX_new", NULL);
    SSL_CTX_set_min_proto_version(g_srv, TLS1_2_VERSION);
    SSL_CTX_set_mode(g_srv, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_options(g_srv, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_session_id_context(g_srv, (const unsigned char *)"heapster-sim", 12);
    SSL_CTX_set_alpn_select_cb(g_srv, alpn_select, NULL);
    if (SSL_CTX_use_certificate_chain_file(g_srv, o->tls_cert) != 1)
        return tls_fail("cannot load certificate", o->tls_cert);
    if (SSL_CTX_use_PrivateKey_file(g_srv, o->tls_key, SSL_FILETYPE_PEM) != 1)
        return tls_fail("cannot load key", o->tls_key);
    if (SSL_CTX_check_private_key(g_srv) != 1)
        return tls_fail("key does not match certificate", o->tls_key);
    if (o->client_ca) {
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(o->client_ca);
        if (!names || SSL_CTX_load_verify_locations(g_srv, o->client_ca, NULL) != 1)
            return tls_fail("cannot load client CA", o->client_ca);
        SSL_CTX_set_client_CA_list(g_srv, names);
        SSL_CTX_set_verify(g_srv, SSL_VERIFY_PEER, verify_keep_going);
        SSL_CTX_set_verify_depth(g_srv, 4);
    }
    if (o->tls_ca_cert) {
        FILE *f = fopen(o->tls_ca_cert, "r");
        if (!f || !(g_ca_cert = PEM_read_X509(f, NULL, NULL, NULL))) {
            if (f)
                fclose(f);
            return tls_fail("cannot load CA certificate", o->tls_ca_cert);
        }
        fclose(f);
        f = fopen(o->tls_ca_key, "r");
        if (!f || !(g_ca_key = PEM_read_PrivateKey(f, NULL, NULL, NULL))) {
            if (f)
                fclose(f);
            return tls_fail("cannot load CA key", o->tls_ca_key);
        }
        fclose(f);
        if (X509_check_private_key(g_ca_cert, g_ca_key) != 1)
            return tls_fail("CA key does not match", o->tls_ca_cert);
        g_node_key = EVP_EC_gen("P-256");
        g_node_cert = calloc(SIM_MAX_NODES, sizeof(*g_node_cert));
        if (!g_node_key || !g_node_cert)
            return tls_fail("cannot make the kubelet key", NULL);
        g_serial0 = (uint64_t)time(NULL) << 20;
    }
    warn_uncovered();
    return 0;
}

void tls_free(void)
{
    if (g_node_cert)
        for (uint32_t i = 0; i < SIM_MAX_NODES; i++)
            X509_free(g_node_cert[i]);
    free(g_node_cert);
    g_node_cert = NULL;
    EVP_PKEY_free(g_node_key);
    EVP_PKEY_free(g_ca_key);
    X509_free(g_ca_cert);
    SSL_CTX_free(g_srv);
    g_node_key = g_ca_key = NULL;
    g_ca_cert = NULL;
    g_srv = NULL;
}

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    int ok = e && X509_add_ext(x, e, -1) == 1;

    X509_EXTENSION_free(e);
    return ok ? 0 : -1;
}

/* The serving certificate of the kubelet of node i (minted once). */
static X509 *node_cert(uint32_t i)
{
    X509 *x;
    X509_NAME *nm;
    X509V3_CTX v3;
    char name[48], ip[32], san[128], cn[64];

    if (g_node_cert[i])
        return g_node_cert[i];
    *model_node_name(name, i) = 0;
    *model_node_ip(ip, i) = 0;
    snprintf(san, sizeof(san), "IP:%s,DNS:%s", ip, name);
    snprintf(cn, sizeof(cn), "system:node:%s", name);
    x = X509_new();
    nm = X509_NAME_new();
    if (!x || !nm)
        goto fail;
    X509_set_version(x, 2);
    ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), g_serial0 + i + 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 365L * 86400);
    X509_set_pubkey(x, g_node_key);
    X509_NAME_add_entry_by_txt(nm, "O", MBSTRING_ASC, (const unsigned char *)"system:nodes", -1, -1, 0);
    X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_subject_name(x, nm);
    X509_set_issuer_name(x, X509_get_subject_name(g_ca_cert));
    X509V3_set_ctx(&v3, g_ca_cert, x, NULL, NULL, 0);
    if (add_ext(x, &v3, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
        add_ext(x, &v3, NID_key_usage, "critical,digitalSignature,keyEncipherment") < 0 ||
        add_ext(x, &v3, NID_ext_key_usage, "serverAuth") < 0 ||
        add_ext(x, &v3, NID_subject_key_identifier, "hash") < 0 ||
        add_ext(x, &v3, NID_authority_key_identifier, "keyid:always") < 0 ||
        add_ext(x, &v3, NID_subject_alt_name, san) < 0 ||
        X509_sign(x, g_ca_key, EVP_sha256()) <= 0)
        goto fail;
    X509_NAME_free(nm);
    g_node_cert[i] = x;
    return x;
fail:
    tls_fail("cannot mint the kubelet certificate of", name);
    X509_NAME_free(nm);
    X509_free(x);
    return NULL;
}

int tls_server_new(http_conn *c)
{
    SSL *s = SSL_new(g_srv);

    if (!s)
        return -ENOMEM;
    if (c->listener == LST_KUBELET && g_node_cert && c->node >= 0) {
        X509 *x = node_cert((uint32_t)c->node);
        if (!x || SSL_use_certificate(s, x) != 1 || SSL_use_PrivateKey(s, g_node_key) != 1) {
            ERR_clear_error();
            SSL_free(s);
            return -EIO;
        }
    }
    SSL_set_fd(s, c->fd);
    SSL_set_accept_state(s);
    c->ssl = s;
    return 0;
}

struct ssl_ctx_st *tls_client_ctx(const char *ca_file, bool insecure)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

    if (!ctx) {
        tls_fail("SSL_CTX_new", NULL);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    if (insecure) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    } else {
        if ((ca_file && SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) ||
            (!ca_file && SSL_CTX_set_default_verify_paths(ctx) != 1)) {
            tls_fail("cannot load backend CA", ca_file);
            SSL_CTX_free(ctx);
            return NULL;
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    }
    return ctx;
}

void tls_client_ctx_free(struct ssl_ctx_st *ctx) { SSL_CTX_free(ctx); }

int tls_client_new(http_conn *c, struct ssl_ctx_st *ctx, const char *host, bool verify)
{
    SSL *s = SSL_new(ctx);
    unsigned char tmp[16];
    bool is_ip = inet_pton(AF_INET, host, tmp) == 1 || inet_pton(AF_INET6, host, tmp) == 1;

    if (!s)
        return -ENOMEM;
    if (!is_ip)
        SSL_set_tlsext_host_name(s, host);
    if (verify) {
        X509_VERIFY_PARAM *vp = SSL_get0_param(s);
        if ((is_ip ? X509_VERIFY_PARAM_set1_ip_asc(vp, host) : X509_VERIFY_PARAM_set1_host(vp, host, 0)) != 1) {
            ERR_clear_error();
            SSL_free(s);
            return -EINVAL;
        }
    }
    SSL_set_fd(s, c->fd);
    SSL_set_connect_state(s);
    c->ssl = s;
    return 0;
}

int tls_handshake(http_conn *c)
{
    int r, e;

    ERR_clear_error();
    r = SSL_do_handshake(c->ssl);
    if (r == 1) {
        c->tls_ok = true;
        if (SSL_is_server(c->ssl) && sim->o.client_ca)
            c->cert_ok = SSL_get0_peer_certificate(c->ssl) != NULL &&
                         SSL_get_verify_result(c->ssl) == X509_V_OK;
        return 1;
    }
    e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return 0;
    ERR_clear_error();
    return -1;
}

ssize_t tls_send(http_conn *c, const void *buf, size_t n)
{
    int w, e;

    if (n > INT_MAX)
        n = (size_t)1 << 30;
    ERR_clear_error();
    w = SSL_write(c->ssl, buf, (int)n);
    if (w > 0)
        return w;
    e = SSL_get_error(c->ssl, w);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return -EAGAIN;
    ERR_clear_error();
    return -EPIPE;
}

ssize_t tls_recv(http_conn *c, void *buf, size_t n)
{
    int r, e;

    if (n > INT_MAX)
        n = (size_t)1 << 30;
    ERR_clear_error();
    r = SSL_read(c->ssl, buf, (int)n);
    if (r > 0)
        return r;
    e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return -EAGAIN;
    ERR_clear_error();
    if (e == SSL_ERROR_ZERO_RETURN)
        return 0;
    return -EIO;
}

void tls_close(http_conn *c)
{
    if (c->tls_ok && !c->rst) {
        ERR_clear_error();
        SSL_shutdown(c->ssl); /* best effort close_notify, never waits */
    }
    ERR_clear_error();
    SSL_free(c->ssl);
    c->ssl = NULL;
}

/* ------------------------------------------------------------------ auth */

static bool public_path(const http_conn *c, const http_req *r)
{
    if (c->listener == LST_KUBELET)
        return http_path_is(r, "/healthz");
    if (r->path_len >= 4 && memcmp(r->path, "/sim", 4) == 0 && (r->path_len == 4 || r->path[4] == '/'))
        return true;
    return http_path_is(r, "/healthz") || http_path_is(r, "/livez") || http_path_is(r, "/readyz") ||
           http_path_is(r, "/version") || http_path_is(r, "/version/");
}

static bool token_ok(const http_req *r)
{
    const char *v;
    size_t vl, tl = strlen(sim->o.token);

    if (!http_header(r, "Authorization", &v, &vl) || vl != 7 + tl || strncasecmp(v, "Bearer ", 7) != 0)
        return false;
    return CRYPTO_memcmp(v + 7, sim->o.token, tl) == 0;
}

bool auth_check(http_conn *c, const http_req *r)
{
    if (!auth_on() || public_path(c, r))
        return true;
    if (c->cert_ok || (sim->o.token && token_ok(r)))
        return true;
    sim->st.unauthorized++;
    if (c->listener == LST_KUBELET)
        http_send_simple(c, 401, "text/plain; charset=utf-8", "Unauthorized\n", 13);
    else
        api_status(c, 401, "Unauthorized", "Unauthorized");
    return false;
}
