/*
 * scheduler.c - the active set: destinations with their waiting entries,
 * served round-robin within their limits; the cursor that loads due
 * recipients from the store; jobs in flight; idle connections.
 *
 *   load    store rows (next_attempt, rowid) past the cursor and due by
 *           now, as many as there is room for -> entries on their
 *           destination's queue (recipients already in memory are skipped)
 *   ready   destinations with waiting entries that may start, in turn
 *   start   one entry of the destination at the head -> a delivery job;
 *           the destination goes to the back of the line
 *   finish  the destination's controller learns how it went (dest.c):
 *           throttled -> the entry goes back to the head of its queue,
 *           dead -> every waiting entry is deferred without being tried
 *   commit  the recipients leave memory; room for more; the earliest new
 *           retry time sets the one timer
 *
 * Every event costs O(1) or O(log n) in the size of the queue: the store
 * is only read by index from the cursor, and the cursor only moves back
 * when the scheduler is told of rows behind it.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/event.h>

#include "base/config.h"
#include "deliver/scheduler.h"
#include "lib/addr.h"
#include "lib/hmap.h"
#include "lib/log.h"
#include "lib/util.h"

#define IDLE_SECONDS 2		/* how long a finished connection waits for more */
#define LOAD_PAGE 1000		/* rows per store read */
#define LOAD_PAGES 20		/* store reads per pass, then the loop breathes */
#define DEFER_MAX 256		/* untried deferrals being recorded at once */
#define RECORD_RETRY 30		/* seconds before recipients whose outcome was not recorded return */
#define KEY_MAX (QUEUE_ID_LEN + 1 + ADDR_MAX + 1)

struct entry {
	TAILQ_ENTRY(entry) link;
	char msg[QUEUE_ID_LEN + 1];
	char **rcpts;		/* owned */
	size_t nrcpts, cap;
	int64_t due;
};
TAILQ_HEAD(entries, entry);

struct idle {
	struct idle *next;
	struct dest *d;
	struct smtp_client *client;
	struct event *ev;	/* closes it after IDLE_SECONDS */
};

struct dest {
	struct scheduler *s;
	char key[300];		/* "example.org", or "[host]:port" of a route */
	char domain[256];	/* a recipient domain there: route and MX lookups */
	struct entries waiting;
	size_t nwaiting;
	struct dest_ctl ctl;
	TAILQ_ENTRY(dest) ready_link;
	bool in_ready;
	TAILQ_ENTRY(dest) defer_link;	/* dead, with entries waiting for DEFER_MAX to allow */
	bool in_defer_wait;
	struct event *timer;	/* the rate allows the next start, or the dead period ends */
	struct idle *idle;
	size_t deferring;	/* deferral jobs not yet committed */
	size_t runs;		/* runs pointing here, committing ones included */
	struct reply dead_why;
};
TAILQ_HEAD(dests, dest);

/* A job in flight as the scheduler sees it. */
struct run {
	TAILQ_ENTRY(run) link;
	struct delivery_job *job;
	struct dest *d;
	bool counted;		/* holds a connection slot (not a deferral) */
	char **addrs;		/* copies of the recipients, to forget them after the commit */
	size_t naddrs;
};
TAILQ_HEAD(runs, run);

struct scheduler {
	struct delivery_env env;
	struct hmap *dests;	/* key -> struct dest */
	struct hmap *loaded;	/* "msg rcpt" -> (non-NULL) for every recipient in memory */
	struct dests ready;
	struct dests defer_wait;
	struct runs runs;
	size_t nrunning;	/* runs holding a connection slot */
	size_t ndeferring;	/* runs recording an untried deferral */
	int64_t cursor_t;	/* the store has been read up to (cursor_t, cursor_row) */
	int64_t cursor_row;
	struct event *load_ev;	/* a load pass soon */
	struct event *due_ev;	/* the earliest retry comes due */
	struct event *scan_ev;	/* queue-scan-interval safety net */
	int64_t due_at;		/* when due_ev fires; INT64_MAX: not armed */
	int64_t rewind_t;	/* at due_ev, move the cursor back here (INT64_MAX: no) */
	bool stopping;
};

static const struct delivery_cbs job_cbs;
static void dispatch(struct scheduler *s);
static void dest_maybe_free(struct dest *d);

/* --- helpers --- */

static size_t
room(const struct scheduler *s)
{
	size_t n = hmap_count(s->loaded), max = (size_t)s->env.cfg->max_active_recipients;

	return n < max ? max - n : 0;
}

