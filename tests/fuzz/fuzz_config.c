/*
 * fuzz_config.c - libFuzzer target for the configuration parser. Besides not
 * crashing or leaking: a parse either yields a config with at least one
 * listen line and both or neither TLS files, or an error message that names
 * the file.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[1024] = "";
	struct config *cfg = config_parse((const char *)data, size, "fuzz.conf", err, sizeof(err));

	if (cfg == NULL) {
		if (strncmp(err, "fuzz.conf:", 10) != 0)
			abort();
		return 0;
	}
	if (cfg->nlisten == 0 || (cfg->tls_cert == NULL) != (cfg->tls_key == NULL))
		abort();
	config_free(cfg);
	return 0;
}
