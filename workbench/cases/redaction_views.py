"""Redaction pages: black out regions of a safe copy's pages and phrases of a case's text,
without JavaScript.

A page of the safe copy is shown as an ``<input type="image">`` at a fixed width: a click sends
its coordinates with the form (the browser does that, no script). The first click marks a
corner (kept in the page's address until the second click), the second click the opposite one,
and the region between them is saved. A form with the edges in percent of the page (the picture
has a scale every 10 %) does the same by typing. The picture always shows the page as it will
leave: regions and phrases already black. Phrases are typed one per line on the case's text
redaction page, which shows the text to forward with them blacked out."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image, ImageDraw
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.response import Response

from workbench import filestore, vault
from workbench.safecopy import redact
from workbench.web.security import Permission as WebPermission

from . import forwarding, redactions, safecopies, viewsupport
from .workflow import Forbidden, Permission, WorkflowError, allowed

DISPLAY_WIDTH = 800  # css and image pixels of the clickable page: a click maps to the page by it


def _ctx(request: Any) -> tuple[Any, Any, Any, bytes]:
    """The case, the file, the vault's box key and the file's stored safe copy."""
    key = viewsupport.content_key(request)
    if key is None:
        raise Forbidden(Permission.READ)
    if not allowed(request.identity.role, Permission.WORK):
        raise Forbidden(Permission.WORK)
    case, sub = viewsupport.submission_of_case(request)
    box = vault.vault_box_key(key)
    pdf = safecopies.load(request.registry.settings["workbench.vault"], sub.id, box)
    if pdf is None:
        raise WorkflowError("no_safe_copy", "no safe copy yet")
    return case, sub, box, pdf


def _load(request: Any, case: Any, box: Any) -> redactions.Redactions:
    return redactions.load(request.registry.settings["workbench.vault"], case.id, box)


def _page(request: Any, pages: int) -> int:
    try:
        number = int(request.params.get("page", "1"))
    except ValueError:
        number = 1
    return min(max(number, 1), pages)


def _corner(value: str) -> tuple[int, int] | None:
    try:
        x, y = (int(v) for v in value.split(",", 1))
    except ValueError:
        return None
    return (x, y) if 0 <= x <= 10_000 and 0 <= y <= 10_000 else None


def redact_page(request: Any) -> dict[str, Any]:
    case, sub, box, pdf = _ctx(request)
    pages = redact.page_count(pdf)
    number = _page(request, pages)
    img, _words = redact.page_image(pdf, number)
    red = _load(request, case, box)
    mine = [(i, r) for i, r in enumerate(red.of(sub.id)) if r.page == number]
    corner = _corner(request.params.get("corner", ""))
    return {**viewsupport.labels(request), "c": case, "sub": sub,
            "file_name": filestore.download_name(sub.file_name, "file"),
            "page": number, "pages": pages, "width": DISPLAY_WIDTH,
            "height": round(img.height * DISPLAY_WIDTH / img.width),
            "regions": [(i, _percent(r, img)) for i, r in mine],
            "all_regions": len(red.of(sub.id)), "phrases": red.phrases,
            "corner": corner, "corner_pct": _percent_point(corner, img) if corner else None}


def _percent(r: redact.Region, img: Image.Image) -> tuple[int, int, int, int]:
    return (round(100 * r.left / img.width), round(100 * r.top / img.height),
            round(100 * r.right / img.width), round(100 * r.bottom / img.height))


def _percent_point(p: tuple[int, int], img: Image.Image) -> tuple[int, int]:
    return round(100 * p[0] / img.width), round(100 * p[1] / img.height)


def redact_submit(request: Any) -> Any:
    """One click (``at.x``/``at.y``), a region typed in percent, or a region removed."""
    case, sub, box, pdf = _ctx(request)
    f = request.form
    pages = redact.page_count(pdf)
    try:
        number = int(f.text("page", "1"))
    except ValueError:
        number = 0
    if not 1 <= number <= pages:
        raise WorkflowError("bad_region", "no such page")
    img, _words = redact.page_image(pdf, number)
    red = _load(request, case, box)
    regions = red.of(sub.id)
    back = {"page": number}
    action = f.text("action")
    if f.text("at.x") or f.text("at.y"):
        try:
            x = round(int(f.text("at.x")) * img.width / DISPLAY_WIDTH)
            y = round(int(f.text("at.y")) * img.width / DISPLAY_WIDTH)
        except ValueError:
            raise WorkflowError("bad_region", "click coordinates are numbers") from None
        first = _corner(f.text("corner"))
        if first is None:
            back["corner"] = f"{min(max(x, 0), img.width)},{min(max(y, 0), img.height)}"
            return _back(request, case, sub, back)
        region = redact.Region(number, first[0], first[1], x, y)
    elif action == "add":
        try:
            edges = [float(f.text(k).replace(",", ".")) for k in ("left", "top", "right", "bottom")]
        except ValueError:
            raise WorkflowError("bad_region", "edges are numbers") from None
        if not all(0 <= e <= 100 for e in edges):
            raise WorkflowError("bad_region", "edges in percent")
        region = redact.Region(number, round(edges[0] * img.width / 100),
                               round(edges[1] * img.height / 100),
                               round(edges[2] * img.width / 100),
                               round(edges[3] * img.height / 100))
    elif action == "remove":
        try:
            del regions[int(f.text("index"))]
        except (ValueError, IndexError):
            raise WorkflowError("bad_region", "no such region") from None
        region = None
    else:
        raise WorkflowError("bad_input", "unknown redaction action")
    if region is not None:
        try:
            regions += redact.check([region], {number: img.size})
        except redact.RedactError:
            raise WorkflowError("bad_region", str(region)) from None
    red.regions[sub.id] = regions
    redactions.store(request.registry.settings["workbench.vault"], case.id, red, box)
    viewsupport.case_service(request).audit(viewsupport.user(request), "case.redact", case,
                                            submission=sub.id, regions=len(regions))
    return _back(request, case, sub, back)


def _back(request: Any, case: Any, sub: Any, query: dict[str, Any]) -> HTTPSeeOther:
    return HTTPSeeOther(request.route_url("case.redact", id=case.id, submission_id=sub.id,
                                          _query=query, _anchor="page"))


def redact_image(request: Any) -> Response:
    """The page as it will leave (regions and phrases black), scaled to the clickable width,
    with a scale every 10 % along its edges and the first corner marked while one is set."""
    case, sub, box, pdf = _ctx(request)
    try:
        number = int(request.matchdict["page"])
        img, words = redact.page_image(pdf, number)
    except (ValueError, redact.RedactError):
        raise HTTPNotFound() from None
    red = _load(request, case, box)
    burnt, _kept, _n = redact.burn(img, words, [r for r in red.of(sub.id) if r.page == number],
                                   red.phrases)
    height = round(img.height * DISPLAY_WIDTH / img.width)
    shown = burnt.resize((DISPLAY_WIDTH, height), Image.Resampling.LANCZOS)
    draw = ImageDraw.Draw(shown)
    for tenth in range(1, 10):
        x, y = DISPLAY_WIDTH * tenth // 10, height * tenth // 10
        draw.line((x, 0, x, 12), fill=(0, 90, 200), width=2)
        draw.line((0, y, 12, y), fill=(0, 90, 200), width=2)
        draw.text((x + 3, 2), str(tenth * 10), fill=(0, 90, 200))
        draw.text((15, y - 5), str(tenth * 10), fill=(0, 90, 200))
    corner = _corner(request.params.get("corner", ""))
    if corner:
        cx, cy = (round(v * DISPLAY_WIDTH / img.width) for v in corner)
        draw.line((cx - 14, cy, cx + 14, cy), fill=(220, 0, 0), width=3)
        draw.line((cx, cy - 14, cx, cy + 14), fill=(220, 0, 0), width=3)
    out = io.BytesIO()
    shown.save(out, "PNG", compress_level=3)
    response = Response(body=out.getvalue(), content_type="image/png")
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def redacted_copy(request: Any) -> Response:
    """The redacted copy, exactly what forwarding sends, as a download to check."""
    case, sub, box, pdf = _ctx(request)
    red = _load(request, case, box)
    result = redact.apply(pdf, red.of(sub.id), red.phrases)
    name = filestore.download_name(sub.file_name, "file").rsplit(".", 1)[0] + "-redacted.pdf"
    response = Response(body=result.pdf, content_type="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def forward_texts(detail: Any) -> dict[str, str]:
    """The case's text as the forwarding form starts it (before the auditor edits it)."""
    out = {}
    for k in forwarding.FORWARD_FIELDS:
        out[k] = str(detail.content.get(k) or (detail.review or {}).get(k)
                     or (detail.decision_reason if k == "grounds" else "") or "")
    return out


