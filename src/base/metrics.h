/*
 * metrics.h - the daemon's counters, gauges and latency histograms, for
 * the Prometheus endpoint (ops/metrics_http.c) and "hikyaku status".
 *
 * Process-wide and lock-free: every update is one relaxed atomic add, safe
 * from any thread (the loop, workers, the queue writer). Label sets are
 * fixed at compile time (a reason, a status), so no client, sender or
 * recipient can grow them. Values that live in the store (queue sizes) are
 * not here: the endpoint reads them with its own connection.
 */
#ifndef HIKYAKU_METRICS_H
#define HIKYAKU_METRICS_H

#include <stdint.h>
#include <stdio.h>

enum metric_counter {
	M_ACCEPTED,			/* a message queued ("250 ... queued as") */
	M_REJECTED_AUTH,		/* MAIL without AUTH (530), address banned after failed logins */
	M_REJECTED_GRANT,		/* envelope or header From: not granted (550 5.7.1) */
	M_REJECTED_SIZE,		/* over max-message-size (552) */
	M_REJECTED_SMUGGLING,		/* bare CR or LF in the data (550 5.5.2) */
	M_REJECTED_FORMAT,		/* no or unparsable From:, a line over 998 bytes */
	M_REJECTED_LIMIT,		/* max-recipients, max-sessions, account limit */
	M_REJECTED_STORAGE,		/* spool low on space, queue write error (452/451) */
	M_REJECTED_DKIM,		/* a DKIM key could not be used (451) */
	M_DELIVERY_SENT,		/* recipient outcomes */
	M_DELIVERY_DEFERRED,
	M_DELIVERY_BOUNCED,
	M_DSN_FAILURE,			/* non-delivery notifications queued */
	M_DSN_DELAY,			/* delay warnings queued */
	M_AUTH_FAILURES,		/* failed AUTH attempts */
	M_CONNECTIONS,			/* client connections accepted */
	M_RELOAD_OK,
	M_RELOAD_FAILED,
	M_NCOUNTERS
};

enum metric_gauge {
	G_SESSIONS,			/* client sessions open now */
	G_CERT_EXPIRY,			/* the server certificate's notAfter, epoch seconds */
	G_START_TIME,			/* when the daemon started, epoch seconds */
	G_NGAUGES
};

enum metric_histogram {
	H_DNS_MX,			/* MX lookups */
	H_DNS_ADDR,			/* A/AAAA lookups */
	H_DKIM_SIGN,			/* signing one message (key lookup included) */
	H_DATA_TO_REPLY,		/* the final "." to "250 queued" (signing and commit) */
	H_NHISTOGRAMS
};

/* metrics_inc - add one to counter c. */
void metrics_inc(enum metric_counter c);
/* metrics_add - add n to counter c. */
void metrics_add(enum metric_counter c, uint64_t n);
/* metrics_gauge_add - add delta (may be negative) to gauge g. */
void metrics_gauge_add(enum metric_gauge g, int64_t delta);
/* metrics_gauge_set - set gauge g. */
void metrics_gauge_set(enum metric_gauge g, int64_t v);
/* metrics_observe - record one duration, in microseconds, in histogram h. */
void metrics_observe(enum metric_histogram h, int64_t usec);

/* metrics_counter - the current value of c (for status and tests). */
uint64_t metrics_counter(enum metric_counter c);
/* metrics_gauge - the current value of g. */
int64_t metrics_gauge(enum metric_gauge g);

/*
 * metrics_render - every counter, gauge and histogram in the Prometheus
 * text exposition format (version 0.0.4), with HELP and TYPE lines.
 */
void metrics_render(FILE *out);

/* metrics_label_escape - s as a label value (\\, \" and \n escaped) into out. */
void metrics_label_escape(const char *s, char *out, size_t outsz);

#endif
