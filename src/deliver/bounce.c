/*
 * bounce.c - compose DSNs. Text is built in a growing buffer; every line
 * ends in CRLF and stays under 998 bytes (diagnostics are cut to fit).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deliver/bounce.h"
#include "lib/msghdr.h"
#include "lib/strbuf.h"
#include "lib/util.h"

#define DIAG_MAX 900

static void
headers(struct strbuf *b, const struct bounce_env *env, const char *boundary, const char *date)
{
	strbuf_putf(b, "From: MAILER-DAEMON@%s (Mail Delivery System)\r\n", env->hostname);
	strbuf_putf(b, "To: <%s>\r\n", env->sender);
	strbuf_putf(b, "Subject: %s\r\n", env->delayed ? "Delayed Mail (still being retried)" :
	    "Undelivered Mail Returned to Sender");
	strbuf_putf(b, "Date: %s\r\n", date);
	strbuf_putf(b, "Message-ID: <%lld.%s@%s>\r\n", (long long)env->now, env->new_id, env->hostname);
	strbuf_puts(b, "Auto-Submitted: auto-replied\r\n");
	strbuf_puts(b, "MIME-Version: 1.0\r\n");
	strbuf_putf(b, "Content-Type: multipart/report; report-type=delivery-status;\r\n"
	    "\tboundary=\"%s\"\r\n\r\n", boundary);
	strbuf_puts(b, "This is a MIME-encapsulated message.\r\n\r\n");
}

static void
human(struct strbuf *b, const struct bounce_env *env, const struct bounce_rcpt *r, size_t n)
{
	size_t i;

	strbuf_puts(b, "Content-Description: Notification\r\n"
	    "Content-Type: text/plain; charset=us-ascii\r\n\r\n");
	strbuf_putf(b, "This is the mail system at host %s.\r\n\r\n", env->hostname);
	if (env->delayed)
		strbuf_putf(b, "Your message (queue id %s) could not be delivered yet to the\r\n"
		    "recipients below. It is still being retried; you do not need to\r\n"
		    "send it again. You will be told if it finally fails.\r\n\r\n", env->queue_id);
	else
		strbuf_putf(b, "Your message (queue id %s) could not be delivered to the\r\n"
		    "recipients below. This is a permanent error; it will not be retried.\r\n"
		    "The reason each recipient failed is given after its address.\r\n\r\n",
		    env->queue_id);
	for (i = 0; i < n; i++)
		strbuf_putf(b, "<%s>: %.*s\r\n", r[i].rcpt, DIAG_MAX, r[i].diagnostic);
	strbuf_puts(b, "\r\n");
}

static void
report(struct strbuf *b, const struct bounce_env *env, const struct bounce_rcpt *r, size_t n,
    const char *arrival, const char *date)
{
	size_t i;

	strbuf_puts(b, "Content-Description: Delivery report\r\n"
	    "Content-Type: message/delivery-status\r\n\r\n");
	strbuf_putf(b, "Reporting-MTA: dns; %s\r\nX-Hikyaku-Queue-ID: %s\r\nArrival-Date: %s\r\n",
	    env->hostname, env->queue_id, arrival);
	for (i = 0; i < n; i++) {
		strbuf_putf(b, "\r\nFinal-Recipient: rfc822; %s\r\nAction: %s\r\nStatus: %s\r\n",
		    r[i].rcpt, env->delayed ? "delayed" : "failed", r[i].status);
		if (r[i].remote_mta && *r[i].remote_mta)
			strbuf_putf(b, "Remote-MTA: dns; %s\r\n", r[i].remote_mta);
		strbuf_putf(b, "Diagnostic-Code: smtp; %.*s\r\nLast-Attempt-Date: %s\r\n", DIAG_MAX,
		    r[i].diagnostic, date);
	}
	strbuf_puts(b, "\r\n");
}

char *
bounce_build(const struct bounce_env *env, const struct bounce_rcpt *r, size_t n,
    const char *orig, size_t len, size_t *outlen)
{
	struct strbuf b = { 0 };
	char boundary[128], date[64], arrival[64];
	size_t hdrend = msghdr_end(orig, len);

	snprintf(boundary, sizeof(boundary), "%s.%lld/%s", env->new_id, (long long)env->now,
	    env->hostname);
	util_rfc5322_date(env->now, date, sizeof(date));
	util_rfc5322_date(env->arrival, arrival, sizeof(arrival));
	headers(&b, env, boundary, date);
	strbuf_putf(&b, "--%s\r\n", boundary);
	human(&b, env, r, n);
	strbuf_putf(&b, "--%s\r\n", boundary);
	report(&b, env, r, n, arrival, date);
	strbuf_putf(&b, "--%s\r\nContent-Description: %s\r\nContent-Type: text/rfc822-headers\r\n\r\n",
	    boundary, env->delayed ? "Delayed Message Headers" : "Undelivered Message Headers");
	strbuf_put(&b, orig, hdrend);
	strbuf_putf(&b, "\r\n--%s--\r\n", boundary);
	return strbuf_steal(&b, outlen);
}
