/*
 * tlsrpt_send.c - build and send the TLS-RPT reports of past days.
 *
 * One run walks the (day, domain) pairs one at a time: TXT lookup, then the
 * report from the counters (read on the loop), gzip'd; the messages are
 * signed and queued, and the counters dropped, in one queue-writer
 * transaction; https: uploads run on the posters' threads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "base/config.h"
#include "base/gzip.h"
#include "base/https.h"
#include "base/store.h"
#include "base/worker.h"
#include "deliver/scheduler.h"
#include "deliver/tlsrpt_send.h"
#include "dkim/dkim_sign.h"
#include "dns/dns.h"
#include "lib/log.h"
#include "lib/util.h"
#include "queue/queue.h"
#include "tlspolicy/tlspolicy.h"
#include "tlspolicy/tlsrpt.h"

#define FIRST_RUN 2		/* seconds after start */
#define RUN_EVERY 3600		/* then every hour */
#define MAX_ITEMS 1000		/* (day, domain) pairs per run */
#define MAX_ROWS 2000		/* counter rows per report */
#define GIVE_UP_DAYS 3		/* a domain whose record cannot be looked up for this long */
#define POST_TIMEOUT 30

struct item {
	char day[11];
	char domain[256];
};

struct post;

struct tlsrpt_send {
	struct tlsrpt_send_env env;
	struct event *timer;
	struct post *posts;		/* uploads in progress */
	struct item *items;
	size_t n, i;
	bool busy, stopping;
};

/* The counter rows of one report, copied out of the store. */
struct rows {
	size_t n;
	struct {
		char *type, *string, *mx_host, *result, *mx, *ip, *sending_ip, *reason;
		uint64_t count;
	} r[MAX_ROWS];
};

/* Reports for the mailto: addresses, queued (and the counters dropped) in one transaction. */
struct mailing {
	struct queue_req req;
	struct dkim_signer *signer;
	struct scheduler *sched;
	int64_t arrival;
	char day[11], domain[256];
	size_t n;
	char *msg[TLSRPT_MAX_RUA];
	size_t len[TLSRPT_MAX_RUA];
	char rcpt[TLSRPT_MAX_RUA][TLSRPT_URI_MAX];
	char id[TLSRPT_MAX_RUA][16];
	enum dkim_sign_status signed_[TLSRPT_MAX_RUA];
	char note[TLSRPT_MAX_RUA][200];
};

struct post {
	struct tlsrpt_send *s;
	struct post *next;		/* s->posts */
	char url[TLSRPT_URI_MAX], host[256], path[TLSRPT_URI_MAX], addrs[800];
	unsigned port;
	struct config *cfg;		/* a reference: its tls-ca-file for the thread */
	struct worker_pool *posters;
	unsigned char *gz;
	size_t gzlen;
	long status;
	char why[400];
};

static void next_item(struct tlsrpt_send *s);

/* --- timing --- */

static void
on_timer(evutil_socket_t fd, short what, void *arg);

static void
arm(struct tlsrpt_send *s, int seconds)
{
	struct timeval tv = { seconds, 0 };

	evtimer_add(s->timer, &tv);
}

static int64_t
day_start(const char *day)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(day, "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) != 3)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm);
}

/* --- dropping counters --- */

struct drop {
	struct queue_req req;
	char day[11], domain[256];
};

static enum store_result
apply_drop(struct store *st, void *arg)
{
	struct drop *d = arg;
	enum store_result r = store_tlsrpt_delete(st, d->day, d->domain);

	return r == STORE_NOTFOUND ? STORE_OK : r;
}

static void
drop_done(struct queue_req *req)
{
	if (req->result != STORE_OK)
		log_warn("tlsrpt: cannot drop counters: %s", req->errmsg);
	free(req->arg);
}

