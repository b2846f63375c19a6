/*
 * strbuf.h - a growing, NUL-terminated buffer for composing text: DSNs,
 * TLS reports, JSON. The buffer owns its bytes until strbuf_steal() hands
 * them over; out of memory aborts, as the x* allocators do.
 *
 * No I/O, no globals. A zeroed struct strbuf is an empty buffer.
 */
#ifndef HIKYAKU_STRBUF_H
#define HIKYAKU_STRBUF_H

#include <stddef.h>

struct strbuf {
	char *p;		/* NULL until the first byte, then NUL-terminated */
	size_t len, cap;
};

void strbuf_put(struct strbuf *b, const void *s, size_t n);
void strbuf_puts(struct strbuf *b, const char *s);
/* strbuf_putf - printf into the buffer; any length. */
void strbuf_putf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * strbuf_json - s as a JSON string (RFC 8259), quotes included: well-formed
 * UTF-8 passes, '"', '\' and control characters are escaped, a byte that
 * is not UTF-8 becomes U+FFFD.
 */
void strbuf_json(struct strbuf *b, const char *s);

/* strbuf_steal - the text (never NULL: "" when empty), now the caller's; b is empty again. */
char *strbuf_steal(struct strbuf *b, size_t *len);
void strbuf_free(struct strbuf *b);

#endif
