/*
 * smtp_cmd.c - the SMTP command line parser: split a line into verb and
 * argument, parse the MAIL and RCPT arguments (path and ESMTP parameters) and
 * check HELO/EHLO arguments. Errors come back as the reply to send.
 *
 * Input is hostile and of any length: every byte is looked at through an index
 * checked against the length, and every copy is bounded by the target size.
 */
#include <limits.h>
#include <string.h>

#include "lib/addr.h"
#include "submit/smtp_cmd.h"

#define KEYWORD_SHOWN 32	/* at most this much of a keyword in a reply */

/* The texts a path error replies with, per verb. */
struct path_kind {
	const char *keyword;	/* "FROM:" */
	const char *syntax;	/* 501 5.5.4 text */
	const char *bad_status;	/* bad address: 501 and this status */
	const char *bad_text;
	bool postmaster;	/* accept "<postmaster>" */
};

static const struct path_kind mail_kind = {
	"FROM:", "Syntax: MAIL FROM:<address>", "5.1.7",
	"Bad sender address syntax", false,
};

static const struct path_kind rcpt_kind = {
	"TO:", "Syntax: RCPT TO:<address>", "5.1.3",
	"Bad recipient address syntax", true,
};

static const char *const verb_names[SMTP_VERB_COUNT] = {
	[SMTP_VERB_UNKNOWN] = "UNKNOWN",
	[SMTP_VERB_HELO] = "HELO",
	[SMTP_VERB_EHLO] = "EHLO",
	[SMTP_VERB_MAIL] = "MAIL",
	[SMTP_VERB_RCPT] = "RCPT",
	[SMTP_VERB_DATA] = "DATA",
	[SMTP_VERB_RSET] = "RSET",
	[SMTP_VERB_NOOP] = "NOOP",
	[SMTP_VERB_QUIT] = "QUIT",
	[SMTP_VERB_VRFY] = "VRFY",
	[SMTP_VERB_HELP] = "HELP",
	[SMTP_VERB_STARTTLS] = "STARTTLS",
	[SMTP_VERB_AUTH] = "AUTH",
};

static char
up(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* ieq - whether s[0..len) equals the upper-case lit, ignoring ASCII case. */
static bool
ieq(const char *s, size_t len, const char *lit)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (lit[i] == '\0' || up(s[i]) != lit[i])
			return false;
	return lit[len] == '\0';
}

static bool
is_alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z');
}

static bool
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

static enum smtp_verb
verb_lookup(const char *s, size_t len)
{
	int v;

	for (v = SMTP_VERB_UNKNOWN + 1; v < SMTP_VERB_COUNT; v++)
		if (ieq(s, len, verb_names[v]))
			return (enum smtp_verb)v;
	return SMTP_VERB_UNKNOWN;
}

int
smtp_cmd_parse(const char *line, size_t len, struct smtp_cmd *out)
{
	size_t i, vlen;

	out->verb = SMTP_VERB_UNKNOWN;
	out->arg = line + len;
	out->arglen = 0;
	for (i = 0; i < len; i++)
		if (line[i] == '\0' || line[i] == '\r' || line[i] == '\n')
			return -1;
	for (vlen = 0; vlen < len && line[vlen] != ' '; vlen++)
		continue;
	out->verb = verb_lookup(line, vlen);
	if (vlen == len)
		return 0;
	out->arg = line + vlen + 1;
	out->arglen = len - vlen - 1;
	while (out->arglen > 0 && out->arg[out->arglen - 1] == ' ')
		out->arglen--;
	return 0;
}

const char *
smtp_verb_name(enum smtp_verb verb)
{
	if ((int)verb <= SMTP_VERB_UNKNOWN || verb >= SMTP_VERB_COUNT)
		return verb_names[SMTP_VERB_UNKNOWN];
	return verb_names[verb];
}

/*
 * path_end - s[0] is '<': the length up to and including the '>' that closes
 * the path (one inside a quoted local part does not), or 0 when none does.
 */
static size_t
path_end(const char *s, size_t len)
{
	bool quoted = false;
	size_t i;

	for (i = 1; i < len; i++) {
		if (quoted && s[i] == '\\')
			i++;
		else if (s[i] == '"')
			quoted = !quoted;
		else if (!quoted && s[i] == '>')
			return i + 1;
	}
	return 0;
}

/* route_domain_end - where the At-domain starting at s[i] ends. */
static size_t
route_domain_end(const char *s, size_t len, size_t i)
{
	if (i < len && s[i] == '[') {
		while (i < len && s[i] != ']')
			i++;
		return i < len ? i + 1 : i;
	}
	while (i < len && s[i] != ',' && s[i] != ':')
		i++;
	return i;
}

/*
 * skip_route - the length of the source route ("@a,@b:", RFC 5321 A-d-l) at
 * the start of path s[0..len), 0 when there is none; false when malformed.
 */
