/*
 * test_smtp_cmd.c - golden tests for smtp_cmd.c: command lines in, verb and
 * argument out; MAIL/RCPT arguments in, parsed fields or the exact reply out.
 */
#include <stdbool.h>
#include <string.h>

#include "submit/smtp_cmd.h"
#include "t.h"

struct line_case {
	const char *line;
	size_t len;		/* 0: strlen(line) */
	int ret;
	enum smtp_verb verb;
	const char *arg;
};

static const struct line_case line_cases[] = {
	{ "MAIL FROM:<a@b>", 0, 0, SMTP_VERB_MAIL, "FROM:<a@b>" },
	{ "mail FROM:<a@b> SIZE=10", 0, 0, SMTP_VERB_MAIL, "FROM:<a@b> SIZE=10" },
	{ "rCpT TO:<a@b>", 0, 0, SMTP_VERB_RCPT, "TO:<a@b>" },
	{ "EHLO client.example", 0, 0, SMTP_VERB_EHLO, "client.example" },
	{ "HELO x", 0, 0, SMTP_VERB_HELO, "x" },
	{ "DATA", 0, 0, SMTP_VERB_DATA, "" },
	{ "data", 0, 0, SMTP_VERB_DATA, "" },
	{ "DATA ", 0, 0, SMTP_VERB_DATA, "" },
	{ "RSET", 0, 0, SMTP_VERB_RSET, "" },
	{ "NOOP hello", 0, 0, SMTP_VERB_NOOP, "hello" },
	{ "QUIT", 0, 0, SMTP_VERB_QUIT, "" },
	{ "VRFY user", 0, 0, SMTP_VERB_VRFY, "user" },
	{ "HELP", 0, 0, SMTP_VERB_HELP, "" },
	{ "STARTTLS", 0, 0, SMTP_VERB_STARTTLS, "" },
	{ "AUTH PLAIN AGFAAGI=", 0, 0, SMTP_VERB_AUTH, "PLAIN AGFAAGI=" },
	{ "EHLO x   ", 0, 0, SMTP_VERB_EHLO, "x" },
	{ "EHLO  x", 0, 0, SMTP_VERB_EHLO, " x" },
	{ "MAIL", 0, 0, SMTP_VERB_MAIL, "" },
	{ "EXPN list", 0, 0, SMTP_VERB_UNKNOWN, "list" },
	{ "MAILX FROM:<a@b>", 0, 0, SMTP_VERB_UNKNOWN, "FROM:<a@b>" },
	{ "MAI", 0, 0, SMTP_VERB_UNKNOWN, "" },
	{ "MAIL\tFROM:<a@b>", 0, 0, SMTP_VERB_UNKNOWN, "" },
	{ " MAIL FROM:<a@b>", 0, 0, SMTP_VERB_UNKNOWN, "MAIL FROM:<a@b>" },
	{ "", 0, 0, SMTP_VERB_UNKNOWN, "" },
	{ "STARTTLSX", 0, 0, SMTP_VERB_UNKNOWN, "" },
	{ "\xc3\xa9 x", 0, 0, SMTP_VERB_UNKNOWN, "x" },
	/* NUL, CR, LF anywhere: rejected before anything else */
	{ "MAIL FROM:<a@b>\r", 0, -1, SMTP_VERB_UNKNOWN, "" },
	{ "MAIL FROM:<a@b>\n", 0, -1, SMTP_VERB_UNKNOWN, "" },
	{ "MAIL FROM:<a\r\n@b>", 0, -1, SMTP_VERB_UNKNOWN, "" },
	{ "\rQUIT", 0, -1, SMTP_VERB_UNKNOWN, "" },
	{ "QUIT\nDATA", 0, -1, SMTP_VERB_UNKNOWN, "" },
	{ "DATA\0", 5, -1, SMTP_VERB_UNKNOWN, "" },
	{ "RCPT TO:<a@b\0>", 14, -1, SMTP_VERB_UNKNOWN, "" },
	{ "\0", 1, -1, SMTP_VERB_UNKNOWN, "" },
};

/* esc - s[0..n) printable, for test names (rotating static buffers). */
static const char *
esc(const char *s, size_t n)
{
	static char bufs[4][256];
	static int which;
	char *b = bufs[which++ % 4];
	size_t i, o = 0;

	for (i = 0; i < n && o + 5 < sizeof(bufs[0]); i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 32 && c < 127)
			b[o++] = (char)c;
		else
			o += (size_t)snprintf(b + o, 5, "\\x%02x", c);
	}
	b[o] = '\0';
	return b;
}

