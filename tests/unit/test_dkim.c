/*
 * test_dkim.c - golden tests for dkim.c: RFC 6376 section 3.4.5's example,
 * simple and relaxed canonicalisation of bodies and fields, the h= list with
 * over-signing, the folded DKIM-Signature field and the signed data.
 * And dot-stuffing round trips of a signed message (dataend.c): delivery
 * sends the stored bytes stuffed, the receiver unstuffs, the signature must
 * see the same bytes.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/dataend.h"
#include "dkim/dkim.h"
#include "lib/msghdr.h"
#include "t.h"

struct buf {
	char b[16384];
	size_t n;
};

static void
sink(void *arg, const char *p, size_t n)
{
	struct buf *b = arg;

	if (n > sizeof(b->b) - 1 - b->n)
		n = sizeof(b->b) - 1 - b->n;
	memcpy(b->b + b->n, p, n);
	b->n += n;
	b->b[b->n] = '\0';
}

static const char *
body(enum dkim_canon c, const char *in)
{
	static struct buf b;

	b.n = 0;
	b.b[0] = '\0';
	dkim_canon_body(c, in, strlen(in), sink, &b);
	return b.b;
}

/* headers - every field of the block canonicalised, concatenated. */
static const char *
headers(enum dkim_canon c, const char *in)
{
	static struct buf b;
	struct msghdr_field f;
	size_t pos = 0, len = msghdr_end(in, strlen(in));

	b.n = 0;
	b.b[0] = '\0';
	while (msghdr_next(in, len, &pos, &f))
		dkim_canon_header(c, &f, sink, &b);
	return b.b;
}

/* RFC 6376 section 3.4.5, byte for byte. */
static const char rfc_msg[] =
    "A: X\r\n"
    "B : Y\t\r\n"
    "\tZ  \r\n"
    "\r\n"
    " C \r\n"
    "D \t E\r\n"
    "\r\n"
    "\r\n";

static void
test_rfc_example(void)
{
	size_t off = dkim_body_offset(rfc_msg, strlen(rfc_msg));

	T_OK(off == 22, "body offset after the empty line (%zu)", off);
	T_STREQ(headers(DKIM_CANON_RELAXED, rfc_msg), "a:X\r\nb:Y Z\r\n",
	    "3.4.5 relaxed headers");
	T_STREQ(body(DKIM_CANON_RELAXED, rfc_msg + off), " C\r\nD E\r\n",
	    "3.4.5 relaxed body");
	T_STREQ(headers(DKIM_CANON_SIMPLE, rfc_msg), "A: X\r\nB : Y\t\r\n\tZ  \r\n",
	    "3.4.5 simple headers");
	T_STREQ(body(DKIM_CANON_SIMPLE, rfc_msg + off), " C \r\nD \t E\r\n",
	    "3.4.5 simple body");
}

struct body_case {
	const char *in, *simple, *relaxed;
};

static const struct body_case body_cases[] = {
	/* RFC 6376 3.4.3: an empty body is one CRLF (simple); 3.4.4 with
	 * erratum 1384: empty stays empty (relaxed) */
	{ "", "\r\n", "" },
	{ "\r\n", "\r\n", "" },
	{ "\r\n\r\n\r\n", "\r\n", "" },
	{ "a\r\n", "a\r\n", "a\r\n" },
	{ "a", "a\r\n", "a\r\n" },
	{ "a\r\n\r\n\r\n", "a\r\n", "a\r\n" },
	{ "a\r\n\r\nb\r\n\r\n", "a\r\n\r\nb\r\n", "a\r\n\r\nb\r\n" },
	/* whitespace-only lines */
	{ "a\r\n \t \r\nb\r\n", "a\r\n \t \r\nb\r\n", "a\r\n\r\nb\r\n" },
	{ "a\r\n  \r\n\t\r\n", "a\r\n  \r\n\t\r\n", "a\r\n" },
	{ "   \r\n", "   \r\n", "" },
	{ " \r\n\r\n", " \r\n", "" },
	/* trailing and inner WSP */
	{ "a  \r\n", "a  \r\n", "a\r\n" },
	{ "a \t b\t\r\n", "a \t b\t\r\n", "a b\r\n" },
	{ "\ta\r\n", "\ta\r\n", " a\r\n" },
	{ "a\r\n  ", "a\r\n  \r\n", "a\r\n" },
	/* a bare CR or LF is an ordinary byte */
	{ "a\rb\r\n", "a\rb\r\n", "a\rb\r\n" },
	{ "a\nb\r\n", "a\nb\r\n", "a\nb\r\n" },
	{ ".\r\n..x\r\n", ".\r\n..x\r\n", ".\r\n..x\r\n" },
};