static bool
skip_route(const char *s, size_t len, size_t *skip)
{
	size_t i = 0, start;

	*skip = 0;
	if (len == 0 || s[0] != '@')
		return true;
	for (;;) {
		if (i >= len || s[i] != '@')
			return false;
		start = i + 1;
		i = route_domain_end(s, len, start);
		if (!addr_valid_domain(s + start, i - start, ADDR_ALLOW_UTF8))
			return false;
		if (i < len && s[i] == ':') {
			*skip = i + 1;
			return true;
		}
		if (i >= len || s[i] != ',')
			return false;
		i++;
	}
}

/* path_mailbox - check the path's inside p[0..len) and copy its mailbox. */
static bool
path_mailbox(const char *p, size_t len, const struct path_kind *k, char *addr,
    size_t addrsz)
{
	size_t skip;

	if (!skip_route(p, len, &skip))
		return false;
	if (len == 0) {
		addr[0] = '\0';
		return true;
	}
	if (k->postmaster && ieq(p, len, "POSTMASTER") &&
	    addrsz > strlen("postmaster")) {
		memcpy(addr, "postmaster", sizeof("postmaster"));
		return true;
	}
	return addr_parse_mailbox(p + skip, len - skip, ADDR_ALLOW_UTF8, addr,
	    addrsz) == 0;
}

/*
 * parse_path - parse keyword, an optional SP and "<path>" at the start of
 * arg[0..len); the mailbox (route dropped, "" for <>) goes to addr. Returns
 * the offset just past the '>', or 0 with *err set.
 */
static size_t
parse_path(const char *arg, size_t len, const struct path_kind *k, char *addr,
    size_t addrsz, struct reply *err)
{
	size_t i = strlen(k->keyword), n;

	if (len < i || !ieq(arg, i, k->keyword)) {
		reply_set(err, 501, "5.5.4", "%s", k->syntax);
		return 0;
	}
	if (i < len && arg[i] == ' ')
		i++;
	if (i >= len || arg[i] != '<') {
		reply_set(err, 501, "5.5.4", "%s", k->syntax);
		return 0;
	}
	n = path_end(arg + i, len - i);
	if (n == 0 || n > SMTP_PATH_MAX ||
	    !path_mailbox(arg + i + 1, n - 2, k, addr, addrsz)) {
		reply_set(err, 501, k->bad_status, "%s", k->bad_text);
		return 0;
	}
	return i + n;
}

/* keyword_ok - esmtp-keyword: (ALPHA / DIGIT) *(ALPHA / DIGIT / "-") */
static bool
keyword_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || !is_alnum(s[0]))
		return false;
	for (i = 1; i < len; i++)
		if (!is_alnum(s[i]) && s[i] != '-')
			return false;
	return true;
}

/* value_ok - esmtp-value: 1*(%d33-60 / %d62-126) */
static bool
value_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++)
		if (s[i] < 33 || s[i] > 126 || s[i] == '=')
			return false;
	return true;
}

/* xtext_ok - RFC 3461 xtext: xchar or "+" and two hex digits. */
static bool
xtext_ok(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] != '+')
			continue;
		if (i + 2 >= len || !is_hex(s[i + 1]) || !is_hex(s[i + 2]))
			return false;
		i += 2;
	}
	return true;
}

static int
param_size(const char *v, size_t vlen, struct smtp_mail_args *out,
    struct reply *err)
{
	unsigned long long n = 0;
	unsigned d;
	size_t i;

	if (out->has_size || vlen == 0 || vlen > 20)
		goto bad;
	for (i = 0; i < vlen; i++) {
		if (v[i] < '0' || v[i] > '9')
			goto bad;
		d = (unsigned)(v[i] - '0');
		if (n > (ULLONG_MAX - d) / 10)
			goto bad;
		n = n * 10 + d;
	}
	out->has_size = true;
	out->size = n;
	return 0;
bad:
	reply_set(err, 501, "5.5.4", "Bad SIZE parameter");
	return -1;
}

static int
param_body(const char *v, size_t vlen, struct smtp_mail_args *out,
    struct reply *err)
{
	if (out->body == SMTP_BODY_NONE && ieq(v, vlen, "7BIT"))
		out->body = SMTP_BODY_7BIT;
	else if (out->body == SMTP_BODY_NONE && ieq(v, vlen, "8BITMIME"))
		out->body = SMTP_BODY_8BITMIME;
	else {
		reply_set(err, 501, "5.5.4", "Bad BODY parameter");
		return -1;
	}
	return 0;
}

static int
param_smtputf8(const char *v, size_t vlen, struct smtp_mail_args *out,
    struct reply *err)
{
	(void)vlen;
	if (v != NULL || out->smtputf8) {
		reply_set(err, 501, "5.5.4", "Bad SMTPUTF8 parameter");
		return -1;
	}
	out->smtputf8 = true;
	return 0;
}

static int
param_auth(const char *v, size_t vlen, struct smtp_mail_args *out,
    struct reply *err)
{
	if (out->auth[0] != '\0' || vlen == 0 || vlen >= sizeof(out->auth) ||
	    !xtext_ok(v, vlen)) {
		reply_set(err, 501, "5.5.4", "Bad AUTH parameter");
		return -1;
	}
	memcpy(out->auth, v, vlen);
	out->auth[vlen] = '\0';
	return 0;
}

