/*
 * fuzz_dkim.c - libFuzzer target for dkim.c: the input is a message.
 * Checks: relaxed body output has no WSP before a CRLF, no WSP run, no
 * trailing empty line and ends in CRLF (or is empty); simple body output
 * ends in exactly one CRLF; relaxed header output is one line; the h= list
 * is bounded; the built DKIM-Signature field is folded into lines of at
 * most DKIM_LINE_MAX, continuation lines start with HTAB, and the signed
 * data ends with "b=".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dkim/dkim.h"
#include "lib/msghdr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct acc {
	char last[2];		/* the last two bytes seen */
	size_t n;
	int wsp_crlf;		/* a WSP right before CRLF */
	int wsp_run;		/* two WSP in a row */
	int blank_end;		/* ends in CRLF CRLF */
	char prev;
	char prev2;
};

static void
acc_sink(void *arg, const char *p, size_t n)
{
	struct acc *a = arg;
	size_t i;

	for (i = 0; i < n; i++) {
		char c = p[i];

		if (c == '\n' && a->prev == '\r' && (a->prev2 == ' ' || a->prev2 == '\t'))
			a->wsp_crlf = 1;
		if ((c == ' ' || c == '\t') && (a->prev == ' ' || a->prev == '\t'))
			a->wsp_run = 1;
		a->prev2 = a->prev;
		a->prev = c;
		a->n++;
	}
}

static void
check_body(const char *b, size_t len)
{
	struct acc r = { { 0 }, 0, 0, 0, 0, 0, 0 }, s = r;

	dkim_canon_body(DKIM_CANON_RELAXED, b, len, acc_sink, &r);
	if (r.n > 0 && (r.prev2 != '\r' || r.prev != '\n'))
		abort();
	if (r.wsp_run || r.wsp_crlf)
		abort();
	dkim_canon_body(DKIM_CANON_SIMPLE, b, len, acc_sink, &s);
	if (s.n < 2 || s.prev2 != '\r' || s.prev != '\n')
		abort();
	if (r.n > len + 2 || s.n > len + 2)
		abort();
}

struct line_check {
	size_t col;
	size_t crlfs;
	char prev;
};

static void
line_sink(void *arg, const char *p, size_t n)
{
	struct line_check *l = arg;
	size_t i;

	for (i = 0; i < n; i++) {
		if (l->prev == '\r' && p[i] == '\n')
			l->crlfs++;
		l->prev = p[i];
	}
}

static void
check_headers(const char *s, size_t hdrend)
{
	struct msghdr_field f;
	struct line_check l;
	size_t pos = 0;

	while (msghdr_next(s, hdrend, &pos, &f)) {
		memset(&l, 0, sizeof(l));
		dkim_canon_header(DKIM_CANON_RELAXED, &f, line_sink, &l);
		if (l.crlfs != 1 || l.prev != '\n')
			abort();
	}
}

static void
count_sink(void *arg, const char *p, size_t n)
{
	char *last = arg;

	if (n >= 2) {
		last[0] = p[n - 2];
		last[1] = p[n - 1];
	} else if (n == 1) {
		last[0] = last[1];
		last[1] = p[0];
	}
}

static void
check_sig(const char *s, size_t hdrend)
{
	static char out[DKIM_SIG_MAX];
	struct dkim_hlist h;
	struct dkim_sig sig = { "rsa-sha256", "example.jp", "s202611r", 1700000000, &h,
		"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" };
	char last[2] = { 0, 0 };
	size_t n, i, col = 0;

	dkim_select_headers(s, hdrend, &h);
	if (h.n == 0 || h.n > DKIM_H_MAX)
		abort();
	if ((n = dkim_sig_begin(&sig, out, sizeof(out))) == 0)
		abort();
	dkim_signed_data(s, hdrend, &h, out, n, count_sink, last);
	if (last[0] != 'b' || last[1] != '=')
		abort();
	if ((n = dkim_sig_finish(out, n, sizeof(out), "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=")) == 0)
		abort();
	for (i = 0; i + 2 < n; i++) {
		if (out[i] == '\r' && out[i + 1] == '\n') {
			if (out[i + 2] != '\t')
				abort();
			col = 0;
			i++;
			continue;
		}
		if (++col > DKIM_LINE_MAX)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	size_t hdrend = msghdr_end(s, size), body = dkim_body_offset(s, size);

	if (body < hdrend || body > size)
		abort();
	check_body(s + body, size - body);
	check_headers(s, hdrend);
	check_sig(s, hdrend);
	return 0;
}
