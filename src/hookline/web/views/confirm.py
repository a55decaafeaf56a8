"""Confirmation before destructive actions. With JavaScript the form asks in a
dialog and sends ``confirm=yes``; without it, the server asks on a page of its
own. Either way nothing is deleted by a POST that lacks ``confirm=yes``."""

from __future__ import annotations

from starlette.responses import Response

from hookline.web import csrf
from hookline.web.forms import FormData
from hookline.web.pages import render
from hookline.web.visit import Visit

FIELD = "confirm"


def confirmed(visit: Visit) -> bool:
    return visit.form.get(FIELD) == "yes"


async def confirm_page(
    visit: Visit,
    *,
    title: str,
    message: str,
    action: str,
    button: str,
    back: str,
    resend: FormData | None = None,
    danger: bool = True,
) -> Response:
    """Ask before going on; ``resend`` carries the submitted fields over, so
    confirming sends the same form again with ``confirm=yes``."""
    fields = [
        (name, value)
        for name, value in (resend.pairs if resend else ())
        if name not in (FIELD, csrf.FIELD)
    ]
    return await render(
        visit,
        "confirm.html",
        title=title,
        message=message,
        action=action,
        button=button,
        back=back,
        fields=fields,
        danger=danger,
    )
