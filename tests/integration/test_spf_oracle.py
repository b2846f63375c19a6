"""hikyaku's SPF evaluator against an independent one: python3-spf (pyspf)
asked the same questions through the same test DNS server. Every (record
set, IP) case below must give the same result: 44 domains x 4 addresses.

Cases stay where RFC 7208 is unambiguous; where pyspf and hikyaku read it
differently on purpose (src/doctor/spf.h: pyspf counts the address lookups
of MX and PTR names as void lookups too) no case is made.
"""
import ipaddress
import re

import pytest

from doctorenv import doctor_json, make_relay, start_dns

spf = pytest.importorskip("spf", reason="python3-spf (pyspf) is not installed")

IPS = ["198.18.0.5", "198.18.0.9", "198.18.0.10", "2001:2::5"]


def nibbles(ip):
    return ipaddress.ip_address(ip).reverse_pointer.rsplit(".ip6.arpa", 1)[0]


INCL10 = " ".join("include:l%d.o.example" % i for i in range(10))
INCL11 = " ".join("include:l%d.o.example" % i for i in range(11))

ZONE = [
    ("o-ip4.example", "TXT", "v=spf1 ip4:198.18.0.0/29 -all"),
    ("o-ip4-host.example", "TXT", "v=spf1 ip4:198.18.0.9 ~all"),
    ("o-ip4-any.example", "TXT", "v=spf1 ip4:0.0.0.0/0 -all"),
    ("o-ip6.example", "TXT", "v=spf1 ip6:2001:2::/48 ~all"),
    ("o-ip6-host.example", "TXT", "v=spf1 ip6:2001:2::5/128 ip4:198.18.0.10 -all"),
    ("o-a.example", "TXT", "v=spf1 a -all"),
    ("o-a.example", "A", "198.18.0.5"),
    ("o-a.example", "AAAA", "2001:2::5"),
    ("o-a-cidr.example", "TXT", "v=spf1 a:h.o-a-cidr.example/29 -all"),
    ("h.o-a-cidr.example", "A", "198.18.0.1"),
    ("h.o-a-cidr.example", "AAAA", "2001:3::1"),
    ("o-a-dual.example", "TXT", "v=spf1 a:h6.o-a-dual.example/32//32 ?all"),
    ("h6.o-a-dual.example", "A", "198.18.7.7"),
    ("h6.o-a-dual.example", "AAAA", "2001:2:ffff::1"),
    ("o-mx.example", "TXT", "v=spf1 mx -all"),
    ("o-mx.example", "MX", "10 mx1.o-mx.example."),
    ("o-mx.example", "MX", "20 mx2.o-mx.example."),
    ("mx1.o-mx.example", "A", "198.18.0.9"),
    ("mx1.o-mx.example", "AAAA", "2001:3::9"),
    ("mx2.o-mx.example", "A", "198.18.0.10"),
    ("mx2.o-mx.example", "AAAA", "2001:2::5"),
    ("o-mx-cidr.example", "TXT", "v=spf1 mx:o-mx.example/24 ~all"),
    ("o-mx-other.example", "TXT", "v=spf1 mx:o-mx.example -all"),
    ("o-ptr.example", "TXT", "v=spf1 ptr -all"),
    ("10.0.18.198.in-addr.arpa", "PTR", "mail.o-ptr.example."),
    ("mail.o-ptr.example", "A", "198.18.0.10"),
    ("5.0.18.198.in-addr.arpa", "PTR", "liar.o-ptr.example."),
    ("liar.o-ptr.example", "A", "198.18.9.9"),
    (ipaddress.ip_address("2001:2::5").reverse_pointer, "PTR", "v6.o-ptr.example."),
    ("v6.o-ptr.example", "AAAA", "2001:2::5"),
    ("o-ptr-other.example", "TXT", "v=spf1 ptr:other.example ?all"),
    ("o-exists.example", "TXT", "v=spf1 exists:%{ir}.%{v}.e.o-exists.example -all"),
    ("5.0.18.198.in-addr.e.o-exists.example", "A", "127.0.0.2"),
    (nibbles("2001:2::5") + ".ip6.e.o-exists.example", "A", "127.0.0.2"),
    ("o-exists-i.example", "TXT", "v=spf1 exists:%{i}._i.o-exists-i.example ~all"),
    ("198.18.0.9._i.o-exists-i.example", "A", "127.0.0.1"),
    ("o-incl.example", "TXT", "v=spf1 include:_spf.o-incl.example -all"),
    ("_spf.o-incl.example", "TXT", "v=spf1 ip4:198.18.0.5 ip6:2001:2::/64 -all"),
    ("o-incl-chain.example", "TXT", "v=spf1 include:c1.o.example ~all"),
    ("c1.o.example", "TXT", "v=spf1 include:c2.o.example -all"),
    ("c2.o.example", "TXT", "v=spf1 a:h.c2.o.example -all"),
    ("h.c2.o.example", "A", "198.18.0.10"),
    ("o-incl-none.example", "TXT", "v=spf1 include:nothing.o.example -all"),
    ("o-incl-neutral.example", "TXT", "v=spf1 include:n.o.example -all"),
    ("n.o.example", "TXT", "v=spf1 ?all"),
    ("o-redirect.example", "TXT", "v=spf1 redirect=_spf.o-incl.example"),
    ("o-redirect-none.example", "TXT", "v=spf1 redirect=nothing.o.example"),
    ("o-redirect-all.example", "TXT", "v=spf1 ?all redirect=_spf.o-incl.example"),
    ("o-redirect-mech.example", "TXT", "v=spf1 ip4:198.18.0.9 redirect=_spf.o-incl.example"),
    ("o-macro-d2.example", "TXT", "v=spf1 include:%{d2}._spf.o.example -all"),
    ("o-macro-d2.example._spf.o.example", "TXT", "v=spf1 ip4:198.18.0.9"),
    ("o-macro-l.example", "TXT", "v=spf1 exists:%{l}.%{o}._u.o.example -all"),
    ("postmaster.o-macro-l.example._u.o.example", "A", "127.0.0.1"),
    ("o-macro-h.example", "TXT", "v=spf1 a:%{h} -all"),
    ("o-macro-dr.example", "TXT", "v=spf1 exists:%{d1r}.%{d2r}.r.o.example -all"),
    ("o-macro-dr.example.o-macro-dr.r.o.example", "A", "127.0.0.1"),
    ("o-lim10.example", "TXT", "v=spf1 %s ip4:198.18.0.5 -all" % INCL10),
    ("o-lim11.example", "TXT", "v=spf1 %s ip4:198.18.0.5 -all" % INCL11),
    ("o-void2.example", "TXT", "v=spf1 a:nx1.o.example a:nx2.o.example ip4:198.18.0.5 -all"),
    ("o-void3.example", "TXT", "v=spf1 a:nx1.o.example a:nx2.o.example a:nx3.o.example"
     " ip4:198.18.0.5 -all"),
    ("o-two.example", "TXT", "v=spf1 -all"),
    ("o-two.example", "TXT", "v=spf1 +all"),
    ("o-txt-only.example", "TXT", "google-site-verification=x"),
    ("o-syntax.example", "TXT", "v=spf1 ip4:198.18.0.5 foo -all"),
    ("o-syntax-cidr.example", "TXT", "v=spf1 ip4:198.18.0.0/33 -all"),
    ("o-syntax-fqdn.example", "TXT", "v=spf1 a:localhost -all"),
    ("o-neutral.example", "TXT", "v=spf1 ?all"),
    ("o-empty.example", "TXT", "v=spf1"),
    ("o-softfail.example", "TXT", "v=spf1 ~all"),
    ("o-plus.example", "TXT", "v=spf1 +all"),
    ("o-case.example", "TXT", "V=SPF1 IP4:198.18.0.5 -ALL"),
    ("o-spaces.example", "TXT", "v=spf1  ip4:198.18.0.5   -all"),
    ("o-exp.example", "TXT", "v=spf1 ip4:198.18.0.5 -all exp=x.o-exp.example"),
    ("x.o-exp.example", "TXT", "%{i} is not allowed to send for %{d}"),
    ("o-unknown-mod.example", "TXT", "v=spf1 ip4:198.18.0.10 moo=%{d}.x ~all"),
    ("o-mx-many.example", "TXT", "v=spf1 mx -all"),
    ("o-long.example", "TXT", "v=spf1 " + " ".join("ip4:198.18.1.%d" % i for i in range(40))
     + " ip4:198.18.0.9 -all"),
] + [("l%d.o.example" % i, "TXT", "v=spf1 ip4:198.18.60.%d" % i) for i in range(11)] + [
    ("o-mx-many.example", "MX", "%d m%d.o.example." % (i, i)) for i in range(11)]

