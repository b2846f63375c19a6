/*
 * smtp_client.c - the outbound session state machine.
 *
 * Every reply is matched against the step that expects it; a table maps
 * each step to its handler. Commands of a transaction are written at once
 * when the server offers PIPELINING, one at a time otherwise; replies are
 * always consumed in order. Callbacks may free the client; a depth counter
 * defers the real free until the handler that called out has unwound.
 */
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/config.h"
#include "lib/dataend.h"
#include "lib/log.h"
#include "base/netio.h"
#include "deliver/smtp_client.h"
#include "lib/smtp_reply.h"
#include "lib/util.h"

#define REPLY_LINE_MAX 2048

enum step {
	C_CONNECT, C_BANNER, C_EHLO, C_HELO, C_STARTTLS, C_HANDSHAKE, C_READY,
	C_REUSE, C_MAIL, C_RCPT, C_DATA, C_DOT, C_RSET, C_QUIT,
};

/* RFC 5321 section 4.5.3.2 timeouts, in seconds, capped by smtp-reply-timeout. */
static const unsigned step_timeout[] = {
	[C_CONNECT] = 30, [C_BANNER] = 300, [C_EHLO] = 300, [C_HELO] = 300,
	[C_STARTTLS] = 300, [C_HANDSHAKE] = 300, [C_READY] = 300, [C_REUSE] = 300, [C_MAIL] = 300,
	[C_RCPT] = 300, [C_DATA] = 120, [C_DOT] = 600, [C_RSET] = 300, [C_QUIT] = 300,
};

struct smtp_client {
	struct netio *io;
	const struct config *cfg;
	struct tls_ctx *tls;
	struct smtp_client_cbs cbs;
	void *arg;
	enum step step;
	struct smtp_tls_req req;	/* its TLSA records point into tlsa_data */
	struct tls_tlsa *tlsa;
	uint8_t *tlsa_data;
	struct tls_expect expect;
	struct smtp_tls_outcome tlsout;
	bool quitting;
	int depth;		/* callbacks in progress */
	bool zombie;		/* freed while depth > 0 */
	char host[256];
	char relay[320];
	char tlsdesc[64];
	struct smtp_reply reply;
	struct smtp_caps caps;

	/* the transaction */
	struct smtp_client_msg *m;
	size_t next_rcpt;	/* RCPT replies consumed */
	size_t accepted;
	bool *ok;		/* per recipient: RCPT accepted */
	bool mail_failed;
	unsigned transactions;	/* finished on this connection */
};

static void really_free(struct smtp_client *c);

static unsigned
timeout_for(struct smtp_client *c, enum step s)
{
	unsigned t = step_timeout[s];

	return t < c->cfg->smtp_reply_timeout ? t : (unsigned)c->cfg->smtp_reply_timeout;
}

static void
enter_step(struct smtp_client *c, enum step s)
{
	c->step = s;
	if (c->io != NULL && s != C_CONNECT)
		netio_set_timeout(c->io, timeout_for(c, s));
}

static void
set_reply(struct reply *r, const struct smtp_reply *sr)
{
	char line[sizeof(r->text)];
	const char *dflt = sr->code < 300 ? "2.0.0" : sr->code < 500 ? "4.0.0" : "5.0.0";

	smtp_reply_oneline(sr, line, sizeof(line));
	reply_set(r, sr->code, sr->status[0] ? sr->status : dflt, "%s", line);
}

