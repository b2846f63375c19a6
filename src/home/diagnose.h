/*
 * diagnose.h - pure rules of the home side: what a relay's reply to MAIL
 * FROM or RCPT TO means for the person sending (is it the ISP refusing
 * senders outside its domain? a missing grant? AUTH wanted?), and the
 * HOST[:PORT] targets the user types.
 *
 * No I/O, no globals, no allocation.
 */
#ifndef HIKYAKU_DIAGNOSE_H
#define HIKYAKU_DIAGNOSE_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/smtp_reply.h"

enum diagnose_kind {
	DIAG_ACCEPTED,		/* 2xx */
	DIAG_SENDER_REFUSED,	/* 5xx: this login may not send as this sender */
	DIAG_AUTH_REQUIRED,	/* 5xx: log in first */
	DIAG_RELAY_DENIED,	/* 5xx: the server does not relay for us */
	DIAG_TEMPORARY,		/* 4xx */
	DIAG_REFUSED,		/* another 5xx (or a reply that is not 2xx-5xx) */
};

/*
 * diagnose_reply - classify a complete reply to MAIL FROM or RCPT TO.
 * "Sender refused" covers hikyaku's and the common ISP wordings: "Sender
 * rejected", Postfix's "Sender address rejected: not owned by user",
 * Exchange's "send as this sender" (5.7.60), "sender not allowed /
 * authorized / permitted", qmail-style "(#5.7.1)" texts about the sender,
 * and any 5.7.1 reply that names the sender or From address.
 */
enum diagnose_kind diagnose_reply(const struct smtp_reply *r);

#define DIAGNOSE_HOST_MAX 255

struct diagnose_target {
	char host[DIAGNOSE_HOST_MAX + 1];	/* a DNS name or an IP address, without brackets */
	unsigned port;
	bool ip;			/* host is an IPv4 or IPv6 address */
	bool ipv6;
};

/*
 * diagnose_target - parse "HOST", "HOST:PORT", "[IPV6]", "[IPV6]:PORT" or a
 * bare IPv6 address; port defaults to default_port. HOST must be a DNS name
 * (letters, digits, '-', '_', dots; labels 1-63) or an IP address: nothing
 * that could break a configuration file it is printed into. 0 or -1.
 */
int diagnose_target(const char *s, unsigned default_port, struct diagnose_target *out);

/* diagnose_target_format - "host:port", "[v6]:port" into out. */
void diagnose_target_format(const struct diagnose_target *t, char *out, size_t outsz);

/*
 * diagnose_name_ok - an account name as hikyaku accepts it (1-64 of letters,
 * digits, "._@+-"), safe to print into configuration files.
 */
bool diagnose_name_ok(const char *name);

#endif
