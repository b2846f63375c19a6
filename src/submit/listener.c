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
	struct sockaddr_storage ss;
	socklen_t sslen;
	char name[80];
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

/* bind_one - listen on cl into l (not yet accepting when l is a temporary copy). */
static int
bind_one(struct server *srv, const struct config_listen *cl, struct listener *l, char *err,
    size_t errsz)
{
	l->srv = srv;
	l->mode = cl->mode;
	l->ss = cl->ss;
	l->sslen = cl->sslen;
	util_strlcpy(l->name, cl->name, sizeof(l->name));
	l->evl = evconnlistener_new_bind(srv->base, on_accept, l,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, 511,
	    (const struct sockaddr *)&cl->ss, (int)cl->sslen);
	if (l->evl == NULL) {
		snprintf(err, errsz, "cannot listen on %s: %s", cl->name, strerror(errno));
		return -1;
	}
	evconnlistener_set_error_cb(l->evl, on_accept_error);
	return 0;
}

struct listeners *
listeners_open(struct server *srv, char *err, size_t errsz)
{
	struct listeners *ls = xcalloc(1, sizeof(*ls));
	const struct config *cfg = srv->cfg;
	size_t i;

	for (i = 0; i < cfg->nlisten; i++) {
		if (bind_one(srv, &cfg->listen[i], &ls->l[i], err, errsz) == -1) {
			listeners_free(ls);
			return NULL;
		}
		ls->n++;
	}
	return ls;
}

static struct listener *
find(struct listeners *ls, const struct config_listen *cl)
{
	for (size_t i = 0; i < ls->n; i++)
		if (ls->l[i].evl != NULL && ls->l[i].sslen == cl->sslen &&
		    memcmp(&ls->l[i].ss, &cl->ss, cl->sslen) == 0)
			return &ls->l[i];
	return NULL;
}

int
listeners_update(struct listeners *ls, struct server *srv, const struct config *cfg,
    char *err, size_t errsz)
{
	struct listeners next = { 0 };
	struct listener *old;
	size_t i;

	for (i = 0; i < cfg->nlisten; i++) {	/* bind what is new; all or nothing */
		if (find(ls, &cfg->listen[i]) != NULL)
			continue;
		if (bind_one(srv, &cfg->listen[i], &next.l[i], err, errsz) == -1) {
			for (size_t j = 0; j < i; j++)
				if (next.l[j].evl != NULL)
					evconnlistener_free(next.l[j].evl);
			return -1;
		}
		log_info("reload: now listening on %s", cfg->listen[i].name);
	}
	for (i = 0; i < cfg->nlisten; i++) {	/* move the kept ones over */
		if (next.l[i].evl != NULL || (old = find(ls, &cfg->listen[i])) == NULL)
			continue;
		next.l[i] = *old;
		next.l[i].mode = cfg->listen[i].mode;
		util_strlcpy(next.l[i].name, cfg->listen[i].name, sizeof(next.l[i].name));
		old->evl = NULL;
	}
	for (i = 0; i < ls->n; i++) {		/* close what is gone */
		if (ls->l[i].evl == NULL)
			continue;
		log_info("reload: no longer listening on %s", ls->l[i].name);
		evconnlistener_free(ls->l[i].evl);
	}
	next.n = cfg->nlisten;
	*ls = next;
	for (i = 0; i < ls->n; i++)	/* the callbacks' argument moved */
		evconnlistener_set_cb(ls->l[i].evl, on_accept, &ls->l[i]);
	return 0;
}

size_t
listeners_describe(const struct listeners *ls, char names[][80], const char **modes, size_t max)
{
	size_t i;

	for (i = 0; i < ls->n && i < max; i++) {
		util_strlcpy(names[i], ls->l[i].name, sizeof(names[i]));
		modes[i] = ls->l[i].mode == LISTEN_TLS ? "tls" : "starttls";
	}
	return i;
}

void
listeners_free(struct listeners *ls)
{
	size_t i;

	if (ls == NULL)
		return;
	for (i = 0; i < ls->n; i++)
		if (ls->l[i].evl != NULL)
			evconnlistener_free(ls->l[i].evl);
	free(ls);
}
