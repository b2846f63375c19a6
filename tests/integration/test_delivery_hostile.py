"""Delivery (issue 3): hostile and broken remote servers.

A scripted raw-socket MX (mx.RawMX) answers with over-long lines, huge
multi-line replies, inconsistent codes, binary garbage, or nothing at all.
The recipient must be deferred (4xx), the daemon must stay alive and keep
delivering to other domains meanwhile, and with the ASan build the log must
show no sanitizer report (checked by the `world` fixture at teardown).
"""
import re
import time

import pytest

from mx import SENDER, mx_records, simple_smtp, world  # noqa: F401

BAD = "127.0.0.60"
GOOD = "127.0.0.61"


def records():
    return (mx_records("bad.example", (10, "mx.bad.example", BAD)) +
            mx_records("good.example", (10, "mx.good.example", GOOD)))


def after_banner(reply_to_ehlo):
    """A server with a normal banner whose EHLO reply is reply_to_ehlo (bytes),
    then it keeps the connection until the client goes."""
    def script(conn, n):
        conn.send(b"220 bad.example ESMTP\r\n")
        if conn.readline(10) is None:
            return
        conn.send(reply_to_ehlo)
        conn.wait_closed(10)
    return script


def banner(data, then_close=False):
    def script(conn, n):
        conn.send(data)
        if then_close:
            return
        conn.wait_closed(10)
    return script


def at_rcpt(reply):
    def script(conn, n):
        conn.send(b"220 bad.example ESMTP\r\n")
        while True:
            line = conn.readline(10)
            if line is None:
                return
            v = line[:4].upper()
            if v == b"EHLO":
                conn.send(b"250-bad.example\r\n250 8BITMIME\r\n")
            elif v == b"MAIL":
                conn.send(b"250 ok\r\n")
            elif v == b"RCPT":
                conn.send(reply)
            elif v == b"QUIT":
                conn.send(b"221 bye\r\n")
                return
            else:
                conn.send(b"250 ok\r\n")
    return script


GARBAGE = bytes(range(256)) * 8 + b"\r\n\x00\xff\xfe\r\r\n\n\n250 \x00\x01\r\n"

CASES = {
    # an over-long banner line (100 kB) with its CRLF
    "overlong_line": banner(b"220 " + b"x" * 100000 + b"\r\n"),
    # an endless line without CRLF: must not be buffered without bound
    "overlong_no_crlf": banner(b"220-" + b"y" * (1 << 20)),
    # a 200-line EHLO reply
    "multiline_200": after_banner(b"".join(b"250-bad.example line %d\r\n" % i for i in range(199)) +
                                  b"250 last\r\n"),
    # 200 lines of 1000 bytes each at RCPT
    "multiline_200_long": at_rcpt(b"".join(b"450-" + b"z" * 1000 + b"\r\n" for _ in range(199)) +
                                  b"450 4.0.0 end\r\n"),
    # codes change within one multi-line reply
    "inconsistent_codes": after_banner(b"250-bad.example\r\n550-PIPELINING\r\n250 8BITMIME\r\n"),
    "inconsistent_codes_rcpt": at_rcpt(b"250-ok\r\n550 no\r\n"),
    # no code at all, out-of-range codes, bad separators
    "bad_code": after_banner(b"2x0 what\r\n"),
    "code_999": after_banner(b"999 nine nine nine\r\n"),
    "bad_separator": after_banner(b"250*bad.example\r\n"),
    # binary garbage, then close
    "binary_garbage": banner(GARBAGE, then_close=True),
    "binary_after_ehlo": after_banner(GARBAGE),
    # a multi-line reply cut off by the server going away
    "cut_off": banner(b"220-bad.example\r\n220-more", then_close=True),
    # bare LF line ends
    "bare_lf": after_banner(b"250-bad.example\n250 8BITMIME\n"),
}


def test_hostile_replies_deferred_daemon_alive(world):
    """Every case at once, each domain case-N.example on its own raw MX
    (127.0.0.70 + N), plus a normal domain: the normal one is delivered,
    every hostile one deferred with a 4.x.x status, and the daemon survives."""
    world.sender_mx()
    names = sorted(CASES)
    recs = mx_records("good.example", (10, "mx.good.example", GOOD))
    raws = {}
    for i, name in enumerate(names):
        addr = "127.0.0.%d" % (70 + i)
        dom = "%s.example" % name.replace("_", "-")
        recs += mx_records(dom, (10, "mx." + dom, addr))
        raws[name] = (dom, world.raw_mx(addr, CASES[name]))
    good = world.mx(GOOD, name="mx.good.example")
    world.start(records=recs)
    rcpts = ["victim@" + dom for dom, _ in raws.values()]
    qid = world.submit(rcpts + ["fine@good.example"])
    world.wait_outcome(qid, "fine@good.example", "sent", timeout=8)
    problems = []
    for name in names:
        dom, raw = raws[name]
        r = "victim@" + dom
        try:
            o = world.wait_outcome(qid, r, "deferred", timeout=10)
        except AssertionError:
            problems.append("%s: no deferral; outcomes %r" % (name, world.outcomes(qid, r)))
            continue
        if not o[5].startswith("4."):
            problems.append("%s: dsn %s: %r" % (name, o[5], o))
        if raw.wait_conns(1, timeout=0.1) < 1:
            problems.append("%s: the MX was never contacted" % name)
        bad = [x for x in world.outcomes(qid, r) if x[6] != "deferred"]
        if bad:
            problems.append("%s: outcomes other than deferred: %r" % (name, bad))
    assert world.relay.alive, world.log()[-3000:]
    # log lines stay escaped and bounded: no control characters from the peers
    for line in world.log().splitlines():
        if re.search(r"[\x00-\x08\x0b-\x1f\x7f]", line):
            problems.append("control character in log line %r" % line[:300])
        if len(line) > 4000:
            problems.append("log line of %d bytes" % len(line))
    rs = world.queue_rcpts(qid)
    for r in rcpts:
        if (rs or {}).get(r, {}).get("state") != "deferred":
            problems.append("queue show: %s is %r" % (r, (rs or {}).get(r)))
    assert not problems, "\n".join(problems) + "\nlog tail:\n" + world.log()[-4000:]
    # and the daemon still delivers afterwards
    q2 = world.submit("again@good.example")
    world.wait_outcome(q2, "again@good.example", "sent", timeout=8)
    assert len(good.wait_messages(2)) == 2


