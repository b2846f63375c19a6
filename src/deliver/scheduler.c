/*
 * scheduler.c - decide what to deliver now. Scans the queue for due
 * recipients (when kicked, and at least every queue-scan-interval), groups
 * them into jobs by message and destination domain, and starts jobs within
 * the connection limits. Keeps finished connections open for a moment so
 * that the next message to the same domain reuses them.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "lib/addr.h"
#include "base/config.h"
#include "deliver/delivery.h"
#include "lib/log.h"
#include "deliver/smtp_client.h"
#include "lib/util.h"

#define SCAN_LIMIT 2000		/* due recipients looked at per scan */
#define IDLE_SECONDS 2		/* how long a finished connection waits for more */

struct idle {
	struct idle *next;
	struct scheduler *s;
	char domain[256];
	struct smtp_client *client;
	int64_t since;
};

struct scheduler {
	struct scheduler_env env;
	struct event *scan_ev;
	struct delivery_job *active;
	size_t nactive;
	struct idle *idle;
	bool stopping;
	struct delivery_job *batch;	/* jobs being built by a scan */
};

const struct scheduler_env *
scheduler_env(struct scheduler *s)
{
	return &s->env;
}

static size_t
active_for(struct scheduler *s, const char *domain)
{
	size_t n = 0;

	for (struct delivery_job *j = s->active; j; j = j->next)
		if (strcmp(j->domain, domain) == 0)
			n++;
	return n;
}

static bool
in_flight(struct scheduler *s, const char *key)
{
	for (struct delivery_job *j = s->active; j; j = j->next)
		if (strcmp(j->key, key) == 0)
			return true;
	return false;
}

static struct delivery_job *
batch_job(struct scheduler *s, const char *key)
{
	for (struct delivery_job *j = s->batch; j; j = j->next)
		if (strcmp(j->key, key) == 0)
			return j;
	return NULL;
}

