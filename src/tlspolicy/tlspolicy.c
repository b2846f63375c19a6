/*
 * tlspolicy.c - the TLS requirement of a destination and of each of its
 * MX hosts, and the TLS-RPT counters.
 *
 * A domain's policy is looked up once for all the jobs that ask while it
 * is being looked up (a "lookup" with its waiters). MTA-STS (RFC 8461 5):
 *   TXT _mta-sts.DOMAIN: exactly one valid v=STSv1 record gives the id;
 *   the cached policy is used while it has not expired and its id is the
 *   record's; otherwise the policy is fetched over HTTPS from
 *   mta-sts.DOMAIN (its address from our resolver) on a fetcher thread;
 *   a good one replaces the cache; a failed fetch, no record or a DNS
 *   failure leave the cached policy in force until it expires.
 * Per MX host: DANE when the host's MX and address answers and its TLSA
 * records are DNSSEC-secure and one record is usable; else MTA-STS (in
 * enforce mode only hosts matching an mx pattern, with a verified
 * certificate); else the tls-policy level.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/event.h>

#include "base/config.h"
#include "base/https.h"
#include "base/worker.h"
#include "lib/log.h"
#include "lib/util.h"
#include "tlspolicy/tlspolicy.h"
#include "tlspolicy/tlsrpt.h"

#define FETCH_TIMEOUT 10		/* seconds, RFC 8461 3.3 suggests a short one */
#define STS_PATH "/.well-known/mta-sts.txt"

struct lookup;

struct tlspolicy {
	struct tlspolicy_env env;
	struct tlspolicy_wait *waits;	/* every wait not yet answered */
	struct lookup *lookups;		/* domains being looked up */
	struct fetch *fetches;		/* policy fetches in progress */
	struct event *ready_ev;		/* answers that are ready at once go out here */
	bool stopping;
};

struct tlspolicy_wait {
	struct tlspolicy *tp;
	struct tlspolicy_wait *prev, *next;	/* tp->waits */
	bool cancelled;
	bool ready;			/* answer now, from ready_ev */
	struct lookup *l;		/* a domain wait: its lookup */
	tlspolicy_dest_cb dcb;
	tlspolicy_mx_cb mcb;
	void *arg;
	struct tlspolicy_mx *mx;	/* an MX wait: its answer */
	struct tlspolicy_dest dest;	/* an MX wait: the destination's policy */
};

struct lookup {
	struct tlspolicy *tp;
	struct lookup *next;
	struct tlspolicy_dest dest;
	struct store_sts cached;	/* policy NULL: none */
	char id[STS_ID_MAX + 1];	/* of the TXT record */
	bool done;			/* answered through ready_ev */
};

/* A policy fetch on a fetcher thread. */
struct fetch {
	struct tlspolicy *tp;
	struct fetch *next;		/* tp->fetches */
	struct lookup *l;		/* NULL: nobody waits any more */
	char domain[256], host[300], addrs[800], id[STS_ID_MAX + 1];
	struct config *cfg;		/* a reference: its tls-ca-file for the thread */
	/* results, from the thread */
	bool ok;
	const char *result;		/* the TLS-RPT failure type when not ok */
	char why[500];
	char *text;
	struct sts_policy policy;
};

static void lookup_finish(struct lookup *l);
static void fetch_free(struct fetch *f);

/* --- waits --- */

static struct tlspolicy_wait *
wait_new(struct tlspolicy *tp, void *arg)
{
	struct tlspolicy_wait *w = xcalloc(1, sizeof(*w));

	w->tp = tp;
	w->arg = arg;
	w->next = tp->waits;
	if (w->next)
		w->next->prev = w;
	tp->waits = w;
	return w;
}

static void
wait_free(struct tlspolicy_wait *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		w->tp->waits = w->next;
	if (w->next)
		w->next->prev = w->prev;
	tlspolicy_mx_free(w->mx);
	free(w);
}

void
tlspolicy_cancel(struct tlspolicy_wait *w)
{
	if (w != NULL)
		w->cancelled = true;
}

