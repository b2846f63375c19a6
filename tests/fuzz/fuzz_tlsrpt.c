/*
 * fuzz_tlsrpt.c - libFuzzer target for TLS-RPT (RFC 8460): the input is
 * parsed as a _smtp._tls TXT record, and its NUL-separated pieces fill
 * the text fields of a report whose JSON must then be valid JSON (checked
 * by a small validator here) with every input string escaped. A parsed
 * TXT record yields 1..TLSRPT_MAX_RUA destinations: https URLs of
 * printable ASCII, mailboxes without NUL bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tlspolicy/tlsrpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* --- a strict JSON validator (RFC 8259), enough for the check --- */

static const char *value(const char *p);

static const char *
ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

static const char *
string(const char *p)
{
	if (*p++ != '"')
		return NULL;
	for (; *p != '"'; p++) {
		if ((unsigned char)*p < 0x20)
			return NULL;
		if (*p != '\\')
			continue;
		p++;
		if (*p == 'u') {
			for (int i = 1; i <= 4; i++)
				if (!strchr("0123456789abcdefABCDEF", p[i]) || p[i] == '\0')
					return NULL;
			p += 4;
		} else if (!strchr("\"\\/bfnrt", *p) || *p == '\0')
			return NULL;
	}
	return p + 1;
}

static const char *
members(const char *p, char open, char close, int object)
{
	p = ws(p + 1);
	if (*p == close)
		return p + 1;
	for (;;) {
		if (object) {
			if ((p = string(ws(p))) == NULL || *(p = ws(p)) != ':')
				return NULL;
			p++;
		}
		if ((p = value(p)) == NULL)
			return NULL;
		p = ws(p);
		if (*p == close)
			return p + 1;
		if (*p++ != ',')
			return NULL;
	}
	(void)open;
}

static const char *
value(const char *p)
{
	p = ws(p);
	if (*p == '{')
		return members(p, '{', '}', 1);
	if (*p == '[')
		return members(p, '[', ']', 0);
	if (*p == '"')
		return string(p);
	if (*p >= '0' && *p <= '9') {
		while (*p >= '0' && *p <= '9')
			p++;
		return p;
	}
	return NULL;
}

static void
check_rua(const char *txt)
{
	struct tlsrpt_rua r;

	if (tlsrpt_txt_parse(txt, &r, NULL) != 0)
		return;
	if (r.n == 0 || r.n > TLSRPT_MAX_RUA)
		abort();
	for (size_t i = 0; i < r.n; i++) {
		if (r.to[i].uri[0] == '\0' || strlen(r.to[i].uri) >= TLSRPT_URI_MAX)
			abort();
		if (r.to[i].https && strncasecmp(r.to[i].uri, "https://", 8) != 0)
			abort();
		if (!r.to[i].https && strchr(r.to[i].uri, '@') == NULL)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *piece[8], *json, *end;
	size_t n = 0, i = 0, len;

	memcpy(buf, data, size);
	buf[size] = '\0';
	check_rua(buf);
	while (n < 8) {	/* NUL-separated pieces; missing ones are "" */
		piece[n++] = buf + i;
		i += strlen(buf + i) + (i < size);
		if (i > size)
			i = size;
	}
	struct tlsrpt_failure f = { piece[0], piece[1], piece[2], piece[3], piece[4], 5 };
	struct tlsrpt_policy p = { "sts", piece[5], piece[6], piece[7], 1, 5, &f, 1 };
	struct tlsrpt_report r = { piece[0], piece[1], piece[2], -1, INT32_MAX, &p, 1 };

	json = tlsrpt_json(&r, &len);
	if (strlen(json) != len || (end = (char *)value(json)) == NULL || *ws(end) != '\0')
		abort();
	free(json);
	free(buf);
	return 0;
}
