"""`hikyaku probe` (issue 10) against a live hikyaku, a fake ISP relay and a
firewalled port 25. The relay's certificates come from a test CA
(certs.py) for the name localhost, which the probe connects to; --ca-file
makes the probe trust that CA. Every --mx is a loopback address: the probe
never reaches a real mail server."""
import json
import re
import shutil
import subprocess

import pytest

from certs import DAY, NOW, TestCA
from harness import ALICE, in_private_ns
from helpers import free_port
from home import ISP_USER, ISPRelay, items, one, relay_with_cert, run_probe, statuses
from mx import MX

DEAD = "127.0.0.1:1"    # nothing listens: refused at once


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    ca = TestCA(tmp_path_factory.mktemp("ca"))
    ca.valid = ca.leaf("localhost")
    ca.expired = ca.leaf("expired", not_before=NOW - 90 * DAY, not_after=NOW - 2 * DAY)
    ca.soon = ca.leaf("soon", not_after=NOW + 5 * DAY)
    ca.selfsigned = ca.leaf("selfsigned", self_signed=True)
    ca.other = ca.leaf("other", dns=("relay.example.net",))
    return ca


@pytest.fixture
def relay_ok(relay_factory, ca):
    return relay_with_cert(relay_factory, *ca.valid)


def relay_args(relay, ca, port=None, account=True, frm="alice@example.jp"):
    args = ["--relay", "localhost:%d" % (port or relay.starttls_port), "--ca-file", ca.path,
            "--mx", DEAD, "--timeout", "5"]
    if account:
        args += ["--account", ALICE[0]]
    if frm:
        args += ["--from", frm]
    return args


def assert_nothing_sent(relay):
    assert relay.queue_ids() == [], relay.queue_list()
    assert "queued as" not in relay.log()


# -- the relay and the account ------------------------------------------------------------

@pytest.mark.parametrize("mode", ["starttls", "implicit-465"])
def test_granted_sender_works(relay_ok, ca, mode):
    port = relay_ok.tls_port if mode.startswith("implicit") else None
    extra = ["--tls"] if port else []
    p, d = run_probe(*relay_args(relay_ok, ca, port) + extra, password=ALICE[1])
    assert p.returncode == 0, p.stdout + p.stderr
    assert d["exit"] == 0
    assert set(statuses(d, "relay").values()) == {"pass"}, d
    assert statuses(d, "account") == {"auth": "pass", "mail-from": "pass", "rcpt-to": "pass"}, d
    cert = one(d, "relay", "certificate")["message"]
    assert re.search(r"verified for localhost, valid until \d{4}-\d\d-\d\d \(\d+ days\)", cert)
    assert "PLAIN" in one(d, "relay", "auth-offer")["message"]
    assert "home-config --mta postfix --relay localhost:%d --account alice --ca-file %s" % (
        port or relay_ok.starttls_port, ca.path) in d["next"]
    assert any("works: account alice may send as alice@example.jp" in s for s in d["summary"])
    assert_nothing_sent(relay_ok)
    assert re.search(r"sasl_username=alice", relay_ok.log())


def test_text_report_and_password_on_stdin(relay_ok, ca):
    p, _ = run_probe(*relay_args(relay_ok, ca), stdin=ALICE[1] + "\n", json_out=False)
    assert p.returncode == 0, p.stdout + p.stderr
    assert re.search(r"^== Relay localhost:\d+ \(STARTTLS\)$", p.stdout, re.M), p.stdout
    assert re.search(r"^  \[ ok \] Logged in as alice$", p.stdout, re.M), p.stdout
    assert "hikyaku home-config --mta postfix" in p.stdout
    assert ALICE[1] not in p.stdout + p.stderr


def test_sender_not_granted_gets_grant_advice(relay_ok, ca):
    p, d = run_probe(*relay_args(relay_ok, ca, frm="bob@example.org"), password=ALICE[1])
    assert p.returncode == 1, p.stdout
    it = one(d, "account", "mail-from")
    assert it["status"] == "fail"
    assert it["message"] == "The relay does not let account alice send as bob@example.org"
    assert it["reply"].startswith("550 5.7.1 Sender rejected: <bob@example.org> is not granted")
    assert "hikyaku grant add alice bob@example.org" in it["advice"]
    assert "@example.org" in it["advice"]
    assert d["next"] is None
    assert_nothing_sent(relay_ok)


def test_wrong_password(relay_ok, ca):
    p, d = run_probe(*relay_args(relay_ok, ca), password="not-the-password")
    assert p.returncode == 1, p.stdout
    it = one(d, "account", "auth")
    assert it["status"] == "fail" and "wrong account name or password" in it["message"]
    assert it["reply"].startswith("535 5.7.8")
    assert "hikyaku account passwd alice --generate" in it["advice"]
    assert items(d, "account", "mail-from") == []
    assert "not-the-password" not in p.stdout


