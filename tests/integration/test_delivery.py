"""Delivery (issue 3): end to end, MX preference and fallback, DNS outcomes,
retries, bounces and DSNs, delay warnings, STARTTLS, SIZE, SMTPUTF8, 8BITMIME.

Every test has its own unbound (testdns.TestDNS) that hikyaku uses as its
`resolver`, and its MXes on 127.0.0.x:25 (see mx.py). Domain names avoid
.test/.invalid/.localhost: libunbound answers those itself (RFC 6761 default
local zones) without asking the resolver.
"""
import email
import email.policy
import os
import re
import subprocess
import time

import pytest

from harness import ALICE
from helpers import make_message, wait_for
from mx import SENDER, delivery_status, mx_records, simple_smtp, world  # noqa: F401

CRLF = "\r\n"


def header_names(block):
    """Field names of an RFC 5322 header block (bytes), unfolded."""
    names = []
    for line in block.split(b"\r\n"):
        if not line or line[:1] in (b" ", b"\t"):
            continue
        names.append(line.split(b":", 1)[0].decode().lower())
    return names


def assert_unchanged_but_added_headers(original, received):
    """received == some added header fields + original, byte for byte."""
    assert received.endswith(original), (
        "message changed in transit:\n--- submitted ---\n%r\n--- received ---\n%r"
        % (original, received))
    added = received[:len(received) - len(original)]
    assert added.endswith(b"\r\n"), added
    names = header_names(added)
    assert "received" in names, added
    assert set(names) <= {"received", "dkim-signature"}, "unexpected added headers: %r" % names
    return added


# ---------------------------------------------------------------------------
# end to end
# ---------------------------------------------------------------------------

def test_delivered_end_to_end_swaks_three_domains(world):
    world.sender_mx()
    one = world.mx("127.0.0.10", name="mx.one.example")
    two = world.mx("127.0.0.11", name="mx.two.example")
    three = world.mx("127.0.0.12", name="mx.three.example")
    world.start(records=mx_records("one.example", (10, "mx.one.example", "127.0.0.10")) +
                mx_records("two.example", (10, "mx.two.example", "127.0.0.11")) +
                mx_records("three.example", (10, "mx.three.example", "127.0.0.12")))
    relay = world.relay
    body = ("Plain line\r\n"
            ".a line with a leading dot\r\n"
            "..two dots\r\n"
            ".\r\n"
            "trailing spaces   \r\n"
            "\ttab-indented\r\n"
            "\r\n"
            "last line " + "x" * 900 + "\r\n")
    original = ("From: Alice <alice@example.jp>\r\n"
                "To: r1@one.example, r2@two.example, r3@two.example, r4@three.example\r\n"
                "Subject: end to end\r\n"
                "Date: Thu, 27 Nov 2025 12:00:00 +0900\r\n"
                "Message-ID: <e2e.1@client.example>\r\n"
                "X-Folded: first part\r\n"
                "\tsecond part\r\n"
                "\r\n" + body).encode()
    datafile = world.tmp / "msg.eml"
    # swaks ends DATA with CRLF "." CRLF after the data: leave the last CRLF to it
    datafile.write_bytes(original[:-2])
    p = subprocess.run(["swaks", "--server", relay.host, "--port", str(relay.starttls_port),
                        "--tls", "--auth", "PLAIN", "--auth-user", ALICE[0],
                        "--auth-password", ALICE[1], "--ehlo", "client.example",
                        "--from", SENDER,
                        "--to", "r1@one.example,r2@two.example,r3@two.example,r4@three.example",
                        "--data", "@" + str(datafile), "--timeout", "20"],
                       capture_output=True, text=True, timeout=40)
    assert p.returncode == 0, p.stdout + p.stderr
    qid = re.search(r"queued as ([0-9A-Z]+)", p.stdout).group(1)

    for mx, rcpts in ((one, ["r1@one.example"]), (two, ["r2@two.example", "r3@two.example"]),
                      (three, ["r4@three.example"])):
        got = mx.wait_messages(1, timeout=10)
        assert len(got) == 1, (mx.name, got, world.log()[-3000:])
        m = got[0]
        assert sorted(m.rcpt_tos) == rcpts, m
        assert m.mail_from == SENDER
        assert m.helo == "relay.test"
        assert_unchanged_but_added_headers(original, m.content)
        for r in rcpts:
            o = world.wait_outcome(qid, r, "sent")
            assert o[2] == "%s[%s]:25" % (mx.name, mx.addr), o
            assert o[5] == "2.0.0", o
    world.wait_log(r"%s: removed" % qid)
    world.wait_gone(qid)
    # one transaction per domain, and nothing else arrives later
    time.sleep(0.5)
    assert [len(x.messages) for x in (one, two, three)] == [1, 1, 1]
    assert [len(x.mails) for x in (one, two, three)] == [1, 1, 1]
    assert world.dsns() == []


