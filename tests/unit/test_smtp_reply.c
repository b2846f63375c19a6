/*
 * test_smtp_reply.c - the parser of remote replies (hostile input) and of
 * EHLO capabilities; the MX record data parser.
 */
#include <stdint.h>

#include "dns/dns.h"
#include "lib/smtp_reply.h"
#include "t.h"

/* feed - all lines of a reply; returns the last feed result. */
static int
feed(struct smtp_reply *r, const char *const *lines)
{
	int rc = -2;

	smtp_reply_init(r);
	for (; *lines; lines++)
		if ((rc = smtp_reply_feed(r, *lines, strlen(*lines))) != 0)
			break;
	return rc;
}

static void
test_replies(void)
{
	struct smtp_reply r;
	char one[200];
	const char *ok[] = { "250 2.1.0 Ok", NULL };
	const char *multi[] = { "250-mx.example", "250-PIPELINING", "250-SIZE 10240000",
		"250-STARTTLS", "250-8BITMIME", "250 SMTPUTF8", NULL };
	const char *mixed[] = { "250-first", "251 second", NULL };
	const char *badsep[] = { "250_x", NULL };
	const char *badcode[] = { "abc hello", NULL };
	const char *code1xx[] = { "150 hmm", NULL };
	const char *code6xx[] = { "650 hmm", NULL };
	const char *shortl[] = { "25", NULL };
	const char *bare[] = { "220", NULL };
	const char *ctrl[] = { "550 5.1.1 bad\x01\x7f\xff user", NULL };
	const char *wrongclass[] = { "550 4.1.1 user unknown", NULL };
	const char *nostatus[] = { "550 user unknown", NULL };
	const char *longstat[] = { "451 4.123.456 try later", NULL };
	const char *badstat[] = { "451 4.1234.1 x", NULL };

	T_OK(feed(&r, ok) == 1 && r.code == 250, "one line");
	T_STREQ(r.status, "2.1.0", "enhanced status parsed");
	T_STREQ(r.text, "2.1.0 Ok", "text kept");
	T_OK(feed(&r, multi) == 1 && r.nlines == 6, "multi-line reply complete");
	T_OK(feed(&r, mixed) == -1, "codes must agree across lines");
	T_OK(feed(&r, badsep) == -1, "separator must be space or dash");
	T_OK(feed(&r, badcode) == -1, "code must be digits");
	T_OK(feed(&r, code1xx) == -1, "1xx is not a valid SMTP reply here");
	T_OK(feed(&r, code6xx) == -1, "6xx is not valid");
	T_OK(feed(&r, shortl) == -1, "two digits is malformed");
	T_OK(feed(&r, bare) == 1 && r.code == 220, "a bare code is a complete reply");
	T_OK(feed(&r, ctrl) == 1 && strchr(r.text, '\x01') == NULL &&
	    strchr(r.text, '\x7f') == NULL && strchr(r.text, '\xff') == NULL,
	    "control and 8-bit bytes replaced");
	T_OK(feed(&r, wrongclass) == 1 && r.status[0] == '\0', "status class must match code");
	T_OK(feed(&r, nostatus) == 1 && r.status[0] == '\0', "no status");
	T_OK(feed(&r, longstat) == 1 && strcmp(r.status, "4.123.456") == 0, "3-digit parts");
	T_OK(feed(&r, badstat) == 1 && r.status[0] == '\0', "4-digit part is not a status");
	feed(&r, multi);
	smtp_reply_oneline(&r, one, sizeof(one));
	T_STREQ(one, "250 mx.example / PIPELINING / SIZE 10240000 / STARTTLS / 8BITMIME / SMTPUTF8",
	    "one-line rendering");
	smtp_reply_init(&r);
	T_OK(smtp_reply_feed(&r, "250 done", 8) == 1 && smtp_reply_feed(&r, "250 again", 9) == -1,
	    "no lines after completion");
}

static void
test_limits(void)
{
	struct smtp_reply r;
	char line[64];
	int rc = 0, i;
	static char big[8000];

	smtp_reply_init(&r);
	for (i = 0; i < SMTP_REPLY_LINES_MAX + 5 && rc == 0; i++) {
		snprintf(line, sizeof(line), "250-line %d", i);
		rc = smtp_reply_feed(&r, line, strlen(line));
	}
	T_OK(rc == -1 && i == SMTP_REPLY_LINES_MAX + 1, "too many lines refused (%d)", i);
	memset(big, 'x', sizeof(big));
	memcpy(big, "550 ", 4);
	smtp_reply_init(&r);
	T_OK(smtp_reply_feed(&r, big, sizeof(big)) == 1 && r.textlen < SMTP_REPLY_TEXT_MAX,
	    "long text cut to the bound");
}

