"""Authentication failures: throttling, bans, delays, fail2ban-compatible logs."""
import re
import time

import pytest

from harness import ALICE, BOB

FAIL2BAN_RE = r"warning: [-._\w]+\[127\.0\.0\.1\]: SASL \w+ authentication failed"


def tls_session(relay, source=None):
    c = relay.connect(source=source)
    g = c.greeting()
    if g.code != 220:
        return c, g
    c.ehlo()
    c.starttls()
    c.ehlo()
    return c, g


def test_failure_log_line_fail2ban(relay):
    c, _ = tls_session(relay)
    with c:
        assert c.auth_plain("alice", "pw-Zq81x-secret").code == 535
        assert c.auth_login("mallory", "pw-Zq81x-secret").code == 535
    assert relay.wait_log(FAIL2BAN_RE, 5), relay.log()[-2000:]
    assert relay.wait_log(r"warning: unknown\[127\.0\.0\.1\]: SASL PLAIN authentication failed: user=alice\b", 5), \
        relay.log()[-2000:]
    assert relay.wait_log(r"SASL LOGIN authentication failed: user=mallory\b", 5), relay.log()[-2000:]
    # passwords never reach the log
    assert "pw-Zq81x-secret" not in relay.log()


@pytest.mark.relay_config(auth_max_failures=3, auth_ban_time=2)
def test_auth_throttle_and_ban(relay):
    c, _ = tls_session(relay)
    codes = []
    with c:
        for _ in range(6):
            try:
                r = c.auth_plain("alice", "wrong-%d" % len(codes))
            except (EOFError, OSError):
                break
            codes.append((r.code, r.last))
            if r.code == 421:
                break
        assert [x[0] for x in codes[:2]] == [535, 535], codes
        n421 = [i for i, x in enumerate(codes) if x[0] == 421]
        assert n421 and n421[0] in (2, 3), codes
        assert re.search(r"too many failed authentications", codes[n421[0]][1], re.I), codes
        assert codes[n421[0]][1].startswith("4.7.0"), codes
        assert c.closed_within(3), "not disconnected after 421"
    lines = re.findall(FAIL2BAN_RE, relay.log())
    assert len(lines) >= 3, relay.log()[-2000:]

    # a new connection from the banned address is refused, even with the right password
    t_ban = time.monotonic()
    c, g = tls_session(relay)
    with c:
        if g.code == 220:
            r = c.auth_plain(*ALICE)
            assert r.code == 421, "banned client could authenticate: %s" % r
        else:
            assert g.code == 421, g
    # another address is not banned
    c, g = tls_session(relay, source="127.0.0.5")
    with c:
        assert g.code == 220
        assert c.auth_plain(*ALICE).code == 235
    # the ban expires after auth-ban-time
    time.sleep(max(0, 2.5 - (time.monotonic() - t_ban)))
    c, g = tls_session(relay)
    with c:
        assert g.code == 220, g
        assert c.auth_plain(*ALICE).code == 235


@pytest.mark.relay_config(auth_max_failures=100, auth_fail_delay=1)
def test_auth_fail_delay(relay):
    c, _ = tls_session(relay)
    times = []
    with c:
        for i in range(5):
            t = time.monotonic()
            r = c.auth_plain("alice", "wrong-%d" % i)
            times.append(time.monotonic() - t)
            assert r.code == 535, r
    assert times[0] < 0.8 and times[1] < 0.8, times
    assert times[3] >= 0.9 and times[4] >= 0.9, times


@pytest.mark.relay_config(auth_max_failures=3, auth_ban_time=600)
def test_auth_failures_counted_across_connections(relay):
    for i in range(3):
        c, g = tls_session(relay)
        with c:
            if g.code != 220:
                break
            r = c.auth_plain("alice", "wrong-%d" % i)
            assert r.code in (535, 421), r
    c, g = tls_session(relay)
    with c:
        if g.code == 220:
            r = c.auth_plain(*ALICE)
            assert r.code == 421, r
        else:
            assert g.code == 421, g


