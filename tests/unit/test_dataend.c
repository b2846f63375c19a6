/*
 * test_dataend.c - golden tests for the DATA byte machine: bytes after 354 in,
 * message, consumed count, end and flags out. Every case is also fed one
 * byte at a time, split at every position and in random chunks, and must give
 * the same result. Then dot-stuffing, and the round trip.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/dataend.h"
#include "t.h"

#define BIG (64 * 1024)
#define ALL ((size_t)-1)	/* consumed: the whole input */
#define BARE DATAEND_BARE_CRLF
#define LONG DATAEND_LONG_LINE
#define TOOBIG DATAEND_TOO_BIG

struct de_case {
	const char *name;
	const char *in;
	size_t inlen;		/* 0: strlen(in) */
	const char *out;
	size_t outlen;		/* 0: strlen(out) */
	size_t consumed;
	bool done;
	unsigned flags;
	size_t max;		/* 0: unlimited */
};

#define S(x) x, sizeof(x) - 1	/* a literal with NULs, and its length */

static const struct de_case cases[] = {
	{ "empty message", ".\r\n", 0, "", 0, 3, true, 0, 0 },
	{ "one line", "hello\r\n.\r\n", 0, "hello\r\n", 0, 10, true, 0, 0 },
	{ "empty line", "\r\n.\r\n", 0, "\r\n", 0, 5, true, 0, 0 },
	{ "two lines", "a\r\nb\r\n.\r\n", 0, "a\r\nb\r\n", 0, 9, true, 0, 0 },
	{ "pipelined rest left", "hi\r\n.\r\nQUIT\r\n", 0, "hi\r\n", 0, 7, true,
	  0, 0 },
	{ "nothing yet", "", 0, "", 0, 0, false, 0, 0 },
	{ "no end yet", "abc\r\n", 0, "abc\r\n", 0, ALL, false, 0, 0 },
	{ "dot line without CRLF yet", "abc\r\n.", 0, "abc\r\n", 0, ALL, false,
	  0, 0 },
	{ "dot CR without LF yet", "abc\r\n.\r", 0, "abc\r\n", 0, ALL, false,
	  0, 0 },
	/* dot-unstuffing */
	{ "stuffed first line", "..x\r\n.\r\n", 0, ".x\r\n", 0, 8, true, 0, 0 },
	{ "stuffed dot line", "a\r\n..\r\n.\r\n", 0, "a\r\n.\r\n", 0, 10, true,
	  0, 0 },
	{ "stuffed two dots", "a\r\n...\r\n.\r\n", 0, "a\r\n..\r\n", 0, 11,
	  true, 0, 0 },
	{ "unstuffed leading dot dropped", ".x\r\n.\r\n", 0, "x\r\n", 0, 7,
	  true, 0, 0 },
	{ "dot inside line kept", "a.b.\r\n.\r\n", 0, "a.b.\r\n", 0, 9, true,
	  0, 0 },
	{ "dot then space", ". \r\n.\r\n", 0, " \r\n", 0, 7, true, 0, 0 },
	{ "dot then CRLF twice", "..\r\n..\r\n.\r\n", 0, ".\r\n.\r\n", 0, 11,
	  true, 0, 0 },
	/* NUL is data */
	{ "NUL line", S("\r\n\0.\r\n.\r\n"), S("\r\n\0.\r\n"), 9, true, 0, 0 },
	{ "NUL data", S("a\0b\r\n.\r\n"), S("a\0b\r\n"), 8, true, 0, 0 },
	{ "NUL after dot", S(".\0\r\n.\r\n"), S("\0\r\n"), 7, true, 0, 0 },
	/* SMTP smuggling: none of these ends the message */
	{ "LF.LF", "a\n.\nMAIL FROM:<x>\r\n", 0, "a", 0, ALL, false, BARE, 0 },
	{ "CR.CR", "a\r.\rMAIL FROM:<x>\r\n", 0, "a\r", 0, ALL, false, BARE, 0 },
	{ "CR.LF", "a\r.\nMAIL FROM:<x>\r\n", 0, "a\r", 0, ALL, false, BARE, 0 },
	{ "LF.CR", "a\n.\rMAIL FROM:<x>\r\n", 0, "a", 0, ALL, false, BARE, 0 },
	{ "LF.CRLF", "a\n.\r\nMAIL FROM:<x>\r\n", 0, "a", 0, ALL, false, BARE,
	  0 },
	{ "CRLF.LF", "a\r\n.\nMAIL FROM:<x>\r\n", 0, "a\r\n", 0, ALL, false,
	  BARE, 0 },
	{ "CR.CRLF", "a\r.\r\nMAIL FROM:<x>\r\n", 0, "a\r", 0, ALL, false, BARE,
	  0 },
	{ "CRLF.CR", "a\r\n.\rMAIL FROM:<x>\r\n", 0, "a\r\n", 0, ALL, false,
	  BARE, 0 },
	{ "CRLF NUL . CRLF", S("a\r\n\0.\r\nMAIL FROM:<x>\r\n"),
	  S("a\r\n\0.\r\nMAIL FROM:<x>\r\n"), ALL, false, 0, 0 },
	{ "CRLF.CR CR LF", "a\r\n.\r\r\nMAIL\r\n", 0, "a\r\n", 0, ALL, false,
	  BARE, 0 },
	{ "CRLF.CR then CRLF.CRLF", "a\r\n.\r\r\n.\r\n", 0, "a\r\n", 0, ALL,
	  true, BARE, 0 },
	{ "first line LF.LF", ".\n", 0, "", 0, ALL, false, BARE, 0 },
	{ "first line .CR", ".\rX", 0, "", 0, ALL, false, BARE, 0 },
	{ "first line LF", "\n.\r\n", 0, "", 0, ALL, false, BARE, 0 },
	{ "CR CR LF", "a\r\r\n.\r\n", 0, "a\r", 0, 7, true, BARE, 0 },
	{ "CRLF CRLF . CRLF", "a\r\n\r\n.\r\n", 0, "a\r\n\r\n", 0, 8, true, 0,
	  0 },
	/* each smuggling variant, then a real end: ends there, flagged */
	{ "LF.LF then end", "a\n.\nMAIL\r\n.\r\nQUIT\r\n", 0, "a", 0, 13,
	  true, BARE, 0 },
	{ "CR.CR then end", "a\r.\rMAIL\r\n.\r\nQUIT\r\n", 0, "a\r", 0, 13,
	  true, BARE, 0 },
	{ "CR.CRLF then end", "a\r.\r\nMAIL\r\n.\r\nQUIT\r\n", 0, "a\r", 0, 14,
	  true, BARE, 0 },
	{ "CRLF.LF then end", "a\r\n.\nMAIL\r\n.\r\nQUIT\r\n", 0, "a\r\n", 0,
	  14, true, BARE, 0 },
	{ "bare LF mid line", "ab\ncd\r\n.\r\n", 0, "ab", 0, 10, true, BARE, 0 },
	{ "bare CR mid line", "ab\rcd\r\n.\r\n", 0, "ab\r", 0, 10, true, BARE,
	  0 },
	/* size limit */
	{ "exactly max", "abc\r\n.\r\n", 0, "abc\r\n", 0, 8, true, 0, 5 },
	{ "one over max", "abcd\r\n.\r\n", 0, "abcd\r", 0, 9, true, TOOBIG, 5 },
	{ "stuffing not counted", "..\r\n.\r\n", 0, ".\r\n", 0, 7, true, 0, 3 },
	{ "end found when too big", "abcdefgh\r\n.\r\nX", 0, "ab", 0, 13, true,
	  TOOBIG, 2 },
	{ "max 1 empty message", ".\r\n", 0, "", 0, 3, true, 0, 1 },
};

