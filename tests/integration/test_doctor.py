"""`hikyaku doctor` (issue 9) against a test DNS server: one zone per kind of
mistake, and for each the verdict and the exact fix. Also the text output,
exit statuses, a DNS server that is down (bounded time), and the newcomer's
walkthrough of the README: a fresh domain, publish what doctor prints, run
it again, every check passes.
"""
import base64
import os
import re
import sqlite3
import subprocess
import time

import pytest

from testdns import TestDNS
from doctorenv import (RELAY_IP, checks, doctor, doctor_json, make_relay, publish_keygen,
                       start_dns, statuses, zone_record)

ALLOW = "5.0.18.198.in-addr.allow.chain.example"
INCLUDES11 = " ".join("include:i%d.lim.example" % i for i in range(11))

RECORDS = [
    # a good setup (its DKIM key is published by the fixture)
    ("good.example", "TXT", "v=spf1 ip4:198.18.0.5 -all"),
    ("good.example", "MX", "10 mail.good.example."),
    ("mail.good.example", "A", "198.18.1.1"),
    ("_dmarc.good.example", "TXT", "v=DMARC1; p=reject; rua=mailto:postmaster@good.example"),
    # no SPF, no DKIM key, no DMARC
    ("nospf.example", "MX", "10 mail.good.example."),
    # two SPF records
    ("twospf.example", "TXT", "v=spf1 mx -all"),
    ("twospf.example", "TXT", "v=spf1 include:_spf.other.example ~all"),
    ("twospf.example", "MX", "10 mail.good.example."),
    ("_spf.other.example", "TXT", "v=spf1 ip4:198.18.50.0/24 -all"),
    # SPF without the relay's address
    ("missing.example", "TXT", "v=spf1 mx -all"),
    ("missing.example", "MX", "10 mail.good.example."),
    # over the 10-lookup limit
    ("toomany.example", "TXT", "v=spf1 %s ip4:198.18.0.5 -all" % INCLUDES11),
] + [("i%d.lim.example" % i, "TXT", "v=spf1 ip4:198.18.60.%d" % i) for i in range(11)] + [
    # include chains, redirect, macros, exists, ptr
    ("chain.example", "TXT", "v=spf1 include:c1.chain.example -all"),
    ("c1.chain.example", "TXT", "v=spf1 exists:%{ir}.%{v}.allow.chain.example"
     " redirect=c2.chain.example"),
    ("c2.chain.example", "TXT", "v=spf1 ptr:relay.example ~all"),
    (ALLOW, "A", "127.0.0.2"),
    ("ptr.example", "TXT", "v=spf1 ptr:relay.example -all"),
    ("redirect.example", "TXT", "v=spf1 redirect=good.example"),
    ("macro.example", "TXT", "v=spf1 include:%{d2}.spf.example -all"),
    ("macro.example.spf.example", "TXT", "v=spf1 a:%{h} ?all"),
    # DKIM
    ("dkimmissing.example", "TXT", "v=spf1 ip4:198.18.0.5 -all"),
    ("dkimwrong.example", "TXT", "v=spf1 ip4:198.18.0.5 -all"),
    ("weak.example", "TXT", "v=spf1 ip4:198.18.0.5 -all"),
    ("weaker.example", "TXT", "v=spf1 ip4:198.18.0.5 -all"),
    # DMARC
    ("badmarc.example", "TXT", "v=spf1 ip4:198.18.0.5 -all"),
    ("_dmarc.badmarc.example", "TXT", "v=DMARC1; p=block"),
    ("pnone.example", "TXT", "v=spf1 ip4:198.18.0.5 -all"),
    ("_dmarc.pnone.example", "TXT", "v=DMARC1; p=none"),
    ("sub.good.example", "TXT", "v=spf1 ip4:198.18.0.5 -all"),
    ("_dmarc.align.example", "TXT", "v=DMARC1; p=reject; adkim=s; rua=mailto:d@align.example"),
    # the relay's name, for --relay-ip 198.18.0.20 .. .23
    ("21.0.18.198.in-addr.arpa", "PTR", "liar.example."),
    ("liar.example", "A", "198.18.9.9"),
    ("22.0.18.198.in-addr.arpa", "PTR", "other.example."),
    ("other.example", "A", "198.18.0.22"),
    ("23.0.18.198.in-addr.arpa", "PTR", "listed.example."),
    ("listed.example", "A", "198.18.0.23"),
    ("23.0.18.198.bl.example", "A", "127.0.0.2"),
    ("23.0.18.198.bl.example", "TXT", "Listed for spam; see https://bl.example/q?ip=198.18.0.23"),
    # MX
    ("nullmx.example", "MX", "0 ."),
    # MTA-STS and TLS-RPT
    ("_mta-sts.good.example", "TXT", "v=STSv1; id=2024a"),
    ("_smtp._tls.good.example", "TXT", "v=TLSRPTv1; rua=mailto:tls@good.example"),
    ("_mta-sts.badsts.example", "TXT", "v=STSv1; id=bad-id!"),
    ("_smtp._tls.badsts.example", "TXT", "v=TLSRPTv1"),
    ("badsts.example", "MX", "10 mail.good.example."),
]


