/*
 * serve.c - the daemon's life: TLS material, listening sockets, dropping
 * root, the store, queue writer and worker threads, the readiness gate
 * (its checks again on SIGUSR1), the event loop, and an orderly shutdown
 * that lets pending commits finish.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "submit/auth.h"
#include "base/config.h"
#include "base/https.h"
#include "base/keeper.h"
#include "base/metrics.h"
#include "base/sdnotify.h"
#include "cli/daemon.h"
#include "ops/control.h"
#include "ops/metrics_http.h"
#include "ops/status.h"
#include "deliver/scheduler.h"
#include "deliver/tlsrpt_send.h"
#include "dkim/dkim_sign.h"
#include "dns/dns.h"
#include "doctor/gate.h"
#include "submit/listener.h"
#include "lib/log.h"
#include "base/pidfile.h"
#include "base/priv.h"
#include "queue/queue.h"
#include "cli/serve.h"
#include "submit/quota.h"
#include "submit/smtp_server.h"
#include "base/store.h"
#include "base/tls.h"
#include "lib/util.h"
#include "base/worker.h"
#include "tlspolicy/tlspolicy.h"

#define DEMO_ACCOUNT "demo"
#define FETCHERS 2		/* threads for MTA-STS fetches and TLS-RPT uploads */
#define DEMO_GRANT "@example.com"

struct tls_ctx *
serve_tls_material(const struct config *cfg, const char *cert_pem, size_t certlen,
    const char *key_pem, size_t keylen, char *err, size_t errsz)
{
	char cert[4200], key[4200], dir[4096];
	struct stat st;

	if (cfg->tls_cert != NULL && cert_pem != NULL)
		return tls_server_new_pem(cert_pem, certlen, key_pem, keylen, cfg->tls_cert,
		    cfg->tls_key, err, errsz);
	if (cfg->tls_cert != NULL)
		return tls_server_new(cfg->tls_cert, cfg->tls_key, err, errsz);
	snprintf(dir, sizeof(dir), "%s/tls", cfg->spool);
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	if (stat(cert, &st) == -1 || stat(key, &st) == -1) {
		if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
			snprintf(err, errsz, "cannot create %s: %s", dir, strerror(errno));
			return NULL;
		}
		if (tls_make_selfsigned(cert, key, cfg->hostname, err, errsz) == -1)
			return NULL;
		log_warn("no tls-cert/tls-key configured: generated a self-signed certificate"
		    " for %s in %s; clients must not verify it (set tls-cert and tls-key for"
		    " a real one)", cfg->hostname, dir);
	}
	return tls_server_new(cert, key, err, errsz);
}

static void
demo_print(const char *pw)
{
	log_info("demo account: user %s, password %s, may send as %s (built-in config only)",
	    DEMO_ACCOUNT, pw, DEMO_GRANT);
}

