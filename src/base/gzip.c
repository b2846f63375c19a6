/*
 * gzip.c - one-shot deflate into a gzip wrapper (windowBits 15 + 16).
 */
#include <stdint.h>
#include <string.h>

#include <zlib.h>

#include "base/gzip.h"
#include "lib/util.h"

unsigned char *
gzip_compress(const void *in, size_t len, size_t *outlen)
{
	z_stream z;
	unsigned char *out;
	size_t cap;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		panic("deflateInit2 failed");
	cap = deflateBound(&z, (uLong)len);
	out = xmalloc(cap);
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		panic("deflate did not finish within deflateBound");
	*outlen = cap - z.avail_out;
	deflateEnd(&z);
	return out;
}