def weak_key(relay, dns, domain, bits):
    """An RSA key of bits made outside hikyaku, entered in the store, published."""
    key = os.path.join(relay.spool, "dkim-%s.pem" % domain)
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                    "rsa_keygen_bits:%d" % bits, "-out", key], check=True, capture_output=True)
    der = subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-outform", "DER"],
                         check=True, capture_output=True).stdout
    db = sqlite3.connect(os.path.join(relay.spool, "hikyaku.db"))
    db.execute("INSERT INTO dkim_keys(domain, selector, algo, keyfile, created)"
               " VALUES(?, 'w1', 'rsa-sha256', ?, 0)", (domain, key))
    db.commit()
    db.close()
    dns.add_records([("w1._domainkey." + domain, "TXT",
                      "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode())])


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    d = tmp_path_factory.mktemp("doctor")
    dns = start_dns(str(d / "dns"), RECORDS)
    try:
        relay = make_relay(str(d / "relay"), dns)
        relay.add_account("alice", "alice-pw-123", ["@good.example", "@nospf.example"])
        for dom in ("good.example", "dkimwrong.example", "badmarc.example", "pnone.example",
                    "align.example"):
            publish_keygen(relay, dns, dom, "--selector", "s1")
        relay.cli("dkim", "keygen", "dkimmissing.example", "--selector", "s1")
        relay.cli("dkim", "keygen", "dkimwrong.example", "--selector", "s2")
        dns.add_records([("s2._domainkey.dkimwrong.example", "TXT",
                          dns.txt_bytes("s1._domainkey.good.example").decode())])
        weak_key(relay, dns, "weak.example", 1024)
        weak_key(relay, dns, "weaker.example", 768)
        yield relay, dns
    finally:
        dns.stop()


def test_good_setup_passes(env):
    relay, _ = env
    rep, p = doctor_json(relay, "good.example")
    r = rep["good.example"]
    assert p.returncode == 0, p.stdout + p.stderr
    assert r["ready"] is True
    assert [c["status"] for c in r["checks"]] == ["pass"] * len(r["checks"]), r
    assert set(c["area"] for c in r["checks"]) == {"spf", "dkim", "dmarc", "ptr", "dnsbl", "mx",
                                                  "mta-sts", "tls-rpt"}
    assert r["spf"] == {RELAY_IP: "pass"}
    assert all(c["fix"] is None for c in r["checks"])
    assert list(r.keys()) == ["domain", "ready", "checks", "spf"]


def test_no_spf(env):
    relay, _ = env
    rep, p = doctor_json(relay, "nospf.example")
    r = rep["nospf.example"]
    assert p.returncode == 1 and r["ready"] is False
    (st, msg, fix), = checks(r, "spf")
    assert st == "fail" and "no SPF record" in msg
    assert fix == 'nospf.example. IN TXT "v=spf1 ip4:198.18.0.5 -all"'
    assert r["spf"] == {RELAY_IP: "none"}
    assert statuses(r, "dkim") == ["fail"]
    assert checks(r, "dkim")[0][2] == 'Run "hikyaku dkim keygen nospf.example" and publish' \
        ' the TXT record it prints.'
    assert statuses(r, "dmarc") == ["warn"]
    assert '_dmarc.nospf.example. IN TXT "v=DMARC1; p=quarantine;' in checks(r, "dmarc")[0][2]


def test_two_spf_records_and_the_merged_fix(env):
    relay, dns = env
    rep, _ = doctor_json(relay, "twospf.example")
    r = rep["twospf.example"]
    (st, msg, fix), = checks(r, "spf")
    assert st == "fail" and "2 SPF records" in msg, msg
    assert r["spf"] == {RELAY_IP: "permerror"}
    # the records in byte order, the first all last
    merged = "v=spf1 include:_spf.other.example mx ip4:198.18.0.5 ~all"
    assert fix.endswith('twospf.example. IN TXT "%s"' % merged), fix
    # publish exactly that, instead of the two
    recs = [x for x in dns.records if x[0] != "twospf.example" or x[1] != "TXT"]
    dns.set_records(recs + [("twospf.example", "TXT", merged)])
    rep, _ = doctor_json(relay, "twospf.example")
    assert statuses(rep["twospf.example"], "spf") == ["pass"]


def test_spf_missing_the_relay_ip(env):
    relay, _ = env
    rep, _ = doctor_json(relay, "missing.example")
    r = rep["missing.example"]
    (st, msg, fix), = checks(r, "spf")
    assert st == "fail" and "does not authorise 198.18.0.5" in msg and '"-all"' in msg, msg
    assert fix == 'missing.example. IN TXT "v=spf1 mx ip4:198.18.0.5 -all"'
    assert r["spf"] == {RELAY_IP: "fail"}


def test_spf_over_the_lookup_limit(env):
    relay, _ = env
    rep, _ = doctor_json(relay, "toomany.example")
    r = rep["toomany.example"]
    (st, msg, fix), = checks(r, "spf")
    assert st == "fail" and "more than 10 DNS lookups" in msg, msg
    assert "at most 10 DNS lookups" in fix and "ip4:198.18.0.5" in fix
    assert r["spf"] == {RELAY_IP: "permerror"}


@pytest.mark.parametrize("domain", ["chain.example", "ptr.example", "redirect.example",
                                    "macro.example"])
def test_spf_include_redirect_macros_exists_ptr(env, domain):
    relay, _ = env
    rep, _ = doctor_json(relay, domain)
    assert rep[domain]["spf"] == {RELAY_IP: "pass"}, rep[domain]["checks"]


def test_spf_chain_for_another_address(env):
    relay, _ = env
    rep, _ = doctor_json(relay, "chain.example", "ptr.example", "--relay-ip", "198.18.0.9")
    assert rep["chain.example"]["spf"] == {"198.18.0.9": "fail"}
    assert rep["ptr.example"]["spf"] == {"198.18.0.9": "fail"}
    (st, msg, fix), = checks(rep["chain.example"], "spf")
    assert fix == 'chain.example. IN TXT "v=spf1 include:c1.chain.example ip4:198.18.0.9 -all"'


def test_dkim_selector_missing(env):
    relay, dns = env
    rep, _ = doctor_json(relay, "dkimmissing.example")
    (st, msg, fix), = checks(rep["dkimmissing.example"], "dkim")
    assert st == "fail" and "s1._domainkey.dkimmissing.example is not published" in msg
    name, typ, strings = zone_record(fix)
    want = relay.cli("dkim", "show", "dkimmissing.example", "s1").stdout
    assert name == "s1._domainkey.dkimmissing.example"
    assert "".join(strings) in want.replace('"\n\t"', "")


def test_dkim_key_not_matching(env):
    relay, _ = env
    rep, _ = doctor_json(relay, "dkimwrong.example")
    st = checks(rep["dkimwrong.example"], "dkim")
    assert [s for s, _, _ in st] == ["pass", "fail"], st
    assert "not the one hikyaku signs with" in st[1][1]
    assert st[1][2].startswith("s2._domainkey.dkimwrong.example. IN TXT")


def test_weak_rsa_keys(env):
    relay, _ = env
    rep, _ = doctor_json(relay, "weak.example", "weaker.example")
    (st, msg, fix), = checks(rep["weak.example"], "dkim")
    assert st == "warn" and "1024 bits" in msg and "dkim keygen weak.example" in fix
    (st, msg, fix), = checks(rep["weaker.example"], "dkim")
    assert st == "fail" and "768 bits" in msg


def test_dmarc_missing_malformed_pnone_and_org_fallback(env):
    relay, _ = env
    rep, _ = doctor_json(relay, "dkimmissing.example", "badmarc.example", "pnone.example",
                         "sub.good.example")
    (st, msg, fix), = checks(rep["dkimmissing.example"], "dmarc")
    assert st == "warn" and "no DMARC record" in msg
    assert fix == ('_dmarc.dkimmissing.example. IN TXT "v=DMARC1; p=quarantine;'
                   ' rua=mailto:postmaster@dkimmissing.example"')
    (st, msg, fix), = checks(rep["badmarc.example"], "dmarc")
    assert st == "fail" and "malformed" in msg and "p=" in msg
    (st, msg, fix), = checks(rep["pnone.example"], "dmarc")
    assert st == "warn" and "p=none" in msg and "p=quarantine" in fix
    st = checks(rep["sub.good.example"], "dmarc")
    assert st[0][0] == "pass" and "from _dmarc.good.example" in st[0][1], st


def test_dmarc_alignment_impossible(env):
    relay, _ = env
    rep, p = doctor_json(relay, "sub.align.example")
    r = rep["sub.align.example"]
    assert statuses(r, "dkim") == ["pass"]       # the parent's key, published
    st = checks(r, "dmarc")
    assert [s for s, _, _ in st] == ["pass", "fail"], st
    assert "DMARC cannot pass" in st[1][1] and "adkim=s" in st[1][1]
    assert st[1][2] == 'sub.align.example. IN TXT "v=spf1 ip4:198.18.0.5 -all"'


def test_ptr_missing_not_matching_not_hostname(env):
    relay, _ = env
    for ip, status, words in [("198.18.0.20", "fail", "has no PTR record"),
                              ("198.18.0.21", "fail", "does not resolve back"),
                              ("198.18.0.22", "warn", "hikyaku's hostname")]:
        rep, _ = doctor_json(relay, "good.example", "--relay-ip", ip)
        (st, msg, fix), = checks(rep["good.example"], "ptr")
        assert st == status and words in msg, (ip, msg)
        assert fix
    (st, msg, fix), = checks(rep["good.example"], "ptr")
    assert fix == ('Set "hostname other.example" in the configuration, or have the PTR of'
                   ' 198.18.0.22 changed to relay.example.')


def test_relay_ip_on_a_blocklist(env):
    relay, _ = env
    rep, p = doctor_json(relay, "good.example", "--relay-ip", "198.18.0.23")
    (st, msg, fix), = checks(rep["good.example"], "dnsbl")
    assert st == "fail" and "listed on the blocklist bl.example (127.0.0.2): " in msg, msg
    assert "https://bl.example/q?ip=198.18.0.23" in msg and "removal" in fix
    assert p.returncode == 1


def test_no_mx_and_null_mx(env):
    relay, _ = env
    rep, _ = doctor_json(relay, "dkimmissing.example", "nullmx.example")
    (st, msg, fix), = checks(rep["dkimmissing.example"], "mx")
    assert st == "fail" and "no MX record" in msg and "IN MX 10" in fix
    (st, msg, fix), = checks(rep["nullmx.example"], "mx")
    assert st == "fail" and "null MX" in msg


def test_mta_sts_and_tls_rpt_records(env):
    relay, _ = env
    rep, _ = doctor_json(relay, "good.example", "badsts.example")
    assert checks(rep["good.example"], "mta-sts")[0][0] == "pass"
    assert "id=2024a" in checks(rep["good.example"], "mta-sts")[0][1]
    assert "1 report address" in checks(rep["good.example"], "tls-rpt")[0][1]
    (st, msg, fix), = checks(rep["badsts.example"], "mta-sts")
    assert st == "fail" and "malformed" in msg
    (st, msg, fix), = checks(rep["badsts.example"], "tls-rpt")
    assert st == "fail" and "rua" in msg


def test_every_granted_domain_and_text_output(env):
    relay, _ = env
    p = doctor(relay)
    assert p.returncode == 1    # nospf.example fails
    out = p.stdout
    assert out.index("good.example (relay address 198.18.0.5)") < out.index("nospf.example (")
    assert "  pass  spf      SPF authorises 198.18.0.5" in out
    assert "  fail  spf      nospf.example has no SPF record" in out
    assert '                 fix: nospf.example. IN TXT "v=spf1 ip4:198.18.0.5 -all"' in out
    assert "Ready for Gmail and Yahoo" in out
    assert "Not ready for Gmail and Yahoo: mail must pass SPF or DKIM" in out


def test_usage_errors(env):
    relay, _ = env
    assert doctor(relay, "--bogus").returncode == 2
    assert doctor(relay, "not a domain").returncode == 2
    assert doctor(relay, "good.example", "--relay-ip", "999.1.1.1").returncode == 2
    assert doctor(relay, "good.example", "--refresh", "--json").returncode == 2


def test_dns_server_down_is_bounded(tmp_path, env):
    _, dns = env
    relay = make_relay(str(tmp_path / "r"), dns, resolver="127.0.0.1:1", relay_ip=RELAY_IP)
    t = time.monotonic()
    rep, p = doctor_json(relay, "good.example", timeout=60)
    elapsed = time.monotonic() - t
    assert elapsed < 30, elapsed
    r = rep["good.example"]
    assert r["spf"] == {RELAY_IP: "temperror"}
    assert "could not be checked" in checks(r, "spf")[0][1]


def test_walkthrough_fresh_domain(env):
    """The README's walkthrough: doctor, publish what it printed, doctor again."""
    relay, dns = env
    dom = "fresh.example"
    relay.cli("grant", "add", "alice", "@" + dom)
    relay.cli("dkim", "keygen", dom, "--selector", "s1")
    dns.add_records([(dom, "MX", "10 mail.good.example.")])     # the home server
    rep, p = doctor_json(relay, dom)
    assert p.returncode == 1
    fixes = [c["fix"] for c in rep[dom]["checks"] if c["status"] != "pass"]
    recs = [zone_record(f) for f in fixes]
    assert len(recs) == 3 and None not in recs, fixes        # SPF, DKIM, DMARC
    dns.add_records(recs)
    rep, p = doctor_json(relay, dom)
    assert p.returncode == 0, rep
    assert statuses(rep[dom], "spf") + statuses(rep[dom], "dkim") + \
        statuses(rep[dom], "dmarc") == ["pass", "pass", "pass"]
    assert all(c["status"] == "pass" for c in rep[dom]["checks"]), rep[dom]["checks"]


README = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "README.md")


def readme_blocks(command="hikyaku doctor example.jp"):
    """The outputs of `$ COMMAND` in the README (the walkthrough's, by default)."""
    blocks, cur = [], None
    for line in open(README, encoding="utf-8").read().splitlines():
        if line == "    $ " + command:
            cur = []
            blocks.append(cur)
        elif cur is not None and line.startswith("    "):
            cur.append(line[4:])
        else:
            cur = None
    return ["\n".join(b) for b in blocks]


def normalize(text):
    text = re.sub(r"s\d{6}r\._domainkey", "SEL._domainkey", text)
    return re.sub(r'(p=MIIB[A-Za-z0-9+/]{6})[A-Za-z0-9+/=" ]+(IDAQAB)"', r'\1...\2"', text)


def readme_world(dir):
    """The README's newcomer before the first doctor: a test DNS with the home
    server as MX and the relay's PTR, a relay with a grant and a DKIM key."""
    dns = TestDNS(str(dir / "dns"), [
        ("example.jp", "MX", "10 home.example.jp."),
        ("home.example.jp", "A", "198.18.7.7"),
        ("relay.example.net", "A", "198.18.0.5"),
        ("5.0.18.198.in-addr.arpa", "PTR", "relay.example.net.")]).start()
    try:
        relay = make_relay(str(dir / "relay"), dns, hostname="relay.example.net",
                           dnsbl=None, dns_timeout=None)
        relay.add_account("alice", "alice-pw-123", ["@example.jp"])
        relay.cli("dkim", "keygen", "example.jp")
    except BaseException:
        dns.stop()
        raise
    return dns, relay


def test_readme_walkthrough(tmp_path):
    """The README's newcomer: keygen, doctor, publish what it printed, doctor."""
    want = readme_blocks()
    assert len(want) == 2, want
    dns, relay = readme_world(tmp_path)
    try:
        p = doctor(relay, "example.jp")
        assert p.returncode == 1
        assert normalize(p.stdout.rstrip("\n")) == normalize(want[0])
        rep, _ = doctor_json(relay, "example.jp")
        dns.add_records([zone_record(c["fix"]) for c in rep["example.jp"]["checks"]
                         if c["status"] != "pass"])
        p = doctor(relay, "example.jp")
        assert p.returncode == 0
        assert normalize(p.stdout.rstrip("\n")) == normalize(want[1])
    finally:
        dns.stop()
