/*
 * probe.c - the checks of "hikyaku probe": outbound port 25, the relay
 * (connection, TLS, certificate, AUTH offered), the account (login, sender
 * and recipient accepted, then RSET: nothing is sent), and the ISP's relay
 * (does it still accept this sender?). Each finding goes into a report
 * with what to do about it, in the user's language.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "home/bsmtp.h"
#include "home/probe.h"
#include "lib/i18n.h"
#include "lib/util.h"

#define CERT_WARN_DAYS 14

const char *const probe_default_mx[] = {
	"gmail-smtp-in.l.google.com",
	"mta5.am0.yahoodns.net",
	"hotmail-com.olc.protection.outlook.com",
	NULL
};

enum port25 { PORT25_UNKNOWN, PORT25_OPEN, PORT25_BLOCKED };

/* One SMTP dialogue with the relay or the ISP's relay. */
struct session {
	struct bsmtp *c;
	const struct diagnose_target *t;
	char name[300];			/* "relay.example.net:587" */
	struct smtp_caps caps;		/* from the last EHLO */
	bool isp;			/* the ISP's relay: problems are warnings */
	bool verified;			/* TLS with a verified certificate for the name */
	bool auth_before_tls;
	bool ok;			/* the dialogue is still usable */
};

/* ---- outbound port 25 ---------------------------------------------------- */

enum mx_state { MX_PENDING, MX_OPEN, MX_REFUSED, MX_TIMEOUT, MX_ERROR };

struct mx_try {
	int fd;
	enum mx_state state;
	char why[128];
};

static void
mx_start(const struct diagnose_target *t, struct mx_try *m)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	char port[8];
	int g;

	m->fd = -1;
	m->state = MX_ERROR;
	hints.ai_family = t->ipv6 ? AF_INET6 : AF_INET;	/* OP25B is an IPv4 block */
	snprintf(port, sizeof(port), "%u", t->port);
	if ((g = getaddrinfo(t->host, port, &hints, &res)) != 0) {
		snprintf(m->why, sizeof(m->why), "%s", gai_strerror(g));
		return;
	}
	m->fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (m->fd == -1 || (connect(m->fd, res->ai_addr, res->ai_addrlen) == -1 &&
	    errno != EINPROGRESS))
		snprintf(m->why, sizeof(m->why), "%s", strerror(errno));
	else
		m->state = MX_PENDING;
	freeaddrinfo(res);
}

