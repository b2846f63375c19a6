/*
 * spf.c - SPF (RFC 7208) as a pure function: the record's syntax, macro
 * expansion and check_host(), asking DNS only through the caller's lookup
 * function. Two passes per record, as section 4.6 wants: the whole record's
 * syntax first (any error is a permerror before anything is evaluated),
 * then the terms left to right. Nothing here allocates; records and answers
 * live in struct spf_ctx.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "doctor/spf.h"
#include "lib/i18n.h"

enum kind { K_ALL, K_INCLUDE, K_A, K_MX, K_PTR, K_IP4, K_IP6, K_EXISTS, K_REDIRECT,
	K_EXP, K_MODIFIER };

/* One term of a record, pointing into it. */
struct term {
	const char *text;		/* the whole term */
	size_t len;
	char qual;			/* '+', '-', '~', '?' */
	enum kind kind;
	const char *spec;		/* domain-spec or modifier value; NULL when absent */
	size_t speclen;
	int cidr4, cidr6;		/* prefix lengths; -1 when absent */
	struct spf_ip net;		/* ip4:, ip6: */
};

/* What spf_check returns from one record's evaluation. */
struct eval {
	enum spf_result r;
	bool matched;			/* a mechanism of this record decided */
};

static const struct {
	const char *name;
	enum kind kind;
} mechanisms[] = {
	{ "all", K_ALL }, { "include", K_INCLUDE }, { "a", K_A }, { "mx", K_MX },
	{ "ptr", K_PTR }, { "ip4", K_IP4 }, { "ip6", K_IP6 }, { "exists", K_EXISTS },
};

const char *
spf_result_name(enum spf_result r)
{
	static const char *const names[] = { "none", "neutral", "pass", "fail", "softfail",
		"temperror", "permerror" };

	return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : "?";
}

int
spf_ip_parse(const char *s, struct spf_ip *out)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, s, out->addr) == 1) {
		out->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, out->addr) == 1) {
		out->family = AF_INET6;
		return 0;
	}
	return -1;
}

bool
spf_is_record(const char *txt, size_t len)
{
	return len >= 6 && strncasecmp(txt, "v=spf1", 6) == 0 && (len == 6 || txt[6] == ' ');
}

/* --- syntax --- */

static bool
is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alnum(int c)
{
	return is_alpha(c) || is_digit(c);
}

