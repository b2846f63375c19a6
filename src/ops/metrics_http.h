/*
 * metrics_http.h - the Prometheus endpoint: GET /metrics on
 * "metrics-listen ADDR:PORT" (off by default), served by libmicrohttpd on
 * its own thread. The only module that uses libmicrohttpd.
 *
 * A scrape renders base/metrics.h's counters and histograms, then reads
 * the queue's gauges (recipients by state, messages, the oldest message's
 * age, deferred recipients of the top destinations) with the endpoint's
 * own store connection.
 */
#ifndef HIKYAKU_METRICS_HTTP_H
#define HIKYAKU_METRICS_HTTP_H

#include <stddef.h>

struct config;
struct metrics_http;

#define METRICS_TOP_DESTINATIONS 10	/* per-destination series, at most */

/*
 * metrics_http_start - listen on cfg's metrics-listen address; NULL without
 * one (*err = '\0'), or NULL with err filled when it cannot listen.
 */
struct metrics_http *metrics_http_start(const struct config *cfg, char *err, size_t errsz);
/* metrics_http_stop - stop serving and join the thread. */
void metrics_http_stop(struct metrics_http *m);

#endif
