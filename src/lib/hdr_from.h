/*
 * hdr_from.h - pure extraction of the addresses in a message's From: header
 * fields (RFC 5322 section 3.4 and 3.6.2, with obsolete syntax of section 4,
 * RFC 6854 groups, RFC 2047 encoded words in display names, RFC 6532 UTF-8).
 *
 * No I/O, no globals; the result lives in the caller's struct.
 */
#ifndef HIKYAKU_HDR_FROM_H
#define HIKYAKU_HDR_FROM_H

#include <stddef.h>

#include "lib/smtp_limits.h"

#define HDR_FROM_MAX 32	/* addresses we examine; more is an error */

struct hdr_from {
	size_t nfields;	/* number of From: fields in the header block */
	size_t naddrs;
	char addrs[HDR_FROM_MAX][ADDR_MAX + 1];	/* local@domain, domain lower-cased */
};

/*
 * hdr_from_extract - find every From: field (name matched case-insensitively,
 * folded continuation lines joined) in the header block hdrs[0..len) - the
 * message up to, not including, the empty line - and collect the addr-spec of
 * every mailbox in them, skipping display names, comments (nested), quoted
 * strings in display names, RFC 2047 words, and group syntax
 * ("Team: a@x, b@y;"). A quoted local part is kept in its quoted form with
 * redundant quoting removed when the result is a valid dot-atom
 * ("\"john\"@x" -> "john@x"); CFWS around the dots and '@' of an addr-spec
 * is dropped ("john . doe @ example.jp" -> "john.doe@example.jp"); routes in
 * angle-addrs (<@x:a@b>) are dropped. Fields are found as msghdr_next() finds
 * them: the name must be exactly "From" (any case), WSP before the colon is
 * allowed. Lines end in CRLF.
 * Returns 0 and fills out (out->nfields may be 0: no From: at all; naddrs may
 * be 0 for an empty group "undisclosed:;"); returns -1 when a From: field
 * cannot be parsed (an unclosed quote, comment, literal, angle-addr or group,
 * or no mailbox nor group at all), holds an address that addr_parse_mailbox()
 * with ADDR_ALLOW_UTF8 rejects, holds a NUL, or when there are more than
 * HDR_FROM_MAX addresses in all; and when the block holds a bare CR or LF
 * anywhere (where its lines end would be ambiguous).
 */
int hdr_from_extract(const char *hdrs, size_t len, struct hdr_from *out);

#endif