static void
mx_finish(struct mx_try *m)
{
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	if (getsockopt(m->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
		soerr = errno;
	if (soerr == 0)
		m->state = MX_OPEN;
	else if (soerr == ECONNREFUSED)
		m->state = MX_REFUSED;
	else {
		m->state = MX_ERROR;
		snprintf(m->why, sizeof(m->why), "%s", strerror(soerr));
	}
}

/* mx_wait - poll every pending connect until all are decided or the deadline. */
static void
mx_wait(struct mx_try *m, int n, int timeout_ms)
{
	int64_t deadline = util_now_us() + (int64_t)timeout_ms * 1000, left;
	struct pollfd p[PROBE_MX_MAX];
	int i, np, idx[PROBE_MX_MAX];

	for (;;) {
		for (i = 0, np = 0; i < n; i++)
			if (m[i].state == MX_PENDING) {
				p[np] = (struct pollfd){ .fd = m[i].fd, .events = POLLOUT };
				idx[np++] = i;
			}
		left = (deadline - util_now_us()) / 1000;
		if (np == 0 || left <= 0)
			break;
		if (poll(p, (nfds_t)np, (int)left) == -1 && errno != EINTR)
			break;
		for (i = 0; i < np; i++)
			if (p[i].revents != 0)
				mx_finish(&m[idx[i]]);
	}
	for (i = 0; i < n; i++) {
		if (m[i].state == MX_PENDING)
			m[i].state = MX_TIMEOUT;
		if (m[i].fd != -1)
			close(m[i].fd);
	}
}

static void
mx_item(struct report *rep, const struct diagnose_target *t, const struct mx_try *m, int secs)
{
	char name[300];

	diagnose_target_format(t, name, sizeof(name));
	switch (m->state) {
	case MX_OPEN:
		report_add(rep, "mx", REPORT_PASS, _("%s: answered"), name);
		break;
	case MX_REFUSED:
		report_add(rep, "mx", REPORT_PASS,
		    _("%s: refused the connection (so nothing dropped it on the way)"), name);
		break;
	case MX_TIMEOUT:
		report_add(rep, "mx", REPORT_FAIL, _("%s: no answer within %d s"), name, secs);
		break;
	default:
		report_add(rep, "mx", REPORT_WARN, _("%s: could not be tried: %s"), name, m->why);
		break;
	}
}

static enum port25
check_port25(const struct probe_opts *o, struct report *rep)
{
	struct mx_try m[PROBE_MX_MAX];
	int i, open = 0, timeouts = 0, secs = (o->timeout_ms + 999) / 1000;
	struct report_item *it;

	report_section(rep, "port25", "%s", _("Outbound port 25"));
	for (i = 0; i < o->nmx; i++)
		mx_start(&o->mx[i], &m[i]);
	mx_wait(m, o->nmx, o->timeout_ms);
	for (i = 0; i < o->nmx; i++) {
		mx_item(rep, &o->mx[i], &m[i], secs);
		open += m[i].state == MX_OPEN || m[i].state == MX_REFUSED;
		timeouts += m[i].state == MX_TIMEOUT;
	}
	if (open > 0) {
		report_add(rep, "port25", REPORT_PASS,
		    _("Outbound port 25 is not blocked: this server can reach other mail servers."));
		return PORT25_OPEN;
	}
	if (timeouts > 0) {
		it = report_add(rep, "port25", REPORT_FAIL,
		    _("Outbound port 25 is blocked (OP25B): no mail server answered within %d s."),
		    secs);
		report_advice(it, "%s", _("This server cannot deliver mail by itself: you need a "
		    "relay outside the block, such as hikyaku on a small VPS (port 587 or 465)."));
		return PORT25_BLOCKED;
	}
	it = report_add(rep, "port25", REPORT_WARN,
	    _("Could not tell whether outbound port 25 is blocked: no mail server could be tried."));
	report_advice(it, "%s", _("Check this server's network and DNS, or name servers with --mx."));
	return PORT25_UNKNOWN;
}

/* ---- one SMTP dialogue ----------------------------------------------------- */

/* bad - how a problem counts: a failure at the relay, a warning at the ISP's. */
static enum report_status
bad(const struct session *s)
{
	return s->isp ? REPORT_WARN : REPORT_FAIL;
}

static void
add_reply(struct report_item *it, const struct smtp_reply *r)
{
	char one[SMTP_REPLY_TEXT_MAX + 64];

	smtp_reply_oneline(r, one, sizeof(one));
	report_reply(it, one);
}

/* command - send line (what names it in errors) and read the reply; -1 ends the dialogue. */
static int
command(struct report *rep, struct session *s, const char *check, const char *what,
    const char *line, struct smtp_reply *r)
{
	char err[256];

	if (bsmtp_cmd(s->c, line, r, err, sizeof(err)) == 0)
		return 0;
	report_add(rep, check, bad(s), _("%s: no reply to %s: %s"), s->name, what, err);
	s->ok = false;
	return -1;
}

static void
format_date(long long t, char *out, size_t outsz)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(out, outsz, "%Y-%m-%d", &tm) == 0)
		util_strlcpy(out, "?", outsz);
}

static void
cert_untrusted(struct report *rep, struct session *s, const struct tls_peer *p)
{
	struct report_item *it;

	it = report_add(rep, "certificate", bad(s), _("The certificate of %s is not trusted: %s"),
	    s->name, p->verify_error);
	if (!s->isp)
		report_advice(it, "%s", _("A self-signed certificate (hikyaku makes one on first "
		    "start, SPOOL/tls/cert.pem on the relay): copy it here and pass --ca-file FILE. "
		    "Better: a certificate from a public CA such as Let's Encrypt (tls-cert, tls-key)."));
}

