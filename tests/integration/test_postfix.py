"""A real Postfix as the home MTA, relaying through hikyaku with SASL and
TLS (docs/postfix-client.md describes the same configuration)."""
import re
import smtplib
import time

import pytest

from helpers import make_message, wait_for

RELAY_WAIT = 30


def submit_to_postfix(pf, marker, frm="alice@example.jp"):
    msg = make_message(frm="Alice <%s>" % frm, to="friend@example.com", subject=marker,
                       body=marker, date=False, msgid=False)
    with smtplib.SMTP(pf.host, pf.port, local_hostname="app.home.test", timeout=20) as s:
        refused = s.sendmail(frm, ["friend@example.com"], msg)
        assert refused == {}


def find_in_queue(relay, marker):
    for qid in relay.queue_ids():
        p = relay.queue_show(qid, check=False)
        if p.returncode == 0 and marker in p.stdout:
            return qid, p.stdout
    return None


@pytest.mark.parametrize("mode", ["starttls-587", "wrappermode-465"])
def test_postfix_relays_through_hikyaku(relay, postfix_factory, mode):
    wrapper = mode.startswith("wrapper")
    port = relay.tls_port if wrapper else relay.starttls_port
    pf = postfix_factory("[%s]:%d" % (relay.host, port), wrappermode=wrapper)
    marker = "POSTFIX-%s-%d" % (mode, time.time_ns())
    submit_to_postfix(pf, marker)
    found = wait_for(lambda: find_in_queue(relay, marker), RELAY_WAIT, interval=0.3)
    assert found, "not relayed within %ds.\npostfix log:\n%s\nhikyaku log:\n%s" % (
        RELAY_WAIT, pf.log()[-3000:], relay.log()[-3000:])
    qid, shown = found
    env = shown.split("\n\n", 1)[0]
    assert "alice@example.jp" in env and "friend@example.com" in env, shown
    # Postfix reports success
    ok = wait_for(lambda: re.search(r"relay=[^,]*\[127\.0\.0\.1\]:%d.*status=sent" % port, pf.log()),
                  10, interval=0.2)
    assert ok, pf.log()[-3000:]
    assert re.search(r"sasl_username=alice", relay.log()), relay.log()[-3000:]


def test_postfix_foreign_sender_bounced_not_relayed(relay, postfix_factory):
    pf = postfix_factory("[%s]:%d" % (relay.host, relay.starttls_port))
    marker = "POSTFIX-FOREIGN-%d" % time.time_ns()
    submit_to_postfix(pf, marker, frm="bob@example.org")
    rx = re.compile(r"status=bounced.*Sender rejected: <bob@example\.org> is not granted to account alice")
    ok = wait_for(lambda: rx.search(pf.log()), RELAY_WAIT, interval=0.3)
    assert ok, pf.log()[-3000:]
    # Postfix's bounce to bob (MAIL FROM:<>, From: MAILER-DAEMON@example.jp) may
    # legitimately reach the queue; the original (to friend@) must not.
    for qid in relay.queue_ids():
        env = relay.queued_message(qid)[0]
        assert "friend@example.com" not in env, env


def test_postfix_wrong_password_deferred(relay, postfix_factory):
    pf = postfix_factory("[%s]:%d" % (relay.host, relay.starttls_port), password="wrong-password")
    marker = "POSTFIX-BADPW-%d" % time.time_ns()
    submit_to_postfix(pf, marker)
    ok = wait_for(lambda: re.search(r"status=deferred.*(535|authentication failed|SASL)", pf.log(), re.I),
                  RELAY_WAIT, interval=0.3)
    assert ok, pf.log()[-3000:]
    assert find_in_queue(relay, marker) is None
