"""Short messages shown after a redirect. The URL names a notice by key;
the words come from here, so a link cannot make the site say anything else.
Each notice has a tone: ``success`` when something was done, ``info`` when
nothing happened or it waits on something else."""

from __future__ import annotations

import re
from dataclasses import dataclass

from hookline.web.visit import Visit


@dataclass(frozen=True)
class Notice:
    text: str
    tone: str = "success"

    def __bool__(self) -> bool:
        return bool(self.text)

    def __str__(self) -> str:
        return self.text


NOTICES = {
    "role-changed": Notice("The role was changed."),
    "joined": Notice("You joined the team."),
    "team-renamed": Notice("The team was renamed."),
    "member-removed": Notice("The member was removed from the team."),
    "invitation-withdrawn": Notice("The invitation was withdrawn: its link no longer works."),
    "left-team": Notice("You left the team."),
    "team-deleted": Notice("The team was deleted."),
    "profile-updated": Notice("Your name was changed."),
    "password-changed": Notice("Your password was changed."),
    "token-rotated": Notice("The token was rotated: the old value no longer works."),
    "session-ended": Notice(
        "Your session ended. Sign in again to go back to the page you were on; "
        "what you typed there is kept (passwords excepted).",
        "info",
    ),
    "token-renamed": Notice("The token was renamed."),
    "token-revoked": Notice("The token was revoked: it no longer works."),
    "application-deleted": Notice("The application was deleted: its tokens no longer work."),
    "grant-revoked": Notice("The application's access was revoked: its tokens no longer work."),
    "webhook-updated": Notice("The webhook was saved."),
    "webhook-deleted": Notice("The webhook was deleted."),
    "webhook-enabled": Notice(
        "The webhook is active again; deliveries held while it was disabled are being sent."
    ),
    "test-sent": Notice("A test event is on its way; its result appears in the history."),
    "test-not-sent": Notice("No test event was sent: the webhook is not active.", "info"),
    "resent": Notice("The delivery is queued again; the new attempt appears once it is made."),
    "resent-held": Notice(
        "The delivery waits for the webhook to be re-activated: nothing is sent while it is "
        "disabled.",
        "info",
    ),
}

_COUNT = re.compile(r"[0-9]{1,10}")


def _recovered(count: int | None, held: bool) -> Notice:
    """``count`` None: a link whose count is not a plain number."""
    if count == 0:
        return Notice("No failed delivery in that window: nothing was queued.", "info")
    if count is None:
        what = "Failed deliveries"
    else:
        what = "1 failed delivery" if count == 1 else f"{count} failed deliveries"
    if held:
        return Notice(
            f"{what} will be sent again once the webhook is re-activated; "
            "nothing is sent while it is disabled.",
            "info",
        )
    return Notice(f"{what} {'is' if count == 1 else 'are'} queued again.")


def notice(visit: Visit) -> Notice:
    key = visit.query("notice")
    if key in ("recovered", "recovered-held"):
        count = visit.query("count")
        # ASCII digits only ("²" is a digit to str.isdigit but not to int),
        # and no more than a count of rows can have.
        number = int(count) if _COUNT.fullmatch(count) else None
        return _recovered(number, key == "recovered-held")
    return NOTICES.get(key, Notice(""))
