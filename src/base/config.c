/*
 * config.c - parse the configuration file into struct config.
 *
 * Every keyword has one parse function; errors name the file and line and
 * say what was expected. Listen addresses must be numeric: the config never
 * causes a DNS lookup.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/config.h"
#include "lib/util.h"
#include "lib/i18n.h"

#define CONFIG_LINE_MAX 4096
#define CONFIG_FILE_MAX (1024 * 1024)

const char config_builtin[] =
    "# hikyaku built-in default configuration, used when no -c FILE is given\n"
    "# and " CONFIG_DEFAULT_PATH " does not exist. For trying hikyaku out:\n"
    "# loopback only, high ports, a self-signed certificate made on first start,\n"
    "# and every outgoing message handed to a local test sink on 127.0.0.1:2525\n"
    "# instead of the recipients' MX: nothing leaves this machine. Until\n"
    "# something listens there, mail waits in the queue.\n"
    "hostname localhost\n"
    "listen 127.0.0.1:2587 starttls\n"
    "listen 127.0.0.1:2465 tls\n"
    "spool ./var\n"
    "route * 127.0.0.1:2525\n"
    "max-message-size 25M\n"
    "log stderr\n";

const char config_system[] =
    "# /etc/hikyaku/hikyaku.conf - hikyaku, an outbound mail relay; see hikyaku.conf(5).\n"
    "# After an edit: hikyaku check-config && systemctl reload hikyaku\n"
    "\n"
    "# The name in the greeting, EHLO and Received: (default: this machine's name).\n"
    "#hostname relay.example.net\n"
    "\n"
    "# Submission ports: loopback only until you open them.\n"
    "listen 127.0.0.1:587 starttls\n"
    "listen 127.0.0.1:465 tls\n"
    "#listen 0.0.0.0:587 starttls\n"
    "#listen 0.0.0.0:465 tls\n"
    "#listen [::]:587 starttls\n"
    "#listen [::]:465 tls\n"
    "\n"
    "# A real certificate (e.g. Let's Encrypt's); without one a self-signed pair is\n"
    "# made in the spool. A reload picks up a renewed one.\n"
    "#tls-cert /etc/letsencrypt/live/relay.example.net/fullchain.pem\n"
    "#tls-key /etc/letsencrypt/live/relay.example.net/privkey.pem\n"
    "\n"
    "spool /var/lib/hikyaku\n"
    "user hikyaku\n"
    "log syslog\n"
    "max-message-size 25M\n"
    "\n"
    "# Prometheus metrics (off unless set; no authentication: keep it private).\n"
    "#metrics-listen 127.0.0.1:9154\n";

struct parser {
	struct config *cfg;
	const char *name;
	size_t lineno;
	char *err;
	size_t errsz;
};

static int perr(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
perr(struct parser *p, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errsz, "%s:%zu: %s", p->name, p->lineno, msg);
	return -1;
}

static int
set_string(struct parser *p, char **dst, const char *v)
{
	free(*dst);
	*dst = xstrdup(v);
	return 0;
}

static int
set_size(struct parser *p, uint64_t *dst, const char *v)
{
	if (util_parse_size(v, dst) == -1)
		return perr(p, _("expected a size in bytes (suffix k, M or G allowed), got \"%s\""), v);
	return 0;
}

static int
set_duration(struct parser *p, uint64_t *dst, const char *v)
{
	if (util_parse_duration(v, dst) == -1)
		return perr(p, _("expected a duration (seconds, or suffix s, m, h, d), got \"%s\""), v);
	return 0;
}

static int
set_count(struct parser *p, uint64_t *dst, const char *v)
{
	if (util_parse_uint(v, 1, 1000000, dst) == -1)
		return perr(p, _("expected a whole number from 1 to 1000000, got \"%s\""), v);
	return 0;
}

static bool
valid_hostname(const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n > 253)
		return false;
	for (; *v; v++)
		if (!isalnum((unsigned char)*v) && *v != '-' && *v != '.')
			return false;
	return true;
}

static int
parse_hostport(struct parser *p, const char *v, struct config_listen *l)
{
	char host[64], port[8];
	const char *colon;
	struct addrinfo hints, *res;
	size_t hlen;

	if (*v == '[') {
		const char *rb = strchr(v, ']');

		if (rb == NULL || rb[1] != ':')
			return perr(p, _("expected [IPv6]:PORT, got \"%s\""), v);
		hlen = (size_t)(rb - v - 1);
		v++;
		colon = rb + 1;
	} else {
		colon = strrchr(v, ':');
		if (colon == NULL)
			return perr(p, _("expected ADDRESS:PORT, got \"%s\""), v);
		hlen = (size_t)(colon - v);
	}
	if (hlen == 0 || hlen >= sizeof(host) || strlen(colon + 1) >= sizeof(port) ||
	    colon[1] == '\0')
		return perr(p, _("expected ADDRESS:PORT, got \"%s\""), v);
	memcpy(host, v, hlen);
	host[hlen] = '\0';
	strcpy(port, colon + 1);
	if (util_parse_uint(port, 1, 65535, &(uint64_t){ 0 }) == -1)
		return perr(p, _("expected a port from 1 to 65535, got \"%s\""), port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return perr(p, _("expected a numeric IP address and port, got \"%s\""), v);
	memcpy(&l->ss, res->ai_addr, res->ai_addrlen);
	l->sslen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static int
kw_listen(struct parser *p, const char *v)
{
	struct config *cfg = p->cfg;
	struct config_listen *l;
	char addr[80], mode[16];

	if (cfg->nlisten == CONFIG_MAX_LISTEN)
		return perr(p, _("too many listen lines (at most %d)"), CONFIG_MAX_LISTEN);
	if (sscanf(v, "%79s %15s", addr, mode) != 2)
		return perr(p, _("expected \"listen ADDRESS:PORT starttls|tls\", got \"%s\""), v);
	l = &cfg->listen[cfg->nlisten];
	if (strcmp(mode, "starttls") == 0)
		l->mode = LISTEN_STARTTLS;
	else if (strcmp(mode, "tls") == 0)
		l->mode = LISTEN_TLS;
	else
		return perr(p, _("expected starttls or tls after the address, got \"%s\""), mode);
	if (parse_hostport(p, addr, l) == -1)
		return -1;
	util_strlcpy(l->name, addr, sizeof(l->name));
	cfg->nlisten++;
	return 0;
}

static int
kw_hostname(struct parser *p, const char *v)
{
	if (!valid_hostname(v))
		return perr(p, _("expected a host name (letters, digits, '-', '.'), got \"%s\""), v);
	return set_string(p, &p->cfg->hostname, v);
}

static int
kw_log(struct parser *p, const char *v)
{
	if (strcmp(v, "stderr") == 0)
		p->cfg->log = LOG_TARGET_STDERR;
	else if (strcmp(v, "syslog") == 0)
		p->cfg->log = LOG_TARGET_SYSLOG;
	else
		return perr(p, _("expected stderr or syslog, got \"%s\""), v);
	return 0;
}

static int kw_tls_cert(struct parser *p, const char *v) { return set_string(p, &p->cfg->tls_cert, v); }
static int kw_tls_key(struct parser *p, const char *v) { return set_string(p, &p->cfg->tls_key, v); }
static int kw_spool(struct parser *p, const char *v) { return set_string(p, &p->cfg->spool, v); }
static int kw_user(struct parser *p, const char *v) { return set_string(p, &p->cfg->user, v); }
static int kw_max_message_size(struct parser *p, const char *v) { return set_size(p, &p->cfg->max_message_size, v); }
static int kw_min_free_space(struct parser *p, const char *v) { return set_size(p, &p->cfg->min_free_space, v); }
static int kw_max_recipients(struct parser *p, const char *v) { return set_count(p, &p->cfg->max_recipients, v); }
static int kw_max_errors(struct parser *p, const char *v) { return set_count(p, &p->cfg->max_errors, v); }
static int kw_max_sessions(struct parser *p, const char *v) { return set_count(p, &p->cfg->max_sessions, v); }
static int kw_workers(struct parser *p, const char *v) { return set_count(p, &p->cfg->workers, v); }
static int kw_auth_max_failures(struct parser *p, const char *v) { return set_count(p, &p->cfg->auth_max_failures, v); }
static int kw_smtp_timeout(struct parser *p, const char *v) { return set_duration(p, &p->cfg->smtp_timeout, v); }
static int kw_auth_ban_time(struct parser *p, const char *v) { return set_duration(p, &p->cfg->auth_ban_time, v); }
static int kw_auth_fail_delay(struct parser *p, const char *v) { return set_duration(p, &p->cfg->auth_fail_delay, v); }

/* split_hostport - "host", "host:port", "[v6]:port", "[v6]" into parts. */
static int
split_hostport(const char *v, char *host, size_t hostsz, unsigned *port, unsigned dflt)
{
	const char *end, *colon;
	uint64_t p;
	size_t n;

	*port = dflt;
	if (*v == '[') {
		if ((end = strchr(v, ']')) == NULL)
			return -1;
		n = (size_t)(end - v - 1);
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] != '\0' && colon == NULL)
			return -1;
		v++;
	} else {
		colon = strrchr(v, ':');
		if (colon != NULL && strchr(v, ':') != colon)
			colon = NULL;	/* a bare IPv6 address */
		n = colon ? (size_t)(colon - v) : strlen(v);
	}
	if (n == 0 || n >= hostsz)
		return -1;
	memcpy(host, v, n);
	host[n] = '\0';
	if (colon != NULL) {
		if (util_parse_uint(colon + 1, 1, 65535, &p) == -1)
			return -1;
		*port = (unsigned)p;
	}
	return 0;
}

