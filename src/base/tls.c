/*
 * tls.c - OpenSSL server contexts, self-signed certificate generation and
 * connection descriptions. The only file that uses the SSL API.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
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

struct tls_ctx *
tls_server_new(const char *cert, const char *key, char *err, size_t errsz)
{
	struct tls_ctx *t = xcalloc(1, sizeof(*t));
	char why[256];

	if ((t->ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		goto fail;
	SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(t->ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
	    SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_mode(t->ctx, SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_use_certificate_chain_file(t->ctx, cert) != 1) {
		tls_last_error(why, sizeof(why));
		snprintf(err, errsz, "cannot load certificate %s: %s", cert, why);
		goto out;
	}
	if (SSL_CTX_use_PrivateKey_file(t->ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(t->ctx) != 1) {
		tls_last_error(why, sizeof(why));
		snprintf(err, errsz, "cannot load private key %s (or it does not match %s): %s",
		    key, cert, why);
		goto out;
	}
	return t;
fail:
	tls_last_error(why, sizeof(why));
	snprintf(err, errsz, "cannot create TLS context: %s", why);
out:
	tls_free(t);
	return NULL;
}

void
tls_free(struct tls_ctx *t)
{
	if (t == NULL)
		return;
	SSL_CTX_free(t->ctx);
	free(t);
}

struct tls_ctx *
tls_client_new(char *err, size_t errsz)
{
	struct tls_ctx *t = xcalloc(1, sizeof(*t));
	char why[256];

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
