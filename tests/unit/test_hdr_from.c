/*
 * test_hdr_from.c - golden tests for hdr_from.c: a header block in, the
 * number of From: fields and the list of addresses (or an error) out.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lib/hdr_from.h"
#include "t.h"

struct from_case {
	const char *hdrs;
	size_t len;		/* 0: strlen(hdrs) */
	int ret;
	size_t nfields;
	const char *addrs;	/* the addresses joined by '|' */
};

#define OK1(h, a) { h, 0, 0, 1, a }
#define BAD(h) { h, 0, -1, 0, "" }
#define BADN(h) { h, sizeof(h) - 1, -1, 0, "" }	/* with a NUL */

static const struct from_case cases[] = {
	/* the common forms */
	OK1("From: a@b\r\n", "a@b"),
	OK1("From: Name <a@b>\r\n", "a@b"),
	OK1("From: <a@b>\r\n", "a@b"),
	OK1("From:<a@b>\r\n", "a@b"),
	OK1("From: \"Last, First\" <a@b>\r\n", "a@b"),
	OK1("From: =?UTF-8?B?5bGx55Sw?= <a@b>\r\n", "a@b"),
	OK1("From: =?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?= <keld@dkuug.dk>\r\n",
	    "keld@dkuug.dk"),
	OK1("From: John Q. Public <jqp@example.com>\r\n", "jqp@example.com"),
	OK1("From: a@b (comment (nested))\r\n", "a@b"),
	OK1("From: a@b (x \\) y)\r\n", "a@b"),
	OK1("From: (c) Name (c) <(c) a (c) @ (c) b (c)> (c)\r\n", "a@b"),
	OK1("From: A@EXAMPLE.COM\r\n", "A@example.com"),
	OK1("From: Name <User@Example.COM>\r\n", "User@example.com"),
	/* display names that look like addresses are skipped */
	OK1("From: \"<evil@x.example>\" <a@b>\r\n", "a@b"),
	OK1("From: \"evil@x.example\" <a@b>\r\n", "a@b"),
	OK1("From: \"a@b, c@d\" <e@f>\r\n", "e@f"),
	OK1("From: (evil@x.example) a@b\r\n", "a@b"),
	/* lists and groups */
	OK1("From: a@b, Name <c@d>, e@f\r\n", "a@b|c@d|e@f"),
	OK1("From: a@b, , c@d\r\n", "a@b|c@d"),
	OK1("From: ,a@b,\r\n", "a@b"),
	OK1("From: Group: a@b, c@d;\r\n", "a@b|c@d"),
	OK1("From: Team: Alice <a@x>, \"Bob\" <b@y>;\r\n", "a@x|b@y"),
	OK1("From: undisclosed-recipients:;\r\n", ""),
	OK1("From: undisclosed: ;\r\n", ""),
	OK1("From: G: a@b;, c@d\r\n", "a@b|c@d"),
	OK1("From: G: a@b; (c)\r\n", "a@b"),
	OK1("From: G: ,a@b,,;\r\n", "a@b"),
	/* folding */
	OK1("From: Name\r\n <a@b>\r\n", "a@b"),
	OK1("From:\r\n a@b\r\n", "a@b"),
	OK1("From: a@b,\r\n\tc@d\r\n", "a@b|c@d"),
	OK1("From: a\r\n @b\r\n", "a@b"),
	OK1("From: \"john\r\n doe\"@x\r\n", "\"john doe\"@x"),
	/* obsolete route */
	OK1("From: <@x:a@b>\r\n", "a@b"),
	OK1("From: Name <@x.example,@y.example:a@b>\r\n", "a@b"),
	OK1("From: <@x, @y : a@b>\r\n", "a@b"),
	/* quoted local parts */
	OK1("From: \"john doe\"@example.jp\r\n", "\"john doe\"@example.jp"),
	OK1("From: \"john\"@x\r\n", "john@x"),
	OK1("From: \"a.b\"@x\r\n", "a.b@x"),
	OK1("From: \"a..b\"@x\r\n", "\"a..b\"@x"),
	OK1("From: \".a\"@x\r\n", "\".a\"@x"),
	OK1("From: \"john\".doe@x\r\n", "john.doe@x"),
	OK1("From: \"a\\\"b\"@x\r\n", "\"a\\\"b\"@x"),
	OK1("From: \"a\\\\b\"@x\r\n", "\"a\\\\b\"@x"),
	OK1("From: \"a\\b\"@x\r\n", "ab@x"),
	OK1("From: \"\"@x\r\n", "\"\"@x"),
	OK1("From: Name <\"john doe\"@example.jp>\r\n", "\"john doe\"@example.jp"),
	/* obs-local-part and obs-domain: CFWS around dots and '@' */
	OK1("From: john . doe @ example.jp\r\n", "john.doe@example.jp"),
	OK1("From: Name < john . doe @ Example . JP >\r\n", "john.doe@example.jp"),
	/* domain literals */
	OK1("From: a@[1.2.3.4]\r\n", "a@[1.2.3.4]"),
	OK1("From: a@[IPv6:2001:DB8::1]\r\n", "a@[ipv6:2001:db8::1]"),
	/* UTF-8 (RFC 6532) */
	OK1("From: \xe5\xb1\xb1\xe7\x94\xb0 <yamada@\xe4\xbe\x8b\xe3\x81\x88.JP>\r\n",
	    "yamada@\xe4\xbe\x8b\xe3\x81\x88.jp"),
	OK1("From: \xe7\x94\xb0\xe4\xb8\xad@example.jp\r\n",
	    "\xe7\x94\xb0\xe4\xb8\xad@example.jp"),
	OK1("From: \"\xe5\xb1\xb1\xe7\x94\xb0 \xe5\xa4\xaa\xe9\x83\x8e\"@example.jp\r\n",
	    "\"\xe5\xb1\xb1\xe7\x94\xb0 \xe5\xa4\xaa\xe9\x83\x8e\"@example.jp"),
	OK1("From: \"J\xc3\xb6rg\" <j@x>\r\n", "j@x"),
	/* field names */
	OK1("from: a@b\r\n", "a@b"),
	OK1("FROM: a@b\r\n", "a@b"),
	OK1("From : a@b\r\n", "a@b"),
	OK1("From\t: a@b\r\n", "a@b"),
	{ "From-X: a@b\r\n", 0, 0, 0, "" },
	{ "Resent-From: a@b\r\n", 0, 0, 0, "" },
	{ "X-From: a@b\r\n", 0, 0, 0, "" },
	{ "Fro: a@b\r\n", 0, 0, 0, "" },
	{ "Subject: From: a@b\r\n", 0, 0, 0, "" },
	{ "Subject: x\r\n From: a@b\r\n", 0, 0, 0, "" },
	{ "", 0, 0, 0, "" },
	/* several fields, other fields around */
	{ "From: a@b\r\nSubject: x\r\nFrom: c@d\r\n", 0, 0, 2, "a@b|c@d" },
	{ "Subject: x\r\nFROM: a@b\r\nTo: <x@y>\r\nfrom: G:;\r\n", 0, 0, 2, "a@b" },
	{ "Received: from x (x [1.2.3.4])\r\n\tby y; Mon\r\nFrom: a@b\r\n", 0, 0, 1,
	  "a@b" },
	{ "From: a@b\r\nFrom: bad\r\n", 0, -1, 0, "" },
	/* unterminated */
	BAD("From: \"abc <a@b>\r\n"),
	BAD("From: (comment a@b\r\n"),
	BAD("From: a@b (unterminated\r\n"),
	BAD("From: a@b (x (y)\r\n"),
	BAD("From: Name <a@b\r\n"),
	BAD("From: <a@b\r\n"),
	BAD("From: G: a@b\r\n"),
	BAD("From: G: a@b, c@d\r\n"),
	BAD("From: a@[1.2.3.4\r\n"),
	BAD("From: \"a\\\"@b\r\n"),
	/* malformed */
	BAD("From: \r\n"),
	BAD("From:\r\n"),
	BAD("From: ,\r\n"),
	BAD("From: Name\r\n"),
	BAD("From: a@b c@d\r\n"),
	BAD("From: a@b <c@d>\r\n"),
	BAD("From: Name <a@b> <c@d>\r\n"),
	BAD("From: <a@b> c@d\r\n"),
	BAD("From: <>\r\n"),
	BAD("From: <a@b>>\r\n"),
	BAD("From: a@b)\r\n"),
	BAD("From: a@b;\r\n"),
	BAD("From: ;\r\n"),
	BAD("From: @b\r\n"),
	BAD("From: a@\r\n"),
	BAD("From: a@b@c\r\n"),
	BAD("From: a\\@b\r\n"),
	BAD("From: a@b]\r\n"),
	BAD("From: John Doe a@b\r\n"),
	BAD("From: John @ Home <a@b>\r\n"),
	BAD("From: : a@b;\r\n"),
	BAD("From: A: B: c@d;;\r\n"),
	BAD("From: <@x a@b>\r\n"),
	BAD("From: <@:a@b>\r\n"),
	BAD("From: a.@b\r\n"),
	BAD("From: a..b@c\r\n"),
	BAD("From: .a@b\r\n"),
	/* addresses addr_parse_mailbox rejects */
	BAD("From: a@b..c\r\n"),
	BAD("From: a@-b\r\n"),
	BAD("From: a@b.\r\n"),
	BAD("From: a@[1.2.3.999]\r\n"),
	BAD("From: a@[IPv6:zz]\r\n"),
	BAD("From: \"a\\\tb\"@x\r\n"),
	BAD("From: \xff@x\r\n"),
	BAD("From: a@\xc0\xaf.x\r\n"),
	BAD("From: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@x\r\n"),
	/* bare CR or LF anywhere, NUL in a From: field */
	BAD("From: a@b\nX: y\r\n"),
	BAD("X: \r a\r\nFrom: a@b\r\n"),
	BAD("X: a\nFrom: evil@x\r\nFrom: a@b\r\n"),
	BAD("From: a@b\r"),
	BADN("From: a\0@b\r\n"),
	BADN("From: a@b (\0)\r\n"),
	BADN("From: \"\0\" <a@b>\r\n"),
	/* no final CRLF */
	{ "From: a@b", 0, 0, 1, "a@b" },
};

