/*
 * status.h - "hikyaku status": one screen about the running daemon.
 *
 * The daemon answers "status" on its control socket (ops/control.h) with
 * what only it knows, as "key value" lines: version, pid, start time,
 * config, the last reload, listeners, sessions, the certificate in use,
 * the last delivery failures. The CLI adds what the store knows (queue by
 * state and by destination, the oldest message) and prints it.
 */
#ifndef HIKYAKU_STATUS_H
#define HIKYAKU_STATUS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct config;
struct listeners;
struct server;
struct store;

#define STATUS_CERT_WARN_DAYS 14

/* The last reload, as the daemon remembers it. */
struct status_reload {
	unsigned generation;	/* reloads attempted since start */
	int64_t when;
	bool ok;
	char error[512];
};

/* What the daemon's answer is made from; all borrowed. */
struct status_daemon {
	const struct server *srv;
	const struct listeners *ls;
	const struct status_reload *reload;
	int64_t started;
	const char *metrics_listen;	/* NULL: no metrics endpoint */
};

/* status_write - the daemon's "key value" answer to "status". */
void status_write(const struct status_daemon *d, FILE *out);

/*
 * status_print - for the CLI: ask the daemon on cfg's spool, read st, print
 * the screen to out. Returns the exit status: 0, or 3 when no daemon runs
 * (the store part is still printed). A certificate that expires within
 * STATUS_CERT_WARN_DAYS gets a "warning:" line.
 */
int status_print(const struct config *cfg, struct store *st, FILE *out);

/*
 * status_reload_state - for "hikyaku reload": the daemon's reload
 * count and whether the last one succeeded (with its error). -1 when the
 * daemon does not answer.
 */
int status_reload_state(const struct config *cfg, struct status_reload *out);

#endif
