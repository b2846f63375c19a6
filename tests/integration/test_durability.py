"""Durability: a 250 means the message survives kill -9; a full disk never
turns into a lost message."""
import os
import smtplib
import socket
import threading


from harness import ALICE
from helpers import QUEUED_RE, make_message, unverified_context


def submit_smtplib(relay, marker):
    s = smtplib.SMTP(relay.host, relay.starttls_port, local_hostname="client.test", timeout=20)
    s.starttls(context=unverified_context())
    s.login(*ALICE)
    assert s.mail("alice@example.jp")[0] == 250
    assert s.rcpt("rcpt@example.com")[0] == 250
    code, resp = s.data(make_message(subject=marker, body=marker))
    return s, code, resp


def test_kill9_after_250(relay):
    accepted = {}
    for i in range(5):
        marker = "DURABLE-%d-%s" % (i, os.urandom(4).hex())
        s, code, resp = submit_smtplib(relay, marker)
        relay.kill9()            # the instant the 250 is in
        s.close()
        assert code == 250, resp
        qid = QUEUED_RE.search(resp.decode()).group(1)
        accepted[qid] = marker
        relay.start()
        for q, m in accepted.items():
            p = relay.queue_show(q, check=False)
            assert p.returncode == 0, "after kill -9 #%d: %s lost: %s" % (i, q, p.stderr)
            assert m in p.stdout, p.stdout
        assert sorted(relay.queue_ids()) == sorted(accepted)


def test_kill9_under_concurrent_load(relay):
    """Several sessions submit in a loop; kill -9 mid-stream; every message
    that got a 250 is in the queue after restart."""
    accepted = []
    lock = threading.Lock()
    stop = threading.Event()

    def worker(n):
        try:
            c = relay.session()
        except Exception:
            return
        with c:
            for i in range(200):          # bounded
                if stop.is_set():
                    return
                try:
                    _, _, e = c.send_mail("alice@example.jp", "x@example.com",
                                          make_message(subject="load %d %d" % (n, i)))
                except (EOFError, OSError, socket.timeout):
                    return
                if e is not None and e.code == 250:
                    with lock:
                        accepted.append(e.queue_id())

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(4)]
    for t in threads:
        t.start()
    # wait until a few are in, then pull the plug
    for _ in range(200):
        with lock:
            if len(accepted) >= 20:
                break
        threading.Event().wait(0.02)
    relay.kill9()
    stop.set()
    for t in threads:
        t.join(15)
    with lock:
        got = list(accepted)
    assert got, "nothing was accepted before the kill"
    relay.start()
    ids = set(relay.queue_ids())
    lost = [q for q in got if q not in ids]
    assert not lost, "%d of %d acknowledged messages lost: %s" % (len(lost), len(got), lost[:10])


def test_write_failure_on_full_spool(relay_factory):
    r = relay_factory(tmpfs="1m", min_free_space=0)
    body = "".join("%06d %s\r\n" % (i, "w" * 70) for i in range(400))   # ~31 KB
    accepted = []
    refusals = []
    c = r.session()
    try:
        for i in range(120):                      # 120 * 31 KB >> 1 MiB
            try:
                m, rr, e = c.send_mail("alice@example.jp", "x@example.com",
                                       make_message(subject="fill %d" % i, body=body))
            except (EOFError, OSError, socket.timeout):
                c.close()
                c = r.session()
                continue
            final = e if e is not None else (rr[-1] if rr else m)
            if final.code == 250:
                accepted.append(final.queue_id())
            else:
                refusals.append(str(final))
                assert final.code in (451, 452), final
                if final.code == 451:
                    assert final.last.startswith("4.3.0"), final
                if len(refusals) >= 3:
                    break
                c.cmd("RSET")
    finally:
        c.close()
    assert refusals, "1 MiB spool never filled up (%d accepted)" % len(accepted)
    assert r.alive, "daemon died on a full spool:\n" + r.log()[-2000:]
    ids = set(r.queue_ids())
    lost = [q for q in accepted if q not in ids]
    assert not lost, "acknowledged but not queued: %s" % lost
    with r.connect() as c2:
        assert c2.greeting().code == 220
        assert c2.ehlo().code == 250
