/*
 * smtp_reply.h - pure parser for replies from remote SMTP servers (RFC 5321
 * section 4.2), which are hostile input: multi-line replies are bounded in
 * line count and length, codes must agree across lines, and the text is
 * kept only as printable ASCII. Also the EHLO capability parser.
 *
 * No I/O, no globals, no allocation.
 */
#ifndef HIKYAKU_SMTP_REPLY_H
#define HIKYAKU_SMTP_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#define SMTP_REPLY_LINES_MAX 100	/* more lines: malformed */
#define SMTP_REPLY_TEXT_MAX 1024	/* text kept; the rest is cut */

struct smtp_reply {
	int code;		/* 200..599 once complete */
	char status[16];	/* "5.1.1" when the first line carries one, else "" */
	char text[SMTP_REPLY_TEXT_MAX];	/* lines joined by "\n", printable ASCII only */
	size_t textlen;
	size_t nlines;
	bool complete;
};

/* smtp_reply_init - start a new reply. */
void smtp_reply_init(struct smtp_reply *r);

/*
 * smtp_reply_feed - add one line (without CRLF). Returns 1 when the reply is
 * complete, 0 when more lines follow, -1 when the line is malformed (bad
 * code, code differing from the first line's, bad separator, too many lines).
 */
int smtp_reply_feed(struct smtp_reply *r, const char *line, size_t len);

/* smtp_reply_oneline - "550 5.1.1 text / more text" for logs and DSNs, into out. */
void smtp_reply_oneline(const struct smtp_reply *r, char *out, size_t outsz);

#define SMTP_CAPS_AUTH_MAX 128

struct smtp_caps {
	bool pipelining, starttls, eightbitmime, smtputf8, enhancedstatuscodes;
	bool has_size;
	unsigned long long size;	/* 0 with has_size: no fixed limit */
	bool auth_plain, auth_login;	/* among the AUTH mechanisms */
	char auth[SMTP_CAPS_AUTH_MAX];	/* "PLAIN LOGIN" as announced (upper-cased, cut); "": no AUTH */
};

/* smtp_reply_caps - capabilities from a complete EHLO reply (all lines but the first). */
void smtp_reply_caps(const struct smtp_reply *r, struct smtp_caps *caps);

/*
 * smtp_reply_throttling - whether a reply (code, enhanced status or "",
 * text) says the server is refusing because of too many connections or too
 * fast a rate, rather than about this message: 421 at any stage, or a 4xx
 * with status 4.7.28 or 4.3.2 or with text about connections, rate,
 * throttling, volume, a busy server or "try again later". Such a
 * destination wants less concurrency, not a five-minute retry of each
 * message. Greylisting (4.2.0, 4.7.1 without such words) is not one.
 */
bool smtp_reply_throttling(int code, const char *status, const char *text);

#endif
