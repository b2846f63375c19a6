/*
 * dest.c - concurrency window, rate spacing and dead state of a destination.
 */
#include "deliver/dest.h"

void
dest_ctl_init(struct dest_ctl *c, unsigned limit, uint64_t rate_n, uint64_t rate_period)
{
	*c = (struct dest_ctl){ 0 };
	c->limit = limit ? limit : 1;
	c->window = c->limit < DEST_INITIAL_WINDOW ? c->limit : DEST_INITIAL_WINDOW;
	c->rate_n = rate_n;
	c->rate_period = rate_period;
}

/* spacing - microseconds between two starts under the rate; 0 without one. */
static int64_t
spacing(const struct dest_ctl *c)
{
	if (c->rate_n == 0 || c->rate_period == 0)
		return 0;
	return (int64_t)(c->rate_period * 1000000 / c->rate_n);
}

void
dest_ctl_set_limits(struct dest_ctl *c, unsigned limit, uint64_t rate_n, uint64_t rate_period)
{
	int64_t old_gap = spacing(c), gap;
	unsigned fresh;

	c->limit = limit ? limit : 1;
	fresh = c->limit < DEST_INITIAL_WINDOW ? c->limit : DEST_INITIAL_WINDOW;
	if (c->window > c->limit)
		c->window = c->limit;
	else if (c->window < fresh)
		c->window = fresh;	/* never slower than a destination seen for the first time */
	c->rate_n = rate_n;
	c->rate_period = rate_period;
	/* the next start counts from the last one with the new spacing */
	gap = spacing(c);
	c->next_start_us = old_gap > 0 && gap > 0 ? c->next_start_us - old_gap + gap : 0;
}

int64_t
dest_ctl_wait(const struct dest_ctl *c, int64_t now_us)
{
	if (c->active >= c->window)
		return -1;
	if (spacing(c) > 0 && c->next_start_us > now_us)
		return c->next_start_us - now_us;
	return 0;
}

void
dest_ctl_start(struct dest_ctl *c, int64_t now_us)
{
	int64_t gap = spacing(c);

	c->active++;
	if (gap > 0)
		c->next_start_us = (c->next_start_us > now_us ? c->next_start_us : now_us) + gap;
}

void
dest_ctl_abort(struct dest_ctl *c)
{
	if (c->active > 0)
		c->active--;
}

static void
grow(struct dest_ctl *c)
{
	if (c->window >= c->limit)
		return;
	if (++c->credit >= c->window) {
		c->window++;
		c->credit = 0;
	}
}

/* shrink - below what was in flight when the throttle reply came (active before this finish). */
static void
shrink(struct dest_ctl *c, unsigned in_flight)
{
	unsigned w = in_flight > 1 ? in_flight - 1 : 1;

	if (w < c->window)
		c->window = w;
	c->credit = 0;
}

static bool
die(struct dest_ctl *c, int64_t now, int64_t (*backoff)(const void *arg, int n), const void *arg)
{
	c->dead_count++;
	c->dead_until = now + backoff(arg, (int)c->dead_count);
	c->window = 1;
	c->credit = 0;
	return true;
}

bool
dest_ctl_finish(struct dest_ctl *c, enum dest_health h, int64_t now,
    int64_t (*backoff)(const void *arg, int n), const void *arg)
{
	unsigned in_flight = c->active;

	if (c->active > 0)
		c->active--;
	switch (h) {
	case DEST_REACHED:
		c->dead_count = 0;
		c->dead_until = 0;
		grow(c);
		return false;
	case DEST_THROTTLED:
		if (in_flight <= 1 && c->window <= 1)
			return die(c, now, backoff, arg);
		shrink(c, in_flight);
		return false;
	case DEST_UNREACHABLE:
		return die(c, now, backoff, arg);
	case DEST_UNTRIED:
		break;
	}
	return false;
}

bool
dest_ctl_dead(const struct dest_ctl *c, int64_t now)
{
	return c->dead_until != 0 && now < c->dead_until;
}

void
dest_ctl_revive(struct dest_ctl *c)
{
	c->dead_until = 0;
	c->dead_count = 0;
	c->window = c->limit < DEST_INITIAL_WINDOW ? c->limit : DEST_INITIAL_WINDOW;
	c->credit = 0;
}
