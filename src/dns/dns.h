/*
 * dns.h - DNS through libunbound, forwarding to the configured resolver (or
 * resolv.conf's), validating DNSSEC from the dnssec-trust-anchor (answers
 * say whether they are secure; bogus ones are failures). Two interfaces:
 *
 *   asynchronous, on the event loop (delivery): MX, address, TXT and TLSA
 *     lookups;
 *     every query calls its callback exactly once, on the loop thread, with
 *     an answer, a failure, or a timeout (dns-timeout);
 *   blocking, for any other thread (the doctor): struct dns_sync answers
 *     TXT, A, AAAA, MX and PTR queries into a bounded struct dns_answer,
 *     each query with a hard deadline.
 *
 * Only dns.c includes unbound.h. dns_wire.c holds the pure parsers of
 * record data (answers are hostile input: bounded, never unescaped).
 */
#ifndef HIKYAKU_DNS_H
#define HIKYAKU_DNS_H

#include <stdatomic.h>
#include <stdbool.h>
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
#define DNS_MAX_TLSA 8
#define DNS_TLSA_DATA_MAX 2048	/* longer association data: the record is skipped */
#define DNS_MAX_TXT 16
#define DNS_TXT_MAX 4096	/* longer TXT records are skipped */

/* Record types the blocking interface asks for. */
#define DNS_T_A 1
#define DNS_T_PTR 12
#define DNS_T_MX 15
#define DNS_T_TXT 16
#define DNS_T_AAAA 28

#define DNS_ANSWER_MAX 64		/* records kept of one answer */
#define DNS_ANSWER_BUF 32768		/* bytes of record data kept */
#define DNS_NAME_MAX 253		/* a host name in text form, no final dot */

/*
 * One answer of the blocking interface, bounded. Each record is kept
 * decoded: A 4 bytes, AAAA 16 bytes (network order), TXT its strings
 * concatenated (RFC 7208 section 3.3; any bytes), MX and PTR the host name
 * in lower case without the final dot (NUL-terminated; MX keeps the
 * preference). Records that do not parse are dropped; what does not fit
 * sets truncated.
 */
struct dns_rr {
	uint32_t off;		/* into buf */
	uint32_t len;		/* bytes (a name's NUL not counted) */
	unsigned pref;		/* MX only */
};

struct dns_answer {
	int type;
	enum dns_status status;
	size_t n;
	struct dns_rr rr[DNS_ANSWER_MAX];
	size_t used;
	bool truncated;
	char why[300];		/* for status != DNS_OK: what happened, in words */
	char buf[DNS_ANSWER_BUF];
};

/* dns_answer_reset - empty ans for a new answer of type. */
void dns_answer_reset(struct dns_answer *ans, int type);
/*
 * dns_answer_add - decode one record's wire-format data (type as given to
 * dns_answer_reset) and append it. Pure. Returns 0, -1 when the data is
 * malformed (nothing added), 1 when it does not fit (truncated set).
 */
int dns_answer_add(struct dns_answer *ans, const uint8_t *rdata, size_t len);
/* dns_answer_data - record i's bytes and length. */
const char *dns_answer_data(const struct dns_answer *ans, size_t i, size_t *len);

/*
 * dns_parse_name - an uncompressed wire-format name filling rdata[0..len)
 * exactly into out (text, lower case, no final dot; "" for the root). Pure;
 * 0, or -1 when malformed, not a host name (bytes outside printable ASCII)
 * or longer than outsz - 1.
 */
int dns_parse_name(const uint8_t *rdata, size_t len, char *out, size_t outsz);
/*
 * dns_parse_txt - the character-strings of one TXT rdata concatenated into
 * out (capacity outsz, not NUL-terminated; out NULL only measures). Pure;
 * returns the length, or -1 when malformed or longer than outsz.
 */
int dns_parse_txt(const uint8_t *rdata, size_t len, char *out, size_t outsz);

/*
 * dns_reverse_name - "4.3.2.1.in-addr.arpa" or the 32 nibbles of an IPv6
 * address ".ip6.arpa" for family (AF_INET, AF_INET6) and addr into out,
 * under zone (NULL: in-addr.arpa / ip6.arpa; else a DNSBL zone). Pure;
 * 0, or -1 when it does not fit.
 */
