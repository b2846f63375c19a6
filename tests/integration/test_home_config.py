"""`hikyaku home-config` and `account add --home-config` (issue 10): what
they print is installed, as printed, into real home MTAs - a private
Postfix, msmtp, OpenSMTPD and nullmailer - which then send a message
through a live hikyaku to a test MX, where it arrives DKIM-signed. Exim's
configuration (Debian's update-exim4.conf and a plain exim configure) is
checked by the real exim.

Only file locations change between the printed configuration and the
installed one (/etc/... becomes the test's directory). OpenSMTPD, Exim and
nullmailer conflict with Postfix as packages: scripts/install-deps.sh
unpacks them into /opt/hikyaku-test/mtas (HIKYAKU_TEST_MTAS); their users
are added to a copy of /etc/passwd bound over the real one in the test's
own mount namespace, never on the host.
"""
import os
import re
import shutil
import smtplib
import subprocess
import tempfile
import time

import dkim
import pytest
from aiosmtpd.controller import Controller

from certs import TestCA
from harness import Postfix, Relay, in_private_ns, kill_group
from helpers import free_port, make_message, wait_for
from home import config_blocks, uncommented
from testdns import TestDNS

MTAS = os.environ.get("HIKYAKU_TEST_MTAS", "/opt/hikyaku-test/mtas")
RCPT = "friend@example.com"
ARRIVAL_WAIT = 40


class CaptureMX:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos),
                              envelope.original_content))
        return "250 2.0.0 Ok: kept"


