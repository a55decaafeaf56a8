"""The webhook form: what the browser sends, as create-webhook and
update-webhook params, and back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hookline.web.forms import FormData, FormErrors

FIELDS = (
    "name",
    "uri",
    "mtype",
    "isActive",
    "events",
    "verifySsl",
    "maxEventsPerRequest",
    "ordered",
)
FORMATS = (("application/json", "JSON"), ("application/transit+json", "Transit"))


@dataclass
class WebhookValues:
    """What the form shows: a webhook's settings, or what was just submitted."""

    name: str = ""
    uri: str = ""
    mtype: str = "application/json"
    is_active: bool = True
    all_events: bool = True
    events: list[str] = field(default_factory=list)
    verify_ssl: bool = True
    max_events_per_request: str = "1"
    ordered: bool = False

    @classmethod
    def of(cls, webhook: Any) -> WebhookValues:
        return cls(
            name=webhook.name,
            uri=webhook.uri,
            mtype=webhook.mtype,
            is_active=webhook.is_active,
            all_events=webhook.events is None,
            events=list(webhook.events or []),
            verify_ssl=webhook.verify_ssl,
            max_events_per_request=str(webhook.max_events_per_request),
            ordered=webhook.ordered,
        )

    @classmethod
    def submitted(cls, form: FormData) -> WebhookValues:
        """Unchecked checkboxes are absent from a form: absent means off."""
        return cls(
            name=form.get("name").strip(),
            uri=form.get("uri").strip(),
            mtype=form.get("mtype"),
            is_active=form.has("isActive"),
            all_events=form.get("eventsMode", "all") == "all",
            events=form.getlist("events"),
            verify_ssl=form.has("verifySsl"),
            max_events_per_request=form.get("maxEventsPerRequest").strip(),
            ordered=form.has("ordered"),
        )

    def check(self) -> FormErrors:
        """What only the form can get wrong; the command checks the rest."""
        errors = FormErrors()
        if not self.all_events and not self.events:
            errors.add("events", "Check at least one event, or choose all events.")
        if self.all_events and self.events:
            # Without JavaScript the boxes stay active under "All events":
            # ticks there must not be dropped without a word.
            errors.add(
                "events",
                "You ticked some events but chose “All events”: choose “Only the events "
                "checked below” to receive just those, or clear the ticks.",
            )
        return errors

    def params(self, *, creating: bool) -> dict[str, Any]:
        """A new webhook without a name is named after its URL; an existing
        one keeps a name, so an emptied field is an error to show."""
        params: dict[str, Any] = {
            "name": (self.name or None) if creating else self.name,
            "uri": self.uri,
            "mtype": self.mtype,
            "isActive": self.is_active,
            "events": None if self.all_events else self.events,
            "verifySsl": self.verify_ssl,
            "ordered": self.ordered,
        }
        # Ordered delivery sends one event per request: the page disables the
        # field then, and a disabled field is not sent.
        if self.max_events_per_request or not self.ordered:
            params["maxEventsPerRequest"] = self.max_events_per_request
        return params
