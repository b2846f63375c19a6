/*
 * outcome.c - turn delivery results into queue state, DSNs and removal.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deliver/bounce.h"
#include "base/config.h"
#include "base/metrics.h"
#include "dkim/dkim_sign.h"
#include "lib/log.h"
#include "deliver/outcome.h"
#include "queue/queue.h"
#include "base/store.h"
#include "lib/util.h"

static const char *state_names[] = { RCPT_SENT, RCPT_DEFERRED, RCPT_BOUNCED };
static const enum metric_counter state_metrics[] = { M_DELIVERY_SENT, M_DELIVERY_DEFERRED,
	M_DELIVERY_BOUNCED };

/* The last failures, a ring written and read on the loop thread only. */
static struct outcome_error recent[OUTCOME_ERRORS_MAX];
static size_t nrecent, recent_next;

int64_t
outcome_backoff(const struct config *cfg, int attempts)
{
	int64_t d = (int64_t)cfg->retry_min;
	int i;

	for (i = 1; i < attempts && d < (int64_t)cfg->retry_max; i++)
		d *= 2;
	return d > (int64_t)cfg->retry_max ? (int64_t)cfg->retry_max : d;
}

/* find_attempts - one stored recipient row: its attempts so far into o. */
static void
find_attempts(void *arg, const char *const *cols, int ncols)
{
	struct outcome *o = arg;

	for (size_t i = 0; i < o->n; i++)
		if (strcmp(cols[0], o->rcpts[i].rcpt) == 0)
			o->rcpts[i].attempts = atoi(cols[2]);
}

/* decide - the new state of one recipient, expiry included. */
static void
decide(struct outcome *o, struct outcome_rcpt *r, int attempts)
{
	r->attempts = attempts + 1;
	r->next_attempt = 0;
	if (r->kind == REPLY_OK) {
		r->final_state = OUTCOME_SENT;
		return;
	}
	if (r->kind == REPLY_TEMPFAIL &&
	    o->now - o->arrival >= (int64_t)o->cfg->queue_lifetime) {
		char last[sizeof(r->reply)];

		util_strlcpy(last, r->reply, sizeof(last));
		snprintf(r->reply, sizeof(r->reply), "message expired after %lld seconds in the queue;"
		    " last error: %.500s", (long long)(o->now - o->arrival), last);
		util_strlcpy(r->dsn, "4.4.7", sizeof(r->dsn));
		r->kind = REPLY_PERMFAIL;
	}
	if (r->kind == REPLY_PERMFAIL) {
		r->final_state = OUTCOME_BOUNCED;
		return;
	}
	r->final_state = OUTCOME_DEFERRED;
	r->next_attempt = o->now + outcome_backoff(o->cfg, r->attempts);
}

/*
 * sign - msg (malloc'd) DKIM-signed with the key of hostname's domain (its
 * From:) or of a parent domain, when there is one; note says how it went.
 */
static char *
sign(struct outcome *o, char *msg, size_t *len, char note[200])
{
	enum dkim_sign_status st;
	char why[160];
	size_t slen;
	char *signed_msg;

	if (o->signer == NULL) {
		snprintf(note, 200, "dkim=none (not signed here)");
		return msg;
	}
	signed_msg = dkim_signer_prepend(o->signer, msg, *len, o->now, &slen, &st, why,
	    sizeof(why));
	snprintf(note, 200, "dkim=%s %s%s%s", st == DKIM_SIGNED ? "signed" : st == DKIM_NONE ?
	    "none" : "error", st == DKIM_SIGNED ? "" : "(", why, st == DKIM_SIGNED ? "" : ")");
	if (signed_msg == NULL)
		return msg;
	free(msg);
	*len = slen;
	return signed_msg;
}

static enum store_result
queue_dsn(struct store *st, struct outcome *o, const struct store_loaded *orig, bool delayed,
    char *id_out)
{
	struct store_loaded full, *m = &full;
	struct bounce_rcpt br[64];
	struct bounce_env env = { 0 };
	enum store_result r;
	size_t i, n = 0, len;
	char newid[16], *data;

	for (i = 0; i < o->n && n < 64; i++) {
		enum outcome_state want = delayed ? OUTCOME_DEFERRED : OUTCOME_BOUNCED;

		if (o->rcpts[i].final_state != want)
			continue;
		br[n].rcpt = o->rcpts[i].rcpt;
		br[n].status = o->rcpts[i].dsn;
		br[n].diagnostic = o->rcpts[i].reply;
		br[n].remote_mta = strcmp(o->rcpts[i].relay, "none") ? o->rcpts[i].relay : NULL;
		n++;
	}
	if (n == 0)
		return STORE_OK;
	if ((r = store_msg_load(st, orig->id, &full)) != STORE_OK)
		return r;	/* the original's headers go into the DSN */
	util_queue_id(newid);
	env.hostname = o->cfg->hostname;
	env.queue_id = o->msg;
	env.new_id = newid;
	env.sender = m->sender;
	env.arrival = m->arrival;
	env.now = o->now;
	env.delayed = delayed;
	data = sign(o, bounce_build(&env, br, n, m->data, m->len, &len), &len,
	    o->dkim_note[delayed]);
	r = queue_insert_local(st, data, len, orig->sender, o->now, id_out);
	free(data);
	store_loaded_free(&full);
	return r;
}