static void
test_caps(void)
{
	struct smtp_reply r;
	struct smtp_caps c;
	const char *multi[] = { "250-mx.example", "250-pipelining", "250-SIZE 10240000",
		"250-STARTTLS", "250-8BITMIME", "250-ENHANCEDSTATUSCODES", "250 SMTPUTF8", NULL };
	const char *none[] = { "250 mx.example says hi STARTTLS", NULL };
	const char *nosize[] = { "250-mx", "250-SIZE", "250 STARTTLSX", NULL };

	feed(&r, multi);
	smtp_reply_caps(&r, &c);
	T_OK(c.pipelining && c.starttls && c.eightbitmime && c.smtputf8 && c.enhancedstatuscodes,
	    "capabilities found, case-insensitive");
	T_OK(c.has_size && c.size == 10240000, "SIZE value");
	feed(&r, none);
	smtp_reply_caps(&r, &c);
	T_OK(!c.starttls && !c.pipelining, "first line is the greeting, not a capability");
	feed(&r, nosize);
	smtp_reply_caps(&r, &c);
	T_OK(c.has_size && c.size == 0, "SIZE without a value: no fixed limit");
	T_OK(!c.starttls, "STARTTLSX is not STARTTLS");
	T_OK(!c.auth_plain && !c.auth_login && c.auth[0] == '\0', "no AUTH line: no mechanisms");
}

static void
test_caps_auth(void)
{
	struct smtp_reply r;
	struct smtp_caps c;
	const char *both[] = { "250-relay", "250-AUTH plain LOGIN CRAM-MD5", "250-AUTH=PLAIN LOGIN",
		"250 8BITMIME", NULL };
	const char *old[] = { "250-relay", "250 AUTH=LOGIN", NULL };
	const char *authx[] = { "250-relay", "250-AUTHX PLAIN", "250 AUTH", NULL };
	char longline[600] = "250 AUTH";

	feed(&r, both);
	smtp_reply_caps(&r, &c);
	T_OK(c.auth_plain && c.auth_login && c.eightbitmime, "AUTH mechanisms, case-insensitive");
	T_STREQ(c.auth, "PLAIN LOGIN CRAM-MD5", "mechanisms listed once, upper-cased");
	feed(&r, old);
	smtp_reply_caps(&r, &c);
	T_OK(c.auth_login && !c.auth_plain, "old AUTH=LOGIN form");
	feed(&r, authx);
	smtp_reply_caps(&r, &c);
	T_OK(!c.auth_plain && c.auth[0] == '\0', "AUTHX is not AUTH; bare AUTH lists nothing");
	for (int i = 0; i < 60; i++)
		strcat(longline, " XOAUTH");
	strcat(longline, " PLAIN");
	{
		const char *lines[] = { "250-relay", longline, NULL };

		feed(&r, lines);
		smtp_reply_caps(&r, &c);
		T_OK(c.auth_plain && strlen(c.auth) < SMTP_CAPS_AUTH_MAX, "long list cut, flags kept");
	}
}

static void
test_mx(void)
{
	struct dns_mx mx;
	const uint8_t good[] = { 0, 10, 2, 'm', 'x', 7, 'E', 'x', 'a', 'm', 'p', 'l', 'e', 2, 'j', 'p', 0 };
	const uint8_t null[] = { 0, 0, 0 };
	const uint8_t ptr[] = { 0, 10, 0xc0, 12 };
	const uint8_t noroot[] = { 0, 10, 2, 'm', 'x' };
	const uint8_t trailing[] = { 0, 10, 2, 'm', 'x', 0, 1 };
	const uint8_t space[] = { 0, 10, 3, 'm', ' ', 'x', 0 };
	const uint8_t longlab[] = { 0, 10, 64 };

	T_OK(dns_parse_mx(good, sizeof(good), &mx) == 0 && mx.pref == 10, "MX parsed");
	T_STREQ(mx.host, "mx.example.jp", "host lower-cased");
	T_OK(dns_parse_mx(null, sizeof(null), &mx) == 0 && mx.pref == 0 && mx.host[0] == '\0',
	    "null MX is the root");
	T_OK(dns_parse_mx(ptr, sizeof(ptr), &mx) == -1, "compression pointer refused");
	T_OK(dns_parse_mx(noroot, sizeof(noroot), &mx) == -1, "missing root label");
	T_OK(dns_parse_mx(trailing, sizeof(trailing), &mx) == -1, "trailing bytes");
	T_OK(dns_parse_mx(space, sizeof(space), &mx) == -1, "space in a label refused");
	T_OK(dns_parse_mx(longlab, sizeof(longlab), &mx) == -1, "label over 63 bytes");
	T_OK(dns_parse_mx(good, 2, &mx) == -1, "too short");
}

int
main(void)
{
	test_replies();
	test_limits();
	test_caps();
	test_caps_auth();
	test_mx();
	return t_done();
}