/* answer_mx - hand w's answer to its caller (unless cancelled) and free w. */
static void
answer_mx(struct tlspolicy_wait *w)
{
	struct tlspolicy_mx *m = w->mx;

	w->mx = NULL;
	if (!w->cancelled && !w->tp->stopping)
		w->mcb(w->arg, m);
	else
		tlspolicy_mx_free(m);
	wait_free(w);
}

static void
on_ready(evutil_socket_t fd, short what, void *arg)
{
	struct tlspolicy *tp = arg;
	struct tlspolicy_wait *w;
	struct lookup *l;

	for (;;) {	/* callbacks may change the lists: look again from the top each time */
		for (w = tp->waits; w != NULL && !w->ready; w = w->next)
			;
		for (l = tp->lookups; w == NULL && l != NULL && !l->done; l = l->next)
			;
		if (w != NULL)
			answer_mx(w);
		else if (l != NULL)
			lookup_finish(l);
		else
			break;
	}
}

static void
defer(struct tlspolicy *tp)
{
	event_active(tp->ready_ev, EV_TIMEOUT, 0);
}

struct tlspolicy *
tlspolicy_new(const struct tlspolicy_env *env)
{
	struct tlspolicy *tp = xcalloc(1, sizeof(*tp));

	tp->env = *env;
	tp->env.cfg = config_ref(env->cfg);
	tp->ready_ev = event_new(env->base, -1, 0, on_ready, tp);
	return tp;
}

static void
lookup_free(struct lookup *l)
{
	struct lookup **pp;

	for (pp = &l->tp->lookups; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	}
	free(l->cached.policy);
	free(l);
}

void
tlspolicy_set_config(struct tlspolicy *tp, const struct config *cfg)
{
	config_free(tp->env.cfg);
	tp->env.cfg = config_ref(cfg);
}

void
tlspolicy_stop(struct tlspolicy *tp)
{
	tp->stopping = true;
}

void
tlspolicy_free(struct tlspolicy *tp)
{
	if (tp == NULL)
		return;
	while (tp->waits != NULL)
		wait_free(tp->waits);
	while (tp->lookups != NULL)
		lookup_free(tp->lookups);
	while (tp->fetches != NULL)
		fetch_free(tp->fetches);	/* those whose address lookup was abandoned */
	event_free(tp->ready_ev);
	config_free(tp->env.cfg);
	free(tp);
}

/* --- the domain's policy --- */

void
tlspolicy_day(int64_t t, char out[11])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/* policy_lines - p as the lines of a policy file, for TLS-RPT's policy-string. */
static void
policy_lines(const struct sts_policy *p, char *out, size_t outsz)
{
	size_t n = (size_t)snprintf(out, outsz, "version: STSv1\nmode: %s\n",
	    sts_mode_name(p->mode));

	for (size_t i = 0; i < p->nmx && n < outsz; i++)
		n += (size_t)snprintf(out + n, outsz - n, "mx: %s\n", p->mx[i]);
	if (n < outsz)
		snprintf(out + n, outsz - n, "max_age: %u", p->max_age);
}

/* apply_policy - d follows p (mode none: as if there were no policy). */
static void
apply_policy(struct tlspolicy_dest *d, const struct sts_policy *p)
{
	d->policy = *p;
	d->sts = p->mode != STS_MODE_NONE;
	policy_lines(p, d->policy_string, sizeof(d->policy_string));
}

/* use_cached - the cached policy, if it has not expired; how it went in the log. */
static void
use_cached(struct lookup *l, const char *because)
{
	struct sts_policy p;
	char why[200];

	if (l->cached.policy == NULL || l->cached.expires <= util_now())
		return;
	if (sts_policy_parse(l->cached.policy, strlen(l->cached.policy), &p, why,
	    sizeof(why)) == -1)
		return;	/* cannot happen: only parsed policies are cached */
	apply_policy(&l->dest, &p);
	if (because != NULL)
		log_info("mta-sts: %s: %s; the cached policy (id %s, mode %s) applies until it"
		    " expires", l->dest.domain, because, l->cached.id, sts_mode_name(p.mode));
}

/* count_fetch_failure - a failed policy fetch is one failure for TLS-RPT. */
static void count_fetch_failure(struct tlspolicy *tp, const struct fetch *f);

