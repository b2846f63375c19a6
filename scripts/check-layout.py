#!/usr/bin/python3
"""check-layout.py - the folders of src/ follow the data flow; includes point down it.

Each folder of src/ has a rank. A file may include headers of its own folder
and of folders ranked lower, never of a folder ranked the same or higher:

    lib (0)  pure cores and generic helpers: parsers, util, log
    base (1) what every stage shares: config, store, worker threads, netio, tls
    dns, dkim (2)  services used by the stages
    queue (3) the durable queue writer, the hub between accepting and delivering;
        doctor, tlspolicy (3): DNS-based verdicts and policies the stages consult
    submit, deliver (4)  the two halves; they talk only through the queue
    ops, home (5)  metrics endpoint and status; the home side (probe, home-config)
    cli (6)  the program: verbs and the daemon's wiring

Inside a folder, modules (a .c and its .h) must not include each other in
a cycle. Prints every violation and exits 1, or prints "layout: ok".
"""
import os
import re
import sys

RANKS = {
    "lib": 0,
    "base": 1,
    "dns": 2, "dkim": 2,
    "queue": 3, "doctor": 3, "tlspolicy": 3,
    "submit": 4, "deliver": 4,
    "ops": 5, "home": 5,
    "cli": 6,
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def module_of(path):
    return os.path.splitext(os.path.basename(path))[0]


def main():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
    errors = []
    graph = {}      # (folder, module) -> set of modules in the same folder it includes
    for folder in sorted(os.listdir(root)):
        fdir = os.path.join(root, folder)
        if not os.path.isdir(fdir):
            continue
        if folder not in RANKS:
            errors.append("src/%s/: folder has no rank in scripts/check-layout.py" % folder)
            continue
        for name in sorted(os.listdir(fdir)):
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(fdir, name)
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
            for inc in INCLUDE.findall(text):
                if "/" not in inc:
                    errors.append("src/%s/%s: include \"%s\" does not name its folder"
                                  % (folder, name, inc))
                    continue
                dep = inc.split("/")[0]
                if dep not in RANKS:
                    errors.append("src/%s/%s: includes \"%s\" from an unknown folder"
                                  % (folder, name, inc))
                elif dep == folder:
                    mod = module_of(inc)
                    if mod != module_of(name):
                        graph.setdefault((folder, module_of(name)), set()).add(mod)
                elif RANKS[dep] >= RANKS[folder]:
                    errors.append("src/%s/%s: includes \"%s\": %s/ (rank %d) may not include "
                                  "%s/ (rank %d); includes point down the flow"
                                  % (folder, name, inc, folder, RANKS[folder], dep, RANKS[dep]))
    errors += cycles(graph)
    for e in errors:
        print("layout: " + e)
    if errors:
        return 1
    print("layout: ok")
    return 0


def cycles(graph):
    """Cycles among modules of one folder, each reported once."""
    found = []
    state = {}

    def visit(node, stack):
        state[node] = "open"
        stack.append(node)
        for mod in sorted(graph.get(node, ())):
            nxt = (node[0], mod)
            if state.get(nxt) == "open":
                loop = stack[stack.index(nxt):] + [nxt]
                found.append("src/%s/: modules include each other: %s"
                             % (node[0], " -> ".join(m for _, m in loop)))
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
    return found


if __name__ == "__main__":
    sys.exit(main())
