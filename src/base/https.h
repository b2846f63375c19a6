/*
 * https.h - HTTPS requests with libcurl, the only module that uses it:
 * MTA-STS policy fetches and TLS-RPT uploads. Blocking, so for worker
 * threads only.
 *
 * The server's addresses come from the caller (hikyaku's own resolver) and
 * reach libcurl through CURLOPT_RESOLVE: libcurl never looks a name up.
 * Only https, no redirects, no proxy from the environment, TLS 1.2 or
 * newer with a verified certificate (the system's store, or tls-ca-file),
 * a time limit, and a limit on the size of the answer.
 */
#ifndef HIKYAKU_HTTPS_H
#define HIKYAKU_HTTPS_H

#include <stddef.h>

/* https_init - once per process, before any thread runs a request. */
void https_init(void);

struct https_req {
	const char *host;		/* the URL's host */
	unsigned port;			/* 0: 443 */
	const char *path;		/* "/.well-known/mta-sts.txt" */
	const char *addrs;		/* "192.0.2.1,[2001:db8::1]": where host is */
	const char *ca_file;		/* NULL: the system's trust store */
	unsigned timeout;		/* seconds for the whole request */
	size_t max;			/* a longer answer body is an error */
	const char *post_type;		/* with post: a POST of this Content-Type */
	const void *post;		/* NULL: a GET */
	size_t post_len;
};

struct https_resp {
	long status;			/* HTTP status code */
	char content_type[128];		/* "" if none */
	char *body;			/* malloc'd, NUL-terminated */
	size_t len;
	int cert_failed;		/* set also on failure: the certificate did not verify */
};

/*
 * https_request - run req. 0 when an answer arrived (any status; resp
 * filled, free it with https_resp_free), -1 with err filled otherwise
 * (connection, certificate, timeout, too large).
 */
int https_request(const struct https_req *req, struct https_resp *resp, char *err,
    size_t errsz);
/* https_resp_free - release resp->body. */
void https_resp_free(struct https_resp *resp);

#endif
