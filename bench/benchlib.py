"""benchlib.py - what the benchmarks share: relays set up at their defaults
(hikyaku, Postfix, Postfix + OpenDKIM, OpenSMTPD, Exim), counting sinks,
load from smtp-source, memory (PSS) sampling.

Every relay is given only what it needs to relay for 127.0.0.0/8 to a sink
on loopback (routes, trust, keys): no tuning. Every sink is Postfix's
smtp-sink with -c, so "delivered" is counted the same way for all relays:
at the receiving end. Everything runs in a loopback-only network namespace
(bench/run.py re-executes itself there) and under a private mount
namespace, so OpenSMTPD's compiled-in spool can be a bind mount.
"""
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("HIKYAKU_BUILD", os.path.join(ROOT, "build"))
HIKYAKU = os.environ.get("HIKYAKU_BIN", os.path.join(BUILD, "hikyaku"))
MTAS = os.environ.get("HIKYAKU_TEST_MTAS", "/opt/hikyaku-test/mtas")
DEADLINE = 600          # seconds any phase may take
SINK_ADDR = "127.0.0.5"


def free_port(host="127.0.0.1"):
    s = socket.socket()
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(host, port, timeout=30):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection((host, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("nothing listening on %s:%d" % (host, port))


def kill_group(proc, timeout=30):
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def run(argv, **kw):
    kw.setdefault("check", True)
    kw.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.run(argv, **kw)


# ---------------------------------------------------------------------------
# memory
# ---------------------------------------------------------------------------

def descendants(pid):
    """pid and every process below it."""
    kids = {}
    for d in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(d) as f:
                st = f.read()
            p = int(st.split()[0])
            ppid = int(st.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        kids.setdefault(ppid, []).append(p)
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def pss_kib(pids):
    """Proportional set size of pids together, in KiB (shared pages split)."""
    total = 0
    for p in pids:
        try:
            with open("/proc/%d/smaps_rollup" % p) as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total


class PssSampler:
    """Peak PSS of a relay's processes, sampled every 100 ms in a thread."""

    def __init__(self, relay):
        self.relay = relay
        self.peak = 0
        self.stop_ev = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self):
        while not self.stop_ev.is_set():
            self.peak = max(self.peak, pss_kib(self.relay.pids()))
            self.stop_ev.wait(0.1)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop_ev.set()
        self.thread.join()


# ---------------------------------------------------------------------------
# sinks and load
# ---------------------------------------------------------------------------

class Sink:
    """smtp-sink -c on addr:port: counts messages it accepted. delay: seconds
    it waits before answering DATA (a slow destination)."""

    def __init__(self, d, addr=SINK_ADDR, port=None, delay=0):
        self.addr = addr
        self.port = port or free_port(addr)
        os.makedirs(d, exist_ok=True)
        self.out = os.path.join(d, "sink-%s-%d.out" % (addr, self.port))
        argv = ["smtp-sink", "-c", "-u", "nobody"]
        if delay:
            argv += ["-w", str(delay)]
        argv += ["%s:%d" % (addr, self.port), "1024"]
        self.proc = subprocess.Popen(argv, stdout=open(self.out, "w"), stderr=subprocess.STDOUT,
                                     start_new_session=True)
        wait_port(addr, self.port)

    @property
    def target(self):
        return "%s:%d" % (self.addr, self.port)

    def count(self):
        try:
            with open(self.out, "rb") as f:
                f.seek(max(0, os.path.getsize(self.out) - 200))
                tail = f.read().decode("ascii", "replace")
        except OSError:
            return 0
        m = re.findall(r"mesg=(\d+)", tail)
        return int(m[-1]) if m else 0

    def wait(self, n, start, deadline=DEADLINE):
        while time.monotonic() - start < deadline:
            if self.count() >= n:
                return time.monotonic() - start
            time.sleep(0.02)
        raise SystemExit("sink %s: only %d of %d after %d s" % (self.target, self.count(), n,
                                                                 deadline))

    def stop(self):
        kill_group(self.proc)


def smtp_source(target, messages, sessions=20, size=4096, rcpt="rcpt@example.net"):
    """Postfix's smtp-source: messages from bench@example.org; seconds taken."""
    t0 = time.monotonic()
    run(["smtp-source", "-s", str(sessions), "-m", str(messages), "-l", str(size),
         "-f", "bench@example.org", "-t", rcpt, target], timeout=DEADLINE,
        stdout=subprocess.DEVNULL)
    return time.monotonic() - t0


_bound_users = set()


def private_users(d, users):
    """System users that exist only in this benchmark's mount namespace: a
    copy of /etc/passwd and /etc/group with them added, bound over the real
    ones (the host's files are never changed)."""
    missing = [(u, uid) for u, uid in users
               if u not in _bound_users and
               subprocess.run(["id", u], capture_output=True).returncode != 0]
    if not missing:
        return
    os.makedirs(d, exist_ok=True)
    for name in ("passwd", "group"):
        copy = os.path.join(d, name)
        shutil.copy("/etc/" + name, copy)
        with open(copy, "a") as f:
            for user, uid in missing:
                f.write("%s:x:%d:%d::/nonexistent:/usr/sbin/nologin\n" % (user, uid, uid)
                        if name == "passwd" else "%s:x:%d:\n" % (user, uid))
        os.chmod(copy, 0o644)
        run(["mount", "--bind", copy, "/etc/" + name])
    _bound_users.update(u for u, _ in missing)


def self_signed(d, cn):
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out",
         cert, "-days", "2", "-subj", "/CN=" + cn], capture_output=True)
    return cert, key


