/*
 * status.c - "hikyaku status": the daemon's answer on the control socket
 * (status_write) and the screen the CLI makes of it and of the store
 * (status_print).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/config.h"
#include "base/metrics.h"
#include "base/store.h"
#include "base/tls.h"
#include "deliver/outcome.h"
#include "lib/util.h"
#include "ops/control.h"
#include "ops/status.h"
#include "submit/listener.h"
#include "submit/smtp_server.h"

#define DESTINATIONS_SHOWN 10
#define QUERY_TIMEOUT_MS 5000

/* one_line - s with control characters replaced, so that one value stays one line. */
static void
one_line(const char *s, char *out, size_t outsz)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < outsz; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i];
	out[i] = '\0';
}

static void
write_errors(FILE *out)
{
	struct outcome_error e[OUTCOME_ERRORS_MAX];
	char reply[sizeof(e[0].reply)], rcpt[sizeof(e[0].rcpt)];
	size_t i, n = outcome_recent_errors(e, OUTCOME_ERRORS_MAX);

	for (i = 0; i < n; i++) {
		one_line(e[i].reply, reply, sizeof(reply));
		one_line(e[i].rcpt, rcpt, sizeof(rcpt));
		fprintf(out, "error %" PRId64 " %s %s %s <%s> %s\n", e[i].when, e[i].msg,
		    e[i].status, e[i].dsn[0] ? e[i].dsn : "-", rcpt, reply);
	}
}

void
status_write(const struct status_daemon *d, FILE *out)
{
	const struct tls_info *ti = tls_info(d->srv->tls);
	char names[CONFIG_MAX_LISTEN][80], err[sizeof(d->reload->error)];
	const char *modes[CONFIG_MAX_LISTEN];
	size_t i, n = listeners_describe(d->ls, names, modes, CONFIG_MAX_LISTEN);

	fprintf(out, "version %s\npid %ld\nstarted %" PRId64 "\nnow %" PRId64 "\n",
	    HIKYAKU_VERSION, (long)getpid(), d->started, util_now());
	fprintf(out, "config %s\nspool %s\nhostname %s\n", d->srv->cfg->path, d->srv->cfg->spool,
	    d->srv->cfg->hostname);
	fprintf(out, "reload %u %" PRId64 " %s\n", d->reload->generation, d->reload->when,
	    d->reload->generation == 0 ? "none" : d->reload->ok ? "ok" : "failed");
	if (d->reload->generation > 0 && !d->reload->ok) {
		one_line(d->reload->error, err, sizeof(err));
		fprintf(out, "reload-error %s\n", err);
	}
	for (i = 0; i < n; i++)
		fprintf(out, "listen %s %s\n", names[i], modes[i]);
	if (d->metrics_listen != NULL)
		fprintf(out, "metrics %s\n", d->metrics_listen);
	fprintf(out, "sessions %zu\n", d->srv->nsessions);
	fprintf(out, "cert-subject %s\ncert-serial %s\ncert-expires %" PRId64 "\n", ti->subject,
	    ti->serial, ti->not_after);
	fprintf(out, "accepted %" PRIu64 "\nsent %" PRIu64 "\ndeferred %" PRIu64
	    "\nbounced %" PRIu64 "\n", metrics_counter(M_ACCEPTED),
	    metrics_counter(M_DELIVERY_SENT), metrics_counter(M_DELIVERY_DEFERRED),
	    metrics_counter(M_DELIVERY_BOUNCED));
	write_errors(out);
}

/* --- the CLI's side --- */

/* value - the value of the first line "key value" of answer, or NULL. */
static const char *
value(const char *answer, const char *key, char *buf, size_t bufsz)
{
	size_t klen = strlen(key);
	const char *p = answer, *eol;

	for (; p && *p; p = eol ? eol + 1 : NULL) {
		eol = strchr(p, '\n');
		if (strncmp(p, key, klen) != 0 || p[klen] != ' ')
			continue;
		p += klen + 1;
		util_strlcpy(buf, p, eol && (size_t)(eol - p) < bufsz ? (size_t)(eol - p) + 1 : bufsz);
		return buf;
	}
	return NULL;
}