DOMAINS = sorted(set(n for n, t, v in ZONE if re.match(r"o-[a-z0-9-]+\.example$", n))) + \
    ["o-nx.example"]


def pyspf_result(server, ip, domain):
    """pyspf's check_host() result, its DNS asked through the test server only."""
    res = server.resolver(timeout=3.0)

    def lookup(name, qtype, strict=True, timeout=None):
        out = []
        try:
            ans = res.resolve(name, qtype, raise_on_no_answer=False)
        except dns_nx:
            return out
        if ans.rrset is None:
            return out
        for r in ans:
            if qtype in ("A", "AAAA"):
                out.append(((name, qtype), r.address))
            elif qtype == "MX":
                out.append(((name, qtype), (r.preference, r.exchange.to_text(True))))
            elif qtype == "PTR":
                out.append(((name, qtype), r.target.to_text(True)))
            elif qtype in ("TXT", "SPF"):
                out.append(((name, qtype), list(r.strings)))
        return out
    saved = spf.DNSLookup
    spf.DNSLookup = lookup
    try:
        return spf.check2(i=ip, s="postmaster@" + domain, h="relay.example")[0]
    finally:
        spf.DNSLookup = saved


dns_nx = None


@pytest.fixture(scope="module")
def oracle(tmp_path_factory):
    global dns_nx
    import dns.resolver
    dns_nx = dns.resolver.NXDOMAIN
    d = tmp_path_factory.mktemp("oracle")
    server = start_dns(str(d / "dns"), ZONE)
    try:
        relay = make_relay(str(d / "relay"), server, dnsbl="none")
        got = {}
        for ip in IPS:
            rep, p = doctor_json(relay, *DOMAINS, "--relay-ip", ip, timeout=120)
            assert set(rep) == set(DOMAINS), p.stderr
            for dom in DOMAINS:
                got[(dom, ip)] = rep[dom]["spf"][ip]
        yield server, got
    finally:
        server.stop()


def test_enough_cases():
    assert len(DOMAINS) * len(IPS) >= 40
    assert len(DOMAINS) >= 44


@pytest.mark.parametrize("ip", IPS)
def test_hikyaku_agrees_with_pyspf(oracle, ip):
    server, got = oracle
    differ = []
    for dom in DOMAINS:
        want = pyspf_result(server, ip, dom)
        if got[(dom, ip)] != want:
            differ.append("%s %s: hikyaku %s, pyspf %s" % (dom, ip, got[(dom, ip)], want))
    assert not differ, "\n".join(differ)


def test_the_cases_cover_every_result(oracle):
    _, got = oracle
    assert set(got.values()) == {"pass", "fail", "softfail", "neutral", "none", "permerror"}
