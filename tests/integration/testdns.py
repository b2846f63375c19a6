"""A test DNS server: unbound in the foreground on a loopback address,
answering only from local data.

    dns = TestDNS(dir, [("example.jp", "MX", "10 mx.example.jp."),
                        ("mx.example.jp", "A", "127.0.0.1")]).start()
    dns.addr, dns.port          # where it answers (UDP and TCP)
    dns.set_records([...])      # replace every record; returns once served
    dns.add_records([...])      # add to the current ones
    dns.query("example.jp", "MX")   # -> [rdata text] (for tests and readiness)
    dns.stop()

Signed zones (dnssec.SignedZone) are served from unbound's auth-zone:
append (origin, signed zone file) to dns.auth_zones before start().

Records are (name, type, value) tuples, or (name, type, value, ttl); types A, AAAA, MX, TXT, PTR (and
any other type unbound's local-data understands, value in zone-file
syntax). A TXT value is the text itself, unquoted: it is split into quoted
strings of at most 255 bytes here (or pass a list/tuple of strings to choose
the split yourself). Every name not in the records gets NXDOMAIN (a
catch-all `local-zone: "." static`), and a forward-zone for "." points at
a dead loopback port so that unbound can never ask the real root servers
(see ../../TESTING notes: `unbound-control local_zone` at run time once
dropped the catch-all).

The `test_dns` fixture (in conftest-free form: import and call
`test_dns_fixture`) gives a started server with no records.
"""
import os
import signal
import socket
import subprocess
import time

from harness import kill_group
from helpers import wait_for

UNBOUND = "/usr/sbin/unbound"
TXT_CHUNK = 255
PROBE_NAME = "hikyaku-testdns-probe.test"


