/*
 * https.c - libcurl's easy interface, one handle per request. The host
 * name is pinned to the caller's addresses with CURLOPT_RESOLVE, and only
 * https is allowed for the request and for any (refused) redirect.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "base/https.h"
#include "lib/util.h"

struct sink {
	struct https_resp *resp;
	size_t max;
	int too_big;
};

void
https_init(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		fatal("curl_global_init failed");
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	struct https_resp *r = s->resp;
	size_t len = size * n;

	if (r->len + len > s->max) {
		s->too_big = 1;
		return 0;	/* aborts the transfer */
	}
	r->body = xrealloc(r->body, r->len + len + 1);
	memcpy(r->body + r->len, p, len);
	r->len += len;
	r->body[r->len] = '\0';
	return len;
}

static void
set_options(CURL *c, const struct https_req *req, const char *url, struct curl_slist *resolve,
    struct sink *s, char *curlerr)
{
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_RESOLVE, resolve);
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_NETRC, (long)CURL_NETRC_IGNORED);
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (req->ca_file != NULL) {
		curl_easy_setopt(c, CURLOPT_CAINFO, req->ca_file);
		curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
	}
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)req->timeout);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)req->max);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "hikyaku");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curlerr);
	if (req->post != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->post);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->post_len);
	}
}

static void
take_answer(CURL *c, struct https_resp *resp)
{
	char *ct = NULL;

	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct != NULL)
		util_strlcpy(resp->content_type, ct, sizeof(resp->content_type));
	if (resp->body == NULL)
		resp->body = xstrdup("");
}

int
https_request(const struct https_req *req, struct https_resp *resp, char *err, size_t errsz)
{
	char url[600], pin[800], curlerr[CURL_ERROR_SIZE] = "";
	struct sink s = { resp, req->max, 0 };
	struct curl_slist *resolve, *headers = NULL;
	unsigned port = req->port ? req->port : 443;
	char portpart[16] = "";
	CURL *c;
	CURLcode rc;

	memset(resp, 0, sizeof(*resp));
	if (port != 443)
		snprintf(portpart, sizeof(portpart), ":%u", port);
	snprintf(url, sizeof(url), "https://%s%s%s", req->host, portpart, req->path);
	snprintf(pin, sizeof(pin), "%s:%u:%s", req->host, port, req->addrs);
	if ((c = curl_easy_init()) == NULL || (resolve = curl_slist_append(NULL, pin)) == NULL)
		fatal("libcurl cannot allocate a request");
	set_options(c, req, url, resolve, &s, curlerr);
	if (req->post != NULL) {
		char ct[160];

		snprintf(ct, sizeof(ct), "Content-Type: %s", req->post_type);
		headers = curl_slist_append(NULL, ct);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	}
	rc = curl_easy_perform(c);
	resp->cert_failed = rc == CURLE_PEER_FAILED_VERIFICATION;
	if (rc == CURLE_OK)
		take_answer(c, resp);
	else if (s.too_big || rc == CURLE_FILESIZE_EXCEEDED)
		snprintf(err, errsz, "%s: the answer is larger than %zu bytes", url, req->max);
	else
		snprintf(err, errsz, "%s: %s", url, curlerr[0] ? curlerr : curl_easy_strerror(rc));
	curl_slist_free_all(headers);
	curl_slist_free_all(resolve);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK)
		https_resp_free(resp);
	return rc == CURLE_OK ? 0 : -1;
}

void
https_resp_free(struct https_resp *resp)
{
	free(resp->body);
	resp->body = NULL;
	resp->len = 0;
}
