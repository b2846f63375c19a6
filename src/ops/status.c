/*
 * status.c - "hikyaku status": the daemon's answer on the control socket
 * (status_write: "key value" lines, a protocol, never translated) and the
 * screen the CLI makes of it and of the store (status_print: its labels and
 * sentences follow the locale; numbers, names, addresses, dates and what
 * the daemon reports stay as they are).
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
#include "lib/i18n.h"
#include "lib/util.h"
#include "ops/control.h"
#include "ops/status.h"
#include "submit/listener.h"
#include "submit/smtp_server.h"

#define DESTINATIONS_SHOWN 10
#define LABEL_COLS 12		/* where the values of the screen's lines start */
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

/* fmt_span - a duration in s, shortly: "2d 3h", "3h 5m", "5m 2s", "40s". */
static void
fmt_span(int64_t s, char *out, size_t outsz)
{
	long long t = s < 0 ? 0 : (long long)s;

	if (t >= 86400)
		/* TRANSLATORS: durations in hikyaku status: days and hours, hours and
		 * minutes, minutes and seconds, seconds. Keep them short. */
		snprintf(out, outsz, _("%lldd %lldh"), t / 86400, t % 86400 / 3600);
	else if (t >= 3600)
		snprintf(out, outsz, _("%lldh %lldm"), t / 3600, t % 3600 / 60);
	else if (t >= 60)
		snprintf(out, outsz, _("%lldm %llds"), t / 60, t % 60);
	else
		snprintf(out, outsz, _("%llds"), t);
}

/* label - a line's label (translated), padded to the column where values start. */
static void
label(FILE *out, const char *text)
{
	i18n_fputs_pad(text, LABEL_COLS - 1, out);
	fputc(' ', out);
}

/* print_lines - every "key value" line of answer, as "LABEL value, value" (values only). */
static void
print_lines(FILE *out, const char *answer, const char *key, const char *text,
    const char *prefix)
{
	size_t klen = strlen(key);
	const char *p, *eol;
	bool first = true;

	for (p = answer; p && *p; p = eol ? eol + 1 : NULL) {
		eol = strchr(p, '\n');
		if (strncmp(p, key, klen) != 0 || p[klen] != ' ')
			continue;
		if (first)
			label(out, text);
		fprintf(out, "%s%s%.*s", first ? "" : ", ", prefix, (int)(eol ? eol - p -
		    (int)klen - 1 : (int)strlen(p + klen + 1)), p + klen + 1);
		first = false;
	}
	if (!first)
		fputc('\n', out);
}

static void
print_cert(FILE *out, const char *answer, int64_t now)
{
	char subj[256], serial[80], exp[32], when[32];
	long long days;
	int64_t t;

	if (value(answer, "cert-expires", exp, sizeof(exp)) == NULL)
		return;
	t = strtoll(exp, NULL, 10);
	days = (long long)((t - now) / 86400);
	fmt_time(t, when, sizeof(when));
	/* TRANSLATORS: the certificate's subject, its serial number, when it expires
	 * (a date), and in how many days (negative once expired). */
	fprintf(out, ngettext("certificate %s, serial %s, expires %s (%lld day)\n",
	    "certificate %s, serial %s, expires %s (%lld days)\n", (unsigned long)llabs(days)),
	    value(answer, "cert-subject", subj, sizeof(subj)) ? subj : "?",
	    value(answer, "cert-serial", serial, sizeof(serial)) ? serial : "?", when, days);
	if (t - now >= STATUS_CERT_WARN_DAYS * 86400)
		return;
	if (t >= now)
		fprintf(out, ngettext("warning: the certificate expires in %lld day: renew it,"
		    " then \"hikyaku reload\"\n", "warning: the certificate expires in %lld days:"
		    " renew it, then \"hikyaku reload\"\n", (unsigned long)days), days);
	else
		fprintf(out, ngettext("warning: the certificate expired %lld day ago: renew it,"
		    " then \"hikyaku reload\"\n", "warning: the certificate expired %lld days ago:"
		    " renew it, then \"hikyaku reload\"\n", (unsigned long)-days), -days);
}

static void
print_reload(FILE *out, const char *answer)
{
	char v[600], when[32], rl[64];

	if (value(answer, "reload", rl, sizeof(rl)) == NULL || strstr(rl, " none") != NULL)
		return;
	fmt_time(strtoll(strchr(rl, ' ') + 1, NULL, 10), when, sizeof(when));
	label(out, _("last reload"));
	if (strstr(rl, " ok") != NULL)
		/* TRANSLATORS: when the last reload was (a date and time). */
		fprintf(out, _("%s: ok\n"), when);
	else if (value(answer, "reload-error", v, sizeof(v)) != NULL)
		/* TRANSLATORS: when the last reload was, then why it was refused. */
		fprintf(out, _("%s: refused: %s\n"), when, v);
	else
		fprintf(out, _("%s: refused\n"), when);
}

/* print_counts - the daemon's delivery counters since it started. */
static void
print_counts(FILE *out, const char *answer)
{
	char a[32], s[32], d[32], b[32];

	label(out, _("since start"));
	/* TRANSLATORS: recipients accepted, sent, deferred and bounced since the
	 * daemon started. */
	fprintf(out, _("%s accepted, %s sent, %s deferred, %s bounced (recipients)\n"),
	    value(answer, "accepted", a, sizeof(a)) ? a : "?",
	    value(answer, "sent", s, sizeof(s)) ? s : "?",
	    value(answer, "deferred", d, sizeof(d)) ? d : "?",
	    value(answer, "bounced", b, sizeof(b)) ? b : "?");
}

