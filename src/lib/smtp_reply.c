/*
 * smtp_reply.c - parse remote SMTP replies and EHLO capabilities.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/smtp_reply.h"

void
smtp_reply_init(struct smtp_reply *r)
{
	memset(r, 0, sizeof(*r));
}

static int
parse_code(const char *line, size_t len)
{
	if (len < 3 || line[0] < '2' || line[0] > '5' || !isdigit((unsigned char)line[1]) ||
	    !isdigit((unsigned char)line[2]))
		return -1;
	return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
}

/* parse_status - an RFC 3463 code "c.sss.ddd" at the start of text whose class matches. */
static void
parse_status(struct smtp_reply *r, const char *t, size_t len)
{
	size_t i = 0, digits, part;

	if (len < 5 || t[0] != r->code / 100 + '0' || t[1] != '.')
		return;
	for (i = 2, part = 0; part < 2; part++) {
		for (digits = 0; i < len && isdigit((unsigned char)t[i]) && digits < 3; i++)
			digits++;
		if (digits == 0 || (part == 0 && (i >= len || t[i] != '.')))
			return;
		if (part == 0)
			i++;
	}
	if (i < len && t[i] != ' ')
		return;
	memcpy(r->status, t, i);
	r->status[i] = '\0';
}

static void
append_text(struct smtp_reply *r, const char *t, size_t len)
{
	size_t i;

	if (r->nlines > 1 && r->textlen + 1 < sizeof(r->text))
		r->text[r->textlen++] = '\n';
	for (i = 0; i < len && r->textlen + 1 < sizeof(r->text); i++) {
		unsigned char c = (unsigned char)t[i];

		r->text[r->textlen++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	r->text[r->textlen] = '\0';
}

int
smtp_reply_feed(struct smtp_reply *r, const char *line, size_t len)
{
	int code = parse_code(line, len);
	bool last;

	if (r->complete || code < 0 || (r->nlines > 0 && code != r->code))
		return -1;
	if (len > 3 && line[3] != ' ' && line[3] != '-')
		return -1;
	if (++r->nlines > SMTP_REPLY_LINES_MAX)
		return -1;
	last = len == 3 || line[3] == ' ';
	r->code = code;
	if (r->nlines == 1 && len > 4)
		parse_status(r, line + 4, len - 4);
	append_text(r, len > 4 ? line + 4 : "", len > 4 ? len - 4 : 0);
	r->complete = last;
	return last ? 1 : 0;
}

void
smtp_reply_oneline(const struct smtp_reply *r, char *out, size_t outsz)
{
	size_t o;
	const char *t;

	o = (size_t)snprintf(out, outsz, "%d ", r->code);
	for (t = r->text; *t && o + 1 < outsz; t++) {
		if (*t == '\n') {
			if (o + 4 >= outsz)
				break;
			memcpy(out + o, " / ", 3);
			o += 3;
		} else
			out[o++] = *t;
	}
	if (o < outsz)
		out[o] = '\0';
}

static bool
keyword(const char *line, size_t len, const char *kw)
{
	size_t n = strlen(kw);

	return len >= n && strncasecmp(line, kw, n) == 0 && (len == n || line[n] == ' ');
}

/* caps_auth - "AUTH PLAIN LOGIN" (or the old "AUTH=PLAIN LOGIN"): the mechanisms. */
static void
caps_auth(struct smtp_caps *c, const char *l, size_t len)
{
	size_t i, o = strlen(c->auth), start;
	bool list = o == 0;	/* a second AUTH line (AUTH= next to AUTH) only sets flags */

	for (i = 5; i < len; ) {
		while (i < len && l[i] == ' ')
			i++;
		for (start = i; i < len && l[i] != ' '; i++)
			;
		if (i == start)
			break;
		if (i - start == 5 && strncasecmp(l + start, "PLAIN", 5) == 0)
			c->auth_plain = true;
		if (i - start == 5 && strncasecmp(l + start, "LOGIN", 5) == 0)
			c->auth_login = true;
		if (!list || o + (o > 0) + (i - start) + 1 > sizeof(c->auth))
			continue;	/* keep the flags, cut the list */
		if (o > 0)
			c->auth[o++] = ' ';
		for (; start < i; start++)
			c->auth[o++] = (char)toupper((unsigned char)l[start]);
		c->auth[o] = '\0';
	}
}

static void
caps_line(struct smtp_caps *c, const char *l, size_t len)
{
	if (len >= 5 && strncasecmp(l, "AUTH", 4) == 0 && (l[4] == ' ' || l[4] == '='))
		caps_auth(c, l, len);
	else if (keyword(l, len, "PIPELINING"))
		c->pipelining = true;
	else if (keyword(l, len, "STARTTLS"))
		c->starttls = true;
	else if (keyword(l, len, "8BITMIME"))
		c->eightbitmime = true;
	else if (keyword(l, len, "SMTPUTF8"))
		c->smtputf8 = true;
	else if (keyword(l, len, "ENHANCEDSTATUSCODES"))
		c->enhancedstatuscodes = true;
	else if (keyword(l, len, "SIZE")) {
		c->has_size = true;
		c->size = len > 5 ? strtoull(l + 5, NULL, 10) : 0;
	}
}

void
smtp_reply_caps(const struct smtp_reply *r, struct smtp_caps *caps)
{
	const char *p = r->text, *nl;

	memset(caps, 0, sizeof(*caps));
	if ((nl = strchr(p, '\n')) == NULL)
		return;	/* a one-line reply has no capabilities */
	for (p = nl + 1; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		caps_line(caps, p, nl ? (size_t)(nl - p) : strlen(p));
		if (nl == NULL)
			break;
	}
}

/* contains - case-insensitive substring search in text (bounded by its NUL). */
static bool
contains(const char *text, const char *word)
{
	size_t wl = strlen(word);

	for (const char *p = text; *p; p++)
		if (strncasecmp(p, word, wl) == 0)
			return true;
	return false;
}

bool
smtp_reply_throttling(int code, const char *status, const char *text)
{
	static const char *const statuses[] = { "4.7.28", "4.3.2" };
	static const char *const words[] = { "too many connection", "too many concurrent",
		"connection limit", "connection rate", "rate limit", "ratelimit",
		"too many messages", "too fast", "slow down", "throttl", "try again later",
		"temporarily deferred", "concurrency", "server busy", "unexpected volume" };
	size_t i;

	if (code == 421)
		return true;
	if (code < 400 || code > 499)
		return false;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (contains(text, words[i]))
			return true;
	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (strcmp(status, statuses[i]) == 0)
			return true;
	return false;
}