def text_page(request: Any) -> dict[str, Any]:
    key = viewsupport.content_key(request)
    if key is None:
        raise Forbidden(Permission.READ)
    detail = viewsupport.case_service(request).detail(viewsupport.user(request), _case_id(request))
    red = redactions.load(request.registry.settings["workbench.vault"], detail.case.id,
                          vault.vault_box_key(key))
    texts = forward_texts(detail)
    return {**viewsupport.labels(request), "c": detail.case, "phrases": red.phrases,
            "fields": [(k, redact.redact_text(v, red.phrases)) for k, v in texts.items() if v],
            "black": redact.BLACK_TEXT}


def text_submit(request: Any) -> Any:
    key = viewsupport.content_key(request)
    if key is None:
        raise Forbidden(Permission.READ)
    if not allowed(request.identity.role, Permission.WORK):
        raise Forbidden(Permission.WORK)
    svc, user = viewsupport.case_service(request), viewsupport.user(request)
    detail = svc.detail(user, _case_id(request))
    vault_path, box = request.registry.settings["workbench.vault"], vault.vault_box_key(key)
    red = redactions.load(vault_path, detail.case.id, box)
    red.phrases = redact.clean_phrases(request.form.text("phrases").splitlines())
    redactions.store(vault_path, detail.case.id, red, box)
    svc.audit(user, "case.redact", detail.case, phrases=len(red.phrases))
    return HTTPSeeOther(request.route_url("case.redact.text", id=detail.case.id))


