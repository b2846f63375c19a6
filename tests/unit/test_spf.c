/*
 * test_spf.c - the SPF evaluator (RFC 7208) against a table of DNS records:
 * every mechanism and modifier, macros (section 7.4's examples), the lookup
 * and void-lookup limits, errors, and where a fix is inserted.
 */
#include <stdlib.h>
#include <sys/socket.h>

#include "doctor/spf.h"
#include "fakedns.h"
#include "t.h"

static struct spf_ctx *ctx;
static struct spf_outcome out;
static struct fake_dns fdns;

static enum spf_result
run(const struct fake_rr *rr, const char *ip, const char *domain, const char *override)
{
	struct spf_request req = { .sender = NULL, .domain = domain, .helo = "relay.example",
		.receiver = "relay.example", .now = 1700000000, .lookup = fake_lookup,
		.lookup_arg = &fdns, .override = override };
	char sender[300];

	snprintf(sender, sizeof(sender), "postmaster@%s", domain);
	req.sender = sender;
	memset(&fdns, 0, sizeof(fdns));
	fdns.rr = rr;
	if (spf_ip_parse(ip, &req.ip) == -1)
		abort();
	return spf_check(&req, ctx, &out);
}

#define CASE(rr, ip, dom, want, what) do {                                        \
	enum spf_result got_ = run(rr, ip, dom, NULL);                            \
	T_OK(got_ == (want), "%s: %s for %s (want %s; term \"%s\", problem \"%s\")", \
	    what, spf_result_name(got_), ip, spf_result_name(want), out.term, out.problem); \
} while (0)

static const struct fake_rr basic[] = {
	{ "good.example", DNS_T_TXT, "v=spf1 ip4:198.18.0.5 -all" },
	{ "good.example", DNS_T_TXT, "google-site-verification=abc" },
	{ "soft.example", DNS_T_TXT, "v=spf1 ip4:198.18.0.0/24 ~all" },
	{ "neutral.example", DNS_T_TXT, "v=spf1 ?all" },
	{ "empty.example", DNS_T_TXT, "v=spf1" },
	{ "nospf.example", DNS_T_TXT, "hello" },
	{ "two.example", DNS_T_TXT, "v=spf1 -all" },
	{ "two.example", DNS_T_TXT, "v=spf1 +all" },
	{ "case.example", DNS_T_TXT, "V=SPF1 IP4:198.18.0.5 -ALL" },
	{ "notspf.example", DNS_T_TXT, "v=spf10 +all" },
	{ "temp.example", DNS_T_TXT, "TEMP" },
	{ "v6.example", DNS_T_TXT, "v=spf1 ip6:2001:db8:1::/48 ip4:198.18.0.5 -all" },
	{ "long.example", DNS_T_TXT, "v=spf1 ip4:198.18.0.1 ip4:198.18.0.2 ip4:198.18.0.3 "
	    "ip4:198.18.0.4 ip4:198.18.0.6 ip4:198.18.0.7 ip4:198.18.0.8 ip4:198.18.0.9 "
	    "ip4:198.18.0.10 ip4:198.18.0.11 ip4:198.18.0.12 ip4:198.18.0.13 ip4:198.18.0.14 "
	    "ip4:198.18.0.15 ip4:198.18.0.16 ip4:198.18.0.17 ip4:198.18.0.18 ip4:198.18.0.19 "
	    "ip4:198.18.0.20 ip4:198.18.0.21 ip4:198.18.0.22 ip4:198.18.0.23 ip4:198.18.0.24 "
	    "ip4:198.18.0.25 ip4:198.18.0.26 ip4:198.18.0.5 -all" },
	{ NULL, 0, NULL },
};

