/*
 * cli_dkim.c - "hikyaku dkim keygen|list|show|del" and the check-config
 * warning for granted domains without a key.
 *
 * Keys live in SPOOL/dkim/DOMAIN.SELECTOR.pem (directory 0700, files 0600,
 * owned by the service user: the store is opened, and root dropped, before
 * anything is written). The store lists them; the signer reads them.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "base/config.h"
#include "dkim/dkim.h"
#include "dkim/dkim_sign.h"
#include "base/store.h"
#include "lib/util.h"
#include "lib/i18n.h"

#define TXT_CHUNK 255		/* bytes per quoted string in a TXT record */
#define MAX_DOMAINS 1024	/* granted domains checked by check-config */

static const char *const use = N_("dkim keygen DOMAIN [--selector S] [--algo rsa|ed25519]"
    " [--bits 2048|3072] | list [DOMAIN] | show DOMAIN SELECTOR | del DOMAIN SELECTOR");

static int
usage(void)
{
	return cli_usage(use);
}

/* lower_copy - s lower-cased into out; false when it does not fit. */
static bool
lower_copy(const char *s, char *out, size_t outsz)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i + 1 >= outsz)
			return false;
		out[i] = (char)tolower((unsigned char)s[i]);
	}
	out[i] = '\0';
	return true;
}

/* default_selector - "sYYYYMM" and "r" or "e": dated, distinct per algorithm. */
static void
default_selector(enum dkim_algo algo, char *out, size_t outsz)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	snprintf(out, outsz, "s%04d%02d%c", tm.tm_year + 1900, tm.tm_mon + 1,
	    algo == DKIM_RSA_SHA256 ? 'r' : 'e');
}

/* print_record - the TXT record in zone-file form, strings of <= 255 bytes. */
static void
print_record(const char *domain, const char *selector, const struct dkim_key *k,
    const char *keyfile)
{
	char *txt = dkim_key_txt(k);
	size_t len = strlen(txt), i, n;

	printf(_("; DKIM key for %s: selector %s, %s, %d bits\n"), domain, selector,
	    dkim_algo_name(dkim_key_algo(k)), dkim_key_bits(k));
	printf(_("; private key: %s\n"), keyfile);
	printf(_("; publish this TXT record in the zone of %s, then check it with\n"), domain);
	printf(_(";   dig +short TXT %s._domainkey.%s\n"), selector, domain);
	printf("%s._domainkey.%s. IN TXT (", selector, domain);
	for (i = 0; i < len; i += n) {
		n = len - i > TXT_CHUNK ? TXT_CHUNK : len - i;
		printf("%s\"%.*s\"", i == 0 ? " " : "\n\t", (int)n, txt + i);
	}
	printf(" )\n");
	free(txt);
}

struct keygen_args {
	char domain[DKIM_DOMAIN_MAX + 1];
	char selector[DKIM_SELECTOR_MAX + 1];
	enum dkim_algo algo;
	int bits;
};

static int
parse_keygen(int argc, char **argv, struct keygen_args *a)
{
	const char *sel = NULL;
	bool bits_given = false;
	int i;

	a->algo = DKIM_RSA_SHA256;
	a->bits = 2048;
	if (argc < 3 || !lower_copy(argv[2], a->domain, sizeof(a->domain)) ||
	    !dkim_valid_domain(a->domain)) {
		fprintf(stderr, _("hikyaku: dkim keygen: %s is not a domain name (expected"
		    " example.jp: letters, digits, hyphens, at least two labels)\n"),
		    argc < 3 ? "(none)" : argv[2]);
		return -1;
	}
	for (i = 3; i < argc; i += 2) {
		if (i + 1 >= argc)
			return -2;
		if (strcmp(argv[i], "--selector") == 0)
			sel = argv[i + 1];
		else if (strcmp(argv[i], "--algo") == 0 && strcmp(argv[i + 1], "rsa") == 0)
			a->algo = DKIM_RSA_SHA256;
		else if (strcmp(argv[i], "--algo") == 0 && strcmp(argv[i + 1], "ed25519") == 0)
			a->algo = DKIM_ED25519_SHA256;
		else if (strcmp(argv[i], "--bits") == 0 && (strcmp(argv[i + 1], "2048") == 0 ||
		    strcmp(argv[i + 1], "3072") == 0)) {
			a->bits = atoi(argv[i + 1]);
			bits_given = true;
		} else
			return -2;
	}
	if (bits_given && a->algo != DKIM_RSA_SHA256) {
		fprintf(stderr, _("hikyaku: dkim keygen: --bits is for RSA keys only\n"));
		return -1;
	}
	if (sel == NULL)
		default_selector(a->algo, a->selector, sizeof(a->selector));
	else if (!lower_copy(sel, a->selector, sizeof(a->selector)) ||
	    !dkim_valid_selector(a->selector)) {
		fprintf(stderr, _("hikyaku: dkim keygen: %s is not a selector (letters, digits,"
		    " hyphens, dots; at most %d characters)\n"), sel, DKIM_SELECTOR_MAX);
		return -1;
	}
	return 0;
}

