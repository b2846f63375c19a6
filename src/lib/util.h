/*
 * util.h - allocation that never returns NULL, fatal errors, number parsing,
 * random queue ids and small string helpers shared by every module.
 */
#ifndef HIKYAKU_UTIL_H
#define HIKYAKU_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* x* allocators abort with a log line on out-of-memory; callers own the result. */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* fatal - log "fatal: ..." and exit(1): for environment failures at start-up. */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* panic - log "panic: ..." and abort(): for states that are our bug. */
void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * util_parse_size - "1024", "10k", "35M", "2G" (powers of 1024) into *out.
 * Returns 0, or -1 when s is not such a number or overflows.
 */
int util_parse_size(const char *s, uint64_t *out);
/* util_parse_duration - "30", "30s", "5m", "2h", "5d" into seconds. */
int util_parse_duration(const char *s, uint64_t *out);
/*
 * util_parse_rate - "300/1m", "100/h", "5000/1d": N (1..10^9) per a
 * duration (a bare unit means one of it) into *n and *period (seconds > 0).
 * Returns 0 or -1.
 */
int util_parse_rate(const char *s, uint64_t *n, uint64_t *period);
/* util_parse_uint - plain decimal with bounds [min, max]. */
int util_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);

#define QUEUE_ID_LEN 12
/* util_queue_id - a fresh random queue id: QUEUE_ID_LEN chars of [0-9A-Z]. */
void util_queue_id(char out[QUEUE_ID_LEN + 1]);

/* util_random_bytes - len bytes from the CSPRNG (aborts if it fails). */
void util_random_bytes(void *out, size_t len);

/* util_random_password - a generated password of len chars (base62), NUL-ended. */
void util_random_password(char *out, size_t len);

/* util_now_us - wall clock in microseconds. util_now - seconds. */
int64_t util_now_us(void);
int64_t util_now(void);

/* util_rfc5322_date - "Fri, 27 Nov 2026 20:09:55 +0000" for time t (local zone). */
void util_rfc5322_date(int64_t t, char *out, size_t outsz);

/*
 * util_escape - copy s[0..len) into out (size outsz, always NUL-terminated),
 * escaping bytes outside printable ASCII as \xHH, for logs. Truncates.
 */
void util_escape(const char *s, size_t len, char *out, size_t outsz);

/*
 * util_base64_decode - decode RFC 4648 base64 (padding required, no
 * whitespace) from in[0..len) into out (size outsz). Returns the decoded
 * length, or -1 when the input is not base64 or does not fit.
 */
int util_base64_decode(const char *in, size_t len, char *out, size_t outsz);

/*
 * util_base64_encode - RFC 4648 base64 (padded, one line) of in[0..len) into
 * out, NUL-terminated. Returns the length written, or -1 when it does not fit.
 */
int util_base64_encode(const void *in, size_t len, char *out, size_t outsz);

struct sockaddr;

/*
 * util_sockaddr_ip - the numeric address of an IPv4 or IPv6 sa into ip
 * ("?" for another family); returns its port.
 */
unsigned util_sockaddr_ip(const struct sockaddr *sa, char *ip, size_t ipsz);

/*
 * util_read_file - the whole of path (at most max bytes) in a NUL-terminated
 * buffer the caller frees, its length in *len. NULL with errno set (EFBIG
 * when larger than max).
 */
char *util_read_file(const char *path, size_t max, size_t *len);

/* util_strlcpy - BSD strlcpy; returns strlen(src). */
size_t util_strlcpy(char *dst, const char *src, size_t dstsz);

#endif
