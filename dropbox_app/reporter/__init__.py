"""The reporter app: what a reporter meets, over Tor, with JavaScript off."""

from __future__ import annotations

from typing import Any

from pyramid.events import ContextFound

from ..forms import add_routes
from ..security import check_body
from . import views
from .render import language
from .session_state import SessionState


def _check_body(event: ContextFound) -> None:
    check_body(event.request)


def includeme(config: Any) -> None:
    settings = config.get_settings()
    max_upload = settings["peluit.config"].max_upload_bytes
    config.add_request_method(language, "language", reify=True)
    config.add_request_method(SessionState, "session_state", reify=True)
    config.add_subscriber(_check_body, ContextFound)
    config.add_tween("dropbox_app.reporter.session_state.session_tween_factory",
                     under="pyramid_tm.tm_tween_factory")

    config.add_static_view("static", "dropbox_app.reporter:static", cache_max_age=0)
    routes = (
        ("home", "/", views.landing, "GET"),
        ("favicon", "/favicon.ico", views.favicon, "GET"),
        ("codename.new", "/codename", views.codename_new, "POST"),
        ("codename.confirm", "/codename/confirm", views.codename_confirm, "POST"),
        ("report.new", "/report/new", views.report_form, "GET"),
        ("report.relang", "/report/new", views.report_relang, "POST"),
        ("report.submit", "/report/new/send", views.report_submit, "POST"),
        ("report.received", "/report/received", views.report_received, "GET"),
        ("login", "/login", views.login, "POST"),
        ("followup", "/followup", views.followup, "GET"),
        ("followup.relang", "/followup", views.followup_relang, "POST"),
        ("followup.message", "/followup/{report:[0-9a-f]{32}}/message",
         views.message_submit, "POST"),
        ("followup.retaliation", "/followup/{report:[0-9a-f]{32}}/retaliation",
         views.retaliation_submit, "POST"),
        ("followup.delete", "/followup/reply/{reply:[0-9a-f]{32}}/delete",
         views.reply_delete, "POST"),
        ("logout", "/logout", views.logout, "POST"),
    )
    # Routes whose multipart bodies are streamed into envelopes, with their size limits: the
    # envelope of an upload may be a little larger than the files (form fields, boundaries).
    slack = 1024 * 1024
    add_routes(config, routes, {"report.submit": max_upload + slack,
                                "followup.message": max_upload + slack})
    config.include(".errors")
