/*
 * strbuf.c - a growing text buffer; doubling keeps appends amortised O(1).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strbuf.h"
#include "lib/utf8.h"

/* room - make space for n more bytes and the NUL. */
static void
room(struct strbuf *b, size_t n)
{
	size_t need;

	if (n >= SIZE_MAX / 2 || b->len >= SIZE_MAX / 2 - n)
		abort();	/* no text of ours comes near */
	need = b->len + n + 1;
	if (need <= b->cap)
		return;
	b->cap = b->cap * 2 > need ? b->cap * 2 : need < 64 ? 64 : need;
	if ((b->p = realloc(b->p, b->cap)) == NULL)
		abort();	/* as the x* allocators: out of memory is fatal */
}

void
strbuf_put(struct strbuf *b, const void *s, size_t n)
{
	room(b, n);
	if (n > 0)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
strbuf_puts(struct strbuf *b, const char *s)
{
	strbuf_put(b, s, strlen(s));
}

void
strbuf_putf(struct strbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	room(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
strbuf_json(struct strbuf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), i = 0, n;
	char esc[8];

	strbuf_put(b, "\"", 1);
	while (i < len) {
		if (p[i] == '"' || p[i] == '\\') {
			esc[0] = '\\';
			esc[1] = (char)p[i++];
			strbuf_put(b, esc, 2);
		} else if (p[i] >= 0x20 && p[i] < 0x7f) {
			for (n = i; n < len && p[n] >= 0x20 && p[n] < 0x7f && p[n] != '"' &&
			    p[n] != '\\'; n++)
				;
			strbuf_put(b, p + i, n - i);
			i = n;
		} else if (p[i] >= 0x80 && (n = utf8_seq(p + i, len - i)) > 0) {
			strbuf_put(b, p + i, n);
			i += n;
		} else if (p[i] >= 0x80) {
			strbuf_put(b, "\\ufffd", 6);
			i++;
		} else {
			snprintf(esc, sizeof(esc), "\\u%04x", p[i++]);
			strbuf_put(b, esc, 6);
		}
	}
	strbuf_put(b, "\"", 1);
}

char *
strbuf_steal(struct strbuf *b, size_t *len)
{
	char *p = b->p;

	if (p == NULL) {
		if ((p = calloc(1, 1)) == NULL)
			abort();
	}
	if (len != NULL)
		*len = b->len;
	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}

void
strbuf_free(struct strbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}