static void
test_basic(void)
{
	CASE(basic, "198.18.0.5", "good.example", SPF_PASS, "ip4 match");
	T_STREQ(out.term, "ip4:198.18.0.5", "the matching term is named");
	T_STREQ(out.record, "v=spf1 ip4:198.18.0.5 -all", "the record is kept");
	CASE(basic, "198.18.0.6", "good.example", SPF_FAIL, "-all");
	T_STREQ(out.term, "-all", "-all decided");
	CASE(basic, "198.18.0.77", "soft.example", SPF_PASS, "ip4 /24");
	CASE(basic, "198.18.1.77", "soft.example", SPF_SOFTFAIL, "~all");
	CASE(basic, "198.18.1.77", "neutral.example", SPF_NEUTRAL, "?all");
	CASE(basic, "198.18.1.77", "empty.example", SPF_NEUTRAL, "no mechanism: neutral");
	T_STREQ(out.term, "", "no term decided");
	CASE(basic, "198.18.1.77", "nospf.example", SPF_NONE, "TXT but no SPF record");
	CASE(basic, "198.18.1.77", "nx.example", SPF_NONE, "no such domain");
	CASE(basic, "198.18.1.77", "two.example", SPF_PERMERROR, "two records");
	T_OK(out.nrecords == 2, "two records counted");
	CASE(basic, "198.18.0.5", "case.example", SPF_PASS, "case-insensitive");
	CASE(basic, "198.18.0.5", "notspf.example", SPF_NONE, "v=spf10 is not SPF");
	CASE(basic, "198.18.0.5", "temp.example", SPF_TEMPERROR, "DNS timeout");
	CASE(basic, "2001:db8:1::25", "v6.example", SPF_PASS, "ip6 /48");
	CASE(basic, "2001:db8:2::25", "v6.example", SPF_FAIL, "ip6 outside");
	CASE(basic, "198.18.0.5", "v6.example", SPF_PASS, "ip4 after ip6");
	CASE(basic, "198.18.0.5", "long.example", SPF_PASS, "many ip4 terms cost no lookup");
	T_OK(out.lookups == 0, "ip4 costs no lookup (%d)", out.lookups);
	CASE(basic, "198.18.0.5", "bad..example", SPF_NONE, "malformed domain");
	CASE(basic, "198.18.0.5", "example", SPF_NONE, "single label");
}

static const struct fake_rr incl[] = {
	{ "a.example", DNS_T_TXT, "v=spf1 include:b.example -all" },
	{ "b.example", DNS_T_TXT, "v=spf1 ip4:198.18.0.5 -all" },
	{ "c.example", DNS_T_TXT, "v=spf1 include:nospf.example -all" },
	{ "nospf.example", DNS_T_A, "198.18.0.5" },
	{ "d.example", DNS_T_TXT, "v=spf1 include:temp.example -all" },
	{ "temp.example", DNS_T_TXT, "TEMP" },
	{ "e.example", DNS_T_TXT, "v=spf1 include:bad.example ip4:198.18.0.5 -all" },
	{ "bad.example", DNS_T_TXT, "v=spf1 foo:bar -all" },
	{ "f.example", DNS_T_TXT, "v=spf1 redirect=b.example" },
	{ "g.example", DNS_T_TXT, "v=spf1 redirect=nospf.example" },
	{ "h.example", DNS_T_TXT, "v=spf1 ?all redirect=b.example" },
	{ "i.example", DNS_T_TXT, "v=spf1 ip4:198.18.9.9 redirect=%{d2}.x.example" },
	{ "i.example.x.example", DNS_T_TXT, "v=spf1 ip4:198.18.0.5 ~all" },
	{ "j.example", DNS_T_TXT, "v=spf1 include:j.example -all" },
	{ "k.example", DNS_T_TXT, "v=spf1 include:softinc.example -all" },
	{ "softinc.example", DNS_T_TXT, "v=spf1 ~all" },
	{ NULL, 0, NULL },
};

