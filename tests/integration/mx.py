"""Fixtures for the delivery tests (issue 3): test MX servers, a test DNS,
and a relay configured to deliver through them.

    MX(addr, ...)       python3-aiosmtpd on addr:25 recording every transaction
                        (.messages: [Received]); scripted replies per recipient
                        (.rcpt_replies), optional STARTTLS (tls_context), SIZE
                        (size_limit), EHLO keywords removed (drop_ehlo).
    RawMX(addr, script) a threaded raw TCP server on addr:25; script(conn, n) runs
                        for the n-th connection (hostile or silent servers).
    DeliveryWorld       fixture `world`: a TestDNS (unbound, from testdns.py) with
                        the sender domain example.jp -> mx.example.jp (127.0.0.2,
                        an MX the test starts with world.sender_mx()), a relay
                        (hikyaku serve) with `resolver` set to that DNS and a short
                        retry schedule, and helpers to submit and to wait.

Addresses: 127.0.0.2 is the sender domain's MX (DSNs arrive there); tests use
127.0.0.10 and up for destination MXes; the DNS answers on 127.0.0.53.
Every wait is a bounded poll.
"""
import asyncio
import email
import email.policy
import os
import re
import socket
import ssl
import subprocess
import threading
import time

import pytest

from aiosmtpd.controller import Controller

from harness import ALICE
from helpers import make_message, wait_for
from testdns import TestDNS

SENDER = "alice@example.jp"
SENDER_MX_ADDR = "127.0.0.2"
DNS_ADDR = "127.0.0.53"

# Short schedules; individual tests override.
DELIVERY_CONFIG = {
    "retry-backoff": "1s 2s",
    "queue-scan-interval": "1s",
    "queue-lifetime": "1h",
    "delay-warning": "0",
    "smtp-connect-timeout": "2s",
    "smtp-reply-timeout": "3s",
    "dns-timeout": "3s",
    "address-preference": "ipv4",
}

SANITIZER_RE = re.compile(r"(ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|"
                          r"SUMMARY: (Address|Leak|Undefined)|==\d+==ERROR)")

# ID: to=<r@d>, relay=..., delay=N, tls=..., dsn=X, status=S (reply)
OUTCOME_RE = re.compile(r"^.*?([0-9A-Z]{4,}): to=<([^>]*)>, relay=(\S+), delay=(\S+), "
                        r"tls=(\S+), dsn=(\S+), status=(\w+) \((.*)\)$", re.M)
RCPT_LINE_RE = re.compile(r"^recipient: <([^>]*)> state=(\S+) attempts=(\d+) next_attempt=(.*?)"
                          r"(?: dsn=(\S+) relay=(\S+))?(?: last_reply=\((.*)\))?$")


# ---------------------------------------------------------------------------
# aiosmtpd MX
# ---------------------------------------------------------------------------

class Received:
    """One transaction an MX accepted."""

    def __init__(self, mx, session, envelope):
        self.mx = mx
        self.mail_from = "" if envelope.mail_from == "<>" else envelope.mail_from
        self.mail_options = list(envelope.mail_options)
        self.rcpt_tos = list(envelope.rcpt_tos)
        self.content = envelope.original_content or envelope.content
        if isinstance(self.content, str):
            self.content = self.content.encode("utf-8", "surrogateescape")
        self.tls = session.ssl is not None
        self.peer = session.peer
        self.helo = session.host_name
        self.when = time.monotonic()

    def parsed(self):
        return email.message_from_bytes(self.content, policy=email.policy.default)

    def __repr__(self):
        return "Received(%s: %s -> %s, %d bytes, tls=%s)" % (
            self.mx.name, self.mail_from, self.rcpt_tos, len(self.content), self.tls)


