/*
 * smtp_server.c - the submission session state machine.
 *
 * Each command has a check function (is it allowed now? if not, reply and
 * return false) and a proceed function (do it). Asynchronous steps - the
 * password check, DKIM signing and the queue commit - park the session
 * (busy) and pause its input; their callbacks resume it. A session whose
 * client vanished while parked is freed by that callback (dead). Every
 * state change goes through enter_state().
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "lib/addr.h"
#include "submit/auth.h"
#include "lib/dataend.h"
#include "dkim/dkim_sign.h"
#include "deliver/delivery.h"
#include "lib/hdr_from.h"
#include "lib/log.h"
#include "submit/message.h"
#include "lib/msghdr.h"
#include "base/netio.h"
#include "submit/policy.h"
#include "queue/queue.h"
#include "submit/smtp_cmd.h"
#include "submit/smtp_server.h"
#include "base/store.h"
#include "lib/util.h"
#include "base/worker.h"

#define AUTH_LINE_MAX 2048	/* an AUTH continuation line (RFC 4954 allows more; PLAIN needs < 1k) */
#define DATA_CHUNK (16 * 1024)
#define MAX_GRANTS 1024

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

static const char *state_names[] = { "GREETING", "READY", "MAIL", "RCPT", "DATA",
	"AUTH_PLAIN", "AUTH_USER", "AUTH_PASS", "BUSY", "CLOSING" };

struct session {
	struct server *srv;
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
	char params[64];			/* ESMTP parameters, as queued */
};

static void session_process(struct session *s);
static void session_resume(struct session *s);

/* --- state, replies, teardown --- */

static void
enter_state(struct session *s, enum state next)
{
	if (s->state == next || s->state == S_CLOSING)
		return;	/* nothing leaves CLOSING */
	s->state = next;
}

static void
reply(struct session *s, int code, const char *status, const char *text)
{
	if (status != NULL)
		netio_printf(s->io, "%d %s %s\r\n", code, status, text);
	else
		netio_printf(s->io, "%d %s\r\n", code, text);
}

static void
session_close(struct session *s, int code, const char *status, const char *text)
{
	char line[300];

	snprintf(line, sizeof(line), "%s %s", s->srv->cfg->hostname, text);
	reply(s, code, status, line);
	enter_state(s, S_CLOSING);
	netio_close_when_flushed(s->io);
}

/* error - reply with an error and count it; too many and we hang up. */
static void
error(struct session *s, int code, const char *status, const char *text)
{
	reply(s, code, status, text);
	if (++s->errors >= s->srv->cfg->max_errors) {
		log_info("too many errors from %s, disconnecting", s->client);
		session_close(s, 421, "4.7.0", "Error: too many errors");
	}
}

static void
error_r(struct session *s, const struct reply *r)
{
	error(s, r->code, r->status, r->text);
}

