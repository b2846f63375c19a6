/*
 * fuzz_smtp_cmd.c - libFuzzer target for smtp_cmd.c: the input is one command
 * line; it is split, and its argument (and the whole input) parsed as MAIL
 * and RCPT arguments. Checks: the argument lies inside the line, errors are
 * one of the documented replies, parsed addresses are bounded mailboxes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "submit/smtp_cmd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_err(const struct reply *err)
{
	if (err->code != 501 && err->code != 553 && err->code != 555)
		abort();
	if (err->kind != REPLY_PERMFAIL || memchr(err->text, '\r',
	    strlen(err->text)) != NULL || memchr(err->text, '\n',
	    strlen(err->text)) != NULL)
		abort();
}

static void
check_addr(const char *addr, bool may_be_empty, bool utf8)
{
	char again[ADDR_MAX + 1];
	size_t n = strnlen(addr, ADDR_MAX + 1);

	if (n > ADDR_MAX || (n == 0 && !may_be_empty))
		abort();
	if (!utf8 && !addr_is_ascii(addr, n))
		abort();
	if (n > 0 && strcmp(addr, "postmaster") != 0 &&
	    addr_parse_mailbox(addr, n, ADDR_ALLOW_UTF8, again, sizeof(again)) != 0)
		abort();
}

static void
args(const char *s, size_t len)
{
	struct smtp_mail_args m;
	struct smtp_rcpt_args r;
	struct reply err;

	if (smtp_cmd_parse_mail(s, len, &m, &err) == 0) {
		check_addr(m.addr, true, m.smtputf8);
		if (strnlen(m.auth, sizeof(m.auth)) == sizeof(m.auth))
			abort();
	} else
		check_err(&err);
	if (smtp_cmd_parse_rcpt(s, len, len & 1, &r, &err) == 0)
		check_addr(r.addr, false, len & 1);
	else
		check_err(&err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *line = (const char *)data;
	struct smtp_cmd c;

	if (smtp_cmd_parse(line, size, &c) == 0) {
		if (c.arg < line || c.arg + c.arglen > line + size)
			abort();
		if (smtp_verb_name(c.verb) == NULL)
			abort();
		args(c.arg, c.arglen);
		(void)smtp_cmd_valid_helo(c.arg, c.arglen);
	} else if (memchr(line, '\0', size) == NULL &&
	    memchr(line, '\r', size) == NULL && memchr(line, '\n', size) == NULL)
		abort();
	args(line, size);
	return 0;
}
