/*
 * daemon.h - the running daemon's parts, shared by serve.c (start, loop,
 * stop) and reload.c (SIGHUP). Private to src/cli/.
 */
#ifndef HIKYAKU_DAEMON_H
#define HIKYAKU_DAEMON_H

#include <stdint.h>

#include "deliver/delivery.h"
#include "deliver/scheduler.h"
#include "ops/status.h"
#include "submit/smtp_server.h"

struct control;
struct keeper;
struct listeners;
struct mailbox;
struct metrics_http;
struct store_per_thread;
struct tlsrpt_send;
struct worker_pool;

struct daemon {
	struct server srv;		/* srv.cfg and srv.tls: the current ones */
	struct listeners *ls;
	struct scheduler *sched;
	struct delivery_env sched_env;
	struct keeper *keeper;		/* re-reads config and TLS files on a reload */
	struct control *control;	/* SPOOL/hikyaku.sock */
	struct metrics_http *http;	/* NULL: no metrics-listen */
	struct mailbox *mb;
	struct store_per_thread *stores;
	struct worker_pool *fetchers;	/* MTA-STS fetches, TLS-RPT uploads */
	struct tlsrpt_send *reports;	/* the daily TLS-RPT reports */
	struct status_reload reload;
	int64_t started;
};

/* serve_tls_material - cfg's certificate and key, or the self-signed pair in the spool. */
struct tls_ctx *serve_tls_material(const struct config *cfg, const char *cert_pem,
    size_t certlen, const char *key_pem, size_t keylen, char *err, size_t errsz);

/*
 * reload_run - SIGHUP: read the configuration and TLS files again (through
 * the keeper), check them, and switch to them; new sessions and deliveries
 * get the new ones, those in progress keep theirs. On any error nothing
 * changes and the error is logged and kept for "hikyaku status".
 */
void reload_run(struct daemon *d);

#endif
