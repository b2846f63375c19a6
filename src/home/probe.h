/*
 * probe.h - "hikyaku probe": run on the home server, without a
 * configuration file or spool, sending no mail. It finds out which of the
 * two problems the user has - outbound port 25 blocked (OP25B), the ISP's
 * relay refusing senders outside its domain - and whether sending through
 * a hikyaku relay works: TLS, certificate, login, sender grants.
 */
#ifndef HIKYAKU_PROBE_H
#define HIKYAKU_PROBE_H

#include <stdbool.h>

#include "home/diagnose.h"
#include "home/report.h"

#define PROBE_MX_MAX 16

enum probe_tls { PROBE_TLS_AUTO, PROBE_TLS_STARTTLS, PROBE_TLS_IMPLICIT };

struct probe_opts {
	struct diagnose_target relay;
	enum probe_tls tls;		/* AUTO: implicit TLS on port 465, else STARTTLS */
	const char *cafile;		/* trusted besides the system store; may be NULL */
	const char *account;		/* relay login, or NULL */
	const char *password;
	const char *from;		/* a checked address, or NULL */
	bool has_isp;
	struct diagnose_target isp;
	const char *isp_account;	/* NULL: no login at the ISP's relay */
	const char *isp_password;
	struct diagnose_target mx[PROBE_MX_MAX];
	int nmx;
	int timeout_ms;			/* each connect, read and write */
	const char *mta;		/* named in the suggested home-config command; may be NULL */
};

/* The port 25 targets used without --mx (big providers' MX hosts; README lists them). */
extern const char *const probe_default_mx[];

/*
 * probe_run - every check the options ask for, into rep (sections
 * "port25", "relay", "account", "isp", then a summary and the next command).
 * Returns the exit status, also in rep->exit_status: 0 when sending through
 * the relay will work, 1 when it will not. Only the relay and account
 * sections decide it.
 */
int probe_run(const struct probe_opts *o, struct report *rep);

#endif
