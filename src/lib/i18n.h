/*
 * i18n.h - messages in the user's language (gettext, domain "hikyaku").
 * What a person reads - CLI errors, probe, home-config, doctor - is
 * marked with _() (or N_() where a table holds it and _() is applied at
 * use). SMTP replies and log lines are never translated: they are protocol
 * and for grep.
 */
#ifndef HIKYAKU_I18N_H
#define HIKYAKU_I18N_H

#include <libintl.h>
#include <stdio.h>

#define I18N_DOMAIN "hikyaku"

#define _(s) gettext(s)
#define N_(s) (s)

/*
 * i18n_init - take LC_CTYPE and LC_MESSAGES from the environment (LANG,
 * LC_ALL ...) and bind the catalogue: the build tree's po/ when the program
 * runs from a Meson build directory, else the installed locale directory
 * (found relative to the executable first, so a DESTDIR install works).
 * The other categories stay "C": dates and numbers in output are protocol.
 */
void i18n_init(void);

/*
 * i18n_fputs_pad - s on out, then spaces up to cols display columns (a
 * translation's characters may be wider than one column, or several bytes
 * wide each); nothing more when s is as wide already.
 */
void i18n_fputs_pad(const char *s, int cols, FILE *out);

#endif
