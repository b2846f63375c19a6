/*
 * config.h - the configuration file: "keyword value" lines, '#' comments.
 * Owns struct config and everything it points to; config_free() releases it.
 */
#ifndef HIKYAKU_CONFIG_H
#define HIKYAKU_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/tls.h"
#include "lib/log.h"

#define CONFIG_DEFAULT_PATH "/etc/hikyaku/hikyaku.conf"
#define CONFIG_DEFAULT_TRUST_ANCHOR "/usr/share/dns/root.key"	/* Debian's dns-root-data */
#define CONFIG_MAX_LISTEN 16
#define CONFIG_MAX_ROUTES 64
#define CONFIG_MAX_DNSBL 16
#define CONFIG_MAX_RELAY_IPS 8
#define CONFIG_MAX_TLS_POLICIES 256

enum address_pref { ADDR_PREF_ANY, ADDR_PREF_IPV4, ADDR_PREF_IPV6 };

/* route DOMAIN HOST[:PORT]: mail for DOMAIN ("*": all) goes to HOST, no MX lookup. */
struct config_route {
	char domain[256];
	char host[256];		/* a name (A/AAAA looked up) or an IP address */
	unsigned port;
};

/*
 * destination DOMAIN|* [max-connections N] [rate N/PERIOD]: how hard one
 * destination may be pushed. A field left out keeps the default's ("*").
 */
struct config_destination {
	char domain[256];		/* lower case, or "*" */
	uint64_t max_connections;	/* 0: not set on this line */
	uint64_t rate_n;		/* rate_n transactions per rate_period s; 0: not set */
	uint64_t rate_period;
};

#define CONFIG_MAX_DESTINATIONS 256

/* tls-policy DOMAIN LEVEL: what delivery to DOMAIN ("*": any other) requires. */
struct config_tls_policy {
	char domain[256];
	enum tls_level level;
};

enum listen_mode { LISTEN_STARTTLS, LISTEN_TLS };

struct config_listen {
	char name[80];			/* "127.0.0.1:2587" as written */
	enum listen_mode mode;
	struct sockaddr_storage ss;
	socklen_t sslen;
};

struct config {
	int refs;			/* config_ref/config_free; atomic */
	char *path;			/* the file read, or "(built-in default)" */
	bool builtin;			/* the embedded default was used */
	char *hostname;
	struct config_listen listen[CONFIG_MAX_LISTEN];
	size_t nlisten;
	char *tls_cert;			/* NULL: generated under spool/tls */
	char *tls_key;
	char *spool;
	char *user;			/* NULL: do not drop privileges */
	enum log_target log;
	uint64_t max_message_size;
	uint64_t max_recipients;
	uint64_t min_free_space;
	uint64_t max_errors;
	uint64_t max_sessions;
	uint64_t smtp_timeout;
	uint64_t auth_max_failures;
	uint64_t auth_ban_time;
	uint64_t auth_fail_delay;
	uint64_t workers;

	/* delivery */
	char *resolver;			/* "127.0.0.1@53" for libunbound; NULL: resolv.conf */
	struct config_route routes[CONFIG_MAX_ROUTES];
	size_t nroutes;
	enum address_pref address_pref;
	uint64_t max_connections;
	uint64_t max_connections_per_domain;	/* the default destination's max-connections */
	struct config_destination destinations[CONFIG_MAX_DESTINATIONS];
	size_t ndestinations;
	uint64_t max_active_recipients;	/* recipients the scheduler holds in memory */
	uint64_t retry_min;
	uint64_t retry_max;
	uint64_t queue_lifetime;
	uint64_t delay_warning;		/* 0: never warn */
	uint64_t dns_timeout;
	uint64_t smtp_connect_timeout;
	uint64_t smtp_reply_timeout;	/* caps the RFC 5321 per-stage timeouts */
	uint64_t queue_scan_interval;

	/* operations */
	struct config_listen metrics;	/* metrics-listen; sslen 0: off */

	/* the doctor and the readiness gate */
	bool require_ready;		/* refuse mail of domains that are not ready */
	uint64_t doctor_interval;
	char *dnsbl[CONFIG_MAX_DNSBL];	/* zones; none given: the default list */
	size_t ndnsbl;
	bool dnsbl_none;		/* "dnsbl none": no blocklist checks */
	char relay_ip[CONFIG_MAX_RELAY_IPS][48];	/* none given: the addresses of hostname */
	size_t nrelay_ip;

	/* outbound TLS */
	char *tls_ca_file;		/* NULL: the system's trust store */
	char *dnssec_anchor;		/* trust anchor file; NULL: "none", no validation */
	bool dnssec_anchor_default;	/* not configured: a missing file only warns */
	struct config_tls_policy tls_policies[CONFIG_MAX_TLS_POLICIES];
	size_t ntls_policies;
};

/* The blocklists checked when no "dnsbl" line is given. */
extern const char *const config_default_dnsbl[];

/* config_tls_policy_for - the tls-policy line for domain (exact, else "*"), or NULL. */
const struct config_tls_policy *config_tls_policy_for(const struct config *cfg,
    const char *domain);

/* config_route_for - the route for domain (exact, else "*"), or NULL. */
const struct config_route *config_route_for(const struct config *cfg, const char *domain);

/*
 * config_destination_for - the limits for destination domain (exact line,
 * else "*", else the defaults) into out; rate_n 0 means no rate.
 */
void config_destination_for(const struct config *cfg, const char *domain,
    struct config_destination *out);

/* The embedded default configuration used by "make run". */
extern const char config_builtin[];
/*
 * The configuration for an installed system ("default-config --system",
 * the Debian package's /etc/hikyaku/hikyaku.conf): the built-in one with
 * spool /var/lib/hikyaku, user hikyaku, syslog, and no test route.
 */
extern const char config_system[];

/*
 * config_load - read path, or, when path is NULL, CONFIG_DEFAULT_PATH if it
 * exists and the embedded default otherwise. On error writes
 * "FILE:LINE: what was expected" to err and returns NULL. Caller owns result.
 */
struct config *config_load(const char *path, char *err, size_t errsz);

/* config_parse - parse text as if read from name. Same contract as config_load. */
struct config *config_parse(const char *text, size_t len, const char *name,
    char *err, size_t errsz);

/*
 * config_ref - take a reference: whoever keeps a config past the moment it
 * was handed over (a session, a delivery job, a connection) takes one, so
 * that a reload can replace the daemon's config without pulling it from
 * under them. Returns cfg. Safe from any thread.
 */
struct config *config_ref(const struct config *cfg);
/* config_free - drop a reference (config_load's, or config_ref's); the last one frees. */
void config_free(const struct config *cfg);

/* config_db_path - "SPOOL/hikyaku.db" into out. */
void config_db_path(const struct config *cfg, char *out, size_t outsz);

#endif
