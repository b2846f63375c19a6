/*
 * report.h - what the doctor found for one domain: the checks as printed
 * (pass / warn / fail, why, the fix), the SPF result per relay IP, and the
 * facts the verdicts are drawn from, by two pure cores:
 *
 *   verdict.c, the gate's verdict - would Gmail refuse this domain's mail?
 *     (no SPF pass and no usable DKIM, DMARC alignment impossible, a relay
 *     IP on a blocklist): ready, not ready with the reply text that names
 *     the fix, or unknown while DNS cannot be asked. That text is an SMTP
 *     reply and a log line: English, never translated;
 *   readiness.c, the readiness summary against Gmail's and Yahoo's 2024
 *     sender requirements, for every sender and for bulk senders: for
 *     people, in their language (gettext).
 *
 * The checks' messages and fixes are translated (the CLI sets the locale;
 * the daemon never does, and the gate reads only the facts); the records
 * to publish inside the fixes are data and stay as they are.
 */
#ifndef HIKYAKU_REPORT_H
#define HIKYAKU_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "doctor/spf.h"

#define DOCTOR_CHECKS_MAX 64
#define DOCTOR_IPS_MAX 8
#define DOCTOR_MSG_MAX 1200		/* room for a translation (UTF-8) */
#define DOCTOR_FIX_MAX (SPF_RECORD_MAX + 1200)
#define DOCTOR_REASON_MAX 400		/* fits a reply line */

enum doctor_area { AREA_SPF, AREA_DKIM, AREA_DMARC, AREA_PTR, AREA_DNSBL, AREA_MX,
	AREA_MTASTS, AREA_TLSRPT };
enum doctor_status { DOCTOR_PASS, DOCTOR_WARN, DOCTOR_FAIL };

/* tri - a fact that DNS may not have been able to settle. */
enum tri { TRI_NO, TRI_YES, TRI_UNKNOWN };

struct doctor_check {
	enum doctor_area area;
	enum doctor_status status;
	char message[DOCTOR_MSG_MAX];	/* one sentence or two: what was found */
	char fix[DOCTOR_FIX_MAX];	/* what to publish or change; "" for none */
};

struct doctor_report {
	char domain[DNS_NAME_MAX + 1];
	size_t nips;
	char ip[DOCTOR_IPS_MAX][48];		/* the relay IPs, as text */
	enum spf_result spf[DOCTOR_IPS_MAX];	/* per relay IP */
	size_t nchecks;
	struct doctor_check checks[DOCTOR_CHECKS_MAX];

	/* facts */
	enum tri spf_pass;		/* SPF passes for every relay IP */
	enum tri dkim_usable;		/* a local key is published and matches */
	enum tri dkim_aligned;		/* ... with a d= DMARC alignment accepts */
	enum tri dmarc;			/* a valid DMARC record applies */
	enum tri fcrdns;		/* every relay IP has a PTR that resolves back */
	enum tri listed;		/* a relay IP is on a blocklist */
	char spf_fix[DOCTOR_FIX_MAX];	/* the SPF record that would pass; "" if none */
	char spf_failing[DOCTOR_IPS_MAX * 48];	/* relay IPs SPF does not authorise */
	char listed_ip[48];		/* the first relay IP found on a blocklist */
	char listed_zone[DNS_NAME_MAX + 1];	/* and that blocklist */
	char dns_problem[300];		/* the first DNS failure, in the resolver's
					 * (English) words: the gate's 451 quotes it */
};

/* doctor_area_name, doctor_status_name - "spf", "mta-sts" ...; "pass", "warn", "fail". */
const char *doctor_area_name(enum doctor_area a);
const char *doctor_status_name(enum doctor_status s);

/* doctor_add - append a check (formatted message); the fix is set by the caller. Returns it. */
struct doctor_check *doctor_add(struct doctor_report *r, enum doctor_area area,
    enum doctor_status status, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* doctor_failed - whether some check fails. */
bool doctor_failed(const struct doctor_report *r);

enum gate_state { GATE_READY, GATE_NOT_READY, GATE_UNKNOWN };

/* gate_state_name - "ready", "not-ready", "unknown" (as stored); gate_state_parse the inverse. */
const char *gate_state_name(enum gate_state s);
int gate_state_parse(const char *s, enum gate_state *out);

/*
 * doctor_gate_verdict - the gate's verdict on r, and for GATE_NOT_READY
 * and GATE_UNKNOWN the reply text (at most DOCTOR_REASON_MAX - 1 bytes,
 * starting with the domain, English whatever the locale) into reason.
 */
enum gate_state doctor_gate_verdict(const struct doctor_report *r, char *reason, size_t reasonsz);

/*
 * doctor_readiness - the summary against Gmail's and Yahoo's 2024
 * requirements into out, translated: one line for every sender, one for
 * bulk senders (readiness.c). Returns whether the domain meets the
 * requirements for every sender.
 */
bool doctor_readiness(const struct doctor_report *r, char *out, size_t outsz);

#endif