static void
fetch_work(void *arg)
{
	struct fetch *f = arg;
	struct https_req req = { f->host, 443, STS_PATH, f->addrs, f->cfg->tls_ca_file, FETCH_TIMEOUT,
	    STS_POLICY_MAX, NULL, NULL, 0 };
	struct https_resp resp = { 0 };
	char why[300];
	size_t tl;

	f->result = TLSRPT_STS_FETCH_ERROR;
	if (https_request(&req, &resp, why, sizeof(why)) == -1) {
		if (resp.cert_failed)
			f->result = TLSRPT_STS_WEBPKI_INVALID;
		snprintf(f->why, sizeof(f->why), "%s", why);
		return;
	}
	tl = strcspn(resp.content_type, "; \t");
	if (resp.status != 200)
		snprintf(f->why, sizeof(f->why), "https://%s%s answered HTTP %ld", f->host, STS_PATH,
		    resp.status);
	else if (tl != 10 || strncasecmp(resp.content_type, "text/plain", 10) != 0)
		snprintf(f->why, sizeof(f->why), "https://%.260s%s is %.60s, not text/plain", f->host,
		    STS_PATH, resp.content_type[0] ? resp.content_type : "untyped");
	else if (sts_policy_parse(resp.body, resp.len, &f->policy, why, sizeof(why)) == -1) {
		f->result = TLSRPT_STS_INVALID;
		snprintf(f->why, sizeof(f->why), "the policy at https://%.260s%s is invalid: %.100s",
		    f->host, STS_PATH, why);
	} else {
		f->ok = true;
		f->text = xstrdup(resp.body);
	}
	https_resp_free(&resp);
}

/* The cache row to write, in one block (the committer frees it whole). */
struct sts_row {
	char domain[256];
	struct store_sts p;
	char text[];
};

static enum store_result
apply_sts(struct store *st, void *arg)
{
	struct sts_row *r = arg;

	return store_sts_put(st, r->domain, &r->p);
}

static void
cache_policy(struct tlspolicy *tp, const struct fetch *f)
{
	size_t tl = strlen(f->text);
	struct sts_row *r = xcalloc(1, sizeof(*r) + tl + 1);

	util_strlcpy(r->domain, f->domain, sizeof(r->domain));
	util_strlcpy(r->p.id, f->id, sizeof(r->p.id));
	memcpy(r->text, f->text, tl + 1);
	r->p.policy = r->text;
	r->p.fetched = util_now();
	r->p.expires = r->p.fetched + f->policy.max_age;
	tp->env.commit(tp->env.commit_ctx, apply_sts, r);
}

static void
fetch_free(struct fetch *f)
{
	struct fetch **pp;

	for (pp = &f->tp->fetches; *pp != NULL && *pp != f; pp = &(*pp)->next)
		;
	if (*pp == f)
		*pp = f->next;
	config_free(f->cfg);
	free(f->text);
	free(f);
}

static void
fetch_done(void *arg)
{
	struct fetch *f = arg;
	struct lookup *l = f->l;

	if (!f->tp->stopping) {
		if (f->ok) {
			log_info("mta-sts: %s: policy id %s fetched: mode %s, max_age %u, %zu mx"
			    " pattern(s)", f->domain, f->id, sts_mode_name(f->policy.mode),
			    f->policy.max_age, f->policy.nmx);
			cache_policy(f->tp, f);
		} else {
			log_warn("mta-sts: %s: cannot fetch the policy (id %s): %s", f->domain, f->id,
			    f->why);
			count_fetch_failure(f->tp, f);
		}
	}
	if (l != NULL) {
		if (f->ok)
			apply_policy(&l->dest, &f->policy);
		else
			use_cached(l, "the policy fetch failed");
		lookup_finish(l);
	}
	fetch_free(f);
}