static void
check_certificate(struct report *rep, struct session *s, const struct tls_peer *p)
{
	long long days = (p->not_after - (long long)util_now()) / 86400;
	struct report_item *it;
	char date[32];

	format_date(p->not_after, date, sizeof(date));
	if (!p->has_cert) {
		report_add(rep, "certificate", bad(s), _("%s sent no certificate"), s->name);
		return;
	}
	if (p->expired) {
		it = report_add(rep, "certificate", bad(s), _("The certificate of %s expired on %s"),
		    s->name, date);
		if (!s->isp)
			report_advice(it, "%s", _("Renew it on the relay (for example certbot renew) "
			    "and restart hikyaku."));
	} else if (!p->chain_ok)
		cert_untrusted(rep, s, p);
	else if (!p->name_ok) {
		it = report_add(rep, "certificate", bad(s),
		    _("The certificate of %s is for %s, not for %s"), s->name,
		    p->names[0] ? p->names : p->subject, s->t->host);
		report_advice(it, "%s", _("Use the host name the certificate is for, or get a "
		    "certificate that names this host."));
	} else if (days < CERT_WARN_DAYS) {
		it = report_add(rep, "certificate", REPORT_WARN,
		    _("Certificate verified for %s, but it expires on %s (in %lld days)"),
		    s->t->host, date, days);
		report_advice(it, "%s", _("Renew it soon."));
	} else
		report_add(rep, "certificate", REPORT_PASS,
		    _("Certificate verified for %s, valid until %s (%lld days)"), s->t->host, date,
		    days);
	s->verified = p->has_cert && p->chain_ok && p->name_ok && !p->expired;
}

static bool
session_connect(struct report *rep, struct session *s, int timeout_ms)
{
	char peer[80], err[256];
	struct report_item *it;

	s->c = bsmtp_connect(s->t->host, s->t->port, timeout_ms, peer, sizeof(peer), err,
	    sizeof(err));
	if (s->c == NULL) {
		it = report_add(rep, "connect", bad(s), _("Cannot connect to %s: %s"), s->name, err);
		if (!s->isp)
			report_advice(it, "%s", _("Check the host name and the port, that hikyaku "
			    "listens there (its listen lines) and that the VPS firewall lets the port in."));
		return false;
	}
	report_add(rep, "connect", REPORT_PASS, _("Connected to %s (%s)"), s->name, peer);
	s->ok = true;
	return true;
}

static bool
session_tls(struct report *rep, struct session *s, const struct probe_opts *o, bool implicit)
{
	struct report_item *it;
	struct tls_peer p;
	char err[256];

	if (bsmtp_tls(s->c, s->t->host, o->cafile, err, sizeof(err)) == -1) {
		it = report_add(rep, "tls", bad(s), _("TLS handshake with %s failed: %s"), s->name,
		    err);
		if (implicit)
			report_advice(it, _("The server does not speak TLS at once on port %u. If it "
			    "expects STARTTLS, use --starttls (or port 587); for hikyaku, implicit TLS "
			    "needs a \"listen ADDR:%u tls\" line."), s->t->port, s->t->port);
		s->ok = false;
		return false;
	}
	bsmtp_peer(s->c, &p);
	report_add(rep, "tls", REPORT_PASS, _("TLS established: %s, %s"), p.version, p.cipher);
	check_certificate(rep, s, &p);
	return true;
}

static bool
session_greeting(struct report *rep, struct session *s, bool implicit)
{
	struct smtp_reply r;
	struct report_item *it;
	char err[256], one[SMTP_REPLY_TEXT_MAX + 64];

	if (bsmtp_reply(s->c, &r, err, sizeof(err)) == -1) {
		it = report_add(rep, "greeting", bad(s), _("No greeting from %s: %s"), s->name, err);
		if (!implicit)
			report_advice(it, "%s", _("If this port expects TLS at once (as 465 does), "
			    "use --tls."));
		s->ok = false;
		return false;
	}
	smtp_reply_oneline(&r, one, sizeof(one));
	if (r.code != 220) {
		it = report_add(rep, "greeting", bad(s), _("%s does not take mail now"), s->name);
		report_reply(it, one);
		return false;
	}
	report_add(rep, "greeting", REPORT_PASS, _("Greeting: %s"), one);
	return true;
}

static bool
session_ehlo(struct report *rep, struct session *s)
{
	struct smtp_reply r;
	struct report_item *it;
	char line[128], lit[80];

	bsmtp_local_literal(s->c, lit, sizeof(lit));
	snprintf(line, sizeof(line), "EHLO %s", lit);
	if (command(rep, s, "ehlo", "EHLO", line, &r) == -1)
		return false;
	if (r.code != 250) {
		it = report_add(rep, "ehlo", bad(s), _("%s refuses EHLO"), s->name);
		add_reply(it, &r);
		return false;
	}
	smtp_reply_caps(&r, &s->caps);
	return true;
}

