/*
 * dnsrec.h - pure parsers of the TXT records the doctor reads besides SPF:
 * DMARC (RFC 7489) and DKIM keys (RFC 6376 section 3.6.1, RFC 8463), both
 * tag=value lists; and the organizational domain of a name from the Public Suffix
 * List (RFC 7489 section 3.2).
 *
 * Input is the record as DNS gave it (any bytes, a length); nothing is
 * allocated; every field is bounded. A parse error fills err with a
 * sentence saying what is wrong.
 */
#ifndef HIKYAKU_DNSREC_H
#define HIKYAKU_DNSREC_H

#include <stdbool.h>
#include <stddef.h>

#define DNSREC_MAX 4096		/* bytes of one record we parse */
#define DNSREC_URIS 8		/* rua= URIs kept */
#define DNSREC_URI_MAX 256

enum dmarc_policy { DMARC_NONE, DMARC_QUARANTINE, DMARC_REJECT };

struct dmarc_record {
	enum dmarc_policy p;
	bool p_given;			/* false: p= missing or invalid, but rua= valid (section 6.6.3) */
	enum dmarc_policy sp;		/* p unless given */
	bool strict_spf;		/* aspf=s */
	bool strict_dkim;		/* adkim=s */
	int pct;			/* 0..100, default 100 */
	size_t nrua;
	char rua[DNSREC_URIS][DNSREC_URI_MAX];
};

/* dmarc_is_record - whether txt starts with "v=DMARC1" as its first tag. */
bool dmarc_is_record(const char *txt, size_t len);
/* dmarc_parse - a DMARC record; 0, or -1 with err (the record is then ignored, section 6.6.3). */
int dmarc_parse(const char *txt, size_t len, struct dmarc_record *out, char *err, size_t errsz);
/* dmarc_policy_name - "none", "quarantine", "reject". */
const char *dmarc_policy_name(enum dmarc_policy p);

enum dkim_keytype { DKIM_KEY_RSA, DKIM_KEY_ED25519 };

struct dkim_keyrec {
	enum dkim_keytype k;
	bool testing;			/* t=y */
	bool revoked;			/* p= empty */
	char p[DNSREC_MAX];		/* the public key, base64 with whitespace removed */
	size_t plen;
};

/* dkim_keyrec_parse - a DKIM key record (v=DKIM1 optional, first if given); 0 or -1 with err. */
int dkim_keyrec_parse(const char *txt, size_t len, struct dkim_keyrec *out, char *err,
    size_t errsz);

/*
 * org_domain - the organizational domain of domain (lower case, no final
 * dot): the public suffix by the rules of psl[0..psllen) (the Public Suffix
 * List's text; NULL or empty: the last label is the public suffix) plus one
 * label. out gets domain itself when it is a public suffix. 0, or -1 when
 * it does not fit.
 */
int org_domain(const char *psl, size_t psllen, const char *domain, char *out, size_t outsz);

#endif
