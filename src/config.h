/*
 * config.h - the configuration file: "keyword value" lines, '#' comments.
 * Owns struct config and everything it points to; config_free() releases it.
 */
#ifndef HIKYAKU_CONFIG_H
#define HIKYAKU_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "log.h"

#define CONFIG_DEFAULT_PATH "/etc/hikyaku/hikyaku.conf"
#define CONFIG_MAX_LISTEN 16

enum listen_mode { LISTEN_STARTTLS, LISTEN_TLS };

struct config_listen {
	char name[80];			/* "127.0.0.1:2587" as written */
	enum listen_mode mode;
	struct sockaddr_storage ss;
	socklen_t sslen;
};

struct config {
	char *path;			/* the file read, or "(built-in default)" */
	bool builtin;			/* the embedded default was used */
	char *hostname;
	struct config_listen listen[CONFIG_MAX_LISTEN];
	size_t nlisten;
	char *tls_cert;			/* NULL: generated under spool/tls */
	char *tls_key;
	char *spool;
	char *user;			/* NULL: do not drop privileges */
	enum log_target log;
	uint64_t max_message_size;
	uint64_t max_recipients;
	uint64_t min_free_space;
	uint64_t max_errors;
	uint64_t max_sessions;
	uint64_t smtp_timeout;
	uint64_t auth_max_failures;
	uint64_t auth_ban_time;
	uint64_t auth_fail_delay;
	uint64_t workers;
};

/* The embedded default configuration used by "make run". */
extern const char config_builtin[];

/*
 * config_load - read path, or, when path is NULL, CONFIG_DEFAULT_PATH if it
 * exists and the embedded default otherwise. On error writes
 * "FILE:LINE: what was expected" to err and returns NULL. Caller owns result.
 */
struct config *config_load(const char *path, char *err, size_t errsz);

/* config_parse - parse text as if read from name. Same contract as config_load. */
struct config *config_parse(const char *text, size_t len, const char *name,
    char *err, size_t errsz);

void config_free(struct config *cfg);

/* config_db_path - "SPOOL/hikyaku.db" into out. */
void config_db_path(const struct config *cfg, char *out, size_t outsz);

#endif
