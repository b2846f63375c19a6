/*
 * delivery.c - one job: from a message and a destination to a decided
 * result for each of its recipients.
 *
 *   start: the envelope and which recipients are still pending; an idle
 *   connection to the destination (if it meets the route's TLS policy), or
 *   route: "route" line (its tls-policy only), else the domain's TLS
 *     policy (tls-policy, MTA-STS), then MX (null MX: fail, none: implicit)
 *   next_mx -> the MX host's policy (DANE, MTA-STS mx patterns; skip it?)
 *     -> addresses -> next_addr -> SMTP client with the TLS requirement
 *     ready: read the message, send it; done: let the message go
 *     TLS handshake failed: the same address again without TLS, only under
 *     "may" without MTA-STS or DANE
 *     connection failed: the next address, then the next MX
 *   finish: undecided recipients take the last connection failure; the
 *   owner hears how the destination did and says whether to record it;
 *   outcome_apply() through the queue writer; log; committed.
 */
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/config.h"
#include "deliver/delivery.h"
#include "lib/log.h"
#include "lib/smtp_reply.h"
#include "lib/util.h"
#include "queue/queue.h"

static void next_mx(struct delivery_job *job);
static void route(struct delivery_job *job);
static void next_addr(struct delivery_job *job);
static void finish(struct delivery_job *job);

struct delivery_job *
delivery_job_new(const struct delivery_env *env, const struct delivery_cbs *cbs, void *arg,
    const char *msg, const char *domain, char **rcpts, size_t n)
{
	struct delivery_job *job = xcalloc(1, sizeof(*job));

	if (n > JOB_RCPTS_MAX)
		panic("delivery_job_new: %zu recipients", n);
	job->env = env;
	job->cbs = cbs;
	job->arg = arg;
	util_strlcpy(job->msg, msg, sizeof(job->msg));
	util_strlcpy(job->domain, domain, sizeof(job->domain));
	job->rcpts = xcalloc(n ? n : 1, sizeof(*job->rcpts));
	for (size_t i = 0; i < n; i++)
		job->rcpts[i].addr = rcpts[i];
	job->nrcpts = n;
	return job;
}

static void
route_free(struct delivery_job *job)
{
	if (job->rt != NULL)
		tlspolicy_mx_free(job->rt->mxpol);
	free(job->rt);
	job->rt = NULL;
}

void
delivery_job_free(struct delivery_job *job)
{
	if (job == NULL)
		return;
	for (size_t i = 0; i < job->nrcpts; i++)
		free(job->rcpts[i].addr);
	free(job->rcpts);
	free(job->cm_rcpts);
	free(job->cm_results);
	free(job->cm_index);
	free(job->orcpts);
	route_free(job);
	store_loaded_free(&job->m);
	config_free(job->cfg);
	free(job);
}

bool
delivery_job_has_final(const struct delivery_job *job)
{
	for (size_t i = 0; i < job->nrcpts; i++)
		if (job->rcpts[i].result.code != 0 && job->rcpts[i].result.kind != REPLY_TEMPFAIL)
			return true;
	return false;
}

size_t
delivery_job_take_rcpts(struct delivery_job *job, char **out)
{
	size_t n = job->nrcpts;

	for (size_t i = 0; i < n; i++) {
		out[i] = job->rcpts[i].addr;
		job->rcpts[i].addr = NULL;
	}
	job->nrcpts = 0;
	return n;
}

const struct reply *
delivery_job_last_error(const struct delivery_job *job)
{
	return &job->last_error;
}

/* decide_rest - r for every recipient still undecided. */
static void
decide_rest(struct delivery_job *job, const struct reply *r, const char *relay)
{
	for (size_t i = 0; i < job->nrcpts; i++) {
		struct delivery_rcpt *dr = &job->rcpts[i];

		if (dr->result.code != 0)
			continue;
		dr->result = *r;
		util_strlcpy(dr->relay, relay, sizeof(dr->relay));
		util_strlcpy(dr->tls, "none", sizeof(dr->tls));
	}
}

static bool
all_decided(const struct delivery_job *job)
{
	for (size_t i = 0; i < job->nrcpts; i++)
		if (job->rcpts[i].result.code == 0)
			return false;
	return true;
}

