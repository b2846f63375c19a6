/*
 * listener.h - the listening sockets of "listen" lines; each accepted
 * connection becomes an SMTP session.
 */
#ifndef HIKYAKU_LISTENER_H
#define HIKYAKU_LISTENER_H

#include <stddef.h>

struct config;
struct listeners;
struct server;

/* listeners_open - bind and listen on every configured address (done before dropping root). */
struct listeners *listeners_open(struct server *srv, char *err, size_t errsz);
/*
 * listeners_update - a reload: listen on cfg's addresses from now on. Keeps
 * the sockets of addresses it already had (their sessions go on), binds the
 * new ones, closes the ones no longer configured. All or nothing: when an
 * address cannot be bound, nothing changes and -1 returns with err filled.
 */
int listeners_update(struct listeners *ls, struct server *srv, const struct config *cfg,
    char *err, size_t errsz);
/* listeners_describe - names ("127.0.0.1:587") and modes of the sockets listened on. */
size_t listeners_describe(const struct listeners *ls, char names[][80], const char **modes,
    size_t max);
void listeners_free(struct listeners *ls);

#endif
