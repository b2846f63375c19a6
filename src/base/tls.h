/*
 * tls.h - everything that touches OpenSSL's TLS API: server contexts,
 * the self-signed certificate made on first start, and connection facts
 * (protocol, cipher) for logs and Received: headers; blocking client
 * connections that describe the server's certificate (hikyaku probe).
 */
#ifndef HIKYAKU_TLS_H
#define HIKYAKU_TLS_H

#include <stddef.h>
#include <stdint.h>

struct ssl_st;
struct tls_ctx;

/* tls_init - load OpenSSL's defaults once per process. */
void tls_init(void);

#define TLS_PEM_MAX (1024 * 1024)	/* a certificate chain or key file */

/* What a server context's certificate says, for status and metrics. */
struct tls_info {
	int64_t not_after;	/* expiry, seconds since the epoch (0: unknown) */
	char subject[256];	/* "/CN=relay.example.net" */
	char serial[80];	/* hex */
};

/*
 * tls_server_new - a server context with cert (a PEM chain) and key;
 * TLS 1.2 or newer. NULL with err filled when they cannot be loaded or do
 * not match. The caller owns the result (tls_free).
 */
struct tls_ctx *tls_server_new(const char *cert, const char *key, char *err, size_t errsz);
/*
 * tls_server_new_pem - the same from PEM text in memory (what the root
 * helper read on a reload); the names are for error messages.
 */
struct tls_ctx *tls_server_new_pem(const char *cert, size_t certlen, const char *key,
    size_t keylen, const char *certname, const char *keyname, char *err, size_t errsz);
/* tls_info - the certificate's expiry, subject and serial (server contexts). */
const struct tls_info *tls_info(const struct tls_ctx *t);
/*
 * tls_ref - take a reference (a session keeps the context it started with
 * across a reload); returns t. tls_free drops one; the last frees.
 */
struct tls_ctx *tls_ref(struct tls_ctx *t);
void tls_free(struct tls_ctx *t);

/*
 * tls_make_selfsigned - write a new P-256 key (0600) and a self-signed
 * certificate for hostname (10 years) to keypath and certpath. 0 or -1.
 */
int tls_make_selfsigned(const char *certpath, const char *keypath, const char *hostname,
    char *err, size_t errsz);

/*
 * tls_client_new - a client context for delivery: TLS 1.2 or newer, the
 * system's CA store loaded, DANE enabled, but the handshake never fails on
 * verification; tls_peer_check() (or tls_verified()) tells afterwards.
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

/*
 * Blocking client connections with deadlines, for short tools that are not
 * on the event loop (hikyaku probe). The socket must be connected; it is
 * made non-blocking and every operation waits at most timeout_ms.
 */
struct tls_conn;

/* what a client learned about the server's certificate */
struct tls_peer {
	int has_cert;		/* the server sent one */
	int chain_ok;		/* it chains to a trusted CA (system store or cafile) */
	char verify_error[128];	/* OpenSSL's reason when !chain_ok */
	int name_ok;		/* a subjectAltName (or the CN) matches the name asked for */
	char subject[256];	/* subject DN, printable ASCII */
	char names[512];	/* subjectAltName DNS names and addresses, comma-separated */
	long long not_after;	/* expiry, seconds since the epoch (0: unknown) */
	int expired;		/* not_after is in the past */
	char version[16];	/* "TLSv1.3" */
	char cipher[64];
};

/*
 * tls_conn_open - TLS 1.2+ client handshake on connected socket fd, with
 * SNI and the name check for servername (a host name or an IP address; may
 * be NULL). Trusts the system's CA store plus cafile (PEM, may hold a
 * self-signed certificate; may be NULL). The handshake does not fail on
 * verification: tls_conn_peer() tells. NULL with err filled when the
 * handshake fails or times out. The caller owns the result and the socket.
 */
struct tls_conn *tls_conn_open(int fd, const char *servername, const char *cafile,
    int timeout_ms, char *err, size_t errsz);

/* tls_conn_peer - what the handshake found out about the server. */
void tls_conn_peer(struct tls_conn *c, struct tls_peer *out);

