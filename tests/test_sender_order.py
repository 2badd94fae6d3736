"""The Procfile's `sender` takes the channels' queues in turn, and replies to senders on no
roster only when no officer's reply waits (jobs.sender.SenderWorker.reorder_queues)."""

from __future__ import annotations

import shlex

from rq import Queue
from rq.worker import DequeueStrategy

from jobs.queues import INBOUND, INBOUND_UNKNOWN, OUTBOUND_UNKNOWN
from jobs.sender import SenderWorker
from tests.live import procfile_command
from tests.support import post_gateway, post_twilio_sms

OFFICER = "+6281234567801"  # kpps of TPS 3576011001001 (Twilio SMS)
GATEWAY_OFFICER = "+6281234567802"  # kpps of TPS 3576011001002 (SMS gateway)
OUTSIDERS = [f"+6289900000{i:03d}" for i in range(4)]


def sender_queues() -> list[str]:
    """The queue names the Procfile's sender line lists, in its order."""
    words = shlex.split(procfile_command("sender"))
    return [w for w in words[words.index("round_robin") + 1 :] if not w.startswith("-")]


def test_replies_to_outsiders_go_out_after_every_officers_reply(
    client, redis_conn, twilio, gateway
) -> None:
    for i, outsider in enumerate(OUTSIDERS):  # the outsiders write first
        assert post_twilio_sms(client, outsider, "halo", sid=f"SM{'u' * 31}{i}").status_code == 200
    for i in range(3):
        assert post_twilio_sms(client, OFFICER, "STATUS", sid=f"SM{'o' * 31}{i}").status_code == 200
        assert post_gateway(client, f"gw-{i}", GATEWAY_OFFICER, "STATUS").status_code == 200
    inbound = [Queue(name, connection=redis_conn) for name in (INBOUND, INBOUND_UNKNOWN)]
    SenderWorker(inbound, connection=redis_conn).work(burst=True, logging_level="WARNING")
    assert Queue(OUTBOUND_UNKNOWN, connection=redis_conn).count >= 1

    queues = [Queue(name, connection=redis_conn) for name in sender_queues()]
    assert queues[-1].name == OUTBOUND_UNKNOWN
    SenderWorker(queues, connection=redis_conn).work(
        burst=True, logging_level="WARNING", dequeue_strategy=DequeueStrategy.ROUND_ROBIN
    )
    sent_to = [m["To"] for m in twilio.sent_messages()]
    assert sent_to.count(OFFICER) == 3 and len(gateway.requests) >= 3
    first_outsider = min(i for i, to in enumerate(sent_to) if to in OUTSIDERS)
    assert all(to in OUTSIDERS for to in sent_to[first_outsider:])