def test_connection_reused_for_next_message(world):
    world.sender_mx()
    mx = world.mx("127.0.0.10", name="mx.reuse.example")
    world.start(records=mx_records("reuse.example", (10, "mx.reuse.example", "127.0.0.10")))
    q1 = world.submit("a@reuse.example")
    world.wait_outcome(q1, "a@reuse.example", "sent")
    q2 = world.submit("b@reuse.example")     # within the 2 s idle time
    world.wait_outcome(q2, "b@reuse.example", "sent")
    assert len(mx.wait_messages(2)) == 2
    assert mx.connections == 1, "expected the idle connection to be reused, got %d connections" % mx.connections


# ---------------------------------------------------------------------------
# MX preference and fallback
# ---------------------------------------------------------------------------

def test_preferred_mx_refuses_next_one_gets_it(world):
    world.sender_mx()
    backup = world.mx("127.0.0.12", name="mx2.pref.example")
    # 127.0.0.11 (preference 10): nothing listens -> connection refused
    world.start(records=mx_records("pref.example", (20, "mx2.pref.example", "127.0.0.12"),
                                   (10, "mx1.pref.example", "127.0.0.11")))
    qid = world.submit("bob@pref.example")
    o = world.wait_outcome(qid, "bob@pref.example", "sent")
    assert o[2] == "mx2.pref.example[127.0.0.12]:25", o
    assert len(backup.wait_messages(1)) == 1
    # and the preferred one was tried first
    log = world.log()
    assert re.search(r"%s: .*mx1\.pref\.example\[127\.0\.0\.11\]:25" % qid, log), log[-3000:]
    assert log.index("mx1.pref.example[127.0.0.11]") < log.index("mx2.pref.example[127.0.0.12]")


def test_mx_preference_is_honoured(world):
    """Both MXes up: every domain's mail goes to the lower preference value,
    whatever order DNS lists them in."""
    world.sender_mx()
    primary = world.mx("127.0.0.13", name="mx1.order.example")
    secondary = world.mx("127.0.0.14", name="mx2.order.example")
    recs = [("mx1.order.example", "A", "127.0.0.13"), ("mx2.order.example", "A", "127.0.0.14")]
    domains = ["d%d.order.example" % i for i in range(6)]
    for d in domains:
        recs += [(d, "MX", "50 mx2.order.example."), (d, "MX", "5 mx1.order.example.")]
    world.start(records=recs)
    qid = world.submit(["x@" + d for d in domains])
    for d in domains:
        world.wait_outcome(qid, "x@" + d, "sent")
    assert sorted(primary.recipients()) == sorted("x@" + d for d in domains)
    assert secondary.messages == []


