/*
 * reload.c - SIGHUP: switch the running daemon to a fresh configuration
 * and certificate without dropping a session or a delivery.
 *
 * Everything is read and checked before anything changes: the file (via the
 * keeper, which reads as root), the certificate and key, the new listening
 * sockets. Then, in one step on the loop, the daemon's current config and
 * TLS context are replaced; sessions and delivery jobs hold references to
 * the ones they started with and finish on them. What cannot change without
 * a restart (spool, user, workers, log, resolver, tls-ca-file,
 * dnssec-trust-anchor) keeps its running value,
 * and the log says so.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/config.h"
#include "base/keeper.h"
#include "base/metrics.h"
#include "base/sdnotify.h"
#include "base/tls.h"
#include "cli/daemon.h"
#include "deliver/tlsrpt_send.h"
#include "dns/dns.h"
#include "doctor/gate.h"
#include "lib/log.h"
#include "lib/util.h"
#include "ops/metrics_http.h"
#include "submit/auth.h"
#include "submit/listener.h"
#include "tlspolicy/tlspolicy.h"

static bool
same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void
keep_string(const char *key, char **next, const char *running)
{
	if (same(*next, running))
		return;
	log_warn("reload: %s changed from %s to %s: that takes a restart (systemctl restart"
	    " hikyaku); keeping %s until then", key, running ? running : "(none)",
	    *next ? *next : "(none)", running ? running : "(none)");
	free(*next);
	*next = running ? xstrdup(running) : NULL;
}

/* keep_restart_only - give next the running values of what a reload cannot change. */
static void
keep_restart_only(const struct config *run, struct config *next)
{
	keep_string("spool", &next->spool, run->spool);
	keep_string("user", &next->user, run->user);
	keep_string("resolver", &next->resolver, run->resolver);
	keep_string("tls-ca-file", &next->tls_ca_file, run->tls_ca_file);
	keep_string("dnssec-trust-anchor", &next->dnssec_anchor, run->dnssec_anchor);
	next->dnssec_anchor_default = run->dnssec_anchor_default;
	if (next->workers != run->workers) {
		log_warn("reload: workers changed to %llu: that takes a restart; keeping %llu",
		    (unsigned long long)next->workers, (unsigned long long)run->workers);
		next->workers = run->workers;
	}
	if (next->log != run->log) {
		log_warn("reload: log changed: that takes a restart; keeping the current target");
		next->log = run->log;
	}
}

static bool
same_metrics(const struct config *a, const struct config *b)
{
	return a->metrics.sslen == b->metrics.sslen &&
	    memcmp(&a->metrics.ss, &b->metrics.ss, a->metrics.sslen) == 0;
}

/*
 * prepare - everything a reload needs, checked; nothing running touched
 * except that new listeners are already bound (listeners_update is all or
 * nothing, and runs last).
 */
static int
prepare(struct daemon *d, struct config **cfgp, struct tls_ctx **tlsp,
    struct metrics_http **httpp, char *err, size_t errsz)
{
	struct keeper_answer a;
	struct config *cfg;

	if (keeper_fetch(d->keeper, &a, err, errsz) == -1)
		return -1;
	cfg = config_parse(a.config, a.configlen, d->srv.cfg->path, err, errsz);
	if (cfg != NULL) {
		cfg->builtin = d->srv.cfg->builtin;
		keep_restart_only(d->srv.cfg, cfg);
		*tlsp = serve_tls_material(cfg, a.cert, a.certlen, a.key, a.keylen, err, errsz);
	}
	keeper_answer_free(&a);
	if (cfg == NULL || *tlsp == NULL)
		goto fail;
	*httpp = NULL;
	if (!same_metrics(d->srv.cfg, cfg)) {
		metrics_http_stop(d->http);	/* free its port: the new address may share it */
		d->http = NULL;
		if ((*httpp = metrics_http_start(cfg, err, errsz)) == NULL && err[0] != '\0')
			goto fail_http;
	}
	if (listeners_update(d->ls, &d->srv, cfg, err, errsz) == -1)
		goto fail_http;
	*cfgp = cfg;
	return 0;
fail_http:
	if (!same_metrics(d->srv.cfg, cfg)) {	/* back to the running endpoint */
		char why[256];

		metrics_http_stop(*httpp);
		d->http = metrics_http_start(d->srv.cfg, why, sizeof(why));
		if (d->http == NULL && why[0] != '\0')
			log_warn("reload: the metrics endpoint is gone: %s", why);
	}

	tls_free(*tlsp);
fail:
	config_free(cfg);
	return -1;
}

/* apply - the switch: new sessions and jobs get cfg and tls from now on. */
static void
apply(struct daemon *d, struct config *cfg, struct tls_ctx *tls, struct metrics_http *http)
{
	bool http_changed = !same_metrics(d->srv.cfg, cfg);

	auth_set_config(d->srv.auth, cfg);
	dns_set_config(d->sched_env.dns, cfg);
	scheduler_set_config(d->sched, cfg);
	doctor_gate_set_config(d->srv.gate, cfg);
	tlspolicy_set_config(d->sched_env.tlspolicy, cfg);
	tlsrpt_send_set_config(d->reports, cfg);
	config_free(d->srv.cfg);
	d->srv.cfg = cfg;
	tls_free(d->srv.tls);
	d->srv.tls = tls;
	if (http_changed)
		d->http = http;
	metrics_gauge_set(G_CERT_EXPIRY, tls_info(tls)->not_after);
}

void
reload_run(struct daemon *d)
{
	struct config *cfg = NULL;
	struct tls_ctx *tls = NULL;
	struct metrics_http *http = NULL;
	const struct tls_info *ti;
	char err[sizeof(d->reload.error)], when[32];

	sdnotify("RELOADING=1");
	log_info("SIGHUP received: reloading %s", d->srv.cfg->path);
	d->reload.generation++;
	d->reload.when = util_now();
	if (prepare(d, &cfg, &tls, &http, err, sizeof(err)) == -1) {
		d->reload.ok = false;
		util_strlcpy(d->reload.error, err, sizeof(d->reload.error));
		metrics_inc(M_RELOAD_FAILED);
		log_err("reload refused: %s; still running on the previous configuration", err);
		sdnotify("READY=1\nSTATUS=reload refused; running on the previous configuration");
		return;
	}
	apply(d, cfg, tls, http);
	d->reload.ok = true;
	d->reload.error[0] = '\0';
	metrics_inc(M_RELOAD_OK);
	ti = tls_info(tls);
	util_rfc5322_date(ti->not_after, when, sizeof(when));
	log_info("reloaded %s: certificate %s serial %s expires %s; %zu sessions in progress"
	    " finish on the previous settings", cfg->path, ti->subject, ti->serial, when,
	    d->srv.nsessions);
	sdnotify("READY=1\nSTATUS=reloaded");
}