static bool
session_starttls(struct report *rep, struct session *s, const struct probe_opts *o)
{
	struct smtp_reply r;
	struct report_item *it;

	s->auth_before_tls = s->caps.auth[0] != '\0';
	if (!s->caps.starttls) {
		it = report_add(rep, "starttls", bad(s), _("%s does not offer STARTTLS"), s->name);
		if (!s->isp)
			report_advice(it, "%s", _("hikyaku offers STARTTLS on every \"starttls\" "
			    "listener: check the port. If the port expects TLS at once, use --tls."));
		return false;
	}
	if (command(rep, s, "starttls", "STARTTLS", "STARTTLS", &r) == -1)
		return false;
	if (r.code != 220) {
		it = report_add(rep, "starttls", bad(s), _("%s refuses STARTTLS"), s->name);
		add_reply(it, &r);
		return false;
	}
	return session_tls(rep, s, o, false) && session_ehlo(rep, s);
}

static void
check_auth_offer(struct report *rep, struct session *s)
{
	struct report_item *it;

	if (s->auth_before_tls)
		report_add(rep, "auth-offer", REPORT_WARN, _("%s offers AUTH before TLS: a client "
		    "could send its password in clear text"), s->name);
	if (!bsmtp_is_tls(s->c))
		return;
	if (s->caps.auth[0] == '\0') {
		it = report_add(rep, "auth-offer", bad(s), _("%s offers no AUTH under TLS"), s->name);
		if (!s->isp)
			report_advice(it, "%s", _("hikyaku offers AUTH PLAIN and LOGIN under TLS: "
			    "is this hikyaku?"));
	} else if (!s->auth_before_tls)
		report_add(rep, "auth-offer", REPORT_PASS, _("AUTH offered only under TLS: %s"),
		    s->caps.auth);
}

/* session_open - connect, TLS, greeting, EHLO; false when the dialogue cannot go on. */
static bool
session_open(struct report *rep, struct session *s, const struct probe_opts *o, bool implicit)
{
	if (!session_connect(rep, s, o->timeout_ms))
		return false;
	if (implicit && !session_tls(rep, s, o, true))
		return false;
	if (!session_greeting(rep, s, implicit) || !session_ehlo(rep, s))
		return false;
	if (!implicit && !session_starttls(rep, s, o))
		return s->isp && s->ok;	/* the ISP's relay may be tried in clear text */
	check_auth_offer(rep, s);
	return true;
}

static void
session_close(struct session *s)
{
	struct smtp_reply r;
	char err[256];

	if (s->c != NULL && s->ok)
		(void)bsmtp_cmd(s->c, "QUIT", &r, err, sizeof(err));
	bsmtp_close(s->c);
	s->c = NULL;
}

/* ---- login ----------------------------------------------------------------- */

/* b64_cmd - "PREFIX base64(data)" into line. */
static void
b64_cmd(const char *prefix, const void *data, size_t len, char *line, size_t linesz)
{
	size_t n = strlen(prefix);

	util_strlcpy(line, prefix, linesz);
	if (util_base64_encode(data, len, line + n, linesz - n) == -1)
		panic("probe: AUTH line too long");
}

static int
auth_plain(struct report *rep, struct session *s, const char *user, const char *pass,
    struct smtp_reply *r)
{
	char raw[1024], line[1500];
	size_t ul = strlen(user), pl = strlen(pass);
	int rc;

	if (ul + pl + 2 > sizeof(raw))
		panic("probe: credentials too long");
	raw[0] = '\0';
	memcpy(raw + 1, user, ul);
	raw[ul + 1] = '\0';
	memcpy(raw + ul + 2, pass, pl);
	b64_cmd("AUTH PLAIN ", raw, ul + pl + 2, line, sizeof(line));
	rc = command(rep, s, "auth", "AUTH PLAIN", line, r);
	explicit_bzero(raw, sizeof(raw));
	explicit_bzero(line, sizeof(line));
	return rc;
}

static int
auth_login(struct report *rep, struct session *s, const char *user, const char *pass,
    struct smtp_reply *r)
{
	char line[1500];
	int rc;

	if (command(rep, s, "auth", "AUTH LOGIN", "AUTH LOGIN", r) == -1 || r->code != 334)
		return s->ok ? 0 : -1;
	b64_cmd("", user, strlen(user), line, sizeof(line));
	if (command(rep, s, "auth", "AUTH LOGIN", line, r) == -1 || r->code != 334)
		return s->ok ? 0 : -1;
	b64_cmd("", pass, strlen(pass), line, sizeof(line));
	rc = command(rep, s, "auth", "AUTH LOGIN", line, r);
	explicit_bzero(line, sizeof(line));
	return rc;
}

