/*
 * pidfile.c - the daemon's lock and pid file in the spool.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "base/config.h"
#include "base/pidfile.h"

void
pidfile_path(const struct config *cfg, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s/hikyaku.pid", cfg->spool);
}

int
pidfile_acquire(const struct config *cfg, char *err, size_t errsz)
{
	char path[4200], buf[32];
	int fd, n;

	pidfile_path(cfg, path, sizeof(path));
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) == -1) {
		snprintf(err, errsz, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		snprintf(err, errsz, "another hikyaku is already running on spool %s (%s is locked);"
		    " stop it first", cfg->spool, path);
		close(fd);
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, buf, (size_t)n, 0) != n) {
		snprintf(err, errsz, "cannot write %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

void
pidfile_release(const struct config *cfg, int fd)
{
	char path[4200];

	if (fd < 0)
		return;
	pidfile_path(cfg, path, sizeof(path));
	unlink(path);
	close(fd);
}

pid_t
pidfile_daemon(const struct config *cfg)
{
	char path[4200], buf[32];
	ssize_t n;
	long pid;
	int fd;

	pidfile_path(cfg, path, sizeof(path));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	if (flock(fd, LOCK_SH | LOCK_NB) == 0 || errno != EWOULDBLOCK) {
		close(fd);	/* nobody holds the lock: a leftover file */
		return 0;
	}
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	pid = strtol(buf, NULL, 10);
	return pid > 1 ? (pid_t)pid : 0;
}