static int
kw_resolver(struct parser *p, const char *v)
{
	char host[64], buf[80];
	unsigned port;
	struct addrinfo hints, *res;

	if (split_hostport(v, host, sizeof(host), &port, 53) == -1)
		return perr(p, _("expected ADDRESS or ADDRESS:PORT of a DNS server, got \"%s\""), v);
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST;
	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return perr(p, _("expected a numeric IP address for the resolver, got \"%s\""), host);
	freeaddrinfo(res);
	snprintf(buf, sizeof(buf), "%s@%u", host, port);
	return set_string(p, &p->cfg->resolver, buf);
}

static int
kw_route(struct parser *p, const char *v)
{
	struct config_route *r;
	char domain[256], target[300];

	if (p->cfg->nroutes == CONFIG_MAX_ROUTES)
		return perr(p, _("too many route lines (at most %d)"), CONFIG_MAX_ROUTES);
	if (sscanf(v, "%255s %299s", domain, target) != 2)
		return perr(p, _("expected \"route DOMAIN|* HOST[:PORT]\", got \"%s\""), v);
	r = &p->cfg->routes[p->cfg->nroutes];
	if (strcmp(domain, "*") != 0 && !valid_hostname(domain))
		return perr(p, _("expected a domain or * after route, got \"%s\""), domain);
	if (split_hostport(target, r->host, sizeof(r->host), &r->port, 25) == -1)
		return perr(p, _("expected HOST or HOST:PORT, got \"%s\""), target);
	for (char *c = domain; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	util_strlcpy(r->domain, domain, sizeof(r->domain));
	p->cfg->nroutes++;
	return 0;
}

static int
kw_tls_policy(struct parser *p, const char *v)
{
	struct config_tls_policy *t;
	char domain[256], level[16];

	if (p->cfg->ntls_policies == CONFIG_MAX_TLS_POLICIES)
		return perr(p, _("too many tls-policy lines (at most %d)"), CONFIG_MAX_TLS_POLICIES);
	t = &p->cfg->tls_policies[p->cfg->ntls_policies];
	if (sscanf(v, "%255s %15s", domain, level) != 2 || tls_level_parse(level, &t->level) == -1)
		return perr(p, _("expected \"tls-policy DOMAIN|* none|may|encrypt|verify|dane\","
		    " got \"%s\""), v);
	if (strcmp(domain, "*") != 0 && !valid_hostname(domain))
		return perr(p, _("expected a domain or * after tls-policy, got \"%s\""), domain);
	for (char *c = domain; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	util_strlcpy(t->domain, domain, sizeof(t->domain));
	p->cfg->ntls_policies++;
	return 0;
}

static int
kw_dnssec_trust_anchor(struct parser *p, const char *v)
{
	free(p->cfg->dnssec_anchor);
	p->cfg->dnssec_anchor = strcmp(v, "none") == 0 ? NULL : xstrdup(v);
	p->cfg->dnssec_anchor_default = false;
	return 0;
}

static int
kw_address_preference(struct parser *p, const char *v)
{
	if (strcmp(v, "any") == 0)
		p->cfg->address_pref = ADDR_PREF_ANY;
	else if (strcmp(v, "ipv4") == 0)
		p->cfg->address_pref = ADDR_PREF_IPV4;
	else if (strcmp(v, "ipv6") == 0)
		p->cfg->address_pref = ADDR_PREF_IPV6;
	else
		return perr(p, _("expected ipv4, ipv6 or any, got \"%s\""), v);
	return 0;
}

static int
kw_retry_backoff(struct parser *p, const char *v)
{
	char a[32], b[32];

	if (sscanf(v, "%31s %31s", a, b) != 2 || util_parse_duration(a, &p->cfg->retry_min) == -1 ||
	    util_parse_duration(b, &p->cfg->retry_max) == -1 || p->cfg->retry_min == 0 ||
	    p->cfg->retry_max < p->cfg->retry_min)
		return perr(p, _("expected \"retry-backoff MIN MAX\" durations with 0 < MIN <= MAX,"
		    " got \"%s\""), v);
	return 0;
}

/* kw_destination - "DOMAIN|* [max-connections N] [rate N/PERIOD]". */
static int
kw_destination(struct parser *p, const char *v)
{
	struct config_destination d = { 0 };
	char buf[CONFIG_LINE_MAX], *save = NULL, *w, *arg;
	bool any = false;

	util_strlcpy(buf, v, sizeof(buf));
	w = strtok_r(buf, " \t", &save);
	if (w == NULL || (strcmp(w, "*") != 0 && !valid_hostname(w)))
		return perr(p, _("expected \"destination DOMAIN|* [max-connections N] [rate N/PERIOD]\","
		    " got \"%s\""), v);
	for (char *c = w; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	util_strlcpy(d.domain, w, sizeof(d.domain));
	while ((w = strtok_r(NULL, " \t", &save)) != NULL) {
		if ((arg = strtok_r(NULL, " \t", &save)) == NULL)
			return perr(p, _("destination %s: \"%s\" needs a value"), d.domain, w);
		if (strcmp(w, "max-connections") == 0) {
			if (util_parse_uint(arg, 1, 1000, &d.max_connections) == -1)
				return perr(p, _("destination %s: expected max-connections from 1 to 1000,"
				    " got \"%s\""), d.domain, arg);
		} else if (strcmp(w, "rate") == 0) {
			if (util_parse_rate(arg, &d.rate_n, &d.rate_period) == -1)
				return perr(p, _("destination %s: expected a rate such as 300/1m or 1000/h,"
				    " got \"%s\""), d.domain, arg);
		} else
			return perr(p, _("destination %s: expected max-connections or rate, got \"%s\""),
			    d.domain, w);
		any = true;
	}
	if (!any)
		return perr(p, _("destination %s: say max-connections N, rate N/PERIOD or both"),
		    d.domain);
	for (size_t i = 0; i < p->cfg->ndestinations; i++)
		if (strcmp(p->cfg->destinations[i].domain, d.domain) == 0)
			return perr(p, _("destination %s is already configured"), d.domain);
	if (p->cfg->ndestinations == CONFIG_MAX_DESTINATIONS)
		return perr(p, _("too many destination lines (at most %d)"), CONFIG_MAX_DESTINATIONS);
	p->cfg->destinations[p->cfg->ndestinations++] = d;
	return 0;
}

static int
kw_max_active_recipients(struct parser *p, const char *v)
{
	if (util_parse_uint(v, 100, 10000000, &p->cfg->max_active_recipients) == -1)
		return perr(p, _("expected a number from 100 to 10000000, got \"%s\""), v);
	return 0;
}

static int kw_max_connections(struct parser *p, const char *v) { return set_count(p, &p->cfg->max_connections, v); }
static int kw_max_connections_per_domain(struct parser *p, const char *v) { return set_count(p, &p->cfg->max_connections_per_domain, v); }
static int kw_queue_lifetime(struct parser *p, const char *v) { return set_duration(p, &p->cfg->queue_lifetime, v); }
static int kw_delay_warning(struct parser *p, const char *v) { return set_duration(p, &p->cfg->delay_warning, v); }
static int kw_dns_timeout(struct parser *p, const char *v) { return set_duration(p, &p->cfg->dns_timeout, v); }
static int kw_smtp_connect_timeout(struct parser *p, const char *v) { return set_duration(p, &p->cfg->smtp_connect_timeout, v); }
static int kw_smtp_reply_timeout(struct parser *p, const char *v) { return set_duration(p, &p->cfg->smtp_reply_timeout, v); }
static int kw_queue_scan_interval(struct parser *p, const char *v) { return set_duration(p, &p->cfg->queue_scan_interval, v); }
static int kw_tls_ca_file(struct parser *p, const char *v) { return set_string(p, &p->cfg->tls_ca_file, v); }

static int
kw_metrics_listen(struct parser *p, const char *v)
{
	struct config_listen *l = &p->cfg->metrics;

	if (strchr(v, ' ') != NULL || strchr(v, '\t') != NULL)
		return perr(p, "expected \"metrics-listen ADDRESS:PORT\", got \"%s\"", v);
	if (parse_hostport(p, v, l) == -1)
		return -1;
	util_strlcpy(l->name, v, sizeof(l->name));
	return 0;
}

const char *const config_default_dnsbl[] = {
	"zen.spamhaus.org",
	"b.barracudacentral.org",
	"bl.spamcop.net",
	NULL,
};

static int
kw_require_ready(struct parser *p, const char *v)
{
	if (strcmp(v, "yes") == 0)
		p->cfg->require_ready = true;
	else if (strcmp(v, "no") == 0)
		p->cfg->require_ready = false;
	else
		return perr(p, _("expected yes or no, got \"%s\""), v);
	return 0;
}

static int
kw_doctor_interval(struct parser *p, const char *v)
{
	if (set_duration(p, &p->cfg->doctor_interval, v) == -1)
		return -1;
	if (p->cfg->doctor_interval < 60)
		return perr(p, _("expected a doctor-interval of at least 60 seconds, got \"%s\""), v);
	return 0;
}

static int
kw_dnsbl(struct parser *p, const char *v)
{
	if (strcmp(v, "none") == 0) {
		p->cfg->dnsbl_none = true;
		return 0;
	}
	if (p->cfg->ndnsbl == CONFIG_MAX_DNSBL)
		return perr(p, _("too many dnsbl lines (at most %d)"), CONFIG_MAX_DNSBL);
	if (!valid_hostname(v) || strchr(v, '.') == NULL)
		return perr(p, _("expected the DNS zone of a blocklist (such as"
		    " zen.spamhaus.org) or none, got \"%s\""), v);
	p->cfg->dnsbl[p->cfg->ndnsbl++] = xstrdup(v);
	return 0;
}

static int
kw_relay_ip(struct parser *p, const char *v)
{
	unsigned char buf[16];

	if (p->cfg->nrelay_ip == CONFIG_MAX_RELAY_IPS)
		return perr(p, _("too many relay-ip lines (at most %d)"), CONFIG_MAX_RELAY_IPS);
	if (strlen(v) >= sizeof(p->cfg->relay_ip[0]) || (inet_pton(AF_INET, v, buf) != 1 &&
	    inet_pton(AF_INET6, v, buf) != 1))
		return perr(p, _("expected a numeric IPv4 or IPv6 address, got \"%s\""), v);
	util_strlcpy(p->cfg->relay_ip[p->cfg->nrelay_ip++], v, sizeof(p->cfg->relay_ip[0]));
	return 0;
}

static const struct keyword {
	const char *name;
	int (*parse)(struct parser *, const char *);
} keywords[] = {
	{ "hostname", kw_hostname },
	{ "listen", kw_listen },
	{ "tls-cert", kw_tls_cert },
	{ "tls-key", kw_tls_key },
	{ "spool", kw_spool },
	{ "user", kw_user },
	{ "log", kw_log },
	{ "max-message-size", kw_max_message_size },
	{ "max-recipients", kw_max_recipients },
	{ "min-free-space", kw_min_free_space },
	{ "max-errors", kw_max_errors },
	{ "max-sessions", kw_max_sessions },
	{ "workers", kw_workers },
	{ "smtp-timeout", kw_smtp_timeout },
	{ "auth-max-failures", kw_auth_max_failures },
	{ "auth-ban-time", kw_auth_ban_time },
	{ "auth-fail-delay", kw_auth_fail_delay },
	{ "resolver", kw_resolver },
	{ "route", kw_route },
	{ "address-preference", kw_address_preference },
	{ "max-connections", kw_max_connections },
	{ "max-connections-per-domain", kw_max_connections_per_domain },
	{ "destination", kw_destination },
	{ "max-active-recipients", kw_max_active_recipients },
	{ "retry-backoff", kw_retry_backoff },
	{ "queue-lifetime", kw_queue_lifetime },
	{ "delay-warning", kw_delay_warning },
	{ "dns-timeout", kw_dns_timeout },
	{ "smtp-connect-timeout", kw_smtp_connect_timeout },
	{ "smtp-reply-timeout", kw_smtp_reply_timeout },
	{ "queue-scan-interval", kw_queue_scan_interval },
	{ "metrics-listen", kw_metrics_listen },
	{ "require-ready", kw_require_ready },
	{ "doctor-interval", kw_doctor_interval },
	{ "dnsbl", kw_dnsbl },
	{ "relay-ip", kw_relay_ip },
	{ "tls-ca-file", kw_tls_ca_file },
	{ "tls-policy", kw_tls_policy },
	{ "dnssec-trust-anchor", kw_dnssec_trust_anchor },
};

static void
config_defaults(struct config *cfg)
{
	char host[256];

	if (gethostname(host, sizeof(host)) == -1 || !valid_hostname(host))
		strcpy(host, "localhost");
	cfg->hostname = xstrdup(host);
	cfg->spool = xstrdup("/var/lib/hikyaku");
	cfg->log = LOG_TARGET_STDERR;
	cfg->max_message_size = 25 * 1024 * 1024;
	cfg->max_recipients = 1000;
	cfg->min_free_space = 100 * 1024 * 1024;
	cfg->max_errors = 10;
	cfg->max_sessions = 100;
	cfg->smtp_timeout = 300;
	cfg->auth_max_failures = 10;
	cfg->auth_ban_time = 600;
	cfg->auth_fail_delay = 1;
	cfg->workers = 2;
	cfg->address_pref = ADDR_PREF_ANY;
	cfg->max_connections = 100;
	cfg->max_connections_per_domain = 20;
	cfg->max_active_recipients = 20000;
	cfg->retry_min = 300;
	cfg->retry_max = 4 * 3600;
	cfg->queue_lifetime = 5 * 86400;
	cfg->delay_warning = 4 * 3600;
	cfg->dns_timeout = 30;
	cfg->smtp_connect_timeout = 30;
	cfg->smtp_reply_timeout = 600;
	cfg->queue_scan_interval = 10;
	cfg->doctor_interval = 3600;
	cfg->dnssec_anchor = xstrdup(CONFIG_DEFAULT_TRUST_ANCHOR);
	cfg->dnssec_anchor_default = true;
}

static int
parse_line(struct parser *p, char *line)
{
	char *kw, *v, *end;
	size_t i;

	while (isspace((unsigned char)*line))
		line++;
	if (*line == '\0' || *line == '#')
		return 0;
	kw = line;
	for (v = kw; *v && !isspace((unsigned char)*v); v++)
		;
	if (*v)
		*v++ = '\0';
	while (isspace((unsigned char)*v))
		v++;
	end = v + strlen(v);
	while (end > v && isspace((unsigned char)end[-1]))
		*--end = '\0';
	for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++) {
		if (strcmp(kw, keywords[i].name) != 0)
			continue;
		if (*v == '\0')
			return perr(p, _("keyword \"%s\" needs a value"), kw);
		return keywords[i].parse(p, v);
	}
	return perr(p, _("unknown keyword \"%s\""), kw);
}

static int
check_complete(struct parser *p)
{
	p->lineno = 0;
	if (p->cfg->nlisten == 0) {
		snprintf(p->err, p->errsz, _("%s: no \"listen ADDRESS:PORT starttls|tls\" line"),
		    p->name);
		return -1;
	}
	if ((p->cfg->tls_cert == NULL) != (p->cfg->tls_key == NULL)) {
		snprintf(p->err, p->errsz, _("%s: tls-cert and tls-key must be given together"),
		    p->name);
		return -1;
	}
	if (p->cfg->dnsbl_none && p->cfg->ndnsbl > 0) {
		snprintf(p->err, p->errsz, _("%s: \"dnsbl none\" and \"dnsbl ZONE\" lines"
		    " contradict each other; keep one kind"), p->name);
		return -1;
	}
	return 0;
}

struct config *
config_parse(const char *text, size_t len, const char *name, char *err, size_t errsz)
{
	struct parser p = { xcalloc(1, sizeof(struct config)), name, 0, err, errsz };
	char line[CONFIG_LINE_MAX];
	size_t i = 0, n;

	config_defaults(p.cfg);
	p.cfg->refs = 1;
	p.cfg->path = xstrdup(name);
	while (i < len) {
		p.lineno++;
		for (n = 0; i + n < len && text[i + n] != '\n'; n++)
			;
		if (n >= sizeof(line) || memchr(text + i, '\0', n) != NULL) {
			perr(&p, "%s", _("line too long or holds a NUL byte"));
			goto fail;
		}
		memcpy(line, text + i, n);
		line[n] = '\0';
		i += n + 1;
		if (parse_line(&p, line) == -1)
			goto fail;
	}
	if (check_complete(&p) == -1)
		goto fail;
	return p.cfg;
fail:
	config_free(p.cfg);
	return NULL;
}

static char *
read_file(const char *path, size_t *lenp, char *err, size_t errsz)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;

	if (f == NULL) {
		snprintf(err, errsz, _("%s: cannot open: %s"), path, strerror(errno));
		return NULL;
	}
	buf = xmalloc(CONFIG_FILE_MAX + 1);
	n = fread(buf, 1, CONFIG_FILE_MAX + 1, f);
	if (ferror(f) || n > CONFIG_FILE_MAX) {
		snprintf(err, errsz, _("%s: cannot read, or larger than 1 MiB"), path);
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	*lenp = n;
	return buf;
}

struct config *
config_load(const char *path, char *err, size_t errsz)
{
	struct config *cfg;
	struct stat st;
	char *text;
	size_t len;

	if (path == NULL && stat(CONFIG_DEFAULT_PATH, &st) == -1 && errno == ENOENT) {
		cfg = config_parse(config_builtin, strlen(config_builtin),
		    "(built-in default)", err, errsz);
		if (cfg != NULL)
			cfg->builtin = true;
		return cfg;
	}
	if (path == NULL)
		path = CONFIG_DEFAULT_PATH;
	if ((text = read_file(path, &len, err, errsz)) == NULL)
		return NULL;
	cfg = config_parse(text, len, path, err, errsz);
	free(text);
	return cfg;
}

struct config *
config_ref(const struct config *c)
{
	struct config *cfg = (struct config *)c;

	__atomic_add_fetch(&cfg->refs, 1, __ATOMIC_RELAXED);
	return cfg;
}

void
config_free(const struct config *c)
{
	struct config *cfg = (struct config *)c;

	if (cfg == NULL || __atomic_sub_fetch(&cfg->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	free(cfg->path);
	free(cfg->hostname);
	free(cfg->tls_cert);
	free(cfg->tls_key);
	free(cfg->spool);
	free(cfg->user);
	free(cfg->resolver);
	for (size_t i = 0; i < cfg->ndnsbl; i++)
		free(cfg->dnsbl[i]);
	free(cfg->tls_ca_file);
	free(cfg->dnssec_anchor);
	free(cfg);
}

void
config_db_path(const struct config *cfg, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s/hikyaku.db", cfg->spool);
}

/* destination_merge - the fields line d sets, over out. */
static void
destination_merge(struct config_destination *out, const struct config_destination *d)
{
	if (d == NULL)
		return;
	if (d->max_connections != 0)
		out->max_connections = d->max_connections;
	if (d->rate_n != 0) {
		out->rate_n = d->rate_n;
		out->rate_period = d->rate_period;
	}
}

void
config_destination_for(const struct config *cfg, const char *domain,
    struct config_destination *out)
{
	const struct config_destination *exact = NULL, *star = NULL;

	for (size_t i = 0; i < cfg->ndestinations; i++) {
		if (strcasecmp(cfg->destinations[i].domain, domain) == 0)
			exact = &cfg->destinations[i];
		else if (strcmp(cfg->destinations[i].domain, "*") == 0)
			star = &cfg->destinations[i];
	}
	memset(out, 0, sizeof(*out));
	util_strlcpy(out->domain, domain, sizeof(out->domain));
	out->max_connections = cfg->max_connections_per_domain;
	destination_merge(out, star);
	destination_merge(out, exact);
}

const struct config_route *
config_route_for(const struct config *cfg, const char *domain)
{
	const struct config_route *star = NULL;
	size_t i;

	for (i = 0; i < cfg->nroutes; i++) {
		if (strcasecmp(cfg->routes[i].domain, domain) == 0)
			return &cfg->routes[i];
		if (strcmp(cfg->routes[i].domain, "*") == 0 && star == NULL)
			star = &cfg->routes[i];
	}
	return star;
}

const struct config_tls_policy *
config_tls_policy_for(const struct config *cfg, const char *domain)
{
	const struct config_tls_policy *star = NULL;

	for (size_t i = 0; i < cfg->ntls_policies; i++) {
		if (strcasecmp(cfg->tls_policies[i].domain, domain) == 0)
			return &cfg->tls_policies[i];
		if (strcmp(cfg->tls_policies[i].domain, "*") == 0 && star == NULL)
			star = &cfg->tls_policies[i];
	}
	return star;
}
