/*
 * smtp_cmd.h - pure parser for SMTP command lines (RFC 5321 section 4.1,
 * RFC 1870 SIZE, RFC 6152 8BITMIME, RFC 6531 SMTPUTF8, RFC 4954 AUTH=).
 *
 * No I/O, no globals, no allocation: every function works on caller buffers.
 */
#ifndef HIKYAKU_SMTP_CMD_H
#define HIKYAKU_SMTP_CMD_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/smtp_limits.h"
#include "lib/reply.h"

enum smtp_verb {
	SMTP_VERB_UNKNOWN = 0,
	SMTP_VERB_HELO,
	SMTP_VERB_EHLO,
	SMTP_VERB_MAIL,
	SMTP_VERB_RCPT,
	SMTP_VERB_DATA,
	SMTP_VERB_RSET,
	SMTP_VERB_NOOP,
	SMTP_VERB_QUIT,
	SMTP_VERB_VRFY,
	SMTP_VERB_HELP,
	SMTP_VERB_STARTTLS,
	SMTP_VERB_AUTH,
	SMTP_VERB_COUNT
};

struct smtp_cmd {
	enum smtp_verb verb;
	const char *arg;	/* points into the line; after the verb and one space */
	size_t arglen;		/* 0 when there is no argument */
};

/*
 * smtp_cmd_parse - split a command line (without its CRLF) into verb and
 * argument. The verb is matched case-insensitively. "MAIL FROM:" and "RCPT TO:"
 * keep everything after the verb's space as the argument ("FROM:<a@b> SIZE=1").
 * Returns 0 on success; -1 when the line holds NUL, CR or LF (reply 501), which
 * is checked before anything else. An unknown verb is success with
 * SMTP_VERB_UNKNOWN. The verb ends at the first SP (or the end); the argument
 * is everything after that one SP with trailing SP removed (arglen 0 and arg
 * pointing at the end of the line when there is none). Safe for any len.
 */
int smtp_cmd_parse(const char *line, size_t len, struct smtp_cmd *out);

/* smtp_verb_name - "MAIL", "RCPT" ... for logs; "UNKNOWN" for SMTP_VERB_UNKNOWN. */
const char *smtp_verb_name(enum smtp_verb verb);

enum smtp_body { SMTP_BODY_NONE = 0, SMTP_BODY_7BIT, SMTP_BODY_8BITMIME };

struct smtp_mail_args {
	char addr[ADDR_MAX + 1];	/* "" for the null reverse-path <> */
	bool has_size;
	unsigned long long size;	/* SIZE=, when has_size */
	enum smtp_body body;		/* BODY= */
	bool smtputf8;			/* SMTPUTF8 */
	char auth[ADDR_MAX + 3];	/* AUTH= value as sent (xtext), "" if absent */
};

struct smtp_rcpt_args {
	char addr[ADDR_MAX + 1];	/* never empty on success */
};

/*
 * smtp_cmd_parse_mail - parse the argument of MAIL ("FROM:<path> params").
 * Accepts "FROM:" case-insensitively, an optional single space before '<'
 * (as Postfix does), the null path <>, a source route (<@a,@b:u@d>, route
 * dropped, RFC 5321 section 4.1.2), and the parameters SIZE, BODY=7BIT|8BITMIME,
 * SMTPUTF8 and AUTH, separated by one or more SP, keywords case-insensitive.
 * The path, <> included, is at most SMTP_PATH_MAX bytes. The mailbox is
 * checked with addr_parse_mailbox(); a non-ASCII mailbox requires SMTPUTF8.
 * out is cleared first. Returns 0 on success; -1 with *err set to one of:
 *   501 5.5.4 "Syntax: MAIL FROM:<address>"  no FROM:, no <, junk after >
 *   501 5.1.7 "Bad sender address syntax"    path unclosed, too long, invalid
 *   501 5.5.4 "Bad parameter syntax"         not KEYWORD[=value] (RFC 5321)
 *   501 5.5.4 "Bad SIZE parameter" (BODY, SMTPUTF8, AUTH likewise)
 *             a value missing, malformed, out of range, or a repeated keyword
 *   555 5.5.4 "Unsupported option: NAME"     any other keyword
 *   553 5.6.7 "Non-ASCII address requires SMTPUTF8"
 * SIZE is 1 to 20 digits within unsigned long long; AUTH is xtext (RFC 3461)
 * kept as sent, at most sizeof(auth) - 1 bytes.
 */
int smtp_cmd_parse_mail(const char *arg, size_t len, struct smtp_mail_args *out,
    struct reply *err);

/*
 * smtp_cmd_parse_rcpt - parse the argument of RCPT ("TO:<path> params").
 * utf8_allowed: the transaction's MAIL had SMTPUTF8. Same path rules as MAIL;
 * "<postmaster>" alone (any case) is accepted as the address "postmaster".
 * out is cleared first. Returns 0 on success; -1 with *err set to one of:
 *   501 5.5.4 "Syntax: RCPT TO:<address>"
 *   501 5.1.3 "Bad recipient address syntax"  also for the null path <>
 *   501 5.5.4 "Bad parameter syntax"
 *   555 5.5.4 "Unsupported option: NAME"     any parameter at all
 *   553 5.6.7 "Non-ASCII address requires SMTPUTF8"
 */
int smtp_cmd_parse_rcpt(const char *arg, size_t len, bool utf8_allowed,
    struct smtp_rcpt_args *out, struct reply *err);

/*
 * smtp_cmd_valid_helo - whether the HELO/EHLO argument is acceptable: 1 to 255
 * bytes of printable ASCII without spaces (a domain or an address literal;
 * we do not insist on a resolvable name, as Postfix does not by default).
 */
bool smtp_cmd_valid_helo(const char *arg, size_t len);

#endif