/* demo_account - on the built-in config, make sure a demo account exists and say how to use it. */
static void
demo_account(const struct config *cfg, struct store *st)
{
	char path[4096], pw[32], hash[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/demo-password", cfg->spool);
	if (store_account_hash(st, DEMO_ACCOUNT, hash, sizeof(hash)) == STORE_OK) {
		if ((f = fopen(path, "r")) != NULL && fgets(pw, sizeof(pw), f) != NULL) {
			pw[strcspn(pw, "\n")] = '\0';
			if (auth_verify_password(pw, hash))
				demo_print(pw);
		}
		if (f)
			fclose(f);
		return;
	}
	util_random_password(pw, 16);
	if (auth_hash_password(pw, hash, sizeof(hash)) == -1 ||
	    store_account_add(st, DEMO_ACCOUNT, hash) != STORE_OK ||
	    store_grant_add(st, DEMO_ACCOUNT, DEMO_GRANT) != STORE_OK) {
		log_warn("cannot create the demo account: %s", store_errmsg(st));
		return;
	}
	umask(077);
	if ((f = fopen(path, "w")) != NULL) {
		fprintf(f, "%s\n", pw);
		fclose(f);
	}
	demo_print(pw);
}

/* on_queued - a session committed a message: its recipients are due now. */
static void
on_queued(void *arg, const struct store_msg *m)
{
	scheduler_queued(arg, m->id, m->rcpts, m->nrcpts, m->arrival);
}

/* on_queue_changed - SIGUSR2 from "queue flush|retry": retry now, dead destinations too. */
static void
on_queue_changed(evutil_socket_t sig, short what, void *arg)
{
	log_info("queue changed by the administrator (SIGUSR2): retrying what is due now");
	scheduler_revive(arg);
}

/* A store change of tlspolicy's, through the queue writer. */
struct tp_commit {
	struct queue_req req;
	tlspolicy_apply_fn apply;
	void *arg;
};

static enum store_result
tp_apply(struct store *st, void *arg)
{
	struct tp_commit *c = arg;

	return c->apply(st, c->arg);
}

static void
tp_done(struct queue_req *req)
{
	struct tp_commit *c = req->arg;

	if (req->result != STORE_OK)
		log_warn("cannot record an MTA-STS policy or TLS-RPT count: %s", req->errmsg);
	free(c->arg);
	free(c);
}

static void
tp_commit(void *ctx, tlspolicy_apply_fn apply, void *arg)
{
	struct tp_commit *c = xcalloc(1, sizeof(*c));

	c->apply = apply;
	c->arg = arg;
	c->req.apply = tp_apply;
	c->req.apply_arg = c;
	c->req.done = tp_done;
	c->req.arg = c;
	queue_commit(ctx, &c->req);
}

/* start_policies - MTA-STS/DANE decisions, and their fetcher threads. */
static void
start_policies(struct daemon *d)
{
	struct tlspolicy_env tpe = { 0 };

	d->fetchers = worker_pool_new(d->mb, FETCHERS);
	tpe.base = d->srv.base;
	tpe.cfg = d->srv.cfg;
	tpe.dns = d->sched_env.dns;
	tpe.store = d->srv.store;
	tpe.fetchers = d->fetchers;
	tpe.commit = tp_commit;
	tpe.commit_ctx = d->srv.queue;
	d->sched_env.tlspolicy = tlspolicy_new(&tpe);
}

/* start_reports - the daily TLS-RPT reports, queued to the scheduler. */
static void
start_reports(struct daemon *d)
{
	struct tlsrpt_send_env rse = { 0 };

	rse.base = d->srv.base;
	rse.cfg = d->srv.cfg;
	rse.dns = d->sched_env.dns;
	rse.store = d->srv.store;
	rse.queue = d->srv.queue;
	rse.posters = d->fetchers;
	rse.signer = d->srv.signer;
	rse.sched = d->sched;
	d->reports = tlsrpt_send_new(&rse);
}

/* start_delivery - DNS, the TLS client context, the TLS policies, the scheduler, reports. */
static void
start_delivery(struct daemon *d)
{
	struct server *srv = &d->srv;
	struct delivery_env *env = &d->sched_env;
	char err[512];

	env->base = srv->base;
	env->cfg = srv->cfg;
	env->store = srv->store;
	env->queue = srv->queue;
	env->signer = srv->signer;
	if ((env->tls = tls_client_new(err, sizeof(err))) == NULL)
		fatal("%s", err);
	if (srv->cfg->tls_ca_file != NULL &&
	    tls_client_ca_file(env->tls, srv->cfg->tls_ca_file, err, sizeof(err)) == -1)
		fatal("%s (tls-ca-file)", err);
	if ((env->dns = dns_new(srv->base, srv->cfg, err, sizeof(err))) == NULL)
		fatal("%s", err);
	start_policies(d);
	d->sched = scheduler_new(env);
	start_reports(d);
	srv->queued = on_queued;
	srv->queued_arg = d->sched;
}

/*
 * raise_fd_limit - room for every session, every outbound connection and
 * the store's files: raise the soft RLIMIT_NOFILE as far as needed (up to
 * the hard limit) and warn when even that is too low.
 */
static void
raise_fd_limit(const struct config *cfg)
{
	rlim_t need = (rlim_t)(cfg->max_sessions + cfg->max_connections + 64);
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur >= need)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need ? need : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur < need)
		log_warn("open files are limited to %llu, fewer than max-sessions plus"
		    " max-connections need (%llu): raise the limit (LimitNOFILE= under systemd)",
		    (unsigned long long)rl.rlim_cur, (unsigned long long)need);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	if (sig == SIGHUP) {
		reload_run(d);
		return;
	}
	log_info("%s received, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	sdnotify("STOPPING=1");
	event_base_loopbreak(d->srv.base);
}

