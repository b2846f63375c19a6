/*
 * worker.h - blocking work off the event loop.
 *
 * A mailbox lets any thread hand a callback to the event loop thread.
 * A worker pool runs jobs (password hashing; later DKIM signing) on
 * threads and delivers each job's completion through a mailbox, so the
 * loop never blocks. The job's argument is owned by the submitter until
 * its done callback has run.
 */
#ifndef HIKYAKU_WORKER_H
#define HIKYAKU_WORKER_H

struct event_base;
struct mailbox;
struct worker_pool;

typedef void (*worker_fn)(void *arg);

/* mailbox_new - a mailbox whose callbacks run on base's loop. */
struct mailbox *mailbox_new(struct event_base *base);
/* mailbox_post - from any thread: run fn(arg) soon on the loop thread. */
void mailbox_post(struct mailbox *mb, worker_fn fn, void *arg);
/* mailbox_flush - run every posted callback now (at shutdown, threads joined). */
void mailbox_flush(struct mailbox *mb);
void mailbox_free(struct mailbox *mb);

/* worker_pool_new - nthreads threads; completions go through mb. */
struct worker_pool *worker_pool_new(struct mailbox *mb, int nthreads);
/* worker_submit - run work(arg) on a pool thread, then done(arg) on the loop. */
void worker_submit(struct worker_pool *wp, worker_fn work, worker_fn done, void *arg);
/* worker_pool_free - finish queued jobs, join the threads, free. */
void worker_pool_free(struct worker_pool *wp);

#endif
