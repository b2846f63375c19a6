"""Real submission clients against the relay: swaks, msmtp, curl, smtplib."""
import os
import re
import smtplib
import subprocess

import pytest

from harness import ALICE
from helpers import QUEUED_RE, make_message, unverified_context

CLIENT_TIMEOUT = 30


def assert_queued(relay, qid, marker, sender="alice@example.jp", rcpt="rcpt@example.com"):
    assert qid, "no queue id"
    ids = relay.queue_ids()
    assert qid in ids, (qid, relay.cli("queue", "list").stdout)
    env, msg = relay.queued_message(qid)
    assert sender in env, env
    assert rcpt in env, env
    assert marker in msg, msg
    first = msg.lstrip().split("\n", 1)[0]
    assert first.startswith("Received:"), msg[:500]
    assert re.search(r"^Message-ID:", msg, re.M | re.I), msg[:1000]
    assert re.search(r"^Date:", msg, re.M | re.I), msg[:1000]
    return env, msg


def one_queue_id(text):
    ids = sorted(set(QUEUED_RE.findall(text)))
    assert len(ids) == 1, text[-3000:]
    return ids[0]


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=CLIENT_TIMEOUT,
                          stdin=kw.pop("stdin", subprocess.DEVNULL), **kw)


@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN"])
def test_swaks_starttls(relay, mech):
    marker = "swaks-starttls-%s-body" % mech
    p = run(["swaks", "--server", relay.host, "--port", str(relay.starttls_port),
             "--tls", "--auth", mech, "--auth-user", ALICE[0], "--auth-password", ALICE[1],
             "--ehlo", "client.test", "--from", "alice@example.jp", "--to", "rcpt@example.com",
             "--header", "Subject: swaks %s" % mech, "--body", marker, "--timeout", "20"])
    assert p.returncode == 0, p.stdout + p.stderr
    assert_queued(relay, one_queue_id(p.stdout), marker)


def test_swaks_implicit_tls(relay):
    marker = "swaks-tlsc-body"
    p = run(["swaks", "--server", relay.host, "--port", str(relay.tls_port), "--tlsc",
             "--auth", "PLAIN", "--auth-user", ALICE[0], "--auth-password", ALICE[1],
             "--ehlo", "client.test", "--from", "alice@example.jp", "--to", "rcpt@example.com",
             "--body", marker, "--timeout", "20"])
    assert p.returncode == 0, p.stdout + p.stderr
    env, msg = assert_queued(relay, one_queue_id(p.stdout), marker)


def test_swaks_foreign_sender_rejected(relay):
    p = run(["swaks", "--server", relay.host, "--port", str(relay.starttls_port),
             "--tls", "--auth", "PLAIN", "--auth-user", ALICE[0], "--auth-password", ALICE[1],
             "--from", "bob@example.org", "--to", "rcpt@example.com", "--timeout", "20"])
    assert p.returncode != 0
    assert "550 5.7.1 Sender rejected: <bob@example.org> is not granted to account alice" in p.stdout, p.stdout
    assert relay.queue_ids() == []


def msmtp_conf(relay, path, tls_port=False):
    lines = [
        "defaults",
        "tls on",
        "tls_starttls %s" % ("off" if tls_port else "on"),
        "tls_certcheck off",
        "logfile -",
        "account hk",
        "host %s" % relay.host,
        "port %d" % (relay.tls_port if tls_port else relay.starttls_port),
        "domain client.test",
        "auth plain",
        "user %s" % ALICE[0],
        "password %s" % ALICE[1],
        "from alice@example.jp",
        "account default : hk",
    ]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(path, 0o600)


@pytest.mark.parametrize("tls_port", [False, True], ids=["starttls", "tls"])
def test_msmtp(relay, tmp_path, tls_port):
    conf = str(tmp_path / "msmtprc")
    msmtp_conf(relay, conf, tls_port)
    marker = "msmtp-body-%s" % ("tls" if tls_port else "starttls")
    msg = ("From: Alice <alice@example.jp>\nTo: rcpt@example.com\nSubject: msmtp\n\n%s\n" % marker)
    p = subprocess.run(["msmtp", "-C", conf, "-d", "-a", "hk", "rcpt@example.com"], input=msg,
                       capture_output=True, text=True, timeout=CLIENT_TIMEOUT)
    assert p.returncode == 0, p.stdout + p.stderr
    assert_queued(relay, one_queue_id(p.stdout + p.stderr), marker)


def test_curl_starttls(relay, tmp_path):
    marker = "curl-starttls-body"
    f = tmp_path / "mail.txt"
    f.write_bytes(make_message(frm="Alice <alice@example.jp>", subject="curl",
                               body=marker + "\r\n.dot line\r\n", date=False, msgid=False))
    p = run(["curl", "-sS", "-v", "--ssl-reqd", "--insecure",
             "smtp://%s:%d/client.test" % (relay.host, relay.starttls_port),
             "--mail-from", "alice@example.jp", "--mail-rcpt", "rcpt@example.com",
             "--user", "%s:%s" % ALICE, "--login-options", "AUTH=PLAIN", "-T", str(f)])
    assert p.returncode == 0, p.stderr
    env, msg = assert_queued(relay, one_queue_id(p.stderr), marker)
    assert "\n.dot line" in msg.replace("\r\n", "\n"), msg


def test_curl_implicit_tls(relay, tmp_path):
    marker = "curl-smtps-body"
    f = tmp_path / "mail.txt"
    f.write_bytes(make_message(subject="curl smtps", body=marker))
    p = run(["curl", "-sS", "-v", "--insecure",
             "smtps://%s:%d/client.test" % (relay.host, relay.tls_port),
             "--mail-from", "alice@example.jp", "--mail-rcpt", "rcpt@example.com",
             "--user", "%s:%s" % ALICE, "-T", str(f)])
    assert p.returncode == 0, p.stderr
    assert_queued(relay, one_queue_id(p.stderr), marker)


def test_smtplib_starttls(relay):
    marker = "smtplib-starttls-body"
    msg = make_message(subject="smtplib", body=marker)
    with smtplib.SMTP(relay.host, relay.starttls_port, local_hostname="client.test", timeout=20) as s:
        s.ehlo()
        assert not s.has_extn("auth")
        s.starttls(context=unverified_context())
        s.ehlo()
        assert s.has_extn("auth")
        code, resp = s.login(*ALICE)
        assert code == 235, resp
        # sendmail() hides the reply to the final dot; use the primitives
        assert s.mail("alice@example.jp")[0] == 250
        assert s.rcpt("rcpt@example.com")[0] == 250
        code, resp = s.data(msg)
        assert code == 250, resp
        qid = QUEUED_RE.search(resp.decode()).group(1)
    assert_queued(relay, qid, marker)


def test_smtplib_smtp_ssl_sendmail(relay):
    marker = "smtplib-ssl-body"
    msg = make_message(subject="smtplib ssl", body=marker)
    with smtplib.SMTP_SSL(relay.host, relay.tls_port, local_hostname="client.test",
                          context=unverified_context(), timeout=20) as s:
        s.login(*ALICE)
        refused = s.sendmail("alice@example.jp", ["rcpt@example.com", "r2@example.net"], msg)
        assert refused == {}
    ids = relay.queue_ids()
    assert len(ids) == 1, ids
    env, _ = assert_queued(relay, ids[0], marker)
    assert "r2@example.net" in env
