/*
 * tlspolicy.h - what TLS delivery to a destination requires, decided from
 * the tls-policy lines, MTA-STS (RFC 8461) and DANE (RFC 7672), and the
 * TLS-RPT (RFC 8460) counting of how each session went.
 *
 *   tlspolicy_domain()  once per job, before the MX walk: the domain's
 *                       tls-policy line and MTA-STS policy (the _mta-sts
 *                       TXT record, the cache in the store, an HTTPS fetch
 *                       when the id changed or the cache expired).
 *   tlspolicy_mx()      per MX host, before connecting: DANE (the host's
 *                       TLSA records when its MX and address answers are
 *                       DNSSEC-secure) beats MTA-STS (the mx patterns);
 *                       the result is the connection's requirement, or
 *                       "skip this host" with the reason.
 *   tlspolicy_count()   per session: one success or failure for TLS-RPT.
 *
 * Callbacks always run later on the loop, never inside the call that asked.
 */
#ifndef HIKYAKU_TLSPOLICY_H
#define HIKYAKU_TLSPOLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "base/store.h"
#include "base/tls.h"
#include "dns/dns.h"
#include "lib/reply.h"
#include "tlspolicy/sts.h"

struct config;
struct event_base;
struct tlspolicy;
struct tlspolicy_wait;
struct worker_pool;

#define TLSPOLICY_STRING_MAX 9000	/* an MTA-STS policy as TLS-RPT lines */

/* How tlspolicy writes the store: through the daemon's queue writer. */
typedef enum store_result (*tlspolicy_apply_fn)(struct store *st, void *arg);

struct tlspolicy_env {
	struct event_base *base;
	const struct config *cfg;	/* referenced (config_ref) until replaced or freed */
	struct dns *dns;
	struct store *store;		/* the loop thread's connection: reads only */
	struct worker_pool *fetchers;	/* HTTPS fetches run there */
	/* commit - run apply(st, arg) in a write transaction soon, then free(arg). */
	void (*commit)(void *ctx, tlspolicy_apply_fn apply, void *arg);
	void *commit_ctx;
};

/* A destination domain's policy (tlspolicy_domain). */
struct tlspolicy_dest {
	char domain[256];
	enum tls_level level;		/* its tls-policy line's, else may */
	bool sts;			/* an MTA-STS policy in mode testing or enforce applies */
	struct sts_policy policy;
	char policy_string[TLSPOLICY_STRING_MAX];	/* the policy as LF-separated lines */
};

/* What one MX host requires (tlspolicy_mx); the caller frees it. */
struct tlspolicy_mx {
	bool skip;			/* do not connect to this host; why says so */
	struct reply why;
	enum tls_level level;		/* what the connection must achieve */
	bool sts;			/* level is MTA-STS's (enforce): "sts" in the log */
	struct tls_tlsa tlsa[DNS_MAX_TLSA];	/* usable records (level DANE), data below */
	size_t ntlsa;
	/* for TLS-RPT: */
	char host[256];
	const char *rpt_type;		/* "sts", "tlsa", "no-policy-found", or NULL: not counted */
	char *rpt_string;		/* policy-string lines (malloc'd) */
	char *rpt_mx;			/* mx-host lines (malloc'd) */
	bool mx_mismatch;		/* testing mode: the host is not in the policy */
	bool tlsa_unusable;		/* TLSA records exist, none usable */
	struct dns_tlsa_result *dns;	/* owns the TLSA data */
};

/* How a session's TLS went, for tlspolicy_count. */
struct tlspolicy_session {
	bool offered;			/* STARTTLS announced */
	bool attempted;			/* STARTTLS sent */
	bool established;		/* handshake completed */
	enum tls_check check;		/* the certificate's verdict, if established */
	const char *why;		/* the handshake error or the verdict in words */
	const char *ip;			/* the MX's address */
	const char *sending_ip;		/* ours */
};

typedef void (*tlspolicy_dest_cb)(void *arg, const struct tlspolicy_dest *d);
typedef void (*tlspolicy_mx_cb)(void *arg, struct tlspolicy_mx *m);

/* tlspolicy_new - env is copied; what it points to is borrowed until tlspolicy_free. */
struct tlspolicy *tlspolicy_new(const struct tlspolicy_env *env);
/* tlspolicy_set_config - a reload: lookups from now on use cfg's tls-policy lines. */
void tlspolicy_set_config(struct tlspolicy *tp, const struct config *cfg);
/* tlspolicy_stop - at shutdown: no more callbacks, counts or cache writes. */
void tlspolicy_stop(struct tlspolicy *tp);
/* tlspolicy_free - after the fetchers' pool has been joined; pending waits are dropped. */
void tlspolicy_free(struct tlspolicy *tp);

/*
 * tlspolicy_domain - find domain's policy, then cb(arg, dest) (dest valid
 * during the call). Returns a handle for tlspolicy_cancel.
 */
struct tlspolicy_wait *tlspolicy_domain(struct tlspolicy *tp, const char *domain,
    tlspolicy_dest_cb cb, void *arg);

/*
 * tlspolicy_mx - what connecting to host (an MX of d; mx_secure: its MX
 * RRset, or for an implicit MX the domain, validated) requires, then
 * cb(arg, m). Returns a handle for tlspolicy_cancel.
 */
struct tlspolicy_wait *tlspolicy_mx(struct tlspolicy *tp, const struct tlspolicy_dest *d,
    const char *host, bool mx_secure, tlspolicy_mx_cb cb, void *arg);

/*
 * tlspolicy_dest_static - d for domain from its tls-policy line alone, for a
 * destination that a route line or an address literal names: neither
 * MTA-STS nor DANE applies to a next hop that is not the domain's MX.
 */
void tlspolicy_dest_static(const struct config *cfg, const char *domain,
    struct tlspolicy_dest *d);

/* tlspolicy_cancel - the caller goes away: its callback will not run. */
void tlspolicy_cancel(struct tlspolicy_wait *w);

/* tlspolicy_mx_free - free m (NULL is fine). */
void tlspolicy_mx_free(struct tlspolicy_mx *m);

/*
 * tlspolicy_result - the TLS-RPT result type of a session to m's host: "success",
 * an RFC 8460 failure type, or NULL when it is not counted (no TLS wanted).
 * Hosts skipped for their policy are counted by tlspolicy_mx itself.
 */
const char *tlspolicy_result(const struct tlspolicy_mx *m, const struct tlspolicy_session *s);

/* tlspolicy_count - count the session for d's TLS-RPT report. */
void tlspolicy_count(struct tlspolicy *tp, const struct tlspolicy_dest *d,
    const struct tlspolicy_mx *m, const struct tlspolicy_session *s);

/* tlspolicy_day - "YYYY-MM-DD" (UTC) of t, the TLS-RPT day. */
void tlspolicy_day(int64_t t, char out[11]);

#endif
