/*
 * smtp_server.c - the submission session state machine: a connection's
 * life, the command table, and the commands other than AUTH (smtp_auth.c)
 * and the end of DATA (smtp_data.c).
 *
 * Each command has a check function (is it allowed now? if not, reply and
 * return false) and a proceed function (do it). Asynchronous steps - the
 * password check, DKIM signing and the queue commit - park the session
 * (busy) and pause its input; their callbacks resume it. A session whose
 * client vanished while parked is freed by that callback (dead). Every
 * state change goes through session_enter_state().
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "base/metrics.h"
#include "base/netio.h"
#include "base/store.h"
#include "base/tls.h"
#include "lib/addr.h"
#include "lib/log.h"
#include "lib/util.h"
#include "submit/auth.h"
#include "submit/policy.h"
#include "submit/session.h"
#include "submit/smtp_cmd.h"
#include "submit/smtp_server.h"

#define MAX_GRANTS 1024

static const char *state_names[] = { "GREETING", "READY", "MAIL", "RCPT", "DATA",
	"AUTH_PLAIN", "AUTH_USER", "AUTH_PASS", "BUSY", "CLOSING" };

static void session_process(struct session *s);

/* --- state, replies, teardown --- */

void
session_enter_state(struct session *s, enum state next)
{
	if (s->state == next || s->state == S_CLOSING)
		return;	/* nothing leaves CLOSING */
	s->state = next;
}

void
session_reply(struct session *s, int code, const char *status, const char *text)
{
	if (status != NULL)
		netio_printf(s->io, "%d %s %s\r\n", code, status, text);
	else
		netio_printf(s->io, "%d %s\r\n", code, text);
}

void
session_close(struct session *s, int code, const char *status, const char *text)
{
	char line[300];

	snprintf(line, sizeof(line), "%s %s", s->cfg->hostname, text);
	session_reply(s, code, status, line);
	session_enter_state(s, S_CLOSING);
	netio_close_when_flushed(s->io);
}

/* error - reply with an error and count it; too many and we hang up. */
void
session_error(struct session *s, int code, const char *status, const char *text)
{
	session_reply(s, code, status, text);
	if (++s->errors >= s->cfg->max_errors) {
		log_info("too many errors from %s, disconnecting", s->client);
		session_close(s, 421, "4.7.0", "Error: too many errors");
	}
}

void
session_error_r(struct session *s, const struct reply *r)
{
	session_error(s, r->code, r->status, r->text);
}

