/*
 * tlsrec.h - the TXT records by which a domain announces its TLS policies:
 * MTA-STS (_mta-sts, RFC 8461 section 3.1) and TLS-RPT (_smtp._tls, RFC
 * 8460 section 3). Delivery acts on them (tlspolicy/, deliver/) and the
 * doctor judges them with the same parser, so the two cannot disagree.
 *
 * No I/O, no globals, no allocation. Every input is hostile: it comes from
 * DNS, which the recipient domain controls.
 */
#ifndef HIKYAKU_TLSREC_H
#define HIKYAKU_TLSREC_H

#include <stdbool.h>
#include <stddef.h>

#define STS_ID_MAX 32			/* id= is 1 to 32 letters and digits */
#define TLSRPT_MAX_RUA 8		/* report destinations kept */
#define TLSRPT_URI_MAX 1024

/* Why a record was refused; the doctor words each for people. */
enum tlsrec_error {
	TLSREC_OK,
	TLSREC_VERSION,		/* it does not start with v=STSv1 (v=TLSRPTv1) */
	TLSREC_SYNTAX,		/* a field is not name=value, or fields are not separated by ';' */
	TLSREC_ID,		/* id= is not 1 to 32 letters and digits */
	TLSREC_NO_ID,		/* no id= */
	TLSREC_RUA,		/* rua= has an empty entry */
	TLSREC_NO_RUA,		/* no rua= */
	TLSREC_RUA_UNUSABLE,	/* rua= names no mailto: mailbox and no https: URL */
};

/*
 * sts_txt_is_sts - whether a TXT record claims to be MTA-STS (starts with
 * "v=STSv1" then ';', blank or the end); the others are ignored (3.1).
 */
bool sts_txt_is_sts(const char *txt);

/*
 * sts_txt_parse - an MTA-STS TXT record: "v=STSv1; id=ID;" with optional
 * extension fields. Copies the id into id. 0, or -1 when it does not
 * follow the grammar or has no id, with the reason in *why (may be NULL).
 */
int sts_txt_parse(const char *txt, char id[STS_ID_MAX + 1], enum tlsrec_error *why);

/* Where TLS reports go: mailto: addresses and https: URLs. */
struct tlsrpt_rua {
	struct {
		bool https;			/* else mailto */
		char uri[TLSRPT_URI_MAX];	/* the address (decoded), or the URL */
	} to[TLSRPT_MAX_RUA];
	size_t n;
};

/* tlsrpt_txt_is_rpt - whether a TXT record starts with "v=TLSRPTv1" (others are ignored). */
bool tlsrpt_txt_is_rpt(const char *txt);

/*
 * tlsrpt_txt_parse - a TLS-RPT TXT record: "v=TLSRPTv1; rua=URI[,URI...]"
 * with optional extension fields. mailto: URIs yield their
 * (percent-decoded) address, which must be a valid mailbox; https: URIs
 * are kept as they are; other schemes are skipped. 0, or -1 when the
 * record does not follow the grammar or names no usable destination, with
 * the reason in *why (may be NULL).
 */
int tlsrpt_txt_parse(const char *txt, struct tlsrpt_rua *out, enum tlsrec_error *why);

#endif
