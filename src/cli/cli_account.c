/*
 * cli_account.c - "account" and "grant": accounts and their passwords,
 * trusted networks, and the addresses each account may send as.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/config.h"
#include "base/store.h"
#include "cli/cli.h"
#include "lib/util.h"
#include "submit/auth.h"
#include "submit/policy.h"
#include "submit/quota.h"
#include "lib/i18n.h"

#define GENERATED_PASSWORD_LEN 20

static bool
valid_account_name(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > STORE_NAME_MAX)
		return false;
	for (; *name; name++)
		if (!isalnum((unsigned char)*name) && !strchr("._@+-", *name))
			return false;
	return true;
}

/* read_password - from stdin, or generated (and printed) when asked or on a tty. */
static int
read_password(bool generate, char *pw, size_t pwsz)
{
	if (generate || isatty(STDIN_FILENO)) {
		util_random_password(pw, GENERATED_PASSWORD_LEN);
		printf(_("password: %s\n"), pw);
		return 0;
	}
	if (fgets(pw, (int)pwsz, stdin) == NULL) {
		fprintf(stderr, _("hikyaku: no password on standard input (use --generate to make one)\n"));
		return -1;
	}
	pw[strcspn(pw, "\r\n")] = '\0';
	if (pw[0] == '\0' || strlen(pw) >= AUTH_PASS_MAX) {
		fprintf(stderr, _("hikyaku: the password must be 1 to %d characters\n"), AUTH_PASS_MAX - 1);
		return -1;
	}
	return 0;
}

static int
account_set(struct config *cfg, const char *name, bool generate, bool add,
    const struct cli_home_opts *ho)
{
	char pw[AUTH_PASS_MAX + 2], hash[256];
	struct store *st;
	enum store_result r;
	int rc = 1;

	if (!valid_account_name(name)) {
		fprintf(stderr, _("hikyaku: account names are 1 to %d letters, digits or ._@+-\n"),
		    STORE_NAME_MAX);
		return 1;
	}
	if (ho->mta != NULL && cli_home_config_check(cfg, ho, name) == -1)
		return 1;
	if (read_password(generate, pw, sizeof(pw)) == -1)
		return 1;
	if (auth_hash_password(pw, hash, sizeof(hash)) == -1) {
		fprintf(stderr, _("hikyaku: crypt(3) failed to hash the password\n"));
		goto done;
	}
	if ((st = cli_open_store(cfg)) == NULL)
		goto done;
	r = add ? store_account_add(st, name, hash) : store_account_set_hash(st, name, hash);
	rc = cli_done(st, r, "account", name);
	if (rc == 0 && ho->mta != NULL && cli_home_config_account(cfg, ho, name, pw) == -1)
		rc = 1;
done:
	explicit_bzero(pw, sizeof(pw));
	return rc;
}

/*
 * set_options - "[--generate] [--home-config MTA [--relay HOST:PORT] [--tls|--starttls]
 * [--ca-file FILE]]".
 */
static int
set_options(int argc, char **argv, bool *gen, struct cli_home_opts *ho)
{
	int i;

	for (i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--generate") == 0)
			*gen = true;
		else if (i + 1 < argc && strcmp(argv[i], "--home-config") == 0)
			ho->mta = argv[++i];
		else if (i + 1 < argc && strcmp(argv[i], "--relay") == 0)
			ho->relay = argv[++i];
		else if (i + 1 < argc && strcmp(argv[i], "--ca-file") == 0)
			ho->cafile = argv[++i];
		else if (strcmp(argv[i], "--tls") == 0)
			ho->tls = true;
		else if (strcmp(argv[i], "--starttls") == 0)
			ho->starttls = true;
		else
			return -1;
	}
	if ((ho->relay || ho->cafile || ho->tls || ho->starttls) && !ho->mta)
		return -1;
	return ho->tls && ho->starttls ? -1 : 0;
}

