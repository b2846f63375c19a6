/*
 * dns.c - libunbound in threaded async mode. On the event loop its result
 * pipe is watched by libevent and each query has a timer that cancels it;
 * the blocking interface polls the same pipe with a deadline. With a trust
 * anchor, the event loop's context validates DNSSEC itself (it asks the
 * forwarder with the DO bit): ub_result.secure and .bogus are its verdicts.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/rand.h>
#include <unbound.h>

#include "base/config.h"
#include "base/metrics.h"
#include "dns/dns.h"
#include "lib/log.h"
#include "lib/util.h"

#define RR_A DNS_T_A
#define RR_MX DNS_T_MX
#define RR_AAAA DNS_T_AAAA
#define RR_TXT DNS_T_TXT
#define RR_DNSKEY 48
#define RR_TLSA 52
#define RCODE_NXDOMAIN 3

struct query;

struct dns {
	struct ub_ctx *ctx;
	struct query *pending;		/* queries not answered yet */
	struct event *ev;
	const struct config *cfg;
	struct event_base *base;
	bool validating;
};

/* One outstanding libunbound query. */
struct query {
	struct dns *d;
	struct query *prev, *next;	/* d->pending */
	void (*abandon)(struct query *q);	/* at dns_free: release q->arg */
	int async_id;
	struct event *timer;
	void (*done)(struct query *q, int err, struct ub_result *r);
	void *arg;
	int rrtype;
	char name[256];
	int64_t started_us;		/* for the latency histograms */
};

/* An address lookup: an A and an AAAA query joined. */
struct addr_lookup {
	dns_addr_cb cb;
	void *arg;
	unsigned port;
	int pending;
	enum dns_status st4, st6;
	struct sockaddr_storage v4[DNS_MAX_ADDRS], v6[DNS_MAX_ADDRS];
	size_t n4, n6;
	char why[200];
	enum address_pref pref;
};

struct mx_lookup {
	dns_mx_cb cb;
	void *arg;
};

/* A TLSA lookup: the TLSA query and the host's A and AAAA (for their security). */
struct tlsa_lookup {
	dns_tlsa_cb cb;
	void *arg;
	int pending;
	bool addr_secure[2];
	struct dns_tlsa_result res;
};

struct txt_lookup {
	dns_txt_cb cb;
	void *arg;
};

static void query_start(struct dns *d, const char *name, int rrtype,
    void (*done)(struct query *, int, struct ub_result *), void (*abandon)(struct query *),
    void *arg);

static void
on_ub_fd(evutil_socket_t fd, short what, void *arg)
{
	struct dns *d = arg;

	ub_process(d->ctx);
}

/* context_new - a threaded libunbound context forwarding to cfg's resolver. */
static struct ub_ctx *
context_new(const struct config *cfg, char *err, size_t errsz)
{
	struct ub_ctx *ctx;
	int rc;

	if ((ctx = ub_ctx_create()) == NULL) {
		snprintf(err, errsz, "cannot create a libunbound context");
		return NULL;
	}
	ub_ctx_async(ctx, 1);
	ub_ctx_set_option(ctx, "do-not-query-localhost:", "no");
	if (cfg->resolver != NULL)
		rc = ub_ctx_set_fwd(ctx, cfg->resolver);
	else
		rc = ub_ctx_resolvconf(ctx, NULL);
	if (rc != 0) {
		snprintf(err, errsz, "cannot use resolver %s: %s",
		    cfg->resolver ? cfg->resolver : "from /etc/resolv.conf", ub_strerror(rc));
		ub_ctx_delete(ctx);
		return NULL;
	}
	return ctx;
}

/*
 * load_anchor - the dnssec-trust-anchor into the context. libunbound reads
 * the file only when the context is finalized, so resolve a name it answers
 * itself (RFC 6761's localhost): a bad file shows up now, not at the first
 * delivery.
 */
