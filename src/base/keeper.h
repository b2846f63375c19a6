/*
 * keeper.h - what a reload reads: the configuration file and the TLS
 * certificate and key it names.
 *
 * The daemon reads them as root at start and then becomes "user"; a
 * renewed Let's Encrypt key is readable by root only. So when the daemon is
 * going to drop root, it first forks a root helper (the keeper) that does
 * nothing but, on request, re-read the configuration file it was started
 * with and the tls-cert and tls-key files that file names, and hand their
 * bytes back over a socketpair. It takes no path or other input from the
 * daemon, so a compromised daemon can make it read nothing else. When the
 * daemon keeps its user (not root, or no "user"), keeper_fetch reads the
 * files itself.
 */
#ifndef HIKYAKU_KEEPER_H
#define HIKYAKU_KEEPER_H

#include <stddef.h>

struct keeper;

/* What a reload got; keeper_answer_free releases it (the key is wiped). */
struct keeper_answer {
	char *config;		/* the configuration file's text */
	size_t configlen;
	char *cert, *key;	/* PEM; NULL when the config names no tls-cert */
	size_t certlen, keylen;
};

/*
 * keeper_start - with root about to be dropped and a configuration file
 * (path not NULL), fork the helper; otherwise return a keeper that reads
 * in-process. Call before binding anything (the helper inherits only
 * stderr and its socket). NULL with err filled when the fork fails.
 */
struct keeper *keeper_start(const char *path, int dropping_root, char *err, size_t errsz);

/*
 * keeper_fetch - fresh copies of the configuration file and the TLS files
 * it names. 0, or -1 with err filled (what could not be read, and why).
 * Blocks for at most 10 seconds; run it only for a reload.
 */
int keeper_fetch(struct keeper *k, struct keeper_answer *a, char *err, size_t errsz);
void keeper_answer_free(struct keeper_answer *a);

/* keeper_stop - end the helper (it also ends when the daemon dies). */
void keeper_stop(struct keeper *k);

#endif
