/*
 * session.h - the submission session, shared by the files that make up its
 * state machine (private to src/submit/):
 *
 *   smtp_server.c  life of a connection, the command table, HELO/MAIL/RCPT...
 *   smtp_auth.c    AUTH PLAIN and LOGIN, parked while a worker checks the password
 *   smtp_data.c    DATA: the message, header From: policy, DKIM signing, the commit
 *
 * Every state change goes through session_enter_state(); replies and errors
 * through session_reply() and session_error().
 */
#ifndef HIKYAKU_SESSION_H
#define HIKYAKU_SESSION_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/config.h"
#include "base/store.h"
#include "lib/dataend.h"
#include "lib/reply.h"
#include "lib/util.h"
#include "submit/quota.h"
#include "submit/smtp_cmd.h"

#define AUTH_LINE_MAX 2048	/* an AUTH continuation line (RFC 4954 allows more; PLAIN needs < 1k) */

enum state {
	S_GREETING,	/* before HELO/EHLO */
	S_READY,	/* after HELO/EHLO, no transaction */
	S_MAIL,		/* after MAIL */
	S_RCPT,		/* after at least one RCPT */
	S_DATA,		/* reading the message */
	S_AUTH_PLAIN,	/* waiting for the PLAIN response line */
	S_AUTH_USER,	/* LOGIN: waiting for the user name */
	S_AUTH_PASS,	/* LOGIN: waiting for the password */
	S_BUSY,		/* a password check or commit is in flight */
	S_CLOSING,	/* the last reply is being written */
};

struct auth_req;
struct netio;
struct queue_req;
struct server;
struct tls_ctx;

struct session {
	struct server *srv;
	const struct config *cfg;	/* a reference: the config the session started with */
	struct tls_ctx *tls;		/* a reference: its certificate, kept across a reload */
	struct session *prev, *next;	/* srv->sessions */
	struct netio *io;
	unsigned long long id;
	enum state state;
	bool dead;			/* client gone while BUSY: free on resume */
	bool implicit_tls;
	struct sockaddr_storage ss;
	char ip[INET6_ADDRSTRLEN];
	char client[INET6_ADDRSTRLEN + 20];	/* "unknown[192.0.2.1]:1234" */
	char helo[256];
	bool esmtp;
	char tls_version[32];
	char tls_cipher[96];
	unsigned errors;

	/* who the client is */
	char account[STORE_NAME_MAX + 1];	/* "" until AUTH or trust */
	const char *sasl_method;		/* NULL when trusted by address */
	char **grants;				/* owned, ngrants entries */
	size_t ngrants;
	char auth_user[STORE_NAME_MAX + 1];	/* LOGIN: the user while asking the password */
	const char *auth_mech;			/* the mechanism being tried */
	struct auth_req *auth_req;		/* owned while in flight */

	/* the transaction */
	char qid[QUEUE_ID_LEN + 1];
	struct smtp_mail_args mail;
	char **rcpts;				/* owned, nrcpts entries */
	size_t nrcpts;
	struct dataend de;
	char *msg;				/* owned, msgcap bytes */
	size_t msglen, msgcap;
	struct queue_req *qreq;			/* owned while in flight */
	struct quota_hold hold;			/* the account limit's slot for this message */
	int64_t dot_us;				/* when the final "." arrived */
	char params[64];			/* ESMTP parameters, as queued */
};

/* smtp_server.c */
void session_enter_state(struct session *s, enum state next);
void session_reply(struct session *s, int code, const char *status, const char *text);
/* session_error - reply with an error and count it; too many and we hang up. */
void session_error(struct session *s, int code, const char *status, const char *text);
void session_error_r(struct session *s, const struct reply *r);
/* session_close - say the last reply (prefixed with our name) and close once written. */
void session_close(struct session *s, int code, const char *status, const char *text);
/* session_transaction_reset - forget MAIL, RCPTs and the message. */
void session_transaction_reset(struct session *s);
/* session_free - release s and its connection. */
void session_free(struct session *s);
/* session_load_grants - read the account's grants; false (logged) on a store error. */
bool session_load_grants(struct session *s);
/* session_resume - after a parked step has replied: READY, and on with buffered input. */
void session_resume(struct session *s);

/* smtp_auth.c */
/* smtp_auth_start - the AUTH command (checked: TLS, not yet authenticated). */
void smtp_auth_start(struct session *s, const struct smtp_cmd *c);
/* smtp_auth_continue - a response line while in an S_AUTH_* state. */
void smtp_auth_continue(struct session *s, const char *line, size_t len);

/* smtp_data.c */
/* smtp_data_read - feed buffered input to the message; true when "." ended it. */
bool smtp_data_read(struct session *s);
/* smtp_data_finished - check the message, then sign and commit it (parks the session). */
void smtp_data_finished(struct session *s);

#endif
