"""Delivery (issue 3): queue commands on a live daemon, and restarts.

The retry schedule is an hour here, so that only the commands (or a restart)
make a deferred recipient be tried again.
"""
import datetime
import re
import time

from helpers import wait_for
from mx import SENDER, delivery_status, mx_records, world  # noqa: F401

HOUR = {"retry_backoff": "1h 1h"}


def records():
    return (mx_records("good.example", (10, "mx.good.example", "127.0.0.40")) +
            mx_records("down1.example", (10, "mx.down1.example", "127.0.0.41")) +
            mx_records("down2.example", (10, "mx.down2.example", "127.0.0.42")))


def parse_utc(s):
    return datetime.datetime.strptime(s.strip(), "%Y-%m-%d %H:%M:%S").replace(
        tzinfo=datetime.timezone.utc)


def test_queue_show_states_attempts_next_attempt_last_reply(world):
    world.sender_mx()
    good = world.mx("127.0.0.40", name="mx.good.example")
    good.rcpt_replies["busy@good.example"] = ["452 4.2.2 Mailbox full, try again"]
    world.start(records=records(), **HOUR)
    qid = world.submit(["ok@good.example", "busy@good.example", "x@down1.example"])
    world.wait_outcome(qid, "ok@good.example", "sent")
    world.wait_outcome(qid, "busy@good.example", "deferred")
    world.wait_outcome(qid, "x@down1.example", "deferred")
    rs = world.queue_rcpts(qid)
    assert set(rs) == {"ok@good.example", "busy@good.example", "x@down1.example"}, rs
    ok, busy, down = rs["ok@good.example"], rs["busy@good.example"], rs["x@down1.example"]
    assert ok["state"] == "sent" and ok["attempts"] == 1, ok
    assert ok["dsn"] == "2.0.0" and "mx.good.example[127.0.0.40]:25" in ok["relay"], ok
    assert busy["state"] == "deferred" and busy["attempts"] == 1, busy
    assert busy["dsn"] == "4.2.2", busy
    assert busy["last_reply"] and "452 4.2.2 Mailbox full" in busy["last_reply"], busy
    assert down["state"] == "deferred" and down["attempts"] == 1, down
    assert down["last_reply"] and re.search(r"refused", down["last_reply"], re.I), down
    now = datetime.datetime.now(datetime.timezone.utc)
    for r in (busy, down):
        nxt = parse_utc(r["next_attempt"])
        assert datetime.timedelta(minutes=55) < nxt - now < datetime.timedelta(minutes=65), r
    # the message follows a blank line
    env, msg = world.relay.queued_message(qid)
    assert "Subject: delivery test" in msg
    assert qid in world.relay.queue_ids()


def test_queue_flush_retries_deferred_now(world):
    world.sender_mx()
    world.start(records=records(), **HOUR)
    q1 = world.submit("a@down1.example")
    q2 = world.submit("b@down2.example")
    world.wait_outcome(q1, "a@down1.example", "deferred")
    world.wait_outcome(q2, "b@down2.example", "deferred")
    m1 = world.mx("127.0.0.41", name="mx.down1.example")
    m2 = world.mx("127.0.0.42", name="mx.down2.example")
    time.sleep(1.3)            # a scan interval: the backoff holds, nothing is tried
    assert m1.messages == [] and m2.messages == []
    assert len(world.outcomes(q1)) == 1, world.outcomes(q1)
    world.relay.cli("queue", "flush")
    world.wait_outcome(q1, "a@down1.example", "sent", timeout=6)
    world.wait_outcome(q2, "b@down2.example", "sent", timeout=6)
    assert len(m1.wait_messages(1)) == 1 and len(m2.wait_messages(1)) == 1
    world.wait_gone(q1)
    world.wait_gone(q2)


def test_queue_retry_one_message(world):
    world.sender_mx()
    world.start(records=records(), **HOUR)
    q1 = world.submit("a@down1.example")
    q2 = world.submit("b@down2.example")
    world.wait_outcome(q1, "a@down1.example", "deferred")
    world.wait_outcome(q2, "b@down2.example", "deferred")
    m1 = world.mx("127.0.0.41", name="mx.down1.example")
    m2 = world.mx("127.0.0.42", name="mx.down2.example")
    world.relay.cli("queue", "retry", q1)
    world.wait_outcome(q1, "a@down1.example", "sent", timeout=6)
    world.wait_gone(q1)
    time.sleep(1.2)
    assert m2.messages == [], "queue retry %s also retried %s" % (q1, q2)
    assert world.queue_rcpts(q2)["b@down2.example"]["state"] == "deferred"
    assert world.queue_rcpts(q2)["b@down2.example"]["attempts"] == 1
    # unknown ID: an error, nothing else happens
    p = world.relay.cli("queue", "retry", "NOSUCHID0000", check=False)
    assert p.returncode != 0, p.stdout


def test_queue_delete_live(world):
    world.sender_mx()
    world.start(records=records(), **HOUR)
    q1 = world.submit("a@down1.example")
    world.wait_outcome(q1, "a@down1.example", "deferred")
    world.relay.cli("queue", "delete", q1)
    assert q1 not in world.relay.queue_ids()
    assert world.relay.queue_show(q1, check=False).returncode != 0
    m1 = world.mx("127.0.0.41", name="mx.down1.example")
    world.relay.cli("queue", "flush")
    time.sleep(1.3)
    assert m1.messages == [] and m1.connections == 0
    assert world.dsns() == []
    assert world.relay.alive
    p = world.relay.cli("queue", "delete", q1, check=False)
    assert p.returncode != 0


