/*
 * readiness.c - the summary against Gmail's and Yahoo's 2024 sender
 * requirements, from a report's facts (pure), for the doctor's text
 * output. Every line is a whole sentence in one format string, translated
 * (gettext): it is for people. The gate's verdict, which is protocol and
 * stays English, is in verdict.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "doctor/report.h"
#include "lib/i18n.h"

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
		line(out, outsz, _("Not ready for Gmail and Yahoo: mail must pass SPF or DKIM, and"
		    " here neither does."));
		ok = false;
	}
	if (r->fcrdns != TRI_YES) {
		line(out, outsz, _("Not ready for Gmail and Yahoo: every sending address needs a PTR"
		    " record that resolves back to it."));
		ok = false;
	}
	if (r->listed != TRI_NO) {
		line(out, outsz, _("Not ready for Gmail and Yahoo: a relay address is on a blocklist,"
		    " or the blocklists could not be asked."));
		ok = false;
	}
	if (ok)
		line(out, outsz, _("Ready for Gmail and Yahoo (2024 rules for every sender: SPF or"
		    " DKIM, forward and reverse DNS, TLS, which hikyaku always uses when offered)."));
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
		line(out, outsz, _("Not ready for bulk sending (5,000 or more messages a day to"
		    " Gmail): that needs SPF and DKIM both to pass."));
	if (r->dmarc != TRI_YES)
		line(out, outsz, _("Not ready for bulk sending: that needs a DMARC record."));
	else if (r->spf_pass != TRI_YES && r->dkim_aligned != TRI_YES)
		line(out, outsz, _("Not ready for bulk sending: DMARC cannot pass, since neither"
		    " SPF nor DKIM aligns with the From: domain."));
	if (r->spf_pass == TRI_YES && r->dkim_usable == TRI_YES && r->dmarc == TRI_YES)
		line(out, outsz, _("Ready for bulk sending too, once bulk messages carry the"
		    " one-click unsubscribe headers List-Unsubscribe and List-Unsubscribe-Post:"
		    " List-Unsubscribe=One-Click."));
	return ok;
}
