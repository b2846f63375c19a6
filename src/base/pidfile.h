/*
 * pidfile.h - SPOOL/hikyaku.pid: one daemon per spool, and how the CLI
 * finds it to signal it (reload, doctor --refresh).
 *
 * The daemon holds an exclusive flock on the file for its whole life and
 * writes its pid into it; the lock, not the pid, says whether a daemon is
 * alive, so a file left behind by kill -9 is never mistaken for one.
 */
#ifndef HIKYAKU_PIDFILE_H
#define HIKYAKU_PIDFILE_H

#include <stddef.h>
#include <sys/types.h>

struct config;

/* pidfile_path - "SPOOL/hikyaku.pid" into out. */
void pidfile_path(const struct config *cfg, char *out, size_t outsz);

/*
 * pidfile_acquire - lock and write the pid file; the returned descriptor
 * keeps the lock until pidfile_release() or exit. -1 with err filled when
 * another daemon holds it or the file cannot be written.
 */
int pidfile_acquire(const struct config *cfg, char *err, size_t errsz);
/* pidfile_release - remove the file and drop the lock. */
void pidfile_release(const struct config *cfg, int fd);

/* pidfile_daemon - the pid of the daemon running on cfg's spool, or 0 when none is. */
pid_t pidfile_daemon(const struct config *cfg);

#endif
