/*
 * priv.c - spool ownership and dropping root.
 */
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <unistd.h>

#include "base/config.h"
#include "base/priv.h"
#include "lib/util.h"

static int
mkdir_p(const char *path, char *err, size_t errsz)
{
	char buf[4096], *p;

	if (util_strlcpy(buf, path, sizeof(buf)) >= sizeof(buf)) {
		snprintf(err, errsz, "spool path too long: %s", path);
		return -1;
	}
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) == -1 && errno != EEXIST)
			goto fail;
		*p = '/';
	}
	if (mkdir(buf, 0700) == -1 && errno != EEXIST)
		goto fail;
	return 0;
fail:
	snprintf(err, errsz, "cannot create spool directory %s: %s", buf, strerror(errno));
	return -1;
}

static int
lookup_user(const struct config *cfg, struct passwd **pw, char *err, size_t errsz)
{
	if ((*pw = getpwnam(cfg->user)) == NULL) {
		snprintf(err, errsz, "user %s (from the \"user\" keyword) does not exist", cfg->user);
		return -1;
	}
	return 0;
}

/* chown_tree - give dir and its entries (one level and the tls folder) to uid. */
static int
chown_tree(const char *dir, uid_t uid, gid_t gid, int depth)
{
	char path[4096];
	struct dirent *de;
	struct stat st;
	DIR *d;
	int rc = 0;

	if (lchown(dir, uid, gid) == -1)
		return -1;
	if (depth == 0 || (d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &st) == -1)
			continue;
		if (S_ISDIR(st.st_mode))
			rc |= chown_tree(path, uid, gid, depth - 1);
		else if (S_ISREG(st.st_mode) && lchown(path, uid, gid) == -1)
			rc = -1;
	}
	closedir(d);
	return rc;
}

int
priv_prepare_spool(const struct config *cfg, char *err, size_t errsz)
{
	struct passwd *pw;

	if (mkdir_p(cfg->spool, err, errsz) == -1)
		return -1;
	if (geteuid() != 0 || cfg->user == NULL)
		return 0;
	if (lookup_user(cfg, &pw, err, errsz) == -1)
		return -1;
	if (chown_tree(cfg->spool, pw->pw_uid, pw->pw_gid, 2) == -1) {
		snprintf(err, errsz, "cannot give spool %s to user %s: %s", cfg->spool,
		    cfg->user, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * keep_bind_cap - after the uid change, keep CAP_NET_BIND_SERVICE (and
 * nothing else) so that a reload can listen on a new port below 1024.
 * Best effort: without it such a reload is refused with the reason.
 */
static void
keep_bind_cap(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	data[0].effective = data[0].permitted = 1u << CAP_NET_BIND_SERVICE;
	(void)syscall(SYS_capset, &hdr, data);
	(void)prctl(PR_SET_KEEPCAPS, 0);
}

int
priv_drop(const struct config *cfg, int keep_bind, char *err, size_t errsz)
{
	struct passwd *pw;

	if (geteuid() != 0 || cfg->user == NULL)
		return 0;
	if (lookup_user(cfg, &pw, err, errsz) == -1)
		return -1;
	if (keep_bind)
		(void)prctl(PR_SET_KEEPCAPS, 1);
	if (setgroups(1, &pw->pw_gid) == -1 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1) {
		snprintf(err, errsz, "cannot become user %s: %s", cfg->user, strerror(errno));
		return -1;
	}
	if (keep_bind)
		keep_bind_cap();
	if (setuid(0) != -1) {
		snprintf(err, errsz, "dropped to user %s but could regain root", cfg->user);
		return -1;
	}
	return 0;
}
