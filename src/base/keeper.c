/*
 * keeper.c - the root helper that re-reads the configuration and TLS files
 * on a reload (see keeper.h), and the in-process reader used without one.
 *
 * Protocol on a SOCK_STREAM socketpair: the daemon writes one byte; the
 * helper answers with four blocks, each a 4-byte length and its bytes:
 * an error text (empty when all went well), the configuration, the
 * certificate chain, the key. Every length is bounded on both sides.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/config.h"
#include "base/keeper.h"
#include "base/tls.h"
#include "lib/log.h"
#include "lib/util.h"

#define KEEPER_FD 3
#define KEEPER_TIMEOUT_MS 10000
#define ERR_MAX 1024
#define CONFIG_TEXT_MAX (1024 * 1024)

struct keeper {
	const char *path;	/* NULL: the built-in configuration */
	pid_t pid;		/* 0: no helper, read in-process */
	int fd;
};

/* read_files - the configuration text and the TLS files it names into a. */
static int
read_files(const char *path, struct keeper_answer *a, char *err, size_t errsz)
{
	struct config *cfg;

	memset(a, 0, sizeof(*a));
	if (path == NULL) {
		a->config = xstrdup(config_builtin);
		a->configlen = strlen(config_builtin);
		return 0;
	}
	if ((a->config = util_read_file(path, CONFIG_TEXT_MAX, &a->configlen)) == NULL) {
		snprintf(err, errsz, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	if ((cfg = config_parse(a->config, a->configlen, path, err, errsz)) == NULL)
		goto fail;
	if (cfg->tls_cert != NULL &&
	    (a->cert = util_read_file(cfg->tls_cert, TLS_PEM_MAX, &a->certlen)) == NULL) {
		snprintf(err, errsz, "cannot read tls-cert %s: %s", cfg->tls_cert, strerror(errno));
		goto fail_cfg;
	}
	if (cfg->tls_key != NULL &&
	    (a->key = util_read_file(cfg->tls_key, TLS_PEM_MAX, &a->keylen)) == NULL) {
		snprintf(err, errsz, "cannot read tls-key %s: %s", cfg->tls_key, strerror(errno));
		goto fail_cfg;
	}
	config_free(cfg);
	return 0;
fail_cfg:
	config_free(cfg);
fail:
	keeper_answer_free(a);
	return -1;
}

void
keeper_answer_free(struct keeper_answer *a)
{
	if (a->key != NULL)
		explicit_bzero(a->key, a->keylen);
	free(a->config);
	free(a->cert);
	free(a->key);
	memset(a, 0, sizeof(*a));
}

static int
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* read_all - len bytes, waiting at most until deadline (poll); -1 on EOF/error/timeout. */
static int
read_all(int fd, void *buf, size_t len, int timeout_ms)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	char *p = buf;
	ssize_t n;

	while (len > 0) {
		if (timeout_ms >= 0 && poll(&pfd, 1, timeout_ms) != 1) {
			errno = ETIMEDOUT;
			return -1;
		}
		if ((n = read(fd, p, len)) <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			if (n == 0)
				errno = ECONNRESET;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
send_block(int fd, const char *data, size_t len)
{
	uint32_t n = (uint32_t)len;

	return write_all(fd, &n, sizeof(n)) == 0 && write_all(fd, data, len) == 0 ? 0 : -1;
}

/* recv_block - one block of at most max bytes into a new NUL-ended buffer. */
static int
recv_block(int fd, size_t max, char **out, size_t *len)
{
	uint32_t n;

	*out = NULL;
	if (read_all(fd, &n, sizeof(n), KEEPER_TIMEOUT_MS) == -1)
		return -1;
	if (n > max) {
		errno = EFBIG;
		return -1;
	}
	*out = xmalloc((size_t)n + 1);
	if (read_all(fd, *out, n, KEEPER_TIMEOUT_MS) == -1) {
		free(*out);
		*out = NULL;
		return -1;
	}
	(*out)[n] = '\0';
	*len = n;
	return 0;
}

/* serve_requests - the helper's life: one answer per byte read, until EOF. */
static void __attribute__((noreturn))
serve_requests(const char *path)
{
	struct keeper_answer a;
	char err[ERR_MAX], req;

	for (;;) {
		if (read_all(KEEPER_FD, &req, 1, -1) == -1)
			_exit(0);
		err[0] = '\0';
		if (read_files(path, &a, err, sizeof(err)) == -1)
			memset(&a, 0, sizeof(a));
		if (send_block(KEEPER_FD, err, strlen(err)) == -1 ||
		    send_block(KEEPER_FD, a.config, a.configlen) == -1 ||
		    send_block(KEEPER_FD, a.cert, a.certlen) == -1 ||
		    send_block(KEEPER_FD, a.key, a.keylen) == -1)
			_exit(1);
		keeper_answer_free(&a);
	}
}

static void __attribute__((noreturn))
helper_main(const char *path, int fd)
{
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);
	signal(SIGUSR2, SIG_IGN);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() == 1)
		_exit(0);
	if (dup2(fd, KEEPER_FD) == -1)
		_exit(1);
	close_range(KEEPER_FD + 1, ~0U, 0);	/* keep stdio and the socket only */
	serve_requests(path);
}

struct keeper *
keeper_start(const char *path, int dropping_root, char *err, size_t errsz)
{
	struct keeper *k = xcalloc(1, sizeof(*k));
	int sv[2];

	k->path = path;
	k->fd = -1;
	if (!dropping_root || path == NULL)
		return k;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		snprintf(err, errsz, "cannot start the reload helper: %s", strerror(errno));
		free(k);
		return NULL;
	}
	if ((k->pid = fork()) == -1) {
		snprintf(err, errsz, "cannot start the reload helper: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		free(k);
		return NULL;
	}
	if (k->pid == 0) {
		close(sv[0]);
		helper_main(path, sv[1]);
	}
	close(sv[1]);
	k->fd = sv[0];
	log_info("reload helper started as root (pid %ld): it re-reads %s and its TLS files"
	    " on a reload", (long)k->pid, path);
	return k;
}

static int
fetch_remote(struct keeper *k, struct keeper_answer *a, char *err, size_t errsz)
{
	char *why = NULL;
	size_t whylen;

	memset(a, 0, sizeof(*a));
	if (write_all(k->fd, "R", 1) == -1 || recv_block(k->fd, ERR_MAX, &why, &whylen) == -1 ||
	    recv_block(k->fd, CONFIG_TEXT_MAX, &a->config, &a->configlen) == -1 ||
	    recv_block(k->fd, TLS_PEM_MAX, &a->cert, &a->certlen) == -1 ||
	    recv_block(k->fd, TLS_PEM_MAX, &a->key, &a->keylen) == -1) {
		snprintf(err, errsz, "the reload helper did not answer: %s", strerror(errno));
		free(why);
		keeper_answer_free(a);
		return -1;
	}
	if (whylen > 0) {
		util_strlcpy(err, why, errsz);
		free(why);
		keeper_answer_free(a);
		return -1;
	}
	free(why);
	if (a->certlen == 0) {	/* no tls-cert: the self-signed pair in the spool */
		free(a->cert);
		free(a->key);
		a->cert = a->key = NULL;
	}
	return 0;
}

int
keeper_fetch(struct keeper *k, struct keeper_answer *a, char *err, size_t errsz)
{
	if (k->pid == 0)
		return read_files(k->path, a, err, errsz);
	return fetch_remote(k, a, err, errsz);
}

void
keeper_stop(struct keeper *k)
{
	if (k == NULL)
		return;
	if (k->pid > 0) {
		close(k->fd);	/* the helper reads EOF and exits */
		while (waitpid(k->pid, NULL, 0) == -1 && errno == EINTR)
			;
	}
	free(k);
}