static void
free_list(char **list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

static void
transaction_reset(struct session *s)
{
	free_list(s->rcpts, s->nrcpts);
	s->rcpts = NULL;
	s->nrcpts = 0;
	free(s->msg);
	s->msg = NULL;
	s->msglen = s->msgcap = 0;
	s->qid[0] = '\0';
	memset(&s->mail, 0, sizeof(s->mail));
}

static void
session_free(struct session *s)
{
	transaction_reset(s);
	free_list(s->grants, s->ngrants);
	netio_free(s->io);
	if (s->prev)
		s->prev->next = s->next;
	else
		s->srv->sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->srv->nsessions--;
	free(s);
}

/* --- who the client is --- */

static void
collect_grant(void *arg, const char *const *cols, int ncols)
{
	struct session *s = arg;

	if (s->ngrants < MAX_GRANTS) {
		s->grants = xrealloc(s->grants, (s->ngrants + 1) * sizeof(char *));
		s->grants[s->ngrants++] = xstrdup(cols[1]);
	}
}

static bool
load_grants(struct session *s)
{
	free_list(s->grants, s->ngrants);
	s->grants = NULL;
	s->ngrants = 0;
	if (store_grant_list(s->srv->store, s->account, collect_grant, s) != STORE_OK) {
		log_warn("cannot read grants of %s: %s", s->account, store_errmsg(s->srv->store));
		return false;
	}
	return true;
}

struct trust_match {
	struct session *s;
	unsigned best_prefix;
	bool found;
};

static void
match_trust(void *arg, const char *const *cols, int ncols)
{
	struct trust_match *m = arg;
	struct policy_cidr c;

	if (policy_cidr_parse(cols[1], &c) == -1)
		return;
	if (!policy_cidr_match(&c, (struct sockaddr *)&m->s->ss))
		return;
	if (m->found && c.prefix <= m->best_prefix)
		return;
	m->found = true;
	m->best_prefix = c.prefix;
	util_strlcpy(m->s->account, cols[0], sizeof(m->s->account));
}

/* find_trust - act as the account whose trusted network holds the client. */
static void
find_trust(struct session *s)
{
	struct trust_match m = { s, 0, false };

	if (store_trust_list(s->srv->store, match_trust, &m) != STORE_OK) {
		log_warn("cannot read trusted networks: %s", store_errmsg(s->srv->store));
		return;
	}
	if (m.found && load_grants(s))
		log_info("%s: trusted network of account %s", s->client, s->account);
	else
		s->account[0] = '\0';
}

static const char *
protocol(struct session *s)
{
	static char buf[16];

	snprintf(buf, sizeof(buf), "%s%s%s%s", s->mail.smtputf8 ? "UTF8SMTP" : "",
	    s->mail.smtputf8 ? "" : s->esmtp ? "ESMTP" : "SMTP",
	    netio_is_tls(s->io) ? "S" : "", s->sasl_method ? "A" : "");
	return buf;
}

/* --- command checks --- */

static bool
check_helo_done(struct session *s, const struct smtp_cmd *c)
{
	if (s->state == S_GREETING) {
		error(s, 503, "5.5.1", "Error: send HELO/EHLO first");
		return false;
	}
	return true;
}

static bool
check_mail(struct session *s, const struct smtp_cmd *c)
{
	if (!check_helo_done(s, c))
		return false;
	if (s->state == S_MAIL || s->state == S_RCPT) {
		error(s, 503, "5.5.1", "Error: nested MAIL command");
		return false;
	}
	if (s->account[0] == '\0' && !netio_is_tls(s->io)) {
		error(s, 530, "5.7.0", "Must issue a STARTTLS command first");
		return false;
	}
	if (s->account[0] == '\0') {
		error(s, 530, "5.7.0", "Authentication required");
		return false;
	}
	return true;
}

static bool
check_rcpt(struct session *s, const struct smtp_cmd *c)
{
	if (s->state != S_MAIL && s->state != S_RCPT) {
		error(s, 503, "5.5.1", "Error: need MAIL command");
		return false;
	}
	return true;
}

static bool
check_data(struct session *s, const struct smtp_cmd *c)
{
	if (s->state == S_MAIL) {
		error(s, 503, "5.5.1", "Error: need RCPT command");
		return false;
	}
	if (s->state != S_RCPT) {
		error(s, 503, "5.5.1", "Error: need MAIL command");
		return false;
	}
	if (c->arglen != 0) {
		error(s, 501, "5.5.4", "Syntax: DATA");
		return false;
	}
	return true;
}

static bool
check_starttls(struct session *s, const struct smtp_cmd *c)
{
	if (netio_is_tls(s->io)) {
		error(s, 503, "5.5.1", "Error: TLS already active");
		return false;
	}
	if (c->arglen != 0) {
		error(s, 501, "5.5.4", "Syntax: STARTTLS");
		return false;
	}
	return true;
}

static bool
check_auth(struct session *s, const struct smtp_cmd *c)
{
	if (!check_helo_done(s, c))
		return false;
	if (!netio_is_tls(s->io)) {
		error(s, 538, "5.7.11", "Encryption required for requested authentication mechanism");
		return false;
	}
	if (s->sasl_method != NULL) {
		error(s, 503, "5.5.1", "Error: already authenticated");
		return false;
	}
	if (s->state == S_MAIL || s->state == S_RCPT) {
		error(s, 503, "5.5.1", "Error: MAIL transaction in progress");
		return false;
	}
	return true;
}

static bool
check_none(struct session *s, const struct smtp_cmd *c)
{
	return true;
}

/* --- command actions --- */

static void
do_helo(struct session *s, const struct smtp_cmd *c)
{
	if (!smtp_cmd_valid_helo(c->arg, c->arglen)) {
		error(s, 501, "5.5.4", "Syntax: HELO hostname");
		return;
	}
	memcpy(s->helo, c->arg, c->arglen);
	s->helo[c->arglen] = '\0';
	transaction_reset(s);
	s->esmtp = c->verb == SMTP_VERB_EHLO;
	enter_state(s, S_READY);
	if (!s->esmtp) {
		netio_printf(s->io, "250 %s\r\n", s->srv->cfg->hostname);
		return;
	}
	netio_printf(s->io, "250-%s\r\n250-PIPELINING\r\n250-SIZE %llu\r\n"
	    "250-8BITMIME\r\n250-SMTPUTF8\r\n250-ENHANCEDSTATUSCODES\r\n%s",
	    s->srv->cfg->hostname, (unsigned long long)s->srv->cfg->max_message_size,
	    netio_is_tls(s->io) ? "" : "250-STARTTLS\r\n");
	if (netio_is_tls(s->io) && s->sasl_method == NULL)
		netio_printf(s->io, "250-AUTH PLAIN LOGIN\r\n");
	netio_printf(s->io, "250 HELP\r\n");
}

static bool
spool_has_room(struct session *s)
{
	struct statvfs sv;
	unsigned long long avail;

	if (statvfs(s->srv->cfg->spool, &sv) == -1)
		return false;
	avail = (unsigned long long)sv.f_bavail * sv.f_frsize;
	return avail >= s->srv->cfg->min_free_space + s->mail.size;
}

static void
do_mail(struct session *s, const struct smtp_cmd *c)
{
	struct reply err;

	if (smtp_cmd_parse_mail(c->arg, c->arglen, &s->mail, &err) == -1) {
		error_r(s, &err);
		return;
	}
	if (s->mail.has_size && s->mail.size > s->srv->cfg->max_message_size) {
		error(s, 552, "5.3.4", "Message size exceeds fixed limit");
		return;
	}
	if (!spool_has_room(s)) {
		log_warn("NOQUEUE: reject: MAIL from %s: 452 4.3.1 spool %s is low on space",
		    s->client, s->srv->cfg->spool);
		error(s, 452, "4.3.1", "Insufficient system storage");
		return;
	}
	if (s->mail.addr[0] != '\0' &&
	    !policy_grant_covers((const char *const *)s->grants, s->ngrants, s->mail.addr)) {
		char text[400];

		snprintf(text, sizeof(text), "Sender rejected: <%s> is not granted to account %s",
		    s->mail.addr, s->account);
		log_info("NOQUEUE: reject: MAIL from %s: 550 5.7.1 %s; sasl_username=%s",
		    s->client, text, s->account);
		error(s, 550, "5.7.1", text);
		return;
	}
	util_queue_id(s->qid);
	log_info("%s: client=%s, %s%s%s%s", s->qid, s->client,
	    s->sasl_method ? "sasl_method=" : "trusted_account=",
	    s->sasl_method ? s->sasl_method : s->account,
	    s->sasl_method ? ", sasl_username=" : "", s->sasl_method ? s->account : "");
	enter_state(s, S_MAIL);
	reply(s, 250, "2.1.0", "Ok");
}

static bool
already_recipient(struct session *s, const char *addr)
{
	size_t i;

	for (i = 0; i < s->nrcpts; i++)
		if (addr_equal(s->rcpts[i], addr))
			return true;
	return false;
}

static void
do_rcpt(struct session *s, const struct smtp_cmd *c)
{
	struct smtp_rcpt_args rcpt;
	struct reply err;

	if (smtp_cmd_parse_rcpt(c->arg, c->arglen, s->mail.smtputf8, &rcpt, &err) == -1) {
		error_r(s, &err);
		return;
	}
	if (s->nrcpts >= s->srv->cfg->max_recipients) {
		error(s, 452, "4.5.3", "Too many recipients");
		return;
	}
	if (!already_recipient(s, rcpt.addr)) {
		s->rcpts = xrealloc(s->rcpts, (s->nrcpts + 1) * sizeof(char *));
		s->rcpts[s->nrcpts++] = xstrdup(rcpt.addr);
	}
	enter_state(s, S_RCPT);
	reply(s, 250, "2.1.5", "Ok");
}

static void
do_data(struct session *s, const struct smtp_cmd *c)
{
	dataend_init(&s->de, s->srv->cfg->max_message_size);
	s->msglen = 0;
	enter_state(s, S_DATA);
	reply(s, 354, NULL, "End data with <CR><LF>.<CR><LF>");
}

static void
do_rset(struct session *s, const struct smtp_cmd *c)
{
	transaction_reset(s);
	if (s->state != S_GREETING)
		enter_state(s, S_READY);
	reply(s, 250, "2.0.0", "Ok");
}

static void
do_noop(struct session *s, const struct smtp_cmd *c)
{
	reply(s, 250, "2.0.0", "Ok");
}

static void
do_quit(struct session *s, const struct smtp_cmd *c)
{
	reply(s, 221, "2.0.0", "Bye");
	enter_state(s, S_CLOSING);
	netio_close_when_flushed(s->io);
}

static void
do_vrfy(struct session *s, const struct smtp_cmd *c)
{
	reply(s, 252, "2.0.0", "Cannot VRFY user, but will accept message and attempt delivery");
}

static void
do_help(struct session *s, const struct smtp_cmd *c)
{
	netio_printf(s->io, "214-2.0.0 hikyaku, an outbound relay for authenticated submission\r\n"
	    "214-2.0.0 Commands: EHLO HELO STARTTLS AUTH MAIL RCPT DATA RSET NOOP VRFY HELP QUIT\r\n"
	    "214 2.0.0 End of HELP info\r\n");
}

static void
do_starttls(struct session *s, const struct smtp_cmd *c)
{
	reply(s, 220, "2.0.0", "Ready to start TLS");
	transaction_reset(s);
	s->esmtp = false;
	enter_state(s, S_GREETING);	/* RFC 3207: forget everything, EHLO again */
	netio_starttls(s->io, s->srv->tls, NULL);
}

/* --- AUTH --- */

static void auth_start_check(struct session *s, const char *user, const char *pass);

static void
auth_fail_reply(struct session *s, const char *status, const char *text)
{
	enter_state(s, S_READY);
	error(s, 535, status, text);
}

/* auth_plain - decode "authzid NUL authcid NUL passwd" and check it. */
static void
auth_plain(struct session *s, const char *b64, size_t len)
{
	char buf[AUTH_LINE_MAX], *user, *pass, *authz;
	int n;

	if (len == 1 && b64[0] == '*') {
		enter_state(s, S_READY);
		error(s, 501, "5.7.0", "Authentication aborted");
		return;
	}
	if ((n = util_base64_decode(b64, len, buf, sizeof(buf) - 1)) < 0) {
		enter_state(s, S_READY);
		error(s, 501, "5.5.2", "Cannot decode AUTH response");
		return;
	}
	buf[n] = '\0';
	authz = buf;
	user = memchr(buf, '\0', (size_t)n);
	pass = user ? memchr(user + 1, '\0', (size_t)(buf + n - user - 1)) : NULL;
	if (user == NULL || pass == NULL || memchr(pass + 1, '\0', (size_t)(buf + n - pass - 1)) ||
	    (*authz && strcmp(authz, user + 1) != 0)) {
		explicit_bzero(buf, sizeof(buf));
		auth_fail_reply(s, "5.7.8", "Authentication credentials invalid");
		return;
	}
	auth_start_check(s, user + 1, pass + 1);
	explicit_bzero(buf, sizeof(buf));
}

static void
do_auth(struct session *s, const struct smtp_cmd *c)
{
	const char *sp = memchr(c->arg, ' ', c->arglen);
	size_t mlen = sp ? (size_t)(sp - c->arg) : c->arglen;
	const char *init = sp ? sp + 1 : NULL;
	size_t ilen = sp ? c->arglen - mlen - 1 : 0;

	if (mlen == 5 && strncasecmp(c->arg, "PLAIN", 5) == 0) {
		s->auth_mech = "PLAIN";
		if (init == NULL) {
			enter_state(s, S_AUTH_PLAIN);
			reply(s, 334, NULL, "");
		} else
			auth_plain(s, init, ilen);
		return;
	}
	if (mlen == 5 && strncasecmp(c->arg, "LOGIN", 5) == 0) {
		s->auth_mech = "LOGIN";
		if (init != NULL) {
			int n = util_base64_decode(init, ilen, s->auth_user, sizeof(s->auth_user) - 1);

			if (n < 0) {
				error(s, 501, "5.5.2", "Cannot decode AUTH response");
				return;
			}
			s->auth_user[n] = '\0';
			enter_state(s, S_AUTH_PASS);
			reply(s, 334, NULL, "UGFzc3dvcmQ6");
			return;
		}
		enter_state(s, S_AUTH_USER);
		reply(s, 334, NULL, "VXNlcm5hbWU6");
		return;
	}
	error(s, 504, "5.5.4", "Unrecognized authentication type");
}

/* auth_continue - a response line while in an AUTH state. */
static void
auth_continue(struct session *s, const char *line, size_t len)
{
	char pass[AUTH_PASS_MAX + 1];
	int n;

	if (len == 1 && line[0] == '*') {
		enter_state(s, S_READY);
		error(s, 501, "5.7.0", "Authentication aborted");
		return;
	}
	if (s->state == S_AUTH_PLAIN) {
		auth_plain(s, line, len);
		return;
	}
	if (s->state == S_AUTH_USER) {
		n = util_base64_decode(line, len, s->auth_user, sizeof(s->auth_user) - 1);
		if (n < 0) {
			enter_state(s, S_READY);
			error(s, 501, "5.5.2", "Cannot decode AUTH response");
			return;
		}
		s->auth_user[n] = '\0';
		enter_state(s, S_AUTH_PASS);
		reply(s, 334, NULL, "UGFzc3dvcmQ6");
		return;
	}
	n = util_base64_decode(line, len, pass, sizeof(pass) - 1);
	if (n < 0) {
		enter_state(s, S_READY);
		error(s, 501, "5.5.2", "Cannot decode AUTH response");
		return;
	}
	pass[n] = '\0';
	auth_start_check(s, s->auth_user, pass);
	explicit_bzero(pass, sizeof(pass));
}

static void
auth_resume_after_delay(struct netio *io, void *arg)
{
	struct session *s = arg;

	if (s->dead) {
		session_free(s);
		return;
	}
	error(s, 535, "5.7.8", "Authentication credentials invalid");
	session_resume(s);
}

static void
auth_done(struct auth_req *req)
{
	struct session *s = req->arg;
	const char *method = s->auth_mech;
	int delay;

	s->auth_req = NULL;
	if (s->dead) {
		free(req);
		session_free(s);
		return;
	}
	if (req->ok) {
		util_strlcpy(s->account, req->user, sizeof(s->account));
		s->sasl_method = method;
		auth_succeeded(s->srv->auth, (struct sockaddr *)&s->ss);
		free(req);
		if (!load_grants(s)) {
			s->account[0] = '\0';
			s->sasl_method = NULL;
			reply(s, 454, "4.7.0", "Temporary authentication failure");
		} else
			reply(s, 235, "2.7.0", "Authentication successful");
		session_resume(s);
		return;
	}
	log_warn("unknown[%s]: SASL %s authentication failed: user=%s", s->ip, method, req->user);
	free(req);
	delay = auth_failed(s->srv->auth, (struct sockaddr *)&s->ss);
	if (delay < 0) {
		log_warn("%s: too many failed authentications; refusing it for %llu seconds",
		    s->client, (unsigned long long)s->srv->cfg->auth_ban_time);
		session_close(s, 421, "4.7.0",
		    "Error: too many failed authentications from your address; try again later");
		return;
	}
	if (delay > 0) {
		netio_after(s->io, (unsigned)delay, auth_resume_after_delay);
		return;
	}
	auth_resume_after_delay(s->io, s);
}

static void
auth_start_check(struct session *s, const char *user, const char *pass)
{
	struct auth_req *req = xcalloc(1, sizeof(*req));

	util_strlcpy(req->user, user, sizeof(req->user));
	util_strlcpy(req->pass, pass, sizeof(req->pass));
	req->done = auth_done;
	req->arg = s;
	s->auth_req = req;
	enter_state(s, S_BUSY);
	netio_pause(s->io, true);
	auth_check(s->srv->auth, req);
}

/* --- the command table --- */

static const struct command {
	enum smtp_verb verb;
	bool (*check)(struct session *, const struct smtp_cmd *);
	void (*proceed)(struct session *, const struct smtp_cmd *);
} commands[] = {
	{ SMTP_VERB_HELO, check_none, do_helo },
	{ SMTP_VERB_EHLO, check_none, do_helo },
	{ SMTP_VERB_STARTTLS, check_starttls, do_starttls },
	{ SMTP_VERB_AUTH, check_auth, do_auth },
	{ SMTP_VERB_MAIL, check_mail, do_mail },
	{ SMTP_VERB_RCPT, check_rcpt, do_rcpt },
	{ SMTP_VERB_DATA, check_data, do_data },
	{ SMTP_VERB_RSET, check_none, do_rset },
	{ SMTP_VERB_NOOP, check_none, do_noop },
	{ SMTP_VERB_QUIT, check_none, do_quit },
	{ SMTP_VERB_VRFY, check_none, do_vrfy },
	{ SMTP_VERB_HELP, check_none, do_help },
};

static void
command(struct session *s, const char *line, size_t len)
{
	struct smtp_cmd c;
	size_t i;

	if (smtp_cmd_parse(line, len, &c) == -1) {
		error(s, 501, "5.5.2", "Syntax error: NUL, CR or LF in command");
		return;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (commands[i].verb != c.verb)
			continue;
		if (commands[i].check(s, &c))
			commands[i].proceed(s, &c);
		return;
	}
	error(s, 502, "5.5.2", "Error: command not recognized");
}

/* --- DATA and queueing --- */

static bool
check_header_from(struct session *s, size_t hdrend)
{
	struct hdr_from *hf = xcalloc(1, sizeof(*hf));
	char text[400];
	bool ok = false;
	size_t i;

	if (hdr_from_extract(s->msg, hdrend, hf) == -1) {
		error(s, 550, "5.6.0", "Message header From: cannot be parsed; fix it and resend");
		goto done;
	}
	if (hf->nfields == 0 || hf->naddrs == 0) {
		error(s, 550, "5.6.0", "Message has no From: header; add one and resend");
		goto done;
	}
	for (i = 0; i < hf->naddrs; i++) {
		if (policy_grant_covers((const char *const *)s->grants, s->ngrants, hf->addrs[i]))
			continue;
		snprintf(text, sizeof(text),
		    "Sender rejected: header From: <%s> is not granted to account %s",
		    hf->addrs[i], s->account);
		log_info("%s: reject: header From: <%s> from %s: 550 5.7.1 %s", s->qid,
		    hf->addrs[i], s->client, text);
		error(s, 550, "5.7.1", text);
		goto done;
	}
	ok = true;
done:
	free(hf);
	return ok;
}

static bool
check_data_flags(struct session *s)
{
	if (s->de.flags & DATAEND_TOO_BIG) {
		error(s, 552, "5.3.4", "Message size exceeds fixed limit");
		return false;
	}
	if (s->de.flags & DATAEND_BARE_CRLF) {
		log_info("%s: reject: bare <CR> or <LF> in message from %s", s->qid, s->client);
		error(s, 550, "5.5.2", "Bare <CR> or <LF> in message data; use <CR><LF> line endings");
		return false;
	}
	if (s->de.flags & DATAEND_LONG_LINE) {
		error(s, 550, "5.5.2", "Message has a line longer than 998 characters");
		return false;
	}
	return true;
}

static void
commit_done(struct queue_req *req)
{
	struct session *s = req->arg;
	struct store_msg *m = &req->msg;
	char text[80];

	s->qreq = NULL;
	if (req->result == STORE_OK) {
		log_info("%s: from=<%s>, size=%zu, nrcpt=%zu (queue active)", m->id, m->sender,
		    m->len, m->nrcpts);
		if (s->srv->scheduler != NULL)
			scheduler_kick(s->srv->scheduler);
	}
	else
		log_warn("%s: queue file write error: %s", s->qid, req->errmsg);
	if (s->dead) {
		free((void *)m->data);
		free(req);
		session_free(s);
		return;
	}
	if (req->result == STORE_OK) {
		snprintf(text, sizeof(text), "Ok: queued as %s", m->id);
		reply(s, 250, "2.0.0", text);
	} else if (req->result == STORE_FULL)
		error(s, 452, "4.3.1", "Insufficient system storage");
	else
		error(s, 451, "4.3.0", "Error: queue file write error; try again later");
	free((void *)m->data);
	free(req);
	transaction_reset(s);
	session_resume(s);
}

/* A DKIM signing job: dkim_signer_sign() on a worker, sign_done() on the loop. */
struct sign_job {
	struct session *s;
	struct queue_req *req;
	struct dkim_signer *signer;
	enum dkim_sign_status status;
	char *sigs;
	size_t siglen;
	char note[512];
};

static void
sign_work(void *arg)
{
	struct sign_job *j = arg;

	j->status = dkim_signer_sign(j->signer, j->req->msg.data, j->req->msg.len,
	    j->req->msg.arrival, &j->sigs, &j->siglen, j->note, sizeof(j->note));
}

/* prepend - put the signature fields on top of the prepared message. */
static void
prepend(struct queue_req *req, const char *sigs, size_t siglen)
{
	char *data = xmalloc(siglen + req->msg.len);

	memcpy(data, sigs, siglen);
	memcpy(data + siglen, req->msg.data, req->msg.len);
	free((void *)req->msg.data);
	req->msg.data = data;
	req->msg.len += siglen;
}

static void
sign_done(void *arg)
{
	struct sign_job *j = arg;
	struct session *s = j->s;
	struct queue_req *req = j->req;

	if (j->status == DKIM_SIGNED) {
		log_info("%s: dkim=signed %s", req->msg.id, j->note);
		prepend(req, j->sigs, j->siglen);
	} else if (j->status == DKIM_NONE)
		log_info("%s: dkim=none (%s)", req->msg.id, j->note);
	else
		log_warn("%s: dkim=error: %s; message not queued", req->msg.id, j->note);
	free(j->sigs);
	if (j->status != DKIM_ERROR && !s->dead) {
		free(j);
		queue_commit(s->srv->queue, req);
		return;
	}
	free(j);
	s->qreq = NULL;
	free((void *)req->msg.data);
	free(req);
	if (s->dead) {
		session_free(s);
		return;
	}
	error(s, 451, "4.3.0", "Error: cannot sign the message; try again later");
	transaction_reset(s);
	session_resume(s);
}

/*
 * sign_then_commit - with the session parked and req owned by it (s->qreq),
 * DKIM-sign the prepared message on a worker, then commit it.
 */
static void
sign_then_commit(struct session *s, struct queue_req *req)
{
	struct sign_job *j;

	if (s->srv->signer == NULL || s->srv->wp == NULL) {
		queue_commit(s->srv->queue, req);
		return;
	}
	j = xcalloc(1, sizeof(*j));
	j->s = s;
	j->req = req;
	j->signer = s->srv->signer;
	worker_submit(s->srv->wp, sign_work, sign_done, j);
}

static void
queue_message(struct session *s)
{
	struct queue_req *req = xcalloc(1, sizeof(*req));
	struct message_env env = { 0 };
	size_t hdrend = msghdr_end(s->msg, s->msglen);

	if (!check_header_from(s, hdrend)) {
		free(req);
		transaction_reset(s);
		enter_state(s, S_READY);
		return;
	}
	env.queue_id = s->qid;
	env.hostname = s->srv->cfg->hostname;
	env.helo = s->helo;
	env.client_ip = s->ip;
	env.protocol = protocol(s);
	env.tls_version = netio_is_tls(s->io) ? s->tls_version : NULL;
	env.tls_cipher = s->tls_cipher;
	env.account = s->account;
	env.authenticated = s->sasl_method != NULL;
	env.single_rcpt = s->nrcpts == 1 ? s->rcpts[0] : NULL;
	env.now = util_now();
	req->msg.data = message_prepare(s->msg, s->msglen, hdrend, &env, &req->msg.len);
	snprintf(s->params, sizeof(s->params), "%s%s",
	    s->mail.body == SMTP_BODY_8BITMIME ? "BODY=8BITMIME" : "",
	    s->mail.smtputf8 ? " SMTPUTF8" : "");
	util_strlcpy(req->msg.id, s->qid, sizeof(req->msg.id));
	req->msg.account = s->account;
	req->msg.sender = s->mail.addr;
	req->msg.client = s->client;
	req->msg.params = s->params[0] == ' ' ? s->params + 1 : s->params;
	req->msg.smtputf8 = s->mail.smtputf8;
	req->msg.body_8bit = message_is_8bit(req->msg.data, req->msg.len);
	req->msg.arrival = env.now;
	req->msg.rcpts = (const char *const *)s->rcpts;
	req->msg.nrcpts = s->nrcpts;
	req->done = commit_done;
	req->arg = s;
	s->qreq = req;
	free(s->msg);	/* the prepared copy is what we queue */
	s->msg = NULL;
	enter_state(s, S_BUSY);
	netio_pause(s->io, true);
	sign_then_commit(s, req);
}

static void
data_finished(struct session *s)
{
	if (!check_data_flags(s)) {
		transaction_reset(s);
		enter_state(s, S_READY);
		return;
	}
	queue_message(s);
}

static void
grow_message(struct session *s, size_t need)
{
	size_t cap = s->msgcap ? s->msgcap : DATA_CHUNK * 4;
	size_t limit = s->srv->cfg->max_message_size + DATA_CHUNK;

	if (need <= s->msgcap)
		return;
	while (cap < need)
		cap *= 2;
	if (cap > limit)
		cap = limit > need ? limit : need;
	s->msg = xrealloc(s->msg, cap);
	s->msgcap = cap;
}

/* read_data - feed input to the end-of-data machine; true when it ended. */
static bool
read_data(struct session *s)
{
	const char *in;
	size_t len, used, out;
	bool done = false;

	while (!done && (in = netio_peek(s->io, &len)) != NULL) {
		if (len > DATA_CHUNK)
			len = DATA_CHUNK;
		grow_message(s, s->msglen + len);
		used = dataend_feed(&s->de, in, len, s->msg + s->msglen, &out, &done);
		s->msglen += out;
		netio_drain(s->io, used);
	}
	return done;
}

/* --- input --- */

static void
read_line(struct session *s)
{
	char line[AUTH_LINE_MAX + 1];
	bool in_auth = s->state == S_AUTH_PLAIN || s->state == S_AUTH_USER ||
	    s->state == S_AUTH_PASS;
	size_t len;

	switch (netio_read_line(s->io, line, sizeof(line),
	    in_auth ? AUTH_LINE_MAX : SMTP_LINE_MAX, &len)) {
	case NETIO_NEED_MORE:
		return;
	case NETIO_TOO_LONG:
		if (in_auth)
			enter_state(s, S_READY);
		error(s, 500, "5.5.2", "Error: line too long");
		return;
	case NETIO_LINE:
		if (in_auth)
			auth_continue(s, line, len);
		else
			command(s, line, len);
		explicit_bzero(line, len);
		return;
	}
}

/*
 * session_process - handle every complete command or data already received,
 * one at a time, until input runs out or the session parks or closes.
 */
static void
session_process(struct session *s)
{
	size_t before;

	while (s->state != S_BUSY && s->state != S_CLOSING && netio_input_len(s->io) > 0) {
		before = netio_input_len(s->io);
		if (s->state == S_DATA) {
			if (read_data(s))
				data_finished(s);
		} else
			read_line(s);
		if (netio_input_len(s->io) == before && s->state != S_BUSY)
			break;	/* an incomplete line: wait for more */
	}
}

/*
 * session_resume - after a parked step (password check, signing, commit)
 * has replied: back to READY (unless closing) and on with buffered input.
 */
static void
session_resume(struct session *s)
{
	enter_state(s, S_READY);
	netio_pause(s->io, false);
	session_process(s);
}

static void
on_input(struct netio *io, void *arg)
{
	session_process(arg);
}

static void
on_tls(struct netio *io, void *arg)
{
	struct session *s = arg;

	netio_tls_describe(io, s->tls_version, sizeof(s->tls_version), s->tls_cipher,
	    sizeof(s->tls_cipher));
	log_info("TLS connection established from %s: %s with cipher %s", s->client,
	    s->tls_version, s->tls_cipher);
}

static void
on_close(struct netio *io, void *arg, const char *why)
{
	struct session *s = arg;

	if (strcmp(why, "timeout") == 0 && s->state != S_CLOSING && s->state != S_BUSY &&
	    !netio_handshaking(io)) {
		log_info("timeout after %s from %s", state_names[s->state], s->client);
		session_close(s, 421, "4.4.2", "Error: timeout exceeded");
		return;
	}
	log_info("disconnect from %s%s%s", s->client, strcmp(why, "closed") ? ": " : "",
	    strcmp(why, "closed") ? why : "");
	if (s->state == S_BUSY) {
		/* a callback is pending; it frees the session */
		s->dead = true;
		return;
	}
	session_free(s);
}

static const struct netio_cbs session_cbs = { on_input, on_close, on_tls, NULL };

static void
describe_peer(struct session *s, const struct sockaddr *sa)
{
	unsigned port = util_sockaddr_ip(sa, s->ip, sizeof(s->ip));

	snprintf(s->client, sizeof(s->client), "unknown[%s]:%u", s->ip, port);
}

void
smtp_session_start(struct server *srv, int fd, const struct sockaddr *sa, socklen_t salen,
    enum listen_mode mode)
{
	struct session *s = xcalloc(1, sizeof(*s));

	s->srv = srv;
	s->id = ++srv->nconnections;
	memcpy(&s->ss, sa, salen < sizeof(s->ss) ? salen : sizeof(s->ss));
	describe_peer(s, sa);
	s->implicit_tls = mode == LISTEN_TLS;
	srv->nsessions++;
	s->next = srv->sessions;
	if (s->next)
		s->next->prev = s;
	srv->sessions = s;
	s->io = netio_new(srv->base, fd, s->implicit_tls ? srv->tls : NULL, &session_cbs, s);
	netio_set_timeout(s->io, (unsigned)srv->cfg->smtp_timeout);
	log_info("connect from %s", s->client);
	if (auth_banned(srv->auth, sa)) {
		log_warn("unknown[%s]: refused: too many failed authentications", s->ip);
		session_close(s, 421, "4.7.0",
		    "Error: too many failed authentications from your address; try again later");
		return;
	}
	if (srv->nsessions > srv->cfg->max_sessions) {
		log_warn("%s: refused: %zu sessions, max-sessions is %llu", s->client,
		    srv->nsessions - 1, (unsigned long long)srv->cfg->max_sessions);
		session_close(s, 421, "4.3.2", "Error: too many connections; try again later");
		return;
	}
	find_trust(s);
	enter_state(s, S_GREETING);
	netio_printf(s->io, "220 %s ESMTP hikyaku\r\n", srv->cfg->hostname);
}

void
smtp_server_shutdown(struct server *srv)
{
	struct session *s, *next;

	for (s = srv->sessions; s != NULL; s = next) {
		next = s->next;
		if (s->auth_req != NULL || s->qreq != NULL)
			s->dead = true;
		else
			session_free(s);
	}
}
