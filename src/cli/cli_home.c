/*
 * cli_home.c - the home side's verbs, which need no configuration file:
 * "probe" (options, passwords from the environment or standard input, the
 * report as text or JSON) and "home-config"; and the home configuration
 * printed by "account add ... --home-config MTA" on the relay.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "base/config.h"
#include "cli/cli.h"
#include "home/diagnose.h"
#include "home/home_config.h"
#include "home/probe.h"
#include "lib/addr.h"
#include "lib/i18n.h"
#include "lib/util.h"

#define PASSWORD_MAX 256
#define TIMEOUT_DEFAULT 10

struct probe_args {
	struct probe_opts o;
	const char *relay, *isp, *timeout, *mta;
	const char *mx[PROBE_MX_MAX];
	int nmx;
	bool json, tls, starttls;
	char from[ADDR_MAX + 1];
	char password[PASSWORD_MAX + 2], isp_password[PASSWORD_MAX + 2];
};

static int
probe_usage(void)
{
	fputs(_("usage: hikyaku probe --relay HOST[:PORT] [--tls | --starttls] [--ca-file FILE]\n"
	    "         [--account NAME] [--from ADDR] [--isp-relay HOST[:PORT]] [--isp-account NAME]\n"
	    "         [--mx HOST[:PORT]]... [--timeout SECONDS] [--mta MTA] [--json]\n"
	    "Passwords come from HIKYAKU_PASSWORD and HIKYAKU_ISP_PASSWORD, or else one line\n"
	    "each on standard input; never from the command line.\n"), stderr);
	return 2;
}

static int
home_config_usage(void)
{
	fputs(_("usage: hikyaku home-config --mta postfix|opensmtpd|exim|msmtp|nullmailer\n"
	    "         --relay HOST[:PORT] --account NAME [--tls | --starttls] [--ca-file FILE]\n"
	    "         [--from ADDR]\n"), stderr);
	return 2;
}

/* value - the value of option name at argv[*i] ("--name VALUE" or "--name=VALUE"), or NULL. */
static const char *
value(int argc, char **argv, int *i, const char *name)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n) != 0)
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] != '\0' || *i + 1 >= argc)
		return NULL;
	return argv[++*i];
}

/* safe_path - a path that can be printed into any configuration file. */
static bool
safe_path(const char *p)
{
	if (*p == '\0' || strlen(p) > 1024)
		return false;
	for (; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("/._-+@,~", *p)))
			return false;
	return true;
}

static int
check_cafile(const char *path)
{
	FILE *f;

	if (!safe_path(path)) {
		fprintf(stderr, _("hikyaku: %s: use a path of letters, digits and /._-+@,~ only\n"),
		    path);
		return -1;
	}
	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, _("hikyaku: cannot read the CA file %s\n"), path);
		return -1;
	}
	fclose(f);
	return 0;
}

/*
 * check_from - an RFC 5321 mailbox into out; for a configuration file (in_file)
 * also only characters every MTA's file takes as they are.
 */
static int
check_from(const char *from, bool in_file, char *out, size_t outsz)
{
	const char *p;

	if (addr_parse_mailbox(from, strlen(from), 0, out, outsz) == -1)
		goto bad;
	for (p = out; *p; p++)
		if (*p <= ' ' || *p >= 0x7f ||
		    (in_file && !isalnum((unsigned char)*p) && !strchr(".!%+-=_~@/", *p)))
			goto bad;
	return 0;
bad:
	fprintf(stderr, _("hikyaku: %s is not an address like alice@example.jp\n"), from);
	return -1;
}

static int
check_target(const char *what, const char *s, unsigned port, struct diagnose_target *t)
{
	if (diagnose_target(s, port, t) == -1) {
		fprintf(stderr, _("hikyaku: %s %s: expected HOST or HOST:PORT (a host name or an IP "
		    "address, [IPv6]:PORT)\n"), what, s);
		return -1;
	}
	return 0;
}

static int
check_account(const char *what, const char *name)
{
	if (diagnose_name_ok(name))
		return 0;
	fprintf(stderr, _("hikyaku: %s %s: account names are 1 to 64 letters, digits or ._@+-\n"),
	    what, name);
	return -1;
}

/* isp_name_ok - an ISP login: printable ASCII without spaces. */
static bool
isp_name_ok(const char *s)
{
	if (*s == '\0' || strlen(s) > 255)
		return false;
	for (; *s; s++)
		if (*s <= ' ' || *s >= 0x7f)
			return false;
	return true;
}