# ---------------------------------------------------------------------------
# relays
# ---------------------------------------------------------------------------

class LocalDNS:
    """A DNS server on 127.0.0.53:53 that knows no names (every query gets an
    answer at once, NXDOMAIN), and /etc/resolv.conf pointing at it in this
    mount namespace only: relays that ask DNS on their own (OpenSMTPD, Exim,
    Haraka) get quick answers, as they would on a real host, instead of a
    resolver that is not there. hikyaku and Postfix are configured not to ask."""

    def __init__(self, d):
        sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
        from testdns import TestDNS
        self.dns = TestDNS(os.path.join(d, "dns"), [], addr="127.0.0.53", port=53).start()
        conf = os.path.join(d, "resolv.conf")
        with open(conf, "w") as f:
            f.write("nameserver 127.0.0.53\n")
        os.chmod(conf, 0o644)
        run(["mount", "--bind", conf, "/etc/resolv.conf"])

    def stop(self):
        subprocess.run(["umount", "/etc/resolv.conf"], capture_output=True)
        self.dns.stop()


class Relay:
    name = "?"
    proc = None

    def pids(self):
        return descendants(self.proc.pid) if self.proc and self.proc.poll() is None else []

    def stop(self):
        kill_group(self.proc)
        self.proc = None


class Hikyaku(Relay):
    """hikyaku at its defaults: the name, listeners, spool, route (and a
    resolver nobody asks); an account trusted for 127.0.0.0/8 when trust."""

    def __init__(self, d, sink, dkim=None, trust=True, extra=""):
        self.name = "hikyaku" + ("+dkim-" + dkim if dkim else "")
        self.d = os.path.join(d, self.name)
        os.makedirs(self.d)
        self.port = free_port()
        self.tls_port = free_port()
        self.conf = os.path.join(self.d, "hikyaku.conf")
        self.log = os.path.join(self.d, "hikyaku.log")
        cert, key = self_signed(self.d, "relay.bench")
        with open(self.conf, "w") as f:
            f.write("hostname relay.bench\nlisten 127.0.0.1:%d starttls\n"
                    "listen 127.0.0.1:%d tls\ntls-cert %s\ntls-key %s\nspool %s/spool\n"
                    "resolver 127.0.0.1:1\nroute * %s\n%s"
                    % (self.port, self.tls_port, cert, key, self.d, sink, extra))
        self.password = "bench-Password-1"
        self.cli("account", "add", "bench", input=self.password + "\n")
        self.cli("grant", "add", "bench", "@example.org")
        if trust:
            self.cli("account", "trust", "bench", "127.0.0.0/8")
        if dkim:
            self.cli("dkim", "keygen", "example.org", "--algo", dkim)

    def cli(self, *args, input=None):
        run([HIKYAKU, "-c", self.conf] + list(args), stdout=subprocess.DEVNULL, input=input,
            stdin=None if input is not None else subprocess.DEVNULL, text=True)

    def start(self):
        self.proc = subprocess.Popen([HIKYAKU, "-c", self.conf, "serve"],
                                     stdout=open(self.log, "a"), stderr=subprocess.STDOUT,
                                     start_new_session=True)
        wait_port("127.0.0.1", self.port)
        wait_port("127.0.0.1", self.tls_port)
        return "127.0.0.1:%d" % self.port

    @property
    def submission(self):
        return ("127.0.0.1", self.tls_port, "bench", self.password)


