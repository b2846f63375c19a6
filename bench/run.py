#!/usr/bin/python3
"""run.py - hikyaku against Postfix (and OpenSMTPD and Exim where this
machine can run them) on the same machine, in one run, at default settings.
What docs/PERFORMANCE.md reports comes from here:

    make bench                                  # everything (about 45 minutes on 2 cores)
    bench/run.py relay dkim submit backlog memory --rounds 3

Sections:
  relay    accept and end to end: smtp-source, 20 sessions, 4 KiB, 5,000 messages
  dkim     the same load, signed: hikyaku RSA-2048 / Ed25519 vs Postfix + OpenDKIM
  submit   AUTH PLAIN over implicit TLS (bench/submit_driver): 1, 10, 100 sessions,
           2 KiB and 100 KiB; msg/s and p50/p99 of "." -> 250
  backlog  5,000 for a dead destination and 3,000 for a slow one (1 s per DATA)
           queued first, then 2,000 for a healthy one: accept and end to end to it
  memory   PSS idle, and with 1,000 and 5,000 idle TLS sessions (hikyaku)

Figures are medians over the rounds, which alternate between the relays so
that the machine's drift hits all alike. Only ratios from the same run mean
anything. Runs in a loopback-only network and a private mount namespace.
"""
import argparse
import json
import os
import platform
import resource
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as B  # noqa: E402

SECTIONS = ["relay", "dkim", "submit", "backlog", "memory"]


def relay_round(cls, d, sink, args, **kw):
    relay = cls(d, sink.target, **kw)
    before = sink.count()
    target = relay.start()
    try:
        with B.PssSampler(relay) as mem:
            t0 = time.monotonic()
            acc = B.smtp_source(target, args.messages, args.sessions, args.size)
            e2e = sink.wait(before + args.messages, t0)
    finally:
        relay.stop()
    return dict(accepted=args.messages / acc, e2e=args.messages / e2e, pss_kib=mem.peak)


def section_relay(d, args, variants):
    """variants: [(label, cls, kwargs)] -> {label: [round results]}"""
    sink = B.Sink(d)
    res = {label: [] for label, _, _ in variants}
    try:
        for r in range(args.rounds):
            for label, cls, kw in variants:
                try:
                    x = relay_round(cls, os.path.join(d, "r%d" % r), sink, args, **kw)
                except (subprocess.CalledProcessError, subprocess.TimeoutExpired,
                        SystemExit) as e:
                    if cls in (B.Hikyaku, B.Postfix):
                        raise
                    print("  round %d %-24s failed: %s" % (r + 1, label, e), flush=True)
                    res[label].append(dict(error=str(e)))
                    continue
                res[label].append(x)
                print("  round %d %-24s accepted %6.0f msg/s  end to end %6.0f msg/s  PSS %5.1f MiB"
                      % (r + 1, label, x["accepted"], x["e2e"], x["pss_kib"] / 1024), flush=True)
    finally:
        sink.stop()
    out = {}
    for k, v in res.items():
        ok = [x for x in v if "error" not in x]
        if not ok:
            out[k] = dict(error=v[0]["error"] if v else "not run")
            continue
        out[k] = dict(accepted=B.median([x["accepted"] for x in ok]),
                      e2e=B.median([x["e2e"] for x in ok]),
                      pss_kib=max(x["pss_kib"] for x in ok), failed_rounds=len(v) - len(ok))
    return out


def submit_one(relay, sessions, messages, size):
    host, port, user, pw = relay.submission
    with B.PssSampler(relay) as mem:
        p = B.run([os.path.join(B.BUILD, "submit_driver"), host, str(port), user, pw,
                   str(sessions), str(messages), str(size)], capture_output=True, text=True,
                  check=False, timeout=B.DEADLINE)
    if p.returncode != 0:
        raise SystemExit("submit_driver against %s failed: %s %s" % (relay.name, p.stdout,
                                                                        p.stderr))
    x = json.loads(p.stdout)
    x["pss_kib"] = mem.peak
    return x