/* --- the SMTP client's callbacks --- */

static void
take_results(struct delivery_job *job)
{
	struct smtp_client *c = job->client;

	for (size_t k = 0; k < job->cm.nrcpts; k++) {
		struct delivery_rcpt *dr = &job->rcpts[job->cm_index[k]];
		const struct reply *r = &job->cm_results[k];

		if (r->code == 0)
			continue;
		dr->result = *r;
		util_strlcpy(dr->relay, smtp_client_relay(c), sizeof(dr->relay));
		util_strlcpy(dr->tls, smtp_client_tls(c), sizeof(dr->tls));
		if (smtp_reply_throttling(r->code, r->status, r->text))
			job->throttled = true;
	}
	job->cm.nrcpts = 0;
}

/* release_body - the transaction is over: the message need not stay in memory. */
static void
release_body(struct delivery_job *job)
{
	free(job->m.data);
	job->m.data = NULL;
}

/* count_session - the connection's TLS, once, for TLS-RPT. */
static void
count_session(struct delivery_job *job, struct smtp_client *c)
{
	const struct smtp_tls_outcome *t = smtp_client_tls_outcome(c);
	struct tlspolicy_session s = { t->offered, t->attempted, t->established, t->check,
	    t->why, t->ip, t->local_ip };

	if (!job->count_session || job->rt == NULL || job->rt->mxpol == NULL)
		return;
	job->count_session = false;
	tlspolicy_count(job->env->tlspolicy, &job->rt->pol, job->rt->mxpol, &s);
}

static void
on_ready(struct smtp_client *c, void *arg)
{
	struct delivery_job *job = arg;
	struct store_loaded full;
	size_t i, k = 0;

	count_session(job, c);
	job->reached = true;
	if (job->m.data == NULL) {
		if (store_msg_load(job->env->store, job->msg, &full) != STORE_OK) {
			job->gone = true;	/* deleted while we connected */
			job->client = NULL;
			job->cbs->idle(job->arg, job, c);
			finish(job);
			return;
		}
		store_loaded_free(&job->m);
		job->m = full;
	}
	for (i = 0; i < job->nrcpts; i++) {
		if (job->rcpts[i].result.code != 0)
			continue;
		job->cm_rcpts[k] = job->rcpts[i].addr;
		job->cm_index[k++] = i;
	}
	job->cm.sender = job->m.sender;
	job->cm.rcpts = job->cm_rcpts;
	job->cm.nrcpts = k;
	job->cm.data = job->m.data;
	job->cm.len = job->m.len;
	job->cm.smtputf8 = job->m.smtputf8;
	job->cm.body_8bit = job->m.body_8bit;
	job->cm.results = job->cm_results;
	smtp_client_send(c, &job->cm);
}

static void
on_done(struct smtp_client *c, void *arg)
{
	struct delivery_job *job = arg;

	take_results(job);
	release_body(job);
	job->client = NULL;
	job->cbs->idle(job->arg, job, c);
	finish(job);
}

static void
on_fail(struct smtp_client *c, void *arg, const struct reply *why, bool tls_failed)
{
	struct delivery_job *job = arg;

	take_results(job);
	job->last_error = *why;
	if (smtp_reply_throttling(why->code, why->status, why->text))
		job->throttled = true;
	else if (!job->reached)
		job->unreachable = true;
	log_info("%s: %s", job->msg, why->text);
	if (tls_failed)
		count_session(job, c);
	job->count_session = false;
	smtp_client_free(c);
	job->client = NULL;
	if (all_decided(job)) {
		finish(job);
		return;
	}
	if (job->rt == NULL) {	/* a reused connection died: look the destination up */
		route(job);
		return;
	}
	if (tls_failed && !job->rt->plain_retry && job->rt->mxpol->level == TLS_LEVEL_MAY &&
	    !job->rt->pol.sts) {
		job->rt->plain_retry = true;	/* as Postfix: the same MX in plain text */
		job->rt->iaddr--;
	} else
		job->rt->plain_retry = false;
	next_addr(job);
}

static const struct smtp_client_cbs client_cbs = { on_ready, on_done, on_fail };

/* --- finding the destination --- */