static void
test_bodies(void)
{
	size_t i;

	for (i = 0; i < sizeof(body_cases) / sizeof(body_cases[0]); i++) {
		const struct body_case *c = &body_cases[i];

		T_STREQ(body(DKIM_CANON_SIMPLE, c->in), c->simple, "simple body case %zu", i);
		T_STREQ(body(DKIM_CANON_RELAXED, c->in), c->relaxed, "relaxed body case %zu", i);
	}
}

static void
test_long_body(void)
{
	static char in[3 * 5000], want[3 * 5000];
	size_t i, n = 0, w = 0;

	/* long lines with runs of spaces, beyond the 1 KiB output buffer */
	for (i = 0; i < 2000; i++) {
		in[n++] = 'x';
		in[n++] = ' ';
		in[n++] = ' ';
		want[w++] = 'x';
		want[w++] = ' ';
	}
	memcpy(in + n, "\r\n\r\n", 5);
	want[w - 1] = '\r';
	memcpy(want + w, "\n", 2);
	T_STREQ(body(DKIM_CANON_RELAXED, in), want, "relaxed long line");
}

static const char *const header_cases[][3] = {
	/* field, simple, relaxed */
	{ "Subject:  a   b  \r\n\r\n", "Subject:  a   b  \r\n", "subject:a b\r\n" },
	{ "SUBJECT\t:\tx\r\n\r\n", "SUBJECT\t:\tx\r\n", "subject:x\r\n" },
	{ "To: a,\r\n b,\r\n\t c\r\n\r\n", "To: a,\r\n b,\r\n\t c\r\n", "to:a, b, c\r\n" },
	{ "X:\r\n\r\n", "X:\r\n", "x:\r\n" },
	{ "X:   \r\n\r\n", "X:   \r\n", "x:\r\n" },
	{ "X:\r\n folded\r\n\r\n", "X:\r\n folded\r\n", "x:folded\r\n" },
	{ "Subject: caf\xc3\xa9 \r\n\r\n", "Subject: caf\xc3\xa9 \r\n", "subject:caf\xc3\xa9\r\n" },
};

static void
test_headers(void)
{
	size_t i;

	for (i = 0; i < sizeof(header_cases) / sizeof(header_cases[0]); i++) {
		T_STREQ(headers(DKIM_CANON_SIMPLE, header_cases[i][0]), header_cases[i][1],
		    "simple header case %zu", i);
		T_STREQ(headers(DKIM_CANON_RELAXED, header_cases[i][0]), header_cases[i][2],
		    "relaxed header case %zu", i);
	}
}

static const char *
hlist_str(const struct dkim_hlist *h)
{
	static char s[4096];
	size_t i, n = 0;

	s[0] = '\0';
	for (i = 0; i < h->n; i++)
		n += (size_t)snprintf(s + n, sizeof(s) - n, "%s%s", i ? ":" : "", h->names[i]);
	return s;
}

static const char oversigned[] =
    "from:sender:reply-to:subject:date:message-id:to:cc:in-reply-to:references:"
    "mime-version:content-type:content-transfer-encoding:list-id:list-unsubscribe:"
    "list-unsubscribe-post:feedback-id";

