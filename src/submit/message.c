/*
 * message.c - add our trace and missing origination headers to a message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "submit/message.h"
#include "lib/msghdr.h"
#include "lib/util.h"

#define HEADERS_MAX 2048	/* what we add is far below this */

static size_t
received(char *out, size_t outsz, const struct message_env *env, const char *date)
{
	char tls[160] = "", auth[120] = "", rcpt[300] = "";

	if (env->tls_version != NULL)
		snprintf(tls, sizeof(tls), "\r\n\t(using %s with cipher %s)",
		    env->tls_version, env->tls_cipher);
	if (env->account != NULL)
		snprintf(auth, sizeof(auth), "\r\n\t(%s: %s)", env->authenticated ?
		    "authenticated sender" : "trusted network of account", env->account);
	if (env->single_rcpt != NULL)
		snprintf(rcpt, sizeof(rcpt), "\r\n\tfor <%s>", env->single_rcpt);
	return (size_t)snprintf(out, outsz,
	    "Received: from %s ([%s])%s%s\r\n\tby %s (hikyaku) with %s id %s%s;\r\n\t%s\r\n",
	    env->helo, env->client_ip, tls, auth, env->hostname, env->protocol,
	    env->queue_id, rcpt, date);
}

static size_t
missing(char *out, size_t outsz, const char *hdrs, size_t hdrend,
    const struct message_env *env, const char *date)
{
	size_t n = 0;

	if (!msghdr_has(hdrs, hdrend, "Date"))
		n += (size_t)snprintf(out + n, outsz - n, "Date: %s\r\n", date);
	if (!msghdr_has(hdrs, hdrend, "Message-ID"))
		n += (size_t)snprintf(out + n, outsz - n, "Message-ID: <%lld.%s@%s>\r\n",
		    (long long)env->now, env->queue_id, env->hostname);
	return n;
}

char *
message_prepare(const char *msg, size_t len, size_t hdrend,
    const struct message_env *env, size_t *outlen)
{
	char top[HEADERS_MAX], add[HEADERS_MAX], date[64];
	size_t ntop, nadd;
	char *out;

	util_rfc5322_date(env->now, date, sizeof(date));
	ntop = received(top, sizeof(top), env, date);
	nadd = missing(add, sizeof(add), msg, hdrend, env, date);
	if (ntop >= sizeof(top) || nadd >= sizeof(add))
		panic("message_prepare: added headers do not fit");
	out = xmalloc(ntop + len + nadd);
	memcpy(out, top, ntop);
	memcpy(out + ntop, msg, hdrend);
	memcpy(out + ntop + hdrend, add, nadd);
	memcpy(out + ntop + hdrend + nadd, msg + hdrend, len - hdrend);
	*outlen = ntop + len + nadd;
	return out;
}

bool
message_is_8bit(const char *msg, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)msg[i] & 0x80)
			return true;
	return false;
}
