"""Fixtures for the outbound TLS tests (issue 11): a test CA and its
certificates, DNSSEC-signed zones with their trust anchor (made once per
session), the MTA-STS/TLS-RPT HTTPS server, and a delivery world (mx.py)
whose relay trusts the test CA and validates with the test anchor.

Addresses: the HTTPS server on 127.0.0.80:443; MTA-STS MXes 127.0.0.60-69;
TLS-RPT MXes 127.0.0.70-79; DANE MXes 127.0.0.40-49.
"""
import os

import pytest

from dnssec import SignedZone, write_anchor
from mx import DeliveryWorld, mx_records
from policy_server import PolicyServer
from testca import TestCA, spki_sha256

WEB_ADDR = "127.0.0.80"

# The MTA-STS domains with a policy server name each, and the reports domain.
WEB_NAMES = ["mta-sts.%s.example" % d for d in (
    "sts", "selfsigned", "wrongname", "expired", "nostarttls", "notlisted", "testing",
    "cache", "rpt", "fetchfail", "redirect", "html", "big")] + [
    "mta-sts.stsdane.dane.example", "reports.example"]


def policy_text(mode, *mx, max_age=86400):
    return "version: STSv1\nmode: %s\n%smax_age: %d\n" % (
        mode, "".join("mx: %s\n" % m for m in mx), max_age)


def sts_records(domain, *mxes, policy_id="1", ttl=60):
    """MX records (mxes: (pref, host, addr)) plus _mta-sts TXT and
    mta-sts.DOMAIN -> the HTTPS server."""
    return [r + (ttl,) for r in mx_records(domain, *mxes)] + [
        ("_mta-sts." + domain, "TXT", "v=STSv1; id=%s;" % policy_id, ttl),
        ("mta-sts." + domain, "A", WEB_ADDR, ttl)]


class PKI:
    """Everything made once per session."""

    def __init__(self, d):
        self.dir = str(d)
        self.ca = TestCA(os.path.join(self.dir, "ca"))
        ca = self.ca
        self.good = ca.leaf("mx.sts.example")
        # DANE: DANE-EE with a self-signed certificate for another name (no
        # name check for DANE-EE), DANE-TA with a CA-issued one
        self.ee = ca.leaf("mx-ee.dane.example", names=["not-the-mx.example"], self_signed=True)
        self.ta = ca.leaf("mx-ta.dane.example")
        self.bad = ca.leaf("mx-bad.dane.example", self_signed=True)
        self.insecure = ca.leaf("mx.insecure.example", self_signed=True)
        ee_hash = spki_sha256(self.ee[0])
        ca_hash = spki_sha256(ca.pem)
        z = self.dane_zone = SignedZone(self.dir, "dane.example", [
            ("ee.dane.example", "MX", "10 mx-ee.dane.example."),
            ("mx-ee.dane.example", "A", "127.0.0.40"),
            ("_25._tcp.mx-ee.dane.example", "TLSA", "3 1 1 " + ee_hash),
            ("ta.dane.example", "MX", "10 mx-ta.dane.example."),
            ("mx-ta.dane.example", "A", "127.0.0.41"),
            ("_25._tcp.mx-ta.dane.example", "TLSA", "2 1 1 " + ca_hash),
            ("bad.dane.example", "MX", "10 mx-bad.dane.example."),
            ("mx-bad.dane.example", "A", "127.0.0.42"),
            ("_25._tcp.mx-bad.dane.example", "TLSA", "3 1 1 " + "00" * 32),
            # DANE and an MTA-STS policy that would refuse the MX: DANE wins
            ("stsdane.dane.example", "MX", "10 mx-ee.dane.example."),
            ("_mta-sts.stsdane.dane.example", "TXT", "v=STSv1; id=1;"),
            ("mta-sts.stsdane.dane.example", "A", WEB_ADDR),
        ])
        self.bogus_zone = SignedZone(self.dir, "bogus.example", [
            ("bogus.example", "MX", "10 mx.bogus.example."),
            ("mx.bogus.example", "A", "127.0.0.43"),
            ("_25._tcp.mx.bogus.example", "TLSA", "3 1 1 " + ee_hash),
        ], tamper=("_25._tcp.mx.bogus.example", "TLSA", "3 1 1 " + "11" * 32))
        self.anchor = write_anchor(os.path.join(self.dir, "anchor.key"), [z, self.bogus_zone])


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    return PKI(tmp_path_factory.mktemp("pki"))


class TLSWorld(DeliveryWorld):
    """A delivery world with the test CA, the signed zones and the HTTPS server."""

    def __init__(self, tmp_path, relay_factory, pki):
        super().__init__(tmp_path, relay_factory)
        self.pki = pki
        self.dns.auth_zones = [(pki.dane_zone.origin, pki.dane_zone.path),
                               (pki.bogus_zone.origin, pki.bogus_zone.path)]
        self.web = None

    def web_server(self):
        if self.web is None:
            self.web = PolicyServer(WEB_ADDR, self.pki.ca, WEB_NAMES).start()
        return self.web

    def tls_mx(self, addr, name, cert=None, **kw):
        """An aiosmtpd MX offering STARTTLS with cert (certfile, keyfile)."""
        cert = cert or self.pki.ca.leaf(name)
        return self.mx(addr, name=name, tls_context=TestCA.server_context(*cert), **kw)

    def start(self, records=(), routes=(), start_relay=True, ca=True, **config):
        config.setdefault("dnssec_trust_anchor", self.pki.anchor)
        if ca:
            config.setdefault("tls_ca_file", self.pki.ca.pem)
        return super().start(records, routes, start_relay, **config)

    def close(self):
        problems = super().close()
        if self.web is not None:
            self.web.stop()
        return problems


@pytest.fixture
def tls_world(tmp_path, relay_factory, pki):
    w = TLSWorld(tmp_path, relay_factory, pki)
    failed = []
    try:
        yield w
    finally:
        failed = w.close()
    if failed:
        pytest.fail("\n\n".join(failed), pytrace=False)
