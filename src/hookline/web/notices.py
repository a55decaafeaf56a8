"""Short messages shown after a redirect. The URL names a notice by key;
the words come from here, so a link cannot make the site say anything else."""

from __future__ import annotations

import re

from hookline.web.visit import Visit

NOTICES = {
    "role-changed": "The role was changed.",
    "joined": "You joined the team.",
    "token-renamed": "The token was renamed.",
    "token-revoked": "The token was revoked: it no longer works.",
    "application-deleted": "The application was deleted: its tokens no longer work.",
    "grant-revoked": "The application's access was revoked: its tokens no longer work.",
    "webhook-updated": "The webhook was saved.",
    "webhook-deleted": "The webhook was deleted.",
    "test-sent": "A test event is on its way; its result appears in the history.",
    "test-not-sent": "No test event was sent: the webhook is not active.",
    "resent": "The delivery is queued again; the new attempt appears once it is made.",
}

_COUNT = re.compile(r"[0-9]{1,10}")


def notice(visit: Visit) -> str:
    key = visit.query("notice")
    if key == "recovered":
        count = visit.query("count")
        # ASCII digits only ("²" is a digit to str.isdigit but not to int),
        # and no more than a count of rows can have.
        if not _COUNT.fullmatch(count):
            return "Failed deliveries are queued again."
        number = int(count)
        if number == 1:
            return "1 failed delivery is queued again."
        return f"{number} failed deliveries are queued again."
    return NOTICES.get(key, "")
