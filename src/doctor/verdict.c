/*
 * verdict.c - the doctor's verdicts from a report's facts (pure): the
 * gate's (would Gmail refuse this domain's mail?) and the summary against
 * Gmail's and Yahoo's 2024 sender requirements. Every text is a whole
 * sentence in one format string, so that it can be translated.
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

static void
line(char *out, size_t outsz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* line - append one formatted line (with its newline) to out. */
static void
line(char *out, size_t outsz, const char *fmt, ...)
{
	size_t n = strlen(out);
	va_list ap;

	if (n + 1 >= outsz)
		return;
	va_start(ap, fmt);
	vsnprintf(out + n, outsz - n, fmt, ap);
	va_end(ap);
	n = strlen(out);
	if (n + 1 < outsz) {
		out[n] = '\n';
		out[n + 1] = '\0';
	}
}

/* every_sender - Gmail's and Yahoo's requirements for all senders; true when met. */
static bool
every_sender(const struct doctor_report *r, char *out, size_t outsz)
{
	bool ok = true;

	if (r->spf_pass != TRI_YES && r->dkim_usable != TRI_YES) {
		line(out, outsz, "Not ready for Gmail and Yahoo: mail must pass SPF or DKIM, and"
		    " here neither does.");
		ok = false;
	}
	if (r->fcrdns != TRI_YES) {
		line(out, outsz, "Not ready for Gmail and Yahoo: every sending address needs a PTR"
		    " record that resolves back to it.");
		ok = false;
	}
	if (r->listed != TRI_NO) {
		line(out, outsz, "Not ready for Gmail and Yahoo: a relay address is on a blocklist,"
		    " or the blocklists could not be asked.");
		ok = false;
	}
	if (ok)
		line(out, outsz, "Ready for Gmail and Yahoo (2024 rules for every sender: SPF or"
		    " DKIM, forward and reverse DNS, TLS, which hikyaku always uses when offered).");
	return ok;
}

bool
doctor_readiness(const struct doctor_report *r, char *out, size_t outsz)
{
	bool ok;

	if (outsz == 0)
		return false;
	out[0] = '\0';
	ok = every_sender(r, out, outsz);
	if (r->spf_pass != TRI_YES || r->dkim_usable != TRI_YES)
		line(out, outsz, "Not ready for bulk sending (5,000 or more messages a day to"
		    " Gmail): that needs SPF and DKIM both to pass.");
	if (r->dmarc != TRI_YES)
		line(out, outsz, "Not ready for bulk sending: that needs a DMARC record.");
	else if (r->spf_pass != TRI_YES && r->dkim_aligned != TRI_YES)
		line(out, outsz, "Not ready for bulk sending: DMARC cannot pass, since neither"
		    " SPF nor DKIM aligns with the From: domain.");
	if (r->spf_pass == TRI_YES && r->dkim_usable == TRI_YES && r->dmarc == TRI_YES)
		line(out, outsz, "Ready for bulk sending too, once bulk messages carry the"
		    " one-click unsubscribe headers List-Unsubscribe and List-Unsubscribe-Post:"
		    " List-Unsubscribe=One-Click.");
	return ok;
}