/* fail - a connection-level failure: report it and stop. */
static void
fail(struct smtp_client *c, int code, const char *status, bool tls_failed, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void
fail(struct smtp_client *c, int code, const char *status, bool tls_failed, const char *fmt, ...)
{
	struct reply why;
	char text[sizeof(why.text)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	reply_set(&why, code, status, "%s", text);
	c->depth++;
	c->cbs.on_fail(c, c->arg, &why, tls_failed);
	c->depth--;
}

static void
fail_reply(struct smtp_client *c, const char *what)
{
	char line[600];

	smtp_reply_oneline(&c->reply, line, sizeof(line));
	fail(c, c->reply.code, c->reply.code >= 500 ? "5.0.0" : "4.0.0", false,
	    "host %s said: %s (in reply to %s)", c->relay, line, what);
}

static void
send_line(struct smtp_client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
send_line(struct smtp_client *c, const char *fmt, ...)
{
	char line[1100];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n + 2 >= sizeof(line))
		panic("smtp_client: command too long");
	memcpy(line + n, "\r\n", 2);
	netio_write(c->io, line, (size_t)n + 2);
}

static void
send_ehlo(struct smtp_client *c, bool helo)
{
	send_line(c, "%s %s", helo ? "HELO" : "EHLO", c->cfg->hostname);
	enter_step(c, helo ? C_HELO : C_EHLO);
}

/* --- transaction --- */

/* decide_all - r for every undecided recipient, or (accepted) for every accepted one. */
static void
decide_all(struct smtp_client *c, const struct reply *r, bool accepted)
{
	for (size_t i = 0; i < c->m->nrcpts; i++)
		if (accepted ? c->ok[i] : c->m->results[i].code == 0)
			c->m->results[i] = *r;
}

static void
transaction_done(struct smtp_client *c)
{
	c->transactions++;
	free(c->ok);
	c->ok = NULL;
	c->m = NULL;
	enter_step(c, C_READY);
	c->depth++;
	c->cbs.on_done(c, c->arg);
	c->depth--;
}

static void
send_rcpt(struct smtp_client *c, size_t i)
{
	send_line(c, "RCPT TO:<%s>", c->m->rcpts[i]);
}

/* refuse_early - checks before MAIL: size and SMTPUTF8 support. */
static bool
refuse_early(struct smtp_client *c)
{
	struct reply r;

	if (c->caps.has_size && c->caps.size > 0 && c->m->len > c->caps.size) {
		reply_set(&r, 552, "5.3.4", "message size %zu exceeds the limit of %s (%llu)",
		    c->m->len, c->relay, c->caps.size);
	} else if (c->m->smtputf8 && !c->caps.smtputf8) {
		reply_set(&r, 553, "5.6.7", "%s does not support SMTPUTF8, which this message needs",
		    c->relay);
	} else
		return false;
	decide_all(c, &r, false);
	transaction_done(c);
	return true;
}

/* send_mail - MAIL, and with PIPELINING every RCPT and DATA too. */
static void
send_mail(struct smtp_client *c)
{
	struct smtp_client_msg *m = c->m;
	char params[64] = "";
	size_t i;

	if (c->caps.has_size)
		snprintf(params, sizeof(params), " SIZE=%zu", m->len);
	if (m->body_8bit && c->caps.eightbitmime)
		strcat(params, " BODY=8BITMIME");
	if (m->smtputf8)
		strcat(params, " SMTPUTF8");
	send_line(c, "MAIL FROM:<%s>%s", m->sender, params);
	enter_step(c, C_MAIL);
	if (!c->caps.pipelining)
		return;
	for (i = 0; i < m->nrcpts; i++)
		send_rcpt(c, i);
	send_line(c, "DATA");
}

/*
 * smtp_client_send - a transaction. On a connection that has carried one
 * before, RSET first: it proves the connection still works before the
 * next message is committed to it.
 */
void
smtp_client_send(struct smtp_client *c, struct smtp_client_msg *m)
{
	c->m = m;
	c->next_rcpt = 0;
	c->accepted = 0;
	c->mail_failed = false;
	c->ok = xcalloc(m->nrcpts, sizeof(bool));
	for (size_t i = 0; i < m->nrcpts; i++)
		m->results[i].code = 0;
	if (refuse_early(c))
		return;
	if (c->transactions > 0) {
		send_line(c, "RSET");
		enter_step(c, C_REUSE);
		return;
	}
	send_mail(c);
}

static void
on_reuse(struct smtp_client *c)
{
	if (c->reply.code / 100 != 2) {
		fail_reply(c, "RSET");
		return;
	}
	send_mail(c);
}

static void
on_mail(struct smtp_client *c)
{
	struct reply r;

	if (c->reply.code / 100 != 2) {
		c->mail_failed = true;
		set_reply(&r, &c->reply);
		decide_all(c, &r, false);
	}
	enter_step(c, C_RCPT);
	if (!c->caps.pipelining) {
		if (c->mail_failed) {
			send_line(c, "RSET");
			enter_step(c, C_RSET);
		} else
			send_rcpt(c, 0);
	}
}

static void
on_rcpt(struct smtp_client *c)
{
	size_t i = c->next_rcpt++;

	if (!c->mail_failed) {
		if (c->reply.code / 100 == 2) {
			c->ok[i] = true;
			c->accepted++;
		} else
			set_reply(&c->m->results[i], &c->reply);
	}
	if (c->next_rcpt < c->m->nrcpts) {
		if (!c->caps.pipelining)
			send_rcpt(c, c->next_rcpt);
		return;
	}
	enter_step(c, C_DATA);
	if (c->caps.pipelining)
		return;
	if (c->accepted == 0) {
		send_line(c, "RSET");
		enter_step(c, C_RSET);
	} else
		send_line(c, "DATA");
}

static void
send_body(struct smtp_client *c)
{
	size_t need = dataend_stuffed_size(c->m->data, c->m->len);
	char *buf = xmalloc(need);

	dataend_stuff(c->m->data, c->m->len, buf, need);
	netio_write(c->io, buf, need);
	free(buf);
	enter_step(c, C_DOT);
}

static void
on_data(struct smtp_client *c)
{
	struct reply r;

	if (c->reply.code == 354 && c->accepted > 0 && !c->mail_failed) {
		send_body(c);
		return;
	}
	if (c->reply.code == 354) {	/* pipelined DATA with nobody to send to */
		send_line(c, ".");
		enter_step(c, C_DOT);
		c->mail_failed = true;
		return;
	}
	if (!c->mail_failed) {
		set_reply(&r, &c->reply);
		decide_all(c, &r, true);
	}
	send_line(c, "RSET");
	enter_step(c, C_RSET);
}

static void
on_dot(struct smtp_client *c)
{
	struct reply r;

	if (c->mail_failed) {	/* the empty message sent to end a useless DATA */
		send_line(c, "RSET");
		enter_step(c, C_RSET);
		return;
	}
	set_reply(&r, &c->reply);
	decide_all(c, &r, true);
	transaction_done(c);
}

/* --- session set-up --- */

static void
on_banner(struct smtp_client *c)
{
	if (c->reply.code != 220) {
		fail_reply(c, "the initial greeting");
		return;
	}
	send_ehlo(c, false);
}

static void
ready(struct smtp_client *c)
{
	enter_step(c, C_READY);
	c->depth++;
	c->cbs.on_ready(c, c->arg);
	c->depth--;
}

static void
on_ehlo(struct smtp_client *c)
{
	if (c->reply.code / 100 != 2) {
		if (c->step == C_EHLO && c->reply.code / 100 == 5) {
			send_ehlo(c, true);	/* an old server: HELO, no extensions */
			return;
		}
		fail_reply(c, c->step == C_HELO ? "HELO" : "EHLO");
		return;
	}
	if (c->step == C_EHLO)
		smtp_reply_caps(&c->reply, &c->caps);
	else
		memset(&c->caps, 0, sizeof(c->caps));
	if (!netio_is_tls(c->io)) {
		c->tlsout.offered = c->caps.starttls;
		if (c->caps.starttls && c->req.level >= TLS_LEVEL_MAY) {
			c->tlsout.attempted = true;
			send_line(c, "STARTTLS");
			enter_step(c, C_STARTTLS);
			return;
		}
		if (c->req.level >= TLS_LEVEL_ENCRYPT) {
			util_strlcpy(c->tlsout.why, "STARTTLS not offered", sizeof(c->tlsout.why));
			fail(c, 451, "4.7.4", true, "TLS is required, but host %s did not offer"
			    " STARTTLS", c->relay);
			return;
		}
	}
	ready(c);
}

static void
on_starttls(struct smtp_client *c)
{
	if (c->reply.code != 220) {
		fail(c, 451, "4.7.5", true, "host %s refused STARTTLS: %d", c->relay, c->reply.code);
		return;
	}
	enter_step(c, C_HANDSHAKE);
	c->expect.host = c->host;
	c->expect.tlsa = c->req.level == TLS_LEVEL_DANE ? c->req.tlsa : NULL;
	c->expect.ntlsa = c->req.level == TLS_LEVEL_DANE ? c->req.ntlsa : 0;
	netio_starttls_expect(c->io, c->tls, &c->expect);	/* drops what the server sent after 220 */
}

static void
on_rset(struct smtp_client *c)
{
	transaction_done(c);	/* whatever RSET said, the transaction is over */
}

static void
dispatch(struct smtp_client *c)
{
	switch (c->step) {
	case C_BANNER: on_banner(c); break;
	case C_EHLO:
	case C_HELO: on_ehlo(c); break;
	case C_STARTTLS: on_starttls(c); break;
	case C_REUSE: on_reuse(c); break;
	case C_MAIL: on_mail(c); break;
	case C_RCPT: on_rcpt(c); break;
	case C_DATA: on_data(c); break;
	case C_DOT: on_dot(c); break;
	case C_RSET: on_rset(c); break;
	case C_QUIT: break;
	default:
		fail(c, 451, "4.5.0", false, "host %s sent a reply when none was expected", c->relay);
	}
}

static void
on_input(struct netio *io, void *arg)
{
	struct smtp_client *c = arg;
	char line[REPLY_LINE_MAX + 1];
	size_t len;
	int rc;

	c->depth++;
	while (!c->zombie && c->io != NULL) {
		enum netio_line got = netio_read_line(io, line, sizeof(line), REPLY_LINE_MAX, &len);

		if (got == NETIO_NEED_MORE)
			break;
		if (got == NETIO_TOO_LONG ||
		    (rc = smtp_reply_feed(&c->reply, line, len)) == -1) {
			fail(c, 451, "4.5.0", false, "host %s sent a malformed reply", c->relay);
			break;
		}
		if (rc == 0)
			continue;
		dispatch(c);
		smtp_reply_init(&c->reply);
	}
	c->depth--;
	if (c->zombie && c->depth == 0)
		really_free(c);
}

static void
on_close(struct netio *io, void *arg, const char *why)
{
	struct smtp_client *c = arg;

	c->depth++;
	if (c->quitting)
		c->zombie = true;
	else if (c->step == C_HANDSHAKE) {
		util_strlcpy(c->tlsout.why, why, sizeof(c->tlsout.why));
		fail(c, 451, "4.7.5", true, "TLS handshake with %s failed: %s", c->relay, why);
	}
	else if (c->step == C_CONNECT)
		fail(c, 451, "4.4.1", false, "connect to %s: %s", c->relay, why);
	else
		fail(c, 451, "4.4.2", false, "%s with %s while waiting for the reply to step %d",
		    strcmp(why, "timeout") == 0 ? "conversation timed out" : why, c->relay, c->step);
	c->depth--;
	if (c->zombie && c->depth == 0)
		really_free(c);
}

static void
on_connected(struct netio *io, void *arg)
{
	struct smtp_client *c = arg;

	netio_local_ip(io, c->tlsout.local_ip, sizeof(c->tlsout.local_ip));
	enter_step(c, C_BANNER);
}

/* auth_word - how the certificate verified, for "tls=TLSv1.3/WORD". */
static const char *
auth_word(const struct smtp_client *c)
{
	switch (c->tlsout.check) {
	case TLS_CHECK_DANE: return "dane";
	case TLS_CHECK_PKIX: return c->req.sts ? "sts" : "verified";
	default: return "unverified";
	}
}

/* tls_insufficient - the verdict falls short of the required level. */
static bool
tls_insufficient(const struct smtp_client *c)
{
	enum tls_check v = c->tlsout.check;

	if (c->req.level == TLS_LEVEL_DANE)
		return v != TLS_CHECK_DANE;
	if (c->req.level == TLS_LEVEL_VERIFY)
		return v != TLS_CHECK_DANE && v != TLS_CHECK_PKIX;
	return false;
}

static void
on_tls(struct netio *io, void *arg)
{
	struct smtp_client *c = arg;
	char version[32], cipher[96];
	bool ok;

	c->tlsout.established = true;
	c->tlsout.check = netio_tls_check(io, c->tlsout.why, sizeof(c->tlsout.why));
	ok = c->tlsout.check == TLS_CHECK_DANE || c->tlsout.check == TLS_CHECK_PKIX;
	netio_tls_describe(io, version, sizeof(version), cipher, sizeof(cipher));
	snprintf(c->tlsdesc, sizeof(c->tlsdesc), "%s/%s", version, auth_word(c));
	log_info("TLS connection established to %s: %s with cipher %s, certificate %s%s%s%s",
	    c->relay, version, cipher, c->tlsout.check == TLS_CHECK_DANE ?
	    "authenticated by DANE" : ok ? "verified" : "not verified",
	    ok ? "" : " (", ok ? "" : c->tlsout.why, ok ? "" : ")");
	if (tls_insufficient(c)) {
		c->depth++;
		fail(c, 451, "4.7.5", true, "%s certificate of %s: %s; the message was not sent",
		    c->req.level == TLS_LEVEL_DANE ? "DANE: no TLSA record matches the" :
		    c->req.sts ? "MTA-STS: cannot verify the" : "TLS policy: cannot verify the",
		    c->relay, c->tlsout.why);
		if (--c->depth == 0 && c->zombie)
			really_free(c);	/* the owner freed it in on_fail */
		return;
	}
	smtp_reply_init(&c->reply);
	send_ehlo(c, false);
}

static const struct netio_cbs client_cbs = { on_input, on_close, on_tls, on_connected };

static void
describe(struct smtp_client *c, const struct sockaddr *sa)
{
	char ip[INET6_ADDRSTRLEN];
	unsigned port = util_sockaddr_ip(sa, ip, sizeof(ip));

	snprintf(c->relay, sizeof(c->relay), "%s[%s]:%u", c->host, ip, port);
	util_strlcpy(c->tlsout.ip, ip, sizeof(c->tlsout.ip));
}

struct smtp_client *
smtp_client_new(struct event_base *base, const struct config *cfg, struct tls_ctx *tls,
    const struct sockaddr *sa, socklen_t salen, const char *host, bool use_tls,
    const struct smtp_client_cbs *cbs, void *arg)
{
	struct smtp_client *c = xcalloc(1, sizeof(*c));

	c->cfg = config_ref(cfg);	/* an idle connection outlives its job */
	c->tls = tls;
	c->cbs = *cbs;
	c->arg = arg;
	c->req.level = use_tls ? TLS_LEVEL_MAY : TLS_LEVEL_NONE;
	util_strlcpy(c->host, host, sizeof(c->host));
	util_strlcpy(c->tlsdesc, "none", sizeof(c->tlsdesc));
	describe(c, sa);
	smtp_reply_init(&c->reply);
	c->step = C_CONNECT;
	c->io = netio_connect(base, sa, salen, (unsigned)cfg->smtp_connect_timeout, &client_cbs, c);
	if (c->io == NULL) {
		config_free(c->cfg);
		free(c);
		return NULL;
	}
	return c;
}

void
smtp_client_require(struct smtp_client *c, const struct smtp_tls_req *req)
{
	size_t i, total = 0, off = 0;

	free(c->tlsa);
	free(c->tlsa_data);
	c->tlsa = NULL;
	c->tlsa_data = NULL;
	c->req = *req;
	c->req.tlsa = NULL;
	c->req.ntlsa = 0;
	if (req->ntlsa == 0)
		return;
	for (i = 0; i < req->ntlsa; i++)
		total += req->tlsa[i].len;
	c->tlsa = xcalloc(req->ntlsa, sizeof(*c->tlsa));
	c->tlsa_data = xmalloc(total + 1);
	for (i = 0; i < req->ntlsa; i++) {
		c->tlsa[i] = req->tlsa[i];
		memcpy(c->tlsa_data + off, req->tlsa[i].data, req->tlsa[i].len);
		c->tlsa[i].data = c->tlsa_data + off;
		off += req->tlsa[i].len;
	}
	c->req.tlsa = c->tlsa;
	c->req.ntlsa = req->ntlsa;
}

bool
smtp_client_meets(const struct smtp_client *c, enum tls_level level)
{
	enum tls_check v = c->tlsout.check;

	switch (level) {
	case TLS_LEVEL_NONE:
	case TLS_LEVEL_MAY: return true;
	case TLS_LEVEL_ENCRYPT: return c->tlsout.established;
	case TLS_LEVEL_VERIFY:
		return c->tlsout.established && (v == TLS_CHECK_PKIX || v == TLS_CHECK_DANE);
	default: return c->tlsout.established && v == TLS_CHECK_DANE;
	}
}

const struct smtp_tls_outcome *
smtp_client_tls_outcome(const struct smtp_client *c)
{
	return &c->tlsout;
}

static void
really_free(struct smtp_client *c)
{
	netio_free(c->io);
	config_free(c->cfg);
	free(c->ok);
	free(c->tlsa);
	free(c->tlsa_data);
	free(c);
}

void
smtp_client_free(struct smtp_client *c)
{
	if (c == NULL)
		return;
	if (c->depth > 0) {
		c->zombie = true;
		return;
	}
	really_free(c);
}

const struct config *
smtp_client_config(const struct smtp_client *c)
{
	return c->cfg;
}

void
smtp_client_quit(struct smtp_client *c)
{
	c->quitting = true;
	send_line(c, "QUIT");
	enter_step(c, C_QUIT);
	netio_close_when_flushed(c->io);
}

const char *
smtp_client_relay(const struct smtp_client *c)
{
	return c->relay;
}

const char *
smtp_client_tls(const struct smtp_client *c)
{
	return c->tlsdesc;
}

const char *
smtp_client_host(const struct smtp_client *c)
{
	return c->host;
}

void
smtp_client_rebind(struct smtp_client *c, const struct smtp_client_cbs *cbs, void *arg)
{
	c->cbs = *cbs;
	c->arg = arg;
}