def free_udp_tcp_port(host):
    """A port free for both UDP and TCP on host (a moment ago)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind((host, 0))
            port = u.getsockname()[1]
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                    t.bind((host, port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free UDP+TCP port on %s" % host)


def _fqdn(name):
    return name if name.endswith(".") else name + "."


def txt_strings(value):
    """A TXT value -> its character-strings, each <= 255 bytes."""
    if isinstance(value, (list, tuple)):
        parts = [p.encode() if isinstance(p, str) else p for p in value]
    else:
        b = value.encode() if isinstance(value, str) else value
        parts = [b[i:i + TXT_CHUNK] for i in range(0, len(b), TXT_CHUNK)] or [b""]
    for p in parts:
        if len(p) > TXT_CHUNK:
            raise ValueError("TXT string longer than 255 bytes")
    return parts


def _quote(b):
    out = []
    for c in b:
        if c in (0x22, 0x5C):           # " and \
            out.append("\\" + chr(c))
        elif 0x20 <= c < 0x7F:
            out.append(chr(c))
        else:
            out.append("\\%03d" % c)
    return '"' + "".join(out) + '"'


def local_data(name, rtype, value, ttl=60):
    """One unbound local-data line for a record."""
    rtype = rtype.upper()
    if rtype == "TXT":
        rdata = " ".join(_quote(p) for p in txt_strings(value))
    else:
        rdata = str(value)
    rr = "%s %d IN %s %s" % (_fqdn(name), ttl, rtype, rdata)
    if "'" in rr:
        raise ValueError("quote in record: %r" % rr)
    return "local-data: '%s'" % rr


class TestDNS:
    """unbound -d on addr:port serving only the given records."""

    __test__ = False    # not a pytest test class

    def __init__(self, dir, records=(), addr="127.0.0.53", port=None):
        self.dir = str(dir)
        os.makedirs(self.dir, exist_ok=True)
        self.addr = addr
        self.port = port or free_udp_tcp_port(addr)
        self.conf = os.path.join(self.dir, "unbound.conf")
        self.log_path = os.path.join(self.dir, "unbound.log")
        self.records = list(records)
        self.auth_zones = []    # [(origin, zone file)]: served signed (dnssec.py)
        self.generation = 0
        self.proc = None
        self._write()

    # -- config -----------------------------------------------------------------
    def config_text(self):
        lines = [
            "server:",
            "  verbosity: 1",
            "  interface: %s@%d" % (self.addr, self.port),
            "  port: %d" % self.port,
            "  do-ip4: yes",
            "  do-ip6: no",
            "  do-udp: yes",
            "  do-tcp: yes",
            '  chroot: ""',
            '  username: ""',
            '  directory: "%s"' % self.dir,
            '  pidfile: "%s"' % os.path.join(self.dir, "unbound.pid"),
            '  logfile: ""',
            "  use-syslog: no",
            "  do-daemonize: no",
            "  do-not-query-localhost: no",
            "  access-control: 127.0.0.0/8 allow",
            "  num-threads: 1",
            "  msg-cache-size: 1m",
            "  rrset-cache-size: 1m",
            "  cache-max-ttl: 0",
            "  cache-max-negative-ttl: 0",
            "  module-config: \"iterator\"",
            '  trust-anchor-file: ""',
            "  hide-identity: yes",
            "  hide-version: yes",
            "  minimal-responses: yes",
            '  local-zone: "." static',
            # no built-in localhost PTR answers: PTR records are the test's own
            '  local-zone: "127.in-addr.arpa." nodefault',
            # a name that always answers: readiness and reload probe
            "  " + local_data(PROBE_NAME, "TXT", "generation %d" % self.generation),
        ]
        for rec in self.records:     # (name, type, value[, ttl])
            lines.append("  " + local_data(*rec))
        for origin, _ in self.auth_zones:
            # out of the catch-all: the auth-zone below answers, RRSIGs included
            lines.append('  local-zone: "%s" transparent' % _fqdn(origin))
        lines += [
            "remote-control:",
            "  control-enable: no",
            "forward-zone:",
            '  name: "."',
            "  forward-addr: 127.0.0.1@1",
        ]
        for origin, path in self.auth_zones:
            lines += ["auth-zone:", '  name: "%s"' % _fqdn(origin), '  zonefile: "%s"' % path,
                      "  for-downstream: yes", "  for-upstream: no", "  fallback-enabled: no"]
        return "\n".join(lines) + "\n"

    def _write(self):
        tmp = self.conf + ".tmp"
        with open(tmp, "w") as f:
            f.write(self.config_text())
        os.replace(tmp, self.conf)

    # -- process ----------------------------------------------------------------
    def start(self, timeout=10.0):
        p = subprocess.run([os.path.join(os.path.dirname(UNBOUND), "unbound-checkconf"),
                            self.conf], capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError("unbound-checkconf: %s %s\n%s"
                               % (p.stdout, p.stderr, self.config_text()))
        logf = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen([UNBOUND, "-d", "-c", self.conf],
                                         stdin=subprocess.DEVNULL, stdout=logf,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            logf.close()
        self._wait_generation(timeout)
        return self

    def _wait_generation(self, timeout):
        want = "generation %d" % self.generation

        def ok():
            if self.proc.poll() is not None:
                raise RuntimeError("unbound exited %s:\n%s" % (self.proc.returncode, self.log()))
            try:
                return want in " ".join(self.query(PROBE_NAME, "TXT", timeout=0.5))
            except Exception:
                return False
        if not wait_for(ok, timeout, interval=0.05):
            raise RuntimeError("unbound on %s@%d not answering %r within %.0fs:\n%s"
                               % (self.addr, self.port, want, timeout, self.log()))

    def set_records(self, records, timeout=10.0):
        """Serve exactly these records from now on (rewrite + SIGHUP)."""
        self.records = list(records)
        self.reload(timeout)

    def add_records(self, records, timeout=10.0):
        self.records.extend(records)
        self.reload(timeout)

    def reload(self, timeout=10.0):
        self.generation += 1
        self._write()
        if self.proc is None or self.proc.poll() is not None:
            return self.start(timeout)
        os.kill(self.proc.pid, signal.SIGHUP)
        try:
            self._wait_generation(timeout)
        except RuntimeError:
            # SIGHUP did not take: restart on the same port
            self.stop()
            self.start(timeout)
        return self

    def stop(self):
        kill_group(self.proc, term_timeout=5)
        self.proc = None

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    # -- queries ----------------------------------------------------------------
    def resolver(self, timeout=2.0):
        """A dnspython resolver that asks only this server."""
        import dns.resolver
        r = dns.resolver.Resolver(configure=False)
        r.nameservers = [self.addr]
        r.port = self.port
        r.timeout = timeout
        r.lifetime = timeout
        r.cache = None
        return r

    def query(self, name, rtype, timeout=2.0):
        """[rdata as text] of name/type; [] for NXDOMAIN or no data."""
        import dns.resolver
        try:
            ans = self.resolver(timeout).resolve(name, rtype, raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN:
            return []
        if ans.rrset is None:
            return []
        if rtype.upper() == "TXT":
            return [b"".join(r.strings).decode("utf-8", "replace") for r in ans]
        return [r.to_text() for r in ans]

    def txt_bytes(self, name, timeout=2.0):
        """The first TXT record of name as bytes (its strings joined), or None."""
        import dns.resolver
        try:
            ans = self.resolver(timeout).resolve(name, "TXT", raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN:
            return None
        if ans.rrset is None:
            return None
        for r in ans:
            return b"".join(r.strings)
        return None

    def __enter__(self):
        return self.start() if self.proc is None else self

    def __exit__(self, *exc):
        self.stop()


def parse_zone_txt(text):
    """From `hikyaku dkim keygen` output (zone-file form): (name, [strings])
    of the TXT record. Lines starting with ';' are comments."""
    import re
    body = "\n".join(l for l in text.splitlines() if not l.lstrip().startswith(";"))
    m = re.match(r"\s*(\S+)\s+(?:\d+\s+)?IN\s+TXT\s+\(?(.*?)\)?\s*$", body, re.S)
    if not m:
        raise ValueError("no TXT record in %r" % text)
    strings = re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(2))
    return m.group(1), strings
