/*
 * log.h - one line per event, to stderr (with a timestamp) or to syslog
 * (facility mail), in the style of Postfix: "ID: from=<a@b>, size=N, nrcpt=N".
 * Thread-safe: each line is written with one call.
 */
#ifndef HIKYAKU_LOG_H
#define HIKYAKU_LOG_H

#include <syslog.h>

enum log_target { LOG_TARGET_STDERR, LOG_TARGET_SYSLOG };

/* log_init - choose where lines go; ident is the program name. */
void log_init(enum log_target target, const char *ident);

/* log_msg - one event; prio is a syslog priority (LOG_INFO, LOG_WARNING ...). */
void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, "warning: " __VA_ARGS__)
#define log_err(...) log_msg(LOG_ERR, "error: " __VA_ARGS__)

#endif
