/*
 * reply.c - construct struct reply values.
 */
#include <stdio.h>
#include <string.h>

#include "lib/reply.h"

void
reply_set(struct reply *r, int code, const char *status, const char *fmt, ...)
{
	va_list ap;

	r->code = code;
	r->kind = code < 400 ? REPLY_OK : code < 500 ? REPLY_TEMPFAIL : REPLY_PERMFAIL;
	snprintf(r->status, sizeof(r->status), "%s", status);
	va_start(ap, fmt);
	vsnprintf(r->text, sizeof(r->text), fmt, ap);
	va_end(ap);
}
