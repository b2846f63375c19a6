/*
 * smtp_client.h - the outbound SMTP session (RFC 5321, 3207, 2920): one
 * connection to one remote address, EHLO, STARTTLS whenever offered,
 * PIPELINING where offered, and any number of transactions in a row.
 *
 * Replies from the remote server are hostile input and go through the
 * bounded parser in smtp_reply.c; nothing they contain reaches a log or the
 * queue unescaped.
 */
#ifndef HIKYAKU_SMTP_CLIENT_H
#define HIKYAKU_SMTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "base/tls.h"
#include "lib/reply.h"

struct config;
struct event_base;
struct smtp_client;
struct tls_ctx;

/* One transaction; the caller keeps every pointer valid until on_done or on_fail. */
struct smtp_client_msg {
	const char *sender;		/* "" for <> */
	const char *const *rcpts;
	size_t nrcpts;
	const char *data;		/* CRLF lines, not dot-stuffed */
	size_t len;
	bool smtputf8;
	bool body_8bit;
	struct reply *results;		/* nrcpts entries, filled in (code 0: undecided) */
};

struct smtp_client_cbs {
	/* on_ready - greeted, EHLO done, TLS up when it was offered: send a transaction. */
	void (*on_ready)(struct smtp_client *c, void *arg);
	/* on_done - the transaction ended; every result is decided. */
	void (*on_done)(struct smtp_client *c, void *arg);
	/*
	 * on_fail - the connection failed or was lost; why says how. Results
	 * decided before stay (code != 0); the rest are undecided. tls_failed:
	 * the TLS handshake failed (retry this address without TLS). The
	 * client must be freed by the callee.
	 */
	void (*on_fail)(struct smtp_client *c, void *arg, const struct reply *why, bool tls_failed);
};

/*
 * smtp_client_new - connect to sa (host is the MX name, for logs, SNI and
 * certificate checks). With use_tls false, STARTTLS is not attempted.
 */
struct smtp_client *smtp_client_new(struct event_base *base, const struct config *cfg,
    struct tls_ctx *tls, const struct sockaddr *sa, socklen_t salen, const char *host,
    bool use_tls, const struct smtp_client_cbs *cbs, void *arg);

/* What TLS a connection must achieve; without smtp_client_require, "may" (or "none"). */
struct smtp_tls_req {
	enum tls_level level;
	bool sts;			/* the requirement is an MTA-STS policy's: "sts" in the log */
	const struct tls_tlsa *tlsa;	/* usable TLSA records, for level DANE */
	size_t ntlsa;
};

/*
 * smtp_client_require - set what c's TLS must achieve (copied), right
 * after smtp_client_new. Below it the client stops before MAIL and fails
 * with 4.7.4 (no STARTTLS offered) or 4.7.5 (certificate not verified,
 * TLSA mismatch): no byte of a message goes out in plain text or to an
 * unauthenticated server when the level forbids it.
 */
void smtp_client_require(struct smtp_client *c, const struct smtp_tls_req *req);

/* What happened with TLS on a connection, for TLS-RPT and logs. */
struct smtp_tls_outcome {
	bool offered;		/* the server announced STARTTLS */
	bool attempted;		/* we sent STARTTLS */
	bool established;	/* the handshake completed */
	enum tls_check check;	/* the certificate's verdict, when established */
	char why[160];		/* the handshake error, or the verdict in words */
	char ip[46];		/* the server's address */
	char local_ip[46];	/* ours */
};

/* smtp_client_tls_outcome - valid until the client is freed. */
const struct smtp_tls_outcome *smtp_client_tls_outcome(const struct smtp_client *c);

/* smtp_client_meets - whether c's TLS, as established, satisfies level. */
bool smtp_client_meets(const struct smtp_client *c, enum tls_level level);

/* smtp_client_rebind - hand an idle client to a new owner. */
void smtp_client_rebind(struct smtp_client *c, const struct smtp_client_cbs *cbs, void *arg);

/* smtp_client_send - start a transaction; only after on_ready or on_done. */
void smtp_client_send(struct smtp_client *c, struct smtp_client_msg *m);

/* smtp_client_config - the config the client was made with. */
const struct config *smtp_client_config(const struct smtp_client *c);

/* smtp_client_quit - say QUIT and free the client (no more callbacks). */
void smtp_client_quit(struct smtp_client *c);
void smtp_client_free(struct smtp_client *c);

/* smtp_client_relay - "mx.example.org[192.0.2.1]:25" */
const char *smtp_client_relay(const struct smtp_client *c);
/* smtp_client_tls - "TLSv1.3/verified", "/unverified", "/dane", "/sts", or "none" */
const char *smtp_client_tls(const struct smtp_client *c);
/* smtp_client_host - the MX host this client talks to. */
const char *smtp_client_host(const struct smtp_client *c);

#endif
