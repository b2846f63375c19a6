"""The readiness gate (issue 9): with `require-ready yes` the daemon refuses
mail whose From: domain the doctor found not ready with 550 5.7.26 naming
the fix, accepts a ready one, answers 451 4.7.26 while the DNS server is
down, and accepts again once the record is fixed and `doctor --refresh` has
made it check again. Without require-ready it warns in the log instead.
"""
import re

import pytest

from doctorenv import make_relay, publish_keygen, start_dns
from harness import ALICE
from helpers import make_message

RECORDS = [
    ("good.example", "TXT", "v=spf1 ip4:198.18.0.5 -all"),
    ("good.example", "MX", "10 mail.good.example."),
    ("mail.good.example", "A", "198.18.1.1"),
    ("_dmarc.good.example", "TXT", "v=DMARC1; p=reject; rua=mailto:postmaster@good.example"),
    ("broken.example", "MX", "10 mail.good.example."),
]
RCPT = "friend@dest.example"


@pytest.fixture
def gate(tmp_path, tls_material, request):
    require = getattr(request, "param", "yes")
    dns = start_dns(str(tmp_path / "dns"), RECORDS)
    relay = None
    try:
        relay = make_relay(str(tmp_path / "relay"), dns, tls_material, require_ready=require,
                           route="* 127.0.0.1:9")
        relay.add_account(ALICE[0], ALICE[1], ["@good.example", "@broken.example"])
        publish_keygen(relay, dns, "good.example", "--selector", "s1")
        relay.start()
        yield relay, dns
    finally:
        if relay is not None:
            relay.cleanup()
        dns.stop()


def send(relay, domain):
    """The reply to the end of DATA for a message from alice@domain."""
    frm = "alice@" + domain
    with relay.session(ALICE) as c:
        _, _, r = c.send_mail(frm, RCPT, make_message(frm=frm, to=RCPT))
        c.quit()
    return r


def refresh(relay):
    p = relay.cli("doctor", "--refresh", check=False, timeout=150)
    assert p.returncode in (0, 1), p.stderr
    return p


def test_gate_refuses_accepts_tempfails_and_recovers(gate):
    relay, dns = gate
    p = refresh(relay)
    assert p.returncode == 1
    assert "good.example: ready" in p.stdout
    assert "broken.example: not-ready: broken.example is not ready" in p.stdout

    assert send(relay, "good.example").code == 250
    r = send(relay, "broken.example")
    assert r.code == 550 and r.text.startswith("5.7.26 "), r
    assert r.text == ('5.7.26 broken.example is not ready: SPF does not authorise 198.18.0.5'
                      ' and no DKIM key is published; publish "v=spf1 ip4:198.18.0.5 -all"'), r
    assert relay.wait_log(r"reject: header From: <alice@broken\.example>.*550 5\.7\.26")

    # the daemon's verdict shows in `doctor`, with its age
    out = relay.cli("doctor", "good.example", check=False).stdout
    assert re.search(r"The daemon's last verdict, \d+ seconds? ago: good.example is ready\.", out)

    # fix the record, tell the daemon
    dns.add_records([("broken.example", "TXT", "v=spf1 ip4:198.18.0.5 -all")])
    assert refresh(relay).returncode == 0
    assert send(relay, "broken.example").code == 250

    # DNS down: nothing can be known
    dns.stop()
    p = refresh(relay)
    assert "good.example: unknown: good.example could not be checked" in p.stdout, p.stdout
    r = send(relay, "good.example")
    assert r.code == 451 and r.text.startswith("4.7.26 good.example could not be checked"), r

    # and back
    dns.start()
    assert refresh(relay).returncode == 0
    assert send(relay, "good.example").code == 250
    assert relay.wait_log(r"doctor: good\.example: ready")
    p = relay.cli("doctor", "other.example", "--refresh", check=False)
    assert p.returncode == 1 and "no grant covers other.example" in p.stderr


def test_a_domain_granted_later_is_checked_on_its_first_message(gate):
    relay, dns = gate
    refresh(relay)
    dns.add_records([("late.example", "TXT", "v=spf1 ip4:198.18.0.5 -all")])
    relay.cli("grant", "add", ALICE[0], "@late.example")
    r = send(relay, "late.example")
    assert r.code == 451 and "has not been checked for readiness yet" in r.text, r
    assert relay.wait_log(r"doctor: late\.example: ready", timeout=20)
    assert send(relay, "late.example").code == 250


@pytest.mark.parametrize("gate", ["no"], indirect=True)
def test_without_require_ready_the_log_warns(gate):
    relay, _ = gate
    refresh(relay)
    mark = relay.mark()
    r = send(relay, "broken.example")
    assert r.code == 250, r
    assert relay.wait_log(r"warning: \w+: not ready: 550 5\.7\.26 broken\.example is not ready:"
                          r".*; relayed anyway \(require-ready no\)", since=mark)
    assert send(relay, "good.example").code == 250


def test_refresh_without_a_daemon(tmp_path):
    dns = start_dns(str(tmp_path / "dns"), RECORDS)
    try:
        relay = make_relay(str(tmp_path / "relay"), dns)
        p = relay.cli("doctor", "good.example", "--refresh", check=False)
        assert p.returncode == 1 and "no daemon is running" in p.stderr
    finally:
        dns.stop()


def test_reload_changes_what_the_gate_checks(tmp_path, tls_material):
    """relay-ip changed by `hikyaku reload`: the gate checks again at once with it."""
    dns = start_dns(str(tmp_path / "dns"), RECORDS +
                    [("broken.example", "TXT", "v=spf1 ip4:198.18.0.5 -all")])
    relay = None
    try:
        relay = make_relay(str(tmp_path / "relay"), dns, tls_material, require_ready="yes",
                           route="* 127.0.0.1:9", relay_ip="198.18.0.99")
        relay.add_account(ALICE[0], ALICE[1], ["@broken.example"])
        relay.start()
        refresh(relay)
        r = send(relay, "broken.example")
        assert r.code == 550 and "198.18.0.99" in r.text, r
        relay.configure(relay_ip="198.18.0.5")
        mark = relay.mark()
        p = relay.cli("reload", check=False)
        assert p.returncode == 0, p.stdout + p.stderr
        assert relay.wait_log(r"doctor: broken\.example: ready", timeout=20, since=mark)
        assert send(relay, "broken.example").code == 250
    finally:
        if relay is not None:
            relay.cleanup()
        dns.stop()
