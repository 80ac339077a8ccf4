/*
 * api_auth.c - client certificates: who may read the API when the
 * launcher got --tls_client_ca (REFERENCE §5).
 *
 * Our kore (patched, apiserver/kore/) verifies a client certificate during
 * the TLS handshake against the client CA; `client_verify_optional yes`
 * lets a client without one complete the handshake, so that /healthz,
 * /readyz and /livez stay open to probes (a kubelet's httpGet probe sends
 * no certificate).  Every other route names the `client_cert`
 * authentication block of heapster-api.conf.in, which makes Kore call
 * api_auth_client() before the handler.  As Heapster's auth filter does,
 * a request without a certificate gets 401 "Unauthorized" and one whose
 * certificate's CN is not in --allowed_users (HEAPSTER_ALLOWED_USERS,
 * empty: any CN) gets 403 "Forbidden".  A certificate the CA did not sign
 * never gets this far: the handshake fails (Heapster answered 500).
 *
 * Whether certificates are required is read from the domain Kore matched
 * (its client CA), not from a flag of our own, so the check cannot be off
 * while Kore verifies certificates: it lets everything through only on a
 * plain HTTP or server-only TLS listener, where every route is open, as in
 * Heapster.
 */
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/crypto.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "hc.h"
#include "log.h"
#include "api.h"

#define API_CN_MAX 256   /* RFC 5280 bounds a CN at 64 characters */

/*
 * The user a certificate names: its subject's CN (the last one if there
 * are several, as Go's x509 reads it), as UTF-8.  0, HC_ERR_NOTFOUND (no
 * or an empty CN), HC_ERR_PARSE (undecodable or holding a NUL),
 * HC_ERR_TOOBIG.
 */
static int api_auth_cn(X509 *cert, char *out, size_t cap)
{
	X509_NAME *name = X509_get_subject_name(cert);
	unsigned char *utf8 = NULL;
	int i = -1, last = -1, n, rc = 0;

	if (name == NULL)
		return HC_ERR_NOTFOUND;
	while ((i = X509_NAME_get_index_by_NID(name, NID_commonName, i)) >= 0)
		last = i;
	if (last < 0)
		return HC_ERR_NOTFOUND;
	n = ASN1_STRING_to_UTF8(&utf8,
		X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, last)));
	if (n < 0)
		return HC_ERR_PARSE;
	if (n == 0) {
		rc = HC_ERR_NOTFOUND;
		goto free_utf8;
	}
	if (memchr(utf8, '\0', (size_t)n) != NULL) {
		rc = HC_ERR_PARSE;
		goto free_utf8;
	}
	if ((size_t)n >= cap) {
		rc = HC_ERR_TOOBIG;
		goto free_utf8;
	}
	memcpy(out, utf8, (size_t)n);
	out[n] = '\0';
free_utf8:
	OPENSSL_free(utf8);
	return rc;
}

/*
 * Kore's validator for the `client_cert` authentication block (type
 * "request": it answers a refused request itself).  KORE_RESULT_OK lets
 * the route's handler run.
 */
int api_auth_client(struct http_request *req, const void *data)
{
	static struct hc_ratelimit rl = HC_RATELIMIT_INIT(60000, 5);
	char cn[API_CN_MAX];
	int rc;

	(void)data;
	if (req->hdlr->dom->cafile == NULL)
		return KORE_RESULT_OK;   /* no client CA: nothing to check */
	if (req->owner->cert == NULL) {
		api_text(req, 401, "Unauthorized\n");
		return KORE_RESULT_ERROR;
	}
	rc = api_auth_cn(req->owner->cert, cn, sizeof(cn));
	if (rc != 0) {
		/* Heapster: a certificate without a usable CN names no user */
		if (hc_ratelimit_ok(&rl))
			hc_warn("client certificate without a usable CN: %s",
				hc_strerror(rc));
		api_text(req, 401, "Unauthorized\n");
		return KORE_RESULT_ERROR;
	}
	if (!api_user_allowed(api_w.allowed_users, cn, strlen(cn))) {
		if (hc_ratelimit_ok(&rl))
			hc_warn("client CN \"%s\" is not in --allowed_users", cn);
		api_text(req, 403, "Forbidden\n");
		return KORE_RESULT_ERROR;
	}
	return KORE_RESULT_OK;
}