class Handler:
    def __init__(self, mx):
        self.mx = mx

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        self.mx.ehlos.append(hostname)
        drop = [k.upper() for k in self.mx.drop_ehlo]
        out = []
        for r in responses:
            kw = r[4:].split(" ")[0].upper()
            if kw in drop:
                continue
            out.append(r)
        # keep the last line "250 " after dropping
        out = [("250-" + r[4:]) for r in out[:-1]] + ["250 " + out[-1][4:]]
        return out

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if address in ("<>", None):
            address = ""
        self.mx.mails.append((address, list(mail_options)))
        envelope.mail_from = address or "<>"    # aiosmtpd: falsy means "no MAIL yet"
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.mx.rcpt_reply(address)
        self.mx.rcpts.append((address, reply))
        if reply.startswith("2"):
            envelope.rcpt_tos.append(address)
        return reply

    async def handle_DATA(self, server, session, envelope):
        reply = self.mx.data_reply
        if reply.startswith("2"):
            with self.mx.cond:
                self.mx.messages.append(Received(self.mx, session, envelope))
                self.mx.cond.notify_all()
        return reply


class MXController(Controller):
    def __init__(self, mx, **kw):
        self.mx = mx
        super().__init__(Handler(mx), **kw)

    def factory(self):
        smtp = super().factory()
        mx = self.mx
        orig = smtp.connection_made

        def connection_made(transport):
            if transport.get_extra_info("peername") is not None and not mx._triggering:
                mx.connections += 1
            return orig(transport)
        smtp.connection_made = connection_made
        return smtp

    def _trigger_server(self):
        self.mx._triggering = True
        try:
            super()._trigger_server()
        finally:
            self.mx._triggering = False