static int
load_anchor(struct dns *d, char *err, size_t errsz)
{
	const char *file = d->cfg->dnssec_anchor;
	struct ub_result *r = NULL;
	int rc;

	if (file == NULL)
		return 0;
	if (access(file, R_OK) == -1) {
		if (d->cfg->dnssec_anchor_default) {
			log_warn("no DNSSEC trust anchor at %s: DNSSEC is not validated and DANE is"
			    " not used (install dns-root-data, or set dnssec-trust-anchor)", file);
			return 0;
		}
		snprintf(err, errsz, "cannot read the DNSSEC trust anchor %s: %s (set"
		    " dnssec-trust-anchor to a readable file, or to none)", file, strerror(errno));
		return -1;
	}
	if ((rc = ub_ctx_add_ta_file(d->ctx, file)) == 0 &&
	    (rc = ub_resolve(d->ctx, "localhost.", RR_A, 1, &r)) == 0) {
		ub_resolve_free(r);
		d->validating = true;
		return 0;
	}
	snprintf(err, errsz, "cannot use the DNSSEC trust anchor %s: %s (set dnssec-trust-anchor"
	    " to a file of DS or DNSKEY records, or to none)", file, ub_strerror(rc));
	return -1;
}

/*
 * on_root_keys - the root's DNSKEY, once at start: bogus means the
 * resolver does not pass DNSSEC records through, and every signed domain's
 * mail would wait; say so now rather than per message.
 */
static void
on_root_keys(struct query *q, int err, struct ub_result *r)
{
	if (r != NULL && r->bogus)
		log_warn("DNSSEC validation fails for the root zone through resolver %s (%s):"
		    " mail to DNSSEC-signed domains will wait. Use a resolver that passes DNSSEC"
		    " records on, or set dnssec-trust-anchor none (no DANE then)",
		    q->d->cfg->resolver ? q->d->cfg->resolver : "from /etc/resolv.conf",
		    r->why_bogus ? r->why_bogus : "bogus");
}

static void
no_arg(struct query *q)
{
}

bool
dns_validating(const struct dns *d)
{
	return d->validating;
}

struct dns *
dns_new(struct event_base *base, const struct config *cfg, char *err, size_t errsz)
{
	struct dns *d = xcalloc(1, sizeof(*d));

	d->cfg = config_ref(cfg);
	d->base = base;
	if ((d->ctx = context_new(cfg, err, errsz)) == NULL)
		goto fail;
	if (load_anchor(d, err, errsz) == -1)
		goto fail;
	d->ev = event_new(base, ub_fd(d->ctx), EV_READ | EV_PERSIST, on_ub_fd, d);
	event_add(d->ev, NULL);
	if (d->validating && !cfg->builtin)	/* the built-in config asks no real DNS server */
		query_start(d, ".", RR_DNSKEY, on_root_keys, no_arg, NULL);
	return d;
fail:
	dns_free(d);
	return NULL;
}

static void
query_free(struct query *q)
{
	if (q->prev)
		q->prev->next = q->next;
	else if (q->d->pending == q)
		q->d->pending = q->next;
	if (q->next)
		q->next->prev = q->prev;
	event_free(q->timer);
	free(q);
}

void
dns_free(struct dns *d)
{
	if (d == NULL)
		return;
	if (d->ev)
		event_free(d->ev);
	if (d->ctx)
		ub_ctx_delete(d->ctx);	/* pending queries die without callbacks */
	while (d->pending != NULL) {	/* so release what they hold */
		struct query *q = d->pending;

		q->abandon(q);
		query_free(q);
	}
	config_free(d->cfg);
	free(d);
}

void
dns_set_config(struct dns *d, const struct config *cfg)
{
	config_free(d->cfg);
	d->cfg = config_ref(cfg);
}

/* observe - the query's latency, answered or timed out. */
static void
observe(const struct query *q)
{
	int64_t us = util_now_us() - q->started_us;

	if (q->rrtype == RR_MX)
		metrics_observe(H_DNS_MX, us);
	else if (q->rrtype == RR_A || q->rrtype == RR_AAAA)
		metrics_observe(H_DNS_ADDR, us);
}

static void
on_result(void *arg, int err, struct ub_result *r)
{
	struct query *q = arg;

	observe(q);
	q->done(q, err, r);
	if (r)
		ub_resolve_free(r);
	query_free(q);
}

static void
on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct query *q = arg;

	ub_cancel(q->d->ctx, q->async_id);
	observe(q);
	q->done(q, UB_NOERROR, NULL);	/* NULL result: timed out */
	query_free(q);
}

