/*
 * store.h - the SQLite store in the spool: accounts, grants, trusted
 * networks, the queue (messages and their recipients), DKIM keys and the
 * doctor's verdicts.
 *
 * Only store.c includes sqlite3.h. A struct store is one connection and must
 * be used by one thread at a time; every thread or process opens its own.
 * The database runs in WAL mode with synchronous=FULL: a committed
 * transaction has been fsynced.
 */
#ifndef HIKYAKU_STORE_H
#define HIKYAKU_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/smtp_limits.h"

#define STORE_NAME_MAX 64	/* account names */

enum store_result {
	STORE_OK = 0,
	STORE_NOTFOUND = 1,
	STORE_EXISTS = 2,
	STORE_ERROR = -1,	/* store_errmsg() says why */
	STORE_FULL = -2,	/* the disk is full */
};

struct store;

/* store_open - open (creating the schema if needed) the database at path. */
struct store *store_open(const char *path, char *err, size_t errsz);
void store_close(struct store *st);
/* store_errmsg - the last error on this connection, for logs. */
const char *store_errmsg(struct store *st);

/*
 * One connection per thread to the same database: opened on a thread's
 * first store_per_thread_get(), closed when that thread exits. For the
 * worker threads, which password checks and DKIM signing share. Free it
 * only after those threads have been joined.
 */
struct store_per_thread;

struct store_per_thread *store_per_thread_new(const char *path);
/* store_per_thread_get - this thread's connection; NULL with err filled. */
struct store *store_per_thread_get(struct store_per_thread *pt, char *err, size_t errsz);
void store_per_thread_free(struct store_per_thread *pt);

/* Accounts. Hashes are crypt(3) strings; the store never sees a password. */
enum store_result store_account_add(struct store *st, const char *name, const char *hash);
enum store_result store_account_del(struct store *st, const char *name);
enum store_result store_account_set_hash(struct store *st, const char *name, const char *hash);
enum store_result store_account_hash(struct store *st, const char *name, char *out, size_t outsz);

/* store_list_cb - one row of a listing: NULL-terminated column strings. */
typedef void (*store_list_cb)(void *arg, const char *const *cols, int ncols);

/* store_account_list - rows (name, created, grants, trusts, limit max, limit period, usage window, usage count); "" where none. */
enum store_result store_account_list(struct store *st, store_list_cb cb, void *arg);

/* Grants: "user@domain" or "@domain". */
enum store_result store_grant_add(struct store *st, const char *account, const char *pattern);
enum store_result store_grant_del(struct store *st, const char *account, const char *pattern);
/* store_grant_list - rows (account, pattern); account NULL lists all. */
enum store_result store_grant_list(struct store *st, const char *account, store_list_cb cb, void *arg);

/*
 * Account limits: at most max messages per period seconds, counted in
 * fixed windows (window = the start of the current one); usage is written
 * with each message's insert (store_msg.quota_window).
 */
struct store_limit {
	uint64_t max, period;
	int64_t window;		/* of the stored usage; 0: none yet */
	uint64_t count;
};
/* store_limit_set - STORE_NOTFOUND when the account does not exist. */
enum store_result store_limit_set(struct store *st, const char *account, uint64_t max,
    uint64_t period);
/* store_limit_del - STORE_NOTFOUND when the account had no limit. */
enum store_result store_limit_del(struct store *st, const char *account);
/* store_limit_get - the account's limit and stored usage; STORE_NOTFOUND when it has none. */
enum store_result store_limit_get(struct store *st, const char *account, struct store_limit *out);

/* Trusted networks: clients from cidr act as account without AUTH. */
enum store_result store_trust_add(struct store *st, const char *account, const char *cidr);
enum store_result store_trust_del(struct store *st, const char *account, const char *cidr);
/* store_trust_list - rows (account, cidr) of every trusted network. */
enum store_result store_trust_list(struct store *st, store_list_cb cb, void *arg);

