/*
 * dns_wire.c - pure parsing of DNS record data that libunbound hands over in
 * wire format. Names are never unescaped into something that is not a
 * host name: a byte outside printable ASCII makes the record malformed.
 */
#include <stddef.h>
#include <stdint.h>

#include "dns/dns.h"

int
dns_parse_mx(const uint8_t *rdata, size_t len, struct dns_mx *out)
{
	size_t i = 2, o = 0;
	unsigned lab;

	if (len < 3)
		return -1;
	out->pref = (unsigned)rdata[0] << 8 | rdata[1];
	while (i < len && (lab = rdata[i]) != 0) {
		if (lab > 63 || i + 1 + lab > len || o + lab + 2 > sizeof(out->host))
			return -1;	/* also refuses compression pointers */
		if (o > 0)
			out->host[o++] = '.';
		for (size_t j = 0; j < lab; j++) {
			unsigned char c = rdata[i + 1 + j];

			if (c <= 0x20 || c >= 0x7f)
				return -1;	/* not a host name: refuse, do not escape */
			out->host[o++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		}
		i += 1 + lab;
	}
	if (i >= len || i + 1 != len)
		return -1;	/* no root label, or trailing bytes */
	out->host[o] = '\0';
	return 0;
}
