/*
 * serve.c - the daemon's life: TLS material, listening sockets, dropping
 * root, the store, queue writer and worker threads, the event loop, and an
 * orderly shutdown that lets pending commits finish.
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
#include "deliver/scheduler.h"
#include "dkim/dkim_sign.h"
#include "dns/dns.h"
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

#define DEMO_ACCOUNT "demo"
#define DEMO_GRANT "@example.com"

/* tls_material - the configured cert/key, or the self-signed pair in the spool. */
static struct tls_ctx *
tls_material(const struct config *cfg)
{
	char cert[4200], key[4200], dir[4096], err[512];
	struct tls_ctx *t;
	struct stat st;

	if (cfg->tls_cert != NULL) {
		if ((t = tls_server_new(cfg->tls_cert, cfg->tls_key, err, sizeof(err))) == NULL)
			fatal("%s", err);
		return t;
	}
	snprintf(dir, sizeof(dir), "%s/tls", cfg->spool);
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	if (stat(cert, &st) == -1 || stat(key, &st) == -1) {
		if (mkdir(dir, 0700) == -1 && errno != EEXIST)
			fatal("cannot create %s: %s", dir, strerror(errno));
		if (tls_make_selfsigned(cert, key, cfg->hostname, err, sizeof(err)) == -1)
			fatal("cannot make a self-signed certificate: %s", err);
		log_warn("no tls-cert/tls-key configured: generated a self-signed certificate"
		    " for %s in %s; clients must not verify it (set tls-cert and tls-key for"
		    " a real one)", cfg->hostname, dir);
	}
	if ((t = tls_server_new(cert, key, err, sizeof(err))) == NULL)
		fatal("%s", err);
	return t;
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

/* start_delivery - DNS, the TLS client context and the scheduler. */
static struct scheduler *
start_delivery(struct server *srv, struct delivery_env *env)
{
	struct scheduler *sched;
	char err[512];

	env->base = srv->base;
	env->cfg = srv->cfg;
	env->store = srv->store;
	env->queue = srv->queue;
	if ((env->tls = tls_client_new(err, sizeof(err))) == NULL)
		fatal("%s", err);
	if ((env->dns = dns_new(srv->base, srv->cfg, err, sizeof(err))) == NULL)
		fatal("%s", err);
	sched = scheduler_new(env);
	srv->queued = on_queued;
	srv->queued_arg = sched;
	return sched;
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
	struct event_base *base = arg;

	log_info("%s received, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	event_base_loopbreak(base);
}

static void
log_ready(const struct config *cfg)
{
	char buf[1024] = "";
	size_t i, n = 0;

	for (i = 0; i < cfg->nlisten && n < sizeof(buf); i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s (%s)", i ? ", " : "",
		    cfg->listen[i].name, cfg->listen[i].mode == LISTEN_TLS ? "tls" : "starttls");
	log_info("ready, listening on %s; config %s, spool %s", buf, cfg->path, cfg->spool);
}

int
serve_run(struct config *cfg)
{
	struct server srv = { 0 };
	struct listeners *ls;
	struct mailbox *mb;
	struct worker_pool *wp;
	struct event *sigterm, *sigint, *sigusr2;
	struct delivery_env sched_env = { 0 };
	struct scheduler *sched;
	struct store_per_thread *stores;
	char err[512], db[4096];
	int pidfd;

	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit(cfg);
	evthread_use_pthreads();
	tls_init();
	if (priv_prepare_spool(cfg, err, sizeof(err)) == -1)
		fatal("%s", err);
	srv.cfg = cfg;
	srv.tls = tls_material(cfg);
	srv.base = event_base_new();
	if ((ls = listeners_open(&srv, err, sizeof(err))) == NULL)
		fatal("%s", err);
	if (priv_prepare_spool(cfg, err, sizeof(err)) == -1 || priv_drop(cfg, err, sizeof(err)) == -1)
		fatal("%s", err);
	if (geteuid() == 0)
		log_warn("running as root: set \"user\" in the config to drop privileges");
	if ((pidfd = pidfile_acquire(cfg, err, sizeof(err))) == -1)
		fatal("%s", err);
	config_db_path(cfg, db, sizeof(db));
	if ((srv.store = store_open(db, err, sizeof(err))) == NULL)
		fatal("%s", err);
	if (cfg->builtin)
		demo_account(cfg, srv.store);
	mb = mailbox_new(srv.base);
	if ((srv.queue = queue_new(db, mb, err, sizeof(err))) == NULL)
		fatal("%s", err);
	wp = worker_pool_new(mb, (int)cfg->workers);
	stores = store_per_thread_new(db);
	srv.auth = auth_new(cfg, stores, wp);
	srv.quota = quota_new(srv.store);
	srv.wp = wp;
	srv.signer = dkim_signer_new(db, stores);
	sched = start_delivery(&srv, &sched_env);
	sigterm = evsignal_new(srv.base, SIGTERM, on_signal, srv.base);
	sigint = evsignal_new(srv.base, SIGINT, on_signal, srv.base);
	evsignal_add(sigterm, NULL);
	evsignal_add(sigint, NULL);
	sigusr2 = evsignal_new(srv.base, SIGUSR2, on_queue_changed, sched);
	evsignal_add(sigusr2, NULL);
	log_ready(cfg);
	event_base_dispatch(srv.base);

	listeners_free(ls);
	smtp_server_shutdown(&srv);
	scheduler_stop(sched);
	worker_pool_free(wp);	/* its threads closed their connections on exit */
	store_per_thread_free(stores);
	dkim_signer_free(srv.signer);
	queue_free(srv.queue);
	mailbox_flush(mb);
	scheduler_free(sched);
	dns_free(sched_env.dns);
	tls_free(sched_env.tls);
	auth_free(srv.auth);
	quota_free(srv.quota);
	mailbox_free(mb);
	event_free(sigterm);
	event_free(sigint);
	event_free(sigusr2);
	store_close(srv.store);
	tls_free(srv.tls);
	event_base_free(srv.base);
	pidfile_release(cfg, pidfd);
	log_info("stopped");
	return 0;
}
