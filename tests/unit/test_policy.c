/*
 * test_policy.c - grant coverage and CIDR matching.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "submit/policy.h"
#include "t.h"

static struct sockaddr_storage
sa_of(const char *ip)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, ip, &((struct sockaddr_in *)&ss)->sin_addr) == 1)
		ss.ss_family = AF_INET;
	else if (inet_pton(AF_INET6, ip, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1)
		ss.ss_family = AF_INET6;
	return ss;
}

static bool
in_cidr(const char *cidr, const char *ip)
{
	struct policy_cidr c;
	struct sockaddr_storage ss = sa_of(ip);

	if (policy_cidr_parse(cidr, &c) == -1)
		return false;
	return policy_cidr_match(&c, (struct sockaddr *)&ss);
}

int
main(void)
{
	const char *g[] = { "@example.jp", "bob@example.org" };
	struct policy_cidr c;

	T_OK(policy_grant_covers(g, 2, "alice@example.jp"), "domain grant covers user");
	T_OK(policy_grant_covers(g, 2, "Alice@EXAMPLE.JP"), "domain grant ignores case");
	T_OK(!policy_grant_covers(g, 2, "alice@sub.example.jp"), "domain grant excludes subdomain");
	T_OK(!policy_grant_covers(g, 2, "alice@example.jp.evil"), "no suffix trick");
	T_OK(!policy_grant_covers(g, 2, "alice@xexample.jp"), "no prefix trick");
	T_OK(policy_grant_covers(g, 2, "bob@example.org"), "address grant");
	T_OK(policy_grant_covers(g, 2, "BOB@example.org"), "address grant ignores case");
	T_OK(!policy_grant_covers(g, 2, "bobby@example.org"), "address grant is exact");
	T_OK(!policy_grant_covers(g, 2, "eve@example.org"), "other user of granted address domain");
	T_OK(!policy_grant_covers(g, 0, "alice@example.jp"), "no grants, nothing covered");
	T_OK(!policy_grant_covers(g, 2, "postmaster"), "no domain, not covered");

	T_OK(policy_grant_valid("@example.jp"), "valid domain grant");
	T_OK(policy_grant_valid("user@example.jp"), "valid address grant");
	T_OK(policy_grant_valid("@例え.jp"), "UTF-8 domain grant");
	T_OK(!policy_grant_valid("example.jp"), "bare domain refused");
	T_OK(!policy_grant_valid("@"), "empty domain refused");
	T_OK(!policy_grant_valid(""), "empty refused");
	T_OK(!policy_grant_valid("a b@example.jp"), "space refused");

	T_OK(in_cidr("127.0.0.0/8", "127.1.2.3"), "v4 in /8");
	T_OK(!in_cidr("127.0.0.0/8", "128.0.0.1"), "v4 outside /8");
	T_OK(in_cidr("192.0.2.0/25", "192.0.2.127"), "v4 /25 upper edge");
	T_OK(!in_cidr("192.0.2.0/25", "192.0.2.128"), "v4 /25 beyond");
	T_OK(in_cidr("192.0.2.7", "192.0.2.7"), "single v4");
	T_OK(!in_cidr("192.0.2.7", "192.0.2.8"), "single v4 other");
	T_OK(in_cidr("0.0.0.0/0", "203.0.113.9"), "v4 /0");
	T_OK(in_cidr("2001:db8::/32", "2001:db8:1::5"), "v6 in /32");
	T_OK(!in_cidr("2001:db8::/32", "2001:db9::5"), "v6 outside");
	T_OK(in_cidr("127.0.0.0/8", "::ffff:127.0.0.1"), "v4-mapped v6 matches v4 net");
	T_OK(!in_cidr("::1/128", "127.0.0.1"), "v6 net does not match v4");
	T_OK(policy_cidr_parse("10.0.0.0/33", &c) == -1, "prefix too long");
	T_OK(policy_cidr_parse("10.0.0.0/", &c) == -1, "empty prefix");
	T_OK(policy_cidr_parse("10.0.0.0/8x", &c) == -1, "junk after prefix");
	T_OK(policy_cidr_parse("example.jp/8", &c) == -1, "names refused");
	T_OK(policy_cidr_parse("::/129", &c) == -1, "v6 prefix too long");
	return t_done();
}
