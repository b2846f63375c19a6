/*
 * addr.h - pure parser for mailboxes (RFC 5321 section 4.1.2 Mailbox, with the
 * RFC 6531 UTF-8 extension) and helpers to compare them.
 *
 * No I/O, no globals, no allocation.
 */
#ifndef HIKYAKU_ADDR_H
#define HIKYAKU_ADDR_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/smtp_limits.h"

enum addr_flags {
	ADDR_ALLOW_UTF8 = 1,	/* accept UTF-8 in local part and domain (RFC 6531) */
};

/*
 * addr_parse_mailbox - check that s[0..len) is exactly one RFC 5321 Mailbox:
 * Local-part "@" ( Domain / address-literal ). Local-part is a Dot-string or a
 * Quoted-string (at most 64 bytes); Domain is dot-separated labels of letters,
 * digits and hyphens (each 1..63, total at most 255), address-literal is
 * [IPv4] or [IPv6:...]. With ADDR_ALLOW_UTF8 valid UTF-8 sequences (no overlong
 * forms, no surrogates) count as letters. The whole must be at most ADDR_MAX
 * bytes. On success copies the mailbox to out (size outsz, at least len + 1)
 * with the ASCII letters of the domain lower-cased (UTF-8 bytes and the local
 * part are kept as they are), and returns 0. Returns -1 on any error.
 * A U-label's 63-byte limit is counted in UTF-8 bytes, not in its A-label form.
 */
int addr_parse_mailbox(const char *s, size_t len, unsigned flags, char *out,
    size_t outsz);

/*
 * addr_valid_domain - whether s[0..len) is a Domain or an address-literal as
 * accepted after the '@' by addr_parse_mailbox() (used for source routes).
 */
bool addr_valid_domain(const char *s, size_t len, unsigned flags);

/* addr_is_ascii - whether s holds only 7-bit bytes. */
bool addr_is_ascii(const char *s, size_t len);

/* addr_domain - pointer to the domain part (after the last '@'), or NULL. */
const char *addr_domain(const char *mailbox);

/*
 * addr_equal - compare two mailboxes as grant checks do: ASCII letters
 * compared case-insensitively in both the local part and the domain.
 */
bool addr_equal(const char *a, const char *b);

#endif