struct find_arg {
	const char *selector;
	char *out;
	size_t outsz;
	bool found;
};

static void
match_selector(void *arg, const char *const *cols, int ncols)
{
	struct find_arg *f = arg;

	if (!f->found && strcmp(cols[1], f->selector) == 0) {
		util_strlcpy(f->out, cols[3], f->outsz);
		f->found = true;
	}
}

/* find_keyfile - the key file of (domain, selector) into out; *found false if none. */
static enum store_result
find_keyfile(struct store *st, const char *domain, const char *selector, char *out,
    size_t outsz, bool *found)
{
	struct find_arg f = { selector, out, outsz, false };
	enum store_result r = store_dkim_list(st, domain, match_selector, &f);

	*found = f.found;
	return r;
}

static int
keygen(struct config *cfg, int argc, char **argv)
{
	struct keygen_args a;
	struct dkim_key *k = NULL;
	struct store *st = NULL;
	char err[512], rel[512], path[4096 + 512], dir[4096 + 8];
	enum store_result r;
	bool found;
	int rc = 1;

	if ((rc = parse_keygen(argc, argv, &a)) != 0)
		return rc == -2 ? usage() : 1;
	rc = 1;
	if ((st = cli_open_store(cfg)) == NULL)
		return 1;
	if ((r = find_keyfile(st, a.domain, a.selector, rel, sizeof(rel), &found)) != STORE_OK) {
		fprintf(stderr, "hikyaku: dkim keygen: %s\n", store_errmsg(st));
		goto done;
	}
	if (found) {
		fprintf(stderr, _("hikyaku: dkim keygen: %s already has a key with selector %s"
		    " (choose another with --selector)\n"), a.domain, a.selector);
		goto done;
	}
	snprintf(dir, sizeof(dir), "%s/dkim", cfg->spool);
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		fprintf(stderr, _("hikyaku: cannot create %s: %s\n"), dir, strerror(errno));
		goto done;
	}
	snprintf(rel, sizeof(rel), "dkim/%s.%s.pem", a.domain, a.selector);
	snprintf(path, sizeof(path), "%s/%s", cfg->spool, rel);
	if ((k = dkim_key_generate(a.algo, a.bits, err, sizeof(err))) == NULL ||
	    dkim_key_write(k, path, err, sizeof(err)) == -1) {
		fprintf(stderr, "hikyaku: dkim keygen: %s\n", err);
		goto done;
	}
	if (store_dkim_add(st, a.domain, a.selector, dkim_algo_name(a.algo), rel) != STORE_OK) {
		fprintf(stderr, "hikyaku: dkim keygen: %s\n", store_errmsg(st));
		unlink(path);
		goto done;
	}
	print_record(a.domain, a.selector, k, path);
	rc = 0;
done:
	dkim_key_free(k);
	store_close(st);
	return rc;
}

static void
print_key(void *arg, const char *const *cols, int ncols)
{
	int *count = arg;

	printf("%s\t%s\t%s\t%s\t%s\n", cols[0], cols[1], cols[2], cols[4], cols[3]);
	(*count)++;
}

static int
list(struct config *cfg, const char *domain)
{
	struct store *st;
	enum store_result r;
	int count = 0;

	if ((st = cli_open_store(cfg)) == NULL)
		return 1;
	r = store_dkim_list(st, domain, print_key, &count);
	if (r != STORE_OK)
		fprintf(stderr, "hikyaku: dkim list: %s\n", store_errmsg(st));
	else
		printf(ngettext("-- %d key\n", "-- %d keys\n", (unsigned long)count), count);
	store_close(st);
	return r == STORE_OK ? 0 : 1;
}

/* key_path - keyfile as the signer reads it: relative to the spool. */
static void
key_path(const struct config *cfg, const char *keyfile, char *out, size_t outsz)
{
	if (keyfile[0] == '/')
		util_strlcpy(out, keyfile, outsz);
	else
		snprintf(out, outsz, "%s/%s", cfg->spool, keyfile);
}

