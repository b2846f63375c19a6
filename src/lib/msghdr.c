/*
 * msghdr.c - find the header block of a message and the fields in it.
 *
 * Lines end at CRLF only. A field starts on a line "Name:" (WSP allowed before
 * the colon) and takes in the continuation lines that start with SP or HT.
 * hdr_from walks fields with msghdr_next() so that it sees exactly the fields
 * the rest of hikyaku sees.
 */
#include <string.h>

#include "lib/msghdr.h"

static bool
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* line_end - index of the CRLF that ends the line starting at i, or len. */
static size_t
line_end(const char *s, size_t len, size_t i)
{
	for (; i + 1 < len; i++)
		if (s[i] == '\r' && s[i + 1] == '\n')
			return i;
	return len;
}

/* after_line - the start of the line after the one ending at e. */
static size_t
after_line(size_t e, size_t len)
{
	return e < len ? e + 2 : len;
}

/*
 * field_name - if s[i..end) starts with Name *WSP ":", the length of Name, and
 * *value gets the index after the colon; else 0.
 */
static size_t
field_name(const char *s, size_t end, size_t i, size_t *value)
{
	size_t j = i, n;

	while (j < end && (unsigned char)s[j] >= 33 &&
	    (unsigned char)s[j] <= 126 && s[j] != ':')
		j++;
	n = j - i;
	while (j < end && is_wsp(s[j]))
		j++;
	if (n == 0 || j >= end || s[j] != ':')
		return 0;
	*value = j + 1;
	return n;
}

/* field_end - the end of the field whose first line ends at e. */
static size_t
field_end(const char *s, size_t len, size_t e)
{
	while (e + 2 < len && is_wsp(s[e + 2]))
		e = line_end(s, len, e + 2);
	return e;
}

size_t
msghdr_end(const char *msg, size_t len)
{
	size_t i = 0, e, v;

	while (i < len) {
		e = line_end(msg, len, i);
		if (e == i)
			return i;	/* the empty line */
		if (is_wsp(msg[i])) {
			if (i == 0)
				return 0;
		} else if (field_name(msg, e, i, &v) == 0)
			return i;
		i = after_line(e, len);
	}
	return len;
}

bool
msghdr_next(const char *hdrs, size_t len, size_t *pos, struct msghdr_field *f)
{
	size_t i = *pos, e, v, n;

	while (i < len) {
		e = line_end(hdrs, len, i);
		if (!is_wsp(hdrs[i]) && (n = field_name(hdrs, e, i, &v)) > 0) {
			e = field_end(hdrs, len, e);
			f->name = hdrs + i;
			f->namelen = n;
			f->value = hdrs + v;
			f->valuelen = e - v;
			*pos = after_line(e, len);
			return true;
		}
		i = after_line(e, len);
	}
	*pos = len;
	return false;
}

/* name_is - whether the field's name is name, ignoring ASCII case. */
static bool
name_is(const struct msghdr_field *f, const char *name)
{
	size_t i;

	if (strlen(name) != f->namelen)
		return false;
	for (i = 0; i < f->namelen; i++) {
		char a = f->name[i], b = name[i];

		if (a >= 'A' && a <= 'Z')
			a = (char)(a - 'A' + 'a');
		if (b >= 'A' && b <= 'Z')
			b = (char)(b - 'A' + 'a');
		if (a != b)
			return false;
	}
	return true;
}

bool
msghdr_value(const char *hdrs, size_t len, const char *name,
    const char **val, size_t *vallen)
{
	struct msghdr_field f;
	size_t pos = 0;

	while (msghdr_next(hdrs, len, &pos, &f)) {
		if (name_is(&f, name)) {
			*val = f.value;
			*vallen = f.valuelen;
			return true;
		}
	}
	return false;
}

bool
msghdr_has(const char *hdrs, size_t len, const char *name)
{
	const char *v;
	size_t vl;

	return msghdr_value(hdrs, len, name, &v, &vl);
}
