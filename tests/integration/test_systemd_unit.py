"""The systemd unit (debian/hikyaku.service): `systemd-analyze verify` is
clean (the man pages it names exist), and `systemd-analyze security
--offline=true` rates it at most 4.0, exactly the figure docs/OPERATIONS.md
states; the unit's commands are the ones hikyaku(8) documents.
"""
import os
import re
import shutil
import subprocess

from harness import hikyaku_bin

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
UNIT = os.path.join(ROOT, "debian", "hikyaku.service")
OPERATIONS = os.path.join(ROOT, "docs", "OPERATIONS.md")


def unit_for_host(tmp_path):
    """The unit with /usr/sbin/hikyaku replaced by the binary under test, and
    a MANPATH holding our man pages (verify runs `man` for Documentation=)."""
    text = open(UNIT).read().replace("/usr/sbin/hikyaku", os.path.abspath(hikyaku_bin()))
    path = tmp_path / "hikyaku.service"
    path.write_text(text)
    man = tmp_path / "man"
    for sect, name in (("8", "hikyaku.8"), ("5", "hikyaku.conf.5")):
        (man / ("man" + sect)).mkdir(parents=True, exist_ok=True)
        shutil.copy(os.path.join(ROOT, "docs", "man", name), str(man / ("man" + sect) / name))
    return str(path), str(man)


def test_unit_verifies(tmp_path):
    unit, man = unit_for_host(tmp_path)
    p = subprocess.run(["systemd-analyze", "verify", unit], capture_output=True, text=True,
                       env=dict(os.environ, MANPATH=man), timeout=60)
    assert p.returncode == 0 and p.stdout + p.stderr == "", p.stdout + p.stderr


def exposure(unit):
    p = subprocess.run(["systemd-analyze", "security", "--offline=true", "--no-pager", unit],
                       capture_output=True, text=True, timeout=60)
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d) (\w+)", p.stdout + p.stderr)
    assert m, p.stdout + p.stderr
    return float(m.group(1)), m.group(2), p.stdout


def test_unit_exposure_as_documented(tmp_path):
    unit, _ = unit_for_host(tmp_path)
    score, verdict, report = exposure(unit)
    assert score <= 4.0, report
    assert verdict in ("OK", "SAFE"), report
    m = re.search(r"exposure level (\d+\.\d)", open(OPERATIONS).read())
    assert m, "docs/OPERATIONS.md does not state the exposure level"
    assert float(m.group(1)) == score, (
        "docs/OPERATIONS.md says %s, systemd-analyze says %s" % (m.group(1), score))
    assert "exposure %s" % m.group(1) in open(UNIT).read()


def test_unit_commands():
    text = open(UNIT).read()
    assert re.search(r"^Type=notify$", text, re.M)
    assert re.search(r"^ExecStart=/usr/sbin/hikyaku -c /etc/hikyaku/hikyaku.conf serve$",
                     text, re.M)
    assert re.search(r"^ExecReload=/usr/sbin/hikyaku -c /etc/hikyaku/hikyaku.conf reload$",
                     text, re.M)
    for need in ("ProtectSystem=strict", "ReadWritePaths=/var/lib/hikyaku",
                 "NoNewPrivileges=yes", "PrivateTmp=yes", "ProtectHome=yes",
                 "SystemCallFilter=@system-service"):
        assert re.search("^%s$" % re.escape(need), text, re.M), need
    caps = re.search(r"^CapabilityBoundingSet=(.*)$", text, re.M).group(1).split()
    assert "CAP_NET_BIND_SERVICE" in caps and set(caps) <= {
        "CAP_NET_BIND_SERVICE", "CAP_SETUID", "CAP_SETGID", "CAP_CHOWN"}
