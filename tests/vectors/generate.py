"""Regenerate Peluit's published test vectors: `python tests/vectors/generate.py`.

Deterministic vectors (canonical JSON, Padmé, key ids, fingerprints, reporter keys, cards,
bundles) come out byte-identical on every run. Envelopes and sealed files contain fresh
randomness (content keys, ephemeral keys, nonces, salts) that production code never lets anyone
choose, so they are generated once from fixed keys and stored; the check is that they open to
the stored plaintext. See README.md in this directory."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from nacl.public import PrivateKey  # noqa: E402
from nacl.signing import SigningKey  # noqa: E402

from crypto import bundle, codename, envelope, identity, kdf, keys, sealed  # noqa: E402
from crypto.encoding import canonical_json  # noqa: E402
from crypto.padding import padme  # noqa: E402

DAY = dt.date(2026, 11, 23)
SALT = bytes(range(32))
DEPLOYMENT = "9f0c1e2d3c4b5a69788796a5b4c3d2e1"


def seed(label: str) -> bytes:
    """Fixed 32-byte seeds for the vector keys: SHA-256 of a label."""
    return hashlib.sha256(f"peluit test vector {label}".encode()).digest()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def pattern(n: int) -> bytes:
    """Plaintext used in envelope vectors: byte i is (i * 7 + 3) mod 251."""
    return bytes((i * 7 + 3) % 251 for i in range(n))


def auditor(label: str, name: str) -> identity.AuditorIdentity:
    return identity.AuditorIdentity(name, PrivateKey(seed(label + " box")),
                                    SigningKey(seed(label + " signing")))


AUDITORS = {"ani": auditor("ani", "Ani Wijaya"), "budi": auditor("budi", "Budi Santoso")}
SERVER = identity.ServerKey("peluit-vector-server", SigningKey(seed("server signing")))


def write(name: str, doc: dict) -> None:
    path = HERE / name
    path.write_text(json.dumps(doc, indent=1, ensure_ascii=False, sort_keys=True) + "\n",
                    encoding="utf-8")


def canonical_vectors() -> dict:
    accept = [
        {"value": {"b": 1, "a": [True, None, "é\n"]}},
        {"value": {"nested": {"z": -1, "a": 9007199254740991}, "": "empty key"}},
        {"value": {"ctl": "\x00\x1f\x7f\"\\/", "emoji": "🙂", "id": "Rp 1.000.000"}},
        {"value": []}, {"value": "text"}, {"value": 0},
    ]
    for v in accept:
        v["canonical_hex"] = canonical_json(v["value"]).hex()
    reject = [b'{"b":1,"a":2}', b'{"a": 1}', b'{"a":1}\n', b'{"a":1,"a":1}', b'{"a":1.0}',
              b'{"a":1e3}', b'{"a":NaN}', b'{"a":9007199254740992}', b'{"a":"\\u00e9"}',
              b'{"a":"\\ud800"}', b'"\xff"', b'\xef\xbb\xbf{}', b'{"a":01}', b'{"a":-0}']
    return {"description": "canonical JSON (docs/crypto.md §1): accept = value and its only "
                           "byte form; reject = byte strings a reader must refuse",
            "accept": accept, "reject_hex": [r.hex() for r in reject]}


def padme_vectors() -> dict:
    values = [*range(130), 255, 256, 257, 1000, 1023, 1025, 8001, 8191, 8193, 10**6, 2**32 + 1]
    sizes = [0, 1, 65531, 65532, 65533, 2 * 65532, 2 * 65532 + 1, 8 * 65532 + 1, 10**6,
             524288000]
    return {
        "description": "Padmé (docs/crypto.md §5): padme(L) for L, and envelope sizes on disk "
                       "for plaintext sizes (1 and 3 recipients)",
        "padme": [[v, padme(v)] for v in values],
        "envelope_sizes": [
            {"plaintext": s, "data_chunks": envelope._data_chunks(s),
             "padded_chunks": padme(envelope._data_chunks(s)),
             "size_1_recipient": envelope.padded_size(s, 1),
             "size_3_recipients": envelope.padded_size(s, 3)} for s in sizes],
    }


def key_vectors() -> dict:
    out = []
    for name, who in AUDITORS.items():
        sign_pk, box_pk = bytes(who.signing.verify_key), bytes(who.box.public_key)
        out.append({"name": name, "ed25519_seed": b64(seed(name + " signing")),
                    "x25519_secret": b64(seed(name + " box")),
                    "ed25519_public": b64(sign_pk), "x25519_public": b64(box_pk),
                    "sign_key_id": keys.sign_key_id(sign_pk),
                    "box_key_id_hex": keys.box_key_id(box_pk).hex(),
                    "fingerprint": keys.fingerprint(sign_pk, box_pk)})
    sign_pk = bytes(SERVER.signing.verify_key)
    out.append({"name": "server", "ed25519_seed": b64(seed("server signing")),
                "ed25519_public": b64(sign_pk), "sign_key_id": keys.sign_key_id(sign_pk),
                "fingerprint": keys.fingerprint(sign_pk)})
    return {"description": "key ids and fingerprints (docs/crypto.md §7)", "keys": out}


def reporter_vectors() -> dict:
    cases = [
        ("abacus abdomen abide ablaze able abnormal abrasive", kdf.TEST_PARAMS),
        ("zoom yo-yo t-shirt zesty unwind vacant quilt", kdf.TEST_PARAMS),
        ("abacus abdomen abide ablaze able abnormal abrasive", kdf.DEFAULT_PARAMS),
        # derivation is over the string alone; this one is made of Indonesian-looking words
        ("pohon lampu meja sungai kabar jalan rumah", kdf.TEST_PARAMS),
    ]
    out = []
    for text, params in cases:
        cn = codename.Codename(tuple(text.split()), "en")
        master = kdf.argon2id(text.encode(), SALT, params)
        rk = kdf.reporter_keys(cn, SALT, params)
        out.append({"codename": text, "salt_hex": SALT.hex(), "argon2id": params.as_dict(),
                    "master_hex": master.hex(), "lookup_id_hex": rk.lookup_id.hex(),
                    "x25519_secret_hex": bytes(rk.private_key).hex(),
                    "x25519_public_hex": bytes(rk.public_key).hex()})
    typed = ["ABACUS abdomen abide ablaze able abnormal abrasive",
             "  abacus\tabdomen, abide. ablaze  able\nabnormal abrasive ",
             "abacusabdomenabideablazeableabnormalabrasive",
             "ａｂａｃｕｓ abdomen abide ablaze able abnormal abrasive",
             "Zoom Yo\u2011Yo T-Shirt zesty unwind vacant quilt",
             "zoomyo-yot-shirtzestyunwindvacantquilt"]
    norm = [{"typed": t, "canonical": str(codename.normalise(t))} for t in typed]
    refused = ["abacus abdomen abide ablaze able abnormal", "abacus " * 8,
               "abacus abdomen abide ablaze able abnormal abrasivex", ""]
    for r in refused:
        try:
            codename.normalise(r)
        except Exception:
            continue
        raise AssertionError(r)
    return {"description": "codename normalisation (English list) and reporter key derivation "
                           "(docs/crypto.md §2-3)",
            "derivations": out, "normalise": norm, "refused": refused}


def card_vectors() -> dict:
    cards = [{"name": k, "card": AUDITORS[k].card(DAY).to_bytes().decode(),
              "fingerprint": AUDITORS[k].card(DAY).fingerprint} for k in AUDITORS]
    cards.append({"name": "server", "card": SERVER.card(DAY).to_bytes().decode(),
                  "fingerprint": SERVER.card(DAY).fingerprint})
    edited = json.loads(cards[0]["card"])
    edited["name"] = "Ani Wijaya (edited)"
    return {"description": "cards from the keys in keys.json, created 2026-11-23 (docs/crypto.md "
                           "§7); Ed25519 is deterministic, so these are byte-exact",
            "cards": cards,
            "must_fail_signature": [canonical_json(edited).decode()]}


def bundle_vectors() -> dict:
    members = {"a.env": pattern(1000), "b.env": b"", "c.env": b"third member"}
    ms = [bundle.Member(n, len(d), hashlib.sha256(d).hexdigest()) for n, d in members.items()]
    body = {"submissions": [{"id": "1" * 32, "report": "2" * 32, "reporter_key": b64(bytes(32)),
                             "kind": "report", "member": "a.env", "day": "2026-11-23"}]}
    out = []
    for kind, signer, seq in (("inbox", SERVER.signing, 7),
                              ("reply", AUDITORS["ani"].signing, 1)):
        manifest = bundle.make_manifest(kind, DEPLOYMENT, signer, seq, ms,
                                        body if kind == "inbox" else
                                        {"acks": ["1" * 32], "replies": [], "statuses": []}, DAY)
        blob = b"".join(bundle.iter_bundle(manifest, signer, lambda n: io.BytesIO(members[n])))
        out.append({"kind": kind, "signer": "server" if kind == "inbox" else "ani",
                    "deployment": DEPLOYMENT, "seq": seq, "bundle_b64": b64(blob),
                    "manifest": manifest.to_bytes().decode(),
                    "members_b64": {n: b64(d) for n, d in members.items()}})
    return {"description": "bundles signed by the keys in keys.json (docs/crypto.md §6); "
                           "byte-exact. Accepted when the last accepted seq of the signer is "
                           "below seq; ReplayError when it is seq or above",
            "bundles": out}


def envelope_vectors() -> dict:
    ani, budi = AUDITORS["ani"], AUDITORS["budi"]
    out = []
    meta = {"v": 1, "kind": "file", "report": "2" * 32, "submission": "1" * 32,
            "name": "bukti.pdf", "content_type": "application/pdf"}
    for size, who in ((0, [ani]), (7, [ani, budi]), (65532, [ani]), (65533, [ani, budi]),
                      (8 * 65532 + 1, [ani])):
        blob = envelope.seal_bytes(pattern(size), [w.box.public_key for w in who], meta)
        out.append({"plaintext_size": size, "plaintext_sha256": hashlib.sha256(
                        pattern(size)).hexdigest(),
                    "recipients": [w.name for w in who], "metadata": meta,
                    "envelope_b64": b64(blob)})
    return {"description": "envelopes sealed to the X25519 keys in keys.json (docs/crypto.md §5); "
                           "plaintext byte i = (7 i + 3) mod 251. Contain fresh randomness: "
                           "check by opening, not by comparing",
            "envelopes": out}


def sealed_vectors() -> dict:
    params = kdf.Argon2Params(1, 8192, 1)
    blob = sealed.seal(b"isi rahasia", "kata sandi \u00e9", "vector", params)
    ident = AUDITORS["ani"].seal("sandi auditor", params)
    return {"description": "sealed files (docs/crypto.md §4); contain fresh randomness",
            "sealed": [{"label": "vector", "passphrase": "kata sandi \u00e9",
                        "plaintext_b64": b64(b"isi rahasia"), "file": blob.decode()},
                       {"label": "auditor-identity", "passphrase": "sandi auditor",
                        "plaintext_b64": b64(AUDITORS["ani"]._secret_bytes()),
                        "file": ident.decode()}]}


def authorship_vectors() -> dict:
    """docs/crypto.md §13: the authorship key from a reporter's X25519 secret and a report id,
    then a card, an attestation, a statement (armoured) and a receipt, all byte-exact."""
    from crypto import authorship

    reporter = PrivateKey(seed("reporter box"))
    report_a, report_b = "0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"
    deployment_key = SigningKey(seed("deployment authorship"))
    card = authorship.AuthorshipCard.make(deployment_key, DEPLOYMENT, "Inspektorat Vektor",
                                          DAY.isoformat())
    key_a = authorship.author_key(reporter, report_a)
    att = authorship.Attestation.issue(deployment_key, DEPLOYMENT, report_a, "2026-11-20",
                                       "corruption", key_a.verify_key, DAY.isoformat())
    st = authorship.Statement.sign(att, key_a, "untuk LPSK / for LPSK, 2026-11-24")
    receipt = authorship.Receipt.issue(deployment_key, card, st, "LPSK", DAY.isoformat())
    return {"description": "proof of authorship (docs/crypto.md §13): author seed = BLAKE2b("
                           "message = report id (ASCII), key = reporter X25519 secret, digest 32, "
                           "personal = 'peluit-author-v1'); Ed25519 is deterministic, so every "
                           "document here is byte-exact",
            "reporter_x25519_secret_hex": bytes(reporter).hex(),
            "derivations": [{"report": r, "author_seed_hex": bytes(authorship.author_key(
                reporter, r)).hex(), "author_public_hex": bytes(authorship.author_key(
                reporter, r).verify_key).hex()} for r in (report_a, report_b)],
            "deployment_seed_hex": bytes(deployment_key).hex(),
            "card": card.to_bytes().decode("utf-8"),
            "attestation": att.to_bytes().decode("utf-8"),
            "statement": st.to_bytes().decode("utf-8"),
            "statement_armor": st.armor(),
            "receipt": receipt.to_bytes().decode("utf-8")}


def main() -> None:
    write("canonical_json.json", canonical_vectors())
    write("padme.json", padme_vectors())
    write("keys.json", key_vectors())
    write("reporter_keys.json", reporter_vectors())
    write("cards.json", card_vectors())
    write("bundles.json", bundle_vectors())
    write("authorship.json", authorship_vectors())
    if "--deterministic-only" not in sys.argv:
        write("envelopes.json", envelope_vectors())
        write("sealed.json", sealed_vectors())


if __name__ == "__main__":
    main()
