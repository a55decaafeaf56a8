"""Turning views into endpoints: every UI request gets its visitor, CSRF
check, error pages instead of tracebacks, and the page security headers."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from hookline.errors import (
    AuthenticationError,
    AuthorizationError,
    HooklineError,
    NotFound,
    RateLimited,
)
from hookline.rpc.transport import apply_cookies, read_body
from hookline.web import csrf
from hookline.web.forms import FormData, FormErrors, MalformedForm, parse_form
from hookline.web.security import protect
from hookline.web.templating import environment
from hookline.web.visit import Visit, open_visit

log = logging.getLogger("hookline.web")

View = Callable[[Visit], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]

ERROR_TITLES = {
    400: "That did not work",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed",
    413: "Too large",
    429: "Too many attempts",
    500: "Something went wrong",
}


async def render(
    visit: Visit,
    template: str,
    *,
    status: int = 200,
    **context: Any,
) -> Response:
    """A page in the site layout. Signed-in pages are never cached: they hold
    personal data, and some a secret shown only once."""
    me = None
    teams: list[Any] = []
    if visit.identity is not None:
        try:
            me = await visit.run("get-profile")
            teams = await visit.run("get-teams")
        except HooklineError:
            me, teams = None, []
    names = [t.name.casefold() for t in teams]
    values: dict[str, Any] = {
        "me": me,
        "teams": teams,
        # Teams whose name another of the visitor's teams shares: the menu
        # adds when each was created, to tell them apart.
        "look_alike_teams": {t.id for t in teams if names.count(t.name.casefold()) > 1},
        "team": None,
        "csrf_token": visit.csrf_token,
        "errors": FormErrors(),
        "form": {},
        "notice": "",
        "request_path": visit.request.url.path,
        "now": visit.services.clock.now(),
    }
    values.update(context)
    html = environment.get_template(template).render(values)
    response = HTMLResponse(html, status_code=status)
    if visit.identity is not None:
        response.headers["Cache-Control"] = "no-store"
    return response


def redirect(url: str) -> Response:
    """After a successful POST: See Other, so a reload does not resend it."""
    return RedirectResponse(url, status_code=303)


def login_redirect(request: Request) -> Response:
    target = request.url.path
    if request.method == "GET" and request.url.query:
        target += "?" + request.url.query
    return redirect("/login?next=" + quote(target, safe=""))


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return (parts.scheme, parts.netloc)


def _from_this_site(request: Request) -> bool:
    """Browsers set Origin and Referer themselves; another site's form cannot
    claim to come from here."""
    here = _origin(str(request.url))
    origin = request.headers.get("origin")
    if origin:
        return _origin(origin) == here
    return _origin(request.headers.get("referer", "")) == here


def _page_of_form(request: Request) -> str:
    """The page the form was on (its Referer, when on this site), else the
    address it was sent to."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.path and (referer.scheme, referer.netloc) == _origin(str(request.url)):
        return referer.path + (f"?{referer.query}" if referer.query else "")
    return request.url.path


def session_ended(visit: Visit, *, keep: bool) -> Response:
    """A form sent after the session ended: sign in, then back to the page it
    came from, with what was typed (never a password) when the form surely
    came from this site, so no other site can pre-fill a form here."""
    target = _page_of_form(visit.request)
    if keep:
        typed = [(k, v) for k, v in visit.form.pairs if k != csrf.FIELD and "password" not in k]
        visit.flash(restore_slot(target), {"pairs": typed})
    return redirect("/login?notice=session-ended&next=" + quote(target, safe=""))


def restore_slot(path: str) -> str:
    return "typed:" + path.split("?", 1)[0]


def restored_form(visit: Visit) -> FormData | None:
    """What was typed into this page's form before the session ended."""
    kept = visit.take_flash(restore_slot(visit.request.url.path))
    if kept is None:
        return None
    return FormData(tuple((str(k), str(v)) for k, v in kept["pairs"]))


async def error_page(visit: Visit, status: int, message: str) -> Response:
    return await render(
        visit,
        "errors/page.html",
        status=status,
        title=ERROR_TITLES.get(status, "That did not work"),
        message=message,
    )


async def _respond(visit: Visit, view: View, sign_in: bool) -> Response:
    request = visit.request
    if request.method == "POST":
        body = await read_body(request, visit.services.settings.max_body_bytes)
        visit.form = parse_form(body)
        token = visit.form.get(csrf.FIELD) or None
        valid = csrf.is_valid(visit.services.settings.secret_key, visit.csrf_binding, token)
        if sign_in and visit.identity is None:
            return session_ended(visit, keep=valid or _from_this_site(request))
        if not valid:
            return await error_page(
                visit,
                403,
                "This form has expired or did not come from this site. "
                "Go back, reload the page and try again.",
            )
    if sign_in and visit.identity is None:
        return login_redirect(request)
    return await view(visit)


async def _on_error(visit: Visit, error: Exception) -> Response:
    """An error no view handled, as a page. Never a traceback."""
    request = visit.request
    if isinstance(error, AuthenticationError):
        return login_redirect(request)
    if isinstance(error, NotFound):
        return await error_page(visit, 404, "There is no such page, or you may not see it.")
    if isinstance(error, AuthorizationError):
        return await error_page(visit, 403, error.hint)
    if isinstance(error, RateLimited):
        response = await error_page(visit, 429, error.hint)
        response.headers.update(error.headers())
        return response
    if isinstance(error, HooklineError):
        return await error_page(visit, error.status, error.hint)
    if isinstance(error, MalformedForm):
        return await error_page(visit, 400, "The form could not be read.")
    log.error(
        "page failed",
        exc_info=error,
        extra={"path": request.url.path, "method": request.method},
    )
    return await error_page(visit, 500, "Something went wrong on our side; it is logged.")


def finish(visit: Visit, response: Response) -> Response:
    """Cookies the commands asked for, the pre-session key, and the headers."""
    apply_cookies(response, visit.call, visit.secure_cookies)
    if visit.new_anonymous_key is not None:
        response.set_cookie(
            csrf.ANONYMOUS_COOKIE,
            visit.new_anonymous_key,
            httponly=True,
            samesite="lax",
            secure=visit.secure_cookies,
        )
    return protect(response)


def _endpoint(view: View, sign_in: bool) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        visit = await open_visit(request)
        try:
            response = await _respond(visit, view, sign_in)
        except Exception as error:
            try:
                response = await _on_error(visit, error)
            except Exception:
                log.exception("error page failed", extra={"path": request.url.path})
                response = HTMLResponse("<h1>Something went wrong</h1>", status_code=500)
        return finish(visit, response)

    endpoint.__name__ = view.__name__
    endpoint.__doc__ = view.__doc__
    return endpoint


def page(view: View) -> Endpoint:
    """A page for signed-in visitors; others are sent to sign in first."""
    return _endpoint(view, sign_in=True)


def public_page(view: View) -> Endpoint:
    """A page anyone may see (sign-in, sign-up, the events catalogue)."""
    return _endpoint(view, sign_in=False)


async def http_error(request: Request, status: int) -> Response:
    """Unknown UI paths and wrong methods, as pages in the site layout."""
    visit = await open_visit(request)
    message = "There is no such page." if status == 404 else "That is not allowed here."
    return finish(visit, await error_page(visit, status, message))
