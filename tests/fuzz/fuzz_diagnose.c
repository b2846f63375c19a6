/*
 * fuzz_diagnose.c - libFuzzer target for the probe's pure rules: the input
 * is split at LF; the first line is parsed as a HOST[:PORT] target and as an
 * account name, the rest as one server reply that is then classified.
 * Besides not crashing: a parsed target has a port in 1..65535 and a host
 * of only the bytes a configuration file can take; a classification is one
 * of the kinds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "home/diagnose.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_target(const char *s, size_t len)
{
	struct diagnose_target t;
	char buf[512], out[600];

	if (len >= sizeof(buf))
		return;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (diagnose_target(buf, 587, &t) == 0) {
		if (t.port == 0 || t.port > 65535 || t.host[0] == '\0')
			abort();
		for (const char *p = t.host; *p; p++)
			if (*p <= ' ' || *p >= 0x7f || strchr("\"'#\\[]^$;", *p))
				abort();
		diagnose_target_format(&t, out, sizeof(out));
	}
	if (diagnose_name_ok(buf) && strpbrk(buf, " :^\"\n\t#") != NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *nl;
	struct smtp_reply r;
	int rc = 0;

	nl = memchr(p, '\n', size);
	fuzz_target(p, nl ? (size_t)(nl - p) : size);
	if (nl == NULL)
		return 0;
	smtp_reply_init(&r);
	for (p = nl + 1; p < end && rc == 0; p = nl ? nl + 1 : end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		rc = smtp_reply_feed(&r, p, nl ? (size_t)(nl - p) : (size_t)(end - p));
	}
	if (rc == 1 && diagnose_reply(&r) > DIAG_REFUSED)
		abort();
	return 0;
}
