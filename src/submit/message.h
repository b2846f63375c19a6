/*
 * message.h - turn the bytes a client sent after DATA into the message we
 * queue: prepend our Received: header and add Date: and Message-ID: when
 * missing (RFC 5321 section 4.4, RFC 6409 section 8). Pure: no I/O.
 */
#ifndef HIKYAKU_MESSAGE_H
#define HIKYAKU_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct message_env {
	const char *queue_id;
	const char *hostname;		/* ours */
	const char *helo;		/* what the client said */
	const char *client_ip;		/* "127.0.0.1" or "IPv6:::1" */
	const char *protocol;		/* "ESMTPSA", "UTF8SMTPSA" ... (RFC 3848) */
	const char *tls_version;	/* NULL without TLS */
	const char *tls_cipher;
	const char *account;		/* authenticated or trusted account */
	bool authenticated;		/* by AUTH; else by a trusted network */
	const char *single_rcpt;	/* "for <...>" when there is exactly one, else NULL */
	int64_t now;
};

/*
 * message_prepare - build the queued message from msg[0..len) whose header
 * block is msg[0..hdrend) (see msghdr_end). Returns a new buffer (caller
 * frees) and its length in *outlen.
 */
char *message_prepare(const char *msg, size_t len, size_t hdrend,
    const struct message_env *env, size_t *outlen);

/* message_is_8bit - whether any byte has the high bit set. */
bool message_is_8bit(const char *msg, size_t len);

#endif
