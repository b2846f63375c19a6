/*
 * gzip.h - gzip compression (RFC 1952) with zlib, the only module that
 * uses it: TLS-RPT reports travel gzip'd (application/tlsrpt+gzip).
 */
#ifndef HIKYAKU_GZIP_H
#define HIKYAKU_GZIP_H

#include <stddef.h>

/* gzip_compress - in[0..len) as a gzip file; malloc'd (caller frees), its size in *outlen. */
unsigned char *gzip_compress(const void *in, size_t len, size_t *outlen);

#endif
