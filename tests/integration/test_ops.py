"""Running it for real (issue 12): reload on SIGHUP and `hikyaku reload`
(new certificate for new sessions, sessions and deliveries in progress
untouched, broken configs refused), sd_notify readiness, `hikyaku status`,
and the Prometheus endpoint checked by promtool against the traffic sent.
"""
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.request

import pytest

from harness import ALICE, Relay, hikyaku_bin
from helpers import free_port, make_message, wait_for
from mx import SENDER, simple_smtp, world  # noqa: F401

PROMTOOL = "/usr/bin/promtool"


def make_cert(dir, name, cn="relay.test", days=30):
    cert, key = os.path.join(dir, name + ".crt"), os.path.join(dir, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert,
                    "-days", str(days), "-subj", "/CN=" + cn,
                    "-addext", "subjectAltName=DNS:" + cn],
                   check=True, capture_output=True)
    os.chmod(key, 0o600)
    return cert, key, serial_of_file(cert)


def serial_of_file(cert):
    out = subprocess.run(["openssl", "x509", "-noout", "-serial", "-in", cert],
                         check=True, capture_output=True, text=True).stdout
    return out.strip().split("=", 1)[1].upper().lstrip("0")


def peer_serial(conn):
    """The serial of the certificate an SMTPRaw connection (after TLS) got."""
    der = conn.sock.getpeercert(binary_form=True)
    p = subprocess.run(["openssl", "x509", "-noout", "-serial", "-inform", "DER"],
                       input=der, check=True, capture_output=True)
    return p.stdout.decode().strip().split("=", 1)[1].upper().lstrip("0")


def install_cert(relay, cert, key):
    """Put cert/key where the relay's config points (as a renewal would)."""
    shutil.copy(cert, relay.settings["tls-cert"])
    shutil.copy(key, relay.settings["tls-key"])
    os.chmod(relay.settings["tls-key"], 0o600)


def submit(relay, rcpt="friend@example.org", sender="alice@example.jp", conn=None):
    c = conn or relay.session(ALICE)
    try:
        m, rr, d = c.send_mail(sender, [rcpt], make_message(frm=sender, to=rcpt))
        return m, rr, d
    finally:
        if conn is None:
            c.quit()
            c.close()


# ---------------------------------------------------------------------------
# reload


def test_reload_new_certificate_for_new_sessions_only(relay_factory, tmp_path):
    """SIGHUP with a renewed certificate: an authenticated session opened
    before keeps working (and is not re-keyed), a session that had not yet
    done STARTTLS gets the certificate it started with, new sessions get the
    new one (checked by serial), and everything queued stays queued."""
    old_cert, old_key, old_serial = make_cert(str(tmp_path), "old")
    new_cert, new_key, new_serial = make_cert(str(tmp_path), "new")
    r = relay_factory(start=False)
    install_cert(r, old_cert, old_key)
    r.start()

    before = r.session(ALICE)
    assert peer_serial(before) == old_serial
    assert submit(r, conn=before)[2].code == 250
    plain = r.connect()
    assert plain.greeting().code == 220
    plain.expect("EHLO client.test", 250)          # no STARTTLS yet

    install_cert(r, new_cert, new_key)
    p = r.cli("reload")
    assert "reloaded" in p.stdout, p.stdout + p.stderr
    r.wait_log(r"reloaded .*serial 0*%s" % new_serial, timeout=5)

    after = r.session(ALICE)
    assert peer_serial(after) == new_serial
    assert submit(r, conn=after)[2].code == 250
    after.quit()
    after.close()
    implicit = r.session(ALICE, tls_port=True)
    assert peer_serial(implicit) == new_serial
    implicit.quit()
    implicit.close()

    # the sessions from before the reload go on, on their own settings
    assert submit(r, conn=before)[2].code == 250
    before.quit()
    before.close()
    plain.starttls()
    assert peer_serial(plain) == old_serial
    plain.expect("EHLO client.test", 250)
    assert plain.auth_plain(*ALICE).code == 235
    assert submit(r, conn=plain)[2].code == 250
    plain.quit()
    plain.close()

    assert len(r.queue_ids()) == 4
    assert r.alive


