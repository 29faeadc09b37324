"""Security headers on every response: a strict CSP with no scripts at all, no caching, no
referrers, no framing. The workbench serves nothing from elsewhere."""

from __future__ import annotations

from typing import Any

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


def headers_tween_factory(handler: Any, registry: Any) -> Any:
    def tween(request: Any) -> Any:
        response = handler(request)
        for name, value in HEADERS.items():
            # A view may set a stricter CSP of its own (downloads add "sandbox").
            if name != "Content-Security-Policy" or name not in response.headers:
                response.headers[name] = value
        return response
    return tween


def includeme(config: Any) -> None:
    config.add_tween("workbench.web.headers.headers_tween_factory")
