"""Security headers on every response: a strict CSP with no scripts at all, no caching, no
referrers, no framing. The workbench serves nothing from elsewhere."""

from __future__ import annotations

from typing import Any

from pyramid.response import Response

from .i18n import gettext_for

CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-store",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


#: Names the workbench answers to. Anything else is a DNS-rebinding attempt: a web page that
#: made its own host name resolve to 127.0.0.1 to read the workbench from a browser.
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]"})


def _host_name(host: str) -> str:
    if host.startswith("["):
        return host.split("]")[0] + "]"
    return host.rsplit(":", 1)[0] if ":" in host else host


def headers_tween_factory(handler: Any, registry: Any) -> Any:
    def tween(request: Any) -> Any:
        if _host_name(request.host).lower() not in LOCAL_HOSTS:
            text = gettext_for(request).gettext("This workbench answers on 127.0.0.1 only.")
            response = Response(text + "\n", status=400, content_type="text/plain",
                                charset="utf-8")
        else:
            response = handler(request)
        for name, value in HEADERS.items():
            # A view may set a stricter CSP of its own (downloads add "sandbox").
            if name != "Content-Security-Policy" or name not in response.headers:
                response.headers[name] = value
        return response
    return tween


def includeme(config: Any) -> None:
    config.add_tween("workbench.web.headers.headers_tween_factory")
