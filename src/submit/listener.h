/*
 * listener.h - the listening sockets of "listen" lines; each accepted
 * connection becomes an SMTP session.
 */
#ifndef HIKYAKU_LISTENER_H
#define HIKYAKU_LISTENER_H

#include <stddef.h>

struct listeners;
struct server;

/* listeners_open - bind and listen on every configured address (done before dropping root). */
struct listeners *listeners_open(struct server *srv, char *err, size_t errsz);
void listeners_free(struct listeners *ls);

#endif
