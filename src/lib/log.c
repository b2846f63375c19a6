/*
 * log.c - write event lines to stderr or syslog.
 */
#include <stdarg.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"

static enum log_target log_target = LOG_TARGET_STDERR;
static const char *log_ident = "hikyaku";

void
log_init(enum log_target target, const char *ident)
{
	log_target = target;
	log_ident = ident;
	if (target == LOG_TARGET_SYSLOG)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void
log_msg(int prio, const char *fmt, ...)
{
	char line[2048], stamp[32];
	struct timeval tv;
	struct tm tm;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log_target == LOG_TARGET_SYSLOG) {
		syslog(prio, "%s", line);
		return;
	}
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ldZ %s[%ld]: %s\n", stamp, (long)tv.tv_usec / 1000,
	    log_ident, (long)getpid(), line);
}