def test_equal_preference_either_and_fallback(world):
    world.sender_mx()
    a = world.mx("127.0.0.15", name="mxa.eq.example")
    b = world.mx("127.0.0.16", name="mxb.eq.example")
    recs = [("mxa.eq.example", "A", "127.0.0.15"), ("mxb.eq.example", "A", "127.0.0.16"),
            ("mxdown.eq.example", "A", "127.0.0.17")]
    domains = ["e%d.eq.example" % i for i in range(16)]
    for d in domains:
        recs += [(d, "MX", "10 mxa.eq.example."), (d, "MX", "10 mxb.eq.example.")]
    # equal preference, one of them down: always the other one
    recs += [("down.eq.example", "MX", "10 mxdown.eq.example."),
             ("down.eq.example", "MX", "10 mxb.eq.example.")]
    world.start(records=recs)
    qid = world.submit(["y@" + d for d in domains] + ["z@down.eq.example"])
    for d in domains:
        world.wait_outcome(qid, "y@" + d, "sent")
    o = world.wait_outcome(qid, "z@down.eq.example", "sent")
    assert o[2] == "mxb.eq.example[127.0.0.16]:25", o
    got = sorted(a.recipients() + b.recipients())
    assert got == sorted(["y@" + d for d in domains] + ["z@down.eq.example"])
    # random among equals: 16 domains all on one MX has probability 2^-15
    assert a.recipients() and [r for r in b.recipients() if r.startswith("y@")], (
        "equal-preference MXes not shuffled: a=%r b=%r" % (a.recipients(), b.recipients()))


def test_second_address_of_mx_when_first_refuses(world):
    world.sender_mx()
    mx = world.mx("127.0.0.19", name="mx.multi.example")
    world.start(records=[("multi.example", "MX", "10 mx.multi.example."),
                         ("mx.multi.example", "A", "127.0.0.18"),
                         ("mx.multi.example", "A", "127.0.0.19")])
    qid = world.submit("c@multi.example")
    o = world.wait_outcome(qid, "c@multi.example", "sent")
    assert o[2] == "mx.multi.example[127.0.0.19]:25", o
    assert len(mx.wait_messages(1)) == 1


# ---------------------------------------------------------------------------
# DNS outcomes
# ---------------------------------------------------------------------------

def test_implicit_mx(world):
    world.sender_mx()
    mx = world.mx("127.0.0.20", name="implicit.example")
    world.start(records=[("implicit.example", "A", "127.0.0.20")])
    qid = world.submit("d@implicit.example")
    o = world.wait_outcome(qid, "d@implicit.example", "sent")
    assert o[2] == "implicit.example[127.0.0.20]:25", o
    assert mx.wait_messages(1)[0].rcpt_tos == ["d@implicit.example"]


def check_dsn(dsn, rcpt, status_re, action="failed", remote_mta=None, orig_subject=None):
    """The DSN (a Received at the sender MX) for rcpt; returns the recipient block."""
    assert dsn.mail_from == "", dsn
    assert dsn.rcpt_tos == [SENDER], dsn
    msg = dsn.parsed()
    assert "MAILER-DAEMON@relay.test" in str(msg["From"]), msg["From"]
    per_msg, per_rcpt, parts = delivery_status(msg)
    assert per_msg["Reporting-MTA"] and "relay.test" in per_msg["Reporting-MTA"], per_msg.items()
    assert per_msg["Arrival-Date"], per_msg.items()
    blocks = [b for b in per_rcpt if b["Final-Recipient"] and
              b["Final-Recipient"].split(";", 1)[1].strip().lower() == rcpt.lower()]
    assert len(blocks) == 1, [b.items() for b in per_rcpt]
    b = blocks[0]
    assert b["Final-Recipient"].split(";")[0].strip().lower() == "rfc822"
    assert b["Action"] == action, b.items()
    assert re.fullmatch(status_re, b["Status"]), b.items()
    assert b["Diagnostic-Code"], b.items()
    assert b["Last-Attempt-Date"], b.items()
    if remote_mta is not None:
        assert b["Remote-MTA"] and remote_mta in b["Remote-MTA"], b.items()
    assert parts[2].get_content_type() == "text/rfc822-headers", [p.get_content_type() for p in parts]
    if orig_subject is not None:
        assert orig_subject in parts[2].get_payload(decode=True).decode("utf-8", "replace")
    return b


