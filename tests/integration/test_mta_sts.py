"""MTA-STS (RFC 8461) and certificate verification (issue 11).

A test CA signs the MX and policy server certificates; the relay trusts it
through tls-ca-file. Each MTA-STS domain publishes _mta-sts TXT and its
policy on the HTTPS server at 127.0.0.80:443 (tlsworld.py). "No byte of the
message in plain text" is checked at the MX: it never sees MAIL, and a raw
MX records every byte it received.
"""
import re
import time

from helpers import wait_for
from mx import mx_records, simple_smtp  # noqa: F401
from testca import TestCA
from tlsworld import WEB_ADDR, pki, policy_text, sts_records, tls_world  # noqa: F401

SUBJECT = "secret subject 4711"


def assert_deferred_unsent(w, qid, rcpt, mx, why):
    """qid to rcpt deferred with why in its reply, and mx saw no MAIL and no message."""
    o = w.wait_outcome(qid, rcpt, "deferred", timeout=15)
    assert re.search(why, o[7]), o
    time.sleep(0.5)
    if hasattr(mx, "mails"):
        assert mx.mails == [] and mx.messages == [], (mx.mails, mx.messages)
    else:
        raw = b"".join(c.received for c in mx.conns)
        assert b"MAIL FROM" not in raw.upper() and SUBJECT.encode() not in raw, raw
    assert w.relay.alive
    return o


def test_enforce_good_certificate_delivered_sts(tls_world):
    w = tls_world
    w.sender_mx()
    web = w.web_server()
    web.policy("sts.example", policy_text("enforce", "mx.sts.example"))
    mx = w.tls_mx("127.0.0.60", "mx.sts.example", cert=w.pki.good)
    w.start(records=sts_records("sts.example", (10, "mx.sts.example", "127.0.0.60")))
    qid = w.submit("a@sts.example")
    o = w.wait_outcome(qid, "a@sts.example", "sent")
    assert re.fullmatch(r"TLSv1\.[23]/sts", o[4]), o
    assert mx.wait_messages(1)[0].tls
    w.wait_log(r"mta-sts: sts\.example: policy id 1 fetched: mode enforce, max_age 86400")
    assert web.fetches("sts.example") == [("mta-sts.sts.example", "GET",
                                           "/.well-known/mta-sts.txt")]
    # the policy is cached: the next message does not fetch it again
    q2 = w.submit("b@sts.example")
    w.wait_outcome(q2, "b@sts.example", "sent")
    assert len(web.fetches("sts.example")) == 1
    out = w.relay.cli("tls", "policies").stdout
    assert "sts.example: id 1" in out and "mode: enforce" in out, out


def test_enforce_self_signed_deferred(tls_world):
    w = tls_world
    w.sender_mx()
    w.web_server().policy("selfsigned.example", policy_text("enforce", "mx.selfsigned.example"))
    mx = w.tls_mx("127.0.0.61", "mx.selfsigned.example",
                  cert=w.pki.ca.leaf("mx.selfsigned.example", self_signed=True))
    w.start(records=sts_records("selfsigned.example", (10, "mx.selfsigned.example", "127.0.0.61")))
    qid = w.submit("a@selfsigned.example", subject=SUBJECT)
    o = assert_deferred_unsent(w, qid, "a@selfsigned.example", mx,
                               r"MTA-STS: cannot verify the certificate of mx\.selfsigned\.example.*"
                               r"self.signed")
    assert o[5] == "4.7.5", o
    assert mx.connections >= 1


def test_enforce_wrong_name_deferred(tls_world):
    w = tls_world
    w.sender_mx()
    w.web_server().policy("wrongname.example", policy_text("enforce", "mx.wrongname.example"))
    mx = w.tls_mx("127.0.0.62", "mx.wrongname.example",
                  cert=w.pki.ca.leaf("mx.wrongname.example", names=["other.example"]))
    w.start(records=sts_records("wrongname.example", (10, "mx.wrongname.example", "127.0.0.62")))
    qid = w.submit("a@wrongname.example", subject=SUBJECT)
    assert_deferred_unsent(w, qid, "a@wrongname.example", mx, r"[Hh]ostname mismatch")


