"""Delivery faults (issue 5): an MX that drops the connection after the final
dot, and a DNS server that answers with garbage. Each ends in a deferral
(4.x.x), the daemon stays up, and the mail is delivered once things are
sane again."""
import os
import socket
import threading

from mx import SENDER, mx_records, simple_smtp, world  # noqa: F401

FLAKY = "127.0.0.62"


def test_disconnect_after_final_dot_then_delivered(world):
    """The first connection takes the whole message and hangs up instead of
    answering the dot: deferred (the MX may or may not have it - at least
    once). The retry is answered: sent."""
    world.sender_mx()

    def script(conn, n):        # n counts connections from 1
        if n > 1:
            simple_smtp(conn, mx)
            return
        conn.send(b"220 flaky.example ESMTP\r\n")
        while True:
            line = conn.readline(10)
            if line is None:
                return
            verb = line[:4].upper()
            if verb == b"EHLO":
                conn.send(b"250-flaky.example\r\n250 PIPELINING\r\n")
            elif verb == b"DATA":
                conn.send(b"354 go\r\n")
                while line is not None and line != b".":
                    line = conn.readline(10)
                return          # the dot read, no reply: connection closed
            else:
                conn.send(b"250 ok\r\n")

    mx = world.raw_mx(FLAKY, script)
    world.start(records=mx_records("flaky.example", (10, "mx.flaky.example", FLAKY)))
    qid = world.submit("f@flaky.example")
    o = world.wait_outcome(qid, "f@flaky.example", "deferred", timeout=10)
    assert o[5].startswith("4."), o
    world.wait_outcome(qid, "f@flaky.example", "sent", timeout=15)
    assert len(mx.wait_messages(1, timeout=5)) == 1
    world.wait_gone(qid)
    assert world.relay.alive


class GarbageDNS:
    """A UDP 'DNS server' on loopback: half of its answers echo the query's
    ID followed by random bytes, the other half are random bytes alone."""

    def __init__(self, addr="127.0.0.55"):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((addr, 0))
        self.addr, self.port = self.sock.getsockname()
        self.sock.settimeout(0.2)
        self.stopping = threading.Event()
        self.queries = 0
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stopping.is_set():
            try:
                q, peer = self.sock.recvfrom(4096)
            except OSError:
                continue
            self.queries += 1
            junk = os.urandom(64 + self.queries % 200)
            answer = q[:2] + junk if self.queries % 2 else junk
            try:
                self.sock.sendto(answer, peer)
            except OSError:
                pass

    def stop(self):
        self.stopping.set()
        self.thread.join(5)
        self.sock.close()


def test_garbage_dns_answers_defer(relay_factory):
    dns = GarbageDNS()
    try:
        relay = relay_factory(resolver="%s:%d" % (dns.addr, dns.port), dns_timeout="2s",
                              retry_backoff="1s 1s", queue_scan_interval="1s")
        with relay.session() as c:
            from helpers import make_message
            _, _, e = c.send_mail(SENDER, "g@garbage.example", make_message(subject="garbage dns"))
            assert e.code == 250, e
            qid = e.queue_id()
        assert relay.wait_log(r"%s: to=<g@garbage.example>, .*dsn=4\.4\.3, status=deferred" % qid,
                              timeout=15), relay.log()[-3000:]
        assert dns.queries > 0, "the resolver was never asked"
        assert relay.alive
        assert qid in relay.queue_ids()
    finally:
        dns.stop()


REUSE = "127.0.0.63"


def test_reused_connection_is_reset_first(world):
    """The second message to a domain rides the idle connection, after an
    RSET that proves the connection still works."""
    world.sender_mx()
    mx = world.raw_mx(REUSE, lambda conn, n: simple_smtp(conn, mx))
    world.start(records=mx_records("again.example", (10, "mx.again.example", REUSE)))
    q1 = world.submit("a@again.example")
    world.wait_outcome(q1, "a@again.example", "sent")
    q2 = world.submit("b@again.example")      # within the 2 s idle time
    world.wait_outcome(q2, "b@again.example", "sent")
    verbs = [c[:4].upper() for c in mx.commands]
    assert len(mx.conns) == 1, verbs
    assert verbs.count(b"MAIL") == 2, verbs
    second = [i for i, v in enumerate(verbs) if v == b"MAIL"][1]
    assert verbs[second - 1] == b"RSET", verbs
