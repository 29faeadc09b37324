"""Inbox bundles prepared on the Transfers page and waiting for their one download.

The page's button prepares the bundle (its sequence number is taken and the download is in the
admin log) and answers with a page that shows it, with a link to fetch it: a browser that
received the file directly would keep showing the page as it was before ("last bundle: —"),
and the gateway's pages carry no JavaScript. The link holds an unguessable token, works once,
for the account that prepared it, within ``TTL`` seconds. Only the manifest (ciphertext member
names and ids) is held, in this process's memory: after a restart the link is gone and the next
download carries the same unacknowledged submissions again, so nothing is lost."""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from typing import Any

TTL = 15 * 60
MAX_WAITING = 16


class ReadyBundles:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: OrderedDict[str, tuple[int, float, Any]] = OrderedDict()

    def put(self, user_id: int, prepared: Any, now: float) -> str:
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._items[token] = (user_id, now + TTL, prepared)
            while len(self._items) > MAX_WAITING:
                self._items.popitem(last=False)
        return token

    def take(self, token: str, user_id: int, now: float) -> Any | None:
        """The prepared bundle, once; None when unknown, used, expired or someone else's."""
        with self._lock:
            item = self._items.get(token)
            if item is None or item[0] != user_id:
                return None
            del self._items[token]
        return item[2] if now <= item[1] else None