static void
on_policy_host(void *arg, enum dns_status st, const struct sockaddr_storage *addrs, size_t n,
    const char *why)
{
	struct fetch *f = arg;
	size_t len = 0;
	char ip[INET6_ADDRSTRLEN];

	for (size_t i = 0; st == DNS_OK && i < n && len + 50 < sizeof(f->addrs); i++) {
		util_sockaddr_ip((const struct sockaddr *)&addrs[i], ip, sizeof(ip));
		len += (size_t)snprintf(f->addrs + len, sizeof(f->addrs) - len, "%s%s%s%s",
		    len ? "," : "", addrs[i].ss_family == AF_INET6 ? "[" : "", ip,
		    addrs[i].ss_family == AF_INET6 ? "]" : "");
	}
	if (len == 0) {
		f->result = TLSRPT_STS_FETCH_ERROR;
		snprintf(f->why, sizeof(f->why), "no address for %s: %s", f->host, why);
		fetch_done(f);
		return;
	}
	worker_submit(f->tp->env.fetchers, fetch_work, fetch_done, f);
}

static void
fetch_start(struct lookup *l)
{
	struct fetch *f = xcalloc(1, sizeof(*f));

	f->tp = l->tp;
	f->l = l;
	f->next = l->tp->fetches;
	l->tp->fetches = f;
	f->cfg = config_ref(l->tp->env.cfg);
	util_strlcpy(f->domain, l->dest.domain, sizeof(f->domain));
	util_strlcpy(f->id, l->id, sizeof(f->id));
	snprintf(f->host, sizeof(f->host), "mta-sts.%s", l->dest.domain);
	dns_addrs(l->tp->env.dns, f->host, 443, on_policy_host, f);
}

/* sts_record - the id of the one valid v=STSv1 record among txt, or -1. */
static int
sts_record(const char *const *txt, size_t n, char id[STS_ID_MAX + 1])
{
	size_t found = 0, which = 0;

	for (size_t i = 0; i < n; i++)
		if (sts_txt_is_sts(txt[i])) {
			found++;
			which = i;
		}
	if (found != 1)
		return -1;	/* RFC 8461 3.1: not exactly one: no policy */
	return sts_txt_parse(txt[which], id, NULL);
}

static void
on_sts_txt(void *arg, enum dns_status st, const char *const *txt, size_t n, const char *why)
{
	struct lookup *l = arg;
	bool fresh;

	if (st != DNS_OK || sts_record(txt, n, l->id) == -1) {
		use_cached(l, st == DNS_TEMPFAIL ? "the _mta-sts TXT lookup failed" : NULL);
		lookup_finish(l);
		return;
	}
	fresh = l->cached.policy != NULL && l->cached.expires > util_now() &&
	    strcmp(l->cached.id, l->id) == 0;
	if (fresh) {
		use_cached(l, NULL);
		lookup_finish(l);
		return;
	}
	fetch_start(l);
}

static void
lookup_start(struct lookup *l)
{
	char name[300];
	enum store_result r;

	r = store_sts_get(l->tp->env.store, l->dest.domain, &l->cached);
	if (r != STORE_OK && r != STORE_NOTFOUND)
		log_warn("mta-sts: %s: cannot read the policy cache: %s", l->dest.domain,
		    store_errmsg(l->tp->env.store));
	snprintf(name, sizeof(name), "_mta-sts.%s", l->dest.domain);
	dns_txt(l->tp->env.dns, name, on_sts_txt, l);
}

/* lookup_finish - answer every waiter of l, then free it. */
static void
lookup_finish(struct lookup *l)
{
	struct tlspolicy *tp = l->tp;
	struct tlspolicy_wait *w;
	struct lookup **pp;

	for (pp = &tp->lookups; *pp != NULL && *pp != l; pp = &(*pp)->next)
		;
	if (*pp == l)
		*pp = l->next;	/* new askers start a new lookup */
	l->next = NULL;
	for (;;) {
		for (w = tp->waits; w != NULL && w->l != l; w = w->next)
			;
		if (w == NULL)
			break;
		w->l = NULL;
		if (!w->cancelled && !tp->stopping)
			w->dcb(w->arg, &l->dest);
		wait_free(w);
	}
	free(l->cached.policy);
	free(l);
}