def test_null_mx_bounces_at_once(world):
    world.sender_mx()
    world.start(records=[("nullmx.example", "MX", "0 .")])
    t0 = time.monotonic()
    qid = world.submit("e@nullmx.example", subject="null mx")
    o = world.wait_outcome(qid, "e@nullmx.example", "bounced", timeout=5)
    assert o[5] == "5.1.10", o
    assert time.monotonic() - t0 < 4
    dsn = world.wait_dsn(1)[0]
    check_dsn(dsn, "e@nullmx.example", r"5\.1\.10", orig_subject="null mx")
    world.wait_gone(qid)


def test_nxdomain_bounces(world):
    world.sender_mx()
    world.start()
    qid = world.submit("f@nonexistent.example", subject="nxdomain")
    o = world.wait_outcome(qid, "f@nonexistent.example", "bounced", timeout=5)
    assert o[5] == "5.1.2", o
    check_dsn(world.wait_dsn(1)[0], "f@nonexistent.example", r"5\.1\.2", orig_subject="nxdomain")
    world.wait_gone(qid)


def test_servfail_defers(world):
    world.sender_mx()
    world.servfail_zones = ["broken.example"]
    world.start(dns_timeout="1s")
    qid = world.submit("g@broken.example")
    o = world.wait_outcome(qid, "g@broken.example", "deferred", timeout=10)
    assert o[5] == "4.4.3", o
    r = world.wait_state(qid, "g@broken.example", "deferred")
    assert r["dsn"] == "4.4.3", r
    assert world.dsns() == []
    assert qid in world.relay.queue_ids()
    assert not [x for x in world.outcomes(qid) if x[6] != "deferred"], world.outcomes(qid)


def test_dns_timeout_defers_then_delivers(world):
    world.sender_mx()
    mx = world.mx("127.0.0.21", name="mx.later.example")
    world.start(records=mx_records("later.example", (10, "mx.later.example", "127.0.0.21")),
                dns_timeout="1s")
    world.dns.stop()           # no DNS server at all: queries time out
    qid = world.submit("h@later.example")
    o = world.wait_outcome(qid, "h@later.example", "deferred", timeout=10)
    assert o[5] == "4.4.3", o
    assert qid in world.relay.queue_ids()
    # the DSN to the sender cannot be looked up either, but there is none: deferral only
    world.dns.start()
    o = world.wait_outcome(qid, "h@later.example", "sent", timeout=20)
    assert len(mx.wait_messages(1)) == 1
    world.wait_gone(qid)


# ---------------------------------------------------------------------------
# replies: 4xx then 2xx, 5xx and DSNs
# ---------------------------------------------------------------------------

def test_4xx_then_250_delivered_exactly_once(world):
    world.sender_mx()
    mx = world.mx("127.0.0.22", name="mx.retry.example")
    mx.rcpt_replies["later@retry.example"] = ["450 4.2.0 Mailbox busy, try later", "250 2.1.5 OK"]
    world.start(records=mx_records("retry.example", (10, "mx.retry.example", "127.0.0.22")))
    qid = world.submit(["now@retry.example", "later@retry.example"])
    o = world.wait_outcome(qid, "later@retry.example", "deferred")
    assert o[5] == "4.2.0", o
    assert "450 4.2.0 Mailbox busy" in o[7], o
    o = world.wait_outcome(qid, "now@retry.example", "sent")
    r = world.queue_rcpts(qid)
    if r is not None and r.get("later@retry.example", {}).get("state") == "deferred":
        assert r["now@retry.example"]["state"] == "sent", r
        assert r["later@retry.example"]["last_reply"], r
    world.wait_outcome(qid, "later@retry.example", "sent", timeout=15)
    world.wait_gone(qid)
    time.sleep(1.0)            # nothing arrives later: no duplicate
    assert sorted(mx.recipients()) == ["later@retry.example", "now@retry.example"], mx.messages
    assert len(mx.messages) == 2
    assert [x[0] for x in mx.rcpts].count("now@retry.example") == 1, mx.rcpts
    assert world.dsns() == []


