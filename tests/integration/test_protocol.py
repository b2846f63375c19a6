"""Protocol robustness: smuggling, STARTTLS injection, command syntax, limits,
pipelining, sizes, free space."""

import pytest

from harness import ALICE
from helpers import dot_stuff, make_message


def read_until_sentinel(c, limit=20, timeout=10):
    """Replies until a 502 (our sentinel command) or EOF; at most limit."""
    out = []
    for _ in range(limit):
        try:
            r = c.reply(timeout)
        except EOFError:
            out.append(None)
            break
        out.append(r)
        if r.code == 502:
            break
    return out


# -- SMTP smuggling ----------------------------------------------------------------

SMUGGLE_VARIANTS = [
    b"\n.\n", b"\r.\r", b"\r.\n", b"\n.\r", b"\n.\r\n", b"\r\n.\n", b"\r.\r\n",
    b"\r\n.\r", b"\r\n\0.\r\n", b"\r\n.\r\r\n", b"\r\r\n.\r\r\n", b"\n..\n",
]

SMUGGLED = (b"MAIL FROM:<alice@example.jp>\r\n"
            b"RCPT TO:<victim@example.com>\r\n"
            b"DATA\r\n"
            b"From: alice@example.jp\r\n"
            b"To: victim@example.com\r\n"
            b"Subject: smuggled\r\n"
            b"\r\n"
            b"SMUGGLED-BODY-MARKER\r\n")


@pytest.mark.parametrize("variant", SMUGGLE_VARIANTS, ids=lambda v: v.hex())
def test_smuggling(relay, variant):
    outer = (b"From: alice@example.jp\r\nTo: outer@example.com\r\nSubject: outer\r\n"
             b"\r\nOUTER-BODY")
    with relay.session() as c:
        assert c.mail("alice@example.jp").code == 250
        assert c.rcpt("outer@example.com").code == 250
        assert c.cmd("DATA").code == 354
        # outer message, fake end, a complete smuggled transaction, the real end
        c.send(outer + variant + SMUGGLED + b".\r\n" + b"XSENTINEL\r\n")
        replies = read_until_sentinel(c)
    texts = [str(r) for r in replies]
    first = replies[0]
    assert first is not None, texts
    assert first.code == 250 or 500 <= first.code < 600, texts
    assert not any(r is not None and r.code == 354 for r in replies), \
        "smuggled DATA was answered: %s" % texts
    queued = [r for r in replies if r is not None and r.queue_id()]
    assert len(queued) <= 1, texts
    assert replies[1:] == [] or replies[1] is None or replies[1].code in (502, 421), texts
    ids = relay.queue_ids()
    if first.code == 250:
        assert len(ids) == 1, (texts, ids)
        assert ids == [first.queue_id()]
        _, msg = relay.queued_message(ids[0])
        assert "SMUGGLED-BODY-MARKER" in msg and "OUTER-BODY" in msg, msg
    else:
        assert ids == [], (texts, ids)


def test_bare_lf_in_data_rejected(relay):
    msg = b"From: alice@example.jp\r\nSubject: lf\r\n\r\nline with bare LF\nnext\r\n"
    with relay.session() as c:
        c.mail("alice@example.jp")
        c.rcpt("x@example.com")
        assert c.cmd("DATA").code == 354
        c.send(msg + b".\r\n")
        r = c.reply()
        assert 500 <= r.code < 600, r
        assert c.cmd("NOOP").code == 250
    assert relay.queue_ids() == []


def test_bare_cr_in_data_rejected(relay):
    msg = b"From: alice@example.jp\r\nSubject: cr\r\n\r\nline with bare CR\rnext\r\n"
    with relay.session() as c:
        c.mail("alice@example.jp")
        c.rcpt("x@example.com")
        assert c.cmd("DATA").code == 354
        c.send(msg + b".\r\n")
        r = c.reply()
        assert 500 <= r.code < 600, r
    assert relay.queue_ids() == []


# -- STARTTLS command injection ------------------------------------------------------

