/*
 * smtp_auth.c - AUTH PLAIN and LOGIN (RFC 4954, 4616) in the submission
 * session: decode the client's responses, park the session while a worker
 * checks the password (auth.c), then resume it with 235, or 535 after the
 * throttle's delay, or 421 when the address is now banned.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/metrics.h"
#include "base/netio.h"
#include "lib/log.h"
#include "lib/util.h"
#include "submit/auth.h"
#include "submit/session.h"
#include "submit/smtp_server.h"

static void auth_start_check(struct session *s, const char *user, const char *pass);

static void
auth_fail_reply(struct session *s, const char *status, const char *text)
{
	session_enter_state(s, S_READY);
	session_error(s, 535, status, text);
}

/* auth_plain - decode "authzid NUL authcid NUL passwd" and check it. */
static void
auth_plain(struct session *s, const char *b64, size_t len)
{
	char buf[AUTH_LINE_MAX], *user, *pass, *authz;
	int n;

	if (len == 1 && b64[0] == '*') {
		session_enter_state(s, S_READY);
		session_error(s, 501, "5.7.0", "Authentication aborted");
		return;
	}
	if ((n = util_base64_decode(b64, len, buf, sizeof(buf) - 1)) < 0) {
		session_enter_state(s, S_READY);
		session_error(s, 501, "5.5.2", "Cannot decode AUTH response");
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

void
smtp_auth_start(struct session *s, const struct smtp_cmd *c)
{
	const char *sp = memchr(c->arg, ' ', c->arglen);
	size_t mlen = sp ? (size_t)(sp - c->arg) : c->arglen;
	const char *init = sp ? sp + 1 : NULL;
	size_t ilen = sp ? c->arglen - mlen - 1 : 0;

	if (mlen == 5 && strncasecmp(c->arg, "PLAIN", 5) == 0) {
		s->auth_mech = "PLAIN";
		if (init == NULL) {
			session_enter_state(s, S_AUTH_PLAIN);
			session_reply(s, 334, NULL, "");
		} else
			auth_plain(s, init, ilen);
		return;
	}
	if (mlen == 5 && strncasecmp(c->arg, "LOGIN", 5) == 0) {
		s->auth_mech = "LOGIN";
		if (init != NULL) {
			int n = util_base64_decode(init, ilen, s->auth_user, sizeof(s->auth_user) - 1);

			if (n < 0) {
				session_error(s, 501, "5.5.2", "Cannot decode AUTH response");
				return;
			}
			s->auth_user[n] = '\0';
			session_enter_state(s, S_AUTH_PASS);
			session_reply(s, 334, NULL, "UGFzc3dvcmQ6");
			return;
		}
		session_enter_state(s, S_AUTH_USER);
		session_reply(s, 334, NULL, "VXNlcm5hbWU6");
		return;
	}
	session_error(s, 504, "5.5.4", "Unrecognized authentication type");
}

/* smtp_auth_continue - a response line while in an AUTH state. */
void
smtp_auth_continue(struct session *s, const char *line, size_t len)
{
	char pass[AUTH_PASS_MAX + 1];
	int n;

	if (len == 1 && line[0] == '*') {
		session_enter_state(s, S_READY);
		session_error(s, 501, "5.7.0", "Authentication aborted");
		return;
	}
	if (s->state == S_AUTH_PLAIN) {
		auth_plain(s, line, len);
		return;
	}
	if (s->state == S_AUTH_USER) {
		n = util_base64_decode(line, len, s->auth_user, sizeof(s->auth_user) - 1);
		if (n < 0) {
			session_enter_state(s, S_READY);
			session_error(s, 501, "5.5.2", "Cannot decode AUTH response");
			return;
		}
		s->auth_user[n] = '\0';
		session_enter_state(s, S_AUTH_PASS);
		session_reply(s, 334, NULL, "UGFzc3dvcmQ6");
		return;
	}
	n = util_base64_decode(line, len, pass, sizeof(pass) - 1);
	if (n < 0) {
		session_enter_state(s, S_READY);
		session_error(s, 501, "5.5.2", "Cannot decode AUTH response");
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
	session_error(s, 535, "5.7.8", "Authentication credentials invalid");
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
		if (!session_load_grants(s)) {
			s->account[0] = '\0';
			s->sasl_method = NULL;
			session_reply(s, 454, "4.7.0", "Temporary authentication failure");
		} else
			session_reply(s, 235, "2.7.0", "Authentication successful");
		session_resume(s);
		return;
	}
	log_warn("unknown[%s]: SASL %s authentication failed: user=%s", s->ip, method, req->user);
	metrics_inc(M_AUTH_FAILURES);
	free(req);
	delay = auth_failed(s->srv->auth, (struct sockaddr *)&s->ss);
	if (delay < 0) {
		log_warn("%s: too many failed authentications; refusing it for %llu seconds",
		    s->client, (unsigned long long)s->cfg->auth_ban_time);
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
	session_enter_state(s, S_BUSY);
	netio_pause(s->io, true);
	auth_check(s->srv->auth, req);
}