static void
next_addr(struct delivery_job *job)
{
	struct sockaddr_storage *ss;
	const char *host = job->rt->mx[job->rt->imx - 1].host;

	if (job->rt->iaddr >= job->rt->naddrs) {
		next_mx(job);
		return;
	}
	ss = &job->rt->addrs[job->rt->iaddr++];
	job->client = smtp_client_new(job->env->base, job->cfg, job->env->tls,
	    (struct sockaddr *)ss, ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in), host, !job->rt->plain_retry, &client_cbs, job);
	if (job->client != NULL) {
		const struct tlspolicy_mx *m = job->rt->mxpol;
		struct smtp_tls_req req = { job->rt->plain_retry ? TLS_LEVEL_NONE : m->level, m->sts,
		    m->tlsa, m->ntlsa };

		smtp_client_require(job->client, &req);
		job->count_session = !job->rt->plain_retry;
	} else {
		reply_set(&job->last_error, 451, "4.4.1", "cannot create a socket to %s", host);
		job->rt->plain_retry = false;
		next_addr(job);
	}
}

static void
on_addrs(void *arg, enum dns_status st, const struct sockaddr_storage *addrs, size_t n,
    const char *why)
{
	struct delivery_job *job = arg;

	if (st != DNS_OK || n == 0) {
		reply_set(&job->last_error, 451, st == DNS_TEMPFAIL ? "4.4.3" : "4.4.4", "%s", why);
		job->unreachable = true;
		next_mx(job);
		return;
	}
	memcpy(job->rt->addrs, addrs, n * sizeof(addrs[0]));
	job->rt->naddrs = n;
	job->rt->iaddr = 0;
	job->rt->plain_retry = false;
	next_addr(job);
}

/* on_mx_policy - the MX host's requirement: connect, or skip it. */
static void
on_mx_policy(void *arg, struct tlspolicy_mx *m)
{
	struct delivery_job *job = arg;
	const struct config_route *route = config_route_for(job->cfg, job->domain);
	unsigned port = route ? route->port : 25;

	job->wait = NULL;
	tlspolicy_mx_free(job->rt->mxpol);
	job->rt->mxpol = m;
	if (m->skip) {
		job->last_error = m->why;
		log_info("%s: %s", job->msg, m->why.text);
		next_mx(job);
		return;
	}
	dns_addrs(job->env->dns, job->rt->mx[job->rt->imx - 1].host, port, on_addrs, job);
}

static void
next_mx(struct delivery_job *job)
{
	const struct dns_mx *mx;

	if (job->rt->imx >= job->rt->nmx) {
		decide_rest(job, &job->last_error, "none");
		finish(job);
		return;
	}
	mx = &job->rt->mx[job->rt->imx++];
	job->rt->naddrs = job->rt->iaddr = 0;
	job->wait = tlspolicy_mx(job->env->tlspolicy, &job->rt->pol, mx->host, mx->secure,
	    on_mx_policy, job);
}

static void
on_mx(void *arg, enum dns_status st, const struct dns_mx *mx, size_t n, const char *why)
{
	struct delivery_job *job = arg;
	struct reply r;

	switch (st) {
	case DNS_OK:
		if (n == 1 && mx[0].host[0] == '\0') {
			reply_set(&r, 556, "5.1.10", "domain %s does not accept mail (null MX)",
			    job->domain);
			decide_rest(job, &r, "none");
			finish(job);
			return;
		}
		memcpy(job->rt->mx, mx, n * sizeof(mx[0]));
		job->rt->nmx = n;
		break;
	case DNS_NODATA:	/* implicit MX: the domain itself (RFC 5321 section 5.1) */
		util_strlcpy(job->rt->mx[0].host, job->domain, sizeof(job->rt->mx[0].host));
		job->rt->mx[0].secure = true;	/* DANE then hangs on its addresses (RFC 7672 2.2.3) */
		job->rt->nmx = 1;
		break;
	case DNS_NXDOMAIN:
		reply_set(&r, 550, "5.1.2", "Host or domain name not found: %s", job->domain);
		decide_rest(job, &r, "none");
		finish(job);
		return;
	case DNS_TEMPFAIL:
		reply_set(&r, 451, "4.4.3", "%s", why);
		job->last_error = r;
		job->unreachable = true;
		decide_rest(job, &r, "none");
		finish(job);
		return;
	}
	job->rt->imx = 0;
	next_mx(job);
}

