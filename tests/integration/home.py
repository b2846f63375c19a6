"""Helpers for the home side's tests (issue 10): running `hikyaku probe`,
a fake ISP relay, a hikyaku relay with a certificate from a test CA, and
the "# --- PATH ---" blocks that `hikyaku home-config` prints.

    run_probe(*args, password=..., isp_password=..., lang="C")
                        -> (CompletedProcess, parsed JSON or None)
    ISPRelay(addr, cert, key, domain)
                        aiosmtpd with STARTTLS and AUTH that answers MAIL FROM
                        outside `domain` with `reject` (default "550 5.7.1 Sender
                        rejected"), at MAIL or at RCPT (reject_at).
    config_blocks(text) -> {"/etc/postfix/main.cf": "...", "shell": "..."}
"""
import json
import os
import re
import ssl
import subprocess

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from harness import hikyaku_bin

ISP_USER = ("isp-user", "isp-Secret-pw-3")


def run_probe(*args, password=None, isp_password=None, stdin=None, lang="C", json_out=True,
              timeout=60):
    env = {k: v for k, v in os.environ.items()
           if k not in ("HIKYAKU_PASSWORD", "HIKYAKU_ISP_PASSWORD", "LANGUAGE", "LC_ALL")}
    env["LANG"] = lang
    if password is not None:
        env["HIKYAKU_PASSWORD"] = password
    if isp_password is not None:
        env["HIKYAKU_ISP_PASSWORD"] = isp_password
    argv = [hikyaku_bin(), "probe"] + [str(a) for a in args] + (["--json"] if json_out else [])
    p = subprocess.run(argv, input=stdin if stdin is not None else "", capture_output=True,
                       text=True, env=env, timeout=timeout)
    data = None
    if json_out and p.returncode in (0, 1):
        data = json.loads(p.stdout)
    return p, data


def items(data, section, check=None):
    """The items of a section (optionally only one check) of probe's JSON."""
    for s in data["sections"]:
        if s["id"] == section:
            return [i for i in s["items"] if check is None or i["check"] == check]
    return []


def one(data, section, check):
    found = items(data, section, check)
    assert len(found) == 1, (section, check, json.dumps(data, indent=1))
    return found[0]


def statuses(data, section):
    return {i["check"]: i["status"] for i in items(data, section)}


def relay_with_cert(relay_factory, cert, key, **config):
    """A started hikyaku (accounts alice and bob) serving cert/key."""
    r = relay_factory(start=False, own_cert=False, **config)
    r.configure(tls_cert=cert, tls_key=key)
    r.start()
    return r


class _ISPHandler:
    def __init__(self, isp):
        self.isp = isp

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.isp.mails.append(address)
        if self.isp.reject_at == "MAIL" and not self.isp.allowed(address):
            return self.isp.reject
        envelope.mail_from = address
        return "250 2.1.0 Ok"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.isp.reject_at == "RCPT" and not self.isp.allowed(envelope.mail_from):
            return self.isp.reject
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        self.isp.data += 1
        return "250 2.0.0 Ok"


class ISPRelay:
    """An ISP's submission relay: STARTTLS, AUTH PLAIN/LOGIN (only ISP_USER),
    senders only from its own domain."""

    def __init__(self, addr, port, cert, key, domain="isp.example",
                 reject="550 5.7.1 Sender rejected", reject_at="MAIL"):
        self.addr, self.port, self.domain = addr, port, domain
        self.reject, self.reject_at = reject, reject_at
        self.mails, self.logins, self.data = [], [], 0
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)

        def authenticator(server, session, envelope, mechanism, auth_data):
            login = auth_data.login.decode()
            self.logins.append(login)
            ok = (login, auth_data.password.decode()) == ISP_USER
            return AuthResult(success=ok, handled=False)   # False: aiosmtpd answers 535

        self.controller = Controller(_ISPHandler(self), hostname=addr, port=port,
                                     server_hostname="smtpauth.isp.example", tls_context=ctx,
                                     require_starttls=False, auth_require_tls=True,
                                     authenticator=authenticator, ready_timeout=10)

    def allowed(self, address):
        return (address or "").lower().endswith("@" + self.domain)

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        try:
            self.controller.stop()
        except Exception:   # noqa: BLE001 - teardown
            pass


BLOCK_RE = re.compile(r"^# --- (.+?) ---$", re.M)


def config_blocks(text):
    """The "# --- NAME ---" blocks of home-config's output, comments kept."""
    parts = BLOCK_RE.split(text)
    out = {}
    for i in range(1, len(parts) - 1, 2):
        out[parts[i]] = out.get(parts[i], "") + parts[i + 1].lstrip("\n")
    return out


def uncommented(block):
    return "\n".join(l for l in block.splitlines() if l.strip() and not l.startswith("#")) + "\n"
