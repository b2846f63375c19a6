/*
 * test_tlsrec.c - MTA-STS and TLS-RPT TXT records (RFC 8461 3.1, RFC 8460
 * 3), and the reason given for each refusal (the doctor words it).
 */
#include "lib/tlsrec.h"
#include "t.h"

static enum tlsrec_error why;

static int
sts(const char *txt, char id[STS_ID_MAX + 1])
{
	why = (enum tlsrec_error)-1;
	return sts_txt_parse(txt, id, &why);
}

static int
rpt(const char *txt, struct tlsrpt_rua *r)
{
	why = (enum tlsrec_error)-1;
	return tlsrpt_txt_parse(txt, r, &why);
}

static void
test_sts(void)
{
	char id[STS_ID_MAX + 1];

	T_OK(sts("v=STSv1; id=20160831085700Z;", id) == 0 && why == TLSREC_OK, "RFC 8461 example");
	T_STREQ(id, "20160831085700Z", "its id");
	T_OK(sts("v=STSv1;id=abc", id) == 0 && strcmp(id, "abc") == 0, "no blanks, no final ';'");
	T_OK(sts("v=STSv1; ext=x.y; id=A1 ; ", id) == 0 && strcmp(id, "A1") == 0,
	    "an extension field, blanks around ';'");
	T_OK(sts_txt_parse("v=STSv1; id=x", id, NULL) == 0, "why may be NULL");
	T_OK(sts("v=STSv1;", id) == -1 && why == TLSREC_NO_ID, "no id");
	T_OK(sts("v=STSv1; id=", id) == -1 && why == TLSREC_ID, "empty id");
	T_OK(sts("v=STSv1; id=123456789012345678901234567890123", id) == -1 && why == TLSREC_ID,
	    "33-character id");
	T_OK(sts("v=STSv1; id=12345678901234567890123456789012", id) == 0, "32-character id");
	T_OK(sts("v=STSv1; id=a-b", id) == -1 && why == TLSREC_ID, "id with a hyphen");
	T_OK(sts("v=STSv1; id=bad-id!", id) == -1 && why == TLSREC_ID, "id with punctuation");
	T_OK(sts("v=STSv1 id=abc", id) == -1 && why == TLSREC_SYNTAX, "no ';' between fields");
	T_OK(sts("v=STSv1;; id=abc", id) == -1 && why == TLSREC_SYNTAX, "an empty field");
	T_OK(sts("v=STSv10; id=abc", id) == -1 && why == TLSREC_VERSION, "v=STSv10 is not STSv1");
	T_OK(sts("id=1; v=STSv1", id) == -1 && why == TLSREC_VERSION, "v= not first");
	T_OK(sts("v=spf1 -all", id) == -1 && why == TLSREC_VERSION, "not MTA-STS");
	T_OK(!sts_txt_is_sts("v=STSv10;") && sts_txt_is_sts("v=STSv1") &&
	    sts_txt_is_sts("v=STSv1 ;"), "sts_txt_is_sts");
	T_OK(sts("v=STSv1; id=abc; e=a;b", id) == -1 && why == TLSREC_SYNTAX,
	    "extension name without '='");
	T_OK(sts("v=STSv1; id=abc; _e=1", id) == -1 && why == TLSREC_SYNTAX,
	    "extension name must start alnum");
	T_OK(sts("v=STSv1; id=abc; e=", id) == -1 && why == TLSREC_SYNTAX, "empty extension value");
}

static void
test_rpt(void)
{
	struct tlsrpt_rua r;

	T_OK(rpt("v=TLSRPTv1; rua=mailto:reports@example.com", &r) == 0 &&
	    r.n == 1 && !r.to[0].https && why == TLSREC_OK, "RFC 8460 example");
	T_STREQ(r.to[0].uri, "reports@example.com", "the address");
	T_OK(rpt("v=TLSRPTv1;rua=https://reporting.example.com/v1/tlsrpt", &r) == 0 &&
	    r.n == 1 && r.to[0].https, "an https rua");
	T_STREQ(r.to[0].uri, "https://reporting.example.com/v1/tlsrpt", "the URL");
	T_OK(rpt("v=TLSRPTv1; rua=mailto:a%2Bb@Example.com , https://r.example/x ;", &r) == 0 &&
	    r.n == 2, "two destinations, blanks around the comma");
	T_STREQ(r.to[0].uri, "a+b@example.com", "percent-decoded, domain lower-cased");
	T_OK(rpt("v=TLSRPTv1; rua=mailto:x@example.com?subject=hi", &r) == 0 &&
	    strcmp(r.to[0].uri, "x@example.com") == 0, "header fields after ? dropped");
	T_OK(tlsrpt_txt_parse("v=TLSRPTv1; rua=mailto:a@b.example", &r, NULL) == 0,
	    "why may be NULL");
	T_OK(rpt("v=TLSRPTv1; rua=ftp://x.example/", &r) == -1 && why == TLSREC_RUA_UNUSABLE,
	    "only other schemes");
	T_OK(rpt("v=TLSRPTv1; rua=mailto:not an address", &r) == -1 && why == TLSREC_RUA_UNUSABLE,
	    "bad mailbox");
	T_OK(rpt("v=TLSRPTv1;", &r) == -1 && why == TLSREC_NO_RUA, "no rua");
	T_OK(rpt("v=TLSRPTv1", &r) == -1 && why == TLSREC_NO_RUA, "the version alone");
	T_OK(rpt("v=TLSRPTv1 rua=mailto:a@b.example", &r) == -1 && why == TLSREC_SYNTAX, "no ';'");
	T_OK(rpt("v=TLSRPTv1; rua=mailto:a@b.example,", &r) == -1 && why == TLSREC_RUA,
	    "empty URI");
	T_OK(rpt("v=TLSRPTv1; rua=mailto:a%00@b.example", &r) == -1, "percent-encoded NUL");
	T_OK(rpt("v=TLSRPTv1; rua=https://", &r) == -1, "https without host");
	T_OK(rpt("v=TLSRPTv1; ext=1; rua=mailto:a@b.example", &r) == 0,
	    "an extension field first");
	T_OK(rpt("v=TLSRPTv1; =1; rua=mailto:a@b.example", &r) == -1 && why == TLSREC_SYNTAX,
	    "a field without a name");
	T_OK(rpt("v=TLSRPTv10; rua=mailto:a@b.example", &r) == -1 && why == TLSREC_VERSION,
	    "v=TLSRPTv10");
	T_OK(!tlsrpt_txt_is_rpt("v=spf1") && tlsrpt_txt_is_rpt("v=TLSRPTv1;"), "is_rpt");
}

int
main(void)
{
	test_sts();
	test_rpt();
	return t_done();
}
