/*
 * test_strbuf.c - the growing text buffer and its JSON strings, and
 * well-formed UTF-8 (RFC 3629).
 */
#include <stdlib.h>

#include "lib/strbuf.h"
#include "lib/utf8.h"
#include "t.h"

static void
test_grow(void)
{
	struct strbuf b = { 0 };
	char *s;
	size_t len = 99;

	s = strbuf_steal(&b, &len);
	T_OK(s != NULL && s[0] == '\0' && len == 0, "an empty buffer gives \"\"");
	free(s);
	for (int i = 0; i < 1000; i++)
		strbuf_putf(&b, "%04d,", i);
	T_OK(b.len == 5000 && strlen(b.p) == 5000, "1000 appends, 5000 bytes");
	T_OK(strncmp(b.p, "0000,0001,", 10) == 0 && strcmp(b.p + 4995, "0999,") == 0,
	    "in order");
	strbuf_free(&b);
	strbuf_putf(&b, "%s", "");
	T_OK(b.len == 0 && b.p != NULL && b.p[0] == '\0', "an empty printf");
	strbuf_put(&b, "a\0b", 3);
	T_OK(b.len == 3 && memcmp(b.p, "a\0b", 4) == 0, "bytes with NUL, terminated");
	s = strbuf_steal(&b, &len);
	T_OK(len == 3 && b.p == NULL && b.len == 0, "steal hands over and empties");
	free(s);
	strbuf_putf(&b, "%.*s|%s", 3000, "", "x");
	strbuf_putf(&b, "%0*d", 4000, 7);
	T_OK(b.len == 4002 && b.p[4001] == '7', "a single printf longer than any line buffer");
	strbuf_free(&b);
}

static const char *
json(const char *s)
{
	static struct strbuf b;

	strbuf_free(&b);
	strbuf_json(&b, s);
	return b.p;
}

static void
test_json(void)
{
	T_STREQ(json(""), "\"\"", "empty");
	T_STREQ(json("plain text"), "\"plain text\"", "ASCII passes");
	T_STREQ(json("a\"b\\c"), "\"a\\\"b\\\\c\"", "quote and backslash");
	T_STREQ(json("\t\r\n\x01\x1f\x7f"), "\"\\u0009\\u000d\\u000a\\u0001\\u001f\\u007f\"",
	    "control characters and DEL");
	T_STREQ(json("\xe6\x97\xa5\xe6\x9c\xac"), "\"\xe6\x97\xa5\xe6\x9c\xac\"", "UTF-8 passes");
	T_STREQ(json("\xf0\x9f\x93\xa8"), "\"\xf0\x9f\x93\xa8\"", "4-byte UTF-8 passes");
	T_STREQ(json("a\xff" "b"), "\"a\\ufffdb\"", "a byte that is never UTF-8");
	T_STREQ(json("\xe6\x97"), "\"\\ufffd\\ufffd\"", "a truncated sequence");
	T_STREQ(json("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"", "a surrogate");
	T_STREQ(json("\xc0\xaf"), "\"\\ufffd\\ufffd\"", "an overlong '/'");
}

static void
test_utf8(void)
{
	T_OK(utf8_valid("", 0), "empty");
	T_OK(utf8_valid("plain", 5), "ASCII");
	T_OK(utf8_valid("\xe6\x97\xa5\xe6\x9c\xac", 6), "CJK");
	T_OK(utf8_valid("\xf4\x8f\xbf\xbf", 4) && !utf8_valid("\xf4\x90\x80\x80", 4),
	    "U+10FFFF is the last");
	T_OK(!utf8_valid("\xed\xbf\xbf", 3), "surrogate");
	T_OK(!utf8_valid("\xe0\x9f\xbf", 3), "overlong 3");
	T_OK(utf8_seq((const unsigned char *)"\xc3\xa9", 1) == 0, "the length bounds the sequence");
	T_OK(utf8_seq((const unsigned char *)"\xc3\xa9", 2) == 2, "a 2-byte sequence");
}

int
main(void)
{
	test_grow();
	test_json();
	test_utf8();
	return t_done();
}
