/*
 * sdnotify.c - the sd_notify(3) datagram protocol: an AF_UNIX datagram to
 * $NOTIFY_SOCKET, a path or (with a leading '@') an abstract name.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/sdnotify.h"

static struct sockaddr_un notify_addr;
static socklen_t notify_len;	/* 0: not under systemd */

void
sdnotify_init(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	size_t n;

	if (path == NULL || (path[0] != '/' && path[0] != '@') ||
	    (n = strlen(path)) >= sizeof(notify_addr.sun_path) || n < 2) {
		unsetenv("NOTIFY_SOCKET");
		return;
	}
	memset(&notify_addr, 0, sizeof(notify_addr));
	notify_addr.sun_family = AF_UNIX;
	memcpy(notify_addr.sun_path, path, n);
	if (path[0] == '@')
		notify_addr.sun_path[0] = '\0';	/* abstract: no NUL at the end */
	notify_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
	    (path[0] == '@' ? 0 : 1));
	unsetenv("NOTIFY_SOCKET");
}

int
sdnotify(const char *state)
{
	int fd, rc, saved;

	if (notify_len == 0)
		return 0;
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	rc = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&notify_addr,
	    notify_len) == -1 ? -1 : 0;
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}