int dns_reverse_name(int family, const uint8_t *addr, const char *zone, char *out,
    size_t outsz);

struct dns_mx {
	unsigned pref;
	char host[256];		/* "" for the root: a null MX (RFC 7505) */
	bool secure;		/* the MX RRset validated (DNSSEC) */
};

/* One TLSA record (RFC 6698). */
struct dns_tlsa {
	uint8_t usage, selector, mtype;
	uint16_t len;
	uint8_t data[DNS_TLSA_DATA_MAX];
};

/* What a TLSA lookup for an MX host found (RFC 7672 section 2.2). */
struct dns_tlsa_result {
	bool host_secure;	/* the host's A and AAAA answers validated */
	enum dns_status st;	/* of the TLSA query */
	bool secure;		/* the TLSA answer validated */
	bool bogus;		/* DNSSEC validation of one of the answers failed */
	struct dns_tlsa rr[DNS_MAX_TLSA];
	size_t n;
	char why[300];		/* for failures */
};

typedef void (*dns_mx_cb)(void *arg, enum dns_status st, const struct dns_mx *mx, size_t n,
    const char *why);
typedef void (*dns_addr_cb)(void *arg, enum dns_status st, const struct sockaddr_storage *addrs,
    size_t n, const char *why);

typedef void (*dns_tlsa_cb)(void *arg, const struct dns_tlsa_result *r);
typedef void (*dns_txt_cb)(void *arg, enum dns_status st, const char *const *txt, size_t n,
    const char *why);

/*
 * dns_new - a resolver on base; NULL with err on failure (also for a
 * configured trust anchor that cannot be read; the default one, when
 * missing, only turns validation off with a warning).
 */
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

/* dns_validating - whether answers are DNSSEC-validated (a trust anchor is loaded). */
bool dns_validating(const struct dns *d);

/*
 * dns_tlsa - TLSA records of _PORT._tcp.HOST, and whether they and host's
 * A/AAAA answers are secure. Records that do not parse are skipped.
 */
void dns_tlsa(struct dns *d, const char *host, unsigned port, dns_tlsa_cb cb, void *arg);

/*
 * dns_txt - the TXT records of name, each one's strings joined; records
 * holding a NUL byte or longer than DNS_TXT_MAX are skipped. The strings
 * are valid during the callback.
 */
void dns_txt(struct dns *d, const char *name, dns_txt_cb cb, void *arg);

/*
 * The blocking interface. A struct dns_sync has its own libunbound context
 * (with its own cache) and is used by one thread at a time. Each query
 * waits at most timeout seconds; after two timeouts in a row the server is
 * taken to be unreachable and later queries fail at once (DNS_TEMPFAIL), so
 * that a run of many queries is bounded too.
 */
struct dns_sync;

/* dns_sync_new - a blocking resolver; NULL with err filled. */
struct dns_sync *dns_sync_new(const struct config *cfg, unsigned timeout, char *err,
    size_t errsz);
void dns_sync_free(struct dns_sync *ds);
/*
 * dns_sync_cancel_on - from now on, a nonzero *flag (set by another thread,
 * e.g. at shutdown) makes the query in progress and every later one fail
 * at once (DNS_TEMPFAIL) within 20 ms.
 */
void dns_sync_cancel_on(struct dns_sync *ds, const atomic_int *flag);
/* dns_sync_query - ask for name/type; fills ans (status, records, why); returns its status. */
enum dns_status dns_sync_query(struct dns_sync *ds, const char *name, int type,
    struct dns_answer *ans);

/*
 * dns_parse_mx - parse one MX rdata (preference, then a name in uncompressed
 * wire format) into out. Pure; returns 0 or -1 on malformed data.
 */
int dns_parse_mx(const uint8_t *rdata, size_t len, struct dns_mx *out);

/* dns_parse_tlsa - one TLSA rdata into out. Pure; 0, or -1 when malformed or too long. */
int dns_parse_tlsa(const uint8_t *rdata, size_t len, struct dns_tlsa *out);

#endif
