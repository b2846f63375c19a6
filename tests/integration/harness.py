"""Process harness: a hikyaku relay under test and a real Postfix home MTA.

Everything lives in a per-test directory; every process is started in its
own session (process group) and killed at teardown.
"""
import atexit
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from helpers import free_port, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_BIN = os.path.normpath(os.path.join(HERE, "..", "..", "build", "hikyaku"))

UNUSED_ANCHOR = os.path.join(HERE, "data", "unused-anchor.key")

ALICE = ("alice", "alice-Secret-pw-1")
BOB = ("bob", "bob-Secret-pw-2")

# A queue-list line: first token a queue ID, and an address (or <>) on it.
QLINE_RE = re.compile(r"^\s*([0-9A-Z]{4,})\b(.*)$")


_anchor_copy = None


def unused_anchor():
    """UNUSED_ANCHOR copied where any user may read it: a relay that drops
    root reads it, and the clone may sit in a directory only root can enter
    (git clone . "$(mktemp -d)"). One copy per test process, removed at exit."""
    global _anchor_copy
    if _anchor_copy is None:
        d = tempfile.mkdtemp(prefix="hikyaku-anchor-")
        os.chmod(d, 0o755)
        atexit.register(shutil.rmtree, d, True)
        _anchor_copy = os.path.join(d, "unused-anchor.key")
        shutil.copyfile(UNUSED_ANCHOR, _anchor_copy)
        os.chmod(_anchor_copy, 0o644)
    return _anchor_copy


def hikyaku_bin():
    return os.environ.get("HIKYAKU_BIN", DEFAULT_BIN)


def _ppid(pid):
    with open("/proc/%d/stat" % pid) as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def in_private_ns(kind="mnt"):
    """Whether this process is in a different namespace of kind than one of
    its ancestors (i.e. someone ran us under unshare). /proc/1/ns may be
    unreadable in a container, so walk up the parent chain instead."""
    try:
        mine = os.readlink("/proc/self/ns/" + kind)
    except OSError:
        return False
    pid = os.getpid()
    for _ in range(64):
        try:
            pid = _ppid(pid)
            if pid <= 0:
                return False
            if os.readlink("/proc/%d/ns/%s" % (pid, kind)) != mine:
                return True
        except OSError:
            return False
        if pid == 1:
            return False
    return False


def in_private_mount_ns():
    return in_private_ns("mnt")


def kill_group(proc, term_timeout=5.0):
    """SIGTERM the process group, then SIGKILL. Returns the exit status."""
    if proc is None:
        return None
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(term_timeout)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # stragglers in the group
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        pass
    return proc.returncode


class RelayError(Exception):
    pass