static const struct {
	const char *name;
	int (*parse)(const char *, size_t, struct smtp_mail_args *,
	    struct reply *);
} mail_params[] = {
	{ "SIZE", param_size },
	{ "BODY", param_body },
	{ "SMTPUTF8", param_smtputf8 },
	{ "AUTH", param_auth },
};

/*
 * split_param - split "KEYWORD[=value]" p[0..len) and check its syntax; *v is
 * NULL when there is no '='. Returns the keyword length, 0 with *err set.
 */
static size_t
split_param(const char *p, size_t len, const char **v, size_t *vlen,
    struct reply *err)
{
	const char *eq = memchr(p, '=', len);
	size_t klen = eq != NULL ? (size_t)(eq - p) : len;

	*v = eq != NULL ? eq + 1 : NULL;
	*vlen = eq != NULL ? len - klen - 1 : 0;
	if (!keyword_ok(p, klen) || (*v != NULL && !value_ok(*v, *vlen))) {
		reply_set(err, 501, "5.5.4", "Bad parameter syntax");
		return 0;
	}
	return klen;
}

static int
unsupported(const char *kw, size_t klen, struct reply *err)
{
	reply_set(err, 555, "5.5.4", "Unsupported option: %.*s",
	    (int)(klen < KEYWORD_SHOWN ? klen : KEYWORD_SHOWN), kw);
	return -1;
}

static int
mail_param(const char *p, size_t len, struct smtp_mail_args *out,
    struct reply *err)
{
	const char *v;
	size_t klen, vlen, i;

	if ((klen = split_param(p, len, &v, &vlen, err)) == 0)
		return -1;
	for (i = 0; i < sizeof(mail_params) / sizeof(mail_params[0]); i++)
		if (ieq(p, klen, mail_params[i].name))
			return mail_params[i].parse(v, vlen, out, err);
	return unsupported(p, klen, err);
}

/*
 * next_param - the parameters after the path: SP-separated (runs of SP are
 * tolerated). Sets *p and *plen to the next one; returns 0 at the end, 1 for a
 * parameter, -1 (syntax) when the text after '>' does not start with SP.
 */
static int
next_param(const char *s, size_t len, size_t *pos, const char **p,
    size_t *plen)
{
	size_t i = *pos, start;

	if (i < len && s[i] != ' ')
		return -1;
	while (i < len && s[i] == ' ')
		i++;
	start = i;
	while (i < len && s[i] != ' ')
		i++;
	*pos = i;
	*p = s + start;
	*plen = i - start;
	return *plen > 0;
}

int
smtp_cmd_parse_mail(const char *arg, size_t len, struct smtp_mail_args *out,
    struct reply *err)
{
	size_t pos, plen;
	const char *p;
	int r;

	memset(out, 0, sizeof(*out));
	if ((pos = parse_path(arg, len, &mail_kind, out->addr,
	    sizeof(out->addr), err)) == 0)
		return -1;
	while ((r = next_param(arg, len, &pos, &p, &plen)) == 1)
		if (mail_param(p, plen, out, err) != 0)
			return -1;
	if (r < 0) {
		reply_set(err, 501, "5.5.4", "%s", mail_kind.syntax);
		return -1;
	}
	if (!out->smtputf8 && !addr_is_ascii(out->addr, strlen(out->addr))) {
		reply_set(err, 553, "5.6.7", "Non-ASCII address requires SMTPUTF8");
		return -1;
	}
	return 0;
}

/* rcpt_params - RCPT takes no parameters: any is an error. */
static int
rcpt_params(const char *arg, size_t len, size_t pos, struct reply *err)
{
	const char *p, *v;
	size_t plen, vlen, klen;
	int r;

	if ((r = next_param(arg, len, &pos, &p, &plen)) == 0)
		return 0;
	if (r < 0) {
		reply_set(err, 501, "5.5.4", "%s", rcpt_kind.syntax);
		return -1;
	}
	if ((klen = split_param(p, plen, &v, &vlen, err)) == 0)
		return -1;
	return unsupported(p, klen, err);
}

int
smtp_cmd_parse_rcpt(const char *arg, size_t len, bool utf8_allowed,
    struct smtp_rcpt_args *out, struct reply *err)
{
	size_t pos;

	memset(out, 0, sizeof(*out));
	if ((pos = parse_path(arg, len, &rcpt_kind, out->addr,
	    sizeof(out->addr), err)) == 0)
		return -1;
	if (out->addr[0] == '\0') {
		reply_set(err, 501, "5.1.3", "%s", rcpt_kind.bad_text);
		return -1;
	}
	if (rcpt_params(arg, len, pos, err) != 0)
		return -1;
	if (!utf8_allowed && !addr_is_ascii(out->addr, strlen(out->addr))) {
		reply_set(err, 553, "5.6.7", "Non-ASCII address requires SMTPUTF8");
		return -1;
	}
	return 0;
}

bool
smtp_cmd_valid_helo(const char *arg, size_t len)
{
	size_t i;

	if (len == 0 || len > SMTP_DOMAIN_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (arg[i] < 33 || arg[i] > 126)
			return false;
	return true;
}