def test_enforce_expired_deferred(tls_world):
    w = tls_world
    w.sender_mx()
    w.web_server().policy("expired.example", policy_text("enforce", "mx.expired.example"))
    mx = w.tls_mx("127.0.0.63", "mx.expired.example",
                  cert=w.pki.ca.leaf("mx.expired.example", expired=True))
    w.start(records=sts_records("expired.example", (10, "mx.expired.example", "127.0.0.63")))
    qid = w.submit("a@expired.example", subject=SUBJECT)
    assert_deferred_unsent(w, qid, "a@expired.example", mx, r"certificate has expired")


def test_enforce_no_starttls_deferred_nothing_in_plain_text(tls_world):
    w = tls_world
    w.sender_mx()
    w.web_server().policy("nostarttls.example", policy_text("enforce", "mx.nostarttls.example"))
    raw = w.raw_mx("127.0.0.64", lambda conn, n: simple_smtp(conn, raw))
    w.start(records=sts_records("nostarttls.example", (10, "mx.nostarttls.example", "127.0.0.64")))
    qid = w.submit("a@nostarttls.example", subject=SUBJECT)
    o = assert_deferred_unsent(w, qid, "a@nostarttls.example", raw,
                               r"TLS is required, but host mx\.nostarttls\.example.* did not offer"
                               r" STARTTLS")
    assert o[5] == "4.7.4", o
    assert raw.wait_conns(1) >= 1
    assert [c for c in raw.commands if c.upper().startswith(b"EHLO")], raw.commands


def test_enforce_mx_not_in_policy_deferred_never_contacted(tls_world):
    w = tls_world
    w.sender_mx()
    w.web_server().policy("notlisted.example", policy_text("enforce", "mx.elsewhere.example"))
    mx = w.tls_mx("127.0.0.65", "mx.notlisted.example")
    w.start(records=sts_records("notlisted.example", (10, "mx.notlisted.example", "127.0.0.65")))
    qid = w.submit("a@notlisted.example", subject=SUBJECT)
    assert_deferred_unsent(w, qid, "a@notlisted.example", mx,
                           r"MTA-STS: mx\.notlisted\.example is not an MX host that the policy"
                           r" of notlisted\.example allows")
    assert mx.connections == 0


def test_enforce_skips_unlisted_mx_and_uses_listed_one(tls_world):
    w = tls_world
    w.sender_mx()
    w.web_server().policy("sts.example", policy_text("enforce", "*.sts.example"))
    bad = w.tls_mx("127.0.0.66", "mx.attacker.example")
    good = w.tls_mx("127.0.0.60", "mx1.sts.example")
    w.start(records=sts_records("sts.example", (5, "mx.attacker.example", "127.0.0.66"),
                                (10, "mx1.sts.example", "127.0.0.60")))
    qid = w.submit("a@sts.example")
    o = w.wait_outcome(qid, "a@sts.example", "sent")
    assert o[2] == "mx1.sts.example[127.0.0.60]:25" and o[4].endswith("/sts"), o
    assert bad.connections == 0 and len(good.wait_messages(1)) == 1


def test_testing_mode_delivers_and_counts(tls_world):
    w = tls_world
    w.sender_mx()
    w.web_server().policy("testing.example", policy_text("testing", "mx.testing.example"))
    mx = w.tls_mx("127.0.0.67", "mx.testing.example",
                  cert=w.pki.ca.leaf("mx.testing.example", self_signed=True))
    w.start(records=sts_records("testing.example", (10, "mx.testing.example", "127.0.0.67")))
    qid = w.submit("a@testing.example")
    o = w.wait_outcome(qid, "a@testing.example", "sent")
    assert re.fullmatch(r"TLSv1\.[23]/unverified", o[4]), o
    assert len(mx.wait_messages(1)) == 1

    def counted():
        out = w.relay.cli("tls", "report", "testing.example").stdout
        return out if re.search(r"testing\.example\s+sts\s+certificate-not-trusted\s+1\s+"
                                r"mx\.testing\.example\[127\.0\.0\.67\]", out) else None
    assert wait_for(counted, 5), w.relay.cli("tls", "report").stdout


