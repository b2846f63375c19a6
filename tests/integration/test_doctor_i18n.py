"""`hikyaku doctor` in the user's language (issues 9 and 10): with
LANG=ja_JP.UTF-8 its checks, fixes, summary and errors are Japanese, with
LANG=C English; the records to publish, the JSON keys and the area/status
tokens stay exactly as they are. The zones are test_doctor.py's, served by
the test's own DNS server (nothing leaves the machine).
"""
import json
import os
import re
import subprocess

import pytest

from doctorenv import RELAY_IP, make_relay, start_dns, zone_record
from harness import ALICE
from helpers import make_message
from test_doctor import RECORDS, normalize, readme_blocks, readme_world

JA = "ja_JP.UTF-8"
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
# a zone-file line a fix asks to publish
RECORD = re.compile(r"\S+\. IN (?:TXT|MX|A|AAAA) .*")


@pytest.fixture(scope="module", autouse=True)
def japanese_locale():
    out = subprocess.run(["locale", "-a"], capture_output=True, text=True).stdout.lower()
    if "ja_jp.utf8" not in out.split():
        pytest.skip("locale ja_JP.UTF-8 not generated (scripts/install-deps.sh test does it)")


@pytest.fixture(scope="module")
def relay(tmp_path_factory):
    d = tmp_path_factory.mktemp("doctor-i18n")
    dns = start_dns(str(d / "dns"), RECORDS)
    try:
        r = make_relay(str(d / "relay"), dns)
        r.add_account("alice", "alice-pw-123", ["@nospf.example"])
        yield r
    finally:
        dns.stop()


def doctor(relay, *args, lang):
    env = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL")}
    env["LANG"] = lang
    return subprocess.run([relay.bin, "doctor", *args, "-c", relay.conf_path],
                          capture_output=True, text=True, env=env, timeout=60)


def columns(text):
    """(area, status column) of every check line, and the records of its fixes."""
    checks = re.findall(r"^  (\S+) +(spf|dkim|dmarc|ptr|dnsbl|mx|mta-sts|tls-rpt) ", text, re.M)
    return checks, RECORD.findall(text)


def test_text_in_japanese_and_english(relay):
    ja = doctor(relay, "nospf.example", lang=JA)
    en = doctor(relay, "nospf.example", lang="C")
    assert ja.returncode == en.returncode == 1, ja.stderr + en.stderr
    out = ja.stdout
    assert out.startswith("nospf.example（中継サーバーのアドレス %s）\n" % RELAY_IP), out
    # a failing check, its fix with the record verbatim, in columns as in English
    assert ("  失敗  spf      nospf.example には SPF レコードがないため、そのメールの送信を"
            "許可されたアドレスがありません。\n"
            '                 対処: nospf.example. IN TXT "v=spf1 ip4:198.18.0.5 -all"\n') in out
    assert "  失敗  dkim     nospf.example には DKIM 鍵がありません。" in out
    assert '対処: "hikyaku dkim keygen nospf.example" を実行し、表示される TXT レコードを' \
        '公開してください。' in out
    assert ('  注意  dmarc    nospf.example には DMARC レコードがありません。Gmail と Yahoo は'
            '大量送信者に DMARC レコードを求めています。') in out
    assert "  OK    ptr      198.18.0.5 の PTR は relay.example で、" in out
    assert "Gmail と Yahoo への送信の準備ができていません: メールは SPF か DKIM で pass" in out
    assert "大量送信の準備ができていません: DMARC レコードが必要です。" in out
    # the English is the English, and both say the same things about the same records
    assert "  fail  spf      nospf.example has no SPF record" in en.stdout
    assert not JAPANESE.search(en.stdout), en.stdout
    assert columns(out)[1] == columns(en.stdout)[1] and len(columns(out)[1]) == 2
    assert [a for _, a in columns(out)[0]] == [a for _, a in columns(en.stdout)[0]]
    tr = {"pass": "OK", "warn": "注意", "fail": "失敗"}
    assert [tr[s] for s, _ in columns(en.stdout)[0]] == [s for s, _ in columns(out)[0]]
    assert len(out.splitlines()) == len(en.stdout.splitlines())


def test_json_keeps_keys_tokens_and_records(relay):
    doms = ["nospf.example", "dkimmissing.example", "pnone.example"]
    ja = doctor(relay, *doms, "--json", lang=JA)
    en = doctor(relay, *doms, "--json", lang="C")
    assert ja.returncode == en.returncode == 1
    ja_objs = [json.loads(line) for line in ja.stdout.splitlines()]
    en_objs = [json.loads(line) for line in en.stdout.splitlines()]
    assert [o["domain"] for o in ja_objs] == doms
    for j, e in zip(ja_objs, en_objs):
        assert list(j) == list(e) == ["domain", "ready", "checks", "spf"]
        assert j["ready"] == e["ready"] and j["spf"] == e["spf"]
        for cj, ce in zip(j["checks"], e["checks"]):
            assert list(cj) == list(ce) == ["area", "status", "message", "fix"]
            assert (cj["area"], cj["status"]) == (ce["area"], ce["status"])
            assert JAPANESE.search(cj["message"]) and not JAPANESE.search(ce["message"])
            # a fix that is a record to publish is the same record
            if ce["fix"] is not None and zone_record(ce["fix"]) is not None:
                assert cj["fix"] == ce["fix"]
    nospf = ja_objs[0]["checks"]
    assert nospf[0]["message"] == ("nospf.example には SPF レコードがないため、そのメールの"
                                   "送信を許可されたアドレスがありません。")
    mx = [c for c in ja_objs[1]["checks"] if c["area"] == "mx"][0]
    assert mx["fix"] == "dkimmissing.example. IN MX 10 <自宅のメールサーバーのホスト名> " \
        "を公開してください。", mx
    dmarc = [c for c in ja_objs[2]["checks"] if c["area"] == "dmarc"][0]
    assert dmarc["status"] == "warn" and "p=none です" in dmarc["message"]
    assert dmarc["fix"].endswith(': _dmarc.pnone.example. IN TXT "v=DMARC1; p=quarantine;'
                                 ' rua=mailto:postmaster@pnone.example"'), dmarc


