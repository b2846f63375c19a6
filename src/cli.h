/*
 * cli.h - the administrative verbs: account, grant, queue, check-config.
 * Each runs to completion against the store and returns an exit status;
 * they work while the daemon runs (SQLite WAL lets both in).
 */
#ifndef HIKYAKU_CLI_H
#define HIKYAKU_CLI_H

struct config;

int cli_account(struct config *cfg, int argc, char **argv);
int cli_grant(struct config *cfg, int argc, char **argv);
int cli_queue(struct config *cfg, int argc, char **argv);
int cli_check_config(struct config *cfg);

#endif
