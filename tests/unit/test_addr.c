/*
 * test_addr.c - golden tests for addr.c: mailbox in, normalised mailbox (or
 * rejection) out, with and without ADDR_ALLOW_UTF8.
 */
#include <stdbool.h>
#include <string.h>

#include "lib/addr.h"
#include "lib/utf8.h"
#include "t.h"

#define U ADDR_ALLOW_UTF8

struct mbox_case {
	const char *in;
	size_t len;		/* 0: strlen(in) */
	unsigned flags;
	const char *want;	/* NULL: rejected */
};

static const struct mbox_case mbox_cases[] = {
	/* dot-strings */
	{ "user@example.com", 0, 0, "user@example.com" },
	{ "User.Name@Example.COM", 0, 0, "User.Name@example.com" },
	{ "a@b", 0, 0, "a@b" },
	{ "a.b.c@d", 0, 0, "a.b.c@d" },
	{ "!#$%&'*+-/=?^_`{|}~@x.example", 0, 0, "!#$%&'*+-/=?^_`{|}~@x.example" },
	{ "a+tag@x.example", 0, 0, "a+tag@x.example" },
	{ ".a@b", 0, 0, NULL },
	{ "a.@b", 0, 0, NULL },
	{ "a..b@c", 0, 0, NULL },
	{ "@b", 0, 0, NULL },
	{ "a@", 0, 0, NULL },
	{ "a", 0, 0, NULL },
	{ "", 0, 0, NULL },
	{ "a@b@c", 0, 0, NULL },
	{ "a b@c", 0, 0, NULL },
	{ "a(b)@c", 0, 0, NULL },
	{ "a,b@c", 0, 0, NULL },
	{ "a<b@c", 0, 0, NULL },
	{ "a\"b@c", 0, 0, NULL },
	{ "a\\b@c", 0, 0, NULL },
	{ "a@b ", 0, 0, NULL },
	{ " a@b", 0, 0, NULL },
	{ "a\tb@c", 0, 0, NULL },
	{ "a\x7f@c", 0, 0, NULL },
	/* quoted strings */
	{ "\"john doe\"@example.jp", 0, 0, "\"john doe\"@example.jp" },
	{ "\"a@b\"@c", 0, 0, "\"a@b\"@c" },
	{ "\"a\\\"b\"@c", 0, 0, "\"a\\\"b\"@c" },
	{ "\"a\\\\b\"@c", 0, 0, "\"a\\\\b\"@c" },
	{ "\"\"@c", 0, 0, "\"\"@c" },
	{ "\"a..b\"@c", 0, 0, "\"a..b\"@c" },
	{ "\"a\"b@c", 0, 0, NULL },
	{ "\"ab@c", 0, 0, NULL },
	{ "\"a\\\"@c", 0, 0, NULL },
	{ "\"a\tb\"@c", 0, 0, NULL },
	{ "\"a\\\tb\"@c", 0, 0, NULL },
	{ "\"a\\\x7f\"@c", 0, 0, NULL },
	{ "\"\xc3\xa9\"@c", 0, 0, NULL },
	{ "\"\xc3\xa9\"@c", 0, U, "\"\xc3\xa9\"@c" },
	{ "\"\xc3\"@c", 0, U, NULL },
	/* domains */
	{ "a@EXAMPLE.Com", 0, 0, "a@example.com" },
	{ "a@x-y.example", 0, 0, "a@x-y.example" },
	{ "a@x--y.example", 0, 0, "a@x--y.example" },
	{ "a@1.2.3.4", 0, 0, "a@1.2.3.4" },
	{ "a@-x.example", 0, 0, NULL },
	{ "a@x-.example", 0, 0, NULL },
	{ "a@x.example.", 0, 0, NULL },
	{ "a@.example", 0, 0, NULL },
	{ "a@x..example", 0, 0, NULL },
	{ "a@x_y.example", 0, 0, NULL },
	{ "a@x.exa mple", 0, 0, NULL },
	{ "a@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.x", 0, 0,
	  "a@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.x" },
	{ "a@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.x", 0, 0,
	  NULL },
	/* address literals */
	{ "a@[1.2.3.4]", 0, 0, "a@[1.2.3.4]" },
	{ "a@[255.255.255.255]", 0, 0, "a@[255.255.255.255]" },
	{ "a@[0.0.0.0]", 0, 0, "a@[0.0.0.0]" },
	{ "a@[256.1.1.1]", 0, 0, NULL },
	{ "a@[1.2.3]", 0, 0, NULL },
	{ "a@[1.2.3.4.5]", 0, 0, NULL },
	{ "a@[1.2.3.]", 0, 0, NULL },
	{ "a@[1..2.3]", 0, 0, NULL },
	{ "a@[1234.1.1.1]", 0, 0, NULL },
	{ "a@[ 1.2.3.4]", 0, 0, NULL },
	{ "a@[1.2.3.4", 0, 0, NULL },
	{ "a@1.2.3.4]", 0, 0, NULL },
	{ "a@[]", 0, 0, NULL },
	{ "a@[IPv6:2001:db8::1]", 0, 0, "a@[ipv6:2001:db8::1]" },
	{ "a@[ipv6:::1]", 0, 0, "a@[ipv6:::1]" },
	{ "a@[IPv6:::ffff:1.2.3.4]", 0, 0, "a@[ipv6:::ffff:1.2.3.4]" },
	{ "a@[IPv6:2001:DB8::1]", 0, 0, "a@[ipv6:2001:db8::1]" },
	{ "a@[IPv6:2001:db8:::1]", 0, 0, NULL },
	{ "a@[IPv6:1.2.3.4]", 0, 0, NULL },
	{ "a@[IPv6:]", 0, 0, NULL },
	{ "a@[IPv6:gggg::1]", 0, 0, NULL },
	{ "a@[2001:db8::1]", 0, 0, NULL },
	{ "a@[IPv4:1.2.3.4]", 0, 0, NULL },
	{ "a@[tag:text]", 0, 0, NULL },
	/* UTF-8 (RFC 6531) */
	{ "\xe7\x94\xb0\xe4\xb8\xad@example.jp", 0, 0, NULL },
	{ "\xe7\x94\xb0\xe4\xb8\xad@example.jp", 0, U,
	  "\xe7\x94\xb0\xe4\xb8\xad@example.jp" },
	{ "a@\xe4\xbe\x8b\xe3\x81\x88.JP", 0, U, "a@\xe4\xbe\x8b\xe3\x81\x88.jp" },
	{ "a@\xe4\xbe\x8b\xe3\x81\x88.jp", 0, 0, NULL },
	{ "J\xc3\xb6rg@B\xc3\x9c.example", 0, U, "J\xc3\xb6rg@b\xc3\x9c.example" },
	{ "\xf0\x9f\x98\x80@x", 0, U, "\xf0\x9f\x98\x80@x" },
	{ "\xc0\xaf@x", 0, U, NULL },		/* overlong */
	{ "\xe0\x80\xaf@x", 0, U, NULL },	/* overlong */
	{ "\xed\xa0\x80@x", 0, U, NULL },	/* surrogate */
	{ "\xf4\x90\x80\x80@x", 0, U, NULL },	/* > U+10FFFF */
	{ "\xc3@x", 0, U, NULL },		/* truncated */
	{ "\x80@x", 0, U, NULL },		/* lone continuation */
	{ "a@\xc3", 0, U, NULL },
	{ "a@x.\xff", 0, U, NULL },
	/* NUL is never part of a mailbox */
	{ "a\0b@c", 5, 0, NULL },
	{ "ab@c\0", 5, 0, NULL },
	{ "\"a\0\"@c", 6, 0, NULL },
	{ "a@[1.2.3.4\0]", 12, 0, NULL },
	{ "a@[IPv6:::1\0]", 13, 0, NULL },
};

