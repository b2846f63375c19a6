"""The scheduler under backlog (issue 8): one queue per destination served
round-robin, dead destinations backed off as a whole, concurrency that
follows "too many connections", rates held at the MX, and a restart with
20,000 recipients in the queue.

Destinations are `route` targets on 127.0.0.x:25 (each its own queue);
the MXes are RawMX scripts that count connections and time what they get.
"""
import os
import re
import threading
import time

import pytest

from helpers import make_message, wait_for
from mx import SENDER, simple_smtp, world  # noqa: F401

SUSPENDED_RE = re.compile(r"status=deferred \(delivery temporarily suspended: ")


def submit_many(relay, items, sender=SENDER):
    """Submit [(rcpts, subject)] over one authenticated session; returns queue ids."""
    from harness import ALICE
    ids = []
    c = relay.session(ALICE)
    try:
        for rcpts, subject in items:
            if isinstance(rcpts, str):
                rcpts = [rcpts]
            msg = make_message(frm=sender, to=", ".join(rcpts[:3]), subject=subject)
            m, rr, d = c.send_mail(sender, rcpts, msg)
            assert m.code == 250 and all(r.code == 250 for r in rr), (m, rr)
            assert d is not None and d.code == 250, d
            ids.append(d.queue_id())
        c.quit()
    finally:
        c.close()
    return ids


class CountingMX:
    """A RawMX script: SMTP with PIPELINING, the time of each MAIL, the
    number of sessions at once, an optional limit above which a session is
    greeted with 421, an optional delay before the reply to the final dot,
    and a switch that makes it drop every connection at once (dead)."""

    def __init__(self, limit=None, dot_delay=0.0, dead=False):
        self.limit = limit
        self.dot_delay = dot_delay
        self.dead = dead
        self.lock = threading.Lock()
        self.active = 0
        self.peak = 0
        self.refused = 0
        self.mail_times = []
        self.subjects = []
        self.rcpts = []

    def __call__(self, conn, n):
        if self.dead:
            return      # accepted and closed: no greeting, the session fails at once
        with self.lock:
            if self.limit is not None and self.active >= self.limit:
                self.refused += 1
                refuse = True
            else:
                self.active += 1
                self.peak = max(self.peak, self.active)
                refuse = False
        if refuse:
            conn.send(b"421 4.7.0 Too many concurrent SMTP connections from this IP\r\n")
            return
        try:
            self.session(conn)
        finally:
            with self.lock:
                self.active -= 1

    def session(self, conn):
        conn.send(b"220 count.test ESMTP\r\n")
        rcpts = []
        while True:
            line = conn.readline(15)
            if line is None:
                return
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                conn.send(b"250-count.test\r\n250 PIPELINING\r\n")
            elif verb == b"MAIL":
                with self.lock:
                    self.mail_times.append(time.monotonic())
                rcpts = []
                conn.send(b"250 2.1.0 OK\r\n")
            elif verb == b"RCPT":
                rcpts.append(line[8:].strip(b"<>").decode())
                conn.send(b"250 2.1.5 OK\r\n")
            elif verb == b"DATA":
                conn.send(b"354 go ahead\r\n")
                subject = None
                while True:
                    l = conn.readline(15)
                    if l is None:
                        return
                    if l == b".":
                        break
                    if subject is None and l.lower().startswith(b"subject: "):
                        subject = l[9:].decode()
                if self.dot_delay:
                    time.sleep(self.dot_delay)
                with self.lock:
                    self.subjects.append(subject)
                    self.rcpts.extend(rcpts)
                conn.send(b"250 2.0.0 Ok: queued\r\n")
            elif verb in (b"RSET", b"NOOP"):
                conn.send(b"250 2.0.0 OK\r\n")
            elif verb == b"QUIT":
                conn.send(b"221 2.0.0 Bye\r\n")
                return
            else:
                conn.send(b"502 5.5.2 what\r\n")

    def delivered(self):
        with self.lock:
            return len(self.subjects)


def start_world(world, routes, extra=(), **config):
    world.sender_mx()
    r = world.start(routes=routes, start_relay=False, **config)
    r.extra_lines.extend(extra)
    r.write_config()
    r.start()
    return r


