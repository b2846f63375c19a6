/*
 * policy.h - pure sender-authorization rules: which addresses an account's
 * grants cover, and which client addresses a trusted network covers.
 *
 * No I/O, no globals: the caller loads grants and networks from the store.
 */
#ifndef HIKYAKU_POLICY_H
#define HIKYAKU_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/*
 * policy_grant_valid - whether pattern is a grant we can store: a mailbox
 * "user@example.jp" or a whole domain "@example.jp" (ASCII or UTF-8).
 */
bool policy_grant_valid(const char *pattern);

/*
 * policy_grant_covers - whether one of the n grant patterns covers addr
 * (a mailbox, never ""): "@domain" covers every local part at exactly that
 * domain, "user@domain" that one mailbox. Comparison ignores ASCII case.
 */
bool policy_grant_covers(const char *const *patterns, size_t n, const char *addr);

struct policy_cidr {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t addr[16];
	unsigned prefix;
};

/* policy_cidr_parse - "192.0.2.0/24", "2001:db8::/32" or a single address. */
int policy_cidr_parse(const char *s, struct policy_cidr *out);

/* policy_cidr_match - whether sa (IPv4, IPv6, or IPv4-mapped IPv6) is in c. */
bool policy_cidr_match(const struct policy_cidr *c, const struct sockaddr *sa);

#endif
