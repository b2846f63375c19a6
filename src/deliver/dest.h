/*
 * dest.h - how fast one destination may be served: its connection limit,
 * the concurrency window that follows the destination's replies, its rate
 * (transactions per period, spaced evenly), and whether it is dead.
 *
 * A pure core over a small struct: times are passed in (microseconds of a
 * monotonic clock for rate spacing, seconds for the dead period), nothing
 * is read from the clock or the network. The scheduler owns one per
 * destination and asks it before every start.
 *
 * Concurrency feedback, as Postfix's queue manager does it: the window
 * starts at DEST_INITIAL_WINDOW (or the limit, if lower); a reply that says "too many connections" or "slow
 * down" shrinks it below the number of deliveries that were in flight; a
 * success adds 1/window, so the window grows back by one after as many
 * successes as it is wide. A destination that cannot be reached at all
 * (or that throttles even a single connection) is dead for a backoff that
 * doubles while it stays so.
 */
#ifndef HIKYAKU_DEST_H
#define HIKYAKU_DEST_H

#include <stdbool.h>
#include <stdint.h>

#define DEST_INITIAL_WINDOW 5	/* as Postfix's initial_destination_concurrency */

enum dest_health {
	DEST_REACHED,		/* a server answered and the job was decided */
	DEST_THROTTLED,		/* a server said too many connections or too fast */
	DEST_UNREACHABLE,	/* no server of the destination could be reached */
	DEST_UNTRIED,		/* nothing was attempted (no connection made or needed) */
};

struct dest_ctl {
	unsigned limit;		/* max-connections for this destination */
	unsigned window;	/* current concurrency, 1..limit */
	unsigned credit;	/* successes towards the next window step */
	unsigned active;	/* deliveries in flight */
	uint64_t rate_n;	/* rate: rate_n transactions per rate_period seconds; 0: none */
	uint64_t rate_period;
	int64_t next_start_us;	/* rate: the earliest start of the next transaction */
	unsigned dead_count;	/* consecutive times found dead */
	int64_t dead_until;	/* seconds; 0: alive */
};

/* dest_ctl_init - a fresh destination with these limits (limit >= 1). */
void dest_ctl_init(struct dest_ctl *c, unsigned limit, uint64_t rate_n, uint64_t rate_period);

/*
 * dest_ctl_set_limits - new limits (a reload): what is in flight stays; the
 * window fits the new limit and is at least a new destination's; the next
 * start is the last one plus the new rate's spacing.
 */
void dest_ctl_set_limits(struct dest_ctl *c, unsigned limit, uint64_t rate_n, uint64_t rate_period);

/*
 * dest_ctl_wait - whether a delivery may start at now_us: 0 yes; > 0 the
 * microseconds until the rate allows one; -1 not until one in flight
 * finishes (the window is full). Does not look at the dead state.
 */
int64_t dest_ctl_wait(const struct dest_ctl *c, int64_t now_us);
/* dest_ctl_start - a delivery starts now: count it and space the next one. */
void dest_ctl_start(struct dest_ctl *c, int64_t now_us);
/* dest_ctl_abort - undo dest_ctl_start for a delivery that did not go out. */
void dest_ctl_abort(struct dest_ctl *c);

/*
 * dest_ctl_finish - a delivery ended with health h at now (seconds).
 * backoff(n) gives the dead period for the n-th time in a row (n >= 1).
 * Returns true when this made the destination dead.
 */
bool dest_ctl_finish(struct dest_ctl *c, enum dest_health h, int64_t now,
    int64_t (*backoff)(const void *arg, int n), const void *arg);

/* dest_ctl_dead - whether the destination is dead at now (seconds). */
bool dest_ctl_dead(const struct dest_ctl *c, int64_t now);
/* dest_ctl_revive - forget the dead state and the window's shrinking (queue flush). */
void dest_ctl_revive(struct dest_ctl *c);

#endif
