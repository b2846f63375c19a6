"""The shipped fail2ban filter (contrib/fail2ban/filter.d/hikyaku.conf)
matches what hikyaku logs for failed logins and refused addresses, checked
with fail2ban's own fail2ban-regex."""
import os
import shutil
import socket
import subprocess

import pytest

from test_auth import tls_session

FILTER = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                      "contrib", "fail2ban", "filter.d", "hikyaku.conf"))


@pytest.mark.skipif(shutil.which("fail2ban-regex") is None, reason="fail2ban is not installed")
@pytest.mark.relay_config(auth_max_failures=3, auth_ban_time=60)
def test_fail2ban_filter_matches_failures(relay):
    c, _ = tls_session(relay)
    with c:
        for i in range(3):
            try:
                if c.auth_plain("alice", "wrong-%d" % i).code == 421:
                    break
            except (EOFError, OSError):
                break
    # a new connection from the banned address: refused, and logged as such
    s = socket.create_connection((relay.host, relay.starttls_port), timeout=5)
    assert s.recv(512).startswith(b"421")
    s.close()
    assert relay.wait_log(r"refused: too many failed authentications", 5)
    p = subprocess.run(["fail2ban-regex", relay.log_path, FILTER],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    total = [l for l in p.stdout.splitlines() if l.startswith("Failregex:")]
    assert total, p.stdout
    assert int(total[0].split()[1]) >= 4, p.stdout      # 3 failures + 1 refusal