/* add_due - one due recipient from the scan: into its job. */
static void
add_due(void *arg, const char *const *cols, int ncols)
{
	struct scheduler *s = arg;
	const char *domain = addr_domain(cols[1]);
	struct delivery_job *job;
	char key[300];

	if (domain == NULL)
		return;
	snprintf(key, sizeof(key), "%s/%s", cols[0], domain);
	for (char *p = strchr(key, '/'); *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (in_flight(s, key))
		return;
	if ((job = batch_job(s, key)) == NULL) {
		job = xcalloc(1, sizeof(*job));
		job->sched = s;
		util_strlcpy(job->key, key, sizeof(job->key));
		util_strlcpy(job->msg, cols[0], sizeof(job->msg));
		util_strlcpy(job->domain, strchr(key, '/') + 1, sizeof(job->domain));
		job->next = s->batch;
		s->batch = job;
	}
	if (job->nrcpts < JOB_RCPTS_MAX)
		job->rcpts[job->nrcpts++] = xstrdup(cols[1]);
}

static void
job_free(struct delivery_job *job)
{
	for (size_t i = 0; i < job->nrcpts; i++)
		free(job->rcpts[i]);
	store_loaded_free(&job->m);
	free(job);
}

/* start_batch - start what the limits allow; the rest waits for a later scan. */
static void
start_batch(struct scheduler *s)
{
	struct delivery_job *job, *next;

	for (job = s->batch, s->batch = NULL; job; job = next) {
		next = job->next;
		if (s->stopping || s->nactive >= s->env.cfg->max_connections ||
		    active_for(s, job->domain) >= s->env.cfg->max_connections_per_domain ||
		    in_flight(s, job->key)) {
			job_free(job);
			continue;
		}
		job->next = s->active;
		s->active = job;
		s->nactive++;
		delivery_start(job);
	}
}

static void
schedule_scan(struct scheduler *s, int64_t seconds)
{
	struct timeval tv = { (time_t)seconds, 0 };

	evtimer_add(s->scan_ev, &tv);
}

static void
scan(evutil_socket_t fd, short what, void *arg)
{
	struct scheduler *s = arg;
	int64_t now = util_now(), next_due, wait;

	if (s->stopping)
		return;
	if (store_due(s->env.store, now, SCAN_LIMIT, add_due, s) < 0)
		log_warn("cannot read the queue: %s", store_errmsg(s->env.store));
	start_batch(s);
	wait = (int64_t)s->env.cfg->queue_scan_interval;
	if (store_next_due(s->env.store, &next_due) == STORE_OK && next_due - now < wait)
		wait = next_due > now ? next_due - now : 1;
	schedule_scan(s, wait);
}

struct scheduler *
scheduler_new(const struct scheduler_env *env)
{
	struct scheduler *s = xcalloc(1, sizeof(*s));

	s->env = *env;
	s->scan_ev = evtimer_new(env->base, scan, s);
	schedule_scan(s, 0);
	return s;
}

void
scheduler_kick(struct scheduler *s)
{
	struct timeval zero = { 0, 0 };

	if (!s->stopping)
		evtimer_add(s->scan_ev, &zero);
}

void
scheduler_job_done(struct scheduler *s, struct delivery_job *job)
{
	struct delivery_job **p;

	for (p = &s->active; *p; p = &(*p)->next) {
		if (*p == job) {
			*p = job->next;
			s->nactive--;
			break;
		}
	}
	job_free(job);
	scheduler_kick(s);
}

/* --- idle connections --- */

static void
idle_remove(struct scheduler *s, struct idle *x)
{
	struct idle **p;

	for (p = &s->idle; *p; p = &(*p)->next) {
		if (*p == x) {
			*p = x->next;
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

	smtp_client_free(c);
	idle_remove(x->s, x);
}

static const struct smtp_client_cbs idle_cbs = { idle_on_ready, idle_on_done, idle_on_fail };

struct smtp_client *
scheduler_take_idle(struct scheduler *s, const char *domain)
{
	struct smtp_client *c;

	for (struct idle *x = s->idle; x; x = x->next) {
		if (strcmp(x->domain, domain) != 0)
			continue;
		c = x->client;
		idle_remove(s, x);
		return c;
	}
	return NULL;
}

static void
expire_idle(evutil_socket_t fd, short what, void *arg)
{
	struct scheduler *s = arg;
	int64_t now = util_now();
	struct idle *x, *next;

	for (x = s->idle; x; x = next) {
		next = x->next;
		if (now - x->since >= IDLE_SECONDS || s->stopping) {
			smtp_client_quit(x->client);
			idle_remove(s, x);
		}
	}
}

void
scheduler_put_idle(struct scheduler *s, const char *domain, struct smtp_client *c)
{
	struct idle *x;
	struct timeval tv = { IDLE_SECONDS, 0 };

	if (s->stopping) {
		smtp_client_quit(c);
		return;
	}
	x = xcalloc(1, sizeof(*x));
	x->s = s;
	util_strlcpy(x->domain, domain, sizeof(x->domain));
	x->client = c;
	x->since = util_now();
	x->next = s->idle;
	s->idle = x;
	smtp_client_rebind(c, &idle_cbs, x);
	event_base_once(s->env.base, -1, EV_TIMEOUT, expire_idle, s, &tv);
}

void
scheduler_stop(struct scheduler *s)
{
	struct delivery_job *job, *next, **keep = &s->active;

	s->stopping = true;
	evtimer_del(s->scan_ev);
	while (s->idle != NULL) {
		smtp_client_free(s->idle->client);
		idle_remove(s, s->idle);
	}
	for (job = s->active; job; job = next) {
		next = job->next;
		if (job->committing) {	/* the queue writer still owns its outcome */
			*keep = job;
			keep = &job->next;
			continue;
		}
		delivery_abandon(job);
		job_free(job);
		s->nactive--;
	}
	*keep = NULL;
}

void
scheduler_free(struct scheduler *s)
{
	if (s == NULL)
		return;
	event_free(s->scan_ev);
	free(s);
}