def test_starttls_discards_pipelined_plaintext(relay):
    with relay.connect() as c:
        c.greeting()
        c.ehlo()
        c.send(b"STARTTLS\r\nNOOP\r\n")
        r = c.reply()
        assert r.code == 220, r
        assert c.buf == b"", "plaintext after 220: %r" % c.buf
        assert c.nothing_within(0.3), "plaintext reply to the injected NOOP: %r" % c.buf
        c._wrap()
        assert c.nothing_within(0.5), "injected NOOP answered inside TLS: %r" % c.buf
        e = c.ehlo()
        assert e.code == 250 and len(e.lines) > 1 and e.lines[0].startswith("relay.test"), \
            "first reply under TLS is not EHLO's: %s" % e


def test_starttls_discards_pipelined_mail(relay):
    with relay.connect() as c:
        c.greeting()
        c.ehlo()
        c.send(b"STARTTLS\r\nMAIL FROM:<alice@example.jp>\r\n")
        assert c.reply().code == 220
        assert c.buf == b""
        c._wrap()
        assert c.ehlo().code == 250
        assert c.auth_plain(*ALICE).code == 235
        r = c.rcpt("x@example.com")
        assert r.code >= 500, "MAIL injected before TLS survived: %s" % r


def test_starttls_twice_refused(relay):
    with relay.connect() as c:
        c.greeting()
        c.ehlo()
        c.starttls()
        c.ehlo()
        r = c.cmd("STARTTLS")
        assert r.code >= 500, r


# -- command syntax ----------------------------------------------------------------

@pytest.mark.parametrize("line", [
    b"MAIL FROM:<alice@example.jp>\0 SIZE=100",
    b"MAIL FROM:<alice\0@example.jp>",
    b"MAIL FROM:<alice@example.jp>\r SIZE=100",
    b"MAIL FROM:<alice@example.jp>\nRCPT TO:<x@example.com>",
    b"EHLO cli\0ent.test",
], ids=["nul-after", "nul-inside", "bare-cr", "bare-lf", "nul-ehlo"])
def test_nul_cr_lf_in_command_501(relay, line):
    with relay.session() as c:
        r = c.cmd(line)
        assert r.code == 501, r
        # nothing of that line took effect
        r = c.rcpt("x@example.com")
        assert r.code >= 500, r
        assert c.cmd("NOOP").code == 250


def test_command_line_length(relay):
    with relay.connect() as c:
        c.greeting()
        ok = b"NOOP " + b"x" * (512 - 5 - 2)          # exactly 512 with CRLF
        assert len(ok) + 2 == 512
        r = c.cmd(ok)
        assert r.code == 250, r
        r = c.cmd(b"NOOP " + b"x" * (512 - 5 - 2 + 1))   # 513
        assert r.code == 500, r
        r = c.cmd(b"NOOP " + b"y" * 5000)
        assert r.code == 500, r
        # the session resynchronises on the next CRLF
        r = c.cmd(b"NOOP")
        assert r.code == 250, r


def test_huge_line_does_not_hang(relay):
    with relay.connect() as c:
        c.greeting()
        c.send(b"NOOP " + b"z" * (1 << 20) + b"\r\n")
        try:
            r = c.reply(10)
        except EOFError:
            r = None
        assert r is None or r.code in (500, 421), r
    # the daemon survives
    with relay.connect() as c:
        assert c.greeting().code == 220


def test_rset_and_sequence(relay):
    with relay.session() as c:
        assert c.mail("alice@example.jp").code == 250
        r = c.mail("alice@example.jp")
        assert r.code == 503, r
        assert c.cmd("RSET").code == 250
        r = c.rcpt("x@example.com")
        assert r.code == 503, r
        r = c.cmd("DATA")
        assert r.code == 503, r


