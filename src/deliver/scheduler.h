/*
 * scheduler.h - what to deliver now, and to whom first.
 *
 * Modelled on Postfix's queue manager. The store is the durable truth; the
 * scheduler keeps a bounded active set in memory (max-active-recipients):
 * one queue per destination (the recipient domain, or the target of the
 * route that carries it), served round-robin so that no destination can
 * starve another, each within its connection limit, concurrency window,
 * rate and dead state (dest.h). Recipients come into memory when their
 * message is queued, and from the store - an index range scan from a
 * cursor, never a scan of the whole queue - when room frees or when the
 * earliest deferred recipient comes due (one timer). Message bodies are
 * read only by a delivery that is ready to send (delivery.h).
 */
#ifndef HIKYAKU_SCHEDULER_H
#define HIKYAKU_SCHEDULER_H

#include <stddef.h>
#include <stdint.h>

#include "deliver/delivery.h"

struct scheduler;

/* scheduler_new - start scheduling on env (borrowed until scheduler_free). */
struct scheduler *scheduler_new(const struct delivery_env *env);

/* scheduler_queued - message id was committed with these recipients: they are due now. */
void scheduler_queued(struct scheduler *s, const char *id, const char *const *rcpts, size_t n,
    int64_t arrival);
/* scheduler_kick - look at the store soon (something outside changed the queue). */
void scheduler_kick(struct scheduler *s);
/* scheduler_revive - "queue flush": forget dead destinations and read the queue again. */
void scheduler_revive(struct scheduler *s);

/*
 * scheduler_set_config - a reload: what is started from now on uses cfg (the
 * scheduler takes a reference): routes, timeouts, and every destination's
 * limits (those in memory too; what is in flight stays). Jobs in flight
 * keep their config; idle connections made before are closed rather than
 * reused.
 */
void scheduler_set_config(struct scheduler *s, const struct config *cfg);

/* scheduler_stop - at shutdown: abandon jobs that are not committing, close idle connections. */
void scheduler_stop(struct scheduler *s);
/* scheduler_free - after the queue writer has finished and its callbacks ran. */
void scheduler_free(struct scheduler *s);

/* Counters for logs and tests. */
struct scheduler_stats {
	size_t active_rcpts;	/* recipients in memory */
	size_t destinations;	/* destinations in memory */
	size_t running;		/* deliveries holding a connection */
};
void scheduler_stats(const struct scheduler *s, struct scheduler_stats *out);

#endif
