/*
 * quota.c - per-account message counts in fixed windows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/hmap.h"
#include "lib/log.h"
#include "lib/util.h"
#include "submit/quota.h"

struct usage {
	int64_t window;
	uint64_t committed;	/* messages committed in window */
	uint64_t reserved;	/* transactions holding a slot in window */
};

struct quota {
	struct store *st;
	struct hmap *usage;	/* account -> struct usage */
};

struct quota *
quota_new(struct store *st)
{
	struct quota *q = xcalloc(1, sizeof(*q));
	uint64_t seed;

	util_random_bytes(&seed, sizeof(seed));
	q->st = st;
	q->usage = hmap_new(seed);
	return q;
}

static void
free_usage(void *arg, const char *key, void *value)
{
	free(value);
}

void
quota_free(struct quota *q)
{
	if (q == NULL)
		return;
	hmap_each(q->usage, free_usage, NULL);
	hmap_free(q->usage);
	free(q);
}

int64_t
quota_window_start(int64_t now, uint64_t period)
{
	int64_t p = (int64_t)period;

	if (p <= 0)
		return now;
	return now - ((now % p) + p) % p;
}

/* usage_for - the account's counts in window, starting from the stored row. */
static struct usage *
usage_for(struct quota *q, const char *account, int64_t window, const struct store_limit *lim)
{
	struct usage *u = hmap_get(q->usage, account);

	if (u == NULL) {
		u = xcalloc(1, sizeof(*u));
		u->window = lim->window == window ? window : 0;
		u->committed = lim->window == window ? lim->count : 0;
		hmap_put(q->usage, account, u);
	}
	if (u->window != window) {	/* a new window: start again */
		u->window = window;
		u->committed = lim->window == window ? lim->count : 0;
		u->reserved = 0;
	}
	return u;
}

/* format_period - "1h", "1d", "30m" or "45s". */
static void
format_period(uint64_t secs, char *out, size_t outsz)
{
	if (secs % 86400 == 0)
		snprintf(out, outsz, "%llud", (unsigned long long)(secs / 86400));
	else if (secs % 3600 == 0)
		snprintf(out, outsz, "%lluh", (unsigned long long)(secs / 3600));
	else if (secs % 60 == 0)
		snprintf(out, outsz, "%llum", (unsigned long long)(secs / 60));
	else
		snprintf(out, outsz, "%llus", (unsigned long long)secs);
}

static void
refuse(struct reply *why, const char *account, const struct store_limit *lim, int64_t window,
    int64_t now)
{
	char period[32], when[32];
	time_t reset = (time_t)(window + (int64_t)lim->period);
	struct tm tm;

	format_period(lim->period, period, sizeof(period));
	gmtime_r(&reset, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	reply_set(why, 450, "4.7.1", "Account %s has reached its limit of %llu messages per %s;"
	    " it resets at %s UTC (in %lld s)", account, (unsigned long long)lim->max, period,
	    when, (long long)(reset - now));
}

bool
quota_reserve(struct quota *q, const char *account, int64_t now, struct quota_hold *h,
    struct reply *why)
{
	struct store_limit lim = { 0 };
	enum store_result r;
	struct usage *u;
	int64_t window;

	memset(h, 0, sizeof(*h));
	if (q == NULL)
		return true;
	if ((r = store_limit_get(q->st, account, &lim)) == STORE_NOTFOUND)
		return true;
	if (r != STORE_OK) {
		log_warn("cannot read the limit of account %s: %s; not enforced for this message",
		    account, store_errmsg(q->st));
		return true;
	}
	window = quota_window_start(now, lim.period);
	u = usage_for(q, account, window, &lim);
	if (u->committed + u->reserved >= lim.max) {
		refuse(why, account, &lim, window, now);
		return false;
	}
	u->reserved++;
	util_strlcpy(h->account, account, sizeof(h->account));
	h->window = window;
	return true;
}

static void
settle(struct quota *q, struct quota_hold *h, bool count)
{
	struct usage *u;

	if (q == NULL || h->window == 0)
		return;
	if ((u = hmap_get(q->usage, h->account)) != NULL && u->window == h->window) {
		if (u->reserved > 0)
			u->reserved--;
		if (count)
			u->committed++;
	}
	h->window = 0;
}

void
quota_commit(struct quota *q, struct quota_hold *h)
{
	settle(q, h, true);
}

void
quota_release(struct quota *q, struct quota_hold *h)
{
	settle(q, h, false);
}
