/*
 * tls.h - everything that touches OpenSSL's TLS API: server contexts,
 * the self-signed certificate made on first start, and connection facts
 * (protocol, cipher) for logs and Received: headers.
 */
#ifndef HIKYAKU_TLS_H
#define HIKYAKU_TLS_H

#include <stddef.h>

struct ssl_st;
struct tls_ctx;

/* tls_init - load OpenSSL's defaults once per process. */
void tls_init(void);

/*
 * tls_server_new - a server context with cert (a PEM chain) and key;
 * TLS 1.2 or newer. NULL with err filled when they cannot be loaded or do
 * not match. The caller owns the result (tls_free).
 */
struct tls_ctx *tls_server_new(const char *cert, const char *key, char *err, size_t errsz);
void tls_free(struct tls_ctx *t);

/*
 * tls_make_selfsigned - write a new P-256 key (0600) and a self-signed
 * certificate for hostname (10 years) to keypath and certpath. 0 or -1.
 */
int tls_make_selfsigned(const char *certpath, const char *keypath, const char *hostname,
    char *err, size_t errsz);

/*
 * tls_client_new - a client context for delivery: TLS 1.2 or newer, the
 * system's CA store loaded, but the handshake never fails on verification
 * (opportunistic TLS); tls_verified() tells afterwards.
 */
struct tls_ctx *tls_client_new(char *err, size_t errsz);

/*
 * tls_new_session - a fresh SSL for one connection: server side for a server
 * context; client side for a client context, with servername used for SNI
 * and for checking the certificate's name (may be NULL).
 */
struct ssl_st *tls_new_session(struct tls_ctx *t, const char *servername);

/* tls_is_client - whether t was made by tls_client_new. */
int tls_is_client(const struct tls_ctx *t);

/* tls_verified - whether the peer's certificate chain and name verified. */
int tls_verified(struct ssl_st *ssl);

/* tls_describe - "TLSv1.3" and "TLS_AES_256_GCM_SHA384" of an established ssl. */
void tls_describe(struct ssl_st *ssl, char *version, size_t vsz, char *cipher, size_t csz);

/* tls_last_error - the last OpenSSL error queued on this thread, as text. */
void tls_last_error(char *out, size_t outsz);


/* tls_error_string - text for an OpenSSL error code (from the I/O layer). */
void tls_error_string(unsigned long e, char *out, size_t outsz);

#endif