static void
query_start(struct dns *d, const char *name, int rrtype,
    void (*done)(struct query *, int, struct ub_result *), void (*abandon)(struct query *),
    void *arg)
{
	struct query *q = xcalloc(1, sizeof(*q));
	struct timeval tv = { (time_t)d->cfg->dns_timeout, 0 };
	int rc;

	q->d = d;
	q->done = done;
	q->abandon = abandon;
	q->arg = arg;
	q->next = d->pending;
	if (q->next)
		q->next->prev = q;
	d->pending = q;
	q->rrtype = rrtype;
	q->started_us = util_now_us();
	util_strlcpy(q->name, name, sizeof(q->name));
	q->timer = evtimer_new(d->base, on_timeout, q);
	rc = ub_resolve_async(d->ctx, name, rrtype, 1, q, on_result, &q->async_id);
	if (rc != 0) {
		log_warn("DNS query for %s failed to start: %s", name, ub_strerror(rc));
		done(q, rc, NULL);
		query_free(q);
		return;
	}
	evtimer_add(q->timer, &tv);
}

static const char *
type_name(int rrtype)
{
	switch (rrtype) {
	case DNS_T_A: return "A";
	case DNS_T_AAAA: return "AAAA";
	case DNS_T_MX: return "MX";
	case DNS_T_TXT: return "TXT";
	case DNS_T_PTR: return "PTR";
	case RR_TLSA: return "TLSA";
	default: return "other";
	}
}

/* classify_result - what a finished query of name/rrtype means; why explains failures. */
static enum dns_status
classify_result(const char *name, int rrtype, int err, struct ub_result *r, char *why,
    size_t whysz)
{
	if (err != 0) {
		snprintf(why, whysz, "DNS lookup of %s failed: %s", name, ub_strerror(err));
		return DNS_TEMPFAIL;
	}
	if (r == NULL) {
		snprintf(why, whysz, "DNS lookup of %s timed out", name);
		return DNS_TEMPFAIL;
	}
	if (r->bogus) {
		snprintf(why, whysz, "DNSSEC validation of %s failed: %s", name,
		    r->why_bogus ? r->why_bogus : "bogus");
		return DNS_TEMPFAIL;
	}
	if (r->rcode == RCODE_NXDOMAIN || r->nxdomain) {
		snprintf(why, whysz, "Host or domain name not found: %s", name);
		return DNS_NXDOMAIN;
	}
	if (r->rcode != 0) {
		snprintf(why, whysz, "DNS lookup of %s failed: rcode %d", name, r->rcode);
		return DNS_TEMPFAIL;
	}
	if (!r->havedata) {
		snprintf(why, whysz, "no %s records for %s", rrtype == RR_A || rrtype == RR_AAAA ?
		    "address" : type_name(rrtype), name);
		return DNS_NODATA;
	}
	return DNS_OK;
}

static enum dns_status
classify(struct query *q, int err, struct ub_result *r, char *why, size_t whysz)
{
	return classify_result(q->name, q->rrtype, err, r, why, whysz);
}


static void
shuffle_equal(struct dns_mx *mx, size_t n)
{
	size_t i, j;
	unsigned char r;
	struct dns_mx tmp;

	for (i = n; i > 1; i--) {
		RAND_bytes(&r, 1);
		j = r % i;
		tmp = mx[i - 1];
		mx[i - 1] = mx[j];
		mx[j] = tmp;
	}
}

static int
mx_cmp(const void *a, const void *b)
{
	const struct dns_mx *x = a, *y = b;

	return (x->pref > y->pref) - (x->pref < y->pref);
}

static void
mx_done(struct query *q, int err, struct ub_result *r)
{
	struct mx_lookup *l = q->arg;
	struct dns_mx mx[DNS_MAX_MX];
	char why[300] = "";
	enum dns_status st = classify(q, err, r, why, sizeof(why));
	size_t n = 0;

	for (int i = 0; st == DNS_OK && r->data[i] != NULL && n < DNS_MAX_MX; i++) {
		if (dns_parse_mx((const uint8_t *)r->data[i], (size_t)r->len[i], &mx[n]) == 0)
			mx[n++].secure = r->secure != 0;
	}
	if (st == DNS_OK && n == 0) {
		snprintf(why, sizeof(why), "malformed MX records for %s", q->name);
		st = DNS_TEMPFAIL;
	}
	shuffle_equal(mx, n);
	qsort(mx, n, sizeof(mx[0]), mx_cmp);	/* not stable, but equal ones are shuffled anyway */
	l->cb(l->arg, st, mx, n, why);
	free(l);
}