def test_fetch_failure_keeps_cached_policy(tls_world):
    """A policy is cached; then its id changes but the new one cannot be
    fetched: the cached policy still applies (its mx patterns exclude the
    new MX, so the message waits), and the log says so."""
    w = tls_world
    w.sender_mx()
    web = w.web_server()
    web.policy("cache.example", policy_text("enforce", "mx.cache.example"))
    first = w.tls_mx("127.0.0.68", "mx.cache.example")
    w.start(records=sts_records("cache.example", (10, "mx.cache.example", "127.0.0.68"), ttl=1))
    q1 = w.submit("a@cache.example")
    assert w.wait_outcome(q1, "a@cache.example", "sent")[4].endswith("/sts")
    # new id, the policy server fails, and the domain's MX moves to an unlisted host
    first.stop()
    time.sleep(2.5)     # the idle connection to the first MX is closed
    web.answer("mta-sts.cache.example", 503, "text/plain", b"down")
    second = w.tls_mx("127.0.0.69", "mx2.cache.example")
    w.set_records(sts_records("cache.example", (10, "mx2.cache.example", "127.0.0.69"),
                              policy_id="2", ttl=1))
    q2 = w.submit("b@cache.example", subject=SUBJECT)
    assert_deferred_unsent(w, q2, "b@cache.example", second,
                           r"mx2\.cache\.example is not an MX host that the policy")
    w.wait_log(r"mta-sts: cache\.example: cannot fetch the policy \(id 2\): .*HTTP 503")
    w.wait_log(r"mta-sts: cache\.example: the policy fetch failed; the cached policy \(id 1,"
               r" mode enforce\) applies")
    assert second.connections == 0


def test_fetch_rules_no_redirect_text_plain_size(tls_world):
    """Redirects are not followed, only text/plain counts, 64 KiB at most:
    each makes the fetch fail, and without a cached policy the message goes
    out as without MTA-STS (opportunistic TLS, unverified certificate)."""
    w = tls_world
    w.sender_mx()
    web = w.web_server()
    web.answer("mta-sts.redirect.example", 301, "text/plain", b"",
               headers=[("Location", "https://mta-sts.sts.example/.well-known/mta-sts.txt")])
    web.policy("sts.example", policy_text("enforce", "nothing.example"))
    web.policy("html.example", policy_text("enforce", "nothing.example"), ctype="text/html")
    web.policy("big.example", policy_text("enforce", "nothing.example") + "x: " + "y" * 70000)
    recs = []
    for i, d in enumerate(("redirect", "html", "big")):
        w.tls_mx("127.0.0.6%d" % i, "mx.%s.example" % d,
                 cert=w.pki.ca.leaf("mx.%s.example" % d, self_signed=True))
        recs += sts_records("%s.example" % d, (10, "mx.%s.example" % d, "127.0.0.6%d" % i))
    w.start(records=recs)
    for d, why in (("redirect", r"HTTP 301"), ("html", r"is text/html, not text/plain"),
                   ("big", r"larger than 65536 bytes")):
        qid = w.submit("a@%s.example" % d)
        o = w.wait_outcome(qid, "a@%s.example" % d, "sent")
        assert o[4].endswith("/unverified"), o
        w.wait_log(r"mta-sts: %s\.example: cannot fetch the policy \(id 1\): .*%s" % (d, why))
    assert web.fetches("sts.example") == [], "a redirect was followed"


