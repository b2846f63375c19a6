/*
 * bsmtp.c - blocking SMTP client with deadlines, for hikyaku probe.
 *
 * The socket is non-blocking; each wait is a poll() bounded by the
 * connection's timeout. Reply lines longer than BSMTP_LINE_MAX, replies
 * the parser calls malformed, and silence past the deadline all end the
 * dialogue with an error the caller reports.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "home/bsmtp.h"
#include "lib/util.h"

#define BSMTP_LINE_MAX 2048

struct bsmtp {
	int fd;
	int timeout_ms;
	struct tls_conn *tls;
	char buf[BSMTP_LINE_MAX + 2];
	size_t len;
	struct sockaddr_storage local;
};

/* wait_fd - poll fd for events until deadline; 0, or -1 with err. */
static int
wait_fd(int fd, short events, int64_t deadline, char *err, size_t errsz)
{
	struct pollfd p = { .fd = fd, .events = events };
	int64_t left;
	int n;

	for (;;) {
		left = (deadline - util_now_us()) / 1000;
		if (left <= 0) {
			util_strlcpy(err, "timed out", errsz);
			return -1;
		}
		n = poll(&p, 1, left > 600000 ? 600000 : (int)left);
		if (n > 0)
			return 0;
		if (n == -1 && errno != EINTR) {
			snprintf(err, errsz, "poll: %s", strerror(errno));
			return -1;
		}
	}
}

/* connect_one - a non-blocking connect to ai, finished by deadline; the fd or -1. */
static int
connect_one(const struct addrinfo *ai, int64_t deadline, char *err, size_t errsz)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	if (fd == -1) {
		snprintf(err, errsz, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		util_strlcpy(err, strerror(errno), errsz);
		goto fail;
	}
	if (wait_fd(fd, POLLOUT, deadline, err, errsz) == -1)
		goto fail;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1 || soerr != 0) {
		util_strlcpy(err, strerror(soerr ? soerr : errno), errsz);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

struct bsmtp *
bsmtp_connect(const char *host, unsigned port, int timeout_ms, char *peer, size_t peersz,
    char *err, size_t errsz)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL, *ai;
	int64_t deadline = util_now_us() + (int64_t)timeout_ms * 1000;
	struct bsmtp *c;
	char portstr[8], ip[64];
	socklen_t sl;
	unsigned p;
	int fd = -1, g;

	snprintf(portstr, sizeof(portstr), "%u", port);
	if ((g = getaddrinfo(host, portstr, &hints, &res)) != 0) {
		snprintf(err, errsz, "cannot resolve %s: %s", host, gai_strerror(g));
		return NULL;
	}
	for (ai = res; ai != NULL && fd == -1; ai = ai->ai_next) {
		if ((fd = connect_one(ai, deadline, err, errsz)) == -1)
			continue;
		p = util_sockaddr_ip(ai->ai_addr, ip, sizeof(ip));
		snprintf(peer, peersz, ai->ai_family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, p);
	}
	freeaddrinfo(res);
	if (fd == -1)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	c->timeout_ms = timeout_ms;
	sl = sizeof(c->local);
	if (getsockname(fd, (struct sockaddr *)&c->local, &sl) == -1)
		c->local.ss_family = AF_UNSPEC;
	return c;
}

int
bsmtp_tls(struct bsmtp *c, const char *servername, const char *cafile, char *err, size_t errsz)
{
	if (c->tls != NULL) {
		util_strlcpy(err, "TLS is already on", errsz);
		return -1;
	}
	c->len = 0;	/* nothing read in plain text survives the handshake */
	c->tls = tls_conn_open(c->fd, servername, cafile, c->timeout_ms, err, errsz);
	return c->tls ? 0 : -1;
}

void
bsmtp_peer(struct bsmtp *c, struct tls_peer *out)
{
	if (c->tls != NULL)
		tls_conn_peer(c->tls, out);
	else
		memset(out, 0, sizeof(*out));
}

bool
bsmtp_is_tls(const struct bsmtp *c)
{
	return c->tls != NULL;
}

