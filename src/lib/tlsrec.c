/*
 * tlsrec.c - MTA-STS and TLS-RPT TXT records. Both grammars are
 * "v=VERSION" then ';'-separated name=value fields with optional blanks;
 * each record is walked once, and anything outside its grammar makes it
 * invalid (the domain then has no such policy).
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "lib/addr.h"
#include "lib/tlsrec.h"

static bool
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* verdict - 0 for TLSREC_OK, else -1; the reason to *why when asked. */
static int
verdict(enum tlsrec_error *why, enum tlsrec_error e)
{
	if (why != NULL)
		*why = e;
	return e == TLSREC_OK ? 0 : -1;
}

/* starts - whether txt is "VERSION" then ';', a blank or the end. */
static bool
starts(const char *txt, const char *version)
{
	size_t n = strlen(version);

	return strncmp(txt, version, n) == 0 && (txt[n] == ';' || txt[n] == '\0' || is_wsp(txt[n]));
}

/* ext_name - RFC 8461 3.1 / RFC 8460 3: (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / "."). */
static bool
ext_name(const char *s, size_t n)
{
	if (n == 0 || n > 32 || !isalnum((unsigned char)s[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
			return false;
	return true;
}

/* ext_value - 1*(%x21-3A / %x3C / %x3E-7E). */
static bool
ext_value(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x21 || c > 0x7e || c == ';' || c == '=')
			return false;
	}
	return true;
}

/*
 * next_field - past the separators at *p, the next field [*p, *end); a
 * field ends at ';' or, unless to_semicolon, at a blank (trailing blanks
 * are trimmed either way). 1 with a field, 0 at the end, -1 when a field
 * follows another without a ';'.
 */
static int
next_field(const char **p, const char **end, bool to_semicolon)
{
	const char *s = *p, *e;
	bool delim = false;

	while (is_wsp(*s) || (*s == ';' && !delim))
		delim |= *s++ == ';';
	if (*s == '\0')
		return 0;
	if (!delim)
		return -1;
	for (e = s; *e && *e != ';' && (to_semicolon || !is_wsp(*e)); e++)
		;
	while (e > s && is_wsp(e[-1]))
		e--;
	*p = s;
	*end = e;
	return 1;
}

/* --- MTA-STS --- */

bool
sts_txt_is_sts(const char *txt)
{
	return starts(txt, "v=STSv1");
}

/* sts_field - one "name=value" field; the first id goes to id. */
static enum tlsrec_error
sts_field(const char *f, size_t n, char id[STS_ID_MAX + 1], bool *have_id)
{
	const char *eq = memchr(f, '=', n);
	size_t nl, vl;

	if (eq == NULL)
		return TLSREC_SYNTAX;
	nl = (size_t)(eq - f);
	vl = n - nl - 1;
	if (nl == 2 && memcmp(f, "id", 2) == 0) {
		if (vl == 0 || vl > STS_ID_MAX)
			return TLSREC_ID;
		for (size_t i = 0; i < vl; i++)
			if (!isalnum((unsigned char)eq[1 + i]))
				return TLSREC_ID;
		if (!*have_id) {
			memcpy(id, eq + 1, vl);
			id[vl] = '\0';
			*have_id = true;
		}
		return TLSREC_OK;
	}
	return ext_name(f, nl) && ext_value(eq + 1, vl) ? TLSREC_OK : TLSREC_SYNTAX;
}

int
sts_txt_parse(const char *txt, char id[STS_ID_MAX + 1], enum tlsrec_error *why)
{
	const char *p, *end;
	bool have_id = false;
	enum tlsrec_error e;
	int got;

	if (!sts_txt_is_sts(txt))
		return verdict(why, TLSREC_VERSION);
	p = txt + strlen("v=STSv1");
	while ((got = next_field(&p, &end, false)) == 1) {
		if ((e = sts_field(p, (size_t)(end - p), id, &have_id)) != TLSREC_OK)
			return verdict(why, e);
		p = end;
	}
	if (got == -1)
		return verdict(why, TLSREC_SYNTAX);
	if (!have_id)
		return verdict(why, TLSREC_NO_ID);
	return verdict(why, TLSREC_OK);
}

/* --- TLS-RPT --- */

bool
tlsrpt_txt_is_rpt(const char *txt)
{
	return starts(txt, "v=TLSRPTv1");
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* mailto - "mailto:addr[?hfields]" (RFC 6068): the decoded address into out. */
static int
mailto(const char *u, size_t n, char *out, size_t outsz)
{
	char dec[TLSRPT_URI_MAX];
	size_t i, o = 0;
	int h, l;

	for (i = 7; i < n && u[i] != '?'; i++) {
		if (o + 1 >= sizeof(dec))
			return -1;
		if (u[i] != '%') {
			dec[o++] = u[i];
			continue;
		}
		if (i + 2 >= n || (h = hexval(u[i + 1])) < 0 || (l = hexval(u[i + 2])) < 0 ||
		    h * 16 + l == 0)
			return -1;
		dec[o++] = (char)(h * 16 + l);
		i += 2;
	}
	return addr_parse_mailbox(dec, o, 0, out, outsz);
}

/* https_uri - printable ASCII, no blanks, "https://" and a host. */
static bool
https_uri(const char *u, size_t n)
{
	if (n <= 8 || n >= TLSRPT_URI_MAX || strncasecmp(u, "https://", 8) != 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)u[i] <= 0x20 || (unsigned char)u[i] >= 0x7f)
			return false;
	return u[8] != '/';
}

/* rua - the URIs of a rua= value, comma-separated; the usable ones go to out. */
static enum tlsrec_error
rua(const char *v, size_t n, struct tlsrpt_rua *out)
{
	size_t i = 0, s, e;
	bool more = true;

	while (more) {
		while (i < n && is_wsp(v[i]))
			i++;
		for (s = i; i < n && v[i] != ','; i++)
			;
		for (e = i; e > s && is_wsp(v[e - 1]); e--)
			;
		more = i < n;	/* a comma: another URI follows */
		i++;
		if (e == s)
			return TLSREC_RUA;
		if (out->n == TLSRPT_MAX_RUA)
			continue;
		if (e - s > 7 && strncasecmp(v + s, "mailto:", 7) == 0) {
			if (mailto(v + s, e - s, out->to[out->n].uri, TLSRPT_URI_MAX) == 0)
				out->to[out->n++].https = false;
		} else if (https_uri(v + s, e - s)) {
			memcpy(out->to[out->n].uri, v + s, e - s);
			out->to[out->n].uri[e - s] = '\0';
			out->to[out->n++].https = true;
		}
	}
	return TLSREC_OK;
}

/* rpt_field - "name=value": rua (the first counts), or an extension. */
static enum tlsrec_error
rpt_field(const char *f, size_t n, struct tlsrpt_rua *out, bool *have_rua)
{
	const char *eq = memchr(f, '=', n);
	size_t nl;

	if (eq == NULL)
		return TLSREC_SYNTAX;
	nl = (size_t)(eq - f);
	if (nl == 3 && memcmp(f, "rua", 3) == 0) {
		if (*have_rua)
			return TLSREC_OK;
		*have_rua = true;
		return rua(eq + 1, n - nl - 1, out);
	}
	return ext_name(f, nl) && ext_value(eq + 1, n - nl - 1) ? TLSREC_OK : TLSREC_SYNTAX;
}

int
tlsrpt_txt_parse(const char *txt, struct tlsrpt_rua *out, enum tlsrec_error *why)
{
	const char *p, *end;
	bool have_rua = false;
	enum tlsrec_error e;
	int got;

	memset(out, 0, sizeof(*out));
	if (!tlsrpt_txt_is_rpt(txt))
		return verdict(why, TLSREC_VERSION);
	p = txt + strlen("v=TLSRPTv1");
	/* a field runs to the next ';': rua values hold blanks around commas */
	while ((got = next_field(&p, &end, true)) == 1) {
		if ((e = rpt_field(p, (size_t)(end - p), out, &have_rua)) != TLSREC_OK)
			return verdict(why, e);
		p = end;
	}
	if (got == -1)
		return verdict(why, TLSREC_SYNTAX);
	if (!have_rua)
		return verdict(why, TLSREC_NO_RUA);
	if (out->n == 0)
		return verdict(why, TLSREC_RUA_UNUSABLE);
	return verdict(why, TLSREC_OK);
}
