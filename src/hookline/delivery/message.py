"""One request of a delivery: its body, its Standard Webhooks headers and
signatures, with the secrets that still sign."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

import hookline
from hookline.delivery import render, signing
from hookline.delivery.queue import Claimed, WebhookRow
from hookline.webhooks.secrets import SecretUnavailable, unseal

log = logging.getLogger("hookline.worker")


def message_id(items: list[Claimed]) -> str:
    """``webhook-id``: the same for every retry and re-send of a message."""
    if len(items) == 1:
        return f"msg_{items[0].delivery_id.hex}"
    joined = ",".join(sorted(str(item.delivery_id) for item in items))
    return f"msg_{uuid.uuid5(uuid.NAMESPACE_URL, joined).hex}"


class Keyring:
    """Opens webhooks' sealed secrets once each. The current secret must
    open; a retired one that cannot (the server key changed since) is
    skipped with a warning, so it never stops delivery."""

    def __init__(self, server_key: bytes) -> None:
        self.server_key = server_key
        self._opened: dict[str, str | None] = {}

    def _open(self, sealed: str, webhook: WebhookRow) -> str | None:
        if sealed not in self._opened:
            if len(self._opened) > 10_000:
                self._opened.clear()
            try:
                self._opened[sealed] = unseal(self.server_key, sealed)
            except SecretUnavailable:
                self._opened[sealed] = None
                log.warning(
                    "a signing secret cannot be decrypted with this server key",
                    extra={"webhook": str(webhook.id)},
                )
        return self._opened[sealed]

    def secrets_for(self, webhook: WebhookRow, now: datetime) -> list[str]:
        """The secrets that sign now: the current one, then those retired
        less than the overlap ago. Raises SecretUnavailable when the current
        one cannot be opened."""
        current = self._open(webhook.secret_enc, webhook)
        if current is None:
            raise SecretUnavailable("the webhook's secret cannot be decrypted with this server key")
        found = [current]
        for retired in webhook.retired:
            if retired.expires_at <= now:
                continue
            opened = self._open(retired.sealed, webhook)
            if opened is not None:
                found.append(opened)
        return found


@dataclass
class Request:
    message_id: str
    body: bytes
    headers: dict[str, str]
    # Each delivery's own event document, for its history.
    documents: list[str]


def build(items: list[Claimed], sent_at: datetime, secrets: list[str]) -> Request:
    """The request carrying ``items``: one event, or a batch in event order,
    signed at ``sent_at`` with each of ``secrets``."""
    webhook = items[0].webhook
    docs = [render.single_body(webhook.mtype, item.event) for item in items]
    if len(items) == 1 and webhook.max_events_per_request == 1:
        body = docs[0]
        event_name = items[0].event.name
    else:
        body = render.body(webhook.mtype, [i.event for i in items], batch=True)
        event_name = "batch"
    msg = message_id(items)
    stamp = int(sent_at.timestamp())
    headers = {
        "content-type": webhook.mtype,
        "user-agent": f"Hookline/{hookline.__version__}",
        "webhook-id": msg,
        "webhook-timestamp": str(stamp),
        "x-hookline-event": event_name,
    }
    if secrets:
        headers["webhook-signature"] = signing.signature_header(secrets, msg, stamp, body)
    return Request(msg, body, headers, [d.decode() for d in docs])
