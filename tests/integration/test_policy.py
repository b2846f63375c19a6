"""Sender authorization: envelope MAIL FROM and header From: against grants;
trusted networks."""
import pytest

from harness import ALICE, BOB
from helpers import make_message


def reject_text(addr, account):
    return "5.7.1 Sender rejected: <%s> is not granted to account %s" % (addr, account)


# -- envelope sender ---------------------------------------------------------

@pytest.mark.parametrize("account,sender", [
    (ALICE, "alice@example.jp"),
    (ALICE, "anyone.else@example.jp"),
    (ALICE, "alice@EXAMPLE.JP"),          # domains are case-insensitive
    (BOB, "bob@example.org"),
])
def test_envelope_sender_granted(relay, account, sender):
    with relay.session(account) as c:
        m = c.mail(sender)
        assert m.code == 250 and m.last == "2.1.0 Ok", m
        assert c.rcpt("x@example.com").code == 250
        frm = "bob@example.org" if account is BOB else "alice@example.jp"
        e = c.data(make_message(frm=frm))
        assert e.code == 250, e
    assert len(relay.queue_ids()) == 1


@pytest.mark.parametrize("account,sender", [
    (ALICE, "bob@example.org"),
    (ALICE, "alice@example.org"),
    (ALICE, "alice@sub.example.jp.evil.test"),
    (ALICE, "alice@evilexample.jp"),
    (ALICE, "alice@example.jpn"),
    (BOB, "bob2@example.org"),
    (BOB, "alice@example.jp"),
    (BOB, "bo@example.org"),
])
def test_envelope_sender_not_granted(relay, account, sender):
    with relay.session(account) as c:
        m = c.mail(sender)
        assert m.code == 550, m
        assert m.last.lower() == reject_text(sender, account[0]).lower(), m
        # the transaction did not start: RCPT needs MAIL first
        r = c.rcpt("x@example.com")
        assert r.code == 503 or r.code >= 500, r
        d = c.cmd("DATA")
        assert d.code != 354, d
    assert relay.queue_ids() == []


@pytest.mark.parametrize("sender", [
    '"alice@example.jp"@evil.test',
    "alice@example.jp@evil.test",
    "alice%example.jp@evil.test",
    "@example.jp:alice@evil.test",
])
def test_envelope_sender_tricks_refused(relay, sender):
    with relay.session() as c:
        m = c.mail(sender)
        assert m.code >= 500, m
    assert relay.queue_ids() == []


# -- header From: --------------------------------------------------------------

def send_with_headers(relay, header_lines, account=ALICE, sender="alice@example.jp"):
    msg = ("\r\n".join(header_lines) + "\r\nTo: x@example.com\r\nSubject: from test\r\n"
           "Date: Thu, 27 Nov 2025 12:00:00 +0900\r\nMessage-ID: <f@client.test>\r\n\r\nbody\r\n")
    with relay.session(account) as c:
        m, rr, e = c.send_mail(sender, "x@example.com", msg.encode())
        assert m.code == 250, m
        assert rr[0].code == 250, rr
        after = c.cmd("NOOP")   # the session goes on
        assert after.code == 250, after
    return e


FOREIGN_FROM = {
    "plain": ["From: bob@example.org"],
    "display-name": ["From: Bob <bob@example.org>"],
    "display-name-looks-granted": ['From: "alice@example.jp" <bob@example.org>'],
    "comment-looks-granted": ["From: bob@example.org (alice@example.jp)"],
    "encoded-word": ["From: =?utf-8?q?alice=40example=2Ejp?= <bob@example.org>"],
    "two-from-lines-second": ["From: alice@example.jp", "From: bob@example.org"],
    "two-from-lines-first": ["From: bob@example.org", "From: alice@example.jp"],
    "list-second": ["From: alice@example.jp, bob@example.org"],
    "list-second-display": ["From: Alice <alice@example.jp>, Bob <bob@example.org>"],
    "group": ["From: Team: alice@example.jp, bob@example.org;"],
    "folded": ["From: Alice", " <bob@example.org>"],
    "lowercase-name": ["from: bob@example.org"],
    "no-space": ["From:bob@example.org"],
    "lookalike-domain": ["From: alice@example.jp.evil.test"],
    "lookalike-suffix": ["From: alice@xexample.jp"],
    "quoted-local": ['From: "alice@example.jp"@evil.test'],
    "nested-comment": ["From: (x (y) <alice@example.jp>) bob@example.org"],
    "quoted-angle-display": ['From: "<alice@example.jp>" <bob@example.org>'],
    "encoded-angle-display": ["From: =?utf-8?B?PGFsaWNlQGV4YW1wbGUuanA+?= <bob@example.org>"],
    "obs-route": ["From: <@example.jp:bob@example.org>"],
}

