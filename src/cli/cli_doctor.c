/*
 * cli_doctor.c - "hikyaku doctor [DOMAIN...] [--relay-ip IP]... [--json]
 * [--refresh]": run the doctor's checks for the named domains (none: every
 * granted domain) and print them, as text or as one JSON object per domain,
 * with the running daemon's last verdict and its age; or, with --refresh,
 * have the daemon check again (SIGUSR1) and print its new verdicts.
 *
 * Exit status: 0 when nothing fails, 1 when something fails (or the
 * daemon's verdict is not "ready"), 2 on usage errors.
 *
 * What it prints follows the locale, JSON's "message" and "fix" included;
 * JSON's keys, the area and status tokens, the records to publish and the
 * daemon's verdicts (English: they are its SMTP replies) stay as they are.
 */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/config.h"
#include "base/pidfile.h"
#include "base/store.h"
#include "cli/cli.h"
#include "dkim/dkim.h"
#include "doctor/doctor.h"
#include "doctor/report.h"
#include "lib/i18n.h"
#include "lib/strbuf.h"
#include "lib/util.h"

#define REFRESH_WAIT_MS 120000	/* how long --refresh waits for the daemon */

static const char *const use = N_("doctor [DOMAIN...] [--relay-ip IP]... [--json]"
    " [--refresh]");

struct doctor_args {
	const char *domains[DOCTOR_DOMAINS_MAX];
	size_t ndomains;
	const char *ips[DOCTOR_IPS_MAX];
	size_t nips;
	bool json, refresh;
};

/* The daemon's verdicts as stored. */
struct verdicts {
	size_t n;
	struct {
		char domain[DNS_NAME_MAX + 1];
		int64_t checked;
		enum gate_state state;
		char reason[DOCTOR_REASON_MAX];
	} v[DOCTOR_DOMAINS_MAX];
};

static int
parse_args(int argc, char **argv, struct doctor_args *a)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			a->json = true;
		else if (strcmp(argv[i], "--refresh") == 0)
			a->refresh = true;
		else if (strcmp(argv[i], "--relay-ip") == 0 && i + 1 < argc) {
			if (a->nips == DOCTOR_IPS_MAX) {
				fprintf(stderr, _("hikyaku: doctor: at most %d --relay-ip\n"),
				    DOCTOR_IPS_MAX);
				return -1;
			}
			a->ips[a->nips++] = argv[++i];
		} else if (argv[i][0] == '-' || a->ndomains == DOCTOR_DOMAINS_MAX)
			return -1;
		else
			a->domains[a->ndomains++] = argv[i];
	}
	return 0;
}

/* norm_domain - d lower-cased without a final dot; false when it is not a domain. */
static bool
norm_domain(const char *d, char *out, size_t outsz)
{
	size_t n = strlen(d), i;

	if (n > 0 && d[n - 1] == '.')
		n--;
	if (n == 0 || n >= outsz)
		return false;
	for (i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)d[i]);
	out[n] = '\0';
	return dkim_valid_domain(out);
}

/* --- output --- */

/* json_string - s as a JSON string (UTF-8, a translation, passes). */
static void
json_string(FILE *f, const char *s)
{
	struct strbuf b = { 0 };

	strbuf_json(&b, s);
	fputs(b.p, f);
	strbuf_free(&b);
}

static void
print_json(const struct doctor_report *r)
{
	printf("{\"domain\": ");
	json_string(stdout, r->domain);
	printf(", \"ready\": %s, \"checks\": [", doctor_failed(r) ? "false" : "true");
	for (size_t i = 0; i < r->nchecks; i++) {
		const struct doctor_check *c = &r->checks[i];

		printf("%s{\"area\": \"%s\", \"status\": \"%s\", \"message\": ", i ? ", " : "",
		    doctor_area_name(c->area), doctor_status_name(c->status));
		json_string(stdout, c->message);
		printf(", \"fix\": ");
		if (c->fix[0])
			json_string(stdout, c->fix);
		else
			printf("null");
		printf("}");
	}
	printf("], \"spf\": {");
	for (size_t i = 0; i < r->nips; i++) {
		printf("%s", i ? ", " : "");
		json_string(stdout, r->ip[i]);
		printf(": \"%s\"", spf_result_name(r->spf[i]));
	}
	printf("}}\n");
}

