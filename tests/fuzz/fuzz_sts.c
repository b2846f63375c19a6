/*
 * fuzz_sts.c - libFuzzer target for the MTA-STS parsers (RFC 8461): the
 * input is parsed as a TXT record and as a policy file, and its first
 * line is matched as an MX host against the policy. Besides not crashing:
 * an id is 1..32 letters and digits; a parsed policy has a known mode,
 * max_age within bounds, mx patterns of host name bytes, and at least one
 * of them unless the mode is none; a host matches a pattern that is
 * itself (without the wildcard).
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tlspolicy/sts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_txt(const uint8_t *data, size_t size)
{
	char txt[1024], id[STS_ID_MAX + 1];
	size_t n = size < sizeof(txt) - 1 ? size : sizeof(txt) - 1;

	memcpy(txt, data, n);
	txt[n] = '\0';
	if (sts_txt_parse(txt, id, NULL) != 0)
		return;
	if (strlen(id) == 0 || strlen(id) > STS_ID_MAX || !sts_txt_is_sts(txt))
		abort();
	for (const char *p = id; *p; p++)
		if (!isalnum((unsigned char)*p))
			abort();
}

static void
check_policy(const struct sts_policy *p)
{
	if (p->mode > STS_MODE_ENFORCE || p->max_age > STS_MAX_AGE_MAX || p->nmx > STS_MAX_MX ||
	    (p->mode != STS_MODE_NONE && p->nmx == 0))
		abort();
	for (size_t i = 0; i < p->nmx; i++) {
		const char *m = p->mx[i];

		if (*m == '\0' || strchr(m + (m[0] == '*' ? 1 : 0), '*') != NULL)
			abort();
		for (; *m; m++)
			if (*m != '*' && *m != '.' && *m != '-' && *m != '_' &&
			    !(isdigit((unsigned char)*m) || islower((unsigned char)*m)))
				abort();
		if (p->mx[i][0] != '*' && !sts_mx_match(p, p->mx[i]))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sts_policy p;
	char why[128], host[300];
	const uint8_t *nl;
	size_t hn;

	check_txt(data, size);
	if (sts_policy_parse((const char *)data, size, &p, why, sizeof(why)) != 0)
		return 0;
	check_policy(&p);
	nl = memchr(data, '\n', size);
	hn = nl ? (size_t)(nl - data) : size;
	if (hn >= sizeof(host))
		hn = sizeof(host) - 1;
	memcpy(host, data, hn);
	host[hn] = '\0';
	sts_mx_match(&p, host);
	return 0;
}