static void
test_include_redirect(void)
{
	CASE(incl, "198.18.0.5", "a.example", SPF_PASS, "include pass");
	T_STREQ(out.term, "include:b.example", "the top-level include is named");
	T_OK(out.lookups == 1, "include is one lookup");
	CASE(incl, "198.18.0.6", "a.example", SPF_FAIL, "include fail falls through");
	CASE(incl, "198.18.0.6", "c.example", SPF_PERMERROR, "include of a domain without SPF");
	CASE(incl, "198.18.0.6", "d.example", SPF_TEMPERROR, "include temperror");
	CASE(incl, "198.18.0.5", "e.example", SPF_PERMERROR, "include permerror propagates");
	CASE(incl, "198.18.0.5", "f.example", SPF_PASS, "redirect");
	T_OK(out.by_redirect, "by redirect");
	T_STREQ(out.term_domain, "b.example", "the term's domain is the target");
	CASE(incl, "198.18.0.6", "f.example", SPF_FAIL, "redirect fail");
	CASE(incl, "198.18.0.6", "g.example", SPF_PERMERROR, "redirect to no SPF");
	CASE(incl, "198.18.0.6", "h.example", SPF_NEUTRAL, "all before redirect wins");
	CASE(incl, "198.18.0.5", "i.example", SPF_PASS, "redirect with a macro");
	CASE(incl, "198.18.0.7", "i.example", SPF_SOFTFAIL, "redirect with a macro, softfail");
	CASE(incl, "198.18.0.7", "j.example", SPF_PERMERROR, "include loop hits the limit");
	CASE(incl, "198.18.0.7", "k.example", SPF_FAIL, "included softfail does not match");
}

static const struct fake_rr amx[] = {
	{ "a.example", DNS_T_TXT, "v=spf1 a -all" },
	{ "a.example", DNS_T_A, "198.18.0.5" },
	{ "a.example", DNS_T_AAAA, "2001:db8::5" },
	{ "a24.example", DNS_T_TXT, "v=spf1 a:host.a.example/24 -all" },
	{ "host.a.example", DNS_T_A, "198.18.3.1" },
	{ "host.a.example", DNS_T_AAAA, "2001:db8:3::1" },
	{ "a64.example", DNS_T_TXT, "v=spf1 a:host.a.example/32//64 -all" },
	{ "mx.example", DNS_T_TXT, "v=spf1 mx -all" },
	{ "mx.example", DNS_T_MX, "10 mx1.mx.example" },
	{ "mx.example", DNS_T_MX, "20 mx2.mx.example" },
	{ "mx1.mx.example", DNS_T_A, "198.18.4.1" },
	{ "mx2.mx.example", DNS_T_A, "198.18.4.2" },
	{ "mx16.example", DNS_T_TXT, "v=spf1 mx:mx.example/16 -all" },
	{ "manymx.example", DNS_T_TXT, "v=spf1 mx -all" },
	{ "manymx.example", DNS_T_MX, "1 m1.example" }, { "manymx.example", DNS_T_MX, "2 m2.example" },
	{ "manymx.example", DNS_T_MX, "3 m3.example" }, { "manymx.example", DNS_T_MX, "4 m4.example" },
	{ "manymx.example", DNS_T_MX, "5 m5.example" }, { "manymx.example", DNS_T_MX, "6 m6.example" },
	{ "manymx.example", DNS_T_MX, "7 m7.example" }, { "manymx.example", DNS_T_MX, "8 m8.example" },
	{ "manymx.example", DNS_T_MX, "9 m9.example" }, { "manymx.example", DNS_T_MX, "10 m10.example" },
	{ "manymx.example", DNS_T_MX, "11 m11.example" },
	{ "mxtemp.example", DNS_T_TXT, "v=spf1 mx -all" },
	{ "mxtemp.example", DNS_T_MX, "10 t.mxtemp.example" },
	{ "t.mxtemp.example", DNS_T_A, "TEMP" },
	{ "ptr.example", DNS_T_TXT, "v=spf1 ptr -all" },
	{ "5.0.18.198.in-addr.arpa", DNS_T_PTR, "relay.ptr.example" },
	{ "relay.ptr.example", DNS_T_A, "198.18.0.5" },
	{ "6.0.18.198.in-addr.arpa", DNS_T_PTR, "liar.ptr.example" },
	{ "liar.ptr.example", DNS_T_A, "198.18.0.99" },
	{ "ptr2.example", DNS_T_TXT, "v=spf1 ptr:other.example -all" },
	{ "ex.example", DNS_T_TXT, "v=spf1 exists:%{ir}.%{v}.list.example -all" },
	{ "5.0.18.198.in-addr.list.example", DNS_T_A, "127.0.0.2" },
	{ "5.b.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.list.example",
	    DNS_T_A, "127.0.0.2" },
	{ "p.example", DNS_T_TXT, "v=spf1 exists:%{p}.okhosts.example -all" },
	{ "relay.ptr.example.okhosts.example", DNS_T_A, "127.0.0.1" },
	{ NULL, 0, NULL },
};

