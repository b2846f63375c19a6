"""Per-account message limits (issue 8): `hikyaku account limit NAME N/PERIOD`.

Over the limit MAIL gets 450 4.7.1 naming the limit and when it resets, the
log says so, the count survives a restart, and mail goes through again once
the window has passed.
"""
import re
import time

from harness import ALICE, BOB
from helpers import make_message


def send(relay, account=ALICE, sender="alice@example.jp"):
    """One message; returns the reply to MAIL (and completes the transaction if accepted)."""
    c = relay.session(account)
    try:
        m, rr, d = c.send_mail(sender, ["friend@example.org"],
                               make_message(frm=sender, to="friend@example.org"))
        if m.code == 250:
            assert d is not None and d.code == 250, d
        c.quit()
    finally:
        c.close()
    return m


def wait_window_start(period):
    """Sleep to just after a window boundary, so a test's messages share one window."""
    now = time.time()
    left = period - (now % period)
    if left < period - 0.5:
        time.sleep(left + 0.05)


def wait_next_window(period):
    """Sleep to just after the next window boundary, however near it is."""
    time.sleep(period - (time.time() % period) + 0.05)


def test_account_limit_refuses_with_450_then_resets(relay):
    relay.cli("account", "limit", "alice", "3/6s")
    wait_window_start(6)
    for _ in range(3):
        assert send(relay).code == 250
    m = send(relay)
    assert m.code == 450, m
    text = str(m)
    assert "4.7.1" in text and "limit of 3 messages per 6s" in text, text
    assert re.search(r"resets at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(in \d+ s\)", text), text
    assert re.search(r"NOQUEUE: reject: MAIL from .*450 4\.7\.1 Account alice has reached its"
                     r" limit.*sasl_username=alice", relay.log())
    # another account is not affected
    assert send(relay, BOB, "bob@example.org").code == 250
    # the next window lets alice through again
    wait_next_window(6)
    assert send(relay).code == 250


def test_account_limit_counts_survive_a_restart(relay):
    relay.cli("account", "limit", "alice", "2/1h")
    assert send(relay).code == 250
    assert send(relay).code == 250
    relay.stop()
    relay.start()
    assert send(relay).code == 450
    out = relay.cli("account", "list").stdout
    assert re.search(r"^alice\t.*limit=2/3600s \(2 used, resets ", out, re.M), out
    relay.cli("account", "limit", "alice", "none")
    assert send(relay).code == 250
    assert re.search(r"^alice\t.*limit=-$", relay.cli("account", "list").stdout, re.M)


def test_account_limit_held_slots_are_given_back(relay):
    """A transaction that ends without a message (RSET, a refused From:)
    does not use up the limit."""
    relay.cli("account", "limit", "alice", "1/1h")
    c = relay.session(ALICE)
    try:
        assert c.mail("alice@example.jp").code == 250
        assert c.cmd("RSET").code == 250
        assert c.mail("alice@example.jp").code == 250
        assert c.rcpt("friend@example.org").code == 250
        # header From: not granted: 550 at the end of DATA, no message
        d = c.data(make_message(frm="eve@example.org", to="friend@example.org"))
        assert d.code == 550, d
        m, rr, d = c.send_mail("alice@example.jp", ["friend@example.org"],
                               make_message(to="friend@example.org"))
        assert d is not None and d.code == 250, (m, rr, d)
        assert c.mail("alice@example.jp").code == 450
    finally:
        c.close()


def test_account_limit_cli_errors(relay):
    p = relay.cli("account", "limit", "alice", "lots", check=False)
    assert p.returncode == 2 and "expected N/PERIOD" in p.stderr, p.stderr
    p = relay.cli("account", "limit", "nobody", "5/1h", check=False)
    assert p.returncode == 1 and "nobody not found" in p.stderr, p.stderr
    p = relay.cli("account", "limit", "bob", "none", check=False)
    assert p.returncode == 1 and "not found" in p.stderr, p.stderr