def test_5xx_at_rcpt_dsn_to_sender(world):
    world.sender_mx()
    mx = world.mx("127.0.0.23", name="mx.reject.example")
    mx.rcpt_replies["nobody@reject.example"] = ["550 5.1.1 <nobody@reject.example>: no such user"]
    world.start(records=mx_records("reject.example", (10, "mx.reject.example", "127.0.0.23")))
    qid = world.submit(["nobody@reject.example", "somebody@reject.example"], subject="five-xx")
    o = world.wait_outcome(qid, "nobody@reject.example", "bounced")
    assert o[5] == "5.1.1", o
    world.wait_outcome(qid, "somebody@reject.example", "sent")
    world.wait_log(r"%s: sender non-delivery notification: [0-9A-Z]+" % qid)
    dsn = world.wait_dsn(1)[0]
    b = check_dsn(dsn, "nobody@reject.example", r"5\.1\.1", remote_mta="mx.reject.example",
                  orig_subject="five-xx")
    assert "550" in b["Diagnostic-Code"] and "no such user" in b["Diagnostic-Code"], b.items()
    # only the failed recipient is reported
    _, per_rcpt, _ = delivery_status(dsn.parsed())
    assert len(per_rcpt) == 1, [x.items() for x in per_rcpt]
    assert mx.recipients() == ["somebody@reject.example"]
    world.wait_gone(qid)
    time.sleep(0.5)
    assert len(world.dsns()) == 1


def test_5xx_at_data_bounces_every_accepted_recipient(world):
    world.sender_mx()
    mx = world.mx("127.0.0.24", name="mx.dataerr.example",
                  data_reply="554 5.6.0 content rejected")
    world.start(records=mx_records("dataerr.example", (10, "mx.dataerr.example", "127.0.0.24")))
    qid = world.submit(["a@dataerr.example", "b@dataerr.example"])
    for r in ("a@dataerr.example", "b@dataerr.example"):
        o = world.wait_outcome(qid, r, "bounced")
        assert o[5] == "5.6.0", o
    dsn = world.wait_dsn(1)[0]
    for r in ("a@dataerr.example", "b@dataerr.example"):
        check_dsn(dsn, r, r"5\.6\.0")
    world.wait_gone(qid)


def test_bounce_of_a_bounce_goes_nowhere(world):
    """The sender's MX rejects the DSN: the DSN is bounced, and no DSN is
    made for it (never a bounce to <>, no loop)."""
    smx = world.sender_mx()
    smx.rcpt_replies[SENDER] = ["550 5.1.1 not here"]
    mx = world.mx("127.0.0.25", name="mx.loop.example")
    mx.rcpt_replies["*"] = ["550 5.1.1 unknown"]
    world.start(records=mx_records("loop.example", (10, "mx.loop.example", "127.0.0.25")))
    qid = world.submit("x@loop.example")
    world.wait_outcome(qid, "x@loop.example", "bounced")
    m = world.wait_log(r"%s: sender non-delivery notification: ([0-9A-Z]+)" % qid)
    dsn_id = m.group(1)
    world.wait_outcome(dsn_id, SENDER, "bounced")
    world.wait_gone(dsn_id)
    time.sleep(1)
    log = world.log()
    assert not re.search(r"%s: sender (non-delivery|delay) notification" % dsn_id, log), log[-3000:]
    assert world.relay.queue_ids() == []
    # exactly one attempt at the sender MX, from <>
    assert [r for r, _ in smx.rcpts] == [SENDER], smx.rcpts
    assert smx.mails[0][0] == "", smx.mails


def test_queue_lifetime_expiry_dsn(world):
    world.sender_mx()
    # 127.0.0.26: nothing listens
    world.start(records=mx_records("expire.example", (10, "mx.expire.example", "127.0.0.26")),
                queue_lifetime="2s")
    qid = world.submit("x@expire.example", subject="expiring")
    o = world.wait_outcome(qid, "x@expire.example", "deferred")
    o = world.wait_outcome(qid, "x@expire.example", "bounced", timeout=15)
    assert o[5] == "4.4.7", o
    dsn = world.wait_dsn(1)[0]
    check_dsn(dsn, "x@expire.example", r"4\.4\.7", orig_subject="expiring")
    world.wait_gone(qid)


