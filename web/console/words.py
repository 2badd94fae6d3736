"""Review details and the audit trail in sentences, in the page's language, instead of the
stored JSON: every kind of review item and every audited action an operator reads."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from relay.models import AuditEntry, ReviewItem
from web.i18n import CATALOG, t
from web.rule_words import rule_words


def values(found: Any) -> str:
    """{"votes": {"01": 120}, "sah": 255, "ts": 5} → "01=120 SAH=255 TS=5"."""
    if not isinstance(found, Mapping):
        return "–" if found is None else str(found)
    votes = found.get("votes") or {}
    parts = [f"{key}={value}" for key, value in sorted(votes.items())]
    parts += [f"{key.upper()}={found[key]}" for key in ("sah", "ts") if key in found]
    return " ".join(parts) or "–"


def _percent(value: Any) -> str:
    try:
        return str(round(float(value) * 100))
    except (TypeError, ValueError):
        return "?"


def item_reasons(item: ReviewItem) -> list[str]:
    """Why the item is in the queue, one sentence per fact in its detail."""
    detail: Mapping[str, Any] = item.detail or {}
    said: list[str] = []
    handled = {"source", "compare", "differs", "doubts", "fields", "rules", "warnings", "typed",
               "changes", "before", "message", "checks", "receipt"}
    if detail.get("compare") is not None and item.kind in ("conflict", "change_request"):
        fields = ", ".join(detail.get("differs") or []) or "–"
        said.append(t(f"why_{item.kind}_photo", fields=fields))
    if item.kind == "change_request" and detail.get("changes"):
        before = detail.get("before") or {}
        changes = ", ".join(
            f"{key} {before.get(key, '?')} → {value}" for key, value in detail["changes"].items()
        )
        said.append(t("why_changes", receipt=detail.get("receipt", "?"), changes=changes))
    for field, sure in sorted(dict(detail.get("doubts") or detail.get("fields") or {}).items()):
        said.append(t("why_doubt", field=field, p=_percent(sure)))
    warnings = detail.get("warnings") or {}
    for code in detail.get("rules") or []:
        if code == "differs_from_typed":
            said.append(t("why_typed", receipt=detail.get("typed", "?")))
        elif code in warnings:
            said.append(t("why_warning", rule=rule_words(code)))
        else:
            said.append(t("why_rule", rule=rule_words(code)))
    for code in detail.get("checks") or []:
        said.append(t("why_rule", rule=rule_words(code)))
    for key, value in detail.items():
        if key not in handled:
            said.append(t("why_other", key=key.replace("_", " "), value=_plain(value)))
    return said


def _plain(value: Any) -> str:
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {_plain(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_plain(v) for v in value)
    return "–" if value is None else str(value)


def actor(name: str) -> str:
    """`operator:ani` → ani; `officer:12` → officer #12; `system`/jobs → system."""
    kind, _, rest = name.partition(":")
    if kind == "operator" and rest:
        return rest
    if kind == "officer" and rest:
        return t("actor_officer", n=rest)
    if kind in ("cli", "simulator"):
        return name
    return t("actor_system") if not rest else name


def audit_sentence(entry: AuditEntry) -> str:
    """One audited action in words; an action without a sentence shows its name and detail."""
    detail: Mapping[str, Any] = entry.detail or {}
    key = f"audit_{entry.action}"
    if entry.action == "ticket_claimed" and detail.get("from"):
        key = "audit_ticket_taken_over"
    if key not in CATALOG:
        rest = _plain({k: v for k, v in detail.items() if k not in ("training", "as")})
        said = entry.action.replace("_", " ") + (f": {rest}" if rest else "")
    else:
        params = {k: ("–" if v is None else v) for k, v in detail.items()}
        for name in ("before", "after"):
            params[name] = values(detail.get(name))
        if "values" in detail:
            params["values"] = values(detail["values"])
        source = str(detail.get("source") or "text")
        params["source"] = (
            t(f"words_source_{source}") if f"words_source_{source}" in CATALOG else source
        )
        params["note"] = detail.get("note") or "–"
        params["resolution"] = detail.get("resolution") or "–"
        params.setdefault("channel", "?")
        said = _format(key, params)
    if detail.get("training"):
        said += t("audit_training")
    return said


class _Missing(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> str:
        return "?"


def _format(key: str, params: dict[str, Any]) -> str:
    template = t(key)  # no params: the raw template in the page's language
    return template.format_map(_Missing(params))