class World:
    """A test DNS with example.jp's DKIM key, a capturing MX, and a hikyaku
    relay (certificate for localhost from a test CA) routing all mail there."""

    def __init__(self, base):
        self.base = base
        os.chmod(base, 0o755)    # Postfix's and OpenSMTPD's users read the CA here
        self.ca = TestCA(os.path.join(base, "ca"))
        os.chmod(self.ca.dir, 0o755)
        cert, key = self.ca.leaf("localhost")
        self.mx = CaptureMX()
        self.mx_port = free_port()
        self.mx_ctl = Controller(self.mx, hostname="127.0.0.1", port=self.mx_port,
                                 decode_data=False)
        self.mx_ctl.start()
        self.dns = TestDNS(os.path.join(base, "dns"), []).start()
        rd = os.path.join(base, "relay")
        os.makedirs(rd)
        self.relay = Relay(rd, cert=cert, key=key)
        self.relay.configure(resolver="%s:%d" % (self.dns.addr, self.dns.port))
        self.relay.extra_lines.append("route * 127.0.0.1:%d" % self.mx_port)
        self.relay.write_config()
        out = self.relay.cli("dkim", "keygen", "example.jp", "--selector", "home").stdout
        name = re.search(r"^(\S+)\. IN TXT", out, re.M).group(1)
        self.dns.add_records([(name, "TXT", re.findall(r'"([^"]*)"', out))])
        self.relay.start()

    def account(self, name, mta, *extra):
        """`account add NAME --generate --home-config MTA ...`: (password, printed config)."""
        p = self.relay.cli("account", "add", name, "--generate", "--home-config", mta, *extra)
        self.relay.cli("grant", "add", name, "@example.jp")
        pw = re.search(r"^password: (\S+)$", p.stdout, re.M).group(1)
        text = p.stdout.split("\n", 1)[1]
        assert "PASSWORD" not in text, text
        assert pw in text, text
        return pw, text

    def relay_args(self, implicit=False):
        """--relay localhost:PORT for the STARTTLS port, or the implicit TLS one (--tls:
        the test's port is not 465)."""
        if implicit:
            return ["--relay", "localhost:%d" % self.relay.tls_port, "--tls",
                    "--ca-file", self.ca.path]
        return ["--relay", "localhost:%d" % self.relay.starttls_port, "--ca-file", self.ca.path]

    def arrived(self, marker):
        for frm, rcpts, data in self.mx.messages:
            if marker.encode() in data:
                return frm, rcpts, data
        return None

    def wait_signed(self, marker, sender, log=lambda: ""):
        got = wait_for(lambda: self.arrived(marker), ARRIVAL_WAIT, interval=0.2)
        assert got, "not delivered within %ds\nrelay log:\n%s\nMTA log:\n%s" % (
            ARRIVAL_WAIT, self.relay.log()[-3000:], log()[-3000:])
        frm, rcpts, data = got
        assert frm == sender and rcpts == [RCPT], got[:2]
        assert data.startswith(b"DKIM-Signature:"), data[:300]
        assert dkim.verify(data, dnsfunc=self.dnsfunc), data[:1500]
        assert b"d=example.jp" in data.split(b"\r\n\r\n")[0]
        return data

    def dnsfunc(self, name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode()
        return self.dns.txt_bytes(name.rstrip("."))

    def stop(self):
        self.relay.cleanup()
        self.dns.stop()
        self.mx_ctl.stop()


@pytest.fixture(scope="module")
def world():
    base = tempfile.mkdtemp(prefix="hikyaku-home-")
    w = World(base)
    yield w
    w.stop()
    shutil.rmtree(base, ignore_errors=True)


def message(marker, frm="alice@example.jp"):
    return make_message(frm="Alice <%s>" % frm, to=RCPT, subject=marker, body=marker,
                        date=False, msgid=False)


def localize(text, mapping):
    """The printed configuration with /etc/... paths moved into the test."""
    for old, new in mapping.items():
        text = text.replace(old, new)
    return text


def run_shell_block(block, mapping, skip, env=None):
    """Run the printed commands (paths moved) except those starting with skip."""
    for line in uncommented(localize(block, mapping)).splitlines():
        if line.startswith(skip):
            continue
        p = subprocess.run(line, shell=True, capture_output=True, text=True, timeout=30,
                           env=dict(os.environ, **(env or {})))
        assert p.returncode == 0, (line, p.stdout, p.stderr)


# -- home-config itself ------------------------------------------------------------------------

def test_home_config_placeholder_and_usage():
    hk = Relay.__init__.__globals__["hikyaku_bin"]()
    p = subprocess.run([hk, "home-config", "--mta", "postfix", "--relay", "relay.example.net",
                        "--account", "alice"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "[relay.example.net]:587 alice:PASSWORD" in p.stdout
    assert "Write the account's password where it says PASSWORD" in p.stdout
    assert "smtp_tls_security_level = secure" in p.stdout
    assert "smtp_tls_wrappermode = no" in p.stdout
    p = subprocess.run([hk, "home-config", "--mta", "postfix", "--relay",
                        "relay.example.net:465", "--account", "alice"],
                       capture_output=True, text=True)
    assert "smtp_tls_wrappermode = yes" in p.stdout and "[relay.example.net]:465" in p.stdout
    for bad in (["--mta", "sendmail", "--relay", "r.example", "--account", "a"],
                ["--mta", "postfix", "--relay", "r.example"],
                ["--mta", "postfix", "--relay", "r.example", "--account", "a:b"],
                ["--mta", "postfix", "--relay", "r example", "--account", "a"],
                ["--mta", "postfix", "--relay", "r.example", "--account", "a", "--ca-file",
                 "/tmp/x y.pem"]):
        p = subprocess.run([hk, "home-config"] + bad, capture_output=True, text=True)
        assert p.returncode == 2 and p.stderr and not p.stdout, (bad, p.stdout, p.stderr)


def test_account_add_defaults_to_the_relays_name_and_port(world):
    p = world.relay.cli("account", "add", "carol", "--generate", "--home-config", "nullmailer")
    pw = re.search(r"^password: (\S+)$", p.stdout, re.M).group(1)
    assert ("relay.test smtp --port=%d --starttls --user=carol --pass=%s"
            % (world.relay.starttls_port, pw)) in p.stdout, p.stdout
    # a bad --home-config creates nothing
    p = world.relay.cli("account", "add", "dave", "--generate", "--home-config", "qmail",
                        check=False)
    assert p.returncode != 0 and "dave" not in world.relay.cli("account", "list").stdout


# -- Postfix --------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["starttls", "implicit-465"])
def test_postfix(world, mode):
    port = world.relay.tls_port if mode.startswith("implicit") else world.relay.starttls_port
    user = "pf" + mode[:4]
    pw, text = world.account(user, "postfix", *world.relay_args(mode != "starttls"))
    blocks = config_blocks(text)
    d = tempfile.mkdtemp(prefix="hikyaku-postfix-")
    os.chmod(d, 0o755)
    pf = Postfix(d, "[127.0.0.1]:1", "nobody", "nothing")   # replaced by what was printed
    try:
        paths = {"/etc/postfix/": pf.etc + "/"}
        settings = [l for l in uncommented(localize(blocks["/etc/postfix/main.cf"], paths))
                    .splitlines()]
        assert "relayhost = [localhost]:%d" % port in settings, settings
        subprocess.run(["postconf", "-c", pf.etc, "-e"] + [s.replace(" = ", "=", 1)
                                                           for s in settings], check=True)
        with open(pf.etc + "/sasl_passwd", "w") as f:
            f.write(uncommented(blocks["/etc/postfix/sasl_passwd"]))
        run_shell_block(blocks["shell"], paths, skip="postfix reload",
                        env={"MAIL_CONFIG": pf.etc})
        assert os.path.exists(pf.etc + "/sasl_passwd.db")
        pf.start()
        marker = "HOME-POSTFIX-%s-%d" % (mode, time.time_ns())
        with smtplib.SMTP(pf.host, pf.port, timeout=20) as s:
            s.sendmail("alice@example.jp", [RCPT], message(marker))
        world.wait_signed(marker, "alice@example.jp", pf.log)
        assert re.search(r"Verified TLS connection established to localhost\[127\.0\.0\.1\]:%d"
                         % port, pf.log()), pf.log()[-3000:]
        assert re.search(r"sasl_username=%s" % user, world.relay.log())
    finally:
        pf.stop()
        shutil.rmtree(d, ignore_errors=True)


# -- msmtp ----------------------------------------------------------------------------------------

def test_msmtp(world, tmp_path):
    pw, text = world.account("msmtpuser", "msmtp", *world.relay_args())
    blocks = config_blocks(text)
    rc = str(tmp_path / "msmtprc")
    with open(rc, "w") as f:
        f.write(blocks["/etc/msmtprc"])
    run_shell_block(blocks["shell"], {"/etc/msmtprc": rc}, skip="#")
    assert os.stat(rc).st_mode & 0o777 == 0o600
    marker = "HOME-MSMTP-%d" % time.time_ns()
    p = subprocess.run(["msmtp", "-C", rc, "-f", "alice@example.jp", RCPT],
                       input=message(marker), capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr.decode()
    world.wait_signed(marker, "alice@example.jp")


# -- private namespaces for the unpacked MTAs ------------------------------------------------------

class Users:
    """System users added to a copy of /etc/passwd and /etc/group bound over
    the real ones, in this test's mount namespace only."""

    def __init__(self, dir, users):
        if not in_private_ns("mnt"):
            pytest.skip("not in a private mount namespace (run under scripts/netns-run)")
        self.mounted = []
        for name in ("passwd", "group"):
            copy = os.path.join(dir, name)
            shutil.copy("/etc/" + name, copy)
            with open(copy, "a") as f:
                for user, uid in users:
                    if name == "passwd":
                        f.write("%s:x:%d:%d::/nonexistent:/usr/sbin/nologin\n" % (user, uid, uid))
                    else:
                        f.write("%s:x:%d:\n" % (user, uid))
            self.bind(copy, "/etc/" + name)

    def bind(self, src, dst):
        subprocess.run(["mount", "--bind", src, dst], check=True)
        self.mounted.append(dst)

    def undo(self):
        for dst in reversed(self.mounted):
            subprocess.run(["umount", dst], capture_output=True)


def need(path):
    if not os.path.exists(path):
        pytest.skip("%s is missing: run scripts/install-deps.sh test" % path)
    return path


# -- OpenSMTPD ------------------------------------------------------------------------------------

@pytest.mark.parametrize("trust", ["ca-file", "system-store-only"])
def test_opensmtpd(world, tmp_path, trust):
    """As printed, OpenSMTPD verifies the relay's certificate: it delivers
    with the CA the config names, and refuses to when that line is removed."""
    smtpd = need(os.path.join(MTAS, "opensmtpd/usr/sbin/smtpd"))
    need("/var/spool/smtpd")
    need("/var/lib/opensmtpd/empty")
    pw, text = world.account("osmtpd" + trust[:2], "opensmtpd", *world.relay_args())
    blocks = config_blocks(text)
    conf = blocks["/etc/smtpd.conf"]
    assert re.search(r'^ca hikyaku-relay cert "%s"$' % re.escape(world.ca.path), conf, re.M)
    if trust == "system-store-only":
        conf = re.sub(r"^ca hikyaku-relay .*\n", "", conf, flags=re.M)
        conf = conf.replace(" ca hikyaku-relay", "")
    d = tmp_path / "opensmtpd"
    d.mkdir()
    os.chmod(tmp_path, 0o755)
    os.chmod(d, 0o755)
    users = Users(str(d), [("opensmtpd", 60101), ("opensmtpq", 60102)])
    proc = None
    try:
        spool = d / "spool"
        spool.mkdir()
        os.chmod(spool, 0o711)
        users.bind(str(spool), "/var/spool/smtpd")
        paths = {"/etc/smtpd/hikyaku-secrets": str(d / "secrets"),
                 "/etc/smtpd.conf": str(d / "smtpd.conf"),
                 "smtpd -n": smtpd + " -n -f " + str(d / "smtpd.conf")}
        port = free_port()
        with open(d / "smtpd.conf", "w") as f:
            f.write("listen on 127.0.0.1 port %d\n" % port)
            f.write(localize(conf, paths))
        with open(d / "secrets", "w") as f:
            f.write(blocks["/etc/smtpd/hikyaku-secrets"])
        run_shell_block(blocks["shell"], paths, skip="systemctl")    # chown, chmod, smtpd -n
        log = open(d / "smtpd.log", "wb")
        proc = subprocess.Popen([smtpd, "-d", "-v", "-f", str(d / "smtpd.conf")],
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

        def smtpd_log():
            with open(d / "smtpd.log", errors="replace") as f:
                return f.read()
        up = wait_for(lambda: _listening(port), 15, interval=0.1)
        assert up, smtpd_log()
        marker = "HOME-OPENSMTPD-%s-%d" % (trust, time.time_ns())
        with smtplib.SMTP("127.0.0.1", port, timeout=20) as s:
            s.sendmail("alice@example.jp", [RCPT], message(marker))
        if trust == "ca-file":
            world.wait_signed(marker, "alice@example.jp", smtpd_log)
            assert re.search(r"sasl_username=osmtpdca", world.relay.log())
            assert "mta tls ciphers=TLSv1." in smtpd_log()
        else:
            failed = wait_for(lambda: "SSL certificate check failed" in smtpd_log(), 20,
                              interval=0.2)
            assert failed, smtpd_log()[-3000:]
            assert world.arrived(marker) is None
            assert "sasl_username=osmtpdsy" not in world.relay.log()
    finally:
        kill_group(proc)
        if os.path.exists("/run/smtpd.sock"):
            os.unlink("/run/smtpd.sock")
        users.undo()


def _listening(port):
    import socket
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


# -- nullmailer -----------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["starttls", "implicit"])
def test_nullmailer(world, tmp_path, mode):
    """nullmailer-send itself, pointed at a test tree by NULLMAILER_TEST_PREFIX
    (conf/, queue/, protocols/), sends one queued message and exits."""
    send = need(os.path.join(MTAS, "nullmailer/usr/sbin/nullmailer-send"))
    smtp = need(os.path.join(MTAS, "nullmailer/usr/lib/nullmailer/smtp"))
    pw, text = world.account("null" + mode[:4], "nullmailer",
                             *world.relay_args(mode == "implicit"))
    blocks = config_blocks(text)
    root = tmp_path / "nm"
    for sub in ("conf", "queue/queue", "queue/tmp", "protocols"):
        (root / sub).mkdir(parents=True)
    os.mkfifo(root / "queue/trigger")
    os.symlink(smtp, root / "protocols/smtp")
    (root / "conf/remotes").write_text(blocks["/etc/nullmailer/remotes"])
    (root / "conf/pausetime").write_text("0\n")     # one pass, then exit
    (root / "conf/me").write_text("home.test\n")
    marker = "HOME-NULLMAILER-%s-%d" % (mode, time.time_ns())
    (root / "queue/queue/1.1").write_bytes(b"alice@example.jp\n" + RCPT.encode() + b"\n\n" +
                                          message(marker).replace(b"\r\n", b"\n"))
    p = subprocess.run([send], env=dict(os.environ, NULLMAILER_TEST_PREFIX=str(root)),
                       capture_output=True, text=True, timeout=90)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Sent file" in p.stdout or "Delivery complete" in p.stdout, p.stdout
    world.wait_signed(marker, "alice@example.jp", lambda: p.stdout)
    assert not list((root / "queue/queue").iterdir())


# -- Exim: checked by the real exim ----------------------------------------------------------------

def exim_users(d):
    return Users(d, [("Debian-exim", 60103)])


def test_exim_debian_config_checked_by_exim(world, tmp_path):
    exim = need(os.path.join(MTAS, "exim4/usr/sbin/exim4"))
    update = need(os.path.join(MTAS, "exim4/usr/sbin/update-exim4.conf"))
    pw, text = world.account("eximdeb", "exim", *world.relay_args(implicit=True))
    blocks = config_blocks(text)
    confdir = tmp_path / "exim4"
    shutil.copytree(os.path.join(MTAS, "exim4/etc/exim4"), confdir)
    base = ("dc_other_hostnames=''\ndc_local_interfaces='127.0.0.1'\ndc_readhost=''\n"
            "dc_relay_domains=''\ndc_minimaldns='false'\ndc_relay_nets=''\n"
            "dc_use_split_config='false'\ndc_hide_mailname=''\ndc_mailname_in_oh='true'\n"
            "dc_localdelivery='mail_spool'\n")
    (confdir / "update-exim4.conf.conf").write_text(
        base + uncommented(blocks["/etc/exim4/update-exim4.conf.conf"]))
    (confdir / "exim4.conf.localmacros").write_text(blocks["/etc/exim4/exim4.conf.localmacros"])
    (confdir / "passwd.client").write_text(blocks["/etc/exim4/passwd.client"])
    out = tmp_path / "config.autogenerated"
    # update-exim4.conf looks for /etc/exim4/exim4.conf.localmacros before it
    # includes the one in --confdir: a copy that looks in --confdir
    script = tmp_path / "update-exim4.conf"
    script.write_text(open(update).read().replace('"/etc/exim4/exim4.conf.localmacros"',
                                                  '"${UPEX4C_confdir}/exim4.conf.localmacros"'))
    users = exim_users(str(tmp_path))
    try:
        p = subprocess.run(["sh", str(script), "--confdir", str(confdir), "--output", str(out)],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stdout + p.stderr
        conf = out.read_text()
        assert "REMOTE_SMTP_SMARTHOST_PROTOCOL = smtps" in conf
        assert "localhost::%d" % world.relay.tls_port in conf
        p = subprocess.run([exim, "-C", str(out), "-bV"], capture_output=True, text=True,
                           timeout=30)
        assert p.returncode == 0 and "Configuration file is" in p.stdout, p.stdout + p.stderr
        p = subprocess.run([exim, "-C", str(out), "-bP", "transport", "remote_smtp_smarthost"],
                           capture_output=True, text=True, timeout=30)
        t = p.stdout
        assert p.returncode == 0, p.stderr
        assert "hosts_require_tls = *" in t and "tls_verify_hosts = *" in t, t
        assert "protocol = smtps" in t and world.ca.path in t, t
    finally:
        users.undo()


def test_exim_generic_config_checked_by_exim(world, tmp_path):
    exim = need(os.path.join(MTAS, "exim4/usr/sbin/exim4"))
    pw, text = world.account("eximgen", "exim", *world.relay_args())
    blocks = config_blocks(text)
    spool = tmp_path / "spool"
    spool.mkdir()
    conf = tmp_path / "exim.conf"
    # the test's relay is on this host; exim routes to itself only when told
    router = blocks["begin routers"].replace("  no_more", "  self = send\n  no_more")
    conf.write_text(
        "primary_hostname = home.test\ndomainlist local_domains = @\n"
        "spool_directory = %s\nlog_file_path = %s/%%slog\n\n"
        "begin routers\n%s\nbegin transports\n%s\nbegin authenticators\n%s"
        % (spool, tmp_path, router, blocks["begin transports"],
           blocks["begin authenticators"]))
    users = exim_users(str(tmp_path))
    try:
        p = subprocess.run([exim, "-C", str(conf), "-bV"], capture_output=True, text=True,
                           timeout=30)
        assert p.returncode == 0 and "Configuration file is" in p.stdout, p.stdout + p.stderr
        p = subprocess.run([exim, "-C", str(conf), "-bP", "transport", "hikyaku_smtp"],
                           capture_output=True, text=True, timeout=30)
        t = p.stdout
        assert "port = %d" % world.relay.starttls_port in t and "hosts_require_auth = *" in t, t
        p = subprocess.run([exim, "-C", str(conf), "-bt", RCPT], capture_output=True,
                           text=True, timeout=30)
        assert "router = hikyaku" in p.stdout and "transport = hikyaku_smtp" in p.stdout, \
            p.stdout + p.stderr
    finally:
        users.undo()
