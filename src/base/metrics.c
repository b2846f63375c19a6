/*
 * metrics.c - counters, gauges and histograms as arrays of atomics, and
 * their rendering in the Prometheus text format. Each metric family is
 * described once in a table: name, help, and the label of each member.
 */
#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "base/metrics.h"
#include "lib/util.h"

#define NBUCKETS 14

/* Bucket upper bounds in microseconds (the +Inf bucket is implicit). */
static const int64_t bounds_us[NBUCKETS] = {
	1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000, 30000000,
};

static uint64_t counters[M_NCOUNTERS];
static int64_t gauges[G_NGAUGES];

struct hist {
	uint64_t buckets[NBUCKETS + 1];	/* not cumulative; the last is +Inf */
	uint64_t sum_us;
	uint64_t count;
};

static struct hist hists[H_NHISTOGRAMS];

/* One member of a family: the family's name and help (members of one
 * family are adjacent), and its label, or NULL. */
struct desc {
	const char *name;
	const char *help;
	const char *label;	/* "reason=\"grant\"" */
};

static const struct desc counter_desc[M_NCOUNTERS] = {
	[M_ACCEPTED] = { "hikyaku_messages_accepted_total", "Messages queued (250 queued as).", NULL },
#define REJ "hikyaku_messages_rejected_total", "Transactions refused, by reason."
	[M_REJECTED_AUTH] = { REJ, "reason=\"auth\"" },
	[M_REJECTED_GRANT] = { REJ, "reason=\"grant\"" },
	[M_REJECTED_SIZE] = { REJ, "reason=\"size\"" },
	[M_REJECTED_SMUGGLING] = { REJ, "reason=\"smuggling\"" },
	[M_REJECTED_FORMAT] = { REJ, "reason=\"format\"" },
	[M_REJECTED_LIMIT] = { REJ, "reason=\"limit\"" },
	[M_REJECTED_STORAGE] = { REJ, "reason=\"storage\"" },
	[M_REJECTED_DKIM] = { REJ, "reason=\"dkim\"" },
#undef REJ
#define DEL "hikyaku_deliveries_total", "Recipient delivery outcomes, by status."
	[M_DELIVERY_SENT] = { DEL, "status=\"sent\"" },
	[M_DELIVERY_DEFERRED] = { DEL, "status=\"deferred\"" },
	[M_DELIVERY_BOUNCED] = { DEL, "status=\"bounced\"" },
#undef DEL
#define DSN "hikyaku_dsn_sent_total", "Delivery status notifications queued to senders, by type."
	[M_DSN_FAILURE] = { DSN, "type=\"failure\"" },
	[M_DSN_DELAY] = { DSN, "type=\"delay\"" },
#undef DSN
	[M_AUTH_FAILURES] = { "hikyaku_auth_failures_total", "Failed SMTP AUTH attempts.", NULL },
	[M_CONNECTIONS] = { "hikyaku_connections_total", "Client connections accepted.", NULL },
#define RL "hikyaku_reloads_total", "Configuration reloads, by result."
	[M_RELOAD_OK] = { RL, "result=\"ok\"" },
	[M_RELOAD_FAILED] = { RL, "result=\"failed\"" },
#undef RL
};

static const struct desc gauge_desc[G_NGAUGES] = {
	[G_SESSIONS] = { "hikyaku_sessions", "Client sessions open now.", NULL },
	[G_CERT_EXPIRY] = { "hikyaku_tls_certificate_expiry_timestamp_seconds",
	    "When the server certificate in use expires (Unix time).", NULL },
	[G_START_TIME] = { "hikyaku_start_time_seconds", "When the daemon started (Unix time).", NULL },
};

static const struct desc hist_desc[H_NHISTOGRAMS] = {
#define DNS "hikyaku_dns_query_duration_seconds", "DNS lookups for delivery, by type."
	[H_DNS_MX] = { DNS, "type=\"mx\"" },
	[H_DNS_ADDR] = { DNS, "type=\"address\"" },
#undef DNS
	[H_DKIM_SIGN] = { "hikyaku_dkim_sign_duration_seconds",
	    "DKIM signing of one message, key lookup included.", NULL },
	[H_DATA_TO_REPLY] = { "hikyaku_submission_reply_duration_seconds",
	    "From the final dot of DATA to the 250 reply (signing and the durable commit).", NULL },
};

void
metrics_inc(enum metric_counter c)
{
	__atomic_add_fetch(&counters[c], 1, __ATOMIC_RELAXED);
}

