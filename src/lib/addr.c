/*
 * addr.c - the RFC 5321 Mailbox parser (section 4.1.2) with the RFC 6531
 * UTF-8 extension, and small helpers over parsed mailboxes.
 *
 * Everything works on counted buffers that may hold any byte; nothing here
 * allocates, and every index is checked against its length before use.
 */
#include <arpa/inet.h>
#include <string.h>

#include "lib/addr.h"
#include "lib/utf8.h"

#define LABEL_MAX 63

static bool
is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static unsigned char
to_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* RFC 5322 atext without the letters and digits. */
static bool
is_atext(unsigned char c)
{
	return is_alpha(c) || is_digit(c) ||
	    (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* qtextSMTP: %d32-33 / %d35-91 / %d93-126 */
static bool
is_qtext(unsigned char c)
{
	return c >= 32 && c <= 126 && c != '"' && c != '\\';
}

/*
 * utf8_at - length of the UTF-8 sequence at s[i..len) when the flags allow
 * UTF-8, else 0.
 */
static size_t
utf8_at(const char *s, size_t i, size_t len, unsigned flags)
{
	if (!(flags & ADDR_ALLOW_UTF8))
		return 0;
	return utf8_seq((const unsigned char *)s + i, len - i);
}

/* dot_string - length of the Dot-string at s[0..len) up to '@', or 0. */
static size_t
dot_string(const char *s, size_t len, unsigned flags)
{
	size_t i = 0, n;
	bool need_atext = true;

	while (i < len && s[i] != '@') {
		if (s[i] == '.' && !need_atext) {
			need_atext = true;
			i++;
		} else if (is_atext((unsigned char)s[i])) {
			need_atext = false;
			i++;
		} else if ((n = utf8_at(s, i, len, flags)) != 0) {
			need_atext = false;
			i += n;
		} else
			return 0;
	}
	return need_atext ? 0 : i;
}

/* quoted_string - length of the Quoted-string at s[0..len), or 0. */
static size_t
quoted_string(const char *s, size_t len, unsigned flags)
{
	size_t i = 1, n;

	if (len == 0 || s[0] != '"')
		return 0;
	while (i < len && s[i] != '"') {
		unsigned char c = (unsigned char)s[i];

		if (c == '\\' && i + 1 < len && s[i + 1] >= 32 && s[i + 1] <= 126)
			i += 2;
		else if (is_qtext(c))
			i++;
		else if ((n = utf8_at(s, i, len, flags)) != 0)
			i += n;
		else
			return 0;
	}
	return i < len ? i + 1 : 0;
}

/* label - length of the domain label (let-dig [ldh-str]) at s[0..len), or 0. */
static size_t
label(const char *s, size_t len, unsigned flags)
{
	size_t i = 0, n;
	bool last_hyphen = true;	/* a label may not start with '-' */

	while (i < len && s[i] != '.') {
		if (s[i] == '-' && i > 0) {
			last_hyphen = true;
			i++;
		} else if (is_alpha((unsigned char)s[i]) ||
		    is_digit((unsigned char)s[i])) {
			last_hyphen = false;
			i++;
		} else if ((n = utf8_at(s, i, len, flags)) != 0) {
			last_hyphen = false;
			i += n;
		} else
			return 0;
	}
	return last_hyphen || i > LABEL_MAX ? 0 : i;
}

/* domain_ok - whether s[0..len) is a Domain: labels joined by single dots. */
static bool
domain_ok(const char *s, size_t len, unsigned flags)
{
	size_t i = 0, n;

	if (len == 0 || len > SMTP_DOMAIN_MAX)
		return false;
	for (;;) {
		if ((n = label(s + i, len - i, flags)) == 0)
			return false;
		i += n;
		if (i == len)
			return true;
		i++;	/* the '.'; a trailing one fails in label() */
	}
}

/* ipv4_ok - whether s[0..len) is a dotted quad of decimal octets 0..255. */
static bool
ipv4_ok(const char *s, size_t len)
{
	size_t i = 0, part, digits;
	unsigned value;

	for (part = 0; part < 4; part++) {
		if (part > 0) {
			if (i >= len || s[i] != '.')
				return false;
			i++;
		}
		value = 0;
		for (digits = 0; i < len && is_digit((unsigned char)s[i]) &&
		    digits < 3; digits++, i++)
			value = value * 10 + (unsigned)(s[i] - '0');
		if (digits == 0 || value > 255)
			return false;
	}
	return i == len;
}

/* ipv6_ok - whether s[0..len) is an IPv6 address in text form. */
static bool
ipv6_ok(const char *s, size_t len)
{
	char buf[INET6_ADDRSTRLEN];
	struct in6_addr a;

	if (len == 0 || len >= sizeof(buf) || memchr(s, '\0', len) != NULL)
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return inet_pton(AF_INET6, buf, &a) == 1;
}

/* literal_ok - whether s[0..len) is [IPv4] or [IPv6:...]. */
static bool
literal_ok(const char *s, size_t len)
{
	if (len < 2 || s[0] != '[' || s[len - 1] != ']')
		return false;
	s++;
	len -= 2;
	if (len >= 5 && (s[0] == 'I' || s[0] == 'i') &&
	    (s[1] == 'P' || s[1] == 'p') && (s[2] == 'v' || s[2] == 'V') &&
	    s[3] == '6' && s[4] == ':')
		return ipv6_ok(s + 5, len - 5);
	return ipv4_ok(s, len);
}

bool
addr_valid_domain(const char *s, size_t len, unsigned flags)
{
	if (len > 0 && s[0] == '[')
		return literal_ok(s, len);
	return domain_ok(s, len, flags);
}

/* local_part - length of the Local-part at s[0..len) (before '@'), or 0. */
static size_t
local_part(const char *s, size_t len, unsigned flags)
{
	size_t n;

	if (len > 0 && s[0] == '"')
		n = quoted_string(s, len, flags);
	else
		n = dot_string(s, len, flags);
	return n > SMTP_LOCAL_MAX ? 0 : n;
}

int
addr_parse_mailbox(const char *s, size_t len, unsigned flags, char *out,
    size_t outsz)
{
	size_t n, i;

	if (len > ADDR_MAX || outsz <= len)
		return -1;
	n = local_part(s, len, flags);
	if (n == 0 || n >= len || s[n] != '@')
		return -1;
	if (!addr_valid_domain(s + n + 1, len - n - 1, flags))
		return -1;
	memcpy(out, s, n + 1);
	for (i = n + 1; i < len; i++)
		out[i] = (char)to_lower((unsigned char)s[i]);
	out[len] = '\0';
	return 0;
}

bool
addr_is_ascii(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return false;
	return true;
}

const char *
addr_domain(const char *mailbox)
{
	const char *at = strrchr(mailbox, '@');

	return at != NULL ? at + 1 : NULL;
}

bool
addr_equal(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++)
		if (to_lower((unsigned char)*a) != to_lower((unsigned char)*b))
			return false;
	return *a == *b;
}
