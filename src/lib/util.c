/*
 * util.c - allocation, fatal errors, number parsing, ids, dates and escaping.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
#include <netinet/in.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "lib/log.h"
#include "lib/util.h"

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		panic("out of memory allocating %zu bytes", n);
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (p == NULL)
		panic("out of memory allocating %zu x %zu bytes", nmemb, size);
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		panic("out of memory reallocating %zu bytes", n);
	return q;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void
fatal(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_msg(LOG_ERR, "fatal: %s", buf);
	exit(1);
}

void
panic(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_msg(LOG_CRIT, "panic: %s", buf);
	abort();
}

static int
parse_scaled(const char *s, const char *suffixes, const uint64_t *scales,
    uint64_t *out)
{
	char *end;
	unsigned long long v;
	const char *p;
	uint64_t scale = 1;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	if (*end != '\0') {
		if (end[1] != '\0' || (p = strchr(suffixes, *end)) == NULL)
			return -1;
		scale = scales[p - suffixes];
	}
	if (v > UINT64_MAX / scale)
		return -1;
	*out = v * scale;
	return 0;
}

int
util_parse_size(const char *s, uint64_t *out)
{
	static const uint64_t scales[] = { 1024, 1024, 1024 * 1024, 1024 * 1024,
		1024ULL * 1024 * 1024, 1024ULL * 1024 * 1024,
		1024ULL * 1024 * 1024 * 1024, 1024ULL * 1024 * 1024 * 1024 };

	return parse_scaled(s, "kKmMgGtT", scales, out);
}

int
util_parse_duration(const char *s, uint64_t *out)
{
	static const uint64_t scales[] = { 1, 60, 3600, 86400, 7 * 86400 };

	return parse_scaled(s, "smhdw", scales, out);
}

int
util_parse_rate(const char *s, uint64_t *n, uint64_t *period)
{
	char num[32];
	const char *slash = strchr(s, '/');
	size_t len;

	if (slash == NULL || (len = (size_t)(slash - s)) == 0 || len >= sizeof(num))
		return -1;
	memcpy(num, s, len);
	num[len] = '\0';
	if (util_parse_uint(num, 1, 1000000000, n) == -1)
		return -1;
	slash++;
	if (slash[0] != '\0' && slash[1] == '\0' && strchr("smhdw", slash[0]) != NULL) {
		char one[3] = { '1', slash[0], '\0' };

		return util_parse_duration(one, period) == -1 ? -1 : 0;
	}
	if (util_parse_duration(slash, period) == -1 || *period == 0)
		return -1;
	return 0;
}

int
util_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	static const uint64_t none[] = { 1 };
	uint64_t v;

	if (parse_scaled(s, "", none, &v) == -1 || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static void
random_chars(char *out, size_t len, const char *alphabet, size_t alen)
{
	unsigned char rnd[64];
	size_t i, j = sizeof(rnd);

	for (i = 0; i < len; i++) {
		do {
			if (j == sizeof(rnd)) {
				if (RAND_bytes(rnd, sizeof(rnd)) != 1)
					panic("RAND_bytes failed");
				j = 0;
			}
		} while (rnd[j++] >= 256 - 256 % alen);	/* no modulo bias */
		out[i] = alphabet[rnd[j - 1] % alen];
	}
	out[len] = '\0';
}

void
util_queue_id(char out[QUEUE_ID_LEN + 1])
{
	static const char a[] = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ";

	random_chars(out, QUEUE_ID_LEN, a, sizeof(a) - 1);
}

void
util_random_bytes(void *out, size_t len)
{
	if (RAND_bytes(out, (int)len) != 1)
		panic("RAND_bytes failed");
}

void
util_random_password(char *out, size_t len)
{
	static const char a[] =
	    "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

	random_chars(out, len, a, sizeof(a) - 1);
}

int64_t
util_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
util_now(void)
{
	return (int64_t)time(NULL);
}

void
util_rfc5322_date(int64_t t, char *out, size_t outsz)
{
	static const char *days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t tt = (time_t)t;
	struct tm tm;
	long off;

	localtime_r(&tt, &tm);
	off = tm.tm_gmtoff / 60;
	snprintf(out, outsz, "%s, %d %s %d %02d:%02d:%02d %c%02ld%02ld",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900,
	    tm.tm_hour, tm.tm_min, tm.tm_sec, off < 0 ? '-' : '+',
	    labs(off) / 60, labs(off) % 60);
}

void
util_escape(const char *s, size_t len, char *out, size_t outsz)
{
	size_t i, o = 0;
	unsigned char c;

	if (outsz == 0)
		return;
	for (i = 0; i < len && o + 5 < outsz; i++) {
		c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '\\')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, outsz - o, "\\x%02X", c);
	}
	out[o] = '\0';
}

char *
util_read_file(const char *path, size_t max, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n;
	int saved;

	if (f == NULL)
		return NULL;
	buf = xmalloc(max + 2);
	n = fread(buf, 1, max + 1, f);
	if (ferror(f) || n > max) {
		saved = ferror(f) ? errno : EFBIG;
		fclose(f);
		free(buf);
		errno = saved;
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

size_t
util_strlcpy(char *dst, const char *src, size_t dstsz)
{
	size_t n = strlen(src);

	if (dstsz > 0) {
		size_t c = n < dstsz - 1 ? n : dstsz - 1;

		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

static bool
base64_char(char c)
{
	return isalnum((unsigned char)c) || c == '+' || c == '/';
}

int
util_base64_decode(const char *in, size_t len, char *out, size_t outsz)
{
	unsigned char tmp[4096];
	size_t i, pad = 0;
	int n;

	if (len == 0)
		return 0;
	if (len % 4 != 0 || len / 4 * 3 > sizeof(tmp))
		return -1;
	if (in[len - 1] == '=')
		pad = in[len - 2] == '=' ? 2 : 1;
	for (i = 0; i < len - pad; i++)
		if (!base64_char(in[i]))
			return -1;
	n = EVP_DecodeBlock(tmp, (const unsigned char *)in, (int)len);
	if (n < 0 || (size_t)n < pad || (size_t)n - pad > outsz) {
		OPENSSL_cleanse(tmp, sizeof(tmp));
		return -1;
	}
	memcpy(out, tmp, (size_t)n - pad);
	OPENSSL_cleanse(tmp, sizeof(tmp));
	return n - (int)pad;
}

int
util_base64_encode(const void *in, size_t len, char *out, size_t outsz)
{
	if (len > (size_t)INT_MAX / 2 || (len + 2) / 3 * 4 + 1 > outsz)
		return -1;
	return EVP_EncodeBlock((unsigned char *)out, in, (int)len);
}

unsigned
util_sockaddr_ip(const struct sockaddr *sa, char *ip, size_t ipsz)
{
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

	if (sa->sa_family == AF_INET && inet_ntop(AF_INET, &s4->sin_addr, ip, (socklen_t)ipsz))
		return ntohs(s4->sin_port);
	if (sa->sa_family == AF_INET6 && inet_ntop(AF_INET6, &s6->sin6_addr, ip, (socklen_t)ipsz))
		return ntohs(s6->sin6_port);
	util_strlcpy(ip, "?", ipsz);
	return 0;
}