def test_delay_warning_once(world):
    world.sender_mx()
    world.start(records=mx_records("slow.example", (10, "mx.slow.example", "127.0.0.27")),
                delay_warning="1s")
    qid = world.submit("x@slow.example", subject="delayed")
    m = world.wait_log(r"%s: sender delay notification: ([0-9A-Z]+)" % qid, timeout=15)
    dsn = world.wait_dsn(1)[0]
    check_dsn(dsn, "x@slow.example", r"4\.\d{1,3}\.\d{1,3}", action="delayed", orig_subject="delayed")
    # a few more retries: still one warning, still queued
    n = len(world.outcomes(qid))
    wait_for(lambda: len(world.outcomes(qid)) >= n + 1, 10, interval=0.1)
    assert len(world.outcomes(qid)) >= n + 1, world.outcomes(qid)
    assert len(re.findall(r"%s: sender delay notification" % qid, world.log())) == 1
    assert len(world.dsns()) == 1
    assert world.queue_rcpts(qid)["x@slow.example"]["state"] == "deferred"
    # the MX comes up: delivered, no failure DSN
    mx = world.mx("127.0.0.27", name="mx.slow.example")
    world.wait_outcome(qid, "x@slow.example", "sent", timeout=10)
    assert len(mx.wait_messages(1)) == 1
    world.wait_gone(qid)
    time.sleep(0.5)
    assert len(world.dsns()) == 1


# ---------------------------------------------------------------------------
# STARTTLS
# ---------------------------------------------------------------------------

def test_starttls_self_signed_delivered_unverified(world):
    world.sender_mx()
    mx = world.mx("127.0.0.28", name="mx.tls.example", tls_context=world.tls_context("mx.tls.example"))
    world.start(records=mx_records("tls.example", (10, "mx.tls.example", "127.0.0.28")))
    qid = world.submit("t@tls.example")
    o = world.wait_outcome(qid, "t@tls.example", "sent")
    assert re.fullmatch(r"TLSv1\.[23]/unverified", o[4]), o
    world.wait_log(r"TLS connection established to mx\.tls\.example\[127\.0\.0\.28\]:25: "
                   r"TLSv1\.[23] with cipher \S+, certificate not verified")
    m = mx.wait_messages(1)[0]
    assert m.tls, "the MX received the message without TLS"


def test_tls_handshake_failure_falls_back_to_plain(world):
    world.sender_mx()

    def script(conn, n):
        def broken_tls(c):
            c.send(b"220 2.0.0 Ready to start TLS\r\n")
            c.sock.settimeout(3)
            c.sock.recv(4096)      # the ClientHello
            c.send(b"this is not TLS at all\r\n\x00\x01\x02")
        simple_smtp(conn, raw, ehlo=("PIPELINING", "STARTTLS", "8BITMIME"), on_starttls=broken_tls)
    raw = world.raw_mx("127.0.0.29", script)
    world.start(records=mx_records("badtls.example", (10, "mx.badtls.example", "127.0.0.29")))
    qid = world.submit("u@badtls.example")
    o = world.wait_outcome(qid, "u@badtls.example", "sent")
    assert o[4] == "none", o
    assert len(raw.wait_messages(1)) == 1
    assert len(raw.conns) == 2, "expected a TLS attempt and a plain retry, got %d connections" % len(raw.conns)
    assert not [c for c in raw.commands[raw.commands.index(b"STARTTLS") + 1:] if c == b"STARTTLS"], raw.commands


# ---------------------------------------------------------------------------
# SIZE, SMTPUTF8, 8BITMIME
# ---------------------------------------------------------------------------

