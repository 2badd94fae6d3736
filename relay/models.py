"""The domain model: regions, TPS, contests, officers, messages, submissions, audit log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """A stored time with its zone: SQLite returns naive datetimes for timezone-aware
    columns; they are UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar = {dict[str, Any]: JSON, list[Any]: JSON}


class Region(Base):
    """A province, regency/city, district or village, identified by its Kemendagri code."""

    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(10))  # province|regency|district|village
    parent_code: Mapped[str | None] = mapped_column(
        ForeignKey("regions.code"), index=True, default=None
    )


class Tps(Base):
    """A polling station: 10-digit village code + 3-digit TPS number."""

    __tablename__ = "tps"

    code: Mapped[str] = mapped_column(String(13), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    village_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    registered_voters: Mapped[int] = mapped_column(Integer)


class Contest(Base):
    """One race on the ballot (PPWP, DPR, …); `region_scope` empty means nationwide.

    `kind` "candidates" (PPWP, DPD, pilkada pairs: votes per candidate by ballot number) or
    "parties" (DPR, DPRD: per party its own votes and its candidates' votes, the candidates
    differing per electoral district, `Dapil`). `required_sections`: the C.Hasil sections an
    officer must send for this contest beyond the votes (relay.ballots.SECTIONS).
    """

    __tablename__ = "contests"

    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    region_scope: Mapped[list[Any]] = mapped_column(default=list)
    kind: Mapped[str] = mapped_column(String(10), default="candidates")
    required_sections: Mapped[list[Any]] = mapped_column(default=list)

    candidates: Mapped[list[Candidate]] = relationship(
        order_by="Candidate.ballot_number", cascade="all, delete-orphan"
    )

    def applies_to(self, tps_code: str) -> bool:
        return not self.region_scope or any(tps_code.startswith(p) for p in self.region_scope)


class Candidate(Base):
    __tablename__ = "candidates"
    __table_args__ = (UniqueConstraint("contest_code", "ballot_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contest_code: Mapped[str] = mapped_column(ForeignKey("contests.code"))
    ballot_number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(300))


class Dapil(Base):
    """An electoral district of a party contest, or an area of a regional candidate contest
    (`AreaCandidate`): the regions (code prefixes) it covers."""

    __tablename__ = "dapils"

    contest_code: Mapped[str] = mapped_column(ForeignKey("contests.code"), primary_key=True)
    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    regions: Mapped[list[Any]] = mapped_column(default=list)


class AreaCandidate(Base):
    """Candidate `ballot_number` of a regional candidate contest (DPD per province, governor
    per province, regent per regency, mayor per city) in one of its areas: a `Dapil` row of
    the contest (migration 0012). Numbers name a person only within their area."""

    __tablename__ = "area_candidates"

    contest_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    area_code: Mapped[str] = mapped_column(String(20), primary_key=True)
    ballot_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(300))


class PartyCandidate(Base):
    """Candidate `candidate_number` on party `party_number`'s list in one dapil."""

    __tablename__ = "party_candidates"

    contest_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    dapil_code: Mapped[str] = mapped_column(String(20), primary_key=True)
    party_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    candidate_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(300))


class CatalogueStamp(Base):
    """One row whose token changes, by trigger (migration 0017), in every transaction that
    writes contests, candidates, dapils/areas or their lists: what relay.catalogue checks
    before it serves the catalogue it keeps in memory. No row: the catalogue is not kept."""

    __tablename__ = "catalogue_stamp"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(32))


class Officer(Base):
    """A roster entry. kpps officers report one TPS; pps officers any TPS of their village."""

    __tablename__ = "officers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)  # E.164
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(4))  # kpps|pps
    tps_code: Mapped[str | None] = mapped_column(ForeignKey("tps.code"), default=None)
    village_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    language: Mapped[str] = mapped_column(String(2), default="id")
    telegram_user_id: Mapped[int | None] = mapped_column(BigInteger, unique=True, default=None)
    reachable: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def may_report(self, tps: Tps) -> bool:
        if self.role == "kpps":
            return self.tps_code == tps.code
        return self.village_code == tps.village_code


