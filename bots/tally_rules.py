"""Consistency rules for a parsed tally (DESIGN.md section 6). Pure: no DB, no I/O."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from bots.grammar import Tally

__all__ = ["RuleFailure", "check_tally"]


@dataclass(frozen=True)
class RuleFailure:
    """One failed rule: ``code`` names it, ``params`` carries the numbers for the reply."""

    code: str
    params: dict[str, object] = field(default_factory=dict, hash=False)


def check_tally(
    tally: Tally, ballot_numbers: Collection[int], registered_voters: int
) -> list[RuleFailure]:
    """Return every failed rule, in a fixed order; an empty list means the tally is accepted.

    Order: unknown_ballot, missing_ballot, missing_sah, missing_ts, sah_mismatch (only when no
    ballot is unknown or missing), over_registered (only when both SAH and TS are present).
    """
    contest = set(ballot_numbers)
    failures: list[RuleFailure] = []
    unknown = sorted(n for n in tally.votes if n not in contest)
    missing = sorted(n for n in contest if n not in tally.votes)
    if unknown:
        failures.append(RuleFailure("unknown_ballot", {"numbers": unknown}))
    if missing:
        failures.append(RuleFailure("missing_ballot", {"numbers": missing}))
    if tally.sah is None:
        failures.append(RuleFailure("missing_sah", {}))
    if tally.ts is None:
        failures.append(RuleFailure("missing_ts", {}))
    total = sum(tally.votes.values())
    if not unknown and not missing and tally.sah is not None and total != tally.sah:
        failures.append(RuleFailure("sah_mismatch", {"total": total, "sah": tally.sah}))
    if tally.sah is not None and tally.ts is not None:
        used = tally.sah + tally.ts
        if used > registered_voters:
            failures.append(
                RuleFailure(
                    "over_registered",
                    {
                        "used": used,
                        "sah": tally.sah,
                        "ts": tally.ts,
                        "registered": registered_voters,
                    },
                )
            )
    return failures
