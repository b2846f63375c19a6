/*
 * quota.h - per-account message limits ("hikyaku account limit NAME
 * N/PERIOD"): a compromised home server must not be able to burn the
 * relay's IP address.
 *
 * Messages are counted in fixed windows of the period (a day's window runs
 * from midnight UTC). MAIL reserves a slot and is refused with 450 4.7.1 -
 * naming the limit and when it resets - when committed and reserved
 * messages have reached it; the slot is counted when the message is
 * committed (the store's usage row is written in the same transaction as
 * the message) and given back when the transaction ends without one. The
 * limit is read from the store at every MAIL, so "account limit" applies
 * at once; counts live in memory on the loop thread and start from the
 * store's usage row.
 */
#ifndef HIKYAKU_QUOTA_H
#define HIKYAKU_QUOTA_H

#include <stdbool.h>
#include <stdint.h>

#include "base/store.h"
#include "lib/reply.h"

struct quota;

/* A session's reservation for one message. */
struct quota_hold {
	char account[STORE_NAME_MAX + 1];
	int64_t window;		/* the window counted in; 0: nothing held */
};

/* quota_new - limits read through st (the loop thread's connection). */
struct quota *quota_new(struct store *st);
void quota_free(struct quota *q);

/*
 * quota_reserve - may account send one more message at now? true (and, when
 * the account has a limit, a slot held in h); false with why set to the
 * 450 4.7.1 reply. A store error allows the message (logged).
 */
bool quota_reserve(struct quota *q, const char *account, int64_t now, struct quota_hold *h,
    struct reply *why);
/* quota_commit - the held message was committed: count it. */
void quota_commit(struct quota *q, struct quota_hold *h);
/* quota_release - the transaction ended without a message: give the slot back. */
void quota_release(struct quota *q, struct quota_hold *h);

/* quota_window_start - the start of the fixed window of period that holds now. Pure. */
int64_t quota_window_start(int64_t now, uint64_t period);

#endif
