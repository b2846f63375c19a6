/*
 * smtp_data.c - the end of DATA in the submission session: reject what the
 * data machine flagged (size, bare CR/LF, long lines), check every header
 * From: address against the account's grants and its domain against the
 * readiness gate (require-ready), add our headers
 * (message.c), DKIM-sign on a worker, and commit through the queue writer;
 * "250" only after the commit is durable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/metrics.h"
#include "base/netio.h"
#include "base/worker.h"
#include "dkim/dkim_sign.h"
#include "doctor/gate.h"
#include "lib/addr.h"
#include "lib/hdr_from.h"
#include "lib/log.h"
#include "lib/msghdr.h"
#include "lib/util.h"
#include "queue/queue.h"
#include "submit/message.h"
#include "submit/policy.h"
#include "submit/session.h"
#include "submit/smtp_server.h"

#define DATA_CHUNK (16 * 1024)

static const char *
protocol(struct session *s)
{
	static char buf[16];

	snprintf(buf, sizeof(buf), "%s%s%s%s", s->mail.smtputf8 ? "UTF8SMTP" : "",
	    s->mail.smtputf8 ? "" : s->esmtp ? "ESMTP" : "SMTP",
	    netio_is_tls(s->io) ? "S" : "", s->sasl_method ? "A" : "");
	return buf;
}


/*
 * check_ready - the readiness gate: with require-ready, mail whose From:
 * domain the doctor found not ready is refused (550 5.7.26, or 451 4.7.26
 * while that is unknown); without, the log warns once per message.
 */
static bool
check_ready(struct session *s, const struct hdr_from *hf)
{
	const char *d;
	struct reply r;
	size_t i;

	for (i = 0; s->srv->gate != NULL && i < hf->naddrs; i++) {
		if ((d = addr_domain(hf->addrs[i])) == NULL ||
		    doctor_gate_check(s->srv->gate, d, &r) == REPLY_OK)
			continue;
		if (!s->cfg->require_ready) {
			log_warn("%s: not ready: %d %s %s; relayed anyway (require-ready no)", s->qid,
			    r.code, r.status, r.text);
			return true;
		}
		log_info("%s: reject: header From: <%s> from %s: %d %s %s", s->qid, hf->addrs[i],
		    s->client, r.code, r.status, r.text);
		session_error_r(s, &r);
		return false;
	}
	return true;
}

static bool
check_header_from(struct session *s, size_t hdrend)
{
	struct hdr_from *hf = xcalloc(1, sizeof(*hf));
	char text[400];
	bool ok = false;
	size_t i;

	if (hdr_from_extract(s->msg, hdrend, hf) == -1) {
		metrics_inc(M_REJECTED_FORMAT);
		session_error(s, 550, "5.6.0", "Message header From: cannot be parsed; fix it and resend");
		goto done;
	}
	if (hf->nfields == 0 || hf->naddrs == 0) {
		metrics_inc(M_REJECTED_FORMAT);
		session_error(s, 550, "5.6.0", "Message has no From: header; add one and resend");
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
		metrics_inc(M_REJECTED_GRANT);
		session_error(s, 550, "5.7.1", text);
		goto done;
	}
	ok = check_ready(s, hf);
done:
	free(hf);
	return ok;
}

static bool
check_data_flags(struct session *s)
{
	if (s->de.flags & DATAEND_TOO_BIG) {
		metrics_inc(M_REJECTED_SIZE);
		session_error(s, 552, "5.3.4", "Message size exceeds fixed limit");
		return false;
	}
	if (s->de.flags & DATAEND_BARE_CRLF) {
		log_info("%s: reject: bare <CR> or <LF> in message from %s", s->qid, s->client);
		metrics_inc(M_REJECTED_SMUGGLING);
		session_error(s, 550, "5.5.2", "Bare <CR> or <LF> in message data; use <CR><LF> line endings");
		return false;
	}
	if (s->de.flags & DATAEND_LONG_LINE) {
		metrics_inc(M_REJECTED_FORMAT);
		session_error(s, 550, "5.5.2", "Message has a line longer than 998 characters");
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
		quota_commit(s->srv->quota, &s->hold);
		log_info("%s: from=<%s>, size=%zu, nrcpt=%zu (queue active)", m->id, m->sender,
		    m->len, m->nrcpts);
		metrics_inc(M_ACCEPTED);
		metrics_observe(H_DATA_TO_REPLY, util_now_us() - s->dot_us);
		if (s->srv->queued != NULL)
			s->srv->queued(s->srv->queued_arg, m);
	}
	else {
		log_warn("%s: queue file write error: %s", s->qid, req->errmsg);
		metrics_inc(M_REJECTED_STORAGE);
	}
	if (s->dead) {
		free((void *)m->data);
		free(req);
		session_free(s);
		return;
	}
	if (req->result == STORE_OK) {
		snprintf(text, sizeof(text), "Ok: queued as %s", m->id);
		session_reply(s, 250, "2.0.0", text);
	} else if (req->result == STORE_FULL)
		session_error(s, 452, "4.3.1", "Insufficient system storage");
	else
		session_error(s, 451, "4.3.0", "Error: queue file write error; try again later");
	free((void *)m->data);
	free(req);
	session_transaction_reset(s);
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
	int64_t t0 = util_now_us();

	j->status = dkim_signer_sign(j->signer, j->req->msg.data, j->req->msg.len,
	    j->req->msg.arrival, &j->sigs, &j->siglen, j->note, sizeof(j->note));
	metrics_observe(H_DKIM_SIGN, util_now_us() - t0);
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
	metrics_inc(M_REJECTED_DKIM);
	session_error(s, 451, "4.3.0", "Error: cannot sign the message; try again later");
	session_transaction_reset(s);
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
		session_transaction_reset(s);
		session_enter_state(s, S_READY);
		return;
	}
	env.queue_id = s->qid;
	env.hostname = s->cfg->hostname;
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
	req->msg.quota_window = s->hold.window;
	req->msg.rcpts = (const char *const *)s->rcpts;
	req->msg.nrcpts = s->nrcpts;
	req->done = commit_done;
	req->arg = s;
	s->qreq = req;
	free(s->msg);	/* the prepared copy is what we queue */
	s->msg = NULL;
	session_enter_state(s, S_BUSY);
	netio_pause(s->io, true);
	sign_then_commit(s, req);
}

void
smtp_data_finished(struct session *s)
{
	s->dot_us = util_now_us();
	if (!check_data_flags(s)) {
		session_transaction_reset(s);
		session_enter_state(s, S_READY);
		return;
	}
	queue_message(s);
}

static void
grow_message(struct session *s, size_t need)
{
	size_t cap = s->msgcap ? s->msgcap : DATA_CHUNK * 4;
	size_t limit = s->cfg->max_message_size + DATA_CHUNK;

	if (need <= s->msgcap)
		return;
	while (cap < need)
		cap *= 2;
	if (cap > limit)
		cap = limit > need ? limit : need;
	s->msg = xrealloc(s->msg, cap);
	s->msgcap = cap;
}

/* smtp_data_read - feed input to the end-of-data machine; true when it ended. */
bool
smtp_data_read(struct session *s)
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