class Relay:
    """One hikyaku instance: config, spool, certs and log in dir."""

    def __init__(self, dir, cert=None, key=None, host="127.0.0.1"):
        self.dir = str(dir)
        self.bin = hikyaku_bin()
        self.host = host
        self.conf_path = os.path.join(self.dir, "hikyaku.conf")
        self.spool = os.path.join(self.dir, "spool")
        self.log_path = os.path.join(self.dir, "hikyaku.log")
        self.starttls_port = free_port(host)
        self.tls_port = free_port(host)
        while self.tls_port == self.starttls_port:
            self.tls_port = free_port(host)
        self.proc = None
        self.mounted = False
        self.exit_statuses = []
        os.makedirs(self.spool, exist_ok=True)
        self.settings = {
            "hostname": "relay.test",
            "spool": self.spool,
            "log": "stderr",
            "auth-fail-delay": "0",
            "smtp-timeout": "30",
            # Never the system's resolver: a dead loopback port unless a test
            # brings its own DNS server (testdns.py) and sets this.
            "resolver": "127.0.0.1:1",
            # Never the real root key either: the test DNS cannot chain to
            # it. This anchor names a zone no test uses, so DNSSEC validation
            # is on and every test name is insecure; DANE tests set their own.
            "dnssec-trust-anchor": unused_anchor(),
        }
        if cert and key:
            self.settings["tls-cert"] = cert
            self.settings["tls-key"] = key
        self.listens = ["%s:%d starttls" % (host, self.starttls_port),
                        "%s:%d tls" % (host, self.tls_port)]
        self.extra_lines = []
        self.write_config()

    # -- config --------------------------------------------------------------
    def configure(self, **kw):
        """Set config keywords (underscores become dashes); None removes one."""
        for k, v in kw.items():
            k = k.replace("_", "-")
            if v is None:
                self.settings.pop(k, None)
            else:
                self.settings[k] = str(v)
        self.write_config()

    def config_text(self):
        lines = ["# hikyaku integration test config"]
        for k, v in self.settings.items():
            lines.append("%s %s" % (k, v))
        for l in self.listens:
            lines.append("listen " + l)
        lines.extend(self.extra_lines)
        return "\n".join(lines) + "\n"

    def write_config(self):
        with open(self.conf_path, "w") as f:
            f.write(self.config_text())

    # -- CLI -----------------------------------------------------------------
    def cli(self, *args, input=None, check=True, timeout=30, conf=True):
        argv = [self.bin] + [str(a) for a in args]
        if conf:
            argv += ["-c", self.conf_path]
        p = subprocess.run(argv, input=input, capture_output=True, text=True,
                           timeout=timeout, stdin=None if input is not None else subprocess.DEVNULL)
        if check and p.returncode != 0:
            raise RelayError("%s -> exit %d\nstdout: %s\nstderr: %s"
                             % (" ".join(argv), p.returncode, p.stdout, p.stderr))
        return p

    def add_account(self, name, password, grants=()):
        self.cli("account", "add", name, input=password + "\n")
        for g in grants:
            self.cli("grant", "add", name, g)

    def setup_default_accounts(self):
        self.add_account(ALICE[0], ALICE[1], ["@example.jp"])
        self.add_account(BOB[0], BOB[1], ["bob@example.org"])

    # -- tmpfs spool ----------------------------------------------------------
    def mount_tmpfs_spool(self, size):
        """Mount a tmpfs of size on the spool; returns None or a reason why not."""
        if not in_private_mount_ns():
            return "not in a private mount namespace (run under unshare --mount, see run.sh)"
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0700" % size,
                            "tmpfs", self.spool], capture_output=True, text=True)
        if p.returncode != 0:
            return "mount tmpfs failed: %s" % p.stderr.strip()
        self.mounted = True
        return None

    # -- process -------------------------------------------------------------
    def start(self, timeout=15.0):
        if self.proc is not None and self.proc.poll() is None:
            raise RelayError("already running")
        self.log_offset = self._log_size()
        logf = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(
                [self.bin, "serve", "-c", self.conf_path],
                stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                start_new_session=True, cwd=self.dir)
        finally:
            logf.close()
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        next_probe = time.monotonic() + 2.0
        while True:
            if self.proc.poll() is not None:
                raise RelayError("hikyaku serve exited with %s before ready; log:\n%s"
                                 % (self.proc.returncode, self.log_since(self.log_offset)))
            if "ready" in self.log_since(self.log_offset):
                return
            if time.monotonic() >= next_probe:
                # No "ready" line (yet): accept listening ports as readiness.
                if self._ports_open():
                    return
                next_probe = time.monotonic() + 0.5
            if time.monotonic() >= deadline:
                raise RelayError("hikyaku not ready within %.0fs; log:\n%s"
                                 % (timeout, self.log_since(self.log_offset)))
            time.sleep(0.02)

    def _ports_open(self):
        for port in (self.starttls_port, self.tls_port):
            try:
                socket.create_connection((self.host, port), timeout=1).close()
            except OSError:
                return False
        return True

    @property
    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is not None:
            self.exit_statuses.append(kill_group(self.proc))
            self.proc = None

    def kill9(self):
        """SIGKILL at once, no grace."""
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(10)
            self.exit_statuses.append(self.proc.returncode)
            self.proc = None

    def restart(self):
        self.stop()
        return self.start()

    def cleanup(self):
        self.stop()
        if self.mounted:
            subprocess.run(["umount", "-l", self.spool], capture_output=True)
            self.mounted = False

    # -- log -----------------------------------------------------------------
    def _log_size(self):
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_since(self, offset):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(offset)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def mark(self):
        return self._log_size()

    def wait_log(self, pattern, timeout=5.0, since=0):
        rx = re.compile(pattern, re.M)
        return wait_for(lambda: rx.search(self.log_since(since)), timeout)

    # -- queue ---------------------------------------------------------------
    def queue_list(self):
        """[(id, line)] of messages in `queue list`."""
        out = self.cli("queue", "list").stdout
        res = []
        for line in out.splitlines():
            m = QLINE_RE.match(line)
            if m and ("@" in m.group(2) or "<>" in m.group(2)):
                res.append((m.group(1), line))
        return res

    def queue_ids(self):
        return [i for i, _ in self.queue_list()]

    def queue_show(self, qid, check=True):
        return self.cli("queue", "show", qid, check=check)

    def queued_message(self, qid):
        """(envelope text, message text) of `queue show ID`."""
        out = self.queue_show(qid).stdout
        for sep in ("\n\n", "\r\n\r\n"):
            if sep in out:
                env, msg = out.split(sep, 1)
                return env, msg
        raise RelayError("queue show %s: no blank line between envelope and message:\n%s"
                         % (qid, out))

    # -- clients ---------------------------------------------------------------
    def connect(self, tls_port=False, **kw):
        from helpers import SMTPRaw
        if tls_port:
            return SMTPRaw(self.host, self.tls_port, implicit_tls=True, **kw)
        return SMTPRaw(self.host, self.starttls_port, **kw)

    def session(self, account=ALICE, tls_port=False, **kw):
        """A connected, TLS-protected, authenticated SMTPRaw."""
        c = self.connect(tls_port=tls_port, **kw)
        try:
            c.setup_auth(*account)
        except Exception:
            c.close()
            raise
        return c


