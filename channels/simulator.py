"""The simulator: a channel with no provider behind it, for training and demos.

Inbound messages are created by `simulate sms` and the /simulator page; a "sent" reply is
simply marked sent in the database, where the simulator reads its thread from.
"""

from __future__ import annotations

from typing import Any

from channels.base import Channel, Incoming, Outgoing, Rejected, SendResult
from relay.config import Settings


class SimulatorChannel(Channel):
    name = "simulator"

    def receive(self, request: Any, settings: Settings) -> list[Incoming]:
        raise Rejected(404, "the simulator has no webhook")

    def acknowledge(self) -> tuple[str, int, dict[str, str]]:
        return "", 204, {}

    def send(self, message: Outgoing, settings: Settings) -> SendResult:
        return SendResult(provider_id=f"sim-{message.id}")
