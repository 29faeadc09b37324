"""The Transfers page shows the inbox bundle it prepared (it used to stay as it was, "last
bundle: —", because the browser received the file in place of a page), and the one-time link
fetches exactly that bundle, once, for the account that prepared it."""

import io
import re

from crypto.bundle import BundleReader
from tests.fixtures.gateway import add_submission, create_account, login, page_csrf, server_trust


def test_prepared_bundle_is_shown_and_fetched_once(deployment):
    dep = deployment
    login(dep, create_account(dep, "dewi", "auditor"))
    add_submission(dep, b"satu")
    before = dep.app.get("/", {"lang": "en"})
    assert "/inbox/prepare" in before.text
    page = dep.app.post("/inbox/prepare", {"csrf_token": page_csrf(dep)})
    ready = page.html.find(id="bundle-ready")
    assert ready is not None and "Inbox bundle 1 is ready" in ready.text
    # The page's own status moved on too.
    assert "—" not in page.html.find("dt", string="Last inbox bundle number")\
        .find_next("dd").text
    url = re.search(r'href="(/inbox/bundle/[^"]+)"', page.text).group(1)
    bundle = dep.app.get(url)
    assert bundle.content_type == "application/octet-stream"
    reader = BundleReader(io.BytesIO(bundle.body), server_trust(dep), "inbox", lambda s: None,
                          dep.cfg.deployment_id)
    assert reader.manifest.seq == 1 and len([m.read() for m in reader.members()]) == 1
    # Once only.
    gone = dep.app.get(url, status=410)
    assert gone.html.find(attrs={"role": "alert"}) is not None


def test_link_is_for_its_account_only(deployment):
    dep = deployment
    login(dep, create_account(dep, "dewi", "auditor"))
    add_submission(dep, b"satu")
    page = dep.app.post("/inbox/prepare", {"csrf_token": page_csrf(dep)})
    url = re.search(r'href="(/inbox/bundle/[^"]+)"', page.text).group(1)
    dep.app.reset()
    login(dep, create_account(dep, "eko", "auditor"))
    dep.app.get(url, status=410)
    dep.app.get("/inbox/bundle/" + "A" * 32, status=410)
