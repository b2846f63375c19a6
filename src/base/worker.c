/*
 * worker.c - the mailbox (any thread -> loop thread) and the worker pool.
 *
 * The mailbox is a mutex-protected FIFO plus an eventfd watched by the loop.
 * The pool is a mutex/condvar FIFO served by a fixed set of threads.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/event.h>

#include "lib/util.h"
#include "base/worker.h"

struct job {
	struct job *next;
	worker_fn work;
	worker_fn done;
	void *arg;
};

struct fifo {
	struct job *head, *tail;
};

static void
fifo_push(struct fifo *f, struct job *j)
{
	j->next = NULL;
	if (f->tail)
		f->tail->next = j;
	else
		f->head = j;
	f->tail = j;
}

static struct job *
fifo_take_all(struct fifo *f)
{
	struct job *j = f->head;

	f->head = f->tail = NULL;
	return j;
}

static struct job *
fifo_pop(struct fifo *f)
{
	struct job *j = f->head;

	if (j != NULL && (f->head = j->next) == NULL)
		f->tail = NULL;
	return j;
}

struct mailbox {
	pthread_mutex_t lock;
	struct fifo q;
	int efd;
	struct event *ev;
};

static void
mailbox_drain(evutil_socket_t fd, short what, void *arg)
{
	struct mailbox *mb = arg;
	struct job *j, *next;
	uint64_t n;

	if (read(mb->efd, &n, sizeof(n)) == -1 && errno != EAGAIN)
		panic("mailbox eventfd read: %s", strerror(errno));
	pthread_mutex_lock(&mb->lock);
	j = fifo_take_all(&mb->q);
	pthread_mutex_unlock(&mb->lock);
	for (; j != NULL; j = next) {
		next = j->next;
		j->done(j->arg);
		free(j);
	}
}

struct mailbox *
mailbox_new(struct event_base *base)
{
	struct mailbox *mb = xcalloc(1, sizeof(*mb));

	pthread_mutex_init(&mb->lock, NULL);
	if ((mb->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		fatal("eventfd: %s", strerror(errno));
	mb->ev = event_new(base, mb->efd, EV_READ | EV_PERSIST, mailbox_drain, mb);
	event_add(mb->ev, NULL);
	return mb;
}

void
mailbox_post(struct mailbox *mb, worker_fn fn, void *arg)
{
	struct job *j = xcalloc(1, sizeof(*j));
	uint64_t one = 1;

	j->done = fn;
	j->arg = arg;
	pthread_mutex_lock(&mb->lock);
	fifo_push(&mb->q, j);
	pthread_mutex_unlock(&mb->lock);
	if (write(mb->efd, &one, sizeof(one)) == -1 && errno != EAGAIN)
		panic("mailbox eventfd write: %s", strerror(errno));
}

void
mailbox_flush(struct mailbox *mb)
{
	mailbox_drain(mb->efd, EV_READ, mb);
}

void
mailbox_free(struct mailbox *mb)
{
	if (mb == NULL)
		return;
	event_free(mb->ev);
	close(mb->efd);
	for (struct job *j = fifo_take_all(&mb->q), *next; j != NULL; j = next) {
		next = j->next;	/* the loop has ended: nobody waits for these */
		free(j);
	}
	pthread_mutex_destroy(&mb->lock);
	free(mb);
}

struct worker_pool {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct fifo q;
	bool stopping;
	int nthreads;
	pthread_t *threads;
	struct mailbox *mb;
};

static void *
worker_main(void *arg)
{
	struct worker_pool *wp = arg;
	struct job *j;

	for (;;) {
		pthread_mutex_lock(&wp->lock);
		while ((j = fifo_pop(&wp->q)) == NULL && !wp->stopping)
			pthread_cond_wait(&wp->cond, &wp->lock);
		pthread_mutex_unlock(&wp->lock);
		if (j == NULL)
			return NULL;
		j->work(j->arg);
		mailbox_post(wp->mb, j->done, j->arg);
		free(j);
	}
}

struct worker_pool *
worker_pool_new(struct mailbox *mb, int nthreads)
{
	struct worker_pool *wp = xcalloc(1, sizeof(*wp));
	int i;

	pthread_mutex_init(&wp->lock, NULL);
	pthread_cond_init(&wp->cond, NULL);
	wp->mb = mb;
	wp->nthreads = nthreads;
	wp->threads = xcalloc((size_t)nthreads, sizeof(pthread_t));
	for (i = 0; i < nthreads; i++)
		if (pthread_create(&wp->threads[i], NULL, worker_main, wp) != 0)
			fatal("cannot start worker thread");
	return wp;
}

void
worker_submit(struct worker_pool *wp, worker_fn work, worker_fn done, void *arg)
{
	struct job *j = xcalloc(1, sizeof(*j));

	j->work = work;
	j->done = done;
	j->arg = arg;
	pthread_mutex_lock(&wp->lock);
	fifo_push(&wp->q, j);
	pthread_cond_signal(&wp->cond);
	pthread_mutex_unlock(&wp->lock);
}

void
worker_pool_free(struct worker_pool *wp)
{
	int i;

	if (wp == NULL)
		return;
	pthread_mutex_lock(&wp->lock);
	wp->stopping = true;
	pthread_cond_broadcast(&wp->cond);
	pthread_mutex_unlock(&wp->lock);
	for (i = 0; i < wp->nthreads; i++)
		pthread_join(wp->threads[i], NULL);
	free(wp->threads);
	pthread_cond_destroy(&wp->cond);
	pthread_mutex_destroy(&wp->lock);
	free(wp);
}
