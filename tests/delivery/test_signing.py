"""Signatures that any Standard Webhooks library accepts, and rejects when
anything signed is changed."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks import Webhook as Verifier
from standardwebhooks.webhooks import WebhookVerificationError

from hookline.delivery.signing import signature_header
from hookline.webhooks.secrets import new_secret

SECRETS = [new_secret(), new_secret()]
ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=40)


def headers(message_id: str, stamp: int, signature: str) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": signature,
    }


json_bodies = st.dictionaries(
    st.text(max_size=12), st.text(max_size=60) | st.integers() | st.booleans(), max_size=8
).map(lambda d: json.dumps(d, ensure_ascii=False).encode())


@given(body=json_bodies, message_id=ids)
def test_every_current_secret_verifies(body: bytes, message_id: str) -> None:
    stamp = int(time.time())
    signed = signature_header(SECRETS, message_id, stamp, body)
    for secret in SECRETS:
        Verifier(secret).verify(body, headers(message_id, stamp, signed))


@given(
    body=st.text(max_size=500).map(str.encode),
    tampered=st.text(min_size=1, max_size=20).map(str.encode),
    message_id=ids,
)
def test_any_change_is_refused(body: bytes, tampered: bytes, message_id: str) -> None:
    stamp = int(time.time())
    signed = signature_header(SECRETS[:1], message_id, stamp, body)
    verifier = Verifier(SECRETS[0])
    for changed_body, changed_id, changed_stamp in (
        (body + tampered, message_id, stamp),
        (body, message_id + "x", stamp),
        (body, message_id, stamp - 1),
    ):
        with pytest.raises(WebhookVerificationError):
            verifier.verify(changed_body, headers(changed_id, changed_stamp, signed))
    with pytest.raises(WebhookVerificationError):
        Verifier(SECRETS[1]).verify(body, headers(message_id, stamp, signed))
