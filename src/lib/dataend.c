/*
 * dataend.c - the DATA phase byte machine: one state per position that
 * matters for finding <CRLF>.<CRLF>, so input may arrive split anywhere.
 *
 * Only CR LF moves to the start of a line. A bare CR or LF is flagged and
 * treated as data, never as a line end, so "\n.\n", "\r.\r", "\r\n.\n" and
 * the like cannot end the message (SMTP smuggling). Each input byte produces
 * at most one output byte, so out never needs more room than the input.
 * Line length is counted on the unstuffed line, without the CRLF.
 */
#include "lib/dataend.h"

#define LINE_MAX_BYTES 998	/* RFC 5322 section 2.1.1, before CRLF */

enum {
	S_BOL,		/* at the start of a line */
	S_DOT,		/* a line started with '.', dropped */
	S_DOT_CR,	/* ".\r" at the start of a line: the end if LF follows */
	S_TEXT,		/* inside a line */
	S_CR,		/* a CR inside a line */
	S_DONE,		/* ".\r\n" seen */
};

/* Where dataend_feed() writes, with the room checked by its caller's contract. */
struct sink {
	char *out;
	size_t n;
};

void
dataend_init(struct dataend *d, size_t max_size)
{
	d->state = S_BOL;
	d->linelen = 0;
	d->size = 0;
	d->max_size = max_size;
	d->flags = 0;
}

/* emit - write one message byte unless a flag stops output. */
static void
emit(struct dataend *d, struct sink *k, char c)
{
	if (d->flags != 0)
		return;
	if (d->size >= d->max_size) {
		d->flags |= DATAEND_TOO_BIG;
		return;
	}
	k->out[k->n++] = c;
	d->size++;
}

/* text - a byte inside a line (state S_TEXT). */
static void
text(struct dataend *d, struct sink *k, char c)
{
	d->state = S_TEXT;
	if (c == '\r') {
		d->state = S_CR;
		emit(d, k, c);
		return;
	}
	if (c == '\n') {
		d->flags |= DATAEND_BARE_CRLF;
		return;
	}
	if (++d->linelen > LINE_MAX_BYTES)
		d->flags |= DATAEND_LONG_LINE;
	emit(d, k, c);
}

/* after_cr - the byte after a CR inside a line. */
static void
after_cr(struct dataend *d, struct sink *k, char c)
{
	if (c != '\n') {
		d->flags |= DATAEND_BARE_CRLF;
		text(d, k, c);
		return;
	}
	emit(d, k, c);
	d->linelen = 0;
	d->state = S_BOL;
}

/* step - one byte; returns true when it completed the end of data. */
static bool
step(struct dataend *d, struct sink *k, char c)
{
	switch (d->state) {
	case S_BOL:
		if (c == '.')
			d->state = S_DOT;
		else
			text(d, k, c);
		return false;
	case S_DOT:
		if (c == '\r')
			d->state = S_DOT_CR;
		else
			text(d, k, c);
		return false;
	case S_DOT_CR:
		if (c == '\n') {
			d->state = S_DONE;
			return true;
		}
		d->flags |= DATAEND_BARE_CRLF;
		text(d, k, c);
		return false;
	case S_CR:
		after_cr(d, k, c);
		return false;
	default:
		text(d, k, c);
		return false;
	}
}

size_t
dataend_feed(struct dataend *d, const char *in, size_t len, char *out,
    size_t *outlen, bool *done)
{
	struct sink k = { out, 0 };
	size_t i;

	*done = d->state == S_DONE;
	for (i = 0; i < len && !*done; i++)
		*done = step(d, &k, in[i]);
	*outlen = k.n;
	return i;
}

/* line_start - whether msg[i] starts a line; a bare CR or LF counts too. */
static bool
line_start(const char *msg, size_t i)
{
	return i == 0 || msg[i - 1] == '\n' || msg[i - 1] == '\r';
}

/* needs_crlf - whether a non-empty msg lacks its final CRLF. */
static bool
needs_crlf(const char *msg, size_t len)
{
	return len > 0 && (len < 2 || msg[len - 2] != '\r' || msg[len - 1] != '\n');
}

size_t
dataend_stuffed_size(const char *msg, size_t len)
{
	size_t i, n = len + 3;

	for (i = 0; i < len; i++)
		if (msg[i] == '.' && line_start(msg, i))
			n++;
	return needs_crlf(msg, len) ? n + 2 : n;
}

size_t
dataend_stuff(const char *msg, size_t len, char *out, size_t outsz)
{
	size_t i, o = 0;

	if (outsz < dataend_stuffed_size(msg, len))
		return 0;
	for (i = 0; i < len; i++) {
		if (msg[i] == '.' && line_start(msg, i))
			out[o++] = '.';
		out[o++] = msg[i];
	}
	if (needs_crlf(msg, len)) {
		out[o++] = '\r';
		out[o++] = '\n';
	}
	out[o] = '.';
	out[o + 1] = '\r';
	out[o + 2] = '\n';
	return o;
}