static void
drop(struct tlsrpt_send *s, const struct item *it)
{
	struct drop *d = xcalloc(1, sizeof(*d));

	util_strlcpy(d->day, it->day, sizeof(d->day));
	util_strlcpy(d->domain, it->domain, sizeof(d->domain));
	d->req.apply = apply_drop;
	d->req.apply_arg = d;
	d->req.done = drop_done;
	d->req.arg = d;
	queue_commit(s->env.queue, &d->req);
}

/* --- the report --- */

static void
collect_row(void *arg, const char *const *cols, int ncols)
{
	struct rows *rs = arg;

	if (ncols < 11 || rs->n == MAX_ROWS)
		return;
	rs->r[rs->n].type = xstrdup(cols[2]);
	rs->r[rs->n].string = xstrdup(cols[3]);
	rs->r[rs->n].mx_host = xstrdup(cols[4]);
	rs->r[rs->n].result = xstrdup(cols[5]);
	rs->r[rs->n].mx = xstrdup(cols[6]);
	rs->r[rs->n].ip = xstrdup(cols[7]);
	rs->r[rs->n].sending_ip = xstrdup(cols[8]);
	rs->r[rs->n].reason = xstrdup(cols[9]);
	rs->r[rs->n].count = strtoull(cols[10], NULL, 10);
	rs->n++;
}

static void
rows_free(struct rows *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		free(rs->r[i].type);
		free(rs->r[i].string);
		free(rs->r[i].mx_host);
		free(rs->r[i].result);
		free(rs->r[i].mx);
		free(rs->r[i].ip);
		free(rs->r[i].sending_ip);
		free(rs->r[i].reason);
	}
	free(rs);
}

static bool
same_policy(const struct rows *rs, size_t a, size_t b)
{
	return strcmp(rs->r[a].type, rs->r[b].type) == 0 &&
	    strcmp(rs->r[a].string, rs->r[b].string) == 0 &&
	    strcmp(rs->r[a].mx_host, rs->r[b].mx_host) == 0;
}

/* group - the rows (ordered by policy) as report policies and failures. */
static size_t
group(const struct rows *rs, const char *domain, struct tlsrpt_policy *pol,
    struct tlsrpt_failure *fail)
{
	size_t np = 0, nf = 0;

	for (size_t i = 0; i < rs->n; i++) {
		struct tlsrpt_policy *p;

		if (i == 0 || !same_policy(rs, i - 1, i)) {
			p = &pol[np++];
			memset(p, 0, sizeof(*p));
			p->type = rs->r[i].type;
			p->domain = domain;
			p->strings = rs->r[i].string;
			p->mx_hosts = rs->r[i].mx_host;
			p->fail = &fail[nf];
		}
		p = &pol[np - 1];
		if (strcmp(rs->r[i].result, TLSRPT_SUCCESS) == 0) {
			p->success += rs->r[i].count;
			continue;
		}
		p->failure += rs->r[i].count;
		fail[nf].result = rs->r[i].result;
		fail[nf].sending_ip = rs->r[i].sending_ip;
		fail[nf].mx = rs->r[i].mx;
		fail[nf].ip = rs->r[i].ip;
		fail[nf].reason = rs->r[i].reason;
		fail[nf++].count = rs->r[i].count;
		p->nfail++;
	}
	return np;
}

/* build - the gzip'd JSON report of it; NULL when it has no rows. */
static unsigned char *
build(struct tlsrpt_send *s, const struct item *it, const char *id, size_t *gzlen)
{
	struct rows *rs = xcalloc(1, sizeof(*rs));
	struct tlsrpt_policy *pol = NULL;
	struct tlsrpt_failure *fail = NULL;
	struct tlsrpt_report rep;
	unsigned char *gz = NULL;
	char contact[300];
	size_t jlen;
	char *json;

	if (store_tlsrpt_rows(s->env.store, it->day, it->domain, collect_row, rs) != STORE_OK) {
		log_warn("tlsrpt: cannot read the counters of %s: %s", it->domain,
		    store_errmsg(s->env.store));
		goto done;
	}
	if (rs->n == 0)
		goto done;
	pol = xcalloc(rs->n, sizeof(*pol));
	fail = xcalloc(rs->n, sizeof(*fail));
	snprintf(contact, sizeof(contact), "postmaster@%s", s->env.cfg->hostname);
	rep.org = s->env.cfg->hostname;
	rep.contact = contact;
	rep.id = id;
	rep.start = day_start(it->day);
	rep.end = rep.start + 86399;
	rep.pol = pol;
	rep.npol = group(rs, it->domain, pol, fail);
	json = tlsrpt_json(&rep, &jlen);
	gz = gzip_compress(json, jlen, gzlen);
	free(json);
done:
	free(pol);
	free(fail);
	rows_free(rs);
	return gz;
}

