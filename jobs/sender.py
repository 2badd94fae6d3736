"""The RQ worker class the Procfile's `sender` runs: the outbound queues, one per channel
(`rq worker -w jobs.sender.SenderWorker outbound-twilio outbound-telegram …`).

Sends are kept out of the `worker` process so that a conversation never waits behind a
provider, and each channel has its queue so that the sender takes them in turn
(`--dequeue-strategy round_robin`); a provider that hangs is given one timeout per
cool-down by jobs.circuit, not one per message. Where one channel's volume or a provider's
slowness needs it, run a sender for that channel's queue alone (see docs/CAPACITY.md).

A send is short (a few HTTP calls bounded by SEND_TIMEOUT), so it runs in this process
without forking, with warm imports and pooled connections; it loads none of the OCR.
"""

from __future__ import annotations

import twilio.rest.api.v2010.account.message  # the client imports it lazily, ~30 ms
from rq.queue import Queue
from sqlalchemy.orm import configure_mappers

import jobs.outbound
from jobs.queues import OUTBOUND_UNKNOWN
from jobs.scheduling import SchedulingWorker

PRELOADED = (jobs.outbound, twilio.rest.api.v2010.account.message)

configure_mappers()


class SenderWorker(SchedulingWorker):
    """Runs every job in process (SchedulingWorker's default): its queues hold only sends."""

    def reorder_queues(self, reference_queue: Queue) -> None:
        """Round robin over the officers' channel queues; replies to senders on no roster
        (jobs.queues.OUTBOUND_UNKNOWN) stay last, taken only when no officer's reply waits."""
        super().reorder_queues(reference_queue)
        self._ordered_queues = [
            *(q for q in self._ordered_queues if q.name != OUTBOUND_UNKNOWN),
            *(q for q in self._ordered_queues if q.name == OUTBOUND_UNKNOWN),
        ]
