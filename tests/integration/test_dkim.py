"""DKIM signing (issue 4): every message of tests/dkim-corpus/ (and a 5 MB
one made here, and one relayed by a real Postfix) is submitted to a real
`hikyaku serve`, taken from the queue byte for byte (the corpus also from a
test MX after delivery), and verified by two
independent verifiers - dkimpy (python3-dkim) and Mail::DKIM (perl) - which
fetch the public keys from a test DNS server (unbound on loopback) where the
records printed by `hikyaku dkim keygen` were published.

The domain example.jp has an RSA key (selector rsa1) and an Ed25519 key
(ed1), so every message carries two signatures. Debian 12's Mail::DKIM does
not know ed25519-sha256: the test asserts it says so rather than skipping.
"""
import glob
import os
import random
import re
import shutil
import stat
import subprocess
import time

import pytest

from harness import ALICE, BOB, Relay, hikyaku_bin
from helpers import make_message, wait_for
from testdns import TestDNS, parse_zone_txt

dkim = pytest.importorskip("dkim", reason="python3-dkim (dkimpy) is not installed")

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.normpath(os.path.join(HERE, "..", "dkim-corpus"))
PERL_VERIFY = os.path.join(HERE, "dkim_verify.pl")
RCPT = "friend@example.com"
SIG_RE = re.compile(rb"^DKIM-Signature:.*?\r\n(?![ \t])", re.S | re.M | re.I)

# Recipients' domain: an MX on a loopback port where nothing listens, so a
# delivery attempt (if delivery runs) defers and the message stays queued.
BASE_RECORDS = [
    ("example.com", "MX", "10 mx.example.com."),
    ("mx.example.com", "A", "127.0.0.1"),
]


def corpus_names():
    return sorted(os.path.basename(p) for p in glob.glob(os.path.join(CORPUS, "*.eml")))


def load_corpus(name):
    with open(os.path.join(CORPUS, name), "rb") as f:
        return f.read().replace(b"\n", b"\r\n")


class Env:
    def __init__(self, relay, dns, records):
        self.relay = relay
        self.dns = dns
        self.records = records


def publish_keygen(relay, dns, *args):
    """Run `dkim keygen ARGS`, publish exactly the record it printed."""
    out = relay.cli("dkim", "keygen", *args).stdout
    name, strings = parse_zone_txt(out)
    assert all(len(s.encode()) <= 255 for s in strings), out
    rec = (name.rstrip("."), "TXT", strings)
    dns.add_records([rec])
    return out, rec


@pytest.fixture(scope="module")
def env(tmp_path_factory, tls_material):
    d = tmp_path_factory.mktemp("dkim")
    dns = TestDNS(d / "dns", BASE_RECORDS).start()
    relay = None
    try:
        rd = d / "relay"
        rd.mkdir()
        cert, key = str(rd / "cert.pem"), str(rd / "key.pem")
        shutil.copy(tls_material[0], cert)
        shutil.copy(tls_material[1], key)
        os.chmod(key, 0o600)
        relay = Relay(rd, cert=cert, key=key)
        relay.configure(resolver="%s:%d" % (dns.addr, dns.port))
        relay.setup_default_accounts()
        relay.cli("grant", "add", ALICE[0], "@news.example.jp")
        publish_keygen(relay, dns, "example.jp", "--selector", "rsa1")
        publish_keygen(relay, dns, "example.jp", "--algo", "ed25519", "--selector", "ed1")
        relay.start()
        yield Env(relay, dns, list(dns.records))
    finally:
        if relay is not None:
            relay.cleanup()
        dns.stop()


# -- helpers -------------------------------------------------------------------------

def submit(relay, msg, account=ALICE, sender="alice@example.jp", expect=250):
    """Submit msg (CRLF bytes); returns the queue id (or the reply if not 250)."""
    hi = any(b >= 0x80 for b in msg)
    params = "BODY=8BITMIME SMTPUTF8" if hi else ""
    with relay.session(account) as c:
        r = c.mail(sender, params)
        assert r.code == 250, r
        r = c.rcpt(RCPT)
        assert r.code == 250, r
        r = c.data(msg, timeout=120)
        c.quit()
    if expect != 250:
        assert r.code == expect, r
        return r
    assert r.code == 250, "%s\nlog:\n%s" % (r, relay.log()[-3000:])
    return r.queue_id()


