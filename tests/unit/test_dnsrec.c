/*
 * test_dnsrec.c - DMARC, DKIM key, MTA-STS and TLS-RPT records, the
 * organizational domain, and the DNS record data decoders (dns_wire.c).
 */
#include <stdlib.h>
#include <sys/socket.h>

#include "dns/dns.h"
#include "doctor/dnsrec.h"
#include "t.h"

static char err[300];

#define S(x) x, strlen(x)

static void
test_dmarc(void)
{
	struct dmarc_record d;

	T_OK(dmarc_is_record(S("v=DMARC1; p=none")), "DMARC record recognised");
	T_OK(dmarc_is_record(S("v=DMARC1")), "bare version recognised");
	T_OK(!dmarc_is_record(S("v=DMARC10; p=none")), "v=DMARC10 is not one");
	T_OK(!dmarc_is_record(S("v=spf1 -all")), "SPF is not one");
	T_OK(dmarc_parse(S("v=DMARC1; p=reject; rua=mailto:d@example.jp"), &d, err,
	    sizeof(err)) == 0 && d.p == DMARC_REJECT && d.sp == DMARC_REJECT && d.nrua == 1 &&
	    strcmp(d.rua[0], "mailto:d@example.jp") == 0 && d.pct == 100 && !d.strict_dkim,
	    "reject with rua");
	T_OK(dmarc_parse(S("v=DMARC1;p=quarantine;sp=none;adkim=s;aspf=r;pct=50;"), &d, err,
	    sizeof(err)) == 0 && d.p == DMARC_QUARANTINE && d.sp == DMARC_NONE && d.strict_dkim &&
	    !d.strict_spf && d.pct == 50, "all tags, trailing semicolon");
	T_OK(dmarc_parse(S("v=DMARC1 ;  p = None ; fo=1; x_unknown=abc"), &d, err,
	    sizeof(err)) == 0 && d.p == DMARC_NONE, "whitespace, case, unknown tags");
	T_OK(dmarc_parse(S("p=none; v=DMARC1"), &d, err, sizeof(err)) == -1,
	    "v= not first: %s", err);
	T_OK(dmarc_parse(S("v=DMARC1; rua=mailto:x@example.jp"), &d, err, sizeof(err)) == 0 &&
	    !d.p_given && d.p == DMARC_NONE, "no p= but rua: treated as none");
	T_OK(dmarc_parse(S("v=DMARC1; p=block"), &d, err, sizeof(err)) == -1 &&
	    strstr(err, "p=") != NULL, "bad p=: %s", err);
	T_OK(dmarc_parse(S("v=DMARC1"), &d, err, sizeof(err)) == -1, "no p=: %s", err);
	T_OK(dmarc_parse(S("v=DMARC1; p=none; p=reject"), &d, err, sizeof(err)) == -1,
	    "duplicate tag: %s", err);
	T_OK(dmarc_parse(S("v=DMARC1; p=none; adkim=x"), &d, err, sizeof(err)) == -1,
	    "bad adkim: %s", err);
	T_OK(dmarc_parse(S("v=DMARC1; p=none; pct=101"), &d, err, sizeof(err)) == -1,
	    "pct over 100: %s", err);
	T_OK(dmarc_parse(S("v=DMARC1; p=none; rua=d@example.jp"), &d, err, sizeof(err)) == -1,
	    "rua without mailto: %s", err);
	T_OK(dmarc_parse(S("v=DMARC1; p=none; rua=mailto:a@x.example,mailto:b@y.example!10m"),
	    &d, err, sizeof(err)) == 0 && d.nrua == 2, "two rua URIs");
	T_OK(dmarc_parse(S("v=DMARC1; p=none; junk"), &d, err, sizeof(err)) == -1,
	    "a tag without =: %s", err);
	T_OK(dmarc_parse("v=DMARC1; p=none\0x", 17, &d, err, sizeof(err)) == -1,
	    "NUL in a value: %s", err);
	T_STREQ(dmarc_policy_name(DMARC_QUARANTINE), "quarantine", "policy names");
}

static void
test_dkim_key(void)
{
	struct dkim_keyrec k;

	T_OK(dkim_keyrec_parse(S("v=DKIM1; k=rsa; p=MIIBIjAN Bgkq\tAB=="), &k, err,
	    sizeof(err)) == 0 && k.k == DKIM_KEY_RSA && strcmp(k.p, "MIIBIjANBgkqAB==") == 0 &&
	    !k.revoked && !k.testing, "rsa key, whitespace in p=");
	T_OK(dkim_keyrec_parse(S("k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="),
	    &k, err, sizeof(err)) == 0 && k.k == DKIM_KEY_ED25519, "ed25519 without v=");
	T_OK(dkim_keyrec_parse(S("v=DKIM1; p="), &k, err, sizeof(err)) == 0 && k.revoked,
	    "empty p= is revoked");
	T_OK(dkim_keyrec_parse(S("v=DKIM1; t=y:s; p=AB"), &k, err, sizeof(err)) == 0 && k.testing,
	    "testing flag");
	T_OK(dkim_keyrec_parse(S("v=DKIM1; t=s; p=AB"), &k, err, sizeof(err)) == 0 && !k.testing,
	    "t=s is not testing");
	T_OK(dkim_keyrec_parse(S("p=AB; v=DKIM1"), &k, err, sizeof(err)) == -1, "v= not first");
	T_OK(dkim_keyrec_parse(S("v=DKIM1; k=dsa; p=AB"), &k, err, sizeof(err)) == -1,
	    "unknown key type: %s", err);
	T_OK(dkim_keyrec_parse(S("v=DKIM1; k=rsa"), &k, err, sizeof(err)) == -1, "no p=: %s", err);
	T_OK(dkim_keyrec_parse(S("v=DKIM1; p=AB$C"), &k, err, sizeof(err)) == -1, "p= not base64");
}

