/*
 * fuzz_smtp_reply.c - libFuzzer target for the remote reply parser and the
 * DNS record parsers (MX, TLSA). The input is split at LF into reply
 * lines. Besides not crashing: a complete reply has a valid code, its text
 * is printable ASCII (plus the line separators) and within bounds; only a
 * 4xx is ever taken for throttling; an MX parse yields a lower-case host
 * name of allowed bytes; a TLSA parse keeps its data within bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns.h"
#include "lib/smtp_reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_reply(const struct smtp_reply *r)
{
	struct smtp_caps caps;
	char one[2 * SMTP_REPLY_TEXT_MAX];

	if (r->code < 200 || r->code > 599 || r->textlen >= SMTP_REPLY_TEXT_MAX ||
	    strlen(r->text) != r->textlen)
		abort();
	for (size_t i = 0; i < r->textlen; i++)
		if ((r->text[i] < 0x20 || r->text[i] > 0x7e) && r->text[i] != '\n')
			abort();
	smtp_reply_caps(r, &caps);
	if (strnlen(caps.auth, sizeof(caps.auth)) >= sizeof(caps.auth))
		abort();
	smtp_reply_oneline(r, one, sizeof(one));
	if (smtp_reply_throttling(r->code, r->status, r->text) && (r->code < 400 || r->code > 499))
		abort();	/* only a 4xx can ask for less */
}

static void
fuzz_mx(const uint8_t *data, size_t size)
{
	struct dns_mx mx;

	if (dns_parse_mx(data, size, &mx) != 0)
		return;
	for (const char *p = mx.host; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || (*p >= 'A' && *p <= 'Z'))
			abort();
}

static void
fuzz_tlsa(const uint8_t *data, size_t size)
{
	static struct dns_tlsa t;

	if (dns_parse_tlsa(data, size, &t) == 0 &&
	    (t.len == 0 || t.len > DNS_TLSA_DATA_MAX || (size_t)t.len + 3 != size ||
	    memcmp(t.data, data + 3, t.len) != 0))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_reply r;
	const char *p = (const char *)data, *end = p + size, *nl;
	int rc = 0;

	fuzz_mx(data, size);
	fuzz_tlsa(data, size);
	smtp_reply_init(&r);
	while (p < end && rc == 0) {
		nl = memchr(p, '\n', (size_t)(end - p));
		rc = smtp_reply_feed(&r, p, nl ? (size_t)(nl - p) : (size_t)(end - p));
		p = nl ? nl + 1 : end;
	}
	if (rc == 1)
		check_reply(&r);
	return 0;
}