def test_pipelining_two_transactions_in_one_write(relay):
    msg1 = dot_stuff(make_message(subject="pipe one", body="one"))
    msg2 = dot_stuff(make_message(subject="pipe two", body="two"))
    with relay.session() as c:
        c.send(b"MAIL FROM:<alice@example.jp>\r\nRCPT TO:<a@example.com>\r\n"
               b"RCPT TO:<b@example.com>\r\nDATA\r\n")
        rs = c.replies(4)
        assert [r.code for r in rs] == [250, 250, 250, 354], rs
        c.send(msg1 + b".\r\n" + b"MAIL FROM:<alice@example.jp>\r\nRCPT TO:<c@example.com>\r\nDATA\r\n")
        rs = c.replies(4)
        assert [r.code for r in rs] == [250, 250, 250, 354], rs
        c.send(msg2 + b".\r\nQUIT\r\n")
        r = c.reply()
        assert r.code == 250, r
        q = c.reply()
        assert q.code == 221, q
    assert len(relay.queue_ids()) == 2


def test_smtputf8(relay):
    with relay.session() as c:
        r = c.cmd("MAIL FROM:<アリス@example.jp> SMTPUTF8")
        assert r.code == 250, r
        assert c.rcpt("宛先@example.com").code == 250
        msg = "From: アリス <アリス@example.jp>\r\nTo: 宛先@example.com\r\nSubject: 日本語\r\n\r\n本文\r\n"
        r = c.data(msg.encode())
        assert r.code == 250, r
        c.cmd("RSET")
        r = c.cmd("MAIL FROM:<アリス@example.jp>")
        assert r.code == 553, r
    assert len(relay.queue_ids()) == 1


# -- limits ------------------------------------------------------------------------

def test_max_recipients_default_1000(relay):
    with relay.session() as c:
        lines = [b"MAIL FROM:<alice@example.jp>"]
        lines += [("RCPT TO:<r%d@example.com>" % i).encode() for i in range(1001)]
        c.send(b"\r\n".join(lines) + b"\r\n")
        rs = c.replies(1002, timeout=30)
        assert rs[0].code == 250
        bad = [(i, str(r)) for i, r in enumerate(rs[1:1001]) if r.code != 250]
        assert not bad, bad[:5]
        last = rs[1001]
        assert last.code == 452 and last.last.startswith("4.5.3 Too many recipients"), last
        e = c.data(make_message(subject="thousand"))
        assert e.code == 250, e
        qid = e.queue_id()
    env, _ = relay.queued_message(qid)
    assert "r999@example.com" in env
    assert "r1000@example.com" not in env


@pytest.mark.relay_config(max_recipients=3)
def test_max_recipients_configured(relay):
    with relay.session() as c:
        c.mail("alice@example.jp")
        for i in range(3):
            assert c.rcpt("r%d@example.com" % i).code == 250
        r = c.rcpt("r3@example.com")
        assert r.code == 452 and r.last == "4.5.3 Too many recipients", r


@pytest.mark.relay_config(max_errors=3)
def test_too_many_errors_421(relay):
    with relay.connect() as c:
        c.greeting()
        codes = []
        for _ in range(6):
            try:
                r = c.cmd("XYZZY")
            except (EOFError, OSError):
                break
            codes.append(r.code)
            if r.code == 421:
                break
        assert 421 in codes, codes
        assert codes.index(421) >= 2 and codes.index(421) <= 3, codes
        assert all(x == 502 for x in codes[:codes.index(421)]), codes
        assert c.closed_within(3), "not disconnected after 421"


def test_too_many_errors_default_10(relay):
    with relay.connect() as c:
        c.greeting()
        codes = []
        for _ in range(14):
            try:
                r = c.cmd("XYZZY")
            except (EOFError, OSError):
                break
            codes.append(r.code)
            if r.code == 421:
                break
        assert 421 in codes, codes
        assert 9 <= codes.index(421) <= 10, codes
        assert c.closed_within(3)


# -- message size ------------------------------------------------------------------

