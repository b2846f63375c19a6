/*
 * cli.c - account, grant, queue and check-config subcommands.
 *
 * Scripts drive all of them: no prompts, passwords on stdin, exit status 0
 * on success, 1 with a message on stderr otherwise.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "submit/auth.h"
#include "cli/cli.h"
#include "base/config.h"
#include "lib/log.h"
#include "deliver/outcome.h"
#include "submit/policy.h"
#include "base/priv.h"
#include "base/store.h"
#include "base/tls.h"
#include "lib/util.h"

#define GENERATED_PASSWORD_LEN 20

static int
usage(const char *text)
{
	fprintf(stderr, "usage: hikyaku %s\n", text);
	return 2;
}

struct store *
cli_open_store(const struct config *cfg)
{
	char err[512], db[4096];
	struct store *st;

	if (priv_prepare_spool(cfg, err, sizeof(err)) == -1 || priv_drop(cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "hikyaku: %s\n", err);
		return NULL;
	}
	config_db_path(cfg, db, sizeof(db));
	if ((st = store_open(db, err, sizeof(err))) == NULL)
		fprintf(stderr, "hikyaku: %s\n", err);
	return st;
}

/* done - map a store result to an exit status, explaining failures. */
static int
done(struct store *st, enum store_result r, const char *what, const char *name)
{
	int rc = 0;

	if (r == STORE_NOTFOUND) {
		fprintf(stderr, "hikyaku: %s: %s not found\n", what, name);
		rc = 1;
	} else if (r == STORE_EXISTS) {
		fprintf(stderr, "hikyaku: %s: %s already exists\n", what, name);
		rc = 1;
	} else if (r != STORE_OK) {
		fprintf(stderr, "hikyaku: %s: %s\n", what, store_errmsg(st));
		rc = 1;
	}
	store_close(st);
	return rc;
}

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
		printf("password: %s\n", pw);
		return 0;
	}
	if (fgets(pw, (int)pwsz, stdin) == NULL) {
		fprintf(stderr, "hikyaku: no password on standard input (use --generate to make one)\n");
		return -1;
	}
	pw[strcspn(pw, "\r\n")] = '\0';
	if (pw[0] == '\0' || strlen(pw) >= AUTH_PASS_MAX) {
		fprintf(stderr, "hikyaku: the password must be 1 to %d characters\n", AUTH_PASS_MAX - 1);
		return -1;
	}
	return 0;
}

static int
account_set(struct config *cfg, const char *name, bool generate, bool add)
{
	char pw[AUTH_PASS_MAX + 2], hash[256];
	struct store *st;
	enum store_result r;

	if (!valid_account_name(name)) {
		fprintf(stderr, "hikyaku: account names are 1 to %d letters, digits or ._@+-\n",
		    STORE_NAME_MAX);
		return 1;
	}
	if (read_password(generate, pw, sizeof(pw)) == -1)
		return 1;
	if (auth_hash_password(pw, hash, sizeof(hash)) == -1) {
		fprintf(stderr, "hikyaku: crypt(3) failed to hash the password\n");
		return 1;
	}
	explicit_bzero(pw, sizeof(pw));
	if ((st = cli_open_store(cfg)) == NULL)
		return 1;
	r = add ? store_account_add(st, name, hash) : store_account_set_hash(st, name, hash);
	return done(st, r, "account", name);
}

static void
print_account(void *arg, const char *const *cols, int ncols)
{
	printf("%s\tcreated=%s\tgrants=%s\ttrusted=%s\n", cols[0], cols[1],
	    *cols[2] ? cols[2] : "-", *cols[3] ? cols[3] : "-");
}

static int
account_trust(struct config *cfg, const char *name, const char *cidr, bool add)
{
	struct policy_cidr c;
	struct store *st;

	if (policy_cidr_parse(cidr, &c) == -1) {
		fprintf(stderr, "hikyaku: %s is not a network (expected 192.0.2.0/24 or 2001:db8::/32)\n",
		    cidr);
		return 1;
	}
	if ((st = cli_open_store(cfg)) == NULL)
		return 1;
	return done(st, add ? store_trust_add(st, name, cidr) : store_trust_del(st, name, cidr),
	    add ? "account trust" : "account untrust", add ? name : cidr);
}

