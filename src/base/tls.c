/*
 * tls.c - OpenSSL server contexts, self-signed certificate generation,
 * connection descriptions, blocking client connections for the probe, and
 * the checks of outbound delivery connections (trust store, host name,
 * DANE). The only file that uses the SSL API.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "base/tls.h"
#include "lib/util.h"

struct tls_ctx {
	SSL_CTX *ctx;
	int client;
	int refs;		/* tls_ref/tls_free; atomic */
	struct tls_info info;	/* server contexts: the certificate's facts */
};

void
tls_init(void)
{
	OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS | OPENSSL_INIT_LOAD_CRYPTO_STRINGS, NULL);
}

void
tls_last_error(char *out, size_t outsz)
{
	unsigned long e = ERR_get_error();

	if (e == 0)
		util_strlcpy(out, "unknown error", outsz);
	else
		ERR_error_string_n(e, out, outsz);
	ERR_clear_error();
}

void
tls_error_string(unsigned long e, char *out, size_t outsz)
{
	ERR_error_string_n(e, out, outsz);
}

/* use_chain - the first certificate of pem as ours, the rest as its chain. */
static int
use_chain(SSL_CTX *ctx, const char *pem, size_t len)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	X509 *x;
	int ok = 0;

	if (bio == NULL || (x = PEM_read_bio_X509_AUX(bio, NULL, NULL, NULL)) == NULL)
		goto done;
	ok = SSL_CTX_use_certificate(ctx, x) == 1;
	X509_free(x);
	SSL_CTX_clear_chain_certs(ctx);
	while (ok && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
		if (SSL_CTX_add0_chain_cert(ctx, x) != 1) {
			X509_free(x);
			ok = 0;
		}
	if (ok)
		ERR_clear_error();	/* the end of the chain reads as an error */
done:
	BIO_free(bio);
	return ok;
}

static int
use_key(SSL_CTX *ctx, const char *pem, size_t len)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *pk = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	int ok = pk != NULL && SSL_CTX_use_PrivateKey(ctx, pk) == 1 &&
	    SSL_CTX_check_private_key(ctx) == 1;

	EVP_PKEY_free(pk);
	BIO_free(bio);
	return ok;
}

/* describe_cert - expiry and subject of the context's certificate, for status. */
static void
describe_cert(struct tls_ctx *t)
{
	X509 *x = SSL_CTX_get0_certificate(t->ctx);
	const ASN1_INTEGER *serial;
	struct tm tm;
	BIGNUM *bn;
	char *hex;

	if (x == NULL)
		return;
	if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1)
		t->info.not_after = (int64_t)timegm(&tm);
	X509_NAME_oneline(X509_get_subject_name(x), t->info.subject, sizeof(t->info.subject));
	serial = X509_get0_serialNumber(x);
	if ((bn = ASN1_INTEGER_to_BN(serial, NULL)) != NULL && (hex = BN_bn2hex(bn)) != NULL) {
		util_strlcpy(t->info.serial, hex, sizeof(t->info.serial));
		OPENSSL_free(hex);
	}
	BN_free(bn);
}