def test_spf_evaluator_problems_in_japanese(relay):
    """The SPF evaluator's own words are translated too, and the over-the-limit
    advice still comes with them."""
    ja = doctor(relay, "toomany.example", "twospf.example", "--json", lang=JA)
    rep = {o["domain"]: o for o in map(json.loads, ja.stdout.splitlines())}
    spf = [c for c in rep["toomany.example"]["checks"] if c["area"] == "spf"][0]
    assert spf["message"].startswith("toomany.example の SPF レコードは使えません（permerror）:"
                                     " toomany.example の SPF レコードの評価に 10 回を超える"
                                     " DNS 参照"), spf
    assert "10 回以内" in spf["fix"] and spf["fix"].endswith("必要なもの: ip4:198.18.0.5"), spf
    spf = [c for c in rep["twospf.example"]["checks"] if c["area"] == "spf"][0]
    assert "SPF レコード（v=spf1 で始まる TXT レコード）が 2 個あります" in spf["message"]
    assert spf["fix"].endswith('例: twospf.example. IN TXT "v=spf1 include:_spf.other.example'
                               ' mx ip4:198.18.0.5 ~all"'), spf


def test_errors_in_japanese(relay):
    p = doctor(relay, "--bogus", lang=JA)
    assert p.returncode == 2
    assert p.stderr == "使い方: hikyaku doctor [ドメイン...] [--relay-ip IP]... [--json]" \
        " [--refresh]\n", p.stderr
    p = doctor(relay, "not a domain", lang=JA)
    assert p.returncode == 2
    assert p.stderr == "hikyaku: doctor: not a domain はドメイン名ではありません" \
        "（example.jp のように指定してください）\n", p.stderr
    p = doctor(relay, "--refresh", lang=JA)
    assert p.returncode == 1 and "で動いているデーモンはありません" in p.stderr, p.stderr
    p = doctor(relay, "--bogus", lang="C")
    assert p.stderr.startswith("usage: hikyaku doctor [DOMAIN...]"), p.stderr


def test_the_daemons_replies_and_verdicts_stay_english(tmp_path, tls_material, monkeypatch):
    """The gate's 550 is protocol: English even when the daemon and the CLI run
    under LANG=ja_JP.UTF-8; doctor shows it, in English, inside its Japanese."""
    monkeypatch.setenv("LANG", JA)
    dns = start_dns(str(tmp_path / "dns"), RECORDS)
    relay = None
    try:
        relay = make_relay(str(tmp_path / "relay"), dns, tls_material, require_ready="yes",
                           route="* 127.0.0.1:9")
        relay.add_account(ALICE[0], ALICE[1], ["@nospf.example"])
        relay.start()
        reason = ('nospf.example is not ready: SPF does not authorise 198.18.0.5 and no DKIM'
                  ' key is published; publish "v=spf1 ip4:198.18.0.5 -all"')
        p = doctor(relay, "--refresh", lang=JA)
        assert p.returncode == 1 and p.stdout == "nospf.example: 準備未完了: %s\n" % reason, \
            p.stdout + p.stderr
        frm = "alice@nospf.example"
        with relay.session(ALICE) as c:
            _, _, r = c.send_mail(frm, "friend@dest.example", make_message(frm=frm,
                                                                           to="friend@dest.example"))
            c.quit()
        assert r.code == 550 and r.text == "5.7.26 " + reason, r
        p = doctor(relay, "nospf.example", lang=JA)
        assert re.search(r"^  デーモンの前回の判定（\d+ 秒前）: %s$" % re.escape(reason),
                         p.stdout, re.M), p.stdout
        assert not JAPANESE.search(relay.log()), relay.log()[-2000:]
    finally:
        if relay is not None:
            relay.cleanup()
        dns.stop()


def test_readme_japanese_example(tmp_path):
    """The README's Japanese example is the walkthrough's first run under
    LANG=ja_JP.UTF-8, as printed."""
    want = readme_blocks("LANG=ja_JP.UTF-8 hikyaku doctor example.jp")
    assert len(want) == 1, want
    dns, relay = readme_world(tmp_path)
    try:
        p = doctor(relay, "example.jp", lang=JA)
        assert p.returncode == 1
        assert normalize(p.stdout.rstrip("\n")) == normalize(want[0]), p.stdout
    finally:
        dns.stop()