/* A message ready to be queued; the caller owns every pointer. */
struct store_msg {
	char id[16];
	const char *account;
	const char *sender;		/* "" for <> */
	const char *client;		/* "[127.0.0.1]:1234" */
	const char *params;		/* "BODY=8BITMIME SMTPUTF8" as accepted */
	bool smtputf8;
	bool body_8bit;
	int64_t arrival;
	const char *const *rcpts;
	size_t nrcpts;
	const char *data;		/* the message, CRLF lines, headers added */
	size_t len;
	int64_t quota_window;		/* count it in the account's usage for this window; 0: no */
};

/* Transactions around store_msg_insert (the queue writer batches them). */
enum store_result store_begin(struct store *st);
enum store_result store_commit(struct store *st);
void store_rollback(struct store *st);
enum store_result store_savepoint(struct store *st);
enum store_result store_release(struct store *st);
void store_rollback_savepoint(struct store *st);

/* store_msg_insert - insert message and recipients; STORE_EXISTS on id clash. */
enum store_result store_msg_insert(struct store *st, const struct store_msg *m);

/* --- delivery --- */

/* Recipient states: queued and deferred are pending; sent and bounced are final. */
#define RCPT_QUEUED "queued"
#define RCPT_DEFERRED "deferred"
#define RCPT_SENT "sent"
#define RCPT_BOUNCED "bounced"

/*
 * store_due_from - rows (msg, rcpt, next_attempt, rowid) of pending
 * recipients after the cursor (from_t, from_row) in (next_attempt, rowid)
 * order and due by now, at most limit. An index range scan: its cost does
 * not grow with the rows outside the range.
 */
enum store_result store_due_from(struct store *st, int64_t from_t, int64_t from_row,
    int64_t now, int limit, store_list_cb cb, void *arg);
/* store_next_due_after - the earliest next_attempt > after of a pending recipient (INT64_MAX if none). */
enum store_result store_next_due_after(struct store *st, int64_t after, int64_t *out);

/* A message read back for delivery or a bounce; store_loaded_free releases it. */
struct store_loaded {
	char id[16];
	char *sender;
	char *account;
	int64_t arrival;
	bool smtputf8;
	bool body_8bit;
	bool warned;
	char *data;
	size_t len;
};

enum store_result store_msg_load(struct store *st, const char *id, struct store_loaded *out);
/* store_msg_envelope - the same without the data: data NULL, len its size. */
enum store_result store_msg_envelope(struct store *st, const char *id, struct store_loaded *out);
void store_loaded_free(struct store_loaded *m);

/* store_rcpt_update - record an attempt's outcome for one recipient. */
enum store_result store_rcpt_update(struct store *st, const char *msg, const char *rcpt,
    const char *state, int attempts, int64_t next_attempt, const char *last_reply,
    const char *dsn, const char *relay);
/* store_msg_rcpts - rows (rcpt, state, attempts, last_reply, dsn, relay) of a message. */
enum store_result store_msg_rcpts(struct store *st, const char *msg, store_list_cb cb, void *arg);
/* store_msg_pending - how many recipients of msg are not final. */
enum store_result store_msg_pending(struct store *st, const char *msg, int64_t *out);
enum store_result store_msg_delete(struct store *st, const char *msg);
enum store_result store_msg_set_warned(struct store *st, const char *msg);
/* store_queue_flush - make pending recipients of id (NULL: of every message) due now. */
enum store_result store_queue_flush(struct store *st, const char *id);

/* store_queue_list - rows (id, size, arrival, sender, recipients, state). */
enum store_result store_queue_list(struct store *st, store_list_cb cb, void *arg);
/* store_queue_show - print envelope, a blank line, and the message to out. */
enum store_result store_queue_show(struct store *st, const char *id, FILE *out);
/* store_queue_count - number of messages in the queue. */
enum store_result store_queue_count(struct store *st, int64_t *out);
/* store_queue_states - rows (state, recipients, messages) of the recipients in the queue. */
enum store_result store_queue_states(struct store *st, store_list_cb cb, void *arg);
/* store_queue_oldest - the arrival time of the oldest queued message (0: the queue is empty). */
enum store_result store_queue_oldest(struct store *st, int64_t *out);
/*
 * store_queue_destinations - rows (domain, queued, deferred, earliest
 * next_attempt) of pending recipients by destination domain, the largest
 * first, at most limit; by_deferred: only domains with deferred
 * recipients, ordered by those.
 */