int
cli_account(struct config *cfg, int argc, char **argv)
{
	static const char use[] = "account add|passwd NAME [--generate] | del NAME | list |"
	    " trust|untrust NAME CIDR";
	bool gen = argc == 4 && strcmp(argv[3], "--generate") == 0;
	struct store *st;

	if (argc < 2)
		return usage(use);
	if (strcmp(argv[1], "add") == 0 && (argc == 3 || gen))
		return account_set(cfg, argv[2], gen, true);
	if (strcmp(argv[1], "passwd") == 0 && (argc == 3 || gen))
		return account_set(cfg, argv[2], gen, false);
	if (strcmp(argv[1], "trust") == 0 && argc == 4)
		return account_trust(cfg, argv[2], argv[3], true);
	if (strcmp(argv[1], "untrust") == 0 && argc == 4)
		return account_trust(cfg, argv[2], argv[3], false);
	if (strcmp(argv[1], "del") == 0 && argc == 3) {
		if ((st = cli_open_store(cfg)) == NULL)
			return 1;
		return done(st, store_account_del(st, argv[2]), "account", argv[2]);
	}
	if (strcmp(argv[1], "list") == 0 && argc == 2) {
		if ((st = cli_open_store(cfg)) == NULL)
			return 1;
		return done(st, store_account_list(st, print_account, NULL), "account list", "");
	}
	return usage(use);
}

static void
print_grant(void *arg, const char *const *cols, int ncols)
{
	printf("%s\t%s\n", cols[0], cols[1]);
}

