/*
 * bounce.h - build delivery status notifications (RFC 3464 in an RFC 6522
 * multipart/report): a non-delivery report, or a delay warning. Pure.
 */
#ifndef HIKYAKU_BOUNCE_H
#define HIKYAKU_BOUNCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bounce_rcpt {
	const char *rcpt;
	const char *status;	/* "5.1.1" */
	const char *diagnostic;	/* the remote reply or our reason, one line */
	const char *remote_mta;	/* host name, or NULL */
};

struct bounce_env {
	const char *hostname;	/* Reporting-MTA, and the From: domain */
	const char *queue_id;	/* of the original message */
	const char *new_id;	/* of the notification, for its Message-ID */
	const char *sender;	/* original envelope sender: the To: */
	int64_t arrival;
	int64_t now;
	bool delayed;		/* a warning (Action: delayed), not a failure */
};

/*
 * bounce_build - the notification for n recipients of the message orig[0..len)
 * (its header block is quoted as text/rfc822-headers). Returns a new buffer
 * of CRLF lines (caller frees) and its length in *outlen.
 */
char *bounce_build(const struct bounce_env *env, const struct bounce_rcpt *r, size_t n,
    const char *orig, size_t len, size_t *outlen);

#endif