static void
test_a_mx_ptr_exists(void)
{
	CASE(amx, "198.18.0.5", "a.example", SPF_PASS, "a");
	CASE(amx, "2001:db8::5", "a.example", SPF_PASS, "a for IPv6 asks AAAA");
	T_OK(strstr(fdns.log, "AAAA a.example;") != NULL, "AAAA asked: %s", fdns.log);
	CASE(amx, "198.18.0.6", "a.example", SPF_FAIL, "a no match");
	CASE(amx, "198.18.3.200", "a24.example", SPF_PASS, "a/24");
	CASE(amx, "198.18.4.200", "a24.example", SPF_FAIL, "a/24 outside");
	CASE(amx, "2001:db8:3::ffff", "a64.example", SPF_PASS, "a//64 for IPv6");
	CASE(amx, "198.18.3.2", "a64.example", SPF_FAIL, "a/32 for IPv4");
	CASE(amx, "198.18.4.2", "mx.example", SPF_PASS, "mx second host");
	T_OK(out.lookups == 1, "mx is one lookup (%d)", out.lookups);
	CASE(amx, "198.18.4.3", "mx.example", SPF_FAIL, "mx no match");
	CASE(amx, "198.18.200.3", "mx16.example", SPF_PASS, "mx/16");
	CASE(amx, "198.18.4.3", "manymx.example", SPF_PERMERROR, "more than 10 MX");
	CASE(amx, "198.18.4.3", "mxtemp.example", SPF_TEMPERROR, "MX host lookup fails");
	CASE(amx, "198.18.0.5", "ptr.example", SPF_PASS, "ptr validated");
	CASE(amx, "198.18.0.6", "ptr.example", SPF_FAIL, "ptr not confirmed forward");
	CASE(amx, "198.18.0.7", "ptr.example", SPF_FAIL, "no PTR");
	CASE(amx, "198.18.0.5", "ptr2.example", SPF_FAIL, "ptr:other domain");
	CASE(amx, "198.18.0.5", "ex.example", SPF_PASS, "exists with %{ir}.%{v}");
	CASE(amx, "198.18.0.6", "ex.example", SPF_FAIL, "exists: no A");
	CASE(amx, "2001:db8::b5", "ex.example", SPF_PASS, "exists with IPv6 nibbles");
	CASE(amx, "198.18.0.5", "p.example", SPF_PASS, "%{p} is the validated name");
	CASE(amx, "198.18.0.6", "p.example", SPF_FAIL, "%{p} unknown");
}