/* joined - the addresses of h joined by '|'. */
static const char *
joined(const struct hdr_from *h)
{
	static char buf[HDR_FROM_MAX * (ADDR_MAX + 1)];
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < h->naddrs && i < HDR_FROM_MAX; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s",
		    i > 0 ? "|" : "", h->addrs[i]);
	return buf;
}

static struct hdr_from h;

static void
test_cases(void)
{
	size_t i, len;
	int r;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct from_case *c = &cases[i];

		len = c->len != 0 ? c->len : strlen(c->hdrs);
		r = hdr_from_extract(c->hdrs, len, &h);
		if (c->ret != 0) {
			T_OK(r == -1, "case %zu rejected (got %d: %s)", i, r,
			    joined(&h));
			continue;
		}
		T_OK(r == 0 && h.nfields == c->nfields &&
		    strcmp(joined(&h), c->addrs) == 0,
		    "case %zu: %zu [%s] (got %d %zu [%s])", i, c->nfields,
		    c->addrs, r, h.nfields, joined(&h));
	}
}

/* many - "From: " and n addresses a0@x, a1@x ... */
static size_t
many(char *buf, size_t size, size_t n, const char *sep)
{
	size_t i, o;

	o = (size_t)snprintf(buf, size, "From: ");
	for (i = 0; i < n; i++)
		o += (size_t)snprintf(buf + o, size - o, "%sa%zu@x",
		    i > 0 ? sep : "", i);
	o += (size_t)snprintf(buf + o, size - o, "\r\n");
	return o;
}