/* literal_host - "[192.0.2.1]" or "[IPv6:2001:db8::1]" as a plain address. */
static bool
literal_host(const char *domain, char *out, size_t outsz)
{
	size_t n = strlen(domain);

	if (n < 3 || domain[0] != '[' || domain[n - 1] != ']')
		return false;
	if (strncasecmp(domain + 1, "ipv6:", 5) == 0)
		snprintf(out, outsz, "%.*s", (int)(n - 7), domain + 6);
	else
		snprintf(out, outsz, "%.*s", (int)(n - 2), domain + 1);
	return true;
}

/* on_policy - the domain's TLS policy is known: its MX next. */
static void
on_policy(void *arg, const struct tlspolicy_dest *d)
{
	struct delivery_job *job = arg;

	job->wait = NULL;
	job->rt->pol = *d;
	dns_mx(job->env->dns, job->domain, on_mx, job);
}

/* fixed_host - the route's host, or an address literal's, into mx[0]: no MX lookup. */
static bool
fixed_host(struct delivery_job *job)
{
	const struct config_route *r = config_route_for(job->cfg, job->domain);
	struct dns_mx *mx = &job->rt->mx[0];

	if (r == NULL && !literal_host(job->domain, mx->host, sizeof(mx->host)))
		return false;
	if (r != NULL)
		util_strlcpy(mx->host, r->host, sizeof(mx->host));
	mx->secure = false;	/* not the domain's MX: no DANE, no MTA-STS */
	return true;
}

static void
route(struct delivery_job *job)
{
	job->rt = xcalloc(1, sizeof(*job->rt));
	if (fixed_host(job)) {
		tlspolicy_dest_static(job->cfg, job->domain, &job->rt->pol);
		job->rt->nmx = 1;
		job->rt->imx = 0;
		next_mx(job);
		return;
	}
	job->wait = tlspolicy_domain(job->env->tlspolicy, job->domain, on_policy, job);
}

/* keep_pending - one stored recipient row: drop it from the job unless it is still pending. */
static void
keep_pending(void *arg, const char *const *cols, int ncols)
{
	struct delivery_job *job = arg;
	bool pending = strcmp(cols[1], RCPT_QUEUED) == 0 || strcmp(cols[1], RCPT_DEFERRED) == 0;

	for (size_t i = 0; i < job->nrcpts; i++)
		if (job->rcpts[i].result.code == -1 && strcmp(job->rcpts[i].addr, cols[0]) == 0 &&
		    pending)
			job->rcpts[i].result.code = 0;
}

/*
 * load_envelope - the message's envelope, and only the recipients still
 * pending ("queue bounce" or "delete" may have come first). False when
 * nothing is left to do.
 */
static bool
load_envelope(struct delivery_job *job)
{
	enum store_result r = store_msg_envelope(job->env->store, job->msg, &job->m);
	size_t i, k;

	if (r != STORE_OK) {
		if (r != STORE_NOTFOUND)
			log_warn("%s: cannot read the message: %s", job->msg,
			    store_errmsg(job->env->store));
		return false;
	}
	for (i = 0; i < job->nrcpts; i++)
		job->rcpts[i].result.code = -1;	/* not pending until the store says so */
	if (store_msg_rcpts(job->env->store, job->msg, keep_pending, job) != STORE_OK)
		return false;
	for (i = k = 0; i < job->nrcpts; i++) {
		if (job->rcpts[i].result.code == -1) {
			free(job->rcpts[i].addr);
			continue;
		}
		job->rcpts[k++] = job->rcpts[i];
	}
	job->nrcpts = k;
	return k > 0;
}

/*
 * idle_fits - whether an idle connection meets this job's TLS policy. A
 * destination is a domain (whose policy made the connection) or a route's
 * target, which domains with different tls-policy lines may share.
 */
static bool
idle_fits(struct delivery_job *job, const struct smtp_client *idle)
{
	struct tlspolicy_dest d;

	if (config_route_for(job->cfg, job->domain) == NULL)
		return true;
	tlspolicy_dest_static(job->cfg, job->domain, &d);
	return smtp_client_meets(idle, d.level);
}