static const struct fake_rr limits[] = {
	{ "ten.example", DNS_T_TXT, "v=spf1 a:n1.example a:n2.example include:i1.example "
	    "include:i2.example include:i3.example include:i4.example include:i5.example "
	    "include:i6.example include:i7.example include:i8.example ip4:198.18.0.5 -all" },
	{ "eleven.example", DNS_T_TXT, "v=spf1 a:n1.example a:n2.example include:i1.example "
	    "include:i2.example include:i3.example include:i4.example include:i5.example "
	    "include:i6.example include:i7.example include:i8.example mx ip4:198.18.0.5 -all" },
	{ "early.example", DNS_T_TXT, "v=spf1 ip4:198.18.0.5 a:n1.example a:n2.example "
	    "include:i1.example include:i2.example include:i3.example include:i4.example "
	    "include:i5.example include:i6.example include:i7.example include:i8.example mx -all" },
	{ "nest.example", DNS_T_TXT, "v=spf1 include:i9.example -all" },
	{ "n1.example", DNS_T_A, "198.18.9.1" }, { "n2.example", DNS_T_A, "198.18.9.2" },
	{ "i1.example", DNS_T_TXT, "v=spf1 ip4:198.18.9.11" },
	{ "i2.example", DNS_T_TXT, "v=spf1 ip4:198.18.9.12" },
	{ "i3.example", DNS_T_TXT, "v=spf1 ip4:198.18.9.13" },
	{ "i4.example", DNS_T_TXT, "v=spf1 ip4:198.18.9.14" },
	{ "i5.example", DNS_T_TXT, "v=spf1 ip4:198.18.9.15" },
	{ "i6.example", DNS_T_TXT, "v=spf1 ip4:198.18.9.16" },
	{ "i7.example", DNS_T_TXT, "v=spf1 ip4:198.18.9.17" },
	{ "i8.example", DNS_T_TXT, "v=spf1 ip4:198.18.9.18" },
	{ "i9.example", DNS_T_TXT, "v=spf1 include:i10.example include:i11.example a mx" },
	{ "i10.example", DNS_T_TXT, "v=spf1 include:i1.example include:i2.example "
	    "include:i3.example include:i4.example include:i5.example include:i6.example" },
	{ "i11.example", DNS_T_TXT, "v=spf1 include:i7.example include:i8.example" },
	{ "void2.example", DNS_T_TXT, "v=spf1 a:nx1.example a:nx2.example ip4:198.18.0.5 -all" },
	{ "void3.example", DNS_T_TXT, "v=spf1 a:nx1.example a:nx2.example mx:nx3.example "
	    "ip4:198.18.0.5 -all" },
	{ "voidnodata.example", DNS_T_TXT, "v=spf1 a:n1.example a:n2.example "
	    "a:voidnodata.example ip4:198.18.0.5 -all" },
	{ NULL, 0, NULL },
};

static void
test_limits(void)
{
	CASE(limits, "198.18.0.5", "ten.example", SPF_PASS, "exactly 10 lookups");
	T_OK(out.lookups == 10, "10 lookups counted (%d)", out.lookups);
	CASE(limits, "198.18.0.5", "eleven.example", SPF_PERMERROR, "11 lookups");
	T_OK(strstr(out.problem, "more than 10 DNS lookups") != NULL, "problem says so: %s",
	    out.problem);
	CASE(limits, "198.18.0.5", "early.example", SPF_PASS, "terms after a match are not counted");
	CASE(limits, "198.18.0.5", "nest.example", SPF_PERMERROR, "nested includes count");
	CASE(limits, "198.18.0.5", "void2.example", SPF_PASS, "two void lookups are allowed");
	T_OK(out.voids == 2, "voids counted (%d)", out.voids);
	CASE(limits, "198.18.0.5", "void3.example", SPF_PERMERROR, "a third void lookup");
	CASE(limits, "2001:db8::1", "voidnodata.example", SPF_PERMERROR, "no-data answers are void");
}

