/*
 * doctor.h - the doctor: what is wrong with a sending domain's DNS, before
 * Gmail says so. For one domain it checks SPF (with hikyaku's own
 * evaluator, for each relay IP, and the smallest change that makes it
 * pass), DKIM (every local key published and equal), DMARC (present,
 * valid, alignment possible), the relay's PTR / FCrDNS / hostname, DNS
 * blocklists, MX, MTA-STS and TLS-RPT records, and fills a struct
 * doctor_report (report.h).
 *
 * It blocks: it asks DNS through a struct dns_sync (every query bounded by
 * a deadline) and reads the store, so it runs in the CLI or on a thread of
 * its own in the daemon, never on the event loop. One struct doctor_env
 * serves one thread.
 */
#ifndef HIKYAKU_DOCTOR_H
#define HIKYAKU_DOCTOR_H

#include <stddef.h>

#include "doctor/report.h"
#include "doctor/spf.h"

#define DOCTOR_DOMAINS_MAX 1024		/* granted domains checked */
#define DOCTOR_DNS_TIMEOUT_MAX 10	/* seconds per query at most */

struct config;
struct dns_sync;
struct store;

struct doctor_env {
	const struct config *cfg;
	struct store *st;		/* the local DKIM keys; NULL: none known */
	struct dns_sync *dns;
	char *psl;			/* the Public Suffix List, or NULL */
	size_t psllen;
	size_t nips;
	struct spf_ip ips[DOCTOR_IPS_MAX];
	char ip[DOCTOR_IPS_MAX][48];
	char ip_problem[600];		/* why there are no relay IPs (translated) */
	bool ip_temp;			/* ... because DNS failed: */
	char ip_why[300];		/* how */
	struct spf_ctx *spf;		/* scratch */
	struct spf_outcome *outcome;	/* scratch */
	struct dns_answer *ans;		/* scratch */
};

/*
 * doctor_env_init - a resolver on cfg's resolver, the Public Suffix List,
 * and the relay IPs: ips[0..nips) when given, else cfg's relay-ip lines,
 * else the addresses of cfg's hostname. -1 with err when the resolver
 * cannot be set up or a given IP is not an address; no relay IP found is
 * not an error (ip_problem says why, and the checks report it).
 */
int doctor_env_init(struct doctor_env *env, const struct config *cfg, struct store *st,
    const char *const *ips, size_t nips, char *err, size_t errsz);
void doctor_env_free(struct doctor_env *env);

/* doctor_run - every check for domain (lower case, no final dot) into r. */
void doctor_run(struct doctor_env *env, const char *domain, struct doctor_report *r);

/*
 * doctor_domains - the domains the grants of st cover (from "@domain" and
 * "user@domain"), lower case, sorted, at most max. Returns their number,
 * or -1 on a store error.
 */
int doctor_domains(struct store *st, char (*out)[DNS_NAME_MAX + 1], size_t max);

#endif
