"""Greeting, EHLO, TLS/AUTH requirements, added headers, log lines."""
import os
import re
import stat
import time

import pytest

from harness import ALICE, BOB
from helpers import make_message


def ehlo_keywords(reply):
    return [l.split()[0].upper() for l in reply.lines[1:] if l.strip()]


def test_greeting_and_ehlo_before_tls(relay):
    with relay.connect() as c:
        g = c.greeting()
        assert g.code == 220
        assert re.match(r"^relay\.test ESMTP hikyaku\b", g.last), g
        e = c.ehlo()
        assert e.code == 250
        assert e.lines[0].startswith("relay.test"), e
        kw = ehlo_keywords(e)
        for k in ("PIPELINING", "SIZE", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "STARTTLS"):
            assert k in kw, (k, str(e))
        assert "AUTH" not in kw, "AUTH must not be offered before TLS: %s" % e


def test_ehlo_after_starttls(relay):
    with relay.connect() as c:
        c.greeting()
        c.ehlo()
        c.starttls()
        assert c.tls_version in ("TLSv1.2", "TLSv1.3")
        e = c.ehlo()
        assert e.code == 250
        kw = ehlo_keywords(e)
        assert "STARTTLS" not in kw, e
        auth = [l for l in e.lines[1:] if l.upper().startswith("AUTH")]
        assert auth, e
        mechs = auth[0].upper().split()[1:]
        assert "PLAIN" in mechs and "LOGIN" in mechs, e


def test_ehlo_on_implicit_tls_port(relay):
    with relay.connect(tls_port=True) as c:
        g = c.greeting()
        assert g.code == 220 and "relay.test" in g.last
        e = c.ehlo()
        kw = ehlo_keywords(e)
        assert "STARTTLS" not in kw, e
        assert "AUTH" in kw, e


def test_auth_before_tls_538(relay):
    with relay.connect() as c:
        c.greeting()
        c.ehlo()
        r = c.auth_plain(*ALICE)
        assert r.code == 538, r
        assert r.last.startswith("5.7.11 Encryption required for requested authentication mechanism"), r
        r = c.cmd("AUTH LOGIN")
        assert r.code == 538, r


def test_mail_before_tls_530(relay):
    with relay.connect() as c:
        c.greeting()
        c.ehlo()
        r = c.mail("alice@example.jp")
        assert r.code == 530, r
        assert r.last == "5.7.0 Must issue a STARTTLS command first", r


def test_mail_under_tls_without_auth_530(relay):
    with relay.connect() as c:
        c.greeting()
        c.ehlo()
        c.starttls()
        c.ehlo()
        r = c.mail("alice@example.jp")
        assert r.code == 530, r
        assert r.last == "5.7.0 Authentication required", r
    with relay.connect(tls_port=True) as c:
        c.greeting()
        c.ehlo()
        r = c.mail("alice@example.jp")
        assert r.code == 530 and r.last == "5.7.0 Authentication required", r


def test_wrong_password_535(relay):
    with relay.connect() as c:
        c.greeting()
        c.ehlo()
        c.starttls()
        c.ehlo()
        r = c.auth_plain("alice", "not-the-password")
        assert r.code == 535, r
        assert r.last == "5.7.8 Authentication credentials invalid", r
        r = c.auth_login("alice", "not-the-password")
        assert r.code == 535, r
        r = c.auth_plain("nosuchuser", ALICE[1])
        assert r.code == 535, r
        # bob's password does not open alice's account
        r = c.auth_plain("alice", BOB[1])
        assert r.code == 535, r
        r = c.auth_plain(*ALICE)
        assert r.code == 235, r
        assert r.last == "2.7.0 Authentication successful", r
        # MAIL after AUTH is accepted
        r = c.mail("alice@example.jp")
        assert r.code == 250 and r.last == "2.1.0 Ok", r


def test_auth_login_ok(relay):
    with relay.connect(tls_port=True) as c:
        c.greeting()
        c.ehlo()
        r = c.auth_login(*ALICE)
        assert r.code == 235, r


def test_unknown_command_502(relay):
    with relay.connect() as c:
        c.greeting()
        r = c.cmd("XYZZY hello")
        assert r.code == 502, r
        assert c.cmd("NOOP").code == 250


