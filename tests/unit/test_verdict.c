/*
 * test_verdict.c - the doctor's verdicts from a report's facts: the gate
 * (ready, not ready with the fix in the reply, unknown while DNS cannot be
 * asked) and the summary against Gmail's and Yahoo's 2024 requirements.
 */
#include <stdlib.h>

#include "doctor/report.h"
#include "t.h"

static struct doctor_report *r;

static void
base(void)
{
	memset(r, 0, sizeof(*r));
	strcpy(r->domain, "example.jp");
	r->nips = 1;
	strcpy(r->ip[0], "203.0.113.5");
	r->spf_pass = TRI_YES;
	r->dkim_usable = TRI_YES;
	r->dkim_aligned = TRI_YES;
	r->dmarc = TRI_YES;
	r->fcrdns = TRI_YES;
	r->listed = TRI_NO;
}

static enum gate_state
gate(char *reason, size_t sz)
{
	return doctor_gate_verdict(r, reason, sz);
}

static void
test_gate(void)
{
	char reason[DOCTOR_REASON_MAX];

	base();
	T_OK(gate(reason, sizeof(reason)) == GATE_READY && reason[0] == '\0', "all good: ready");
	r->dkim_usable = r->dkim_aligned = TRI_NO;
	T_OK(gate(reason, sizeof(reason)) == GATE_READY, "SPF alone is enough");
	base();
	r->spf_pass = TRI_NO;
	strcpy(r->spf_failing, "203.0.113.5");
	T_OK(gate(reason, sizeof(reason)) == GATE_READY, "aligned DKIM alone is enough");
	r->dkim_usable = r->dkim_aligned = TRI_NO;
	strcpy(r->spf_fix, "v=spf1 ip4:203.0.113.5 -all");
	T_OK(gate(reason, sizeof(reason)) == GATE_NOT_READY, "neither: not ready");
	T_STREQ(reason, "example.jp is not ready: SPF does not authorise 203.0.113.5 and no DKIM"
	    " key is published; publish \"v=spf1 ip4:203.0.113.5 -all\"", "the reply names the fix");
	memset(r->spf_fix, 'x', sizeof(r->spf_fix) - 1);
	r->spf_fix[sizeof(r->spf_fix) - 1] = '\0';
	T_OK(gate(reason, sizeof(reason)) == GATE_NOT_READY && strlen(reason) < sizeof(reason) &&
	    strstr(reason, "run \"hikyaku doctor example.jp\"") != NULL,
	    "a fix too long for a reply: the doctor is named instead: %s", reason);
	r->nips = 0;
	T_OK(gate(reason, sizeof(reason)) == GATE_NOT_READY && strstr(reason, "relay-ip") != NULL,
	    "relay addresses unknown: the reply says to set relay-ip: %s", reason);
	base();
	r->spf_pass = TRI_NO;
	r->dkim_aligned = TRI_NO;
	r->spf_fix[0] = '\0';
	strcpy(r->spf_failing, "198.18.0.5");
	T_OK(gate(reason, sizeof(reason)) == GATE_NOT_READY && strstr(reason, "DMARC") != NULL,
	    "DMARC alignment impossible: %s", reason);
	r->dmarc = TRI_NO;
	T_OK(gate(reason, sizeof(reason)) == GATE_READY, "no DMARC record: DKIM unaligned is fine");
	base();
	r->listed = TRI_YES;
	strcpy(r->listed_ip, "198.18.0.5");
	strcpy(r->listed_zone, "zen.spamhaus.org");
	T_OK(gate(reason, sizeof(reason)) == GATE_NOT_READY &&
	    strstr(reason, "198.18.0.5 is listed on the blocklist zen.spamhaus.org") != NULL,
	    "blocklisted: %s", reason);
	base();
	r->spf_pass = TRI_UNKNOWN;
	r->dkim_usable = r->dkim_aligned = TRI_UNKNOWN;
	strcpy(r->dns_problem, "DNS lookup of example.jp timed out");
	T_OK(gate(reason, sizeof(reason)) == GATE_UNKNOWN, "DNS down: unknown");
	T_STREQ(reason, "example.jp could not be checked: DNS lookup of example.jp timed out; try"
	    " again later", "unknown names the DNS problem");
	r->dkim_usable = r->dkim_aligned = TRI_YES;
	T_OK(gate(reason, sizeof(reason)) == GATE_READY, "DKIM settles it without SPF");
	r->listed = TRI_UNKNOWN;
	T_OK(gate(reason, sizeof(reason)) == GATE_UNKNOWN, "blocklists unknown: unknown");
	base();
	r->spf_pass = TRI_NO;
	r->dkim_usable = TRI_UNKNOWN;
	r->dkim_aligned = TRI_UNKNOWN;
	T_OK(gate(reason, sizeof(reason)) == GATE_UNKNOWN, "SPF fails, DKIM unknown: unknown");
}

static void
test_readiness(void)
{
	char out[2048];

	base();
	T_OK(doctor_readiness(r, out, sizeof(out)) && strstr(out, "Ready for Gmail and Yahoo") &&
	    strstr(out, "Ready for bulk sending too"), "ready for both");
	r->dmarc = TRI_NO;
	T_OK(doctor_readiness(r, out, sizeof(out)) && strstr(out, "needs a DMARC record") &&
	    !strstr(out, "Ready for bulk"), "no DMARC: not for bulk");
	base();
	r->fcrdns = TRI_NO;
	T_OK(!doctor_readiness(r, out, sizeof(out)) && strstr(out, "PTR record"),
	    "no FCrDNS: not ready");
	base();
	r->spf_pass = TRI_NO;
	r->dkim_usable = TRI_NO;
	T_OK(!doctor_readiness(r, out, sizeof(out)) && strstr(out, "neither does"),
	    "neither SPF nor DKIM");
	T_OK(!doctor_readiness(r, out, 40) && strlen(out) < 40, "bounded output");
}

static void
test_names(void)
{
	enum gate_state s;

	T_STREQ(doctor_area_name(AREA_MTASTS), "mta-sts", "area names");
	T_STREQ(doctor_area_name(AREA_TLSRPT), "tls-rpt", "area names");
	T_STREQ(doctor_status_name(DOCTOR_WARN), "warn", "status names");
	T_OK(gate_state_parse("not-ready", &s) == 0 && s == GATE_NOT_READY, "state parsed");
	T_OK(gate_state_parse("bogus", &s) == -1, "unknown state refused");
	base();
	for (int i = 0; i < DOCTOR_CHECKS_MAX + 5; i++)
		doctor_add(r, AREA_MX, i == 3 ? DOCTOR_FAIL : DOCTOR_PASS, "check %d", i);
	T_OK(r->nchecks == DOCTOR_CHECKS_MAX, "checks bounded");
	T_OK(doctor_failed(r), "a failing check is seen");
}

int
main(void)
{
	r = calloc(1, sizeof(*r));
	test_gate();
	test_readiness();
	test_names();
	free(r);
	return t_done();
}
