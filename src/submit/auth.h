/*
 * auth.h - password checks and the failed-login throttle.
 *
 * auth_check() is asynchronous: the hash lookup and crypt(3) run on a worker
 * thread (yescrypt is deliberately slow), the answer comes back on the
 * event loop. The session never sees a hash. The throttle counts failures
 * per client address (bounded table) to slow and then ban password guessers.
 */
#ifndef HIKYAKU_AUTH_H
#define HIKYAKU_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "base/store.h"

struct auth;
struct config;
struct worker_pool;

#define AUTH_PASS_MAX 256

struct auth_req {
	char user[STORE_NAME_MAX + 1];
	char pass[AUTH_PASS_MAX + 1];	/* wiped before done runs */
	bool ok;			/* result */
	void (*done)(struct auth_req *req);
	void *arg;
	struct auth *auth;		/* private */
};

/* auth_new - checks run on wp's threads and read hashes through stores. */
struct auth *auth_new(const struct config *cfg, struct store_per_thread *stores,
    struct worker_pool *wp);
void auth_free(struct auth *a);
/* auth_set_config - a reload: the throttle's limits from cfg from now on (takes a reference). */
void auth_set_config(struct auth *a, const struct config *cfg);

/* auth_check - check req->user/req->pass; req->done(req) runs on the loop. */
void auth_check(struct auth *a, struct auth_req *req);

/* auth_banned - whether the client address is refused after too many failures. */
bool auth_banned(struct auth *a, const struct sockaddr *sa);
/*
 * auth_failed - record a failure from sa. Returns the seconds to wait before
 * answering 535, or -1 when sa has now reached the limit and is banned.
 */
int auth_failed(struct auth *a, const struct sockaddr *sa);
/* auth_succeeded - forget the failures of sa. */
void auth_succeeded(struct auth *a, const struct sockaddr *sa);

/* auth_hash_password - yescrypt hash of pass into out. Returns 0 or -1. */
int auth_hash_password(const char *pass, char *out, size_t outsz);
/* auth_verify_password - whether pass matches hash (constant-time compare). */
bool auth_verify_password(const char *pass, const char *hash);

#endif
