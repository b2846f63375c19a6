/*
 * fuzz_msghdr.c - libFuzzer target for msghdr.c: the input is a message.
 * Checks: the header block is a prefix ending at a CRLF (or at the end), the
 * fields msghdr_next() returns lie inside it in order, their names hold no
 * colon, and msghdr_value() finds the first of each name.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/msghdr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_field(const char *s, size_t len, const struct msghdr_field *f)
{
	char name[64];
	const char *v;
	size_t vl;

	if (f->name < s || f->value < f->name + f->namelen ||
	    f->value + f->valuelen > s + len || f->namelen == 0 ||
	    memchr(f->name, ':', f->namelen) != NULL)
		abort();
	if (f->namelen >= sizeof(name) || memchr(f->name, '\0', f->namelen))
		return;
	memcpy(name, f->name, f->namelen);
	name[f->namelen] = '\0';
	if (!msghdr_value(s, len, name, &v, &vl) || v > f->value)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct msghdr_field f;
	size_t end = msghdr_end(s, size), pos = 0, last = 0;

	if (end > size)
		abort();
	if (end > 0 && end < size && (end < 2 || s[end - 2] != '\r' ||
	    s[end - 1] != '\n'))
		abort();
	while (msghdr_next(s, end, &pos, &f)) {
		if (pos <= last || pos > end)
			abort();
		last = pos;
		check_field(s, end, &f);
	}
	return 0;
}