def test_reload_refuses_a_broken_config(relay_factory, tmp_path):
    """A config with an error is refused, whether by SIGHUP or `hikyaku
    reload`: the error (file:line) is logged and shown, the daemon keeps its
    configuration and certificate, and the next good reload works."""
    r = relay_factory(max_recipients=2)
    serial = peer_serial_of_new_session(r)
    good = r.config_text()

    with open(r.conf_path, "a") as f:
        f.write("max-recipients lots\n")
    mark = r.mark()
    pid = int(open(os.path.join(r.spool, "hikyaku.pid")).read())
    os.kill(pid, signal.SIGHUP)
    line = r.wait_log(r"reload refused: .*hikyaku\.conf:\d+: expected a whole number", since=mark)
    assert line, r.log_since(mark)
    assert "still running on the previous configuration" in r.log_since(mark)

    # the CLI refuses it too, before signalling (it parses the file itself)
    p = r.cli("reload", check=False)
    assert p.returncode == 1 and "expected a whole number" in p.stderr, p.stderr

    # status (which needs a file it can parse) shows the refused reload
    with open(r.conf_path, "w") as f:
        f.write(good)
    status = r.cli("status").stdout
    assert re.search(r"last reload .*: .*hikyaku\.conf:\d+: expected a whole number", status), status

    # a file that parses but whose certificate cannot be read: the daemon refuses
    with open(r.conf_path, "w") as f:
        f.write(good.replace(r.settings["tls-cert"], str(tmp_path / "missing.crt")))
    p = r.cli("reload", check=False)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "reload refused: cannot read certificate" in p.stderr or \
        "reload refused: cannot read tls-cert" in p.stderr, p.stderr

    # still the old settings: max-recipients 2, same certificate
    c = r.session(ALICE)
    assert peer_serial(c) == serial
    assert c.mail("alice@example.jp").code == 250
    assert [c.rcpt("r%d@example.org" % i).code for i in range(3)] == [250, 250, 452]
    c.close()

    with open(r.conf_path, "w") as f:
        f.write(good.replace("max-recipients 2", "max-recipients 3"))
    p = r.cli("reload")
    assert "reloaded" in p.stdout
    c = r.session(ALICE)
    assert c.mail("alice@example.jp").code == 250
    assert [c.rcpt("r%d@example.org" % i).code for i in range(4)] == [250, 250, 250, 452]
    c.close()


def peer_serial_of_new_session(r):
    c = r.session(ALICE)
    try:
        return peer_serial(c)
    finally:
        c.close()


def test_reload_listeners(relay_factory):
    """Listeners follow the config: a new address is bound, a removed one
    closed; a session accepted on the removed one goes on."""
    r = relay_factory()
    old_port = r.starttls_port
    c = r.session(ALICE)
    new_port = free_port()
    r.listens = ["127.0.0.1:%d starttls" % new_port, "127.0.0.1:%d tls" % r.tls_port]
    r.write_config()
    r.cli("reload")
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", old_port), timeout=2).close()
    with socket.create_connection(("127.0.0.1", new_port), timeout=2) as s:
        assert s.recv(100).startswith(b"220 ")
    assert submit(r, conn=c)[2].code == 250
    c.close()


def test_reload_while_delivering(world):  # noqa: F811
    """A delivery in flight when the config changes finishes on its own
    settings: the MX answers the end of data 2 s late, the reload (which
    moves the route elsewhere) happens meanwhile, the message is delivered
    once to the first MX; the next message follows the new route."""
    got_data = threading.Event()

    def slow(conn, n):
        orig = conn.send

        def send(data):
            if data.startswith(b"250 2.0.0 Ok: queued"):
                got_data.set()
                time.sleep(2)
            orig(data)
        conn.send = send
        simple_smtp(conn, mx)

    mx = world.raw_mx("127.0.0.10", slow)
    mx2 = world.mx("127.0.0.11")
    r = world.start(routes=["example.org 127.0.0.10:25"])
    qid = world.submit("bob@example.org")
    assert got_data.wait(10), world.log()[-2000:]
    r.extra_lines = [l for l in r.extra_lines if not l.startswith("route ")]
    r.extra_lines.append("route example.org 127.0.0.11:25")
    r.write_config()
    mark = r.mark()
    r.cli("reload")
    world.wait_outcome(qid, "bob@example.org", "sent", timeout=15)
    assert world.outcomes(qid)[-1][2] == "127.0.0.10[127.0.0.10]:25"
    assert "reloaded" in r.log_since(mark)
    assert len(mx.wait_messages(1)) == 1
    qid2 = world.submit("carol@example.org")
    world.wait_outcome(qid2, "carol@example.org", "sent", timeout=15)
    assert len(mx2.wait_messages(1)) == 1
    assert len(mx.messages) == 1


