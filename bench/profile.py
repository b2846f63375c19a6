#!/usr/bin/python3
"""profile.py - what limits a relay figure, with evidence: the load of
run.py's relay section (smtp-source, 20 sessions, 4 KiB messages, at
default settings) against one relay, run twice - once under `strace -c -f`
(system calls: how many per message, and their time) and once under
`perf record -a -e cpu-clock` (where the CPU goes, by process and by
function; this machine's virtual CPUs have no hardware counters).
docs/PERFORMANCE.md quotes it:

    bench/profile.py hikyaku postfix hikyaku+dkim-rsa --messages 5000

Relays: hikyaku, postfix, hikyaku+dkim-rsa, hikyaku+dkim-ed25519,
postfix+opendkim-rsa. strace slows every system call down, so its run's
rates are not the relay's: only the counts per message matter there.
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as B  # noqa: E402

RELAYS = {
    "hikyaku": (B.Hikyaku, {}),
    "postfix": (B.Postfix, {}),
    "hikyaku+dkim-rsa": (B.Hikyaku, dict(dkim="rsa")),
    "hikyaku+dkim-ed25519": (B.Hikyaku, dict(dkim="ed25519")),
    "postfix+opendkim-rsa": (B.Postfix, dict(dkim="rsa")),
}


def load(relay, sink, target, args):
    before = sink.count()
    t0 = time.monotonic()
    acc = B.smtp_source(target, args.messages, args.sessions, args.size)
    e2e = sink.wait(before + args.messages, t0)
    return args.messages / acc, args.messages / e2e


def under_strace(name, d, sink, args):
    cls, kw = RELAYS[name]
    relay = cls(os.path.join(d, name + "-strace"), sink.target, **kw)
    target = relay.start()
    out = os.path.join(d, name + ".strace")
    try:
        time.sleep(1)
        argv = ["strace", "-c", "-f", "-qq", "-o", out]
        for p in relay.pids():
            argv += ["-p", str(p)]
        st = subprocess.Popen(argv, stderr=subprocess.DEVNULL)
        time.sleep(1)
        acc, e2e = load(relay, sink, target, args)
        st.send_signal(signal.SIGINT)
        st.wait(timeout=60)
    finally:
        relay.stop()
    print("== %s under strace -c -f (%d messages; accepted %.0f msg/s under strace)"
          % (name, args.messages, acc), flush=True)
    print("   %-16s %10s %10s %9s" % ("syscall", "calls", "per msg", "% time"))
    rows = []
    with open(out) as f:
        for line in f:
            m = re.match(r"\s*([\d.]+)\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$", line)
            if m and m.group(3) != "total":
                rows.append((float(m.group(1)), int(m.group(2)), m.group(3)))
    rows.sort(key=lambda r: -r[1])
    # the most frequent, and always what makes data durable
    shown = rows[:args.top] + [r for r in rows[args.top:] if "sync" in r[2]]
    for pct, calls, sc in shown:
        print("   %-16s %10d %10.2f %9.1f" % (sc, calls, calls / args.messages, pct))
    total = sum(r[1] for r in rows)
    print("   %-16s %10d %10.2f" % ("all", total, total / args.messages), flush=True)


def under_perf(name, d, sink, args):
    cls, kw = RELAYS[name]
    relay = cls(os.path.join(d, name + "-perf"), sink.target, **kw)
    target = relay.start()
    data = os.path.join(d, name + ".perf")
    try:
        time.sleep(1)
        pf = subprocess.Popen(["perf", "record", "-q", "-a", "-e", "cpu-clock", "-F", "499",
                               "-o", data], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
        time.sleep(1)
        acc, e2e = load(relay, sink, target, args)
        pf.send_signal(signal.SIGINT)
        pf.wait(timeout=60)
    finally:
        relay.stop()
    print("== %s under perf record -a -e cpu-clock (accepted %.0f, end to end %.0f msg/s)"
          % (name, acc, e2e), flush=True)
    for sort, head in (("comm", 8), ("comm,dso", 12), ("comm,dso,sym", args.top)):
        rep = subprocess.run(["perf", "report", "-i", data, "--stdio", "-q", "--sort", sort,
                              "--percent-limit", "0.3"], capture_output=True, text=True)
        lines = [x.strip() for x in rep.stdout.splitlines() if x.strip()]
        if sort == "comm,dso,sym":     # where the relay's own code spends it
            lines = [x for x in lines if "[.]" in x]
            print("   by comm,dso,sym (user space only):")
        else:
            print("   by %s:" % sort)
        for line in lines[:head]:
            print("   " + line)
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("relays", nargs="*", default=["hikyaku", "postfix"])
    ap.add_argument("--messages", type=int, default=5000)
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--top", type=int, default=12, help="rows of each table")
    ap.add_argument("--what", choices=["both", "strace", "perf"], default="both")
    args = ap.parse_args()
    for r in args.relays:
        if r not in RELAYS:
            raise SystemExit("unknown relay %s (one of %s)" % (r, " ".join(RELAYS)))
    if os.environ.get("BENCH_IN_NS") != "1":
        os.environ["BENCH_IN_NS"] = "1"
        os.execv(os.path.join(B.ROOT, "scripts", "netns-run"),
                 ["netns-run", sys.executable] + sys.argv)
    os.makedirs(B.BUILD, exist_ok=True)
    d = tempfile.mkdtemp(prefix="bench-profile-", dir=B.BUILD)
    os.chmod(d, 0o755)
    dns = B.LocalDNS(d)
    sink = B.Sink(d)
    try:
        for name in args.relays:
            if args.what in ("both", "strace"):
                under_strace(name, d, sink, args)
            if args.what in ("both", "perf"):
                under_perf(name, d, sink, args)
    finally:
        sink.stop()
        dns.stop()
        if os.environ.get("BENCH_KEEP") != "1":
            subprocess.run(["rm", "-rf", d])


if __name__ == "__main__":
    main()
