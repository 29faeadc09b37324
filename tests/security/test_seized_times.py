"""A seized server's file-system times, against the real clock.

A reporter acts several times, a second or more apart: gets a codename, files a report with a
file, sends a message with a file, reports retaliation; an auditor uploads a question; the
reporter logs in again, reads it, deletes it, and sends a last message. Each action's moment is
taken from the real clock before and after its request. Then every path under the deployment
(the directory itself, configuration, secrets, database and its -wal and -shm, the store and
every slot in it) is stat-ed in place, the birth time too (statx, through ``stat %W``), and no
time may fall inside the request of any action but the last (the latest write may show: the
cover writer's random moments are what keep it from singling anyone out). No birth time may
fall inside any action: names are made only in batches, never when someone acts."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

from nacl.public import PublicKey
from sqlalchemy import select

from dropbox_app.models import Reporter
from tests.fixtures.drop import Browser, csrf
from tests.fixtures.gateway import create_account, login, page_csrf, reply_bundle

TIMES = ("birth", "access", "modify", "change")


def _stat_all(root: Path) -> dict[str, dict[str, int]]:
    """Every path under ``root``, root included: its four times in nanoseconds (birth 0 where
    the file system keeps none)."""
    paths = [root, *sorted(root.rglob("*"))]
    out = subprocess.run(["stat", "--printf", "%n\t%.9W\t%.9X\t%.9Y\t%.9Z\n",
                          *map(str, paths)], capture_output=True, text=True, check=True).stdout
    result = {}
    for line in out.splitlines():
        name, *times = line.split("\t")
        result[name] = {k: int(v.replace(".", "")) if v not in ("0", "-") else 0
                        for k, v in zip(TIMES, times, strict=True)}
    return result


def test_no_file_time_dates_an_earlier_action(drop):
    dep = drop.dep
    windows: list[tuple[str, int, int]] = []

    def act(what: str, fn):  # noqa: ANN001, ANN202
        time.sleep(1.1)
        t0 = time.time_ns()
        result = fn()
        windows.append((what, t0, time.time_ns()))
        return result

    browser = Browser(drop.reporter())
    app = browser.app
    codename = act("codename", lambda: (browser.get_codename(), browser.confirm())[0])
    act("report", lambda: browser.report("Kepala bagian meminta setoran dari setiap kontrak.",
                                         files=[("bukti.pdf", b"%PDF" * 5000)]))
    report_id = browser.report_id()
    act("message", lambda: browser.message("Ada tambahan bukti.", files=[("b.txt", b"x" * 999)]))

    def retaliation():  # noqa: ANN202
        page = app.get("/followup")
        token = re.search(r'name="form_token" value="([0-9a-f]+)"',
                          page.text.split("/retaliation")[-1]).group(1)
        app.post(f"/followup/{report_id}/retaliation",
                 {"csrf_token": csrf(app), "text": "Saya dipindahkan.", "form_token": token},
                 status=303)

    act("retaliation", retaliation)
    browser.logout()

    with dep.db() as db:
        pub = PublicKey(db.scalar(select(Reporter)).public_key)
    auditor = create_account(dep, "ani")
    bundle = reply_bundle(dep, replies=[(report_id, pub, "Siapa saksinya?")])

    def upload():  # noqa: ANN202
        login(dep, auditor)
        dep.app.post("/replies", {"csrf_token": page_csrf(dep)},
                     upload_files=[("bundle", "replies.bundle", bundle)], status=200)

    act("reply upload", upload)

    browser = Browser(drop.reporter())
    app = browser.app
    seen = {}
    act("login and read", lambda: seen.update(page=(browser.login(codename),
                                                    app.get("/followup"))[1]))
    # The question's id is sealed in its entry: the reporter's page is where it shows.
    reply_id = re.search(r'name="in_reply_to" value="([0-9a-f]{32})"', seen["page"].text)[1]
    act("delete", lambda: app.post(f"/followup/reply/{reply_id}/delete",
                                   {"csrf_token": csrf(app), "confirm": "yes"}, status=303))
    act("last message", lambda: browser.message("Terima kasih."))
    time.sleep(1.1)

    stats = _stat_all(dep.data_dir)
    assert any(name.endswith(".env") for name in stats)
    assert any(name.endswith("-wal") for name in stats)
    assert all(t["birth"] for t in stats.values()), "no birth times: nothing was tested"
    found = []
    for name, times in stats.items():
        for kind, t in times.items():
            for what, t0, t1 in windows if kind == "birth" else windows[:-1]:
                if t0 <= t <= t1:
                    found.append(f"{Path(name).relative_to(dep.data_dir.parent)}: {kind} "
                                 f"during {what}")
    assert found == []