def test_reload_root_only_key_after_dropping_root(tmp_path):
    """Started as root with `user nobody` and a key only root can read: the
    daemon has dropped root, yet a reload picks up a renewed root-only key
    (the keeper reads it), and the spool stays the user's."""
    if os.geteuid() != 0:
        pytest.skip("needs root to drop privileges")
    top = tempfile.mkdtemp(prefix="hikyaku-ops-")
    try:
        os.chmod(top, 0o755)
        tls = os.path.join(top, "tls")
        os.mkdir(tls, 0o700)                  # nobody cannot even look in here
        a_cert, a_key, a_serial = make_cert(tls, "a")
        b_cert, b_key, b_serial = make_cert(tls, "b")
        d = os.path.join(top, "relay")
        os.mkdir(d)
        r = Relay(d, cert=os.path.join(tls, "live.crt"), key=os.path.join(tls, "live.key"))
        r.configure(user="nobody")
        install_cert(r, a_cert, a_key)
        r.setup_default_accounts()
        r.start()
        try:
            r.wait_log(r"reload helper started as root", timeout=5)
            pid = int(open(os.path.join(r.spool, "hikyaku.pid")).read())
            assert os.stat("/proc/%d" % pid).st_uid != 0
            assert peer_serial_of_new_session(r) == a_serial
            install_cert(r, b_cert, b_key)
            p = r.cli("reload")
            assert "reloaded" in p.stdout
            assert peer_serial_of_new_session(r) == b_serial
            assert submit(r)[2].code == 250
            st = os.stat(os.path.join(r.spool, "hikyaku.sock"))
            assert st.st_uid == pid_uid(pid) and st.st_mode & 0o777 == 0o600
        finally:
            r.cleanup()
    finally:
        shutil.rmtree(top, ignore_errors=True)


def pid_uid(pid):
    return os.stat("/proc/%d" % pid).st_uid


# ---------------------------------------------------------------------------
# sd_notify


