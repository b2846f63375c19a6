/*
 * dkim_sign.c - DKIM keys and signing with OpenSSL's EVP interface; the
 * canonicalisation and the field itself come from the pure core, dkim.c.
 *
 * The signer keeps loaded keys in a small cache guarded by a mutex; a
 * cached key is used again only while its file is unchanged (same inode and
 * modification time), so "dkim del" and a new "dkim keygen" take effect on
 * the next message without a restart. Each worker thread reads the store
 * through its own connection (store_per_thread, shared with auth.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "lib/addr.h"
#include "dkim/dkim.h"
#include "dkim/dkim_sign.h"
#include "lib/hdr_from.h"
#include "lib/log.h"
#include "lib/msghdr.h"
#include "base/store.h"
#include "lib/util.h"

#define CACHE_SIZE 64		/* keys kept loaded */
#define SIG_BYTES_MAX 512	/* RSA-4096 at most */
#define PATH_MAX_LEN 4096

struct dkim_key {
	EVP_PKEY *pkey;
	enum dkim_algo algo;
};

struct cached_key {
	char path[PATH_MAX_LEN];
	dev_t dev;
	ino_t ino;
	struct timespec mtime;
	struct dkim_key *key;		/* NULL: free slot */
};

struct dkim_signer {
	char *dir;			/* where relative key files are */
	struct store_per_thread *stores;	/* each worker thread's connection */
	pthread_mutex_t lock;		/* guards cache and next */
	struct cached_key cache[CACHE_SIZE];
	size_t next;			/* the slot to reuse when full */
};

/* --- small helpers --- */

static void
ssl_error(char *err, size_t errsz, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256] = "unknown error";

	if (e != 0)
		ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	snprintf(err, errsz, "%s: %s", what, buf);
}