class Postfix(Relay):
    """A private Postfix 3.7 at its defaults, relaying for 127.0.0.0/8 to the
    sink (relayhost); with dkim, through Debian's OpenDKIM as a milter; with
    submission, an smtps listener with Cyrus SASL (sasldb)."""

    def __init__(self, d, sink, dkim=None, submission=False, transports=None):
        self.name = "postfix" + ("+opendkim-" + dkim if dkim else "")
        self.d = os.path.join(d, self.name)
        self.conf = os.path.join(self.d, "etc")
        self.log = os.path.join(self.d, "maillog")
        data = os.path.join(self.d, "data")
        for sub in (self.conf, data, os.path.join(self.d, "queue")):
            os.makedirs(sub)
        shutil.chown(data, "postfix")
        shutil.copy("/etc/postfix/master.cf", self.conf)
        open(os.path.join(self.conf, "main.cf"), "w").close()
        host, port = sink.split(":")
        settings = {
            "compatibility_level": "3.6", "config_directory": self.conf,
            "queue_directory": os.path.join(self.d, "queue"), "data_directory": data,
            "mail_owner": "postfix", "setgid_group": "postdrop",
            "maillog_file_prefixes": "/tmp, /var, /root, /work, " + self.d,
            "maillog_file": self.log, "myhostname": "postfix.bench", "mydestination": "",
            "local_recipient_maps": "", "alias_maps": "", "alias_database": "",
            "inet_interfaces": "127.0.0.1", "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.0/8",
            "smtpd_relay_restrictions": "permit_mynetworks, permit_sasl_authenticated, reject",
            "relayhost": "[%s]:%s" % (host, port), "smtp_dns_support_level": "disabled",
            "smtpd_peername_lookup": "no", "biff": "no",
        }
        if transports:
            settings["transport_maps"] = "inline:{%s}" % ", ".join(
                "%s=%s" % kv for kv in transports.items())
        self.dkim = dkim
        self.opendkim = None
        if dkim:
            self.milter_port = free_port()
            settings["smtpd_milters"] = "inet:127.0.0.1:%d" % self.milter_port
            settings["milter_default_action"] = "tempfail"
            self._opendkim_setup(dkim)
        self.postconf(["-e"] + ["%s=%s" % kv for kv in settings.items()])
        self.postconf(["-F", "*/*/chroot=n"])
        self.port = free_port()
        self.postconf(["-MX", "smtp/inet"])
        self.postconf(["-M", "127.0.0.1:%d/inet=127.0.0.1:%d inet n - n - - smtpd"
                       % (self.port, self.port)])
        self.tls_port = None
        if submission:
            self._submission_setup()
        run(["postfix", "-c", self.conf, "check"])

    def postconf(self, args):
        run(["postconf", "-c", self.conf] + args, capture_output=True)

    def _opendkim_setup(self, algo):
        kd = os.path.join(self.d, "opendkim")
        os.makedirs(kd)
        key = os.path.join(kd, "key.pem")
        if algo == "rsa":
            run(["openssl", "genrsa", "-out", key, "2048"], capture_output=True)
        else:
            run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", key], capture_output=True)
        shutil.chown(key, "opendkim")
        os.chmod(key, 0o600)
        self.opendkim_conf = os.path.join(kd, "opendkim.conf")
        with open(self.opendkim_conf, "w") as f:
            f.write("Mode s\nDomain example.org\nSelector bench\nKeyFile %s\n"
                    "Canonicalization relaxed/relaxed\nSocket inet:%d@127.0.0.1\n"
                    "UserID opendkim\nBackground no\nSyslog no\nPidFile %s/pid\n%s"
                    % (key, self.milter_port, kd,
                       "SignatureAlgorithm ed25519-sha256\n" if algo == "ed25519" else ""))
        os.chmod(kd, 0o755)

    def _submission_setup(self):
        sd = os.path.join(self.conf, "sasl")   # where Debian's Postfix has Cyrus look
        os.makedirs(sd)
        db = os.path.join(sd, "sasldb2")
        self.password = "bench-Password-1"
        run(["saslpasswd2", "-p", "-f", db, "-c", "-u", "postfix.bench", "bench"],
            input=self.password, text=True, stdin=None)
        shutil.chown(db, "postfix")
        with open(os.path.join(sd, "smtpd.conf"), "w") as f:
            f.write("pwcheck_method: auxprop\nauxprop_plugin: sasldb\nmech_list: PLAIN LOGIN\n"
                    "sasldb_path: %s\n" % db)
        os.chmod(sd, 0o755)
        cert, key = self_signed(self.d, "postfix.bench")
        self.tls_port = free_port()
        self.postconf(["-e", "cyrus_sasl_config_path=" + sd, "smtpd_sasl_local_domain=postfix.bench",
                       "smtpd_tls_cert_file=" + cert, "smtpd_tls_key_file=" + key])
        self.postconf(["-M", "127.0.0.1:%d/inet=127.0.0.1:%d inet n - n - - smtpd"
                       " -o smtpd_tls_wrappermode=yes -o smtpd_sasl_auth_enable=yes"
                       " -o smtpd_tls_security_level=encrypt"
                       % (self.tls_port, self.tls_port)])

    def start(self):
        if self.dkim:
            self.opendkim = subprocess.Popen(["opendkim", "-f", "-x", self.opendkim_conf],
                                             stdout=open(os.path.join(self.d, "opendkim.out"), "w"),
                                             stderr=subprocess.STDOUT, start_new_session=True)
            wait_port("127.0.0.1", self.milter_port)
        self.proc = subprocess.Popen(["/usr/lib/postfix/sbin/master", "-c", self.conf, "-d"],
                                     stdout=open(os.path.join(self.d, "master.out"), "w"),
                                     stderr=subprocess.STDOUT, start_new_session=True,
                                     stdin=subprocess.DEVNULL,
                                     env=dict(os.environ, MAIL_CONFIG=self.conf))
        wait_port("127.0.0.1", self.port)
        return "127.0.0.1:%d" % self.port

    def pids(self):
        p = super().pids()
        if self.opendkim and self.opendkim.poll() is None:
            p += descendants(self.opendkim.pid)
        return p

    def stop(self):
        super().stop()
        kill_group(self.opendkim)
        self.opendkim = None

    @property
    def submission(self):
        return ("127.0.0.1", self.tls_port, "bench", self.password)


