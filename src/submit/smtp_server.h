/*
 * smtp_server.h - the ESMTP submission session (RFC 5321, 6409, 8314,
 * 4954, 3207): one state machine per client connection.
 *
 * Data flows one way: netio delivers lines, a command table checks and
 * proceeds, policy decides who may send as whom, message.c prepares the
 * message, a worker signs it (DKIM) and queue.c makes it durable before
 * "250".
 */
#ifndef HIKYAKU_SMTP_SERVER_H
#define HIKYAKU_SMTP_SERVER_H

#include <stddef.h>
#include <sys/socket.h>

#include "base/config.h"

struct auth;
struct dkim_signer;
struct doctor_gate;
struct event_base;
struct queue;
struct quota;
struct session;
struct store;
struct store_msg;
struct tls_ctx;
struct worker_pool;

/*
 * The daemon's shared state, owned by main; sessions borrow it. cfg and tls
 * are the current ones: a reload replaces them, and each session keeps a
 * reference to those it started with.
 */
struct server {
	struct event_base *base;
	struct config *cfg;
	struct tls_ctx *tls;
	struct store *store;	/* the loop thread's connection: grants, trusts */
	struct queue *queue;
	struct auth *auth;
	struct quota *quota;		/* per-account message limits */
	struct worker_pool *wp;		/* DKIM signing runs here */
	struct dkim_signer *signer;	/* NULL: do not sign */
	struct doctor_gate *gate;	/* the readiness gate; NULL: none */
	/* told about each newly queued message (the scheduler); may be NULL */
	void (*queued)(void *arg, const struct store_msg *m);
	void *queued_arg;
	struct session *sessions;	/* every live session */
	size_t nsessions;
	unsigned long long nconnections;
};

/* smtp_session_start - serve the accepted socket fd; the session owns it. */
void smtp_session_start(struct server *srv, int fd, const struct sockaddr *sa,
    socklen_t salen, enum listen_mode mode);

/*
 * smtp_server_shutdown - at exit: free idle sessions, mark parked ones dead
 * so that their pending callbacks free them.
 */
void smtp_server_shutdown(struct server *srv);

#endif
