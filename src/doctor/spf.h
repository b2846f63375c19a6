/*
 * spf.h - the pure core of SPF (RFC 7208): the record's syntax, macro
 * expansion (section 7) and check_host() (sections 4 and 5) with include,
 * a, mx, ptr, ip4, ip6, exists, redirect and exp, the limit of 10 terms
 * that query DNS and of 2 void lookups (section 4.6.4), permerror and
 * temperror.
 *
 * No I/O, no globals, no allocation: DNS answers come from the caller's
 * lookup function (the doctor's blocking resolver, or a table in the unit
 * tests), and all scratch space is in the caller's struct spf_ctx. The
 * problems it describes are for people and go through gettext (English
 * unless the program has set a locale, as only the CLI does); a temperror's
 * stays English, since the readiness gate quotes it in a 451 reply.
 *
 * Where RFC 7208 leaves room, hikyaku chooses:
 *   - a void lookup is a term's own query (the address query of "a", the MX
 *     query of "mx", the PTR query of "ptr", the A query of "exists") that
 *     answers NXDOMAIN or no records; the address queries for the names an
 *     MX or PTR answer lists do not count (pyspf counts every query);
 *   - %{p} costs no term of the 10 (as in pyspf);
 *   - a record longer than SPF_RECORD_MAX bytes, or a macro expansion
 *     longer than SPF_EXPAND_MAX, is a permerror.
 */
#ifndef HIKYAKU_SPF_H
#define HIKYAKU_SPF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dns.h"

#define SPF_RECORD_MAX 4096	/* bytes of one SPF record */
#define SPF_LOOKUP_MAX 10	/* terms that query DNS (RFC 7208 section 4.6.4) */
#define SPF_VOID_MAX 2		/* void lookups */
#define SPF_MX_MAX 10		/* names of one MX answer */
#define SPF_PTR_MAX 10		/* names of one PTR answer looked at */
#define SPF_DEPTH_MAX (SPF_LOOKUP_MAX + 2)	/* records in one evaluation */
#define SPF_EXPAND_MAX 1024	/* one macro expansion */
#define SPF_TERM_MAX 255	/* a term quoted in an outcome */

enum spf_result {
	SPF_NONE,
	SPF_NEUTRAL,
	SPF_PASS,
	SPF_FAIL,
	SPF_SOFTFAIL,
	SPF_TEMPERROR,
	SPF_PERMERROR,
};

/* spf_result_name - "pass", "fail", "softfail", "neutral", "none", "permerror", "temperror". */
const char *spf_result_name(enum spf_result r);

/* An IP address: family AF_INET (addr[0..4)) or AF_INET6 (addr[0..16)). */
struct spf_ip {
	int family;
	uint8_t addr[16];
};

/* spf_ip_parse - a numeric IPv4 or IPv6 address; 0, or -1. */
int spf_ip_parse(const char *s, struct spf_ip *out);

/*
 * spf_lookup_fn - answer name/type (DNS_T_TXT, DNS_T_A, DNS_T_AAAA, DNS_T_MX,
 * DNS_T_PTR) into ans, returning ans->status: DNS_OK with records,
 * DNS_NXDOMAIN or DNS_NODATA, or DNS_TEMPFAIL.
 */
typedef enum dns_status (*spf_lookup_fn)(void *arg, const char *name, int type,
    struct dns_answer *ans);

struct spf_request {
	struct spf_ip ip;		/* the client: %{i}, %{c}, %{v} */
	const char *sender;		/* MAIL FROM, "local@domain": %{s}, %{l}, %{o} */
	const char *domain;		/* check_host's <domain>: %{d} */
	const char *helo;		/* %{h} */
	const char *receiver;		/* %{r} in exp= text; NULL: "unknown" */
	int64_t now;			/* %{t} */
	spf_lookup_fn lookup;
	void *lookup_arg;
	/* What if: when set, the SPF record of domain is taken to be this text
	 * (which must start with v=spf1) instead of what DNS says. */
	const char *override;
};

/* What check_host() found. */
struct spf_outcome {
	enum spf_result result;
	char record[SPF_RECORD_MAX + 1];	/* the top-level record; "" when none */
	int nrecords;				/* v=spf1 records at the top domain */
	char term[SPF_TERM_MAX + 1];		/* the directive that matched; "" for none */
	char term_domain[DNS_NAME_MAX + 1];	/* the domain whose record holds it */
	bool by_redirect;			/* the top record's redirect= decided */
	/*
	 * Where in record an ip4:/ip6: mechanism for the client would be
	 * inserted to make it match first: before the top-level mechanism that
	 * decided, else after the last mechanism (before any modifier).
	 */
	size_t insert_at;
	char problem[600];		/* permerror, temperror: what went wrong */
	char explanation[512];		/* fail: the exp= text, if any */
	int lookups;			/* terms that queried DNS */
	int voids;			/* void lookups */
};

/* The scratch space of one evaluation; the caller allocates it (about 85 KiB). */
struct spf_ctx {
	const struct spf_request *req;
	struct spf_outcome *out;
	struct dns_answer ans;
	char rec[SPF_DEPTH_MAX][SPF_RECORD_MAX + 1];
	int depth;
	char p[DNS_NAME_MAX + 1];	/* %{p}, once computed */
	bool have_p;
};

/*
 * spf_check - check_host(ip, domain, sender) of req; fills out and returns
 * out->result. ctx is scratch space for the call.
 */
enum spf_result spf_check(const struct spf_request *req, struct spf_ctx *ctx,
    struct spf_outcome *out);

/*
 * spf_record_check - the syntax of record[0..len) (which starts with
 * v=spf1): 0, or -1 with what is wrong in err (naming the term).
 */
int spf_record_check(const char *record, size_t len, char *err, size_t errsz);

/*
 * spf_is_record - whether txt[0..len) is an SPF record: "v=spf1" (any
 * case) followed by a space or its end.
 */
bool spf_is_record(const char *txt, size_t len);

/*
 * spf_expand - expand the macro-string spec[0..len) (section 7) for req and
 * the current domain into out (capacity outsz, NUL-terminated). exp true
 * allows the c, r and t letters (explanation text); a domain (exp false)
 * loses a final dot and, beyond 253 bytes, labels from the left. %{p} is
 * expanded as p (NULL: "unknown"). Returns 0, or -1 with the problem in err.
 */
int spf_expand(const struct spf_request *req, const char *domain, const char *p,
    const char *spec, size_t len, bool exp, char *out, size_t outsz, char *err,
    size_t errsz);

/*
 * spf_insert - record with "MECH " inserted at offset at (as
 * spf_outcome.insert_at says), single spaces kept, into out. Returns 0, or
 * -1 when it does not fit.
 */
int spf_insert(const char *record, size_t at, const char *mech, char *out, size_t outsz);

#endif