static void
log_ready(struct daemon *d)
{
	const struct config *cfg = d->srv.cfg;
	char buf[1024] = "", note[1200];
	size_t i, n = 0;

	for (i = 0; i < cfg->nlisten && n < sizeof(buf); i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s (%s)", i ? ", " : "",
		    cfg->listen[i].name, cfg->listen[i].mode == LISTEN_TLS ? "tls" : "starttls");
	log_info("ready, listening on %s; config %s, spool %s", buf, cfg->path, cfg->spool);
	if (d->http != NULL)
		log_info("metrics on http://%s/metrics", cfg->metrics.name);
	snprintf(note, sizeof(note), "READY=1\nSTATUS=listening on %s", buf);
	if (sdnotify(note) == -1)
		log_warn("cannot tell systemd we are ready: %s", strerror(errno));
}

static void
answer_control(void *arg, const char *request, FILE *out)
{
	struct daemon *d = arg;
	struct status_daemon sd = { &d->srv, d->ls, &d->reload, d->started,
		d->http != NULL ? d->srv.cfg->metrics.name : NULL };

	if (strcmp(request, "status") == 0)
		status_write(&sd, out);
	else
		fprintf(out, "error unknown request; try \"status\"\n");
}

/* start - as root if started so: TLS material, listeners, the helper; then drop root. */
static void
start(struct daemon *d, struct config *cfg)
{
	char err[512];

	d->keeper = keeper_start(cfg->builtin ? NULL : cfg->path,
	    geteuid() == 0 && cfg->user != NULL, err, sizeof(err));
	if (d->keeper == NULL)
		fatal("%s", err);
	if (priv_prepare_spool(cfg, err, sizeof(err)) == -1)
		fatal("%s", err);
	d->srv.cfg = config_ref(cfg);
	if ((d->srv.tls = serve_tls_material(cfg, NULL, 0, NULL, 0, err, sizeof(err))) == NULL)
		fatal("%s", err);
	metrics_gauge_set(G_CERT_EXPIRY, tls_info(d->srv.tls)->not_after);
	d->srv.base = event_base_new();
	if ((d->ls = listeners_open(&d->srv, err, sizeof(err))) == NULL)
		fatal("%s", err);
	if (priv_prepare_spool(cfg, err, sizeof(err)) == -1 ||
	    priv_drop(cfg, 1, err, sizeof(err)) == -1)
		fatal("%s", err);
	if (geteuid() == 0)
		log_warn("running as root: set \"user\" in the config to drop privileges");
}

/* on_usr1 - SIGUSR1 from "hikyaku doctor --refresh": check the granted domains again. */
static void
on_usr1(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	if (d->srv.gate == NULL) {
		log_info("SIGUSR1 received, but readiness checks are off on the built-in"
		    " configuration");
		return;
	}
	log_info("SIGUSR1 received: checking the readiness of every granted domain again");
	doctor_gate_refresh(d->srv.gate);
}