struct result {
	char out[BIG];
	size_t outlen, consumed;
	bool done;
	unsigned flags;
};

/* run - feed in[0..len) in chunks of the sizes chunk() gives. */
static void
run(const char *in, size_t len, size_t max, size_t (*chunk)(size_t, size_t),
    struct result *r)
{
	struct dataend d;
	size_t pos = 0, n, k, ol;

	dataend_init(&d, max != 0 ? max : SIZE_MAX);
	r->outlen = 0;
	r->done = false;
	while (pos < len && !r->done) {
		k = chunk(pos, len - pos);
		n = dataend_feed(&d, in + pos, k, r->out + r->outlen, &ol,
		    &r->done);
		if (n > k || ol > k || (n < k && !r->done))
			break;	/* contract broken: shows as a mismatch */
		r->outlen += ol;
		pos += n;
	}
	if (len == 0) {
		dataend_feed(&d, in, 0, r->out, &ol, &r->done);
		r->outlen = ol;
	}
	r->consumed = pos;
	r->flags = d.flags;
}

static size_t split_at;
static unsigned rng_state;

static size_t
chunk_all(size_t pos, size_t left)
{
	(void)pos;
	return left;
}

static size_t
chunk_one(size_t pos, size_t left)
{
	(void)pos;
	(void)left;
	return 1;
}

