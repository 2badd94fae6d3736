"""The C.Hasil's own rules for a parsed tally (DESIGN.md section 6). Pure: no DB, no I/O.

A tally is checked against the TPS's ballot (`relay.ballots.Ballot`: its numbers, the party
candidate lists of its dapil, the sections the election requires) and the TPS's registered
voters (the DPT when the tally does not give one). Three kinds of outcome:

* incomplete (`MISSING_CODES`): a part of the form is not there yet. The conversation keeps
  such a tally pending (a later SMS may complete it) but it cannot be confirmed;
* failures (every other code): the numbers contradict each other or the ballot;
* warnings (`tally_warnings`): worth a look by an operator, never a rejection.

Every rule needs only the rows it compares: a rule whose rows are not all given is skipped.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from bots.grammar import Tally
from relay.ballots import CANDIDATES, PARTIES, SECTIONS, Ballot, reserve_ballots

__all__ = [
    "MISSING_CODES",
    "RULE_ORDER",
    "RuleFailure",
    "check_tally",
    "incomplete",
    "inconsistent",
    "tally_warnings",
]

PER_LIST = (("PDPT", "DPT"), ("PDPTB", "DPTB"), ("PDPK", "DPK"), ("PDIS", "DIS"))
MISSING_CODES = frozenset(
    {"missing_ballot", "missing_sah", "missing_ts", "missing_rows", "missing_candidates"}
)
RULE_ORDER = (
    "unknown_ballot",
    "not_party_contest",
    "unknown_candidate",
    "missing_ballot",
    "missing_candidates",
    "missing_sah",
    "missing_ts",
    "missing_rows",
    "sah_mismatch",
    "used_mismatch",
    "over_list",
    "voters_sum",
    "ballots_sum",
    "over_ballots",
)


@dataclass(frozen=True)
class RuleFailure:
    """One failed rule: ``code`` names it, ``params`` carries the rows and numbers."""

    code: str
    params: dict[str, object] = field(default_factory=dict, hash=False)


def _as_ballot(ballot: Ballot | Collection[int]) -> Ballot:
    """A bare list of numbers is a candidate contest with nothing else required."""
    if isinstance(ballot, Ballot):
        return ballot
    return Ballot("", CANDIDATES, tuple(ballot), {})


def _dpt(tally: Tally, registered_voters: int) -> int:
    return tally.sections.get("DPT", registered_voters)


def _php(tally: Tally) -> int | None:
    """PHP as sent, else the sum of the per-list counts when all three are given."""
    if "PHP" in tally.sections:
        return tally.sections["PHP"]
    parts = [tally.sections.get(k) for k in ("PDPT", "PDPTB", "PDPK")]
    return None if None in parts else sum(parts)  # type: ignore[arg-type]


def _missing_rows(tally: Tally, required: Collection[str]) -> list[str]:
    missing: list[str] = []
    for section, rows in SECTIONS.items():  # "voters": PHP, or all three per-list counts
        if section not in required:
            continue
        for row in rows:
            if row == "PHP" and _php(tally) is not None:
                continue
            if row not in tally.sections:
                missing.append(row)
    return missing


def _candidates(tally: Tally, ballot: Ballot) -> tuple[list[RuleFailure], list[str]]:
    """Failures about `NN.K` keys, and the party/candidate keys still missing."""
    failures: list[RuleFailure] = []
    given = sorted(tally.candidate_votes)
    if ballot.kind != PARTIES:
        if given:
            keys = [f"{p:02d}.{k}" for p, k in given]
            failures.append(RuleFailure("not_party_contest", {"keys": keys}))
        return failures, []
    unknown = [
        f"{p:02d}.{k}"
        for p, k in given
        if p in ballot.numbers and k not in ballot.party_candidates.get(p, ())
    ]
    if unknown:
        failures.append(RuleFailure("unknown_candidate", {"keys": unknown}))
    missing: list[str] = []
    if "candidates" in ballot.required:
        with_candidates = {party for party, _ in tally.candidate_votes}
        for party in ballot.numbers:
            if party in with_candidates and party not in tally.votes:
                missing.append(f"{party:02d}")  # its own votes (missing_ballot says the rest)
            missing += [
                f"{party:02d}.{k}"
                for k in ballot.party_candidates.get(party, ())
                if (party, k) not in tally.candidate_votes
            ]
    return failures, missing


def check_tally(
    tally: Tally, ballot: Ballot | Collection[int], registered_voters: int
) -> list[RuleFailure]:
    """Every failed rule in `RULE_ORDER`; an empty list means the tally is complete and right.

    `ballot`: a `relay.ballots.Ballot`, or (as before) the contest's ballot numbers.
    """
    b = _as_ballot(ballot)
    numbers = set(b.numbers)
    failures: list[RuleFailure] = []
    given = set(tally.votes) | {party for party, _ in tally.candidate_votes}
    unknown = sorted(n for n in given if n not in numbers)
    if unknown:
        failures.append(RuleFailure("unknown_ballot", {"numbers": unknown}))
    candidate_failures, missing_candidates = _candidates(tally, b)
    failures += candidate_failures
    missing = sorted(n for n in numbers if n not in given)
    if missing:
        failures.append(RuleFailure("missing_ballot", {"numbers": missing}))
    if missing_candidates:
        failures.append(RuleFailure("missing_candidates", {"keys": missing_candidates}))
    if tally.sah is None:
        failures.append(RuleFailure("missing_sah", {}))
    if tally.ts is None:
        failures.append(RuleFailure("missing_ts", {}))
    rows = _missing_rows(tally, b.required)
    if rows:
        failures.append(RuleFailure("missing_rows", {"rows": rows}))
    votes_complete = not (unknown or missing or missing_candidates or candidate_failures)
    total = sum(tally.votes_by_ballot().values())
    if votes_complete and tally.sah is not None and total != tally.sah:
        failures.append(RuleFailure("sah_mismatch", {"total": total, "sah": tally.sah}))
    failures += _section_rules(tally, registered_voters)
    return failures


def _section_rules(tally: Tally, registered_voters: int) -> list[RuleFailure]:
    failures: list[RuleFailure] = []
    sections = tally.sections
    both = tally.sah is not None and tally.ts is not None
    used = (tally.sah or 0) + (tally.ts or 0)
    # valid + invalid = ballots used = voters who used their right (each when given)
    counts: dict[str, int] = {}
    if both:
        counts["SAH+TS"] = used
    if "SS" in sections:
        counts["SS"] = sections["SS"]
    php = _php(tally)
    if php is not None:
        counts["PHP" if "PHP" in sections else "PDPT+PDPTB+PDPK"] = php
    if len(set(counts.values())) > 1:
        failures.append(RuleFailure("used_mismatch", {"counts": counts}))
    # voters who used their right on a list <= registered on that list
    for voted, listed in PER_LIST:
        if voted not in sections:
            continue
        if listed in sections or listed == "DPT":
            registered = _dpt(tally, registered_voters) if listed == "DPT" else sections[listed]
            if sections[voted] > registered:
                params = {"key": voted, "value": sections[voted], "list": listed}
                failures.append(RuleFailure("over_list", {**params, "registered": registered}))
    # the per-list counts add up to PHP
    parts = [sections.get(k) for k in ("PDPT", "PDPTB", "PDPK")]
    if "PHP" in sections and None not in parts and sum(parts) != sections["PHP"]:  # type: ignore[arg-type]
        failures.append(
            RuleFailure(
                "voters_sum",
                {"pdpt": parts[0], "pdptb": parts[1], "pdpk": parts[2], "php": sections["PHP"]},
            )
        )
    # ballots received = returned + unused + used
    ballots = [sections.get(k) for k in ("SSD", "SSR", "SSTD", "SS")]
    if None not in ballots and ballots[0] != sum(ballots[1:]):  # type: ignore[arg-type]
        ssd, ssr, sstd, ss = ballots
        failures.append(
            RuleFailure(
                "ballots_sum",
                {"ssd": ssd, "ssr": ssr, "sstd": sstd, "ss": ss, "total": ssr + sstd + ss},  # type: ignore[operator]
            )
        )
    # valid + invalid <= ballots available (received, else DPT + the 2% reserve)
    if both:
        if "SSD" in sections:
            available, source = sections["SSD"], "SSD"
        else:
            available, source = reserve_ballots(_dpt(tally, registered_voters)), "DPT"
        if used > available:
            failures.append(
                RuleFailure(
                    "over_ballots",
                    {
                        "used": used,
                        "sah": tally.sah,
                        "ts": tally.ts,
                        "available": available,
                        "source": source,
                        "dpt": _dpt(tally, registered_voters),
                    },
                )
            )
    return failures


def incomplete(failures: list[RuleFailure]) -> list[RuleFailure]:
    """The failures that only say a part of the form is still missing."""
    return [f for f in failures if f.code in MISSING_CODES]


def inconsistent(failures: list[RuleFailure]) -> list[RuleFailure]:
    """The failures that say the numbers are wrong (not merely missing)."""
    return [f for f in failures if f.code not in MISSING_CODES]


def tally_warnings(tally: Tally, registered_voters: int) -> list[RuleFailure]:
    """Worth a review, never a rejection: a DPT on the form other than the TPS's registered
    voters (it sets the ballots available, so an inflated one would let an inflated total
    through unseen), and ballots received other than DPT + 2%."""
    warnings = []
    written = tally.sections.get("DPT")
    if written is not None and registered_voters > 0 and written != registered_voters:
        warnings.append(
            RuleFailure("dpt_unexpected", {"dpt": written, "registered": registered_voters})
        )
    if "SSD" in tally.sections:
        dpt = _dpt(tally, registered_voters)
        expected = reserve_ballots(dpt)
        if tally.sections["SSD"] != expected:
            warnings.append(
                RuleFailure(
                    "ssd_unexpected",
                    {"ssd": tally.sections["SSD"], "expected": expected, "dpt": dpt},
                )
            )
    return warnings