void
delivery_start(struct delivery_job *job, struct smtp_client *idle)
{
	job->cfg = config_ref(job->env->cfg);	/* the settings current now, to the end */
	if (!load_envelope(job)) {
		job->gone = true;
		if (idle != NULL)
			job->cbs->idle(job->arg, job, idle);
		finish(job);
		return;
	}
	job->cm_rcpts = xcalloc(job->nrcpts, sizeof(*job->cm_rcpts));
	job->cm_results = xcalloc(job->nrcpts, sizeof(*job->cm_results));
	job->cm_index = xcalloc(job->nrcpts, sizeof(*job->cm_index));
	reply_set(&job->last_error, 451, "4.4.1", "no destination for %s was reachable",
	    job->domain);
	if (idle != NULL && !idle_fits(job, idle)) {
		smtp_client_quit(idle);
		idle = NULL;
	}
	if (idle != NULL) {
		job->client = idle;
		smtp_client_rebind(idle, &client_cbs, job);
		on_ready(idle, job);
		return;
	}
	route(job);
}

void
delivery_defer(struct delivery_job *job, const struct reply *why)
{
	job->cfg = config_ref(job->env->cfg);
	job->last_error = *why;
	decide_rest(job, why, "none");
	finish(job);
}

/* --- the end --- */

static void
committed(struct queue_req *req)
{
	struct delivery_job *job = req->arg;

	if (req->result != STORE_OK) {
		log_warn("%s: cannot record the delivery outcome: %s; it will be retried",
		    job->msg, req->errmsg);
		job->record_failed = true;
	} else
		outcome_log(&job->outcome);
	if (job->outcome.gone)
		job->gone = true;
	free(req);
	job->committing = false;
	job->cbs->committed(job->arg, job);
}

static enum dest_health
health(const struct delivery_job *job)
{
	if (job->throttled)
		return DEST_THROTTLED;
	if (job->reached)
		return DEST_REACHED;
	if (job->unreachable)
		return DEST_UNREACHABLE;
	return DEST_UNTRIED;
}

static void
record(struct delivery_job *job)
{
	struct queue_req *req = xcalloc(1, sizeof(*req));
	struct outcome *o = &job->outcome;

	memset(o, 0, sizeof(*o));
	util_strlcpy(o->msg, job->msg, sizeof(o->msg));
	job->orcpts = xcalloc(job->nrcpts, sizeof(*job->orcpts));
	o->rcpts = job->orcpts;
	o->n = job->nrcpts;
	o->now = util_now();
	o->cfg = job->cfg;
	o->signer = job->env->signer;
	for (size_t i = 0; i < job->nrcpts; i++) {
		struct outcome_rcpt *r = &job->orcpts[i];
		const struct delivery_rcpt *dr = &job->rcpts[i];

		util_strlcpy(r->rcpt, dr->addr, sizeof(r->rcpt));
		r->kind = dr->result.kind;
		util_strlcpy(r->reply, dr->result.text, sizeof(r->reply));
		util_strlcpy(r->dsn, dr->result.status, sizeof(r->dsn));
		util_strlcpy(r->relay, dr->relay[0] ? dr->relay : "none", sizeof(r->relay));
		util_strlcpy(r->tls, dr->tls[0] ? dr->tls : "none", sizeof(r->tls));
	}
	job->committing = true;
	req->apply = outcome_apply;
	req->apply_arg = o;
	req->done = committed;
	req->arg = job;
	queue_commit(job->env->queue, req);
}

static void
finish(struct delivery_job *job)
{
	release_body(job);
	if (job->gone) {
		job->cbs->finished(job->arg, job, DEST_UNTRIED);
		job->cbs->committed(job->arg, job);
		return;
	}
	if (job->cbs->finished(job->arg, job, health(job)) == DELIVERY_REQUEUE)
		return;
	record(job);
}

void
delivery_abandon(struct delivery_job *job)
{
	if (job->client != NULL)
		smtp_client_free(job->client);
	job->client = NULL;
	tlspolicy_cancel(job->wait);
	job->wait = NULL;
}
