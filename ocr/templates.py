"""Form templates as data: which fields a contest's tally form has, and on which page and slot.

A template is derived from the election in the database (contest code, name, ballot numbers),
never stored: its `version` is a hash of everything that decides where a field sits, so a form
printed for an older candidate list is recognised as such instead of being misread.

Fields, in order: one per ballot number (key "01", "02", …), then SAH (valid votes), TS (invalid
votes), BALLOTS (ballots used) and VOTERS (voters who voted). The form's arithmetic (DESIGN §1):
sum of ballot fields = SAH; SAH + TS = BALLOTS = VOTERS ≤ the TPS's registered voters.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ocr import layout

LAYOUT_VERSION = 1
TEMPLATE_PREFIX = "CHASIL"

KIND_CANDIDATE = "candidate"
TOTAL_KEYS = ("SAH", "TS", "BALLOTS", "VOTERS")
TOTAL_LABELS = {
    "SAH": ("SAH", "Suara sah"),
    "TS": ("TS", "Suara tidak sah"),
    "BALLOTS": ("SS", "Surat suara dipakai"),
    "VOTERS": ("PHP", "Pemilih hadir"),
}


@dataclass(frozen=True)
class FormField:
    key: str  # "01".."NN" for ballot numbers, or one of TOTAL_KEYS
    kind: str  # "candidate" or the total's key
    code: str  # short label printed big: "01", "SAH", "TS", "SS", "PHP"
    label: str  # printed small under/after the code (party or candidate name, or meaning)
    page: int  # 1-based
    slot: int  # 0..FIELDS_PER_PAGE-1 on its page
    ballot_number: int | None = None

    def digits(self) -> tuple[layout.DigitGeometry, ...]:
        return layout.digit_geometry(self.slot)


@dataclass(frozen=True)
class FormTemplate:
    contest_code: str
    contest_name: str
    fields: tuple[FormField, ...]
    pages: int
    version: str
    template_id: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "template_id", f"{TEMPLATE_PREFIX}-{self.contest_code}")

    def fields_on(self, page: int) -> tuple[FormField, ...]:
        return tuple(f for f in self.fields if f.page == page)

    def get_field(self, key: str) -> FormField:
        for f in self.fields:
            if f.key == key:
                return f
        raise KeyError(key)

    @property
    def candidate_keys(self) -> tuple[str, ...]:
        return tuple(f.key for f in self.fields if f.kind == KIND_CANDIDATE)


def ballot_key(number: int) -> str:
    return f"{number:02d}"


def build_template(
    contest_code: str, contest_name: str, candidates: Sequence[tuple[int, str]]
) -> FormTemplate:
    """The template for a contest; `candidates` are (ballot number, name) in any order.

    Ballot fields fill the pages in ballot order; the four totals always share the last page,
    so the SAH/TS/ballots/voters arithmetic can be checked on one photo.
    """
    ordered = sorted(candidates)
    per_page = layout.FIELDS_PER_PAGE
    fields: list[FormField] = []
    index = 0
    for number, name in ordered:
        page, slot = divmod(index, per_page)
        fields.append(
            FormField(
                key=ballot_key(number),
                kind=KIND_CANDIDATE,
                code=ballot_key(number),
                label=name,
                page=page + 1,
                slot=slot,
                ballot_number=number,
            )
        )
        index += 1
    if index % per_page > per_page - len(TOTAL_KEYS):
        index += per_page - index % per_page  # start the totals on a fresh page
    for key in TOTAL_KEYS:
        page, slot = divmod(index, per_page)
        code, label = TOTAL_LABELS[key]
        fields.append(
            FormField(key=key, kind=key, code=code, label=label, page=page + 1, slot=slot)
        )
        index += 1
    digest = hashlib.sha1(
        json.dumps(
            [LAYOUT_VERSION, contest_code, [(f.key, f.page, f.slot) for f in fields]],
            separators=(",", ":"),
        ).encode()
    ).hexdigest()[:8]
    return FormTemplate(
        contest_code=contest_code,
        contest_name=contest_name,
        fields=tuple(fields),
        pages=fields[-1].page,
        version=digest,
    )


def template_for(session, contest_code: str) -> FormTemplate | None:  # type: ignore[no-untyped-def]
    """The template of `contest_code` from the election in the database, or None."""
    from relay.models import Contest

    contest = session.get(Contest, contest_code.upper())
    if contest is None:
        return None
    return build_template(
        contest.code, contest.name, [(c.ballot_number, c.name) for c in contest.candidates]
    )


class FormLookup(Protocol):
    """What the reader needs from the election, so that it needs no database session."""

    def template(self, contest_code: str) -> FormTemplate | None: ...

    def registered_voters(self, tps_code: str) -> int | None: ...


class StaticLookup:
    """A FormLookup over templates and voter counts held in memory (CLI, bench, tests)."""

    def __init__(
        self, templates: Sequence[FormTemplate], registered: dict[str, int] | None = None
    ) -> None:
        self._templates = {t.contest_code: t for t in templates}
        self._registered = dict(registered or {})

    def template(self, contest_code: str) -> FormTemplate | None:
        return self._templates.get(contest_code)

    def registered_voters(self, tps_code: str) -> int | None:
        return self._registered.get(tps_code)


class DbLookup:
    """A FormLookup reading the election from an open SQLAlchemy session (caches templates)."""

    def __init__(self, session) -> None:  # type: ignore[no-untyped-def]
        self._session = session
        self._cache: dict[str, FormTemplate | None] = {}

    def template(self, contest_code: str) -> FormTemplate | None:
        if contest_code not in self._cache:
            self._cache[contest_code] = template_for(self._session, contest_code)
        return self._cache[contest_code]

    def registered_voters(self, tps_code: str) -> int | None:
        from relay.models import Tps

        tps = self._session.get(Tps, tps_code)
        return None if tps is None else tps.registered_voters
