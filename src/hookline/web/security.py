"""HTTP headers every UI page carries: no framing, no sniffing, no inline
script, and no full URLs (which may hold invitation tokens) sent to other sites."""

from __future__ import annotations

from starlette.responses import Response


def _policy(form_action: str) -> str:
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "object-src 'none'",
            "base-uri 'none'",
            f"form-action {form_action}",
            "frame-ancestors 'none'",
        )
    )


CONTENT_SECURITY_POLICY = _policy("'self'")

PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def protect(response: Response) -> Response:
    """The headers, keeping a policy the view set for itself."""
    for name, value in PAGE_HEADERS.items():
        if name not in response.headers:
            response.headers[name] = value
    return response


def allow_form_target(response: Response, origin: str) -> Response:
    """This page's forms may also lead (through a redirect) to ``origin``:
    browsers apply form-action to every redirect after a submission."""
    response.headers["Content-Security-Policy"] = _policy(f"'self' {origin}")
    return response
