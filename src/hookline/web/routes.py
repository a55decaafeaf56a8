"""The UI's URLs. Every POST route is a form and checks its CSRF token."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from hookline.web.pages import page, public_page
from hookline.web.views import (
    applications,
    auth,
    catalogue,
    deliveries,
    oauth_consent,
    profile,
    teams,
    tokens,
    webhook_page,
    webhooks,
)

STATIC = Path(__file__).parent / "static"
GET, POST, BOTH = ["GET", "HEAD"], ["POST"], ["GET", "HEAD", "POST"]


def routes() -> list[BaseRoute]:
    return [
        Route("/", public_page(auth.home), methods=GET),
        Route("/login", public_page(auth.login), methods=BOTH),
        Route("/signup", public_page(auth.signup), methods=BOTH),
        Route("/logout", public_page(auth.logout), methods=POST),
        Route("/events", public_page(catalogue.events_catalogue), methods=GET),
        Route("/invitations/accept", public_page(teams.accept_invitation), methods=BOTH),
        Route("/teams/new", page(teams.new_team), methods=GET),
        Route("/teams", page(teams.create_team), methods=POST),
        Route("/teams/{team_id}", page(teams.show_team), methods=GET),
        Route("/teams/{team_id}/invitations", page(teams.invite), methods=POST),
        Route(
            "/teams/{team_id}/invitations/{invitation_id}/withdraw",
            page(teams.withdraw_invitation),
            methods=POST,
        ),
        Route("/teams/{team_id}/members/{member_id}/role", page(teams.change_role), methods=POST),
        Route(
            "/teams/{team_id}/members/{member_id}/remove", page(teams.remove_member), methods=POST
        ),
        Route("/teams/{team_id}/rename", page(teams.rename_team), methods=POST),
        Route("/teams/{team_id}/leave", page(teams.leave), methods=POST),
        Route("/teams/{team_id}/delete", page(teams.delete_team), methods=POST),
        Route("/teams/{team_id}/webhooks", page(webhooks.list_webhooks), methods=GET),
        Route("/teams/{team_id}/webhooks", page(webhooks.create_webhook), methods=POST),
        Route("/teams/{team_id}/webhooks/new", page(webhooks.new_webhook), methods=GET),
        Route("/webhooks/{webhook_id}", page(webhook_page.show_webhook), methods=GET),
        Route("/webhooks/{webhook_id}", page(webhook_page.update_webhook), methods=POST),
        Route("/webhooks/{webhook_id}/settings", page(webhook_page.show_settings), methods=GET),
        Route("/webhooks/{webhook_id}/secret", page(webhook_page.show_secret), methods=GET),
        Route("/webhooks/{webhook_id}/history", page(webhook_page.show_history), methods=GET),
        Route("/webhooks/{webhook_id}/recover", page(webhook_page.show_recover), methods=GET),
        Route(
            "/webhooks/{webhook_id}/rotate-secret", page(webhook_page.rotate_secret), methods=POST
        ),
        Route("/webhooks/{webhook_id}/recover", page(webhook_page.recover), methods=POST),
        Route("/webhooks/{webhook_id}/enable", page(webhook_page.enable), methods=POST),
        Route("/webhooks/{webhook_id}/test", page(webhooks.send_test), methods=POST),
        Route("/webhooks/{webhook_id}/delete", page(webhooks.delete_webhook), methods=POST),
        Route("/deliveries/{delivery_id}", page(deliveries.show_delivery), methods=GET),
        Route("/deliveries/{delivery_id}/resend", page(deliveries.resend), methods=POST),
        Route("/settings/profile", page(profile.show_profile), methods=GET),
        Route("/settings/profile", page(profile.rename), methods=POST),
        Route("/settings/profile/password", page(profile.change_password), methods=POST),
        Route("/settings/tokens", page(tokens.list_tokens), methods=GET),
        Route("/settings/tokens", page(tokens.create_token), methods=POST),
        Route("/settings/tokens/{token_id}/rename", page(tokens.rename_token), methods=POST),
        Route("/settings/tokens/{token_id}/revoke", page(tokens.revoke_token), methods=POST),
        Route("/settings/applications", page(applications.list_applications), methods=GET),
        Route("/settings/applications", page(applications.create_application), methods=POST),
        Route(
            "/settings/applications/{application_id}/rotate-secret",
            page(applications.rotate_secret),
            methods=POST,
        ),
        Route(
            "/settings/applications/{application_id}/delete",
            page(applications.delete_application),
            methods=POST,
        ),
        Route("/settings/authorized-applications", page(applications.list_grants), methods=GET),
        Route(
            "/settings/authorized-applications/{grant_id}/revoke",
            page(applications.revoke_grant),
            methods=POST,
        ),
        Route("/oauth/authorize", public_page(oauth_consent.authorize), methods=BOTH),
        Route("/settings/tokens/{token_id}/rotate", page(tokens.rotate_token), methods=POST),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
