/*
 * dkim_bench.c - DKIM signing cost: messages signed per second on one core,
 * for each key type, on a 4 KiB message. Each message is signed from
 * scratch: header selection, body hash, signed data, signature, folding -
 * what dkim_signer_sign() does per key once the key is cached.
 *
 *   build/bench/dkim_bench [SECONDS-PER-KEY]   (default 3)
 *
 * Not a test: meson builds it, "meson test" does not run it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dkim/dkim.h"
#include "dkim/dkim_sign.h"
#include "lib/util.h"

#define MSG_SIZE 4096

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* make_message - a 4 KiB message as hikyaku queues it. */
static size_t
make_message(char *buf, size_t size)
{
	size_t n;

	n = (size_t)snprintf(buf, size,
	    "Received: from home.example.jp ([192.0.2.10])\r\n"
	    "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384)\r\n"
	    "\t(authenticated sender: alice)\r\n"
	    "\tby relay.example.net (hikyaku) with ESMTPSA id Z0V8411P2XM8\r\n"
	    "\tfor <friend@example.com>; Fri, 27 Nov 2026 20:09:55 +0000\r\n"
	    "From: Alice <alice@example.jp>\r\n"
	    "To: Friend <friend@example.com>\r\n"
	    "Subject: benchmark message\r\n"
	    "Date: Fri, 27 Nov 2026 20:09:55 +0000\r\n"
	    "Message-ID: <bench.1@example.jp>\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "\r\n");
	while (n + 80 < size) {
		memset(buf + n, 'x', 76);
		buf[n + 20] = ' ';
		buf[n + 21] = ' ';
		memcpy(buf + n + 76, "\r\n", 2);
		n += 78;
	}
	return n;
}

static void
bench(const char *label, enum dkim_algo algo, int bits, const char *msg, size_t len,
    double seconds)
{
	char err[256], bh[DKIM_BH_LEN + 1], out[DKIM_SIG_MAX];
	struct dkim_key *k = dkim_key_generate(algo, bits, err, sizeof(err));
	double t0, t;
	long n = 0;

	if (k == NULL)
		fatal("%s", err);
	t0 = now_s();
	do {
		dkim_body_hash(msg, len, bh);
		if (dkim_sign_with(k, "example.jp", "s202611", msg, len, bh, 1795800000, out,
		    sizeof(out), err, sizeof(err)) == 0)
			fatal("%s", err);
		n++;
	} while ((t = now_s() - t0) < seconds);
	printf("%-12s %8.0f messages/s per core  (%.1f us each, %ld in %.1f s)\n", label,
	    (double)n / t, t / (double)n * 1e6, n, t);
	dkim_key_free(k);
}

int
main(int argc, char **argv)
{
	static char msg[MSG_SIZE + 1];
	double seconds = argc > 1 ? atof(argv[1]) : 3.0;
	size_t len = make_message(msg, MSG_SIZE);

	if (seconds <= 0)
		seconds = 3.0;
	printf("DKIM signing, %zu-byte message, c=relaxed/relaxed, one thread\n", len);
	bench("rsa-2048", DKIM_RSA_SHA256, 2048, msg, len, seconds);
	bench("rsa-3072", DKIM_RSA_SHA256, 3072, msg, len, seconds);
	bench("ed25519", DKIM_ED25519_SHA256, 0, msg, len, seconds);
	return 0;
}
