/*
 * msghdr.h - pure helpers over an RFC 5322 message held in memory with CRLF
 * line endings: where the header block ends, whether a field is present.
 *
 * Lines end only at CRLF; a bare CR or LF is part of its line. A field is
 * "Name:" where Name is 1*ftext (printable ASCII but ':'), optionally followed
 * by SP/HT before the colon (RFC 5322 section 4.5, obsolete syntax). The same
 * rules are used by hdr_from, so both agree on where every field is.
 */
#ifndef HIKYAKU_MSGHDR_H
#define HIKYAKU_MSGHDR_H

#include <stdbool.h>
#include <stddef.h>

/*
 * msghdr_end - length of the header block: the offset just past the CRLF that
 * ends the last header line (so that msg + result starts with the empty line's
 * CRLF, or is the end of msg when there is no body). A message that does not
 * start with a header field ("Name:") has a header block of length 0.
 * A line that is neither a field, a continuation (starting with SP or HT) nor
 * empty ends the header block too (it is then body, as Postfix treats it).
 * A last header line without CRLF at the end of msg belongs to the block.
 */
size_t msghdr_end(const char *msg, size_t len);

/* msghdr_has - whether the header block hdrs[0..len) has a field named name
 * (case-insensitive, without the colon). */
bool msghdr_has(const char *hdrs, size_t len, const char *name);

/*
 * msghdr_value - find the first field named name; set *val and *vallen to its
 * raw value (after the colon, continuation lines included, final CRLF not).
 * Returns false when absent.
 */
bool msghdr_value(const char *hdrs, size_t len, const char *name,
    const char **val, size_t *vallen);

/* One field of a header block; the pointers point into the block. */
struct msghdr_field {
	const char *name;	/* without trailing WSP and colon */
	size_t namelen;
	const char *value;	/* after the colon up to, not including, the CRLF
				 * that ends the field; folds kept */
	size_t valuelen;
};

/*
 * msghdr_next - iterate over the fields of the header block hdrs[0..len):
 * *pos starts at 0 and is advanced past each field. Returns true and fills f
 * with the next field, false when there is none left. Lines that are not
 * fields (a leading continuation, a line without a colon) are skipped.
 */
bool msghdr_next(const char *hdrs, size_t len, size_t *pos,
    struct msghdr_field *f);

#endif
