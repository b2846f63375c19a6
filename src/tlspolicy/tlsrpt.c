/*
 * tlsrpt.c - TLS-RPT JSON reports and report messages (RFC 8460). Pure.
 * Text is built in a strbuf; every string that came from outside is
 * escaped for JSON by strbuf_json(), and header fields hold only names we
 * validated.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib/strbuf.h"
#include "tlspolicy/tlsrpt.h"

/* --- where reports go --- */

int
tlsrpt_url_split(const char *url, char *host, size_t hostsz, unsigned *port, char *path,
    size_t pathsz)
{
	const char *h, *e;
	unsigned long p = 443;
	char *end;

	if (strncasecmp(url, "https://", 8) != 0)
		return -1;
	h = url + 8;
	for (e = h; isalnum((unsigned char)*e) || *e == '-' || *e == '.'; e++)
		;
	if (e == h || (size_t)(e - h) >= hostsz || (*e != '\0' && *e != ':' && *e != '/'))
		return -1;
	memcpy(host, h, (size_t)(e - h));
	host[e - h] = '\0';
	if (*e == ':') {
		if (!isdigit((unsigned char)e[1]))
			return -1;
		p = strtoul(e + 1, &end, 10);
		if (p == 0 || p > 65535 || (*end != '\0' && *end != '/'))
			return -1;
		e = end;
	}
	*port = (unsigned)p;
	if (strlen(*e ? e : "/") >= pathsz)
		return -1;
	snprintf(path, pathsz, "%s", *e ? e : "/");
	return 0;
}

/* --- JSON --- */

/* json_lines - an array of the LF-separated lines of s. */
static void
json_lines(struct strbuf *b, const char *s)
{
	char line[1024];
	const char *nl;
	bool first = true;
	size_t n;

	strbuf_put(b, "[", 1);
	while (*s) {
		nl = strchr(s, '\n');
		n = nl ? (size_t)(nl - s) : strlen(s);
		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		memcpy(line, s, n);
		line[n] = '\0';
		if (!first)
			strbuf_put(b, ",", 1);
		strbuf_json(b, line);
		first = false;
		s = nl ? nl + 1 : s + strlen(s);
	}
	strbuf_put(b, "]", 1);
}

static void
iso_time(int64_t t, char *out, size_t outsz)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
json_failure(struct strbuf *b, const struct tlsrpt_failure *f)
{
	strbuf_puts(b, "{\"result-type\":");
	strbuf_json(b, f->result);
	if (f->sending_ip[0]) {	/* none for a host skipped before connecting */
		strbuf_puts(b, ",\"sending-mta-ip\":");
		strbuf_json(b, f->sending_ip);
	}
	strbuf_puts(b, ",\"receiving-mx-hostname\":");
	strbuf_json(b, f->mx);
	if (f->ip[0]) {
		strbuf_puts(b, ",\"receiving-ip\":");
		strbuf_json(b, f->ip);
	}
	strbuf_putf(b, ",\"failed-session-count\":%" PRIu64, f->count);
	if (f->reason[0]) {
		strbuf_puts(b, ",\"failure-reason-code\":");
		strbuf_json(b, f->reason);
	}
	strbuf_puts(b, "}");
}

static void
json_policy(struct strbuf *b, const struct tlsrpt_policy *p)
{
	strbuf_puts(b, "{\"policy\":{\"policy-type\":");
	strbuf_json(b, p->type);
	strbuf_puts(b, ",\"policy-string\":");
	json_lines(b, p->strings);
	strbuf_puts(b, ",\"policy-domain\":");
	strbuf_json(b, p->domain);
	if (p->mx_hosts[0]) {
		strbuf_puts(b, ",\"mx-host\":");
		json_lines(b, p->mx_hosts);
	}
	strbuf_putf(b, "},\"summary\":{\"total-successful-session-count\":%" PRIu64
	    ",\"total-failure-session-count\":%" PRIu64 "}", p->success, p->failure);
	if (p->nfail > 0) {
		strbuf_puts(b, ",\"failure-details\":[");
		for (size_t i = 0; i < p->nfail; i++) {
			if (i > 0)
				strbuf_puts(b, ",");
			json_failure(b, &p->fail[i]);
		}
		strbuf_puts(b, "]");
	}
	strbuf_puts(b, "}");
}

