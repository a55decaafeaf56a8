"""HTTP headers every UI page carries: no framing, no sniffing, no inline
script, and no full URLs (which may hold invitation tokens) sent to other sites."""

from __future__ import annotations

from starlette.responses import Response

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def protect(response: Response, *, no_store: bool = False) -> Response:
    """Add the page headers; ``no_store`` keeps pages with personal data or a
    shown-once secret out of every cache, the back button's included."""
    for name, value in PAGE_HEADERS.items():
        response.headers[name] = value
    if no_store:
        response.headers["Cache-Control"] = "no-store"
    return response
