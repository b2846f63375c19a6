/*
 * delivery.h - one delivery job: the recipients of one message for one
 * destination, from the queue to a decided result for each.
 *
 * The job finds the destination (route, MX, implicit MX, addresses), runs
 * an SMTP client against each address in turn until the recipients are
 * decided, and reports back through the callbacks its owner (the
 * scheduler) handed it: how the destination did, whether to record the
 * results, and when they are durable. The message itself is read from the
 * store only when a connection is ready to send it, and let go as soon as
 * the transaction is over. delivery.c knows nothing of the scheduler.
 */
#ifndef HIKYAKU_DELIVERY_H
#define HIKYAKU_DELIVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/store.h"
#include "deliver/dest.h"
#include "deliver/outcome.h"
#include "deliver/smtp_client.h"
#include "dns/dns.h"
#include "lib/util.h"
#include "tlspolicy/tlspolicy.h"

struct config;
struct dkim_signer;
struct dns;
struct event_base;
struct queue;
struct tls_ctx;

#define JOB_RCPTS_MAX 50	/* recipients per SMTP transaction, as Postfix */

/* What a job needs from the daemon; borrowed for the job's life. */
struct delivery_env {
	struct event_base *base;
	const struct config *cfg;
	struct store *store;		/* the loop thread's connection */
	struct queue *queue;
	struct dns *dns;
	struct tls_ctx *tls;		/* client context */
	struct tlspolicy *tlspolicy;	/* MTA-STS, DANE, tls-policy; TLS-RPT counts */
	struct dkim_signer *signer;	/* signs DSNs and delay warnings; NULL: unsigned */
};

struct delivery_job;

/* Where a job is in its walk over MX hosts and addresses. */
struct delivery_route {
	struct dns_mx mx[DNS_MAX_MX];
	size_t nmx, imx;
	struct sockaddr_storage addrs[2 * DNS_MAX_ADDRS];
	size_t naddrs, iaddr;
	bool plain_retry;		/* TLS failed on this address: again without */
	struct tlspolicy_dest pol;	/* the destination's TLS policy */
	struct tlspolicy_mx *mxpol;	/* what the current MX host requires (owned) */
};

enum delivery_verdict {
	DELIVERY_COMMIT,	/* record the results */
	DELIVERY_REQUEUE,	/* record nothing; the owner takes the recipients back */
};

struct delivery_cbs {
	/*
	 * finished - the job is over; h says how the destination did. On
	 * DELIVERY_COMMIT the results go to the queue writer and committed()
	 * follows; on DELIVERY_REQUEUE the owner takes the recipients back
	 * (delivery_job_take_rcpts) and frees the job. Only a job without a
	 * final result (delivery_job_has_final) may be requeued.
	 */
	enum delivery_verdict (*finished)(void *arg, struct delivery_job *job,
	    enum dest_health h);
	/* committed - the results are durable (or were dropped, see the job); the owner frees it. */
	void (*committed)(void *arg, struct delivery_job *job);
	/* idle - the job's connection is free for the next message; the owner now owns c. */
	void (*idle)(void *arg, struct delivery_job *job, struct smtp_client *c);
};

/* One recipient of a job. */
struct delivery_rcpt {
	char *addr;			/* owned */
	struct reply result;		/* code 0: undecided */
	char relay[300];		/* where the result came from */
	char tls[64];
};

struct delivery_job {
	const struct delivery_env *env;
	const struct config *cfg;	/* a reference from start (or defer) to free: a
					 * reload does not change a job in flight */
	const struct delivery_cbs *cbs;
	void *arg;			/* the owner's, for the callbacks */
	void *owner;			/* free for the owner (its destination) */
	char msg[QUEUE_ID_LEN + 1];
	char domain[256];		/* a recipient domain: route and MX lookups */
	struct delivery_rcpt *rcpts;	/* nrcpts, owned */
	size_t nrcpts;
	int64_t due;			/* the recipients' next_attempt when loaded */
	bool gone;			/* the message or these recipients left the queue meanwhile */
	bool record_failed;		/* the outcome could not be written */
	struct outcome outcome;		/* after commit: each recipient's new state */
	/* the rest is private to delivery.c */
	struct store_loaded m;
	struct smtp_client *client;
	struct delivery_route *rt;	/* the destination lookup, once started (owned) */
	bool reached, throttled, unreachable;
	struct reply last_error;	/* the most recent connection-level failure */
	struct tlspolicy_wait *wait;	/* a TLS policy step in flight */
	bool count_session;		/* the connection still counts for TLS-RPT */
	struct smtp_client_msg cm;
	const char **cm_rcpts;
	struct reply *cm_results;
	size_t *cm_index;
	bool committing;		/* results handed to the queue writer */
	struct outcome_rcpt *orcpts;
};

/*
 * delivery_job_new - a job for msg's recipients rcpts[0..n) (n <= JOB_RCPTS_MAX;
 * the job takes the strings) at domain.
 */
struct delivery_job *delivery_job_new(const struct delivery_env *env,
    const struct delivery_cbs *cbs, void *arg, const char *msg, const char *domain,
    char **rcpts, size_t n);
/* delivery_job_free - free a job that is not running (never started, or after committed/requeue). */
void delivery_job_free(struct delivery_job *job);

/* delivery_start - run the job, on idle (a connection to the destination) when not NULL. */
void delivery_start(struct delivery_job *job, struct smtp_client *idle);
/*
 * delivery_defer - decide every recipient as why without trying (the
 * destination is dead) and record it: finished(h = DEST_UNTRIED), committed.
 */
void delivery_defer(struct delivery_job *job, const struct reply *why);
/* delivery_abandon - at shutdown: drop the connection of a running job. */
void delivery_abandon(struct delivery_job *job);

/* delivery_job_has_final - whether any recipient got a final (2xx or 5xx) result. */
bool delivery_job_has_final(const struct delivery_job *job);
/* delivery_job_take_rcpts - move the recipient strings to out (n entries); the job keeps none. */
size_t delivery_job_take_rcpts(struct delivery_job *job, char **out);
/* delivery_job_last_error - the reason to give recipients deferred after this job. */
const struct reply *delivery_job_last_error(const struct delivery_job *job);

#endif
