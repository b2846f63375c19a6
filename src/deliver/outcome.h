/*
 * outcome.h - what a delivery attempt means for the queue: per recipient
 * sent, deferred (with the next retry time) or bounced; expiry after
 * queue-lifetime; one DSN to the sender for the recipients that failed (never
 * to <>); a delay warning once per message; removal of a finished message.
 *
 * outcome_apply() runs inside a store transaction (the queue writer's, or
 * the CLI's for "queue bounce"), so the state change, the DSN and the
 * removal commit together or not at all.
 */
#ifndef HIKYAKU_OUTCOME_H
#define HIKYAKU_OUTCOME_H

#include <stddef.h>
#include <stdint.h>

#include "lib/reply.h"
#include "lib/smtp_limits.h"
#include "base/store.h"

struct config;
struct dkim_signer;

enum outcome_state { OUTCOME_SENT, OUTCOME_DEFERRED, OUTCOME_BOUNCED };

struct outcome_rcpt {
	char rcpt[ADDR_MAX + 1];
	enum reply_kind kind;	/* of this attempt: OK sent, TEMPFAIL, PERMFAIL */
	char reply[640];	/* one line: "550 5.1.1 <x>: no such user", or our reason */
	char dsn[16];		/* enhanced status */
	char relay[300];	/* "mx.example.org[192.0.2.1]:25", or "none" */
	char tls[64];		/* "TLSv1.3/unverified", "none" */
	/* set by outcome_apply: */
	enum outcome_state final_state;
	int attempts;			/* attempts made, this one included */
	int64_t next_attempt;
};

struct outcome {
	char msg[16];
	struct outcome_rcpt *rcpts;	/* owned by whoever made the outcome */
	size_t n;
	int64_t now;
	const struct config *cfg;
	struct dkim_signer *signer;	/* signs DSNs and delay warnings; NULL: unsigned */
	/* set by outcome_apply: */
	int64_t arrival;
	char bounce_id[16];	/* a DSN was queued */
	char warning_id[16];	/* a delay warning was queued */
	char dkim_note[2][200];	/* how the DSN and the warning were signed, for the log */
	int removed;		/* the message left the queue */
	int gone;		/* the message was no longer there (deleted meanwhile) */
};

/* outcome_apply - record o in st (see above). Call within a transaction. */
enum store_result outcome_apply(struct store *st, void *o);

/* outcome_backoff - seconds before retry number attempts (1, 2 ...). Pure. */
int64_t outcome_backoff(const struct config *cfg, int attempts);

/*
 * outcome_log - one log line per recipient, after the transaction
 * committed; counts the outcomes and DSNs (base/metrics.h) and remembers
 * the last failures for "hikyaku status". Loop thread only.
 */
void outcome_log(const struct outcome *o);

/* A recent delivery failure (deferred or bounced recipient). */
struct outcome_error {
	int64_t when;
	char msg[16];
	char rcpt[ADDR_MAX + 1];
	char status[16];	/* "deferred", "bounced" */
	char dsn[16];
	char reply[300];
};

#define OUTCOME_ERRORS_MAX 10

/* outcome_recent_errors - up to max of the last failures, newest first; returns how many. */
size_t outcome_recent_errors(struct outcome_error *out, size_t max);

#endif
