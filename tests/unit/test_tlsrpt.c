/*
 * test_tlsrpt.c - TLS-RPT: https rua URLs, the JSON report and the report
 * message (RFC 8460).
 */
#include <stdlib.h>

#include "tlspolicy/tlsrpt.h"
#include "t.h"

static void
test_json(void)
{
	struct tlsrpt_failure f[] = {
		{ "certificate-expired", "192.0.2.1", "mx1.example.com", "198.51.100.2",
		  "certificate has expired", 3 },
		{ "starttls-not-supported", "192.0.2.1", "mx2.example.com", "", "", 1 },
	};
	struct tlsrpt_policy p[] = {
		{ "sts", "example.com", "version: STSv1\nmode: testing\nmx: *.example.com\nmax_age: 86400",
		  "*.example.com", 7, 4, f, 2 },
		{ "no-policy-found", "example.org", "", "", 2, 0, NULL, 0 },
	};
	struct tlsrpt_report r = { "relay.example.net", "postmaster@relay.example.net",
	    "2025-01-02.7QK2@relay.example.net", 1735776000, 1735862399, p, 2 };
	const char *want = "{\"organization-name\":\"relay.example.net\","
	    "\"date-range\":{\"start-datetime\":\"2025-01-02T00:00:00Z\","
	    "\"end-datetime\":\"2025-01-02T23:59:59Z\"},"
	    "\"contact-info\":\"postmaster@relay.example.net\","
	    "\"report-id\":\"2025-01-02.7QK2@relay.example.net\",\"policies\":["
	    "{\"policy\":{\"policy-type\":\"sts\",\"policy-string\":[\"version: STSv1\","
	    "\"mode: testing\",\"mx: *.example.com\",\"max_age: 86400\"],"
	    "\"policy-domain\":\"example.com\",\"mx-host\":[\"*.example.com\"]},"
	    "\"summary\":{\"total-successful-session-count\":7,\"total-failure-session-count\":4},"
	    "\"failure-details\":[{\"result-type\":\"certificate-expired\","
	    "\"sending-mta-ip\":\"192.0.2.1\",\"receiving-mx-hostname\":\"mx1.example.com\","
	    "\"receiving-ip\":\"198.51.100.2\",\"failed-session-count\":3,"
	    "\"failure-reason-code\":\"certificate has expired\"},"
	    "{\"result-type\":\"starttls-not-supported\",\"sending-mta-ip\":\"192.0.2.1\","
	    "\"receiving-mx-hostname\":\"mx2.example.com\",\"failed-session-count\":1}]},"
	    "{\"policy\":{\"policy-type\":\"no-policy-found\",\"policy-string\":[],"
	    "\"policy-domain\":\"example.org\"},\"summary\":{\"total-successful-session-count\":2,"
	    "\"total-failure-session-count\":0}}]}\n";
	size_t len;
	char *j = tlsrpt_json(&r, &len);

	T_STREQ(j, want, "the RFC 8460 4.4 JSON of two policies");
	T_OK(len == strlen(want), "its length");
	free(j);
	f[1].sending_ip = "";
	j = tlsrpt_json(&r, &len);
	T_OK(strstr(j, "{\"result-type\":\"starttls-not-supported\",\"receiving-mx-hostname\"")
	    != NULL, "no sending-mta-ip when there is none (a host skipped before connecting)");
	free(j);
	f[0].reason = "quote \" backslash \\ tab \t utf-8 \xc3\xa9 not \xc3(";
	j = tlsrpt_json(&r, &len);
	T_OK(strstr(j, "\"quote \\\" backslash \\\\ tab \\u0009 utf-8 \xc3\xa9 not \\ufffd(\"") != NULL,
	    "hostile text escaped, UTF-8 kept, a stray byte replaced");
	free(j);
}

static void
test_mail(void)
{
	const unsigned char gz[] = { 0x1f, 0x8b, 0x08, 0x00, 'a', 'b', 'c' };
	struct tlsrpt_mail m = { "relay.example.net", "example.com", "r1@relay.example.net",
	    "tlsrpt@example.com", 1735776000, 1735862399, 1735869600, gz, sizeof(gz) };
	size_t len;
	char *msg = tlsrpt_mail(&m, &len);

	T_OK(strstr(msg, "\r\nTLS-Report-Domain: example.com\r\n") != NULL, "TLS-Report-Domain");
	T_OK(strstr(msg, "\r\nTLS-Report-Submitter: relay.example.net\r\n") != NULL,
	    "TLS-Report-Submitter");
	T_OK(strstr(msg, "Subject: Report Domain: example.com Submitter: relay.example.net"
	    " Report-ID: <r1@relay.example.net>\r\n") != NULL, "the Subject of RFC 8460 5.3");
	T_OK(strstr(msg, "multipart/report; report-type=\"tlsrpt\"") != NULL, "multipart/report");
	T_OK(strstr(msg, "Content-Type: application/tlsrpt+gzip\r\n") != NULL, "the media type");
	T_OK(strstr(msg, "filename=\"relay.example.net!example.com!1735776000!1735862399"
	    ".json.gz\"") != NULL, "the file name of RFC 8460 5.1");
	T_OK(strstr(msg, "\r\n\r\nH4sIAGFiYw==\r\n") != NULL, "the gzip data in base64");
	T_OK(strstr(msg, "Date: Fri, 3 Jan 2025 02:00:00 +0000\r\n") != NULL, "Date:");
	T_OK(len == strlen(msg) && memcmp(msg + len - 2, "\r\n", 2) == 0, "ends in CRLF");
	free(msg);
}

static void
test_url(void)
{
	char host[64], path[64];
	unsigned port;

	T_OK(tlsrpt_url_split("https://r.example/v1/tlsrpt", host, sizeof(host), &port, path,
	    sizeof(path)) == 0 && port == 443, "host and path");
	T_STREQ(host, "r.example", "the host");
	T_STREQ(path, "/v1/tlsrpt", "the path");
	T_OK(tlsrpt_url_split("HTTPS://r.example:8443", host, sizeof(host), &port, path,
	    sizeof(path)) == 0 && port == 8443 && strcmp(path, "/") == 0, "a port, no path");
	T_OK(tlsrpt_url_split("https://u@r.example/", host, sizeof(host), &port, path,
	    sizeof(path)) == -1, "user info refused");
	T_OK(tlsrpt_url_split("https://[::1]/", host, sizeof(host), &port, path,
	    sizeof(path)) == -1, "IP literal refused");
	T_OK(tlsrpt_url_split("https://r.example:0/", host, sizeof(host), &port, path,
	    sizeof(path)) == -1, "port 0");
	T_OK(tlsrpt_url_split("https://r.example:99999/", host, sizeof(host), &port, path,
	    sizeof(path)) == -1, "port too big");
	T_OK(tlsrpt_url_split("http://r.example/", host, sizeof(host), &port, path,
	    sizeof(path)) == -1, "http");
}

int
main(void)
{
	test_url();
	test_json();
	test_mail();
	return t_done();
}