enum store_result store_queue_destinations(struct store *st, int limit, bool by_deferred,
    store_list_cb cb, void *arg);

/*
 * DKIM keys: (domain, selector) is unique; algo is the a= value
 * ("rsa-sha256", "ed25519-sha256"); keyfile is the PEM private key, relative
 * to the spool unless absolute. The key itself never enters the database.
 */
enum store_result store_dkim_add(struct store *st, const char *domain, const char *selector,
    const char *algo, const char *keyfile);
/* store_dkim_del - STORE_NOTFOUND when there is no such key. */
enum store_result store_dkim_del(struct store *st, const char *domain, const char *selector);
/* store_dkim_list - rows (domain, selector, algo, keyfile, created as
 * "YYYY-MM-DD HH:MM:SS"); domain NULL lists all, else that domain exactly. */
enum store_result store_dkim_list(struct store *st, const char *domain, store_list_cb cb,
    void *arg);
/* store_dkim_for_domain - rows (selector, algo, keyfile) of domain (any
 * case), RSA keys first, then by selector. */
enum store_result store_dkim_for_domain(struct store *st, const char *domain,
    store_list_cb cb, void *arg);

/*
 * The doctor's verdicts, one per domain (the daemon's readiness gate):
 * state "ready", "not-ready" or "unknown" (DNS could not be asked), reason
 * the reply text that names the fix, checked when the run that found it
 * started (milliseconds since the epoch).
 */
enum store_result store_doctor_put(struct store *st, const char *domain, int64_t checked_ms,
    const char *state, const char *reason);
/* store_doctor_list - rows (domain, checked, state, reason). */
enum store_result store_doctor_list(struct store *st, store_list_cb cb, void *arg);

/*
 * MTA-STS policies (RFC 8461 5): the last good policy file of a domain, the
 * TXT id it was fetched under, and when it expires (fetched + max_age).
 */
struct store_sts {
	char id[40];
	char *policy;		/* the policy file's text (malloc'd; caller frees) */
	int64_t fetched;
	int64_t expires;
};

/* store_sts_get - domain's cached policy (any case); STORE_NOTFOUND when none. */
enum store_result store_sts_get(struct store *st, const char *domain, struct store_sts *out);
/* store_sts_put - replace domain's cached policy. */
enum store_result store_sts_put(struct store *st, const char *domain, const struct store_sts *p);
/* store_sts_list - rows (domain, id, fetched, expires as "YYYY-MM-DD HH:MM:SS", policy). */
enum store_result store_sts_list(struct store *st, store_list_cb cb, void *arg);

/*
 * TLS-RPT counters (RFC 8460): one row per UTC day, policy domain, policy
 * (type, policy-string and mx-host, LF-separated), and result; successes
 * carry empty mx, ip and sending_ip. Each add counts one session.
 */
struct store_tlsrpt {
	const char *day;		/* "YYYY-MM-DD" (UTC) */
	const char *domain;
	const char *policy_type;	/* "sts", "tlsa", "no-policy-found" */
	const char *policy_string;
	const char *mx_host;
	const char *result;		/* "success" or an RFC 8460 result type */
	const char *mx, *ip, *sending_ip;
	const char *reason;		/* kept from the first failure of its kind */
};

/* store_tlsrpt_add - count one session of t's kind (a new row, or count + 1). */
enum store_result store_tlsrpt_add(struct store *st, const struct store_tlsrpt *t);
/* store_tlsrpt_rows - rows (day, domain, policy_type, policy_string, mx_host, result, mx,
 * ip, sending_ip, reason, count) of day, of domain (NULL: every domain), grouped by policy. */
enum store_result store_tlsrpt_rows(struct store *st, const char *day, const char *domain,
    store_list_cb cb, void *arg);
/* store_tlsrpt_days - rows (day, domain) that have counters from before day "before". */
enum store_result store_tlsrpt_days(struct store *st, const char *before, store_list_cb cb,
    void *arg);
/* store_tlsrpt_delete - drop the counters of day and domain (reported, or not wanted). */
enum store_result store_tlsrpt_delete(struct store *st, const char *day, const char *domain);

#endif