static void
fmt_time(int64_t t, char *out, size_t outsz)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || localtime_r(&tt, &tm) == NULL)
		util_strlcpy(out, "-", outsz);
	else
		strftime(out, outsz, "%Y-%m-%d %H:%M:%S", &tm);
}

static void
fmt_span(int64_t s, char *out, size_t outsz)
{
	if (s < 0)
		s = 0;
	if (s >= 86400)
		snprintf(out, outsz, "%" PRId64 "d %" PRId64 "h", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(out, outsz, "%" PRId64 "h %" PRId64 "m", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		snprintf(out, outsz, "%" PRId64 "m %" PRId64 "s", s / 60, s % 60);
	else
		snprintf(out, outsz, "%" PRId64 "s", s);
}

/* print_lines - every "key value" line of answer, as "label value" (value only). */
static void
print_lines(FILE *out, const char *answer, const char *key, const char *label)
{
	size_t klen = strlen(key);
	const char *p, *eol;
	bool first = true;

	for (p = answer; p && *p; p = eol ? eol + 1 : NULL) {
		eol = strchr(p, '\n');
		if (strncmp(p, key, klen) != 0 || p[klen] != ' ')
			continue;
		fprintf(out, "%s%.*s", first ? label : ", ", (int)(eol ? eol - p - (int)klen - 1
		    : (int)strlen(p + klen + 1)), p + klen + 1);
		first = false;
	}
	if (!first)
		fputc('\n', out);
}

static void
print_cert(FILE *out, const char *answer, int64_t now)
{
	char subj[256], serial[80], exp[32], when[32];
	int64_t t, days;

	if (value(answer, "cert-expires", exp, sizeof(exp)) == NULL)
		return;
	t = strtoll(exp, NULL, 10);
	days = (t - now) / 86400;
	fmt_time(t, when, sizeof(when));
	fprintf(out, "certificate %s, serial %s, expires %s (%" PRId64 " days)\n",
	    value(answer, "cert-subject", subj, sizeof(subj)) ? subj : "?",
	    value(answer, "cert-serial", serial, sizeof(serial)) ? serial : "?", when, days);
	if (t - now < STATUS_CERT_WARN_DAYS * 86400)
		fprintf(out, "warning: the certificate %s in %" PRId64 " days: renew it, then"
		    " \"hikyaku reload\"\n", t < now ? "expired" : "expires", days);
}

static void
print_daemon(FILE *out, const char *answer)
{
	char v[600], pid[32], started[32], when[32], span[32], rl[64];
	int64_t now = util_now(), t;

	t = value(answer, "started", started, sizeof(started)) ? strtoll(started, NULL, 10) : 0;
	fmt_time(t, when, sizeof(when));
	fmt_span(now - t, span, sizeof(span));
	fprintf(out, "hikyaku %s running, pid %s, up %s (since %s)\n",
	    value(answer, "version", v, sizeof(v)) ? v : "?",
	    value(answer, "pid", pid, sizeof(pid)) ? pid : "?", span, when);
	fprintf(out, "config      %s\n", value(answer, "config", v, sizeof(v)) ? v : "?");
	if (value(answer, "reload", rl, sizeof(rl)) != NULL && strstr(rl, " none") == NULL) {
		fmt_time(strtoll(strchr(rl, ' ') + 1, NULL, 10), when, sizeof(when));
		fprintf(out, "last reload %s: %s\n", when, strstr(rl, " ok") ? "ok" :
		    value(answer, "reload-error", v, sizeof(v)) ? v : "failed");
	}
	print_lines(out, answer, "listen", "listening  ");
	print_lines(out, answer, "metrics", "metrics     http://");
	fprintf(out, "sessions    %s\n", value(answer, "sessions", v, sizeof(v)) ? v : "?");
	fprintf(out, "since start %s accepted, ", value(answer, "accepted", v, sizeof(v)) ? v : "?");
	fprintf(out, "%s sent, ", value(answer, "sent", v, sizeof(v)) ? v : "?");
	fprintf(out, "%s deferred, ", value(answer, "deferred", v, sizeof(v)) ? v : "?");
	fprintf(out, "%s bounced (recipients)\n", value(answer, "bounced", v, sizeof(v)) ? v : "?");
	print_cert(out, answer, now);
}

struct queue_totals {
	FILE *out;
	int64_t now;
	bool any;
};

static void
print_state(void *arg, const char *const *cols, int ncols)
{
	struct queue_totals *q = arg;

	fprintf(q->out, "%s%s %s recipients (in %s messages)", q->any ? ", " : "queue       ",
	    cols[0], cols[1], cols[2]);
	q->any = true;
}

static void
print_destination(void *arg, const char *const *cols, int ncols)
{
	struct queue_totals *q = arg;
	char span[32];
	int64_t next = strtoll(cols[3], NULL, 10);

	if (!q->any)
		fprintf(q->out, "by destination (pending recipients):\n");
	q->any = true;
	fmt_span(next - q->now, span, sizeof(span));
	fprintf(q->out, "  %-30s %5s queued %5s deferred   next attempt %s\n", cols[0], cols[1],
	    cols[2], next <= q->now ? "now" : span);
}

static void
print_queue(FILE *out, struct store *st)
{
	struct queue_totals q = { out, util_now(), false };
	char when[32], span[32];
	int64_t oldest = 0, n = 0;

	if (store_queue_count(st, &n) != STORE_OK || store_queue_states(st, print_state, &q) !=
	    STORE_OK) {
		fprintf(out, "queue       cannot read the store: %s\n", store_errmsg(st));
		return;
	}
	if (!q.any)
		fprintf(out, "queue       empty\n");
	else
		fprintf(out, "; %" PRId64 " messages\n", n);
	if (n > 0 && store_queue_oldest(st, &oldest) == STORE_OK && oldest > 0) {
		fmt_time(oldest, when, sizeof(when));
		fmt_span(q.now - oldest, span, sizeof(span));
		fprintf(out, "oldest      %s (%s ago)\n", when, span);
	}
	q.any = false;
	store_queue_destinations(st, DESTINATIONS_SHOWN, false, print_destination, &q);
}

static void
print_errors(FILE *out, const char *answer)
{
	const char *p, *eol;
	char when[32];
	bool first = true;

	for (p = answer; p && *p; p = eol ? eol + 1 : NULL) {
		eol = strchr(p, '\n');
		if (strncmp(p, "error ", 6) != 0)
			continue;
		if (first)
			fprintf(out, "last delivery errors:\n");
		first = false;
		fmt_time(strtoll(p + 6, NULL, 10), when, sizeof(when));
		p = strchr(p + 6, ' ');
		fprintf(out, "  %s %.*s\n", when, (int)(eol ? eol - p - 1 : (int)strlen(p + 1)), p + 1);
	}
}

int
status_print(const struct config *cfg, struct store *st, FILE *out)
{
	char err[512];
	char *answer = control_query(cfg, "status", QUERY_TIMEOUT_MS, err, sizeof(err));

	if (answer != NULL)
		print_daemon(out, answer);
	else
		fprintf(out, "hikyaku is not running on spool %s (%s)\n", cfg->spool, err);
	print_queue(out, st);
	if (answer != NULL)
		print_errors(out, answer);
	free(answer);
	return answer != NULL ? 0 : 3;
}

int
status_reload_state(const struct config *cfg, struct status_reload *out)
{
	char err[512], rl[64];
	char *answer = control_query(cfg, "status", QUERY_TIMEOUT_MS, err, sizeof(err));
	char *sp;

	memset(out, 0, sizeof(*out));
	if (answer == NULL)
		return -1;
	if (value(answer, "reload", rl, sizeof(rl)) != NULL) {
		out->generation = (unsigned)strtoul(rl, &sp, 10);
		out->when = strtoll(sp, NULL, 10);
		out->ok = strstr(rl, " ok") != NULL;
		if (value(answer, "reload-error", out->error, sizeof(out->error)) == NULL)
			out->error[0] = '\0';
	}
	free(answer);
	return 0;
}