static void
loaded_key(char *out, const char *msg, const char *rcpt)
{
	snprintf(out, KEY_MAX, "%s %s", msg, rcpt);
}

static void
schedule_load(struct scheduler *s)
{
	struct timeval zero = { 0, 0 };

	if (!s->stopping && !evtimer_pending(s->load_ev, NULL))
		evtimer_add(s->load_ev, &zero);
}

/* cursor_back - rows at or after t may exist that the cursor has passed. */
static void
cursor_back(struct scheduler *s, int64_t t)
{
	if (t < s->cursor_t || (t == s->cursor_t && s->cursor_row >= 0)) {
		s->cursor_t = t;
		s->cursor_row = -1;
	}
}

static void
arm_due(struct scheduler *s, int64_t when)
{
	int64_t now = util_now();
	struct timeval tv = { 0, 0 };

	if (s->stopping || when == INT64_MAX || when >= s->due_at)
		return;
	s->due_at = when;
	tv.tv_sec = when > now ? (time_t)(when - now) : 0;
	evtimer_add(s->due_ev, &tv);
}

/* --- destinations --- */

static void
on_dest_timer(evutil_socket_t fd, short what, void *arg)
{
	struct dest *d = arg;
	struct scheduler *s = d->s;

	if (d->nwaiting > 0 && !d->in_ready) {
		TAILQ_INSERT_TAIL(&s->ready, d, ready_link);
		d->in_ready = true;
	}
	dispatch(s);
	dest_maybe_free(d);
}

static void
ready_push(struct dest *d)
{
	if (d->in_ready || d->nwaiting == 0 || d->s->stopping)
		return;
	TAILQ_INSERT_TAIL(&d->s->ready, d, ready_link);
	d->in_ready = true;
}

/* dest_key - the destination of a recipient domain: the route's target, or the domain. */
static void
dest_key(const struct config *cfg, const char *domain, char *key, size_t keysz,
    const char **settings_name)
{
	const struct config_route *r = config_route_for(cfg, domain);

	if (r != NULL) {
		snprintf(key, keysz, "[%s]:%u", r->host, r->port);
		*settings_name = r->domain;
	} else {
		util_strlcpy(key, domain, keysz);
		*settings_name = domain;
	}
}

static struct dest *
dest_get(struct scheduler *s, const char *domain)
{
	const struct config *cfg = s->env.cfg;
	struct config_destination lim;
	const char *settings;
	char key[300];
	struct dest *d;

	dest_key(cfg, domain, key, sizeof(key), &settings);
	if ((d = hmap_get(s->dests, key)) != NULL)
		return d;
	d = xcalloc(1, sizeof(*d));
	d->s = s;
	util_strlcpy(d->key, key, sizeof(d->key));
	util_strlcpy(d->domain, domain, sizeof(d->domain));
	TAILQ_INIT(&d->waiting);
	config_destination_for(cfg, settings, &lim);
	dest_ctl_init(&d->ctl, (unsigned)lim.max_connections, lim.rate_n, lim.rate_period);
	d->timer = evtimer_new(s->env.base, on_dest_timer, d);
	hmap_put(s->dests, key, d);
	return d;
}

static void
entry_free(struct entry *e)
{
	for (size_t i = 0; i < e->nrcpts; i++)
		free(e->rcpts[i]);
	free(e->rcpts);
	free(e);
}

static void
dest_maybe_free(struct dest *d)
{
	struct scheduler *s = d->s;

	if (d->nwaiting > 0 || d->runs > 0 || d->idle != NULL || d->deferring > 0 ||
	    d->in_ready || d->in_defer_wait || (dest_ctl_dead(&d->ctl, util_now()) && !s->stopping))
		return;
	hmap_del(s->dests, d->key);
	event_free(d->timer);
	free(d);
}

/* --- loading --- */

static void
entry_add_rcpt(struct entry *e, const char *rcpt)
{
	if (e->nrcpts == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 4;
		e->rcpts = xrealloc(e->rcpts, e->cap * sizeof(*e->rcpts));
	}
	e->rcpts[e->nrcpts++] = xstrdup(rcpt);
}

