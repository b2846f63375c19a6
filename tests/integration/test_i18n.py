"""Messages in the user's language (issue 10): with LANG=ja_JP.UTF-8 the
probe, home-config, status, CLI and configuration errors speak Japanese,
with LANG=C English; SMTP replies and the daemon's log stay English (the
doctor's Japanese: test_doctor_i18n.py). The
catalogue is found from the build tree (./build/hikyaku) and after an
install (meson install --destdir)."""
import json
import os
import re
import shutil
import subprocess

import pytest

from certs import TestCA
from harness import ALICE, hikyaku_bin
from home import one, relay_with_cert, run_probe

JA = "ja_JP.UTF-8"


@pytest.fixture(scope="module", autouse=True)
def japanese_locale():
    out = subprocess.run(["locale", "-a"], capture_output=True, text=True).stdout.lower()
    if "ja_jp.utf8" not in out.split():
        pytest.skip("locale ja_JP.UTF-8 not generated (scripts/install-deps.sh test does it)")


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    ca = TestCA(tmp_path_factory.mktemp("ca"))
    ca.valid = ca.leaf("localhost")
    ca.selfsigned = ca.leaf("selfsigned", self_signed=True)
    return ca


def cli(*args, lang, binary=None, input=None):
    env = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL")}
    env["LANG"] = lang
    return subprocess.run([binary or hikyaku_bin()] + list(args), capture_output=True,
                          text=True, env=env, input=input, timeout=60)


def probe_args(relay, ca, frm):
    return ["--relay", "localhost:%d" % relay.starttls_port, "--ca-file", ca.path,
            "--account", ALICE[0], "--from", frm, "--mx", "127.0.0.1:1", "--timeout", "5"]


def test_probe_in_japanese_and_english(relay_factory, ca):
    r = relay_with_cert(relay_factory, *ca.valid)
    args = probe_args(r, ca, "bob@example.org")
    ja, _ = run_probe(*args, password=ALICE[1], lang=JA, json_out=False)
    en, _ = run_probe(*args, password=ALICE[1], lang="C", json_out=False)
    assert ja.returncode == en.returncode == 1
    assert "== 外向きのポート 25" in ja.stdout
    assert "[失敗] 中継サーバーはアカウント alice に bob@example.org としての送信を許していません" \
        in ja.stdout, ja.stdout
    assert "-> 中継サーバーで許可してください: hikyaku grant add alice bob@example.org" in ja.stdout
    assert "== まとめ" in ja.stdout
    # the server's words stay as they were
    assert "サーバーの応答: 550 5.7.1 Sender rejected: <bob@example.org> is not granted to " \
           "account alice" in ja.stdout
    assert "== Outbound port 25" in en.stdout and "[FAIL] The relay does not let account alice" \
        in en.stdout
    assert not re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", en.stdout), en.stdout


def test_probe_json_in_japanese_keeps_ids(relay_factory, ca):
    r = relay_with_cert(relay_factory, *ca.selfsigned)
    p, d = run_probe(*probe_args(r, ca, "alice@example.jp"), password=ALICE[1], lang=JA)
    assert p.returncode == 1
    it = one(d, "relay", "certificate")
    assert it["status"] == "fail"
    assert it["message"].startswith("localhost:%d の証明書は信頼できません: " % r.starttls_port)
    assert "Let's Encrypt" in it["advice"] and "--ca-file" in it["advice"]
    assert [s["id"] for s in d["sections"]] == ["port25", "relay", "account"]


def test_home_config_comments_translated_directives_not():
    args = ["home-config", "--mta", "exim", "--relay", "relay.example.net:465", "--account",
            "alice"]
    ja, en = cli(*args, lang=JA), cli(*args, lang="C")
    assert ja.returncode == en.returncode == 0
    assert "# hikyaku home-config（Exim 用）: 中継サーバー relay.example.net:465（暗黙の TLS）" \
        in ja.stdout
    assert "# hikyaku home-config for Exim: relay relay.example.net:465 (implicit TLS)" \
        in en.stdout

    def directives(text):
        return [l for l in text.splitlines() if not l.startswith("#") or l.startswith("# ---")]
    assert directives(ja.stdout) == directives(en.stdout)


