/*
 * cli_check.c - "check-config": the file parsed (by main), the TLS
 * certificate and key load, the outbound CA file and DNSSEC trust anchor
 * load, and warnings about granted domains without a DKIM key.
 */
#include <stdio.h>

#include <event2/event.h>

#include "base/config.h"
#include "base/tls.h"
#include "cli/cli.h"
#include "dns/dns.h"
#include "lib/i18n.h"

/* check_outbound - tls-ca-file and dnssec-trust-anchor as the daemon loads them. */
static int
check_outbound(const struct config *cfg)
{
	struct event_base *base;
	struct tls_ctx *t;
	struct dns *d;
	char err[512];
	int rc = 0;

	if (cfg->tls_ca_file != NULL) {
		tls_init();
		if ((t = tls_client_new(err, sizeof(err))) == NULL ||
		    tls_client_ca_file(t, cfg->tls_ca_file, err, sizeof(err)) == -1) {
			fprintf(stderr, "%s: tls-ca-file: %s\n", cfg->path, err);
			tls_free(t);
			return -1;
		}
		tls_free(t);
	}
	base = event_base_new();
	d = dns_new(base, cfg, err, sizeof(err));	/* loads the trust anchor */
	if (d == NULL) {
		fprintf(stderr, "%s: %s\n", cfg->path, err);
		rc = -1;
	}
	dns_free(d);
	event_base_free(base);
	return rc;
}

int
cli_check_config(struct config *cfg)
{
	struct tls_ctx *t;
	char err[512];

	if (check_outbound(cfg) == -1)
		return 1;
	if (cfg->tls_cert != NULL) {
		tls_init();
		if ((t = tls_server_new(cfg->tls_cert, cfg->tls_key, err, sizeof(err))) == NULL) {
			fprintf(stderr, "%s: %s\n", cfg->path, err);
			return 1;
		}
		tls_free(t);
	}
	cli_dkim_check(cfg);	/* warnings only */
	printf(_("%s: configuration OK\n"), cfg->path);
	return 0;
}
