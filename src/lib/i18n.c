/*
 * i18n.c - locale set-up and where the message catalogue is found.
 *
 * Only LC_CTYPE (the output charset) and LC_MESSAGES are taken from the
 * environment; LC_TIME and LC_NUMERIC stay "C" so that dates written into
 * messages and numbers parsed from files never depend on the user's locale.
 * Also the display width of a translated label, for columns.
 */
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wchar.h>

#include "lib/i18n.h"
#include "lib/util.h"

#ifndef HIKYAKU_LOCALEDIR
#define HIKYAKU_LOCALEDIR "/usr/local/share/locale"
#endif
#ifndef HIKYAKU_LOCALEDIR_REL
#define HIKYAKU_LOCALEDIR_REL ""
#endif

static int
is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* exe_dir - the directory of the running executable into out; -1 if unknown. */
static int
exe_dir(char *out, size_t outsz)
{
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	char *slash;

	if (n <= 0)
		return -1;
	path[n] = '\0';
	if ((slash = strrchr(path, '/')) == NULL)
		return -1;
	*slash = '\0';
	return util_strlcpy(out, path, outsz) < outsz ? 0 : -1;
}

/* catalogue_dir - the build tree's po/, the relocated install dir, or the configured one. */
static void
catalogue_dir(char *out, size_t outsz)
{
	char dir[PATH_MAX], probe[PATH_MAX + 64];

	util_strlcpy(out, HIKYAKU_LOCALEDIR, outsz);
	if (exe_dir(dir, sizeof(dir)) == -1)
		return;
	if ((size_t)snprintf(probe, sizeof(probe), "%s/meson-private", dir) >= sizeof(probe))
		return;
	if (is_dir(probe)) {
		if ((size_t)snprintf(probe, sizeof(probe), "%s/po", dir) < sizeof(probe) &&
		    is_dir(probe))
			util_strlcpy(out, probe, outsz);
		return;
	}
	if (HIKYAKU_LOCALEDIR_REL[0] == '\0')
		return;
	if ((size_t)snprintf(probe, sizeof(probe), "%s/%s", dir, HIKYAKU_LOCALEDIR_REL) <
	    sizeof(probe) && is_dir(probe) && realpath(probe, dir) != NULL)
		util_strlcpy(out, dir, outsz);
}

void
i18n_init(void)
{
	char dir[PATH_MAX];

	setlocale(LC_CTYPE, "");
	setlocale(LC_MESSAGES, "");
	catalogue_dir(dir, sizeof(dir));
	bindtextdomain(I18N_DOMAIN, dir);
	textdomain(I18N_DOMAIN);
}

/* width - the display columns of s (LC_CTYPE); its bytes when that is unknown. */
static int
width(const char *s)
{
	wchar_t w[128];
	size_t n = mbstowcs(w, s, sizeof(w) / sizeof(w[0]));
	int cols;

	if (n == (size_t)-1 || n == sizeof(w) / sizeof(w[0]) || (cols = wcswidth(w, n)) < 0)
		return (int)strlen(s);
	return cols;
}

void
i18n_fputs_pad(const char *s, int cols, FILE *out)
{
	fputs(s, out);
	for (int n = width(s); n < cols; n++)
		fputc(' ', out);
}
