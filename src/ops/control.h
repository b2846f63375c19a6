/*
 * control.h - the daemon's local control socket, SPOOL/hikyaku.sock
 * (mode 0600, owned by the daemon's user): one request line in, one answer
 * out, then the daemon closes. "hikyaku status" and "hikyaku reload" use
 * it to read the running daemon's state. Read-only: nothing sent on it
 * changes the daemon.
 */
#ifndef HIKYAKU_CONTROL_H
#define HIKYAKU_CONTROL_H

#include <stddef.h>
#include <stdio.h>

struct config;
struct control;
struct event_base;

#define CONTROL_REQUEST_MAX 64
#define CONTROL_ANSWER_MAX (256 * 1024)

/* control_answer_cb - write the answer to request (a line without CRLF) to out. */
typedef void (*control_answer_cb)(void *arg, const char *request, FILE *out);

/*
 * control_open - listen on SPOOL/hikyaku.sock on base (after dropping root,
 * so the socket belongs to the daemon's user). NULL with err filled.
 */
struct control *control_open(struct event_base *base, const struct config *cfg,
    control_answer_cb cb, void *arg, char *err, size_t errsz);
/* control_close - stop listening and remove the socket (answers in progress finish). */
void control_close(struct control *c);

/*
 * control_query - for the CLI: send request to the daemon on cfg's spool
 * and return its answer (NUL-ended, the caller frees), waiting at most
 * timeout_ms. NULL with err filled when no daemon answers.
 */
char *control_query(const struct config *cfg, const char *request, int timeout_ms,
    char *err, size_t errsz);

#endif
