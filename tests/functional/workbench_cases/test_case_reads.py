"""The report page reads like the report: its fields in 4W+1H order under labels in the page's
language, coded values as words (never ``who_name`` or "kategori: pungli"), the report above the
messages that followed it; a case and its web report link to each other."""

from sqlalchemy import select

from workbench.cases.models import Case

FORM = {"who_name": "Budi", "who_unit": "Dinas Perizinan", "where": "Loket 3",
        "when": "Senin pagi", "how": "Diminta tunai", "evidence": "Kuitansi",
        "language": "id", "concerns": "no"}


def _fields(page):
    sub = page.html.find("section", class_="submission")
    return [dt.text for dt in sub.find_all("dt")], [dd.text for dd in sub.find_all("dd")]


def test_the_report_reads_in_4w1h_order_with_words_not_keys(auditor, store):
    rid = store.report("Pungutan liar di loket izin usaha", day="2026-03-16", **FORM)
    store.message(rid, "Tambahan: ada saksi", day="2026-03-16")
    page = auditor.get(f"/reports/{rid}", {"lang": "id"})
    labels, values = _fields(page)
    assert labels == ["Apa yang terjadi", "Siapa (nama)", "Siapa (unit kerja)", "Di mana", "Kapan",
                      "Bagaimana", "Bukti", "Kategori", "Menyangkut inspektorat sendiri",
                      "Bahasa laporan"]
    assert values[-2:] == ["tidak", "Bahasa Indonesia"]
    assert values[-3].startswith("03 ") and values[-3] != "pungli"  # the category's label
    text = " ".join(s.text for s in page.html.find_all("section", class_="submission"))
    for raw in ("who_name", "kategori", "language", "concerns"):  # keys, as they were shown
        assert raw not in text
    assert "pungli" not in values and "id" not in values and "no" not in values
    # The report stands above the message that followed it, whatever their order in the vault.
    kinds = [s.find("h3").text.split(" ·")[0] for s in page.html.find_all("section",
                                                                           class_="submission")]
    assert kinds[0] == "laporan"
    en = auditor.get(f"/reports/{rid}", {"lang": "en"})
    labels, values = _fields(en)
    assert labels[:3] == ["What happened", "Who (name)", "Who (unit)"]
    assert "English" not in values and "Bahasa Indonesia" in values


def test_a_case_and_its_web_report_link_to_each_other(auditor, store):
    rid = store.report("Kepala dinas meminta uang pelicin", **FORM)
    auditor.get("/cases")  # a key holder's list opens the case
    case = store.query(lambda s: s.scalars(select(Case).where(Case.report_id == rid)).one())
    report = auditor.get(f"/reports/{rid}")
    assert report.html.find(id="case-link")["href"].endswith(f"/cases/{case.id}")
    page = auditor.get(f"/cases/{case.id}")
    assert page.html.find(id="report-link")["href"].endswith(f"/reports/{rid}")
    # The complaint on the case page in 4W+1H order too.
    dts = [dt.text for dt in page.html.find("h2", string="Pengaduan").find_next("dl")
           .find_all("dt")] if page.html.find("h2", string="Pengaduan") else None
    if dts is not None:
        assert dts.index("Apa yang terjadi") < dts.index("Siapa (nama)") < dts.index("Bagaimana")


def test_the_case_page_shows_its_history_from_the_audit_log(auditor, store, people):
    rid = store.report("Kepala dinas meminta uang pelicin", **FORM)
    other = store.report("Laporan lain tentang hal lain sama sekali")
    auditor.get("/cases")
    case = store.query(lambda s: s.scalars(select(Case).where(Case.report_id == rid)).one())
    form = auditor.get(f"/cases/{case.id}").forms["ask"]
    form["text"] = "Kapan tepatnya kejadian itu?"
    form.submit(status=303)
    page = auditor.get(f"/cases/{case.id}")
    rows = page.html.find(id="case-history").find("tbody").find_all("tr")
    actions = [r.find_all("td")[2].text for r in rows]
    assert "case.question" in actions
    # Reading the page again and again is one line, with a count.
    auditor.get(f"/cases/{case.id}")
    again = auditor.get(f"/cases/{case.id}").html.find(id="case-history").find("tbody")
    assert [r.find_all("td")[2].text for r in again.find_all("tr")][-1].startswith("case.read ×")
    assert all(r.find_all("td")[1].text == "Auditor Dedi" for r in rows)
    assert "Kapan tepatnya" not in page.html.find(id="case-history").text  # never content
    assert other not in page.text


def test_one_place_to_ask_the_reporter(auditor, store):
    """The case page asks, in any open state (review included, before the lead's decision);
    the report page of a report with a case only links there."""
    rid = store.report("Kepala dinas meminta uang pelicin", **FORM)
    auditor.get("/cases")
    case = store.query(lambda s: s.scalars(select(Case).where(Case.report_id == rid)).one())
    page = auditor.get(f"/cases/{case.id}")
    assert "ask" in page.forms  # intake: no decision yet, and still the place to ask
    report = auditor.get(f"/reports/{rid}")
    assert not [f for f in report.forms.values() if f.action.endswith("/questions")]
    assert report.html.find(id="ask-on-case").find("a")["href"].endswith(
        f"/cases/{case.id}#ask")
    form = page.forms["ask"]
    form["text"] = "Siapa saja yang hadir saat itu?"
    form.submit(status=303)
    assert "Siapa saja yang hadir" in auditor.get(f"/cases/{case.id}").text
