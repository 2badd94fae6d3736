"""One tally from the photographed pages of one TPS's form: the values of every page, the
rules that span pages (SAH = the sum of party totals on other pages, a party's total when its
list runs over a page break, SAH + TS = SS = PHP, …) checked once every page is in, and the
pages still missing.

    form = assemble(template, pages, registered)   # pages: {page number: PageReading}
    form.missing  → (2, 5)          form.votes, form.candidate_votes, form.sections, form.sah
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ocr import formrules
from ocr.arith import Check
from ocr.templates import (
    DERIVED_KEYS,
    KIND_CANDIDATE,
    KIND_PARTY,
    KIND_PARTY_CANDIDATE,
    FormTemplate,
)


@dataclass(frozen=True)
class PageReading:
    """What one page gave: its values (optional fields left blank are absent) and the ones the
    officer must check, with their confidence."""

    page: int
    values: dict[str, int] = field(hash=False)
    doubts: dict[str, float] = field(default_factory=dict, hash=False)  # key → confidence
    failed: tuple[str, ...] = ()  # the page's own checks that failed

    @property
    def uncertain(self) -> frozenset[str]:
        return frozenset(self.doubts)

    @classmethod
    def from_result(cls, result) -> PageReading:  # type: ignore[no-untyped-def]
        """From an ocr.reader.ReadResult."""
        return cls(
            page=int(result.page),
            values=result.values(),
            doubts={f.key: round(f.confidence, 3) for f in result.fields
                    if f.uncertain and f.given},
            failed=tuple(c.name for c in result.checks if not c.ok),
        )

    def to_json(self) -> dict[str, object]:
        return {"page": self.page, "values": self.values, "doubts": self.doubts,
                "failed": list(self.failed)}

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> PageReading:
        return cls(
            page=int(data["page"]),  # type: ignore[call-overload]
            values={str(k): int(v) for k, v in data["values"].items()},  # type: ignore[attr-defined]
            doubts={str(k): float(v) for k, v in data.get("doubts", {}).items()},  # type: ignore[attr-defined]
            failed=tuple(data.get("failed", ())),  # type: ignore[arg-type]
        )


@dataclass(frozen=True)
class AssembledForm:
    template: FormTemplate
    pages_in: tuple[int, ...]
    missing: tuple[int, ...]
    values: dict[str, int] = field(hash=False)
    doubts: dict[str, float] = field(hash=False)  # key → confidence, fields to check
    checks: tuple[Check, ...]

    @property
    def uncertain(self) -> frozenset[str]:
        return frozenset(self.doubts)

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def failed(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.ok)

    @property
    def votes(self) -> dict[int, int]:
        """Ballot number → the candidate's votes, or the party's own votes (NN=)."""
        return {
            f.ballot_number: self.values[f.key]  # type: ignore[misc]
            for f in self.template.fields
            if f.kind in (KIND_CANDIDATE, KIND_PARTY) and f.key in self.values
        }

    @property
    def candidate_votes(self) -> dict[tuple[int, int], int]:
        """(party, candidate) → votes (NN.K=)."""
        return {
            (f.ballot_number, f.candidate_number): self.values[f.key]  # type: ignore[misc]
            for f in self.template.fields
            if f.kind == KIND_PARTY_CANDIDATE and f.key in self.values
        }

    @property
    def sections(self) -> dict[str, int]:
        """DPT, PHP, SSD, … as the grammar has them (the printed totals JDPT and JSAHTS are
        checked here and not sent on)."""
        from ocr.templates import SECTION_FIELD_KEYS

        return {
            k: self.values[k]
            for k in SECTION_FIELD_KEYS
            if k in self.values and k not in DERIVED_KEYS
        }

    @property
    def sah(self) -> int | None:
        return self.values.get("SAH")

    @property
    def ts(self) -> int | None:
        return self.values.get("TS")


def assemble(
    template: FormTemplate, pages: Mapping[int, PageReading], registered: int | None
) -> AssembledForm:
    """Merge the pages read so far (a page read again replaces the earlier reading)."""
    values: dict[str, int] = {}
    doubts: dict[str, float] = {}
    pages_in = tuple(sorted(p for p in pages if 1 <= p <= template.pages))
    for number in pages_in:
        reading = pages[number]
        on_page = {f.key for f in template.fields_on(number)}
        values.update({k: v for k, v in reading.values.items() if k in on_page})
        doubts.update({k: v for k, v in reading.doubts.items() if k in on_page})
    missing = tuple(p for p in range(1, template.pages + 1) if p not in pages)
    checks = tuple(formrules.checks(values, template, registered))
    return AssembledForm(template, pages_in, missing, values, doubts, checks)


def page_ranges(pages: tuple[int, ...]) -> str:
    """(2, 3, 4, 7) → "2-4, 7"."""
    out: list[str] = []
    start = prev = None
    for p in (*pages, None):
        if p is not None and prev is not None and p == prev + 1:
            prev = p
            continue
        if start is not None:
            out.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = p
    return ", ".join(out)