void
tlspolicy_dest_static(const struct config *cfg, const char *domain, struct tlspolicy_dest *d)
{
	const struct config_tls_policy *line = config_tls_policy_for(cfg, domain);

	memset(d, 0, sizeof(*d));
	util_strlcpy(d->domain, domain, sizeof(d->domain));
	d->level = line != NULL ? line->level : TLS_LEVEL_MAY;
}

static struct lookup *
lookup_find(struct tlspolicy *tp, const char *domain)
{
	for (struct lookup *l = tp->lookups; l != NULL; l = l->next)
		if (!l->done && strcasecmp(l->dest.domain, domain) == 0)
			return l;
	return NULL;
}

struct tlspolicy_wait *
tlspolicy_domain(struct tlspolicy *tp, const char *domain, tlspolicy_dest_cb cb, void *arg)
{
	struct tlspolicy_wait *w = wait_new(tp, arg);
	struct lookup *l;

	w->dcb = cb;
	if ((l = lookup_find(tp, domain)) != NULL) {
		w->l = l;
		return w;
	}
	l = xcalloc(1, sizeof(*l));
	l->tp = tp;
	l->next = tp->lookups;
	tp->lookups = l;
	w->l = l;
	tlspolicy_dest_static(tp->env.cfg, domain, &l->dest);
	if (l->dest.level == TLS_LEVEL_NONE) {
		l->done = true;	/* no TLS at all: MTA-STS does not matter */
		defer(tp);
		return w;
	}
	lookup_start(l);
	return w;
}

/* --- TLS-RPT counting --- */

/* The counter row to add, in one block. */
struct rpt_row {
	struct store_tlsrpt t;
	char day[11];
	char buf[];
};

static enum store_result
apply_count(struct store *st, void *arg)
{
	struct rpt_row *r = arg;

	return store_tlsrpt_add(st, &r->t);
}

/* count_row - queue one counter increment; the strings are copied. */
static void
count_row(struct tlspolicy *tp, const char *domain, const char *type, const char *string,
    const char *mx_host, const char *result, const char *mx, const char *ip,
    const char *sending_ip, const char *reason)
{
	const char *in[] = { domain, type, string, mx_host, result, mx, ip, sending_ip, reason };
	const char **out[9];
	size_t total = 0, off = 0, i;
	struct rpt_row *r;

	for (i = 0; i < 9; i++)
		total += strlen(in[i]) + 1;
	r = xcalloc(1, sizeof(*r) + total);
	out[0] = &r->t.domain; out[1] = &r->t.policy_type; out[2] = &r->t.policy_string;
	out[3] = &r->t.mx_host; out[4] = &r->t.result; out[5] = &r->t.mx; out[6] = &r->t.ip;
	out[7] = &r->t.sending_ip; out[8] = &r->t.reason;
	for (i = 0; i < 9; i++) {
		size_t n = strlen(in[i]) + 1;

		memcpy(r->buf + off, in[i], n);
		*out[i] = r->buf + off;
		off += n;
	}
	tlspolicy_day(util_now(), r->day);
	r->t.day = r->day;
	tp->env.commit(tp->env.commit_ctx, apply_count, r);
}

static void
count_fetch_failure(struct tlspolicy *tp, const struct fetch *f)
{
	count_row(tp, f->domain, "sts", "", "", f->result, f->host, "", "", f->why);
}

/* check_result - a certificate verdict as a TLS-RPT result type. */
static const char *
check_result(enum tls_check c)
{
	switch (c) {
	case TLS_CHECK_DANE:
	case TLS_CHECK_PKIX: return TLSRPT_SUCCESS;
	case TLS_CHECK_HOST_MISMATCH: return TLSRPT_CERT_HOST_MISMATCH;
	case TLS_CHECK_EXPIRED: return TLSRPT_CERT_EXPIRED;
	case TLS_CHECK_UNTRUSTED: return TLSRPT_CERT_NOT_TRUSTED;
	case TLS_CHECK_TLSA_MISMATCH: return TLSRPT_TLSA_INVALID;
	default: return TLSRPT_VALIDATION_FAILURE;
	}
}