/* --- mailto: through the queue --- */

static enum store_result
apply_mailing(struct store *st, void *arg)
{
	struct mailing *m = arg;
	enum store_result r;

	for (size_t i = 0; i < m->n; i++) {
		enum dkim_sign_status ds = DKIM_NONE;
		size_t slen;
		char *signed_msg = m->signer ? dkim_signer_prepend(m->signer, m->msg[i], m->len[i],
		    util_now(), &slen, &ds, m->note[i], sizeof(m->note[i])) : NULL;

		if (m->signer == NULL)
			util_strlcpy(m->note[i], "no signer", sizeof(m->note[i]));
		r = queue_insert_local(st, signed_msg ? signed_msg : m->msg[i],
		    signed_msg ? slen : m->len[i], m->rcpt[i], m->arrival, m->id[i]);
		free(signed_msg);
		if (r != STORE_OK)
			return r;
		m->signed_[i] = ds;
	}
	r = store_tlsrpt_delete(st, m->day, m->domain);
	return r == STORE_NOTFOUND ? STORE_OK : r;
}

static void
mailing_done(struct queue_req *req)
{
	struct mailing *m = req->arg;

	for (size_t i = 0; i < m->n; i++) {
		const char *rcpt[1] = { m->rcpt[i] };

		if (req->result == STORE_OK && m->sched != NULL)
			scheduler_queued(m->sched, m->id[i], rcpt, 1, m->arrival);
		if (req->result == STORE_OK)
			log_info("%s: tlsrpt: report for %s (%s) to <%s>, dkim=%s (%s)", m->id[i],
			    m->domain, m->day, m->rcpt[i], m->signed_[i] == DKIM_SIGNED ? "signed" :
			    m->signed_[i] == DKIM_NONE ? "none" : "error", m->note[i]);
		free(m->msg[i]);
	}
	if (req->result != STORE_OK)
		log_warn("tlsrpt: cannot queue the report for %s (%s): %s; it is tried again in"
		    " an hour", m->domain, m->day, req->errmsg);
	free(m);
}

static void
mail_reports(struct tlsrpt_send *s, const struct item *it, const struct tlsrpt_rua *rua,
    const char *id, const unsigned char *gz, size_t gzlen)
{
	struct mailing *m = xcalloc(1, sizeof(*m));
	struct tlsrpt_mail tm = { s->env.cfg->hostname, it->domain, id, NULL, day_start(it->day),
	    day_start(it->day) + 86399, util_now(), gz, gzlen };

	m->signer = s->env.signer;
	m->sched = s->env.sched;
	m->arrival = util_now();
	util_strlcpy(m->day, it->day, sizeof(m->day));
	util_strlcpy(m->domain, it->domain, sizeof(m->domain));
	for (size_t i = 0; i < rua->n; i++) {
		if (rua->to[i].https)
			continue;
		util_strlcpy(m->rcpt[m->n], rua->to[i].uri, sizeof(m->rcpt[m->n]));
		tm.to = m->rcpt[m->n];
		m->msg[m->n] = tlsrpt_mail(&tm, &m->len[m->n]);
		m->n++;
	}
	m->req.apply = apply_mailing;
	m->req.apply_arg = m;
	m->req.done = mailing_done;
	m->req.arg = m;
	queue_commit(s->env.queue, &m->req);
}

