/*
 * sts.c - MTA-STS policy files and MX patterns (RFC 8461).
 * Pure: parsing walks the bytes once; anything outside the grammar makes
 * the record or policy invalid, and then the domain has no policy.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "tlspolicy/sts.h"

static const char *const mode_names[] = {
	[STS_MODE_NONE] = "none", [STS_MODE_TESTING] = "testing", [STS_MODE_ENFORCE] = "enforce",
};

const char *
sts_mode_name(enum sts_mode m)
{
	return mode_names[m];
}

/* --- the policy file --- */

static bool
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

struct seen {
	bool version, mode, max_age;
};

/* mx_pattern - RFC 8461 3.2: ["*."] Domain; lower-cased into out. */
static int
mx_pattern(const char *v, size_t n, char out[256])
{
	size_t i = 0, label = 0;

	if (n >= 2 && v[0] == '*' && v[1] == '.')
		i = 2;
	if (n == i || n > 253)
		return -1;
	for (size_t j = i; j < n; j++) {
		unsigned char c = (unsigned char)v[j];

		if (c == '.') {
			if (label == 0 || v[j - 1] == '-')
				return -1;
			label = 0;
		} else if (isalnum(c) || (c == '-' && label > 0) || c == '_') {
			if (++label > 63)
				return -1;
		} else
			return -1;
	}
	if (label == 0 || v[n - 1] == '-')
		return -1;
	for (size_t j = 0; j < n; j++)
		out[j] = (char)tolower((unsigned char)v[j]);
	out[n] = '\0';
	return 0;
}

static int
set_mode(const char *v, size_t n, struct sts_policy *out)
{
	for (size_t m = 0; m < sizeof(mode_names) / sizeof(mode_names[0]); m++) {
		if (strlen(mode_names[m]) == n && memcmp(v, mode_names[m], n) == 0) {
			out->mode = (enum sts_mode)m;
			return 0;
		}
	}
	return -1;
}

static int
set_max_age(const char *v, size_t n, struct sts_policy *out)
{
	uint64_t a = 0;

	if (n == 0 || n > 10)
		return -1;	/* 1*10DIGIT */
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)v[i]))
			return -1;
		a = a * 10 + (uint64_t)(v[i] - '0');
	}
	out->max_age = a > STS_MAX_AGE_MAX ? STS_MAX_AGE_MAX : (uint32_t)a;
	return 0;
}

static int
policy_field(const char *k, size_t kn, const char *v, size_t vn, struct sts_policy *out,
    struct seen *seen, char *why, size_t whysz)
{
#define KEY(s) (kn == sizeof(s) - 1 && memcmp(k, s, kn) == 0)
	if (KEY("version")) {
		if (!seen->version && (vn != 5 || memcmp(v, "STSv1", 5) != 0))
			return snprintf(why, whysz, "version is not STSv1"), -1;
		seen->version = true;
	} else if (KEY("mode")) {
		if (!seen->mode && set_mode(v, vn, out) == -1)
			return snprintf(why, whysz, "mode is not enforce, testing or none"), -1;
		seen->mode = true;
	} else if (KEY("max_age")) {
		if (!seen->max_age && set_max_age(v, vn, out) == -1)
			return snprintf(why, whysz, "max_age is not a number of seconds"), -1;
		seen->max_age = true;
	} else if (KEY("mx")) {
		if (out->nmx < STS_MAX_MX && mx_pattern(v, vn, out->mx[out->nmx]) == -1)
			return snprintf(why, whysz, "mx \"%.*s\" is not a host name pattern",
			    (int)(vn > 64 ? 64 : vn), v), -1;
		if (out->nmx < STS_MAX_MX)
			out->nmx++;
	}
	return 0;	/* unknown keys are ignored */
#undef KEY
}

/* policy_line - "key:" *WSP value, with blanks around trimmed. */
static int
policy_line(const char *s, size_t n, struct sts_policy *out, struct seen *seen, char *why,
    size_t whysz)
{
	const char *colon;
	size_t kn, vs;

	while (n > 0 && is_wsp(s[n - 1]))
		n--;
	while (n > 0 && is_wsp(*s))
		s++, n--;
	if (n == 0)
		return 0;	/* a blank line: tolerated */
	if ((colon = memchr(s, ':', n)) == NULL || colon == s)
		return snprintf(why, whysz, "a line is not \"key: value\""), -1;
	kn = (size_t)(colon - s);
	for (size_t i = 0; i < kn; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
			return snprintf(why, whysz, "a key holds a character keys cannot"), -1;
	for (vs = kn + 1; vs < n && is_wsp(s[vs]); vs++)
		;
	return policy_field(s, kn, s + vs, n - vs, out, seen, why, whysz);
}

int
sts_policy_parse(const char *text, size_t len, struct sts_policy *out, char *why,
    size_t whysz)
{
	struct seen seen = { false, false, false };
	size_t i = 0, n;

	memset(out, 0, sizeof(*out));
	if (len > STS_POLICY_MAX || memchr(text, '\0', len) != NULL)
		return snprintf(why, whysz, "longer than 64 KiB, or holds a NUL byte"), -1;
	while (i < len) {
		for (n = 0; i + n < len && text[i + n] != '\n'; n++)
			;
		if (policy_line(text + i, n > 0 && text[i + n - 1] == '\r' ? n - 1 : n, out,
		    &seen, why, whysz) == -1)
			return -1;
		i += n + 1;
	}
	if (!seen.version || !seen.mode || !seen.max_age)
		return snprintf(why, whysz, "version, mode or max_age is missing"), -1;
	if (out->mode != STS_MODE_NONE && out->nmx == 0)
		return snprintf(why, whysz, "no mx pattern"), -1;
	return 0;
}

bool
sts_mx_match(const struct sts_policy *p, const char *host)
{
	size_t hn = strlen(host);
	const char *dot;

	if (hn > 0 && host[hn - 1] == '.')
		hn--;
	for (size_t i = 0; i < p->nmx; i++) {
		const char *pat = p->mx[i];
		size_t pn = strlen(pat);

		if (pat[0] != '*') {
			if (pn == hn && strncasecmp(pat, host, hn) == 0)
				return true;
			continue;
		}
		/* "*.rest": host must be "label.rest" with exactly one more label */
		dot = memchr(host, '.', hn);
		if (dot == NULL || dot == host)
			continue;
		if ((size_t)(host + hn - dot) == pn - 1 &&
		    strncasecmp(dot, pat + 1, pn - 1) == 0)
			return true;
	}
	return false;
}