/* read_secret - from the environment variable env, else one line of standard input. */
static int
read_secret(const char *env, const char *user, const char *host, char *out, size_t outsz)
{
	const char *e = getenv(env);
	struct termios old, quiet;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0, got;

	if (e != NULL)
		util_strlcpy(out, e, outsz);
	else {
		if (tty) {
			fprintf(stderr, _("Password for %s at %s: "), user, host);
			quiet = old;
			quiet.c_lflag &= ~(tcflag_t)ECHO;
			tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
		}
		got = fgets(out, (int)outsz, stdin) != NULL;
		if (tty) {
			tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
			fputc('\n', stderr);
		}
		if (!got)
			out[0] = '\0';
		out[strcspn(out, "\r\n")] = '\0';
	}
	if (out[0] == '\0' || strlen(out) > PASSWORD_MAX) {
		fprintf(stderr, _("hikyaku: no password for %s: set %s or write it on standard input "
		    "(1 to %d characters)\n"), user, env, PASSWORD_MAX);
		return -1;
	}
	return 0;
}

/* probe_option - take one option at argv[*i]; -1 when it is not one, -2 after saying why. */
static int
probe_option(int argc, char **argv, int *i, struct probe_args *a)
{
	const char *v;

	if ((v = value(argc, argv, i, "--relay")) != NULL)
		a->relay = v;
	else if ((v = value(argc, argv, i, "--ca-file")) != NULL)
		a->o.cafile = v;
	else if ((v = value(argc, argv, i, "--account")) != NULL)
		a->o.account = v;
	else if ((v = value(argc, argv, i, "--from")) != NULL)
		a->o.from = v;
	else if ((v = value(argc, argv, i, "--isp-relay")) != NULL)
		a->isp = v;
	else if ((v = value(argc, argv, i, "--isp-account")) != NULL)
		a->o.isp_account = v;
	else if ((v = value(argc, argv, i, "--timeout")) != NULL)
		a->timeout = v;
	else if ((v = value(argc, argv, i, "--mta")) != NULL)
		a->mta = v;
	else if ((v = value(argc, argv, i, "--mx")) != NULL) {
		if (a->nmx == PROBE_MX_MAX) {
			fprintf(stderr, _("hikyaku probe: at most %d --mx\n"), PROBE_MX_MAX);
			return -2;
		}
		a->mx[a->nmx++] = v;
	}
	else if (strcmp(argv[*i], "--tls") == 0)
		a->tls = true;
	else if (strcmp(argv[*i], "--starttls") == 0)
		a->starttls = true;
	else if (strcmp(argv[*i], "--json") == 0)
		a->json = true;
	else
		return -1;
	return 0;
}

/* probe_targets - relay, ISP relay and port 25 targets, checked. */
static int
probe_targets(struct probe_args *a)
{
	int i;

	if (check_target("--relay", a->relay, a->tls ? 465 : 587, &a->o.relay) == -1)
		return -1;
	a->o.tls = a->tls ? PROBE_TLS_IMPLICIT : a->starttls ? PROBE_TLS_STARTTLS : PROBE_TLS_AUTO;
	if ((a->o.has_isp = a->isp != NULL) &&
	    check_target("--isp-relay", a->isp, 587, &a->o.isp) == -1)
		return -1;
	for (i = 0; i < a->nmx; i++)
		if (check_target("--mx", a->mx[i], 25, &a->o.mx[i]) == -1)
			return -1;
	for (i = 0; a->nmx == 0 && probe_default_mx[i] != NULL; i++)
		if (check_target("--mx", probe_default_mx[i], 25, &a->o.mx[i]) == -1)
			return -1;
	a->o.nmx = a->nmx ? a->nmx : i;
	return 0;
}

