/*
 * sts.h - MTA-STS (RFC 8461) pure cores: the policy file, and whether an
 * MX host matches a policy's mx patterns (the TXT record: lib/tlsrec.h).
 *
 * No I/O, no globals, no allocation. Every input is hostile: it comes from
 * DNS or from a web server the recipient domain controls.
 */
#ifndef HIKYAKU_STS_H
#define HIKYAKU_STS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/tlsrec.h"	/* the _mta-sts TXT record */

#define STS_MAX_MX 32			/* mx patterns kept per policy */
#define STS_POLICY_MAX (64 * 1024)	/* a longer policy file is refused */
#define STS_MAX_AGE_MAX 31557600	/* RFC 8461 3.2: about a year */

enum sts_mode { STS_MODE_NONE, STS_MODE_TESTING, STS_MODE_ENFORCE };

struct sts_policy {
	enum sts_mode mode;
	uint32_t max_age;		/* seconds, at most STS_MAX_AGE_MAX */
	char mx[STS_MAX_MX][256];	/* "mx.example.com" or "*.example.com", lower case */
	size_t nmx;
};

/* sts_mode_name - "none", "testing", "enforce". */
const char *sts_mode_name(enum sts_mode m);

/*
 * sts_policy_parse - a policy file (RFC 8461 3.2): "key: value" lines
 * ended by LF or CRLF. version must be STSv1; mode and max_age are
 * required (max_age above STS_MAX_AGE_MAX is lowered to it); at least one
 * mx unless mode is none; unknown keys are ignored; of a repeated key other
 * than mx the first counts. 0, or -1 with why filled.
 */
int sts_policy_parse(const char *text, size_t len, struct sts_policy *out, char *why,
    size_t whysz);

/*
 * sts_mx_match - whether host (an MX host name, any case, a trailing dot
 * allowed) matches one of p's patterns: equal, or "*.rest" where host is
 * one label followed by ".rest" (RFC 8461 4.1).
 */
bool sts_mx_match(const struct sts_policy *p, const char *host);

#endif
