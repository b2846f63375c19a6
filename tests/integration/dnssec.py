"""DNSSEC-signed test zones for the DANE tests (ldns-keygen, ldns-signzone
from ldnsutils), served by the test DNS's unbound as auth-zones, and the
trust anchor (DS records) that hikyaku's libunbound validates them with.

    z = SignedZone(dir, "dane.example", [("mx.dane.example", "A", "127.0.0.40"),
                                         ("_25._tcp.mx.dane.example", "TLSA", "3 1 1 ab..")])
    z.path            # the signed zone file (for TestDNS.auth_zones)
    z.ds              # "dane.example. IN DS ..." for the anchor file
    write_anchor(path, [z1, z2])

tamper=(name, type, new rdata) replaces a record's data after signing, so
its signature no longer verifies: the answer is bogus.
"""
import os
import subprocess

LDNS_KEYGEN = "/usr/bin/ldns-keygen"
LDNS_SIGNZONE = "/usr/bin/ldns-signzone"


def _fqdn(name):
    return name if name.endswith(".") else name + "."


class SignedZone:
    def __init__(self, dir, origin, records, tamper=None):
        self.dir = os.path.join(str(dir), "zone-" + origin)
        os.makedirs(self.dir, exist_ok=True)
        self.origin = _fqdn(origin)
        src = os.path.join(self.dir, "zone")
        lines = ["$ORIGIN %s" % self.origin, "$TTL 300",
                 "@ IN SOA ns.%s hostmaster.%s 1 3600 600 86400 300" % (self.origin, self.origin),
                 "@ IN NS ns.%s" % self.origin, "ns IN A 127.0.0.53"]
        for name, rtype, value in records:
            if rtype.upper() == "TXT":
                value = '"%s"' % value.replace('"', '\\"')
            lines.append("%s IN %s %s" % (_fqdn(name), rtype.upper(), value))
        with open(src, "w") as f:
            f.write("\n".join(lines) + "\n")
        ksk = self._keygen(True)
        zsk = self._keygen(False)
        subprocess.run([LDNS_SIGNZONE, "-f", src + ".signed", src, zsk, ksk], cwd=self.dir,
                       check=True, capture_output=True)
        self.path = src + ".signed"
        with open(os.path.join(self.dir, ksk + ".ds")) as f:
            self.ds = f.read().strip()
        if tamper:
            self._tamper(*tamper)

    def _keygen(self, ksk):
        args = [LDNS_KEYGEN, "-a", "ECDSAP256SHA256"] + (["-k"] if ksk else []) + [self.origin]
        p = subprocess.run(args, cwd=self.dir, check=True, capture_output=True, text=True)
        return p.stdout.strip()

    def _tamper(self, name, rtype, rdata):
        with open(self.path) as f:
            lines = f.read().splitlines()
        out, done = [], False
        for line in lines:
            f = line.split()
            if len(f) >= 4 and f[0] == _fqdn(name) and f[3] == rtype.upper():
                line = "\t".join(f[:4] + [rdata])
                done = True
            out.append(line)
        if not done:
            raise ValueError("no %s %s record to tamper with" % (name, rtype))
        with open(self.path, "w") as f:
            f.write("\n".join(out) + "\n")


def write_anchor(path, zones):
    with open(path, "w") as f:
        f.write("".join(z.ds + "\n" for z in zones))
    return path