static size_t
chunk_split(size_t pos, size_t left)
{
	return pos < split_at && split_at - pos < left ? split_at - pos : left;
}

static size_t
chunk_random(size_t pos, size_t left)
{
	size_t k;

	(void)pos;
	rng_state = rng_state * 1103515245u + 12345u;
	k = 1 + (rng_state >> 16) % 7;
	return k < left ? k : left;
}

static bool
same(const struct result *a, const struct result *b)
{
	return a->outlen == b->outlen && memcmp(a->out, b->out, a->outlen) == 0 &&
	    a->consumed == b->consumed && a->done == b->done &&
	    a->flags == b->flags;
}

static struct result whole, part;

static void
check_case(size_t i, const struct de_case *c)
{
	size_t len = c->inlen != 0 ? c->inlen : strlen(c->in);
	size_t outlen = c->outlen != 0 ? c->outlen : strlen(c->out);
	size_t want_consumed = c->consumed == ALL ? len : c->consumed;
	bool split_ok = true, random_ok = true;
	int round;

	run(c->in, len, c->max, chunk_all, &whole);
	T_OK(whole.outlen == outlen && memcmp(whole.out, c->out, outlen) == 0 &&
	    whole.consumed == want_consumed && whole.done == c->done &&
	    whole.flags == c->flags,
	    "case %zu %s: out %zu/%zu consumed %zu/%zu done %d/%d flags %u/%u",
	    i, c->name, whole.outlen, outlen, whole.consumed, want_consumed,
	    whole.done, c->done, whole.flags, c->flags);
	run(c->in, len, c->max, chunk_one, &part);
	T_OK(same(&whole, &part), "case %zu %s: byte at a time", i, c->name);
	for (split_at = 1; split_at < len; split_at++) {
		run(c->in, len, c->max, chunk_split, &part);
		split_ok = split_ok && same(&whole, &part);
	}
	T_OK(split_ok, "case %zu %s: split at every position", i, c->name);
	for (round = 0, rng_state = (unsigned)i; round < 50; round++) {
		run(c->in, len, c->max, chunk_random, &part);
		random_ok = random_ok && same(&whole, &part);
	}
	T_OK(random_ok, "case %zu %s: random chunks", i, c->name);
}

static void
test_cases(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(i, &cases[i]);
}

/* line_msg - a line of n bytes of c (optionally starting with '.'). */
static size_t
line_msg(char *buf, size_t n, bool dot)
{
	size_t o = 0;

	if (dot)
		buf[o++] = '.';
	memset(buf + o, 'x', n);
	o += n;
	memcpy(buf + o, "\r\n.\r\n", 5);
	return o + 5;
}

static void
test_long_lines(void)
{
	static char buf[4096];
	size_t n;

	n = line_msg(buf, 998, false);
	run(buf, n, 0, chunk_all, &whole);
	T_OK(whole.done && whole.flags == 0 && whole.outlen == 1000,
	    "line of 998");
	n = line_msg(buf, 999, false);
	run(buf, n, 0, chunk_all, &whole);
	T_OK(whole.done && whole.flags == LONG && whole.consumed == n,
	    "line of 999 flagged, end still found");
	run(buf, n, 0, chunk_one, &part);
	T_OK(same(&whole, &part), "line of 999 byte at a time");
	n = line_msg(buf, 998, true);
	run(buf, n, 0, chunk_all, &whole);
	T_OK(whole.done && whole.flags == 0 && whole.outlen == 1000,
	    "stuffed line of 998 + dot");
	n = line_msg(buf, 3000, false);
	run(buf, n, 0, chunk_all, &whole);
	T_OK(whole.done && whole.flags == LONG && whole.outlen == 998,
	    "output stops at the flag");
	/* the count restarts on every line */
	memset(buf, 'x', 998);
	memcpy(buf + 998, "\r\n", 2);
	memset(buf + 1000, 'y', 998);
	memcpy(buf + 1998, "\r\n.\r\n", 5);
	run(buf, 2003, 0, chunk_all, &whole);
	T_OK(whole.done && whole.flags == 0 && whole.outlen == 2000,
	    "two lines of 998");
}

static void
test_after_done(void)
{
	struct dataend d;
	char out[16];
	size_t n, ol = 99;
	bool done = false;

	dataend_init(&d, SIZE_MAX);
	n = dataend_feed(&d, ".\r\n", 3, out, &ol, &done);
	T_OK(n == 3 && done && ol == 0 && d.size == 0, "end");
	done = false;
	n = dataend_feed(&d, "more\r\n", 6, out, &ol, &done);
	T_OK(n == 0 && done && ol == 0, "nothing consumed after the end");
	dataend_init(&d, SIZE_MAX);
	n = dataend_feed(&d, "ab\r\n", 4, out, &ol, &done);
	T_OK(n == 4 && !done && ol == 4 && d.size == 4, "init starts afresh");
}

