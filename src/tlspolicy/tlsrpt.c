/*
 * tlsrpt.c - TLS-RPT TXT records, JSON reports and report messages
 * (RFC 8460). Pure. Text is built in a growing buffer; every string that
 * came from outside is escaped for JSON (anything but printable ASCII
 * becomes \u00XX), and header fields hold only names we validated.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib/addr.h"
#include "tlspolicy/tlsrpt.h"

struct buf {
	char *p;
	size_t len, cap;
};

static void
put(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		if ((b->p = realloc(b->p, b->cap)) == NULL)
			abort();	/* as the x* allocators: out of memory is fatal */
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void puts_(struct buf *b, const char *s) { put(b, s, strlen(s)); }

static void putf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
putf(struct buf *b, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0)
		put(b, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* --- the TXT record --- */

static bool
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

bool
tlsrpt_txt_is_rpt(const char *txt)
{
	return strncmp(txt, "v=TLSRPTv1", 10) == 0 &&
	    (txt[10] == ';' || txt[10] == '\0' || is_wsp(txt[10]));
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* mailto - "mailto:addr[?hfields]" (RFC 6068): the decoded address into out. */
static int
mailto(const char *u, size_t n, char *out, size_t outsz)
{
	char dec[TLSRPT_URI_MAX];
	size_t i, o = 0;
	int h, l;

	for (i = 7; i < n && u[i] != '?'; i++) {
		if (o + 1 >= sizeof(dec))
			return -1;
		if (u[i] != '%') {
			dec[o++] = u[i];
			continue;
		}
		if (i + 2 >= n || (h = hexval(u[i + 1])) < 0 || (l = hexval(u[i + 2])) < 0 ||
		    h * 16 + l == 0)
			return -1;
		dec[o++] = (char)(h * 16 + l);
		i += 2;
	}
	return addr_parse_mailbox(dec, o, 0, out, outsz);
}

/* https_uri - printable ASCII, no blanks, "https://" and a host. */
static bool
https_uri(const char *u, size_t n)
{
	if (n <= 8 || n >= TLSRPT_URI_MAX || strncasecmp(u, "https://", 8) != 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)u[i] <= 0x20 || (unsigned char)u[i] >= 0x7f)
			return false;
	return u[8] != '/';
}

/* rua - the URIs of a rua= value, comma-separated. */
static int
rua(const char *v, size_t n, struct tlsrpt_rua *out)
{
	size_t i = 0, s, e;
	bool more = true;

	while (more) {
		while (i < n && is_wsp(v[i]))
			i++;
		for (s = i; i < n && v[i] != ','; i++)
			;
		for (e = i; e > s && is_wsp(v[e - 1]); e--)
			;
		more = i < n;	/* a comma: another URI follows */
		i++;
		if (e == s)
			return -1;
		if (out->n == TLSRPT_MAX_RUA)
			continue;
		if (e - s > 7 && strncasecmp(v + s, "mailto:", 7) == 0) {
			if (mailto(v + s, e - s, out->to[out->n].uri, TLSRPT_URI_MAX) == 0)
				out->to[out->n++].https = false;
		} else if (https_uri(v + s, e - s)) {
			memcpy(out->to[out->n].uri, v + s, e - s);
			out->to[out->n].uri[e - s] = '\0';
			out->to[out->n++].https = true;
		}
	}
	return 0;
}

/* field - "name=value": rua, or an extension (RFC 8460 3 grammar). */
static int
field(const char *f, size_t n, struct tlsrpt_rua *out, bool *have_rua)
{
	const char *eq = memchr(f, '=', n);
	size_t nl;

	if (eq == NULL || eq == f)
		return -1;
	nl = (size_t)(eq - f);
	if (nl == 3 && memcmp(f, "rua", 3) == 0) {
		if (*have_rua)
			return 0;	/* the first rua counts */
		*have_rua = true;
		return rua(eq + 1, n - nl - 1, out);
	}
	if (nl > 32 || !isalnum((unsigned char)f[0]))
		return -1;
	for (size_t i = 0; i < nl; i++)
		if (!isalnum((unsigned char)f[i]) && f[i] != '_' && f[i] != '-' && f[i] != '.')
			return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)f[i];

		if (c < 0x21 || c > 0x7e || c == ';' || (c == '=' && f + i != eq))
			return -1;
	}
	return 0;
}

int
tlsrpt_txt_parse(const char *txt, struct tlsrpt_rua *out)
{
	const char *p, *end;
	bool have_rua = false, delim;

	memset(out, 0, sizeof(*out));
	if (!tlsrpt_txt_is_rpt(txt))
		return -1;
	p = txt + 10;
	for (;;) {
		delim = false;
		while (is_wsp(*p) || (*p == ';' && !delim))
			delim |= *p++ == ';';
		if (*p == '\0')
			break;
		if (!delim)
			return -1;
		/* a field runs to the next ';' (rua values hold blanks around commas) */
		for (end = p; *end && *end != ';'; end++)
			;
		while (end > p && is_wsp(end[-1]))
			end--;
		if (field(p, (size_t)(end - p), out, &have_rua) == -1)
			return -1;
		p = end;
	}
	return have_rua && out->n > 0 ? 0 : -1;
}

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

static void
json_str(struct buf *b, const char *s)
{
	char esc[8];

	put(b, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			put(b, esc, 2);
		} else if (c < 0x20 || c >= 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			put(b, esc, 6);
		} else
			put(b, (const char *)&c, 1);
	}
	put(b, "\"", 1);
}