int
cli_grant(struct config *cfg, int argc, char **argv)
{
	static const char use[] = "grant add|del NAME user@example.jp|@example.jp | list [NAME]";
	struct store *st;
	char pattern[ADDR_MAX + 2];

	if (argc >= 2 && strcmp(argv[1], "list") == 0 && argc <= 3) {
		if ((st = cli_open_store(cfg)) == NULL)
			return 1;
		return done(st, store_grant_list(st, argc == 3 ? argv[2] : NULL, print_grant, NULL),
		    "grant list", "");
	}
	if (argc != 4 || (strcmp(argv[1], "add") != 0 && strcmp(argv[1], "del") != 0))
		return usage(use);
	if (!policy_grant_valid(argv[3])) {
		fprintf(stderr, "hikyaku: %s is neither an address (user@example.jp) nor a domain"
		    " (@example.jp)\n", argv[3]);
		return 1;
	}
	/* store domains lower-case, as the address parser does */
	util_strlcpy(pattern, argv[3], sizeof(pattern));
	for (char *p = strrchr(pattern, '@'); p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if ((st = cli_open_store(cfg)) == NULL)
		return 1;
	if (strcmp(argv[1], "add") == 0)
		return done(st, store_grant_add(st, argv[2], pattern), "grant", pattern);
	return done(st, store_grant_del(st, argv[2], pattern), "grant", pattern);
}

struct pending_arg {
	struct outcome_rcpt rcpts[1000];
	size_t n;
};

/* collect_pending - recipients not yet final, as administrator-failed outcomes. */
static void
collect_pending(void *arg, const char *const *cols, int ncols)
{
	struct pending_arg *p = arg;
	struct outcome_rcpt *r;

	if (p->n >= sizeof(p->rcpts) / sizeof(p->rcpts[0]) ||
	    (strcmp(cols[1], RCPT_QUEUED) != 0 && strcmp(cols[1], RCPT_DEFERRED) != 0))
		return;
	r = &p->rcpts[p->n++];
	util_strlcpy(r->rcpt, cols[0], sizeof(r->rcpt));
	r->kind = REPLY_PERMFAIL;
	snprintf(r->reply, sizeof(r->reply), "returned to the sender by the relay's administrator%s%s",
	    *cols[3] ? "; last error: " : "", cols[3]);
	util_strlcpy(r->dsn, "5.0.0", sizeof(r->dsn));
	util_strlcpy(r->relay, *cols[5] ? cols[5] : "none", sizeof(r->relay));
	util_strlcpy(r->tls, "none", sizeof(r->tls));
}

static void
format_age(int64_t secs, char *out, size_t outsz)
{
	if (secs < 120)
		snprintf(out, outsz, "%llds", (long long)secs);
	else if (secs < 7200)
		snprintf(out, outsz, "%lldm", (long long)secs / 60);
	else if (secs < 2 * 86400)
		snprintf(out, outsz, "%lldh", (long long)secs / 3600);
	else
		snprintf(out, outsz, "%lldd", (long long)secs / 86400);
}

static void
print_queue_row(void *arg, const char *const *cols, int ncols)
{
	int *count = arg;
	char age[32];

	format_age(util_now() - strtoll(cols[2], NULL, 10), age, sizeof(age));
	printf("%-12s %8s %5s %-7s <%s> -> %s\n", cols[0], cols[1], age, cols[5], cols[3], cols[4]);
	(*count)++;
}

/* queue_bounce - fail every pending recipient of id now, with a DSN to the sender. */
static int
queue_bounce(struct config *cfg, struct store *st, const char *id)
{
	struct outcome o = { 0 };
	struct pending_arg *p = xcalloc(1, sizeof(*p));
	enum store_result r;

	if ((r = store_msg_rcpts(st, id, collect_pending, p)) != STORE_OK || p->n == 0) {
		free(p);
		return done(st, r == STORE_OK ? STORE_NOTFOUND : r, "queue message", id);
	}
	util_strlcpy(o.msg, id, sizeof(o.msg));
	o.rcpts = p->rcpts;
	o.n = p->n;
	o.now = util_now();
	o.cfg = cfg;
	if ((r = store_begin(st)) == STORE_OK && (r = outcome_apply(st, &o)) == STORE_OK)
		r = store_commit(st);
	else
		store_rollback(st);
	if (r == STORE_OK)
		outcome_log(&o);
	free(p);
	return done(st, r, "queue bounce", id);
}

int
cli_queue(struct config *cfg, int argc, char **argv)
{
	static const char use[] = "queue list | show ID | flush | retry ID | delete ID | bounce ID";
	struct store *st;
	enum store_result r;
	int count = 0;

	if (argc < 2 || argc > 3 || (argc == 3) != (strcmp(argv[1], "list") != 0 &&
	    strcmp(argv[1], "flush") != 0))
		return usage(use);
	if ((st = cli_open_store(cfg)) == NULL)
		return 1;
	if (strcmp(argv[1], "list") == 0) {
		r = store_queue_list(st, print_queue_row, &count);
		if (r == STORE_OK)
			printf("-- %d message%s\n", count, count == 1 ? "" : "s");
		return done(st, r, "queue list", "");
	}
	if (strcmp(argv[1], "show") == 0)
		return done(st, store_queue_show(st, argv[2], stdout), "queue message", argv[2]);
	if (strcmp(argv[1], "flush") == 0) {
		r = store_queue_flush(st, NULL);
		return done(st, r == STORE_NOTFOUND ? STORE_OK : r, "queue flush", "");
	}
	if (strcmp(argv[1], "retry") == 0)
		return done(st, store_queue_flush(st, argv[2]), "queue message with pending recipients",
		    argv[2]);
	if (strcmp(argv[1], "delete") == 0) {
		if ((r = store_msg_delete(st, argv[2])) == STORE_OK)
			log_info("%s: removed by the administrator (queue delete)", argv[2]);
		return done(st, r, "queue message", argv[2]);
	}
	if (strcmp(argv[1], "bounce") == 0)
		return queue_bounce(cfg, st, argv[2]);
	store_close(st);
	return usage(use);
}

int
cli_check_config(struct config *cfg)
{
	struct tls_ctx *t;
	char err[512];

	if (cfg->tls_cert != NULL) {
		tls_init();
		if ((t = tls_server_new(cfg->tls_cert, cfg->tls_key, err, sizeof(err))) == NULL) {
			fprintf(stderr, "%s: %s\n", cfg->path, err);
			return 1;
		}
		tls_free(t);
	}
	cli_dkim_check(cfg);	/* warnings only */
	printf("%s: configuration OK\n", cfg->path);
	return 0;
}
