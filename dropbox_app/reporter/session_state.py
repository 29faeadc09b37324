"""``request.session_state``: the reporter session of this request, opened lazily, written back
once after the view (so a long upload holds no database lock while it streams)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nacl.public import PrivateKey
from pyramid.request import Request
from pyramid.response import Response

from ..sessions import COOKIE, SessionData, SessionExpired, Sessions


class SessionState:
    def __init__(self, request: Request):
        self._request = request
        self.token: str | None = request.cookies.get(COOKIE)
        self._data: SessionData | None = None
        self._loaded = False
        self.expired = False

    def _sessions(self) -> Sessions:
        return Sessions(self._request.dbsession, self._request.clock)

    @property
    def data(self) -> SessionData | None:
        if not self._loaded:
            self._loaded = True
            try:
                self._data = self._sessions().open(self.token)
            except SessionExpired:
                self.expired = True
        return self._data

    def replace(self, private_key: PrivateKey, lookup_id: bytes, reporter_id: str | None,
                confirmed: bool) -> None:
        """Start a fresh session (a new token: never reuse one across a login)."""
        sessions = self._sessions()
        sessions.end(self.token)
        self.token, self._data = sessions.create(private_key, lookup_id, reporter_id, confirmed)
        self._loaded = True

    def end(self) -> None:
        self._sessions().end(self.token)
        self._data = None
        self._loaded = True

    def save(self) -> None:
        if self._loaded and self._data is not None and self.token:
            self._sessions().save(self.token, self._data)


def session_tween_factory(handler: Callable[[Request], Response], registry: Any) -> Callable:
    def tween(request: Request) -> Response:
        response = handler(request)
        state = request.__dict__.get("session_state")
        if (state is not None and getattr(request, "exception", None) is None
                and not request.tm.isDoomed()):
            state.save()
        return response

    return tween
