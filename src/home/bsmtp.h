/*
 * bsmtp.h - a small blocking SMTP client for the home side (probe): every
 * connect, read and write has a deadline; TLS through base/tls.c; replies
 * parsed by lib/smtp_reply.h (bounded, hostile input). It sends commands,
 * never a message.
 */
#ifndef HIKYAKU_BSMTP_H
#define HIKYAKU_BSMTP_H

#include <stdbool.h>
#include <stddef.h>

#include "base/tls.h"
#include "lib/smtp_reply.h"

struct bsmtp;

/*
 * bsmtp_connect - resolve host and connect to its addresses in turn, all
 * within timeout_ms; each later operation also waits at most timeout_ms.
 * The address connected to goes to peer ("192.0.2.1:587"). NULL with err
 * filled ("connection refused", "timed out" ...). Caller owns the result.
 */
struct bsmtp *bsmtp_connect(const char *host, unsigned port, int timeout_ms, char *peer,
    size_t peersz, char *err, size_t errsz);

/* bsmtp_tls - TLS handshake now (implicit TLS, or after STARTTLS's 220); 0 or -1 with err. */
int bsmtp_tls(struct bsmtp *c, const char *servername, const char *cafile, char *err,
    size_t errsz);

/* bsmtp_peer - the server's certificate and the TLS parameters (after bsmtp_tls). */
void bsmtp_peer(struct bsmtp *c, struct tls_peer *out);

/* bsmtp_is_tls - whether the connection is under TLS. */
bool bsmtp_is_tls(const struct bsmtp *c);

/* bsmtp_reply - read one complete reply into r; 0, or -1 with err (timeout, EOF, malformed). */
int bsmtp_reply(struct bsmtp *c, struct smtp_reply *r, char *err, size_t errsz);

/*
 * bsmtp_cmd - send one command line (CRLF added; line must not contain CR
 * or LF) and read its reply. 0, or -1 with err.
 */
int bsmtp_cmd(struct bsmtp *c, const char *line, struct smtp_reply *r, char *err, size_t errsz);

/* bsmtp_local_literal - our end's address as an EHLO address literal ("[192.0.2.7]"). */
void bsmtp_local_literal(const struct bsmtp *c, char *out, size_t outsz);

/* bsmtp_close - end TLS, close the socket, free c (NULL is fine). */
void bsmtp_close(struct bsmtp *c);

#endif
