/*
 * store.c - SQLite-backed store of accounts, grants, trusted networks and
 * the queue. The only file that includes sqlite3.h.
 *
 * Each public function runs one prepared statement (or a small fixed set)
 * and maps SQLite's result onto enum store_result. Statements are prepared
 * per call: these paths are not hot enough to justify a cache, except the
 * queue inserts, which keep theirs.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "base/store.h"
#include "lib/util.h"

#define STORE_SCHEMA_VERSION 1

#define STORE_STMT_CACHE 64	/* prepared statements kept per connection */

struct store {
	sqlite3 *db;
	sqlite3_stmt *ins_msg;		/* cached for the queue writer */
	sqlite3_stmt *ins_rcpt;
	sqlite3_stmt *ins_usage;
	struct {
		const char *sql;	/* where the caller's text was (a literal, usually) */
		char *text;		/* a copy: the same address must hold the same text */
		sqlite3_stmt *s;
	} cache[STORE_STMT_CACHE];
	size_t ncache;
	char err[256];
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS accounts("
    " name TEXT PRIMARY KEY, hash TEXT NOT NULL, created INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS grants("
    " account TEXT NOT NULL REFERENCES accounts(name) ON DELETE CASCADE,"
    " pattern TEXT NOT NULL COLLATE NOCASE, PRIMARY KEY(account, pattern));"
    "CREATE TABLE IF NOT EXISTS trusts("
    " account TEXT NOT NULL REFERENCES accounts(name) ON DELETE CASCADE,"
    " cidr TEXT NOT NULL, PRIMARY KEY(account, cidr));"
    "CREATE TABLE IF NOT EXISTS messages("
    " id TEXT PRIMARY KEY, account TEXT NOT NULL, sender TEXT NOT NULL,"
    " client TEXT NOT NULL, params TEXT NOT NULL, smtputf8 INTEGER NOT NULL,"
    " body_8bit INTEGER NOT NULL, arrival INTEGER NOT NULL,"
    " warned INTEGER NOT NULL DEFAULT 0,"
    " size INTEGER NOT NULL, data BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS recipients("
    " msg TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,"
    " rcpt TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'queued',"
    " attempts INTEGER NOT NULL DEFAULT 0, next_attempt INTEGER NOT NULL,"
    " last_reply TEXT, dsn TEXT, relay TEXT, PRIMARY KEY(msg, rcpt));"
    "CREATE INDEX IF NOT EXISTS recipients_due ON recipients(state, next_attempt);"
    "CREATE INDEX IF NOT EXISTS recipients_pending ON recipients(next_attempt)"
    " WHERE state IN ('queued', 'deferred');"
    "CREATE TABLE IF NOT EXISTS dkim_keys("
    " domain TEXT NOT NULL COLLATE NOCASE, selector TEXT NOT NULL, algo TEXT NOT NULL,"
    " keyfile TEXT NOT NULL, created INTEGER NOT NULL, PRIMARY KEY(domain, selector));"
    "CREATE TABLE IF NOT EXISTS account_limits("
    " account TEXT PRIMARY KEY REFERENCES accounts(name) ON DELETE CASCADE,"
    " max INTEGER NOT NULL, period INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS account_usage("
    " account TEXT PRIMARY KEY REFERENCES accounts(name) ON DELETE CASCADE,"
    " window INTEGER NOT NULL, count INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS doctor_verdicts("
    " domain TEXT PRIMARY KEY COLLATE NOCASE, checked INTEGER NOT NULL,"
    " state TEXT NOT NULL, reason TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS sts_policies("
    " domain TEXT PRIMARY KEY COLLATE NOCASE, id TEXT NOT NULL, policy TEXT NOT NULL,"
    " fetched INTEGER NOT NULL, expires INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS tlsrpt_counts("
    " day TEXT NOT NULL, domain TEXT NOT NULL COLLATE NOCASE, policy_type TEXT NOT NULL,"
    " policy_string TEXT NOT NULL, mx_host TEXT NOT NULL, result TEXT NOT NULL,"
    " mx TEXT NOT NULL, ip TEXT NOT NULL, sending_ip TEXT NOT NULL, reason TEXT NOT NULL,"
    " count INTEGER NOT NULL, PRIMARY KEY(day, domain, policy_type, policy_string, mx_host,"
    " result, mx, ip, sending_ip));";

static enum store_result
fail(struct store *st, int rc)
{
	snprintf(st->err, sizeof(st->err), "%s", sqlite3_errmsg(st->db));
	if (rc == SQLITE_FULL || (rc & 0xff) == SQLITE_FULL)
		return STORE_FULL;
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return STORE_EXISTS;
	return STORE_ERROR;
}

const char *
store_errmsg(struct store *st)
{
	return st->err;
}

static int
store_exec(struct store *st, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK) {
		snprintf(st->err, sizeof(st->err), "%s", msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
	}
	return rc;
}

/*
 * store_schema - bring the database to STORE_SCHEMA_VERSION. The schema
 * text is idempotent (IF NOT EXISTS) and runs at every open, so a new table
 * or index needs no version change; a change to an existing table (a new
 * column) bumps the version and adds its ALTER TABLE step here, run when
 * the stored version is older.
 */
static int
store_schema(struct store *st)
{
	sqlite3_stmt *s;
	char sql[64];
	int version = -1;

	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		version = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if (version > STORE_SCHEMA_VERSION) {
		snprintf(st->err, sizeof(st->err),
		    "database schema version %d is newer than this hikyaku (%d)",
		    version, STORE_SCHEMA_VERSION);
		return -1;
	}
	if (store_exec(st, schema) != SQLITE_OK)
		return -1;
	if (version == STORE_SCHEMA_VERSION)
		return 0;
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d;", STORE_SCHEMA_VERSION);
	return store_exec(st, sql) == SQLITE_OK ? 0 : -1;
}

struct store *
store_open(const char *path, char *err, size_t errsz)
{
	struct store *st = xcalloc(1, sizeof(*st));
	mode_t old = umask(077);
	int rc;

	rc = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	    SQLITE_OPEN_NOMUTEX, NULL);
	umask(old);
	if (rc != SQLITE_OK) {
		snprintf(err, errsz, "cannot open database %s: %s", path,
		    st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_busy_timeout(st->db, 10000);
	sqlite3_extended_result_codes(st->db, 1);
	/*
	 * temp_store: statement journals in memory, not a file created and
	 * unlinked in /var/tmp per transaction. secure_delete FAST: a delivered
	 * message's pages are not overwritten with zeros on top of being freed
	 * (Debian builds SQLite with it on); like an unlinked queue file,
	 * they are reused.
	 */
	if (store_exec(st, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
	    "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY; PRAGMA secure_delete=FAST;")
	    != SQLITE_OK || store_schema(st) == -1) {
		snprintf(err, errsz, "cannot set up database %s: %s", path, st->err);
		goto fail;
	}
	return st;
fail:
	store_close(st);
	return NULL;
}

struct store_per_thread {
	char *path;
	pthread_key_t key;
};

static void
per_thread_close(void *st)
{
	store_close(st);
}

struct store_per_thread *
store_per_thread_new(const char *path)
{
	struct store_per_thread *pt = xcalloc(1, sizeof(*pt));

	pt->path = xstrdup(path);
	if (pthread_key_create(&pt->key, per_thread_close) != 0)
		fatal("pthread_key_create failed");
	return pt;
}

struct store *
store_per_thread_get(struct store_per_thread *pt, char *err, size_t errsz)
{
	struct store *st = pthread_getspecific(pt->key);

	if (st == NULL && (st = store_open(pt->path, err, errsz)) != NULL)
		pthread_setspecific(pt->key, st);
	return st;
}

void
store_per_thread_free(struct store_per_thread *pt)
{
	if (pt == NULL)
		return;
	pthread_key_delete(pt->key);
	free(pt->path);
	free(pt);
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	sqlite3_finalize(st->ins_msg);
	sqlite3_finalize(st->ins_rcpt);
	sqlite3_finalize(st->ins_usage);
	for (size_t i = 0; i < st->ncache; i++) {
		sqlite3_finalize(st->cache[i].s);
		free(st->cache[i].text);
	}
	sqlite3_close(st->db);
	free(st);
}

/*
 * stmt_get - a prepared statement for sql: the one this connection keeps for
 * it, or a new one (kept while there is room). Statements are found by the
 * address of the text (callers pass literals) and checked against a copy of
 * it, so a buffer reused for other text is never mistaken for a kept one.
 * *kept says which; stmt_put() hands it back. A kept statement still in use
 * (a callback running the same query) is not shared: a fresh one is made.
 */
static int
stmt_get(struct store *st, const char *sql, sqlite3_stmt **out, bool *kept)
{
	size_t i;
	int rc;

	*kept = false;
	for (i = 0; i < st->ncache; i++) {
		if (st->cache[i].sql != sql)
			continue;
		if (strcmp(st->cache[i].text, sql) != 0 || sqlite3_stmt_busy(st->cache[i].s))
			return sqlite3_prepare_v2(st->db, sql, -1, out, NULL);
		*out = st->cache[i].s;
		*kept = true;
		return SQLITE_OK;
	}
	if (st->ncache == STORE_STMT_CACHE)
		return sqlite3_prepare_v2(st->db, sql, -1, out, NULL);
	if ((rc = sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, out,
	    NULL)) != SQLITE_OK)
		return rc;
	st->cache[st->ncache].sql = sql;
	st->cache[st->ncache].text = xstrdup(sql);
	st->cache[st->ncache++].s = *out;
	*kept = true;
	return SQLITE_OK;
}

static void
stmt_put(sqlite3_stmt *s, bool kept)
{
	if (!kept) {
		sqlite3_finalize(s);
		return;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

/*
 * run - prepare sql (kept prepared when it is a literal), bind the NULL-terminated text arguments, step to the
 * end; for each row call cb with its columns as strings. Returns STORE_OK,
 * or STORE_NOTFOUND when a change statement touched no row.
 */
static enum store_result
run(struct store *st, const char *sql, const char *const *args, store_list_cb cb,
    void *arg)
{
	const char *cols[16];
	enum store_result r = STORE_OK;
	sqlite3_stmt *s;
	bool kept;
	int rc, i, n, ro;

	if ((rc = stmt_get(st, sql, &s, &kept)) != SQLITE_OK)
		return fail(st, rc);
	for (i = 0; args && args[i]; i++)
		sqlite3_bind_text(s, i + 1, args[i], -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		n = sqlite3_column_count(s);
		if (n > 15)
			n = 15;
		for (i = 0; i < n; i++) {
			cols[i] = (const char *)sqlite3_column_text(s, i);
			if (cols[i] == NULL)
				cols[i] = "";
		}
		cols[n] = NULL;
		if (cb)
			cb(arg, cols, n);
	}
	ro = sqlite3_stmt_readonly(s);
	if (rc != SQLITE_DONE)
		r = fail(st, rc);
	else if (!ro && sqlite3_changes(st->db) == 0)
		r = STORE_NOTFOUND;
	stmt_put(s, kept);
	return r;
}

enum store_result
store_account_add(struct store *st, const char *name, const char *hash)
{
	const char *a[] = { name, hash, NULL };

	return run(st, "INSERT INTO accounts(name, hash, created)"
	    " VALUES(?, ?, strftime('%s','now'))", a, NULL, NULL);
}

enum store_result
store_account_del(struct store *st, const char *name)
{
	const char *a[] = { name, NULL };

	return run(st, "DELETE FROM accounts WHERE name = ?", a, NULL, NULL);
}

enum store_result
store_account_set_hash(struct store *st, const char *name, const char *hash)
{
	const char *a[] = { hash, name, NULL };

	return run(st, "UPDATE accounts SET hash = ? WHERE name = ?", a, NULL, NULL);
}

struct copy_arg {
	char *out;
	size_t outsz;
	bool found;
};

static void
copy_first(void *arg, const char *const *cols, int ncols)
{
	struct copy_arg *c = arg;

	if (!c->found && ncols > 0)
		util_strlcpy(c->out, cols[0], c->outsz);
	c->found = true;
}

/* run_int - the first column of the first row as a number; dflt when NULL or no row. */
static enum store_result
run_int(struct store *st, const char *sql, const char *const *args, int64_t dflt, int64_t *out)
{
	char buf[32] = "";
	struct copy_arg c = { buf, sizeof(buf), false };
	enum store_result r = run(st, sql, args, copy_first, &c);

	*out = buf[0] ? strtoll(buf, NULL, 10) : dflt;
	return r;
}

enum store_result
store_account_hash(struct store *st, const char *name, char *out, size_t outsz)
{
	const char *a[] = { name, NULL };
	struct copy_arg c = { out, outsz, false };
	enum store_result r;

	r = run(st, "SELECT hash FROM accounts WHERE name = ?", a, copy_first, &c);
	if (r != STORE_OK)
		return r;
	return c.found ? STORE_OK : STORE_NOTFOUND;
}

enum store_result
store_account_list(struct store *st, store_list_cb cb, void *arg)
{
	return run(st, "SELECT a.name, datetime(a.created, 'unixepoch'),"
	    " (SELECT group_concat(pattern, ' ') FROM grants g WHERE g.account = a.name),"
	    " (SELECT group_concat(cidr, ' ') FROM trusts t WHERE t.account = a.name),"
	    " l.max, l.period, u.window, u.count FROM accounts a"
	    " LEFT JOIN account_limits l ON l.account = a.name"
	    " LEFT JOIN account_usage u ON u.account = a.name ORDER BY a.name", NULL, cb, arg);
}

static enum store_result
account_must_exist(struct store *st, const char *account)
{
	char hash[8];
	enum store_result r = store_account_hash(st, account, hash, sizeof(hash));

	if (r == STORE_NOTFOUND)
		snprintf(st->err, sizeof(st->err), "no account named %s", account);
	return r;
}

enum store_result
store_grant_add(struct store *st, const char *account, const char *pattern)
{
	const char *a[] = { account, pattern, NULL };
	enum store_result r;

	if ((r = account_must_exist(st, account)) != STORE_OK)
		return r;
	return run(st, "INSERT INTO grants(account, pattern) VALUES(?, ?)", a, NULL, NULL);
}

enum store_result
store_grant_del(struct store *st, const char *account, const char *pattern)
{
	const char *a[] = { account, pattern, NULL };

	return run(st, "DELETE FROM grants WHERE account = ? AND pattern = ?", a, NULL, NULL);
}

enum store_result
store_grant_list(struct store *st, const char *account, store_list_cb cb, void *arg)
{
	const char *a[] = { account, NULL };

	if (account == NULL)
		return run(st, "SELECT account, pattern FROM grants ORDER BY account, pattern",
		    NULL, cb, arg);
	return run(st, "SELECT account, pattern FROM grants WHERE account = ?"
	    " ORDER BY pattern", a, cb, arg);
}

enum store_result
store_trust_add(struct store *st, const char *account, const char *cidr)
{
	const char *a[] = { account, cidr, NULL };
	enum store_result r;

	if ((r = account_must_exist(st, account)) != STORE_OK)
		return r;
	return run(st, "INSERT INTO trusts(account, cidr) VALUES(?, ?)", a, NULL, NULL);
}

enum store_result
store_trust_del(struct store *st, const char *account, const char *cidr)
{
	const char *a[] = { account, cidr, NULL };

	return run(st, "DELETE FROM trusts WHERE account = ? AND cidr = ?", a, NULL, NULL);
}

enum store_result
store_trust_list(struct store *st, store_list_cb cb, void *arg)
{
	return run(st, "SELECT account, cidr FROM trusts ORDER BY account, cidr", NULL, cb, arg);
}

static enum store_result
exec_result(struct store *st, const char *sql)
{
	int rc = store_exec(st, sql);

	if (rc == SQLITE_OK)
		return STORE_OK;
	return (rc & 0xff) == SQLITE_FULL ? STORE_FULL : STORE_ERROR;
}

enum store_result store_begin(struct store *st) { return exec_result(st, "BEGIN IMMEDIATE"); }
enum store_result store_commit(struct store *st) { return exec_result(st, "COMMIT"); }
/* store_rollback - undo; keeps the error that made the caller roll back. */
void store_rollback(struct store *st) { sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL); }
enum store_result store_savepoint(struct store *st) { return exec_result(st, "SAVEPOINT m"); }
enum store_result store_release(struct store *st) { return exec_result(st, "RELEASE m"); }
void
store_rollback_savepoint(struct store *st)
{
	sqlite3_exec(st->db, "ROLLBACK TO m; RELEASE m", NULL, NULL, NULL);
}

static enum store_result
prepare_cached(struct store *st, sqlite3_stmt **s, const char *sql)
{
	int rc;

	if (*s != NULL)
		return STORE_OK;
	if ((rc = sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, s,
	    NULL)) != SQLITE_OK)
		return fail(st, rc);
	return STORE_OK;
}

static enum store_result
step_reset(struct store *st, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? STORE_OK : fail(st, rc);
}

static enum store_result
insert_message_row(struct store *st, const struct store_msg *m)
{
	sqlite3_stmt *s;
	enum store_result r;

	if ((r = prepare_cached(st, &st->ins_msg, "INSERT INTO messages(id, account,"
	    " sender, client, params, smtputf8, body_8bit, arrival, size, data)"
	    " VALUES(?,?,?,?,?,?,?,?,?,?)")) != STORE_OK)
		return r;
	s = st->ins_msg;
	sqlite3_bind_text(s, 1, m->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, m->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, m->sender, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, m->client, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, m->params, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 6, m->smtputf8);
	sqlite3_bind_int(s, 7, m->body_8bit);
	sqlite3_bind_int64(s, 8, m->arrival);
	sqlite3_bind_int64(s, 9, (sqlite3_int64)m->len);
	sqlite3_bind_blob64(s, 10, m->data, m->len, SQLITE_STATIC);
	return step_reset(st, s);
}

enum store_result
store_msg_insert(struct store *st, const struct store_msg *m)
{
	enum store_result r;
	size_t i;

	if ((r = insert_message_row(st, m)) != STORE_OK)
		return r;
	if ((r = prepare_cached(st, &st->ins_rcpt, "INSERT INTO recipients(msg, rcpt,"
	    " next_attempt) VALUES(?, ?, ?)")) != STORE_OK)
		return r;
	for (i = 0; i < m->nrcpts; i++) {
		sqlite3_bind_text(st->ins_rcpt, 1, m->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st->ins_rcpt, 2, m->rcpts[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(st->ins_rcpt, 3, m->arrival);
		if ((r = step_reset(st, st->ins_rcpt)) != STORE_OK)
			return r;
	}
	if (m->quota_window == 0)
		return STORE_OK;
	if ((r = prepare_cached(st, &st->ins_usage, "INSERT INTO account_usage(account, window,"
	    " count) VALUES(?1, ?2, 1) ON CONFLICT(account) DO UPDATE SET"
	    " count = CASE WHEN window = ?2 THEN count + 1 ELSE 1 END, window = ?2")) != STORE_OK)
		return r;
	sqlite3_bind_text(st->ins_usage, 1, m->account, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st->ins_usage, 2, m->quota_window);
	return step_reset(st, st->ins_usage);
}

enum store_result
store_limit_set(struct store *st, const char *account, uint64_t max, uint64_t period)
{
	char maxbuf[32], perbuf[32];
	const char *a[] = { account, maxbuf, perbuf, NULL };
	enum store_result r;

	if ((r = account_must_exist(st, account)) != STORE_OK)
		return r;
	snprintf(maxbuf, sizeof(maxbuf), "%llu", (unsigned long long)max);
	snprintf(perbuf, sizeof(perbuf), "%llu", (unsigned long long)period);
	return run(st, "INSERT INTO account_limits(account, max, period)"
	    " VALUES(?1, CAST(?2 AS INTEGER), CAST(?3 AS INTEGER)) ON CONFLICT(account)"
	    " DO UPDATE SET max = excluded.max, period = excluded.period", a, NULL, NULL);
}

enum store_result
store_limit_del(struct store *st, const char *account)
{
	const char *a[] = { account, NULL };

	return run(st, "DELETE FROM account_limits WHERE account = ?", a, NULL, NULL);
}

struct limit_arg {
	struct store_limit *out;
	bool found;
};

static void
copy_limit(void *arg, const char *const *cols, int ncols)
{
	struct limit_arg *l = arg;

	l->out->max = strtoull(cols[0], NULL, 10);
	l->out->period = strtoull(cols[1], NULL, 10);
	l->out->window = *cols[2] ? strtoll(cols[2], NULL, 10) : 0;
	l->out->count = *cols[3] ? strtoull(cols[3], NULL, 10) : 0;
	l->found = true;
}

enum store_result
store_limit_get(struct store *st, const char *account, struct store_limit *out)
{
	const char *a[] = { account, NULL };
	struct limit_arg l = { out, false };
	enum store_result r;

	memset(out, 0, sizeof(*out));
	r = run(st, "SELECT l.max, l.period, u.window, u.count FROM account_limits l"
	    " LEFT JOIN account_usage u ON u.account = l.account WHERE l.account = ?", a,
	    copy_limit, &l);
	if (r == STORE_OK && !l.found)
		r = STORE_NOTFOUND;
	return r;
}

enum store_result
store_due_from(struct store *st, int64_t from_t, int64_t from_row, int64_t now, int limit,
    store_list_cb cb, void *arg)
{
	char tbuf[32], rowbuf[32], nowbuf[32], limbuf[16];
	const char *a[] = { tbuf, rowbuf, nowbuf, limbuf, NULL };

	snprintf(tbuf, sizeof(tbuf), "%lld", (long long)from_t);
	snprintf(rowbuf, sizeof(rowbuf), "%lld", (long long)from_row);
	snprintf(nowbuf, sizeof(nowbuf), "%lld", (long long)now);
	snprintf(limbuf, sizeof(limbuf), "%d", limit);
	return run(st, "SELECT msg, rcpt, next_attempt, rowid FROM recipients"
	    " INDEXED BY recipients_pending WHERE state IN ('queued', 'deferred')"
	    " AND (next_attempt, rowid) > (CAST(?1 AS INTEGER), CAST(?2 AS INTEGER))"
	    " AND next_attempt <= CAST(?3 AS INTEGER)"
	    " ORDER BY next_attempt, rowid LIMIT CAST(?4 AS INTEGER)", a, cb, arg);
}

enum store_result
store_next_due_after(struct store *st, int64_t after, int64_t *out)
{
	char buf[32];
	const char *a[] = { buf, NULL };

	snprintf(buf, sizeof(buf), "%lld", (long long)after);
	return run_int(st, "SELECT min(next_attempt) FROM recipients INDEXED BY recipients_pending"
	    " WHERE state IN ('queued', 'deferred') AND next_attempt > CAST(?1 AS INTEGER)",
	    a, INT64_MAX, out);
}

/* load - a message's envelope, and its data when body (else len is its size). */
static enum store_result
load(struct store *st, const char *id, struct store_loaded *out, bool body)
{
	static const char with_body[] = "SELECT sender, account, arrival, smtputf8, body_8bit,"
	    " warned, data FROM messages WHERE id = ?";
	static const char without[] = "SELECT sender, account, arrival, smtputf8, body_8bit,"
	    " warned, size FROM messages WHERE id = ?";
	enum store_result r = STORE_NOTFOUND;
	sqlite3_stmt *s;
	bool kept;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = stmt_get(st, body ? with_body : without, &s, &kept)) != SQLITE_OK)
		return fail(st, rc);
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		util_strlcpy(out->id, id, sizeof(out->id));
		out->sender = xstrdup((const char *)sqlite3_column_text(s, 0));
		out->account = xstrdup((const char *)sqlite3_column_text(s, 1));
		out->arrival = sqlite3_column_int64(s, 2);
		out->smtputf8 = sqlite3_column_int(s, 3) != 0;
		out->body_8bit = sqlite3_column_int(s, 4) != 0;
		out->warned = sqlite3_column_int(s, 5) != 0;
		if (body) {
			out->len = (size_t)sqlite3_column_bytes(s, 6);
			out->data = xmalloc(out->len + 1);
			memcpy(out->data, sqlite3_column_blob(s, 6), out->len);
			out->data[out->len] = '\0';
		} else
			out->len = (size_t)sqlite3_column_int64(s, 6);
		r = STORE_OK;
	} else if (rc != SQLITE_DONE)
		r = fail(st, rc);
	stmt_put(s, kept);
	return r;
}

enum store_result
store_msg_load(struct store *st, const char *id, struct store_loaded *out)
{
	return load(st, id, out, true);
}

enum store_result
store_msg_envelope(struct store *st, const char *id, struct store_loaded *out)
{
	return load(st, id, out, false);
}

void
store_loaded_free(struct store_loaded *m)
{
	free(m->sender);
	free(m->account);
	free(m->data);
	memset(m, 0, sizeof(*m));
}

enum store_result
store_rcpt_update(struct store *st, const char *msg, const char *rcpt, const char *state,
    int attempts, int64_t next_attempt, const char *last_reply, const char *dsn,
    const char *relay)
{
	char att[16], next[32];
	const char *a[] = { state, att, next, last_reply, dsn, relay, msg, rcpt, NULL };

	snprintf(att, sizeof(att), "%d", attempts);
	snprintf(next, sizeof(next), "%lld", (long long)next_attempt);
	return run(st, "UPDATE recipients SET state = ?1, attempts = CAST(?2 AS INTEGER),"
	    " next_attempt = CAST(?3 AS INTEGER), last_reply = ?4, dsn = ?5, relay = ?6"
	    " WHERE msg = ?7 AND rcpt = ?8", a, NULL, NULL);
}

enum store_result
store_msg_rcpts(struct store *st, const char *msg, store_list_cb cb, void *arg)
{
	const char *a[] = { msg, NULL };

	return run(st, "SELECT rcpt, state, attempts, coalesce(last_reply, ''),"
	    " coalesce(dsn, ''), coalesce(relay, '') FROM recipients WHERE msg = ? ORDER BY rowid",
	    a, cb, arg);
}

enum store_result
store_msg_pending(struct store *st, const char *msg, int64_t *out)
{
	const char *a[] = { msg, NULL };

	return run_int(st, "SELECT count(*) FROM recipients WHERE msg = ?"
	    " AND state IN ('queued', 'deferred')", a, 0, out);
}

enum store_result
store_msg_delete(struct store *st, const char *msg)
{
	const char *a[] = { msg, NULL };

	return run(st, "DELETE FROM messages WHERE id = ?", a, NULL, NULL);
}

enum store_result
store_msg_set_warned(struct store *st, const char *msg)
{
	const char *a[] = { msg, NULL };

	return run(st, "UPDATE messages SET warned = 1 WHERE id = ?", a, NULL, NULL);
}

enum store_result
store_queue_flush(struct store *st, const char *id)
{
	const char *a[] = { id, NULL };

	if (id == NULL)
		return run(st, "UPDATE recipients SET next_attempt = 0"
		    " WHERE state IN ('queued', 'deferred')", NULL, NULL, NULL);
	return run(st, "UPDATE recipients SET next_attempt = 0"
	    " WHERE msg = ? AND state IN ('queued', 'deferred')", a, NULL, NULL);
}

enum store_result
store_queue_list(struct store *st, store_list_cb cb, void *arg)
{
	return run(st, "SELECT m.id, m.size, m.arrival, m.sender,"
	    " (SELECT group_concat(rcpt, ' ') FROM recipients r WHERE r.msg = m.id),"
	    " (SELECT group_concat(DISTINCT state) FROM recipients r WHERE r.msg = m.id)"
	    " FROM messages m ORDER BY m.arrival, m.id", NULL, cb, arg);
}

enum store_result
store_queue_count(struct store *st, int64_t *out)
{
	return run_int(st, "SELECT count(*) FROM messages", NULL, 0, out);
}

enum store_result
store_queue_states(struct store *st, store_list_cb cb, void *arg)
{
	return run(st, "SELECT state, count(*), count(DISTINCT msg) FROM recipients"
	    " GROUP BY state ORDER BY state", NULL, cb, arg);
}

enum store_result
store_queue_oldest(struct store *st, int64_t *out)
{
	return run_int(st, "SELECT min(arrival) FROM messages", NULL, 0, out);
}

/* The domain of a recipient: after its last '@' (a quoted local part may hold one). */
#define RCPT_DOMAIN "lower(substr(rcpt, length(rtrim(rcpt, replace(rcpt, '@', ''))) + 1))"

enum store_result
store_queue_destinations(struct store *st, int limit, bool by_deferred, store_list_cb cb,
    void *arg)
{
	static const char by_count[] = "SELECT " RCPT_DOMAIN " AS d,"
	    " sum(state = 'queued'), sum(state = 'deferred'), min(next_attempt)"
	    " FROM recipients WHERE state IN ('queued', 'deferred') GROUP BY d"
	    " ORDER BY count(*) DESC, d LIMIT CAST(? AS INTEGER)";
	static const char by_deferred_count[] = "SELECT " RCPT_DOMAIN " AS d,"
	    " sum(state = 'queued'), sum(state = 'deferred'), min(next_attempt)"
	    " FROM recipients WHERE state IN ('queued', 'deferred') GROUP BY d"
	    " HAVING sum(state = 'deferred') > 0"
	    " ORDER BY sum(state = 'deferred') DESC, d LIMIT CAST(? AS INTEGER)";
	char lim[16];
	const char *a[] = { lim, NULL };
	const char *sql = by_deferred ? by_deferred_count : by_count;

	snprintf(lim, sizeof(lim), "%d", limit);
	return run(st, sql, a, cb, arg);
}

static void
print_envelope(void *arg, const char *const *cols, int ncols)
{
	FILE *out = arg;

	fprintf(out, "id: %s\naccount: %s\nsender: <%s>\nclient: %s\n"
	    "params: %s\narrival: %s\nsize: %s\n", cols[0], cols[1], cols[2],
	    cols[3], cols[4], cols[5], cols[6]);
}

static void
print_recipient(void *arg, const char *const *cols, int ncols)
{
	FILE *out = arg;

	fprintf(out, "recipient: <%s> state=%s attempts=%s next_attempt=%s", cols[0], cols[1],
	    cols[2], cols[3]);
	if (*cols[5])
		fprintf(out, " dsn=%s relay=%s", cols[5], cols[6]);
	if (*cols[4])
		fprintf(out, " last_reply=(%s)", cols[4]);
	fputc('\n', out);
}

static enum store_result
print_data(struct store *st, const char *id, FILE *out)
{
	enum store_result r;
	sqlite3_stmt *s;
	int rc;

	if ((rc = sqlite3_prepare_v2(st->db, "SELECT data FROM messages WHERE id = ?",
	    -1, &s, NULL)) != SQLITE_OK)
		return fail(st, rc);
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		fwrite(sqlite3_column_blob(s, 0), 1, (size_t)sqlite3_column_bytes(s, 0), out);
	r = rc == SQLITE_ROW ? STORE_OK : rc == SQLITE_DONE ? STORE_NOTFOUND : fail(st, rc);
	sqlite3_finalize(s);
	return r;
}

enum store_result
store_queue_show(struct store *st, const char *id, FILE *out)
{
	const char *a[] = { id, NULL };
	enum store_result r;
	int64_t n;

	if ((r = run_int(st, "SELECT count(*) FROM messages WHERE id = ?", a, 0, &n)) != STORE_OK)
		return r;
	if (n == 0)
		return STORE_NOTFOUND;
	r = run(st, "SELECT id, account, sender, client, params,"
	    " datetime(arrival, 'unixepoch'), size FROM messages WHERE id = ?", a,
	    print_envelope, out);
	if (r == STORE_OK)
		r = run(st, "SELECT rcpt, state, attempts, datetime(next_attempt, 'unixepoch'),"
		    " coalesce(last_reply, ''), coalesce(dsn, ''), coalesce(relay, '')"
		    " FROM recipients WHERE msg = ? ORDER BY rowid",
		    a, print_recipient, out);
	if (r != STORE_OK)
		return r;
	fputc('\n', out);
	return print_data(st, id, out);
}

enum store_result
store_dkim_add(struct store *st, const char *domain, const char *selector, const char *algo,
    const char *keyfile)
{
	const char *a[] = { domain, selector, algo, keyfile, NULL };

	return run(st, "INSERT INTO dkim_keys(domain, selector, algo, keyfile, created)"
	    " VALUES(?, ?, ?, ?, strftime('%s','now'))", a, NULL, NULL);
}

enum store_result
store_dkim_del(struct store *st, const char *domain, const char *selector)
{
	const char *a[] = { domain, selector, NULL };

	return run(st, "DELETE FROM dkim_keys WHERE domain = ? AND selector = ?", a, NULL, NULL);
}

enum store_result
store_dkim_list(struct store *st, const char *domain, store_list_cb cb, void *arg)
{
	const char *a[] = { domain, NULL };

	if (domain == NULL)
		return run(st, "SELECT domain, selector, algo, keyfile,"
		    " datetime(created, 'unixepoch') FROM dkim_keys ORDER BY domain, selector",
		    NULL, cb, arg);
	return run(st, "SELECT domain, selector, algo, keyfile, datetime(created, 'unixepoch')"
	    " FROM dkim_keys WHERE domain = ? ORDER BY selector", a, cb, arg);
}

enum store_result
store_dkim_for_domain(struct store *st, const char *domain, store_list_cb cb, void *arg)
{
	const char *a[] = { domain, NULL };

	return run(st, "SELECT selector, algo, keyfile FROM dkim_keys WHERE domain = ?"
	    " ORDER BY algo DESC, selector", a, cb, arg);
}

enum store_result
store_doctor_put(struct store *st, const char *domain, int64_t checked_ms, const char *state,
    const char *reason)
{
	char ms[32];
	const char *a[] = { domain, ms, state, reason, NULL };

	snprintf(ms, sizeof(ms), "%lld", (long long)checked_ms);
	return run(st, "INSERT INTO doctor_verdicts(domain, checked, state, reason)"
	    " VALUES(?1, CAST(?2 AS INTEGER), ?3, ?4) ON CONFLICT(domain) DO UPDATE SET"
	    " checked = excluded.checked, state = excluded.state, reason = excluded.reason",
	    a, NULL, NULL);
}

enum store_result
store_doctor_list(struct store *st, store_list_cb cb, void *arg)
{
	return run(st, "SELECT domain, checked, state, reason FROM doctor_verdicts"
	    " ORDER BY domain", NULL, cb, arg);
}

enum store_result
store_sts_get(struct store *st, const char *domain, struct store_sts *out)
{
	sqlite3_stmt *s;
	enum store_result r = STORE_NOTFOUND;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = sqlite3_prepare_v2(st->db, "SELECT id, policy, fetched, expires FROM sts_policies"
	    " WHERE domain = ?", -1, &s, NULL)) != SQLITE_OK)
		return fail(st, rc);
	sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		util_strlcpy(out->id, (const char *)sqlite3_column_text(s, 0), sizeof(out->id));
		out->policy = xstrdup((const char *)sqlite3_column_text(s, 1));
		out->fetched = sqlite3_column_int64(s, 2);
		out->expires = sqlite3_column_int64(s, 3);
		r = STORE_OK;
	} else if (rc != SQLITE_DONE)
		r = fail(st, rc);
	sqlite3_finalize(s);
	return r;
}

