/*
 * fakedns.h - a table of DNS records for the unit tests of the doctor's
 * pure cores: answers go through dns_answer_add() from real wire-format
 * rdata, so the decoding is exercised too.
 *
 * A record is { name, type, value }: A/AAAA numeric text, TXT the text
 * (split into strings of <= 255 bytes here), MX "PREF host", PTR "host".
 * The value "TEMP" makes the query fail temporarily; a name with records of
 * another type only answers NODATA, an unknown name NXDOMAIN.
 */
#ifndef HIKYAKU_FAKEDNS_H
#define HIKYAKU_FAKEDNS_H

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns/dns.h"

struct fake_rr {
	const char *name;
	int type;
	const char *value;
};

struct fake_dns {
	const struct fake_rr *rr;
	int queries;
	char log[4096];		/* "TYPE name;" per query */
};

static size_t
fake_wire_name(const char *name, uint8_t *out)
{
	size_t o = 0;
	const char *p = name;

	while (*p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);

		out[o++] = (uint8_t)n;
		memcpy(out + o, p, n);
		o += n;
		p += n + (dot ? 1 : 0);
	}
	out[o++] = 0;
	return o;
}

static size_t
fake_rdata(int type, const char *v, uint8_t *out)
{
	size_t n = 0, len, k;

	switch (type) {
	case DNS_T_A:
		inet_pton(AF_INET, v, out);
		return 4;
	case DNS_T_AAAA:
		inet_pton(AF_INET6, v, out);
		return 16;
	case DNS_T_MX: {
		unsigned pref = (unsigned)atoi(v);

		out[0] = (uint8_t)(pref >> 8);
		out[1] = (uint8_t)pref;
		return 2 + fake_wire_name(strchr(v, ' ') + 1, out + 2);
	}
	case DNS_T_PTR:
		return fake_wire_name(v, out);
	case DNS_T_TXT:
		len = strlen(v);
		do {
			k = len > 255 ? 255 : len;
			out[n++] = (uint8_t)k;
			memcpy(out + n, v, k);
			n += k;
			v += k;
			len -= k;
		} while (len > 0);
		return n;
	}
	return 0;
}

static const char *
fake_type_name(int t)
{
	return t == DNS_T_A ? "A" : t == DNS_T_AAAA ? "AAAA" : t == DNS_T_MX ? "MX" :
	    t == DNS_T_TXT ? "TXT" : t == DNS_T_PTR ? "PTR" : "?";
}

static enum dns_status
fake_lookup(void *arg, const char *name, int type, struct dns_answer *ans)
{
	struct fake_dns *f = arg;
	uint8_t rdata[70000];
	bool exists = false;
	size_t n, l = strlen(f->log);

	f->queries++;
	snprintf(f->log + l, sizeof(f->log) - l, "%s %s;", fake_type_name(type), name);
	dns_answer_reset(ans, type);
	for (const struct fake_rr *r = f->rr; r->name != NULL; r++) {
		if (strcasecmp(r->name, name) != 0)
			continue;
		exists = true;
		if (r->type != type)
			continue;
		if (strcmp(r->value, "TEMP") == 0) {
			snprintf(ans->why, sizeof(ans->why), "DNS lookup of %s timed out", name);
			return ans->status = DNS_TEMPFAIL;
		}
		n = fake_rdata(type, r->value, rdata);
		dns_answer_add(ans, rdata, n);
	}
	if (ans->n > 0)
		return ans->status = DNS_OK;
	snprintf(ans->why, sizeof(ans->why), "no records for %s", name);
	return ans->status = exists ? DNS_NODATA : DNS_NXDOMAIN;
}

#endif
