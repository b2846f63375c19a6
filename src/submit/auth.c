/*
 * auth.c - asynchronous password verification, the cache of verified
 * logins, and the per-address throttle.
 *
 * yescrypt costs about 85 ms and 16 MiB per check, by design. A home MTA
 * logs in for every message it relays, so, as Dovecot's auth cache does,
 * a login that yescrypt verified is remembered for AUTH_CACHE_TTL as an
 * HMAC (under a key that lives only in this process) of the stored hash and
 * the password: the same password against the same stored hash is then
 * accepted without yescrypt. Anything else - another password, a changed
 * hash, an unknown account - pays the full price, so guessing stays as
 * slow as before. Concurrent checks of the same login wait for the first
 * one instead of each running yescrypt.
 */
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <crypt.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "submit/auth.h"
#include "base/config.h"
#include "lib/log.h"
#include "lib/util.h"
#include "base/worker.h"

#define AUTH_TABLE_SIZE 1024	/* client addresses remembered */
#define AUTH_DELAY_FREE 3	/* failures answered without delay */
#define AUTH_DELAY_MAX 10	/* seconds */
#define AUTH_CACHE_SIZE 256	/* verified logins remembered (then the oldest goes) */
#define AUTH_CACHE_TTL 3600	/* seconds */
#define AUTH_INFLIGHT 32	/* yescrypt checks others may wait for */

struct throttle {
	uint8_t addr[16];
	int64_t last;		/* time of the last failure; 0 = free slot */
	int64_t banned_until;
	unsigned failures;
};

/* A login: the account and HMAC(key, stored hash, NUL, password). */
struct login {
	char user[STORE_NAME_MAX + 1];
	uint8_t mac[32];
};

struct verified {
	struct login l;
	int64_t at;		/* when yescrypt said yes; 0 = free slot */
};

struct auth {
	const struct config *cfg;
	struct store_per_thread *stores;	/* each worker thread's connection */
	struct worker_pool *wp;
	char dummy_hash[128];		/* checked for unknown users: same cost */
	struct throttle table[AUTH_TABLE_SIZE];	/* the loop thread's */

	/* the cache, shared by the worker threads */
	pthread_mutex_t lock;
	pthread_cond_t checked;		/* an in-flight check ended */
	uint8_t key[32];
	struct verified cache[AUTH_CACHE_SIZE];
	struct login inflight[AUTH_INFLIGHT];
	bool inflight_used[AUTH_INFLIGHT];
};

struct auth *
auth_new(const struct config *cfg, struct store_per_thread *stores, struct worker_pool *wp)
{
	struct auth *a = xcalloc(1, sizeof(*a));

	a->cfg = config_ref(cfg);
	a->stores = stores;
	a->wp = wp;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->checked, NULL);
	util_random_bytes(a->key, sizeof(a->key));
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
	pthread_mutex_destroy(&a->lock);
	pthread_cond_destroy(&a->checked);
	explicit_bzero(a->key, sizeof(a->key));
	explicit_bzero(a->cache, sizeof(a->cache));
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

/* login_of - the account and the MAC of its stored hash with the password. */
static void
login_of(const struct auth *a, const char *user, const char *hash, const char *pass,
    struct login *l)
{
	uint8_t buf[256 + 1 + AUTH_PASS_MAX + 1];
	size_t hn = strlen(hash), pn = strlen(pass);
	unsigned int len = sizeof(l->mac);

	util_strlcpy(l->user, user, sizeof(l->user));
	memcpy(buf, hash, hn);
	buf[hn] = '\0';
	memcpy(buf + hn + 1, pass, pn);
	if (HMAC(EVP_sha256(), a->key, sizeof(a->key), buf, hn + 1 + pn, l->mac, &len) == NULL)
		memset(l->mac, 0, sizeof(l->mac));	/* matches nothing that was verified */
	explicit_bzero(buf, sizeof(buf));
}

static bool
same_login(const struct login *x, const struct login *y)
{
	return strcmp(x->user, y->user) == 0 && CRYPTO_memcmp(x->mac, y->mac, sizeof(x->mac)) == 0;
}

/* cached - whether l was verified less than AUTH_CACHE_TTL ago (lock held). */
static bool
cached(const struct auth *a, const struct login *l, int64_t now)
{
	for (size_t i = 0; i < AUTH_CACHE_SIZE; i++)
		if (a->cache[i].at != 0 && now - a->cache[i].at < AUTH_CACHE_TTL &&
		    same_login(&a->cache[i].l, l))
			return true;
	return false;
}

/* remember - l was verified now: its account's slot, a free one, or the oldest (lock held). */
static void
remember(struct auth *a, const struct login *l, int64_t now)
{
	size_t pick = 0;

	for (size_t i = 0; i < AUTH_CACHE_SIZE; i++) {
		if (a->cache[i].at != 0 && strcmp(a->cache[i].l.user, l->user) == 0) {
			pick = i;
			break;
		}
		if (a->cache[i].at < a->cache[pick].at)
			pick = i;
	}
	a->cache[pick].l = *l;
	a->cache[pick].at = now;
}

/* inflight_slot - the in-flight check of l, or -1 (lock held). */
static int
inflight_slot(const struct auth *a, const struct login *l)
{
	for (int i = 0; i < AUTH_INFLIGHT; i++)
		if (a->inflight_used[i] && same_login(&a->inflight[i], l))
			return i;
	return -1;
}

/*
 * verify - whether pass matches hash: from the cache, after waiting for
 * the same check in flight on another thread, or by yescrypt.
 */
static bool
verify(struct auth *a, const char *user, const char *hash, const char *pass)
{
	struct login l;
	int slot = -1;
	bool ok;

	login_of(a, user, hash, pass, &l);
	pthread_mutex_lock(&a->lock);
	while (!cached(a, &l, util_now()) && inflight_slot(a, &l) != -1)
		pthread_cond_wait(&a->checked, &a->lock);
	if (cached(a, &l, util_now())) {
		pthread_mutex_unlock(&a->lock);
		explicit_bzero(&l, sizeof(l));
		return true;
	}
	for (int i = 0; i < AUTH_INFLIGHT && slot == -1; i++)
		if (!a->inflight_used[i])
			slot = i;
	if (slot != -1) {
		a->inflight[slot] = l;
		a->inflight_used[slot] = true;
	}
	pthread_mutex_unlock(&a->lock);

	ok = auth_verify_password(pass, hash);

	pthread_mutex_lock(&a->lock);
	if (ok)
		remember(a, &l, util_now());
	if (slot != -1) {
		a->inflight_used[slot] = false;
		explicit_bzero(&a->inflight[slot], sizeof(a->inflight[slot]));
	}
	pthread_cond_broadcast(&a->checked);
	pthread_mutex_unlock(&a->lock);
	explicit_bzero(&l, sizeof(l));
	return ok;
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
		req->ok = verify(req->auth, req->user, hash, req->pass);
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