static void
mx_abandon(struct query *q)
{
	free(q->arg);
}

void
dns_mx(struct dns *d, const char *domain, dns_mx_cb cb, void *arg)
{
	struct mx_lookup *l = xcalloc(1, sizeof(*l));

	l->cb = cb;
	l->arg = arg;
	query_start(d, domain, RR_MX, mx_done, mx_abandon, l);
}

static size_t
collect_addrs(struct ub_result *r, int family, unsigned port, struct sockaddr_storage *out)
{
	size_t n = 0;

	for (int i = 0; r->data[i] != NULL && n < DNS_MAX_ADDRS; i++) {
		memset(&out[n], 0, sizeof(out[n]));
		if (family == AF_INET && r->len[i] == 4) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&out[n];

			s4->sin_family = AF_INET;
			s4->sin_port = htons((uint16_t)port);
			memcpy(&s4->sin_addr, r->data[i], 4);
			n++;
		} else if (family == AF_INET6 && r->len[i] == 16) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out[n];

			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons((uint16_t)port);
			memcpy(&s6->sin6_addr, r->data[i], 16);
			n++;
		}
	}
	return n;
}

static enum dns_status
merge_status(enum dns_status a, enum dns_status b)
{
	if (a == DNS_OK || b == DNS_OK)
		return DNS_OK;
	if (a == DNS_TEMPFAIL || b == DNS_TEMPFAIL)
		return DNS_TEMPFAIL;
	if (a == DNS_NXDOMAIN && b == DNS_NXDOMAIN)
		return DNS_NXDOMAIN;
	return a == DNS_NXDOMAIN || b == DNS_NXDOMAIN ? DNS_NXDOMAIN : DNS_NODATA;
}

static void
addr_finish(struct addr_lookup *l)
{
	struct sockaddr_storage all[2 * DNS_MAX_ADDRS];
	bool v6first = l->pref == ADDR_PREF_IPV6;
	size_t n = 0, i;

	if (l->pref == ADDR_PREF_ANY) {
		unsigned char r;

		RAND_bytes(&r, 1);
		v6first = r & 1;
	}
	for (i = 0; v6first && i < l->n6; i++)
		all[n++] = l->v6[i];
	for (i = 0; i < l->n4; i++)
		all[n++] = l->v4[i];
	for (i = 0; !v6first && i < l->n6; i++)
		all[n++] = l->v6[i];
	l->cb(l->arg, merge_status(l->st4, l->st6), all, n, l->why);
	free(l);
}

static void
addr_done(struct query *q, int err, struct ub_result *r)
{
	struct addr_lookup *l = q->arg;
	char why[300];
	enum dns_status st = classify(q, err, r, why, sizeof(why));

	if (q->rrtype == RR_A) {
		l->st4 = st;
		l->n4 = st == DNS_OK ? collect_addrs(r, AF_INET, l->port, l->v4) : 0;
	} else {
		l->st6 = st;
		l->n6 = st == DNS_OK ? collect_addrs(r, AF_INET6, l->port, l->v6) : 0;
	}
	if (st != DNS_OK && (l->why[0] == '\0' || st == DNS_TEMPFAIL))
		util_strlcpy(l->why, why, sizeof(l->why));
	if (--l->pending == 0)
		addr_finish(l);
}

static void
addr_abandon(struct query *q)
{
	struct addr_lookup *l = q->arg;

	if (--l->pending == 0)
		free(l);
}

/* numeric - an IP literal needs no lookup. */
static bool
numeric(const char *host, unsigned port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		return true;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		return true;
	}
	return false;
}

void
dns_addrs(struct dns *d, const char *host, unsigned port, dns_addr_cb cb, void *arg)
{
	struct addr_lookup *l;
	struct sockaddr_storage ss;

	if (numeric(host, port, &ss)) {
		cb(arg, DNS_OK, &ss, 1, "");
		return;
	}
	l = xcalloc(1, sizeof(*l));
	l->cb = cb;
	l->arg = arg;
	l->port = port;
	l->pref = d->cfg->address_pref;
	l->pending = 2;
	query_start(d, host, RR_A, addr_done, addr_abandon, l);
	query_start(d, host, RR_AAAA, addr_done, addr_abandon, l);
}

