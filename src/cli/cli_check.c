/*
 * cli_check.c - "check-config": the file parsed (by main), the TLS
 * certificate and key load, and warnings about granted domains without a
 * DKIM key.
 */
#include <stdio.h>

#include "base/config.h"
#include "base/tls.h"
#include "cli/cli.h"
#include "lib/i18n.h"

int
cli_check_config(struct config *cfg)
{
	struct tls_ctx *t;
	char err[512];

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