static void
test_lines(void)
{
	struct smtp_cmd c;
	size_t i, len;
	int r;

	for (i = 0; i < sizeof(line_cases) / sizeof(line_cases[0]); i++) {
		const struct line_case *k = &line_cases[i];

		len = k->len != 0 ? k->len : strlen(k->line);
		r = smtp_cmd_parse(k->line, len, &c);
		T_OK(r == k->ret && c.verb == k->verb &&
		    c.arglen == strlen(k->arg) &&
		    memcmp(c.arg, k->arg, c.arglen) == 0,
		    "line %zu: \"%s\" -> %d %s \"%s\" (got %d %s \"%s\")", i,
		    esc(k->line, len), k->ret, smtp_verb_name(k->verb),
		    esc(k->arg, strlen(k->arg)), r, smtp_verb_name(c.verb),
		    esc(c.arg, c.arglen));
	}
	/* the argument points into the line */
	smtp_cmd_parse("HELO abc", 8, &c);
	T_OK(strcmp(c.arg, "abc") == 0, "arg points into the line");
	/* a line far longer than SMTP_LINE_MAX is still parsed safely */
	{
		char big[4096];

		memset(big, 'x', sizeof(big));
		memcpy(big, "NOOP ", 5);
		T_OK(smtp_cmd_parse(big, sizeof(big), &c) == 0 &&
		    c.verb == SMTP_VERB_NOOP && c.arglen == sizeof(big) - 5,
		    "long line");
	}
}

static void
test_verb_names(void)
{
	T_STREQ(smtp_verb_name(SMTP_VERB_MAIL), "MAIL", "name MAIL");
	T_STREQ(smtp_verb_name(SMTP_VERB_STARTTLS), "STARTTLS", "name STARTTLS");
	T_STREQ(smtp_verb_name(SMTP_VERB_AUTH), "AUTH", "name AUTH");
	T_STREQ(smtp_verb_name(SMTP_VERB_UNKNOWN), "UNKNOWN", "name UNKNOWN");
	T_STREQ(smtp_verb_name(SMTP_VERB_COUNT), "UNKNOWN", "name out of range");
	T_STREQ(smtp_verb_name((enum smtp_verb)-1), "UNKNOWN", "name negative");
}

/* Expected result of a MAIL argument: fields on success, reply on error. */
struct mail_case {
	const char *arg;
	int code;		/* 0: success */
	const char *status;	/* or the parsed address on success */
	const char *text;	/* or the AUTH value on success */
	int has_size;
	unsigned long long size;
	enum smtp_body body;
	bool smtputf8;
};

#define OK(arg, addr) { arg, 0, addr, "", 0, 0, SMTP_BODY_NONE, false }
#define ERR(arg, code, st, txt) { arg, code, st, txt, 0, 0, SMTP_BODY_NONE, false }
#define SYNTAX "Syntax: MAIL FROM:<address>"
#define BADADDR "Bad sender address syntax"
#define NONASCII "Non-ASCII address requires SMTPUTF8"

