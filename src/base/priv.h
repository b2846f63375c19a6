/*
 * priv.h - the spool directory and privileges: create the spool with the
 * right owner and mode, and drop root for the configured user.
 */
#ifndef HIKYAKU_PRIV_H
#define HIKYAKU_PRIV_H

#include <stddef.h>

struct config;

/*
 * priv_prepare_spool - create cfg->spool (and parents) mode 0700 if missing;
 * when running as root with cfg->user set, give the spool and the files in
 * it to that user. Returns 0 or -1 with err filled.
 */
int priv_prepare_spool(const struct config *cfg, char *err, size_t errsz);

/*
 * priv_drop - when running as root with cfg->user set, become that user
 * (groups, gid, uid) for good. With keep_bind (the daemon), keep only
 * CAP_NET_BIND_SERVICE, for listeners added by a reload. Returns 0 or -1
 * with err filled. Without a user, does nothing (and serve warns when that
 * leaves it running as root).
 */
int priv_drop(const struct config *cfg, int keep_bind, char *err, size_t errsz);

#endif
