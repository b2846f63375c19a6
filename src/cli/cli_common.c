/*
 * cli_common.c - what every administrative verb shares: opening the store
 * as the service user, usage errors, and store results as exit statuses.
 *
 * Scripts drive all verbs: no prompts, passwords on stdin, exit status 0
 * on success, 1 with a message on stderr otherwise, 2 on usage errors.
 */
#include <signal.h>
#include <stdio.h>

#include "base/config.h"
#include "base/pidfile.h"
#include "base/priv.h"
#include "base/store.h"
#include "cli/cli.h"
#include "lib/i18n.h"

int
cli_usage(const char *text)
{
	fprintf(stderr, _("usage: hikyaku %s\n"), _(text));
	return 2;
}

struct store *
cli_open_store(const struct config *cfg)
{
	char err[512], db[4096];
	struct store *st;

	if (priv_prepare_spool(cfg, err, sizeof(err)) == -1 ||
	    priv_drop(cfg, 0, err, sizeof(err)) == -1) {
		fprintf(stderr, "hikyaku: %s\n", err);
		return NULL;
	}
	config_db_path(cfg, db, sizeof(db));
	if ((st = store_open(db, err, sizeof(err))) == NULL)
		fprintf(stderr, "hikyaku: %s\n", err);
	return st;
}

/* cli_done - map a store result to an exit status, explaining failures. */
int
cli_done(struct store *st, enum store_result r, const char *what, const char *name)
{
	int rc = 0;

	if (r == STORE_NOTFOUND) {
		fprintf(stderr, _("hikyaku: %s: %s not found\n"), what, name);
		rc = 1;
	} else if (r == STORE_EXISTS) {
		fprintf(stderr, _("hikyaku: %s: %s already exists\n"), what, name);
		rc = 1;
	} else if (r != STORE_OK) {
		fprintf(stderr, "hikyaku: %s: %s\n", what, store_errmsg(st));
		rc = 1;
	}
	store_close(st);
	return rc;
}


bool
cli_tell_daemon(const struct config *cfg, int sig)
{
	pid_t pid = pidfile_daemon(cfg);

	return pid > 0 && kill(pid, sig) == 0;
}
