"""DANE for SMTP (RFC 7672; issue 11): a DNSSEC-signed test zone
(dane.example, signed once per session with ldns-signzone) served by the
test DNS's unbound as an auth-zone, which hikyaku's libunbound reaches as
its forwarder and validates with a test trust anchor; a second signed zone
(bogus.example) has a TLSA record altered after signing.

The relays here do not trust the test CA (no tls-ca-file): a certificate
can only be accepted through its TLSA record.
"""
import os
import re
import time

import pytest

from mx import mx_records  # noqa: F401
from tlsworld import pki, policy_text, tls_world  # noqa: F401

SUBJECT = "dane secret 1234"


def deferred_unsent(w, qid, rcpt, mx, why):
    o = w.wait_outcome(qid, rcpt, "deferred", timeout=15)
    assert re.search(why, o[7]), o
    time.sleep(0.5)
    assert mx.mails == [] and mx.messages == [], (mx.mails, mx.messages)
    return o


def test_dane_ee_3_1_1_delivered(tls_world):
    """DANE-EE: a self-signed certificate for another name, matched by its key."""
    w = tls_world
    w.sender_mx()
    mx = w.tls_mx("127.0.0.40", "mx-ee.dane.example", cert=w.pki.ee)
    w.start(ca=False)
    qid = w.submit("a@ee.dane.example")
    o = w.wait_outcome(qid, "a@ee.dane.example", "sent")
    assert re.fullmatch(r"TLSv1\.[23]/dane", o[4]), o
    assert mx.wait_messages(1)[0].tls
    w.wait_log(r"TLS connection established to mx-ee\.dane\.example\[127\.0\.0\.40\]:25: "
               r"TLSv1\.[23] with cipher \S+, certificate authenticated by DANE")


def test_dane_ta_2_1_1_delivered(tls_world):
    """DANE-TA: the certificate chains to the CA whose key the TLSA record names."""
    w = tls_world
    w.sender_mx()
    mx = w.tls_mx("127.0.0.41", "mx-ta.dane.example", cert=w.pki.ta)
    w.start(ca=False)
    qid = w.submit("a@ta.dane.example")
    o = w.wait_outcome(qid, "a@ta.dane.example", "sent")
    assert re.fullmatch(r"TLSv1\.[23]/dane", o[4]), o
    assert len(mx.wait_messages(1)) == 1


def test_dane_mismatch_deferred(tls_world):
    w = tls_world
    w.sender_mx()
    mx = w.tls_mx("127.0.0.42", "mx-bad.dane.example", cert=w.pki.bad)
    w.start(ca=False)
    qid = w.submit("a@bad.dane.example", subject=SUBJECT)
    o = deferred_unsent(w, qid, "a@bad.dane.example", mx,
                        r"DANE: no TLSA record matches the certificate of mx-bad\.dane\.example")
    assert o[5] == "4.7.5", o
    assert mx.connections >= 1


def test_bogus_tlsa_deferred_never_contacted(tls_world):
    w = tls_world
    w.sender_mx()
    mx = w.tls_mx("127.0.0.43", "mx.bogus.example", cert=w.pki.ee)
    w.start(ca=False)
    qid = w.submit("a@bogus.example", subject=SUBJECT)
    deferred_unsent(w, qid, "a@bogus.example", mx,
                    r"DNSSEC: the answers for mx\.bogus\.example are bogus")
    assert mx.connections == 0


def test_unsigned_zone_opportunistic(tls_world):
    """TLSA records in an unsigned zone are not used: opportunistic TLS as before."""
    w = tls_world
    w.sender_mx()
    mx = w.tls_mx("127.0.0.44", "mx.insecure.example", cert=w.pki.insecure)
    w.start(ca=False, records=mx_records("insecure.example",
                                         (10, "mx.insecure.example", "127.0.0.44")) +
            [("_25._tcp.mx.insecure.example", "TLSA", "3 1 1 " + "22" * 32)])
    qid = w.submit("a@insecure.example")
    o = w.wait_outcome(qid, "a@insecure.example", "sent")
    assert re.fullmatch(r"TLSv1\.[23]/unverified", o[4]), o
    assert len(mx.wait_messages(1)) == 1


def test_dane_beats_mta_sts(tls_world):
    """The domain's MTA-STS policy allows no MX it has; its MX has DANE: DANE applies."""
    w = tls_world
    w.sender_mx()
    w.web_server().policy("stsdane.dane.example", policy_text("enforce", "nothing.example"))
    mx = w.tls_mx("127.0.0.40", "mx-ee.dane.example", cert=w.pki.ee)
    w.start(ca=False)
    qid = w.submit("a@stsdane.dane.example")
    o = w.wait_outcome(qid, "a@stsdane.dane.example", "sent")
    assert o[4].endswith("/dane"), o
    assert len(mx.wait_messages(1)) == 1


def test_tls_policy_dane_needs_tlsa(tls_world):
    w = tls_world
    w.sender_mx()
    mx = w.tls_mx("127.0.0.44", "mx.insecure.example", cert=w.pki.insecure)
    w.start(ca=False, start_relay=False,
            records=mx_records("insecure.example", (10, "mx.insecure.example", "127.0.0.44")))
    w.relay.extra_lines.append("tls-policy insecure.example dane")
    w.relay.write_config()
    w.relay.start()
    qid = w.submit("a@insecure.example", subject=SUBJECT)
    deferred_unsent(w, qid, "a@insecure.example", mx,
                    r"tls-policy dane: mx\.insecure\.example has no usable DNSSEC-signed TLSA")
    assert mx.connections == 0


def test_resolver_without_dnssec_is_reported_at_start(tls_world):
    """With the real root trust anchor, a resolver that cannot prove the
    root's keys (the test DNS serves no signed root) makes every answer
    bogus: hikyaku says so once, at start, with what to do."""
    root_key = "/usr/share/dns/root.key"
    if not os.path.exists(root_key):
        pytest.skip("no %s (dns-root-data)" % root_key)
    w = tls_world
    w.start(dnssec_trust_anchor=root_key)
    w.wait_log(r"DNSSEC validation fails for the root zone through resolver 127\.0\.0\.53@\d+ "
               r"\(.*\): mail to DNSSEC-signed domains will wait")
    assert "configuration OK" in w.relay.cli("check-config").stdout
