/*
 * gate.c - the daemon's readiness gate: periodic doctor runs on a worker
 * thread of their own (a run blocks on DNS for seconds), their verdicts
 * written to the store by that thread and handed to the loop through the
 * mailbox, which swaps them into the in-memory table the sessions read.
 * Only the loop thread touches the table; the run owns its job until done.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>

#include "base/config.h"
#include "base/store.h"
#include "base/worker.h"
#include "dns/dns.h"
#include "doctor/doctor.h"
#include "doctor/gate.h"
#include "doctor/report.h"
#include "lib/log.h"
#include "lib/util.h"

struct verdict {
	char domain[DNS_NAME_MAX + 1];
	enum gate_state state;
	char reason[DOCTOR_REASON_MAX];
};

struct table {
	size_t n;
	struct verdict *v;		/* sorted by domain */
};

struct doctor_gate {
	const struct config *cfg;	/* a reference: the current one (reload) */
	char *dbpath;
	struct worker_pool *pool;	/* one thread: runs never overlap */
	struct event *timer;
	struct table table;
	bool running, again;
	int64_t last_unchecked;		/* ms: the last run asked for by unchecked() */
	atomic_int stop;
};

#define UNCHECKED_RERUN_MS 30000	/* an unchecked domain asks for a run at most this often */

/* One run: filled on the worker thread, applied on the loop. */
struct run {
	struct doctor_gate *g;
	const struct config *cfg;	/* a reference: the run's settings, to its end */
	int64_t started;		/* ms */
	struct table table;
	char err[512];
};

static int
cmp_verdict(const void *a, const void *b)
{
	return strcmp(((const struct verdict *)a)->domain, ((const struct verdict *)b)->domain);
}

/* --- the run, on the worker thread --- */

static void
judge(struct doctor_env *env, struct store *st, const char *domain, int64_t started,
    struct doctor_report *rep, struct verdict *v)
{
	util_strlcpy(v->domain, domain, sizeof(v->domain));
	doctor_run(env, domain, rep);
	v->state = doctor_gate_verdict(rep, v->reason, sizeof(v->reason));
	if (store_doctor_put(st, domain, started, gate_state_name(v->state), v->reason) !=
	    STORE_OK)
		log_warn("doctor: cannot store the verdict on %s: %s", domain, store_errmsg(st));
}

static void
run_work(void *arg)
{
	struct run *run = arg;
	struct doctor_report *rep = NULL;
	char (*d)[DNS_NAME_MAX + 1] = xcalloc(DOCTOR_DOMAINS_MAX, sizeof(*d));
	struct doctor_env env;
	struct store *st;
	int n;

	if ((st = store_open(run->g->dbpath, run->err, sizeof(run->err))) == NULL)
		goto done;
	if ((n = doctor_domains(st, d, DOCTOR_DOMAINS_MAX)) == -1) {
		util_strlcpy(run->err, store_errmsg(st), sizeof(run->err));
		goto done;
	}
	if (doctor_env_init(&env, run->cfg, st, NULL, 0, run->err, sizeof(run->err)) == -1)
		goto done;
	dns_sync_cancel_on(env.dns, &run->g->stop);
	rep = xcalloc(1, sizeof(*rep));
	run->table.v = xcalloc((size_t)n + 1, sizeof(*run->table.v));
	for (int i = 0; i < n && !atomic_load(&run->g->stop); i++)
		judge(&env, st, d[i], run->started, rep, &run->table.v[run->table.n++]);
	doctor_env_free(&env);
done:
	free(rep);
	free(d);
	store_close(st);
}

/* --- on the loop --- */

static void start_run(struct doctor_gate *g);

static void
log_verdicts(const struct table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct verdict *v = &t->v[i];

		if (v->state == GATE_READY)
			log_info("doctor: %s: ready", v->domain);
		else
			log_warn("doctor: %s: %s: %s", v->domain, gate_state_name(v->state),
			    v->reason);
	}
}

static void
run_done(void *arg)
{
	struct run *run = arg;
	struct doctor_gate *g = run->g;
	struct timeval tv = { (time_t)g->cfg->doctor_interval, 0 };

	g->running = false;
	if (run->err[0] != '\0')
		log_warn("doctor: the readiness checks could not run: %s", run->err);
	else if (!atomic_load(&g->stop)) {
		free(g->table.v);
		g->table = run->table;
		run->table.v = NULL;
		if (g->table.n > 0)
			qsort(g->table.v, g->table.n, sizeof(g->table.v[0]), cmp_verdict);
		log_verdicts(&g->table);
	}
	free(run->table.v);
	config_free(run->cfg);
	free(run);
	if (atomic_load(&g->stop))
		return;
	if (g->again) {
		start_run(g);
		return;
	}
	evtimer_add(g->timer, &tv);
}