static const struct mail_case mail_cases[] = {
	OK("FROM:<a@b>", "a@b"),
	OK("from:<a@b>", "a@b"),
	OK("From:<User@Example.COM>", "User@example.com"),
	OK("FROM: <a@b>", "a@b"),
	OK("FROM:<>", ""),
	OK("FROM: <>", ""),
	OK("FROM:<@a.example,@b.example:u@d.example>", "u@d.example"),
	OK("FROM:<@a.example:u@d.example>", "u@d.example"),
	OK("FROM:<@[1.2.3.4],@[IPv6:::1]:u@d.example>", "u@d.example"),
	OK("FROM:<\"a>b\"@c>", "\"a>b\"@c"),
	OK("FROM:<\"a b\"@c>", "\"a b\"@c"),
	OK("FROM:<a@[10.1.2.3]>", "a@[10.1.2.3]"),
	OK("FROM:<a@b>  ", "a@b"),
	ERR("FROM:  <a@b>", 501, "5.5.4", SYNTAX),
	ERR("FROM:a@b", 501, "5.5.4", SYNTAX),
	ERR("FROM:", 501, "5.5.4", SYNTAX),
	ERR("FROM", 501, "5.5.4", SYNTAX),
	ERR("", 501, "5.5.4", SYNTAX),
	ERR("TO:<a@b>", 501, "5.5.4", SYNTAX),
	ERR("FROM <a@b>", 501, "5.5.4", SYNTAX),
	ERR("FROM:<a@b>x", 501, "5.5.4", SYNTAX),
	ERR("FROM:<a@b><c@d>", 501, "5.5.4", SYNTAX),
	ERR("FROM:<a@b", 501, "5.1.7", BADADDR),
	ERR("FROM:<a@b.>", 501, "5.1.7", BADADDR),
	ERR("FROM:<a>", 501, "5.1.7", BADADDR),
	ERR("FROM:<postmaster>", 501, "5.1.7", BADADDR),
	ERR("FROM:<a b@c>", 501, "5.1.7", BADADDR),
	ERR("FROM:<<a@b>>", 501, "5.1.7", BADADDR),
	ERR("FROM:<\"a@b>", 501, "5.1.7", BADADDR),
	ERR("FROM:<@a.example:>", 501, "5.1.7", BADADDR),
	ERR("FROM:<@a.example>", 501, "5.1.7", BADADDR),
	ERR("FROM:<@a..example:u@d>", 501, "5.1.7", BADADDR),
	ERR("FROM:<@a.example;u@d>", 501, "5.1.7", BADADDR),
	ERR("FROM:<@a.example,u@d>", 501, "5.1.7", BADADDR),
	ERR("FROM:<@:u@d>", 501, "5.1.7", BADADDR),
	ERR("FROM:<@[1.2.3.4:u@d>", 501, "5.1.7", BADADDR),
	/* SIZE */
	{ "FROM:<a@b> SIZE=12345", 0, "a@b", "", 1, 12345, SMTP_BODY_NONE, false },
	{ "FROM:<a@b> size=0", 0, "a@b", "", 1, 0, SMTP_BODY_NONE, false },
	{ "FROM:<a@b> SIZE=18446744073709551615", 0, "a@b", "", 1,
	  18446744073709551615ULL, SMTP_BODY_NONE, false },
	{ "FROM:<a@b> SIZE=00000000000000000001", 0, "a@b", "", 1, 1,
	  SMTP_BODY_NONE, false },
	ERR("FROM:<a@b> SIZE=18446744073709551616", 501, "5.5.4", "Bad SIZE parameter"),
	ERR("FROM:<a@b> SIZE=99999999999999999999", 501, "5.5.4", "Bad SIZE parameter"),
	ERR("FROM:<a@b> SIZE=000000000000000000001", 501, "5.5.4", "Bad SIZE parameter"),
	ERR("FROM:<a@b> SIZE=", 501, "5.5.4", "Bad parameter syntax"),
	ERR("FROM:<a@b> SIZE", 501, "5.5.4", "Bad SIZE parameter"),
	ERR("FROM:<a@b> SIZE=-1", 501, "5.5.4", "Bad SIZE parameter"),
	ERR("FROM:<a@b> SIZE=+1", 501, "5.5.4", "Bad SIZE parameter"),
	ERR("FROM:<a@b> SIZE=1k", 501, "5.5.4", "Bad SIZE parameter"),
	ERR("FROM:<a@b> SIZE=1 SIZE=1", 501, "5.5.4", "Bad SIZE parameter"),
	/* BODY */
	{ "FROM:<a@b> BODY=8BITMIME", 0, "a@b", "", 0, 0, SMTP_BODY_8BITMIME, false },
	{ "FROM:<a@b> body=7bit", 0, "a@b", "", 0, 0, SMTP_BODY_7BIT, false },
	ERR("FROM:<a@b> BODY=BINARYMIME", 501, "5.5.4", "Bad BODY parameter"),
	ERR("FROM:<a@b> BODY", 501, "5.5.4", "Bad BODY parameter"),
	ERR("FROM:<a@b> BODY=7BIT BODY=7BIT", 501, "5.5.4", "Bad BODY parameter"),
	/* SMTPUTF8 and non-ASCII addresses */
	{ "FROM:<a@b> SMTPUTF8", 0, "a@b", "", 0, 0, SMTP_BODY_NONE, true },
	{ "FROM:<\xe7\x94\xb0@\xe4\xbe\x8b.JP> SMTPUTF8", 0,
	  "\xe7\x94\xb0@\xe4\xbe\x8b.jp", "", 0, 0, SMTP_BODY_NONE, true },
	ERR("FROM:<\xe7\x94\xb0@x.jp>", 553, "5.6.7", NONASCII),
	ERR("FROM:<a@\xe4\xbe\x8b.jp> BODY=8BITMIME", 553, "5.6.7", NONASCII),
	ERR("FROM:<\xff@x.jp> SMTPUTF8", 501, "5.1.7", BADADDR),
	ERR("FROM:<a@b> SMTPUTF8=yes", 501, "5.5.4", "Bad SMTPUTF8 parameter"),
	ERR("FROM:<a@b> SMTPUTF8 smtputf8", 501, "5.5.4", "Bad SMTPUTF8 parameter"),
	/* AUTH */
	{ "FROM:<a@b> AUTH=<>", 0, "a@b", "<>", 0, 0, SMTP_BODY_NONE, false },
	{ "FROM:<a@b> AUTH=e+3Dmc2@example.com", 0, "a@b", "e+3Dmc2@example.com",
	  0, 0, SMTP_BODY_NONE, false },
	ERR("FROM:<a@b> AUTH=a+3", 501, "5.5.4", "Bad AUTH parameter"),
	ERR("FROM:<a@b> AUTH=a+zz", 501, "5.5.4", "Bad AUTH parameter"),
	ERR("FROM:<a@b> AUTH", 501, "5.5.4", "Bad AUTH parameter"),
	ERR("FROM:<a@b> AUTH=<> AUTH=<>", 501, "5.5.4", "Bad AUTH parameter"),
	ERR("FROM:<a@b> AUTH=a=b", 501, "5.5.4", "Bad parameter syntax"),
	/* all together, any order, any case */
	{ "FROM:<a@b> smtputf8 Size=7 auth=<> BODY=8bitmime", 0, "a@b", "<>", 1, 7,
	  SMTP_BODY_8BITMIME, true },
	{ "FROM:<a@b>  SIZE=7   BODY=7BIT", 0, "a@b", "", 1, 7, SMTP_BODY_7BIT,
	  false },
	/* unknown and malformed parameters */
	ERR("FROM:<a@b> RET=HDRS", 555, "5.5.4", "Unsupported option: RET"),
	ERR("FROM:<a@b> X-FOO", 555, "5.5.4", "Unsupported option: X-FOO"),
	ERR("FROM:<a@b> SIZE=1 ENVID=x", 555, "5.5.4", "Unsupported option: ENVID"),
	ERR("FROM:<a@b> ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNOP", 555, "5.5.4",
	    "Unsupported option: ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEF"),
	ERR("FROM:<a@b> -X", 501, "5.5.4", "Bad parameter syntax"),
	ERR("FROM:<a@b> =1", 501, "5.5.4", "Bad parameter syntax"),
	ERR("FROM:<a@b> X_Y=1", 501, "5.5.4", "Bad parameter syntax"),
	ERR("FROM:<a@b> X=\xc3\xa9", 501, "5.5.4", "Bad parameter syntax"),
	ERR("FROM:<a@b> X=a\tb", 501, "5.5.4", "Bad parameter syntax"),
};