def test_no_account_checks_the_relay_only(relay_ok, ca):
    p, d = run_probe(*relay_args(relay_ok, ca, account=False, frm=None))
    assert p.returncode == 0, p.stdout
    assert items(d, "account") == []
    assert any("answers with verified TLS" in s for s in d["summary"]), d["summary"]


# -- TLS and certificates -----------------------------------------------------------------

def test_no_tls_on_port_465(relay_factory, ca):
    """A relay whose port 465 speaks STARTTLS: the probe, seeing 465, starts
    TLS at once and says what is wrong."""
    r = relay_factory(start=False, own_cert=False)
    r.configure(tls_cert=ca.valid[0], tls_key=ca.valid[1])
    r.listens = ["127.0.0.46:465 starttls"]
    r.host, r.starttls_port, r.tls_port = "127.0.0.46", 465, 465
    r.write_config()
    r.start()
    p, d = run_probe("--relay", "127.0.0.46:465", "--ca-file", ca.path, "--account", "alice",
                     "--from", "alice@example.jp", "--mx", DEAD, password=ALICE[1])
    assert p.returncode == 1
    assert one(d, "relay", "connect")["status"] == "pass"
    it = one(d, "relay", "tls")
    assert it["status"] == "fail" and "TLS handshake" in it["message"], it
    assert "does not speak TLS at once on port 465" in it["advice"], it
    assert "--starttls" in it["advice"] and '"listen ADDR:465 tls" line' in it["advice"], it
    assert one(d, "account", "auth")["status"] == "skip"
    assert d["sections"][1]["title"] == "Relay 127.0.0.46:465 (implicit TLS)"


def test_starttls_against_implicit_tls_port_times_out(relay_ok, ca):
    args = relay_args(relay_ok, ca, port=relay_ok.tls_port) + ["--starttls", "--timeout", "2"]
    p, d = run_probe(*args, password=ALICE[1])
    assert p.returncode == 1
    it = one(d, "relay", "greeting")
    assert it["status"] == "fail" and "timed out" in it["message"] and "--tls" in it["advice"]


def test_self_signed_certificate(relay_factory, ca):
    r = relay_with_cert(relay_factory, *ca.selfsigned)
    p, d = run_probe(*relay_args(r, ca), password=ALICE[1])
    assert p.returncode == 1
    it = one(d, "relay", "certificate")
    assert it["status"] == "fail" and "not trusted: self-signed certificate" in it["message"]
    assert "--ca-file" in it["advice"] and "Let's Encrypt" in it["advice"]
    auth = one(d, "account", "auth")
    assert auth["status"] == "skip" and "certificate verified" in auth["message"], auth
    assert "sasl_username" not in r.log() and "authentication failed" not in r.log()
    # trusting that very certificate makes it work
    args = relay_args(r, ca)
    args[args.index("--ca-file") + 1] = ca.selfsigned[0]
    p, d = run_probe(*args, password=ALICE[1])
    assert p.returncode == 0, json.dumps(d, indent=1)


def test_expired_certificate(relay_factory, ca):
    r = relay_with_cert(relay_factory, *ca.expired)
    p, d = run_probe(*relay_args(r, ca), password=ALICE[1])
    assert p.returncode == 1
    it = one(d, "relay", "certificate")
    assert it["status"] == "fail" and re.search(r"expired on \d{4}-\d\d-\d\d", it["message"])
    assert "Renew" in it["advice"]
    assert one(d, "account", "auth")["status"] == "skip"


def test_certificate_about_to_expire_warns(relay_factory, ca):
    r = relay_with_cert(relay_factory, *ca.soon)
    p, d = run_probe(*relay_args(r, ca), password=ALICE[1])
    assert p.returncode == 0, json.dumps(d, indent=1)
    it = one(d, "relay", "certificate")
    assert it["status"] == "warn" and re.search(r"in [45] days", it["message"]), it


def test_certificate_for_another_name(relay_factory, ca):
    r = relay_with_cert(relay_factory, *ca.other)
    p, d = run_probe(*relay_args(r, ca), password=ALICE[1])
    assert p.returncode == 1
    it = one(d, "relay", "certificate")
    assert it["message"].endswith("is for relay.example.net, not for localhost"), it


