/*
 * dns_wire.c - pure parsing of DNS record data that libunbound hands over in
 * wire format, and the bounded answer the blocking interface fills. Names
 * are never unescaped into something that is not a host name: a byte
 * outside printable ASCII makes the record malformed.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "dns/dns.h"

int
dns_parse_name(const uint8_t *rdata, size_t len, char *out, size_t outsz)
{
	size_t i = 0, o = 0;
	unsigned lab;

	if (outsz == 0)
		return -1;
	while (i < len && (lab = rdata[i]) != 0) {
		if (lab > 63 || i + 1 + lab > len || o + lab + 2 > outsz)
			return -1;	/* also refuses compression pointers */
		if (o > 0)
			out[o++] = '.';
		for (size_t j = 0; j < lab; j++) {
			unsigned char c = rdata[i + 1 + j];

			if (c <= 0x20 || c >= 0x7f)
				return -1;	/* not a host name: refuse, do not escape */
			out[o++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		}
		i += 1 + lab;
	}
	if (i >= len || i + 1 != len)
		return -1;	/* no root label, or trailing bytes */
	out[o] = '\0';
	return 0;
}

int
dns_parse_mx(const uint8_t *rdata, size_t len, struct dns_mx *out)
{
	if (len < 3)
		return -1;
	out->pref = (unsigned)rdata[0] << 8 | rdata[1];
	return dns_parse_name(rdata + 2, len - 2, out->host, sizeof(out->host));
}

int
dns_parse_txt(const uint8_t *rdata, size_t len, char *out, size_t outsz)
{
	size_t i = 0, o = 0, n;

	if (len == 0)
		return -1;	/* a TXT rdata holds at least one string */
	while (i < len) {
		n = rdata[i++];
		if (i + n > len || o + n > outsz)
			return -1;
		if (out != NULL)
			memcpy(out + o, rdata + i, n);
		o += n;
		i += n;
	}
	return (int)o;
}

void
dns_answer_reset(struct dns_answer *ans, int type)
{
	ans->type = type;
	ans->status = DNS_OK;
	ans->n = 0;
	ans->used = 0;
	ans->truncated = false;
	ans->why[0] = '\0';
}

/* decode - rdata of ans->type into dst (room bytes); its length, -1 malformed, -2 no room. */
static int
decode(const struct dns_answer *ans, const uint8_t *rdata, size_t len, char *dst, size_t room,
    unsigned *pref)
{
	int n;

	switch (ans->type) {
	case DNS_T_A:
	case DNS_T_AAAA:
		if (len != (ans->type == DNS_T_A ? 4u : 16u))
			return -1;
		if (len > room)
			return -2;
		memcpy(dst, rdata, len);
		return (int)len;
	case DNS_T_TXT:
		if ((n = dns_parse_txt(rdata, len, NULL, len)) < 0)
			return -1;
		if ((size_t)n > room)
			return -2;
		return dns_parse_txt(rdata, len, dst, room);
	case DNS_T_MX:
		if (len < 3)
			return -1;
		*pref = (unsigned)rdata[0] << 8 | rdata[1];
		rdata += 2;
		len -= 2;
		/* FALLTHROUGH */
	case DNS_T_PTR: {
		char name[DNS_NAME_MAX + 2];

		if (dns_parse_name(rdata, len, name, sizeof(name)) == -1)
			return -1;
		n = (int)strlen(name);
		if ((size_t)n + 1 > room)
			return -2;
		memcpy(dst, name, (size_t)n + 1);
		return n;
	}
	default:
		return -1;
	}
}

int
dns_answer_add(struct dns_answer *ans, const uint8_t *rdata, size_t len)
{
	unsigned pref = 0;
	int n;

	if (ans->n == DNS_ANSWER_MAX) {
		ans->truncated = true;
		return 1;
	}
	n = decode(ans, rdata, len, ans->buf + ans->used, sizeof(ans->buf) - ans->used, &pref);
	if (n == -1)
		return -1;
	if (n == -2) {
		ans->truncated = true;
		return 1;
	}
	ans->rr[ans->n].off = (uint32_t)ans->used;
	ans->rr[ans->n].len = (uint32_t)n;
	ans->rr[ans->n].pref = pref;
	ans->n++;
	ans->used += (size_t)n + (ans->type == DNS_T_MX || ans->type == DNS_T_PTR);
	return 0;
}

const char *
dns_answer_data(const struct dns_answer *ans, size_t i, size_t *len)
{
	*len = ans->rr[i].len;
	return ans->buf + ans->rr[i].off;
}

int
dns_reverse_name(int family, const uint8_t *addr, const char *zone, char *out, size_t outsz)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	int i, n;

	if (family == AF_INET) {
		n = snprintf(out, outsz, "%u.%u.%u.%u.%s", addr[3], addr[2], addr[1], addr[0],
		    zone ? zone : "in-addr.arpa");
		return n < 0 || (size_t)n >= outsz ? -1 : 0;
	}
	if (family != AF_INET6 || outsz < 65)
		return -1;
	for (i = 15; i >= 0; i--) {
		out[o++] = hex[addr[i] & 0xf];
		out[o++] = '.';
		out[o++] = hex[addr[i] >> 4];
		out[o++] = '.';
	}
	n = snprintf(out + o, outsz - o, "%s", zone ? zone : "ip6.arpa");
	return n < 0 || (size_t)n >= outsz - o ? -1 : 0;
}

int
dns_parse_tlsa(const uint8_t *rdata, size_t len, struct dns_tlsa *out)
{
	if (len < 4 || len - 3 > sizeof(out->data))
		return -1;	/* RFC 6698: at least one byte of association data */
	out->usage = rdata[0];
	out->selector = rdata[1];
	out->mtype = rdata[2];
	out->len = (uint16_t)(len - 3);
	memcpy(out->data, rdata + 3, len - 3);
	return 0;
}