struct stuff_case {
	const char *in;
	const char *out;	/* with the terminator */
};

static const struct stuff_case stuff_cases[] = {
	{ "", ".\r\n" },
	{ "a\r\n", "a\r\n.\r\n" },
	{ ".a\r\n", "..a\r\n.\r\n" },
	{ "a\r\n.\r\n", "a\r\n..\r\n.\r\n" },
	{ "a\r\n..\r\nb.\r\n", "a\r\n...\r\nb.\r\n.\r\n" },
	{ "\r\n\r\n", "\r\n\r\n.\r\n" },
	/* not CRLF lines: made safe for lenient receivers */
	{ "a", "a\r\n.\r\n" },
	{ "a\r", "a\r\r\n.\r\n" },
	{ "a\n.b\r\n", "a\n..b\r\n.\r\n" },
	{ "a\r.b\r\n", "a\r..b\r\n.\r\n" },
	{ "a\r\n.", "a\r\n..\r\n.\r\n" },
};

static void
test_stuff(void)
{
	char out[256];
	size_t i, in, want, n;

	for (i = 0; i < sizeof(stuff_cases) / sizeof(stuff_cases[0]); i++) {
		in = strlen(stuff_cases[i].in);
		want = strlen(stuff_cases[i].out);
		memset(out, '#', sizeof(out));
		n = dataend_stuff(stuff_cases[i].in, in, out, sizeof(out));
		T_OK(dataend_stuffed_size(stuff_cases[i].in, in) == want &&
		    n + 3 == want && memcmp(out, stuff_cases[i].out, want) == 0 &&
		    out[want] == '#', "stuff case %zu", i);
	}
	memset(out, '#', sizeof(out));
	T_OK(dataend_stuff(".a\r\n", 4, out, 7) == 0 && out[0] == '#',
	    "too small: nothing written");
	T_OK(dataend_stuff(".a\r\n", 4, out, 8) == 5 &&
	    memcmp(out, "..a\r\n.\r\n#", 9) == 0, "exactly enough");
	memset(out, '#', sizeof(out));
	T_OK(dataend_stuff("", 0, out, 2) == 0 && out[0] == '#',
	    "empty message: 2 is too small");
	T_OK(dataend_stuff("", 0, out, 3) == 0 && memcmp(out, ".\r\n#", 4) == 0,
	    "empty message: 3 is enough");
}

/* round_trip - stuff msg, unstuff it back; must give msg and one end. */
static bool
round_trip(const char *msg, size_t len)
{
	static char stuffed[BIG];
	size_t n = dataend_stuff(msg, len, stuffed, sizeof(stuffed));

	memcpy(stuffed + n + 3, "NEXT\r\n", 6);
	run(stuffed, n + 9, 0, chunk_one, &part);
	return part.done && part.flags == 0 && part.consumed == n + 3 &&
	    part.outlen == len && memcmp(part.out, msg, len) == 0;
}

static void
test_round_trip(void)
{
	static char msg[BIG];
	static const struct {
		const char *s;
		size_t n;
	} lines[] = { { "", 0 }, { ".", 1 }, { "..", 2 }, { "a", 1 },
	    { ".a", 2 }, { "a.", 2 }, { " .", 2 }, { "\0.", 2 } };
	size_t i, j, len, nlines;
	bool ok = true;

	T_OK(round_trip("", 0), "round trip empty");
	T_OK(round_trip(".\r\n", 3), "round trip dot line");
	T_OK(round_trip(".\r\n.\r\n..\r\n", 10), "round trip dot lines");
	/* many messages built from tricky lines */
	rng_state = 7;
	for (i = 0; i < 2000; i++) {
		len = 0;
		nlines = 1 + i % 9;
		for (j = 0; j < nlines; j++) {
			size_t k = chunk_random(0, 100) % 8;

			memcpy(msg + len, lines[k].s, lines[k].n);
			len += lines[k].n;
			memcpy(msg + len, "\r\n", 2);
			len += 2;
		}
		ok = ok && round_trip(msg, len);
	}
	T_OK(ok, "round trip of 2000 messages");
}

int
main(void)
{
	test_cases();
	test_long_lines();
	test_after_done();
	test_stuff();
	test_round_trip();
	return t_done();
}
