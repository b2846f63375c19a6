/*
 * dns.h - asynchronous DNS on the event loop: MX and address lookups through
 * libunbound, forwarding to the configured resolver (or resolv.conf's).
 *
 * Every query calls its callback exactly once, on the loop thread, with an
 * answer, a failure, or a timeout (dns-timeout). Only dns.c includes
 * unbound.h.
 */
#ifndef HIKYAKU_DNS_H
#define HIKYAKU_DNS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct config;
struct dns;
struct event_base;

enum dns_status {
	DNS_OK,		/* records found */
	DNS_NODATA,	/* the name exists, no records of this type */
	DNS_NXDOMAIN,	/* the name does not exist */
	DNS_TEMPFAIL,	/* SERVFAIL, timeout, DNSSEC failure, malformed answer */
};

#define DNS_MAX_MX 16
#define DNS_MAX_ADDRS 16

struct dns_mx {
	unsigned pref;
	char host[256];		/* "" for the root: a null MX (RFC 7505) */
};

typedef void (*dns_mx_cb)(void *arg, enum dns_status st, const struct dns_mx *mx, size_t n,
    const char *why);
typedef void (*dns_addr_cb)(void *arg, enum dns_status st, const struct sockaddr_storage *addrs,
    size_t n, const char *why);

/* dns_new - a resolver on base; NULL with err on failure. */
struct dns *dns_new(struct event_base *base, const struct config *cfg, char *err, size_t errsz);
void dns_free(struct dns *d);
/*
 * dns_set_config - a reload: dns-timeout and address-preference from cfg for
 * queries started from now on (takes a reference). The resolver itself
 * stays the one dns_new was given: libunbound cannot change it once used.
 */
void dns_set_config(struct dns *d, const struct config *cfg);

/* dns_mx - MX records of domain, sorted by preference, random among equals. */
void dns_mx(struct dns *d, const char *domain, dns_mx_cb cb, void *arg);
/* dns_addrs - A and AAAA of host, ordered by address-preference; port is set in each. */
void dns_addrs(struct dns *d, const char *host, unsigned port, dns_addr_cb cb, void *arg);

/*
 * dns_parse_mx - parse one MX rdata (preference, then a name in uncompressed
 * wire format) into out. Pure; returns 0 or -1 on malformed data.
 */
int dns_parse_mx(const uint8_t *rdata, size_t len, struct dns_mx *out);

#endif