static void
check_mail(size_t i, const struct mail_case *k)
{
	struct smtp_mail_args m;
	struct reply err;
	int r;

	memset(&err, 0, sizeof(err));
	r = smtp_cmd_parse_mail(k->arg, strlen(k->arg), &m, &err);
	if (k->code != 0) {
		T_OK(r == -1 && err.code == k->code &&
		    strcmp(err.status, k->status) == 0 &&
		    strcmp(err.text, k->text) == 0,
		    "mail %zu: \"%s\" -> %d %s %s (got %d %d %s %s)", i, k->arg,
		    k->code, k->status, k->text, r, err.code, err.status,
		    err.text);
		return;
	}
	T_OK(r == 0 && strcmp(m.addr, k->status) == 0 &&
	    strcmp(m.auth, k->text) == 0 && m.has_size == (k->has_size != 0) &&
	    (!m.has_size || m.size == k->size) && m.body == k->body &&
	    m.smtputf8 == k->smtputf8,
	    "mail %zu: \"%s\" -> <%s> (got %d <%s> %d %s)", i, k->arg,
	    k->status, r, m.addr, err.code, err.text);
}

static void
test_mail(void)
{
	size_t i;

	for (i = 0; i < sizeof(mail_cases) / sizeof(mail_cases[0]); i++)
		check_mail(i, &mail_cases[i]);
}

/* path_of - kw "<" route local "@" domain ">" into buf, with local and
 * domain of the given lengths. */