def test_reply_text_escaped_in_log_queue_and_dsn(world):
    world.sender_mx()
    nasty = (b"550 5.1.1 \x1b[31mred\x1b[0m \x00nul \xff\xfe bytes"
             b" %s%n%x <script> done\r\n")
    world.raw_mx(BAD, at_rcpt(nasty))
    world.start(records=records())
    qid = world.submit("victim@bad.example")
    o = world.wait_outcome(qid, "victim@bad.example", "bounced")
    assert o[5] == "5.1.1", o
    log = world.log()
    assert "\x1b" not in log and "\x00" not in log and "\ufffd" not in log, repr(log[-2000:])
    assert "%s%n%x" in o[7], o            # printable text kept as is (no format-string use)
    dsn = world.wait_dsn(1)[0]
    assert b"\x1b" not in dsn.content and b"\x00" not in dsn.content and b"\xff" not in dsn.content
    assert all(len(l) <= 998 for l in dsn.content.split(b"\r\n")), "DSN line over 998 bytes"


def test_silent_server_times_out_and_queue_keeps_working(world):
    """Accepts the connection, never says anything: after smtp-reply-timeout
    (3 s) the recipient is deferred; meanwhile mail to other domains flows."""
    world.sender_mx()
    closed_by_peer = []
    silent = world.raw_mx(BAD, lambda conn, n: closed_by_peer.append(conn.wait_closed(30)))
    good = world.mx(GOOD, name="mx.good.example")
    world.start(records=records())
    t0 = time.monotonic()
    q1 = world.submit("stuck@bad.example")
    assert silent.wait_conns(1, timeout=5) >= 1
    q2 = world.submit("fine@good.example")
    world.wait_outcome(q2, "fine@good.example", "sent", timeout=2.5)
    assert not world.outcomes(q1), "the silent server's recipient was decided too early"
    o = world.wait_outcome(q1, "stuck@bad.example", "deferred", timeout=8)
    took = time.monotonic() - t0
    assert 2.5 < took < 7, "timed out after %.1fs (smtp-reply-timeout 3s)" % took
    assert o[5].startswith("4."), o
    assert re.search(r"time", o[7], re.I), o
    # not stuck: it is tried again after the backoff
    assert silent.wait_conns(2, timeout=8) >= 2, world.log()[-2000:]
    # and the silent server's connections are closed by hikyaku, not left open
    assert closed_by_peer and closed_by_peer[0] is True, "hikyaku left the timed-out connection open"


def test_server_silent_after_data_times_out(world):
    """The server takes the message but never answers the final dot."""
    world.sender_mx()

    def script(conn, n):
        conn.send(b"220 bad.example ESMTP\r\n")
        while True:
            line = conn.readline(10)
            if line is None:
                return
            v = line[:4].upper()
            if v == b"EHLO":
                conn.send(b"250-bad.example\r\n250 PIPELINING\r\n")
            elif v == b"DATA":
                conn.send(b"354 go\r\n")
                conn.wait_closed(20)
                return
            else:
                conn.send(b"250 ok\r\n")
    world.raw_mx(BAD, script)
    world.start(records=records())
    qid = world.submit("v@bad.example")
    o = world.wait_outcome(qid, "v@bad.example", "deferred", timeout=8)
    assert o[5].startswith("4."), o
    assert world.relay.alive


def test_server_closes_after_banner(world):
    world.sender_mx()
    world.raw_mx(BAD, banner(b"220 bad.example\r\n", then_close=True))
    world.start(records=records())
    qid = world.submit("w@bad.example")
    o = world.wait_outcome(qid, "w@bad.example", "deferred", timeout=8)
    assert o[5].startswith("4."), o


def test_421_banner_next_mx(world):
    """A 421 greeting is a temporary failure of that MX: the next MX gets the mail."""
    world.sender_mx()
    world.raw_mx(BAD, banner(b"421 4.3.2 go away\r\n", then_close=True))
    backup = world.mx(GOOD, name="mx2.two.example")
    world.start(records=[("two.example", "MX", "10 mx1.two.example."),
                         ("two.example", "MX", "20 mx2.two.example."),
                         ("mx1.two.example", "A", BAD), ("mx2.two.example", "A", GOOD)])
    qid = world.submit("x@two.example")
    o = world.wait_outcome(qid, "x@two.example", "sent")
    assert o[2] == "mx2.two.example[%s]:25" % GOOD, o
    assert len(backup.wait_messages(1)) == 1
