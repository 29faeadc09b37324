"""Randomised tampering with a locked vault (issue 11): flip, delete and swap rows and bytes of
every table and file of the vault, then use it as the team would. Every time, the outcome must
be a refusal or exactly what it was before: never a silently changed member, role, server key,
deployment id or sequence, never a removed member back in, never a replayed bundle accepted.

Seeded and bounded: ``PELUIT_TAMPER_EXAMPLES`` (default 40) examples from seed
``PELUIT_TAMPER_SEED`` (default 11); a failure prints the seed and the mutation to replay."""

from __future__ import annotations

import io
import os
import random
import shutil
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.fixtures.workbench_vault import (
    OTHER_PASS,
    PASS,
    add_person,
    build_inbox,
    make_vault,
    report_item,
)
from workbench import db, vault
from workbench.importer import ImportRefused, import_bundle

REFUSED = "refused"
EXAMPLES = int(os.environ.get("PELUIT_TAMPER_EXAMPLES", "40"))
SEED = int(os.environ.get("PELUIT_TAMPER_SEED", "11"))
GONE_PASS = "removed colleague passphrase"
CLEAN_ERRORS = (vault.VaultError, ImportRefused, db.TamperedError, db.VaultLockedError,
                db.SchemaError)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    root = tmp_path_factory.mktemp("tamper")
    tv = make_vault(root)
    budi = add_person(tv, "Budi", "auditor")
    add_person(tv, "Citra", "compliance", passphrase="compliance officer passphrase")
    dedi = add_person(tv, "Dedi", "auditor", passphrase=GONE_PASS)
    saved = (tv.path / "auditors" / f"{dedi.key_id}.json").read_bytes()
    engine = db.make_engine(tv.path)
    with db.unlocked(tv.lead.vault_key), Session(engine) as s, s.begin():
        vault.remove_auditor(s, tv.lead, "Dedi")
    engine.dispose()
    vault.wipe_record(tv.path, dedi.key_id)
    # The removed colleague's record is back already (the attacker kept a copy): refused
    # before any tampering, and it must stay so.
    (tv.path / "auditors" / f"{dedi.key_id}.json").write_bytes(saved)
    tv.recipients = lambda: [tv.lead.identity.box.public_key, budi.box.public_key]
    first = build_inbox(tv, [report_item("satu"), report_item("dua")], seq=1)
    import_bundle(tv.lead, io.BytesIO(first))
    nxt = build_inbox(tv, [report_item("tiga")], seq=2)
    people = {"lead": (tv.lead.key_id, PASS), "budi": (budi.key_id, OTHER_PASS),
              "citra": ("Citra", "compliance officer passphrase"),
              "dedi": (dedi.key_id, GONE_PASS)}
    return tv.path, first, nxt, people


def _try(fn):
    try:
        return fn()
    except CLEAN_ERRORS:
        return REFUSED


def outcome(path: Path, first: bytes, nxt: bytes, people) -> dict:
    out: dict = {}
    lead = _try(lambda: vault.unlock(path, *people["lead"]))
    for who in ("budi", "citra", "dedi"):
        got = _try(lambda who=who: vault.unlock(path, *people[who]))
        out[who] = got if got == REFUSED else got.role
    if lead == REFUSED:
        out["lead"] = REFUSED
        return out
    out["lead"] = lead.role
    engine = db.make_engine(path)
    try:
        def trust_state():
            with db.unlocked(lead.vault_key), Session(engine) as s:
                return {
                    "members": sorted((a.key_id, a.role, bool(a.active)) for a in
                                      s.scalars(select(db.Auditor))),
                    "cards": sorted((c.key_id, bool(c.active)) for c in
                                    s.scalars(select(db.ServerCard))),
                    "settings": sorted((x.name, x.value) for x in
                                       s.scalars(select(db.Setting)) if x.name != "vault_id"),
                    "seqs": sorted((q.direction, q.key_id, q.seq) for q in
                                   s.scalars(select(db.BundleSequence))),
                }
        out["trust"] = _try(trust_state)
    finally:
        engine.dispose()
    replay = _try(lambda: import_bundle(lead, io.BytesIO(first)))
    out["replay"] = REFUSED if replay == REFUSED else "ACCEPTED"
    imported = _try(lambda: import_bundle(lead, io.BytesIO(nxt)))
    out["next"] = imported if imported == REFUSED else imported.imported
    return out


# --- mutations ---------------------------------------------------------------------------------

def _tables(conn):
    return [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                       "AND name NOT LIKE 'sqlite_%'")]


def _flip(value, rng):
    if isinstance(value, bytes) and value:
        b = bytearray(value)
        i = rng.randrange(len(b))
        b[i] ^= 1 << rng.randrange(8)
        return bytes(b)
    if isinstance(value, str) and value:
        i = rng.randrange(len(value))
        return value[:i] + chr((ord(value[i]) ^ 1) or 65) + value[i + 1:]
    if isinstance(value, int):
        return rng.choice([value + 1, value - 1, 0, 1])
    return rng.choice([1, "x", b"x"])


