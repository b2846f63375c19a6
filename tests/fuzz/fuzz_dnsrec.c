/*
 * fuzz_dnsrec.c - libFuzzer target for the DNS record parsers the doctor
 * uses: DMARC and DKIM key records, the organizational
 * domain (the input's first line as a list, the rest as a name), and the
 * decoders of TXT, A, AAAA, MX and PTR record data. Besides not crashing:
 * parsed fields stay within their bounds and decoded names are lower-case
 * host names.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns.h"
#include "doctor/dnsrec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_records(const char *s, size_t n)
{
	static struct dkim_keyrec k;
	struct dmarc_record d;
	char err[300];

	if (dmarc_parse(s, n, &d, err, sizeof(err)) == 0 && (d.pct < 0 || d.pct > 100 ||
	    (d.nrua > 0 && memchr(d.rua[0], 0, DNSREC_URI_MAX) == NULL)))
		abort();
	if (dkim_keyrec_parse(s, n, &k, err, sizeof(err)) == 0 && (k.plen >= sizeof(k.p) ||
	    strlen(k.p) != k.plen || k.revoked != (k.plen == 0)))
		abort();
	dmarc_is_record(s, n);
	if (memchr(err, 0, sizeof(err)) == NULL)
		abort();
}

static void
fuzz_org(const char *s, size_t n)
{
	const char *nl = memchr(s, '\n', n);
	char name[300], out[300];
	size_t nlen;

	if (nl == NULL)
		return;
	nlen = n - (size_t)(nl + 1 - s);
	if (nlen >= sizeof(name))
		return;
	memcpy(name, nl + 1, nlen);
	name[nlen] = '\0';
	if (org_domain(s, (size_t)(nl - s), name, out, sizeof(out)) == 0 && strlen(out) > nlen)
		abort();
}

static void
fuzz_answers(const uint8_t *data, size_t size)
{
	static struct dns_answer ans;
	static const int types[] = { DNS_T_TXT, DNS_T_A, DNS_T_AAAA, DNS_T_MX, DNS_T_PTR };
	size_t len;

	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		dns_answer_reset(&ans, types[t]);
		dns_answer_add(&ans, data, size);
		dns_answer_add(&ans, data, size / 2);
		if (ans.used > DNS_ANSWER_BUF || ans.n > DNS_ANSWER_MAX)
			abort();
		for (size_t i = 0; i < ans.n; i++) {
			const char *p = dns_answer_data(&ans, i, &len);

			if (types[t] != DNS_T_MX && types[t] != DNS_T_PTR)
				continue;
			if (strlen(p) != len || len > DNS_NAME_MAX)
				abort();
			for (size_t k = 0; k < len; k++)
				if (p[k] <= 0x20 || p[k] >= 0x7f || (p[k] >= 'A' && p[k] <= 'Z'))
					abort();
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_records((const char *)data, size);
	fuzz_org((const char *)data, size);
	fuzz_answers(data, size);
	return 0;
}