/*
 * print_ago - the daemon's verdict and its age: one whole sentence per unit
 * and state. what is the domain when ready, else the daemon's reply text.
 */
static void
print_ago(int unit, long long n, bool ready, const char *what)
{
	unsigned long k = (unsigned long)n;

	switch (unit * 2 + ready) {
	case 0:
		/* TRANSLATORS: the age of the daemon's verdict, then the verdict: its
		 * reply text (English: it is an SMTP reply). */
		printf(ngettext("The daemon's last verdict, %lld second ago: %s.",
		    "The daemon's last verdict, %lld seconds ago: %s.", k), n, what);
		break;
	case 1:
		/* TRANSLATORS: the age of the daemon's verdict, then the domain. */
		printf(ngettext("The daemon's last verdict, %lld second ago: %s is ready.",
		    "The daemon's last verdict, %lld seconds ago: %s is ready.", k), n, what);
		break;
	case 2:
		printf(ngettext("The daemon's last verdict, %lld minute ago: %s.",
		    "The daemon's last verdict, %lld minutes ago: %s.", k), n, what);
		break;
	case 3:
		printf(ngettext("The daemon's last verdict, %lld minute ago: %s is ready.",
		    "The daemon's last verdict, %lld minutes ago: %s is ready.", k), n, what);
		break;
	case 4:
		printf(ngettext("The daemon's last verdict, %lld hour ago: %s.",
		    "The daemon's last verdict, %lld hours ago: %s.", k), n, what);
		break;
	case 5:
		printf(ngettext("The daemon's last verdict, %lld hour ago: %s is ready.",
		    "The daemon's last verdict, %lld hours ago: %s is ready.", k), n, what);
		break;
	case 6:
		printf(ngettext("The daemon's last verdict, %lld day ago: %s.",
		    "The daemon's last verdict, %lld days ago: %s.", k), n, what);
		break;
	default:
		printf(ngettext("The daemon's last verdict, %lld day ago: %s is ready.",
		    "The daemon's last verdict, %lld days ago: %s is ready.", k), n, what);
		break;
	}
}

/* age - the unit (0 seconds ... 3 days) and count for ms milliseconds. */
static int
age(int64_t ms, long long *n)
{
	int64_t s = ms / 1000;

	if (s < 120)
		return *n = s, 0;
	if (s < 7200)
		return *n = s / 60, 1;
	if (s < 172800)
		return *n = s / 3600, 2;
	return *n = s / 86400, 3;
}

static void
print_daemon_verdict(const struct verdicts *v, const char *domain)
{
	long long n;
	int unit;

	for (size_t i = 0; i < v->n; i++) {
		if (strcmp(v->v[i].domain, domain) != 0)
			continue;
		unit = age(util_now_us() / 1000 - v->v[i].checked, &n);
		fputs("  ", stdout);
		print_ago(unit, n, v->v[i].state == GATE_READY, v->v[i].state == GATE_READY ?
		    domain : v->v[i].reason);
		fputc('\n', stdout);
		return;
	}
}

/* status_label - pass, warn, fail in the user's language (JSON keeps the tokens). */
static const char *
status_label(enum doctor_status st)
{
	switch (st) {
	case DOCTOR_PASS:
		/* TRANSLATORS: the status of one of doctor's checks, in a column 4
		 * wide (two Japanese characters fit). */
		return _("pass");
	case DOCTOR_WARN:
		return _("warn");
	case DOCTOR_FAIL:
		break;
	}
	return _("fail");
}

static void
print_heading(const struct doctor_report *r)
{
	char ips[DOCTOR_IPS_MAX * 50] = "";
	size_t o = 0;

	for (size_t i = 0; i < r->nips; i++)
		o += (size_t)snprintf(ips + o, sizeof(ips) - o, "%s%s", i ? ", " : "", r->ip[i]);
	if (r->nips == 0)
		printf(_("%s (relay addresses unknown)\n"), r->domain);
	else
		/* TRANSLATORS: the domain, then the relay's addresses (a list). */
		printf(ngettext("%s (relay address %s)\n", "%s (relay addresses %s)\n",
		    (unsigned long)r->nips), r->domain, ips);
}

