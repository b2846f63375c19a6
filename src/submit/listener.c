/*
 * listener.c - evconnlistener per "listen" line; hands sockets to sessions.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/listener.h>

#include "base/config.h"
#include "submit/listener.h"
#include "lib/log.h"
#include "submit/smtp_server.h"
#include "lib/util.h"

struct listener {
	struct evconnlistener *evl;
	struct server *srv;
	enum listen_mode mode;
	const char *name;
};

struct listeners {
	struct listener l[CONFIG_MAX_LISTEN];
	size_t n;
};

static void
on_accept(struct evconnlistener *evl, evutil_socket_t fd, struct sockaddr *sa, int salen,
    void *arg)
{
	struct listener *l = arg;

	smtp_session_start(l->srv, fd, sa, (socklen_t)salen, l->mode);
}

static void
on_accept_error(struct evconnlistener *evl, void *arg)
{
	struct listener *l = arg;

	log_warn("accept on %s: %s", l->name, strerror(errno));
}

struct listeners *
listeners_open(struct server *srv, char *err, size_t errsz)
{
	struct listeners *ls = xcalloc(1, sizeof(*ls));
	const struct config *cfg = srv->cfg;
	struct listener *l;
	size_t i;

	for (i = 0; i < cfg->nlisten; i++) {
		l = &ls->l[i];
		l->srv = srv;
		l->mode = cfg->listen[i].mode;
		l->name = cfg->listen[i].name;
		l->evl = evconnlistener_new_bind(srv->base, on_accept, l,
		    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, 511,
		    (const struct sockaddr *)&cfg->listen[i].ss, (int)cfg->listen[i].sslen);
		if (l->evl == NULL) {
			snprintf(err, errsz, "cannot listen on %s: %s", l->name, strerror(errno));
			listeners_free(ls);
			return NULL;
		}
		evconnlistener_set_error_cb(l->evl, on_accept_error);
		ls->n++;
	}
	return ls;
}

void
listeners_free(struct listeners *ls)
{
	size_t i;

	if (ls == NULL)
		return;
	for (i = 0; i < ls->n; i++)
		evconnlistener_free(ls->l[i].evl);
	free(ls);
}