def test_queue_bounce_live_sends_dsn(world):
    world.sender_mx()
    world.start(records=records(), **HOUR)
    qid = world.submit(["a@down1.example", "b@down2.example"], subject="give up")
    world.wait_outcome(qid, "a@down1.example", "deferred")
    world.wait_outcome(qid, "b@down2.example", "deferred")
    world.relay.cli("queue", "bounce", qid)
    dsn = world.wait_dsn(1, timeout=8)[0]
    per_msg, per_rcpt, parts = delivery_status(dsn.parsed())
    got = {b["Final-Recipient"].split(";", 1)[1].strip(): b for b in per_rcpt}
    assert set(got) == {"a@down1.example", "b@down2.example"}, [b.items() for b in per_rcpt]
    for b in got.values():
        assert b["Action"] == "failed", b.items()
        assert re.fullmatch(r"5\.\d{1,3}\.\d{1,3}", b["Status"]), b.items()
    assert "give up" in parts[2].get_payload(decode=True).decode()
    world.wait_gone(qid)
    # the MXes come up: nothing is sent for a bounced message
    m1 = world.mx("127.0.0.41", name="mx.down1.example")
    world.relay.cli("queue", "flush")
    time.sleep(1.2)
    assert m1.messages == []
    assert len(world.dsns()) == 1


def test_delete_while_being_delivered(world):
    """queue delete of a message whose delivery is in progress: the daemon
    drops the results and carries on."""
    world.sender_mx()
    import threading
    release = threading.Event()
    got_dot = threading.Event()

    def slow(conn, n):
        conn.send(b"220 slow.example ESMTP\r\n")
        while True:
            line = conn.readline(15)
            if line is None:
                return
            if line.upper().startswith(b"EHLO"):
                conn.send(b"250 slow.example\r\n")
            elif line.upper().startswith(b"MAIL") or line.upper().startswith(b"RCPT"):
                conn.send(b"250 ok\r\n")
            elif line.upper() == b"DATA":
                conn.send(b"354 go\r\n")
                while conn.readline(15) not in (b".", None):
                    pass
                got_dot.set()
                release.wait(10)
                conn.send(b"250 2.0.0 taken\r\n")
            elif line.upper() == b"QUIT":
                conn.send(b"221 bye\r\n")
                return
            else:
                conn.send(b"250 ok\r\n")
    raw = world.raw_mx("127.0.0.43", slow)
    world.start(records=mx_records("slow.example", (10, "mx.slow.example", "127.0.0.43")),
                smtp_reply_timeout="10s")
    qid = world.submit("s@slow.example")
    assert got_dot.wait(8), world.log()[-2000:]
    world.relay.cli("queue", "delete", qid)
    release.set()
    world.wait_log(r"%s: removed from the queue during delivery" % qid, timeout=8)
    assert qid not in world.relay.queue_ids()
    assert world.relay.alive
    # still working
    good = world.mx("127.0.0.40", name="mx.good.example")
    world.set_records(records())
    q2 = world.submit("after@good.example")
    world.wait_outcome(q2, "after@good.example", "sent")
    assert len(good.wait_messages(1)) == 1


def test_restart_with_deferred_mail_delivered_once(world):
    world.sender_mx()
    world.start(records=records())            # retry schedule 1 s .. 2 s
    qid = world.submit(["a@down1.example", "b@down1.example"])
    world.wait_outcome(qid, "a@down1.example", "deferred")
    world.relay.stop()
    mx = world.mx("127.0.0.41", name="mx.down1.example")
    time.sleep(0.5)
    assert mx.messages == []
    t0 = time.monotonic()
    world.relay.start()
    world.wait_outcome(qid, "a@down1.example", "sent", timeout=8)
    world.wait_outcome(qid, "b@down1.example", "sent", timeout=8)
    assert time.monotonic() - t0 < 5, "deferred mail not picked up promptly at start-up"
    world.wait_gone(qid)
    time.sleep(0.5)
    assert len(mx.messages) == 1, mx.messages
    assert sorted(mx.messages[0].rcpt_tos) == ["a@down1.example", "b@down1.example"]
    # once more: a restart after delivery sends nothing again
    world.relay.restart()
    time.sleep(1.2)
    assert len(mx.messages) == 1


def test_restart_with_partly_delivered_message(world):
    """One recipient sent, one deferred, then a restart: only the deferred one
    is tried again."""
    world.sender_mx()
    good = world.mx("127.0.0.40", name="mx.good.example")
    good.rcpt_replies["later@good.example"] = ["451 4.3.0 later"]
    world.start(records=records(), **HOUR)
    qid = world.submit(["now@good.example", "later@good.example"])
    world.wait_outcome(qid, "now@good.example", "sent")
    world.wait_outcome(qid, "later@good.example", "deferred")
    good.rcpt_replies["later@good.example"] = ["250 2.1.5 OK now"]
    world.relay.restart()
    world.relay.cli("queue", "flush")
    world.wait_outcome(qid, "later@good.example", "sent", timeout=8)
    world.wait_gone(qid)
    assert sorted(good.recipients()) == ["later@good.example", "now@good.example"]
    assert len(good.messages) == 2