static void
print_text(const struct doctor_report *r, const struct verdicts *v)
{
	char summary[4096];

	print_heading(r);
	for (size_t i = 0; i < r->nchecks; i++) {
		const struct doctor_check *c = &r->checks[i];

		fputs("  ", stdout);
		i18n_fputs_pad(status_label(c->status), 4, stdout);
		printf("  %-8s %s\n", doctor_area_name(c->area), c->message);
		if (c->fix[0])
			/* TRANSLATORS: the label before a check's fix (what to publish or do). */
			printf("%17s%s %s\n", "", _("fix:"), c->fix);
	}
	doctor_readiness(r, summary, sizeof(summary));
	for (char *line = strtok(summary, "\n"); line != NULL; line = strtok(NULL, "\n"))
		printf("  %s\n", line);
	print_daemon_verdict(v, r->domain);
}

/* --- the daemon's verdicts --- */

static void
collect_verdict(void *arg, const char *const *cols, int ncols)
{
	struct verdicts *v = arg;

	if (v->n == DOCTOR_DOMAINS_MAX || ncols < 4)
		return;
	util_strlcpy(v->v[v->n].domain, cols[0], sizeof(v->v[0].domain));
	v->v[v->n].checked = strtoll(cols[1], NULL, 10);
	if (gate_state_parse(cols[2], &v->v[v->n].state) == -1)
		v->v[v->n].state = GATE_UNKNOWN;
	util_strlcpy(v->v[v->n].reason, cols[3], sizeof(v->v[0].reason));
	v->n++;
}

static const struct verdicts *
find_fresh(const struct verdicts *v, const char *domain, int64_t since, size_t *at)
{
	for (size_t i = 0; i < v->n; i++)
		if (strcmp(v->v[i].domain, domain) == 0 && v->v[i].checked >= since) {
			*at = i;
			return v;
		}
	return NULL;
}

/* wait_fresh - poll the store until every domain has a verdict from since on. */
static bool
wait_fresh(struct store *st, struct verdicts *v, char (*d)[DNS_NAME_MAX + 1], size_t nd,
    int64_t since)
{
	int64_t deadline = util_now_us() / 1000 + REFRESH_WAIT_MS;
	size_t i, at;

	do {
		v->n = 0;
		if (store_doctor_list(st, collect_verdict, v) != STORE_OK)
			return false;
		for (i = 0; i < nd && find_fresh(v, d[i], since, &at) != NULL; i++)
			;
		if (i == nd)
			return true;
		usleep(200000);
	} while (util_now_us() / 1000 < deadline);
	return false;
}

/* all_granted - whether the daemon checks each of d (it checks the granted domains). */
static bool
all_granted(struct store *st, char (*d)[DNS_NAME_MAX + 1], size_t nd)
{
	char (*g)[DNS_NAME_MAX + 1] = xcalloc(DOCTOR_DOMAINS_MAX, sizeof(*g));
	int ng = doctor_domains(st, g, DOCTOR_DOMAINS_MAX), k;
	bool ok = true;

	for (size_t i = 0; i < nd && ok; i++) {
		for (k = 0; k < ng && strcmp(g[k], d[i]) != 0; k++)
			;
		if (k >= ng) {
			/* TRANSLATORS: the domain, twice. */
			fprintf(stderr, _("hikyaku: doctor --refresh: no grant covers %s, and the"
			    " daemon checks only granted domains; run \"hikyaku doctor %s\" to check"
			    " it now\n"), d[i], d[i]);
			ok = false;
		}
	}
	free(g);
	return ok;
}

static int
refresh(const struct config *cfg, struct store *st, char (*d)[DNS_NAME_MAX + 1], size_t nd,
    struct verdicts *v)
{
	pid_t pid = pidfile_daemon(cfg);
	int64_t since = util_now_us() / 1000;
	size_t i, at = 0;
	int rc = 0;