/* --- the blocking interface --- */

#define SYNC_TIMEOUTS_MAX 2	/* timeouts in a row before the server counts as unreachable */

#define SYNC_SLICE_MS 20	/* how often a waiting query looks at the cancel flag */

struct dns_sync {
	struct ub_ctx *ctx;
	unsigned timeout;
	int timeouts;		/* in a row */
	const atomic_int *cancel;
};

/* One blocking query in flight: what on_sync_result fills. */
struct sync_query {
	bool done;
	int err;
	struct ub_result *r;
};

struct dns_sync *
dns_sync_new(const struct config *cfg, unsigned timeout, char *err, size_t errsz)
{
	struct dns_sync *ds = xcalloc(1, sizeof(*ds));

	ds->timeout = timeout ? timeout : 1;
	if ((ds->ctx = context_new(cfg, err, errsz)) == NULL) {
		free(ds);
		return NULL;
	}
	return ds;
}

void
dns_sync_free(struct dns_sync *ds)
{
	if (ds == NULL)
		return;
	ub_ctx_delete(ds->ctx);
	free(ds);
}

static void
on_sync_result(void *arg, int err, struct ub_result *r)
{
	struct sync_query *sq = arg;

	sq->done = true;
	sq->err = err;
	sq->r = r;
}

static bool
cancelled(const struct dns_sync *ds)
{
	return ds->cancel != NULL && atomic_load(ds->cancel) != 0;
}

void
dns_sync_cancel_on(struct dns_sync *ds, const atomic_int *flag)
{
	ds->cancel = flag;
}

/* sync_wait - poll libunbound's pipe until sq is done or deadline_us passes. */
static void
sync_wait(struct dns_sync *ds, struct sync_query *sq, int64_t deadline_us)
{
	struct pollfd pfd = { ub_fd(ds->ctx), POLLIN, 0 };
	int64_t left;

	while (!sq->done && !cancelled(ds) && (left = deadline_us - util_now_us()) > 0) {
		int ms = (int)(left / 1000) + 1;

		if (ms > SYNC_SLICE_MS)
			ms = SYNC_SLICE_MS;
		if (poll(&pfd, 1, ms) == -1 && errno != EINTR)
			return;
		if (pfd.revents & POLLIN)
			ub_process(ds->ctx);
	}
}

/* sync_fill - the records of r into ans. */
static void
sync_fill(struct ub_result *r, struct dns_answer *ans)
{
	for (int i = 0; r->data[i] != NULL; i++)
		if (dns_answer_add(ans, (const uint8_t *)r->data[i], (size_t)r->len[i]) == 1)
			break;
	if (ans->n == 0) {
		snprintf(ans->why, sizeof(ans->why), "malformed %s records for %s",
		    type_name(ans->type), r->qname ? r->qname : "?");
		ans->status = DNS_TEMPFAIL;
	}
}

enum dns_status
dns_sync_query(struct dns_sync *ds, const char *name, int type, struct dns_answer *ans)
{
	struct sync_query sq = { false, 0, NULL };
	int id, rc;

	dns_answer_reset(ans, type);
	if (cancelled(ds)) {
		snprintf(ans->why, sizeof(ans->why), "DNS lookup of %s not tried: shutting down",
		    name);
		return ans->status = DNS_TEMPFAIL;
	}
	if (ds->timeouts >= SYNC_TIMEOUTS_MAX) {
		snprintf(ans->why, sizeof(ans->why), "DNS lookup of %s not tried: the DNS server"
		    " did not answer earlier queries", name);
		return ans->status = DNS_TEMPFAIL;
	}
	if ((rc = ub_resolve_async(ds->ctx, name, type, 1, &sq, on_sync_result, &id)) != 0) {
		snprintf(ans->why, sizeof(ans->why), "DNS lookup of %s failed: %s", name,
		    ub_strerror(rc));
		return ans->status = DNS_TEMPFAIL;
	}
	sync_wait(ds, &sq, util_now_us() + (int64_t)ds->timeout * 1000000);
	if (!sq.done) {
		ub_cancel(ds->ctx, id);
		ds->timeouts++;
	} else
		ds->timeouts = 0;
	ans->status = classify_result(name, type, sq.err, sq.done ? sq.r : NULL, ans->why,
	    sizeof(ans->why));
	if (ans->status == DNS_OK)
		sync_fill(sq.r, ans);
	if (sq.r != NULL)
		ub_resolve_free(sq.r);
	return ans->status;
}

