/*
 * diagnose.c - classify replies to MAIL FROM / RCPT TO for the probe, and
 * parse the HOST[:PORT] targets of its command line.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "home/diagnose.h"

/* Wordings of "this login may not send as this sender" (lower case). */
static const char *const sender_phrases[] = {
	"sender rejected", "sender address rejected", "not owned by", "send as",
	"sender not allowed", "sender is not allowed", "sender not permitted",
	"sender not authorized", "sender not authorised", "sender is not authorized",
	"unauthorized sender", "unauthorised sender", "sender denied", "sender refused",
	"not allowed to send", "not permitted to send", "not authorized to send",
	"not authorised to send", "from address", "from header", "header from",
	"envelope from", "sender domain", "login mismatch", "sender mismatch",
};

static bool
contains(const char *text, const char *needle)
{
	return strcasestr(text, needle) != NULL;
}

static bool
any_sender_phrase(const char *text)
{
	size_t i;

	for (i = 0; i < sizeof(sender_phrases) / sizeof(sender_phrases[0]); i++)
		if (contains(text, sender_phrases[i]))
			return true;
	return false;
}

static bool
is_571(const struct smtp_reply *r)
{
	return strcmp(r->status, "5.7.1") == 0 || contains(r->text, "#5.7.1");
}

static bool
relay_denied(const char *text)
{
	return contains(text, "relay") && (contains(text, "denied") ||
	    contains(text, "not permitted") || contains(text, "not allowed") ||
	    contains(text, "access") || contains(text, "refused"));
}

enum diagnose_kind
diagnose_reply(const struct smtp_reply *r)
{
	if (r->code >= 200 && r->code < 300)
		return DIAG_ACCEPTED;
	if (r->code >= 400 && r->code < 500)
		return DIAG_TEMPORARY;
	if (r->code < 500 || r->code > 599)
		return DIAG_REFUSED;
	if ((r->code == 530 || strcmp(r->status, "5.7.0") == 0 ||
	    strcmp(r->status, "5.7.57") == 0) && contains(r->text, "auth") &&
	    !contains(r->text, "starttls"))
		return DIAG_AUTH_REQUIRED;
	if (any_sender_phrase(r->text) || strcmp(r->status, "5.7.60") == 0 ||
	    (is_571(r) && contains(r->text, "sender")))
		return DIAG_SENDER_REFUSED;
	if (relay_denied(r->text))
		return DIAG_RELAY_DENIED;
	return DIAG_REFUSED;
}

static bool
dns_name_ok(const char *s)
{
	size_t len = strlen(s), label = 0, i;

	if (len == 0 || len > 253)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (isalnum(c) || c == '-' || c == '_') {
			if (++label > 63)
				return false;
		} else
			return false;
	}
	return label > 0;
}

static int
parse_port(const char *s, unsigned *port)
{
	char *end;
	unsigned long v;

	if (!isdigit((unsigned char)s[0]) || strlen(s) > 5)
		return -1;
	v = strtoul(s, &end, 10);
	if (*end != '\0' || v == 0 || v > 65535)
		return -1;
	*port = (unsigned)v;
	return 0;
}

/* split - host and port text of s into host (without brackets) and *portstr. */
static int
split(const char *s, char *host, size_t hostsz, const char **portstr, bool *bracketed)
{
	const char *colon, *close;
	size_t n;

	*portstr = NULL;
	*bracketed = s[0] == '[';
	if (*bracketed) {
		if ((close = strchr(s, ']')) == NULL || (close[1] != '\0' && close[1] != ':'))
			return -1;
		n = (size_t)(close - s - 1);
		if (close[1] == ':')
			*portstr = close + 2;
		s++;
	} else if ((colon = strchr(s, ':')) != NULL && strchr(colon + 1, ':') == NULL) {
		n = (size_t)(colon - s);
		*portstr = colon + 1;
	} else
		n = strlen(s);	/* a name, or a bare IPv6 address */
	if (n == 0 || n >= hostsz)
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	return 0;
}

int
diagnose_target(const char *s, unsigned default_port, struct diagnose_target *out)
{
	unsigned char a[16];
	const char *portstr;
	bool bracketed;

	memset(out, 0, sizeof(*out));
	if (split(s, out->host, sizeof(out->host), &portstr, &bracketed) == -1)
		return -1;
	out->port = default_port;
	if (portstr != NULL && parse_port(portstr, &out->port) == -1)
		return -1;
	if (inet_pton(AF_INET6, out->host, a) == 1)
		out->ip = out->ipv6 = true;
	else if (inet_pton(AF_INET, out->host, a) == 1)
		out->ip = true;
	else if (!dns_name_ok(out->host))
		return -1;
	return 0;
}

void
diagnose_target_format(const struct diagnose_target *t, char *out, size_t outsz)
{
	snprintf(out, outsz, t->ipv6 ? "[%s]:%u" : "%s:%u", t->host, t->port);
}

bool
diagnose_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 64)
		return false;
	for (; *name; name++)
		if (!isalnum((unsigned char)*name) && !strchr("._@+-", *name))
			return false;
	return true;
}
