/*
 * fuzz_spf.c - libFuzzer target for the SPF evaluator and macro expander.
 * The input is split at LF into records; a made-up DNS answers every TXT
 * query with the record picked by a hash of the name (so includes and
 * redirects recurse into fuzzed records), A/AAAA/MX/PTR queries with
 * answers derived from the name, some of them temporary failures. Besides
 * not crashing: the result is a known one, the lookup limits hold, every
 * string in the outcome is terminated within its bounds.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "doctor/spf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LINES 16

struct fz {
	const char *line[LINES];
	size_t len[LINES];
	size_t n;
	int queries;
};

static unsigned
hash(const char *s)
{
	unsigned h = 5381;

	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h;
}

static void
add_name(struct dns_answer *ans, const char *name)
{
	uint8_t w[300];
	size_t o = 0;
	const char *p = name;

	while (*p && o < 250) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);

		if (n == 0 || n > 63 || o + n + 2 > 250)
			return;
		w[o++] = (uint8_t)n;
		memcpy(w + o, p, n);
		o += n;
		p += n + (dot ? 1 : 0);
	}
	w[o++] = 0;
	dns_answer_add(ans, w, o);
}

static enum dns_status
fz_lookup(void *arg, const char *name, int type, struct dns_answer *ans)
{
	struct fz *f = arg;
	unsigned h = hash(name) + (unsigned)type;
	uint8_t rd[4100], a[16] = { 198, 18, 0, (uint8_t)(h & 7) };

	f->queries++;
	dns_answer_reset(ans, type);
	if (h % 13 == 0)
		return ans->status = DNS_TEMPFAIL;
	if (h % 7 == 0)
		return ans->status = DNS_NXDOMAIN;
	if (type == DNS_T_TXT && f->n > 0) {
		size_t i = h % f->n, len = f->len[i], o = 0, k;

		for (k = 0; k < len && o + 256 < sizeof(rd); k += 255) {
			size_t c = len - k > 255 ? 255 : len - k;

			rd[o++] = (uint8_t)c;
			memcpy(rd + o, f->line[i] + k, c);
			o += c;
		}
		if (o == 0)
			rd[o++] = 0;
		dns_answer_add(ans, rd, o);
	} else if (type == DNS_T_A || type == DNS_T_AAAA) {
		dns_answer_add(ans, a, type == DNS_T_A ? 4 : 16);
	} else if (type == DNS_T_MX || type == DNS_T_PTR) {
		for (unsigned k = 0; k < (h % 13); k++) {
			char n[64];
			uint8_t w[80];

			if (type == DNS_T_PTR) {
				snprintf(n, sizeof(n), "h%u.fz.example", (h + k) % 5);
				add_name(ans, n);
				continue;
			}
			snprintf(n, sizeof(n), "mx%u.fz.example", k);
			w[0] = 0;
			w[1] = (uint8_t)k;
			memcpy(w + 2, "\x04" "mx00" "\x02" "fz" "\x07" "example" "\x00", 17);
			w[5] = (uint8_t)('0' + k % 10);
			dns_answer_add(ans, w, 19);
		}
	}
	ans->status = ans->n > 0 ? DNS_OK : DNS_NODATA;
	return ans->status;
}

static void
check_outcome(const struct spf_outcome *o, int queries)
{
	if (o->result < SPF_NONE || o->result > SPF_PERMERROR)
		abort();
	if (o->lookups > SPF_LOOKUP_MAX + 1 || o->voids > SPF_VOID_MAX + 1)
		abort();
	if (memchr(o->term, 0, sizeof(o->term)) == NULL ||
	    memchr(o->problem, 0, sizeof(o->problem)) == NULL ||
	    memchr(o->explanation, 0, sizeof(o->explanation)) == NULL ||
	    memchr(o->record, 0, sizeof(o->record)) == NULL)
		abort();
	if (o->insert_at > strlen(o->record))
		abort();
	/* 10 terms, each at most 1 + 10 queries, plus %{p}, exp and the records */
	if (queries > 400)
		abort();
}

static void
fuzz_expand(const struct spf_request *req, const char *s, size_t len)
{
	char out[SPF_EXPAND_MAX + 1], err[200];

	if (spf_expand(req, "fz.example", "p.fz.example", s, len, true, out, sizeof(out), err,
	    sizeof(err)) == 0 && strlen(out) > SPF_EXPAND_MAX)
		abort();
	if (spf_expand(req, "fz.example", NULL, s, len, false, out, sizeof(out), err,
	    sizeof(err)) == 0 && strlen(out) > DNS_NAME_MAX)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct spf_ctx ctx;
	static struct spf_outcome out;
	struct fz f = { .n = 0 };
	struct spf_request req = { .sender = "user@fz.example", .domain = "fz.example",
		.helo = "relay.fz.example", .receiver = "fz.example", .now = 1,
		.lookup = fz_lookup, .lookup_arg = &f };
	const char *p = (const char *)data, *end = p + size, *nl;
	char fixed[SPF_RECORD_MAX + 64];

	while (p < end && f.n < LINES) {
		nl = memchr(p, '\n', (size_t)(end - p));
		f.line[f.n] = p;
		f.len[f.n++] = nl ? (size_t)(nl - p) : (size_t)(end - p);
		p = nl ? nl + 1 : end;
	}
	req.ip.family = size > 0 && (data[0] & 1) ? AF_INET6 : AF_INET;
	memcpy(req.ip.addr, "\xc6\x12\x00\x05\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x05", 16);
	spf_check(&req, &ctx, &out);
	check_outcome(&out, f.queries);
	if (spf_insert(out.record, out.insert_at, "ip4:198.18.0.5", fixed, sizeof(fixed)) == 0 &&
	    spf_is_record(fixed, strlen(fixed))) {
		req.override = fixed;
		f.queries = 0;
		spf_check(&req, &ctx, &out);
		check_outcome(&out, f.queries);
	}
	for (size_t i = 0; i < f.n; i++)
		fuzz_expand(&req, f.line[i], f.len[i]);
	return 0;
}
