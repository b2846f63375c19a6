/*
 * tlsrpt.h - SMTP TLS Reporting (RFC 8460) pure cores: the JSON aggregate
 * report, the report message (RFC 8460 section 5.3) around its gzip'd JSON,
 * and https rua URLs (the _smtp._tls TXT record: lib/tlsrec.h).
 *
 * No I/O, no globals; tlsrpt_json() and tlsrpt_mail() allocate their
 * result (malloc; they abort when out of memory) and the caller frees it.
 */
#ifndef HIKYAKU_TLSRPT_H
#define HIKYAKU_TLSRPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/tlsrec.h"	/* the _smtp._tls TXT record */


/* RFC 8460 4.3 result types (and "success", our name for a good session). */
#define TLSRPT_SUCCESS "success"
#define TLSRPT_STARTTLS_NOT_SUPPORTED "starttls-not-supported"
#define TLSRPT_CERT_HOST_MISMATCH "certificate-host-mismatch"
#define TLSRPT_CERT_EXPIRED "certificate-expired"
#define TLSRPT_CERT_NOT_TRUSTED "certificate-not-trusted"
#define TLSRPT_VALIDATION_FAILURE "validation-failure"
#define TLSRPT_TLSA_INVALID "tlsa-invalid"
#define TLSRPT_DNSSEC_INVALID "dnssec-invalid"
#define TLSRPT_DANE_REQUIRED "dane-required"
#define TLSRPT_STS_FETCH_ERROR "sts-policy-fetch-error"
#define TLSRPT_STS_INVALID "sts-policy-invalid"
#define TLSRPT_STS_WEBPKI_INVALID "sts-webpki-invalid"

/*
 * tlsrpt_url_split - "https://HOST[:PORT][/PATH]" into host (a name of
 * letters, digits, '-', '.'), port (443 when absent) and path ("/" when
 * absent). 0, or -1 for anything else (IP literals, user info, ...).
 */
int tlsrpt_url_split(const char *url, char *host, size_t hostsz, unsigned *port, char *path,
    size_t pathsz);

/* One failure-details entry. Strings are copied into the report, escaped. */
struct tlsrpt_failure {
	const char *result;	/* result-type */
	const char *sending_ip;	/* sending-mta-ip ("" to leave out) */
	const char *mx;		/* receiving-mx-hostname */
	const char *ip;		/* receiving-ip ("" to leave out) */
	const char *reason;	/* failure-reason-code ("" to leave out) */
	uint64_t count;		/* failed-session-count */
};

/* One entry of "policies". */
struct tlsrpt_policy {
	const char *type;	/* "sts", "tlsa" or "no-policy-found" */
	const char *domain;	/* policy-domain */
	const char *strings;	/* policy-string lines, LF-separated ("": none) */
	const char *mx_hosts;	/* mx-host entries, LF-separated ("": none) */
	uint64_t success, failure;
	const struct tlsrpt_failure *fail;
	size_t nfail;
};

struct tlsrpt_report {
	const char *org;	/* organization-name */
	const char *contact;	/* contact-info */
	const char *id;		/* report-id */
	int64_t start, end;	/* date-range, seconds since the epoch (UTC) */
	const struct tlsrpt_policy *pol;
	size_t npol;
};

/* tlsrpt_json - the report as RFC 8460 4.4 JSON, NUL-terminated; its length in *len. */
char *tlsrpt_json(const struct tlsrpt_report *r, size_t *len);

/* The report message (RFC 8460 5.3) for one mailbox. */
struct tlsrpt_mail {
	const char *hostname;	/* the submitter: From: and TLS-Report-Submitter */
	const char *domain;	/* TLS-Report-Domain */
	const char *id;		/* report-id (also the Message-ID's left part) */
	const char *to;		/* the rua mailbox */
	int64_t start, end, now;
	const unsigned char *gz;	/* the gzip'd JSON */
	size_t gzlen;
};

/* tlsrpt_mail - the message, CRLF lines, ready for the queue; its length in *len. */
char *tlsrpt_mail(const struct tlsrpt_mail *m, size_t *len);

#endif