/* take - one recipient into memory, on its destination's queue. */
static void
take(struct scheduler *s, const char *msg, const char *rcpt, int64_t due)
{
	char key[KEY_MAX], domain[256];
	const char *at = addr_domain(rcpt);
	struct entry *e;
	struct dest *d;

	loaded_key(key, msg, rcpt);
	if (at == NULL || hmap_get(s->loaded, key) != NULL)
		return;
	util_strlcpy(domain, at, sizeof(domain));
	for (char *p = domain; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	d = dest_get(s, domain);
	e = TAILQ_LAST(&d->waiting, entries);
	if (e == NULL || strcmp(e->msg, msg) != 0 || e->nrcpts >= JOB_RCPTS_MAX) {
		e = xcalloc(1, sizeof(*e));
		util_strlcpy(e->msg, msg, sizeof(e->msg));
		e->due = due;
		TAILQ_INSERT_TAIL(&d->waiting, e, link);
		d->nwaiting++;
	}
	entry_add_rcpt(e, rcpt);
	hmap_put(s->loaded, key, s);
	ready_push(d);
}

struct page {
	struct scheduler *s;
	size_t rows;
};

/* on_row - a due row: take it while there is room; the cursor stops at the first one left. */
static void
on_row(void *arg, const char *const *cols, int ncols)
{
	struct page *p = arg;
	struct scheduler *s = p->s;

	p->rows++;
	if (room(s) == 0)
		return;
	s->cursor_t = strtoll(cols[2], NULL, 10);
	s->cursor_row = strtoll(cols[3], NULL, 10);
	take(s, cols[0], cols[1], s->cursor_t);
}

/* load - read due rows from the cursor while there is room; then arm the due timer. */
static void
load(evutil_socket_t fd, short what, void *arg)
{
	struct scheduler *s = arg;
	int64_t now = util_now(), next = INT64_MAX;
	struct page p = { s, 0 };
	int pages;

	if (s->stopping)
		return;
	for (pages = 0; pages < LOAD_PAGES && room(s) > 0; pages++) {
		p.rows = 0;
		if (store_due_from(s->env.store, s->cursor_t, s->cursor_row, now, LOAD_PAGE,
		    on_row, &p) != STORE_OK) {
			log_warn("cannot read the queue: %s", store_errmsg(s->env.store));
			break;
		}
		if (p.rows < LOAD_PAGE)
			break;
	}
	if (pages == LOAD_PAGES && room(s) > 0)
		schedule_load(s);	/* more to read: after the loop has served others */
	if (store_next_due_after(s->env.store, now, &next) == STORE_OK)
		arm_due(s, next);
	dispatch(s);
}

static void
on_due(evutil_socket_t fd, short what, void *arg)
{
	struct scheduler *s = arg;

	s->due_at = INT64_MAX;
	if (s->rewind_t != INT64_MAX) {
		cursor_back(s, s->rewind_t);
		s->rewind_t = INT64_MAX;
	}
	load(-1, 0, s);
}

static void
on_scan(evutil_socket_t fd, short what, void *arg)
{
	struct scheduler *s = arg;
	struct timeval tv = { (time_t)s->env.cfg->queue_scan_interval, 0 };

	/* a safety net for changes nobody told us about: look back one interval */
	cursor_back(s, util_now() - (int64_t)s->env.cfg->queue_scan_interval - 1);
	load(-1, 0, s);
	if (!s->stopping)
		evtimer_add(s->scan_ev, &tv);
}

void
scheduler_queued(struct scheduler *s, const char *id, const char *const *rcpts, size_t n,
    int64_t arrival)
{
	if (s->stopping)
		return;
	for (size_t i = 0; i < n; i++) {
		if (room(s) == 0) {
			cursor_back(s, arrival);	/* the store has them; read them when room frees */
			break;
		}
		take(s, id, rcpts[i], arrival);
	}
	dispatch(s);
}

void
scheduler_kick(struct scheduler *s)
{
	schedule_load(s);
}

static void
revive(void *arg, const char *key, void *value)
{
	struct dest *d = value;

	dest_ctl_revive(&d->ctl);
	ready_push(d);
}

void
scheduler_revive(struct scheduler *s)
{
	if (s->stopping)
		return;
	hmap_each(s->dests, revive, s);
	s->cursor_t = INT64_MIN;
	s->cursor_row = -1;
	schedule_load(s);
}

/* --- starting jobs --- */

static struct run *
run_new(struct scheduler *s, struct dest *d, struct entry *e, bool counted)
{
	struct run *r = xcalloc(1, sizeof(*r));

	r->d = d;
	d->runs++;
	r->counted = counted;
	r->addrs = xcalloc(e->nrcpts, sizeof(*r->addrs));
	for (size_t i = 0; i < e->nrcpts; i++)
		r->addrs[i] = xstrdup(e->rcpts[i]);
	r->naddrs = e->nrcpts;
	r->job = delivery_job_new(&s->env, &job_cbs, s, e->msg, d->domain, e->rcpts, e->nrcpts);
	r->job->owner = r;
	r->job->due = e->due;
	free(e->rcpts);		/* the job took the strings */
	free(e);
	TAILQ_INSERT_TAIL(&s->runs, r, link);
	if (counted)
		s->nrunning++;
	return r;
}

/* take_idle - an idle connection to d made under the current config, or NULL. */
static struct smtp_client *
take_idle(struct dest *d)
{
	struct idle *x;
	struct smtp_client *c;

	while ((x = d->idle) != NULL) {
		d->idle = x->next;
		c = x->client;
		event_free(x->ev);
		free(x);
		if (smtp_client_config(c) == d->s->env.cfg)
			return c;
		smtp_client_quit(c);	/* made before a reload: routes may differ */
	}
	return NULL;
}

static struct entry *
pop_waiting(struct dest *d)
{
	struct entry *e = TAILQ_FIRST(&d->waiting);

	TAILQ_REMOVE(&d->waiting, e, link);
	d->nwaiting--;
	return e;
}

/*
 * defer_waiting - the destination is dead: its waiting entries are deferred
 * untried, DEFER_MAX at a time in all; the rest follow as those are recorded.
 */
static void
defer_waiting(struct scheduler *s, struct dest *d)
{
	struct reply why;
	struct run *r;

	reply_set(&why, 451, d->dead_why.status[0] ? d->dead_why.status : "4.4.1",
	    "delivery temporarily suspended: %s", d->dead_why.text[0] ? d->dead_why.text :
	    "the destination is not reachable");
	while (d->nwaiting > 0 && s->ndeferring < DEFER_MAX) {
		r = run_new(s, d, pop_waiting(d), false);
		d->deferring++;
		s->ndeferring++;
		delivery_defer(r->job, &why);
	}
}

static void
arm_dest_timer(struct dest *d, int64_t usec)
{
	struct timeval tv = { (time_t)(usec / 1000000), (suseconds_t)(usec % 1000000) };

	evtimer_add(d->timer, &tv);
}

/* dispatch - start what the limits allow, one entry per destination in turn. */
static void
dispatch(struct scheduler *s)
{
	int64_t now = util_now(), now_us = util_now_us(), wait;
	struct dest *d;
	struct run *r;

	while (!s->stopping && s->nrunning < s->env.cfg->max_connections &&
	    (d = TAILQ_FIRST(&s->ready)) != NULL) {
		TAILQ_REMOVE(&s->ready, d, ready_link);
		d->in_ready = false;
		if (dest_ctl_dead(&d->ctl, now)) {
			defer_waiting(s, d);
			if (d->nwaiting > 0 && !d->in_defer_wait) {
				TAILQ_INSERT_TAIL(&s->defer_wait, d, defer_link);
				d->in_defer_wait = true;
			}
			arm_dest_timer(d, (d->ctl.dead_until - now) * 1000000);
			continue;
		}
		if ((wait = dest_ctl_wait(&d->ctl, now_us)) != 0) {
			if (wait > 0)
				arm_dest_timer(d, wait);
			continue;	/* else: back in line when one of its jobs ends */
		}
		dest_ctl_start(&d->ctl, now_us);
		r = run_new(s, d, pop_waiting(d), true);
		ready_push(d);
		delivery_start(r->job, take_idle(d));
	}
}

/* --- jobs ending --- */

static int64_t
dead_backoff(const void *arg, int n)
{
	return outcome_backoff(arg, n);
}

static void
requeue(struct scheduler *s, struct run *r)
{
	struct entry *e = xcalloc(1, sizeof(*e));
	struct delivery_job *job = r->job;

	util_strlcpy(e->msg, job->msg, sizeof(e->msg));
	e->due = job->due;
	e->cap = job->nrcpts ? job->nrcpts : 1;
	e->rcpts = xcalloc(e->cap, sizeof(*e->rcpts));
	e->nrcpts = delivery_job_take_rcpts(job, e->rcpts);
	TAILQ_INSERT_HEAD(&r->d->waiting, e, link);
	r->d->nwaiting++;
}

static void
run_free(struct scheduler *s, struct run *r)
{
	TAILQ_REMOVE(&s->runs, r, link);
	if (r->counted)
		s->nrunning--;
	r->d->runs--;
	for (size_t i = 0; i < r->naddrs; i++)
		free(r->addrs[i]);
	free(r->addrs);
	delivery_job_free(r->job);
	free(r);
}

static enum delivery_verdict
job_finished(void *arg, struct delivery_job *job, enum dest_health h)
{
	struct scheduler *s = arg;
	struct run *r = job->owner;
	struct dest *d = r->d;
	bool died;

	if (!r->counted)
		return DELIVERY_COMMIT;
	died = dest_ctl_finish(&d->ctl, h, util_now(), dead_backoff, s->env.cfg);
	if (died) {
		d->dead_why = *delivery_job_last_error(job);
		log_info("%s: destination %s is not responding (%s); its mail waits %lld s",
		    job->msg, d->key, d->dead_why.text, (long long)(d->ctl.dead_until - util_now()));
	}
	if (h == DEST_THROTTLED && !died && !delivery_job_has_final(job) && !s->stopping) {
		log_info("%s: %s asks for fewer connections; now at most %u", job->msg, d->key,
		    d->ctl.window);
		requeue(s, r);
		r->counted = false;	/* the slot is free now */
		s->nrunning--;
		run_free(s, r);
		ready_push(d);
		dispatch(s);
		return DELIVERY_REQUEUE;
	}
	return DELIVERY_COMMIT;
}

/* forget - the run's recipients leave memory; retries and new DSNs set the timers. */
static void
forget(struct scheduler *s, struct run *r)
{
	char key[KEY_MAX];
	const struct outcome *o = &r->job->outcome;

	for (size_t i = 0; i < r->naddrs; i++) {
		loaded_key(key, r->job->msg, r->addrs[i]);
		hmap_del(s->loaded, key);
	}
	if (r->job->gone || r->job->record_failed)
		return;
	for (size_t i = 0; i < o->n; i++)
		if (o->rcpts[i].final_state == OUTCOME_DEFERRED)
			arm_due(s, o->rcpts[i].next_attempt);
	if (o->bounce_id[0] || o->warning_id[0])
		cursor_back(s, o->now);
}

/* defer_unblock - a deferral was recorded: dead destinations waiting for room go on. */
static void
defer_unblock(struct scheduler *s)
{
	struct dest *d;

	while ((d = TAILQ_FIRST(&s->defer_wait)) != NULL) {
		TAILQ_REMOVE(&s->defer_wait, d, defer_link);
		d->in_defer_wait = false;
		ready_push(d);
	}
}

static void
job_committed(void *arg, struct delivery_job *job)
{
	struct scheduler *s = arg;
	struct run *r = job->owner;
	struct dest *d = r->d;

	if (!r->counted && d->deferring > 0) {
		d->deferring--;
		s->ndeferring--;
		defer_unblock(s);
	}
	forget(s, r);
	if (job->record_failed) {	/* the store still has them as they were: later */
		if (job->due < s->rewind_t)
			s->rewind_t = job->due;
		arm_due(s, util_now() + RECORD_RETRY);
	}
	run_free(s, r);
	if (!s->stopping) {
		ready_push(d);
		schedule_load(s);
		dispatch(s);
	}
	dest_maybe_free(d);
}

/* --- idle connections --- */

static void
idle_remove(struct dest *d, struct idle *x)
{
	for (struct idle **p = &d->idle; *p; p = &(*p)->next) {
		if (*p == x) {
			*p = x->next;
			event_free(x->ev);
			free(x);
			return;
		}
	}
}

static void
idle_on_ready(struct smtp_client *c, void *arg)
{
}

static void
idle_on_done(struct smtp_client *c, void *arg)
{
}

static void
idle_on_fail(struct smtp_client *c, void *arg, const struct reply *why, bool tls_failed)
{
	struct idle *x = arg;
	struct dest *d = x->d;

	smtp_client_free(c);
	idle_remove(d, x);
	dest_maybe_free(d);
}

static const struct smtp_client_cbs idle_cbs = { idle_on_ready, idle_on_done, idle_on_fail };

static void
idle_expire(evutil_socket_t fd, short what, void *arg)
{
	struct idle *x = arg;
	struct dest *d = x->d;

	smtp_client_quit(x->client);
	idle_remove(d, x);
	dest_maybe_free(d);
}

static void
job_idle(void *arg, struct delivery_job *job, struct smtp_client *c)
{
	struct scheduler *s = arg;
	struct run *r = job->owner;
	struct timeval tv = { IDLE_SECONDS, 0 };
	struct idle *x;

	if (s->stopping || smtp_client_config(c) != s->env.cfg) {	/* or made before a reload */
		smtp_client_quit(c);
		return;
	}
	x = xcalloc(1, sizeof(*x));
	x->d = r->d;
	x->client = c;
	x->ev = evtimer_new(s->env.base, idle_expire, x);
	x->next = r->d->idle;
	r->d->idle = x;
	smtp_client_rebind(c, &idle_cbs, x);
	evtimer_add(x->ev, &tv);
}

static const struct delivery_cbs job_cbs = { job_finished, job_committed, job_idle };

/* --- life --- */

struct scheduler *
scheduler_new(const struct delivery_env *env)
{
	struct scheduler *s = xcalloc(1, sizeof(*s));
	struct timeval tv = { (time_t)env->cfg->queue_scan_interval, 0 };
	uint64_t seed;

	s->env = *env;
	s->env.cfg = config_ref(env->cfg);
	util_random_bytes(&seed, sizeof(seed));
	s->dests = hmap_new(seed);
	util_random_bytes(&seed, sizeof(seed));
	s->loaded = hmap_new(seed);
	TAILQ_INIT(&s->ready);
	TAILQ_INIT(&s->defer_wait);
	TAILQ_INIT(&s->runs);
	s->cursor_t = INT64_MIN;
	s->cursor_row = -1;
	s->due_at = INT64_MAX;
	s->rewind_t = INT64_MAX;
	s->load_ev = evtimer_new(env->base, load, s);
	s->due_ev = evtimer_new(env->base, on_due, s);
	s->scan_ev = evtimer_new(env->base, on_scan, s);
	evtimer_add(s->scan_ev, &tv);
	schedule_load(s);
	return s;
}

/* relimit - a destination takes the limits of the new config. */
static void
relimit(void *arg, const char *key, void *value)
{
	struct dest *d = value;
	const struct config *cfg = arg;
	struct config_destination lim;
	const struct config_route *r = config_route_for(cfg, d->domain);

	config_destination_for(cfg, r != NULL ? r->domain : d->domain, &lim);
	dest_ctl_set_limits(&d->ctl, (unsigned)lim.max_connections, lim.rate_n, lim.rate_period);
	if (!dest_ctl_dead(&d->ctl, util_now())) {
		evtimer_del(d->timer);	/* it may wait for the old rate: look again */
		ready_push(d);
	}
}

void
scheduler_set_config(struct scheduler *s, const struct config *cfg)
{
	config_free(s->env.cfg);
	s->env.cfg = config_ref(cfg);
	hmap_each(s->dests, relimit, (void *)cfg);
	dispatch(s);
}

void
scheduler_stats(const struct scheduler *s, struct scheduler_stats *out)
{
	out->active_rcpts = hmap_count(s->loaded);
	out->destinations = hmap_count(s->dests);
	out->running = s->nrunning;
}

static void
close_idle(void *arg, const char *key, void *value)
{
	struct dest *d = value;

	while (d->idle != NULL) {
		smtp_client_free(d->idle->client);
		idle_remove(d, d->idle);
	}
}

void
scheduler_stop(struct scheduler *s)
{
	struct run *r, *next;

	s->stopping = true;
	evtimer_del(s->load_ev);
	evtimer_del(s->due_ev);
	evtimer_del(s->scan_ev);
	hmap_each(s->dests, close_idle, NULL);
	for (r = TAILQ_FIRST(&s->runs); r != NULL; r = next) {
		next = TAILQ_NEXT(r, link);
		if (r->job->committing)
			continue;	/* the queue writer still owns its outcome */
		delivery_abandon(r->job);
		if (r->counted)
			dest_ctl_abort(&r->d->ctl);
		run_free(s, r);
	}
}

static void
free_dest(void *arg, const char *key, void *value)
{
	struct dest *d = value;
	struct entry *e;

	while ((e = TAILQ_FIRST(&d->waiting)) != NULL) {
		TAILQ_REMOVE(&d->waiting, e, link);
		entry_free(e);
	}
	while (d->idle != NULL) {
		smtp_client_free(d->idle->client);
		idle_remove(d, d->idle);
	}
	event_free(d->timer);
	free(d);
}

void
scheduler_free(struct scheduler *s)
{
	struct run *r;

	if (s == NULL)
		return;
	while ((r = TAILQ_FIRST(&s->runs)) != NULL)
		run_free(s, r);
	hmap_each(s->dests, free_dest, NULL);
	hmap_free(s->dests);
	hmap_free(s->loaded);
	event_free(s->load_ev);
	event_free(s->due_ev);
	event_free(s->scan_ev);
	config_free(s->env.cfg);
	free(s);
}