def test_relay_not_listening(ca):
    p, d = run_probe("--relay", "127.0.0.1:%d" % free_port(), "--mx", DEAD, "--account",
                     "alice", password="x")
    assert p.returncode == 1
    assert one(d, "relay", "connect")["status"] == "fail"
    assert "Connection refused" in one(d, "relay", "connect")["message"]
    assert one(d, "account", "auth")["status"] == "skip"


# -- the ISP's relay ----------------------------------------------------------------------

ISP_WORDINGS = [
    ("MAIL", "550 5.7.1 Sender rejected"),
    ("MAIL", "553 5.7.1 <alice@example.jp>: Sender address rejected: not owned by user "
             "isp-user"),
    ("MAIL", "550 5.7.60 SMTP; Client does not have permissions to send as this sender"),
    ("RCPT", "553 5.7.1 <alice@example.jp>: Sender address rejected: not owned by user "
             "isp-user"),
]


@pytest.fixture
def isp_factory(ca):
    made = []

    def make(**kw):
        isp = ISPRelay("127.0.0.1", free_port(), *ca.valid, **kw).start()
        made.append(isp)
        return isp
    yield make
    for isp in made:
        isp.stop()


@pytest.mark.parametrize("stage,reject", ISP_WORDINGS)
def test_isp_relay_refuses_foreign_senders(relay_ok, ca, isp_factory, stage, reject):
    isp = isp_factory(reject=reject, reject_at=stage)
    args = relay_args(relay_ok, ca) + ["--isp-relay", "localhost:%d" % isp.port,
                                       "--isp-account", ISP_USER[0]]
    p, d = run_probe(*args, password=ALICE[1], isp_password=ISP_USER[1])
    assert p.returncode == 0, json.dumps(d, indent=1)    # the ISP does not decide
    assert isp.logins == [ISP_USER[0]]
    assert one(d, "isp", "auth")["status"] == "pass"
    check = "mail-from" if stage == "MAIL" else "rcpt-to"
    it = one(d, "isp", check)
    assert it["status"] == "fail"
    assert it["message"] == ("Your ISP's relay refuses senders outside its own domain: "
                             "it cannot send mail for example.jp")
    assert it["advice"] == "Send through hikyaku instead."
    assert it["reply"] == reject
    assert any("ISP's relay refuses senders outside its own domain" in s for s in d["summary"])
    assert isp.data == 0


def test_isp_relay_accepts_its_own_domain(relay_ok, ca, isp_factory):
    isp = isp_factory()
    args = relay_args(relay_ok, ca, frm=None) + ["--from", "alice@isp.example", "--isp-relay",
                                                 "localhost:%d" % isp.port, "--isp-account",
                                                 ISP_USER[0]]
    p, d = run_probe(*args, password=ALICE[1], isp_password=ISP_USER[1])
    it = one(d, "isp", "rcpt-to")
    assert it["status"] == "pass" and "still accepts alice@isp.example" in it["message"]


def test_isp_relay_wants_a_login(relay_ok, ca, isp_factory):
    isp = isp_factory(reject="530 5.7.0 Authentication required")
    args = relay_args(relay_ok, ca) + ["--isp-relay", "localhost:%d" % isp.port]
    p, d = run_probe(*args, password=ALICE[1])
    it = one(d, "isp", "mail-from")
    assert it["status"] == "warn" and "--isp-account" in it["advice"], it


def test_isp_wrong_password(relay_ok, ca, isp_factory):
    isp = isp_factory()
    args = relay_args(relay_ok, ca) + ["--isp-relay", "localhost:%d" % isp.port,
                                       "--isp-account", ISP_USER[0]]
    p, d = run_probe(*args, password=ALICE[1], isp_password="wrong")
    assert p.returncode == 0
    it = one(d, "isp", "auth")
    assert it["status"] == "warn" and "HIKYAKU_ISP_PASSWORD" in it["advice"], it


def test_both_passwords_on_stdin(relay_ok, ca, isp_factory):
    isp = isp_factory()
    args = relay_args(relay_ok, ca) + ["--isp-relay", "localhost:%d" % isp.port,
                                       "--isp-account", ISP_USER[0]]
    p, d = run_probe(*args, stdin="%s\n%s\n" % (ALICE[1], ISP_USER[1]))
    assert p.returncode == 0, p.stderr
    assert one(d, "account", "auth")["status"] == "pass"
    assert one(d, "isp", "auth")["status"] == "pass"


# -- outbound port 25 -----------------------------------------------------------------------

BLOCKED = ["127.0.0.77", "127.0.0.78"]


