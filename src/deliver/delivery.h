/*
 * delivery.h - the outbound half: the scheduler picks due recipients from
 * the queue and groups them into jobs (one message, one destination domain);
 * each job finds the destination (route, MX, implicit MX, addresses), runs
 * an SMTP client against each address in turn until the recipients are
 * decided, and hands the results to outcome.c through the queue writer.
 */
#ifndef HIKYAKU_DELIVERY_H
#define HIKYAKU_DELIVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dns/dns.h"
#include "deliver/outcome.h"
#include "deliver/smtp_client.h"
#include "base/store.h"

struct config;
struct dns;
struct event_base;
struct queue;
struct scheduler;
struct tls_ctx;

#define JOB_RCPTS_MAX 50	/* recipients per SMTP transaction, as Postfix */

/* One delivery job: owned by the scheduler from start to finish. */
struct delivery_job {
	struct scheduler *sched;
	struct delivery_job *next;	/* the scheduler's list of active jobs */
	char key[300];			/* "MSGID/domain" */
	char msg[16];
	char domain[256];
	char *rcpts[JOB_RCPTS_MAX];	/* owned */
	size_t nrcpts;
	struct store_loaded m;
	struct reply results[JOB_RCPTS_MAX];	/* code 0: undecided */
	char relay[JOB_RCPTS_MAX][300];		/* where each result came from */
	char tls[JOB_RCPTS_MAX][64];

	/* the destination */
	struct dns_mx mx[DNS_MAX_MX];
	size_t nmx, imx;
	struct sockaddr_storage addrs[2 * DNS_MAX_ADDRS];
	size_t naddrs, iaddr;
	bool routed;			/* the destination lookup has started */
	bool plain_retry;		/* TLS failed on this address: again without */
	struct reply last_error;	/* the most recent connection-level failure */

	/* the current connection */
	struct smtp_client *client;
	struct smtp_client_msg cm;
	const char *cm_rcpts[JOB_RCPTS_MAX];
	struct reply cm_results[JOB_RCPTS_MAX];
	size_t cm_index[JOB_RCPTS_MAX];	/* cm position -> job position */
	bool committing;		/* results handed to the queue writer */
	struct outcome outcome;
	struct outcome_rcpt orcpts[JOB_RCPTS_MAX];
};

/* The scheduler's services used by jobs. */
struct scheduler_env {
	struct event_base *base;
	const struct config *cfg;
	struct store *store;		/* the loop thread's connection */
	struct queue *queue;
	struct dns *dns;
	struct tls_ctx *tls;		/* client context */
};

struct scheduler *scheduler_new(const struct scheduler_env *env);
/* scheduler_kick - look at the queue soon (new mail, or a job finished). */
void scheduler_kick(struct scheduler *s);
/* scheduler_stop - at shutdown: abandon jobs that are not committing, close idle connections. */
void scheduler_stop(struct scheduler *s);
/* scheduler_free - after the queue writer has finished and its callbacks ran. */
void scheduler_free(struct scheduler *s);

/* For delivery.c: */
const struct scheduler_env *scheduler_env(struct scheduler *s);
/* scheduler_job_done - the job's outcome is committed (or abandoned); frees it. */
void scheduler_job_done(struct scheduler *s, struct delivery_job *job);
/* scheduler_take_idle - an idle connection to domain, or NULL. */
struct smtp_client *scheduler_take_idle(struct scheduler *s, const char *domain);
/* scheduler_put_idle - keep client open for the next message to domain. */
void scheduler_put_idle(struct scheduler *s, const char *domain, struct smtp_client *c);

/* delivery_start - run job (rcpts, msg, domain set). */
void delivery_start(struct delivery_job *job);
/* delivery_abandon - free what a job holds, mid-flight, at shutdown. */
void delivery_abandon(struct delivery_job *job);

#endif