enum store_result
store_sts_put(struct store *st, const char *domain, const struct store_sts *p)
{
	char fetched[32], expires[32];
	const char *a[] = { domain, p->id, p->policy, fetched, expires, NULL };

	snprintf(fetched, sizeof(fetched), "%lld", (long long)p->fetched);
	snprintf(expires, sizeof(expires), "%lld", (long long)p->expires);
	return run(st, "INSERT INTO sts_policies(domain, id, policy, fetched, expires)"
	    " VALUES(?1, ?2, ?3, CAST(?4 AS INTEGER), CAST(?5 AS INTEGER))"
	    " ON CONFLICT(domain) DO UPDATE SET id = ?2, policy = ?3,"
	    " fetched = CAST(?4 AS INTEGER), expires = CAST(?5 AS INTEGER)", a, NULL, NULL);
}

enum store_result
store_sts_list(struct store *st, store_list_cb cb, void *arg)
{
	return run(st, "SELECT domain, id, datetime(fetched, 'unixepoch'),"
	    " datetime(expires, 'unixepoch'), policy FROM sts_policies ORDER BY domain",
	    NULL, cb, arg);
}

enum store_result
store_tlsrpt_add(struct store *st, const struct store_tlsrpt *t)
{
	const char *a[] = { t->day, t->domain, t->policy_type, t->policy_string, t->mx_host,
	    t->result, t->mx, t->ip, t->sending_ip, t->reason, NULL };

	return run(st, "INSERT INTO tlsrpt_counts(day, domain, policy_type, policy_string,"
	    " mx_host, result, mx, ip, sending_ip, reason, count)"
	    " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)"
	    " ON CONFLICT DO UPDATE SET count = count + 1", a, NULL, NULL);
}

enum store_result
store_tlsrpt_rows(struct store *st, const char *day, const char *domain, store_list_cb cb,
    void *arg)
{
	const char *a[] = { day, domain, NULL };

	return run(st, "SELECT day, domain, policy_type, policy_string, mx_host, result, mx, ip,"
	    " sending_ip, reason, count FROM tlsrpt_counts WHERE day = ?1"
	    " AND (?2 IS NULL OR domain = ?2)"
	    " ORDER BY domain, policy_type, policy_string, mx_host, result = 'success' DESC,"
	    " result, mx, ip", a, cb, arg);
}

enum store_result
store_tlsrpt_days(struct store *st, const char *before, store_list_cb cb, void *arg)
{
	const char *a[] = { before, NULL };

	return run(st, "SELECT DISTINCT day, domain FROM tlsrpt_counts WHERE day < ?"
	    " ORDER BY day, domain", a, cb, arg);
}

enum store_result
store_tlsrpt_delete(struct store *st, const char *day, const char *domain)
{
	const char *a[] = { day, domain, NULL };

	return run(st, "DELETE FROM tlsrpt_counts WHERE day = ? AND domain = ?", a, NULL, NULL);
}