# Not acceptable, whatever the exact reason (5.7.1 foreign, 5.6.0 malformed).
UNACCEPTABLE_FROM = {
    "space-before-colon-second": ["From: alice@example.jp", "From : bob@example.org"],
    "tab-before-colon": ["From\t: bob@example.org"],
    "empty": ["From:"],
    "empty-group": ["From: undisclosed-recipients:;"],
    "two-addr-specs-no-comma": ["From: alice@example.jp", "\tbob@example.org"],
    "unterminated-angle": ["From: Alice <alice@example.jp"],
    "unterminated-quote": ['From: "Alice <alice@example.jp>'],
    "junk-line-before-from": ["X-Junk no colon here", "From: alice@example.jp"],
}


@pytest.mark.parametrize("name", sorted(UNACCEPTABLE_FROM))
def test_header_from_unacceptable(relay, name):
    e = send_with_headers(relay, UNACCEPTABLE_FROM[name])
    assert 500 <= e.code < 600, e
    assert relay.queue_ids() == []


@pytest.mark.parametrize("name", sorted(FOREIGN_FROM))
def test_header_from_foreign(relay, name):
    e = send_with_headers(relay, FOREIGN_FROM[name])
    assert e.code == 550, e
    assert e.last.startswith("5.7.1 Sender rejected"), e
    assert relay.queue_ids() == []


GRANTED_FROM = {
    "plain": ["From: alice@example.jp"],
    "display-name": ["From: Alice <alice@example.jp>"],
    "quoted-display-comma": ['From: "Yamada, Taro" <taro@example.jp>'],
    "comment": ["From: alice@example.jp (Alice)"],
    "encoded-word": ["From: =?UTF-8?B?5bGx55Sw5aSq6YOO?= <alice@example.jp>"],
    "folded": ["From: Alice", " <alice@example.jp>"],
    "upper-case-name-and-domain": ["FROM: Alice <alice@EXAMPLE.JP>"],
    "list-all-granted": ["From: alice@example.jp, taro@example.jp"],
    "group-all-granted": ["From: Team: alice@example.jp, taro@example.jp;"],
    "angle-only": ["From: <alice@example.jp>"],
    "utf8-display-name": ["From: 山田太郎 <alice@example.jp>"],
}


@pytest.mark.parametrize("name", sorted(GRANTED_FROM))
def test_header_from_granted(relay, name):
    e = send_with_headers(relay, GRANTED_FROM[name])
    assert e.code == 250, e
    assert e.queue_id() in relay.queue_ids()


def test_header_from_bob_exact_address_grant(relay):
    e = send_with_headers(relay, ["From: Bob <bob@example.org>"], account=BOB, sender="bob@example.org")
    assert e.code == 250, e
    e = send_with_headers(relay, ["From: Alice <alice@example.jp>"], account=BOB, sender="bob@example.org")
    assert e.code == 550 and e.last.startswith("5.7.1 Sender rejected"), e
    assert len(relay.queue_ids()) == 1


def test_header_from_missing(relay):
    msg = make_message(from_header=False, subject="no from")
    with relay.session() as c:
        _, _, e = c.send_mail("alice@example.jp", "x@example.com", msg)
        assert e.code == 550, e
        assert e.last.startswith("5.6.0"), e
    assert relay.queue_ids() == []


def test_header_from_only_in_body_is_missing(relay):
    msg = b"To: x@example.com\r\nSubject: s\r\n\r\nFrom: alice@example.jp\r\n"
    with relay.session() as c:
        _, _, e = c.send_mail("alice@example.jp", "x@example.com", msg)
        assert e.code == 550 and e.last.startswith("5.6.0"), e
    assert relay.queue_ids() == []


