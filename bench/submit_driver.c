/*
 * submit_driver.c - load for authenticated submission over implicit TLS:
 * S sessions (one thread each) connect with TLS, say EHLO, AUTH PLAIN, and
 * then send their share of M messages of SIZE bytes, MAIL/RCPT/DATA
 * pipelined. Every session is set up before the clock starts; reported are
 * messages per second and the latency from the final "." to the 250, as
 * one JSON line:
 *
 *   submit_driver HOST PORT USER PASSWORD SESSIONS MESSAGES SIZE
 *   {"messages": 2000, "seconds": 1.93, "msg_per_s": 1036.2, "p50_ms": 8.1,
 *    "p99_ms": 21.7, "errors": 0}
 *
 * A benchmark tool, not part of hikyaku: the certificate is not verified.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

struct conn {
	SSL *ssl;
	int fd;
	char buf[8192];
	size_t len;
};

struct worker {
	pthread_t tid;
	int n;			/* messages to send */
	double *lat;		/* seconds, n entries */
	int sent;
	int errors;
};

static const char *host, *user, *pass;
static int port, size;
static char *message;
static size_t message_len;
static SSL_CTX *ctx;
static pthread_barrier_t ready;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
send_all(struct conn *c, const char *p, size_t n)
{
	while (n > 0) {
		int w = SSL_write(c->ssl, p, n > 1 << 30 ? 1 << 30 : (int)n);

		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* reply - read one (possibly multi-line) reply; its code, or -1. */
static int
reply(struct conn *c)
{
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);

		if (nl != NULL) {
			size_t linelen = (size_t)(nl - c->buf) + 1;
			int code = atoi(c->buf), last = linelen > 3 && c->buf[3] == ' ';

			memmove(c->buf, nl + 1, c->len - linelen);
			c->len -= linelen;
			if (last)
				return code;
			continue;
		}
		if (c->len == sizeof(c->buf))
			return -1;
		int r = SSL_read(c->ssl, c->buf + c->len, (int)(sizeof(c->buf) - c->len));

		if (r <= 0)
			return -1;
		c->len += (size_t)r;
	}
}

static int
expect(struct conn *c, int want)
{
	return reply(c) == want ? 0 : -1;
}

static int
session_open(struct conn *c)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	unsigned char plain[512];
	char b64[800], line[900];
	int one = 1, n;

	memset(c, 0, sizeof(*c));
	inet_pton(AF_INET, host, &sa.sin_addr);
	if ((c->fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) == -1)
		return -1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->ssl = SSL_new(ctx);
	SSL_set_fd(c->ssl, c->fd);
	if (SSL_connect(c->ssl) != 1 || expect(c, 220) == -1)
		return -1;
	if (send_all(c, "EHLO bench.client\r\n", 19) == -1 || expect(c, 250) == -1)
		return -1;
	n = snprintf((char *)plain, sizeof(plain), "%c%s%c%s", 0, user, 0, pass);
	EVP_EncodeBlock((unsigned char *)b64, plain, n);
	n = snprintf(line, sizeof(line), "AUTH PLAIN %s\r\n", b64);
	if (send_all(c, line, (size_t)n) == -1 || expect(c, 235) == -1)
		return -1;
	return 0;
}

static int
send_one(struct conn *c, double *lat)
{
	static const char env[] = "MAIL FROM:<bench@example.org>\r\nRCPT TO:<rcpt@example.net>\r\n"
	    "DATA\r\n";
	double t0;

	if (send_all(c, env, sizeof(env) - 1) == -1 || expect(c, 250) == -1 ||
	    expect(c, 250) == -1 || expect(c, 354) == -1)
		return -1;
	if (send_all(c, message, message_len) == -1)
		return -1;
	t0 = now_s();
	if (expect(c, 250) == -1)
		return -1;
	*lat = now_s() - t0;
	return 0;
}

static void *
run(void *arg)
{
	struct worker *w = arg;
	struct conn c;
	int ok = session_open(&c) == 0;

	if (!ok)
		w->errors++;
	pthread_barrier_wait(&ready);
	pthread_barrier_wait(&ready);	/* the clock starts */
	for (int i = 0; ok && i < w->n; i++) {
		if (send_one(&c, &w->lat[w->sent]) == 0)
			w->sent++;
		else {
			w->errors++;
			ok = 0;
		}
	}
	if (ok) {
		send_all(&c, "QUIT\r\n", 6);
		reply(&c);
	}
	if (c.ssl != NULL)
		SSL_free(c.ssl);
	if (c.fd > 0)
		close(c.fd);
	return NULL;
}

static void
build_message(void)
{
	static const char head[] = "From: Bench <bench@example.org>\r\nTo: rcpt@example.net\r\n"
	    "Subject: submission benchmark\r\nDate: Tue, 01 Dec 2026 12:00:00 +0000\r\n"
	    "Message-ID: <bench@bench.client>\r\n\r\n";
	size_t n = strlen(head);

	message = malloc((size_t)size + 200);
	memcpy(message, head, n);
	while (n + 80 < (size_t)size) {
		memset(message + n, 'x', 76);
		memcpy(message + n + 76, "\r\n", 2);
		n += 78;
	}
	memcpy(message + n, "end\r\n.\r\n", 8);
	message_len = n + 8;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	int sessions, messages, sent = 0, errors = 0, k = 0;
	struct worker *w;
	double t0, secs, *all;

	if (argc != 8) {
		fprintf(stderr, "usage: submit_driver HOST PORT USER PASSWORD SESSIONS MESSAGES SIZE\n");
		return 2;
	}
	host = argv[1];
	port = atoi(argv[2]);
	user = argv[3];
	pass = argv[4];
	sessions = atoi(argv[5]);
	messages = atoi(argv[6]);
	size = atoi(argv[7]);
	if (sessions < 1 || messages < sessions || size < 300)
		return 2;
	build_message();
	ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	w = calloc((size_t)sessions, sizeof(*w));
	pthread_barrier_init(&ready, NULL, (unsigned)sessions + 1);
	for (int i = 0; i < sessions; i++) {
		w[i].n = messages / sessions + (i < messages % sessions);
		w[i].lat = calloc((size_t)w[i].n, sizeof(double));
		pthread_create(&w[i].tid, NULL, run, &w[i]);
	}
	pthread_barrier_wait(&ready);
	t0 = now_s();
	pthread_barrier_wait(&ready);
	for (int i = 0; i < sessions; i++)
		pthread_join(w[i].tid, NULL);
	secs = now_s() - t0;
	all = calloc((size_t)messages, sizeof(double));
	for (int i = 0; i < sessions; i++) {
		memcpy(all + k, w[i].lat, (size_t)w[i].sent * sizeof(double));
		k += w[i].sent;
		sent += w[i].sent;
		errors += w[i].errors;
	}
	qsort(all, (size_t)k, sizeof(double), cmp);
	printf("{\"messages\": %d, \"seconds\": %.3f, \"msg_per_s\": %.1f, \"p50_ms\": %.2f,"
	    " \"p99_ms\": %.2f, \"errors\": %d}\n", sent, secs, sent / secs,
	    k ? all[k / 2] * 1000 : 0.0, k ? all[(k * 99 + 99) / 100 - 1] * 1000 : 0.0, errors);
	return errors != 0;
}
