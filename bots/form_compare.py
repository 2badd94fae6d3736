"""Two readings of one C.Hasil compared field by field: the confirmed tally and a photo.

Fields are named as the officer types them: `01` (a candidate's or party's own votes),
`01.2` (a party's candidate), section keys (`DPT`, `PHP`, …), `SAH`, `TS`. A field only one
side gives (a quick text count has no sections; a photo shows the whole form) is listed but
is no disagreement: the photo agrees with the tally when every field both give is equal.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from bots.grammar import Tally


@dataclass(frozen=True)
class FieldRow:
    field: str
    confirmed: int | None
    photo: int | None

    @property
    def differs(self) -> bool:
        return None not in (self.confirmed, self.photo) and self.confirmed != self.photo

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "differs": self.differs}


def fields_of(tally: Tally) -> dict[str, int]:
    """Every value of the form a tally gives, by the name the officer types."""
    values: dict[str, int] = {f"{n:02d}": v for n, v in sorted(tally.votes.items())}
    values.update(
        {f"{p:02d}.{c}": v for (p, c), v in sorted(tally.candidate_votes.items())}
    )
    values.update({key.upper(): v for key, v in tally.sections.items()})
    if tally.sah is not None:
        values["SAH"] = tally.sah
    if tally.ts is not None:
        values["TS"] = tally.ts
    return values


def compare(confirmed: Tally, photo: Tally) -> list[FieldRow]:
    """One row per field either side gives, in the confirmed tally's order, then the photo's."""
    mine, theirs = fields_of(confirmed), fields_of(photo)
    order = list(mine) + [k for k in theirs if k not in mine]
    return [FieldRow(k, mine.get(k), theirs.get(k)) for k in order]


def agrees(rows: list[FieldRow]) -> bool:
    """Same numbers: no field both give differs, and they share at least the votes."""
    shared = [r for r in rows if r.confirmed is not None and r.photo is not None]
    return bool(shared) and not any(r.differs for r in rows)