struct tls_ctx *
tls_server_new_pem(const char *cert, size_t certlen, const char *key, size_t keylen,
    const char *certname, const char *keyname, char *err, size_t errsz)
{
	struct tls_ctx *t = xcalloc(1, sizeof(*t));
	char why[256];

	t->refs = 1;
	if (certlen > INT_MAX || keylen > INT_MAX)
		panic("tls_server_new_pem: %zu/%zu bytes", certlen, keylen);
	if ((t->ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		goto fail;
	SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(t->ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
	    SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_mode(t->ctx, SSL_MODE_RELEASE_BUFFERS);
	if (!use_chain(t->ctx, cert, certlen)) {
		tls_last_error(why, sizeof(why));
		snprintf(err, errsz, "cannot load certificate %s: %s", certname, why);
		goto out;
	}
	if (!use_key(t->ctx, key, keylen)) {
		tls_last_error(why, sizeof(why));
		snprintf(err, errsz, "cannot load private key %s (or it does not match %s): %s",
		    keyname, certname, why);
		goto out;
	}
	describe_cert(t);
	return t;
fail:
	tls_last_error(why, sizeof(why));
	snprintf(err, errsz, "cannot create TLS context: %s", why);
out:
	tls_free(t);
	return NULL;
}

struct tls_ctx *
tls_server_new(const char *cert, const char *key, char *err, size_t errsz)
{
	struct tls_ctx *t = NULL;
	char *cpem, *kpem = NULL;
	size_t clen, klen;

	if ((cpem = util_read_file(cert, TLS_PEM_MAX, &clen)) == NULL) {
		snprintf(err, errsz, "cannot read certificate %s: %s", cert, strerror(errno));
		return NULL;
	}
	if ((kpem = util_read_file(key, TLS_PEM_MAX, &klen)) == NULL)
		snprintf(err, errsz, "cannot read private key %s: %s", key, strerror(errno));
	else
		t = tls_server_new_pem(cpem, clen, kpem, klen, cert, key, err, errsz);
	free(cpem);
	if (kpem != NULL) {
		explicit_bzero(kpem, klen);
		free(kpem);
	}
	return t;
}

struct tls_ctx *
tls_ref(struct tls_ctx *t)
{
	__atomic_add_fetch(&t->refs, 1, __ATOMIC_RELAXED);
	return t;
}

const struct tls_info *
tls_info(const struct tls_ctx *t)
{
	return &t->info;
}

void
tls_free(struct tls_ctx *t)
{
	if (t == NULL || __atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	SSL_CTX_free(t->ctx);
	free(t);
}

struct tls_ctx *
tls_client_new(char *err, size_t errsz)
{
	struct tls_ctx *t = xcalloc(1, sizeof(*t));
	char why[256];

	t->refs = 1;
	t->client = 1;
	if ((t->ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		tls_last_error(why, sizeof(why));
		snprintf(err, errsz, "cannot create TLS client context: %s", why);
		tls_free(t);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(t->ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_mode(t->ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_default_verify_paths(t->ctx);
	SSL_CTX_set_verify(t->ctx, SSL_VERIFY_NONE, NULL);	/* judged after the handshake */
	if (SSL_CTX_dane_enable(t->ctx) <= 0) {
		tls_last_error(why, sizeof(why));
		snprintf(err, errsz, "cannot enable DANE in the TLS client context: %s", why);
		tls_free(t);
		return NULL;
	}
	return t;
}

int
tls_is_client(const struct tls_ctx *t)
{
	return t->client;
}

struct ssl_st *
tls_new_session(struct tls_ctx *t, const char *servername)
{
	SSL *ssl = SSL_new(t->ctx);

	if (ssl == NULL)
		panic("SSL_new failed");
	if (t->client && servername != NULL && *servername != '\0') {
		SSL_set_tlsext_host_name(ssl, servername);
		SSL_set1_host(ssl, servername);
	}
	return ssl;
}

int
tls_verified(struct ssl_st *ssl)
{
	return SSL_get0_peer_certificate(ssl) != NULL && SSL_get_verify_result(ssl) == X509_V_OK;
}

void
tls_describe(struct ssl_st *ssl, char *version, size_t vsz, char *cipher, size_t csz)
{
	util_strlcpy(version, SSL_get_version(ssl), vsz);
	util_strlcpy(cipher, SSL_CIPHER_get_name(SSL_get_current_cipher(ssl)), csz);
}

static const char *const level_names[] = {
	[TLS_LEVEL_NONE] = "none", [TLS_LEVEL_MAY] = "may", [TLS_LEVEL_ENCRYPT] = "encrypt",
	[TLS_LEVEL_VERIFY] = "verify", [TLS_LEVEL_DANE] = "dane",
};

const char *
tls_level_name(enum tls_level l)
{
	return level_names[l];
}

int
tls_level_parse(const char *s, enum tls_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum tls_level)i;
			return 0;
		}
	}
	return -1;
}

int
tls_tlsa_usable(const struct tls_tlsa *r)
{
	if (r->usage != 2 && r->usage != 3)
		return 0;	/* PKIX-TA(0), PKIX-EE(1): not for SMTP (RFC 7672 3.1.3) */
	if (r->selector > 1 || r->len == 0)
		return 0;
	switch (r->mtype) {
	case 0: return 1;
	case 1: return r->len == 32;
	case 2: return r->len == 64;
	default: return 0;
	}
}

int
tls_client_ca_file(struct tls_ctx *t, const char *file, char *err, size_t errsz)
{
	X509_STORE *store = X509_STORE_new();
	char why[256];

	if (store == NULL || X509_STORE_load_file(store, file) != 1) {
		tls_last_error(why, sizeof(why));
		snprintf(err, errsz, "cannot load CA certificates from %s: %s", file, why);
		X509_STORE_free(store);
		return -1;
	}
	SSL_CTX_set_cert_store(t->ctx, store);	/* replaces (and frees) the default store */
	return 0;
}

static bool
is_ip_literal(const char *host)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

/* add_tlsa - the usable records of p to ssl; how many were taken. */
static size_t
add_tlsa(SSL *ssl, const struct tls_expect *p)
{
	size_t n = 0;

	for (size_t i = 0; i < p->ntlsa; i++) {
		const struct tls_tlsa *r = &p->tlsa[i];

		if (tls_tlsa_usable(r) && SSL_dane_tlsa_add(ssl, r->usage, r->selector, r->mtype,
		    r->data, r->len) > 0)
			n++;
	}
	ERR_clear_error();	/* records OpenSSL refused leave errors behind */
	return n;
}

struct ssl_st *
tls_client_session(struct tls_ctx *t, const struct tls_expect *p)
{
	SSL *ssl = SSL_new(t->ctx);
	bool ip = is_ip_literal(p->host);

	if (ssl == NULL)
		panic("SSL_new failed");
	SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (ip) {
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), p->host);
		return ssl;
	}
	SSL_set_tlsext_host_name(ssl, p->host);
	if (p->ntlsa > 0) {
		if (SSL_dane_enable(ssl, p->host) <= 0)
			panic("SSL_dane_enable failed");
		SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
		/* with no usable record, PKIX applies to the name SSL_dane_enable set */
		add_tlsa(ssl, p);
		return ssl;
	}
	SSL_set1_host(ssl, p->host);
	return ssl;
}

static enum tls_check
check_of(long v)
{
	switch (v) {
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		return TLS_CHECK_HOST_MISMATCH;
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return TLS_CHECK_EXPIRED;
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_CERT_UNTRUSTED:
		return TLS_CHECK_UNTRUSTED;
	case X509_V_ERR_DANE_NO_MATCH:
		return TLS_CHECK_TLSA_MISMATCH;
	default:
		return TLS_CHECK_INVALID;
	}
}

enum tls_check
tls_peer_check(struct ssl_st *ssl, char *why, size_t whysz)
{
	long v;

	if (SSL_get0_peer_certificate(ssl) == NULL) {
		util_strlcpy(why, "no certificate", whysz);
		return TLS_CHECK_NO_CERT;
	}
	v = SSL_get_verify_result(ssl);
	if (v == X509_V_OK) {
		if (SSL_get0_dane_authority(ssl, NULL, NULL) >= 0) {
			util_strlcpy(why, "authenticated by a TLSA record", whysz);
			return TLS_CHECK_DANE;
		}
		util_strlcpy(why, "verified", whysz);
		return TLS_CHECK_PKIX;
	}
	util_strlcpy(why, X509_verify_cert_error_string(v), whysz);
	return check_of(v);
}

static X509 *
make_cert(EVP_PKEY *pk, const char *hostname)
{
	X509 *x = X509_new();
	X509_NAME *name;
	X509_EXTENSION *ext;
	X509V3_CTX v3;
	char san[300];
	unsigned char serial[16];

	if (x == NULL)
		return NULL;
	BIGNUM *bn;

	if (RAND_bytes(serial, sizeof(serial)) != 1)
		panic("RAND_bytes failed");
	serial[0] &= 0x7f;
	if ((bn = BN_bin2bn(serial, sizeof(serial), NULL)) == NULL)
		panic("BN_bin2bn failed");
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
	X509_set_version(x, 2);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 10L * 365 * 86400);
	X509_set_pubkey(x, pk);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)hostname,
	    -1, -1, 0);
	X509_set_issuer_name(x, name);
	snprintf(san, sizeof(san), "DNS:%s", hostname);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san)) != NULL) {
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	if (X509_sign(x, pk, EVP_sha256()) == 0) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static int
write_pem(const char *path, mode_t mode, EVP_PKEY *pk, X509 *x)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	FILE *f;
	int ok;

	if (fd == -1 || (f = fdopen(fd, "w")) == NULL) {
		if (fd != -1)
			close(fd);
		return -1;
	}
	ok = pk ? PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL)
		: PEM_write_X509(f, x);
	if (fflush(f) != 0 || fsync(fd) != 0)
		ok = 0;
	return fclose(f) == 0 && ok ? 0 : -1;
}