class OpenSMTPD(Relay):
    """Debian's OpenSMTPD 6.8 (unpacked, not installed: it conflicts with
    Postfix), its compiled-in spool bind-mounted from the work directory.
    It acknowledges a message without fsync."""

    name = "opensmtpd"

    @staticmethod
    def available():
        return os.path.exists(os.path.join(MTAS, "opensmtpd/usr/sbin/smtpd"))

    def __init__(self, d, sink):
        self.d = os.path.join(d, self.name)
        os.makedirs(self.d)
        self.bin = os.path.join(MTAS, "opensmtpd/usr/sbin/smtpd")
        private_users(os.path.join(self.d, "etc"), [("opensmtpd", 990), ("opensmtpq", 991)])
        spool = os.path.join(self.d, "spool")
        os.makedirs(spool)
        os.chmod(spool, 0o711)
        os.makedirs("/var/spool/smtpd", exist_ok=True)
        run(["mount", "--bind", spool, "/var/spool/smtpd"])
        self.port = free_port()
        host, port = sink.split(":")
        self.conf = os.path.join(self.d, "smtpd.conf")
        with open(self.conf, "w") as f:
            f.write("listen on 127.0.0.1 port %d\n"
                    "action \"relay\" relay host smtp://%s:%s\n"
                    "match from src 127.0.0.0/8 for any action \"relay\"\n" % (self.port, host, port))
        os.chmod(self.conf, 0o644)
        run([self.bin, "-n", "-f", self.conf], capture_output=True)

    def start(self):
        self.proc = subprocess.Popen([self.bin, "-d", "-f", self.conf],
                                     stdout=open(os.path.join(self.d, "smtpd.log"), "w"),
                                     stderr=subprocess.STDOUT, start_new_session=True)
        wait_port("127.0.0.1", self.port)
        return "127.0.0.1:%d" % self.port

    def stop(self):
        super().stop()
        subprocess.run(["umount", "/var/spool/smtpd"], capture_output=True)