class InboundMessage(Base):
    """Every message a channel delivered, stored raw before it is acknowledged."""

    __tablename__ = "inbound_messages"
    __table_args__ = (UniqueConstraint("channel", "provider_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    provider_id: Mapped[str] = mapped_column(String(100))
    sender: Mapped[str] = mapped_column(String(100), index=True)
    text: Mapped[str] = mapped_column(Text, default="")
    media: Mapped[list[Any]] = mapped_column(default=list)
    payload: Mapped[str] = mapped_column(Text)
    # Channel events beyond text (shared contact, button press, unsupported content).
    event: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"), default=None)
    # received → processed | rate_limited | held | failed (its job kept failing: needs
    # attention); an officer's message over the rate limit: received → deferred → processed
    # (INBOUND_PENDING: still to be processed)
    status: Mapped[str] = mapped_column(String(20), default="received", index=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    # Jobs that ended failed (each after RQ's own retries), and when the sweeper may drive
    # the message again (jobs.sweeper; migration 0005).
    job_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    retry_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    # After the conversation: the job its photos still wait for, media (download) → photo
    # (reading) → None; media_failed or photo_failed once it kept failing (needs attention).
    follow_up: Mapped[str | None] = mapped_column(String(20), default=None, index=True)


INBOUND_PENDING = ("received", "deferred")


class Submission(Base):
    """A tally for one TPS and contest, as reported by one message."""

    __tablename__ = "submissions"
    __table_args__ = (
        Index("ix_submissions_tps_contest", "tps_code", "contest_code"),
        # At most one confirmed tally per TPS and contest, enforced by the database; the
        # simulator's training tallies have their own slot and never take the real one.
        Index(
            "uq_submissions_confirmed",
            "tps_code",
            "contest_code",
            "training",
            unique=True,
            sqlite_where=text("status = 'confirmed'"),
            postgresql_where=text("status = 'confirmed'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    receipt_code: Mapped[str] = mapped_column(String(8), unique=True)
    tps_code: Mapped[str] = mapped_column(ForeignKey("tps.code"))
    contest_code: Mapped[str] = mapped_column(ForeignKey("contests.code"))
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"), index=True)
    inbound_id: Mapped[int] = mapped_column(ForeignKey("inbound_messages.id"), unique=True)
    source: Mapped[str] = mapped_column(String(10), default="text")  # text|photo
    # As sent: {"1": 120, ...} by ballot number; for party contests the party's own votes.
    votes: Mapped[dict[str, Any]] = mapped_column()
    # Party contests: {"1.2": 30, ...} candidate 2 of party 1.
    candidate_votes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The other C.Hasil sections as sent: {"DPT": 280, "PHP": 255, "SSD": 286, ...}.
    sections: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # None only while a tally sent in parts is pending without them (migration 0009).
    sah: Mapped[int | None] = mapped_column(Integer, nullable=True)
    ts: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # pending → confirmed | rejected | superseded
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    reason: Mapped[str | None] = mapped_column(String(40), default=None)
    # Sent through a training channel (the simulator): never counted in the public results.
    training: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    # When an operator last changed its numbers (migration 0018): a `YA` the officer sent
    # before then was for other numbers and confirms nothing (bots.tallies).
    changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)

    def votes_by_ballot(self) -> dict[int, int]:
        """What each ballot number counts towards SAH: a candidate's votes, or a party's
        total (its own votes plus its candidates')."""
        totals = self.own_votes_by_ballot()
        for (party, _), votes in self.candidate_votes_by_number().items():
            totals[party] = totals.get(party, 0) + votes
        return totals

    def own_votes_by_ballot(self) -> dict[int, int]:
        return {int(k): int(v) for k, v in self.votes.items()}

    def candidate_votes_by_number(self) -> dict[tuple[int, int], int]:
        pairs = {}
        for key, votes in (self.candidate_votes or {}).items():
            party, _, candidate = key.partition(".")
            pairs[(int(party), int(candidate))] = int(votes)
        return pairs


class PhotoPage(Base):
    """One photographed page of a multi-page C.Hasil, read and kept until the TPS's form for
    that contest is complete (its pages may come in several messages); a page photographed
    again replaces the earlier reading (migration 0011)."""

    __tablename__ = "photo_pages"
    __table_args__ = (
        UniqueConstraint(
            "tps_code", "contest_code", "form_version", "page", "training",
            name="uq_photo_pages_page",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tps_code: Mapped[str] = mapped_column(ForeignKey("tps.code"))
    contest_code: Mapped[str] = mapped_column(ForeignKey("contests.code"))
    form_version: Mapped[str] = mapped_column(String(8))  # ocr FormTemplate.version
    page: Mapped[int] = mapped_column(Integer)
    pages: Mapped[int] = mapped_column(Integer)
    training: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"))
    inbound_id: Mapped[int] = mapped_column(ForeignKey("inbound_messages.id"))
    # ocr.assemble.PageReading.to_json(): values, uncertain keys, failed page checks.
    reading: Mapped[dict[str, Any]] = mapped_column()
    annotated_key: Mapped[str | None] = mapped_column(String(200), default=None)
    read_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OutboundMessage(Base):
    """A reply or notice waiting to be sent, or sent, through one channel."""

    __tablename__ = "outbound_messages"
    __table_args__ = (UniqueConstraint("inbound_id", "sequence"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    to_address: Mapped[str] = mapped_column(String(100), index=True)
    text: Mapped[str] = mapped_column(Text)
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"), default=None)
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"), default=None)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    # Channel extras: buttons, a contact request, an edit of an earlier message, a photo.
    extras: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    # queued → sent | failed
    status: Mapped[str] = mapped_column(String(10), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    provider_id: Mapped[str | None] = mapped_column(String(100), default=None, index=True)
    error_kind: Mapped[str | None] = mapped_column(String(20), default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    # Send jobs that crashed (not provider refusals, which `attempts` counts), and when the
    # sweeper may drive the message again (jobs.sweeper; migration 0005).
    job_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    retry_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    # An operator's reply its channel could not deliver, sent again by SMS: this row is the
    # SMS, `fallback_of_id` the message it replaces (jobs.fallback; migration 0013).
    fallback_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbound_messages.id", name="fk_outbound_messages_fallback_of_id"),
        unique=True,
        default=None,
    )
    # The provider's last word on delivery (Twilio status callbacks: sent, delivered, read,
    # failed, undelivered), beyond our own queued → sent | failed.
    provider_status: Mapped[str | None] = mapped_column(String(20), default=None)


class TallyEvidence(Base):
    """A photo of the form agreeing with a confirmed tally, kept as its evidence (shown on
    the public TPS page) instead of thrown away (bots.evidence; migration 0013)."""

    __tablename__ = "tally_evidence"
    __table_args__ = (
        UniqueConstraint("submission_id", "media_key", name="uq_tally_evidence_media"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    inbound_id: Mapped[int] = mapped_column(ForeignKey("inbound_messages.id"))
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"))
    page: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    media_key: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    annotated_key: Mapped[str | None] = mapped_column(String(200), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Ticket(Base):
    """A help-desk conversation opened by an officer (or an unknown sender)."""

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"), default=None)
    channel: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Since when the officer waits for an operator (None once answered); the queue's order.
    waiting_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    # The operator working on it (claimed, or assigned by a supervisor); None: nobody yet.
    assigned_to: Mapped[str | None] = mapped_column(String(100), default=None, index=True)
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)

    messages: Mapped[list[TicketMessage]] = relationship(order_by="TicketMessage.id")


class TicketMessage(Base):
    __tablename__ = "ticket_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    direction: Mapped[str] = mapped_column(String(3))  # in|out
    body: Mapped[str] = mapped_column(Text)
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"), default=None)
    author: Mapped[str | None] = mapped_column(String(100), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # An operator's reply: the message that carries it, for its delivery status.
    outbound_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbound_messages.id"), default=None
    )


class CannedReply(Base):
    """A ready answer an operator inserts into a reply (and may edit before sending), in the
    officer's language; supervisors edit them in the console."""

    __tablename__ = "canned_replies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(60))
    body_id: Mapped[str] = mapped_column(Text)
    body_en: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_by: Mapped[str | None] = mapped_column(String(100), default=None)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


AUDIT_ACTOR_LENGTH = 255


class AuditEntry(Base):
    """Append-only record of every state change that matters to the result.

    The entries form a hash chain (relay.audit): `id` is the entry's position (1, 2, 3, …
    without gaps, given out by relay.audit under a lock), `prev_hash` the `hash` of the entry
    before it, `hash` the SHA-256 of this entry's fields and `prev_hash`. Write them only
    with relay.audit.record().
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(AUDIT_ACTOR_LENGTH))
    action: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Unique: two writers can never both chain onto the same predecessor.
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)


class AuditLogIsAppendOnly(RuntimeError):
    pass


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _refuse_audit_change(_mapper, _connection, target: AuditEntry) -> None:
    raise AuditLogIsAppendOnly(f"audit entry {target.id} cannot be changed")


# --- console, help desk and public results (issue 4) -------------------------------------------


class Operator(Base):
    """A help-desk/review operator of the console; passwords are stored only as hashes."""

    __tablename__ = "operators"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    # A password printed by `operators add` works once: the operator must choose their own.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    # operator < supervisor (approves changes to confirmed tallies) < admin (manages operators)
    role: Mapped[str] = mapped_column(String(20), default="operator", server_default="operator")
    # Failed logins for this name since the operator's last login, shown to them at login.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_failed_login_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), default=None
    )
    last_failed_login_ip: Mapped[str | None] = mapped_column(String(64), default=None)


class OperatorSession(Base):
    """A console login; the cookie holds a random token, the table only its SHA-256."""

    __tablename__ = "operator_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LoginFailure(Base):
    """A failed console login, counted per address and per name to slow down guessing."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_ip_name", "ip", "name", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    ip: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(100), index=True)


class RegionStat(Base):
    """TPS and registered voters under a region ("" = the whole country), precomputed."""

    __tablename__ = "region_stats"

    region_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    tps_count: Mapped[int] = mapped_column(Integer, default=0)
    registered_voters: Mapped[int] = mapped_column(BigInteger, default=0)


class ResultTotal(Base):
    """Confirmed tallies summed per contest and region (province … village)."""

    __tablename__ = "result_totals"

    contest_code: Mapped[str] = mapped_column(ForeignKey("contests.code"), primary_key=True)
    region_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    tps_confirmed: Mapped[int] = mapped_column(Integer, default=0)
    sah: Mapped[int] = mapped_column(BigInteger, default=0)
    ts: Mapped[int] = mapped_column(BigInteger, default=0)
    # When these totals last changed (migration 0015): the public pages' "last updated".
    updated_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), default=None, nullable=True
    )


class ResultVote(Base):
    """Votes per candidate (ballot number) summed per contest and region."""

    __tablename__ = "result_votes"

    contest_code: Mapped[str] = mapped_column(ForeignKey("contests.code"), primary_key=True)
    region_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    ballot_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    votes: Mapped[int] = mapped_column(BigInteger, default=0)


class ResultCandidateVote(Base):
    """Party contests: votes per party candidate summed per contest and region (the party's
    total, own votes included, is its `ResultVote`)."""

    __tablename__ = "result_candidate_votes"

    contest_code: Mapped[str] = mapped_column(ForeignKey("contests.code"), primary_key=True)
    region_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    party_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    candidate_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    votes: Mapped[int] = mapped_column(BigInteger, default=0)


class ResultSection(Base):
    """A C.Hasil section (DPT, PHP, SSD, …) summed per contest and region over the confirmed
    tallies that gave it; `tps_reported` says how many did (sections are optional)."""

    __tablename__ = "result_sections"

    contest_code: Mapped[str] = mapped_column(ForeignKey("contests.code"), primary_key=True)
    region_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    key: Mapped[str] = mapped_column(String(10), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
    tps_reported: Mapped[int] = mapped_column(Integer, default=0)


class ResultTimeline(Base):
    """Tallies confirmed per contest, region and hour, for the dashboard's charts; region ''
    is the country (migration 0014)."""

    __tablename__ = "result_timeline"

    contest_code: Mapped[str] = mapped_column(ForeignKey("contests.code"), primary_key=True)
    region_code: Mapped[str] = mapped_column(String(10), primary_key=True, default="")
    hour: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    confirmed: Mapped[int] = mapped_column(Integer, default=0)


class ReviewItem(Base):
    """A tally a human must look at: conflict, change request, failed checks, low confidence."""

    __tablename__ = "review_items"
    __table_args__ = (UniqueConstraint("kind", "submission_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("submissions.id"), index=True, default=None
    )
    # For conflicts and change requests: the confirmed tally the submission disagrees with.
    other_submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("submissions.id"), default=None
    )
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"), default=None)
    tps_code: Mapped[str | None] = mapped_column(String(13), default=None)
    contest_code: Mapped[str | None] = mapped_column(String(10), default=None)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # open → resolved
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    resolution: Mapped[str | None] = mapped_column(String(40), default=None)
    # "operator:<name>": names have up to 100 characters (migration 0005 widened it).
    resolved_by: Mapped[str | None] = mapped_column(String(200), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class TallyChange(Base):
    """A change to a confirmed tally proposed by one operator, waiting for a supervisor.

    `kind` "change": new numbers typed in the console; "accept": make a review item's
    conflicting tally the confirmed one. `before`/`after` are the values shown to the approver.
    """

    __tablename__ = "tally_changes"
    __table_args__ = (
        # One proposal waits per tally at a time, enforced by the database.
        Index(
            "uq_tally_changes_pending",
            "submission_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    review_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("review_items.id"), default=None
    )
    before: Mapped[dict[str, Any]] = mapped_column(default=dict)
    after: Mapped[dict[str, Any]] = mapped_column(default=dict)
    note: Mapped[str] = mapped_column(String(500))
    # pending → approved | rejected | withdrawn
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    proposed_by: Mapped[str] = mapped_column(String(100))
    proposed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(100), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    decision_note: Mapped[str | None] = mapped_column(String(500), default=None)


# The review queue finds new conflicts by their reason (migration 0002c).
Index("ix_submissions_reason", Submission.reason)
