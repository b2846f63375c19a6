/*
 * fuzz_hdr_from.c - libFuzzer target for hdr_from.c: the input is a header
 * block. On success every address is a valid mailbox that parses to itself,
 * and there are never more fields counted than msghdr sees.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "lib/hdr_from.h"
#include "lib/msghdr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t
count_fields(const char *s, size_t len)
{
	struct msghdr_field f;
	size_t pos = 0, n = 0;

	while (msghdr_next(s, len, &pos, &f))
		n++;
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hdr_from h;
	const char *s = (const char *)data;
	char again[ADDR_MAX + 1];
	size_t i, n;

	if (hdr_from_extract(s, size, &h) != 0)
		return 0;
	if (h.naddrs > HDR_FROM_MAX || h.nfields > count_fields(s, size))
		abort();
	if (h.nfields > 0 && !msghdr_has(s, size, "from"))
		abort();
	for (i = 0; i < h.naddrs; i++) {
		n = strnlen(h.addrs[i], ADDR_MAX + 1);
		if (n == 0 || n > ADDR_MAX)
			abort();
		if (addr_parse_mailbox(h.addrs[i], n, ADDR_ALLOW_UTF8, again,
		    sizeof(again)) != 0 || strcmp(again, h.addrs[i]) != 0)
			abort();
	}
	return 0;
}