static const char psl[] =
    "// comment\n"
    "jp\n"
    "co.jp\n"
    "*.kawasaki.jp\n"
    "!city.kawasaki.jp\n"
    "uk\n"
    "co.uk\n";

static void
org_case(const char *list, const char *d, const char *want)
{
	char out[256];

	T_OK(org_domain(list, list ? strlen(list) : 0, d, out, sizeof(out)) == 0 &&
	    strcmp(out, want) == 0, "org domain of %s: %s (want %s)", d, out, want);
}

static void
test_org_domain(void)
{
	org_case(psl, "mail.example.co.jp", "example.co.jp");
	org_case(psl, "Example.CO.JP.", "example.co.jp");
	org_case(psl, "a.b.example.jp", "example.jp");
	org_case(psl, "co.jp", "co.jp");
	org_case(psl, "x.foo.kawasaki.jp", "x.foo.kawasaki.jp");
	org_case(psl, "www.city.kawasaki.jp", "city.kawasaki.jp");
	org_case(psl, "a.b.good.example", "good.example");
	org_case(NULL, "a.b.good.example", "good.example");
	org_case(NULL, "example", "example");
}

static void
test_wire(void)
{
	struct dns_answer *a = calloc(1, sizeof(*a));
	const uint8_t txt[] = { 3, 'a', 'b', 'c', 0, 2, 'd', 'e' };
	const uint8_t bad_txt[] = { 5, 'a', 'b' };
	const uint8_t ptr[] = { 4, 'R', 'e', 'l', 'y', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0 };
	const uint8_t comp[] = { 0xc0, 12 };
	const uint8_t mx[] = { 0, 10, 2, 'm', 'x', 0 };
	const uint8_t addr4[] = { 198, 18, 0, 5 };
	uint8_t big[300];
	char name[80];
	size_t len, i;
	const char *d;

	dns_answer_reset(a, DNS_T_TXT);
	T_OK(dns_answer_add(a, txt, sizeof(txt)) == 0, "TXT decoded");
	d = dns_answer_data(a, 0, &len);
	T_OK(len == 5 && memcmp(d, "abcde", 5) == 0, "strings concatenated, empty string kept");
	T_OK(dns_answer_add(a, bad_txt, sizeof(bad_txt)) == -1 && a->n == 1, "short TXT string");
	T_OK(dns_answer_add(a, txt, 0) == -1, "empty TXT rdata");
	dns_answer_reset(a, DNS_T_PTR);
	T_OK(dns_answer_add(a, ptr, sizeof(ptr)) == 0 && strcmp(dns_answer_data(a, 0, &len),
	    "rely.example") == 0, "PTR name lower-cased");
	T_OK(dns_answer_add(a, comp, sizeof(comp)) == -1, "compression pointer refused");
	dns_answer_reset(a, DNS_T_MX);
	T_OK(dns_answer_add(a, mx, sizeof(mx)) == 0 && a->rr[0].pref == 10 &&
	    strcmp(dns_answer_data(a, 0, &len), "mx") == 0, "MX");
	dns_answer_reset(a, DNS_T_A);
	T_OK(dns_answer_add(a, addr4, 4) == 0 && dns_answer_add(a, addr4, 3) == -1, "A length");
	for (i = 0; i < DNS_ANSWER_MAX; i++)
		dns_answer_add(a, addr4, 4);
	T_OK(a->truncated && a->n == DNS_ANSWER_MAX, "at most DNS_ANSWER_MAX records");
	dns_answer_reset(a, DNS_T_TXT);
	big[0] = 255;
	memset(big + 1, 'x', 255);
	for (i = 0; i < 200 && !a->truncated; i++)
		dns_answer_add(a, big, 256);
	T_OK(a->truncated && a->used <= DNS_ANSWER_BUF, "buffer bounded (%zu used)", a->used);
	T_OK(dns_reverse_name(AF_INET, addr4, NULL, name, sizeof(name)) == 0 &&
	    strcmp(name, "5.0.18.198.in-addr.arpa") == 0, "reverse IPv4: %s", name);
	T_OK(dns_reverse_name(AF_INET, addr4, "bl.example", name, sizeof(name)) == 0 &&
	    strcmp(name, "5.0.18.198.bl.example") == 0, "DNSBL name: %s", name);
	T_OK(dns_reverse_name(AF_INET, addr4, "bl.example", name, 10) == -1, "too small");
	free(a);
}

int
main(void)
{
	test_dmarc();
	test_dkim_key();
	test_org_domain();
	test_wire();
	return t_done();
}