def test_successful_auth_logged_without_password(relay):
    with relay.session() as c:
        c.quit()
    assert ALICE[1] not in relay.log()


def test_account_del_and_passwd(relay):
    relay.cli("account", "passwd", "alice", input="new-Password-9\n")
    c, _ = tls_session(relay)
    with c:
        assert c.auth_plain(*ALICE).code == 535
        assert c.auth_plain("alice", "new-Password-9").code == 235
    relay.cli("account", "del", "bob")
    c, _ = tls_session(relay)
    with c:
        assert c.auth_plain("bob", "bob-Secret-pw-2").code == 535


def test_pipelined_auth_holds_following_commands(relay):
    """AUTH is checked asynchronously: commands pipelined after it must see
    its outcome, never run before it."""
    import base64

    def plain(u, p):
        return base64.b64encode(("\0%s\0%s" % (u, p)).encode())

    with relay.connect(tls_port=True) as c:
        c.greeting()
        c.ehlo()
        c.send(b"AUTH PLAIN " + plain("alice", "wrong-pw") + b"\r\nMAIL FROM:<alice@example.jp>\r\n")
        r1, r2 = c.replies(2)
        assert r1.code == 535, r1
        assert r2.code == 530, "MAIL after a failed AUTH: %s" % r2
        c.send(b"AUTH PLAIN " + plain(*ALICE) + b"\r\nMAIL FROM:<alice@example.jp>\r\n"
               b"RCPT TO:<x@example.com>\r\nDATA\r\n")
        rs = c.replies(4)
        assert [r.code for r in rs] == [235, 250, 250, 354], [str(r) for r in rs]


def test_authzid_cannot_switch_account(relay):
    """AUTH PLAIN authzid=bob, authcid=alice with alice's password must not
    yield bob's rights."""
    with relay.connect(tls_port=True) as c:
        c.greeting()
        c.ehlo()
        r = c.auth_plain("alice", ALICE[1], authzid="bob")
        assert r.code in (235, 535), r
        if r.code == 235:
            m = c.mail("bob@example.org")
            assert m.code == 550, "authzid switched the account: %s" % m
    assert relay.queue_ids() == []


@pytest.mark.parametrize("raw", [
    b"alice\0" + ALICE[1].encode(),                     # no leading authzid field
    b"\0alice\0" + ALICE[1].encode() + b"\0extra",      # a fourth field
    b"\0alice\0",                                         # empty password
    b"\0\0" + ALICE[1].encode(),                          # empty user
    b"\0alice",                                           # no password field
])
def test_malformed_auth_plain(relay, raw):
    import base64
    with relay.connect(tls_port=True) as c:
        c.greeting()
        c.ehlo()
        r = c.cmd(b"AUTH PLAIN " + base64.b64encode(raw))
        assert r.code in (501, 535), r
        assert c.mail("alice@example.jp").code == 530


def test_verified_logins_are_remembered_not_passwords(relay):
    """A login yescrypt verified is accepted again without yescrypt (a home
    MTA logs in for every message); a wrong password, a changed password
    and a deleted account still meet the full check."""
    def login(user, password):
        c, _ = tls_session(relay)
        with c:
            t = time.monotonic()
            code = c.auth_plain(user, password).code
            return code, time.monotonic() - t

    first = login(*ALICE)
    assert first[0] == 235
    again = sorted(login(*ALICE)[1] for _ in range(5))
    assert again[2] < first[1] / 3, "cached logins took %r, the first %.3f s" % (again, first[1])
    code, wrong = login("alice", "alice-Secret-pw-X")
    assert code == 535
    assert wrong > again[2] * 3, "a wrong password answered as fast as a cached login"
    # a new password: the old one is refused at once, the new one works
    relay.cli("account", "passwd", "alice", input="new-Password-9\n")
    assert login(*ALICE)[0] == 535
    assert login("alice", "new-Password-9")[0] == 235
    # a deleted account is refused even though its login was verified
    assert login(*BOB)[0] == 235
    relay.cli("account", "del", "bob")
    assert login(*BOB)[0] == 535
