"""The Debian package on a clean Debian 12 (issue 12).

scripts/check-deb.sh builds the package and a minimal Debian 12 chroot
(debootstrap, cached in the build tree, with the package's dependencies
already in it, so that nothing here needs the network), then runs this file
in a loopback-only network namespace with its own mount namespace:

    HIKYAKU_DEB          the .deb
    HIKYAKU_DEB_CHROOT   the clean chroot (never written: each test works on
                         an overlay of it, thrown away afterwards)

systemd is not PID 1 here, so the unit's ExecStart runs the way the unit
would run it: the command line, umask and environment from the installed
unit file, as the unit's user (root: the daemon drops to hikyaku itself),
with a NOTIFY_SOCKET that collects its sd_notify messages.
"""
import os
import re
import shlex
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import tempfile
import time

import pytest

DEB = os.environ.get("HIKYAKU_DEB", "")
BASE = os.environ.get("HIKYAKU_DEB_CHROOT", "")
UNIT = "/lib/systemd/system/hikyaku.service"

pytestmark = pytest.mark.skipif(
    not (os.path.isfile(DEB) and os.path.isdir(BASE)),
    reason="run by scripts/check-deb.sh (needs HIKYAKU_DEB and HIKYAKU_DEB_CHROOT)")


class Chroot:
    """An overlay of the clean chroot, with /proc and /dev, in our mount namespace."""

    def __init__(self, base):
        self.tmp = tempfile.mkdtemp(prefix="hikyaku-deb-")
        self.root = os.path.join(self.tmp, "root")
        for d in ("upper", "work", "root"):
            os.mkdir(os.path.join(self.tmp, d))
        self.mounts = []
        self.mount(["-t", "overlay", "overlay", "-o",
                    "lowerdir=%s,upperdir=%s/upper,workdir=%s/work" % (base, self.tmp, self.tmp),
                    self.root])
        self.mount(["-t", "proc", "proc", self.path("/proc")])
        self.mount(["--rbind", "/dev", self.path("/dev")])
        self.mount(["-t", "tmpfs", "tmpfs", self.path("/run")])
        os.makedirs(self.path("/run/lock"), exist_ok=True)

    def mount(self, args):
        subprocess.run(["mount"] + args, check=True, capture_output=True)
        self.mounts.append(args[-1])

    def path(self, p):
        return os.path.join(self.root, p.lstrip("/"))

    def run(self, cmd, check=True, input=None, timeout=120, env=None):
        e = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
             "DEBIAN_FRONTEND": "noninteractive"}
        e.update(env or {})
        p = subprocess.run(["chroot", self.root] + cmd, capture_output=True, text=True,
                           input=input, timeout=timeout, env=e,
                           stdin=None if input is not None else subprocess.DEVNULL)
        if check and p.returncode != 0:
            raise AssertionError("%s -> %d\n%s\n%s" % (cmd, p.returncode, p.stdout, p.stderr))
        return p

    def close(self):
        for m in reversed(self.mounts):
            subprocess.run(["umount", "-l", m], capture_output=True)
        shutil.rmtree(self.tmp, ignore_errors=True)


@pytest.fixture
def chroot():
    c = Chroot(BASE)
    try:
        yield c
    finally:
        c.close()


def install(c):
    shutil.copy(DEB, c.path("/tmp/hikyaku.deb"))
    # no package lists in the chroot: every dependency is already installed
    p = c.run(["apt-get", "install", "-y", "/tmp/hikyaku.deb"])
    return p.stdout + p.stderr


def unit_exec(c, key):
    """An Exec*= command line of the installed unit, as a list."""
    text = open(c.path(UNIT)).read()
    m = re.search(r"^%s=(.*)$" % key, text, re.M)
    assert m, "%s has no %s=" % (UNIT, key)
    return shlex.split(m.group(1))


def unit_setting(c, key, default=None):
    m = re.search(r"^%s=(.*)$" % key, open(c.path(UNIT)).read(), re.M)
    return m.group(1) if m else default


