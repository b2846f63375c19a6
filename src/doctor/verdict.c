/*
 * verdict.c - the gate's verdict from a report's facts (pure): would Gmail
 * refuse this domain's mail? Its reason is the text of the daemon's SMTP
 * reply (550 5.7.26 / 451 4.7.26) and of its log line, so it is never
 * translated: nothing here goes through gettext, and what it quotes from
 * the report (addresses, records, DNS failures) is data or English. The
 * summary for people, which is translated, is in readiness.c. Also the
 * report's names and doctor_add.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "doctor/report.h"

const char *
doctor_area_name(enum doctor_area a)
{
	static const char *const names[] = { "spf", "dkim", "dmarc", "ptr", "dnsbl", "mx",
		"mta-sts", "tls-rpt" };

	return (unsigned)a < sizeof(names) / sizeof(names[0]) ? names[a] : "?";
}

const char *
doctor_status_name(enum doctor_status s)
{
	return s == DOCTOR_PASS ? "pass" : s == DOCTOR_WARN ? "warn" : "fail";
}

struct doctor_check *
doctor_add(struct doctor_report *r, enum doctor_area area, enum doctor_status status,
    const char *fmt, ...)
{
	struct doctor_check *c;
	va_list ap;

	if (r->nchecks == DOCTOR_CHECKS_MAX)
		r->nchecks--;	/* the last slot is overwritten rather than overflowed */
	c = &r->checks[r->nchecks++];
	c->area = area;
	c->status = status;
	c->fix[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(c->message, sizeof(c->message), fmt, ap);
	va_end(ap);
	return c;
}

bool
doctor_failed(const struct doctor_report *r)
{
	for (size_t i = 0; i < r->nchecks; i++)
		if (r->checks[i].status == DOCTOR_FAIL)
			return true;
	return false;
}

const char *
gate_state_name(enum gate_state s)
{
	return s == GATE_READY ? "ready" : s == GATE_NOT_READY ? "not-ready" : "unknown";
}

int
gate_state_parse(const char *s, enum gate_state *out)
{
	for (int i = GATE_READY; i <= GATE_UNKNOWN; i++)
		if (strcmp(s, gate_state_name((enum gate_state)i)) == 0) {
			*out = (enum gate_state)i;
			return 0;
		}
	return -1;
}

/* fits - whether a formatted reason fit; otherwise the short form is used. */
static bool
fits(int n, size_t sz)
{
	return n >= 0 && (size_t)n < sz;
}

static enum gate_state
not_authenticated(const struct doctor_report *r, char *reason, size_t sz)
{
	if (r->nips == 0) {
		snprintf(reason, sz, "%s is not ready: no DKIM key is published, and SPF cannot"
		    " pass since this relay's own addresses are unknown; set relay-ip in the"
		    " configuration and run \"hikyaku doctor %s\"", r->domain, r->domain);
		return GATE_NOT_READY;
	}
	if (r->spf_fix[0] != '\0' && fits(snprintf(reason, sz, "%s is not ready: SPF does not"
	    " authorise %s and no DKIM key is published; publish \"%s\"", r->domain,
	    r->spf_failing, r->spf_fix), sz))
		return GATE_NOT_READY;
	snprintf(reason, sz, "%s is not ready: SPF does not authorise %s and no DKIM key is"
	    " published; run \"hikyaku doctor %s\" for the records to publish", r->domain,
	    r->spf_failing, r->domain);
	return GATE_NOT_READY;
}

static enum gate_state
not_aligned(const struct doctor_report *r, char *reason, size_t sz)
{
	if (r->nips == 0) {
		snprintf(reason, sz, "%s is not ready: its DMARC policy cannot pass, since no DKIM"
		    " key aligns and this relay's own addresses are unknown; set relay-ip in the"
		    " configuration and run \"hikyaku doctor %s\"", r->domain, r->domain);
		return GATE_NOT_READY;
	}
	if (r->spf_fix[0] != '\0' && fits(snprintf(reason, sz, "%s is not ready: its DMARC"
	    " policy cannot pass, since SPF does not authorise %s and no DKIM key aligns;"
	    " publish \"%s\"", r->domain, r->spf_failing, r->spf_fix), sz))
		return GATE_NOT_READY;
	snprintf(reason, sz, "%s is not ready: its DMARC policy cannot pass, since SPF does not"
	    " authorise %s and no DKIM key aligns; run \"hikyaku doctor %s\" for the fix",
	    r->domain, r->spf_failing, r->domain);
	return GATE_NOT_READY;
}

enum gate_state
doctor_gate_verdict(const struct doctor_report *r, char *reason, size_t sz)
{
	reason[0] = '\0';
	if (r->listed == TRI_YES) {
		snprintf(reason, sz, "%s is not ready: the relay address %s is listed on the"
		    " blocklist %s; have it removed (run \"hikyaku doctor %s\" for how)",
		    r->domain, r->listed_ip, r->listed_zone, r->domain);
		return GATE_NOT_READY;
	}
	if (r->spf_pass == TRI_NO && r->dkim_usable == TRI_NO)
		return not_authenticated(r, reason, sz);
	if (r->dmarc == TRI_YES && r->spf_pass == TRI_NO && r->dkim_aligned == TRI_NO)
		return not_aligned(r, reason, sz);
	if (r->listed == TRI_UNKNOWN || (r->spf_pass != TRI_YES && r->dkim_usable != TRI_YES) ||
	    (r->dmarc != TRI_NO && r->spf_pass != TRI_YES && r->dkim_aligned != TRI_YES)) {
		snprintf(reason, sz, "%s could not be checked: %s; try again later", r->domain,
		    r->dns_problem[0] ? r->dns_problem : "DNS did not answer");
		return GATE_UNKNOWN;
	}
	return GATE_READY;
}