def test_slow_and_dead_destinations_do_not_delay_a_healthy_one(world):
    fast, slow, dead = CountingMX(), CountingMX(dot_delay=2.0), CountingMX(dead=True)
    fast_mx = world.raw_mx("127.0.0.10", fast)
    world.raw_mx("127.0.0.11", slow)
    dead_mx = world.raw_mx("127.0.0.12", dead)
    relay = start_world(world, ["fast.example 127.0.0.10", "slow.example 127.0.0.11",
                                "dead.example 127.0.0.12"],
                        extra=["destination fast.example max-connections 1"],
                        retry_backoff="2s 4s")
    # the backlog first: 40 for a slow MX (2 s per message), 60 for a dead one
    submit_many(relay, [("s%d@slow.example" % i, "slow %d" % i) for i in range(40)] +
                [("d%d@dead.example" % i, "dead %d" % i) for i in range(60)])
    t0 = time.monotonic()
    submit_many(relay, [("f%d@fast.example" % i, "fast %d" % i) for i in range(30)])
    assert wait_for(lambda: fast.delivered() >= 30, 20), (
        "healthy mail stuck behind the backlog: %d of 30 delivered\n%s"
        % (fast.delivered(), relay.log()[-3000:]))
    took = time.monotonic() - t0
    # healthy mail went while the slow MX still had most of its backlog
    assert slow.delivered() < 40, (took, slow.delivered())
    # in order of arrival (one connection for fast.example)
    assert fast.subjects == ["fast %d" % i for i in range(30)], fast.subjects
    # the dead destination was tried a few times as a whole, not once per message
    assert wait_for(lambda: len(SUSPENDED_RE.findall(relay.log())) >= 50, 15), relay.log()[-3000:]
    assert len(dead_mx.conns) <= 10, "dead MX contacted %d times" % len(dead_mx.conns)
    assert re.search(r"destination \[127\.0\.0\.12\]:25 is not responding", relay.log())
    assert fast_mx.errors == [], fast_mx.errors


def test_dead_destination_recovers_when_it_comes_back(world):
    dead = CountingMX(dead=True)
    dead_mx = world.raw_mx("127.0.0.12", dead)
    relay = start_world(world, ["dead.example 127.0.0.12"], retry_backoff="1s 2s")
    submit_many(relay, [("d%d@dead.example" % i, "dead %d" % i) for i in range(30)])
    assert wait_for(lambda: len(SUSPENDED_RE.findall(relay.log())) >= 20, 15), relay.log()[-3000:]
    tried_while_dead = len(dead_mx.conns)
    assert tried_while_dead <= 8, tried_while_dead
    dead.dead = False   # it comes back; the next probe finds it
    assert wait_for(lambda: dead.delivered() >= 30, 30), (dead.delivered(), relay.log()[-3000:])
    assert sorted(dead.rcpts) == sorted("d%d@dead.example" % i for i in range(30))
    assert wait_for(lambda: relay.queue_ids() == [], 10), relay.queue_list()


def test_queue_flush_revives_a_dead_destination_at_once(world):
    dead = CountingMX(dead=True)
    world.raw_mx("127.0.0.12", dead)
    # a long backoff: only the flush can bring the mail back within the test
    relay = start_world(world, ["dead.example 127.0.0.12"], retry_backoff="1h 4h")
    submit_many(relay, [("d%d@dead.example" % i, "dead %d" % i) for i in range(10)])
    assert wait_for(lambda: len(SUSPENDED_RE.findall(relay.log())) >= 5, 15), relay.log()[-3000:]
    dead.dead = False
    relay.cli("queue", "flush")
    assert wait_for(lambda: dead.delivered() >= 10, 15), (dead.delivered(), relay.log()[-3000:])
    assert "queue changed by the administrator" in relay.log()


def test_concurrency_drops_on_421_and_recovers(world):
    mx = CountingMX(limit=3, dot_delay=0.2)
    world.raw_mx("127.0.0.13", mx)
    relay = start_world(world, ["conc.example 127.0.0.13"],
                        extra=["destination conc.example max-connections 10"])
    submit_many(relay, [("c%d@conc.example" % i, "conc %d" % i) for i in range(40)])
    assert wait_for(lambda: mx.delivered() >= 40, 30), (mx.delivered(), relay.log()[-3000:])
    assert mx.refused >= 1, "the MX never had to refuse: the test proves nothing"
    assert mx.peak <= 3
    log = relay.log()
    assert "asks for fewer connections" in log
    # throttled messages were held back, not deferred for a retry minutes later
    assert "status=deferred" not in log, log[-3000:]
    assert mx.refused < 40, "every message bounced off the limit once: %d" % mx.refused
    # the MX allows more now: the window grows back beyond 3
    mx.limit = None
    mx.peak = 0
    submit_many(relay, [("c%d@conc.example" % i, "more %d" % i) for i in range(80)])
    assert wait_for(lambda: mx.delivered() >= 120, 40), (mx.delivered(), relay.log()[-3000:])
    assert mx.peak > 3, "concurrency did not recover (peak %d)" % mx.peak


