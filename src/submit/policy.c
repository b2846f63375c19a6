/*
 * policy.c - grant and trusted-network matching; pure functions.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/addr.h"
#include "submit/policy.h"

bool
policy_grant_valid(const char *pattern)
{
	char buf[ADDR_MAX + 1], probe[ADDR_MAX + 3];
	size_t n = strlen(pattern);

	if (n == 0 || n > ADDR_MAX)
		return false;
	if (pattern[0] != '@')
		return addr_parse_mailbox(pattern, n, ADDR_ALLOW_UTF8, buf, sizeof(buf)) == 0;
	/* A domain grant is valid when "x@domain" is a valid mailbox. */
	snprintf(probe, sizeof(probe), "x%s", pattern);
	return addr_parse_mailbox(probe, n + 1, ADDR_ALLOW_UTF8, buf, sizeof(buf)) == 0;
}

bool
policy_grant_covers(const char *const *patterns, size_t n, const char *addr)
{
	const char *domain = addr_domain(addr);
	size_t i;

	if (domain == NULL)
		return false;
	for (i = 0; i < n; i++) {
		const char *p = patterns[i];

		if (p[0] == '@' && strcasecmp(p + 1, domain) == 0)
			return true;
		if (p[0] != '@' && addr_equal(p, addr))
			return true;
	}
	return false;
}

int
policy_cidr_parse(const char *s, struct policy_cidr *out)
{
	char buf[64], *slash, *end;
	unsigned long prefix;
	unsigned max;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	if ((slash = strchr(buf, '/')) != NULL)
		*slash = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else
		return -1;
	prefix = max;
	if (slash != NULL) {
		if (slash[1] < '0' || slash[1] > '9')
			return -1;
		prefix = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || prefix > max)
			return -1;
	}
	out->prefix = (unsigned)prefix;
	return 0;
}

static bool
prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;
	uint8_t mask;

	if (memcmp(a, b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (uint8_t)(0xff << (8 - rest));
	return (a[full] & mask) == (b[full] & mask);
}

bool
policy_cidr_match(const struct policy_cidr *c, const struct sockaddr *sa)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	const struct sockaddr_in6 *s6;
	const struct sockaddr_in *s4;

	if (sa->sa_family == AF_INET) {
		s4 = (const struct sockaddr_in *)sa;
		return c->family == AF_INET &&
		    prefix_equal((const uint8_t *)&s4->sin_addr, c->addr, c->prefix);
	}
	if (sa->sa_family != AF_INET6)
		return false;
	s6 = (const struct sockaddr_in6 *)sa;
	if (c->family == AF_INET6)
		return prefix_equal(s6->sin6_addr.s6_addr, c->addr, c->prefix);
	return memcmp(s6->sin6_addr.s6_addr, mapped, 12) == 0 &&
	    prefix_equal(s6->sin6_addr.s6_addr + 12, c->addr, c->prefix);
}
