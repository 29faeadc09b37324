"""Import and export from the workbench UI (workbench/web/views/transfer.py): the bundle chosen
from the folders the page lists, the import in a background thread followed by a page that
refreshes itself, what came in, refusals as clear 4xx pages, a reply bundle written and offered
as a download."""

import time

import pytest
import webtest

from tests.fixtures.workbench_vault import OTHER_PASS, add_person, build_inbox, login, report_item
from workbench.web import make_app


@pytest.fixture
def drop(tmp_path):
    d = tmp_path / "usb"
    d.mkdir()
    return d


@pytest.fixture
def ui(tv, drop):
    app = webtest.TestApp(make_app(tv.path, demo_not_air_gapped=True,
                                   settings={"workbench.transfer_dirs": str(drop)}))
    login(app, tv.lead.key_id)
    return app


def _form(page, action):
    return next(f for f in page.forms.values() if f.action.endswith(action))


def _finished(ui, url):
    deadline = time.monotonic() + 120  # a loaded 2-core machine: wait, do not fail
    while time.monotonic() < deadline:
        page = ui.get(url)
        if page.html.find(id="import-progress") is None:
            return page
        assert '<meta http-equiv="refresh" content="2">' in page.text
        time.sleep(0.05)
    raise AssertionError("the import did not finish")


def test_import_a_listed_bundle_then_see_what_came_in(ui, tv, drop):
    (drop / "peluit-inbox-1.bundle").write_bytes(
        build_inbox(tv, [report_item(), report_item("Suap")], seq=1))
    page = ui.get("/transfers")
    assert "peluit-inbox-1.bundle" in page.text
    assert 'href="http://localhost/transfers"' in page.text  # in the navigation
    moved = _form(page, "/transfers/import").submit(status=303)
    done = _finished(ui, moved.location)
    assert done.html.find("meta", attrs={"http-equiv": "refresh"}) is None
    text = done.html.find(id="import-done").text
    assert "Bundel 1 diimpor: 2 kiriman baru (2 laporan baru), 0 sudah ada di brankas." in text
    en = ui.get(moved.location + "?lang=en").html.find(id="import-done").text
    assert "Imported bundle 1: 2 new submission(s) (2 new report(s))" in en
    # Importing it again is refused by the vault (not newer than the last one): nothing changes.
    again = _form(ui.get("/transfers?lang=id"), "/transfers/import").submit(status=303)
    refused = _finished(ui, again.location).html.find(id="import-refused")
    assert "tidak ada yang diimpor" in refused.text


def test_bad_choices_are_clear_4xx_pages(ui, drop):
    page = ui.get("/transfers")
    assert page.html.find(id="no-bundles") is not None
    form = _form(page, "/transfers/import")
    form["bundle"] = str(drop / "missing.bundle")
    assert "Tidak ada berkas bundel" in form.submit(status=400).html.find(id="import-error").text
    form["bundle"] = ""
    form.submit(status=400)
    ui.get("/transfers/import/not-a-job", status=404)


def test_someone_elses_job_is_not_found(app, ui, tv, drop):
    (drop / "b.bundle").write_bytes(build_inbox(tv, [report_item()], seq=1))
    url = _form(ui.get("/transfers"), "/transfers/import").submit(status=303).location
    _finished(ui, url)
    other = add_person(tv, "Budi", "auditor")
    login(app, other.key_id, OTHER_PASS)
    app.get(url, status=404)


def test_export_a_reply_bundle_into_the_folder_and_download_it(ui, tv, drop):
    # A vault that covers no report yet: a clear 409, not an empty bundle.
    empty = _form(ui.get("/transfers?lang=en"), "/transfers/export").submit(status=409)
    assert "Nothing to export" in empty.html.find(id="export-error").text
    (drop / "b.bundle").write_bytes(build_inbox(tv, [report_item()], seq=1))
    _finished(ui, _form(ui.get("/transfers"), "/transfers/import").submit(status=303).location)
    page = _form(ui.get("/transfers?lang=en"), "/transfers/export").submit(status=200)
    done = page.html.find(id="export-done")
    assert "Reply bundle 1 written to" in done.text and "1 acknowledgment(s)" in done.text
    written = [p for p in drop.iterdir() if p.name.startswith("peluit-replies-")]
    assert len(written) == 1
    link = done.find("a")["href"]
    got = ui.get(link)
    assert got.body == written[0].read_bytes()
    assert "attachment" in got.headers["Content-Disposition"]
    # Nothing new since: a bundle all the same, one filler per report (every group carries
    # one every working day, so the days it uploads tell nothing).
    again = _form(ui.get("/transfers?lang=en"), "/transfers/export").submit(status=200)
    assert "Reply bundle 2 written to" in again.html.find(id="export-done").text
    ui.get("/transfers/exported/../../etc/passwd", status=404)


def test_the_compliance_officer_may_not_import(app, tv):
    officer = add_person(tv, "Kepatuhan", "compliance")
    login(app, officer.key_id, OTHER_PASS)
    app.get("/transfers", status=403)


@pytest.mark.parametrize("lang, says", [
    ("en", "1 question(s), message(s) or status change(s) wait for a later bundle"),
    ("id", "1 pertanyaan, pesan atau perubahan status menunggu bundel berikutnya"),
])
def test_the_export_says_what_waits_for_a_later_bundle(ui, tv, drop, lang, says):
    """A question to a report whose reporter has been silent past the cover (crypto/replyentry.py)
    waits: the page says how many, in the auditor's language."""
    from tests.fixtures.workbench_vault import in_vault
    from workbench import outbox

    old, new = report_item(day="2024-01-02"), report_item(day="2026-11-23")
    (drop / "b.bundle").write_bytes(build_inbox(tv, [old, new], seq=1))
    _finished(ui, _form(ui.get("/transfers"), "/transfers/import").submit(status=303).location)
    in_vault(tv, lambda s: outbox.queue_reply(s, old.report, tv.lead.key_id, "Masih di sana?"))
    page = _form(ui.get(f"/transfers?lang={lang}"), "/transfers/export").submit(status=200)
    assert says in page.html.find(id="export-done").text
