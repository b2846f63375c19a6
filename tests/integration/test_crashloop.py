"""Crash loop (issue 5): under load, kill -9 the relay at random moments and
restart it, many times. Every message a client saw "250" for must reach the
MX at least once; the queue database must stay intact; duplicates are counted
and reported (at-least-once delivery allows them).

CRASHLOOP_ROUNDS (default 20) and CRASHLOOP_CLIENTS (default 4) scale it up
for a long run: CRASHLOOP_ROUNDS=200 tests/integration/run.sh -k crashloop
"""
import os
import random
import re
import smtplib
import sqlite3
import threading
import time

from mx import MX

ROUNDS = int(os.environ.get("CRASHLOOP_ROUNDS", "20"))
CLIENTS = int(os.environ.get("CRASHLOOP_CLIENTS", "4"))
MX_ADDR = "127.0.0.9"


class Load:
    """Client threads submitting numbered messages from a trusted network."""

    def __init__(self, relay):
        self.relay = relay
        self.acked = {}          # marker -> queue id
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.counter = 0
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(CLIENTS)]

    def next_marker(self):
        with self.lock:
            self.counter += 1
            return "crash-%06d" % self.counter

    def submit_one(self, smtp):
        marker = self.next_marker()
        msg = ("From: alice@example.jp\r\nTo: r@example.net\r\nSubject: %s\r\n"
               "X-Marker: %s\r\n\r\nbody of %s\r\n" % (marker, marker, marker))
        if smtp.mail("alice@example.jp")[0] != 250 or smtp.rcpt("r@example.net")[0] != 250:
            raise smtplib.SMTPException("refused")
        code, text = smtp.data(msg.encode())
        if code == 250:
            qid = re.search(rb"queued as ([0-9A-Z]+)", text).group(1).decode()
            with self.lock:
                self.acked[marker] = qid

    def run(self):
        while not self.stop.is_set():
            try:
                with smtplib.SMTP("127.0.0.1", self.relay.starttls_port, timeout=5) as smtp:
                    smtp.ehlo()
                    for _ in range(random.randint(1, 20)):
                        if self.stop.is_set():
                            break
                        self.submit_one(smtp)
            except (OSError, smtplib.SMTPException):
                time.sleep(0.02)     # the relay is down or restarting

    def start(self):
        for t in self.threads:
            t.start()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(15)


def received_markers(mx):
    out = []
    for m in list(mx.messages):
        found = re.search(rb"X-Marker: (crash-\d+)", m.content)
        if found:
            out.append(found.group(1).decode())
    return out


def test_crash_loop_loses_nothing(relay_factory):
    mx = MX(MX_ADDR).start()
    relay = relay_factory(route="* %s:25" % MX_ADDR, retry_backoff="1s 1s",
                          queue_scan_interval="1s", smtp_reply_timeout="5s",
                          max_sessions="200")
    relay.cli("account", "trust", "alice", "127.0.0.0/8")
    load = Load(relay)
    load.start()
    try:
        for _ in range(ROUNDS):
            time.sleep(random.uniform(0.1, 0.6))
            relay.kill9()
            relay.start()
    finally:
        load.finish()
    assert len(load.acked) > ROUNDS, "the load hardly ran: %d acked" % len(load.acked)

    # Let the queue drain, bounded.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and relay.queue_ids():
        time.sleep(0.2)
    assert relay.queue_ids() == [], "queue did not drain: %s" % relay.queue_list()

    got = received_markers(mx)
    lost = sorted(set(load.acked) - set(got))
    dups = len(got) - len(set(got))
    print("crash loop: %d rounds, %d acknowledged, %d received, %d duplicates, %d lost"
          % (ROUNDS, len(load.acked), len(got), dups, len(lost)))
    assert not lost, "acknowledged but never delivered: %s" % lost[:10]
    relay.stop()
    db = sqlite3.connect(os.path.join(relay.spool, "hikyaku.db"))
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
    mx.stop()