int
tls_make_selfsigned(const char *certpath, const char *keypath, const char *hostname,
    char *err, size_t errsz)
{
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	X509 *x = NULL;
	int rc = -1;

	if (pk == NULL || (x = make_cert(pk, hostname)) == NULL) {
		tls_last_error(err, errsz);
		goto done;
	}
	if (write_pem(keypath, 0600, pk, NULL) == -1 || write_pem(certpath, 0644, NULL, x) == -1) {
		snprintf(err, errsz, "cannot write %s or %s: %s", keypath, certpath, strerror(errno));
		goto done;
	}
	rc = 0;
done:
	X509_free(x);
	EVP_PKEY_free(pk);
	return rc;
}

/*
 * Blocking client connections (hikyaku probe): a handshake, reads and
 * writes on a non-blocking socket, each bounded by a deadline with poll().
 */
struct tls_conn {
	SSL_CTX *ctx;
	SSL *ssl;
	int fd;
	char name[256];
};

static int
is_ip(const char *s)
{
	unsigned char a[16];

	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

/* conn_wait - poll fd for what SSL asked (want) until the deadline; 0 or -1. */
static int
conn_wait(int fd, int want, int64_t deadline_us, char *err, size_t errsz)
{
	struct pollfd p = { .fd = fd, .events = want == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN };
	int64_t left = (deadline_us - util_now_us()) / 1000;
	int n;

	if (left <= 0) {
		util_strlcpy(err, "timed out", errsz);
		return -1;
	}
	do
		n = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
	while (n == -1 && errno == EINTR);
	if (n == 0) {
		util_strlcpy(err, "timed out", errsz);
		return -1;
	}
	if (n == -1) {
		snprintf(err, errsz, "poll: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* conn_error - after an SSL call returned r: 1 to retry (after waiting), -1 with err. */
static int
conn_error(struct tls_conn *c, int r, int64_t deadline_us, char *err, size_t errsz)
{
	int e = SSL_get_error(c->ssl, r);
	char why[256];

	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return conn_wait(c->fd, e, deadline_us, err, errsz) == 0 ? 1 : -1;
	if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
		snprintf(err, errsz, "%s", errno ? strerror(errno) : "connection closed by the server");
		return -1;
	}
	tls_last_error(why, sizeof(why));
	snprintf(err, errsz, "%s", why);
	return -1;
}

static SSL_CTX *
conn_ctx(const char *cafile, char *err, size_t errsz)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	char why[256];

	if (ctx == NULL) {
		tls_last_error(why, sizeof(why));
		snprintf(err, errsz, "cannot create TLS client context: %s", why);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_default_verify_paths(ctx);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);	/* judged by tls_conn_peer */
	if (cafile != NULL && SSL_CTX_load_verify_locations(ctx, cafile, NULL) != 1) {
		tls_last_error(why, sizeof(why));
		snprintf(err, errsz, "cannot load CA file %s: %s", cafile, why);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

struct tls_conn *
tls_conn_open(int fd, const char *servername, const char *cafile, int timeout_ms, char *err,
    size_t errsz)
{
	struct tls_conn *c = xcalloc(1, sizeof(*c));
	int64_t deadline = util_now_us() + (int64_t)timeout_ms * 1000;
	int r, flags;

	c->fd = fd;
	util_strlcpy(c->name, servername ? servername : "", sizeof(c->name));
	if ((c->ctx = conn_ctx(cafile, err, errsz)) == NULL)
		goto fail;
	if ((c->ssl = SSL_new(c->ctx)) == NULL || SSL_set_fd(c->ssl, fd) != 1) {
		tls_last_error(err, errsz);
		goto fail;
	}
	if (c->name[0] != '\0' && !is_ip(c->name))
		SSL_set_tlsext_host_name(c->ssl, c->name);
	if ((flags = fcntl(fd, F_GETFL)) == -1 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1) {
		snprintf(err, errsz, "fcntl: %s", strerror(errno));
		goto fail;
	}
	ERR_clear_error();
	while ((r = SSL_connect(c->ssl)) != 1)
		if (conn_error(c, r, deadline, err, errsz) == -1)
			goto fail;
	return c;
fail:
	tls_conn_close(c);
	return NULL;
}

long
tls_conn_read(struct tls_conn *c, void *buf, size_t n, int timeout_ms, char *err, size_t errsz)
{
	int64_t deadline = util_now_us() + (int64_t)timeout_ms * 1000;
	size_t got = 0;
	int r;

	ERR_clear_error();
	while ((r = SSL_read_ex(c->ssl, buf, n, &got)) != 1) {
		if (SSL_get_error(c->ssl, r) == SSL_ERROR_ZERO_RETURN)
			return 0;
		if (conn_error(c, r, deadline, err, errsz) == -1)
			return -1;
	}
	return (long)got;
}

int
tls_conn_write(struct tls_conn *c, const void *buf, size_t n, int timeout_ms, char *err,
    size_t errsz)
{
	int64_t deadline = util_now_us() + (int64_t)timeout_ms * 1000;
	const char *p = buf;
	size_t done;
	int r;

	ERR_clear_error();
	while (n > 0) {
		if ((r = SSL_write_ex(c->ssl, p, n, &done)) == 1) {
			p += done;
			n -= done;
		} else if (conn_error(c, r, deadline, err, errsz) == -1)
			return -1;
	}
	return 0;
}

void
tls_conn_close(struct tls_conn *c)
{
	if (c == NULL)
		return;
	if (c->ssl != NULL) {
		SSL_shutdown(c->ssl);	/* non-blocking: one attempt */
		SSL_free(c->ssl);
	}
	SSL_CTX_free(c->ctx);
	ERR_clear_error();
	free(c);
}

/* printable - copy s into out as printable ASCII ('?' for anything else). */
static void
printable(const char *s, size_t len, char *out, size_t outsz)
{
	size_t i;

	for (i = 0; i < len && i + 1 < outsz; i++)
		out[i] = (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f ? s[i] : '?';
	if (outsz > 0)
		out[i < outsz ? i : outsz - 1] = '\0';
}

/* peer_names - the DNS names and IP addresses of the subjectAltName, comma-separated. */
static void
peer_names(X509 *x, char *out, size_t outsz)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	char one[256];
	size_t o = 0;
	int i;

	out[0] = '\0';
	for (i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const unsigned char *d;
		int len;

		if (g->type == GEN_DNS) {
			d = ASN1_STRING_get0_data(g->d.dNSName);
			len = ASN1_STRING_length(g->d.dNSName);
			printable((const char *)d, (size_t)len, one, sizeof(one));
		} else if (g->type == GEN_IPADD) {
			d = ASN1_STRING_get0_data(g->d.iPAddress);
			len = ASN1_STRING_length(g->d.iPAddress);
			if (len != 4 && len != 16)
				continue;
			inet_ntop(len == 4 ? AF_INET : AF_INET6, d, one, sizeof(one));
		} else
			continue;
		o += (size_t)snprintf(out + o, o < outsz ? outsz - o : 0, "%s%s", o ? ", " : "", one);
		if (o >= outsz) {
			out[outsz - 1] = '\0';
			break;
		}
	}
	GENERAL_NAMES_free(gens);
}

static int
peer_name_ok(X509 *x, const char *name)
{
	if (name[0] == '\0')
		return 0;
	if (is_ip(name))
		return X509_check_ip_asc(x, name, 0) == 1;
	return X509_check_host(x, name, 0, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) == 1;
}

static void
peer_expiry(X509 *x, struct tls_peer *out)
{
	const ASN1_TIME *t = X509_get0_notAfter(x);
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return;
	out->not_after = (long long)timegm(&tm);
	out->expired = X509_cmp_current_time(t) < 0;
}

void
tls_conn_peer(struct tls_conn *c, struct tls_peer *out)
{
	X509 *x = SSL_get0_peer_certificate(c->ssl);
	long v;
	char *dn;

	memset(out, 0, sizeof(*out));
	tls_describe(c->ssl, out->version, sizeof(out->version), out->cipher, sizeof(out->cipher));
	if (x == NULL)
		return;
	out->has_cert = 1;
	v = SSL_get_verify_result(c->ssl);
	out->chain_ok = v == X509_V_OK;
	if (!out->chain_ok)
		util_strlcpy(out->verify_error, X509_verify_cert_error_string(v),
		    sizeof(out->verify_error));
	out->name_ok = peer_name_ok(x, c->name);
	if ((dn = X509_NAME_oneline(X509_get_subject_name(x), NULL, 0)) != NULL) {
		printable(dn, strlen(dn), out->subject, sizeof(out->subject));
		OPENSSL_free(dn);
	}
	peer_names(x, out->names, sizeof(out->names));
	peer_expiry(x, out);
}
