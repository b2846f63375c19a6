/*
 * fuzz_dataend.c - differential libFuzzer target for dataend.c.
 *
 * 1. The input (after a 4-byte seed) is turned into a message of CRLF lines
 *    of at most 998 bytes, dot-stuffed with dataend_stuff(), followed by a
 *    pipelined "QUIT\r\n", and fed to the unstuffer in chunks the seed picks.
 *    It must give back the message exactly, unflagged, and find one end only:
 *    right after the terminator, leaving the QUIT.
 * 2. The raw input is fed whole and one byte at a time: both must agree, and
 *    an end, when found, must be a real <CRLF>.<CRLF>.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/dataend.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct feed {
	char *out;
	size_t outlen, consumed;
	bool done;
	unsigned flags;
};

static uint32_t
next_rand(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/* make_message - CRLF lines of at most 998 bytes from raw bytes. */
static size_t
make_message(const uint8_t *d, size_t n, char *msg)
{
	size_t i, o = 0, line = 0;

	for (i = 0; i < n; i++) {
		if (d[i] == '\r')
			continue;
		if (d[i] == '\n' || line == 998) {
			msg[o++] = '\r';
			msg[o++] = '\n';
			line = 0;
			if (d[i] == '\n')
				continue;
		}
		msg[o++] = (char)d[i];
		line++;
	}
	if (line > 0) {
		msg[o++] = '\r';
		msg[o++] = '\n';
	}
	return o;
}

/* run - feed in[0..len) in chunks of 1..chunk_max bytes (seeded). */
static void
run(const char *in, size_t len, size_t max, uint32_t seed, size_t chunk_max,
    struct feed *f)
{
	struct dataend d;
	size_t k, n, ol;

	dataend_init(&d, max);
	f->outlen = f->consumed = 0;
	f->done = false;
	while (f->consumed < len && !f->done) {
		k = chunk_max == 1 ? 1 : 1 + next_rand(&seed) % chunk_max;
		if (k > len - f->consumed)
			k = len - f->consumed;
		n = dataend_feed(&d, in + f->consumed, k, f->out + f->outlen, &ol,
		    &f->done);
		if (n > k || ol > k || (n < k && !f->done) || ol > n)
			abort();
		f->outlen += ol;
		f->consumed += n;
	}
	if (f->done && (dataend_feed(&d, "x", 1, f->out, &ol, &f->done) != 0 ||
	    !f->done))
		abort();
	f->flags = d.flags;
}

static void
differential(const uint8_t *d, size_t n, uint32_t seed)
{
	char *msg = malloc(2 * n + 16), *st;
	size_t mlen = make_message(d, n, msg), slen;
	struct feed f;

	slen = dataend_stuffed_size(msg, mlen);
	st = malloc(slen + 6);
	f.out = malloc(slen + 6);
	if (dataend_stuff(msg, mlen, st, slen) + 3 != slen)
		abort();
	memcpy(st + slen, "QUIT\r\n", 6);
	run(st, slen + 6, SIZE_MAX, seed, 1 + seed % 97, &f);
	if (!f.done || f.consumed != slen || f.flags != 0 ||
	    f.outlen != mlen || memcmp(f.out, msg, mlen) != 0)
		abort();
	free(f.out);
	free(st);
	free(msg);
}

static void
raw(const char *s, size_t n, uint32_t seed)
{
	size_t max = seed & 1 ? SIZE_MAX : seed % 4096;
	struct feed a, b;

	a.out = malloc(n + 1);
	b.out = malloc(n + 1);
	run(s, n, max, seed, n + 1, &a);
	run(s, n, max, seed, 1, &b);
	if (a.outlen != b.outlen || memcmp(a.out, b.out, a.outlen) != 0 ||
	    a.consumed != b.consumed || a.done != b.done || a.flags != b.flags)
		abort();
	if (a.done && (a.consumed < 3 || memcmp(s + a.consumed - 3, ".\r\n", 3) ||
	    (a.consumed > 3 && (a.consumed < 5 ||
	    memcmp(s + a.consumed - 5, "\r\n", 2) != 0))))
		abort();
	if (a.flags == 0 && a.outlen > a.consumed)
		abort();
	free(a.out);
	free(b.out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t seed = 1;

	if (size >= 4) {
		memcpy(&seed, data, 4);
		seed |= 1;	/* xorshift needs a non-zero state */
		data += 4;
		size -= 4;
	}
	differential(data, size, seed);
	raw((const char *)data, size, seed);
	return 0;
}