/* login_may - whether a password may be sent: TLS, a verified certificate, a mechanism. */
static bool
login_may(struct report *rep, struct session *s, const char *user)
{
	struct report_item *it;

	if (!bsmtp_is_tls(s->c)) {
		report_add(rep, "auth", REPORT_SKIP, _("Login as %s not tried: without TLS the "
		    "password would travel in clear text"), user);
		return false;
	}
	if (!s->verified) {
		it = report_add(rep, "auth", REPORT_SKIP, _("Login as %s not tried: a password is "
		    "sent only to a server whose certificate verified"), user);
		report_advice(it, "%s", _("Fix the certificate problem above (for a self-signed "
		    "certificate: --ca-file FILE), then run the probe again."));
		return false;
	}
	if (!s->caps.auth_plain && !s->caps.auth_login) {
		report_add(rep, "auth", bad(s), _("%s offers neither AUTH PLAIN nor AUTH LOGIN"),
		    s->name);
		return false;
	}
	return true;
}

static void
login_refused(struct report *rep, struct session *s, const char *user, const struct smtp_reply *r)
{
	struct report_item *it;

	if (r->code == 535 || strcmp(r->status, "5.7.8") == 0) {
		it = report_add(rep, "auth", bad(s), _("Login as %s refused: wrong account name or "
		    "password"), user);
		if (s->isp)
			report_advice(it, "%s", _("Check the ISP account name and its password "
			    "(HIKYAKU_ISP_PASSWORD)."));
		else
			report_advice(it, _("Check both, or set a new password on the relay: hikyaku "
			    "account passwd %s --generate"), user);
	} else if (r->code >= 400 && r->code < 500) {
		it = report_add(rep, "auth", bad(s), _("Login as %s failed for now"), user);
		if (!s->isp)
			report_advice(it, "%s", _("After too many failed logins hikyaku refuses an "
			    "address for a while (auth-ban-time): wait, then try with the right password."));
	} else
		it = report_add(rep, "auth", bad(s), _("Login as %s refused"), user);
	add_reply(it, r);
}

/* session_login - AUTH PLAIN (or LOGIN) as user; true when logged in. */
static bool
session_login(struct report *rep, struct session *s, const char *user, const char *pass)
{
	struct smtp_reply r;
	int rc;

	if (!login_may(rep, s, user))
		return false;
	rc = s->caps.auth_plain ? auth_plain(rep, s, user, pass, &r)
	    : auth_login(rep, s, user, pass, &r);
	if (rc == -1)
		return false;
	if (r.code == 235) {
		report_add(rep, "auth", REPORT_PASS, _("Logged in as %s"), user);
		return true;
	}
	login_refused(rep, s, user, &r);
	return false;
}

/* ---- sender and recipient ---------------------------------------------------- */

static const char *
domain_of(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at ? at + 1 : addr;
}

static void
grant_advice(struct report *rep, const char *account, const char *from,
    const struct smtp_reply *r)
{
	struct report_item *it;

	it = report_add(rep, "mail-from", REPORT_FAIL,
	    _("The relay does not let account %s send as %s"), account, from);
	add_reply(it, r);
	report_advice(it, _("Grant it on the relay: hikyaku grant add %s %s (or @%s for every "
	    "address of the domain)"), account, from, domain_of(from));
}

static bool
relay_refused_sender(const struct smtp_reply *r)
{
	return diagnose_reply(r) == DIAG_SENDER_REFUSED ||
	    (r->code == 550 && strcmp(r->status, "5.7.1") == 0);
}

/* relay_mail - MAIL FROM; true when accepted. */
static bool
relay_mail(struct report *rep, struct session *s, const struct probe_opts *o)
{
	struct smtp_reply r;
	struct report_item *it;
	char line[600];

	snprintf(line, sizeof(line), "MAIL FROM:<%s>", o->from);
	if (command(rep, s, "mail-from", "MAIL FROM", line, &r) == -1)
		return false;
	if (diagnose_reply(&r) == DIAG_ACCEPTED) {
		report_add(rep, "mail-from", REPORT_PASS, _("The relay accepts MAIL FROM:<%s>"),
		    o->from);
		return true;
	}
	if (relay_refused_sender(&r))
		grant_advice(rep, o->account, o->from, &r);
	else {
		it = report_add(rep, "mail-from", REPORT_FAIL, _("The relay refuses MAIL FROM:<%s>"),
		    o->from);
		add_reply(it, &r);
	}
	return false;
}

