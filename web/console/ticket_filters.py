"""The ticket queue's search and filters: by TPS or region code, phone, officer name, channel,
how long the officer has waited and who handles it (me, nobody); and how long, in words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Select, func, or_

from relay.models import Officer, Ticket
from relay.phone import InvalidPhone, to_e164

CHANNELS = ("sms-gateway", "telegram", "twilio", "whatsapp", "simulator")
AGES = (5, 15, 30, 60)  # "waiting more than N minutes" choices
ASSIGNED = ("mine", "unassigned")


@dataclass(frozen=True)
class TicketFilter:
    query: str = ""
    channel: str = ""
    older_than: int = 0  # minutes waited at least; 0: any
    assigned: str = ""  # "mine", "unassigned" or "" (anyone)
    me: str = ""  # the operator looking, for "mine"

    @classmethod
    def from_args(cls, args, me: str = "") -> TicketFilter:  # type: ignore[no-untyped-def]
        channel = args.get("channel", "")
        try:
            older = int(args.get("older_than", "0") or 0)
        except ValueError:
            older = 0
        return cls(
            query=args.get("q", "").strip()[:100],
            channel=channel if channel in CHANNELS else "",
            older_than=older if older in AGES else 0,
            assigned=args.get("assigned", "") if args.get("assigned") in ASSIGNED else "",
            me=me,
        )

    @property
    def active(self) -> bool:
        return bool(self.query or self.channel or self.older_than or self.assigned)

    def apply(self, query: Select, now: datetime | None = None) -> Select:
        if self.assigned == "mine":
            query = query.where(Ticket.assigned_to == self.me)
        elif self.assigned == "unassigned":
            query = query.where(Ticket.assigned_to.is_(None))
        if self.channel:
            query = query.where(Ticket.channel == self.channel)
        if self.older_than:
            since = (now or datetime.now(UTC)) - timedelta(minutes=self.older_than)
            query = query.where(Ticket.waiting_since <= since)
        if self.query:
            query = query.outerjoin(Officer, Officer.id == Ticket.officer_id).where(
                _matches(self.query)
            )
        return query


def _matches(text: str):  # type: ignore[no-untyped-def]
    """Digits: a TPS or region code prefix, or a phone number (08…, 62…, +62…); words: the
    officer's name."""
    digits = "".join(ch for ch in text if ch.isdigit())
    if digits and len(digits) >= 2 and not any(ch.isalpha() for ch in text):
        found = [Officer.tps_code.startswith(digits), Officer.village_code.startswith(digits)]
        try:
            found.append(Officer.phone.startswith(to_e164(text)))
        except InvalidPhone:
            pass
        found.append(Officer.phone.contains(digits))
        return or_(*found)
    return func.lower(Officer.name).contains(text.lower())


def waited(since: datetime | None, now: datetime | None = None) -> tuple[int, int] | None:
    """(hours, minutes) waited since `since`; None when nobody waits."""
    if since is None:
        return None
    since = since if since.tzinfo else since.replace(tzinfo=UTC)
    minutes = max(int(((now or datetime.now(UTC)) - since).total_seconds() // 60), 0)
    return divmod(minutes, 60)