def mutate_db(path: Path, rng: random.Random) -> str:
    conn = sqlite3.connect(path / db.DB_FILE)
    try:
        tables = [t for t in _tables(conn) if conn.execute(
            f"SELECT count(*) FROM {t}").fetchone()[0]]  # noqa: S608 - names from sqlite
        table = rng.choice(tables)
        cols = [c[1] for c in conn.execute(f"PRAGMA table_info({table})")]
        rows = conn.execute(f"SELECT rowid, * FROM {table}").fetchall()  # noqa: S608
        op = rng.choice(["delete", "flip", "flip", "swap"])
        if op == "swap" and len(rows) < 2:
            op = "flip"
        if op == "delete":
            row = rng.choice(rows)
            conn.execute(f"DELETE FROM {table} WHERE rowid = ?", (row[0],))  # noqa: S608
            what = f"delete a row of {table}"
        elif op == "flip":
            row = rng.choice(rows)
            i = rng.randrange(len(cols))
            conn.execute(f"UPDATE {table} SET {cols[i]} = ? WHERE rowid = ?",  # noqa: S608
                         (_flip(row[i + 1], rng), row[0]))
            what = f"change {table}.{cols[i]}"
        else:
            a, b = rng.sample(rows, 2)
            i = rng.randrange(len(cols))
            conn.execute(f"UPDATE {table} SET {cols[i]} = ? WHERE rowid = ?",  # noqa: S608
                         (b[i + 1], a[0]))
            conn.execute(f"UPDATE {table} SET {cols[i]} = ? WHERE rowid = ?",  # noqa: S608
                         (a[i + 1], b[0]))
            what = f"swap {table}.{cols[i]} of two rows"
        conn.commit()
    except sqlite3.IntegrityError:
        what = "a change the database's constraints refused"
    except sqlite3.DatabaseError:
        what = "nothing (an earlier step damaged the database file)"
    finally:
        conn.close()
    return what


def mutate_file(path: Path, rng: random.Random) -> str:
    files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.endswith(
        ("-wal", "-shm")))
    f = rng.choice(files)
    op = rng.choice(["flip", "flip", "delete", "truncate", "swap"])
    rel = f.relative_to(path)
    if op == "flip" and f.stat().st_size:
        data = bytearray(f.read_bytes())
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        f.write_bytes(bytes(data))
        return f"flip a bit of {rel}"
    if op == "truncate":
        data = f.read_bytes()
        f.write_bytes(data[:rng.randrange(len(data) + 1)])
        return f"truncate {rel}"
    if op == "swap":
        others = [g for g in files if g.parent == f.parent and g != f]
        if others:
            g = rng.choice(others)
            a, b = f.read_bytes(), g.read_bytes()
            f.write_bytes(b)
            g.write_bytes(a)
            return f"swap {rel} and {g.relative_to(path)}"
    f.unlink()
    return f"delete {rel}"


def _ok(before: dict, after: dict) -> list[str]:
    """What went wrong: a component that changed without being a refusal."""
    wrong = []
    for key, value in after.items():
        if value != REFUSED and value != before.get(key):
            wrong.append(f"{key}: {before.get(key)!r} became {value!r}")
    if after.get("dedi") not in (REFUSED,):
        wrong.append("the removed member got in")
    if after.get("replay") not in (None, REFUSED):
        wrong.append("a replayed bundle was accepted")
    return wrong


def test_random_tampering_is_refused_or_changes_nothing(base, tmp_path):
    path, first, nxt, people = base
    ref = tmp_path / "reference"
    shutil.copytree(path, ref)
    before = outcome(ref, first, nxt, people)
    assert before["lead"] == "lead" and before["dedi"] == REFUSED
    assert before["replay"] == REFUSED and before["next"] == 1
    rng = random.Random(SEED)
    for n in range(EXAMPLES):
        work = tmp_path / f"v{n}"
        shutil.copytree(path, work)
        steps = [mutate_db(work, rng) if rng.random() < 0.7 else mutate_file(work, rng)
                 for _ in range(rng.choice([1, 1, 2]))]
        try:
            after = outcome(work, first, nxt, people)
        except Exception as exc:  # noqa: BLE001 - a crash is a finding too
            pytest.fail(f"seed {SEED} example {n} ({'; '.join(steps)}): not a clean refusal: "
                        f"{exc.__class__.__name__}: {exc}")
        wrong = _ok(before, after)
        assert not wrong, f"seed {SEED} example {n} ({'; '.join(steps)}): {wrong}"
        shutil.rmtree(work)