def test_destination_rate_holds_at_the_mx(world):
    mx = CountingMX()
    world.raw_mx("127.0.0.14", mx)
    relay = start_world(world, ["rate.example 127.0.0.14"],
                        extra=["destination rate.example rate 5/1s"])
    submit_many(relay, [("r%d@rate.example" % i, "rate %d" % i) for i in range(16)])
    assert wait_for(lambda: mx.delivered() >= 16, 30), (mx.delivered(), relay.log()[-3000:])
    times = sorted(mx.mail_times)
    # never more than 5 transactions in any 1-second window (50 ms allowed for jitter)
    for i, t in enumerate(times):
        n = sum(1 for u in times[i:] if u < t + 0.95)
        assert n <= 5, "%d transactions within a second starting at #%d: %r" % (n, i, times)
    assert times[-1] - times[0] >= 15 * 0.2 - 0.1, times


def test_reload_gives_a_held_destination_its_new_limits(world):
    """A destination already in memory, its mail waiting on `rate 1/1h`,
    takes the new limit of a reload at once: no restart, no waiting for it
    to empty."""
    mx = CountingMX()
    world.raw_mx("127.0.0.16", mx)
    relay = start_world(world, ["held.example 127.0.0.16"],
                        extra=["destination held.example rate 1/1h"])
    submit_many(relay, [("h%d@held.example" % i, "held %d" % i) for i in range(6)])
    assert wait_for(lambda: mx.delivered() >= 1, 15), relay.log()[-2000:]
    time.sleep(1.5)
    assert mx.delivered() == 1, "rate 1/1h let %d through" % mx.delivered()
    relay.extra_lines.remove("destination held.example rate 1/1h")
    relay.extra_lines.append("destination held.example rate 100/1s")
    relay.write_config()
    relay.cli("reload")
    assert wait_for(lambda: mx.delivered() >= 6, 15), (mx.delivered(), relay.log()[-2000:])
    assert sorted(mx.subjects) == sorted("held %d" % i for i in range(6))


def test_restart_with_20000_queued_recipients(world):
    """20,000 recipients wait for a dead MX; the relay restarts, the MX comes
    back: start-up is quick, memory stays bounded, every recipient arrives
    once - or twice for at most the transactions in flight at a restart."""
    mx = CountingMX(dead=True)
    world.raw_mx("127.0.0.15", mx)
    relay = start_world(world, ["bulk.example 127.0.0.15"], retry_backoff="3s 3s",
                        max_recipients="1000", max_active_recipients="5000")
    want = ["u%05d@bulk.example" % i for i in range(20000)]
    submit_many(relay, [(want[i:i + 1000], "bulk %d" % (i // 1000))
                        for i in range(0, len(want), 1000)])
    relay.stop()
    mx.dead = False
    t0 = time.monotonic()
    relay.start()
    started = time.monotonic() - t0
    assert started < 10, "start-up took %.1f s with 20,000 recipients queued" % started
    # restart once more in the middle of delivering
    assert wait_for(lambda: len(mx.rcpts) >= 3000, 60), (len(mx.rcpts), relay.log()[-2000:])
    rss_kib = rss(relay.proc.pid)
    relay.stop()
    relay.start()
    assert wait_for(lambda: len(set(mx.rcpts)) >= 20000, 60), (
        len(set(mx.rcpts)), relay.log()[-2000:])
    assert set(mx.rcpts) == set(want)
    dups = len(mx.rcpts) - len(set(mx.rcpts))
    # at most what was in flight when it stopped: connections x 50 recipients
    assert dups <= 20 * 50, dups
    if not os.environ.get("ASAN_OPTIONS"):
        assert rss_kib < 64 * 1024, "RSS %d KiB while delivering 20,000 recipients" % rss_kib
    assert wait_for(lambda: relay.queue_ids() == [], 20), relay.queue_list()[:5]


def rss(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0