def queued_bytes(relay, qid):
    """The message exactly as queued: `queue show ID` after the first blank line."""
    p = subprocess.run([relay.bin, "queue", "show", qid, "-c", relay.conf_path],
                       capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    env, sep, msg = p.stdout.partition(b"\n\n")
    assert sep, p.stdout[:500]
    return msg


def signatures(msg):
    """The DKIM-Signature fields at the top of msg, as bytes, and the rest."""
    sigs = []
    rest = msg
    while True:
        m = SIG_RE.match(rest)
        if not m:
            return sigs, rest
        sigs.append(m.group(0))
        rest = rest[m.end():]


def tags(sig):
    v = sig.split(b":", 1)[1]
    v = re.sub(rb"\r\n[ \t]", b" ", v)
    out = {}
    for part in v.split(b";"):
        if b"=" in part:
            k, val = part.split(b"=", 1)
            out[k.strip().decode()] = re.sub(rb"\s+", b"", val).decode()
    return out


def dnsfunc_for(dns):
    def dnsfunc(name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode()
        return dns.txt_bytes(name.rstrip("."))
    return dnsfunc


def verify_dkimpy(msg, dns):
    """[(algo, selector, ok)] for every signature, by dkimpy."""
    sigs, _ = signatures(msg)
    d = dkim.DKIM(msg)
    res = []
    for i, s in enumerate(sigs):
        t = tags(s)
        try:
            ok = bool(d.verify(idx=i, dnsfunc=dnsfunc_for(dns)))
        except dkim.DKIMException:      # e.g. "body hash mismatch"
            ok = False
        res.append((t.get("a"), t.get("s"), ok))
    return res


def verify_mail_dkim(msg, dns):
    """{selector: result_detail}, and the overall result, by Mail::DKIM."""
    p = subprocess.run(["perl", PERL_VERIFY, dns.addr, str(dns.port)], input=msg,
                       capture_output=True, timeout=120)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    out = {}
    overall = None
    for line in p.stdout.decode().splitlines():
        parts = line.split(" ", 3)
        if parts[0] == "overall":
            overall = line.split(" ", 1)[1]
        else:
            out[parts[2]] = (parts[0], parts[3])
    return out, overall


def assert_signed_and_verified(env, msg, qid=None, sent=None):
    sigs, rest = signatures(msg)
    assert len(sigs) == 2, msg[:1500]
    t = [tags(s) for s in sigs]
    assert [x["a"] for x in t] == ["rsa-sha256", "ed25519-sha256"], t
    assert [x["s"] for x in t] == ["rsa1", "ed1"], t
    now = time.time()
    for x in t:
        assert x["v"] == "1" and x["d"] == "example.jp" and x["c"] == "relaxed/relaxed", x
        assert "l" not in x, x
        assert abs(int(x["t"]) - now) < 600, x
        h = x["h"].split(":")
        assert h.count("from") >= 2 and h.count("subject") >= 2, h
    for s in sigs:
        for line in s.split(b"\r\n")[:-1]:
            assert len(line) <= 78, line
    assert rest.startswith(b"Received: "), rest[:200]
    if sent is not None:
        body = sent.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in sent else b""
        assert msg.endswith(body)
    res = verify_dkimpy(msg, env.dns)
    assert res == [("rsa-sha256", "rsa1", True), ("ed25519-sha256", "ed1", True)], res
    md, overall = verify_mail_dkim(msg, env.dns)
    assert md["rsa1"] == ("rsa-sha256", "pass"), md
    # Debian 12's Mail::DKIM has no ed25519-sha256: it must say so, not pass
    algo, detail = md["ed1"]
    assert algo == "ed25519-sha256" and detail != "pass", md
    assert re.search(r"unsupported|invalid|unknown", detail, re.I), md
    assert overall == "pass", (overall, md)
    if qid is not None:
        assert re.search(r"%s: dkim=signed d=example\.jp s=rsa1,ed1 a=rsa-sha256,ed25519-sha256"
                         % qid, env.relay.log()), env.relay.log()[-2000:]


# -- the corpus ------------------------------------------------------------------------

def test_corpus_is_big_enough():
    assert len(corpus_names()) >= 20, corpus_names()


@pytest.mark.parametrize("name", corpus_names())
def test_corpus_message_verifies(env, name):
    sent = load_corpus(name)
    qid = submit(env.relay, sent)
    msg = queued_bytes(env.relay, qid)
    assert_signed_and_verified(env, msg, qid, sent)


def big_message(size):
    """A message of about size bytes: long body with awkward lines throughout."""
    rnd = random.Random(4)
    lines = []
    n = 0
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    i = 0
    while n < size:
        i += 1
        if i % 97 == 0:
            line = "." + "dot line %d" % i
        elif i % 89 == 0:
            line = "trailing space %d   \t" % i
        elif i % 83 == 0:
            line = "   "
        elif i % 79 == 0:
            line = ""
        else:
            line = "".join(rnd.choice(alphabet) for _ in range(76))
        lines.append(line)
        n += len(line) + 2
    body = "\r\n".join(lines) + "\r\n\r\n\r\n"
    return make_message(subject="five megabytes", body=body)


@pytest.mark.slow
def test_5mb_message_verifies(env):
    sent = big_message(5 * 1024 * 1024)
    assert len(sent) >= 5 * 1024 * 1024
    qid = submit(env.relay, sent)
    msg = queued_bytes(env.relay, qid)
    assert_signed_and_verified(env, msg, qid, sent)


def test_subdomain_signed_with_parent_domain_key(env):
    sent = make_message(frm="News <info@news.example.jp>", subject="from a subdomain")
    qid = submit(env.relay, sent, sender="info@news.example.jp")
    msg = queued_bytes(env.relay, qid)
    # d=example.jp: relaxed DMARC alignment with news.example.jp
    assert_signed_and_verified(env, msg, qid)


def test_tampering_breaks_both_verifiers(env):
    sent = make_message(subject="tamper", body="original body\r\n")
    msg = queued_bytes(env.relay, submit(env.relay, sent))
    assert verify_dkimpy(msg, env.dns) == [("rsa-sha256", "rsa1", True),
                                           ("ed25519-sha256", "ed1", True)]
    sigs, rest = signatures(msg)
    head = b"".join(sigs)
    variants = {
        "body changed": msg.replace(b"original body", b"0riginal body"),
        "second From: added (over-signed)": head + b"From: eve@example.org\r\n" + rest,
        "Subject added (over-signed)": head + rest.replace(b"\r\n\r\n", b"\r\nSubject: x\r\n\r\n", 1),
        "Reply-To added (over-signed, absent before)":
            head + rest.replace(b"\r\n\r\n", b"\r\nReply-To: eve@example.org\r\n\r\n", 1),
        "List-Unsubscribe added": head + rest.replace(
            b"\r\n\r\n", b"\r\nList-Unsubscribe: <mailto:x@example.org>\r\n\r\n", 1),
    }
    for what, m in variants.items():
        assert verify_dkimpy(m, env.dns) == [("rsa-sha256", "rsa1", False),
                                             ("ed25519-sha256", "ed1", False)], what
        md, overall = verify_mail_dkim(m, env.dns)
        assert md["rsa1"][1] != "pass" and overall != "pass", (what, md)
    # fields that are not signed may be added (as later hops add Received:)
    m = head + b"X-Spam-Score: 0\r\n" + rest.replace(
        b"\r\n\r\n", b"\r\nComments: added later\r\n\r\n", 1)
    assert verify_dkimpy(m, env.dns) == [("rsa-sha256", "rsa1", True),
                                         ("ed25519-sha256", "ed1", True)]


def test_no_key_queued_unsigned_and_logged(env):
    sent = make_message(frm="Bob <bob@example.org>", subject="no key for this domain")
    mark = env.relay.mark()
    qid = submit(env.relay, sent, account=BOB, sender="bob@example.org")
    msg = queued_bytes(env.relay, qid)
    assert signatures(msg)[0] == []
    assert b"DKIM-Signature" not in msg
    assert env.relay.wait_log(r"%s: dkim=none \(no key for example\.org\)" % qid, since=mark)


# -- the real Postfix home client ----------------------------------------------------------

def test_postfix_relayed_message_verifies(env, postfix_factory):
    import smtplib
    pf = postfix_factory("[%s]:%d" % (env.relay.host, env.relay.starttls_port))
    marker = "POSTFIX-DKIM-%d" % time.time_ns()
    msg = make_message(frm="Alice <alice@example.jp>", to=RCPT, subject=marker,
                       body="relayed by postfix\r\n.leading dot\r\ntrailing   \r\n",
                       date=False, msgid=False)
    with smtplib.SMTP(pf.host, pf.port, local_hostname="app.home.test", timeout=20) as s:
        assert s.sendmail("alice@example.jp", [RCPT], msg) == {}

    def find():
        for qid in env.relay.queue_ids():
            m = queued_bytes(env.relay, qid)
            if marker.encode() in m:
                return qid, m
        return None
    found = wait_for(find, 40, interval=0.3)
    assert found, "not relayed:\n%s\n%s" % (pf.log()[-2000:], env.relay.log()[-2000:])
    qid, m = found
    assert b"home.test" in m  # Postfix's own Received: is there, and signed over
    assert_signed_and_verified(env, m, qid)


class CaptureMX:
    """aiosmtpd on loopback that keeps every message exactly as received."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.original_content)
        return "250 2.0.0 Ok: kept"


def test_delivered_corpus_verifies_at_the_mx(relay_factory, tmp_path):
    """What the test MX received - not what was queued - verifies."""
    aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")
    from helpers import free_port
    mx = CaptureMX()
    port = free_port()
    ctl = aiosmtpd_controller.Controller(mx, hostname="127.0.0.1", port=port,
                                         decode_data=False, data_size_limit=None)
    ctl.start()
    dns = TestDNS(tmp_path / "dns", BASE_RECORDS).start()
    try:
        r = relay_factory(start=False, resolver="%s:%d" % (dns.addr, dns.port),
                          route="example.com 127.0.0.1:%d" % port)
        publish_keygen(r, dns, "example.jp", "--selector", "rsa1")
        publish_keygen(r, dns, "example.jp", "--algo", "ed25519", "--selector", "ed1")
        r.start()
        env = Env(r, dns, list(dns.records))
        names = corpus_names()
        sent = {}
        for name in names:
            m = load_corpus(name)
            submit(r, m)
            sent[name] = m
        ok = wait_for(lambda: len(mx.messages) >= len(names), 60, interval=0.2)
        assert ok, "the MX got %d of %d messages\n%s" % (len(mx.messages), len(names),
                                                         r.log()[-3000:])
        seen = []
        for got in mx.messages:
            # which corpus message is it: its header block is in there verbatim
            # (hikyaku adds fields only above and below it) and its body ends it
            match = [n for n, m in sent.items() if m.partition(b"\r\n\r\n")[0] in got
                     and got.endswith(m.partition(b"\r\n\r\n")[2])]
            assert len(match) == 1, (match, got[:800])
            seen.append(match[0])
            assert_signed_and_verified(env, got, sent=sent[match[0]])
        assert sorted(seen) == names
    finally:
        ctl.stop()
        dns.stop()


# -- keys, CLI, check-config -------------------------------------------------------------------

def test_keygen_records_and_files(relay_factory):
    r = relay_factory(start=False)
    out = r.cli("dkim", "keygen", "Example.JP").stdout          # defaults: RSA 2048, dated selector
    name, strings = parse_zone_txt(out)
    m = re.match(r"^(s\d{6}r)\._domainkey\.example\.jp\.$", name)
    assert m, out
    sel = m.group(1)
    txt = "".join(strings)
    assert txt.startswith("v=DKIM1; k=rsa; p=MII"), txt
    assert len(strings) == 2 and all(len(s) <= 255 for s in strings), strings
    out = r.cli("dkim", "keygen", "example.jp", "--algo", "ed25519").stdout
    ename, estr = parse_zone_txt(out)
    assert re.match(r"^s\d{6}e\._domainkey\.example\.jp\.$", ename) and ename != name, out
    assert re.fullmatch(r"v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=", "".join(estr)), estr
    out = r.cli("dkim", "keygen", "example.jp", "--bits", "3072", "--selector", "big").stdout
    _, bstr = parse_zone_txt(out)
    assert len(bstr) == 3 and all(len(s) <= 255 for s in bstr), bstr
    # files: dkim/ 0700, keys 0600
    kd = os.path.join(r.spool, "dkim")
    assert stat.S_IMODE(os.stat(kd).st_mode) == 0o700
    files = sorted(os.listdir(kd))
    assert files == sorted(["example.jp.%s.pem" % sel, "example.jp.big.pem",
                            "example.jp.%s.pem" % ename.split(".")[0]]), files
    for f in files:
        assert stat.S_IMODE(os.stat(os.path.join(kd, f)).st_mode) == 0o600
    lst = r.cli("dkim", "list").stdout
    assert re.search(r"^example\.jp\t%s\trsa-sha256\t" % sel, lst, re.M), lst
    assert re.search(r"^example\.jp\tbig\trsa-sha256\t", lst, re.M), lst
    assert "-- 3 keys" in lst
    # show prints the same record again
    assert parse_zone_txt(r.cli("dkim", "show", "example.jp", sel).stdout) == (name, strings)
    # a clash, bad input
    p = r.cli("dkim", "keygen", "example.jp", "--selector", "big", check=False)
    assert p.returncode == 1 and "already has a key" in p.stderr, p.stderr
    for bad in (["dkim", "keygen", "example"], ["dkim", "keygen", "-x.example.jp"],
                ["dkim", "keygen", "exa_mple.jp"], ["dkim", "keygen", "example.jp", "--selector", "a b"],
                ["dkim", "keygen", "example.jp", "--algo", "ed25519", "--bits", "2048"],
                ["dkim", "keygen", "example.jp", "--bits", "1024"],
                ["dkim", "keygen", "example.jp", "--algo", "dsa"]):
        p = r.cli(*bad, check=False)
        assert p.returncode != 0, (bad, p.stdout)
    # del removes the row and the file
    r.cli("dkim", "del", "example.jp", "big")
    assert not os.path.exists(os.path.join(kd, "example.jp.big.pem"))
    assert "-- 2 keys" in r.cli("dkim", "list").stdout
    p = r.cli("dkim", "del", "example.jp", "big", check=False)
    assert p.returncode == 1 and "no key" in p.stderr


def test_check_config_warns_for_granted_domains_without_key(relay_factory):
    r = relay_factory(start=False)       # alice: @example.jp, bob: bob@example.org
    r.cli("grant", "add", ALICE[0], "@sub.example.jp")
    p = r.cli("check-config")
    assert p.returncode == 0
    assert re.search(r"warning: no DKIM key for example\.jp", p.stderr), p.stderr
    assert re.search(r"warning: no DKIM key for example\.org", p.stderr), p.stderr
    assert re.search(r"warning: no DKIM key for sub\.example\.jp", p.stderr), p.stderr
    r.cli("dkim", "keygen", "example.jp", "--algo", "ed25519")
    p = r.cli("check-config")
    assert p.returncode == 0 and "configuration OK" in p.stdout
    assert "example.jp" not in p.stderr.replace("sub.example.jp", ""), p.stderr
    assert "sub.example.jp" not in p.stderr, p.stderr     # the parent's key covers it
    assert re.search(r"warning: no DKIM key for example\.org", p.stderr), p.stderr


def test_key_changes_apply_without_restart_and_errors_are_4xx(relay_factory, tmp_path):
    dns = TestDNS(tmp_path / "dns", BASE_RECORDS).start()
    try:
        r = relay_factory(start=False, resolver="%s:%d" % (dns.addr, dns.port))
        publish_keygen(r, dns, "example.jp", "--selector", "r1")
        publish_keygen(r, dns, "example.jp", "--algo", "ed25519", "--selector", "e1")
        r.start()
        m = queued_bytes(r, submit(r, make_message(subject="two keys")))
        assert [tags(s)["s"] for s in signatures(m)[0]] == ["r1", "e1"]
        r.cli("dkim", "del", "example.jp", "e1")
        m = queued_bytes(r, submit(r, make_message(subject="one key")))
        assert [tags(s)["s"] for s in signatures(m)[0]] == ["r1"]
        assert verify_dkimpy(m, dns) == [("rsa-sha256", "r1", True)]
        # an unreadable key: 451, nothing queued, the daemon carries on
        before = set(r.queue_ids())
        with open(os.path.join(r.spool, "dkim", "example.jp.r1.pem"), "w") as f:
            f.write("-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n")
        mark = r.mark()
        rep = submit(r, make_message(subject="broken key"), expect=451)
        assert "4.3.0" in str(rep), rep
        assert set(r.queue_ids()) == before
        assert r.wait_log(r"dkim=error: .*example\.jp\.r1\.pem", since=mark), r.log()[-2000:]
        assert r.alive
        r.cli("dkim", "del", "example.jp", "r1")
        m = queued_bytes(r, submit(r, make_message(subject="no key left")))
        assert signatures(m)[0] == []
        assert r.wait_log(r"dkim=none \(no key for example\.jp\)", since=mark)
    finally:
        dns.stop()