/* format_limit - "100/1h (37 used, resets 2026-12-01 23:00 UTC)" or "-". */
static void
format_limit(const char *const *cols, char *out, size_t outsz)
{
	uint64_t max = strtoull(cols[4], NULL, 10), period = strtoull(cols[5], NULL, 10);
	int64_t window = *cols[6] ? strtoll(cols[6], NULL, 10) : 0;
	int64_t now_window = quota_window_start(util_now(), period);
	uint64_t used = window == now_window ? strtoull(cols[7], NULL, 10) : 0;
	time_t reset = (time_t)(now_window + (int64_t)period);
	char when[32];
	struct tm tm;

	if (!*cols[4]) {
		util_strlcpy(out, "-", outsz);
		return;
	}
	gmtime_r(&reset, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
	snprintf(out, outsz, "%llu/%llus (%llu used, resets %s UTC)", (unsigned long long)max,
	    (unsigned long long)period, (unsigned long long)used, when);
}

static void
print_account(void *arg, const char *const *cols, int ncols)
{
	char limit[128];

	format_limit(cols, limit, sizeof(limit));
	printf("%s\tcreated=%s\tgrants=%s\ttrusted=%s\tlimit=%s\n", cols[0], cols[1],
	    *cols[2] ? cols[2] : "-", *cols[3] ? cols[3] : "-", limit);
}

/* account_limit - "N/PERIOD" sets the account's message limit, "none" removes it. */
static int
account_limit(struct config *cfg, const char *name, const char *spec)
{
	uint64_t max, period;
	struct store *st;

	if (strcmp(spec, "none") == 0) {
		if ((st = cli_open_store(cfg)) == NULL)
			return 1;
		return cli_done(st, store_limit_del(st, name), "account limit of", name);
	}
	if (util_parse_rate(spec, &max, &period) == -1) {
		fprintf(stderr, _("hikyaku: account limit: expected N/PERIOD such as 100/1h or"
		    " 1000/1d, or none; got \"%s\"\n"), spec);
		return 2;
	}
	if ((st = cli_open_store(cfg)) == NULL)
		return 1;
	return cli_done(st, store_limit_set(st, name, max, period), "account", name);
}

static int
account_trust(struct config *cfg, const char *name, const char *cidr, bool add)
{
	struct policy_cidr c;
	struct store *st;

	if (policy_cidr_parse(cidr, &c) == -1) {
		fprintf(stderr, _("hikyaku: %s is not a network (expected 192.0.2.0/24 or 2001:db8::/32)\n"),
		    cidr);
		return 1;
	}
	if ((st = cli_open_store(cfg)) == NULL)
		return 1;
	return cli_done(st, add ? store_trust_add(st, name, cidr) : store_trust_del(st, name, cidr),
	    add ? "account trust" : "account untrust", add ? name : cidr);
}

int
cli_account(struct config *cfg, int argc, char **argv)
{
	static const char *const use = N_("account add|passwd NAME [--generate] [--home-config"
	    " MTA [--relay HOST:PORT] [--tls|--starttls] [--ca-file FILE]] | del NAME | list |"
	    " trust|untrust NAME CIDR | limit NAME N/PERIOD|none");
	struct cli_home_opts ho = { 0 };
	bool gen = false;
	struct store *st;

	if (argc < 2)
		return cli_usage(use);
	if ((strcmp(argv[1], "add") == 0 || strcmp(argv[1], "passwd") == 0) && argc >= 3) {
		if (set_options(argc, argv, &gen, &ho) == -1)
			return cli_usage(use);
		return account_set(cfg, argv[2], gen, strcmp(argv[1], "add") == 0, &ho);
	}
	if (strcmp(argv[1], "limit") == 0 && argc == 4)
		return account_limit(cfg, argv[2], argv[3]);
	if (strcmp(argv[1], "trust") == 0 && argc == 4)
		return account_trust(cfg, argv[2], argv[3], true);
	if (strcmp(argv[1], "untrust") == 0 && argc == 4)
		return account_trust(cfg, argv[2], argv[3], false);
	if (strcmp(argv[1], "del") == 0 && argc == 3) {
		if ((st = cli_open_store(cfg)) == NULL)
			return 1;
		return cli_done(st, store_account_del(st, argv[2]), "account", argv[2]);
	}
	if (strcmp(argv[1], "list") == 0 && argc == 2) {
		if ((st = cli_open_store(cfg)) == NULL)
			return 1;
		return cli_done(st, store_account_list(st, print_account, NULL), "account list", "");
	}
	return cli_usage(use);
}

static void
print_grant(void *arg, const char *const *cols, int ncols)
{
	printf("%s\t%s\n", cols[0], cols[1]);
}

int
cli_grant(struct config *cfg, int argc, char **argv)
{
	static const char *const use = N_("grant add|del NAME user@example.jp|@example.jp |"
	    " list [NAME]");
	struct store *st;
	char pattern[ADDR_MAX + 2];

	if (argc >= 2 && strcmp(argv[1], "list") == 0 && argc <= 3) {
		if ((st = cli_open_store(cfg)) == NULL)
			return 1;
		return cli_done(st, store_grant_list(st, argc == 3 ? argv[2] : NULL, print_grant, NULL),
		    "grant list", "");
	}
	if (argc != 4 || (strcmp(argv[1], "add") != 0 && strcmp(argv[1], "del") != 0))
		return cli_usage(use);
	if (!policy_grant_valid(argv[3])) {
		fprintf(stderr, _("hikyaku: %s is neither an address (user@example.jp) nor a domain"
		    " (@example.jp)\n"), argv[3]);
		return 1;
	}
	/* store domains lower-case, as the address parser does */
	util_strlcpy(pattern, argv[3], sizeof(pattern));
	for (char *p = strrchr(pattern, '@'); p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if ((st = cli_open_store(cfg)) == NULL)
		return 1;
	if (strcmp(argv[1], "add") == 0)
		return cli_done(st, store_grant_add(st, argv[2], pattern), "grant", pattern);
	return cli_done(st, store_grant_del(st, argv[2], pattern), "grant", pattern);
}

