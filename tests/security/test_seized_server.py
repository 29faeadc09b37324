"""The seized-server test. A reporter files a report with a file, writes a message and reports
retaliation; an auditor's reply bundle brings a question through the gateway; the reporter logs
in again with the codename (once mistyped), reads the question, answers it with text and a
file, deletes the read question and logs out. Then every byte of every file under the
deployment's directory (database and its WAL, store, everything) is searched for what the
reporter typed, the file names, the codename and the keys derived from it, the session cookie,
and the exact moments the reporter acted."""

from __future__ import annotations

import base64
import datetime as dt
import io
import logging
import os
import re
import struct
from pathlib import Path

from nacl.public import PublicKey
from sqlalchemy import select, text

from crypto import codename as codenames
from crypto.bundle import BundleReader
from crypto.kdf import TEST_PARAMS, reporter_keys
from dropbox_app.models import Reply, Report, Reporter, Submission
from dropbox_app.store import Store
from tests.fixtures.canaries import canary as _canary
from tests.fixtures.canaries import encodings as _forms
from tests.fixtures.drop import Browser, csrf
from tests.fixtures.gateway import (
    DAY0,
    create_account,
    login,
    page_csrf,
    reply_bundle,
    server_trust,
)


def _time_forms(t: int) -> list[bytes]:
    when = dt.datetime.fromtimestamp(t, dt.UTC)
    out = [str(t).encode(), struct.pack("<I", t), struct.pack(">I", t), struct.pack("<q", t),
           struct.pack(">q", t), struct.pack("<d", float(t)), struct.pack(">d", float(t))]
    for zone in (dt.UTC, dt.timezone(dt.timedelta(hours=7))):  # UTC and WIB
        local = when.astimezone(zone)
        out += [local.strftime("%H:%M:%S").encode(), local.strftime("%Y-%m-%dT%H:%M").encode(),
                local.strftime("%Y-%m-%d %H:%M").encode()]
    return out


