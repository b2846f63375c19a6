/*
 * control.c - the local control socket: an AF_UNIX listener on the loop,
 * one netio per client (a request line, an answer, close), and the CLI's
 * side of it. A spool path too long for sun_path is reached through
 * /proc/self/fd/N of the spool directory. The CLI's errors follow the
 * locale; the daemon's side logs, in English.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/listener.h>

#include "base/config.h"
#include "base/netio.h"
#include "lib/i18n.h"
#include "lib/log.h"
#include "lib/util.h"
#include "ops/control.h"

#define CONTROL_NAME "hikyaku.sock"
#define CONTROL_TIMEOUT 5

struct conn {
	struct control *c;
	struct conn *prev, *next;
	struct netio *io;
};

struct control {
	struct evconnlistener *evl;
	struct event_base *base;
	control_answer_cb cb;
	void *arg;
	char path[4200];
	struct conn *conns;
};

/*
 * sock_addr - SPOOL/hikyaku.sock as a sockaddr_un; when it is too long,
 * /proc/self/fd/N/hikyaku.sock with N an O_PATH descriptor of the spool
 * (*dirfd, which the caller closes after bind or connect). -1 on error.
 */
static int
sock_addr(const struct config *cfg, struct sockaddr_un *sun, int *dirfd)
{
	char path[4200];
	int n;

	*dirfd = -1;
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	snprintf(path, sizeof(path), "%s/%s", cfg->spool, CONTROL_NAME);
	if (strlen(path) < sizeof(sun->sun_path)) {
		memcpy(sun->sun_path, path, strlen(path) + 1);
		return 0;
	}
	if ((*dirfd = open(cfg->spool, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	n = snprintf(sun->sun_path, sizeof(sun->sun_path), "/proc/self/fd/%d/%s", *dirfd,
	    CONTROL_NAME);
	return n > 0 && (size_t)n < sizeof(sun->sun_path) ? 0 : -1;
}

static void
conn_free(struct conn *k)
{
	if (k->prev)
		k->prev->next = k->next;
	else
		k->c->conns = k->next;
	if (k->next)
		k->next->prev = k->prev;
	netio_free(k->io);
	free(k);
}

static void
answer(struct conn *k, const char *request)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	if (out == NULL)
		panic("open_memstream failed");
	k->c->cb(k->c->arg, request, out);
	fclose(out);
	netio_write(k->io, text, len < CONTROL_ANSWER_MAX ? len : CONTROL_ANSWER_MAX);
	free(text);
}

static void
on_input(struct netio *io, void *arg)
{
	struct conn *k = arg;
	char line[CONTROL_REQUEST_MAX + 1];
	size_t len;

	switch (netio_read_line(io, line, sizeof(line), CONTROL_REQUEST_MAX, &len)) {
	case NETIO_NEED_MORE:
		return;
	case NETIO_LINE:
		answer(k, line);
		break;
	case NETIO_TOO_LONG:
		netio_printf(io, "error request too long\n");
		break;
	}
	netio_pause(io, true);
	netio_close_when_flushed(io);
}

static void
on_close(struct netio *io, void *arg, const char *why)
{
	conn_free(arg);
}

static const struct netio_cbs conn_cbs = { on_input, on_close, NULL, NULL };

static void
on_accept(struct evconnlistener *evl, evutil_socket_t fd, struct sockaddr *sa, int salen,
    void *arg)
{
	struct control *c = arg;
	struct conn *k = xcalloc(1, sizeof(*k));

	k->c = c;
	k->next = c->conns;
	if (k->next)
		k->next->prev = k;
	c->conns = k;
	k->io = netio_new(c->base, fd, NULL, &conn_cbs, k);
	netio_set_timeout(k->io, CONTROL_TIMEOUT);
}

struct control *
control_open(struct event_base *base, const struct config *cfg, control_answer_cb cb, void *arg,
    char *err, size_t errsz)
{
	struct control *c = xcalloc(1, sizeof(*c));
	struct sockaddr_un sun;
	int dirfd;

	c->base = base;
	c->cb = cb;
	c->arg = arg;
	snprintf(c->path, sizeof(c->path), "%s/%s", cfg->spool, CONTROL_NAME);
	unlink(c->path);	/* left by a daemon killed -9; we hold the pid file's lock */
	if (sock_addr(cfg, &sun, &dirfd) == 0)
		c->evl = evconnlistener_new_bind(base, on_accept, c,
		    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 16, (struct sockaddr *)&sun,
		    sizeof(sun));
	if (dirfd != -1)
		close(dirfd);
	if (c->evl == NULL || chmod(c->path, 0600) == -1) {
		snprintf(err, errsz, "cannot listen on the control socket %s: %s", c->path,
		    strerror(errno));
		control_close(c);
		return NULL;
	}
	return c;
}

void
control_close(struct control *c)
{
	if (c == NULL)
		return;
	if (c->evl != NULL) {
		evconnlistener_free(c->evl);
		unlink(c->path);
	}
	while (c->conns != NULL)
		conn_free(c->conns);
	free(c);
}

/* read_answer - everything until the daemon closes, within timeout_ms. */
static char *
read_answer(int fd, int timeout_ms, char *err, size_t errsz)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	char *buf = xmalloc(CONTROL_ANSWER_MAX + 1);
	size_t len = 0;
	ssize_t n;

	for (;;) {
		if (poll(&pfd, 1, timeout_ms) != 1) {
			snprintf(err, errsz, "%s", _("the daemon did not answer on its control"
			    " socket"));
			break;
		}
		n = read(fd, buf + len, CONTROL_ANSWER_MAX - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errsz, _("control socket: %s"), strerror(errno));
			break;
		}
		len += (size_t)n;
		if (n == 0 || len == CONTROL_ANSWER_MAX) {
			buf[len] = '\0';
			return buf;
		}
	}
	free(buf);
	return NULL;
}

char *
control_query(const struct config *cfg, const char *request, int timeout_ms, char *err,
    size_t errsz)
{
	struct sockaddr_un sun;
	char line[CONTROL_REQUEST_MAX + 3];
	char *answer_text = NULL;
	int fd = -1, dirfd = -1, n;

	n = snprintf(line, sizeof(line), "%s\r\n", request);
	if (n <= 0 || (size_t)n >= sizeof(line)) {
		snprintf(err, errsz, "%s", _("control request too long"));
		return NULL;
	}
	if (sock_addr(cfg, &sun, &dirfd) == -1 ||
	    (fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		/* TRANSLATORS: the spool, the socket's name in it, the system's reason. */
		snprintf(err, errsz, _("cannot reach the daemon at %s/%s: %s"), cfg->spool,
		    CONTROL_NAME, strerror(errno));
		goto done;
	}
	if (write(fd, line, (size_t)n) != n) {
		snprintf(err, errsz, _("cannot write to the control socket: %s"),
		    strerror(errno));
		goto done;
	}
	answer_text = read_answer(fd, timeout_ms, err, errsz);
done:
	if (fd != -1)
		close(fd);
	if (dirfd != -1)
		close(dirfd);
	return answer_text;
}