/* tls_conn_read - up to n bytes: the count, 0 at EOF, -1 on error or timeout (err filled). */
long tls_conn_read(struct tls_conn *c, void *buf, size_t n, int timeout_ms, char *err,
    size_t errsz);

/* tls_conn_write - all n bytes; 0, or -1 on error or timeout (err filled). */
int tls_conn_write(struct tls_conn *c, const void *buf, size_t n, int timeout_ms, char *err,
    size_t errsz);

/* tls_conn_close - send close_notify (without waiting) and free c; the socket stays open. */
void tls_conn_close(struct tls_conn *c);

/*
 * --- Outbound certificate checks (delivery) ---
 *
 * Every delivery connection is checked, whatever the destination requires:
 * against the trust store and the MX host name (RFC 6125, with RFC 7817's
 * wildcard rule: "*" only as the whole left-most label, matching one label),
 * or, when TLSA records are given, by DANE (RFC 7672: DANE-TA(2) and
 * DANE-EE(3) only; no name check for DANE-EE). The handshake never fails
 * on the check; tls_peer_check() tells afterwards, and the caller decides.
 */

/* What a delivery requires of a connection, weakest first (tls-policy). */
enum tls_level {
	TLS_LEVEL_NONE,		/* no STARTTLS */
	TLS_LEVEL_MAY,		/* STARTTLS when offered; plain text otherwise */
	TLS_LEVEL_ENCRYPT,	/* TLS required, certificate not checked */
	TLS_LEVEL_VERIFY,	/* TLS with a certificate valid for the MX host name */
	TLS_LEVEL_DANE,		/* TLS authenticated by the MX host's TLSA records */
};

/* tls_level_name - "none", "may", "encrypt", "verify", "dane". */
const char *tls_level_name(enum tls_level l);
/* tls_level_parse - the inverse; 0, or -1 for another word. */
int tls_level_parse(const char *s, enum tls_level *out);

/* One TLSA record (RFC 6698); data points into the caller's memory. */
struct tls_tlsa {
	uint8_t usage, selector, mtype;
	const uint8_t *data;
	size_t len;
};

/*
 * tls_tlsa_usable - whether r can authenticate an SMTP server (RFC 7672
 * section 3.1): usage DANE-TA(2) or DANE-EE(3), selector 0 or 1, matching
 * type 0, 1 (32-byte SHA-256) or 2 (64-byte SHA-512). Pure.
 */
int tls_tlsa_usable(const struct tls_tlsa *r);

/* What a client connection is checked against; valid for the connection's life. */
struct tls_expect {
	const char *host;		/* SNI and the name the certificate must carry */
	const struct tls_tlsa *tlsa;	/* usable TLSA records: DANE instead of PKIX */
	size_t ntlsa;
};

/* How the peer's certificate fared (after the handshake). */
enum tls_check {
	TLS_CHECK_DANE,			/* a TLSA record matched */
	TLS_CHECK_PKIX,			/* chains to a trusted CA and carries the name */
	TLS_CHECK_NO_CERT,		/* the server sent none */
	TLS_CHECK_HOST_MISMATCH,	/* valid, but not for this host name */
	TLS_CHECK_EXPIRED,		/* expired or not yet valid */
	TLS_CHECK_UNTRUSTED,		/* self-signed or from an unknown CA */
	TLS_CHECK_TLSA_MISMATCH,	/* no TLSA record matched */
	TLS_CHECK_INVALID,		/* any other verification error */
};

/*
 * tls_client_ca_file - trust only the CA certificates in file (PEM) for
 * t's connections, instead of the system's store. 0, or -1 with err.
 */
int tls_client_ca_file(struct tls_ctx *t, const char *file, char *err, size_t errsz);

/*
 * tls_client_session - a client SSL for one connection checked against p
 * (p must outlive the SSL). Unusable TLSA records in p are ignored; when
 * none is usable, the PKIX check applies.
 */
struct ssl_st *tls_client_session(struct tls_ctx *t, const struct tls_expect *p);

/* tls_peer_check - the verdict on an established client ssl; why says it in words. */
enum tls_check tls_peer_check(struct ssl_st *ssl, char *why, size_t whysz);

#endif