static enum store_result
record(struct store *st, struct outcome *o)
{
	struct outcome_rcpt *r;
	enum store_result res;
	size_t i;

	for (i = 0; i < o->n; i++)
		o->rcpts[i].attempts = 0;
	if ((res = store_msg_rcpts(st, o->msg, find_attempts, o)) != STORE_OK)
		return res;
	for (i = 0; i < o->n; i++) {
		r = &o->rcpts[i];
		decide(o, r, r->attempts);
		res = store_rcpt_update(st, o->msg, r->rcpt, state_names[r->final_state], r->attempts,
		    r->next_attempt, r->reply, r->dsn, r->relay);
		if (res != STORE_OK && res != STORE_NOTFOUND)
			return res;
	}
	return STORE_OK;
}

static bool
any_state(const struct outcome *o, enum outcome_state state)
{
	for (size_t i = 0; i < o->n; i++)
		if (o->rcpts[i].final_state == state)
			return true;
	return false;
}

static enum store_result
notify(struct store *st, struct outcome *o, const struct store_loaded *m)
{
	enum store_result r = STORE_OK;

	if (m->sender[0] == '\0')
		return STORE_OK;	/* never a DSN to <> */
	if (any_state(o, OUTCOME_BOUNCED) &&
	    (r = queue_dsn(st, o, m, false, o->bounce_id)) != STORE_OK)
		return r;
	if (any_state(o, OUTCOME_DEFERRED) && !m->warned && o->cfg->delay_warning > 0 &&
	    o->now - m->arrival >= (int64_t)o->cfg->delay_warning) {
		if ((r = queue_dsn(st, o, m, true, o->warning_id)) == STORE_OK)
			r = store_msg_set_warned(st, o->msg);
	}
	return r;
}

enum store_result
outcome_apply(struct store *st, void *arg)
{
	struct outcome *o = arg;
	struct store_loaded m;
	enum store_result r;
	int64_t pending;

	if ((r = store_msg_envelope(st, o->msg, &m)) == STORE_NOTFOUND) {
		o->gone = 1;	/* deleted by "queue delete" while being delivered */
		return STORE_OK;
	}
	if (r != STORE_OK)
		return r;
	o->arrival = m.arrival;
	if ((r = record(st, o)) == STORE_OK && (r = notify(st, o, &m)) == STORE_OK &&
	    (r = store_msg_pending(st, o->msg, &pending)) == STORE_OK && pending == 0) {
		r = store_msg_delete(st, o->msg);
		o->removed = r == STORE_OK;
	}
	store_loaded_free(&m);
	return r;
}

static void
remember(const struct outcome *o, const struct outcome_rcpt *r)
{
	struct outcome_error *e = &recent[recent_next];

	e->when = o->now;
	util_strlcpy(e->msg, o->msg, sizeof(e->msg));
	util_strlcpy(e->rcpt, r->rcpt, sizeof(e->rcpt));
	util_strlcpy(e->status, state_names[r->final_state], sizeof(e->status));
	util_strlcpy(e->dsn, r->dsn, sizeof(e->dsn));
	util_strlcpy(e->reply, r->reply, sizeof(e->reply));
	recent_next = (recent_next + 1) % OUTCOME_ERRORS_MAX;
	if (nrecent < OUTCOME_ERRORS_MAX)
		nrecent++;
}

size_t
outcome_recent_errors(struct outcome_error *out, size_t max)
{
	size_t i, n = nrecent < max ? nrecent : max;

	for (i = 0; i < n; i++)
		out[i] = recent[(recent_next + OUTCOME_ERRORS_MAX - 1 - i) % OUTCOME_ERRORS_MAX];
	return n;
}

void
outcome_log(const struct outcome *o)
{
	const struct outcome_rcpt *r;
	size_t i;

	for (i = 0; i < o->n && !o->gone; i++) {
		r = &o->rcpts[i];
		log_info("%s: to=<%s>, relay=%s, delay=%lld, tls=%s, dsn=%s, status=%s (%s)",
		    o->msg, r->rcpt, r->relay, (long long)(o->now - o->arrival), r->tls, r->dsn,
		    state_names[r->final_state], r->reply);
		metrics_inc(state_metrics[r->final_state]);
		if (r->final_state != OUTCOME_SENT)
			remember(o, r);
	}
	if (o->gone)
		log_info("%s: removed from the queue during delivery; results dropped", o->msg);
	if (o->bounce_id[0]) {
		log_info("%s: sender non-delivery notification: %s, %s", o->msg, o->bounce_id,
		    o->dkim_note[0]);
		metrics_inc(M_DSN_FAILURE);
	}
	if (o->warning_id[0]) {
		log_info("%s: sender delay notification: %s, %s", o->msg, o->warning_id,
		    o->dkim_note[1]);
		metrics_inc(M_DSN_DELAY);
	}
	if (o->removed)
		log_info("%s: removed", o->msg);
}
