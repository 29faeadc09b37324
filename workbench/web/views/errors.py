"""Error pages: a clear message and the right status, never a traceback."""

from __future__ import annotations

from typing import Any

from pyramid.exceptions import BadCSRFToken
from pyramid.httpexceptions import HTTPSeeOther
from sqlalchemy.exc import StatementError

from crypto.errors import CryptoError
from peluit.ground.forms import FormError

from ... import db, trust


def _page(request: Any, status: int, message: str) -> dict[str, Any]:
    request.response.status_int = status
    return {"message": message}


def forbidden(request: Any) -> Any:
    if request.identity is None:
        return HTTPSeeOther(request.route_url("login"))
    return _page(request, 403, request.gettext("Your role does not allow this page."))


def not_found(request: Any) -> Any:
    return _page(request, 404, request.gettext("Not found."))


def bad_csrf(request: Any) -> Any:
    return _page(request, 400, request.gettext(
        "The form expired or did not come from this workbench. Go back, reload and try again."))


def bad_form(exc: FormError, request: Any) -> Any:
    """A form body that cannot be read as sent (too large, cut short, not UTF-8, repeated or
    too many fields): a 4xx page, never a 500."""
    if exc.status == 413:
        return _page(request, 413, request.gettext("The form is too large for the workbench."))
    return _page(request, exc.status, request.gettext(
        "The form could not be read. Go back, reload and try again."))


def locked(request: Any) -> Any:
    return _page(request, 403, request.gettext("This needs the vault key, which your session "
                                               "does not hold."))


def tampered(request: Any) -> Any:
    return _page(request, 500, request.gettext(
        "Part of the vault does not decrypt: it was changed or belongs to another vault."))


def vault_refused(request: Any) -> Any:
    """The vault's trust records do not match their seal (trust.py): nothing more is done."""
    return _page(request, 409, request.gettext(
        "The vault's records were changed outside the workbench, so it refuses to go on. Tell "
        "a lead: the audit log names what changed."))


def database_error(exc: Exception, request: Any) -> Any:
    cause = db.vault_error_of(exc)
    if isinstance(cause, db.VaultLockedError):
        return locked(request)
    if isinstance(cause, db.TamperedError):
        return tampered(request)
    raise exc


def includeme(config: Any) -> None:
    config.add_forbidden_view(forbidden, renderer="error.jinja2")
    config.add_notfound_view(not_found, renderer="error.jinja2")
    config.add_exception_view(bad_csrf, context=BadCSRFToken, renderer="error.jinja2")
    config.add_exception_view(bad_form, context=FormError, renderer="error.jinja2")
    config.add_exception_view(locked, context=db.VaultLockedError, renderer="error.jinja2")
    config.add_exception_view(tampered, context=db.TamperedError, renderer="error.jinja2")
    config.add_exception_view(lambda exc, request: vault_refused(request),
                              context=trust.TamperedVault, renderer="error.jinja2")
    config.add_exception_view(lambda exc, request: tampered(request), context=CryptoError,
                              renderer="error.jinja2")
    config.add_exception_view(database_error, context=StatementError, renderer="error.jinja2")
