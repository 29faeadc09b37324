"""The seized-server test: after reports, files, questions and answers, every byte of the
database and of the store is read. None of the texts, file names, file contents or codenames
appears, and no time finer than a day does either (the real clock is used, so anything that
recorded "now" would show)."""

from __future__ import annotations

import datetime as dt
import json
import re
import struct
import time

import webtest
from nacl.public import PublicKey
from sqlalchemy import select, text

from crypto.envelope import seal_bytes
from crypto.kdf import TEST_PARAMS
from dropbox_app.app import make_reporter_app
from dropbox_app.models import Base, Reply, Report, Reporter, new_id
from peluit.ground.clock import Clock
from tests.fixtures.reporter_client import Reporter as Client
from tests.fixtures.reporter_client import csrf


def _reply(db, store_dir, report: Report, text_: str) -> str:
    rep = db.get(Reporter, report.reporter_id)
    rid = new_id()
    env = seal_bytes(json.dumps({"text": text_}).encode(), [PublicKey(rep.public_key)],
                     {"v": 1, "kind": "question", "report": report.id, "reply": rid})
    (store_dir / f"{rid}.env").write_bytes(env)
    db.add(Reply(id=rid, report_id=report.id, kind="question", member=f"{rid}.env",
                 padded_size=len(env), created_day=Clock().day()))
    db.commit()
    return rid


def _database_bytes(config, engine) -> bytes:
    url = config.database_url
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        out = b""
        for suffix in ("", "-wal", "-shm"):
            try:
                with open(path + suffix, "rb") as f:
                    out += f.read()
            except FileNotFoundError:
                pass
        return out
    # PostgreSQL: every value of every row of every table, as the server returns them.
    out = []
    with engine.connect() as conn:
        for table in [*Base.metadata.sorted_tables]:
            for row in conn.execute(text(f'SELECT * FROM "{table.name}"')):  # noqa: S608
                for v in row:
                    out.append(v if isinstance(v, bytes) else str(v).encode())
    return b"\n".join(out)


def test_a_seized_server_reveals_nothing(config, engine, db, auditor):
    start = time.time()
    app = webtest.TestApp(make_reporter_app(config, engine=engine, clock=Clock(),
                                            argon2=TEST_PARAMS, kdf_slots=2))
    secrets_ = []
    a = Client(app)
    codename_a = a.get_codename("en")
    a.confirm()
    texts = {"what": "Kepala Bagian Pengadaan Andi Wijaya menerima suap proyek jembatan",
             "who_name": "Andi Wijaya", "who_position": "Kepala Bagian Pengadaan",
             "where": "Kantor Wilayah Surabaya", "when": "Maret sampai Juni",
             "how": "Transfer ke rekening istri", "evidence": "Rekaman percakapan di ponsel"}
    files = [("rekaman_suap_andi.m4a", b"RIFF-secret-audio-" * 5000),
             ("kontrak-jembatan-2025.pdf", b"%PDF-contract-of-bridge " * 3000)]
    a.report(category="corruption", files=files, **{k: v for k, v in texts.items()
                                                    if k != "what"}, what=texts["what"])
    report = db.scalar(select(Report))
    question = "Siapa saksi lain yang melihat transfer itu?"
    qid = _reply(db, config.store_dir, report, question)
    a.logout()
    a.login(codename_a)
    assert question in a.followup().text
    answer = "Bendahara Siti Rahma juga melihatnya"
    a.message(answer, in_reply_to=qid, files=[("tangkapan_layar_transfer.png",
                                               b"\x89PNG-screenshot-of-transfer" * 400)])
    page = a.followup()
    tokens = re.findall(r'name="form_token" value="([0-9a-f]+)"', page.text)
    retaliation = "Saya dimutasi ke Merauke sejak melapor"
    app.post(f"/followup/{report.id}/retaliation",
             {"csrf_token": csrf(app), "form_token": tokens[-1], "text": retaliation})
    app.post(f"/followup/reply/{qid}/delete", {"csrf_token": csrf(app), "confirm": "yes"})
    a.logout()

    b = Client(webtest.TestApp(app.app))
    codename_b = b.get_codename("id")
    b.confirm()
    b.report(what="Pungutan liar pada layanan izin usaha di loket tiga oleh Pak Joko",
             files=[("daftar_tarif_pungli.xlsx", b"PK-spreadsheet-of-levies" * 900)])
    # b stays logged in: a live session must not give anything away either.
    end = time.time()

    secrets_ += [*texts.values(), question, answer, retaliation, codename_a, codename_b,
                 "Pungutan liar pada layanan izin", "Pak Joko"]
    secrets_ += [name for name, _ in files] + ["tangkapan_layar_transfer", "daftar_tarif_pungli"]
    for codename in (codename_a, codename_b):
        words = codename.split()
        secrets_ += [" ".join(words[i:i + 2]) for i in range(len(words) - 1)]
    contents = [data[:64] for _, data in files] + [b"\x89PNG-screenshot", b"PK-spreadsheet"]

    database = _database_bytes(config, engine)
    store = b"".join(p.read_bytes() for p in sorted(config.store_dir.iterdir()))  # every slot
    assert len(store) > 200_000 and len(database) > 1000  # we are reading something real
    everything = database + store
    for s in secrets_:
        for enc in (s.encode("utf-8"), s.lower().encode("utf-8"), s.encode("utf-16-le")):
            assert enc not in everything, f"{s!r} found"
    for c in contents:
        assert c not in everything

    # Times: seconds and minutes since the epoch, in text; seconds as 4- and 8-byte integers
    # in the database; clock times as text; ISO timestamps finer than a day.
    for t in range(int(start) - 2, int(end) + 3):
        assert str(t).encode() not in everything, "an epoch time in seconds is stored"
        for fmt in (">I", "<I", ">Q", "<Q"):
            assert struct.pack(fmt, t) not in database
        hhmm = dt.datetime.fromtimestamp(t, dt.UTC).strftime("%H:%M").encode()
        assert hhmm not in database
    for m in range(int(start) // 60, int(end) // 60 + 1):
        assert str(m).encode() not in database
    assert not re.search(rb"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", everything)
    # Hours since the epoch, in any row, as a number or in a text (sessions and throttle rows
    # carried them); and no row tells what kind a submission is.
    hours = set(range(int(start) // 3600 - 3, int(end) // 3600 + 4))
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in conn.execute(text(f'SELECT * FROM "{table.name}"')):  # noqa: S608
                for col, v in row._mapping.items():
                    assert not (isinstance(v, int) and v in hours), f"{table.name}.{col}"
                    assert not (isinstance(v, str) and any(f":{h}" in v for h in hours)), (
                        f"{table.name}.{col}")
        kinds = set(conn.execute(text("SELECT kind FROM submissions")).scalars())
    assert kinds == {"submission"}, kinds
    # Day strings are what dates look like.
    days = set(re.findall(rb"\d{4}-\d{2}-\d{2}", database))
    assert days and all(dt.date.fromisoformat(d.decode()) for d in days)