static size_t
path_of(char *buf, const char *kw, const char *route, size_t local,
    size_t domain)
{
	size_t n = strlen(kw), i;

	memcpy(buf, kw, n);
	buf[n++] = '<';
	memcpy(buf + n, route, strlen(route));
	n += strlen(route);
	for (i = 0; i < local; i++)
		buf[n++] = 'l';
	buf[n++] = '@';
	for (i = 0; i < domain; i++)
		buf[n++] = (i % 10 == 9) ? '.' : 'd';
	buf[n++] = '>';
	buf[n] = '\0';
	return n;
}

static void
test_mail_limits(void)
{
	struct smtp_mail_args m;
	struct reply err;
	char buf[1024];
	size_t n;

	/* 64 + 1 + 189 = 254: with <> 256, the limit */
	n = path_of(buf, "FROM:", "", 64, 189);
	T_OK(smtp_cmd_parse_mail(buf, n, &m, &err) == 0 && strlen(m.addr) == 254,
	    "path of 256");
	n = path_of(buf, "FROM:", "", 64, 190);
	T_OK(smtp_cmd_parse_mail(buf, n, &m, &err) == -1 && err.code == 501 &&
	    strcmp(err.status, "5.1.7") == 0, "path of 257");
	/* the route counts towards the path length */
	n = path_of(buf, "FROM:", "@r.example:", 64, 178);
	T_OK(smtp_cmd_parse_mail(buf, n, &m, &err) == 0 && strlen(m.addr) == 243,
	    "route + mailbox = 256");
	n = path_of(buf, "FROM:", "@r.example:", 64, 179);
	T_OK(smtp_cmd_parse_mail(buf, n, &m, &err) == -1, "route + mailbox > 256");
	/* AUTH value: as much as m.auth holds (256), not one more */
	n = (size_t)snprintf(buf, sizeof(buf), "FROM:<a@b> AUTH=%0256d", 0);
	T_OK(smtp_cmd_parse_mail(buf, n, &m, &err) == 0 &&
	    strlen(m.auth) == sizeof(m.auth) - 1, "AUTH of 256");
	n = (size_t)snprintf(buf, sizeof(buf), "FROM:<a@b> AUTH=%0257d", 0);
	T_OK(smtp_cmd_parse_mail(buf, n, &m, &err) == -1 &&
	    strcmp(err.text, "Bad AUTH parameter") == 0, "AUTH of 257");
	/* len bounds the argument: what follows is not looked at */
	T_OK(smtp_cmd_parse_mail("FROM:<a@b> BOGUS", 10, &m, &err) == 0 &&
	    strcmp(m.addr, "a@b") == 0, "len bounds MAIL");
	T_OK(smtp_cmd_parse_mail("FROM:<a@b>", 9, &m, &err) == -1, "cut path");
	/* a failed parse leaves no stale fields */
	smtp_cmd_parse_mail("FROM:<x@y> SIZE=5", 17, &m, &err);
	T_OK(smtp_cmd_parse_mail("FROM:<a@b> SIZE=x", 17, &m, &err) == -1,
	    "failure after success");
	T_OK(smtp_cmd_parse_mail("FROM:<a@b>", 10, &m, &err) == 0 &&
	    !m.has_size && m.auth[0] == '\0' && !m.smtputf8 &&
	    m.body == SMTP_BODY_NONE, "fields reset");
}

struct rcpt_case {
	const char *arg;
	bool utf8;
	int code;
	const char *status;	/* or the address */
	const char *text;
};

#define RSYNTAX "Syntax: RCPT TO:<address>"
#define RBAD "Bad recipient address syntax"

