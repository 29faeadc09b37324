import datetime as dt
import io
import json
import re
import shutil

import pytest

from crypto.identity import AuditorIdentity
from peluit.cli import main
from policies import documents
from policies.documents import DEFAULT_DIR, PolicyError

TODAY = dt.date(2026, 11, 23)


@pytest.fixture(scope="module")
def officer():
    return AuditorIdentity.generate("Petugas Kepatuhan")


@pytest.fixture
def policy_dir(tmp_path):
    d = tmp_path / "protection-policy"
    shutil.copytree(DEFAULT_DIR / "1.0", d / "1.0")
    (d / "1.0" / "signature.json").unlink(missing_ok=True)
    return d


def test_shipped_texts_state_the_header_values():
    v = documents.load_version(DEFAULT_DIR / "1.0")
    h = v.header
    assert h.deadlines["acknowledgment"] == 3 and h.deadlines["completion"] == 75
    for lang, unit in (("en", "working days"), ("id", "hari kerja")):
        text = v.text(lang)
        for days in h.deadlines.values():
            assert f"{days} {unit}" in text, (lang, days)
        assert f"{h.retention_max_days}" in text
        for fact in ("LPSK", "31", "43", "Rp", "Tor", "< 5"):
            assert fact in text, (lang, fact)
    assert "Pasal 10" in " ".join(v.text("id").split())
    assert "Article 10" in " ".join(v.text("en").split())


def test_sign_then_render(policy_dir, officer):
    with pytest.raises(PolicyError, match="no signed version"):
        documents.signed_policy(policy_dir, "id", today=TODAY)
    documents.sign_version(policy_dir / "1.0", officer)
    r = documents.signed_policy(policy_dir, "en", today=TODAY)
    assert r.version == "1.0" and r.signer == "Petugas Kepatuhan"
    assert r.signer_fingerprint == officer.card().fingerprint
    assert re.fullmatch(r"(\d{5} ){7}\d{5}", r.fingerprint)
    assert "<h1>Reporter Protection Policy</h1>" in r.html and "<table>" in r.html
    rid = documents.signed_policy(policy_dir, "id", today=TODAY)
    assert "Kebijakan Perlindungan Pelapor" in rid.html and rid.fingerprint == r.fingerprint
    with pytest.raises(PolicyError):
        documents.signed_policy(policy_dir, "fr", today=TODAY)


@pytest.mark.parametrize("name", ["id.md", "en.md", "policy.toml"])
def test_any_changed_byte_is_refused(policy_dir, officer, name):
    documents.sign_version(policy_dir / "1.0", officer)
    path = policy_dir / "1.0" / name
    path.write_bytes(path.read_bytes().replace(b"75", b"95", 1))
    with pytest.raises(PolicyError, match="differ from what was signed"):
        documents.signed_policy(policy_dir, "id", today=TODAY)


def test_forged_signature_and_untrusted_signer(policy_dir, officer):
    documents.sign_version(policy_dir / "1.0", officer)
    sig_path = policy_dir / "1.0" / "signature.json"
    obj = json.loads(sig_path.read_bytes())
    stranger = AuditorIdentity.generate("Someone")
    # Keep the officer's card but sign with another key.
    sig = documents.sign_version(policy_dir / "1.0", stranger)
    obj["signature"] = json.loads(sig.to_bytes())["signature"]
    sig_path.write_bytes(json.dumps(obj, sort_keys=True, separators=(",", ":"),
                                    ensure_ascii=False).encode())
    with pytest.raises(PolicyError, match="does not verify"):
        documents.verify_version(policy_dir / "1.0")
    documents.sign_version(policy_dir / "1.0", stranger)
    documents.verify_version(policy_dir / "1.0")
    with pytest.raises(PolicyError, match="not a trusted signer"):
        documents.signed_policy(policy_dir, "id", today=TODAY,
                                trusted=[officer.signing.verify_key])
    sig_path.write_bytes(b"garbage")
    with pytest.raises(PolicyError):
        documents.verify_version(policy_dir / "1.0")


def test_newest_signed_version_in_force_is_shown(policy_dir, officer):
    documents.sign_version(policy_dir / "1.0", officer)
    newer = policy_dir / "1.1"
    shutil.copytree(policy_dir / "1.0", newer)
    (newer / "signature.json").unlink()
    header = (newer / "policy.toml").read_text().replace('version = "1.0"', 'version = "1.1"')
    (newer / "policy.toml").write_text(header.replace("2026-11-01", "2027-01-01"))
    # An unsigned draft is skipped.
    assert documents.signed_policy(policy_dir, "id", today=TODAY).version == "1.0"
    documents.sign_version(newer, officer)
    # Signed, but not yet in force.
    assert documents.signed_policy(policy_dir, "id", today=TODAY).version == "1.0"
    assert documents.signed_policy(policy_dir, "id", today=dt.date(2027, 1, 1)).version == "1.1"
    # A tampered newer version is an error, not a silent fallback.
    (newer / "en.md").write_text("changed")
    with pytest.raises(PolicyError):
        documents.signed_policy(policy_dir, "id", today=TODAY)