static void
test_limits(void)
{
	static char buf[16384];
	size_t n;

	n = many(buf, sizeof(buf), HDR_FROM_MAX, ", ");
	T_OK(hdr_from_extract(buf, n, &h) == 0 && h.naddrs == HDR_FROM_MAX &&
	    strcmp(h.addrs[HDR_FROM_MAX - 1], "a31@x") == 0, "32 addresses");
	n = many(buf, sizeof(buf), HDR_FROM_MAX + 1, ", ");
	T_OK(hdr_from_extract(buf, n, &h) == -1, "33 addresses");
	n = many(buf, sizeof(buf), 20, ", ");
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s",
	    "From: a@b, c@d, e@f, g@h, i@j, k@l, m@n, o@p, q@r, s@t, u@v, w@x, y@z\r\n");
	T_OK(hdr_from_extract(buf, n, &h) == -1, "33 addresses over two fields");
	/* a long comment, deeply nested */
	n = (size_t)snprintf(buf, sizeof(buf), "From: a@b ");
	memset(buf + n, '(', 5000);
	memset(buf + n + 5000, ')', 5000);
	n += 10000;
	memcpy(buf + n, "\r\n", 2);
	n += 2;
	T_OK(hdr_from_extract(buf, n, &h) == 0 && h.naddrs == 1, "deep comment");
	buf[n - 3] = ' ';
	T_OK(hdr_from_extract(buf, n, &h) == -1, "deep comment left open");
	/* a local part that needs quoting and then is too long */
	n = (size_t)snprintf(buf, sizeof(buf), "From: \"%0250d \"@x\r\n", 0);
	T_OK(hdr_from_extract(buf, n, &h) == -1, "long quoted local part");
	/* len bounds the block */
	T_OK(hdr_from_extract("From: a@b\r\nFrom: bad\r\n", 11, &h) == 0 &&
	    h.nfields == 1, "len bounds");
}

int
main(void)
{
	test_cases();
	test_limits();
	return t_done();
}