void
metrics_add(enum metric_counter c, uint64_t n)
{
	__atomic_add_fetch(&counters[c], n, __ATOMIC_RELAXED);
}

void
metrics_gauge_add(enum metric_gauge g, int64_t delta)
{
	__atomic_add_fetch(&gauges[g], delta, __ATOMIC_RELAXED);
}

void
metrics_gauge_set(enum metric_gauge g, int64_t v)
{
	__atomic_store_n(&gauges[g], v, __ATOMIC_RELAXED);
}

void
metrics_observe(enum metric_histogram h, int64_t usec)
{
	size_t i;

	if (usec < 0)
		usec = 0;
	for (i = 0; i < NBUCKETS && usec > bounds_us[i]; i++)
		;
	__atomic_add_fetch(&hists[h].buckets[i], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&hists[h].sum_us, (uint64_t)usec, __ATOMIC_RELAXED);
	__atomic_add_fetch(&hists[h].count, 1, __ATOMIC_RELAXED);
}

uint64_t
metrics_counter(enum metric_counter c)
{
	return __atomic_load_n(&counters[c], __ATOMIC_RELAXED);
}

int64_t
metrics_gauge(enum metric_gauge g)
{
	return __atomic_load_n(&gauges[g], __ATOMIC_RELAXED);
}

/* header - HELP and TYPE, when d starts a family (its predecessor is another). */
static void
header(FILE *out, const struct desc *d, const struct desc *prev, const char *type)
{
	if (prev != NULL && strcmp(prev->name, d->name) == 0)
		return;
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", d->name, d->help, d->name, type);
}

static void
render_counters(FILE *out)
{
	for (size_t i = 0; i < M_NCOUNTERS; i++) {
		const struct desc *d = &counter_desc[i];

		header(out, d, i ? &counter_desc[i - 1] : NULL, "counter");
		fprintf(out, "%s%s%s%s %" PRIu64 "\n", d->name, d->label ? "{" : "",
		    d->label ? d->label : "", d->label ? "}" : "", metrics_counter(i));
	}
}

static void
render_gauges(FILE *out)
{
	for (size_t i = 0; i < G_NGAUGES; i++) {
		header(out, &gauge_desc[i], NULL, "gauge");
		fprintf(out, "%s %" PRId64 "\n", gauge_desc[i].name, metrics_gauge(i));
	}
}

static void
render_hist(FILE *out, const struct desc *d, struct hist *h)
{
	const char *l = d->label ? d->label : "", *sep = d->label ? "," : "";
	uint64_t cum = 0, sum, count;
	size_t i;

	/* a scrape racing an observation may see count and buckets one apart: fine */
	for (i = 0; i <= NBUCKETS; i++) {
		cum += __atomic_load_n(&h->buckets[i], __ATOMIC_RELAXED);
		if (i < NBUCKETS)
			fprintf(out, "%s_bucket{%s%sle=\"%g\"} %" PRIu64 "\n", d->name, l, sep,
			    (double)bounds_us[i] / 1e6, cum);
		else
			fprintf(out, "%s_bucket{%s%sle=\"+Inf\"} %" PRIu64 "\n", d->name, l, sep, cum);
	}
	sum = __atomic_load_n(&h->sum_us, __ATOMIC_RELAXED);
	count = cum;
	fprintf(out, "%s_sum%s%s%s %.6f\n%s_count%s%s%s %" PRIu64 "\n",
	    d->name, *l ? "{" : "", l, *l ? "}" : "", (double)sum / 1e6,
	    d->name, *l ? "{" : "", l, *l ? "}" : "", count);
}

void
metrics_render(FILE *out)
{
	render_counters(out);
	render_gauges(out);
	for (size_t i = 0; i < H_NHISTOGRAMS; i++) {
		header(out, &hist_desc[i], i ? &hist_desc[i - 1] : NULL, "histogram");
		render_hist(out, &hist_desc[i], &hists[i]);
	}
}

void
metrics_label_escape(const char *s, char *out, size_t outsz)
{
	size_t n = 0;

	for (; *s && n + 3 < outsz; s++) {
		if (*s == '\\' || *s == '"') {
			out[n++] = '\\';
			out[n++] = *s;
		} else if (*s == '\n') {
			out[n++] = '\\';
			out[n++] = 'n';
		} else
			out[n++] = *s;
	}
	if (outsz > 0)
		out[n < outsz ? n : outsz - 1] = '\0';
}