@pytest.fixture
def op25b():
    """An OP25B firewall: nftables drops outgoing SYNs to port 25 of BLOCKED,
    so connects time out as behind an ISP's block (a closed port would answer
    with a reset at once). Only inside the test's own network namespace."""
    if not in_private_ns("net"):
        pytest.skip("not in a private network namespace (run under scripts/netns-run)")
    if shutil.which("nft") is None:
        pytest.skip("nft (nftables) is not installed")
    rules = ("add table inet hikyaku_op25b\n"
             "add chain inet hikyaku_op25b out { type filter hook output priority 0; }\n"
             "add rule inet hikyaku_op25b out ip daddr { %s } tcp dport 25 "
             "tcp flags & (syn | ack) == syn drop\n" % ", ".join(BLOCKED))
    subprocess.run(["nft", "-f", "-"], input=rules, text=True, check=True, capture_output=True)
    yield
    subprocess.run(["nft", "delete", "table", "inet", "hikyaku_op25b"], capture_output=True)


def test_port25_blocked(op25b, relay_ok, ca):
    args = relay_args(relay_ok, ca, account=False, frm=None)
    i = args.index("--mx")
    del args[i:i + 2]
    args += ["--mx", "%s:25" % BLOCKED[0], "--mx", BLOCKED[1], "--timeout", "2"]
    p, d = run_probe(*args)
    assert p.returncode == 0, p.stdout    # port 25 does not decide
    mx = items(d, "port25", "mx")
    assert [m["status"] for m in mx] == ["fail", "fail"], mx
    assert all("no answer within 2 s" in m["message"] for m in mx), mx
    v = one(d, "port25", "port25")
    assert v["status"] == "fail" and "blocked (OP25B)" in v["message"], v
    assert "hikyaku" in v["advice"]
    assert d["summary"][0].startswith("Outbound port 25 is blocked (OP25B)")


def test_port25_answers(relay_ok, ca):
    mx = MX("127.0.0.79", port=25).start()
    try:
        args = relay_args(relay_ok, ca, account=False, frm=None)
        i = args.index("--mx")
        del args[i:i + 2]
        args += ["--mx", "127.0.0.79", "--mx", "127.0.0.80:25"]
        p, d = run_probe(*args)
    finally:
        mx.stop()
    got = [(m["status"], m["message"]) for m in items(d, "port25", "mx")]
    assert got == [("pass", "127.0.0.79:25: answered"),
                   ("pass", "127.0.0.80:25: refused the connection (so nothing dropped it "
                            "on the way)")], got
    assert one(d, "port25", "port25")["status"] == "pass"
    assert "Outbound port 25 is not blocked." in d["summary"]


def test_newcomer_sees_both_problems_and_the_way_out(op25b, relay_ok, ca, isp_factory):
    """The README's example: OP25B at home, the ISP's relay refusing the
    domain, and hikyaku working - all in one report, in English here."""
    isp = isp_factory()
    args = relay_args(relay_ok, ca)
    i = args.index("--mx")
    del args[i:i + 2]
    args += ["--mx", BLOCKED[0], "--timeout", "2", "--isp-relay", "localhost:%d" % isp.port,
             "--isp-account", ISP_USER[0], "--mta", "postfix"]
    p, _ = run_probe(*args, password=ALICE[1], isp_password=ISP_USER[1], json_out=False)
    assert p.returncode == 0, p.stdout
    out = p.stdout
    summary = out.split("== Summary\n", 1)[1]
    assert "Outbound port 25 is blocked (OP25B)" in summary
    assert "Your ISP's relay refuses senders outside its own domain: it cannot send mail " \
           "for example.jp." in summary
    assert "works: account alice may send as alice@example.jp" in summary
    # --mta: the configuration to paste follows
    assert "relayhost = [localhost]:%d" % relay_ok.starttls_port in out
    assert "smtp_tls_CAfile = %s" % ca.path in out


# -- usage ----------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    [],
    ["--relay"],
    ["--relay", "relay example"],
    ["--relay", "relay.example.net:99999"],
    ["--relay", "relay.example.net", "--bogus"],
    ["--relay", "relay.example.net", "--tls", "--starttls"],
    ["--relay", "relay.example.net", "--from", "not an address"],
    ["--relay", "relay.example.net", "--timeout", "0"],
    ["--relay", "relay.example.net", "--mta", "sendmail"],
    ["--relay", "relay.example.net", "--account", "alice"],    # no password anywhere
    ["--relay", "relay.example.net", "--ca-file", "/nonexistent/ca.pem"],
    ["--relay", "relay.example.net"] + ["--mx", "127.0.0.1"] * 17,
])
def test_usage_errors_exit_2(args):
    p, _ = run_probe(*args, json_out=False)
    assert p.returncode == 2, (args, p.stdout, p.stderr)
    assert p.stderr.strip(), args
    assert p.stdout == ""