const char *
tlspolicy_result(const struct tlspolicy_mx *m, const struct tlspolicy_session *s)
{
	if (m->rpt_type == NULL || m->level == TLS_LEVEL_NONE)
		return NULL;
	if (!s->offered && !s->attempted)
		return TLSRPT_STARTTLS_NOT_SUPPORTED;
	if (!s->established)
		return TLSRPT_VALIDATION_FAILURE;	/* the handshake failed */
	if (m->tlsa_unusable)
		return TLSRPT_TLSA_INVALID;
	if (m->mx_mismatch)
		return TLSRPT_VALIDATION_FAILURE;
	if (strcmp(m->rpt_type, "no-policy-found") == 0)
		return TLSRPT_SUCCESS;	/* nothing asked for a verified certificate */
	return check_result(s->check);
}

void
tlspolicy_count(struct tlspolicy *tp, const struct tlspolicy_dest *d,
    const struct tlspolicy_mx *m, const struct tlspolicy_session *s)
{
	const char *result = tlspolicy_result(m, s);
	bool ok;

	if (result == NULL || tp->stopping)
		return;
	ok = strcmp(result, TLSRPT_SUCCESS) == 0;
	count_row(tp, d->domain, m->rpt_type, m->rpt_string ? m->rpt_string : "",
	    m->rpt_mx ? m->rpt_mx : "", result,
	    ok ? "" : m->host, ok ? "" : s->ip, ok ? "" : s->sending_ip,
	    ok ? "" : s->why ? s->why : "");
}

/* --- per MX host --- */

void
tlspolicy_mx_free(struct tlspolicy_mx *m)
{
	if (m == NULL)
		return;
	free(m->rpt_string);
	free(m->rpt_mx);
	free(m->dns);
	free(m);
}

