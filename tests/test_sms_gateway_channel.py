"""The SMS gateway adapter (channels/sms_gateway.py) as a table of real payloads: which
deliveries are one message seen twice and which are two messages sharing a gateway id.

Gateway apps reuse ids (numbered per phone, restarted after a reinstall), so a redelivery is
the same id from the same sender with the same text; anything else must be stored anew."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from channels.base import Incoming
from channels.sms_gateway import MAX_FIELD, SmsGatewayChannel, signature
from relay.config import Settings
from relay.db import session_scope
from relay.models import InboundMessage, Submission
from tests.support import drain, post_gateway

SETTINGS = Settings(sms_gateway_secret="gateway-table-secret")
APP = Flask(__name__)
TALLY = "PPWP 3576011001001 01=120 02=95 03=40 SAH=255 TS=5"


def receive(payload: dict[str, Any]) -> Incoming:
    body = json.dumps(payload).encode()
    headers = {"X-Signature": signature(SETTINGS.sms_gateway_secret, body)}
    with APP.test_request_context(
        "/webhooks/sms-gateway",
        method="POST",
        data=body,
        headers=headers,
        content_type="application/json",
    ) as ctx:
        [message] = SmsGatewayChannel().receive(ctx.request, SETTINGS)
    return message


FIRST = {"id": "42", "from": "+6281234567801", "text": "STATUS", "received_at": "2024-02-14T13:05"}

# (name, second delivery, same stored message as FIRST?)
DELIVERIES = [
    ("redelivery, byte for byte", dict(FIRST), True),
    ("redelivery, another received_at", {**FIRST, "received_at": "2024-02-14T13:09"}, True),
    ("redelivery, the sender typed nationally", {**FIRST, "from": "0812-3456-7801"}, True),
    ("redelivery, the id as a number", {**FIRST, "id": 42}, True),
    (
        "same id, another officer, a tally",
        {**FIRST, "from": "+6281234567802", "text": TALLY},
        False,
    ),
    ("same id, same officer, another text", {**FIRST, "text": "YA"}, False),
    ("same id and text, another sender", {**FIRST, "from": "+6281234567809"}, False),
    ("another id, same sender and text", {**FIRST, "id": "43"}, False),
]


@pytest.mark.parametrize(("name", "second", "same"), DELIVERIES, ids=[d[0] for d in DELIVERIES])
def test_a_redelivery_is_same_id_sender_and_text(name: str, second: dict, same: bool) -> None:
    first, again = receive(FIRST), receive(second)
    assert (first.provider_id == again.provider_id) is same, name


@pytest.mark.parametrize("gateway_id", ["42", "gw-2024-02-14-000017", "x" * MAX_FIELD])
def test_the_stored_id_shows_the_gateway_id_and_fits_its_column(gateway_id: str) -> None:
    stored = receive({**FIRST, "id": gateway_id}).provider_id
    assert len(stored) <= InboundMessage.__table__.c.provider_id.type.length
    shown = stored.rpartition("#")[0]
    assert shown == gateway_id or (shown.endswith("~") and gateway_id.startswith(shown[:-1]))


def test_two_long_ids_that_differ_only_at_the_end_stay_two() -> None:
    ids = ("y" * 99 + "1", "y" * 99 + "2")
    assert (
        receive({**FIRST, "id": ids[0]}).provider_id != receive({**FIRST, "id": ids[1]}).provider_id
    )


def test_a_reused_id_from_two_officers_is_two_messages_both_answered(
    client, redis_conn, gateway
) -> None:
    """Id "42" from one officer (STATUS), then "42" from another (a tally), then the gateway
    delivering the tally again: both messages stored, processed and answered, once each."""
    assert post_gateway(client, "42", "+6281234567801", "STATUS").status_code == 200
    assert (
        post_gateway(
            client, "42", "081234567802", "PPWP 3576011001002 01=1 02=2 03=3 SAH=6 TS=0"
        ).status_code
        == 200
    )
    assert (
        post_gateway(
            client, "42", "081234567802", "PPWP 3576011001002 01=1 02=2 03=3 SAH=6 TS=0"
        ).status_code
        == 200
    )
    drain(redis_conn)
    with session_scope() as session:
        stored = session.execute(
            select(InboundMessage.sender, InboundMessage.status).order_by(InboundMessage.id)
        ).all()
        [submission] = session.scalars(select(Submission)).all()
        assert submission.tps_code == "3576011001002"
    assert stored == [("+6281234567801", "processed"), ("+6281234567802", "processed")]
    answers = {m["to"]: m["text"] for m in gateway.sent_messages()}
    assert len(gateway.sent_messages()) == 2
    assert answers["+6281234567802"].startswith("Received PPWP TPS 3576011001002")
    assert "3576011001001" in answers["+6281234567801"]