/* open_services - store, queue writer, workers, signer, delivery, gate, control, metrics. */
static void
open_services(struct daemon *d)
{
	struct config *cfg = d->srv.cfg;
	struct worker_pool *wp;
	char err[512], db[4096];

	config_db_path(cfg, db, sizeof(db));
	if ((d->srv.store = store_open(db, err, sizeof(err))) == NULL)
		fatal("%s", err);
	if (cfg->builtin)
		demo_account(cfg, d->srv.store);
	d->mb = mailbox_new(d->srv.base);
	if ((d->srv.queue = queue_new(db, d->mb, err, sizeof(err))) == NULL)
		fatal("%s", err);
	wp = worker_pool_new(d->mb, (int)cfg->workers);
	d->stores = store_per_thread_new(db);
	d->srv.auth = auth_new(cfg, d->stores, wp);
	d->srv.quota = quota_new(d->srv.store);
	d->srv.wp = wp;
	d->srv.signer = dkim_signer_new(db, d->stores);
	start_delivery(d);
	if (cfg->builtin)	/* it sends nothing out: no queries to real DNS servers either */
		log_info("readiness checks (hikyaku doctor) are off on the built-in configuration");
	else
		d->srv.gate = doctor_gate_new(cfg, db, d->srv.base, d->mb, d->srv.store);
	if ((d->control = control_open(d->srv.base, cfg, answer_control, d, err,
	    sizeof(err))) == NULL)
		fatal("%s", err);
	if ((d->http = metrics_http_start(cfg, err, sizeof(err))) == NULL && err[0] != '\0')
		fatal("%s", err);
}

static void
close_services(struct daemon *d)
{
	metrics_http_stop(d->http);
	control_close(d->control);
	listeners_free(d->ls);
	smtp_server_shutdown(&d->srv);
	scheduler_stop(d->sched);
	tlspolicy_stop(d->sched_env.tlspolicy);
	tlsrpt_send_stop(d->reports);
	worker_pool_free(d->srv.wp);
	worker_pool_free(d->fetchers);	/* waits for a fetch in progress (10 s at most) */
	queue_free(d->srv.queue);	/* before the signer: DSNs are signed on its thread */
	doctor_gate_stop(d->srv.gate);	/* cancels its DNS at once: a short join */
	mailbox_flush(d->mb);
	doctor_gate_free(d->srv.gate);
	store_per_thread_free(d->stores);	/* the threads closed their connections on exit */
	dkim_signer_free(d->srv.signer);
	scheduler_free(d->sched);
	tlsrpt_send_free(d->reports);
	tlspolicy_free(d->sched_env.tlspolicy);
	dns_free(d->sched_env.dns);
	tls_free(d->sched_env.tls);
	auth_free(d->srv.auth);
	quota_free(d->srv.quota);
	mailbox_free(d->mb);
	store_close(d->srv.store);
	tls_free(d->srv.tls);
	keeper_stop(d->keeper);
}

int
serve_run(struct config *cfg)
{
	struct daemon d = { 0 };
	struct event *sigs[3], *sigusr1, *sigusr2;
	static const int signums[3] = { SIGTERM, SIGINT, SIGHUP };
	char err[512];
	int pidfd;
	size_t i;

	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit(cfg);
	sdnotify_init();
	evthread_use_pthreads();
	tls_init();
	https_init();
	d.started = util_now();
	metrics_gauge_set(G_START_TIME, d.started);
	start(&d, cfg);
	if ((pidfd = pidfile_acquire(cfg, err, sizeof(err))) == -1)
		fatal("%s", err);
	open_services(&d);
	for (i = 0; i < 3; i++) {
		sigs[i] = evsignal_new(d.srv.base, signums[i], on_signal, &d);
		evsignal_add(sigs[i], NULL);
	}
	sigusr2 = evsignal_new(d.srv.base, SIGUSR2, on_queue_changed, d.sched);
	evsignal_add(sigusr2, NULL);
	sigusr1 = evsignal_new(d.srv.base, SIGUSR1, on_usr1, &d);
	evsignal_add(sigusr1, NULL);
	log_ready(&d);
	event_base_dispatch(d.srv.base);

	close_services(&d);
	for (i = 0; i < 3; i++)
		event_free(sigs[i]);
	event_free(sigusr2);
	event_free(sigusr1);
	event_base_free(d.srv.base);
	pidfile_release(d.srv.cfg, pidfd);
	config_free(d.srv.cfg);
	log_info("stopped");
	return 0;
}
