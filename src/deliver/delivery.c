/*
 * delivery.c - one job: from a message and a destination domain to a
 * decided result for each of its recipients.
 *
 *   start: load the message; reuse an idle connection to the domain, or
 *   route: "route" line, else MX (null MX: fail, none: implicit MX)
 *   next_mx -> addresses -> next_addr -> SMTP client
 *     TLS handshake failed: the same address again without TLS
 *     connection failed: the next address, then the next MX
 *   finish: undecided recipients take the last connection failure;
 *   outcome_apply() through the queue writer; log; done.
 */
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/addr.h"
#include "base/config.h"
#include "deliver/delivery.h"
#include "lib/log.h"
#include "queue/queue.h"
#include "deliver/smtp_client.h"
#include "lib/util.h"

static void next_mx(struct delivery_job *job);
static void route(struct delivery_job *job);
static void next_addr(struct delivery_job *job);
static void finish(struct delivery_job *job);

static const struct scheduler_env *
env(struct delivery_job *job)
{
	return scheduler_env(job->sched);
}

/* decide_rest - r for every recipient still undecided. */
static void
decide_rest(struct delivery_job *job, const struct reply *r, const char *relay)
{
	for (size_t i = 0; i < job->nrcpts; i++) {
		if (job->results[i].code != 0)
			continue;
		job->results[i] = *r;
		util_strlcpy(job->relay[i], relay, sizeof(job->relay[i]));
		util_strlcpy(job->tls[i], "none", sizeof(job->tls[i]));
	}
}

static bool
all_decided(const struct delivery_job *job)
{
	for (size_t i = 0; i < job->nrcpts; i++)
		if (job->results[i].code == 0)
			return false;
	return true;
}

/* --- the SMTP client's callbacks --- */

static void
take_results(struct delivery_job *job)
{
	struct smtp_client *c = job->client;

	for (size_t k = 0; k < job->cm.nrcpts; k++) {
		size_t i = job->cm_index[k];

		if (job->cm_results[k].code == 0)
			continue;
		job->results[i] = job->cm_results[k];
		util_strlcpy(job->relay[i], smtp_client_relay(c), sizeof(job->relay[i]));
		util_strlcpy(job->tls[i], smtp_client_tls(c), sizeof(job->tls[i]));
	}
}

static void
on_ready(struct smtp_client *c, void *arg)
{
	struct delivery_job *job = arg;
	size_t i, k = 0;

	for (i = 0; i < job->nrcpts; i++) {
		if (job->results[i].code != 0)
			continue;
		job->cm_rcpts[k] = job->rcpts[i];
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
	job->client = NULL;
	scheduler_put_idle(job->sched, job->domain, c);
	finish(job);
}

static void
on_fail(struct smtp_client *c, void *arg, const struct reply *why, bool tls_failed)
{
	struct delivery_job *job = arg;

	take_results(job);
	job->last_error = *why;
	log_info("%s: %s", job->msg, why->text);
	smtp_client_free(c);
	job->client = NULL;
	if (all_decided(job)) {
		finish(job);
		return;
	}
	if (!job->routed) {	/* a reused connection died: look the destination up */
		route(job);
		return;
	}
	if (tls_failed && !job->plain_retry) {
		job->plain_retry = true;	/* as Postfix: the same MX in plain text */
		job->iaddr--;
	} else
		job->plain_retry = false;
	next_addr(job);
}

static const struct smtp_client_cbs client_cbs = { on_ready, on_done, on_fail };

/* --- finding the destination --- */

static void
next_addr(struct delivery_job *job)
{
	struct sockaddr_storage *ss;
	const char *host = job->mx[job->imx - 1].host;

	if (job->iaddr >= job->naddrs) {
		next_mx(job);
		return;
	}
	ss = &job->addrs[job->iaddr++];
	job->client = smtp_client_new(env(job)->base, env(job)->cfg, env(job)->tls,
	    (struct sockaddr *)ss, ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in), host, !job->plain_retry, &client_cbs, job);
	if (job->client == NULL) {
		reply_set(&job->last_error, 451, "4.4.1", "cannot create a socket to %s", host);
		job->plain_retry = false;
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
		next_mx(job);
		return;
	}
	memcpy(job->addrs, addrs, n * sizeof(addrs[0]));
	job->naddrs = n;
	job->iaddr = 0;
	job->plain_retry = false;
	next_addr(job);
}