static void
test_select(void)
{
	static const char hdrs[] = "Received: x\r\nFrom: a@example.jp\r\nTo: b@x\r\n"
	    "to: c@x\r\nSubject: s\r\nX-Mailer: m\r\nResent-From: r@x\r\n"
	    "List-Post: <mailto:l@x>\r\nDKIM-Signature: v=1\r\n";
	struct dkim_hlist h;
	char want[2048];
	size_t i;

	dkim_select_headers(hdrs, strlen(hdrs), &h);
	/* expected in table order: present names once per field, over-signed +1 */
	snprintf(want, sizeof(want), "from:from:sender:reply-to:subject:subject:date:"
	    "message-id:to:to:to:cc:in-reply-to:references:mime-version:content-type:"
	    "content-transfer-encoding:list-id:list-unsubscribe:list-unsubscribe-post:"
	    "feedback-id:list-post:resent-from");
	T_STREQ(hlist_str(&h), want, "h= list with over-signing: %s", hlist_str(&h));

	dkim_select_headers("X: y\r\n", 6, &h);
	T_STREQ(hlist_str(&h), oversigned, "absent: over-signed names once, others not at all");
	for (i = 0; i < h.n; i++)
		if (strcmp(h.names[i], "received") == 0 || strcmp(h.names[i], "dkim-signature") == 0)
			break;
	T_OK(i == h.n, "Received and DKIM-Signature are never signed");
}

static void
test_select_many(void)
{
	static char hdrs[4096];
	struct dkim_hlist h;
	size_t i, n = 0, count = 0;

	for (i = 0; i < 20; i++)
		n += (size_t)snprintf(hdrs + n, sizeof(hdrs) - n, "To: a%zu@x\r\n", i);
	dkim_select_headers(hdrs, n, &h);
	for (i = 0; i < h.n; i++)
		count += strcmp(h.names[i], "to") == 0;
	T_OK(count == DKIM_H_PER_NAME, "20 To: fields listed %d times (got %zu)",
	    DKIM_H_PER_NAME, count);
}

static struct dkim_hlist test_h = { 5, { "from", "from", "subject", "to", "to" } };

static void
check_lines(const char *s, size_t len, const char *what)
{
	size_t i = 0, e, longest = 0;
	bool cont_ok = true;

	while (i < len) {
		const char *p = strstr(s + i, "\r\n");

		e = p ? (size_t)(p - s) : len;
		if (e - i > longest)
			longest = e - i;
		if (i > 0 && s[i] != '\t')
			cont_ok = false;
		i = p ? e + 2 : len;
	}
	T_OK(longest <= DKIM_LINE_MAX, "%s: longest line %zu <= %d", what, longest, DKIM_LINE_MAX);
	T_OK(cont_ok, "%s: continuation lines start with HTAB", what);
}