	if (cfg->builtin) {
		fputs(_("hikyaku: doctor --refresh: the daemon runs no readiness checks on the"
		    " built-in configuration; run \"hikyaku doctor\" without --refresh\n"), stderr);
		return 1;
	}
	if (pid <= 0) {
		fprintf(stderr, _("hikyaku: doctor --refresh: no daemon is running on spool %s;"
		    " run \"hikyaku doctor\" without --refresh to check now\n"), cfg->spool);
		return 1;
	}
	if (!all_granted(st, d, nd))
		return 1;
	if (kill(pid, SIGUSR1) == -1) {
		fprintf(stderr, _("hikyaku: doctor --refresh: cannot signal the daemon (pid %d):"
		    " %s\n"), (int)pid, strerror(errno));
		return 1;
	}
	if (!wait_fresh(st, v, d, nd, since)) {
		fprintf(stderr, _("hikyaku: doctor --refresh: the daemon (pid %d) gave no new"
		    " verdict within %d seconds; see its log\n"), (int)pid, REFRESH_WAIT_MS / 1000);
		return 1;
	}
	for (i = 0; i < nd; i++) {
		find_fresh(v, d[i], since, &at);
		if (v->v[at].state == GATE_READY)
			printf(_("%s: ready\n"), d[i]);
		else if (v->v[at].state == GATE_NOT_READY)
			/* TRANSLATORS: the domain, then the daemon's verdict: its reply text
			 * (English: it is an SMTP reply). */
			printf(_("%s: not-ready: %s\n"), d[i], v->v[at].reason);
		else
			/* TRANSLATORS: the domain, then the daemon's verdict: its reply text
			 * (English: it is an SMTP reply). */
			printf(_("%s: unknown: %s\n"), d[i], v->v[at].reason);
		rc |= v->v[at].state != GATE_READY;
	}
	return rc;
}

/* --- the verb --- */

static int
domains(const struct doctor_args *a, struct store *st, char (*d)[DNS_NAME_MAX + 1])
{
	int n;

	for (size_t i = 0; i < a->ndomains; i++)
		if (!norm_domain(a->domains[i], d[i], DNS_NAME_MAX + 1)) {
			fprintf(stderr, _("hikyaku: doctor: %s is not a domain name (expected"
			    " example.jp)\n"), a->domains[i]);
			return -2;
		}
	if (a->ndomains > 0)
		return (int)a->ndomains;
	if ((n = doctor_domains(st, d, DOCTOR_DOMAINS_MAX)) == -1)
		fprintf(stderr, _("hikyaku: doctor: cannot read the grants: %s\n"),
		    store_errmsg(st));
	else if (n == 0)
		fputs(_("hikyaku: doctor: no grant covers a domain yet; name one: hikyaku doctor"
		    " example.jp\n"), stderr);
	return n > 0 ? n : -1;
}

static int
check_all(const struct config *cfg, struct store *st, const struct doctor_args *a,
    char (*d)[DNS_NAME_MAX + 1], size_t nd, struct verdicts *v)
{
	struct doctor_report *r = xcalloc(1, sizeof(*r));
	struct doctor_env env;
	char err[512];
	int rc = 0;

	if (doctor_env_init(&env, cfg, st, a->ips, a->nips, err, sizeof(err)) == -1) {
		fprintf(stderr, "hikyaku: doctor: %s\n", err);
		free(r);
		return a->nips > 0 ? 2 : 1;
	}
	store_doctor_list(st, collect_verdict, v);
	for (size_t i = 0; i < nd; i++) {
		doctor_run(&env, d[i], r);
		if (a->json)
			print_json(r);
		else
			print_text(r, v);
		fflush(stdout);
		rc |= doctor_failed(r);
	}
	doctor_env_free(&env);
	free(r);
	return rc;
}

int
cli_doctor(struct config *cfg, int argc, char **argv)
{
	struct doctor_args a = { .ndomains = 0 };
	char (*d)[DNS_NAME_MAX + 1] = NULL;
	struct verdicts *v = NULL;
	struct store *st;
	int n, rc = 1;

	if (parse_args(argc, argv, &a) == -1 || (a.refresh && (a.json || a.nips > 0)))
		return cli_usage(use);
	if ((st = cli_open_store(cfg)) == NULL)
		return 1;
	d = xcalloc(DOCTOR_DOMAINS_MAX, sizeof(*d));
	v = xcalloc(1, sizeof(*v));
	if ((n = domains(&a, st, d)) < 0) {
		rc = n == -2 ? 2 : 1;
		goto done;
	}
	if (a.refresh)
		rc = refresh(cfg, st, d, (size_t)n, v);
	else
		rc = check_all(cfg, st, &a, d, (size_t)n, v);
done:
	free(d);
	free(v);
	store_close(st);
	return rc;
}