static void
next_mx(struct delivery_job *job)
{
	const struct config_route *route = config_route_for(env(job)->cfg, job->domain);
	unsigned port = route ? route->port : 25;

	if (job->imx >= job->nmx) {
		decide_rest(job, &job->last_error, "none");
		finish(job);
		return;
	}
	job->imx++;
	job->naddrs = job->iaddr = 0;
	dns_addrs(env(job)->dns, job->mx[job->imx - 1].host, port, on_addrs, job);
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
		memcpy(job->mx, mx, n * sizeof(mx[0]));
		job->nmx = n;
		break;
	case DNS_NODATA:	/* implicit MX: the domain itself (RFC 5321 section 5.1) */
		util_strlcpy(job->mx[0].host, job->domain, sizeof(job->mx[0].host));
		job->nmx = 1;
		break;
	case DNS_NXDOMAIN:
		reply_set(&r, 550, "5.1.2", "Host or domain name not found: %s", job->domain);
		decide_rest(job, &r, "none");
		finish(job);
		return;
	case DNS_TEMPFAIL:
		reply_set(&r, 451, "4.4.3", "%s", why);
		decide_rest(job, &r, "none");
		finish(job);
		return;
	}
	job->imx = 0;
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

static void
route(struct delivery_job *job)
{
	const struct config_route *r = config_route_for(env(job)->cfg, job->domain);

	job->routed = true;
	if (r != NULL || literal_host(job->domain, job->mx[0].host, sizeof(job->mx[0].host))) {
		if (r != NULL)
			util_strlcpy(job->mx[0].host, r->host, sizeof(job->mx[0].host));
		job->nmx = 1;
		job->imx = 0;
		next_mx(job);
		return;
	}
	dns_mx(env(job)->dns, job->domain, on_mx, job);
}

void
delivery_start(struct delivery_job *job)
{
	enum store_result r = store_msg_load(env(job)->store, job->msg, &job->m);

	if (r != STORE_OK) {
		if (r != STORE_NOTFOUND)
			log_warn("%s: cannot read the message: %s", job->msg,
			    store_errmsg(env(job)->store));
		scheduler_job_done(job->sched, job);
		return;
	}
	reply_set(&job->last_error, 451, "4.4.1", "no destination for %s was reachable",
	    job->domain);
	job->client = scheduler_take_idle(job->sched, job->domain);
	if (job->client != NULL) {
		smtp_client_rebind(job->client, &client_cbs, job);
		on_ready(job->client, job);
		return;
	}
	route(job);
}

/* --- the end --- */

static void
committed(struct queue_req *req)
{
	struct delivery_job *job = req->arg;

	if (req->result != STORE_OK)
		log_warn("%s: cannot record the delivery outcome: %s; it will be retried",
		    job->msg, req->errmsg);
	else
		outcome_log(&job->outcome);
	free(req);
	scheduler_job_done(job->sched, job);
}

static void
finish(struct delivery_job *job)
{
	struct queue_req *req = xcalloc(1, sizeof(*req));
	struct outcome *o = &job->outcome;

	memset(o, 0, sizeof(*o));
	util_strlcpy(o->msg, job->msg, sizeof(o->msg));
	o->rcpts = job->orcpts;
	o->n = job->nrcpts;
	o->now = util_now();
	o->cfg = env(job)->cfg;
	for (size_t i = 0; i < job->nrcpts; i++) {
		struct outcome_rcpt *r = &job->orcpts[i];

		memset(r, 0, sizeof(*r));
		util_strlcpy(r->rcpt, job->rcpts[i], sizeof(r->rcpt));
		r->kind = job->results[i].kind;
		util_strlcpy(r->reply, job->results[i].text, sizeof(r->reply));
		util_strlcpy(r->dsn, job->results[i].status, sizeof(r->dsn));
		util_strlcpy(r->relay, job->relay[i][0] ? job->relay[i] : "none", sizeof(r->relay));
		util_strlcpy(r->tls, job->tls[i][0] ? job->tls[i] : "none", sizeof(r->tls));
	}
	job->committing = true;
	req->apply = outcome_apply;
	req->apply_arg = o;
	req->done = committed;
	req->arg = job;
	queue_commit(env(job)->queue, req);
}

void
delivery_abandon(struct delivery_job *job)
{
	if (job->client != NULL)
		smtp_client_free(job->client);
	job->client = NULL;
}