def test_render_is_sanitised():
    nasty = ("# T\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n"
             "[a](javascript:alert(1)) [b](http://evil.example/) [c](https://lpsk.go.id/)\n\n"
             '<a href="https://x.example/" onclick="steal()" style="x">d</a>\n\n'
             "<iframe src='https://x.example'></iframe><form action=/x><input></form>"
             "<!-- comment --><p style='color:red'>ok</p>")
    html = documents.render_markdown(nasty)
    for bad in ("<script", "<img", "onerror", "javascript:", "http://", "onclick", "style",
                "<iframe", "<form", "<input", "<!--"):
        assert bad not in html, bad
    assert '<a href="https://lpsk.go.id/">c</a>' in html


def test_header_validation(policy_dir):
    path = policy_dir / "1.0" / "policy.toml"
    original = path.read_text()
    for bad in (original.replace("completion = 75", "completion = 0"),
                original.replace('effective = "2026-11-01"', 'effective = "soon"'),
                original.replace('version = "1.0"', 'version = "2.0"'),
                "extra = 1\n" + original, "not toml ===",
                original.replace("retaliation = 2", "")):
        path.write_text(bad)
        with pytest.raises(PolicyError):
            documents.load_version(policy_dir / "1.0")


def test_diff_shows_header_and_text_changes(policy_dir):
    newer = policy_dir / "1.1"
    shutil.copytree(policy_dir / "1.0", newer)
    h = (newer / "policy.toml").read_text().replace('version = "1.0"', 'version = "1.1"')
    (newer / "policy.toml").write_text(h.replace("completion = 75", "completion = 60"))
    (newer / "en.md").write_text((newer / "en.md").read_text().replace(
        "75 working days from receipt", "60 working days from receipt"))
    out = documents.diff(policy_dir / "1.0", newer)
    assert "deadlines.completion: 75 -> 60" in out and "version: 1.0 -> 1.1" in out
    assert "-| completion of the follow-up | 75 working days from receipt |" in out
    assert "+| completion of the follow-up | 60 working days from receipt |" in out
    assert "id.md: no changes" in out


def test_cli_new_signer_sign_verify_diff(policy_dir, tmp_path, monkeypatch, capsys):
    sealed, card = tmp_path / "officer.sealed", tmp_path / "officer.card"
    monkeypatch.setattr("sys.stdin", io.StringIO("a long passphrase\n"))
    assert main(["policy", "new-signer", "Ibu Kepatuhan", "--out", str(sealed),
                 "--card", str(card)]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("a long passphrase\n"))
    assert main(["policy", "sign", str(policy_dir / "1.0"), "--identity", str(sealed)]) == 0
    assert main(["policy", "verify", str(policy_dir / "1.0"), "--trust", str(card)]) == 0
    out = capsys.readouterr().out
    assert "signature good" in out and "Ibu Kepatuhan" in out
    (policy_dir / "1.0" / "id.md").write_text("diubah")
    assert main(["policy", "verify", str(policy_dir / "1.0")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("peluit: ") and err.count("\n") == 1
    assert main(["policy", "diff", "1.0", str(policy_dir / "1.0")]) == 0
    assert "+diubah" in capsys.readouterr().out
    assert main(["policy", "diff", "1.0", str(tmp_path / "nope")]) == 1


def test_shipped_deadlines_agree_with_the_calendar_defaults():
    from policies.calendar import DeadlinePolicy

    header = documents.load_version(DEFAULT_DIR / "1.0").header
    assert DeadlinePolicy(**header.calendar_settings()) == DeadlinePolicy()


def test_install_copies_unsigned_and_never_overwrites(tmp_path, officer, capsys):
    dest = tmp_path / "deployment" / "policy"
    assert main(["policy", "install", str(dest)]) == 0
    assert not (dest / "1.0" / "signature.json").exists()
    with pytest.raises(PolicyError, match="not signed"):
        documents.verify_version(dest / "1.0")
    documents.sign_version(dest / "1.0", officer)
    assert documents.install(dest) == []  # the signed copy stays as it is
    documents.verify_version(dest / "1.0")
    demo = documents.install(tmp_path / "demo", signer=officer)
    assert documents.signed_policy(demo[0].parent, "en", today=TODAY).signer == officer.name
