/*
 * metrics_http.c - GET /metrics over libmicrohttpd (one internal thread,
 * a few connections at a time, short timeouts): base/metrics.h's series
 * and the queue's gauges read from the store.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "base/config.h"
#include "base/metrics.h"
#include "base/store.h"
#include "lib/log.h"
#include "lib/util.h"
#include "ops/metrics_http.h"

#define MAX_CONNECTIONS 8
#define CONNECTION_TIMEOUT 10
#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct metrics_http {
	struct MHD_Daemon *mhd;
	char db[4200];
	pthread_mutex_t lock;	/* st: MHD's thread, but be sure */
	struct store *st;	/* opened on the first scrape */
};

struct scrape {
	FILE *out;
	bool queued, deferred;	/* seen: the others print as 0 */
};

static void
state_row(void *arg, const char *const *cols, int ncols)
{
	struct scrape *s = arg;
	char state[64];

	metrics_label_escape(cols[0], state, sizeof(state));
	s->queued |= strcmp(cols[0], "queued") == 0;
	s->deferred |= strcmp(cols[0], "deferred") == 0;
	fprintf(s->out, "hikyaku_queue_recipients{state=\"%s\"} %s\n", state, cols[1]);
}

static void
destination_row(void *arg, const char *const *cols, int ncols)
{
	struct scrape *s = arg;
	char dest[600];

	metrics_label_escape(cols[0], dest, sizeof(dest));
	fprintf(s->out, "hikyaku_destination_deferred_recipients{destination=\"%s\"} %s\n", dest,
	    cols[2]);
}

/* render_queue - the store's gauges; nothing when the store cannot be read. */
static void
render_queue(struct metrics_http *m, FILE *out)
{
	struct scrape s = { out, false, false };
	int64_t n = 0, oldest = 0, now = util_now();
	char err[512];

	if (m->st == NULL && (m->st = store_open(m->db, err, sizeof(err))) == NULL) {
		log_warn("metrics: %s", err);
		return;
	}
	fprintf(out, "# HELP hikyaku_queue_recipients Recipients in the queue, by state.\n"
	    "# TYPE hikyaku_queue_recipients gauge\n");
	if (store_queue_states(m->st, state_row, &s) != STORE_OK)
		log_warn("metrics: cannot read the queue: %s", store_errmsg(m->st));
	if (!s.queued)
		fprintf(out, "hikyaku_queue_recipients{state=\"queued\"} 0\n");
	if (!s.deferred)
		fprintf(out, "hikyaku_queue_recipients{state=\"deferred\"} 0\n");
	store_queue_count(m->st, &n);
	store_queue_oldest(m->st, &oldest);
	fprintf(out, "# HELP hikyaku_queue_messages Messages in the queue.\n"
	    "# TYPE hikyaku_queue_messages gauge\nhikyaku_queue_messages %" PRId64 "\n"
	    "# HELP hikyaku_queue_oldest_message_age_seconds Age of the oldest message in the"
	    " queue (0 when empty).\n# TYPE hikyaku_queue_oldest_message_age_seconds gauge\n"
	    "hikyaku_queue_oldest_message_age_seconds %" PRId64 "\n", n,
	    oldest > 0 && now > oldest ? now - oldest : 0);
	fprintf(out, "# HELP hikyaku_destination_deferred_recipients Deferred recipients of the"
	    " %d destinations with the most.\n"
	    "# TYPE hikyaku_destination_deferred_recipients gauge\n", METRICS_TOP_DESTINATIONS);
	store_queue_destinations(m->st, METRICS_TOP_DESTINATIONS, true, destination_row, &s);
}

static struct MHD_Response *
render(struct metrics_http *m)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	if (out == NULL)
		return NULL;
	metrics_render(out);
	pthread_mutex_lock(&m->lock);
	render_queue(m, out);
	pthread_mutex_unlock(&m->lock);
	fclose(out);
	return MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
}

static enum MHD_Result
reply_text(struct MHD_Connection *c, unsigned code, const char *text)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text,
	    MHD_RESPMEM_PERSISTENT);
	enum MHD_Result res;

	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	res = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return res;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size, void **req_cls)
{
	struct metrics_http *m = cls;
	struct MHD_Response *r;
	enum MHD_Result res;

	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET /metrics\n");
	if (strcmp(url, "/metrics") != 0)
		return reply_text(c, MHD_HTTP_NOT_FOUND, "not found: try /metrics\n");
	if ((r = render(m)) == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, CONTENT_TYPE);
	res = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return res;
}

struct metrics_http *
metrics_http_start(const struct config *cfg, char *err, size_t errsz)
{
	struct metrics_http *m;

	err[0] = '\0';
	if (cfg->metrics.sslen == 0)
		return NULL;
	m = xcalloc(1, sizeof(*m));
	config_db_path(cfg, m->db, sizeof(m->db));
	pthread_mutex_init(&m->lock, NULL);
	m->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
	    (cfg->metrics.ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0), 0, NULL, NULL,
	    on_request, m, MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&cfg->metrics.ss,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CONNECTIONS,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT,
	    MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1, MHD_OPTION_END);
	if (m->mhd == NULL) {
		snprintf(err, errsz, "cannot serve metrics on %s (metrics-listen): address in use"
		    " or not allowed", cfg->metrics.name);
		metrics_http_stop(m);
		return NULL;
	}
	return m;
}

void
metrics_http_stop(struct metrics_http *m)
{
	if (m == NULL)
		return;
	if (m->mhd != NULL)
		MHD_stop_daemon(m->mhd);
	store_close(m->st);
	pthread_mutex_destroy(&m->lock);
	free(m);
}
