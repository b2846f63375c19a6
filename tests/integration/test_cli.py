"""The command line: check-config, account, grant, queue."""
import os
import re

import pytest

from harness import ALICE
from helpers import free_port, make_message


# -- check-config ----------------------------------------------------------------

def test_check_config_ok(relay_factory):
    r = relay_factory(start=False, accounts=False)
    p = r.cli("check-config", check=False)
    assert p.returncode == 0, p.stderr
    assert re.search(r"\bok\b", p.stdout + p.stderr, re.I), (p.stdout, p.stderr)


@pytest.mark.parametrize("bad,what", [
    ("no-such-keyword 1", "unknown keyword"),
    ("max-message-size 10x", "bad size suffix"),
    ("max-recipients many", "not a number"),
    ("max-recipients", "missing value"),
    ("listen 127.0.0.1:99999 starttls", "port out of range"),
    ("listen 127.0.0.1:2525 plaintext", "bad listen mode"),
    ("auth-max-failures -1", "negative"),
    ("log somewhere", "bad log target"),
])
def test_check_config_errors_name_file_and_line(relay_factory, bad, what):
    r = relay_factory(start=False, accounts=False)
    text = r.config_text()
    lines = text.splitlines()
    lines.insert(2, bad)     # becomes line 3
    with open(r.conf_path, "w") as f:
        f.write("\n".join(lines) + "\n")
    p = r.cli("check-config", check=False)
    assert p.returncode == 1, (what, p.returncode, p.stdout, p.stderr)
    assert "%s:3:" % r.conf_path in p.stderr, (what, p.stderr)
    # serve refuses the same file, the same way
    p = r.cli("serve", check=False, timeout=10)
    assert p.returncode != 0, (what, p.stdout, p.stderr)
    assert "%s:3:" % r.conf_path in p.stderr, (what, p.stderr)


def test_check_config_comments_and_blank_lines(relay_factory):
    r = relay_factory(start=False, accounts=False)
    with open(r.conf_path, "w") as f:
        f.write("# a comment\n\n   # indented comment\n" + r.config_text() + "\n\n")
    p = r.cli("check-config", check=False)
    assert p.returncode == 0, p.stderr


def test_config_option_position(relay_factory):
    r = relay_factory(start=False)
    before = [r.bin, "-c", r.conf_path, "account", "list"]
    middle = [r.bin, "account", "-c", r.conf_path, "list"]
    import subprocess
    for argv in (before, middle):
        p = subprocess.run(argv, capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL)
        assert p.returncode == 0, (argv, p.stderr)
        assert "alice" in p.stdout and "bob" in p.stdout, (argv, p.stdout)


# -- accounts and grants -----------------------------------------------------------

def test_account_list_and_grants(relay_factory):
    r = relay_factory(start=False)
    out = r.cli("account", "list").stdout
    assert re.search(r"^\s*alice\b", out, re.M) and re.search(r"^\s*bob\b", out, re.M), out
    assert ALICE[1] not in out
    g = r.cli("grant", "list").stdout
    assert "@example.jp" in g and "bob@example.org" in g, g
    g = r.cli("grant", "list", "bob").stdout
    assert "bob@example.org" in g and "@example.jp" not in g, g
    r.cli("grant", "add", "bob", "@example.net")
    assert "@example.net" in r.cli("grant", "list", "bob").stdout
    r.cli("grant", "del", "bob", "@example.net")
    assert "@example.net" not in r.cli("grant", "list", "bob").stdout
    r.cli("account", "del", "bob")
    out = r.cli("account", "list").stdout
    assert not re.search(r"^\s*bob\b", out, re.M), out


def test_account_errors(relay_factory):
    r = relay_factory(start=False)
    p = r.cli("account", "add", "alice", input="again\n", check=False)
    assert p.returncode != 0, "duplicate account accepted"
    p = r.cli("account", "del", "nosuch", check=False)
    assert p.returncode != 0
    p = r.cli("grant", "add", "nosuch", "@example.jp", check=False)
    assert p.returncode != 0
    p = r.cli("grant", "add", "alice", "not an address", check=False)
    assert p.returncode != 0
    p = r.cli("account", "trust", "alice", "300.0.0.0/8", check=False)
    assert p.returncode != 0


def test_account_generate_password(relay_factory):
    r = relay_factory(start=True)
    p = r.cli("account", "add", "carol", "--generate")
    m = re.search(r"^password: (\S+)$", p.stdout, re.M)
    assert m, p.stdout
    pw = m.group(1)
    assert len(pw) >= 12, pw
    r.cli("grant", "add", "carol", "carol@example.com")
    with r.session(("carol", pw)) as c:
        _, _, e = c.send_mail("carol@example.com", "x@example.net",
                              make_message(frm="carol@example.com"))
        assert e.code == 250, e
    # account added while the relay runs, usable at once; hash not in the output
    assert "$y$" not in p.stdout