static void
skip(struct tlspolicy_mx *m, int code, const char *status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
skip(struct tlspolicy_mx *m, int code, const char *status, const char *fmt, ...)
{
	char text[sizeof(m->why.text)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	m->skip = true;
	reply_set(&m->why, code, status, "%s", text);
}

/* count_skip - a host not connected to because of its policy is one failed session. */
static void
count_skip(struct tlspolicy *tp, const struct tlspolicy_dest *d, const struct tlspolicy_mx *m,
    const char *result)
{
	if (!tp->stopping)
		count_row(tp, d->domain, m->rpt_type, m->rpt_string ? m->rpt_string : "",
		    m->rpt_mx ? m->rpt_mx : "", result, m->host, "", "", m->why.text);
}

/* tlsa_lines - the TLSA records as "U S M HEX" lines (hex cut at 64 bytes). */
static char *
tlsa_lines(const struct dns_tlsa_result *r)
{
	size_t cap = r->n * 160 + 1, n = 0;
	char *out = xcalloc(1, cap);

	for (size_t i = 0; i < r->n; i++) {
		const struct dns_tlsa *t = &r->rr[i];

		n += (size_t)snprintf(out + n, cap - n, "%s%u %u %u ", i ? "\n" : "", t->usage,
		    t->selector, t->mtype);
		for (size_t j = 0; j < t->len && j < 64; j++)
			n += (size_t)snprintf(out + n, cap - n, "%02X", t->data[j]);
	}
	return out;
}

/* set_dane - r's usable records become m's requirement. */
static void
set_dane(struct tlspolicy_mx *m, struct dns_tlsa_result *r)
{
	for (size_t i = 0; i < r->n && m->ntlsa < DNS_MAX_TLSA; i++) {
		struct tls_tlsa t = { r->rr[i].usage, r->rr[i].selector, r->rr[i].mtype,
		    r->rr[i].data, r->rr[i].len };

		if (tls_tlsa_usable(&t))
			m->tlsa[m->ntlsa++] = t;
	}
	m->rpt_type = "tlsa";
	m->rpt_string = tlsa_lines(r);
	m->rpt_mx = xstrdup(m->host);
	if (m->ntlsa > 0) {
		m->level = TLS_LEVEL_DANE;
	} else {
		m->tlsa_unusable = true;	/* RFC 7672 2.2: TLS still required */
		m->level = TLS_LEVEL_ENCRYPT;
	}
	m->dns = r;
}

/* decide_sts - no DANE: MTA-STS, or the tls-policy level. */
static void
decide_sts(struct tlspolicy *tp, struct tlspolicy_mx *m, const struct tlspolicy_dest *d)
{
	bool match;

	m->level = d->level;
	if (d->level == TLS_LEVEL_DANE) {
		skip(m, 451, "4.7.5", "tls-policy dane: %s has no usable DNSSEC-signed TLSA records;"
		    " the message was not sent", m->host);
		m->rpt_type = "tlsa";
		count_skip(tp, d, m, TLSRPT_DANE_REQUIRED);
		return;
	}
	if (!d->sts) {
		m->rpt_type = "no-policy-found";
		return;
	}
	m->rpt_type = "sts";
	m->rpt_string = xstrdup(d->policy_string);
	m->rpt_mx = xcalloc(1, STS_MAX_MX * 257 + 1);
	for (size_t i = 0; i < d->policy.nmx; i++)
		snprintf(m->rpt_mx + strlen(m->rpt_mx), STS_MAX_MX * 257 + 1 - strlen(m->rpt_mx),
		    "%s%s", i ? "\n" : "", d->policy.mx[i]);
	match = sts_mx_match(&d->policy, m->host);
	if (d->policy.mode == STS_MODE_TESTING) {
		m->mx_mismatch = !match;
		return;
	}
	if (!match) {
		skip(m, 451, "4.7.5", "MTA-STS: %s is not an MX host that the policy of %s allows;"
		    " the message was not sent", m->host, d->domain);
		count_skip(tp, d, m, TLSRPT_VALIDATION_FAILURE);
		return;
	}
	if (m->level < TLS_LEVEL_VERIFY)
		m->level = TLS_LEVEL_VERIFY;
	m->sts = true;
}

static void
on_tlsa(void *arg, const struct dns_tlsa_result *r)
{
	struct tlspolicy_wait *w = arg;
	struct tlspolicy_mx *m = w->mx;

	if (w->cancelled || w->tp->stopping) {
		answer_mx(w);
		return;
	}
	if (r->bogus) {
		skip(m, 451, "4.7.5", "DNSSEC: the answers for %s are bogus (%s); the message was"
		    " not sent", m->host, r->why[0] ? r->why : "validation failed");
		m->rpt_type = "tlsa";
		count_skip(w->tp, &w->dest, m, TLSRPT_DNSSEC_INVALID);
	} else if (r->host_secure && r->st == DNS_TEMPFAIL) {
		skip(m, 451, "4.4.3", "DANE: the TLSA lookup for %s failed: %s", m->host, r->why);
	} else if (r->host_secure && r->secure && r->st == DNS_OK && r->n > 0) {
		struct dns_tlsa_result *copy = xmalloc(sizeof(*copy));

		*copy = *r;
		set_dane(m, copy);
		if (w->dest.level == TLS_LEVEL_DANE && m->ntlsa == 0) {
			skip(m, 451, "4.7.5", "tls-policy dane: no usable TLSA record for %s;"
			    " the message was not sent", m->host);
			count_skip(w->tp, &w->dest, m, TLSRPT_TLSA_INVALID);
		}
	} else
		decide_sts(w->tp, m, &w->dest);
	answer_mx(w);
}

struct tlspolicy_wait *
tlspolicy_mx(struct tlspolicy *tp, const struct tlspolicy_dest *d, const char *host,
    bool mx_secure, tlspolicy_mx_cb cb, void *arg)
{
	struct tlspolicy_wait *w = wait_new(tp, arg);
	struct tlspolicy_mx *m = xcalloc(1, sizeof(*m));

	w->mcb = cb;
	w->mx = m;
	w->dest = *d;
	util_strlcpy(m->host, host, sizeof(m->host));
	if (d->level != TLS_LEVEL_NONE && mx_secure && dns_validating(tp->env.dns)) {
		dns_tlsa(tp->env.dns, host, 25, on_tlsa, w);
		return w;
	}
	if (d->level == TLS_LEVEL_NONE)
		m->level = TLS_LEVEL_NONE;
	else
		decide_sts(tp, m, d);
	w->ready = true;
	defer(tp);
	return w;
}
