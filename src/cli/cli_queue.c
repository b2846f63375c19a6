/*
 * cli_queue.c - "queue": list, show, flush, retry, delete and bounce, while
 * the daemon runs: flush, retry and bounce tell it at once (SIGUSR2
 * through its pid file); a deleted message is skipped when its turn comes.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/config.h"
#include "base/store.h"
#include "cli/cli.h"
#include "deliver/outcome.h"
#include "dkim/dkim_sign.h"
#include "lib/util.h"
#include "lib/i18n.h"

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
	struct store_per_thread *stores;
	enum store_result r;
	char db[4096];

	if ((r = store_msg_rcpts(st, id, collect_pending, p)) != STORE_OK || p->n == 0) {
		free(p);
		return cli_done(st, r == STORE_OK ? STORE_NOTFOUND : r, "queue message", id);
	}
	util_strlcpy(o.msg, id, sizeof(o.msg));
	o.rcpts = p->rcpts;
	o.n = p->n;
	o.now = util_now();
	o.cfg = cfg;
	config_db_path(cfg, db, sizeof(db));
	stores = store_per_thread_new(db);
	o.signer = dkim_signer_new(db, stores);	/* the DSN is signed as the daemon's are */
	if ((r = store_begin(st)) == STORE_OK && (r = outcome_apply(st, &o)) == STORE_OK)
		r = store_commit(st);
	else
		store_rollback(st);
	if (r == STORE_OK) {
		outcome_log(&o);
		cli_tell_daemon(cfg, SIGUSR2);	/* the DSN goes out now */
	}
	dkim_signer_free(o.signer);
	store_per_thread_free(stores);
	free(p);
	return cli_done(st, r, "queue bounce", id);
}

int
cli_queue(struct config *cfg, int argc, char **argv)
{
	static const char *const use = N_("queue list | show ID | flush | retry ID | delete ID |"
	    " bounce ID");
	struct store *st;
	enum store_result r;
	int count = 0;

	if (argc < 2 || argc > 3 || (argc == 3) != (strcmp(argv[1], "list") != 0 &&
	    strcmp(argv[1], "flush") != 0))
		return cli_usage(use);
	if ((st = cli_open_store(cfg)) == NULL)
		return 1;
	if (strcmp(argv[1], "list") == 0) {
		r = store_queue_list(st, print_queue_row, &count);
		if (r == STORE_OK)
			printf(ngettext("-- %d message\n", "-- %d messages\n", (unsigned long)count), count);
		return cli_done(st, r, "queue list", "");
	}
	if (strcmp(argv[1], "show") == 0)
		return cli_done(st, store_queue_show(st, argv[2], stdout), "queue message", argv[2]);
	if (strcmp(argv[1], "flush") == 0) {
		if ((r = store_queue_flush(st, NULL)) == STORE_NOTFOUND)
			r = STORE_OK;
		if (r == STORE_OK)
			cli_tell_daemon(cfg, SIGUSR2);
		return cli_done(st, r, "queue flush", "");
	}
	if (strcmp(argv[1], "retry") == 0) {
		if ((r = store_queue_flush(st, argv[2])) == STORE_OK)
			cli_tell_daemon(cfg, SIGUSR2);
		return cli_done(st, r, "queue message with pending recipients", argv[2]);
	}
	if (strcmp(argv[1], "delete") == 0) {
		if ((r = store_msg_delete(st, argv[2])) == STORE_OK)
			log_info("%s: removed by the administrator (queue delete)", argv[2]);
		return cli_done(st, r, "queue message", argv[2]);
	}
	if (strcmp(argv[1], "bounce") == 0)
		return queue_bounce(cfg, st, argv[2]);
	store_close(st);
	return cli_usage(use);
}

