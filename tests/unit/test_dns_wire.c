/*
 * test_dns_wire.c - TLSA record data from the wire (hostile input); the
 * other record decoders are tested in test_dnsrec.c.
 */
#include <stdint.h>

#include "dns/dns.h"
#include "t.h"

static void
test_tlsa(void)
{
	struct dns_tlsa t;
	uint8_t ok[3 + 32] = { 3, 1, 1 };
	uint8_t big[3 + DNS_TLSA_DATA_MAX + 1] = { 2, 0, 0 };

	for (int i = 0; i < 32; i++)
		ok[3 + i] = (uint8_t)i;
	T_OK(dns_parse_tlsa(ok, sizeof(ok), &t) == 0 && t.usage == 3 && t.selector == 1 &&
	    t.mtype == 1 && t.len == 32 && t.data[31] == 31, "3 1 1 with a SHA-256 digest");
	T_OK(dns_parse_tlsa(ok, 3, &t) == -1, "no association data: malformed");
	T_OK(dns_parse_tlsa(ok, 0, &t) == -1, "empty");
	T_OK(dns_parse_tlsa(big, sizeof(big), &t) == -1, "longer than DNS_TLSA_DATA_MAX: refused");
	T_OK(dns_parse_tlsa(big, sizeof(big) - 1, &t) == 0 && t.len == DNS_TLSA_DATA_MAX,
	    "exactly DNS_TLSA_DATA_MAX: taken");
}

int
main(void)
{
	test_tlsa();
	return t_done();
}