/* --- https: uploads --- */

static void
post_work(void *arg)
{
	struct post *p = arg;
	struct https_req req = { p->host, p->port, p->path, p->addrs, p->cfg->tls_ca_file,
	    POST_TIMEOUT,
	    64 * 1024, "application/tlsrpt+gzip", p->gz, p->gzlen };
	struct https_resp resp = { 0 };

	if (https_request(&req, &resp, p->why, sizeof(p->why)) == 0) {
		p->status = resp.status;
		https_resp_free(&resp);
	}
}

static void
post_free(struct post *p)
{
	struct post **pp;

	for (pp = &p->s->posts; *pp != NULL && *pp != p; pp = &(*pp)->next)
		;
	if (*pp == p)
		*pp = p->next;
	config_free(p->cfg);
	free(p->gz);
	free(p);
}

static void
post_done(void *arg)
{
	struct post *p = arg;

	if (p->status >= 200 && p->status < 300)
		log_info("tlsrpt: report posted to %s: HTTP %ld", p->url, p->status);
	else if (p->status != 0)
		log_warn("tlsrpt: report posted to %s: HTTP %ld, not accepted", p->url, p->status);
	else
		log_warn("tlsrpt: cannot post the report to %s: %s", p->url, p->why);
	post_free(p);
}

static void
on_post_addrs(void *arg, enum dns_status st, const struct sockaddr_storage *addrs, size_t n,
    const char *why)
{
	struct post *p = arg;
	char ip[INET6_ADDRSTRLEN];
	size_t len = 0;

	for (size_t i = 0; st == DNS_OK && i < n && len + 50 < sizeof(p->addrs); i++) {
		util_sockaddr_ip((const struct sockaddr *)&addrs[i], ip, sizeof(ip));
		len += (size_t)snprintf(p->addrs + len, sizeof(p->addrs) - len, "%s%s%s%s",
		    len ? "," : "", addrs[i].ss_family == AF_INET6 ? "[" : "", ip,
		    addrs[i].ss_family == AF_INET6 ? "]" : "");
	}
	if (len == 0) {
		snprintf(p->why, sizeof(p->why), "no address for %s: %s", p->host, why);
		post_done(p);
		return;
	}
	worker_submit(p->posters, post_work, post_done, p);
}

static void
post_report(struct tlsrpt_send *s, const char *url, const unsigned char *gz, size_t gzlen)
{
	struct post *p = xcalloc(1, sizeof(*p));

	util_strlcpy(p->url, url, sizeof(p->url));
	if (tlsrpt_url_split(url, p->host, sizeof(p->host), &p->port, p->path,
	    sizeof(p->path)) == -1) {
		log_warn("tlsrpt: cannot post to %s: not an https URL with a host name", url);
		free(p);
		return;
	}
	p->cfg = config_ref(s->env.cfg);
	p->posters = s->env.posters;
	p->s = s;
	p->next = s->posts;
	s->posts = p;
	p->gz = xmalloc(gzlen);
	memcpy(p->gz, gz, gzlen);
	p->gzlen = gzlen;
	dns_addrs(s->env.dns, p->host, p->port, on_post_addrs, p);
}

/* --- the walk --- */

static void
report(struct tlsrpt_send *s, const struct item *it, const struct tlsrpt_rua *rua)
{
	char id[300], qid[16];
	unsigned char *gz;
	size_t gzlen, mailto = 0;

	util_queue_id(qid);
	snprintf(id, sizeof(id), "%s.%s@%s", it->day, qid, s->env.cfg->hostname);
	if ((gz = build(s, it, id, &gzlen)) == NULL)
		return;
	for (size_t i = 0; i < rua->n; i++) {
		if (rua->to[i].https)
			post_report(s, rua->to[i].uri, gz, gzlen);
		else
			mailto++;
	}
	if (mailto > 0)
		mail_reports(s, it, rua, id, gz, gzlen);
	else
		drop(s, it);
	free(gz);
}