static const struct fake_rr syntax[] = {
	{ "s1.example", DNS_T_TXT, "v=spf1 foo -all" },
	{ "s2.example", DNS_T_TXT, "v=spf1 ip4:198.18.0.05 -all" },
	{ "s3.example", DNS_T_TXT, "v=spf1 a:localhost -all" },
	{ "s4.example", DNS_T_TXT, "v=spf1 redirect=a.example redirect=b.example" },
	{ "s5.example", DNS_T_TXT, "v=spf1 include -all" },
	{ "s6.example", DNS_T_TXT, "v=spf1 -all:x" },
	{ "s7.example", DNS_T_TXT, "v=spf1 exists:%{x}.example -all" },
	{ "s8.example", DNS_T_TXT, "v=spf1 exists:%{d0}.example -all" },
	{ "s9.example", DNS_T_TXT, "v=spf1 exists:%{c}.example -all" },
	{ "s10.example", DNS_T_TXT, "v=spf1 ip4:198.18.0.5/33 -all" },
	{ "s11.example", DNS_T_TXT, "v=spf1 ip6:2001:db8::/129 -all" },
	{ "s12.example", DNS_T_TXT, "v=spf1 a/24//129 -all" },
	{ "s13.example", DNS_T_TXT, "v=spf1 ip4:198.18.0.5 -all foo=%{z}" },
	{ "s14.example", DNS_T_TXT, "v=spf1 ip4:198.18.0.5 -all moo=%{d}.x" },
	{ "s15.example", DNS_T_TXT, "v=spf1 ip4:198.18.0.5 -all exp=" },
	{ "s16.example", DNS_T_TXT, "v=spf1 ip4:198.18.0.5\t-all" },
	{ "s17.example", DNS_T_TXT, "v=spf1  ip4:198.18.0.5   -all " },
	{ "s18.example", DNS_T_TXT, "v=spf1 ip4:198.18.0.5 -all %" },
	{ "s19.example", DNS_T_TXT, "v=spf1 ip4:198.18.0.5 a:foo.123 -all" },
	{ "s20.example", DNS_T_TXT, "v=spf1 ip4:198.18.0.5 a:foo.x-1 -all" },
	{ NULL, 0, NULL },
};

static void
test_syntax(void)
{
	CASE(syntax, "198.18.0.5", "s1.example", SPF_PERMERROR, "unknown mechanism");
	T_OK(strstr(out.problem, "\"foo\"") != NULL, "problem names the term: %s", out.problem);
	CASE(syntax, "198.18.0.5", "s2.example", SPF_PERMERROR, "leading zero in ip4");
	CASE(syntax, "198.18.0.5", "s3.example", SPF_PERMERROR, "not a FQDN");
	CASE(syntax, "198.18.0.5", "s4.example", SPF_PERMERROR, "two redirects");
	CASE(syntax, "198.18.0.5", "s5.example", SPF_PERMERROR, "include without domain");
	CASE(syntax, "198.18.0.5", "s6.example", SPF_PERMERROR, "all with an argument");
	CASE(syntax, "198.18.0.5", "s7.example", SPF_PERMERROR, "unknown macro letter");
	CASE(syntax, "198.18.0.5", "s8.example", SPF_PERMERROR, "zero transformer");
	CASE(syntax, "198.18.0.5", "s9.example", SPF_PERMERROR, "c outside exp");
	CASE(syntax, "198.18.0.5", "s10.example", SPF_PERMERROR, "ip4 prefix 33");
	CASE(syntax, "198.18.0.5", "s11.example", SPF_PERMERROR, "ip6 prefix 129");
	CASE(syntax, "198.18.0.5", "s12.example", SPF_PERMERROR, "a//129");
	CASE(syntax, "198.18.0.5", "s13.example", SPF_PERMERROR, "bad macro in unknown modifier");
	CASE(syntax, "198.18.0.5", "s14.example", SPF_PASS, "unknown modifier ignored");
	CASE(syntax, "198.18.0.5", "s15.example", SPF_PERMERROR, "empty exp");
	CASE(syntax, "198.18.0.5", "s16.example", SPF_PERMERROR, "tab is not a separator");
	CASE(syntax, "198.18.0.6", "s17.example", SPF_FAIL, "several spaces separate");
	CASE(syntax, "198.18.0.5", "s18.example", SPF_PERMERROR, "lone %");
	CASE(syntax, "198.18.0.5", "s19.example", SPF_PERMERROR, "numeric toplabel, even after a match");
	CASE(syntax, "198.18.0.5", "s20.example", SPF_PASS, "toplabel with a hyphen");
}

static const struct fake_rr exps[] = {
	{ "e.example", DNS_T_TXT, "v=spf1 ip4:198.18.0.5 -all exp=explain.%{d}" },
	{ "explain.e.example", DNS_T_TXT, "%{c} is not one of %{d}'s designated mail servers"
	    " (%{r} at %{t})." },
	{ "e2.example", DNS_T_TXT, "v=spf1 -all exp=nowhere.example" },
	{ "e3.example", DNS_T_TXT, "v=spf1 redirect=e.example exp=explain.e3.example" },
	{ "explain.e3.example", DNS_T_TXT, "not this one" },
	{ NULL, 0, NULL },
};