static const struct rcpt_case rcpt_cases[] = {
	{ "TO:<a@b>", false, 0, "a@b", "" },
	{ "to:<A@B>", false, 0, "A@b", "" },
	{ "TO: <a@b>", false, 0, "a@b", "" },
	{ "TO:<a@b>  ", false, 0, "a@b", "" },
	{ "TO:<postmaster>", false, 0, "postmaster", "" },
	{ "TO:<PostMaster>", false, 0, "postmaster", "" },
	{ "TO:<postmaster@Example.org>", false, 0, "postmaster@example.org", "" },
	{ "TO:<@a.example,@b.example:u@d.example>", false, 0, "u@d.example", "" },
	{ "TO:<\xe7\x94\xb0@x.jp>", true, 0, "\xe7\x94\xb0@x.jp", "" },
	{ "TO:<\xe7\x94\xb0@x.jp>", false, 553, "5.6.7", NONASCII },
	{ "TO:<>", false, 501, "5.1.3", RBAD },
	{ "TO:<postmasterx>", false, 501, "5.1.3", RBAD },
	{ "TO:<@x:postmaster>", false, 501, "5.1.3", RBAD },
	{ "TO:<a@b", false, 501, "5.1.3", RBAD },
	{ "TO:<a..b@c>", false, 501, "5.1.3", RBAD },
	{ "TO:a@b", false, 501, "5.5.4", RSYNTAX },
	{ "TO:", false, 501, "5.5.4", RSYNTAX },
	{ "", false, 501, "5.5.4", RSYNTAX },
	{ "FROM:<a@b>", false, 501, "5.5.4", RSYNTAX },
	{ "TO:  <a@b>", false, 501, "5.5.4", RSYNTAX },
	{ "TO:<a@b>x", false, 501, "5.5.4", RSYNTAX },
	{ "TO:<a@b> NOTIFY=NEVER", false, 555, "5.5.4", "Unsupported option: NOTIFY" },
	{ "TO:<a@b> SIZE=1", false, 555, "5.5.4", "Unsupported option: SIZE" },
	{ "TO:<a@b> ORCPT=rfc822;a@b", false, 555, "5.5.4", "Unsupported option: ORCPT" },
	{ "TO:<a@b> %%%", false, 501, "5.5.4", "Bad parameter syntax" },
};

static void
test_rcpt(void)
{
	struct smtp_rcpt_args a;
	struct reply err;
	size_t i;
	int r;

	for (i = 0; i < sizeof(rcpt_cases) / sizeof(rcpt_cases[0]); i++) {
		const struct rcpt_case *k = &rcpt_cases[i];

		memset(&err, 0, sizeof(err));
		r = smtp_cmd_parse_rcpt(k->arg, strlen(k->arg), k->utf8, &a, &err);
		if (k->code == 0)
			T_OK(r == 0 && strcmp(a.addr, k->status) == 0,
			    "rcpt %zu: \"%s\" -> <%s> (got %d <%s> %s)", i, k->arg,
			    k->status, r, a.addr, err.text);
		else
			T_OK(r == -1 && err.code == k->code &&
			    strcmp(err.status, k->status) == 0 &&
			    strcmp(err.text, k->text) == 0,
			    "rcpt %zu: \"%s\" -> %d %s %s (got %d %d %s %s)", i,
			    k->arg, k->code, k->status, k->text, r, err.code,
			    err.status, err.text);
	}
}

static void
test_rcpt_limits(void)
{
	struct smtp_rcpt_args a;
	struct reply err;
	char buf[1024];
	size_t n;

	n = path_of(buf, "TO:", "", 64, 189);
	T_OK(smtp_cmd_parse_rcpt(buf, n, false, &a, &err) == 0, "rcpt path of 256");
	n = path_of(buf, "TO:", "", 64, 190);
	T_OK(smtp_cmd_parse_rcpt(buf, n, false, &a, &err) == -1 &&
	    strcmp(err.status, "5.1.3") == 0, "rcpt path of 257");
	T_OK(err.kind == REPLY_PERMFAIL, "5xx is a permanent failure");
}

static void
test_helo(void)
{
	char big[300];

	T_OK(smtp_cmd_valid_helo("client.example", 14), "helo domain");
	T_OK(smtp_cmd_valid_helo("[192.0.2.1]", 11), "helo literal");
	T_OK(smtp_cmd_valid_helo("x", 1), "helo one byte");
	T_OK(!smtp_cmd_valid_helo("", 0), "helo empty");
	T_OK(!smtp_cmd_valid_helo("a b", 3), "helo space");
	T_OK(!smtp_cmd_valid_helo("a\tb", 3), "helo tab");
	T_OK(!smtp_cmd_valid_helo("a\x7f", 2), "helo DEL");
	T_OK(!smtp_cmd_valid_helo("\xc3\xa9", 2), "helo non-ASCII");
	T_OK(!smtp_cmd_valid_helo("a\0b", 3), "helo NUL");
	memset(big, 'h', sizeof(big));
	T_OK(smtp_cmd_valid_helo(big, 255), "helo 255");
	T_OK(!smtp_cmd_valid_helo(big, 256), "helo 256");
}

int
main(void)
{
	test_lines();
	test_verb_names();
	test_mail();
	test_mail_limits();
	test_rcpt();
	test_rcpt_limits();
	test_helo();
	return t_done();
}