static void
test_mailboxes(void)
{
	char out[ADDR_MAX + 1];
	size_t i, len;
	int r;

	for (i = 0; i < sizeof(mbox_cases) / sizeof(mbox_cases[0]); i++) {
		const struct mbox_case *c = &mbox_cases[i];

		len = c->len != 0 ? c->len : strlen(c->in);
		memset(out, 'X', sizeof(out));
		r = addr_parse_mailbox(c->in, len, c->flags, out, sizeof(out));
		if (c->want == NULL)
			T_OK(r == -1, "case %zu rejected: %s", i, c->in);
		else
			T_OK(r == 0 && strcmp(out, c->want) == 0,
			    "case %zu: %s -> %s (got %s)", i, c->in, c->want,
			    r == 0 ? out : "error");
	}
}

/* fill - "a...a" of n bytes into buf. */
static char *
fill(char *buf, size_t n, char c)
{
	memset(buf, c, n);
	buf[n] = '\0';
	return buf;
}

static void
test_lengths(void)
{
	char in[600], out[600], lp[100];
	char lbl[64];
	size_t n;

	/* local part: 64 allowed, 65 not */
	snprintf(in, sizeof(in), "%s@x", fill(lp, 64, 'a'));
	T_OK(addr_parse_mailbox(in, strlen(in), 0, out, sizeof(out)) == 0,
	    "local part of 64");
	snprintf(in, sizeof(in), "%s@x", fill(lp, 65, 'a'));
	T_OK(addr_parse_mailbox(in, strlen(in), 0, out, sizeof(out)) == -1,
	    "local part of 65");
	/* quoted local part: 64 counted with its quotes */
	snprintf(in, sizeof(in), "\"%s\"@x", fill(lp, 62, 'a'));
	T_OK(addr_parse_mailbox(in, strlen(in), 0, out, sizeof(out)) == 0,
	    "quoted local part of 64");
	snprintf(in, sizeof(in), "\"%s\"@x", fill(lp, 63, 'a'));
	T_OK(addr_parse_mailbox(in, strlen(in), 0, out, sizeof(out)) == -1,
	    "quoted local part of 65");
	/* total: 254 allowed, 255 not (domain 63.63.63.57) */
	fill(lbl, 63, 'b');
	snprintf(in, sizeof(in), "aaaa@%s.%s.%s.%s", lbl, lbl, lbl,
	    fill(lp, 57, 'c'));
	n = strlen(in);
	T_OK(n == 254 && addr_parse_mailbox(in, n, 0, out, sizeof(out)) == 0,
	    "mailbox of 254");
	snprintf(in, sizeof(in), "aaaaa@%s.%s.%s.%s", lbl, lbl, lbl,
	    fill(lp, 57, 'c'));
	n = strlen(in);
	T_OK(n == 255 && addr_parse_mailbox(in, n, 0, out, sizeof(out)) == -1,
	    "mailbox of 255");
	/* outsz must hold len + 1 */
	T_OK(addr_parse_mailbox("a@b", 3, 0, out, 4) == 0, "outsz len+1");
	T_OK(addr_parse_mailbox("a@b", 3, 0, out, 3) == -1, "outsz len");
	T_OK(addr_parse_mailbox("a@b", 3, 0, out, 0) == -1, "outsz 0");
	/* len shorter than the string: only that much is parsed */
	T_OK(addr_parse_mailbox("a@bc", 3, 0, out, sizeof(out)) == 0 &&
	    strcmp(out, "a@b") == 0, "len bounds the input");
}

