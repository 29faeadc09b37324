"""The exception views both server apps share (a refused form, a missing CSRF token, a refused
body): the same reasons on each app's own error page, rendered by that app's ``render``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyramid.exceptions import BadCSRFToken

from .forms import FormError
from .security import BodyRejected


def shared_views(render: Callable[..., Any]) -> tuple[tuple[Callable[..., Any], type], ...]:
    """(view, exception class) pairs for ``config.add_exception_view``."""

    def form_error(exc: FormError, request: Any) -> Any:
        return render(request, "error.jinja2", status=exc.status, reason=exc.reason)

    def bad_csrf(exc: BadCSRFToken, request: Any) -> Any:
        # Pyramid's check, made on every view by default (forms.csrf_by_default): the same
        # page as a streamed form's missing token.
        return render(request, "error.jinja2", status=400, reason="csrf")

    def body_rejected(exc: BodyRejected, request: Any) -> Any:
        return render(request, "error.jinja2", status=exc.status, reason=exc.reason)

    return ((form_error, FormError), (bad_csrf, BadCSRFToken), (body_rejected, BodyRejected))