def _case_id(request: Any) -> int:
    try:
        return int(request.matchdict["id"])
    except (KeyError, ValueError):
        raise HTTPNotFound() from None


def routes(config: Any) -> None:
    """Routes, added before the case page's catch-all ``/cases/{id}/{action}``."""
    r = config.add_route
    files = "/cases/{id:\\d+}/files/{submission_id:[0-9a-f]{32}}"
    r("case.redact", files + "/redact")
    r("case.redact.image", files + "/redact/{page:\\d+}.png")
    r("case.redacted", files + "/redacted")
    r("case.redact.text", "/cases/{id:\\d+}/redact-text")


def views(config: Any) -> None:
    tpl = "workbench.cases:templates/"
    v, content = config.add_view, WebPermission.VIEW_CONTENT
    v(redact_page, route_name="case.redact", request_method="GET",
      renderer=tpl + "redact.jinja2", permission=content)
    v(redact_submit, route_name="case.redact", request_method="POST", permission=content)
    v(redact_image, route_name="case.redact.image", request_method="GET", permission=content)
    v(redacted_copy, route_name="case.redacted", request_method="GET", permission=content)
    v(text_page, route_name="case.redact.text", request_method="GET",
      renderer=tpl + "redact_text.jinja2", permission=content)
    v(text_submit, route_name="case.redact.text", request_method="POST", permission=content)