/* show_or_del - look the key up; print its record, or delete it and its file. */
static int
show_or_del(struct config *cfg, const char *domain_arg, const char *selector, bool del)
{
	char domain[DKIM_DOMAIN_MAX + 1], keyfile[4096], path[8192], err[512];
	struct store *st;
	struct dkim_key *k;
	bool found = false;
	int rc = 1;

	if (!lower_copy(domain_arg, domain, sizeof(domain))) {
		fprintf(stderr, _("hikyaku: dkim: %s is not a domain name\n"), domain_arg);
		return 1;
	}
	if ((st = cli_open_store(cfg)) == NULL)
		return 1;
	if (find_keyfile(st, domain, selector, keyfile, sizeof(keyfile), &found) != STORE_OK) {
		fprintf(stderr, "hikyaku: dkim: %s\n", store_errmsg(st));
		goto done;
	}
	if (!found) {
		fprintf(stderr, _("hikyaku: dkim: %s has no key with selector %s\n"), domain, selector);
		goto done;
	}
	key_path(cfg, keyfile, path, sizeof(path));
	if (!del) {
		if ((k = dkim_key_load(path, err, sizeof(err))) == NULL) {
			fprintf(stderr, "hikyaku: dkim show: %s\n", err);
			goto done;
		}
		print_record(domain, selector, k, path);
		dkim_key_free(k);
		rc = 0;
		goto done;
	}
	if (store_dkim_del(st, domain, selector) != STORE_OK) {
		fprintf(stderr, "hikyaku: dkim del: %s\n", store_errmsg(st));
		goto done;
	}
	if (unlink(path) == -1 && errno != ENOENT)
		fprintf(stderr, _("hikyaku: dkim del: cannot remove %s: %s\n"), path, strerror(errno));
	printf(_("deleted key %s of %s; remove the TXT record %s._domainkey.%s once no"
	    " message signed with it is in transit\n"), selector, domain, selector, domain);
	rc = 0;
done:
	store_close(st);
	return rc;
}

int
cli_dkim(struct config *cfg, int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "keygen") == 0)
		return keygen(cfg, argc, argv);
	if (argc >= 2 && argc <= 3 && strcmp(argv[1], "list") == 0)
		return list(cfg, argc == 3 ? argv[2] : NULL);
	if (argc == 4 && strcmp(argv[1], "show") == 0)
		return show_or_del(cfg, argv[2], argv[3], false);
	if (argc == 4 && strcmp(argv[1], "del") == 0)
		return show_or_del(cfg, argv[2], argv[3], true);
	return usage();
}

/* --- check-config --- */

struct grant_domains {
	size_t n;
	char *domain[MAX_DOMAINS];
	char *account[MAX_DOMAINS];
};

static void
collect_domain(void *arg, const char *const *cols, int ncols)
{
	struct grant_domains *g = arg;
	const char *at = strrchr(cols[1], '@');
	char d[DKIM_DOMAIN_MAX + 1];
	size_t i;

	if (at == NULL || !lower_copy(at + 1, d, sizeof(d)) || g->n >= MAX_DOMAINS)
		return;
	for (i = 0; i < g->n; i++)
		if (strcmp(g->domain[i], d) == 0)
			return;
	g->domain[g->n] = xstrdup(d);
	g->account[g->n++] = xstrdup(cols[0]);
}

static void
count_row(void *arg, const char *const *cols, int ncols)
{
	(*(int *)arg)++;
}

/* has_key - whether d or a parent of it has a key; -1 on a store error. */
static int
has_key(struct store *st, const char *d)
{
	int rows = 0;

	for (; d != NULL; d = dkim_parent_domain(d)) {
		if (store_dkim_for_domain(st, d, count_row, &rows) != STORE_OK)
			return -1;
		if (rows > 0)
			return 1;
	}
	return 0;
}

int
cli_dkim_check(const struct config *cfg)
{
	struct grant_domains *g;
	struct store *st;
	struct stat sb;
	char db[4096];
	int warnings = 0, h;
	size_t i;

	config_db_path(cfg, db, sizeof(db));
	if (stat(db, &sb) == -1)
		return 0;	/* no database yet: no grants */
	if ((st = cli_open_store(cfg)) == NULL)
		return 0;
	g = xcalloc(1, sizeof(*g));
	if (store_grant_list(st, NULL, collect_domain, g) != STORE_OK)
		fprintf(stderr, _("%s: warning: cannot read grants: %s\n"), cfg->path, store_errmsg(st));
	for (i = 0; i < g->n; i++) {
		if ((h = has_key(st, g->domain[i])) == -1) {
			fprintf(stderr, _("%s: warning: cannot read DKIM keys: %s\n"), cfg->path,
			    store_errmsg(st));
			break;
		}
		if (h == 0) {
			fprintf(stderr, _("%s: warning: no DKIM key for %s (granted to %s): its mail"
			    " is relayed unsigned; run \"hikyaku dkim keygen %s\"\n"), cfg->path,
			    g->domain[i], g->account[i], g->domain[i]);
			warnings++;
		}
	}
	for (i = 0; i < g->n; i++) {
		free(g->domain[i]);
		free(g->account[i]);
	}
	free(g);
	store_close(st);
	return warnings;
}
