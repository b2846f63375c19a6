/*
 * dataend.h - the DATA phase byte machine (RFC 5321 section 4.1.1.4, 4.5.2):
 * finds the end of data, removes dot-stuffing, and flags what we refuse.
 * And the inverse: dot-stuffing for sending.
 *
 * The only end of data is <CR><LF>.<CR><LF> (the first line of DATA counts as
 * preceded by <CR><LF>). A bare CR or bare LF anywhere is flagged (the session
 * answers 5xx after the end, like Postfix's smtpd_forbid_bare_newline=reject);
 * it never ends the message, so a second message cannot be smuggled in one.
 *
 * No I/O, no globals, no allocation.
 */
#ifndef HIKYAKU_DATAEND_H
#define HIKYAKU_DATAEND_H

#include <stdbool.h>
#include <stddef.h>

enum dataend_flag {
	DATAEND_BARE_CRLF = 1 << 0,	/* a CR not followed by LF, or a LF not after CR */
	DATAEND_LONG_LINE = 1 << 1,	/* a line longer than 998 bytes before CRLF
					 * (counted after unstuffing) */
	DATAEND_TOO_BIG = 1 << 2,	/* output would exceed max_size */
};

struct dataend {
	int state;		/* private */
	size_t linelen;		/* private */
	size_t size;		/* bytes of message produced so far (unstuffed, CRLF) */
	size_t max_size;	/* past this, stop producing and flag TOO_BIG */
	unsigned flags;		/* enum dataend_flag bits seen so far */
};

/* dataend_init - start a new DATA phase; max_size limits the produced bytes. */
void dataend_init(struct dataend *d, size_t max_size);

/*
 * dataend_feed - consume bytes in[0..len) received after "354". Writes the
 * message bytes (dot-unstuffed, lines ending in CRLF, the final CRLF of the
 * last line included, the terminating ".\r\n" not) to out, which must hold at
 * least len bytes (a call never writes more bytes than it consumes); *outlen
 * gets their count. A leading '.' is removed from every line that has one.
 * NUL is ordinary data. Once any flag is set, nothing more is written (what
 * was written before the flag may end mid-line) but the end is still looked
 * for; the caller then discards the message. Input may be split anywhere.
 * Returns the number of bytes consumed: all of len, or fewer when the end of
 * data was reached, in which case *done is set to true and the bytes after
 * the terminating ".\r\n" are left for the caller (pipelined commands).
 */
size_t dataend_feed(struct dataend *d, const char *in, size_t len, char *out,
    size_t *outlen, bool *done);

/*
 * dataend_stuff - dot-stuff a message for sending: every line that starts with
 * '.' gets one more. msg should consist of CRLF-terminated lines (or be
 * empty); defensively, a '.' after a bare CR or LF is doubled too, and a
 * missing final CRLF is added, so no lenient receiver can see an early end.
 * Writes to out (capacity outsz) and returns the length written, not counting
 * the terminator ".\r\n" which is appended too (so ret + 3 bytes are
 * written; an empty msg gives 0 and ".\r\n"); returns 0 and writes nothing if
 * outsz is too small.
 * dataend_stuffed_size - the size needed: all bytes, terminator included.
 */
size_t dataend_stuff(const char *msg, size_t len, char *out, size_t outsz);
size_t dataend_stuffed_size(const char *msg, size_t len);

#endif