def _assert_no_hour_in_database(dep, moments: list[int]) -> None:
    """No row of the database holds an hour-level value near the reporter's moments (hours or
    minutes since the epoch, as numbers or inside a text), no throttle key is readable, and no
    submission row tells its kind."""
    from sqlalchemy import MetaData

    hours = {t // 3600 + d for t in moments for d in range(-3, 4)}
    minutes = {t // 60 + d for t in moments for d in range(-180, 181)}
    found = []
    meta = MetaData()
    with dep.engine.connect() as conn:
        meta.reflect(conn)
        for table in meta.sorted_tables:
            for row in conn.execute(table.select()):
                for col, value in row._mapping.items():
                    if isinstance(value, int) and not isinstance(value, bool) and (
                            value in hours or value in minutes):
                        found.append(f"{table.name}.{col} = {value}")
                    elif isinstance(value, str) and any(
                            re.search(rf"(?<![0-9a-f]){h}(?![0-9a-f])", value) for h in hours):
                        found.append(f"{table.name}.{col} = {value!r}")
        kinds = set(conn.execute(text("SELECT kind FROM submissions")).scalars())
        keys = list(conn.execute(text("SELECT key FROM throttles")).scalars())
    assert found == [], "hour-level values in the database"
    assert kinds == {"submission"}, f"submission rows tell their kinds: {kinds}"
    assert keys, "the mistyped login was not counted"
    assert not [k for k in keys if ":" in k or not re.fullmatch(r"[0-9a-f]+", k)]


def _all_files(root: Path) -> dict[Path, bytes]:
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            p = Path(dirpath) / name
            out[p] = p.read_bytes()
    return out


def test_a_seized_server_reveals_nothing(drop, caplog):
    # Everything our own code logs, at any level, and what anything else logs at the level a
    # deployment without logging configuration shows (warnings and up).
    caplog.set_level(logging.WARNING)
    for name in ("dropbox_app", "crypto", "policies"):
        caplog.set_level(logging.DEBUG, logger=name)
    dep = drop.dep
    clock = drop.clock
    reporter_moments: list[int] = []

    def at(seconds_after_day0: int) -> None:
        # Reporter actions happen at odd, distinctive seconds, auditor actions elsewhere.
        clock.advance(DAY0 + seconds_after_day0 - clock.timestamp())
        reporter_moments.append(int(clock.timestamp()))

    texts = {k: _canary(k.upper()) for k in ("what", "who_name", "who_position", "who_unit",
                                              "where", "when", "how", "evidence")}
    file_name = _canary("berkas") + ".pdf"
    file_body = (_canary("ISI-BERKAS") + "\n").encode() * 2000
    message = _canary("PESAN")
    retaliation = _canary("BALASAN")
    question = _canary("PERTANYAAN")
    answer = _canary("JAWABAN")
    answer_file = _canary("jawaban") + ".txt"
    answer_body = _canary("ISI-JAWABAN").encode() * 100

    # -- the reporter's first visit ----------------------------------------------------------
    at(3 * 3600 + 17 * 60 + 29)
    browser = Browser(drop.reporter())
    app = browser.app
    codename = browser.get_codename()
    browser.confirm()
    browser.report("Laporan: " + texts["what"], files=[(file_name, file_body)],
                   category="corruption",
                   **{k: v for k, v in texts.items() if k != "what"})
    at(3 * 3600 + 21 * 60 + 7)
    browser.message(message)
    report_id = browser.report_id()
    at(3 * 3600 + 23 * 60 + 41)
    page = app.get("/followup")
    app.post(f"/followup/{report_id}/retaliation",
             {"csrf_token": csrf(app), "text": retaliation,
              "form_token": re.search(r'name="form_token" value="([0-9a-f]+)"',
                                      page.text.split("/retaliation")[-1]).group(1)},
             status=303)
    session_cookie = app.cookies["peluit_session"]
    browser.logout()

    # -- an auditor carries a question back through the gateway --------------------------------
    clock.advance(DAY0 + 6 * 3600 - clock.timestamp())
    with dep.db() as db:
        rep = db.scalar(select(Reporter))
        pub = PublicKey(rep.public_key)
    auditor = create_account(dep, "ani")
    login(dep, auditor)
    bundle = reply_bundle(dep, replies=[(report_id, pub, question)],
                          statuses=[(report_id, "verification")])
    dep.app.post("/replies", {"csrf_token": page_csrf(dep)},
                 upload_files=[("bundle", "replies.bundle", bundle)], status=200)

    # -- the reporter comes back ---------------------------------------------------------------
    at(9 * 3600 + 44 * 60 + 13)
    browser = Browser(drop.reporter())
    app = browser.app
    words = codename.split()
    browser.login(" ".join([*words[:-1], words[-1] + "x"]), status=400)  # mistyped
    browser.login(" ".join(reversed(words)), status=400)  # real words, wrong order: counted
    browser.login(codename)
    followup = app.get("/followup")
    assert question in followup.text
    # The question's id is sealed in its entry: the reporter's page is where it shows.
    reply_id = re.search(r'name="in_reply_to" value="([0-9a-f]{32})"', followup.text)[1]
    at(9 * 3600 + 51 * 60 + 3)
    browser.message(answer, files=[(answer_file, answer_body)], in_reply_to=reply_id)
    at(9 * 3600 + 52 * 60 + 37)
    app.post(f"/followup/reply/{reply_id}/delete", {"csrf_token": csrf(app), "confirm": "yes"},
             status=303)
    second_cookie = app.cookies["peluit_session"]
    browser.logout()

    # -- the auditor fetches the inbox: its manifest tells no kind ------------------------------
    clock.advance(DAY0 + 12 * 3600 - clock.timestamp())
    login(dep, auditor)
    got = dep.app.post("/inbox", {"csrf_token": page_csrf(dep)}, status=200)
    manifest = BundleReader(io.BytesIO(got.body), server_trust(dep), "inbox", lambda s: None,
                            dep.cfg.deployment_id).manifest
    entries = manifest.body["submissions"]
    assert len(entries) >= 6  # report, file, message, retaliation, answer, answer file
    assert {e["kind"] for e in entries} == {"submission"}, "the manifest tells the kinds"

    # -- seize the server ----------------------------------------------------------------------
    dep.engine.dispose()  # as a seizure would find it: nothing held open
    _assert_no_hour_in_database(dep, reporter_moments)
    files = _all_files(dep.data_dir)
    assert any(p.name.endswith(".env") for p in files)
    keys = reporter_keys(codenames.normalise(codename), dep.cfg.salt(), TEST_PARAMS)
    secrets_ = {
        **{f"text {k}": v for k, v in texts.items()},
        "file name": file_name, "file content": file_body[:40].decode(),
        "message": message, "retaliation": retaliation, "question": question,
        "answer": answer, "answer file name": answer_file,
        "answer file content": answer_body[:30].decode(), "codename": codename,
        "codename without spaces": "".join(words), "codename hyphenated": "-".join(words),
        "session cookie": session_cookie, "second session cookie": second_cookie,
        # Not the reporter's, but a seized database must not mint the gateway's second factor.
        "auditor's TOTP seed": auditor.totp_secret,
    }
    needles: list[tuple[str, bytes]] = [(what, form) for what, v in secrets_.items()
                                        for form in _forms(v)]
    needles.append(("reporter private key", bytes(keys.private_key)))
    needles.append(("reporter private key b64",
                    base64.b64encode(bytes(keys.private_key))[:40]))
    for t in reporter_moments:
        needles += [(f"reporter moment {t}", form) for form in _time_forms(t)]
    found = [(what, str(path.relative_to(dep.data_dir)))
             for path, data in files.items() for what, needle in needles if needle in data]
    assert found == []
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records).encode()
    assert [what for what, needle in needles if needle in logged] == []

    # Store files carry the day only; nothing half-written or unreferenced is left.
    with dep.db() as db:
        members = set(db.scalars(select(Submission.member))) | set(db.scalars(
            select(Reply.member)))
        days = set(db.scalars(select(Submission.created_day))) | set(db.scalars(
            select(Report.created_day)))
    store = sorted(Store(dep.store_dir).members())  # the full slots
    assert set(store) == members, "orphan or missing envelopes"
    for name in store:
        assert os.stat(dep.store_dir / name).st_mtime % 86400 == 0, name
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", d) for d in days)