def section_submit(d, args):
    sink = B.Sink(d)
    cases = [(1, 2048, 300), (10, 2048, 2000), (100, 2048, 5000),
             (1, 102400, 100), (10, 102400, 500), (100, 102400, 1000)]
    out = {}
    try:
        for name, make in (("hikyaku", lambda dd: B.Hikyaku(dd, sink.target, trust=False)),
                           ("postfix", lambda dd: B.Postfix(dd, sink.target, submission=True))):
            relay = make(os.path.join(d, name))
            relay.start()
            try:
                for sessions, size, n in cases:
                    rs = [submit_one(relay, sessions, max(n // 3, sessions) if args.quick else n,
                                     size) for _ in range(args.rounds)]
                    x = {k: B.median([r[k] for r in rs]) for k in ("msg_per_s", "p50_ms",
                                                                   "p99_ms")}
                    x["pss_kib"] = max(r["pss_kib"] for r in rs)
                    out["%s/%d/%d" % (name, sessions, size)] = x
                    print("  %-8s %3d sessions %6d bytes: %7.1f msg/s  p50 %6.1f ms  p99 %6.1f ms"
                          "  PSS %5.1f MiB" % (name, sessions, size, x["msg_per_s"], x["p50_ms"],
                                               x["p99_ms"], x["pss_kib"] / 1024), flush=True)
            finally:
                relay.stop()
    finally:
        sink.stop()
    return out


def section_backlog(d, args):
    """Empty queue first, then the backlog, for each relay; both to the same healthy sink."""
    healthy = B.Sink(d, addr="127.0.0.5")
    slow = B.Sink(d, addr="127.0.0.6", delay=1)
    dead = "127.0.0.7:%d" % B.free_port("127.0.0.7")      # nothing listens there
    out = {}
    n_dead, n_slow, n_ok = (1000, 600, 2000) if args.quick else (5000, 3000, 2000)
    try:
        for name in ("hikyaku", "postfix"):
            dd = os.path.join(d, name)
            if name == "hikyaku":
                relay = B.Hikyaku(dd, healthy.target,
                                  extra="route dead.example %s\nroute slow.example %s\n"
                                  % (dead, slow.target))
            else:
                relay = B.Postfix(dd, healthy.target, transports={
                    "dead.example": "smtp:[%s]:%s" % tuple(dead.split(":")),
                    "slow.example": "smtp:[%s]:%d" % (slow.addr, slow.port)})
            target = relay.start()
            try:
                with B.PssSampler(relay) as mem:
                    base = healthy.count()      # the empty-queue figure first
                    t0 = time.monotonic()
                    acc = B.smtp_source(target, n_ok)
                    e2e = healthy.wait(base + n_ok, t0)
                    empty = dict(accepted=n_ok / acc, e2e=n_ok / e2e)
                    B.smtp_source(target, n_dead, rcpt="rcpt@dead.example")
                    B.smtp_source(target, n_slow, rcpt="rcpt@slow.example")
                    base = healthy.count()
                    t0 = time.monotonic()
                    acc = B.smtp_source(target, n_ok)
                    e2e = healthy.wait(base + n_ok, t0)
                    backlog = dict(accepted=n_ok / acc, e2e=n_ok / e2e)
                    slow_done = slow.count()
            finally:
                relay.stop()
            out[name] = dict(empty=empty, backlog=backlog, pss_kib=mem.peak,
                             slow_delivered_meanwhile=slow_done)
            print("  %-8s empty queue: accepted %6.0f  end to end %6.0f msg/s;  backlog:"
                  " accepted %6.0f  end to end %6.0f msg/s (x%.2f, x%.2f)  PSS %5.1f MiB"
                  % (name, empty["accepted"], empty["e2e"], backlog["accepted"], backlog["e2e"],
                     backlog["accepted"] / empty["accepted"], backlog["e2e"] / empty["e2e"],
                     mem.peak / 1024), flush=True)
    finally:
        healthy.stop()
        slow.stop()
    return out


def open_tls_sessions(port, n):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    conns = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        t = ctx.wrap_socket(s)
        t.recv(512)                          # the greeting
        t.sendall(b"EHLO idle.client\r\n")
        buf = b""
        while not buf.endswith(b"250 HELP\r\n"):
            buf += t.recv(4096)
        conns.append(t)
    return conns


def section_memory(d, args):
    sink = B.Sink(d)
    out = {}
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 20000), hard))
    try:
        # idle, at defaults
        for name, cls in (("hikyaku", B.Hikyaku), ("postfix", B.Postfix)):
            relay = cls(os.path.join(d, name), sink.target)
            relay.start()
            time.sleep(2)
            out[name + "/idle"] = B.pss_kib(relay.pids())
            relay.stop()
            print("  %-8s idle PSS %5.1f MiB" % (name, out[name + "/idle"] / 1024), flush=True)
        # idle TLS sessions need room for them: max-sessions is the one setting raised
        for n in ((1000,) if args.quick else (1000, 5000)):
            relay = B.Hikyaku(os.path.join(d, "tls%d" % n), sink.target,
                              extra="max-sessions %d\n" % (n + 10))
            relay.start()
            time.sleep(1)
            base = B.pss_kib(relay.pids())
            conns = open_tls_sessions(relay.tls_port, n)
            time.sleep(2)
            with_n = B.pss_kib(relay.pids())
            for c in conns:
                c.close()
            relay.stop()
            out["hikyaku/tls%d" % n] = dict(base_kib=base, pss_kib=with_n,
                                            per_session_kib=(with_n - base) / n)
            print("  hikyaku  %d idle TLS sessions: PSS %5.1f MiB, %.1f KiB per session"
                  % (n, with_n / 1024, (with_n - base) / n), flush=True)
    finally:
        sink.stop()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sections", nargs="*", default=SECTIONS)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--messages", type=int, default=5000)
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--quick", action="store_true", help="smaller loads, for trying the script")
    ap.add_argument("--json", help="write the results here too")
    args = ap.parse_args()
    if os.environ.get("BENCH_IN_NS") != "1":
        B.Haraka.install()      # the namespace has no network
        os.environ["BENCH_IN_NS"] = "1"
        os.execv(os.path.join(B.ROOT, "scripts", "netns-run"),
                 ["netns-run", sys.executable] + sys.argv)
    for s in args.sections:
        if s not in SECTIONS:
            raise SystemExit("unknown section %s (one of %s)" % (s, " ".join(SECTIONS)))
    # not under /tmp: OpenDKIM refuses keys below a directory others may write
    os.makedirs(B.BUILD, exist_ok=True)
    d = tempfile.mkdtemp(prefix="bench-work-", dir=B.BUILD)
    os.chmod(d, 0o755)          # Postfix's and OpenDKIM's daemons run as their own users
    results = dict(date=time.strftime("%Y-%m-%d"), machine=machine(), args=vars(args))
    print("hikyaku benchmark, %s, %s" % (results["date"], results["machine"]), flush=True)
    dns = B.LocalDNS(d)
    try:
        if "relay" in args.sections:
            print("== relay: accept and end to end", flush=True)
            variants = [(cls.name if cls not in (B.Hikyaku, B.Postfix) else
                         cls.__name__.lower(), cls, {}) for cls in B.relay_classes()]
            results["relay"] = section_relay(os.path.join(d, "relay"), args, variants)
        if "dkim" in args.sections:
            print("== dkim: signed relaying", flush=True)
            variants = [("hikyaku+dkim-rsa", B.Hikyaku, dict(dkim="rsa")),
                        ("postfix+opendkim-rsa", B.Postfix, dict(dkim="rsa")),
                        ("hikyaku+dkim-ed25519", B.Hikyaku, dict(dkim="ed25519")),
                        ("postfix+opendkim-ed25519", B.Postfix, dict(dkim="ed25519"))]
            results["dkim"] = section_relay(os.path.join(d, "dkim"), args, variants)
        if "submit" in args.sections:
            print("== submit: AUTH over implicit TLS", flush=True)
            results["submit"] = section_submit(os.path.join(d, "submit"), args)
        if "backlog" in args.sections:
            print("== backlog: a healthy destination behind a dead and a slow one", flush=True)
            results["backlog"] = section_backlog(os.path.join(d, "backlog"), args)
        if "memory" in args.sections:
            print("== memory", flush=True)
            results["memory"] = section_memory(os.path.join(d, "memory"), args)
    finally:
        dns.stop()
        if os.environ.get("BENCH_KEEP") != "1":
            shutil.rmtree(d, ignore_errors=True)
    if args.json:
        B.save(args.json, results)
    print(json.dumps(results, indent=1))


def machine():
    cpus = os.cpu_count()
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    pf = subprocess.run(["postconf", "-d", "-h", "mail_version"], capture_output=True, text=True)
    return "%d cores (%s), %s, Postfix %s" % (cpus, model, platform.platform(),
                                               pf.stdout.strip())


if __name__ == "__main__":
    main()
