/*
 * queue.h - durable queueing of accepted messages with group commit.
 *
 * One writer thread owns its own store connection. Sessions hand it
 * requests; it takes every request that is waiting, writes them all in one
 * transaction (each in its own savepoint, so one bad message does not fail
 * the others) and commits - one fsync for the batch. Only then is each
 * request's done callback run on the event loop with its result; the
 * session says "250" only on STORE_OK.
 */
#ifndef HIKYAKU_QUEUE_H
#define HIKYAKU_QUEUE_H

#include <stddef.h>

#include "base/store.h"

struct mailbox;
struct queue;
struct queue_req;

typedef void (*queue_done_fn)(struct queue_req *req);

/*
 * A commit request; owned by the submitter, untouched by it until done runs.
 * Either a new message (apply NULL: msg is inserted), or any other change
 * to the queue: apply(st, apply_arg) runs inside the batch's transaction.
 */
struct queue_req {
	struct store_msg msg;		/* msg.id: the session's; redrawn on a clash */
	enum store_result (*apply)(struct store *st, void *apply_arg);
	void *apply_arg;
	enum store_result result;	/* set before done runs */
	char errmsg[256];		/* why, when result is not STORE_OK */
	queue_done_fn done;
	void *arg;
	struct queue_req *next;		/* private */
};

/* queue_new - open dbpath for writing and start the writer thread. */
struct queue *queue_new(const char *dbpath, struct mailbox *mb, char *err, size_t errsz);
/* queue_commit - queue req for the next batch; req->done runs on the loop. */
void queue_commit(struct queue *q, struct queue_req *req);
/*
 * queue_insert_new - insert m into st inside the caller's transaction, in
 * its own savepoint: with m->id, or a fresh id when m->id is empty; an id
 * that clashes is redrawn. For sessions' messages and for DSNs alike.
 */
enum store_result queue_insert_new(struct store *st, struct store_msg *m);
/*
 * queue_insert_local - queue_insert_new for a message this relay makes
 * itself (a DSN, a TLS report): from <>, no account, to one recipient; its
 * queue id into id_out.
 */
enum store_result queue_insert_local(struct store *st, const char *data, size_t len,
    const char *rcpt, int64_t arrival, char id_out[16]);

/* queue_free - finish pending batches, stop the thread, close the store. */
void queue_free(struct queue *q);

#endif