static void
test_sig(void)
{
	static const char bh[] = "frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=";
	static char b[700];
	char out[DKIM_SIG_MAX];
	struct dkim_sig sig = { "rsa-sha256", "example.jp", "s202611r", 1700000000, &test_h, bh };
	size_t n, m, i;

	n = dkim_sig_begin(&sig, out, sizeof(out));
	T_OK(n > 0, "sig built");
	T_STREQ(out, "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.jp;\r\n"
	    "\ts=s202611r; t=1700000000; h=from:from:subject:to:to;\r\n"
	    "\tbh=frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=; b=", "sig begin folded as expected");
	for (i = 0; i < 512; i++)
		b[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[i % 64];
	b[512] = '\0';
	m = dkim_sig_finish(out, n, sizeof(out), b);
	T_OK(m > n + 512 && memcmp(out + m - 2, "\r\n", 2) == 0, "sig finished with CRLF");
	check_lines(out, m - 2, "rsa sig");
	T_OK(dkim_sig_begin(&sig, out, 100) == 0, "too small a buffer: 0");
	sig.domain = "exa mple.jp";
	T_OK(dkim_sig_begin(&sig, out, sizeof(out)) == 0, "WSP in d=: refused");
	sig.domain = "a;b";
	T_OK(dkim_sig_begin(&sig, out, sizeof(out)) == 0, "';' in d=: refused");
}

static void
test_sig_long_h(void)
{
	static const char hdrs[] = "From: a@x\r\n";
	char out[DKIM_SIG_MAX];
	struct dkim_hlist h;
	struct dkim_sig sig = { "ed25519-sha256", "a-rather-long-subdomain.example.jp",
		"s202611e", 1700000000, &h, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" };
	size_t n;

	dkim_select_headers(hdrs, strlen(hdrs), &h);
	n = dkim_sig_begin(&sig, out, sizeof(out));
	n = dkim_sig_finish(out, n, sizeof(out),
	    "Zm9vYmFyYmF6Zm9vYmFyYmF6Zm9vYmFyYmF6Zm9vYmFyYmF6Zm9vYmFyYmF6Zm9vYmFyYmF6"
	    "Zm9vYmFyYmF6Zm9vYmFyYmF6Zm9vYmE=");
	T_OK(n > 0, "ed25519 sig built");
	check_lines(out, n - 2, "long h= sig");
}

static void
test_signed_data(void)
{
	static const char msg[] =
	    "Received: by x\r\n"
	    "From: First <a@example.jp>\r\n"
	    "Subject:  one  \r\n"
	    "To: t1@x\r\n"
	    "X-Other: o\r\n"
	    "To: t2@x,\r\n"
	    "  t3@x\r\n"
	    "\r\n"
	    "body\r\n";
	static const char sig[] = "DKIM-Signature: v=1; a=rsa-sha256; d=example.jp;\r\n"
	    "\th=from:from:subject:to:to; bh=abc; b=";
	static struct buf b;
	size_t hdrend = msghdr_end(msg, strlen(msg));

	dkim_signed_data(msg, hdrend, &test_h, sig, strlen(sig), sink, &b);
	/* to:to takes the last To: first (RFC 6376 5.4.2); the extra from adds nothing */
	T_STREQ(b.b, "from:First <a@example.jp>\r\n"
	    "subject:one\r\n"
	    "to:t2@x, t3@x\r\n"
	    "to:t1@x\r\n"
	    "dkim-signature:v=1; a=rsa-sha256; d=example.jp; h=from:from:subject:to:to; bh=abc; b=",
	    "signed data as expected");

	/* names in h= match any case */
	struct dkim_hlist upper = { 2, { "FROM", "Subject" } };

	b.n = 0;
	dkim_signed_data(msg, hdrend, &upper, "DKIM-Signature: b=", 18, sink, &b);
	T_STREQ(b.b, "from:First <a@example.jp>\r\nsubject:one\r\ndkim-signature:b=",
	    "h= names match in any case");
}

/* A signed message survives dot-stuffing and the receiver's unstuffing. */
static void
test_stuffing_roundtrip(void)
{
	static const char msg[] =
	    "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.jp;\r\n"
	    "\ts=s202611r; t=1700000000; h=from:from:subject:subject;\r\n"
	    "\tbh=frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=; b=QUJD\r\n"
	    "From: a@example.jp\r\n"
	    "Subject: dots \xe6\x97\xa5\xe6\x9c\xac\r\n"
	    "\r\n"
	    ".\r\n"
	    "..\r\n"
	    ".leading dot\r\n"
	    "  \r\n"
	    "\xe2\x9c\x89 8-bit line\t \r\n"
	    ". \r\n"
	    "\r\n"
	    "\r\n";
	size_t len = sizeof(msg) - 1, sz = dataend_stuffed_size(msg, len), n, used, outlen;
	char *stuffed = malloc(sz), *back = malloc(sz);
	struct dataend d;
	bool done = false;

	n = dataend_stuff(msg, len, stuffed, sz);
	T_OK(n + 3 == sz, "stuffed size %zu + 3 == %zu", n, sz);
	T_OK(strstr(stuffed, "\r\n...\r\n") != NULL && strstr(stuffed, "\r\n..leading") != NULL,
	    "dots doubled");
	dataend_init(&d, 1 << 20);
	used = dataend_feed(&d, stuffed, sz, back, &outlen, &done);
	T_OK(done && used == sz && d.flags == 0, "receiver sees the end, no flags");
	T_OK(outlen == len && memcmp(back, msg, len) == 0, "unstuffed bytes are the signed bytes");
	free(stuffed);
	free(back);
}

int
main(void)
{
	test_rfc_example();
	test_bodies();
	test_long_body();
	test_headers();
	test_select();
	test_select_many();
	test_sig();
	test_sig_long_h();
	test_signed_data();
	test_stuffing_roundtrip();
	return t_done();
}