def test_size_limit_bounces_5_3_4(world):
    world.sender_mx()
    mx = world.mx("127.0.0.30", name="mx.small.example", size_limit=1000)
    world.start(records=mx_records("small.example", (10, "mx.small.example", "127.0.0.30")))
    big = world.submit("big@small.example", body=("z" * 70 + "\r\n") * 40,
                       subject="too big")
    o = world.wait_outcome(big, "big@small.example", "bounced")
    assert o[5] == "5.3.4", o
    check_dsn(world.wait_dsn(1)[0], "big@small.example", r"5\.3\.4", orig_subject="too big")
    assert mx.mails == [], "MAIL was sent for a message over the advertised SIZE: %r" % mx.mails
    small = world.submit("ok@small.example", body="short\r\n")
    world.wait_outcome(small, "ok@small.example", "sent")
    m = mx.wait_messages(1)[0]
    assert [o for o in m.mail_options if o.upper().startswith("SIZE=")], m.mail_options


def submit_raw(world, sender, rcpts, message, mail_params=""):
    c = world.relay.session(ALICE)
    try:
        m = c.mail(sender, mail_params)
        assert m.code == 250, m
        for r in rcpts:
            rr = c.rcpt(r)
            assert rr.code == 250, rr
        d = c.data(message)
        assert d.code == 250, d
        return d.queue_id()
    finally:
        c.close()


def test_smtputf8_message_to_server_without_smtputf8(world):
    world.sender_mx()
    plain = world.mx("127.0.0.31", name="mx.ascii.example", smtputf8=False)
    intl = world.mx("127.0.0.32", name="mx.intl.example", smtputf8=True)
    world.start(records=mx_records("ascii.example", (10, "mx.ascii.example", "127.0.0.31")) +
                mx_records("intl.example", (10, "mx.intl.example", "127.0.0.32")))
    msg = make_message(to="Jürgen <jürgen@ascii.example>", subject="grüße",
                       body="Grüße\r\n")
    qid = submit_raw(world, SENDER, ["jürgen@ascii.example", "jürgen@intl.example"], msg,
                     "SMTPUTF8 BODY=8BITMIME")
    o = world.wait_outcome(qid, "jürgen@ascii.example", "bounced")
    assert o[5] == "5.6.7", o
    world.wait_outcome(qid, "jürgen@intl.example", "sent")
    assert plain.mails == []
    m = intl.wait_messages(1)[0]
    assert "SMTPUTF8" in [x.upper() for x in m.mail_options], m.mail_options
    assert m.content.endswith(msg)
    check_dsn(world.wait_dsn(1)[0], "jürgen@ascii.example", r"5\.6\.7")


def test_8bit_body_to_server_without_8bitmime_sent_unchanged(world):
    world.sender_mx()
    mx = world.mx("127.0.0.33", name="mx.old.example", drop_ehlo=["8BITMIME"])
    world.start(records=mx_records("old.example", (10, "mx.old.example", "127.0.0.33")))
    msg = make_message(to="old@old.example", subject="8bit",
                       headers=["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8",
                                "Content-Transfer-Encoding: 8bit"],
                       body="caf\u00e9 \u65e5\u672c\r\n.dot\r\n")
    qid = submit_raw(world, SENDER, ["old@old.example"], msg, "BODY=8BITMIME")
    world.wait_outcome(qid, "old@old.example", "sent")
    m = mx.wait_messages(1)[0]
    assert not [o for o in m.mail_options if "BODY" in o.upper()], m.mail_options
    assert_unchanged_but_added_headers(msg, m.content)


def test_shutdown_while_dns_lookup_pending(world):
    """SIGTERM while a delivery waits for DNS: a prompt, clean exit (the ASan
    build must report no leak; checked at teardown by the world fixture)."""
    world.sender_mx()
    world.start(records=mx_records("pending.example", (10, "mx.pending.example", "127.0.0.34")),
                dns_timeout="20s")
    world.dns.stop()           # lookups now hang until dns-timeout
    qid = world.submit("p@pending.example")
    time.sleep(0.5)
    assert world.outcomes(qid) == []
    t0 = time.monotonic()
    world.relay.stop()
    assert time.monotonic() - t0 < 4, "shutdown waited for the DNS lookup"
    assert world.relay.exit_statuses[-1] == 0, (world.relay.exit_statuses, world.log()[-3000:])
