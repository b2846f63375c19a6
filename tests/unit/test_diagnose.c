/*
 * test_diagnose.c - the probe's reply classification (ISP wordings, grants,
 * AUTH wanted) and its HOST[:PORT] parser.
 */
#include <string.h>

#include "home/diagnose.h"
#include "t.h"

static enum diagnose_kind
classify(const char *const *lines)
{
	struct smtp_reply r;

	smtp_reply_init(&r);
	for (; *lines; lines++)
		smtp_reply_feed(&r, *lines, strlen(*lines));
	return diagnose_reply(&r);
}

static enum diagnose_kind
one(const char *line)
{
	const char *lines[] = { line, NULL };

	return classify(lines);
}

static void
test_sender_refused(void)
{
	static const char *const refused[] = {
		"550 5.7.1 Sender rejected",
		"550 5.7.1 Sender rejected: <eve@example.org> is not granted to account alice",
		"553 5.7.1 <bob@example.org>: Sender address rejected: not owned by user alice@isp.example",
		"550 5.7.60 SMTP; Client does not have permissions to send as this sender",
		"550 5.7.1 Client does not have permissions to send as this sender",
		"550 sender not allowed (#5.7.1)",
		"550 5.7.1 Unauthorized sender domain",
		"554 5.7.1 You are not allowed to send as this address: from address mismatch",
		"550 5.1.0 <x@example.org> sender rejected",
		"550 5.7.1 <x@example.org>: Sender is not authorized for this login",
		"553 sorry, your envelope sender domain must be one of ours (#5.7.1)",
		"550 5.7.1 The SENDER is not permitted",
	};
	size_t i;

	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		T_OK(one(refused[i]) == DIAG_SENDER_REFUSED, "sender refused: %s", refused[i]);
	{
		const char *multi[] = { "550-5.7.1 Your ISP's relay policy:", "550 5.7.1 sender "
			"rejected, use an address of this ISP", NULL };

		T_OK(classify(multi) == DIAG_SENDER_REFUSED, "multi-line sender refusal");
	}
}

static void
test_other_kinds(void)
{
	T_OK(one("250 2.1.0 Ok") == DIAG_ACCEPTED, "250 accepted");
	T_OK(one("251 2.1.5 will forward") == DIAG_ACCEPTED, "251 accepted");
	T_OK(one("451 4.3.0 try later") == DIAG_TEMPORARY, "4xx temporary");
	T_OK(one("450 4.7.1 Sender rejected: try later") == DIAG_TEMPORARY,
	    "a 4xx is temporary whatever it says");
	T_OK(one("530 5.7.0 Authentication required") == DIAG_AUTH_REQUIRED, "530 AUTH wanted");
	T_OK(one("530 5.7.0 Must issue a STARTTLS command first") == DIAG_REFUSED,
	    "530 for STARTTLS is not about AUTH");
	T_OK(one("554 5.7.1 <x@example.com>: Relay access denied") == DIAG_RELAY_DENIED,
	    "Postfix relay access denied");
	T_OK(one("550 5.7.1 Relaying denied") == DIAG_RELAY_DENIED, "relaying denied");
	T_OK(one("550 5.1.1 User unknown") == DIAG_REFUSED, "unknown user: another refusal");
	T_OK(one("550 5.7.1 Service unavailable, Client host [192.0.2.1] blocked using "
	    "Spamhaus") == DIAG_REFUSED, "a blocklist is not a sender refusal");
	T_OK(one("552 5.3.4 Message size exceeds fixed limit") == DIAG_REFUSED, "size refusal");
}

static void
test_target(void)
{
	struct diagnose_target t;
	char s[300];

	T_OK(diagnose_target("relay.example.net", 587, &t) == 0 && t.port == 587 && !t.ip &&
	    strcmp(t.host, "relay.example.net") == 0, "name, default port");
	T_OK(diagnose_target("relay.example.net:465", 587, &t) == 0 && t.port == 465, "name:port");
	T_OK(diagnose_target("[relay.example.net]:587", 25, &t) == 0 && t.port == 587 &&
	    strcmp(t.host, "relay.example.net") == 0, "Postfix-style [name]:port");
	T_OK(diagnose_target("192.0.2.1:25", 587, &t) == 0 && t.ip && !t.ipv6, "IPv4:port");
	T_OK(diagnose_target("[2001:db8::1]:465", 587, &t) == 0 && t.ipv6 && t.port == 465 &&
	    strcmp(t.host, "2001:db8::1") == 0, "[IPv6]:port");
	T_OK(diagnose_target("2001:db8::1", 25, &t) == 0 && t.ipv6 && t.port == 25, "bare IPv6");
	diagnose_target_format(&t, s, sizeof(s));
	T_STREQ(s, "[2001:db8::1]:25", "IPv6 formatted with brackets");
	T_OK(diagnose_target("relay.example.net:0", 587, &t) == -1, "port 0");
	T_OK(diagnose_target("relay.example.net:65536", 587, &t) == -1, "port too large");
	T_OK(diagnose_target("relay.example.net:5x", 587, &t) == -1, "port not a number");
	T_OK(diagnose_target("relay.example.net:", 587, &t) == -1, "empty port");
	T_OK(diagnose_target("", 587, &t) == -1, "empty");
	T_OK(diagnose_target("relay example", 587, &t) == -1, "space");
	T_OK(diagnose_target("relay\n.example", 587, &t) == -1, "newline");
	T_OK(diagnose_target("relay\"x", 587, &t) == -1, "quote");
	T_OK(diagnose_target("a..b", 587, &t) == -1, "empty label");
	T_OK(diagnose_target("[2001:db8::1", 587, &t) == -1, "unclosed bracket");
	T_OK(diagnose_target("[2001:db8::1]x", 587, &t) == -1, "junk after bracket");
	T_OK(diagnose_target("[bad name]:25", 587, &t) == -1, "bad name in brackets");
	memset(s, 'a', 64);
	s[64] = '\0';
	T_OK(diagnose_target(s, 587, &t) == -1, "label longer than 63");
}

static void
test_names(void)
{
	T_OK(diagnose_name_ok("alice"), "plain name");
	T_OK(diagnose_name_ok("alice@example.jp"), "address as name");
	T_OK(!diagnose_name_ok(""), "empty name");
	T_OK(!diagnose_name_ok("a b"), "space");
	T_OK(!diagnose_name_ok("a:b"), "colon would break sasl_passwd");
	T_OK(!diagnose_name_ok("a^b"), "caret would break exim's client_send");
}

int
main(void)
{
	test_sender_refused();
	test_other_kinds();
	test_target();
	test_names();
	return t_done();
}