/* fill - read more input into the buffer; 0, or -1 with err (EOF included). */
static int
fill(struct bsmtp *c, int64_t deadline, char *err, size_t errsz)
{
	size_t room = sizeof(c->buf) - c->len;
	long n;
	int left;

	if (c->tls != NULL) {
		left = (int)((deadline - util_now_us()) / 1000);
		n = left > 0 ? tls_conn_read(c->tls, c->buf + c->len, room, left, err, errsz) : -1;
		if (left <= 0)
			util_strlcpy(err, "timed out", errsz);
	} else {
		if (wait_fd(c->fd, POLLIN, deadline, err, errsz) == -1)
			return -1;
		if ((n = recv(c->fd, c->buf + c->len, room, 0)) == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			util_strlcpy(err, strerror(errno), errsz);
		}
	}
	if (n == 0)
		util_strlcpy(err, "connection closed by the server", errsz);
	if (n <= 0)
		return -1;
	c->len += (size_t)n;
	return 0;
}

/* read_line - the next line (without CR LF) into line; its length, or -1 with err. */
static long
read_line(struct bsmtp *c, char *line, size_t linesz, int64_t deadline, char *err, size_t errsz)
{
	char *nl;
	size_t n;

	while ((nl = memchr(c->buf, '\n', c->len)) == NULL) {
		if (c->len >= BSMTP_LINE_MAX) {
			snprintf(err, errsz, "reply line longer than %d bytes", BSMTP_LINE_MAX);
			return -1;
		}
		if (fill(c, deadline, err, errsz) == -1)
			return -1;
	}
	n = (size_t)(nl - c->buf);
	if (n > 0 && c->buf[n - 1] == '\r')
		n--;
	if (n >= linesz)
		n = linesz - 1;
	memcpy(line, c->buf, n);
	line[n] = '\0';
	c->len -= (size_t)(nl + 1 - c->buf);
	memmove(c->buf, nl + 1, c->len);
	return (long)n;
}

int
bsmtp_reply(struct bsmtp *c, struct smtp_reply *r, char *err, size_t errsz)
{
	int64_t deadline = util_now_us() + (int64_t)c->timeout_ms * 1000;
	char line[BSMTP_LINE_MAX + 1];
	long n;
	int rc = 0;

	smtp_reply_init(r);
	while (rc == 0) {
		if ((n = read_line(c, line, sizeof(line), deadline, err, errsz)) == -1)
			return -1;
		if ((rc = smtp_reply_feed(r, line, (size_t)n)) == -1) {
			util_escape(line, (size_t)n, err, errsz > 80 ? 80 : errsz);
			snprintf(err + strlen(err), errsz - strlen(err), " (not an SMTP reply)");
			return -1;
		}
	}
	return 0;
}

static int
send_all(struct bsmtp *c, const char *data, size_t len, char *err, size_t errsz)
{
	int64_t deadline = util_now_us() + (int64_t)c->timeout_ms * 1000;
	ssize_t n;

	if (c->tls != NULL)
		return tls_conn_write(c->tls, data, len, c->timeout_ms, err, errsz);
	while (len > 0) {
		if (wait_fd(c->fd, POLLOUT, deadline, err, errsz) == -1)
			return -1;
		if ((n = send(c->fd, data, len, MSG_NOSIGNAL)) == -1) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			util_strlcpy(err, strerror(errno), errsz);
			return -1;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

int
bsmtp_cmd(struct bsmtp *c, const char *line, struct smtp_reply *r, char *err, size_t errsz)
{
	char out[BSMTP_LINE_MAX + 3];
	size_t n = strlen(line);
	int rc;

	if (n > BSMTP_LINE_MAX || strpbrk(line, "\r\n") != NULL)
		panic("bsmtp_cmd: bad command line");
	memcpy(out, line, n);
	memcpy(out + n, "\r\n", 2);
	rc = send_all(c, out, n + 2, err, errsz);
	explicit_bzero(out, sizeof(out));	/* may have held AUTH credentials */
	return rc == -1 ? -1 : bsmtp_reply(c, r, err, errsz);
}

void
bsmtp_local_literal(const struct bsmtp *c, char *out, size_t outsz)
{
	char ip[64];

	if (c->local.ss_family != AF_INET && c->local.ss_family != AF_INET6) {
		util_strlcpy(out, "[127.0.0.1]", outsz);
		return;
	}
	util_sockaddr_ip((const struct sockaddr *)&c->local, ip, sizeof(ip));
	snprintf(out, outsz, c->local.ss_family == AF_INET6 ? "[IPv6:%s]" : "[%s]", ip);
}

void
bsmtp_close(struct bsmtp *c)
{
	if (c == NULL)
		return;
	tls_conn_close(c->tls);
	close(c->fd);
	explicit_bzero(c->buf, sizeof(c->buf));
	free(c);
}