/* json_lines - an array of the LF-separated lines of s. */
static void
json_lines(struct buf *b, const char *s)
{
	char line[1024];
	const char *nl;
	bool first = true;
	size_t n;

	put(b, "[", 1);
	while (*s) {
		nl = strchr(s, '\n');
		n = nl ? (size_t)(nl - s) : strlen(s);
		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		memcpy(line, s, n);
		line[n] = '\0';
		if (!first)
			put(b, ",", 1);
		json_str(b, line);
		first = false;
		s = nl ? nl + 1 : s + strlen(s);
	}
	put(b, "]", 1);
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
json_failure(struct buf *b, const struct tlsrpt_failure *f)
{
	puts_(b, "{\"result-type\":");
	json_str(b, f->result);
	if (f->sending_ip[0]) {	/* none for a host skipped before connecting */
		puts_(b, ",\"sending-mta-ip\":");
		json_str(b, f->sending_ip);
	}
	puts_(b, ",\"receiving-mx-hostname\":");
	json_str(b, f->mx);
	if (f->ip[0]) {
		puts_(b, ",\"receiving-ip\":");
		json_str(b, f->ip);
	}
	putf(b, ",\"failed-session-count\":%" PRIu64, f->count);
	if (f->reason[0]) {
		puts_(b, ",\"failure-reason-code\":");
		json_str(b, f->reason);
	}
	puts_(b, "}");
}

static void
json_policy(struct buf *b, const struct tlsrpt_policy *p)
{
	puts_(b, "{\"policy\":{\"policy-type\":");
	json_str(b, p->type);
	puts_(b, ",\"policy-string\":");
	json_lines(b, p->strings);
	puts_(b, ",\"policy-domain\":");
	json_str(b, p->domain);
	if (p->mx_hosts[0]) {
		puts_(b, ",\"mx-host\":");
		json_lines(b, p->mx_hosts);
	}
	putf(b, "},\"summary\":{\"total-successful-session-count\":%" PRIu64
	    ",\"total-failure-session-count\":%" PRIu64 "}", p->success, p->failure);
	if (p->nfail > 0) {
		puts_(b, ",\"failure-details\":[");
		for (size_t i = 0; i < p->nfail; i++) {
			if (i > 0)
				puts_(b, ",");
			json_failure(b, &p->fail[i]);
		}
		puts_(b, "]");
	}
	puts_(b, "}");
}

char *
tlsrpt_json(const struct tlsrpt_report *r, size_t *len)
{
	struct buf b = { 0 };
	char start[32], end[32];

	iso_time(r->start, start, sizeof(start));
	iso_time(r->end, end, sizeof(end));
	puts_(&b, "{\"organization-name\":");
	json_str(&b, r->org);
	putf(&b, ",\"date-range\":{\"start-datetime\":\"%s\",\"end-datetime\":\"%s\"}", start, end);
	puts_(&b, ",\"contact-info\":");
	json_str(&b, r->contact);
	puts_(&b, ",\"report-id\":");
	json_str(&b, r->id);
	puts_(&b, ",\"policies\":[");
	for (size_t i = 0; i < r->npol; i++) {
		if (i > 0)
			puts_(&b, ",");
		json_policy(&b, &r->pol[i]);
	}
	puts_(&b, "]}\n");
	*len = b.len;
	return b.p;
}

/* --- the message --- */

static void
base64_lines(struct buf *b, const unsigned char *in, size_t n)
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
		put(b, out, 4);
		if ((col += 4) == 76) {
			put(b, "\r\n", 2);
			col = 0;
		}
	}
	if (col > 0)
		put(b, "\r\n", 2);
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
	struct buf b = { 0 };
	char date[64], boundary[128];

	date_header(m->now, date, sizeof(date));
	snprintf(boundary, sizeof(boundary), "tlsrpt.%lld.%.60s", (long long)m->now, m->id);
	putf(&b, "From: TLS reports <noreply-tlsrpt@%s>\r\n", m->hostname);
	putf(&b, "To: <%s>\r\n", m->to);
	putf(&b, "Date: %s\r\n", date);
	putf(&b, "Subject: Report Domain: %s Submitter: %s Report-ID: <%s>\r\n", m->domain,
	    m->hostname, m->id);
	putf(&b, "Message-ID: <%s>\r\n", m->id);
	putf(&b, "TLS-Report-Domain: %s\r\nTLS-Report-Submitter: %s\r\n", m->domain, m->hostname);
	puts_(&b, "Auto-Submitted: auto-generated\r\nMIME-Version: 1.0\r\n");
	putf(&b, "Content-Type: multipart/report; report-type=\"tlsrpt\";\r\n"
	    "\tboundary=\"%s\"\r\n\r\nThis is a multipart message in MIME format.\r\n\r\n", boundary);
	putf(&b, "--%s\r\nContent-Type: text/plain; charset=\"us-ascii\"\r\n"
	    "Content-Transfer-Encoding: 7bit\r\n\r\n", boundary);
	putf(&b, "This is an aggregate TLS report from %s for %s.\r\n\r\n", m->hostname,
	    m->domain);
	putf(&b, "--%s\r\nContent-Type: application/tlsrpt+gzip\r\n"
	    "Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment;\r\n"
	    "\tfilename=\"%s!%s!%lld!%lld.json.gz\"\r\n\r\n", boundary, m->hostname, m->domain,
	    (long long)m->start, (long long)m->end);
	base64_lines(&b, m->gz, m->gzlen);
	putf(&b, "\r\n--%s--\r\n", boundary);
	*len = b.len;
	return b.p;
}