static void
test_exp(void)
{
	CASE(exps, "198.18.0.6", "e.example", SPF_FAIL, "fail with exp");
	T_STREQ(out.explanation, "198.18.0.6 is not one of e.example's designated mail servers"
	    " (relay.example at 1700000000).", "explanation expanded");
	CASE(exps, "198.18.0.6", "e2.example", SPF_FAIL, "exp that does not resolve");
	T_STREQ(out.explanation, "", "no explanation");
	CASE(exps, "198.18.0.6", "e3.example", SPF_FAIL, "redirect: the target's exp");
	T_OK(strstr(out.explanation, "e.example's") != NULL, "target's explanation: %s",
	    out.explanation);
}

static void
expand_case(const char *ip, const char *spec, const char *want)
{
	struct spf_request req = { .sender = "strong-bad@email.example.com",
		.domain = "email.example.com", .helo = "mx.example.org", .receiver = "example.net" };
	char buf[SPF_EXPAND_MAX + 1], err[200];
	int rc;

	spf_ip_parse(ip, &req.ip);
	rc = spf_expand(&req, "email.example.com", "mx.example.org", spec, strlen(spec), true,
	    buf, sizeof(buf), err, sizeof(err));
	T_OK(rc == 0 && strcmp(buf, want) == 0, "%s -> \"%s\" (want \"%s\")", spec,
	    rc == 0 ? buf : err, want);
}

static void
test_macros(void)
{
	/* RFC 7208 section 7.4 */
	expand_case("192.0.2.3", "%{s}", "strong-bad@email.example.com");
	expand_case("192.0.2.3", "%{o}", "email.example.com");
	expand_case("192.0.2.3", "%{d}", "email.example.com");
	expand_case("192.0.2.3", "%{d4}", "email.example.com");
	expand_case("192.0.2.3", "%{d3}", "email.example.com");
	expand_case("192.0.2.3", "%{d2}", "example.com");
	expand_case("192.0.2.3", "%{d1}", "com");
	expand_case("192.0.2.3", "%{dr}", "com.example.email");
	expand_case("192.0.2.3", "%{d2r}", "example.email");
	expand_case("192.0.2.3", "%{l}", "strong-bad");
	expand_case("192.0.2.3", "%{l-}", "strong.bad");
	expand_case("192.0.2.3", "%{lr}", "strong-bad");
	expand_case("192.0.2.3", "%{lr-}", "bad.strong");
	expand_case("192.0.2.3", "%{l1r-}", "strong");
	expand_case("192.0.2.3", "%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com");
	expand_case("192.0.2.3", "%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com");
	expand_case("192.0.2.3", "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}",
	    "bad.strong.lp.3.2.0.192.in-addr._spf.example.com");
	expand_case("192.0.2.3", "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}",
	    "3.2.0.192.in-addr.strong.lp._spf.example.com");
	expand_case("192.0.2.3", "%{d2}.trusted-domains.example.net",
	    "example.com.trusted-domains.example.net");
	expand_case("2001:db8::cb01", "%{ir}.%{v}._spf.%{d2}",
	    "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com");
	expand_case("2001:db8::cb01", "%{c}", "2001:db8::cb01");
	expand_case("192.0.2.3", "%{S}", "strong-bad%40email.example.com");
	expand_case("192.0.2.3", "%%%_%-", "% %20");
	expand_case("192.0.2.3", "%{p}.%{h}.%{r}", "mx.example.org.mx.example.org.example.net");
	expand_case("192.0.2.3", "%{d2+}", "email.example.com");
	expand_case("192.0.2.3", "%{l1r=-}", "strong");
	expand_case("192.0.2.3", "%{o99}", "email.example.com");
}

