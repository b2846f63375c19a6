/*
 * cli_tls.c - "tls report [DOMAIN]": today's TLS-RPT counters; "tls
 * policies": the cached MTA-STS policies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/config.h"
#include "base/store.h"
#include "cli/cli.h"
#include "lib/i18n.h"
#include "lib/util.h"
#include "tlspolicy/tlspolicy.h"

static void
print_count(void *arg, const char *const *cols, int ncols)
{
	int *n = arg;

	if (ncols < 11)
		return;
	/* day, domain, policy_type, policy_string, mx_host, result, mx, ip, sending_ip, reason, count */
	printf("%-30s %-16s %-26s %6s", cols[1], cols[2], cols[5], cols[10]);
	if (*cols[6])
		printf("  %s%s%s%s", cols[6], *cols[7] ? "[" : "", cols[7], *cols[7] ? "]" : "");
	if (*cols[9])
		printf("  (%s)", cols[9]);
	putchar('\n');
	(*n)++;
}

static void
count_day(void *arg, const char *const *cols, int ncols)
{
	(*(int *)arg)++;
}

static int
tls_report(struct store *st, const char *domain)
{
	char today[11];
	int n = 0, waiting = 0;
	enum store_result r;

	tlspolicy_day(util_now(), today);
	if (domain != NULL)
		printf(_("TLS-RPT sessions of %s (UTC, so far) for %s:\n"), today, domain);
	else
		printf(_("TLS-RPT sessions of %s (UTC, so far):\n"), today);
	printf("%-30s %-16s %-26s %6s  %s\n", "domain", "policy", "result", "count",
	    "mx[ip]  (reason)");
	if ((r = store_tlsrpt_rows(st, today, domain, print_count, &n)) != STORE_OK)
		return cli_done(st, r, "tls report", domain ? domain : today);
	if (n == 0)
		printf(_("(none)\n"));
	if ((r = store_tlsrpt_days(st, today, count_day, &waiting)) == STORE_OK && waiting > 0)
		printf(_("%d report(s) of earlier days wait to be sent (hourly by hikyaku serve)\n"),
		    waiting);
	return cli_done(st, r, "tls report", today);
}

static void
print_policy(void *arg, const char *const *cols, int ncols)
{
	int *n = arg;

	if (ncols < 5)
		return;
	/* domain, id, fetched, expires, policy */
	printf(_("%s: id %s, fetched %s, expires %s (UTC)\n"), cols[0], cols[1], cols[2], cols[3]);
	for (const char *p = cols[4]; *p; ) {
		size_t len = strcspn(p, "\r\n");

		if (len > 0)
			printf("    %.*s\n", (int)len, p);
		p += len;
		p += strspn(p, "\r\n");
	}
	(*n)++;
}

int
cli_tls(struct config *cfg, int argc, char **argv)
{
	static const char use[] = "tls report [DOMAIN] | tls policies";
	struct store *st;
	enum store_result r;
	int n = 0;

	if (argc < 2 || (strcmp(argv[1], "report") == 0 ? argc > 3 :
	    strcmp(argv[1], "policies") != 0 || argc != 2))
		return cli_usage(use);
	if ((st = cli_open_store(cfg)) == NULL)
		return 1;
	if (strcmp(argv[1], "report") == 0)
		return tls_report(st, argc == 3 ? argv[2] : NULL);
	r = store_sts_list(st, print_policy, &n);
	if (r == STORE_OK && n == 0)
		printf(_("no MTA-STS policy cached\n"));
	return cli_done(st, r, "tls policies", "");
}
