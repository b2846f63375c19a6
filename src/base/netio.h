/*
 * netio.h - one network connection on the event loop: buffered reads and
 * writes, line framing with a length limit, timeouts, TLS (implicit, or
 * STARTTLS with the unread input discarded), and a one-shot timer.
 *
 * The SMTP session sees only this interface, never libevent or OpenSSL.
 * A netio owns its socket and closes it in netio_free().
 */
#ifndef HIKYAKU_NETIO_H
#define HIKYAKU_NETIO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "base/tls.h"

struct event_base;
struct netio;

struct netio_cbs {
	void (*on_input)(struct netio *io, void *arg);	/* new bytes arrived */
	/* on_close - the peer closed, an error or timeout happened, or a
	 * close requested with netio_close_when_flushed() completed. The
	 * callee must netio_free(io). why is for the log. */
	void (*on_close)(struct netio *io, void *arg, const char *why);
	void (*on_tls)(struct netio *io, void *arg);	/* handshake completed */
	void (*on_connected)(struct netio *io, void *arg);	/* netio_connect succeeded */
};

/* netio_new - wrap accepted socket fd; with tls set, start an implicit TLS handshake. */
struct netio *netio_new(struct event_base *base, int fd, struct tls_ctx *tls,
    const struct netio_cbs *cbs, void *arg);
void netio_free(struct netio *io);

/*
 * netio_connect - start a non-blocking TCP connection to sa; on_connected
 * runs when it is up, on_close when it fails or takes longer than timeout
 * seconds. NULL when no socket could be made (errno set).
 */
struct netio *netio_connect(struct event_base *base, const struct sockaddr *sa, socklen_t salen,
    unsigned timeout, const struct netio_cbs *cbs, void *arg);

/* netio_set_timeout - idle limit for reads and writes, in seconds. */
void netio_set_timeout(struct netio *io, unsigned seconds);

enum netio_line { NETIO_LINE, NETIO_NEED_MORE, NETIO_TOO_LONG };

/*
 * netio_read_line - take one CRLF-terminated line (CRLF removed, any bare CR
 * or LF left inside it) into buf (size bufsz, NUL-terminated, *len set).
 * A line longer than max bytes including CRLF is discarded up to its CRLF
 * and reported once, as NETIO_TOO_LONG, when its end arrives.
 */
enum netio_line netio_read_line(struct netio *io, char *buf, size_t bufsz, size_t max,
    size_t *len);

/* netio_peek - the first contiguous chunk of unread input (NULL, 0 if none). */
const char *netio_peek(struct netio *io, size_t *len);
/* netio_drain - consume n bytes of input. */
void netio_drain(struct netio *io, size_t n);
/* netio_input_len - bytes of unread input. */
size_t netio_input_len(struct netio *io);

void netio_write(struct netio *io, const char *buf, size_t len);
void netio_printf(struct netio *io, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * netio_starttls - after the pending output ("220 Ready") has been written,
 * discard every unread byte and start a TLS handshake (CVE-2011-0411).
 * on_tls runs when it completes; on_close if it fails.
 */
void netio_starttls(struct netio *io, struct tls_ctx *tls, const char *servername);
/*
 * netio_starttls_expect - netio_starttls for a client connection whose server
 * is checked against expect (SNI, name, TLSA); it must outlive io.
 */
void netio_starttls_expect(struct netio *io, struct tls_ctx *tls, const struct tls_expect *expect);
/* netio_tls_check - the verdict on the server's certificate, once TLS is up. */
enum tls_check netio_tls_check(struct netio *io, char *why, size_t whysz);
/* netio_tls_verified - whether the peer's certificate verified (client side). */
bool netio_tls_verified(struct netio *io);
bool netio_is_tls(struct netio *io);
/* netio_handshaking - a TLS handshake is pending or under way: nothing can be written. */
bool netio_handshaking(struct netio *io);
/* netio_tls_describe - protocol and cipher, when netio_is_tls(). */
void netio_tls_describe(struct netio *io, char *version, size_t vsz, char *cipher, size_t csz);

/* netio_local_ip - our end's address as text ("" when unknown). */
void netio_local_ip(struct netio *io, char *ip, size_t ipsz);

/* netio_close_when_flushed - stop reading; on_close once the output is written. */
void netio_close_when_flushed(struct netio *io);

/* netio_pause - stop (true) or resume (false) delivering on_input. */
void netio_pause(struct netio *io, bool paused);

/* netio_after - call fn(io, arg) once after seconds; replaces a pending one. */
void netio_after(struct netio *io, unsigned seconds, void (*fn)(struct netio *, void *));

#endif