def test_cli_and_configuration_errors(tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text("listen 127.0.0.1:2587 starttls\nfrobnicate yes\n")
    ja = cli("check-config", "-c", str(conf), lang=JA)
    en = cli("check-config", "-c", str(conf), lang="C")
    assert ja.returncode == en.returncode == 1
    assert ja.stderr.strip() == '%s:2: "frobnicate" というキーワードはありません' % conf
    assert en.stderr.strip() == '%s:2: unknown keyword "frobnicate"' % conf
    ja = cli("probe", "--relay", "relay.example.net", "--timeout", "0", lang=JA)
    assert ja.returncode == 2 and "1 から 300 秒で指定してください" in ja.stderr
    ja = cli("nonsense", lang=JA)
    assert ja.returncode == 2 and ja.stderr.startswith("使い方: hikyaku [-c ファイル] コマンド")


def test_status_screen_in_japanese(relay_factory):
    """`hikyaku status`: labels and sentences follow the locale, padded by
    display width; numbers, addresses and the daemon's delivery errors stay."""
    r = relay_factory(route="* 127.0.0.1:1", retry_backoff="1h 2h")
    with r.session(ALICE) as c:
        m, rr, d = c.send_mail("alice@example.jp", ["friend@example.com"],
                               b"From: alice@example.jp\r\nSubject: x\r\n\r\nx\r\n")
        assert d.code == 250, d
    assert r.wait_log(r"status=deferred", timeout=15), r.log()[-2000:]
    ja = cli("status", "-c", r.conf_path, lang=JA)
    en = cli("status", "-c", r.conf_path, lang="C")
    assert ja.returncode == en.returncode == 0, ja.stderr + en.stderr
    out = ja.stdout
    assert re.search(r"^hikyaku \d+\.\d+\.\d+ 稼働中、pid \d+、稼働時間 \d+秒（\d{4}-\d\d-\d\d "
                     r"[\d:]+ から）$", out, re.M), out
    # labels padded to 12 columns: "設定" is 4 columns wide, "セッション" 10
    assert re.search(r"^設定        %s$" % re.escape(r.conf_path), out, re.M), out
    assert re.search(r"^待ち受け    127\.0\.0\.1:%d starttls, " % r.starttls_port, out, re.M), out
    assert re.search(r"^セッション  [01]$", out, re.M), out
    assert re.search(r"^起動以来    受付 1、送信 0、再試行待ち 1、返送 0（受取人の数）$", out, re.M), out
    assert re.search(r"^キュー      再試行待ちの受取人 1 件（メッセージ 1 通）。メッセージは計 1 通$",
                     out, re.M), out
    assert re.search(r"^最古        \S+ \S+（\d+秒前）$", out, re.M), out
    assert re.search(r"^  example\.com +配送待ち +0  再試行待ち +1   次の試行: (1時間 0分|59分 \d+秒)後$",
                     out, re.M), out
    # the daemon's words (an SMTP client error) stay as it said them
    assert re.search(r"^最近の配送エラー:\n  .* deferred 4\.\S+ <friend@example\.com> .*"
                     r"Connection refused", out, re.M), out
    assert re.search(r"^sessions +[01]$", en.stdout, re.M) and "running, pid" in en.stdout
    assert re.search(r"^queue +deferred 1 recipient \(in 1 message\); 1 message$", en.stdout,
                     re.M), en.stdout
    assert not re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", en.stdout), en.stdout
    r.stop()
    ja = cli("status", "-c", r.conf_path, lang=JA)
    assert ja.returncode == 3
    assert ja.stdout.startswith("スプール %s で hikyaku は動いていません（%s/hikyaku.sock の"
                                "デーモンに接続できません: " % (r.spool, r.spool)), ja.stdout
    assert "キュー      再試行待ちの受取人 1 件" in ja.stdout


def test_daemon_log_stays_english(relay_factory, monkeypatch):
    """serve keeps the C locale: its log lines (strerror included) are for grep."""
    monkeypatch.setenv("LANG", JA)
    r = relay_factory(route="* 127.0.0.1:1", retry_backoff="1h 2h")
    with r.session(ALICE) as c:
        m, rr, d = c.send_mail("alice@example.jp", ["friend@example.com"],
                               b"From: alice@example.jp\r\nSubject: x\r\n\r\nx\r\n")
        assert d.code == 250, d
    assert r.wait_log(r"status=deferred \(.*Connection refused\)", timeout=15), r.log()[-2000:]
    assert not re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", r.log()), r.log()[-2000:]


def test_catalogue_found_after_install(tmp_path):
    """A DESTDIR install finds its catalogue next to it (../share/locale)."""
    build = os.path.dirname(os.path.realpath(hikyaku_bin()))
    if not os.path.isdir(os.path.join(build, "meson-private")):
        pytest.skip("HIKYAKU_BIN is not in a Meson build directory")
    dest = tmp_path / "dest"
    p = subprocess.run(["meson", "install", "-C", build, "--destdir", str(dest), "--no-rebuild",
                        "--quiet"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    installed = [os.path.join(dp, f) for dp, _, fs in os.walk(dest) for f in fs]
    binary = [f for f in installed if f.endswith(("/bin/hikyaku", "/sbin/hikyaku"))]
    mo = [f for f in installed if f.endswith("/ja/LC_MESSAGES/hikyaku.mo")]
    assert len(binary) == 1 and len(mo) == 1, installed
    out = cli("home-config", lang=JA, binary=binary[0])
    assert out.returncode == 2 and out.stderr.startswith("使い方: hikyaku home-config"), out.stderr
    # the same binary without its catalogue falls back to English (unless one is
    # installed for real in the configured localedir)
    with open(os.path.join(build, "meson-info", "intro-buildoptions.json")) as f:
        opts = {o["name"]: o["value"] for o in json.load(f)}
    real = os.path.join(opts["prefix"], opts["localedir"], "ja/LC_MESSAGES/hikyaku.mo")
    if os.path.exists(real):
        return
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(binary[0], alone / "hikyaku")
    out = cli("home-config", lang=JA, binary=str(alone / "hikyaku"))
    assert out.stderr.startswith("usage: hikyaku home-config"), out.stderr
