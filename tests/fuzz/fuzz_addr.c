/*
 * fuzz_addr.c - libFuzzer target for addr.c. Besides not crashing: a parsed
 * mailbox has the input's length, parses again to itself (normalisation is
 * idempotent), is accepted with ADDR_ALLOW_UTF8 whenever it is without, and
 * is ASCII when UTF-8 was not allowed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "lib/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const char *s, size_t len, unsigned flags)
{
	char out[ADDR_MAX + 1], again[ADDR_MAX + 1];

	if (addr_parse_mailbox(s, len, flags, out, sizeof(out)) != 0)
		return;
	if (strlen(out) != len || addr_domain(out) == NULL)
		abort();
	if (addr_parse_mailbox(out, len, flags, again, sizeof(again)) != 0 ||
	    strcmp(out, again) != 0 || !addr_equal(out, again))
		abort();
	if (!(flags & ADDR_ALLOW_UTF8) && !addr_is_ascii(out, len))
		abort();
	if (!utf8_valid(out, len))
		abort();
	if (!(flags & ADDR_ALLOW_UTF8) &&
	    addr_parse_mailbox(s, len, ADDR_ALLOW_UTF8, again, sizeof(again)) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	char small[4];

	check(s, size, 0);
	check(s, size, ADDR_ALLOW_UTF8);
	(void)addr_parse_mailbox(s, size, ADDR_ALLOW_UTF8, small, sizeof(small));
	(void)addr_valid_domain(s, size, 0);
	(void)addr_valid_domain(s, size, ADDR_ALLOW_UTF8);
	(void)utf8_valid(s, size);
	(void)addr_is_ascii(s, size);
	return 0;
}
