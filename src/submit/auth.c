/*
 * auth.c - asynchronous password verification and the per-address throttle.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <crypt.h>

#include <openssl/crypto.h>

#include "submit/auth.h"
#include "base/config.h"
#include "lib/log.h"
#include "lib/util.h"
#include "base/worker.h"

#define AUTH_TABLE_SIZE 1024	/* client addresses remembered */
#define AUTH_DELAY_FREE 3	/* failures answered without delay */
#define AUTH_DELAY_MAX 10	/* seconds */

struct throttle {
	uint8_t addr[16];
	int64_t last;		/* time of the last failure; 0 = free slot */
	int64_t banned_until;
	unsigned failures;
};

struct auth {
	const struct config *cfg;
	struct store_per_thread *stores;	/* each worker thread's connection */
	struct worker_pool *wp;
	char dummy_hash[128];		/* checked for unknown users: same cost */
	struct throttle table[AUTH_TABLE_SIZE];
};

struct auth *
auth_new(const struct config *cfg, struct store_per_thread *stores, struct worker_pool *wp)
{
	struct auth *a = xcalloc(1, sizeof(*a));

	a->cfg = config_ref(cfg);
	a->stores = stores;
	a->wp = wp;
	if (auth_hash_password("no such user", a->dummy_hash, sizeof(a->dummy_hash)) == -1)
		fatal("crypt(3) cannot make yescrypt hashes");
	return a;
}

void
auth_free(struct auth *a)
{
	if (a == NULL)
		return;
	config_free(a->cfg);
	free(a);
}

void
auth_set_config(struct auth *a, const struct config *cfg)
{
	config_free(a->cfg);
	a->cfg = config_ref(cfg);
}

int
auth_hash_password(const char *pass, char *out, size_t outsz)
{
	struct crypt_data *cd = xcalloc(1, sizeof(*cd));
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	const char *h;
	int rc = -1;

	if (crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof(salt)) == NULL)
		goto done;
	h = crypt_r(pass, salt, cd);
	if (h == NULL || h[0] == '*' || strlen(h) >= outsz)
		goto done;
	strcpy(out, h);
	rc = 0;
done:
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return rc;
}

bool
auth_verify_password(const char *pass, const char *hash)
{
	struct crypt_data *cd = xcalloc(1, sizeof(*cd));
	const char *h = crypt_r(pass, hash, cd);
	size_t n = strlen(hash);
	bool ok;

	ok = h != NULL && h[0] != '*' && strlen(h) == n && CRYPTO_memcmp(h, hash, n) == 0;
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ok;
}

static struct store *
thread_store(struct auth *a)
{
	char err[256];
	struct store *st = store_per_thread_get(a->stores, err, sizeof(err));

	if (st == NULL)
		log_warn("authentication: %s", err);
	return st;
}

/* check_work - on a worker thread: look up the hash and compare. */
static void
check_work(void *arg)
{
	struct auth_req *req = arg;
	struct store *st = thread_store(req->auth);
	char hash[256];
	enum store_result r = STORE_ERROR;

	if (st != NULL)
		r = store_account_hash(st, req->user, hash, sizeof(hash));
	if (r == STORE_ERROR || r == STORE_FULL)
		log_warn("authentication: cannot read account %s: %s", req->user,
		    st ? store_errmsg(st) : "no database");
	if (r != STORE_OK) {
		auth_verify_password(req->pass, req->auth->dummy_hash);
		req->ok = false;
	} else
		req->ok = auth_verify_password(req->pass, hash);
	explicit_bzero(req->pass, sizeof(req->pass));
	explicit_bzero(hash, sizeof(hash));
}

static void
check_done(void *arg)
{
	struct auth_req *req = arg;

	req->done(req);
}

void
auth_check(struct auth *a, struct auth_req *req)
{
	req->auth = a;
	req->ok = false;
	worker_submit(a->wp, check_work, check_done, req);
}

static void
addr_key(const struct sockaddr *sa, uint8_t key[16])
{
	memset(key, 0, 16);
	if (sa->sa_family == AF_INET)
		memcpy(key + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	else if (sa->sa_family == AF_INET6)
		memcpy(key, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
}

/* lookup - the slot of sa; when create, a free or the least recent one. */
static struct throttle *
lookup(struct auth *a, const struct sockaddr *sa, bool create)
{
	struct throttle *t, *oldest = &a->table[0];
	uint8_t key[16];
	size_t i;

	addr_key(sa, key);
	for (i = 0; i < AUTH_TABLE_SIZE; i++) {
		t = &a->table[i];
		if (t->last != 0 && memcmp(t->addr, key, 16) == 0)
			return t;
		if (t->last < oldest->last)
			oldest = t;
	}
	if (!create)
		return NULL;
	memset(oldest, 0, sizeof(*oldest));
	memcpy(oldest->addr, key, 16);
	return oldest;
}

bool
auth_banned(struct auth *a, const struct sockaddr *sa)
{
	struct throttle *t = lookup(a, sa, false);

	return t != NULL && t->banned_until > util_now();
}

int
auth_failed(struct auth *a, const struct sockaddr *sa)
{
	struct throttle *t = lookup(a, sa, true);
	int64_t now = util_now();
	uint64_t delay;

	if (t->last != 0 && now - t->last > (int64_t)a->cfg->auth_ban_time)
		t->failures = 0;	/* an old streak is forgotten */
	t->last = now;
	t->failures++;
	if (t->failures >= a->cfg->auth_max_failures) {
		t->banned_until = now + (int64_t)a->cfg->auth_ban_time;
		t->failures = 0;
		return -1;
	}
	if (t->failures <= AUTH_DELAY_FREE)
		return 0;
	delay = a->cfg->auth_fail_delay * (t->failures - AUTH_DELAY_FREE);
	return delay > AUTH_DELAY_MAX ? AUTH_DELAY_MAX : (int)delay;
}

void
auth_succeeded(struct auth *a, const struct sockaddr *sa)
{
	struct throttle *t = lookup(a, sa, false);

	if (t != NULL && t->banned_until <= util_now())
		memset(t, 0, sizeof(*t));
}
