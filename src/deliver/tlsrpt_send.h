/*
 * tlsrpt_send.h - the daily TLS-RPT reports (RFC 8460 5). At start and then
 * every hour, for every (UTC day, policy domain) with counters from before
 * today: look up _smtp._tls.DOMAIN; mail the gzip'd JSON report through the
 * queue to its mailto: addresses (from <>, DKIM-signed with the key of
 * hostname's domain or its parent when there is one) and POST it to its
 * https: URLs; then drop the counters. A domain without a valid record has
 * its counters dropped unreported.
 */
#ifndef HIKYAKU_TLSRPT_SEND_H
#define HIKYAKU_TLSRPT_SEND_H

struct config;
struct dkim_signer;
struct dns;
struct event_base;
struct queue;
struct scheduler;
struct store;
struct tlsrpt_send;
struct worker_pool;

struct tlsrpt_send_env {
	struct event_base *base;
	const struct config *cfg;	/* referenced (config_ref) until replaced or freed */
	struct dns *dns;
	struct store *store;		/* the loop thread's connection: reads */
	struct queue *queue;		/* the writer: reports, and dropping counters */
	struct worker_pool *posters;	/* HTTPS uploads run there */
	struct dkim_signer *signer;	/* NULL: unsigned */
	struct scheduler *sched;	/* told about each queued report */
};

/* tlsrpt_send_new - the first run 2 seconds from now, then hourly; env is copied. */
struct tlsrpt_send *tlsrpt_send_new(const struct tlsrpt_send_env *env);
/* tlsrpt_send_set_config - a reload: hostname and tls-ca-file from cfg from now on. */
void tlsrpt_send_set_config(struct tlsrpt_send *s, const struct config *cfg);
/* tlsrpt_send_stop - at shutdown: start nothing more. */
void tlsrpt_send_stop(struct tlsrpt_send *s);
/* tlsrpt_send_free - after the queue writer and the posters have finished. */
void tlsrpt_send_free(struct tlsrpt_send *s);

#endif