static void
free_list(char **list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

void
session_transaction_reset(struct session *s)
{
	free_list(s->rcpts, s->nrcpts);
	s->rcpts = NULL;
	s->nrcpts = 0;
	free(s->msg);
	s->msg = NULL;
	s->msglen = s->msgcap = 0;
	s->qid[0] = '\0';
	memset(&s->mail, 0, sizeof(s->mail));
	quota_release(s->srv->quota, &s->hold);
}

void
session_free(struct session *s)
{
	session_transaction_reset(s);
	free_list(s->grants, s->ngrants);
	netio_free(s->io);
	if (s->prev)
		s->prev->next = s->next;
	else
		s->srv->sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->srv->nsessions--;
	metrics_gauge_add(G_SESSIONS, -1);
	config_free(s->cfg);
	tls_free(s->tls);
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

bool
session_load_grants(struct session *s)
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
	if (m.found && session_load_grants(s))
		log_info("%s: trusted network of account %s", s->client, s->account);
	else
		s->account[0] = '\0';
}

/* --- command checks --- */

static bool
check_helo_done(struct session *s, const struct smtp_cmd *c)
{
	if (s->state == S_GREETING) {
		session_error(s, 503, "5.5.1", "Error: send HELO/EHLO first");
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
		session_error(s, 503, "5.5.1", "Error: nested MAIL command");
		return false;
	}
	if (s->account[0] == '\0' && !netio_is_tls(s->io)) {
		metrics_inc(M_REJECTED_AUTH);
		session_error(s, 530, "5.7.0", "Must issue a STARTTLS command first");
		return false;
	}
	if (s->account[0] == '\0') {
		metrics_inc(M_REJECTED_AUTH);
		session_error(s, 530, "5.7.0", "Authentication required");
		return false;
	}
	return true;
}

static bool
check_rcpt(struct session *s, const struct smtp_cmd *c)
{
	if (s->state != S_MAIL && s->state != S_RCPT) {
		session_error(s, 503, "5.5.1", "Error: need MAIL command");
		return false;
	}
	return true;
}

static bool
check_data(struct session *s, const struct smtp_cmd *c)
{
	if (s->state == S_MAIL) {
		session_error(s, 503, "5.5.1", "Error: need RCPT command");
		return false;
	}
	if (s->state != S_RCPT) {
		session_error(s, 503, "5.5.1", "Error: need MAIL command");
		return false;
	}
	if (c->arglen != 0) {
		session_error(s, 501, "5.5.4", "Syntax: DATA");
		return false;
	}
	return true;
}

static bool
check_starttls(struct session *s, const struct smtp_cmd *c)
{
	if (netio_is_tls(s->io)) {
		session_error(s, 503, "5.5.1", "Error: TLS already active");
		return false;
	}
	if (c->arglen != 0) {
		session_error(s, 501, "5.5.4", "Syntax: STARTTLS");
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
		session_error(s, 538, "5.7.11", "Encryption required for requested authentication mechanism");
		return false;
	}
	if (s->sasl_method != NULL) {
		session_error(s, 503, "5.5.1", "Error: already authenticated");
		return false;
	}
	if (s->state == S_MAIL || s->state == S_RCPT) {
		session_error(s, 503, "5.5.1", "Error: MAIL transaction in progress");
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
		session_error(s, 501, "5.5.4", "Syntax: HELO hostname");
		return;
	}
	memcpy(s->helo, c->arg, c->arglen);
	s->helo[c->arglen] = '\0';
	session_transaction_reset(s);
	s->esmtp = c->verb == SMTP_VERB_EHLO;
	session_enter_state(s, S_READY);
	if (!s->esmtp) {
		netio_printf(s->io, "250 %s\r\n", s->cfg->hostname);
		return;
	}
	netio_printf(s->io, "250-%s\r\n250-PIPELINING\r\n250-SIZE %llu\r\n"
	    "250-8BITMIME\r\n250-SMTPUTF8\r\n250-ENHANCEDSTATUSCODES\r\n%s",
	    s->cfg->hostname, (unsigned long long)s->cfg->max_message_size,
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

	if (statvfs(s->cfg->spool, &sv) == -1)
		return false;
	avail = (unsigned long long)sv.f_bavail * sv.f_frsize;
	return avail >= s->cfg->min_free_space + s->mail.size;
}

static void
do_mail(struct session *s, const struct smtp_cmd *c)
{
	struct reply err;

	if (smtp_cmd_parse_mail(c->arg, c->arglen, &s->mail, &err) == -1) {
		session_error_r(s, &err);
		return;
	}
	if (s->mail.has_size && s->mail.size > s->cfg->max_message_size) {
		metrics_inc(M_REJECTED_SIZE);
		session_error(s, 552, "5.3.4", "Message size exceeds fixed limit");
		return;
	}
	if (!spool_has_room(s)) {
		log_warn("NOQUEUE: reject: MAIL from %s: 452 4.3.1 spool %s is low on space",
		    s->client, s->cfg->spool);
		metrics_inc(M_REJECTED_STORAGE);
		session_error(s, 452, "4.3.1", "Insufficient system storage");
		return;
	}
	if (s->mail.addr[0] != '\0' &&
	    !policy_grant_covers((const char *const *)s->grants, s->ngrants, s->mail.addr)) {
		char text[400];

		snprintf(text, sizeof(text), "Sender rejected: <%s> is not granted to account %s",
		    s->mail.addr, s->account);
		log_info("NOQUEUE: reject: MAIL from %s: 550 5.7.1 %s; sasl_username=%s",
		    s->client, text, s->account);
		metrics_inc(M_REJECTED_GRANT);
		session_error(s, 550, "5.7.1", text);
		return;
	}
	if (!quota_reserve(s->srv->quota, s->account, util_now(), &s->hold, &err)) {
		log_info("NOQUEUE: reject: MAIL from %s: %d %s %s; sasl_username=%s", s->client,
		    err.code, err.status, err.text, s->account);
		metrics_inc(M_REJECTED_LIMIT);
		session_error_r(s, &err);
		return;
	}
	util_queue_id(s->qid);
	log_info("%s: client=%s, %s%s%s%s", s->qid, s->client,
	    s->sasl_method ? "sasl_method=" : "trusted_account=",
	    s->sasl_method ? s->sasl_method : s->account,
	    s->sasl_method ? ", sasl_username=" : "", s->sasl_method ? s->account : "");
	session_enter_state(s, S_MAIL);
	session_reply(s, 250, "2.1.0", "Ok");
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
		session_error_r(s, &err);
		return;
	}
	if (s->nrcpts >= s->cfg->max_recipients) {
		metrics_inc(M_REJECTED_LIMIT);
		session_error(s, 452, "4.5.3", "Too many recipients");
		return;
	}
	if (!already_recipient(s, rcpt.addr)) {
		s->rcpts = xrealloc(s->rcpts, (s->nrcpts + 1) * sizeof(char *));
		s->rcpts[s->nrcpts++] = xstrdup(rcpt.addr);
	}
	session_enter_state(s, S_RCPT);
	session_reply(s, 250, "2.1.5", "Ok");
}

static void
do_data(struct session *s, const struct smtp_cmd *c)
{
	dataend_init(&s->de, s->cfg->max_message_size);
	s->msglen = 0;
	session_enter_state(s, S_DATA);
	session_reply(s, 354, NULL, "End data with <CR><LF>.<CR><LF>");
}

static void
do_rset(struct session *s, const struct smtp_cmd *c)
{
	session_transaction_reset(s);
	if (s->state != S_GREETING)
		session_enter_state(s, S_READY);
	session_reply(s, 250, "2.0.0", "Ok");
}

static void
do_noop(struct session *s, const struct smtp_cmd *c)
{
	session_reply(s, 250, "2.0.0", "Ok");
}

static void
do_quit(struct session *s, const struct smtp_cmd *c)
{
	session_reply(s, 221, "2.0.0", "Bye");
	session_enter_state(s, S_CLOSING);
	netio_close_when_flushed(s->io);
}

static void
do_vrfy(struct session *s, const struct smtp_cmd *c)
{
	session_reply(s, 252, "2.0.0", "Cannot VRFY user, but will accept message and attempt delivery");
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
	session_reply(s, 220, "2.0.0", "Ready to start TLS");
	session_transaction_reset(s);
	s->esmtp = false;
	session_enter_state(s, S_GREETING);	/* RFC 3207: forget everything, EHLO again */
	netio_starttls(s->io, s->tls, NULL);
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
	{ SMTP_VERB_AUTH, check_auth, smtp_auth_start },
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
		session_error(s, 501, "5.5.2", "Syntax error: NUL, CR or LF in command");
		return;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (commands[i].verb != c.verb)
			continue;
		if (commands[i].check(s, &c))
			commands[i].proceed(s, &c);
		return;
	}
	session_error(s, 502, "5.5.2", "Error: command not recognized");
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
			session_enter_state(s, S_READY);
		session_error(s, 500, "5.5.2", "Error: line too long");
		return;
	case NETIO_LINE:
		if (in_auth)
			smtp_auth_continue(s, line, len);
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
			if (smtp_data_read(s))
				smtp_data_finished(s);
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
void
session_resume(struct session *s)
{
	session_enter_state(s, S_READY);
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
	s->cfg = config_ref(srv->cfg);
	s->tls = tls_ref(srv->tls);
	s->id = ++srv->nconnections;
	memcpy(&s->ss, sa, salen < sizeof(s->ss) ? salen : sizeof(s->ss));
	describe_peer(s, sa);
	s->implicit_tls = mode == LISTEN_TLS;
	srv->nsessions++;
	metrics_gauge_add(G_SESSIONS, 1);
	metrics_inc(M_CONNECTIONS);
	s->next = srv->sessions;
	if (s->next)
		s->next->prev = s;
	srv->sessions = s;
	s->io = netio_new(srv->base, fd, s->implicit_tls ? s->tls : NULL, &session_cbs, s);
	netio_set_timeout(s->io, (unsigned)s->cfg->smtp_timeout);
	log_info("connect from %s", s->client);
	if (auth_banned(srv->auth, sa)) {
		log_warn("unknown[%s]: refused: too many failed authentications", s->ip);
		metrics_inc(M_REJECTED_AUTH);
		session_close(s, 421, "4.7.0",
		    "Error: too many failed authentications from your address; try again later");
		return;
	}
	if (srv->nsessions > s->cfg->max_sessions) {
		log_warn("%s: refused: %zu sessions, max-sessions is %llu", s->client,
		    srv->nsessions - 1, (unsigned long long)s->cfg->max_sessions);
		metrics_inc(M_REJECTED_LIMIT);
		session_close(s, 421, "4.3.2", "Error: too many connections; try again later");
		return;
	}
	find_trust(s);
	session_enter_state(s, S_GREETING);
	netio_printf(s->io, "220 %s ESMTP hikyaku\r\n", s->cfg->hostname);
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
