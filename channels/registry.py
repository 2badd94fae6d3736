"""Which adapter serves which stored channel name."""

from __future__ import annotations

from channels.base import Channel
from channels.simulator import SimulatorChannel
from channels.sms_gateway import SmsGatewayChannel
from channels.telegram import TelegramChannel
from channels.twilio import TwilioChannel

_TWILIO = TwilioChannel()
ADAPTERS: dict[str, Channel] = {
    "twilio": _TWILIO,
    "whatsapp": _TWILIO,
    "sms-gateway": SmsGatewayChannel(),
    "simulator": SimulatorChannel(),
    "telegram": TelegramChannel(),
}


def adapter_for(channel: str) -> Channel:
    return ADAPTERS[channel]
