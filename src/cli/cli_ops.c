/*
 * cli_ops.c - "hikyaku status" and "hikyaku reload": the running daemon,
 * found through its pid file and control socket in the spool.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/config.h"
#include "base/pidfile.h"
#include "base/priv.h"
#include "base/store.h"
#include "cli/cli.h"
#include "lib/i18n.h"
#include "ops/status.h"

#define RELOAD_WAIT_MS 30000
#define RELOAD_POLL_MS 100

int
cli_status(struct config *cfg)
{
	struct store *st = cli_open_store(cfg);	/* as the service user: the socket is its */
	int rc;

	if (st == NULL)
		return 1;
	rc = status_print(cfg, st, stdout);
	store_close(st);
	return rc;
}

/* wait_reload - until the daemon's reload count passes before; 0 ok, 1 refused or silent. */
static int
wait_reload(const struct config *cfg, unsigned before)
{
	struct status_reload now;
	struct timespec pause = { 0, RELOAD_POLL_MS * 1000000L };
	int waited;

	for (waited = 0; waited < RELOAD_WAIT_MS; waited += RELOAD_POLL_MS) {
		nanosleep(&pause, NULL);
		if (status_reload_state(cfg, &now) == -1 || now.generation == before)
			continue;
		if (now.ok) {
			printf(_("hikyaku: reloaded %s\n"), cfg->path);
			return 0;
		}
		fprintf(stderr, _("hikyaku: reload refused: %s\n"
		    "hikyaku: the daemon keeps running on its previous configuration\n"), now.error);
		return 1;
	}
	fprintf(stderr, _("hikyaku: sent SIGHUP, but the daemon did not report a reload within"
	    " %d s; see its log\n"), RELOAD_WAIT_MS / 1000);
	return 1;
}

int
cli_reload(struct config *cfg)
{
	struct status_reload before;
	char err[512];
	pid_t pid;

	if ((pid = pidfile_daemon(cfg)) == 0) {
		fprintf(stderr, _("hikyaku: no daemon is running on spool %s; nothing to reload\n"),
		    cfg->spool);
		return 1;
	}
	if (priv_drop(cfg, 0, err, sizeof(err)) == -1) {	/* the daemon's user may signal it */
		fprintf(stderr, "hikyaku: %s\n", err);
		return 1;
	}
	if (status_reload_state(cfg, &before) == -1) {
		fprintf(stderr, _("hikyaku: the daemon (pid %ld) does not answer on its control"
		    " socket\n"), (long)pid);
		return 1;
	}
	if (kill(pid, SIGHUP) == -1) {
		fprintf(stderr, _("hikyaku: cannot signal the daemon (pid %ld): %s\n"), (long)pid,
		    strerror(errno));
		return 1;
	}
	return wait_reload(cfg, before.generation);
}
