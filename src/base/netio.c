/*
 * netio.c - connections on libevent bufferevents, with OpenSSL through
 * libevent's bufferevent_openssl. Owns the bufferevent, the socket and the
 * timer of each connection.
 *
 * STARTTLS does not stack a filter on the plain bufferevent: it waits until
 * the "220" has been written, frees the plain bufferevent with all unread
 * input, and starts a TLS bufferevent on the same socket. Whatever the
 * client sent in plain text after STARTTLS is thus either dropped or fed to
 * the TLS handshake, which fails - never read as a command.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include "base/netio.h"
#include "base/tls.h"
#include "lib/util.h"

#define NETIO_INPUT_MAX (64 * 1024)	/* stop reading past this much unread input */

struct netio {
	struct event_base *base;
	int fd;
	struct bufferevent *bev;
	struct netio_cbs cbs;
	void *arg;
	unsigned timeout;
	bool tls;
	bool skipping;			/* discarding an over-long line */
	bool closing;			/* close once output is flushed */
	bool lingering;			/* output done: discarding input until EOF */
	bool paused;
	struct tls_ctx *starttls;	/* pending STARTTLS, once output is flushed */
	char servername[256];		/* for a client-side handshake */
	const struct tls_expect *expect;	/* or this, with what to check (caller's) */
	bool connecting;		/* netio_connect in progress */
	bool handshaking;		/* a TLS handshake has not completed yet */
	struct event *timer;
	void (*timer_fn)(struct netio *, void *);
	struct event *closer;		/* deferred on_close for an already-flushed close */
	char closewhy[128];		/* what the deferred on_close reports */
};

static void netio_attach(struct netio *io, struct bufferevent *bev);

static void
closer_fire(evutil_socket_t fd, short what, void *arg)
{
	struct netio *io = arg;

	io->cbs.on_close(io, io->arg, io->closewhy[0] ? io->closewhy : "closed");
}

static void
on_read(struct bufferevent *bev, void *arg)
{
	struct netio *io = arg;

	if (io->lingering) {
		evbuffer_drain(bufferevent_get_input(bev), evbuffer_get_length(bufferevent_get_input(bev)));
		return;
	}
	if (!io->paused && !io->closing)
		io->cbs.on_input(io, io->arg);
}

static void
switch_to_tls(struct netio *io)
{
	struct tls_ctx *tls = io->starttls;
	struct bufferevent *bev;

	io->starttls = NULL;
	bufferevent_free(io->bev);	/* drops unread plain-text input */
	io->bev = NULL;
	bev = bufferevent_openssl_socket_new(io->base, io->fd,
	    io->expect ? tls_client_session(tls, io->expect) : tls_new_session(tls, io->servername),
	    tls_is_client(tls) ? BUFFEREVENT_SSL_CONNECTING : BUFFEREVENT_SSL_ACCEPTING,
	    BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL)
		panic("cannot create a TLS bufferevent");
	io->fd = -1;	/* now owned by the TLS bufferevent */
	io->tls = true;
	io->handshaking = true;
	netio_attach(io, bev);
}

/*
 * linger - the last reply is written. Closing a socket that still has
 * unread input makes the kernel send a RST, which can destroy replies the
 * peer has not read yet (a pipelining client that is still sending). So
 * shut down our side, and discard input until the peer closes or 2 s pass.
 * TLS connections are closed at once.
 */
static void
linger(struct netio *io)
{
	struct timeval tv = { 2, 0 };

	if (io->tls || shutdown(bufferevent_getfd(io->bev), SHUT_WR) == -1) {
		io->cbs.on_close(io, io->arg, "closed");
		return;
	}
	io->lingering = true;
	bufferevent_set_timeouts(io->bev, &tv, NULL);
	bufferevent_enable(io->bev, EV_READ);
}

static void
on_write(struct bufferevent *bev, void *arg)
{
	struct netio *io = arg;

	if (evbuffer_get_length(bufferevent_get_output(bev)) != 0)
		return;
	if (io->starttls != NULL)
		switch_to_tls(io);
	else if (io->closing && !io->lingering)
		linger(io);
}

static void
describe_error(struct netio *io, short what, char *why, size_t whysz)
{
	unsigned long e;
	char ssl[200];

	if (what & BEV_EVENT_TIMEOUT)
		snprintf(why, whysz, "timeout");
	else if (what & BEV_EVENT_EOF)
		snprintf(why, whysz, "lost connection");
	else if (io->tls && (e = bufferevent_get_openssl_error(io->bev)) != 0) {
		tls_error_string(e, ssl, sizeof(ssl));
		snprintf(why, whysz, "TLS error: %s", ssl);
	} else
		snprintf(why, whysz, "%s", errno ? strerror(errno) : "connection error");
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
	struct netio *io = arg;
	char why[256];

	if (io->lingering) {
		io->cbs.on_close(io, io->arg, "closed");
		return;
	}
	if ((what & BEV_EVENT_CONNECTED) && io->connecting) {
		io->connecting = false;
		netio_set_timeout(io, io->timeout);
		io->cbs.on_connected(io, io->arg);
		return;
	}
	if (what & BEV_EVENT_CONNECTED) {
		io->handshaking = false;
		if (io->cbs.on_tls)
			io->cbs.on_tls(io, io->arg);
		return;
	}
	describe_error(io, what, why, sizeof(why));
	io->cbs.on_close(io, io->arg, why);
}