/* b64 - base64 of in[0..n) without line breaks; caller frees. */
static char *
b64(const unsigned char *in, size_t n)
{
	char *out = xmalloc(4 * ((n + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	return out;
}

const char *
dkim_algo_name(enum dkim_algo a)
{
	return a == DKIM_ED25519_SHA256 ? "ed25519-sha256" : "rsa-sha256";
}

int
dkim_algo_parse(const char *name, enum dkim_algo *out)
{
	if (strcmp(name, "rsa-sha256") == 0)
		*out = DKIM_RSA_SHA256;
	else if (strcmp(name, "ed25519-sha256") == 0)
		*out = DKIM_ED25519_SHA256;
	else
		return -1;
	return 0;
}

/* --- keys --- */

static struct dkim_key *
key_wrap(EVP_PKEY *pkey, char *err, size_t errsz)
{
	struct dkim_key *k;
	int id = EVP_PKEY_get_base_id(pkey);

	if (id != EVP_PKEY_RSA && id != EVP_PKEY_ED25519) {
		snprintf(err, errsz, "not an RSA or Ed25519 key");
		EVP_PKEY_free(pkey);
		return NULL;
	}
	if (id == EVP_PKEY_RSA && EVP_PKEY_get_bits(pkey) < 1024) {
		snprintf(err, errsz, "RSA key of %d bits is too short", EVP_PKEY_get_bits(pkey));
		EVP_PKEY_free(pkey);
		return NULL;
	}
	k = xcalloc(1, sizeof(*k));
	k->pkey = pkey;
	k->algo = id == EVP_PKEY_RSA ? DKIM_RSA_SHA256 : DKIM_ED25519_SHA256;
	return k;
}

struct dkim_key *
dkim_key_generate(enum dkim_algo algo, int bits, char *err, size_t errsz)
{
	EVP_PKEY *pkey;

	if (algo == DKIM_RSA_SHA256 && bits != 2048 && bits != 3072) {
		snprintf(err, errsz, "RSA keys are 2048 or 3072 bits");
		return NULL;
	}
	if (algo == DKIM_RSA_SHA256)
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	else
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (pkey == NULL) {
		ssl_error(err, errsz, "key generation failed");
		return NULL;
	}
	return key_wrap(pkey, err, errsz);
}

int
dkim_key_write(const struct dkim_key *k, const char *path, char *err, size_t errsz)
{
	FILE *f = NULL;
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) == -1) {
		snprintf(err, errsz, "cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	if ((f = fdopen(fd, "w")) == NULL) {
		snprintf(err, errsz, "cannot write %s: %s", path, strerror(errno));
		close(fd);
		goto fail;
	}
	if (PEM_write_PrivateKey(f, k->pkey, NULL, NULL, 0, NULL, NULL) != 1) {
		ssl_error(err, errsz, "cannot write the key");
		fclose(f);
		goto fail;
	}
	if (fflush(f) != 0 || fsync(fileno(f)) == -1) {
		snprintf(err, errsz, "cannot write %s: %s", path, strerror(errno));
		fclose(f);
		goto fail;
	}
	if (fclose(f) != 0) {
		snprintf(err, errsz, "cannot write %s: %s", path, strerror(errno));
		goto fail;
	}
	return 0;
fail:
	unlink(path);
	return -1;
}

struct dkim_key *
dkim_key_load(const char *path, char *err, size_t errsz)
{
	EVP_PKEY *pkey;
	FILE *f;

	if ((f = fopen(path, "re")) == NULL) {
		snprintf(err, errsz, "cannot open key file %s: %s", path, strerror(errno));
		return NULL;
	}
	pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (pkey == NULL) {
		ssl_error(err, errsz, path);
		return NULL;
	}
	return key_wrap(pkey, err, errsz);
}

enum dkim_algo
dkim_key_algo(const struct dkim_key *k)
{
	return k->algo;
}

int
dkim_key_bits(const struct dkim_key *k)
{
	return EVP_PKEY_get_bits(k->pkey);
}

char *
dkim_key_txt(const struct dkim_key *k)
{
	unsigned char raw[64], *der = NULL;
	size_t rawlen = sizeof(raw);
	char *p, *txt;
	int n;

	if (k->algo == DKIM_ED25519_SHA256) {
		if (EVP_PKEY_get_raw_public_key(k->pkey, raw, &rawlen) != 1)
			panic("dkim_key_txt: no raw Ed25519 public key");
		p = b64(raw, rawlen);
	} else {
		if ((n = i2d_PUBKEY(k->pkey, &der)) <= 0)
			panic("dkim_key_txt: cannot encode the RSA public key");
		p = b64(der, (size_t)n);
		OPENSSL_free(der);
	}
	txt = xmalloc(strlen(p) + 32);
	sprintf(txt, "v=DKIM1; k=%s; p=%s", k->algo == DKIM_ED25519_SHA256 ? "ed25519" : "rsa",
	    p);
	free(p);
	return txt;
}

void
dkim_key_free(struct dkim_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

/* --- signing --- */

static void
digest_sink(void *arg, const char *p, size_t n)
{
	if (EVP_DigestUpdate(arg, p, n) != 1)
		panic("EVP_DigestUpdate failed");
}

/* sha256_of - start a SHA-256 context for the sink; caller frees. */
static EVP_MD_CTX *
sha256_new(void)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		panic("cannot start SHA-256");
	return md;
}

void
dkim_body_hash(const char *msg, size_t len, char bh[DKIM_BH_LEN + 1])
{
	EVP_MD_CTX *md = sha256_new();
	unsigned char dig[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	size_t off = dkim_body_offset(msg, len);

	dkim_canon_body(DKIM_CANON_RELAXED, msg + off, len - off, digest_sink, md);
	if (EVP_DigestFinal_ex(md, dig, &dlen) != 1 || dlen != 32)
		panic("SHA-256 failed");
	EVP_MD_CTX_free(md);
	EVP_EncodeBlock((unsigned char *)bh, dig, (int)dlen);
}

/* sign_digest - the signature of the 32-byte hash of the signed data. */
static int
sign_digest(const struct dkim_key *k, const unsigned char *dig, unsigned char *sig,
    size_t *siglen, char *err, size_t errsz)
{
	EVP_PKEY_CTX *pc = NULL;
	EVP_MD_CTX *md = NULL;
	int ok;

	if (k->algo == DKIM_ED25519_SHA256) {
		/* RFC 8463: PureEdDSA over the SHA-256 hash */
		md = EVP_MD_CTX_new();
		ok = md != NULL && EVP_DigestSignInit(md, NULL, NULL, NULL, k->pkey) == 1 &&
		    EVP_DigestSign(md, sig, siglen, dig, 32) == 1;
		EVP_MD_CTX_free(md);
	} else {
		pc = EVP_PKEY_CTX_new(k->pkey, NULL);
		ok = pc != NULL && EVP_PKEY_sign_init(pc) == 1 &&
		    EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) == 1 &&
		    EVP_PKEY_CTX_set_signature_md(pc, EVP_sha256()) == 1 &&
		    EVP_PKEY_sign(pc, sig, siglen, dig, 32) == 1;
		EVP_PKEY_CTX_free(pc);
	}
	if (!ok)
		ssl_error(err, errsz, "signing failed");
	return ok ? 0 : -1;
}

size_t
dkim_sign_with(const struct dkim_key *k, const char *domain, const char *selector,
    const char *msg, size_t len, const char *bh, int64_t now, char *out, size_t outsz,
    char *err, size_t errsz)
{
	struct dkim_hlist *h = xmalloc(sizeof(*h));
	struct dkim_sig sig = { dkim_algo_name(k->algo), domain, selector, now, h, bh };
	unsigned char dig[EVP_MAX_MD_SIZE], s[SIG_BYTES_MAX];
	size_t hdrend = msghdr_end(msg, len), n, slen = sizeof(s), res = 0;
	unsigned int dlen = 0;
	EVP_MD_CTX *md = NULL;
	char *sb64 = NULL;

	dkim_select_headers(msg, hdrend, h);
	if ((n = dkim_sig_begin(&sig, out, outsz)) == 0) {
		snprintf(err, errsz, "cannot build the DKIM-Signature field for d=%s s=%s",
		    domain, selector);
		goto done;
	}
	md = sha256_new();
	dkim_signed_data(msg, hdrend, h, out, n, digest_sink, md);
	if (EVP_DigestFinal_ex(md, dig, &dlen) != 1 || dlen != 32)
		panic("SHA-256 failed");
	if ((size_t)EVP_PKEY_get_size(k->pkey) > sizeof(s)) {
		snprintf(err, errsz, "key too large");
		goto done;
	}
	if (sign_digest(k, dig, s, &slen, err, errsz) == -1)
		goto done;
	sb64 = b64(s, slen);
	if ((res = dkim_sig_finish(out, n, outsz, sb64)) == 0)
		snprintf(err, errsz, "the DKIM-Signature field does not fit");
done:
	EVP_MD_CTX_free(md);
	free(sb64);
	free(h);
	return res;
}

/* --- the signer --- */

struct dkim_signer *
dkim_signer_new(const char *dbpath, struct store_per_thread *stores)
{
	struct dkim_signer *sg = xcalloc(1, sizeof(*sg));
	const char *slash = strrchr(dbpath, '/');

	sg->stores = stores;
	sg->dir = slash ? xstrndup(dbpath, (size_t)(slash - dbpath)) : xstrdup(".");
	if (sg->dir[0] == '\0') {
		free(sg->dir);
		sg->dir = xstrdup("/");
	}
	if (pthread_mutex_init(&sg->lock, NULL) != 0)
		fatal("pthread_mutex_init failed");
	return sg;
}

void
dkim_signer_free(struct dkim_signer *sg)
{
	size_t i;

	if (sg == NULL)
		return;
	for (i = 0; i < CACHE_SIZE; i++)
		dkim_key_free(sg->cache[i].key);
	pthread_mutex_destroy(&sg->lock);
	free(sg->dir);
	free(sg);
}

/* A key row of the store. */
struct key_row {
	char selector[DKIM_SELECTOR_MAX + 1];
	char algo[32];
	char keyfile[PATH_MAX_LEN];
};

struct key_rows {
	size_t n;
	struct key_row r[DKIM_KEYS_MAX];
};

static void
collect_row(void *arg, const char *const *cols, int ncols)
{
	struct key_rows *rows = arg;
	struct key_row *r;

	if (rows->n >= DKIM_KEYS_MAX || ncols < 3)
		return;
	r = &rows->r[rows->n++];
	util_strlcpy(r->selector, cols[0], sizeof(r->selector));
	util_strlcpy(r->algo, cols[1], sizeof(r->algo));
	util_strlcpy(r->keyfile, cols[2], sizeof(r->keyfile));
}

/* key_ref - a new reference to k's key, for the caller to free with dkim_key_free. */
static struct dkim_key *
key_ref(const struct dkim_key *k)
{
	struct dkim_key *ref = xcalloc(1, sizeof(*ref));

	ref->algo = k->algo;
	ref->pkey = k->pkey;
	EVP_PKEY_up_ref(k->pkey);
	return ref;
}

/*
 * cached_key - a new reference to the key in path (loaded, or from the cache
 * while the file is unchanged); the caller frees it with dkim_key_free.
 */
static struct dkim_key *
cached_key(struct dkim_signer *sg, const char *path, char *err, size_t errsz)
{
	struct dkim_key *k = NULL, *ref;
	struct cached_key *c;
	struct stat st;
	size_t i;

	if (stat(path, &st) == -1) {
		snprintf(err, errsz, "cannot read key file %s: %s", path, strerror(errno));
		return NULL;
	}
	pthread_mutex_lock(&sg->lock);
	for (i = 0; i < CACHE_SIZE && k == NULL; i++) {
		c = &sg->cache[i];
		if (c->key != NULL && strcmp(c->path, path) == 0 && c->dev == st.st_dev &&
		    c->ino == st.st_ino && c->mtime.tv_sec == st.st_mtim.tv_sec &&
		    c->mtime.tv_nsec == st.st_mtim.tv_nsec)
			k = c->key;
	}
	if (k != NULL) {
		ref = key_ref(k);
		pthread_mutex_unlock(&sg->lock);
		return ref;
	}
	pthread_mutex_unlock(&sg->lock);
	if ((k = dkim_key_load(path, err, errsz)) == NULL)
		return NULL;
	pthread_mutex_lock(&sg->lock);
	for (i = 0; i < CACHE_SIZE; i++)
		if (sg->cache[i].key != NULL && strcmp(sg->cache[i].path, path) == 0)
			break;	/* a stale entry for the same file: replace it */
	c = &sg->cache[i < CACHE_SIZE ? i : sg->next];
	if (i == CACHE_SIZE)
		sg->next = (sg->next + 1) % CACHE_SIZE;
	dkim_key_free(c->key);
	util_strlcpy(c->path, path, sizeof(c->path));
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	c->mtime = st.st_mtim;
	c->key = k;
	ref = key_ref(k);
	pthread_mutex_unlock(&sg->lock);
	return ref;
}

/* find_keys - the rows of domain or of its closest parent with keys; *d
 * gets the domain they belong to. Returns 0, or -1 with err filled. */
static int
find_keys(struct store *st, const char *domain, const char **d, struct key_rows *rows,
    char *err, size_t errsz)
{
	rows->n = 0;
	for (*d = domain; *d != NULL; *d = dkim_parent_domain(*d)) {
		if (store_dkim_for_domain(st, *d, collect_row, rows) != STORE_OK) {
			snprintf(err, errsz, "cannot read DKIM keys: %s", store_errmsg(st));
			return -1;
		}
		if (rows->n > 0)
			return 0;
	}
	return 0;
}

/* from_domain - the domain of the first From: address, into out. */
static bool
from_domain(const char *msg, size_t len, char *out, size_t outsz)
{
	struct hdr_from *hf = xcalloc(1, sizeof(*hf));
	const char *d;
	bool ok = false;

	if (hdr_from_extract(msg, msghdr_end(msg, len), hf) == 0 && hf->naddrs > 0 &&
	    (d = addr_domain(hf->addrs[0])) != NULL) {
		util_strlcpy(out, d, outsz);
		ok = true;
	}
	free(hf);
	return ok;
}

/* sign_row - one signature with the key of row r, appended to *buf. */
static int
sign_row(struct dkim_signer *sg, const struct key_row *r, const char *d, const char *msg,
    size_t len, const char *bh, int64_t now, char **buf, size_t *buflen, char *err,
    size_t errsz)
{
	char path[PATH_MAX_LEN * 2], *out;
	struct dkim_key *k;
	enum dkim_algo want;
	size_t n;

	if (dkim_algo_parse(r->algo, &want) == -1) {
		snprintf(err, errsz, "key %s of %s: unknown algorithm %s", r->selector, d, r->algo);
		return -1;
	}
	snprintf(path, sizeof(path), "%s%s%s", r->keyfile[0] == '/' ? "" : sg->dir,
	    r->keyfile[0] == '/' ? "" : "/", r->keyfile);
	if ((k = cached_key(sg, path, err, errsz)) == NULL)
		return -1;
	if (k->algo != want) {
		snprintf(err, errsz, "key %s of %s: %s holds no %s key", r->selector, d, path,
		    r->algo);
		dkim_key_free(k);
		return -1;
	}
	*buf = xrealloc(*buf, *buflen + DKIM_SIG_MAX);
	out = *buf + *buflen;
	n = dkim_sign_with(k, d, r->selector, msg, len, bh, now, out, DKIM_SIG_MAX, err, errsz);
	dkim_key_free(k);
	if (n == 0)
		return -1;
	*buflen += n;
	return 0;
}

/* describe - "d=D s=A,B a=X,Y" for the log. */
static void
describe(const char *d, const struct key_rows *rows, char *note, size_t notesz)
{
	char sels[DKIM_KEYS_MAX * (DKIM_SELECTOR_MAX + 1) + 1] = "", algos[DKIM_KEYS_MAX * 32] = "";
	size_t i;

	for (i = 0; i < rows->n; i++) {
		if (i > 0) {
			strcat(sels, ",");
			strcat(algos, ",");
		}
		strcat(sels, rows->r[i].selector);
		strcat(algos, rows->r[i].algo);
	}
	snprintf(note, notesz, "d=%s s=%s a=%s", d, sels, algos);
}

enum dkim_sign_status
dkim_signer_sign(struct dkim_signer *sg, const char *msg, size_t len, int64_t now,
    char **sigs, size_t *siglen, char *note, size_t notesz)
{
	struct key_rows *rows = xcalloc(1, sizeof(*rows));
	char domain[ADDR_MAX + 1], bh[DKIM_BH_LEN + 1];
	enum dkim_sign_status res = DKIM_ERROR;
	const char *d = NULL;
	struct store *st;
	size_t i;

	*sigs = NULL;
	*siglen = 0;
	if (!from_domain(msg, len, domain, sizeof(domain))) {
		snprintf(note, notesz, "no From: address");
		res = DKIM_NONE;
		goto done;
	}
	if ((st = store_per_thread_get(sg->stores, note, notesz)) == NULL ||
	    find_keys(st, domain, &d, rows, note, notesz) == -1)
		goto done;
	if (rows->n == 0) {
		snprintf(note, notesz, "no key for %s", domain);
		res = DKIM_NONE;
		goto done;
	}
	dkim_body_hash(msg, len, bh);
	for (i = 0; i < rows->n; i++)
		if (sign_row(sg, &rows->r[i], d, msg, len, bh, now, sigs, siglen, note,
		    notesz) == -1)
			goto done;
	describe(d, rows, note, notesz);
	res = DKIM_SIGNED;
done:
	if (res != DKIM_SIGNED) {
		free(*sigs);
		*sigs = NULL;
		*siglen = 0;
	}
	free(rows);
	return res;
}

char *
dkim_signer_prepend(struct dkim_signer *sg, const char *msg, size_t len, int64_t now,
    size_t *outlen, enum dkim_sign_status *st, char *note, size_t notesz)
{
	char *sigs, *out;
	size_t siglen;

	*st = dkim_signer_sign(sg, msg, len, now, &sigs, &siglen, note, notesz);
	if (*st != DKIM_SIGNED)
		return NULL;
	out = xmalloc(siglen + len + 1);
	memcpy(out, sigs, siglen);
	memcpy(out + siglen, msg, len);
	out[siglen + len] = '\0';
	*outlen = siglen + len;
	free(sigs);
	return out;
}
