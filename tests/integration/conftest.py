"""Fixtures for the hikyaku integration tests.

relay           a started hikyaku (STARTTLS and TLS listeners on 127.0.0.1,
                hostname relay.test, spool in the test's tmp dir) with accounts
                alice (grant @example.jp) and bob (grant bob@example.org).
                Tweak its config with @pytest.mark.relay_config(key=value, ...)
                (underscores become dashes; None removes a keyword).
relay_factory   make more relays, or one not yet started:
                relay_factory(start=False, accounts=True, tmpfs=None, **config)
postfix_factory a private Postfix home MTA relaying to a given relayhost.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import ALICE, BOB, Postfix, Relay, hikyaku_bin, in_private_ns  # noqa: E402

TEST_TIMEOUT = int(os.environ.get("HIKYAKU_TEST_TIMEOUT", "90"))

# The CLI speaks the user's language (gettext); tests read its English unless
# they set LANG themselves (test_i18n.py).
for _var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LC_CTYPE"):
    os.environ.pop(_var, None)
os.environ["LANG"] = "C"


def pytest_configure(config):
    config.addinivalue_line("markers", "relay_config(**kw): hikyaku config keywords for the relay fixture")
    config.addinivalue_line("markers", "slow: takes more than a few seconds")


def pytest_collection_modifyitems(config, items):
    """HIKYAKU_SHARD=K/N keeps every N-th test from the K-th (1-based):
    scripts/check.sh runs N shards at once, each in its own network
    namespace, since most of a test's time is spent waiting."""
    shard = os.environ.get("HIKYAKU_SHARD")
    if not shard:
        return
    k, n = (int(x) for x in shard.split("/"))
    keep = [it for i, it in enumerate(items) if i % n == k - 1]
    config.hook.pytest_deselected(items=[it for it in items if it not in keep])
    items[:] = keep


def pytest_report_header(config):
    b = hikyaku_bin()
    try:
        ifaces = sorted(os.listdir("/sys/class/net"))
    except OSError:
        ifaces = []
    if in_private_ns("net") or ifaces == ["lo"]:
        ns = "private (interfaces: %s)" % " ".join(ifaces)
    else:
        ns = "HOST (not isolated; interfaces: %s) - prefer tests/integration/run.sh" % " ".join(ifaces)
    return ["hikyaku binary: %s (%s)" % (b, "present" if os.access(b, os.X_OK) else "MISSING"),
            "network namespace: %s" % ns]


class TestTimeout(Exception):
    pass


@pytest.fixture(autouse=True)
def _bounded_test():
    """Every test is bounded in time (no pytest-timeout on Debian's python)."""
    def on_alarm(signum, frame):
        raise TestTimeout("test exceeded %ds" % TEST_TIMEOUT)
    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(TEST_TIMEOUT)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


@pytest.fixture(scope="session")
def tls_material(tmp_path_factory):
    """A self-signed certificate and key for relay.test (generated once)."""
    d = tmp_path_factory.mktemp("tls")
    cert, key = str(d / "cert.pem"), str(d / "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "30", "-subj", "/CN=relay.test",
                    "-addext", "subjectAltName=DNS:relay.test"],
                   check=True, capture_output=True)
    return cert, key


@pytest.fixture
def relay_factory(tmp_path, tls_material):
    if not os.access(hikyaku_bin(), os.X_OK):
        pytest.fail("hikyaku binary not found at %s (build it, or set HIKYAKU_BIN)" % hikyaku_bin())
    made = []

    def make(start=True, accounts=True, tmpfs=None, own_cert=True, name=None, **config):
        d = tmp_path / (name or "relay%d" % len(made))
        d.mkdir()
        cert = key = None
        if own_cert:
            cert, key = str(d / "cert.pem"), str(d / "key.pem")
            shutil.copy(tls_material[0], cert)
            shutil.copy(tls_material[1], key)
            os.chmod(key, 0o600)
        r = Relay(d, cert=cert, key=key)
        made.append(r)
        if config:
            r.configure(**config)
        if tmpfs:
            why = r.mount_tmpfs_spool(tmpfs)
            if why:
                pytest.skip(why)
        if accounts:
            r.setup_default_accounts()
        if start:
            r.start()
        return r

    yield make
    for r in made:
        r.cleanup()


@pytest.fixture
def relay(request, relay_factory):
    config = {}
    for m in reversed(list(request.node.iter_markers("relay_config"))):
        config.update(m.kwargs)
    return relay_factory(**config)


@pytest.fixture
def postfix_factory():
    made = []

    def make(relayhost, user=ALICE[0], password=ALICE[1], wrappermode=False):
        # Postfix daemons run as user postfix and must reach their directories:
        # not under pytest's 0700 tmp dir.
        d = tempfile.mkdtemp(prefix="hikyaku-postfix-")
        os.chmod(d, 0o755)
        made.append([d, None])
        pf = Postfix(d, relayhost, user, password, wrappermode=wrappermode)
        made[-1][1] = pf
        pf.start()
        return pf

    yield make
    for d, pf in made:
        if pf is not None:
            pf.stop()
        shutil.rmtree(d, ignore_errors=True)


__all__ = ["ALICE", "BOB"]
