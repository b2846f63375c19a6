#!/usr/bin/python3
"""relay_bench.py - hikyaku and Postfix relaying the same load on this machine.

Both relays get the same messages from Postfix's smtp-source (S sessions, N
messages of SIZE bytes, plain SMTP from a trusted network: smtp-source has no
AUTH or TLS) and relay them to their own smtp-sink on loopback. Reported:
messages accepted per second (smtp-source's wall time) and end to end (until
the relay has logged every message as sent), and hikyaku's figures as
ratios of Postfix's from the same run - these machines are noisy.

Runs in a loopback-only network namespace (scripts/netns-run). Every loop
is bounded in count and time. Usage:
    bench/relay_bench.py [--messages 2000] [--sessions 20] [--size 4096] [--rounds 3]
"""
import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HIKYAKU = os.environ.get("HIKYAKU_BIN", os.path.join(ROOT, "build", "hikyaku"))
DEADLINE = 300          # seconds any phase may take


def free_port(host):
    s = socket.socket()
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(host, port, timeout=15):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection((host, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("nothing listening on %s:%d" % (host, port))


def count_sent(path):
    try:
        with open(path, errors="replace") as f:
            return sum(1 for line in f if "status=sent" in line)
    except FileNotFoundError:
        return 0


def wait_sent(path, n, start):
    while time.monotonic() - start < DEADLINE:
        if count_sent(path) >= n:
            return time.monotonic() - start
        time.sleep(0.05)
    raise SystemExit("%s: only %d of %d sent after %d s" % (path, count_sent(path), n, DEADLINE))


def start_sink(addr, port):
    return subprocess.Popen(["smtp-sink", "-u", "root", "%s:%d" % (addr, port), "256"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


class Hikyaku:
    name = "hikyaku"

    def __init__(self, d, sink):
        self.d = os.path.join(d, "hikyaku")
        os.makedirs(self.d)
        self.port = free_port("127.0.0.1")
        self.conf = os.path.join(self.d, "hikyaku.conf")
        self.log = os.path.join(self.d, "hikyaku.log")
        with open(self.conf, "w") as f:
            f.write("hostname relay.bench\nlisten 127.0.0.1:%d starttls\nspool %s/spool\n"
                    "resolver 127.0.0.1:1\nroute * %s\nmax-sessions 200\n"
                    "max-connections 20\nmax-connections-per-domain 20\n"
                    "queue-scan-interval 1s\n" % (self.port, self.d, sink))
        self.cli("account", "add", "bench", "--generate")
        self.cli("grant", "add", "bench", "@example.org")
        self.cli("account", "trust", "bench", "127.0.0.0/8")
        self.proc = None

    def cli(self, *args):
        subprocess.run([HIKYAKU, "-c", self.conf] + list(args), check=True,
                       stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)

    def start(self):
        logf = open(self.log, "w")
        self.proc = subprocess.Popen([HIKYAKU, "-c", self.conf, "serve"], stdout=logf,
                                     stderr=logf, start_new_session=True)
        wait_port("127.0.0.1", self.port)
        return "127.0.0.1:%d" % self.port

    def stop(self):
        if self.proc:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(30)


class Postfix:
    """A private Postfix (config, queue, data, log under d) relaying for 127/8 to sink."""
    name = "postfix"

    def __init__(self, d, sink):
        self.d = os.path.join(d, "postfix")
        self.conf = os.path.join(self.d, "etc")
        self.log = os.path.join(self.d, "maillog")
        data = os.path.join(self.d, "data")
        for sub in (self.conf, data, os.path.join(self.d, "queue")):
            os.makedirs(sub)
        shutil.chown(data, "postfix")
        shutil.copy("/etc/postfix/master.cf", self.conf)
        open(os.path.join(self.conf, "main.cf"), "w").close()
        host, port = sink.split(":")
        settings = {
            "compatibility_level": "3.6", "config_directory": self.conf,
            "queue_directory": os.path.join(self.d, "queue"), "data_directory": data,
            "mail_owner": "postfix", "setgid_group": "postdrop",
            "maillog_file_prefixes": "/tmp, /var, /root, /work, " + self.d,
            "maillog_file": self.log, "myhostname": "postfix.bench", "mydestination": "",
            "local_recipient_maps": "", "alias_maps": "", "alias_database": "",
            "inet_interfaces": "127.0.0.1", "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.0/8", "smtpd_relay_restrictions": "permit_mynetworks, reject",
            "relayhost": "[%s]:%s" % (host, port), "smtp_dns_support_level": "disabled",
            "smtpd_peername_lookup": "no", "default_process_limit": "100", "biff": "no",
        }
        self.postconf(["-e"] + ["%s=%s" % kv for kv in settings.items()])
        self.postconf(["-F", "*/*/chroot=n"])
        # inet_interfaces must name an interface address: 127.0.0.1, our own port.
        self.port = free_port("127.0.0.1")
        self.postconf(["-MX", "smtp/inet"])
        self.postconf(["-M", "127.0.0.1:%d/inet=127.0.0.1:%d inet n - n - - smtpd"
                       % (self.port, self.port)])
        # "check" also creates the queue's subdirectories
        subprocess.run(["postfix", "-c", self.conf, "check"], check=True)
        self.proc = None

    def postconf(self, args):
        subprocess.run(["postconf", "-c", self.conf] + args, check=True, capture_output=True)

    def start(self):
        self.proc = subprocess.Popen(["/usr/lib/postfix/sbin/master", "-c", self.conf, "-d"],
                                     stdin=subprocess.DEVNULL,
                                     stdout=open(os.path.join(self.d, "master.out"), "w"),
                                     stderr=subprocess.STDOUT, start_new_session=True,
                                     env=dict(os.environ, MAIL_CONFIG=self.conf))
        wait_port("127.0.0.1", self.port)
        return "127.0.0.1:%d" % self.port

    def stop(self):
        if self.proc:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


def run_one(relay, args):
    target = relay.start()
    try:
        t0 = time.monotonic()
        subprocess.run(["smtp-source", "-s", str(args.sessions), "-m", str(args.messages),
                        "-l", str(args.size), "-f", "bench@example.org",
                        "-t", "rcpt@example.net", target], check=True, timeout=DEADLINE)
        accepted = time.monotonic() - t0
        e2e = wait_sent(relay.log, args.messages, t0)
    finally:
        relay.stop()
    return args.messages / accepted, args.messages / e2e


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    if os.environ.get("BENCH_IN_NS") != "1":
        os.environ["BENCH_IN_NS"] = "1"
        os.execv(os.path.join(ROOT, "scripts", "netns-run"),
                 ["netns-run", sys.executable] + sys.argv)
    results = {"hikyaku": [], "postfix": []}
    sinks = []
    d = tempfile.mkdtemp(prefix="hikyaku-bench-")
    os.chmod(d, 0o755)          # Postfix's daemons run as user postfix
    if True:
        try:
            sinks.append(start_sink("127.0.0.2", 2525))
            sinks.append(start_sink("127.0.0.4", 2525))
            wait_port("127.0.0.2", 2525)
            wait_port("127.0.0.4", 2525)
            for r in range(args.rounds):   # interleaved, so drift hits both alike
                rd = os.path.join(d, "round%d" % r)
                for relay in (Postfix(rd, "127.0.0.4:2525"), Hikyaku(rd, "127.0.0.2:2525")):
                    acc, e2e = run_one(relay, args)
                    results[relay.name].append((acc, e2e))
                    print("round %d %-8s accepted %7.0f msg/s   end to end %7.0f msg/s" %
                          (r + 1, relay.name, acc, e2e), flush=True)
        finally:
            for s in sinks:
                os.killpg(s.pid, signal.SIGTERM)
            if os.environ.get("BENCH_KEEP") != "1":
                shutil.rmtree(d, ignore_errors=True)
    best = {k: (max(a for a, _ in v), max(e for _, e in v)) for k, v in results.items()}
    print("best of %d, %d messages of %d bytes, %d sessions:" %
          (args.rounds, args.messages, args.size, args.sessions))
    for k, (a, e) in best.items():
        print("  %-8s accepted %7.0f msg/s   end to end %7.0f msg/s" % (k, a, e))
    print("  hikyaku/postfix: accepted x%.2f, end to end x%.2f" %
          (best["hikyaku"][0] / best["postfix"][0], best["hikyaku"][1] / best["postfix"][1]))


if __name__ == "__main__":
    main()
