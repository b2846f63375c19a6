/*
 * dnsrec.c - tag=value records from DNS (DMARC, DKIM keys) and the
 * organizational domain. Pure: one tag-list scanner (RFC 6376 section
 * 3.2, which RFC 7489 shares in substance) under two small record
 * grammars. (MTA-STS and TLS-RPT records: lib/tlsrec.c, which delivery
 * uses too.) What is wrong with a record is said
 * for people, through gettext (English unless the program set a locale).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "doctor/dnsrec.h"
#include "lib/i18n.h"

#define TAGS_MAX 32		/* distinct tags of one record */

struct tag {
	const char *name, *val;
	size_t nlen, vlen;
};

static int derr(char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
derr(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
	return -1;
}

static bool
is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * tags_split - the tags of s[0..len) into t (at most TAGS_MAX); their
 * number, or -1 with err: a tag without "=", a name that is not
 * ALPHA *(ALPHA / DIGIT / "_"), a value byte outside %x21-7E, a duplicate.
 * Empty segments (";;") are skipped.
 */
static int
tags_split(const char *s, size_t len, struct tag *t, char *err, size_t errsz)
{
	size_t i = 0, n = 0, k;

	for (k = 0; k < len; k++)
		if (((unsigned char)s[k] < 0x20 && !is_ws(s[k])) || (unsigned char)s[k] >= 0x7f)
			return derr(err, errsz, _("the record holds a byte that is not printable ASCII"
			    " (at offset %zu)"), k);
	while (i < len) {
		size_t start = i, end, eq;

		while (i < len && s[i] != ';')
			i++;
		end = i++;
		while (start < end && is_ws(s[start]))
			start++;
		while (end > start && is_ws(s[end - 1]))
			end--;
		if (start == end)
			continue;
		for (eq = start; eq < end && s[eq] != '='; eq++)
			;
		if (eq == end)
			return derr(err, errsz, _("\"%.*s\" is not a tag=value pair"), (int)(end - start),
			    s + start);
		if (n == TAGS_MAX)
			return derr(err, errsz, _("the record has more than %d tags"), TAGS_MAX);
		t[n].name = s + start;
		for (t[n].nlen = eq - start; t[n].nlen > 0 && is_ws(t[n].name[t[n].nlen - 1]);)
			t[n].nlen--;
		for (t[n].val = s + eq + 1; t[n].val < s + end && is_ws(*t[n].val);)
			t[n].val++;
		t[n].vlen = (size_t)(s + end - t[n].val);
		if (t[n].nlen == 0 || !isalpha((unsigned char)t[n].name[0]))
			return derr(err, errsz, _("\"%.*s\" is not a valid tag name"), (int)t[n].nlen,
			    t[n].name);
		for (k = 0; k < t[n].nlen; k++)
			if (!isalnum((unsigned char)t[n].name[k]) && t[n].name[k] != '_')
				return derr(err, errsz, _("\"%.*s\" is not a valid tag name"),
				    (int)t[n].nlen, t[n].name);
		for (k = 0; k < t[n].vlen; k++)
			if (((unsigned char)t[n].val[k] < 0x21 || (unsigned char)t[n].val[k] > 0x7e) &&
			    !is_ws(t[n].val[k]))
				return derr(err, errsz, _("the value of %.*s= holds a byte that is not"
				    " printable ASCII"), (int)t[n].nlen, t[n].name);
		for (k = 0; k < n; k++)
			if (t[k].nlen == t[n].nlen && strncmp(t[k].name, t[n].name, t[n].nlen) == 0)
				return derr(err, errsz, _("the tag %.*s= appears twice"), (int)t[n].nlen,
				    t[n].name);
		n++;
	}
	return (int)n;
}

static bool
is_tag(const struct tag *t, const char *name)
{
	return t->nlen == strlen(name) && strncmp(t->name, name, t->nlen) == 0;
}

static bool
val_is(const struct tag *t, const char *v)
{
	return t->vlen == strlen(v) && strncasecmp(t->val, v, t->vlen) == 0;
}

/* prefix_is - a cheap check that txt starts with "v=" value before a ';', WSP or the end. */
static bool
prefix_is(const char *txt, size_t len, const char *value)
{
	size_t n = strlen(value), i = 0;

	while (i < len && is_ws(txt[i]))
		i++;
	if (len - i < 2 + n || strncmp(txt + i, "v=", 2) != 0 || strncmp(txt + i + 2, value, n) != 0)
		return false;
	i += 2 + n;
	return i == len || txt[i] == ';' || is_ws(txt[i]);
}

bool
dmarc_is_record(const char *txt, size_t len)
{
	return prefix_is(txt, len, "DMARC1");
}

const char *
dmarc_policy_name(enum dmarc_policy p)
{
	return p == DMARC_REJECT ? "reject" : p == DMARC_QUARANTINE ? "quarantine" : "none";
}

static int
parse_policy(const struct tag *t, enum dmarc_policy *out)
{
	if (val_is(t, "none"))
		*out = DMARC_NONE;
	else if (val_is(t, "quarantine"))
		*out = DMARC_QUARANTINE;
	else if (val_is(t, "reject"))
		*out = DMARC_REJECT;
	else
		return -1;
	return 0;
}

/* parse_uris - a comma-separated list of scheme:rest URIs; those of allowed schemes into out. */
static int
parse_uris(const struct tag *t, const char *const *schemes, char out[][DNSREC_URI_MAX],
    size_t *n, char *err, size_t errsz)
{
	size_t i = 0;

	*n = 0;
	while (i <= t->vlen) {
		size_t s = i, e, k;
		bool ok = false;

		while (i < t->vlen && t->val[i] != ',')
			i++;
		e = i++;
		while (s < e && is_ws(t->val[s]))
			s++;
		while (e > s && is_ws(t->val[e - 1]))
			e--;
		for (k = 0; schemes[k] != NULL && !ok; k++)
			ok = e - s > strlen(schemes[k]) &&
			    strncasecmp(t->val + s, schemes[k], strlen(schemes[k])) == 0;
		if (!ok)
			/* TRANSLATORS: the URI, the tag (rua or ruf), then the schemes
			 * allowed: "mailto:" or "mailto: or https:". */
			return derr(err, errsz, _("\"%.*s\" in %.*s= is not a %s URI"), (int)(e - s),
			    t->val + s, (int)t->nlen, t->name, schemes[1] ? _("mailto: or https:") :
			    "mailto:");
		if (*n < DNSREC_URIS && out != NULL)
			snprintf(out[*n], DNSREC_URI_MAX, "%.*s", (int)(e - s), t->val + s);
		(*n)++;
	}
	return 0;
}

static int
dmarc_tag(const struct tag *t, struct dmarc_record *out, bool *sp_given, char *err,
    size_t errsz)
{
	static const char *const mailto[] = { "mailto:", NULL };
	unsigned v = 0;
	size_t k, n;

	if (is_tag(t, "p"))
		out->p_given = parse_policy(t, &out->p) == 0;
	else if (is_tag(t, "sp")) {
		if (parse_policy(t, &out->sp) == -1)
			return derr(err, errsz, _("sp=%.*s is not none, quarantine or reject"),
			    (int)t->vlen, t->val);
		*sp_given = true;
	} else if (is_tag(t, "adkim") || is_tag(t, "aspf")) {
		if (!val_is(t, "r") && !val_is(t, "s"))
			return derr(err, errsz, _("%.*s=%.*s is not r or s"), (int)t->nlen, t->name,
			    (int)t->vlen, t->val);
		*(is_tag(t, "adkim") ? &out->strict_dkim : &out->strict_spf) = val_is(t, "s");
	} else if (is_tag(t, "pct")) {
		for (k = 0; k < t->vlen && k < 4 && isdigit((unsigned char)t->val[k]); k++)
			v = v * 10 + (unsigned)(t->val[k] - '0');
		if (t->vlen == 0 || k != t->vlen || v > 100)
			return derr(err, errsz, _("pct=%.*s is not a number from 0 to 100"),
			    (int)t->vlen, t->val);
		out->pct = (int)v;
	} else if (is_tag(t, "rua"))
		return parse_uris(t, mailto, out->rua, &out->nrua, err, errsz);
	else if (is_tag(t, "ruf"))
		return parse_uris(t, mailto, NULL, &n, err, errsz);
	return 0;
}

int
dmarc_parse(const char *txt, size_t len, struct dmarc_record *out, char *err, size_t errsz)
{
	struct tag t[TAGS_MAX];
	bool sp_given = false, p_seen = false;
	int n, i;

	memset(out, 0, sizeof(*out));
	out->pct = 100;
	if (len > DNSREC_MAX)
		return derr(err, errsz, _("the record is longer than %d bytes"), DNSREC_MAX);
	if ((n = tags_split(txt, len, t, err, errsz)) == -1)
		return -1;
	if (n == 0 || !is_tag(&t[0], "v") || t[0].vlen != 6 || strncmp(t[0].val, "DMARC1", 6) != 0)
		return derr(err, errsz, _("the record does not start with v=DMARC1"));
	for (i = 1; i < n; i++) {
		p_seen |= is_tag(&t[i], "p");
		if (dmarc_tag(&t[i], out, &sp_given, err, errsz) == -1)
			return -1;
	}
	if (!out->p_given && out->nrua == 0)
		return derr(err, errsz, p_seen ? _("p= is not none, quarantine or reject") :
		    _("the record has no p= tag"));
	if (!sp_given)
		out->sp = out->p;
	return 0;
}

/* b64_strip - the base64 of a p= value without whitespace; -1 when another byte is in it. */
static int
b64_strip(const struct tag *t, char *out, size_t outsz, size_t *outlen)
{
	size_t k, o = 0;

	for (k = 0; k < t->vlen; k++) {
		char c = t->val[k];

		if (is_ws(c))
			continue;
		if (!isalnum((unsigned char)c) && c != '+' && c != '/' && c != '=')
			return -1;
		if (o + 1 >= outsz)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	*outlen = o;
	return 0;
}

/* has_flag - whether the colon-separated t= list holds flag. */
static bool
has_flag(const struct tag *t, char flag)
{
	size_t k;

	for (k = 0; k < t->vlen; k++) {
		if (is_ws(t->val[k]) || t->val[k] == ':')
			continue;
		if (t->val[k] == flag && (k + 1 == t->vlen || t->val[k + 1] == ':' ||
		    is_ws(t->val[k + 1])))
			return true;
	}
	return false;
}

int
dkim_keyrec_parse(const char *txt, size_t len, struct dkim_keyrec *out, char *err, size_t errsz)
{
	struct tag t[TAGS_MAX];
	bool have_p = false;
	int n, i;

	memset(out, 0, sizeof(*out));
	if (len > DNSREC_MAX)
		return derr(err, errsz, _("the record is longer than %d bytes"), DNSREC_MAX);
	if ((n = tags_split(txt, len, t, err, errsz)) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (is_tag(&t[i], "v") && (i != 0 || t[i].vlen != 5 ||
		    strncmp(t[i].val, "DKIM1", 5) != 0))
			return derr(err, errsz, _("v= must be the first tag and be DKIM1"));
		if (is_tag(&t[i], "k")) {
			if (val_is(&t[i], "rsa"))
				out->k = DKIM_KEY_RSA;
			else if (val_is(&t[i], "ed25519"))
				out->k = DKIM_KEY_ED25519;
			else
				return derr(err, errsz, _("k=%.*s is not a key type hikyaku signs"
				    " with (rsa, ed25519)"), (int)t[i].vlen, t[i].val);
		}
		if (is_tag(&t[i], "t"))
			out->testing = has_flag(&t[i], 'y');
		if (is_tag(&t[i], "p")) {
			have_p = true;
			if (b64_strip(&t[i], out->p, sizeof(out->p), &out->plen) == -1)
				return derr(err, errsz, _("p= is not base64"));
			out->revoked = out->plen == 0;
		}
	}
	if (!have_p)
		return derr(err, errsz, _("the record has no p= tag (the public key)"));
	return 0;
}

/* psl_has - whether a line of the list is exactly rule (prefix, then name[0..n)). */
static bool
psl_has(const char *psl, size_t len, const char *prefix, const char *name, size_t n)
{
	size_t plen = strlen(prefix), i = 0;

	while (i < len) {
		size_t s = i, e;

		while (i < len && psl[i] != '\n')
			i++;
		e = i++;
		while (e > s && is_ws(psl[e - 1]))
			e--;
		if (e - s == plen + n && strncmp(psl + s, prefix, plen) == 0 &&
		    strncasecmp(psl + s + plen, name, n) == 0)
			return true;
	}
	return false;
}

/* suffix_start - where the public suffix starts in d (lower case, no final dot). */
static size_t
suffix_start(const char *psl, size_t psllen, const char *d)
{
	size_t n = strlen(d), i;
	const char *cand, *parent = NULL;

	for (i = 0; i < n; i = parent ? (size_t)(parent - d) + 1 : n) {
		cand = d + i;
		parent = strchr(cand, '.');
		if (psl_has(psl, psllen, "!", cand, strlen(cand)))
			return parent ? (size_t)(parent - d) + 1 : n;
		if (psl_has(psl, psllen, "", cand, strlen(cand)) ||
		    (parent && psl_has(psl, psllen, "*.", parent + 1, strlen(parent + 1))))
			return i;
	}
	cand = strrchr(d, '.');
	return cand ? (size_t)(cand - d) + 1 : 0;	/* the default rule "*" */
}

int
org_domain(const char *psl, size_t psllen, const char *domain, char *out, size_t outsz)
{
	char d[256];
	size_t n = strlen(domain), i, s;

	if (n > 0 && domain[n - 1] == '.')
		n--;
	if (n == 0 || n >= sizeof(d) || n >= outsz)
		return -1;
	for (i = 0; i < n; i++)
		d[i] = (char)tolower((unsigned char)domain[i]);
	d[n] = '\0';
	s = psl != NULL && psllen > 0 ? suffix_start(psl, psllen, d) :
	    (strrchr(d, '.') ? (size_t)(strrchr(d, '.') - d) + 1 : 0);
	if (s == 0) {
		snprintf(out, outsz, "%s", d);	/* d is itself a public suffix */
		return 0;
	}
	for (i = s - 1; i > 0 && d[i - 1] != '.'; i--)
		;
	snprintf(out, outsz, "%s", d + i);
	return 0;
}
