/*
 * cli.h - the administrative verbs: account, grant, queue, dkim, doctor, tls,
 * check-config.
 * Each runs to completion against the store and returns an exit status;
 * they work while the daemon runs (SQLite WAL lets both in).
 *
 *   cli_common.c   opening the store, usage errors, store results
 *   cli_account.c  account, grant
 *   cli_queue.c    queue
 *   cli_dkim.c     dkim; check-config's DKIM warnings
 *   cli_tls.c      tls report, tls policies
 *   cli_check.c    check-config
 *   cli_home.c     probe, home-config (no configuration file needed)
 *   cli_ops.c      status, reload
 *   cli_doctor.c   doctor
 */
#ifndef HIKYAKU_CLI_H
#define HIKYAKU_CLI_H

#include <stdbool.h>

#include "base/store.h"

struct config;

int cli_account(struct config *cfg, int argc, char **argv);
int cli_grant(struct config *cfg, int argc, char **argv);
int cli_queue(struct config *cfg, int argc, char **argv);
int cli_check_config(struct config *cfg);
int cli_dkim(struct config *cfg, int argc, char **argv);
int cli_status(struct config *cfg);
int cli_reload(struct config *cfg);

/* cli_probe - "hikyaku probe ..." (argv[0] is "probe"): exit 0, 1, or 2 on usage. */
int cli_probe(int argc, char **argv);

/* cli_home_config - "hikyaku home-config ...": exit 0, or 2 on usage. */
int cli_home_config(int argc, char **argv);

/*
 * what "account add NAME --home-config MTA [--relay HOST:PORT] [--tls|--starttls]
 * [--ca-file FILE]" asked for
 */
struct cli_home_opts {
	const char *mta;	/* NULL: no home configuration */
	const char *relay;	/* NULL: hostname and the port of a listen line */
	const char *cafile;
	bool tls, starttls;	/* the TLS mode of --relay's port (default: 465 is TLS) */
};

/* cli_home_config_check - whether the home configuration can be made; 0, or -1 after saying why. */
int cli_home_config_check(const struct config *cfg, const struct cli_home_opts *ho,
    const char *account);

/* cli_home_config_account - print it (on stdout) with password filled in; 0 or -1. */
int cli_home_config_account(const struct config *cfg, const struct cli_home_opts *ho,
    const char *account, const char *password);
/* cli_doctor - "doctor": check domains' DNS, or have the daemon check again (cli_doctor.c). */
int cli_doctor(struct config *cfg, int argc, char **argv);
/* cli_tls - "tls report [DOMAIN]" and "tls policies" (cli_tls.c). */
int cli_tls(struct config *cfg, int argc, char **argv);

/*
 * cli_dkim_check - for check-config: warn on stderr about every domain in
 * the grants that has no DKIM key (nor a parent domain with one). Returns
 * the number of warnings; reads nothing when the database does not exist.
 */
int cli_dkim_check(const struct config *cfg);

/*
 * cli_open_store - prepare the spool, drop root for the configured user
 * (so that files the store creates belong to it), open the database.
 * NULL after printing why.
 */
struct store *cli_open_store(const struct config *cfg);

/* cli_usage - print "usage: hikyaku TEXT" on stderr, TEXT translated (mark it N_()); returns 2. */
int cli_usage(const char *text);

/*
 * cli_done - close st and map r to an exit status (0, or 1 after saying on
 * stderr that WHAT NAME was not found, already exists, or the store failed).
 */
int cli_done(struct store *st, enum store_result r, const char *what, const char *name);

/*
 * cli_tell_daemon - send sig to the daemon running on cfg's spool (found
 * through its locked pid file). False when none runs or it cannot be told.
 */
bool cli_tell_daemon(const struct config *cfg, int sig);

#endif