/* probe_checks - every option's value checked and the passwords read; 0 or -1 (said why). */
static int
probe_checks(struct probe_args *a)
{
	enum home_mta mta;
	uint64_t t = TIMEOUT_DEFAULT;

	if (probe_targets(a) == -1 || (a->o.cafile && check_cafile(a->o.cafile) == -1) ||
	    (a->o.account && check_account("--account", a->o.account) == -1))
		return -1;
	if (a->o.from != NULL) {
		if (check_from(a->o.from, false, a->from, sizeof(a->from)) == -1)
			return -1;
		a->o.from = a->from;
	}
	if (a->o.isp_account && !isp_name_ok(a->o.isp_account)) {
		fprintf(stderr, _("hikyaku: --isp-account %s: expected a login name without spaces\n"),
		    a->o.isp_account);
		return -1;
	}
	if (a->timeout && util_parse_uint(a->timeout, 1, 300, &t) == -1) {
		fprintf(stderr, _("hikyaku: --timeout %s: expected 1 to 300 seconds\n"), a->timeout);
		return -1;
	}
	a->o.timeout_ms = (int)t * 1000;
	if (a->mta && home_config_mta(a->mta, &mta) == -1) {
		fprintf(stderr, _("hikyaku: --mta %s: expected one of %s\n"), a->mta, HOME_CONFIG_MTAS);
		return -1;
	}
	a->o.mta = a->mta;
	if (a->o.account && read_secret("HIKYAKU_PASSWORD", a->o.account, a->o.relay.host,
	    a->password, sizeof(a->password)) == -1)
		return -1;
	if (a->o.isp_account && read_secret("HIKYAKU_ISP_PASSWORD", a->o.isp_account,
	    a->o.isp.host, a->isp_password, sizeof(a->isp_password)) == -1)
		return -1;
	a->o.password = a->password;
	a->o.isp_password = a->isp_password;
	return 0;
}

/* probe_config - after a good probe with --mta: the configuration to paste. */
static void
probe_config(const struct probe_args *a)
{
	struct home_config hc = {
		.relay = a->o.relay, .account = a->o.account, .cafile = a->o.cafile,
		.from = a->o.from,
		.implicit_tls = a->o.tls == PROBE_TLS_IMPLICIT ||
		    (a->o.tls == PROBE_TLS_AUTO && a->o.relay.port == 465),
	};

	if (home_config_mta(a->mta, &hc.mta) == -1 || a->o.account == NULL)
		return;
	fputc('\n', stdout);
	home_config_write(&hc, stdout);
}

int
cli_probe(int argc, char **argv)
{
	static struct probe_args a;	/* large: the passwords and targets */
	struct report rep;
	int i, rc;

	memset(&a, 0, sizeof(a));
	for (i = 1; i < argc; i++)
		if ((rc = probe_option(argc, argv, &i, &a)) < 0) {
			if (rc == -1)
				fprintf(stderr, _("hikyaku probe: unknown option or missing value: %s\n"),
				    argv[i]);
			return probe_usage();
		}
	if (a.relay == NULL || (a.tls && a.starttls))
		return probe_usage();
	if (probe_checks(&a) == -1)
		rc = 2;
	else {
		report_init(&rep);
		rc = probe_run(&a.o, &rep);
		if (a.json)
			report_print_json(&rep, stdout);
		else
			report_print(&rep, stdout);
		if (rc == 0 && a.mta && !a.json)
			probe_config(&a);
		report_free(&rep);
	}
	explicit_bzero(&a, sizeof(a));
	return rc;
}

struct hc_args {
	const char *mta, *relay, *account, *cafile, *from;
	bool tls, starttls;
	char fromaddr[ADDR_MAX + 1];
};

static int
hc_option(int argc, char **argv, int *i, struct hc_args *a)
{
	const char *v;

	if ((v = value(argc, argv, i, "--mta")) != NULL)
		a->mta = v;
	else if ((v = value(argc, argv, i, "--relay")) != NULL)
		a->relay = v;
	else if ((v = value(argc, argv, i, "--account")) != NULL)
		a->account = v;
	else if ((v = value(argc, argv, i, "--ca-file")) != NULL)
		a->cafile = v;
	else if ((v = value(argc, argv, i, "--from")) != NULL)
		a->from = v;
	else if (strcmp(argv[*i], "--tls") == 0)
		a->tls = true;
	else if (strcmp(argv[*i], "--starttls") == 0)
		a->starttls = true;
	else
		return -1;
	return 0;
}

