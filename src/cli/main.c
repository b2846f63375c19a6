/*
 * main.c - command line entry: the home side's verbs (probe, home-config)
 * run without a configuration; for the others find "-c FILE", load the
 * configuration and dispatch (serve, status, reload, check-config, account,
 * grant, queue, dkim, doctor). Messages follow the user's locale, except
 * the daemon's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "base/config.h"
#include "lib/i18n.h"
#include "lib/log.h"
#include "cli/serve.h"

/* usage - the verbs, on out. */
static void
usage(FILE *out)
{
	fprintf(out, _("usage: hikyaku [-c FILE] COMMAND ...\n"
	    "  serve                      run the relay in the foreground\n"
	    "  status                     the running daemon, the queue, the certificate\n"
	    "  reload                     re-read the config and certificate (SIGHUP)\n"
	    "  check-config               check the configuration and exit\n"
	    "  default-config [--system]  print the built-in configuration, or the one for\n"
	    "                             an installed system (/etc/hikyaku/hikyaku.conf)\n"
	    "  account add|passwd NAME [--generate] [--home-config MTA [--relay HOST:PORT]\n"
	    "          [--tls|--starttls] [--ca-file FILE]]  (password on stdin unless --generate)\n"
	    "  account del NAME | account list\n"
	    "  account trust|untrust NAME CIDR\n"
	    "  account limit NAME N/PERIOD|none   (e.g. 500/1d: messages per period)\n"
	    "  grant add|del NAME user@example.jp|@example.jp | grant list [NAME]\n"
	    "  queue list | queue show ID | queue flush | queue retry|delete|bounce ID\n"
	    "  dkim keygen DOMAIN [--selector S] [--algo rsa|ed25519] [--bits 2048|3072]\n"
	    "  dkim list [DOMAIN] | dkim show|del DOMAIN SELECTOR\n"
	    "  doctor [DOMAIN...] [--relay-ip IP]... [--json]   check SPF, DKIM, DMARC, PTR...\n"
	    "  doctor [DOMAIN...] --refresh   have the running daemon check again\n"
	    "  tls report [DOMAIN]        today's TLS-RPT counts\n"
	    "  tls policies               the cached MTA-STS policies\n"
	    "On the home server (no configuration file needed):\n"
	    "  probe --relay HOST[:PORT] [--account NAME] [--from ADDR] [--isp-relay HOST] ...\n"
	    "  home-config --mta postfix|opensmtpd|exim|msmtp|nullmailer --relay HOST[:PORT]\n"
	    "              --account NAME\n"
	    "-c FILE may appear anywhere; without it %s is read, or,\n"
	    "when that does not exist, the built-in default (spool ./var).\n"),
	    CONFIG_DEFAULT_PATH);
}

/* take_config_flag - remove "-c FILE" from argv; returns FILE or NULL. */
static const char *
take_config_flag(int *argc, char **argv)
{
	const char *path = NULL;
	int i, j;

	for (i = 1; i < *argc; i++) {
		if (strcmp(argv[i], "-c") != 0)
			continue;
		if (i + 1 >= *argc) {
			fprintf(stderr, _("hikyaku: -c needs a file name\n"));
			exit(2);
		}
		path = argv[i + 1];
		for (j = i; j + 2 <= *argc; j++)
			argv[j] = argv[j + 2];
		*argc -= 2;
		i--;
	}
	return path;
}

int
main(int argc, char **argv)
{
	const char *path = take_config_flag(&argc, argv);
	struct config *cfg;
	char err[1024];
	int rc;

	/* the daemon stays in the C locale: its log lines are for grep */
	if (argc < 2 || strcmp(argv[1], "serve") != 0)
		i18n_init();
	if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "default-config") == 0 && argc <= 3) {
		if (argc == 3 && strcmp(argv[2], "--system") != 0) {
			usage(stderr);
			return 2;
		}
		fputs(argc == 3 ? config_system : config_builtin, stdout);
		return 0;
	}
	/* the home side: no configuration file, no spool */
	if (strcmp(argv[1], "probe") == 0)
		return cli_probe(argc - 1, argv + 1);
	if (strcmp(argv[1], "home-config") == 0)
		return cli_home_config(argc - 1, argv + 1);
	if ((cfg = config_load(path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	log_init(strcmp(argv[1], "serve") == 0 ? cfg->log : LOG_TARGET_STDERR, "hikyaku");
	if (strcmp(argv[1], "serve") == 0 && argc == 2)
		rc = serve_run(cfg);
	else if (strcmp(argv[1], "check-config") == 0 && argc == 2)
		rc = cli_check_config(cfg);
	else if (strcmp(argv[1], "account") == 0)
		rc = cli_account(cfg, argc - 1, argv + 1);
	else if (strcmp(argv[1], "grant") == 0)
		rc = cli_grant(cfg, argc - 1, argv + 1);
	else if (strcmp(argv[1], "queue") == 0)
		rc = cli_queue(cfg, argc - 1, argv + 1);
	else if (strcmp(argv[1], "dkim") == 0)
		rc = cli_dkim(cfg, argc - 1, argv + 1);
	else if (strcmp(argv[1], "status") == 0 && argc == 2)
		rc = cli_status(cfg);
	else if (strcmp(argv[1], "reload") == 0 && argc == 2)
		rc = cli_reload(cfg);
	else if (strcmp(argv[1], "doctor") == 0)
		rc = cli_doctor(cfg, argc - 1, argv + 1);
	else if (strcmp(argv[1], "tls") == 0)
		rc = cli_tls(cfg, argc - 1, argv + 1);
	else {
		usage(stderr);
		rc = 2;
	}
	config_free(cfg);
	return rc;
}
