"""TLS-RPT (RFC 8460) and DKIM-signed relay mail (issue 11).

A day of mixed results for rpt.example (MTA-STS testing mode): a verified
session, a self-signed certificate, an MX without STARTTLS. The counters
are then moved to yesterday in the database (instead of waiting a day) and
the relay restarted: its report run at start mails the gzip'd JSON report
to the rua mailbox through the queue and POSTs it to the https: rua. The
report is checked against RFC 8460's fields, and its DKIM signature (and a
DSN's) with dkimpy.
"""
import base64
import datetime
import email
import email.policy
import gzip
import ipaddress
import json
import os
import re
import sqlite3
import time

import pytest

from helpers import wait_for
from mx import SENDER, mx_records, simple_smtp  # noqa: F401
from testdns import parse_zone_txt
from tlsworld import WEB_ADDR, pki, policy_text, sts_records, tls_world  # noqa: F401

dkim = pytest.importorskip("dkim", reason="python3-dkim (dkimpy) is not installed")

HOSTNAME = "relay.hikyaku.example"
RESULT_TYPES = {"starttls-not-supported", "certificate-host-mismatch", "certificate-expired",
                "certificate-not-trusted", "validation-failure", "tlsa-invalid",
                "dnssec-invalid", "dane-required", "sts-policy-fetch-error",
                "sts-policy-invalid", "sts-webpki-invalid"}
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def dkim_ok(msg, dns):
    def dnsfunc(name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode()
        return dns.txt_bytes(name.rstrip("."))
    return bool(dkim.verify(msg, dnsfunc=dnsfunc))


def publish_key(w, domain):
    out = w.relay.cli("dkim", "keygen", domain).stdout
    name, strings = parse_zone_txt(out)
    w.dns.add_records([(name.rstrip("."), "TXT", strings)])


def check_rfc8460(rep, domain):
    """The report's fields and types per RFC 8460 section 4.4."""
    for k, t in (("organization-name", str), ("contact-info", str), ("report-id", str),
                 ("date-range", dict), ("policies", list)):
        assert isinstance(rep.get(k), t), (k, rep)
    assert ISO.match(rep["date-range"]["start-datetime"]), rep["date-range"]
    assert ISO.match(rep["date-range"]["end-datetime"]), rep["date-range"]
    for p in rep["policies"]:
        pol = p["policy"]
        assert pol["policy-type"] in ("sts", "tlsa", "no-policy-found"), pol
        assert isinstance(pol["policy-string"], list) and all(
            isinstance(s, str) for s in pol["policy-string"]), pol
        assert pol["policy-domain"] == domain, pol
        if "mx-host" in pol:
            assert all(isinstance(s, str) for s in pol["mx-host"]), pol
        s = p["summary"]
        assert isinstance(s["total-successful-session-count"], int)
        assert isinstance(s["total-failure-session-count"], int)
        fails = p.get("failure-details", [])
        for f in fails:
            assert f["result-type"] in RESULT_TYPES, f
            ipaddress.ip_address(f["sending-mta-ip"])
            ipaddress.ip_address(f["receiving-ip"])
            assert isinstance(f["receiving-mx-hostname"], str), f
            assert isinstance(f["failed-session-count"], int) and f["failed-session-count"] > 0
        assert sum(f["failed-session-count"] for f in fails) == s["total-failure-session-count"]


def swap_mx(w, old, new_factory):
    old.stop()
    time.sleep(2.5)     # the relay's idle connection (2 s) is gone
    return new_factory()


def test_tlsrpt_report_for_a_day_of_mixed_results(tls_world):
    w = tls_world
    w.sender_mx()
    web = w.web_server()
    web.policy("rpt.example", policy_text("testing", "mx.rpt.example"))
    reports = w.mx("127.0.0.71", name="mx.reports.example")
    w.start(start_relay=False, hostname=HOSTNAME,
            records=sts_records("rpt.example", (10, "mx.rpt.example", "127.0.0.70")) +
            mx_records("reports.example", (10, "mx.reports.example", "127.0.0.71")) +
            [("reports.example", "A", WEB_ADDR),
             ("_smtp._tls.rpt.example", "TXT",
              "v=TLSRPTv1; rua=mailto:tlsrpt@reports.example,https://reports.example/tlsrpt")])
    publish_key(w, "hikyaku.example")
    w.relay.start()

    good = w.tls_mx("127.0.0.70", "mx.rpt.example")
    q1 = w.submit("a@rpt.example")
    assert w.wait_outcome(q1, "a@rpt.example", "sent")[4].endswith("/verified")
    selfsigned = swap_mx(w, good, lambda: w.tls_mx(
        "127.0.0.70", "mx.rpt.example", cert=w.pki.ca.leaf("mx.rpt.example", self_signed=True)))
    q2 = w.submit("b@rpt.example")
    assert w.wait_outcome(q2, "b@rpt.example", "sent")[4].endswith("/unverified")
    raw = swap_mx(w, selfsigned, lambda: w.raw_mx("127.0.0.70",
                                                  lambda conn, n: simple_smtp(conn, raw)))
    q3 = w.submit("c@rpt.example")
    assert w.wait_outcome(q3, "c@rpt.example", "sent")[4] == "none"

    def today_counts():
        out = w.relay.cli("tls", "report", "rpt.example").stdout
        ok = all(re.search(p, out) for p in (
            r"rpt\.example\s+sts\s+success\s+1\b",
            r"rpt\.example\s+sts\s+certificate-not-trusted\s+1\s+mx\.rpt\.example\[127\.0\.0\.70\]",
            r"rpt\.example\s+sts\s+starttls-not-supported\s+1\s+mx\.rpt\.example"))
        return out if ok else None
    assert wait_for(today_counts, 5), w.relay.cli("tls", "report").stdout

    # a day later: move the counters to yesterday, restart, the report goes out
    w.relay.stop()
    db = sqlite3.connect(os.path.join(w.relay.spool, "hikyaku.db"))
    db.execute("UPDATE tlsrpt_counts SET day = date(day, '-1 day')")
    db.commit()
    db.close()
    yesterday = (datetime.datetime.utcnow() - datetime.timedelta(days=1)).strftime("%Y-%m-%d")
    w.relay.start()
    got = reports.wait_messages(1, timeout=20)
    assert len(got) == 1, w.log()[-3000:]
    m = got[0]
    assert m.rcpt_tos == ["tlsrpt@reports.example"] and m.mail_from == "", m
    msg = m.parsed()
    assert msg["TLS-Report-Domain"] == "rpt.example"
    assert msg["TLS-Report-Submitter"] == HOSTNAME
    assert msg.get_content_type() == "multipart/report"
    assert msg.get_param("report-type") == "tlsrpt"
    att = [p for p in msg.iter_parts() if p.get_content_type() == "application/tlsrpt+gzip"]
    assert len(att) == 1, [p.get_content_type() for p in msg.iter_parts()]
    assert re.fullmatch(r"%s!rpt\.example!\d+!\d+\.json\.gz" % re.escape(HOSTNAME),
                        att[0].get_filename()), att[0].get_filename()
    rep = json.loads(gzip.decompress(att[0].get_payload(decode=True)))
    check_rfc8460(rep, "rpt.example")
    assert rep["organization-name"] == HOSTNAME
    assert rep["date-range"]["start-datetime"] == yesterday + "T00:00:00Z"
    assert rep["date-range"]["end-datetime"] == yesterday + "T23:59:59Z"
    assert len(rep["policies"]) == 1, rep
    p = rep["policies"][0]
    assert p["policy"]["policy-type"] == "sts"
    assert "mode: testing" in p["policy"]["policy-string"], p
    assert p["policy"]["mx-host"] == ["mx.rpt.example"]
    assert p["summary"] == {"total-successful-session-count": 1,
                            "total-failure-session-count": 2}, p
    types = sorted(f["result-type"] for f in p["failure-details"])
    assert types == ["certificate-not-trusted", "starttls-not-supported"], p
    for f in p["failure-details"]:
        assert f["receiving-mx-hostname"] == "mx.rpt.example"
        assert f["receiving-ip"] == "127.0.0.70"
    assert dkim_ok(m.content, w.dns), m.content[:2000]
    w.wait_log(r"tlsrpt: report for rpt\.example \(%s\) to <tlsrpt@reports\.example>,"
               r" dkim=signed" % yesterday)
    # the https: rua got the same report
    posts = web.wait_posts(1)
    assert len(posts) == 1, web.requests
    host, path, ctype, body = posts[0]
    assert (host, path, ctype) == ("reports.example", "/tlsrpt", "application/tlsrpt+gzip")
    assert json.loads(gzip.decompress(body))["policies"] == rep["policies"]
    # and the counters are gone
    out = w.relay.cli("tls", "report").stdout
    assert "wait to be sent" not in out, out


def test_domain_without_tlsrpt_record_counters_dropped(tls_world):
    w = tls_world
    w.sender_mx()
    w.tls_mx("127.0.0.72", "mx.norpt.example")
    w.start(records=mx_records("norpt.example", (10, "mx.norpt.example", "127.0.0.72")))
    q = w.submit("a@norpt.example")
    w.wait_outcome(q, "a@norpt.example", "sent")
    assert wait_for(lambda: "norpt.example" in w.relay.cli("tls", "report").stdout, 5)
    w.relay.stop()
    db = sqlite3.connect(os.path.join(w.relay.spool, "hikyaku.db"))
    db.execute("UPDATE tlsrpt_counts SET day = date(day, '-1 day')")
    db.commit()
    db.close()
    w.relay.start()
    assert wait_for(lambda: "wait to be sent" not in w.relay.cli("tls", "report").stdout, 10)


def test_dsn_is_dkim_signed(tls_world):
    w = tls_world
    smx = w.sender_mx()
    rej = w.mx("127.0.0.73", name="mx.reject.example")
    rej.rcpt_replies["*"] = ["550 5.1.1 no such user"]
    w.start(start_relay=False, hostname=HOSTNAME,
            records=mx_records("reject.example", (10, "mx.reject.example", "127.0.0.73")))
    publish_key(w, "hikyaku.example")
    w.relay.start()
    qid = w.submit("nobody@reject.example")
    w.wait_outcome(qid, "nobody@reject.example", "bounced")
    dsn = w.wait_dsn(1, mx=smx)[0]
    assert b"DKIM-Signature:" in dsn.content
    assert dkim_ok(dsn.content, w.dns), dsn.content[:1500]
    w.wait_log(r"%s: sender non-delivery notification: \w+, dkim=signed d=hikyaku\.example" % qid)
