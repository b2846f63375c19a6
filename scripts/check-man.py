#!/usr/bin/python3
"""check-man.py - the man pages document exactly what the code has.

hikyaku.conf(5): every keyword of the parser's table in src/base/config.c
(the `keywords[]` array: { "name", kw_... }) has an entry (.TP, then a
.B/.BI/.BR line starting with the keyword), and every entry is a keyword.

hikyaku(8): every verb src/cli/main.c dispatches (strcmp(argv[1], "verb"))
has an entry starting with it, and every sub-verb the verb's function
dispatches (strcmp(argv[1], "sub") in that function's body, in src/cli/)
has an entry "verb sub".

Both render without warnings (groff -ww -z). Prints each problem and exits
1, or prints "man: ok".
"""
import os
import re
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
CONFIG_C = os.path.join(ROOT, "src", "base", "config.c")
CLI_DIR = os.path.join(ROOT, "src", "cli")
MAN5 = os.path.join(ROOT, "docs", "man", "hikyaku.conf.5")
MAN8 = os.path.join(ROOT, "docs", "man", "hikyaku.8")


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def config_keywords():
    text = read(CONFIG_C)
    m = re.search(r"\bkeywords\[\]\s*=\s*\{(.*?)\n\};", text, re.S)
    if not m:
        sys.exit("check-man: no keywords[] table in %s" % CONFIG_C)
    return set(re.findall(r'\{\s*"([a-z0-9-]+)"\s*,', m.group(1)))


def entries(man):
    """The first words of each .TP entry's tag line, roff escapes removed."""
    lines = read(man).splitlines()
    out = []
    for i, line in enumerate(lines[:-1]):
        if line.strip() != ".TP":
            continue
        tag = lines[i + 1]
        if not re.match(r"\.(B|BI|BR)\s", tag):
            continue
        tag = re.sub(r"^\.\w+\s+", "", tag)
        tag = tag.replace("\\-", "-").replace('"', " ")
        tag = re.sub(r"\\f[BIRP]", " ", tag)
        out.append(tag.split())
    return out


def cli_functions():
    """{function name: body} of every function defined in src/cli/*.c."""
    funcs = {}
    for name in sorted(os.listdir(CLI_DIR)):
        if not name.endswith(".c"):
            continue
        text = read(os.path.join(CLI_DIR, name))
        for m in re.finditer(r"^(\w+)\(([^)]*)\)\n\{\n(.*?)\n\}\n", text, re.S | re.M):
            funcs[m.group(1)] = m.group(3)
    return funcs


def cli_verbs():
    """{verb: set of sub-verbs} from main.c's dispatch."""
    main = read(os.path.join(CLI_DIR, "main.c"))
    funcs = cli_functions()
    verbs = {}
    for m in re.finditer(r'strcmp\(argv\[1\], "([a-z-]+)"\) == 0[^\n]*\)?\s*\n?\s*(?:rc = (\w+)\()?',
                         main):
        verb, fn = m.group(1), m.group(2)
        if verb in ("help",):
            continue
        subs = set()
        if fn and fn in funcs:
            subs = set(re.findall(r'strcmp\(argv\[1\], "([a-z-]+)"\)', funcs[fn]))
        verbs.setdefault(verb, set()).update(subs)
    if not verbs:
        sys.exit("check-man: found no verbs in src/cli/main.c")
    return verbs


def groff_warnings(man):
    p = subprocess.run(["groff", "-ww", "-z", "-man", man], capture_output=True, text=True)
    return (p.stdout + p.stderr).strip()


def main():
    errors = []
    kws = config_keywords()
    documented = {e[0] for e in entries(MAN5) if e}
    for k in sorted(kws - documented):
        errors.append("hikyaku.conf.5: keyword %s (src/base/config.c) is not documented" % k)
    for k in sorted(documented - kws):
        errors.append("hikyaku.conf.5: documents %s, which the parser does not know" % k)

    tags = [e for e in entries(MAN8) if e]
    for verb, subs in sorted(cli_verbs().items()):
        if not any(t[0] == verb for t in tags):
            errors.append("hikyaku.8: verb %s (src/cli/main.c) is not documented" % verb)
        for sub in sorted(subs):
            if not any(t[0] == verb and len(t) > 1 and t[1] == sub for t in tags):
                errors.append("hikyaku.8: \"%s %s\" is not documented" % (verb, sub))

    for man in (MAN5, MAN8):
        w = groff_warnings(man)
        if w:
            errors.append("%s: groff -ww: %s" % (os.path.basename(man), w))

    for e in errors:
        print("man: " + e)
    if errors:
        return 1
    print("man: ok (%d keywords, %d verbs)" % (len(kws), len(cli_verbs())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