static void
start_run(struct doctor_gate *g)
{
	struct run *run = xcalloc(1, sizeof(*run));

	g->running = true;
	g->again = false;
	run->g = g;
	run->cfg = config_ref(g->cfg);
	run->started = util_now_us() / 1000;
	worker_submit(g->pool, run_work, run_done, run);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct doctor_gate *g = arg;

	if (!g->running)
		start_run(g);
}

void
doctor_gate_set_config(struct doctor_gate *g, const struct config *cfg)
{
	if (g == NULL)
		return;
	config_free(g->cfg);
	g->cfg = config_ref(cfg);
	doctor_gate_refresh(g);	/* relay-ip, hostname or dnsbl may have changed */
}

void
doctor_gate_refresh(struct doctor_gate *g)
{
	if (atomic_load(&g->stop))
		return;
	if (g->running) {
		g->again = true;	/* the run in progress may have read DNS already */
		return;
	}
	evtimer_del(g->timer);
	start_run(g);
}

static void
load_row(void *arg, const char *const *cols, int ncols)
{
	struct table *t = arg;
	struct verdict *v;

	if (ncols < 4 || t->n >= DOCTOR_DOMAINS_MAX)
		return;
	t->v = xrealloc(t->v, (t->n + 1) * sizeof(*t->v));
	v = &t->v[t->n];
	util_strlcpy(v->domain, cols[0], sizeof(v->domain));
	if (gate_state_parse(cols[2], &v->state) == -1)
		return;
	util_strlcpy(v->reason, cols[3], sizeof(v->reason));
	t->n++;
}

struct doctor_gate *
doctor_gate_new(const struct config *cfg, const char *dbpath, struct event_base *base,
    struct mailbox *mb, struct store *st)
{
	struct doctor_gate *g = xcalloc(1, sizeof(*g));

	g->cfg = config_ref(cfg);
	g->dbpath = xstrdup(dbpath);
	g->pool = worker_pool_new(mb, 1);
	g->timer = evtimer_new(base, on_timer, g);
	atomic_init(&g->stop, 0);
	if (store_doctor_list(st, load_row, &g->table) != STORE_OK)
		log_warn("doctor: cannot read the stored verdicts: %s", store_errmsg(st));
	if (g->table.n > 0)
		qsort(g->table.v, g->table.n, sizeof(g->table.v[0]), cmp_verdict);
	start_run(g);
	return g;
}

/*
 * unchecked - mail from a domain without a verdict (granted since the last
 * run): have it checked soon, without letting such mail start run after run.
 */
static void
unchecked(struct doctor_gate *g)
{
	int64_t now = util_now_us() / 1000;

	if (atomic_load(&g->stop) || (g->last_unchecked != 0 &&
	    now - g->last_unchecked < UNCHECKED_RERUN_MS))
		return;
	g->last_unchecked = now;
	if (g->running)
		g->again = true;
	else {
		evtimer_del(g->timer);
		start_run(g);
	}
}

enum reply_kind
doctor_gate_check(struct doctor_gate *g, const char *domain, struct reply *r)
{
	struct verdict key, *v = NULL;

	memset(&key, 0, sizeof(key));
	if (strlen(domain) < sizeof(key.domain)) {
		for (size_t i = 0; domain[i] != '\0'; i++)
			key.domain[i] = (char)(domain[i] >= 'A' && domain[i] <= 'Z' ? domain[i] + 32 :
			    domain[i]);
		if (g->table.n > 0)
			v = bsearch(&key, g->table.v, g->table.n, sizeof(key), cmp_verdict);
	}
	if (v == NULL) {
		unchecked(g);
		reply_set(r, 451, "4.7.26", "%s has not been checked for readiness yet; try again"
		    " in a minute", domain);
		return r->kind;
	}
	if (v->state == GATE_READY)
		reply_set(r, 250, "2.0.0", "%s is ready", domain);
	else
		reply_set(r, v->state == GATE_NOT_READY ? 550 : 451, v->state == GATE_NOT_READY ?
		    "5.7.26" : "4.7.26", "%s", v->reason);
	return r->kind;
}

void
doctor_gate_stop(struct doctor_gate *g)
{
	if (g == NULL)
		return;
	atomic_store(&g->stop, 1);
	evtimer_del(g->timer);
	worker_pool_free(g->pool);	/* the run in progress ends at once: its DNS is cancelled */
	g->pool = NULL;
}

void
doctor_gate_free(struct doctor_gate *g)
{
	if (g == NULL)
		return;
	if (g->pool != NULL)
		panic("doctor_gate_free before doctor_gate_stop");
	event_free(g->timer);
	config_free(g->cfg);
	free(g->table.v);
	free(g->dbpath);
	free(g);
}
