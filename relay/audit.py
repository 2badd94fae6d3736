"""Append an entry to the audit log (never updated, never deleted)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from relay.models import AuditEntry


def record(
    session: Session,
    actor: str,
    action: str,
    entity: str,
    entity_id: object,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        actor=actor, action=action, entity=entity, entity_id=str(entity_id), detail=detail or {}
    )
    session.add(entry)
    return entry