def test_verify_policy_without_sts(tls_world):
    """tls-policy verify: a CA-signed certificate is required; a self-signed
    one defers, with no plain-text retry."""
    w = tls_world
    w.sender_mx()
    mx = w.tls_mx("127.0.0.60", "mx.verify.example",
                  cert=w.pki.ca.leaf("mx.verify.example", self_signed=True))
    w.start(records=mx_records("verify.example", (10, "mx.verify.example", "127.0.0.60")),
            start_relay=False)
    w.relay.extra_lines.append("tls-policy verify.example verify")
    w.relay.write_config()
    w.relay.start()
    qid = w.submit("a@verify.example", subject=SUBJECT)
    assert_deferred_unsent(w, qid, "a@verify.example", mx,
                           r"TLS policy: cannot verify the certificate")


def test_encrypt_and_none_policies(tls_world):
    """encrypt: TLS required, any certificate; none: no STARTTLS at all."""
    w = tls_world
    w.sender_mx()
    enc = w.tls_mx("127.0.0.60", "mx.enc.example",
                   cert=w.pki.ca.leaf("mx.enc.example", self_signed=True))
    plain = w.tls_mx("127.0.0.61", "mx.plain.example")
    w.start(records=mx_records("enc.example", (10, "mx.enc.example", "127.0.0.60")) +
            mx_records("plain.example", (10, "mx.plain.example", "127.0.0.61")),
            start_relay=False)
    w.relay.extra_lines += ["tls-policy enc.example encrypt", "tls-policy plain.example none"]
    w.relay.write_config()
    w.relay.start()
    q1 = w.submit("a@enc.example")
    assert w.wait_outcome(q1, "a@enc.example", "sent")[4].endswith("/unverified")
    assert enc.wait_messages(1)[0].tls
    q2 = w.submit("a@plain.example")
    assert w.wait_outcome(q2, "a@plain.example", "sent")[4] == "none"
    assert not plain.wait_messages(1)[0].tls


def test_handshake_failure_no_plain_retry_under_sts(tls_world):
    """With an MTA-STS policy (even in testing mode) a failed handshake is
    not retried in plain text; under plain "may" it is (test_delivery)."""
    w = tls_world
    w.sender_mx()
    w.web_server().policy("testing.example", policy_text("testing", "mx.testing.example"))

    def script(conn, n):
        def broken_tls(c):
            c.send(b"220 2.0.0 Ready to start TLS\r\n")
            c.sock.settimeout(3)
            c.sock.recv(4096)
            c.send(b"this is not TLS\r\n")
        simple_smtp(conn, raw, ehlo=("PIPELINING", "STARTTLS"), on_starttls=broken_tls)
    raw = w.raw_mx("127.0.0.67", script)
    w.start(records=sts_records("testing.example", (10, "mx.testing.example", "127.0.0.67")))
    qid = w.submit("a@testing.example", subject=SUBJECT)
    assert_deferred_unsent(w, qid, "a@testing.example", raw, r"TLS handshake with .* failed")


def test_reload_applies_new_tls_policy_keeps_ca_file(tls_world):
    """A reload takes new tls-policy lines at once; tls-ca-file needs a restart."""
    w = tls_world
    w.sender_mx()
    mx = w.tls_mx("127.0.0.60", "mx.reload.example",
                  cert=w.pki.ca.leaf("mx.reload.example", self_signed=True))
    w.start(records=mx_records("reload.example", (10, "mx.reload.example", "127.0.0.60")))
    q1 = w.submit("a@reload.example")
    assert w.wait_outcome(q1, "a@reload.example", "sent")[4].endswith("/unverified")
    w.relay.extra_lines.append("tls-policy reload.example verify")
    w.relay.configure(tls_ca_file="/etc/ssl/certs/ca-certificates.crt")
    w.relay.cli("reload")
    w.wait_log(r"reload: tls-ca-file changed from .* that takes a restart")
    time.sleep(2.5)     # the idle connection from before the reload is not reused anyway
    q2 = w.submit("b@reload.example", subject=SUBJECT)
    o = w.wait_outcome(q2, "b@reload.example", "deferred", timeout=15)
    assert re.search(r"TLS policy: cannot verify the certificate", o[7]), o
    time.sleep(0.5)
    assert len(mx.messages) == 1 and len(mx.mails) == 1, mx.mails   # only the first