def test_null_sender_header_from_still_checked(relay):
    with relay.session() as c:
        _, _, e = c.send_mail("", "x@example.com", make_message(frm="Bob <bob@example.org>"))
        assert e.code == 550 and e.last.startswith("5.7.1 Sender rejected"), e
        _, _, e = c.send_mail("", "x@example.com", make_message(frm="Alice <alice@example.jp>"))
        assert e.code == 250, e
    assert len(relay.queue_ids()) == 1


def test_grant_changes_take_effect(relay):
    """grant add/del on a running relay apply to new sessions."""
    relay.cli("grant", "add", "alice", "someone@example.org")
    with relay.session() as c:
        m = c.mail("someone@example.org")
        assert m.code == 250, m
    relay.cli("grant", "del", "alice", "someone@example.org")
    with relay.session() as c:
        m = c.mail("someone@example.org")
        assert m.code == 550, m


# -- trusted networks ------------------------------------------------------------

TRUSTED_SRC = "127.0.0.2"


def test_trusted_network_without_auth(relay):
    relay.cli("account", "trust", "alice", TRUSTED_SRC + "/32")
    # from the trusted address: no TLS, no AUTH, alice's grants apply
    with relay.connect(source=TRUSTED_SRC) as c:
        assert c.greeting().code == 220
        c.ehlo()
        m = c.mail("alice@example.jp")
        assert m.code == 250, m
        assert c.rcpt("x@example.com").code == 250
        e = c.data(make_message(subject="trusted"))
        assert e.code == 250, e
        qid = e.queue_id()
        m = c.mail("bob@example.org")
        assert m.code == 550 and m.last == reject_text("bob@example.org", "alice"), m
        c.cmd("RSET")
        m, rr, e = c.send_mail("alice@example.jp", "x@example.com",
                               make_message(frm="bob@example.org", subject="trusted foreign"))
        assert e is not None and e.code == 550 and e.last.startswith("5.7.1"), e
    assert relay.queue_ids() == [qid]
    env, msg = relay.queued_message(qid)
    assert "alice" in env
    # from an untrusted loopback address: still needs TLS
    with relay.connect(source="127.0.0.3") as c:
        c.greeting()
        c.ehlo()
        m = c.mail("alice@example.jp")
        assert m.code == 530, m
    # untrust: the trusted address needs TLS again
    relay.cli("account", "untrust", "alice", TRUSTED_SRC + "/32")
    with relay.connect(source=TRUSTED_SRC) as c:
        c.greeting()
        c.ehlo()
        m = c.mail("alice@example.jp")
        assert m.code == 530, m


def test_trusted_network_cidr(relay):
    relay.cli("account", "trust", "bob", "127.0.0.0/8")
    with relay.connect(source="127.9.8.7") as c:
        c.greeting()
        assert c.cmd("HELO client.test").code == 250    # plain HELO clients too
        m, rr, e = c.send_mail("bob@example.org", "x@example.com",
                               make_message(frm="bob@example.org"))
        assert m.code == 250, m
        assert e.code == 250, e
        m = c.mail("alice@example.jp")
        assert m.code == 550 and m.last == reject_text("alice@example.jp", "bob"), m
    assert len(relay.queue_ids()) == 1


def test_from_in_body_or_attachment_ignored(relay):
    msg = ("From: alice@example.jp\r\nTo: x@example.com\r\nSubject: fwd\r\n"
           "MIME-Version: 1.0\r\nContent-Type: message/rfc822\r\n\r\n"
           "From: bob@example.org\r\nSubject: inner\r\n\r\ninner body\r\n")
    with relay.session() as c:
        _, _, e = c.send_mail("alice@example.jp", "x@example.com", msg.encode())
        assert e.code == 250, e


def test_transaction_reset_after_from_rejection(relay):
    with relay.session() as c:
        _, _, e = c.send_mail("alice@example.jp", "x@example.com", make_message(frm="bob@example.org"))
        assert e.code == 550, e
        r = c.rcpt("y@example.com")
        assert r.code == 503, r
        _, _, e = c.send_mail("alice@example.jp", "x@example.com", make_message())
        assert e.code == 250, e
    assert len(relay.queue_ids()) == 1


def test_grant_domain_case_insensitive(relay):
    relay.cli("grant", "add", "bob", "@Example.NET")
    with relay.session(BOB) as c:
        m = c.mail("carol@example.net")
        assert m.code == 250, m
        c.rcpt("x@example.com")
        e = c.data(make_message(frm="Carol <carol@EXAMPLE.net>"))
        assert e.code == 250, e
