"""/oauth/authorize: the consent page. A signed-in person sees which
application asks for what, and allows or denies; either way they go back
to the application's registered redirect URI with the request's ``state``."""

from __future__ import annotations

from starlette.responses import Response

from hookline.oauth import scopes, store
from hookline.oauth.authorize import (
    AuthorizationRequest,
    ClientError,
    NotRedirectable,
    read_request,
)
from hookline.oauth.protocol import AccessDeniedError, redirect_error, redirect_with
from hookline.web.pages import error_page, login_redirect, render
from hookline.web.security import allow_form_target
from hookline.web.visit import Visit


async def authorize(visit: Visit) -> Response:
    posted = visit.request.method == "POST"
    pairs = visit.form.pairs if posted else tuple(visit.request.query_params.multi_items())
    try:
        async with visit.services.db.read() as conn:
            request = await read_request(conn, pairs)
    except NotRedirectable as error:
        return await error_page(visit, 400, str(error))
    except ClientError as error:
        return redirect_error(error.error, error.redirect_uri, error.state)
    identity = visit.identity
    if identity is None:
        return login_redirect(visit.request)
    if not posted:
        return await _consent(visit, request)
    if visit.form.get("decision") != "allow":
        return redirect_error(
            AccessDeniedError(description="the person denied access"),
            request.redirect_uri,
            request.state,
        )
    async with visit.services.db.write() as conn:
        code = await store.create_code(
            conn,
            visit.services.settings.secret_key,
            application_id=request.application.id,
            profile_id=identity.profile_id,
            redirect_uri=request.redirect_uri,
            code_challenge=request.code_challenge,
            scope=request.scope,
            now=visit.services.clock.now(),
        )
    params = [("code", code)]
    if request.state is not None:
        params.append(("state", request.state))
    params.append(("iss", visit.services.settings.public_url.rstrip("/")))
    return redirect_with(request.redirect_uri, params)


async def _consent(visit: Visit, request: AuthorizationRequest) -> Response:
    response = await render(
        visit,
        "oauth/consent.html",
        request=request,
        wants=[scopes.DESCRIPTIONS[name] for name in scopes.SUPPORTED if name in request.scopes],
    )
    # The answer to this form redirects to the application: the page's
    # form-action must allow its origin, or browsers stop at the redirect.
    return allow_form_target(response, request.redirect_origin)