def test_full_transaction_and_added_headers(relay):
    """A message without Date/Message-ID gets them; Received: is prepended
    and names TLS and the account; the body is stored as sent (unstuffed)."""
    body = "line one\r\n.leading dot line\r\n..two dots\r\nlast line\r\n"
    msg = make_message(subject="hdrs", body=body, date=False, msgid=False)
    with relay.session() as c:
        m = c.mail("alice@example.jp")
        assert m.code == 250 and m.last == "2.1.0 Ok", m
        r = c.rcpt("one@example.com")
        assert r.code == 250 and r.last == "2.1.5 Ok", r
        assert c.rcpt("two@example.net").code == 250
        d = c.cmd("DATA")
        assert d.code == 354, d
        from helpers import dot_stuff
        c.send(dot_stuff(msg) + b".\r\n")
        e = c.reply()
        assert e.code == 250, e
        assert re.match(r"^2\.0\.0 Ok: queued as [0-9A-Z]+$", e.last), e
        qid = e.queue_id()
        tls_version, cipher = c.tls_version, c.sock.cipher()[0]
        c.quit()
    assert qid in relay.queue_ids()
    env, stored = relay.queued_message(qid)
    assert "alice@example.jp" in env
    assert "one@example.com" in env and "two@example.net" in env
    assert "alice" in env  # the account
    stored = stored.replace("\r\n", "\n")
    first = stored.split("\n", 1)[0]
    assert first.startswith("Received:"), stored[:300]
    hdrs, sbody = stored.split("\n\n", 1)
    received = re.search(r"^Received:.*?(?=^\S)", hdrs + "\nX:", re.S | re.M).group(0)
    assert "relay.test" in received, received
    assert tls_version in received and cipher in received, (tls_version, cipher, received)
    assert re.search(r"\bwith ESMTPSA\b", received), received      # RFC 3848
    assert qid in received, received
    assert "alice" in received, received
    assert re.search(r"^Date: ", hdrs, re.M | re.I), hdrs
    assert re.search(r"^Message-ID: *<[^>]+@[^>]+>", hdrs, re.M | re.I), hdrs
    assert sbody == body.replace("\r\n", "\n"), sbody


def test_existing_date_and_message_id_kept(relay):
    msg = make_message(subject="keep", date=True, msgid=False,
                       headers=["Message-ID: <keep-me-123@client.test>"])
    with relay.session() as c:
        _, _, e = c.send_mail("alice@example.jp", "x@example.com", msg)
        assert e.code == 250, e
        qid = e.queue_id()
    _, stored = relay.queued_message(qid)
    hdrs = stored.replace("\r\n", "\n").split("\n\n", 1)[0]
    assert len(re.findall(r"^Message-ID:", hdrs, re.M | re.I)) == 1, hdrs
    assert "<keep-me-123@client.test>" in hdrs
    assert len(re.findall(r"^Date:", hdrs, re.M | re.I)) == 1, hdrs
    assert "Thu, 27 Nov 2025 12:00:00 +0900" in hdrs


def test_log_lines(relay):
    with relay.session() as c:
        port = c.local_port
        _, _, e = c.send_mail("alice@example.jp", ["a@example.com", "b@example.com"],
                              make_message(subject="log"))
        assert e.code == 250, e
        qid = e.queue_id()
        c.quit()
    pat_client = r"%s: client=(?:[-._\w]+)?\[127\.0\.0\.1\]:%d, sasl_method=PLAIN, sasl_username=alice\b" % (qid, port)
    pat_from = r"%s: from=<alice@example\.jp>, size=\d+, nrcpt=2 \(queue active\)" % qid
    assert relay.wait_log(pat_client, 5), relay.log()[-3000:]
    assert relay.wait_log(pat_from, 5), relay.log()[-3000:]


def test_null_sender_allowed_for_account(relay):
    with relay.session() as c:
        _, _, e = c.send_mail("", "x@example.com", make_message(subject="null sender"))
        assert e is not None and e.code == 250, e
        qid = e.queue_id()
    assert qid in relay.queue_ids()


def test_self_signed_cert_generated(relay_factory):
    r = relay_factory(own_cert=False)
    tlsdir = os.path.join(r.spool, "tls")
    assert os.path.isdir(tlsdir), os.listdir(r.spool)
    with r.session() as c:
        _, _, e = c.send_mail("alice@example.jp", "x@example.com", make_message())
        assert e.code == 250, e
    keys = []
    for n in os.listdir(tlsdir):
        p = os.path.join(tlsdir, n)
        with open(p, "rb") as f:
            if b"PRIVATE KEY" in f.read():
                keys.append(p)
    assert keys, "no private key in %s" % tlsdir
    for p in keys:
        mode = stat.S_IMODE(os.stat(p).st_mode)
        assert mode & 0o077 == 0, "%s has mode %o" % (p, mode)
    # a restart reuses the generated certificate
    cert_files = sorted(os.listdir(tlsdir))
    before = {n: open(os.path.join(tlsdir, n), "rb").read() for n in cert_files}
    r.restart()
    after = {n: open(os.path.join(tlsdir, n), "rb").read() for n in sorted(os.listdir(tlsdir))}
    assert before == after


