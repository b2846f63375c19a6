/*
 * test_metrics.c - base/metrics.c: counters and histograms as rendered in
 * the Prometheus text format (cumulative buckets, sum, count, one HELP and
 * TYPE per family) and label escaping.
 */
#include <stdlib.h>
#include <string.h>

#include "base/metrics.h"
#include "t.h"

static char *
render(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	metrics_render(f);
	fclose(f);
	return text;
}

static int
count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

int
main(void)
{
	char buf[64], *t;

	metrics_inc(M_ACCEPTED);
	metrics_add(M_ACCEPTED, 2);
	metrics_inc(M_REJECTED_GRANT);
	metrics_gauge_add(G_SESSIONS, 3);
	metrics_gauge_add(G_SESSIONS, -1);
	metrics_observe(H_DATA_TO_REPLY, 500);		/* 0.0005 s: first bucket */
	metrics_observe(H_DATA_TO_REPLY, 30000);	/* 0.03 s: the 0.05 bucket */
	metrics_observe(H_DATA_TO_REPLY, 60000000);	/* 60 s: only +Inf */
	metrics_observe(H_DNS_MX, -5);			/* clock stepped back: 0 */
	t = render();

	T_OK(metrics_counter(M_ACCEPTED) == 3, "counter adds");
	T_OK(strstr(t, "\nhikyaku_messages_accepted_total 3\n") != NULL, "counter rendered");
	T_OK(strstr(t, "hikyaku_messages_rejected_total{reason=\"grant\"} 1\n") != NULL,
	    "labelled counter");
	T_OK(count(t, "# TYPE hikyaku_messages_rejected_total counter\n") == 1,
	    "one TYPE line per family");
	T_OK(count(t, "# HELP hikyaku_deliveries_total ") == 1, "one HELP line per family");
	T_OK(strstr(t, "\nhikyaku_sessions 2\n") != NULL, "gauge");
	T_OK(strstr(t, "hikyaku_submission_reply_duration_seconds_bucket{le=\"0.001\"} 1\n") != NULL,
	    "first bucket");
	T_OK(strstr(t, "hikyaku_submission_reply_duration_seconds_bucket{le=\"0.05\"} 2\n") != NULL,
	    "buckets are cumulative");
	T_OK(strstr(t, "hikyaku_submission_reply_duration_seconds_bucket{le=\"30\"} 2\n") != NULL,
	    "60 s is above the last bound");
	T_OK(strstr(t, "hikyaku_submission_reply_duration_seconds_bucket{le=\"+Inf\"} 3\n") != NULL,
	    "+Inf holds everything");
	T_OK(strstr(t, "hikyaku_submission_reply_duration_seconds_count 3\n") != NULL, "count");
	T_OK(strstr(t, "hikyaku_submission_reply_duration_seconds_sum 60.030500\n") != NULL, "sum");
	T_OK(strstr(t, "hikyaku_dns_query_duration_seconds_bucket{type=\"mx\",le=\"0.001\"} 1\n")
	    != NULL, "labelled histogram, negative clamped");
	T_OK(strstr(t, "hikyaku_dns_query_duration_seconds_count{type=\"mx\"} 1\n") != NULL,
	    "labelled count");
	T_OK(count(t, "# TYPE hikyaku_dns_query_duration_seconds histogram\n") == 1,
	    "one TYPE for both DNS series");
	free(t);

	metrics_label_escape("a\"b\\c\nd", buf, sizeof(buf));
	T_STREQ(buf, "a\\\"b\\\\c\\nd", "label escaping");
	metrics_label_escape("abcdefgh", buf, 5);
	T_OK(strlen(buf) < 5, "escaping truncates within the buffer");
	return t_done();
}
