/*
 * dkim.h - the pure core of DKIM signing (RFC 6376, RFC 8463): header and
 * body canonicalisation, the choice of header fields to sign (with
 * over-signing), the DKIM-Signature header field itself, folded, and the
 * exact bytes whose hash is signed.
 *
 * No I/O, no globals, no allocation, no cryptography: bytes leave through a
 * sink callback (the caller hashes them, or collects them in a test), and the
 * caller supplies the body hash and the signature as base64 text. Messages
 * are held as CRLF lines, as hikyaku stores them; a bare CR or LF is an
 * ordinary byte. Header fields are found with msghdr_next(), so DKIM sees the
 * same fields as the rest of hikyaku.
 */
#ifndef HIKYAKU_DKIM_H
#define HIKYAKU_DKIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/msghdr.h"

#define DKIM_LINE_MAX 78	/* folded DKIM-Signature lines, CRLF not counted */
#define DKIM_H_PER_NAME 8	/* occurrences of one name listed in h= at most */
#define DKIM_H_MAX 320		/* entries in h= at most (names x (per-name + 1)) */
#define DKIM_H_NAMES 64		/* distinct names in h= that are looked up */
#define DKIM_SIG_MAX 8192	/* a built DKIM-Signature field, b= included */
#define DKIM_DOMAIN_MAX 253
#define DKIM_SELECTOR_MAX 63

enum dkim_canon { DKIM_CANON_SIMPLE, DKIM_CANON_RELAXED };

/* A sink receives canonical bytes, in order, in pieces of any size. */
typedef void (*dkim_sink)(void *arg, const char *p, size_t n);

/*
 * dkim_body_offset - where the body of msg[0..len) starts: after the header
 * block (msghdr_end) and the empty line that ends it. When the header block
 * is not followed by an empty line (a non-field line ends it, as msghdr_end
 * allows), the body starts right after the header block.
 */
size_t dkim_body_offset(const char *msg, size_t len);

/*
 * dkim_canon_body - canonicalise body[0..len) (RFC 6376 section 3.4.3,
 * 3.4.4) into out. Simple: trailing empty lines removed, a missing final
 * CRLF added, an empty body becomes one CRLF. Relaxed: WSP at line ends
 * removed, other WSP runs become one SP, trailing empty lines removed, a
 * missing final CRLF added to a non-empty body; an empty body stays empty
 * (RFC 6376 erratum 1384, as dkimpy and Mail::DKIM do).
 */
void dkim_canon_body(enum dkim_canon c, const char *body, size_t len, dkim_sink out,
    void *arg);

/*
 * dkim_canon_header - canonicalise one field (RFC 6376 section 3.4.1, 3.4.2)
 * into out, ending with CRLF. Simple: the field as it is (name, any WSP,
 * colon, value with its folds). Relaxed: name lower-cased, WSP around the
 * colon removed, value unfolded, WSP runs made one SP, WSP at the end
 * removed.
 */
void dkim_canon_header(enum dkim_canon c, const struct msghdr_field *f, dkim_sink out,
    void *arg);

/* The h= list: names point to static lower-case strings. */
struct dkim_hlist {
	size_t n;
	const char *names[DKIM_H_MAX];
};

/*
 * dkim_select_headers - the h= list for the header block hdrs[0..len): for
 * each name hikyaku signs (from, sender, reply-to, subject, date,
 * message-id, to, cc, in-reply-to, references, mime-version, content-type,
 * content-transfer-encoding, list-id, list-unsubscribe,
 * list-unsubscribe-post, feedback-id, the other list-* fields and the
 * resent-* fields), the name once per field present (at most
 * DKIM_H_PER_NAME times) and, for the over-signed names (all but the other
 * list-* and the resent-* ones, which a forwarder may add legitimately),
 * once more, so that a field added later breaks the signature.
 */
void dkim_select_headers(const char *hdrs, size_t len, struct dkim_hlist *out);

/* The tags of one signature. */
struct dkim_sig {
	const char *algo;		/* "rsa-sha256" or "ed25519-sha256" */
	const char *domain;		/* d= */
	const char *selector;		/* s= */
	int64_t t;			/* t= */
	const struct dkim_hlist *h;
	const char *bh;			/* base64 body hash */
};

/*
 * dkim_sig_begin - "DKIM-Signature: v=1; a=...; c=relaxed/relaxed; d=...;
 * s=...; t=...; h=...; bh=...; b=" into out (capacity outsz), folded with
 * CRLF HTAB so that no line is longer than DKIM_LINE_MAX, without CRLF at
 * the end. Returns its length, or 0 when it does not fit or a tag value
 * holds a byte that cannot appear in it (';', WSP, CR, LF, non-ASCII).
 */
size_t dkim_sig_begin(const struct dkim_sig *sig, char *out, size_t outsz);

/*
 * dkim_signed_data - the bytes to hash and sign (RFC 6376 section 3.7): the
 * fields named in h (for a name listed k times, the k last fields of that
 * name, from the bottom up; a name listed more often than present adds
 * nothing) of the header block hdrs[0..len), relaxed-canonicalised, then the
 * DKIM-Signature field sig[0..siglen) as dkim_sig_begin made it,
 * relaxed-canonicalised, without its final CRLF. At most DKIM_H_MAX entries
 * of h, DKIM_H_NAMES distinct names and DKIM_H_PER_NAME + 1 fields of one
 * name are looked at (dkim_select_headers stays within these); entries
 * beyond add nothing.
 */
void dkim_signed_data(const char *hdrs, size_t len, const struct dkim_hlist *h,
    const char *sig, size_t siglen, dkim_sink out, void *arg);

/*
 * dkim_sig_finish - append the base64 signature b64 to sig[0..siglen)
 * (capacity sigsz), folded like the rest, and the final CRLF. Returns the
 * new length, or 0 when it does not fit.
 */
size_t dkim_sig_finish(char *sig, size_t siglen, size_t sigsz, const char *b64);

/*
 * dkim_parent_domain - the parent of domain d ("mail.example.jp" ->
 * "example.jp"), a pointer into d; NULL when the parent would have no dot
 * (keys are never looked up for a top-level domain).
 */
const char *dkim_parent_domain(const char *d);

/*
 * dkim_valid_domain - whether d is a domain we sign for: LDH labels of 1 to
 * 63 bytes, at least two of them, at most DKIM_DOMAIN_MAX in all, no
 * leading or trailing hyphen in a label, ASCII (an IDN in its A-label form).
 * dkim_valid_selector - the same rules, but one label is enough and the
 * whole is at most DKIM_SELECTOR_MAX.
 */
bool dkim_valid_domain(const char *d);
bool dkim_valid_selector(const char *s);

#endif