/* rpt_record - the one valid TLS-RPT record among txt into rua; -1 if none. */
static int
rpt_record(const char *const *txt, size_t n, struct tlsrpt_rua *rua)
{
	size_t found = 0, which = 0;

	for (size_t i = 0; i < n; i++)
		if (tlsrpt_txt_is_rpt(txt[i])) {
			found++;
			which = i;
		}
	return found == 1 ? tlsrpt_txt_parse(txt[which], rua, NULL) : -1;
}

static void
on_rua(void *arg, enum dns_status st, const char *const *txt, size_t n, const char *why)
{
	struct tlsrpt_send *s = arg;
	const struct item *it = &s->items[s->i - 1];
	struct tlsrpt_rua *rua = xcalloc(1, sizeof(*rua));

	if (s->stopping)
		goto out;
	if (st == DNS_TEMPFAIL) {
		if (day_start(it->day) < util_now() - GIVE_UP_DAYS * 86400) {
			log_warn("tlsrpt: %s: %s for %d days; the counters of %s are dropped",
			    it->domain, why, GIVE_UP_DAYS, it->day);
			drop(s, it);
		}
	} else if (st != DNS_OK || rpt_record(txt, n, rua) == -1) {
		drop(s, it);	/* no report wanted */
	} else
		report(s, it, rua);
out:
	free(rua);
	next_item(s);
}

static void
next_item(struct tlsrpt_send *s)
{
	char name[300];

	if (s->stopping || s->i == s->n) {
		free(s->items);
		s->items = NULL;
		s->n = s->i = 0;
		s->busy = false;
		return;
	}
	snprintf(name, sizeof(name), "_smtp._tls.%s", s->items[s->i++].domain);
	dns_txt(s->env.dns, name, on_rua, s);
}

static void
collect_item(void *arg, const char *const *cols, int ncols)
{
	struct tlsrpt_send *s = arg;

	if (ncols < 2 || s->n == MAX_ITEMS)
		return;
	util_strlcpy(s->items[s->n].day, cols[0], sizeof(s->items[s->n].day));
	util_strlcpy(s->items[s->n].domain, cols[1], sizeof(s->items[s->n].domain));
	s->n++;
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct tlsrpt_send *s = arg;
	char today[11];

	arm(s, RUN_EVERY);
	if (s->busy || s->stopping)
		return;
	tlspolicy_day(util_now(), today);
	s->items = xcalloc(MAX_ITEMS, sizeof(*s->items));
	s->n = s->i = 0;
	if (store_tlsrpt_days(s->env.store, today, collect_item, s) != STORE_OK)
		log_warn("tlsrpt: cannot read the counters: %s", store_errmsg(s->env.store));
	s->busy = true;
	next_item(s);
}

struct tlsrpt_send *
tlsrpt_send_new(const struct tlsrpt_send_env *env)
{
	struct tlsrpt_send *s = xcalloc(1, sizeof(*s));

	s->env = *env;
	s->env.cfg = config_ref(env->cfg);
	s->timer = evtimer_new(env->base, on_timer, s);
	arm(s, FIRST_RUN);
	return s;
}

void
tlsrpt_send_set_config(struct tlsrpt_send *s, const struct config *cfg)
{
	config_free(s->env.cfg);
	s->env.cfg = config_ref(cfg);
}

void
tlsrpt_send_stop(struct tlsrpt_send *s)
{
	s->stopping = true;
	evtimer_del(s->timer);
}

void
tlsrpt_send_free(struct tlsrpt_send *s)
{
	if (s == NULL)
		return;
	event_free(s->timer);
	while (s->posts != NULL)
		post_free(s->posts);	/* those whose address lookup was abandoned */
	free(s->items);
	config_free(s->env.cfg);
	free(s);
}
