/*
 * test_sts.c - MTA-STS policy files and MX patterns (RFC 8461).
 */
#include "tlspolicy/sts.h"
#include "t.h"

static void
test_policy(void)
{
	struct sts_policy p;
	char why[128];
	const char *rfc = "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\n"
	    "mx: *.example.net\r\nmx: backupmx.example.com\r\nmax_age: 604800\r\n";
	const char *lf = "version: STSv1\nmode: testing\nmx: MX.Example.ORG\nmax_age: 86400";

	T_OK(sts_policy_parse(rfc, strlen(rfc), &p, why, sizeof(why)) == 0, "RFC 8461 example");
	T_OK(p.mode == STS_MODE_ENFORCE && p.max_age == 604800 && p.nmx == 3, "its fields");
	T_STREQ(p.mx[1], "*.example.net", "a wildcard pattern");
	T_OK(sts_policy_parse(lf, strlen(lf), &p, why, sizeof(why)) == 0 &&
	    p.mode == STS_MODE_TESTING, "LF lines, no final newline");
	T_STREQ(p.mx[0], "mx.example.org", "patterns lower-cased");
#define BAD(text, what) T_OK(sts_policy_parse(text, strlen(text), &p, why, sizeof(why)) == -1, what)
	BAD("version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 1\n", "version STSv2");
	BAD("mode: enforce\nmx: a.example\nmax_age: 1\n", "no version");
	BAD("version: STSv1\nmx: a.example\nmax_age: 1\n", "no mode");
	BAD("version: STSv1\nmode: enforce\nmx: a.example\n", "no max_age");
	BAD("version: STSv1\nmode: enforce\nmax_age: 1\n", "enforce without mx");
	BAD("version: STSv1\nmode: Enforce\nmx: a.example\nmax_age: 1\n", "mode is case-sensitive");
	BAD("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: -1\n", "negative max_age");
	BAD("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 12345678901\n",
	    "11-digit max_age");
	BAD("version: STSv1\nmode: enforce\nmx: a.*.example\nmax_age: 1\n", "wildcard inside");
	BAD("version: STSv1\nmode: enforce\nmx: *\nmax_age: 1\n", "a bare *");
	BAD("version: STSv1\nmode: enforce\nmx: a..example\nmax_age: 1\n", "empty label");
	BAD("version: STSv1\nmode: enforce\nmx: -a.example\nmax_age: 1\n", "label starts with -");
	BAD("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\ngarbage\n", "not key: value");
	T_OK(sts_policy_parse("version: STSv1\nmode: none\nmax_age: 1\n", 37, &p, why,
	    sizeof(why)) == 0 && p.mode == STS_MODE_NONE, "none needs no mx");
	{
		const char *t = "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 99999999\n"
		    "mode: none\nfoo: bar baz\n";

		T_OK(sts_policy_parse(t, strlen(t), &p, why, sizeof(why)) == 0 &&
		    p.max_age == STS_MAX_AGE_MAX && p.mode == STS_MODE_ENFORCE,
		    "max_age capped, first mode counts, unknown key ignored");
	}
	{
		const char nul[] = "version: STSv1\nmode: none\0\nmax_age: 1\n";

		T_OK(sts_policy_parse(nul, sizeof(nul) - 1, &p, why, sizeof(why)) == -1, "a NUL byte");
	}
}

static void
test_match(void)
{
	struct sts_policy p = { STS_MODE_ENFORCE, 1, { "mail.example.com", "*.example.net" }, 2 };

	T_OK(sts_mx_match(&p, "mail.example.com"), "exact");
	T_OK(sts_mx_match(&p, "MAIL.example.COM."), "any case, trailing dot");
	T_OK(!sts_mx_match(&p, "xmail.example.com"), "not a suffix match");
	T_OK(sts_mx_match(&p, "mx1.example.net"), "wildcard: one label");
	T_OK(!sts_mx_match(&p, "a.b.example.net"), "wildcard: not two labels");
	T_OK(!sts_mx_match(&p, "example.net"), "wildcard: not the bare domain");
	T_OK(!sts_mx_match(&p, ".example.net"), "wildcard: not an empty label");
	T_OK(!sts_mx_match(&p, "mx1.example.net.evil"), "wildcard: anchored at the end");
}

int
main(void)
{
	test_policy();
	test_match();
	return t_done();
}