char *
tlsrpt_json(const struct tlsrpt_report *r, size_t *len)
{
	struct strbuf b = { 0 };
	char start[32], end[32];

	iso_time(r->start, start, sizeof(start));
	iso_time(r->end, end, sizeof(end));
	strbuf_puts(&b, "{\"organization-name\":");
	strbuf_json(&b, r->org);
	strbuf_putf(&b, ",\"date-range\":{\"start-datetime\":\"%s\",\"end-datetime\":\"%s\"}", start, end);
	strbuf_puts(&b, ",\"contact-info\":");
	strbuf_json(&b, r->contact);
	strbuf_puts(&b, ",\"report-id\":");
	strbuf_json(&b, r->id);
	strbuf_puts(&b, ",\"policies\":[");
	for (size_t i = 0; i < r->npol; i++) {
		if (i > 0)
			strbuf_puts(&b, ",");
		json_policy(&b, &r->pol[i]);
	}
	strbuf_puts(&b, "]}\n");
	return strbuf_steal(&b, len);
}

/* --- the message --- */

static void
base64_lines(struct strbuf *b, const unsigned char *in, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char out[4];
	size_t i, col = 0;

	for (i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) |
		    (i + 2 < n ? in[i + 2] : 0);

		out[0] = tab[v >> 18 & 63];
		out[1] = tab[v >> 12 & 63];
		out[2] = i + 1 < n ? tab[v >> 6 & 63] : '=';
		out[3] = i + 2 < n ? tab[v & 63] : '=';
		strbuf_put(b, out, 4);
		if ((col += 4) == 76) {
			strbuf_put(b, "\r\n", 2);
			col = 0;
		}
	}
	if (col > 0)
		strbuf_put(b, "\r\n", 2);
}

static void
date_header(int64_t t, char *out, size_t outsz)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
	    "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	snprintf(out, outsz, "%s, %d %s %d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
	    months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

char *
tlsrpt_mail(const struct tlsrpt_mail *m, size_t *len)
{
	struct strbuf b = { 0 };
	char date[64], boundary[128];

	date_header(m->now, date, sizeof(date));
	snprintf(boundary, sizeof(boundary), "tlsrpt.%lld.%.60s", (long long)m->now, m->id);
	strbuf_putf(&b, "From: TLS reports <noreply-tlsrpt@%s>\r\n", m->hostname);
	strbuf_putf(&b, "To: <%s>\r\n", m->to);
	strbuf_putf(&b, "Date: %s\r\n", date);
	strbuf_putf(&b, "Subject: Report Domain: %s Submitter: %s Report-ID: <%s>\r\n", m->domain,
	    m->hostname, m->id);
	strbuf_putf(&b, "Message-ID: <%s>\r\n", m->id);
	strbuf_putf(&b, "TLS-Report-Domain: %s\r\nTLS-Report-Submitter: %s\r\n", m->domain, m->hostname);
	strbuf_puts(&b, "Auto-Submitted: auto-generated\r\nMIME-Version: 1.0\r\n");
	strbuf_putf(&b, "Content-Type: multipart/report; report-type=\"tlsrpt\";\r\n"
	    "\tboundary=\"%s\"\r\n\r\nThis is a multipart message in MIME format.\r\n\r\n", boundary);
	strbuf_putf(&b, "--%s\r\nContent-Type: text/plain; charset=\"us-ascii\"\r\n"
	    "Content-Transfer-Encoding: 7bit\r\n\r\n", boundary);
	strbuf_putf(&b, "This is an aggregate TLS report from %s for %s.\r\n\r\n", m->hostname,
	    m->domain);
	strbuf_putf(&b, "--%s\r\nContent-Type: application/tlsrpt+gzip\r\n"
	    "Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment;\r\n"
	    "\tfilename=\"%s!%s!%lld!%lld.json.gz\"\r\n\r\n", boundary, m->hostname, m->domain,
	    (long long)m->start, (long long)m->end);
	base64_lines(&b, m->gz, m->gzlen);
	strbuf_putf(&b, "\r\n--%s--\r\n", boundary);
	return strbuf_steal(&b, len);
}