class NotifySocket:
    """A NOTIFY_SOCKET as systemd makes one: collects datagrams."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.2)
        self.messages = []

    def wait(self, text, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in m for m in self.messages):
                return True
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except socket.timeout:
                pass
        return any(text in m for m in self.messages)

    def close(self):
        self.sock.close()


def test_sd_notify_ready_reload_stop(relay_factory, tmp_path):
    """Type=notify: READY=1 once the listeners accept and the store is open,
    RELOADING=1 then READY=1 on SIGHUP, STOPPING=1 on SIGTERM."""
    r = relay_factory(start=False)
    ns = NotifySocket(str(tmp_path / "notify"))
    log = open(r.log_path, "ab")
    p = subprocess.Popen([r.bin, "serve", "-c", r.conf_path], stdout=log, stderr=log,
                         stdin=subprocess.DEVNULL, start_new_session=True,
                         env=dict(os.environ, NOTIFY_SOCKET=ns.path))
    try:
        assert ns.wait("READY=1"), r.log()
        # ready means ready: the listener answers and the store works
        c = r.session(ALICE)
        c.close()
        assert r.cli("queue", "list").returncode == 0
        os.kill(p.pid, signal.SIGHUP)
        assert ns.wait("RELOADING=1"), ns.messages
        ns.messages.clear()
        assert ns.wait("READY=1"), ns.messages
        os.kill(p.pid, signal.SIGTERM)
        assert ns.wait("STOPPING=1"), ns.messages
        assert p.wait(10) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        log.close()
        ns.close()


# ---------------------------------------------------------------------------
# status and metrics


def scrape(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as resp:
        assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return resp.read().decode()


def sample(text, name, labels=""):
    """The value of one series, e.g. sample(t, "hikyaku_deliveries_total", 'status="sent"')."""
    key = name + ("{%s}" % labels if labels else "")
    for line in text.splitlines():
        if line.startswith(key + " "):
            return float(line.split()[-1])
    return None


def test_metrics_match_the_traffic(world):  # noqa: F811
    """A live scrape passes `promtool check metrics`, and its counters match
    what the test did: 3 accepted, 1 refused for a grant, 2 delivered, 1
    deferred (its destination listed), latency histograms filled."""
    port = free_port()
    world.mx("127.0.0.10")
    dead = free_port("127.0.0.12")
    r = world.start(routes=["ok.example 127.0.0.10:25", "dead.example 127.0.0.12:%d" % dead],
                    metrics_listen="127.0.0.1:%d" % port, retry_backoff="1h 2h")
    q1 = world.submit("a@ok.example")
    q2 = world.submit("b@ok.example")
    q3 = world.submit("c@dead.example")
    m, rr, d = submit(r, rcpt="x@ok.example", sender="eve@example.org")
    assert m.code == 550
    world.wait_outcome(q1, "a@ok.example", "sent")
    world.wait_outcome(q2, "b@ok.example", "sent")
    world.wait_outcome(q3, "c@dead.example", "deferred")

    text = scrape(port)
    p = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 0, p.stdout + p.stderr + "\n" + text
    assert sample(text, "hikyaku_messages_accepted_total") == 3
    assert sample(text, "hikyaku_messages_rejected_total", 'reason="grant"') == 1
    assert sample(text, "hikyaku_deliveries_total", 'status="sent"') == 2
    assert sample(text, "hikyaku_deliveries_total", 'status="deferred"') == 1
    assert sample(text, "hikyaku_deliveries_total", 'status="bounced"') == 0
    assert sample(text, "hikyaku_queue_recipients", 'state="deferred"') == 1
    assert sample(text, "hikyaku_queue_messages") == 1
    assert sample(text, "hikyaku_destination_deferred_recipients",
                  'destination="dead.example"') == 1
    assert sample(text, "hikyaku_submission_reply_duration_seconds_count") == 3
    assert sample(text, "hikyaku_sessions") in (0, 1)   # the last may be closing
    assert wait_for(lambda: sample(scrape(port), "hikyaku_sessions") == 0, 5)
    assert sample(text, "hikyaku_queue_oldest_message_age_seconds") >= 0
    assert sample(text, "hikyaku_tls_certificate_expiry_timestamp_seconds") > time.time()
    # the Grafana dashboard in contrib/ uses only series that exist
    dash = open(os.path.join(os.path.dirname(__file__), "..", "..", "contrib", "grafana",
                             "hikyaku.json")).read()
    for name in set(re.findall(r"hikyaku_[a-z_]+", dash)):
        assert re.search(r"^%s[{ ]" % name, text, re.M), "dashboard uses %s" % name
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen("http://127.0.0.1:%d/other" % port, timeout=5)
    assert e.value.code == 404


def test_metrics_off_by_default(relay):
    out = relay.cli("status").stdout
    assert not re.search(r"^metrics", out, re.M), out
    assert "metrics on http" not in relay.log()


def test_status_screen(world):  # noqa: F811
    """`hikyaku status`: version, uptime, listeners, sessions, queue by state
    and by destination, the oldest message, the last delivery errors, and a
    warning for a certificate that expires within 14 days."""
    dead = free_port("127.0.0.12")
    r = world.start(routes=["dead.example 127.0.0.12:%d" % dead], retry_backoff="1h 2h",
                    start_relay=False)
    cert, key, serial = make_cert(str(world.tmp), "short", days=5)
    install_cert(r, cert, key)
    r.start()
    qid = world.submit("c@dead.example")
    world.wait_outcome(qid, "c@dead.example", "deferred")
    open_session = r.session(ALICE)
    out = r.cli("status").stdout
    open_session.close()
    assert re.search(r"^hikyaku \d+\.\d+\.\d+ running, pid \d+, up \d+s", out, re.M), out
    assert "127.0.0.1:%d starttls" % r.starttls_port in out
    assert "127.0.0.1:%d tls" % r.tls_port in out
    assert re.search(r"^sessions +1$", out, re.M), out
    assert re.search(r"^queue +deferred 1 recipient \(in 1 message\); 1 message$", out, re.M), out
    assert re.search(r"^  dead\.example +0 queued +1 deferred", out, re.M), out
    assert re.search(r"^oldest ", out, re.M), out
    assert re.search(r"^last delivery errors:\n  .* %s deferred 4\.\S+ <c@dead\.example> "
                     % qid, out, re.M), out
    m = re.search(r"^certificate .*, serial ([0-9A-F]+), expires ", out, re.M)
    assert m and m.group(1).lstrip("0") == serial, out
    assert re.search(r"^warning: the certificate expires in [45] days", out, re.M), out

    r.stop()
    p = r.cli("status", check=False)
    assert p.returncode == 3
    assert "not running" in p.stdout and "dead.example" in p.stdout


def test_reload_without_daemon(relay_factory):
    r = relay_factory(start=False)
    p = r.cli("reload", check=False)
    assert p.returncode == 1 and "no daemon is running" in p.stderr


def test_control_socket_is_read_only(relay):
    """Anything but "status" on the control socket changes nothing."""
    path = os.path.join(relay.spool, "hikyaku.sock")
    for req in (b"reload\r\n", b"x" * 5000 + b"\r\n", b"stop\r\n"):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(5)
            s.connect(path)
            s.sendall(req)
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            assert data.startswith(b"error "), data
    assert relay.alive
    assert "SIGHUP" not in relay.log()