def test_install_remove_purge(chroot):
    c = chroot
    out = install(c)
    assert c.run(["dpkg-query", "-W", "-f=${Status}", "hikyaku"]).stdout == \
        "install ok installed", out

    # the user, the spool, the conffile, the unit
    pw = c.run(["getent", "passwd", "hikyaku"]).stdout.split(":")
    assert pw[5] == "/var/lib/hikyaku" and pw[6].strip() in ("/usr/sbin/nologin", "/bin/false")
    st = os.stat(c.path("/var/lib/hikyaku"))
    assert st.st_mode & 0o777 == 0o700 and st.st_uid == int(pw[2])
    conffiles = c.run(["dpkg-query", "-W", "-f=${Conffiles}", "hikyaku"]).stdout
    assert "/etc/hikyaku/hikyaku.conf" in conffiles
    conf = open(c.path("/etc/hikyaku/hikyaku.conf")).read()
    assert not re.search(r"^route ", conf, re.M), conf
    assert re.search(r"^spool /var/lib/hikyaku$", conf, re.M)
    assert re.search(r"^user hikyaku$", conf, re.M)
    assert c.run(["hikyaku", "check-config"]).stdout.strip().endswith("configuration OK")
    assert os.path.isfile(c.path(UNIT))
    assert os.path.islink(c.path("/etc/systemd/system/multi-user.target.wants/hikyaku.service"))
    for page in ("/usr/share/man/man8/hikyaku.8.gz", "/usr/share/man/man5/hikyaku.conf.5.gz"):
        assert os.path.isfile(c.path(page)), page

    c.run(["hikyaku", "account", "add", "alice", "--generate"])
    assert os.path.isfile(c.path("/var/lib/hikyaku/hikyaku.db"))

    c.run(["apt-get", "remove", "-y", "hikyaku"])
    assert not os.path.exists(c.path("/usr/sbin/hikyaku"))
    assert os.path.isfile(c.path("/var/lib/hikyaku/hikyaku.db")), "remove deleted the data"
    assert os.path.isfile(c.path("/etc/hikyaku/hikyaku.conf")), "remove deleted the conffile"

    c.run(["apt-get", "purge", "-y", "hikyaku"])
    assert not os.path.exists(c.path("/var/lib/hikyaku")), "purge kept the data"
    assert not os.path.exists(c.path("/etc/hikyaku/hikyaku.conf")), "purge kept the conffile"


class Notify:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        os.chmod(path, 0o777)   # as systemd's: the daemon writes after dropping root
        self.sock.settimeout(0.2)
        self.got = []

    def wait(self, text, timeout):
        deadline = time.monotonic() + timeout
        while not any(text in m for m in self.got) and time.monotonic() < deadline:
            try:
                self.got.append(self.sock.recv(4096).decode())
            except socket.timeout:
                pass
        return any(text in m for m in self.got)


def start_as_unit(c, log):
    """ExecStart as systemd would run it: as root (no User=), its UMask,
    NOTIFY_SOCKET set; returns (process, Notify)."""
    assert unit_setting(c, "User") is None, "the unit sets User=; run ExecStart as that user"
    assert unit_setting(c, "Type") == "notify"
    notify = Notify(c.path("/run/hikyaku-notify"))
    umask = int(unit_setting(c, "UMask", "0022"), 8)
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
           "NOTIFY_SOCKET": "/run/hikyaku-notify"}
    p = subprocess.Popen(["chroot", c.root] + unit_exec(c, "ExecStart"), env=env,
                         stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                         start_new_session=True, preexec_fn=lambda: os.umask(umask))
    return p, notify


def submit(port, user, password):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    msg = ("From: Alice <alice@example.jp>\r\nTo: bob@example.org\r\n"
           "Subject: packaged\r\n\r\nhello from the package test\r\n")
    with smtplib.SMTP("127.0.0.1", port, timeout=15) as s:
        s.starttls(context=ctx)
        s.login(user, password)
        s.sendmail("alice@example.jp", ["bob@example.org"], msg)
        code, text = s.noop()
        assert code == 250


def test_unit_execstart_serves_and_queues(chroot, tmp_path):
    c = chroot
    install(c)
    # the one file to edit: nothing may reach real DNS from a test; and the
    # log on stderr (no syslog daemon in the chroot)
    with open(c.path("/etc/hikyaku/hikyaku.conf"), "a") as f:
        f.write("resolver 127.0.0.1:1\nlog stderr\n")
    pw = c.run(["hikyaku", "account", "add", "alice", "--generate"]).stdout
    password = re.search(r"^password: (\S+)$", pw, re.M).group(1)
    c.run(["hikyaku", "grant", "add", "alice", "@example.jp"])

    logpath = str(tmp_path / "hikyaku.log")
    log = open(logpath, "ab")
    p, notify = start_as_unit(c, log)
    try:
        assert notify.wait("READY=1", 30), open(logpath).read()
        pid = int(open(c.path("/var/lib/hikyaku/hikyaku.pid")).read())
        uid = int(c.run(["id", "-u", "hikyaku"]).stdout)
        assert os.stat("/proc/%d" % pid).st_uid == uid, "the daemon did not drop to hikyaku"

        submit(587, "alice", password)
        q = c.run(["hikyaku", "queue", "list"]).stdout
        assert "bob@example.org" in q, q

        # edit the one file and reload the way systemctl reload would
        with open(c.path("/etc/hikyaku/hikyaku.conf"), "a") as f:
            f.write("listen 127.0.0.1:2465 tls\n")
        r = c.run(unit_exec(c, "ExecReload"))
        assert "reloaded" in r.stdout, r.stdout + r.stderr
        assert notify.wait("RELOADING=1", 5)
        with socket.create_connection(("127.0.0.1", 2465), timeout=5) as s:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            with ctx.wrap_socket(s) as t:
                assert t.recv(100).startswith(b"220 ")
        st = c.run(["hikyaku", "status"]).stdout
        assert "127.0.0.1:2465 tls" in st and "last reload" in st, st

        os.killpg(p.pid, signal.SIGTERM)
        assert p.wait(30) == 0, open(logpath).read()
        assert notify.wait("STOPPING=1", 1)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(10)
        log.close()
    text = open(logpath).read()
    assert "reload helper started as root" in text, text
    assert re.search(r"queued as|from=<alice@example\.jp>", text), text