class MX:
    """A test MX: aiosmtpd on addr:port that records what it accepts."""

    def __init__(self, addr, port=25, name=None, tls_context=None, size_limit=None,
                 smtputf8=True, drop_ehlo=(), data_reply="250 2.0.0 Ok: queued"):
        self.addr = addr
        self.port = port
        self.name = name or addr
        self.tls_context = tls_context
        self.size_limit = size_limit
        self.smtputf8 = smtputf8
        self.drop_ehlo = list(drop_ehlo)
        self.data_reply = data_reply
        self.messages = []
        self.mails = []
        self.rcpts = []
        self.ehlos = []
        self.connections = 0
        self._triggering = False
        # address (lower case) -> list of replies used in turn (the last one sticks);
        # "*" for any address
        self.rcpt_replies = {}
        self.cond = threading.Condition()
        self.controller = None

    def rcpt_reply(self, address):
        for key in (address.lower(), "*"):
            seq = self.rcpt_replies.get(key)
            if seq:
                return seq.pop(0) if len(seq) > 1 else seq[0]
        return "250 2.1.5 OK"

    def start(self):
        kw = dict(hostname=self.addr, port=self.port, server_hostname=self.name,
                  enable_SMTPUTF8=self.smtputf8, data_size_limit=self.size_limit or 0,
                  ready_timeout=10, decode_data=False)
        if self.tls_context is not None:
            kw.update(tls_context=self.tls_context, require_starttls=False)
        self.controller = MXController(self, **kw)
        self.controller.start()
        return self

    def stop(self):
        if self.controller is not None:
            try:
                self.controller.stop()
            except Exception:
                pass
            self.controller = None

    def wait_messages(self, n, timeout=10.0):
        """Wait until at least n transactions arrived; returns the list."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.messages) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(left)
            return list(self.messages)

    def recipients(self):
        return [r for m in self.messages for r in m.rcpt_tos]


def self_signed_context(dir, cn="mx.test"):
    """A server SSLContext with a fresh self-signed certificate for cn."""
    cert, key = os.path.join(dir, cn + ".crt"), os.path.join(dir, cn + ".key")
    if not os.path.exists(cert):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                        "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=" + cn,
                        "-addext", "subjectAltName=DNS:" + cn],
                       check=True, capture_output=True)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


# ---------------------------------------------------------------------------
# Raw scripted MX
# ---------------------------------------------------------------------------

class Conn:
    """One accepted connection of a RawMX."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.received = b""

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False

    def readline(self, timeout=10.0):
        """One line (without CRLF), or None on EOF/timeout."""
        deadline = time.monotonic() + timeout
        while b"\r\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                d = self.sock.recv(65536)
            except (OSError, socket.timeout):
                return None
            if not d:
                return None
            self.received += d
            self.buf += d
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def wait_closed(self, timeout=10.0):
        """Read until EOF (or timeout); True if the peer closed."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.sock.settimeout(left)
            try:
                d = self.sock.recv(65536)
            except socket.timeout:
                return False
            except OSError:
                return True
            if not d:
                return True
            self.received += d

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def simple_smtp(conn, mx, ehlo=("PIPELINING", "8BITMIME"), banner=b"220 raw.test ESMTP\r\n",
                on_starttls=None, rcpt_reply=b"250 2.1.5 OK\r\n"):
    """A plain SMTP receiver on conn that records messages into mx.messages
    (as (mail_from, [rcpts], data bytes)). on_starttls(conn) handles STARTTLS."""
    conn.send(banner)
    mail, rcpts = None, []
    while True:
        line = conn.readline(15)
        if line is None:
            return
        verb = line[:4].upper()
        mx.commands.append(line)
        if verb in (b"EHLO", b"HELO"):
            if verb == b"HELO" or not ehlo:
                conn.send(b"250 raw.test\r\n")
            else:
                kws = [b"raw.test"] + [k.encode() for k in ehlo]
                conn.send(b"".join(b"250-" + k + b"\r\n" for k in kws[:-1]) +
                          b"250 " + kws[-1] + b"\r\n")
        elif verb == b"STAR":
            if on_starttls is None:
                conn.send(b"454 4.7.0 TLS not available\r\n")
            else:
                on_starttls(conn)
                return
        elif verb == b"MAIL":
            mail, rcpts = line, []
            conn.send(b"250 2.1.0 OK\r\n")
        elif verb == b"RCPT":
            rcpts.append(line)
            conn.send(rcpt_reply)
        elif verb == b"DATA":
            conn.send(b"354 go ahead\r\n")
            data = []
            while True:
                l = conn.readline(15)
                if l is None:
                    return
                if l == b".":
                    break
                data.append(l[1:] if l.startswith(b".") else l)
            with mx.cond:
                mx.messages.append((mail, rcpts, b"\r\n".join(data) + b"\r\n"))
                mx.cond.notify_all()
            conn.send(b"250 2.0.0 Ok: queued\r\n")
        elif verb == b"RSET" or verb == b"NOOP":
            conn.send(b"250 2.0.0 OK\r\n")
        elif verb == b"QUIT":
            conn.send(b"221 2.0.0 Bye\r\n")
            return
        else:
            conn.send(b"502 5.5.2 what\r\n")


class RawMX:
    """A threaded TCP server on addr:port; script(conn, n) per connection."""

    def __init__(self, addr, script, port=25):
        self.addr = addr
        self.port = port
        self.script = script
        self.conns = []
        self.messages = []
        self.commands = []
        self.errors = []
        self.cond = threading.Condition()
        self.sock = None
        self.thread = None
        self.stopping = False

    def start(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.addr, self.port))
        s.listen(64)
        s.settimeout(0.2)
        self.sock = s
        self.thread = threading.Thread(target=self._accept_loop, daemon=True)
        self.thread.start()
        return self

    def _accept_loop(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn = Conn(c)
            with self.cond:
                self.conns.append(conn)
                n = len(self.conns)
                self.cond.notify_all()
            threading.Thread(target=self._run, args=(conn, n), daemon=True).start()

    def _run(self, conn, n):
        try:
            self.script(conn, n)
        except Exception as e:  # noqa: BLE001 - recorded for the test
            self.errors.append(repr(e))
        finally:
            conn.close()

    def wait_conns(self, n, timeout=10.0):
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.conns) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(left)
            return len(self.conns)

    def wait_messages(self, n, timeout=10.0):
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.messages) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(left)
            return list(self.messages)

    def stop(self):
        self.stopping = True
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        with self.cond:
            conns = list(self.conns)
        for c in conns:
            c.close()
        if self.thread is not None:
            self.thread.join(2)


# ---------------------------------------------------------------------------
# the world: DNS + relay + MXes
# ---------------------------------------------------------------------------

def base_records():
    return [("example.jp", "MX", "10 mx.example.jp."),
            ("mx.example.jp", "A", SENDER_MX_ADDR)]


class DeliveryDNS(TestDNS):
    """TestDNS plus zones that unbound resolves by recursion (to the dead
    forwarder, hence SERVFAIL): servfail_zones."""

    def __init__(self, *a, **kw):
        self.servfail_zones = []
        super().__init__(*a, **kw)

    def config_text(self):
        text = super().config_text()
        extra = "".join('  local-zone: "%s." transparent\n' % z for z in self.servfail_zones)
        return text.replace("remote-control:\n", extra + "remote-control:\n", 1)


def mx_records(domain, *mxes):
    """DNS records for domain: mxes are (pref, host, addr) tuples."""
    recs = []
    for pref, host, addr in mxes:
        recs.append((domain, "MX", "%d %s." % (pref, host)))
        if addr is not None:
            for a in (addr if isinstance(addr, (list, tuple)) else [addr]):
                recs.append((host, "A", a))
    return recs


class DeliveryWorld:
    def __init__(self, tmp_path, relay_factory):
        self.tmp = tmp_path
        self.relay_factory = relay_factory
        self.dns = DeliveryDNS(str(tmp_path / "dns"), base_records(), addr=DNS_ADDR)
        self.servers = []
        self.relays = []
        self.relay = None
        self._sender_mx = None

    # -- servers -----------------------------------------------------------------
    def mx(self, addr, **kw):
        m = MX(addr, **kw).start()
        self.servers.append(m)
        return m

    def raw_mx(self, addr, script):
        m = RawMX(addr, script).start()
        self.servers.append(m)
        return m

    def sender_mx(self):
        """The MX of example.jp, where DSNs to alice@example.jp arrive."""
        if self._sender_mx is None:
            self._sender_mx = self.mx(SENDER_MX_ADDR, name="mx.example.jp")
        return self._sender_mx

    def tls_context(self, cn):
        d = self.tmp / "mxtls"
        d.mkdir(exist_ok=True)
        return self_signed_context(str(d), cn)

    def set_records(self, records):
        self.dns.set_records(base_records() + list(records))

    # -- relay --------------------------------------------------------------------
    def start(self, records=(), routes=(), start_relay=True, **config):
        self.dns.records = base_records() + list(records)
        self.dns.servfail_zones = list(getattr(self, "servfail_zones", []))
        self.dns._write()
        self.dns.start()
        cfg = dict(DELIVERY_CONFIG)
        cfg["resolver"] = "%s:%d" % (self.dns.addr, self.dns.port)
        cfg.update({k.replace("_", "-"): v for k, v in config.items()})
        r = self.relay_factory(start=False, **{k.replace("-", "_"): v for k, v in cfg.items()})
        r.extra_lines.extend("route %s" % rt for rt in routes)
        r.write_config()
        self.relays.append(r)
        self.relay = r
        if start_relay:
            r.start()
        return r

    def submit(self, rcpts, message=None, sender=SENDER, subject="delivery test", **kw):
        """Submit over STARTTLS+AUTH; returns the queue ID."""
        if isinstance(rcpts, str):
            rcpts = [rcpts]
        if message is None:
            message = make_message(frm=sender, to=", ".join(rcpts), subject=subject, **kw)
        c = self.relay.session(ALICE)
        try:
            m, rr, d = c.send_mail(sender, rcpts, message)
            assert m.code == 250, m
            assert all(r.code == 250 for r in rr), rr
            assert d is not None and d.code == 250, d
            qid = d.queue_id()
            assert qid, d
            c.quit()
        finally:
            c.close()
        return qid

    # -- observation -----------------------------------------------------------------
    def log(self):
        return self.relay.log()

    def outcomes(self, qid=None, rcpt=None):
        """[(id, rcpt, relay, delay, tls, dsn, status, reply)] from the log."""
        res = []
        for m in OUTCOME_RE.finditer(self.log()):
            t = m.groups()
            if qid is not None and t[0] != qid:
                continue
            if rcpt is not None and t[1].lower() != rcpt.lower():
                continue
            res.append(t)
        return res

    def wait_outcome(self, qid, rcpt, status, timeout=10.0):
        """The first logged outcome for (qid, rcpt) with status; fails on timeout."""
        def find():
            for o in self.outcomes(qid, rcpt):
                if o[6] == status:
                    return o
            return None
        o = wait_for(find, timeout, interval=0.05)
        assert o, ("no status=%s for %s <%s> within %.0fs; outcomes: %r\nlog tail:\n%s"
                   % (status, qid, rcpt, timeout, self.outcomes(qid), self.log()[-4000:]))
        return o

    def wait_log(self, pattern, timeout=10.0):
        m = self.relay.wait_log(pattern, timeout=timeout)
        assert m, "no log line matching %r within %.0fs; log tail:\n%s" % (
            pattern, timeout, self.log()[-4000:])
        return m

    def wait_gone(self, qid, timeout=10.0):
        ok = wait_for(lambda: qid not in self.relay.queue_ids(), timeout, interval=0.1)
        assert ok, "%s still queued after %.0fs:\n%s" % (
            qid, timeout, self.relay.queue_show(qid, check=False).stdout)

    def queue_rcpts(self, qid):
        """{rcpt: dict(state, attempts, next_attempt, dsn, relay, last_reply)} from queue show,
        or None when the message is not in the queue."""
        p = self.relay.queue_show(qid, check=False)
        if p.returncode != 0:
            return None
        env = p.stdout.split("\n\n", 1)[0]
        res = {}
        for line in env.splitlines():
            m = RCPT_LINE_RE.match(line)
            if m:
                res[m.group(1)] = dict(state=m.group(2), attempts=int(m.group(3)),
                                       next_attempt=m.group(4), dsn=m.group(5),
                                       relay=m.group(6), last_reply=m.group(7), line=line)
        return res

    def wait_state(self, qid, rcpt, state, timeout=10.0, min_attempts=1):
        def ok():
            rs = self.queue_rcpts(qid) or {}
            r = rs.get(rcpt)
            return r if r and r["state"] == state and r["attempts"] >= min_attempts else None
        r = wait_for(ok, timeout, interval=0.1)
        assert r, "<%s> of %s not %s within %.0fs: %r\nlog tail:\n%s" % (
            rcpt, qid, state, timeout, self.queue_rcpts(qid), self.log()[-3000:])
        return r

    def dsns(self, mx=None):
        """DSN messages received at the sender MX, parsed."""
        mx = mx or self.sender_mx()
        return [m for m in mx.messages if m.mail_from == ""]

    def wait_dsn(self, n=1, timeout=10.0, mx=None):
        mx = mx or self.sender_mx()
        wait_for(lambda: len(self.dsns(mx)) >= n, timeout, interval=0.05)
        got = self.dsns(mx)
        assert len(got) >= n, "expected %d DSN(s) at %s, got %r\nlog tail:\n%s" % (
            n, mx.name, got, self.log()[-3000:])
        return got

    # -- teardown -----------------------------------------------------------------------
    def close(self):
        problems = []
        for r in self.relays:
            was_alive = r.alive
            r.stop()
            log = r.log()
            m = SANITIZER_RE.search(log)
            if m:
                problems.append("sanitizer report in %s:\n%s" % (r.log_path, log[max(0, m.start() - 2000):m.start() + 6000]))
            if was_alive and r.exit_statuses and r.exit_statuses[-1] not in (0, None):
                problems.append("hikyaku serve exited with %r after SIGTERM; log tail:\n%s"
                                % (r.exit_statuses[-1], log[-3000:]))
        for s in self.servers:
            s.stop()
        self.dns.stop()
        return problems


@pytest.fixture
def world(tmp_path, relay_factory):
    w = DeliveryWorld(tmp_path, relay_factory)
    failed = []
    try:
        yield w
    finally:
        failed = w.close()
    if failed:
        pytest.fail("\n\n".join(failed), pytrace=False)


def delivery_status(msg):
    """(per-message fields, [per-recipient fields]) of a DSN's
    message/delivery-status part, parsed by Python's email package."""
    assert msg.get_content_type() == "multipart/report", msg.get_content_type()
    assert msg.get_param("report-type") == "delivery-status"
    parts = list(msg.iter_parts())
    types = [p.get_content_type() for p in parts]
    assert types[:2] == ["text/plain", "message/delivery-status"], types
    ds = parts[1]
    # email parses message/delivery-status into a list of header blocks
    blocks = ds.get_payload()
    assert isinstance(blocks, list) and len(blocks) >= 2, blocks
    per_msg = blocks[0]
    return per_msg, blocks[1:], parts
