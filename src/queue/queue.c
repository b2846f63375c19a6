/*
 * queue.c - the queue writer thread and its group commit.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "queue/queue.h"
#include "lib/util.h"
#include "base/worker.h"

#define QUEUE_BATCH_MAX 256

struct queue {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct queue_req *head, *tail;
	bool stopping;
	pthread_t thread;
	struct store *st;
	struct mailbox *mb;
};

static void
queue_req_done(void *arg)
{
	struct queue_req *req = arg;

	req->done(req);
}

/* take_batch - wait for requests; return up to QUEUE_BATCH_MAX, NULL to stop. */
static struct queue_req *
take_batch(struct queue *q)
{
	struct queue_req *batch, *last;
	int n = 1;

	pthread_mutex_lock(&q->lock);
	while (q->head == NULL && !q->stopping)
		pthread_cond_wait(&q->cond, &q->lock);
	batch = last = q->head;
	while (last != NULL && last->next != NULL && n < QUEUE_BATCH_MAX) {
		last = last->next;
		n++;
	}
	if (last != NULL) {
		q->head = last->next;
		if (q->head == NULL)
			q->tail = NULL;
		last->next = NULL;
	}
	pthread_mutex_unlock(&q->lock);
	return batch;
}

/* apply_one - run a change in its own savepoint. */
static enum store_result
apply_one(struct queue *q, struct queue_req *req)
{
	enum store_result r;

	if ((r = store_savepoint(q->st)) != STORE_OK)
		return r;
	if ((r = req->apply(q->st, req->apply_arg)) == STORE_OK)
		return store_release(q->st);
	store_rollback_savepoint(q->st);
	return r;
}

enum store_result
queue_insert_new(struct store *st, struct store_msg *m)
{
	enum store_result r = STORE_EXISTS;
	int tries;

	for (tries = 0; tries < 3 && r == STORE_EXISTS; tries++) {
		if (tries > 0 || m->id[0] == '\0')	/* an id clash: draw another */
			util_queue_id(m->id);
		if ((r = store_savepoint(st)) != STORE_OK)
			return r;
		if ((r = store_msg_insert(st, m)) == STORE_OK)
			return store_release(st);
		store_rollback_savepoint(st);
	}
	return r;
}

enum store_result
queue_insert_local(struct store *st, const char *data, size_t len, const char *rcpt,
    int64_t arrival, char id_out[16])
{
	const char *rcpts[1] = { rcpt };
	struct store_msg m = { .account = "", .sender = "", .client = "local", .params = "",
	    .arrival = arrival, .rcpts = rcpts, .nrcpts = 1, .data = data, .len = len };
	enum store_result r = queue_insert_new(st, &m);

	if (r == STORE_OK)
		util_strlcpy(id_out, m.id, sizeof(m.id));
	return r;
}

static void
write_batch(struct queue *q, struct queue_req *batch)
{
	struct queue_req *req;
	enum store_result r;

	r = store_begin(q->st);
	for (req = batch; req != NULL; req = req->next) {
		if (r != STORE_OK)
			req->result = r;
		else
			req->result = req->apply ? apply_one(q, req) :
			    queue_insert_new(q->st, &req->msg);
		if (req->result != STORE_OK)
			util_strlcpy(req->errmsg, store_errmsg(q->st), sizeof(req->errmsg));
	}
	if (r == STORE_OK && (r = store_commit(q->st)) != STORE_OK) {
		store_rollback(q->st);
		for (req = batch; req != NULL; req = req->next) {
			req->result = r;
			util_strlcpy(req->errmsg, store_errmsg(q->st), sizeof(req->errmsg));
		}
	}
	if (r != STORE_OK)
		log_warn("queue commit of a batch failed: %s", store_errmsg(q->st));
}

static void *
writer_main(void *arg)
{
	struct queue *q = arg;
	struct queue_req *batch, *next;

	while ((batch = take_batch(q)) != NULL) {
		write_batch(q, batch);
		for (; batch != NULL; batch = next) {
			next = batch->next;
			mailbox_post(q->mb, queue_req_done, batch);
		}
	}
	return NULL;
}

struct queue *
queue_new(const char *dbpath, struct mailbox *mb, char *err, size_t errsz)
{
	struct queue *q = xcalloc(1, sizeof(*q));

	if ((q->st = store_open(dbpath, err, errsz)) == NULL) {
		free(q);
		return NULL;
	}
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	q->mb = mb;
	if (pthread_create(&q->thread, NULL, writer_main, q) != 0)
		fatal("cannot start the queue writer thread");
	return q;
}

void
queue_commit(struct queue *q, struct queue_req *req)
{
	req->next = NULL;
	pthread_mutex_lock(&q->lock);
	if (q->tail)
		q->tail->next = req;
	else
		q->head = req;
	q->tail = req;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

void
queue_free(struct queue *q)
{
	if (q == NULL)
		return;
	pthread_mutex_lock(&q->lock);
	q->stopping = true;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
	pthread_join(q->thread, NULL);
	store_close(q->st);
	pthread_cond_destroy(&q->cond);
	pthread_mutex_destroy(&q->lock);
	free(q);
}
