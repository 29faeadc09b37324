"""``peluit verify-authorship``: offline, with the statement and the card only; exit 0 and a
summary for a genuine statement, exit 1 and the reason for anything else, in id and en."""

import base64
import json
import subprocess
import sys

import pytest
from nacl.public import PrivateKey
from nacl.signing import SigningKey

from crypto import authorship
from crypto.encoding import canonical_json
from peluit.cli import main

DEPLOYMENT = "9f0c1e2d3c4b5a69788796a5b4c3d2e1"
REPORT = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def files(tmp_path):
    key = SigningKey.generate()
    card = authorship.AuthorshipCard.make(key, DEPLOYMENT, "Inspektorat Contoh", "2026-11-23")
    author = authorship.author_key(PrivateKey.generate(), REPORT)
    att = authorship.Attestation.issue(key, DEPLOYMENT, REPORT, "2026-11-20", "corruption",
                                       author.verify_key, "2026-11-23")
    st = authorship.Statement.sign(att, author, "untuk LPSK")
    (tmp_path / "card.json").write_bytes(card.to_bytes() + b"\n")
    (tmp_path / "statement.txt").write_text("Pernyataan\n\n" + st.armor(), encoding="utf-8")
    receipt = authorship.Receipt.issue(key, card, st, "LPSK", "2026-11-25")
    (tmp_path / "receipt.json").write_bytes(receipt.to_bytes() + b"\n")
    forged = json.loads(receipt.to_bytes())
    forged["recipient"] = "KPK"
    (tmp_path / "forged-receipt.json").write_bytes(canonical_json(forged))
    doc = json.loads(st.to_bytes())
    doc["attestation"]["category"] = "pungli"
    raw = base64.b64encode(canonical_json(doc)).decode()
    (tmp_path / "altered.txt").write_text(
        f"{authorship.ARMOR_BEGIN}\n{raw}\n{authorship.ARMOR_END}\n", encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("lang,word", [("id", "ASLI"), ("en", "GENUINE")])
def test_a_genuine_statement_exits_0_with_a_summary(files, capsys, lang, word):
    code = main(["verify-authorship", str(files / "statement.txt"), "--card",
                 str(files / "card.json"), "--language", lang])
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith(word + ":")
    for value in (REPORT, "2026-11-20", "corruption", "untuk LPSK", DEPLOYMENT):
        assert value in out


@pytest.mark.parametrize("lang,word", [("id", "TIDAK ASLI"), ("en", "NOT GENUINE")])
def test_an_altered_statement_exits_1_with_the_reason(files, capsys, lang, word):
    code = main(["verify-authorship", str(files / "altered.txt"), "--card",
                 str(files / "card.json"), "--language", lang])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("peluit: " + word) and len(err.strip().splitlines()) == 1


def test_a_broken_card_and_a_missing_file_are_one_line_errors(files, capsys):
    (files / "bad.json").write_text("{}")
    assert main(["verify-authorship", str(files / "statement.txt"), "--card",
                 str(files / "bad.json"), "--language", "en"]) == 1
    assert "not a valid authorship card" in capsys.readouterr().err
    assert main(["verify-authorship", str(files / "none.txt"), "--card",
                 str(files / "card.json")]) == 1
    assert "none.txt" in capsys.readouterr().err


def test_it_reads_standard_input_and_loads_no_web_stack(files):
    """As a verifier would run it: a fresh process, the statement piped in, no server."""
    probe = ("import sys, json; from peluit.cli import main; code = main(['verify-authorship', "
             f"'-', '--card', {str(files / 'card.json')!r}, '--language', 'en']); "
             "print(json.dumps([code, sorted({m.split('.')[0] for m in sys.modules} & "
             "{'pyramid', 'sqlalchemy', 'webob'})]))")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         input=(files / "statement.txt").read_text(), timeout=60, check=True)
    code, web = json.loads(run.stdout.strip().splitlines()[-1])
    assert code == 0 and web == []


def test_a_receipt_is_checked_with_its_statement(files, capsys):
    assert main(["verify-authorship", str(files / "receipt.json"), "--card",
                 str(files / "card.json"), "--language", "en"]) == 0
    out = capsys.readouterr().out
    assert "Counter-signed for" in out and "LPSK (2026-11-25)" in out and REPORT in out
    assert main(["verify-authorship", str(files / "forged-receipt.json"), "--card",
                 str(files / "card.json"), "--language", "id"]) == 1
    assert "TIDAK ASLI" in capsys.readouterr().err