static void
relay_sender(struct report *rep, struct session *s, const struct probe_opts *o)
{
	struct smtp_reply r;
	struct report_item *it;
	char line[600];

	if (!relay_mail(rep, s, o))
		return;
	snprintf(line, sizeof(line), "RCPT TO:<postmaster@%s>", domain_of(o->from));
	if (command(rep, s, "rcpt-to", "RCPT TO", line, &r) == -1)
		return;
	if (diagnose_reply(&r) == DIAG_ACCEPTED)
		report_add(rep, "rcpt-to", REPORT_PASS, _("The relay accepts RCPT TO:<postmaster@%s> "
		    "(then RSET: nothing is sent)"), domain_of(o->from));
	else if (relay_refused_sender(&r))
		grant_advice(rep, o->account, o->from, &r);
	else {
		it = report_add(rep, "rcpt-to", REPORT_FAIL,
		    _("The relay refuses RCPT TO:<postmaster@%s>"), domain_of(o->from));
		add_reply(it, &r);
	}
	(void)command(rep, s, "rset", "RSET", "RSET", &r);
}

/* ---- the ISP's relay ----------------------------------------------------------- */

enum isp_verdict { ISP_UNKNOWN, ISP_ACCEPTS, ISP_REFUSES };

/* isp_judge - what reply r (to MAIL or RCPT) says; ISP_UNKNOWN after a warning or to go on. */
static enum isp_verdict
isp_judge(struct report *rep, const struct probe_opts *o, const char *check,
    const struct smtp_reply *r)
{
	enum diagnose_kind k = diagnose_reply(r);
	struct report_item *it;

	if (k == DIAG_ACCEPTED)
		return ISP_ACCEPTS;
	if (k == DIAG_SENDER_REFUSED) {
		it = report_add(rep, check, REPORT_FAIL, _("Your ISP's relay refuses senders outside "
		    "its own domain: it cannot send mail for %s"), domain_of(o->from));
		report_advice(it, "%s", _("Send through hikyaku instead."));
	} else if (k == DIAG_AUTH_REQUIRED || k == DIAG_RELAY_DENIED) {
		it = report_add(rep, check, REPORT_WARN, _("Your ISP's relay wants a login first"));
		report_advice(it, "%s", _("Give --isp-account NAME (the password in "
		    "HIKYAKU_ISP_PASSWORD or on standard input)."));
	} else
		it = report_add(rep, check, REPORT_WARN, _("Your ISP's relay does not accept %s"),
		    o->from);
	add_reply(it, r);
	return k == DIAG_SENDER_REFUSED ? ISP_REFUSES : ISP_UNKNOWN;
}

static enum isp_verdict
isp_sender(struct report *rep, struct session *s, const struct probe_opts *o)
{
	struct smtp_reply r;
	enum isp_verdict v;
	char line[600];

	snprintf(line, sizeof(line), "MAIL FROM:<%s>", o->from);
	if (command(rep, s, "mail-from", "MAIL FROM", line, &r) == -1)
		return ISP_UNKNOWN;
	if ((v = isp_judge(rep, o, "mail-from", &r)) != ISP_ACCEPTS)
		return v;
	snprintf(line, sizeof(line), "RCPT TO:<postmaster@%s>", domain_of(o->from));
	if (command(rep, s, "rcpt-to", "RCPT TO", line, &r) == -1)
		return ISP_UNKNOWN;
	if ((v = isp_judge(rep, o, "rcpt-to", &r)) == ISP_ACCEPTS)
		report_add(rep, "rcpt-to", REPORT_PASS, _("Your ISP's relay still accepts %s as "
		    "the sender"), o->from);
	(void)command(rep, s, "rset", "RSET", "RSET", &r);
	return v;
}