/* --- TLSA and TXT on the event loop --- */

static void
tlsa_finish(struct tlsa_lookup *l)
{
	l->res.host_secure = l->addr_secure[0] && l->addr_secure[1];
	l->cb(l->arg, &l->res);
	free(l);
}

static void
tlsa_records(struct tlsa_lookup *l, struct ub_result *r)
{
	struct dns_tlsa_result *res = &l->res;

	for (int i = 0; r->data[i] != NULL && res->n < DNS_MAX_TLSA; i++)
		if (dns_parse_tlsa((const uint8_t *)r->data[i], (size_t)r->len[i],
		    &res->rr[res->n]) == 0)
			res->n++;
}

static void
tlsa_done(struct query *q, int err, struct ub_result *r)
{
	struct tlsa_lookup *l = q->arg;
	char why[300];
	enum dns_status st = classify(q, err, r, why, sizeof(why));

	if (r != NULL && r->bogus)
		l->res.bogus = true;
	if (q->rrtype == RR_TLSA) {
		l->res.st = st;
		l->res.secure = st != DNS_TEMPFAIL && r->secure;
		if (st == DNS_OK)
			tlsa_records(l, r);
		if (st == DNS_TEMPFAIL)
			util_strlcpy(l->res.why, why, sizeof(l->res.why));
	} else {
		l->addr_secure[q->rrtype == RR_AAAA] = st != DNS_TEMPFAIL && r->secure;
		if (st == DNS_TEMPFAIL && l->res.why[0] == '\0')
			util_strlcpy(l->res.why, why, sizeof(l->res.why));
	}
	if (--l->pending == 0)
		tlsa_finish(l);
}

static void
tlsa_abandon(struct query *q)
{
	struct tlsa_lookup *l = q->arg;

	if (--l->pending == 0)
		free(l);
}

void
dns_tlsa(struct dns *d, const char *host, unsigned port, dns_tlsa_cb cb, void *arg)
{
	struct tlsa_lookup *l = xcalloc(1, sizeof(*l));
	char name[300];

	l->cb = cb;
	l->arg = arg;
	l->pending = 3;
	snprintf(name, sizeof(name), "_%u._tcp.%s", port, host);
	query_start(d, name, RR_TLSA, tlsa_done, tlsa_abandon, l);
	query_start(d, host, RR_A, tlsa_done, tlsa_abandon, l);
	query_start(d, host, RR_AAAA, tlsa_done, tlsa_abandon, l);
}

static void
txt_done(struct query *q, int err, struct ub_result *r)
{
	struct txt_lookup *l = q->arg;
	char why[300] = "";
	enum dns_status st = classify(q, err, r, why, sizeof(why));
	char *txt[DNS_MAX_TXT], buf[DNS_TXT_MAX + 1];
	size_t n = 0;

	for (int i = 0; st == DNS_OK && r->data[i] != NULL && n < DNS_MAX_TXT; i++) {
		int len = dns_parse_txt((const uint8_t *)r->data[i], (size_t)r->len[i], buf,
		    sizeof(buf) - 1);

		if (len < 0 || memchr(buf, '\0', (size_t)len) != NULL)
			continue;	/* malformed, too long, or not text */
		buf[len] = '\0';
		txt[n++] = xstrdup(buf);
	}
	l->cb(l->arg, st, (const char *const *)txt, n, why);
	while (n > 0)
		free(txt[--n]);
	free(l);
}

static void
txt_abandon(struct query *q)
{
	free(q->arg);
}

void
dns_txt(struct dns *d, const char *name, dns_txt_cb cb, void *arg)
{
	struct txt_lookup *l = xcalloc(1, sizeof(*l));

	l->cb = cb;
	l->arg = arg;
	query_start(d, name, RR_TXT, txt_done, txt_abandon, l);
}
