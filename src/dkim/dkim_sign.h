/*
 * dkim_sign.h - DKIM keys and signatures: the only DKIM module that uses
 * OpenSSL (EVP). Key generation (RSA 2048/3072, Ed25519), PEM key files,
 * the TXT record to publish, rsa-sha256 and ed25519-sha256 signatures
 * (RFC 6376, RFC 8463), and the signer the daemon's workers use.
 *
 * The signer runs on worker threads, never on the event loop: it reads the
 * store (one connection per thread) and the key files, and keeps the keys
 * it loaded in a cache shared by the threads.
 */
#ifndef HIKYAKU_DKIM_SIGN_H
#define HIKYAKU_DKIM_SIGN_H

#include <stddef.h>
#include <stdint.h>

#define DKIM_BH_LEN 44		/* base64 of a SHA-256 digest */
#define DKIM_KEYS_MAX 8		/* keys (signatures) per domain at most */

enum dkim_algo { DKIM_RSA_SHA256, DKIM_ED25519_SHA256 };

struct dkim_key;
struct dkim_signer;
struct store_per_thread;

/* dkim_algo_name - the a= value: "rsa-sha256" or "ed25519-sha256". */
const char *dkim_algo_name(enum dkim_algo a);
/* dkim_algo_parse - the inverse; returns 0, or -1 for another name. */
int dkim_algo_parse(const char *name, enum dkim_algo *out);

/*
 * dkim_key_generate - a new private key: RSA of bits (2048 or 3072) or
 * Ed25519 (bits ignored). Returns it (caller frees with dkim_key_free), or
 * NULL with err filled.
 */
struct dkim_key *dkim_key_generate(enum dkim_algo algo, int bits, char *err, size_t errsz);

/*
 * dkim_key_write - write k as a PEM PKCS#8 private key to a new file path,
 * mode 0600, fsynced; fails when path exists. Returns 0, or -1 with err
 * filled (and no file left behind).
 */
int dkim_key_write(const struct dkim_key *k, const char *path, char *err, size_t errsz);

/* dkim_key_load - read a PEM private key (RSA or Ed25519); NULL with err filled. */
struct dkim_key *dkim_key_load(const char *path, char *err, size_t errsz);

enum dkim_algo dkim_key_algo(const struct dkim_key *k);
/* dkim_key_bits - the modulus size of an RSA key, 256 for Ed25519. */
int dkim_key_bits(const struct dkim_key *k);

/*
 * dkim_key_txt - the TXT record value that publishes k's public key:
 * "v=DKIM1; k=rsa; p=BASE64(SubjectPublicKeyInfo)" or "v=DKIM1; k=ed25519;
 * p=BASE64(32-byte key)" (RFC 8463). Caller frees.
 */
char *dkim_key_txt(const struct dkim_key *k);

void dkim_key_free(struct dkim_key *k);

/* dkim_body_hash - bh=: base64 SHA-256 of msg's relaxed-canonical body. */
void dkim_body_hash(const char *msg, size_t len, char bh[DKIM_BH_LEN + 1]);

/*
 * dkim_sign_with - one "DKIM-Signature: ...\r\n" field for msg[0..len) into
 * out (capacity outsz; DKIM_SIG_MAX is always enough): d=domain,
 * s=selector, t=now, c=relaxed/relaxed, bh=bh (from dkim_body_hash), h= from
 * dkim_select_headers. Ed25519 signs the SHA-256 hash of the signed data
 * (RFC 8463, PureEdDSA); RSA is PKCS#1 v1.5 with SHA-256. Returns the
 * field's length, or 0 with err filled.
 */
size_t dkim_sign_with(const struct dkim_key *k, const char *domain, const char *selector,
    const char *msg, size_t len, const char *bh, int64_t now, char *out, size_t outsz,
    char *err, size_t errsz);

/* dkim_signer_new - a signer reading keys listed in the store at dbpath,
 * through stores (one connection per worker thread); relative key file
 * names are relative to the directory of dbpath. */
struct dkim_signer *dkim_signer_new(const char *dbpath, struct store_per_thread *stores);
/* dkim_signer_free - after every thread that used it has stopped. */
void dkim_signer_free(struct dkim_signer *sg);

enum dkim_sign_status {
	DKIM_SIGNED,	/* *sigs holds the fields */
	DKIM_NONE,	/* no key applies: relay unsigned */
	DKIM_ERROR,	/* a key could not be read or used: do not queue */
};

/*
 * dkim_signer_sign - thread-safe. Sign msg[0..len) (CRLF lines, the header
 * block complete) with every key of the domain of the first address in its
 * From: field or, when that has none, of its closest parent domain that has
 * one. On DKIM_SIGNED, *sigs is a malloc'd block of one "DKIM-Signature:
 * ...\r\n" per key (RSA first) to prepend, *siglen its length, and note
 * "d=DOMAIN s=SEL[,SEL] a=ALGO[,ALGO]". On DKIM_NONE note says why ("no key
 * for example.jp"); on DKIM_ERROR what failed. *sigs is NULL unless signed.
 */
enum dkim_sign_status dkim_signer_sign(struct dkim_signer *sg, const char *msg, size_t len,
    int64_t now, char **sigs, size_t *siglen, char *note, size_t notesz);

/*
 * dkim_signer_prepend - thread-safe. msg[0..len) signed as dkim_signer_sign
 * does, as a new malloc'd copy with the signatures in front (*outlen set);
 * NULL when no key applies or signing failed (note says which and why).
 * For what the relay writes itself: DSNs, delay warnings, TLS reports.
 */
char *dkim_signer_prepend(struct dkim_signer *sg, const char *msg, size_t len, int64_t now,
    size_t *outlen, enum dkim_sign_status *st, char *note, size_t notesz);

#endif