@pytest.mark.parametrize("value,expect", [("10k", 10240), ("2M", 2 * 1048576), ("12345", 12345)])
def test_size_advertised(relay_factory, value, expect):
    r = relay_factory(max_message_size=value)
    with r.connect() as c:
        c.greeting()
        e = c.ehlo()
        sizes = [l.split() for l in e.lines if l.upper().startswith("SIZE")]
        assert sizes and sizes[0][1:] == [str(expect)], e


@pytest.mark.relay_config(max_message_size="10k")
def test_oversize_declared(relay):
    with relay.session() as c:
        r = c.mail("alice@example.jp", "SIZE=20000")
        assert r.code == 552 and r.last == "5.3.4 Message size exceeds fixed limit", r
        r = c.mail("alice@example.jp", "SIZE=5000")
        assert r.code == 250, r


@pytest.mark.relay_config(max_message_size="10k")
def test_oversize_data(relay):
    big = make_message(subject="big", body="".join("%05d %s\r\n" % (i, "b" * 70) for i in range(300)))
    assert len(big) > 20000
    with relay.session() as c:
        _, _, e = c.send_mail("alice@example.jp", "x@example.com", big)
        assert e.code == 552 and e.last.startswith("5.3.4 Message size exceeds fixed limit"), e
        assert c.cmd("NOOP").code == 250
        _, _, e = c.send_mail("alice@example.jp", "x@example.com", make_message(subject="small"))
        assert e.code == 250, e
        qid = e.queue_id()
    assert relay.queue_ids() == [qid]


# -- free space --------------------------------------------------------------------

@pytest.mark.relay_config(min_free_space="100000000M")
def test_low_free_space_452(relay):
    with relay.session() as c:
        r = c.mail("alice@example.jp")
        assert r.code == 452 and r.last.startswith("4.3.1"), r
        assert c.cmd("NOOP").code == 250
    assert relay.queue_ids() == []


@pytest.mark.relay_config(max_message_size="10k")
def test_size_exactly_at_limit(relay):
    """RFC 1870: a message of exactly the advertised SIZE is acceptable, one
    byte more is not (the relay's own added headers do not count)."""
    def message_of(n):
        head = b"From: alice@example.jp\r\nSubject: exact\r\n\r\n"
        body_len = n - len(head)
        line = b"x" * 78 + b"\r\n"
        body = line * (body_len // len(line))
        rest = body_len - len(body)
        if rest:
            body += b"y" * (rest - 2) + b"\r\n" if rest >= 2 else b""
        msg = head + body
        assert len(msg) == n, (len(msg), n)
        return msg

    with relay.session() as c:
        r = c.mail("alice@example.jp", "SIZE=10240")
        assert r.code == 250, r
        c.rcpt("x@example.com")
        e = c.data(message_of(10240))
        assert e.code == 250, "a message of exactly SIZE refused: %s" % e
        c.mail("alice@example.jp")
        c.rcpt("x@example.com")
        e = c.data(message_of(10241))
        assert e.code == 552, e


def test_headers_only_message(relay):
    """No empty line and no body: still a message (RFC 5322 body is optional)."""
    with relay.session() as c:
        c.mail("alice@example.jp")
        c.rcpt("x@example.com")
        assert c.cmd("DATA").code == 354
        c.send(b"From: alice@example.jp\r\nSubject: headers only\r\n.\r\n")
        e = c.reply()
        assert e.code == 250, e
        qid = e.queue_id()
    _, msg = relay.queued_message(qid)
    msg = msg.replace("\r\n", "\n")
    assert msg.startswith("Received:"), msg
    assert "\nFrom: alice@example.jp\n" in msg and "\nSubject: headers only" in msg, msg
    assert "\nMessage-ID:" in msg or "\nMessage-Id:" in msg, msg


def test_empty_message(relay):
    with relay.session() as c:
        c.mail("alice@example.jp")
        c.rcpt("x@example.com")
        assert c.cmd("DATA").code == 354
        c.send(b".\r\n")
        e = c.reply()
        assert e.code == 550 and e.last.startswith("5.6.0"), e
    assert relay.queue_ids() == []