static void
test_helpers(void)
{
	char out[ADDR_MAX + 1];

	T_OK(addr_is_ascii("abc", 3), "ascii");
	T_OK(!addr_is_ascii("a\xc3\xa9", 3), "not ascii");
	T_OK(addr_is_ascii("", 0), "empty is ascii");
	T_OK(addr_is_ascii("a\xc3", 1), "len bounds is_ascii");

	T_STREQ(addr_domain("a@b.example"), "b.example", "domain");
	T_STREQ(addr_domain("\"x@y\"@b.example"), "b.example", "domain after last @");
	T_OK(addr_domain("postmaster") == NULL, "no domain");

	T_OK(addr_equal("User@Example.COM", "user@example.com"), "equal ci");
	T_OK(addr_equal("", ""), "equal empty");
	T_OK(!addr_equal("user@example.com", "user@example.co"), "prefix");
	T_OK(!addr_equal("user@example.co", "user@example.com"), "prefix 2");
	T_OK(!addr_equal("usr@example.com", "user@example.com"), "differ");
	T_OK(!addr_equal("\xc3\xa9@x", "\xc3\x89@x"), "non-ASCII exact");
	T_OK(addr_equal("\xc3\xa9@X", "\xc3\xa9@x"), "non-ASCII same");

	T_OK(utf8_valid("", 0), "utf8 empty");
	T_OK(utf8_valid("plain", 5), "utf8 ascii");
	T_OK(utf8_valid("\xe6\x97\xa5\xe6\x9c\xac", 6), "utf8 cjk");
	T_OK(utf8_valid("\xf4\x8f\xbf\xbf", 4), "utf8 U+10FFFF");
	T_OK(utf8_valid("\xee\x80\x80", 3), "utf8 U+E000");
	T_OK(!utf8_valid("\xed\xbf\xbf", 3), "utf8 surrogate");
	T_OK(!utf8_valid("\xc1\xbf", 2), "utf8 overlong 2");
	T_OK(!utf8_valid("\xf0\x8f\xbf\xbf", 4), "utf8 overlong 4");
	T_OK(!utf8_valid("\xf5\x80\x80\x80", 4), "utf8 F5");
	T_OK(!utf8_valid("\xe6\x97", 2), "utf8 truncated");
	T_OK(!utf8_valid("\xe6\x97\xa5", 2), "utf8 len bounds");
	T_OK(!utf8_valid("\xe6\x41\xa5", 3), "utf8 bad continuation");

	T_OK(addr_valid_domain("example.com", 11, 0), "valid domain");
	T_OK(addr_valid_domain("[10.0.0.1]", 10, 0), "valid literal");
	T_OK(!addr_valid_domain("", 0, 0), "empty domain");
	T_OK(!addr_valid_domain("a..b", 4, 0), "bad domain");
	(void)out;
}

int
main(void)
{
	test_mailboxes();
	test_lengths();
	test_helpers();
	return t_done();
}