/* hc_fill - hc from the checked arguments; 0 or -1 (said why). */
static int
hc_fill(struct hc_args *a, struct home_config *hc)
{
	if (home_config_mta(a->mta, &hc->mta) == -1) {
		fprintf(stderr, _("hikyaku: --mta %s: expected one of %s\n"), a->mta, HOME_CONFIG_MTAS);
		return -1;
	}
	if (check_target("--relay", a->relay, a->tls ? 465 : 587, &hc->relay) == -1 ||
	    check_account("--account", a->account) == -1 ||
	    (a->cafile && !safe_path(a->cafile)))
		goto bad;
	if (a->from && check_from(a->from, true, a->fromaddr, sizeof(a->fromaddr)) == -1)
		return -1;
	hc->account = a->account;
	hc->cafile = a->cafile;
	hc->from = a->from ? a->fromaddr : NULL;
	hc->implicit_tls = a->tls || (!a->starttls && hc->relay.port == 465);
	return 0;
bad:
	if (a->cafile && !safe_path(a->cafile))
		fprintf(stderr, _("hikyaku: %s: use a path of letters, digits and /._-+@,~ only\n"),
		    a->cafile);
	return -1;
}

int
cli_home_config(int argc, char **argv)
{
	struct hc_args a;
	struct home_config hc;
	int i;

	memset(&a, 0, sizeof(a));
	memset(&hc, 0, sizeof(hc));
	for (i = 1; i < argc; i++)
		if (hc_option(argc, argv, &i, &a) == -1) {
			fprintf(stderr, _("hikyaku home-config: unknown option or missing value: %s\n"),
			    argv[i]);
			return home_config_usage();
		}
	if (a.mta == NULL || a.relay == NULL || a.account == NULL || (a.tls && a.starttls))
		return home_config_usage();
	if (hc_fill(&a, &hc) == -1)
		return 2;
	home_config_write(&hc, stdout);
	return 0;
}

static unsigned
listen_port(const struct config_listen *l)
{
	char ip[64];

	return util_sockaddr_ip((const struct sockaddr *)&l->ss, ip, sizeof(ip));
}

/* relay_listen - the listener a home MTA should use: 587 STARTTLS, 465 TLS, or the first. */
static const struct config_listen *
relay_listen(const struct config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->nlisten; i++)
		if (cfg->listen[i].mode == LISTEN_STARTTLS && listen_port(&cfg->listen[i]) == 587)
			return &cfg->listen[i];
	for (i = 0; i < cfg->nlisten; i++)
		if (cfg->listen[i].mode == LISTEN_TLS && listen_port(&cfg->listen[i]) == 465)
			return &cfg->listen[i];
	return cfg->nlisten > 0 ? &cfg->listen[0] : NULL;
}

/* account_hc - the home configuration for account on this relay; 0 or -1 (said why). */
static int
account_hc(const struct config *cfg, const struct cli_home_opts *ho, const char *account,
    struct hc_args *a, struct home_config *hc, char *relay, size_t relaysz)
{
	const struct config_listen *l = relay_listen(cfg);

	memset(a, 0, sizeof(*a));
	a->mta = ho->mta;
	a->account = account;
	a->cafile = ho->cafile;
	a->relay = ho->relay;
	a->tls = ho->tls;
	a->starttls = ho->starttls;
	if (a->relay == NULL && l != NULL) {
		snprintf(relay, relaysz, "%s:%u", cfg->hostname, listen_port(l));
		a->tls = l->mode == LISTEN_TLS;
		a->starttls = !a->tls;
		a->relay = relay;
	}
	if (a->relay == NULL) {
		fprintf(stderr, "%s\n", _("hikyaku: no listen line to take the relay's port from: "
		    "give --relay HOST:PORT"));
		return -1;
	}
	return hc_fill(a, hc);
}

int
cli_home_config_check(const struct config *cfg, const struct cli_home_opts *ho,
    const char *account)
{
	struct hc_args a;
	struct home_config hc;
	char relay[300];

	memset(&hc, 0, sizeof(hc));
	return account_hc(cfg, ho, account, &a, &hc, relay, sizeof(relay));
}

int
cli_home_config_account(const struct config *cfg, const struct cli_home_opts *ho,
    const char *account, const char *password)
{
	struct hc_args a;
	struct home_config hc;
	char relay[300], cert[4200];

	memset(&hc, 0, sizeof(hc));
	if (account_hc(cfg, ho, account, &a, &hc, relay, sizeof(relay)) == -1)
		return -1;
	hc.password = password;
	if (cfg->tls_cert == NULL && ho->cafile == NULL) {
		snprintf(cert, sizeof(cert), "%s/tls/cert.pem", cfg->spool);
		hc.relay_cert = cert;
	}
	fputc('\n', stdout);
	home_config_write(&hc, stdout);
	return 0;
}