static void
netio_attach(struct netio *io, struct bufferevent *bev)
{
	struct timeval tv = { (time_t)io->timeout, 0 };

	io->bev = bev;
	if (io->tls)
		bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	bufferevent_setcb(bev, on_read, on_write, on_event, io);
	bufferevent_setwatermark(bev, EV_READ, 0, NETIO_INPUT_MAX);
	bufferevent_set_timeouts(bev, io->timeout ? &tv : NULL, io->timeout ? &tv : NULL);
	bufferevent_enable(bev, io->paused ? EV_WRITE : EV_READ | EV_WRITE);
}

/* netio_alloc - a netio for socket fd, not yet attached to a bufferevent. */
static struct netio *
netio_alloc(struct event_base *base, int fd, const struct netio_cbs *cbs, void *arg)
{
	struct netio *io = xcalloc(1, sizeof(*io));

	io->base = base;
	io->fd = fd;
	io->cbs = *cbs;
	io->arg = arg;
	io->timeout = 300;
	return io;
}

struct netio *
netio_new(struct event_base *base, int fd, struct tls_ctx *tls,
    const struct netio_cbs *cbs, void *arg)
{
	struct netio *io = netio_alloc(base, fd, cbs, arg);
	struct bufferevent *bev;

	evutil_make_socket_nonblocking(fd);
	if (tls != NULL) {
		bev = bufferevent_openssl_socket_new(base, fd, tls_new_session(tls, NULL),
		    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
		io->fd = -1;
		io->tls = true;
		io->handshaking = true;
	} else
		bev = bufferevent_socket_new(base, fd, 0);
	if (bev == NULL)
		panic("cannot create a bufferevent");
	netio_attach(io, bev);
	return io;
}

void
netio_free(struct netio *io)
{
	if (io == NULL)
		return;
	if (io->bev)
		bufferevent_free(io->bev);
	if (io->fd != -1)
		close(io->fd);
	if (io->timer)
		event_free(io->timer);
	if (io->closer)
		event_free(io->closer);
	free(io);
}

void
netio_set_timeout(struct netio *io, unsigned seconds)
{
	struct timeval tv = { (time_t)seconds, 0 };

	io->timeout = seconds;
	bufferevent_set_timeouts(io->bev, &tv, &tv);
}

/* skip_long_line - drop input of an over-long line until its CRLF. */
static enum netio_line
skip_long_line(struct netio *io, struct evbuffer *in)
{
	struct evbuffer_ptr p = evbuffer_search(in, "\r\n", 2, NULL);
	size_t n = evbuffer_get_length(in);

	if (p.pos == -1) {
		/* keep a trailing CR: it may be half of the CRLF */
		evbuffer_drain(in, n > 0 ? n - 1 : 0);
		return NETIO_NEED_MORE;
	}
	evbuffer_drain(in, (size_t)p.pos + 2);
	io->skipping = false;
	return NETIO_TOO_LONG;
}

enum netio_line
netio_read_line(struct netio *io, char *buf, size_t bufsz, size_t max, size_t *len)
{
	struct evbuffer *in = bufferevent_get_input(io->bev);
	struct evbuffer_ptr p;

	if (io->skipping)
		return skip_long_line(io, in);
	p = evbuffer_search(in, "\r\n", 2, NULL);
	if (p.pos == -1) {
		if (evbuffer_get_length(in) < max)
			return NETIO_NEED_MORE;
		io->skipping = true;
		return skip_long_line(io, in);
	}
	if ((size_t)p.pos + 2 > max || (size_t)p.pos >= bufsz) {
		evbuffer_drain(in, (size_t)p.pos + 2);
		return NETIO_TOO_LONG;
	}
	evbuffer_remove(in, buf, (size_t)p.pos);
	evbuffer_drain(in, 2);
	buf[p.pos] = '\0';
	*len = (size_t)p.pos;
	return NETIO_LINE;
}

const char *
netio_peek(struct netio *io, size_t *len)
{
	struct evbuffer_iovec v;

	if (evbuffer_peek(bufferevent_get_input(io->bev), -1, NULL, &v, 1) < 1) {
		*len = 0;
		return NULL;
	}
	*len = v.iov_len;
	return v.iov_base;
}

void
netio_drain(struct netio *io, size_t n)
{
	evbuffer_drain(bufferevent_get_input(io->bev), n);
}

size_t
netio_input_len(struct netio *io)
{
	return evbuffer_get_length(bufferevent_get_input(io->bev));
}

void
netio_write(struct netio *io, const char *buf, size_t len)
{
	bufferevent_write(io->bev, buf, len);
}

void
netio_printf(struct netio *io, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	evbuffer_add_vprintf(bufferevent_get_output(io->bev), fmt, ap);
	va_end(ap);
}

struct netio *
netio_connect(struct event_base *base, const struct sockaddr *sa, socklen_t salen,
    unsigned timeout, const struct netio_cbs *cbs, void *arg)
{
	struct netio *io;
	struct bufferevent *bev;
	struct timeval tv = { (time_t)timeout, 0 };
	int fd;

	if ((fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1)
		return NULL;
	io = netio_alloc(base, fd, cbs, arg);
	io->connecting = true;
	if ((bev = bufferevent_socket_new(base, fd, 0)) == NULL)
		panic("cannot create a bufferevent");
	netio_attach(io, bev);
	bufferevent_set_timeouts(bev, &tv, &tv);
	if (bufferevent_socket_connect(bev, sa, (int)salen) == -1) {
		/* report it from the loop, as every other failure is */
		snprintf(io->closewhy, sizeof(io->closewhy), "connect: %s", strerror(errno));
		io->closer = evtimer_new(base, closer_fire, io);
		event_active(io->closer, EV_TIMEOUT, 0);
	}
	return io;
}

bool
netio_tls_verified(struct netio *io)
{
	return io->tls && tls_verified(bufferevent_openssl_get_ssl(io->bev));
}

void
netio_starttls(struct netio *io, struct tls_ctx *tls, const char *servername)
{
	util_strlcpy(io->servername, servername ? servername : "", sizeof(io->servername));
	io->starttls = tls;
	bufferevent_disable(io->bev, EV_READ);
	/* CVE-2011-0411: nothing sent in plain text after STARTTLS is a command */
	evbuffer_drain(bufferevent_get_input(io->bev),
	    evbuffer_get_length(bufferevent_get_input(io->bev)));
	if (evbuffer_get_length(bufferevent_get_output(io->bev)) == 0)
		switch_to_tls(io);
}

void
netio_local_ip(struct netio *io, char *ip, size_t ipsz)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd = io->bev ? bufferevent_getfd(io->bev) : io->fd;

	ip[0] = '\0';
	if (fd != -1 && getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		util_sockaddr_ip((struct sockaddr *)&ss, ip, ipsz);
}

void
netio_starttls_expect(struct netio *io, struct tls_ctx *tls, const struct tls_expect *expect)
{
	io->expect = expect;
	netio_starttls(io, tls, expect->host);
}

enum tls_check
netio_tls_check(struct netio *io, char *why, size_t whysz)
{
	if (!io->tls || io->handshaking) {
		util_strlcpy(why, "no TLS", whysz);
		return TLS_CHECK_NO_CERT;
	}
	return tls_peer_check(bufferevent_openssl_get_ssl(io->bev), why, whysz);
}

bool
netio_handshaking(struct netio *io)
{
	return io->handshaking || io->starttls != NULL;
}

bool
netio_is_tls(struct netio *io)
{
	return io->tls;
}

void
netio_tls_describe(struct netio *io, char *version, size_t vsz, char *cipher, size_t csz)
{
	tls_describe(bufferevent_openssl_get_ssl(io->bev), version, vsz, cipher, csz);
}


void
netio_close_when_flushed(struct netio *io)
{
	if (io->closing)
		return;
	io->closing = true;
	bufferevent_disable(io->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(io->bev)) == 0) {
		io->closer = evtimer_new(io->base, closer_fire, io);
		event_active(io->closer, EV_TIMEOUT, 0);
	}
}

void
netio_pause(struct netio *io, bool paused)
{
	io->paused = paused;
	if (io->closing || io->starttls)
		return;
	if (paused)
		bufferevent_disable(io->bev, EV_READ);
	else
		bufferevent_enable(io->bev, EV_READ);
}

static void
timer_fire(evutil_socket_t fd, short what, void *arg)
{
	struct netio *io = arg;

	io->timer_fn(io, io->arg);
}

void
netio_after(struct netio *io, unsigned seconds, void (*fn)(struct netio *, void *))
{
	struct timeval tv = { (time_t)seconds, 0 };

	if (io->timer == NULL)
		io->timer = evtimer_new(io->base, timer_fire, io);
	io->timer_fn = fn;
	evtimer_add(io->timer, &tv);
}
