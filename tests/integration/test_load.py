"""Bounded concurrency: many sessions at once, idle connections, aborted DATA."""
import socket
import threading
import time

from helpers import make_message

SESSIONS = 16
PER_SESSION = 8


def test_concurrent_sessions_all_queued(relay):
    accepted, errors = [], []
    lock = threading.Lock()

    def worker(n):
        try:
            with relay.session(timeout=30) as c:
                for i in range(PER_SESSION):
                    _, _, e = c.send_mail("alice@example.jp", ["a%d@example.com" % n, "b@example.net"],
                                          make_message(subject="load %d/%d" % (n, i)))
                    with lock:
                        (accepted if e is not None and e.code == 250 else errors).append(
                            e.queue_id() if e is not None and e.code == 250 else str(e))
        except Exception as ex:          # noqa: BLE001 - reported below
            with lock:
                errors.append(repr(ex))

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(SESSIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors[:5]
    assert len(accepted) == SESSIONS * PER_SESSION
    assert len(set(accepted)) == len(accepted), "duplicate queue IDs"
    assert sorted(relay.queue_ids()) == sorted(accepted)


def test_idle_connections_do_not_block(relay):
    idle = []
    try:
        for _ in range(50):
            idle.append(socket.create_connection((relay.host, relay.starttls_port), timeout=5))
        # a TLS port client that never starts its handshake
        for _ in range(10):
            idle.append(socket.create_connection((relay.host, relay.tls_port), timeout=5))
        t = time.monotonic()
        with relay.session() as c:
            _, _, e = c.send_mail("alice@example.jp", "x@example.com", make_message())
            assert e.code == 250, e
        assert time.monotonic() - t < 5
    finally:
        for s in idle:
            s.close()


def test_connection_lost_in_data_queues_nothing(relay):
    c = relay.session()
    c.mail("alice@example.jp")
    c.rcpt("x@example.com")
    assert c.cmd("DATA").code == 354
    c.send(make_message(subject="aborted")[:-2])     # no final CRLF.CRLF
    c.close()
    time.sleep(0.3)
    assert relay.alive
    assert relay.queue_ids() == []
    with relay.session() as c:
        _, _, e = c.send_mail("alice@example.jp", "x@example.com", make_message())
        assert e.code == 250, e
