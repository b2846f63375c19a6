"""Helpers for the doctor's integration tests: a relay used from the CLI
(or served) against a test DNS, running `hikyaku doctor` and reading its
JSON, and publishing the records it prints as fixes.

The relay's name is relay.example with the address 198.18.0.5 and a PTR
that points back; 198.18.0.0/15 is forwarded normally by libunbound (the
documentation ranges are not), so the test DNS answers its PTR records.
"""
import json
import os
import re
import shutil

from harness import Relay
from testdns import TestDNS, parse_zone_txt

RELAY_IP = "198.18.0.5"
RELAY_NAME = "relay.example"
RELAY_RECORDS = [
    (RELAY_NAME, "A", RELAY_IP),
    ("5.0.18.198.in-addr.arpa", "PTR", RELAY_NAME + "."),
]

ZONE_TXT_RE = re.compile(r'^(\S+?)\.? IN TXT ((?:"(?:[^"\\]|\\.)*"\s*)+)$')


def make_relay(dir, dns, tls_material=None, **config):
    """A Relay (not started) whose resolver is dns, hostname relay.example."""
    os.makedirs(dir, exist_ok=True)
    cert = key = None
    if tls_material is not None:
        cert, key = os.path.join(dir, "cert.pem"), os.path.join(dir, "key.pem")
        shutil.copy(tls_material[0], cert)
        shutil.copy(tls_material[1], key)
        os.chmod(key, 0o600)
    r = Relay(dir, cert=cert, key=key)
    settings = {"resolver": "%s:%d" % (dns.addr, dns.port), "hostname": RELAY_NAME,
                "dns_timeout": "2", "dnsbl": "bl.example"}
    settings.update(config)
    r.configure(**settings)
    return r


def doctor(relay, *args, timeout=60):
    """Run `hikyaku doctor ARGS`; returns the CompletedProcess."""
    return relay.cli("doctor", *args, check=False, timeout=timeout)


def doctor_json(relay, *args, timeout=60):
    """{domain: report} from `doctor ARGS --json`, and the exit status."""
    p = doctor(relay, *args, "--json", timeout=timeout)
    out = {}
    for line in p.stdout.splitlines():
        obj = json.loads(line)
        out[obj["domain"]] = obj
    return out, p


def checks(report, area):
    """The checks of one area: [(status, message, fix)]."""
    return [(c["status"], c["message"], c["fix"]) for c in report["checks"]
            if c["area"] == area]


def statuses(report, area):
    return [c["status"] for c in report["checks"] if c["area"] == area]


def zone_record(fix):
    """A fix of the form 'NAME. IN TXT "..." "..."' as (name, "TXT", [strings])."""
    m = ZONE_TXT_RE.match(fix.strip())
    if not m:
        return None
    strings = re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(2))
    return (m.group(1).rstrip("."), "TXT", strings)


def publish_keygen(relay, dns, *args):
    """`dkim keygen ARGS`, and publish the record it printed."""
    out = relay.cli("dkim", "keygen", *args).stdout
    name, strings = parse_zone_txt(out)
    rec = (name.rstrip("."), "TXT", strings)
    dns.add_records([rec])
    return rec


def start_dns(dir, records):
    return TestDNS(dir, list(RELAY_RECORDS) + list(records)).start()