static void
print_daemon(FILE *out, const char *answer)
{
	char v[600], pid[32], started[32], when[32], span[32];
	int64_t now = util_now(), t;

	t = value(answer, "started", started, sizeof(started)) ? strtoll(started, NULL, 10) : 0;
	fmt_time(t, when, sizeof(when));
	fmt_span(now - t, span, sizeof(span));
	/* TRANSLATORS: the version, the pid, how long it has run, since when. */
	fprintf(out, _("hikyaku %s running, pid %s, up %s (since %s)\n"),
	    value(answer, "version", v, sizeof(v)) ? v : "?",
	    value(answer, "pid", pid, sizeof(pid)) ? pid : "?", span, when);
	/* TRANSLATORS: the labels of hikyaku status's lines are padded to 12
	 * columns; keep them within 11. */
	label(out, _("config"));
	fprintf(out, "%s\n", value(answer, "config", v, sizeof(v)) ? v : "?");
	print_reload(out, answer);
	print_lines(out, answer, "listen", _("listening"), "");
	print_lines(out, answer, "metrics", _("metrics"), "http://");
	label(out, _("sessions"));
	fprintf(out, "%s\n", value(answer, "sessions", v, sizeof(v)) ? v : "?");
	print_counts(out, answer);
	print_cert(out, answer, now);
}

struct queue_totals {
	FILE *out;
	int64_t now;
	bool any;
};

/* print_state - one state of the queue's recipients: "queued 3 recipients (in 2 messages)". */
static void
print_state(void *arg, const char *const *cols, int ncols)
{
	struct queue_totals *q = arg;
	long long n = strtoll(cols[1], NULL, 10), m = strtoll(cols[2], NULL, 10);
	unsigned long k = (unsigned long)n;
	char msgs[64];

	if (q->any)
		fputs(", ", q->out);
	else
		label(q->out, _("queue"));
	q->any = true;
	/* TRANSLATORS: a number of messages, put in the sentences that follow (%s). */
	snprintf(msgs, sizeof(msgs), ngettext("%lld message", "%lld messages", (unsigned long)m),
	    m);
	if (strcmp(cols[0], "queued") == 0)
		/* TRANSLATORS: the recipients in one state of the queue, and the
		 * messages they are in (e.g. "2 messages"). */
		fprintf(q->out, ngettext("queued %lld recipient (in %s)", "queued %lld recipients"
		    " (in %s)", k), n, msgs);
	else if (strcmp(cols[0], "deferred") == 0)
		fprintf(q->out, ngettext("deferred %lld recipient (in %s)", "deferred %lld"
		    " recipients (in %s)", k), n, msgs);
	else if (strcmp(cols[0], "sent") == 0)
		fprintf(q->out, ngettext("sent %lld recipient (in %s)", "sent %lld recipients"
		    " (in %s)", k), n, msgs);
	else if (strcmp(cols[0], "bounced") == 0)
		fprintf(q->out, ngettext("bounced %lld recipient (in %s)", "bounced %lld"
		    " recipients (in %s)", k), n, msgs);
	else
		/* TRANSLATORS: a state the queue's recipients are in (a word of the
		 * store), their number, the messages they are in. */
		fprintf(q->out, ngettext("%s %lld recipient (in %s)", "%s %lld recipients (in %s)",
		    k), cols[0], n, msgs);
}

static void
print_destination(void *arg, const char *const *cols, int ncols)
{
	struct queue_totals *q = arg;
	char span[32];
	int64_t next = strtoll(cols[3], NULL, 10);

	if (!q->any)
		fprintf(q->out, "%s\n", _("by destination (pending recipients):"));
	q->any = true;
	fprintf(q->out, "  %-30s ", cols[0]);
	if (next <= q->now) {
		/* TRANSLATORS: a destination's recipients queued and deferred, in
		 * columns 5 wide, and when the next attempt is. */
		fprintf(q->out, _("%5s queued %5s deferred   next attempt now\n"), cols[1],
		    cols[2]);
		return;
	}
	fmt_span(next - q->now, span, sizeof(span));
	/* TRANSLATORS: a destination's recipients queued and deferred, in columns 5
	 * wide, and in how long the next attempt is (e.g. "12m 3s"). */
	fprintf(q->out, _("%5s queued %5s deferred   next attempt in %s\n"), cols[1], cols[2],
	    span);
}

static void
print_queue(FILE *out, struct store *st)
{
	struct queue_totals q = { out, util_now(), false };
	char when[32], span[32];
	int64_t oldest = 0, n = 0;

	if (store_queue_count(st, &n) != STORE_OK || store_queue_states(st, print_state, &q) !=
	    STORE_OK) {
		if (!q.any)
			label(out, _("queue"));
		fprintf(out, _("cannot read the store: %s\n"), store_errmsg(st));
		return;
	}
	if (!q.any) {
		label(out, _("queue"));
		fprintf(out, "%s\n", _("empty"));
	} else
		/* TRANSLATORS: after the states of the queue: the messages in it. */
		fprintf(out, ngettext("; %lld message\n", "; %lld messages\n", (unsigned long)n),
		    (long long)n);
	if (n > 0 && store_queue_oldest(st, &oldest) == STORE_OK && oldest > 0) {
		fmt_time(oldest, when, sizeof(when));
		fmt_span(q.now - oldest, span, sizeof(span));
		label(out, _("oldest"));
		/* TRANSLATORS: when the oldest message arrived (a date), and how long ago
		 * (e.g. "2h 11m"). */
		fprintf(out, _("%s (%s ago)\n"), when, span);
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
			fprintf(out, "%s\n", _("last delivery errors:"));
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
		/* TRANSLATORS: the spool directory, then why the daemon did not answer. */
		fprintf(out, _("hikyaku is not running on spool %s (%s)\n"), cfg->spool, err);
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
