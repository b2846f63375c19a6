/*
 * bounce.c - compose DSNs. Text is built in a growing buffer; every line
 * ends in CRLF and stays under 998 bytes (diagnostics are cut to fit).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deliver/bounce.h"
#include "lib/msghdr.h"
#include "lib/util.h"

#define DIAG_MAX 900

struct buf {
	char *p;
	size_t len, cap;
};

static void
put(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void putf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
putf(struct buf *b, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	put(b, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

static void
headers(struct buf *b, const struct bounce_env *env, const char *boundary, const char *date)
{
	putf(b, "From: MAILER-DAEMON@%s (Mail Delivery System)\r\n", env->hostname);
	putf(b, "To: <%s>\r\n", env->sender);
	putf(b, "Subject: %s\r\n", env->delayed ? "Delayed Mail (still being retried)" :
	    "Undelivered Mail Returned to Sender");
	putf(b, "Date: %s\r\n", date);
	putf(b, "Message-ID: <%lld.%s@%s>\r\n", (long long)env->now, env->new_id, env->hostname);
	putf(b, "Auto-Submitted: auto-replied\r\n");
	putf(b, "MIME-Version: 1.0\r\n");
	putf(b, "Content-Type: multipart/report; report-type=delivery-status;\r\n"
	    "\tboundary=\"%s\"\r\n\r\n", boundary);
	putf(b, "This is a MIME-encapsulated message.\r\n\r\n");
}

static void
human(struct buf *b, const struct bounce_env *env, const struct bounce_rcpt *r, size_t n)
{
	size_t i;

	putf(b, "Content-Description: Notification\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n");
	putf(b, "This is the mail system at host %s.\r\n\r\n", env->hostname);
	if (env->delayed)
		putf(b, "Your message (queue id %s) could not be delivered yet to the\r\n"
		    "recipients below. It is still being retried; you do not need to\r\n"
		    "send it again. You will be told if it finally fails.\r\n\r\n", env->queue_id);
	else
		putf(b, "Your message (queue id %s) could not be delivered to the\r\n"
		    "recipients below. This is a permanent error; it will not be retried.\r\n"
		    "The reason each recipient failed is given after its address.\r\n\r\n",
		    env->queue_id);
	for (i = 0; i < n; i++)
		putf(b, "<%s>: %.*s\r\n", r[i].rcpt, DIAG_MAX, r[i].diagnostic);
	putf(b, "\r\n");
}

static void
report(struct buf *b, const struct bounce_env *env, const struct bounce_rcpt *r, size_t n,
    const char *arrival, const char *date)
{
	size_t i;

	putf(b, "Content-Description: Delivery report\r\nContent-Type: message/delivery-status\r\n\r\n");
	putf(b, "Reporting-MTA: dns; %s\r\nX-Hikyaku-Queue-ID: %s\r\nArrival-Date: %s\r\n",
	    env->hostname, env->queue_id, arrival);
	for (i = 0; i < n; i++) {
		putf(b, "\r\nFinal-Recipient: rfc822; %s\r\nAction: %s\r\nStatus: %s\r\n",
		    r[i].rcpt, env->delayed ? "delayed" : "failed", r[i].status);
		if (r[i].remote_mta && *r[i].remote_mta)
			putf(b, "Remote-MTA: dns; %s\r\n", r[i].remote_mta);
		putf(b, "Diagnostic-Code: smtp; %.*s\r\nLast-Attempt-Date: %s\r\n", DIAG_MAX,
		    r[i].diagnostic, date);
	}
	putf(b, "\r\n");
}

char *
bounce_build(const struct bounce_env *env, const struct bounce_rcpt *r, size_t n,
    const char *orig, size_t len, size_t *outlen)
{
	struct buf b = { 0 };
	char boundary[128], date[64], arrival[64];
	size_t hdrend = msghdr_end(orig, len);

	snprintf(boundary, sizeof(boundary), "%s.%lld/%s", env->new_id, (long long)env->now,
	    env->hostname);
	util_rfc5322_date(env->now, date, sizeof(date));
	util_rfc5322_date(env->arrival, arrival, sizeof(arrival));
	headers(&b, env, boundary, date);
	putf(&b, "--%s\r\n", boundary);
	human(&b, env, r, n);
	putf(&b, "--%s\r\n", boundary);
	report(&b, env, r, n, arrival, date);
	putf(&b, "--%s\r\nContent-Description: %s\r\nContent-Type: text/rfc822-headers\r\n\r\n",
	    boundary, env->delayed ? "Delayed Message Headers" : "Undelivered Message Headers");
	put(&b, orig, hdrend);
	putf(&b, "\r\n--%s--\r\n", boundary);
	*outlen = b.len;
	return b.p;
}