# ---------------------------------------------------------------------------
# Postfix as the home MTA
# ---------------------------------------------------------------------------

POSTFIX_MASTER = "/usr/lib/postfix/sbin/master"


class Postfix:
    """A private Postfix instance (config, queue, data dirs under dir) that
    accepts mail by SMTP on 127.0.0.1:port and relays everything to relayhost."""

    def __init__(self, dir, relayhost, sasl_user, sasl_password, wrappermode=False,
                 host="127.0.0.1"):
        # Postfix daemons run as user postfix: the directory must be traversable.
        self.dir = dir
        self.host = host
        self.port = free_port(host)
        self.etc = os.path.join(dir, "etc")
        self.queue = os.path.join(dir, "queue")
        self.data = os.path.join(dir, "data")
        self.maillog = os.path.join(dir, "maillog")
        self.proc = None
        for d in (self.etc, self.queue, self.data):
            os.makedirs(d, exist_ok=True)
        shutil.chown(self.data, "postfix")
        shutil.copy("/etc/postfix/master.cf", os.path.join(self.etc, "master.cf"))
        open(os.path.join(self.etc, "main.cf"), "w").close()
        with open(os.path.join(self.etc, "sasl_passwd"), "w") as f:
            f.write("%s %s:%s\n" % (relayhost, sasl_user, sasl_password))
        os.chmod(os.path.join(self.etc, "sasl_passwd"), 0o600)
        params = {
            "compatibility_level": "3.6",
            "config_directory": self.etc,
            "queue_directory": self.queue,
            "data_directory": self.data,
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "maillog_file_prefixes": "/tmp, /var, /root, /work, /dev/stdout, " + dir,
            "maillog_file": self.maillog,
            "myhostname": "home.test",
            "mydomain": "test",
            "myorigin": "example.jp",
            "mydestination": "",
            "local_recipient_maps": "",
            "inet_interfaces": host,
            "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.0/8",
            "smtp_dns_support_level": "disabled",
            "smtpd_peername_lookup": "no",
            "relayhost": relayhost,
            "smtp_sasl_auth_enable": "yes",
            # as in docs/postfix-client.md: the key is the relayhost, verbatim
            "smtp_sasl_password_maps": "texthash:" + os.path.join(self.etc, "sasl_passwd"),
            "smtp_sasl_security_options": "noanonymous",
            "smtp_sasl_tls_security_options": "noanonymous",
            "smtp_tls_security_level": "encrypt",
            "smtp_tls_wrappermode": "yes" if wrappermode else "no",
            "smtp_tls_loglevel": "1",
            "smtp_connect_timeout": "10s",
            "smtp_helo_timeout": "20s",
            "queue_run_delay": "5s",
            "minimal_backoff_time": "5s",
            "maximal_backoff_time": "10s",
            "biff": "no",
            "alias_maps": "",
            "alias_database": "",
            "smtputf8_enable": "no",
        }
        self._postconf(["-e"] + ["%s=%s" % kv for kv in params.items()])
        # No chroot (the queue dir is not set up as a jail); SMTP on our port.
        self._postconf(["-F", "*/*/chroot=n"])
        self._postconf(["-MX", "smtp/inet"])
        self._postconf(["-M", "%s:%d/inet=%s:%d inet n - n - - smtpd"
                        % (host, self.port, host, self.port)])
        p = subprocess.run(["postfix", "-c", self.etc, "check"], capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError("postfix check failed: %s %s\n%s"
                               % (p.stdout, p.stderr, self.log()))

    def _postconf(self, args):
        subprocess.run(["postconf", "-c", self.etc] + args, check=True,
                       capture_output=True, text=True)

    def start(self, timeout=15):
        self.proc = subprocess.Popen(
            [POSTFIX_MASTER, "-c", self.etc, "-d"],
            stdin=subprocess.DEVNULL, stdout=open(os.path.join(self.dir, "master.out"), "ab"),
            stderr=subprocess.STDOUT, start_new_session=True,
            env=dict(os.environ, MAIL_CONFIG=self.etc))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("postfix master exited %s:\n%s" % (self.proc.returncode, self.log()))
            try:
                socket.create_connection((self.host, self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("postfix not listening on %s:%d:\n%s" % (self.host, self.port, self.log()))

    def stop(self):
        kill_group(self.proc, term_timeout=5)
        self.proc = None

    def log(self):
        out = ""
        for p in (self.maillog, os.path.join(self.dir, "master.out")):
            try:
                with open(p, errors="replace") as f:
                    out += f.read()
            except OSError:
                pass
        return out