static enum isp_verdict
check_isp(const struct probe_opts *o, struct report *rep)
{
	struct session s = { .t = &o->isp, .isp = true };
	enum isp_verdict v = ISP_UNKNOWN;
	bool implicit = o->isp.port == 465;

	diagnose_target_format(&o->isp, s.name, sizeof(s.name));
	report_section(rep, "isp", _("Your ISP's relay %s"), s.name);
	if (!session_open(rep, &s, o, implicit))
		goto done;
	if (o->isp_account != NULL && !session_login(rep, &s, o->isp_account, o->isp_password))
		goto done;
	if (o->from == NULL)
		report_add(rep, "mail-from", REPORT_SKIP, "%s", _("Give --from ADDR to see whether "
		    "your ISP's relay still accepts your address"));
	else
		v = isp_sender(rep, &s, o);
done:
	session_close(&s);
	return v;
}

/* ---- the relay and the account -------------------------------------------------- */

static bool
implicit_tls(const struct probe_opts *o)
{
	return o->tls == PROBE_TLS_IMPLICIT || (o->tls == PROBE_TLS_AUTO && o->relay.port == 465);
}

static void
check_relay(const struct probe_opts *o, struct report *rep)
{
	struct session s = { .t = &o->relay };
	bool implicit = implicit_tls(o), up;

	diagnose_target_format(&o->relay, s.name, sizeof(s.name));
	report_section(rep, "relay", _("Relay %s (%s)"), s.name,
	    implicit ? _("implicit TLS") : _("STARTTLS"));
	up = session_open(rep, &s, o, implicit);
	if (o->account != NULL) {
		report_section(rep, "account", _("Account %s on the relay"), o->account);
		if (!up)
			report_add(rep, "auth", REPORT_SKIP, "%s",
			    _("Not tried: the relay check above failed"));
		else if (session_login(rep, &s, o->account, o->password)) {
			if (o->from != NULL)
				relay_sender(rep, &s, o);
			else
				report_add(rep, "mail-from", REPORT_SKIP, "%s", _("Give --from ADDR "
				    "to check that the account may send as your address"));
		}
	}
	session_close(&s);
}

/* ---- summary ------------------------------------------------------------------- */

static void
summarize_problems(const struct probe_opts *o, struct report *rep, enum port25 p25,
    enum isp_verdict isp)
{
	if (p25 == PORT25_BLOCKED)
		report_summary(rep, "%s", _("Outbound port 25 is blocked (OP25B): this server cannot "
		    "deliver mail to other domains by itself."));
	else if (p25 == PORT25_OPEN)
		report_summary(rep, "%s", _("Outbound port 25 is not blocked."));
	if (isp == ISP_REFUSES)
		report_summary(rep, _("Your ISP's relay refuses senders outside its own domain: it "
		    "cannot send mail for %s."), domain_of(o->from));
	else if (isp == ISP_ACCEPTS)
		report_summary(rep, _("Your ISP's relay still accepts %s as the sender."), o->from);
}

static void
summarize_relay(const struct probe_opts *o, struct report *rep)
{
	char name[300], next[1024];

	diagnose_target_format(&o->relay, name, sizeof(name));
	if (rep->exit_status != 0) {
		report_summary(rep, _("Sending through hikyaku at %s does not work yet: fix what the "
		    "[FAIL] lines above say, then run the probe again."), name);
		return;
	}
	if (o->account != NULL && o->from != NULL)
		report_summary(rep, _("Sending through hikyaku at %s works: account %s may send as "
		    "%s."), name, o->account, o->from);
	else if (o->account != NULL)
		report_summary(rep, _("hikyaku at %s accepts account %s (add --from ADDR to check a "
		    "sender address)."), name, o->account);
	else
		report_summary(rep, _("hikyaku at %s answers with verified TLS (add --account NAME "
		    "to check your account)."), name);
	if (o->account == NULL)
		return;
	snprintf(next, sizeof(next), "hikyaku home-config --mta %s --relay %s --account %s%s%s",
	    o->mta ? o->mta : "postfix", name, o->account, o->cafile ? " --ca-file " : "",
	    o->cafile ? o->cafile : "");
	rep->next = xstrdup(next);
}

int
probe_run(const struct probe_opts *o, struct report *rep)
{
	enum port25 p25 = PORT25_UNKNOWN;
	enum isp_verdict isp = ISP_UNKNOWN;

	if (o->nmx > 0)
		p25 = check_port25(o, rep);
	if (o->has_isp)
		isp = check_isp(o, rep);
	check_relay(o, rep);
	rep->exit_status = report_worst(rep, "relay") == REPORT_FAIL ||
	    report_worst(rep, "account") == REPORT_FAIL ? 1 : 0;
	summarize_problems(o, rep, p25, isp);
	summarize_relay(o, rep);
	return rep->exit_status;
}