static void
test_insert(void)
{
	char buf[SPF_RECORD_MAX + 64];
	const char *rec = "v=spf1 mx -all";

	T_OK(spf_insert(rec, 10, "ip4:198.18.0.5", buf, sizeof(buf)) == 0 &&
	    strcmp(buf, "v=spf1 mx ip4:198.18.0.5 -all") == 0, "before -all: %s", buf);
	T_OK(spf_insert("v=spf1 mx", 9, "ip4:198.18.0.5", buf, sizeof(buf)) == 0 &&
	    strcmp(buf, "v=spf1 mx ip4:198.18.0.5") == 0, "at the end: %s", buf);
	T_OK(spf_insert("v=spf1", 6, "ip4:198.18.0.5", buf, sizeof(buf)) == 0 &&
	    strcmp(buf, "v=spf1 ip4:198.18.0.5") == 0, "into an empty record: %s", buf);
	T_OK(spf_insert(rec, 99, "x", buf, sizeof(buf)) == -1, "offset past the end");
	T_OK(spf_insert(rec, 10, "ip4:198.18.0.5", buf, 10) == -1, "does not fit");
}

static const struct fake_rr fixes[] = {
	{ "f1.example", DNS_T_TXT, "v=spf1 mx -all" },
	{ "f1.example", DNS_T_MX, "10 mx.f1.example" },
	{ "mx.f1.example", DNS_T_A, "198.18.7.7" },
	{ "f2.example", DNS_T_TXT, "v=spf1 a redirect=f3.example" },
	{ "f3.example", DNS_T_TXT, "v=spf1 ~all" },
	{ "f4.example", DNS_T_TXT, "v=spf1 ip4:198.18.7.0/24" },
	{ NULL, 0, NULL },
};

/* fix_case - insert ip4:IP where the outcome says; the result must pass. */
static void
fix_case(const char *domain, const char *ip, const char *want)
{
	char fixed[SPF_RECORD_MAX + 64], mech[80];

	run(fixes, ip, domain, NULL);
	snprintf(mech, sizeof(mech), "ip4:%s", ip);
	T_OK(spf_insert(out.record, out.insert_at, mech, fixed, sizeof(fixed)) == 0 &&
	    strcmp(fixed, want) == 0, "%s fixed: \"%s\" (want \"%s\")", domain, fixed, want);
	T_OK(run(fixes, ip, domain, fixed) == SPF_PASS, "%s: the fixed record passes (%s)",
	    domain, spf_result_name(out.result));
}

static void
test_fix(void)
{
	fix_case("f1.example", "198.18.0.5", "v=spf1 mx ip4:198.18.0.5 -all");
	fix_case("f2.example", "198.18.0.5", "v=spf1 a ip4:198.18.0.5 redirect=f3.example");
	fix_case("f4.example", "198.18.0.5", "v=spf1 ip4:198.18.7.0/24 ip4:198.18.0.5");
	T_OK(run(fixes, "198.18.0.5", "nx.example", "v=spf1 ip4:198.18.0.5 -all") == SPF_PASS,
	    "an override stands in for a missing record");
}

static void
test_check_record(void)
{
	char err[300];

	T_OK(spf_record_check("v=spf1 a mx -all", 16, err, sizeof(err)) == 0, "valid record");
	T_OK(spf_record_check("v=spf1 a\x01", 9, err, sizeof(err)) == -1, "control byte");
	T_OK(spf_record_check("spf1 a", 6, err, sizeof(err)) == -1, "no version");
	T_OK(spf_is_record("v=spf1", 6), "bare version is a record");
	T_OK(!spf_is_record("v=spf1x", 7), "v=spf1x is not");
	T_STREQ(spf_result_name(SPF_SOFTFAIL), "softfail", "result names");
}

int
main(void)
{
	ctx = calloc(1, sizeof(*ctx));
	test_basic();
	test_include_redirect();
	test_a_mx_ptr_exists();
	test_limits();
	test_syntax();
	test_exp();
	test_macros();
	test_insert();
	test_fix();
	test_check_record();
	free(ctx);
	return t_done();
}