def test_spool_database_not_world_readable(relay):
    """DESIGN: the database is 0600."""
    with relay.session() as c:
        c.send_mail("alice@example.jp", "x@example.com", make_message())
    found = False
    for n in os.listdir(relay.spool):
        p = os.path.join(relay.spool, n)
        if os.path.isfile(p):
            with open(p, "rb") as f:
                if f.read(16) == b"SQLite format 3\0":
                    found = True
                    mode = stat.S_IMODE(os.stat(p).st_mode)
                    assert mode & 0o077 == 0, "%s has mode %o" % (p, mode)
    assert found, "no SQLite database in the spool: %s" % os.listdir(relay.spool)


def test_sigterm_exits_cleanly(relay):
    relay.stop()
    assert relay.exit_statuses[-1] == 0, relay.log()[-2000:]


def test_auth_plain_without_initial_response(relay):
    import base64
    with relay.connect(tls_port=True) as c:
        c.greeting()
        c.ehlo()
        r = c.cmd("AUTH PLAIN")
        assert r.code == 334, r
        r = c.cmd(base64.b64encode(b"\0alice\0" + ALICE[1].encode()).decode())
        assert r.code == 235, r
        r = c.auth_plain(*ALICE)
        assert r.code == 503, "second AUTH: %s" % r


def test_auth_cancel_and_garbage(relay):
    with relay.connect(tls_port=True) as c:
        c.greeting()
        c.ehlo()
        assert c.cmd("AUTH PLAIN").code == 334
        r = c.cmd("*")
        assert r.code == 501, r
        r = c.cmd("AUTH PLAIN !!!not-base64!!!")
        assert r.code in (501, 535), r
        r = c.cmd("AUTH CRAM-MD5")
        assert r.code == 504, r
        assert c.auth_plain(*ALICE).code == 235


@pytest.mark.relay_config(smtp_timeout=1)
def test_idle_timeout(relay):
    with relay.connect() as c:
        c.greeting()
        c.ehlo()
        t = time.monotonic()
        assert c.closed_within(5), "idle session not closed"
        assert time.monotonic() - t >= 0.8
        if c.buf:
            assert c.buf.startswith(b"421"), c.buf


def test_user_drops_privileges(relay_factory):
    """`user NAME`: the daemon runs as NAME after binding; mail still flows."""
    import pwd
    import shutil
    import tempfile
    nobody = pwd.getpwnam("nobody")
    base = tempfile.mkdtemp(prefix="hikyaku-user-")
    try:
        os.chmod(base, 0o755)
        spool = os.path.join(base, "spool")
        os.mkdir(spool)
        r = relay_factory(start=False, spool=spool, user="nobody")
        r.spool = spool
        r.start()
        with open("/proc/%d/status" % r.proc.pid) as f:
            uids = [l.split()[1:] for l in f if l.startswith("Uid:")][0]
        assert all(int(u) == nobody.pw_uid for u in uids), uids
        with r.session() as c:
            _, _, e = c.send_mail("alice@example.jp", "x@example.com", make_message(subject="unpriv"))
            assert e.code == 250, e
        assert e.queue_id() in r.queue_ids()
        r.stop()
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_sigterm_with_open_sessions(relay):
    """Shutdown does not wait for idle clients."""
    c1 = relay.session()
    c2 = relay.connect()
    c2.greeting()
    c1.mail("alice@example.jp")
    t = time.monotonic()
    relay.stop()
    took = time.monotonic() - t
    c1.close()
    c2.close()
    assert relay.exit_statuses[-1] == 0, relay.log()[-2000:]
    assert took < 4, "SIGTERM took %.1fs with idle sessions open" % took


@pytest.mark.relay_config(smtp_timeout=1)
def test_timeout_before_implicit_tls_handshake(relay):
    """A client on the TLS port that never starts its handshake is dropped
    after smtp-timeout (else idle sockets exhaust the daemon)."""
    import socket as _socket
    with _socket.create_connection((relay.host, relay.tls_port), timeout=5) as s:
        try:
            data = s.recv(100)
        except ConnectionResetError:
            data = b""
        except _socket.timeout:
            data = None
        assert data == b"", "no-handshake connection not closed within 5s (smtp-timeout 1)"


@pytest.mark.relay_config(smtp_timeout=1)
def test_timeout_after_starttls_without_handshake(relay):
    with relay.connect() as c:
        c.greeting()
        c.ehlo()
        assert c.cmd("STARTTLS").code == 220
        assert c.closed_within(5), "STARTTLS without handshake not closed"


@pytest.mark.relay_config(smtp_timeout=1)
def test_timeout_in_data(relay):
    with relay.session() as c:
        c.mail("alice@example.jp")
        c.rcpt("x@example.com")
        assert c.cmd("DATA").code == 354
        c.send(b"From: alice@example.jp\r\n\r\npartial")
        assert c.closed_within(5), "stalled DATA not timed out"
    assert relay.queue_ids() == []
