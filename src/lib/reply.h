/*
 * reply.h - the one failure vocabulary: every policy, queue and (later) delivery
 * result is a struct reply carrying the kind, the SMTP code, the enhanced status
 * code (RFC 3463) and a human text.
 */
#ifndef HIKYAKU_REPLY_H
#define HIKYAKU_REPLY_H

#include <stdarg.h>

enum reply_kind { REPLY_OK, REPLY_TEMPFAIL, REPLY_PERMFAIL };

struct reply {
	enum reply_kind kind;
	int code;	/* 250, 451, 550 ... */
	char status[16];	/* "2.0.0" */
	char text[400];	/* one line, no CRLF */
};

/* reply_set - fill r; the kind follows from the code's first digit. */
void reply_set(struct reply *r, int code, const char *status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
