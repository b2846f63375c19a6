/*
 * test_dest.c - a destination's controller: the connection limit, rate
 * spacing, concurrency feedback on throttling replies, dead periods; and
 * the classification of throttling replies.
 */
#include <stdint.h>

#include "deliver/dest.h"
#include "lib/smtp_reply.h"
#include "t.h"

static int64_t
backoff(const void *arg, int n)
{
	int64_t d = 300;

	while (--n > 0 && d < 14400)
		d *= 2;
	return d;
}

int
main(void)
{
	struct dest_ctl c;
	int64_t t = 1000000000, now = 1000;
	int started, i;

	/* the connection limit */
	dest_ctl_init(&c, 3, 0, 0);
	T_OK(c.window == 3, "a limit under five is the first window");
	for (started = 0; dest_ctl_wait(&c, t) == 0; started++)
		dest_ctl_start(&c, t);
	T_OK(started == 3, "three start under a limit of three (%d)", started);
	T_OK(dest_ctl_wait(&c, t) == -1, "the fourth waits for one to finish");
	dest_ctl_finish(&c, DEST_REACHED, now, backoff, NULL);
	T_OK(dest_ctl_wait(&c, t) == 0, "a finish frees a slot");

	/* rate: 300 per minute is one every 200 ms, no bursts */
	dest_ctl_init(&c, 20, 300, 60);
	T_OK(dest_ctl_wait(&c, t) == 0, "the first may start at once");
	dest_ctl_start(&c, t);
	T_OK(dest_ctl_wait(&c, t) == 200000, "the next in 200 ms (%lld us)",
	    (long long)dest_ctl_wait(&c, t));
	T_OK(dest_ctl_wait(&c, t + 199999) > 0 && dest_ctl_wait(&c, t + 200000) == 0,
	    "and not a microsecond before");
	for (i = 0, started = 1; i < 60000; i++) {	/* one simulated minute in 1 ms steps */
		int64_t at = t + (int64_t)i * 1000;

		if (dest_ctl_wait(&c, at) == 0) {
			dest_ctl_start(&c, at);
			dest_ctl_finish(&c, DEST_REACHED, now, backoff, NULL);
			started++;
		}
	}
	T_OK(started == 300, "exactly 300 starts in one minute (%d)", started);

	/* a new destination starts at five connections and grows towards its limit */
	dest_ctl_init(&c, 20, 0, 0);
	for (started = 0; dest_ctl_wait(&c, t) == 0; started++)
		dest_ctl_start(&c, t);
	T_OK(started == 5, "five at first (%d)", started);
	for (i = 0; i < 5; i++)
		dest_ctl_finish(&c, DEST_REACHED, now, backoff, NULL);
	T_OK(c.window == 6, "five successes at five: six (%u)", c.window);
	for (i = 0; i < 1000; i++) {
		dest_ctl_start(&c, t);
		dest_ctl_finish(&c, DEST_REACHED, now, backoff, NULL);
	}
	T_OK(c.window == 20, "then up to the limit (%u)", c.window);

	/* concurrency feedback */
	dest_ctl_init(&c, 5, 0, 0);
	for (i = 0; i < 5; i++)
		dest_ctl_start(&c, t);
	T_OK(!dest_ctl_finish(&c, DEST_THROTTLED, now, backoff, NULL), "throttled is not dead");
	T_OK(c.window == 4, "the window drops below the five in flight (%u)", c.window);
	dest_ctl_finish(&c, DEST_THROTTLED, now, backoff, NULL);
	dest_ctl_finish(&c, DEST_THROTTLED, now, backoff, NULL);
	T_OK(c.window == 2 && c.active == 2, "three refusals: window 2, two in flight (%u, %u)",
	    c.window, c.active);
	T_OK(dest_ctl_wait(&c, t) == -1, "no new start while two are in flight");
	dest_ctl_finish(&c, DEST_REACHED, now, backoff, NULL);
	dest_ctl_finish(&c, DEST_REACHED, now, backoff, NULL);
	T_OK(c.window == 3, "two successes at window 2 grow it to 3 (%u)", c.window);
	for (i = 0; i < 100; i++) {
		dest_ctl_start(&c, t);
		dest_ctl_finish(&c, DEST_REACHED, now, backoff, NULL);
	}
	T_OK(c.window == 5, "successes bring it back to the limit, not past it (%u)", c.window);

	/* dead */
	dest_ctl_init(&c, 5, 0, 0);
	dest_ctl_start(&c, t);
	T_OK(dest_ctl_finish(&c, DEST_UNREACHABLE, now, backoff, NULL), "unreachable makes it dead");
	T_OK(dest_ctl_dead(&c, now + 299) && !dest_ctl_dead(&c, now + 300), "for the first backoff");
	dest_ctl_start(&c, t);
	dest_ctl_finish(&c, DEST_UNREACHABLE, now + 300, backoff, NULL);
	T_OK(c.dead_until == now + 300 + 600, "twice in a row: twice as long");
	T_OK(c.window == 1, "a dead destination comes back one connection at a time");
	dest_ctl_start(&c, t);
	dest_ctl_finish(&c, DEST_REACHED, now + 900, backoff, NULL);
	T_OK(!dest_ctl_dead(&c, now + 900) && c.dead_count == 0, "a success revives it");
	dest_ctl_init(&c, 1, 0, 0);
	dest_ctl_start(&c, t);
	T_OK(dest_ctl_finish(&c, DEST_THROTTLED, now, backoff, NULL),
	    "refused even at one connection: dead");
	dest_ctl_revive(&c);
	T_OK(!dest_ctl_dead(&c, now) && c.window == 1, "revive forgets it all (%u)", c.window);
	dest_ctl_init(&c, 2, 0, 0);
	dest_ctl_start(&c, t);
	dest_ctl_abort(&c);
	T_OK(c.active == 0, "abort gives the slot back");

	/* a reload lowers the limit: the window fits it, what is in flight stays */
	dest_ctl_init(&c, 10, 0, 0);
	for (i = 0; i < 5; i++)
		dest_ctl_start(&c, t);
	dest_ctl_set_limits(&c, 2, 60, 60);
	T_OK(c.window == 2 && c.active == 5 && dest_ctl_wait(&c, t) == -1,
	    "new limit 2: no start while 5 are in flight (%u)", c.window);
	for (i = 0; i < 4; i++)
		dest_ctl_finish(&c, DEST_REACHED, now, backoff, NULL);
	T_OK(dest_ctl_wait(&c, t) == 0, "one in flight: one may start");
	dest_ctl_start(&c, t);
	T_OK(dest_ctl_wait(&c, t) == -1 || dest_ctl_wait(&c, t) == 1000000,
	    "and the new rate spaces them a second apart");

	/* a reload lifts a slow rate: the next start is due by the new one */
	dest_ctl_init(&c, 1, 1, 3600);
	dest_ctl_start(&c, t);
	dest_ctl_finish(&c, DEST_REACHED, now, backoff, NULL);
	T_OK(dest_ctl_wait(&c, t + 1000) > 3000000000LL, "1/1h: the next start is an hour away");
	dest_ctl_set_limits(&c, 20, 10, 1);
	T_OK(dest_ctl_wait(&c, t + 1000) == 99000, "10/1s: 0.1 s after the last start (%lld)",
	    (long long)dest_ctl_wait(&c, t + 1000));
	T_OK(c.window == DEST_INITIAL_WINDOW, "a raised limit opens the window of a new destination");
	dest_ctl_set_limits(&c, 20, 0, 0);
	T_OK(dest_ctl_wait(&c, t + 1000) == 0, "no rate: at once");

	/* which replies ask for less */
	T_OK(smtp_reply_throttling(421, "4.7.0", "Try again later, closing connection"), "421");
	T_OK(smtp_reply_throttling(451, "4.7.1", "Too many concurrent SMTP connections"),
	    "451 too many connections");
	T_OK(smtp_reply_throttling(450, "", "Rate limit exceeded"), "450 rate limit");
	T_OK(smtp_reply_throttling(451, "4.7.500", "Server busy. Please try again later"),
	    "Microsoft's server busy");
	T_OK(smtp_reply_throttling(421, "4.7.0", "[TSS04] Messages temporarily deferred due to"
	    " unexpected volume"), "Yahoo's TSS04");
	T_OK(!smtp_reply_throttling(450, "4.2.0", "Recipient address rejected: Greylisted"),
	    "greylisting is not throttling");
	T_OK(!smtp_reply_throttling(451, "4.3.0", "Temporary lookup failure"), "a lookup failure is not");
	T_OK(!smtp_reply_throttling(550, "5.7.1", "too many connections"), "a 5xx never is");
	T_OK(!smtp_reply_throttling(250, "2.0.0", "Ok"), "a 2xx never is");
	return t_done();
}
