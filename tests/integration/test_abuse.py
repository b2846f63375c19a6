"""Abuse at scale (issue 5): ten thousand recipients, and relay attempts in
every address form from a client that has not authenticated."""
import threading

import pytest

from helpers import make_message


def test_ten_thousand_rcpts(relay):
    """10,000 pipelined RCPTs: 1,000 accepted, then 452 4.5.3 until the error
    limit hangs up with 421; the daemon stays up and serves the next client.
    (Plain text from a trusted network: the test writes and reads at once
    from two threads, which a TLS socket does not allow.)"""
    relay.cli("account", "trust", "alice", "127.0.0.0/8")
    c = relay.connect()
    with c:
        assert c.greeting().code == 220
        c.ehlo()
        lines = [b"MAIL FROM:<alice@example.jp>"]
        lines += [("RCPT TO:<r%d@example.com>" % i).encode() for i in range(10000)]
        sender = threading.Thread(target=lambda: c.send(b"\r\n".join(lines) + b"\r\n"),
                                  daemon=True)
        sender.start()
        codes = []
        try:
            while len(codes) < 10001:
                r = c.reply(timeout=30)
                codes.append(r.code)
                if r.code == 421:
                    break
        except (EOFError, OSError):
            pass
        sender.join(30)
    summary = (len(codes), codes[:3], sorted(set(codes)))
    assert codes[0] == 250, summary
    assert codes[1:1001] == [250] * 1000, summary
    rest = codes[1001:]
    assert rest and set(rest) <= {452, 421}, sorted(set(rest))
    assert rest[-1] == 421, "the error limit did not hang up"
    assert relay.alive
    with relay.session() as c:
        _, _, e = c.send_mail("alice@example.jp", "x@example.com", make_message())
        assert e.code == 250, e


@pytest.mark.parametrize("rcpt", [
    "victim%example.net@example.jp", "example.net!victim", "@example.jp:victim@example.net",
    '"victim@example.net"@example.jp', "victim@[192.0.2.1]", "victim@example.net",
])
def test_unauthenticated_relay_refused_in_every_form(relay, rcpt):
    """Without AUTH (and not from a trusted network) no transaction starts,
    whatever the address looks like: MAIL gets 530, RCPT 503, DATA 503."""
    c = relay.connect()
    with c:
        assert c.greeting().code == 220
        c.ehlo()
        c.starttls()
        c.ehlo()
        assert c.cmd("MAIL FROM:<victim@example.net>").code == 530
        assert c.cmd("RCPT TO:<%s>" % rcpt).code == 503
        assert c.cmd("DATA").code == 503
    assert relay.queue_ids() == []
