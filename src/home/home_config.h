/*
 * home_config.h - "hikyaku home-config": the configuration a home MTA
 * (Postfix, OpenSMTPD, Exim, msmtp, nullmailer) needs to send everything
 * through a hikyaku relay - smarthost, SASL login, TLS required and the
 * certificate verified, the port's TLS mode - as files to copy, each
 * introduced by a "# --- PATH ---" line, then the commands to run
 * ("# --- shell ---").
 */
#ifndef HIKYAKU_HOME_CONFIG_H
#define HIKYAKU_HOME_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

#include "home/diagnose.h"

enum home_mta {
	HOME_MTA_POSTFIX, HOME_MTA_OPENSMTPD, HOME_MTA_EXIM, HOME_MTA_MSMTP, HOME_MTA_NULLMAILER,
};

#define HOME_CONFIG_MTAS "postfix|opensmtpd|exim|msmtp|nullmailer"

struct home_config {
	enum home_mta mta;
	struct diagnose_target relay;
	bool implicit_tls;		/* port 465 (or asked): TLS at once, else STARTTLS */
	const char *account;		/* checked with diagnose_name_ok */
	const char *password;		/* NULL: the placeholder PASSWORD */
	const char *cafile;		/* NULL: the system's CA bundle */
	const char *from;		/* msmtp's envelope sender; may be NULL */
	const char *relay_cert;		/* set when the relay uses its self-signed certificate */
};

/* home_config_mta - the MTA named name; 0 or -1. */
int home_config_mta(const char *name, enum home_mta *out);

/*
 * home_config_password_ok - whether pw can be written as is into every
 * MTA's file (letters, digits and -_.+=!%@/,~*); otherwise the output
 * keeps the placeholder and says so.
 */
bool home_config_password_ok(const char *pw);

/* home_config_write - the files and commands for hc->mta, to out. */
void home_config_write(const struct home_config *hc, FILE *out);

#endif