class Exim(Relay):
    """Debian's Exim 4.96 (unpacked: it conflicts with Postfix), a minimal
    smarthost configuration with its default queue runner behaviour
    (immediate delivery after each message)."""

    name = "exim"

    @staticmethod
    def available():
        return os.path.exists(os.path.join(MTAS, "exim4/usr/sbin/exim4"))

    def __init__(self, d, sink):
        self.d = os.path.join(d, self.name)
        for sub in ("spool", "log"):
            os.makedirs(os.path.join(self.d, sub))
        self.bin = os.path.join(MTAS, "exim4/usr/sbin/exim4")
        private_users(os.path.join(self.d, "etc"), [("Debian-exim", 992)])
        for sub in ("spool", "log"):
            shutil.chown(os.path.join(self.d, sub), "Debian-exim", "Debian-exim")
        os.chmod(self.d, 0o755)
        self.port = free_port()
        host, port = sink.split(":")
        self.conf = os.path.join(self.d, "exim.conf")
        with open(self.conf, "w") as f:
            f.write("""primary_hostname = exim.bench
exim_path = {bin}
spool_directory = {d}/spool
log_file_path = {d}/log/%slog
daemon_smtp_ports = {port}
local_interfaces = 127.0.0.1
hostlist relay_from_hosts = 127.0.0.0/8
domainlist local_domains =
acl_smtp_rcpt = acl_check_rcpt
host_lookup =
rfc1413_hosts =
begin acl
acl_check_rcpt:
  accept hosts = +relay_from_hosts
  deny
begin routers
smarthost:
  driver = manualroute
  route_list = * {host}
  transport = remote_smtp
begin transports
remote_smtp:
  driver = smtp
  port = {sport}
begin retry
* * F,2h,15m
""".format(d=self.d, bin=self.bin, port=self.port, host=host, sport=port))
        os.chmod(self.conf, 0o644)
        # Exim keeps root for an alternate config only if it is listed in
        # /etc/exim4/trusted_configs: a directory holding that list is bound
        # over /etc/exim4 in this mount namespace (the mount point is made
        # if missing; nothing else is written outside the work directory).
        etc = os.path.join(self.d, "etc-exim4")
        os.makedirs(etc)
        with open(os.path.join(etc, "trusted_configs"), "w") as f:
            f.write(self.conf + "\n")
        os.makedirs("/etc/exim4", exist_ok=True)
        run(["mount", "--bind", etc, "/etc/exim4"])

    def start(self):
        self.proc = subprocess.Popen([self.bin, "-C", self.conf, "-bdf", "-q30m"],
                                     stdout=open(os.path.join(self.d, "exim.out"), "w"),
                                     stderr=subprocess.STDOUT, start_new_session=True)
        wait_port("127.0.0.1", self.port)
        return "127.0.0.1:%d" % self.port


    def stop(self):
        super().stop()
        subprocess.run(["umount", "/etc/exim4"], capture_output=True)


class Haraka(Relay):
    """Haraka 3 from the npm registry (bench/run.py installs it into the build
    tree), relay ACL for 127.0.0.0/8 and queue/smtp_forward to the sink. It
    has no queue of its own: its 250 comes after the sink's."""

    name = "haraka"
    HOME = os.path.join(BUILD, "bench-peers", "haraka")
    BIN = os.path.join(HOME, "node_modules", ".bin", "haraka")

    @classmethod
    def install(cls):
        """From the npm registry, before the benchmark enters its network namespace."""
        if not os.path.exists(cls.BIN) and shutil.which("npm"):
            os.makedirs(cls.HOME, exist_ok=True)
            subprocess.run(["npm", "install", "--prefix", cls.HOME, "--no-audit", "--no-fund",
                            "Haraka@3"], capture_output=True, timeout=600)

    @classmethod
    def available(cls):
        return os.path.exists(cls.BIN)

    def __init__(self, d, sink):
        self.d = os.path.join(d, self.name)
        os.makedirs(os.path.dirname(self.d), exist_ok=True)
        run([self.BIN, "-i", self.d], capture_output=True)
        self.port = free_port()
        host, port = sink.split(":")
        conf = os.path.join(self.d, "config")
        files = {"smtp.ini": "listen=127.0.0.1:%d\n" % self.port,
                 "plugins": "relay\nqueue/smtp_forward\n",
                 "relay.ini": "[relay]\nacl=true\n",
                 "relay_acl_allow": "127.0.0.0/8\n",
                 "smtp_forward.ini": "host=%s\nport=%s\nenable_tls=false\n"
                 "enable_outbound=true\n" % (host, port),
                 "me": "haraka.bench\n"}
        for name, text in files.items():
            with open(os.path.join(conf, name), "w") as f:
                f.write(text)

    def start(self):
        self.proc = subprocess.Popen([self.BIN, "-c", self.d],
                                     stdout=open(os.path.join(self.d, "haraka.log"), "w"),
                                     stderr=subprocess.STDOUT, start_new_session=True)
        wait_port("127.0.0.1", self.port)
        return "127.0.0.1:%d" % self.port


def relay_classes():
    """The relays this machine can run, hikyaku and Postfix first."""
    out = [Hikyaku, Postfix]
    for cls in (OpenSMTPD, Exim, Haraka):
        if cls.available():
            out.append(cls)
    return out


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def save(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=1)