def test_account_password_from_stdin_first_line(relay_factory):
    r = relay_factory(start=True, accounts=False)
    r.cli("account", "add", "dave", input="first-line-pw\nsecond-line\n")
    r.cli("grant", "add", "dave", "@example.jp")
    c = r.connect()
    with c:
        c.greeting(); c.ehlo(); c.starttls(); c.ehlo()
        assert c.auth_plain("dave", "first-line-pw\nsecond-line").code == 535
        assert c.auth_plain("dave", "first-line-pw").code == 235


# -- queue -------------------------------------------------------------------------

def test_queue_list_and_show(relay):
    with relay.session() as c:
        _, _, e1 = c.send_mail("alice@example.jp", ["a@example.com", "b@example.net"],
                               make_message(subject="q1", body="QUEUE-ONE"))
        _, _, e2 = c.send_mail("", "c@example.com", make_message(subject="q2", body="QUEUE-TWO"))
        assert e1.code == 250 and e2.code == 250
    ql = relay.queue_list()
    assert sorted(i for i, _ in ql) == sorted([e1.queue_id(), e2.queue_id()]), ql
    line1 = dict(ql)[e1.queue_id()]
    assert "alice@example.jp" in line1 and "a@example.com" in line1, line1
    env, msg = relay.queued_message(e1.queue_id())
    assert "a@example.com" in env and "b@example.net" in env
    assert "alice" in env
    assert "QUEUE-ONE" in msg and "QUEUE-TWO" not in msg


def test_queue_show_unknown(relay):
    p = relay.queue_show("ZZZZZZZZZZ", check=False)
    assert p.returncode != 0
    assert p.stderr.strip(), "no error message"


def test_queue_list_empty(relay):
    relay.cli("queue", "list")
    assert relay.queue_ids() == []


def test_check_config_missing_file(relay_factory):
    r = relay_factory(start=False, accounts=False)
    missing = r.conf_path + ".nope"
    import subprocess
    for sub in (["check-config"], ["serve"]):
        p = subprocess.run([r.bin] + sub + ["-c", missing], capture_output=True, text=True,
                           timeout=10, stdin=subprocess.DEVNULL)
        assert p.returncode == 1, (sub, p.returncode, p.stderr)
        assert missing in p.stderr, (sub, p.stderr)


def test_check_config_embedded_default(relay_factory):
    if os.path.exists("/etc/hikyaku/hikyaku.conf"):
        pytest.skip("/etc/hikyaku/hikyaku.conf exists on this machine")
    r = relay_factory(start=False, accounts=False)
    import subprocess
    p = subprocess.run([r.bin, "check-config"], capture_output=True, text=True, timeout=10,
                       stdin=subprocess.DEVNULL, cwd=r.dir)
    assert p.returncode == 0, p.stderr


# -- one daemon per spool ------------------------------------------------------

def test_pidfile_one_daemon_per_spool(relay_factory, tmp_path):
    r = relay_factory()
    pidfile = os.path.join(r.spool, "hikyaku.pid")
    with open(pidfile) as f:
        assert int(f.read().strip()) == r.proc.pid
    # a second daemon on the same spool (other ports) is refused, and says why
    other = os.path.join(str(tmp_path), "other.conf")
    text = "\n".join(l for l in r.config_text().splitlines() if not l.startswith("listen"))
    with open(other, "w") as f:
        f.write(text + "\nlisten 127.0.0.1:%d starttls\n" % free_port("127.0.0.1"))
    p = r.cli("serve", "-c", other, conf=False, check=False, timeout=10)
    assert p.returncode != 0
    assert "already running on spool" in p.stderr, p.stderr
    r.stop()
    assert not os.path.exists(pidfile)


def test_builtin_config_asks_no_dns_server(tmp_path):
    """`make run`'s built-in configuration sends nothing out, so it asks no
    real DNS server either: not even the start-up DNSSEC check of the root."""
    import subprocess
    import time
    from harness import hikyaku_bin

    trace = tmp_path / "trace"
    p = subprocess.Popen(["strace", "-f", "-qq", "-e", "trace=connect,sendto,sendmsg",
                          "-o", str(trace), hikyaku_bin(), "serve"], cwd=tmp_path,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        log = ""
        while "ready, listening" not in log and time.monotonic() < deadline:
            log += p.stdout.readline()
        assert "ready, listening" in log, log
        time.sleep(2)       # the start-up queries went out right after "ready", if at all
    finally:
        try:            # stop hikyaku itself: strace waits for its tracee
            os.kill(int((tmp_path / "var" / "hikyaku.pid").read_text().split()[0]), 15)
        except (OSError, ValueError):
            p.kill()
        p.wait(30)
    calls = trace.read_text()
    assert "--- SIGTERM" in calls, "strace did not trace hikyaku: " + calls[:500]
    assert "htons(53)" not in calls, [l for l in calls.splitlines() if "htons(53)" in l]