static int serr(char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
serr(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * macro_expand_syntax - one "%{...}" at s[0..len): its length, or -1. The
 * letter, transformers (nonzero digits, r) and delimiters are checked.
 */
static int
macro_expand_syntax(const char *s, size_t len, bool exp)
{
	size_t i = 2;

	if (len < 4 || s[1] != '{' || strchr("slodiphvcrtSLODIPHVCRT", s[2]) == NULL ||
	    s[2] == '\0')
		return -1;
	if (!exp && strchr("crtCRT", s[2]) != NULL)
		return -1;	/* c, r, t only in explanation text (section 7.3) */
	i = 3;
	if (i < len && is_digit(s[i])) {
		if (s[i] == '0')
			return -1;	/* "the value MUST be nonzero" */
		while (i < len && is_digit(s[i]))
			i++;
	}
	if (i < len && (s[i] == 'r' || s[i] == 'R'))
		i++;
	while (i < len && strchr(".-+,/_=", s[i]) != NULL && s[i] != '\0')
		i++;
	if (i >= len || s[i] != '}')
		return -1;
	return (int)(i + 1);
}

/*
 * macro_string_syntax - whether s[0..len) is a macro-string (explain-string
 * when exp: spaces allowed). *ends_macro tells whether it ends with a
 * macro-expand.
 */
static bool
macro_string_syntax(const char *s, size_t len, bool exp, bool *ends_macro)
{
	size_t i = 0;
	int n;

	*ends_macro = false;
	while (i < len) {
		unsigned char c = (unsigned char)s[i];

		*ends_macro = false;
		if (c == '%') {
			if (i + 1 < len && (s[i + 1] == '%' || s[i + 1] == '_' || s[i + 1] == '-'))
				n = 2;
			else if ((n = macro_expand_syntax(s + i, len - i, exp)) == -1)
				return false;
			*ends_macro = true;
			i += (size_t)n;
		} else if ((c >= 0x21 && c <= 0x7e) || (exp && c == ' '))
			i++;
		else
			return false;
	}
	return true;
}

/* toplabel - RFC 7208's toplabel: alphanumerics with a letter, or LDH with a hyphen inside. */
static bool
toplabel(const char *s, size_t len)
{
	bool alpha = false, hyphen = false;
	size_t i;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++) {
		if (is_alpha(s[i]))
			alpha = true;
		else if (s[i] == '-')
			hyphen = true;
		else if (!is_digit(s[i]))
			return false;
	}
	if (!hyphen)
		return alpha;
	return is_alnum(s[0]) && is_alnum(s[len - 1]);
}

/* domain_spec_syntax - a macro-string ending with a macro-expand or "." toplabel ["."]. */
static bool
domain_spec_syntax(const char *s, size_t len)
{
	bool ends_macro;
	size_t end = len, dot;

	if (len == 0 || !macro_string_syntax(s, len, false, &ends_macro))
		return false;
	if (ends_macro)
		return true;
	if (s[end - 1] == '.')
		end--;
	for (dot = end; dot > 0 && s[dot - 1] != '.'; dot--)
		;
	if (dot == 0)
		return false;	/* no "." toplabel: not a fully qualified name */
	return toplabel(s + dot, end - dot);
}

/* cidr_number - "0" or a number without a leading zero, at most max; -1 otherwise. */
static int
cidr_number(const char *s, size_t len, int max)
{
	int v = 0;
	size_t i;

	if (len == 0 || len > 3 || (len > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < len; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= max ? v : -1;
}

/* trailing_number - where "/digits" starts at the end of s[0..*len), or 0 (none); sets *len. */
static size_t
trailing_cidr(const char *s, size_t *len, bool dbl)
{
	size_t i = *len;

	while (i > 0 && is_digit(s[i - 1]))
		i--;
	if (i == *len || i == 0 || s[i - 1] != '/')
		return 0;
	if (dbl && (i < 2 || s[i - 2] != '/'))
		return 0;
	*len = i - 1 - (dbl ? 1 : 0);
	return i;
}

/* parse_ip4 - a dotted quad without leading zeros (ip4-network). */
static bool
parse_ip4(const char *s, size_t len, uint8_t *out)
{
	size_t i = 0;
	int part;

	for (part = 0; part < 4; part++) {
		size_t start = i;
		int v = 0;

		while (i < len && is_digit(s[i]) && i - start < 3)
			v = v * 10 + (s[i++] - '0');
		if (i == start || v > 255 || (i - start > 1 && s[start] == '0'))
			return false;
		out[part] = (uint8_t)v;
		if (part < 3 && (i >= len || s[i++] != '.'))
			return false;
	}
	return i == len;
}

static bool
parse_ip6(const char *s, size_t len, uint8_t *out)
{
	char buf[64];

	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return inet_pton(AF_INET6, buf, out) == 1;
}

static int
parse_ip_mech(struct term *t, const char *rest, size_t len, char *err, size_t errsz)
{
	bool v4 = t->kind == K_IP4;
	size_t c = trailing_cidr(rest, &len, false);

	if (len < 1 || rest[0] != ':')
		return serr(err, errsz, _("\"%.*s\" needs an address after the colon"), (int)t->len,
		    t->text);
	if (c != 0) {
		size_t end = t->len - (size_t)(rest - t->text);

		if ((t->cidr4 = cidr_number(rest + c, end - c, v4 ? 32 : 128)) == -1)
			return serr(err, errsz, _("\"%.*s\" has an invalid prefix length"),
			    (int)t->len, t->text);
	}
	t->net.family = v4 ? AF_INET : AF_INET6;
	if (v4 ? !parse_ip4(rest + 1, len - 1, t->net.addr) :
	    !parse_ip6(rest + 1, len - 1, t->net.addr))
		/* TRANSLATORS: the term, then IPv4 or IPv6. */
		return serr(err, errsz, _("\"%.*s\" is not a valid %s address"), (int)t->len,
		    t->text,
		    v4 ? "IPv4" : "IPv6");
	if (!v4)
		t->cidr6 = t->cidr4, t->cidr4 = -1;
	return 0;
}

/* parse_dual_cidr - "a" and "mx": [":" domain-spec] [ip4-cidr] ["//" ip6-cidr]. */
static int
parse_domain_mech(struct term *t, const char *rest, size_t len, char *err, size_t errsz)
{
	size_t end = len, c;

	if (t->kind == K_A || t->kind == K_MX) {
		if ((c = trailing_cidr(rest, &len, true)) != 0 &&
		    (t->cidr6 = cidr_number(rest + c, end - c, 128)) == -1)
			return serr(err, errsz, _("\"%.*s\" has an invalid IPv6 prefix length"),
			    (int)t->len, t->text);
		end = len;
		if ((c = trailing_cidr(rest, &len, false)) != 0 &&
		    (t->cidr4 = cidr_number(rest + c, end - c, 32)) == -1)
			return serr(err, errsz, _("\"%.*s\" has an invalid IPv4 prefix length"),
			    (int)t->len, t->text);
	}
	if (len == 0) {
		if (t->kind == K_INCLUDE || t->kind == K_EXISTS)
			return serr(err, errsz, _("\"%.*s\" needs a domain after a colon"), (int)t->len,
			    t->text);
		return 0;
	}
	if (rest[0] != ':' || !domain_spec_syntax(rest + 1, len - 1))
		return serr(err, errsz, _("\"%.*s\" does not name a valid domain"), (int)t->len,
		    t->text);
	t->spec = rest + 1;
	t->speclen = len - 1;
	return 0;
}

static int
parse_modifier(struct term *t, size_t namelen, char *err, size_t errsz)
{
	bool ends_macro;

	t->spec = t->text + namelen + 1;
	t->speclen = t->len - namelen - 1;
	if (namelen == 8 && strncasecmp(t->text, "redirect", 8) == 0)
		t->kind = K_REDIRECT;
	else if (namelen == 3 && strncasecmp(t->text, "exp", 3) == 0)
		t->kind = K_EXP;
	else
		t->kind = K_MODIFIER;
	if (t->kind == K_MODIFIER ? !macro_string_syntax(t->spec, t->speclen, false, &ends_macro)
	    : !domain_spec_syntax(t->spec, t->speclen))
		return serr(err, errsz, _("\"%.*s\" does not have a valid value"), (int)t->len,
		    t->text);
	return 0;
}

/* parse_term - one term text[0..len) into t; 0, or -1 with err. */
static int
parse_term(const char *text, size_t len, struct term *t, char *err, size_t errsz)
{
	size_t i = 0, n;

	memset(t, 0, sizeof(*t));
	t->text = text;
	t->len = len;
	t->cidr4 = t->cidr6 = -1;
	t->qual = '+';
	if (is_alpha(text[0])) {
		while (i < len && (is_alnum(text[i]) || strchr("-_.", text[i]) != NULL))
			i++;
		if (i < len && text[i] == '=')
			return parse_modifier(t, i, err, errsz);
		i = 0;
	}
	if (strchr("+-~?", text[0]) != NULL && text[0] != '\0')
		t->qual = text[i++];
	for (n = i; n < len && is_alnum(text[n]); n++)
		;
	for (size_t k = 0; k < sizeof(mechanisms) / sizeof(mechanisms[0]); k++) {
		if (strlen(mechanisms[k].name) != n - i ||
		    strncasecmp(mechanisms[k].name, text + i, n - i) != 0)
			continue;
		t->kind = mechanisms[k].kind;
		if (t->kind == K_ALL)
			return n == len ? 0 : serr(err, errsz, _("\"%.*s\": all takes no argument"),
			    (int)len, text);
		if (t->kind == K_IP4 || t->kind == K_IP6)
			return parse_ip_mech(t, text + n, len - n, err, errsz);
		return parse_domain_mech(t, text + n, len - n, err, errsz);
	}
	return serr(err, errsz, _("\"%.*s\" is not an SPF mechanism or modifier"), (int)len,
	    text);
}

/* next_term - the term after *pos in rec[0..len): 1, 0 at the end, -1 with err. */
static int
next_term(const char *rec, size_t len, size_t *pos, struct term *t, char *err, size_t errsz)
{
	size_t i = *pos, start;

	while (i < len && rec[i] == ' ')
		i++;
	if (i >= len)
		return 0;
	start = i;
	while (i < len && rec[i] != ' ')
		i++;
	*pos = i;
	return parse_term(rec + start, i - start, t, err, errsz) == -1 ? -1 : 1;
}

int
spf_record_check(const char *rec, size_t len, char *err, size_t errsz)
{
	struct term t;
	size_t pos = 6, i;
	int rc, redirects = 0, exps = 0;

	if (!spf_is_record(rec, len))
		return serr(err, errsz, _("the record does not start with \"v=spf1\""));
	for (i = 0; i < len; i++)
		if ((unsigned char)rec[i] < 0x20 || (unsigned char)rec[i] > 0x7e)
			return serr(err, errsz, _("the record holds a byte that is not printable"
			    " ASCII (at offset %zu)"), i);
	while ((rc = next_term(rec, len, &pos, &t, err, errsz)) == 1) {
		redirects += t.kind == K_REDIRECT;
		exps += t.kind == K_EXP;
	}
	if (rc == -1)
		return -1;
	if (redirects > 1 || exps > 1)
		/* TRANSLATORS: %s is redirect or exp (SPF's own words). */
		return serr(err, errsz, _("the record has more than one %s= modifier"),
		    redirects > 1 ? "redirect" : "exp");
	return 0;
}

/* --- macros --- */

struct sbuf {
	char *p;
	size_t n, cap;
	bool over;
};

static void
sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->n + n >= b->cap) {
		b->over = true;
		return;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

/* url_escape - uppercase macro letters: everything but unreserved characters as %XX. */
static void
sb_add_escaped(struct sbuf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	char e[3];

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (is_alnum(c) || strchr("-._~", c) != NULL) {
			sb_add(b, s + i, 1);
			continue;
		}
		e[0] = '%';
		e[1] = hex[c >> 4];
		e[2] = hex[c & 15];
		sb_add(b, e, 3);
	}
}

/* ip_dotted - %{i}: dotted quad, or the 32 nibbles of an IPv6 address dotted. */
static void
ip_dotted(const struct spf_ip *ip, char *out, size_t outsz)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (ip->family == AF_INET) {
		snprintf(out, outsz, "%u.%u.%u.%u", ip->addr[0], ip->addr[1], ip->addr[2],
		    ip->addr[3]);
		return;
	}
	for (int i = 0; i < 16 && o + 4 < outsz; i++) {
		out[o++] = hex[ip->addr[i] >> 4];
		out[o++] = '.';
		out[o++] = hex[ip->addr[i] & 15];
		out[o++] = '.';
	}
	out[o ? o - 1 : 0] = '\0';
}

/* letter_value - the value of macro letter c (lower case) into buf. */
static const char *
letter_value(const struct spf_request *req, const char *domain, const char *p, int c,
    char *buf, size_t bufsz)
{
	const char *at = req->sender ? strrchr(req->sender, '@') : NULL;

	switch (c) {
	case 's':
		if (at == NULL || at == req->sender) {
			snprintf(buf, bufsz, "postmaster@%s", at ? at + 1 : domain);
			return buf;
		}
		return req->sender;
	case 'l':
		if (at == NULL || at == req->sender)
			return "postmaster";
		snprintf(buf, bufsz, "%.*s", (int)(at - req->sender), req->sender);
		return buf;
	case 'o':
		return at ? at + 1 : domain;
	case 'd':
		return domain;
	case 'i':
		ip_dotted(&req->ip, buf, bufsz);
		return buf;
	case 'p':
		return p ? p : "unknown";
	case 'v':
		return req->ip.family == AF_INET ? "in-addr" : "ip6";
	case 'h':
		return req->helo ? req->helo : "unknown";
	case 'c':
		if (inet_ntop(req->ip.family, req->ip.addr, buf, (socklen_t)bufsz) == NULL)
			return "unknown";
		return buf;
	case 'r':
		return req->receiver ? req->receiver : "unknown";
	case 't':
		snprintf(buf, bufsz, "%lld", (long long)req->now);
		return buf;
	default:
		return "";
	}
}

/*
 * transform - split v at any of delims, reverse when rev, keep the keep
 * rightmost parts (0: all), join with "." into b.
 */
static void
transform(struct sbuf *b, const char *v, const char *delims, size_t ndelims, bool rev,
    unsigned keep, bool escape)
{
	const char *parts[256];
	size_t lens[256], n = 0, i, first;
	const char *s = v;

	for (;;) {
		size_t l = 0;

		while (s[l] != '\0' && memchr(delims, s[l], ndelims) == NULL)
			l++;
		if (n < 256) {
			parts[n] = s;
			lens[n++] = l;
		}
		if (s[l] == '\0')
			break;
		s += l + 1;
	}
	if (rev)
		for (i = 0; i < n / 2; i++) {
			const char *tp = parts[i];
			size_t tl = lens[i];

			parts[i] = parts[n - 1 - i], lens[i] = lens[n - 1 - i];
			parts[n - 1 - i] = tp, lens[n - 1 - i] = tl;
		}
	first = keep && keep < n ? n - keep : 0;
	for (i = first; i < n; i++) {
		if (i > first)
			sb_add(b, ".", 1);
		if (escape)
			sb_add_escaped(b, parts[i], lens[i]);
		else
			sb_add(b, parts[i], lens[i]);
	}
}

/* expand_macro - one "%{...}" of length n at s (syntax already checked). */
static void
expand_macro(struct sbuf *b, const struct spf_request *req, const char *domain, const char *p,
    const char *s, size_t n)
{
	char buf[DNS_NAME_MAX * 2 + 80];
	int letter = s[2];
	bool upper = letter >= 'A' && letter <= 'Z';
	const char *v = letter_value(req, domain, p, upper ? letter + 32 : letter, buf, sizeof(buf));
	size_t i = 3, dstart;
	unsigned keep = 0;
	bool rev = false;

	while (is_digit(s[i])) {
		if (keep < 1000)
			keep = keep * 10 + (unsigned)(s[i] - '0');
		i++;
	}
	if (s[i] == 'r' || s[i] == 'R')
		rev = true, i++;
	dstart = i;
	if (i == 3 && s[i] == '}') {	/* no transformers, no delimiters: as it is */
		if (upper)
			sb_add_escaped(b, v, strlen(v));
		else
			sb_add(b, v, strlen(v));
		return;
	}
	if (n - 1 == dstart)
		transform(b, v, ".", 1, rev, keep, upper);
	else
		transform(b, v, s + dstart, n - 1 - dstart, rev, keep, upper);
}

/* shorten - a domain beyond 253 bytes loses labels from the left (section 7.3). */
static void
shorten(char *s, size_t *n)
{
	size_t skip = 0;

	if (*n > 0 && s[*n - 1] == '.')
		s[--*n] = '\0';
	while (*n - skip > DNS_NAME_MAX) {
		const char *dot = memchr(s + skip, '.', *n - skip);

		skip = dot ? (size_t)(dot - s) + 1 : *n;
	}
	memmove(s, s + skip, *n - skip + 1);
	*n -= skip;
}

int
spf_expand(const struct spf_request *req, const char *domain, const char *p, const char *spec,
    size_t len, bool exp, char *out, size_t outsz, char *err, size_t errsz)
{
	struct sbuf b = { out, 0, outsz, false };
	bool ends_macro;
	size_t i = 0;
	int n;

	if (outsz == 0)
		return -1;
	out[0] = '\0';
	if (!macro_string_syntax(spec, len, exp, &ends_macro))
		return serr(err, errsz, _("\"%.*s\" is not a valid macro string"), (int)len, spec);
	while (i < len) {
		if (spec[i] != '%') {
			sb_add(&b, spec + i++, 1);
			continue;
		}
		if (spec[i + 1] == '%' || spec[i + 1] == '_' || spec[i + 1] == '-') {
			sb_add(&b, spec[i + 1] == '%' ? "%" : spec[i + 1] == '_' ? " " : "%20",
			    spec[i + 1] == '-' ? 3 : 1);
			i += 2;
			continue;
		}
		n = macro_expand_syntax(spec + i, len - i, exp);
		expand_macro(&b, req, domain, p, spec + i, (size_t)n);
		i += (size_t)n;
	}
	if (b.over)
		return serr(err, errsz, _("the expansion of \"%.*s\" is longer than %d bytes"),
		    (int)len, spec, SPF_EXPAND_MAX);
	if (!exp)
		shorten(out, &b.n);
	return 0;
}

/* --- evaluation --- */

static enum spf_result eval_domain(struct spf_ctx *c, const char *domain, int incl);

static enum spf_result
problem(struct spf_ctx *c, enum spf_result r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* problem - note what went wrong (the first problem stays) and return r. */
static enum spf_result
problem(struct spf_ctx *c, enum spf_result r, const char *fmt, ...)
{
	va_list ap;

	if (c->out->problem[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(c->out->problem, sizeof(c->out->problem), fmt, ap);
		va_end(ap);
	}
	return r;
}

static enum dns_status
lookup(struct spf_ctx *c, const char *name, int type)
{
	return c->req->lookup(c->req->lookup_arg, name, type, &c->ans);
}

/* valid_domain - a multi-label name with labels of 1 to 63 bytes (section 4.3). */
static bool
valid_domain(const char *d)
{
	size_t n = strlen(d), lab = 0, labels = 1;

	if (n == 0 || n > DNS_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (d[i] != '.') {
			if (++lab > 63)
				return false;
			continue;
		}
		if (lab == 0)
			return false;
		lab = 0;
		labels++;
	}
	return lab > 0 && labels >= 2;
}

/* count_lookup - one more term that queries DNS; false (permerror noted) past the limit. */
static bool
count_lookup(struct spf_ctx *c, const char *domain)
{
	if (++c->out->lookups <= SPF_LOOKUP_MAX)
		return true;
	problem(c, SPF_PERMERROR, _("Evaluating the SPF record of %s needs more than %d DNS"
	    " lookups (include, a, mx, ptr, exists, redirect)."), domain, SPF_LOOKUP_MAX);
	return false;
}

/*
 * count_void - a term's query of name (NULL: the client's PTR) answered
 * nothing; false (permerror noted) past the limit.
 */
static bool
count_void(struct spf_ctx *c, const char *name)
{
	if (++c->out->voids <= SPF_VOID_MAX)
		return true;
	if (name == NULL)
		problem(c, SPF_PERMERROR, _("More than %d DNS lookups of the SPF record answered"
		    " nothing (the last one: the PTR of the client)."), SPF_VOID_MAX);
	else
		/* TRANSLATORS: the limit (2), then the name that was looked up. */
		problem(c, SPF_PERMERROR, _("More than %d DNS lookups of the SPF record answered"
		    " nothing (the last one: %s)."), SPF_VOID_MAX, name);
	return false;
}

/* fetch_record - the one SPF record of domain into slot; SPF_PASS as "found". */
static enum spf_result
fetch_record(struct spf_ctx *c, const char *domain, char *slot, bool top)
{
	size_t i, len, found = 0;
	const char *txt;
	enum dns_status st;

	if (top && c->req->override != NULL) {
		c->out->nrecords = 1;
		if (strlen(c->req->override) > SPF_RECORD_MAX)
			return problem(c, SPF_PERMERROR, _("The SPF record of %s is longer than %d"
			    " bytes."), domain, SPF_RECORD_MAX);
		snprintf(slot, SPF_RECORD_MAX + 1, "%s", c->req->override);
		return SPF_PASS;
	}
	st = lookup(c, domain, DNS_T_TXT);
	if (st == DNS_TEMPFAIL)
		return problem(c, SPF_TEMPERROR, "%s", c->ans.why);
	for (i = 0; st == DNS_OK && i < c->ans.n; i++) {
		txt = dns_answer_data(&c->ans, i, &len);
		if (!spf_is_record(txt, len))
			continue;
		if (found++ == 0 && len > SPF_RECORD_MAX)
			return problem(c, SPF_PERMERROR, _("The SPF record of %s is longer than %d"
			    " bytes."), domain, SPF_RECORD_MAX);
		if (found == 1 && memchr(txt, '\0', len) != NULL)
			return problem(c, SPF_PERMERROR, _("The SPF record of %s holds a NUL byte."),
			    domain);
		if (found == 1) {
			memcpy(slot, txt, len);
			slot[len] = '\0';
		}
	}
	if (top)
		c->out->nrecords = (int)found;
	if (found > 1)
		return problem(c, SPF_PERMERROR, ngettext("%s has %zu SPF record (TXT records"
		    " starting with v=spf1); it must have exactly one.", "%s has %zu SPF records"
		    " (TXT records starting with v=spf1); it must have exactly one.",
		    (unsigned long)found), domain, found);
	if (found == 0 && c->ans.truncated)
		/* English: the gate's 451 reply quotes a temperror (spf.h) */
		return problem(c, SPF_TEMPERROR, "%s has more TXT records than hikyaku reads.",
		    domain);
	return found == 0 ? SPF_NONE : SPF_PASS;
}

static bool
prefix_match(const uint8_t *a, const uint8_t *b, int bits)
{
	int bytes = bits / 8, rest = bits % 8;

	if (memcmp(a, b, (size_t)bytes) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a[bytes] ^ b[bytes]) & (0xff << (8 - rest))) == 0;
}

/* cidr_of - the prefix length a term asks for, for the client's family. */
static int
cidr_of(const struct spf_ctx *c, const struct term *t)
{
	if (c->req->ip.family == AF_INET)
		return t->cidr4 >= 0 ? t->cidr4 : 32;
	return t->cidr6 >= 0 ? t->cidr6 : 128;
}

/* answer_has_ip - whether an A/AAAA answer in c->ans holds the client (in bits). */
static bool
answer_has_ip(const struct spf_ctx *c, int bits)
{
	size_t i, len;
	const char *a;

	for (i = 0; i < c->ans.n; i++) {
		a = dns_answer_data(&c->ans, i, &len);
		if (len == (c->req->ip.family == AF_INET ? 4u : 16u) &&
		    prefix_match((const uint8_t *)a, c->req->ip.addr, bits))
			return true;
	}
	return false;
}

static int
addr_type(const struct spf_ctx *c)
{
	return c->req->ip.family == AF_INET ? DNS_T_A : DNS_T_AAAA;
}

/* target - the domain a term names (its expanded domain-spec, or domain). */
static enum spf_result
target(struct spf_ctx *c, const struct term *t, const char *domain, char *out, size_t outsz)
{
	char err[200];

	if (t->spec == NULL) {
		snprintf(out, outsz, "%s", domain);
		return SPF_PASS;
	}
	if (spf_expand(c->req, domain, c->have_p ? c->p : NULL, t->spec, t->speclen, false, out,
	    outsz, err, sizeof(err)) == -1)
		/* TRANSLATORS: the domain, then what is wrong in its record. */
		return problem(c, SPF_PERMERROR, _("In the SPF record of %s: %s."), domain, err);
	return SPF_PASS;
}

/* mech_address - a: does target have an address within the term's prefix of the client? */
static enum spf_result
match_a(struct spf_ctx *c, const struct term *t, const char *name, bool *match)
{
	enum dns_status st = valid_domain(name) ? lookup(c, name, addr_type(c)) : DNS_NXDOMAIN;

	if (st == DNS_TEMPFAIL)
		return problem(c, SPF_TEMPERROR, "%s", c->ans.why);
	if (st != DNS_OK)
		return count_void(c, name) ? SPF_PASS : SPF_PERMERROR;
	*match = answer_has_ip(c, cidr_of(c, t));
	return SPF_PASS;
}

static enum spf_result
match_mx(struct spf_ctx *c, const struct term *t, const char *name, bool *match)
{
	char hosts[SPF_MX_MAX][DNS_NAME_MAX + 1];
	size_t i, n, len;
	enum dns_status st = valid_domain(name) ? lookup(c, name, DNS_T_MX) : DNS_NXDOMAIN;

	if (st == DNS_TEMPFAIL)
		return problem(c, SPF_TEMPERROR, "%s", c->ans.why);
	if (st != DNS_OK)
		return count_void(c, name) ? SPF_PASS : SPF_PERMERROR;
	if ((n = c->ans.n) > SPF_MX_MAX || c->ans.truncated)
		return problem(c, SPF_PERMERROR, _("%s has more than %d MX records, too many for"
		    " the mx mechanism."), name, SPF_MX_MAX);
	for (i = 0; i < n; i++)
		snprintf(hosts[i], sizeof(hosts[i]), "%s", dns_answer_data(&c->ans, i, &len));
	for (i = 0; i < n && !*match; i++) {
		if (!valid_domain(hosts[i]))
			continue;
		st = lookup(c, hosts[i], addr_type(c));
		if (st == DNS_TEMPFAIL)
			return problem(c, SPF_TEMPERROR, "%s", c->ans.why);
		*match = st == DNS_OK && answer_has_ip(c, cidr_of(c, t));
	}
	return SPF_PASS;
}

/*
 * validated_names - the client's PTR names whose addresses include it
 * (section 5.5), at most SPF_PTR_MAX looked at, into names; their number,
 * or -1 when the PTR query answered nothing (a void lookup, for ptr).
 */
static int
validated_names(struct spf_ctx *c, char names[][DNS_NAME_MAX + 1])
{
	char rev[80], ptr[SPF_PTR_MAX][DNS_NAME_MAX + 1];
	size_t i, n, len;
	int nv = 0;

	if (dns_reverse_name(c->req->ip.family, c->req->ip.addr, NULL, rev, sizeof(rev)) == -1 ||
	    lookup(c, rev, DNS_T_PTR) != DNS_OK)
		return c->ans.status == DNS_TEMPFAIL ? 0 : -1;
	n = c->ans.n < SPF_PTR_MAX ? c->ans.n : SPF_PTR_MAX;
	for (i = 0; i < n; i++)
		snprintf(ptr[i], sizeof(ptr[i]), "%s", dns_answer_data(&c->ans, i, &len));
	for (i = 0; i < n; i++) {
		if (!valid_domain(ptr[i]) || lookup(c, ptr[i], addr_type(c)) != DNS_OK)
			continue;	/* an error skips the name (section 5.5) */
		if (answer_has_ip(c, c->req->ip.family == AF_INET ? 32 : 128))
			snprintf(names[nv++], DNS_NAME_MAX + 1, "%.*s", DNS_NAME_MAX, ptr[i]);
	}
	return nv;
}

/* in_domain - name equals domain or is a subdomain of it (any case). */
static bool
in_domain(const char *name, const char *domain)
{
	size_t n = strlen(name), d = strlen(domain);

	if (n == d)
		return strcasecmp(name, domain) == 0;
	return n > d && name[n - d - 1] == '.' && strcasecmp(name + n - d, domain) == 0;
}

static enum spf_result
match_ptr(struct spf_ctx *c, const char *name, bool *match)
{
	char names[SPF_PTR_MAX][DNS_NAME_MAX + 1];
	int n = validated_names(c, names);

	if (n == -1)
		return count_void(c, NULL) ? SPF_PASS : SPF_PERMERROR;
	for (int i = 0; i < n && !*match; i++)
		*match = in_domain(names[i], name);
	return SPF_PASS;
}

static enum spf_result
match_exists(struct spf_ctx *c, const char *name, bool *match)
{
	enum dns_status st = valid_domain(name) ? lookup(c, name, DNS_T_A) : DNS_NXDOMAIN;

	if (st == DNS_TEMPFAIL)
		return problem(c, SPF_TEMPERROR, "%s", c->ans.why);
	if (st != DNS_OK)
		return count_void(c, name) ? SPF_PASS : SPF_PERMERROR;
	*match = c->ans.n > 0;
	return SPF_PASS;
}

/* compute_p - %{p} (section 7.3): a validated name, domain or under it preferred. */
static void
compute_p(struct spf_ctx *c, const char *domain)
{
	char names[SPF_PTR_MAX][DNS_NAME_MAX + 1];
	int n = validated_names(c, names), i, pick = -1;

	c->have_p = true;
	snprintf(c->p, sizeof(c->p), "unknown");
	for (i = 0; i < n && pick == -1; i++)
		if (strcasecmp(names[i], domain) == 0)
			pick = i;
	for (i = 0; i < n && pick == -1; i++)
		if (in_domain(names[i], domain))
			pick = i;
	if (pick == -1 && n > 0)
		pick = 0;
	if (pick >= 0)
		snprintf(c->p, sizeof(c->p), "%.*s", DNS_NAME_MAX, names[pick]);
}

/* needs_p - whether spec uses %{p}. */
static bool
needs_p(const char *spec, size_t len)
{
	for (size_t i = 0; i + 2 < len; i++)
		if (spec[i] == '%' && spec[i + 1] == '{' && (spec[i + 2] == 'p' || spec[i + 2] == 'P'))
			return true;
		else if (spec[i] == '%')
			i++;
	return false;
}

/* match_include - include: pass matches; none is a permerror (section 5.2). */
static enum spf_result
match_include(struct spf_ctx *c, const char *name, int incl, bool *match)
{
	enum spf_result r = eval_domain(c, name, incl + 1);

	switch (r) {
	case SPF_PASS:
		*match = true;
		return SPF_PASS;
	case SPF_TEMPERROR:
	case SPF_PERMERROR:
		return r;
	case SPF_NONE:
		return problem(c, SPF_PERMERROR, _("include:%s names a domain without an SPF"
		    " record."), name);
	default:
		return SPF_PASS;
	}
}

/* match_term - evaluate one mechanism; SPF_PASS means "went fine" (see *match). */
static enum spf_result
match_term(struct spf_ctx *c, const struct term *t, const char *domain, int incl, bool *match)
{
	char name[SPF_EXPAND_MAX + 1];
	enum spf_result r;

	*match = false;
	if (t->kind == K_ALL) {
		*match = true;
		return SPF_PASS;
	}
	if (t->kind == K_IP4 || t->kind == K_IP6) {
		*match = t->net.family == c->req->ip.family && prefix_match(t->net.addr,
		    c->req->ip.addr, t->kind == K_IP4 ? (t->cidr4 >= 0 ? t->cidr4 : 32) :
		    (t->cidr6 >= 0 ? t->cidr6 : 128));
		return SPF_PASS;
	}
	if (!count_lookup(c, domain))
		return SPF_PERMERROR;
	if (t->spec != NULL && !c->have_p && needs_p(t->spec, t->speclen))
		compute_p(c, domain);
	if ((r = target(c, t, domain, name, sizeof(name))) != SPF_PASS)
		return r;
	switch (t->kind) {
	case K_INCLUDE: return match_include(c, name, incl, match);
	case K_A: return match_a(c, t, name, match);
	case K_MX: return match_mx(c, t, name, match);
	case K_PTR: return match_ptr(c, name, match);
	case K_EXISTS: return match_exists(c, name, match);
	default: return SPF_PASS;
	}
}

static enum spf_result
qualifier_result(char q)
{
	switch (q) {
	case '-': return SPF_FAIL;
	case '~': return SPF_SOFTFAIL;
	case '?': return SPF_NEUTRAL;
	default: return SPF_PASS;
	}
}

/* explain - the exp= text of rec for a fail (section 6.2); errors leave it empty. */
static void
explain(struct spf_ctx *c, const char *rec, const char *domain)
{
	char name[SPF_EXPAND_MAX + 1], err[200], text[SPF_RECORD_MAX + 1];
	size_t pos = 6, len;
	const char *txt;
	struct term t;

	while (next_term(rec, strlen(rec), &pos, &t, err, sizeof(err)) == 1) {
		if (t.kind != K_EXP)
			continue;
		if (t.spec != NULL && !c->have_p && needs_p(t.spec, t.speclen))
			compute_p(c, domain);
		if (target(c, &t, domain, name, sizeof(name)) != SPF_PASS ||
		    !valid_domain(name) || lookup(c, name, DNS_T_TXT) != DNS_OK || c->ans.n != 1)
			return;
		txt = dns_answer_data(&c->ans, 0, &len);
		if (len > SPF_RECORD_MAX)
			return;
		memcpy(text, txt, len);
		text[len] = '\0';
		if (!c->have_p && needs_p(text, len))
			compute_p(c, domain);
		spf_expand(c->req, domain, c->have_p ? c->p : NULL, text, len, true,
		    c->out->explanation, sizeof(c->out->explanation), err, sizeof(err));
		return;
	}
}

/* decided - a mechanism of rec matched: the result, and for the top level what and where. */
static enum spf_result
decided(struct spf_ctx *c, const struct term *t, const char *rec, const char *domain,
    int incl, bool top)
{
	enum spf_result r = qualifier_result(t->qual);

	if (incl == 0) {
		snprintf(c->out->term, sizeof(c->out->term), "%.*s", (int)t->len, t->text);
		snprintf(c->out->term_domain, sizeof(c->out->term_domain), "%s", domain);
		if (top)
			c->out->insert_at = (size_t)(t->text - rec);
		if (r == SPF_FAIL)
			explain(c, rec, domain);
	}
	return r;
}

/* mechanisms_end - the offset just after the last mechanism of rec (6: none). */
static size_t
mechanisms_end(const char *rec)
{
	size_t pos = 6, end = 6;
	struct term t;
	char err[8];

	while (next_term(rec, strlen(rec), &pos, &t, err, sizeof(err)) == 1)
		if (t.kind < K_REDIRECT)
			end = pos;
	return end;
}

/* eval_record - the terms of rec, the record of domain, left to right, then redirect=. */
static enum spf_result
eval_record(struct spf_ctx *c, const char *rec, const char *domain, int incl, bool top)
{
	const struct term *redirect = NULL;
	struct term t, rt;
	char err[300], name[SPF_EXPAND_MAX + 1];
	size_t pos = 6, len = strlen(rec);
	enum spf_result r;
	bool match;

	if (spf_record_check(rec, len, err, sizeof(err)) == -1)
		/* TRANSLATORS: the domain, then what is wrong with its record. */
		return problem(c, SPF_PERMERROR, _("The SPF record of %s is invalid: %s."), domain,
		    err);
	while (next_term(rec, len, &pos, &t, err, sizeof(err)) == 1) {
		if (t.kind == K_REDIRECT)
			rt = t, redirect = &rt;
		if (t.kind >= K_REDIRECT)
			continue;
		if ((r = match_term(c, &t, domain, incl, &match)) != SPF_PASS)
			return r;
		if (match)
			return decided(c, &t, rec, domain, incl, top);
	}
	if (top)
		c->out->insert_at = mechanisms_end(rec);
	if (redirect == NULL)
		return SPF_NEUTRAL;
	if (!count_lookup(c, domain))
		return SPF_PERMERROR;
	if ((r = target(c, redirect, domain, name, sizeof(name))) != SPF_PASS)
		return r;
	if (top && incl == 0)
		c->out->by_redirect = true;
	if ((r = eval_domain(c, name, incl)) == SPF_NONE)
		return problem(c, SPF_PERMERROR, _("redirect=%s names a domain without an SPF"
		    " record."), name);
	return r;
}

/* eval_domain - check_host() for domain; incl counts the includes around it. */
static enum spf_result
eval_domain(struct spf_ctx *c, const char *domain, int incl)
{
	bool top = c->depth == 0;
	enum spf_result r;
	char *slot;

	if (!valid_domain(domain))
		return SPF_NONE;	/* section 4.3 */
	if (c->depth >= SPF_DEPTH_MAX)
		return problem(c, SPF_PERMERROR, _("SPF records are nested too deeply at %s."),
		    domain);
	slot = c->rec[c->depth++];
	if ((r = fetch_record(c, domain, slot, top)) == SPF_PASS) {
		if (top)
			snprintf(c->out->record, sizeof(c->out->record), "%s", slot);
		r = eval_record(c, slot, domain, incl, top);
	}
	c->depth--;
	return r;
}

enum spf_result
spf_check(const struct spf_request *req, struct spf_ctx *c, struct spf_outcome *out)
{
	memset(out, 0, sizeof(*out));
	c->req = req;
	c->out = out;
	c->depth = 0;
	c->have_p = false;
	out->result = eval_domain(c, req->domain, 0);
	return out->result;
}

int
spf_insert(const char *record, size_t at, const char *mech, char *out, size_t outsz)
{
	size_t len = strlen(record), a = at, b = at;
	int n;

	if (at > len)
		return -1;
	while (a > 0 && record[a - 1] == ' ')
		a--;
	while (b < len && record[b] == ' ')
		b++;
	n = snprintf(out, outsz, "%.*s %s%s%s", (int)a, record, mech, b < len ? " " : "",
	    record + b);
	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}
