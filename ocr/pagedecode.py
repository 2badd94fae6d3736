"""Decoding one page's numbers under the sums that can be evaluated on that page.

A page of the whole C.Hasil holds several independent sums; each goes through `ocr.arith`'s
decoder as its own group, in the decoder's terms (parts as "candidate", the sum as "SAH"):
- the votes: candidates (or party totals) with SAH, TS, SS (BALLOTS) and PHP (VOTERS), the
  candidates' sum only when all of them are on this page; on a page without SS, the printed
  SAH + TS in the role of SS;
- each party whose own votes, candidates and total are all on this page;
- DPT + DPTb + DPK = their total.
Then the sums whose total the votes decided, with that value fixed: PDPT + PDPTB + PDPK = PHP,
SSR + SSTD + SS = SSD, SAH + TS = their printed sum. The other fields (DIS, PDIS, and a party
list cut by a page break) keep their own best reading here; the rules of the whole form check
them (ocr.formrules, ocr.assemble).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ocr import arith
from ocr.templates import FormField, FormTemplate

SUM_KINDS = ("SAH", "TS", "BALLOTS", "VOTERS")


@dataclass(frozen=True)
class Group:
    indices: tuple[int, ...]  # into the page's fields; FIXED for a value already decoded
    kinds: tuple[str, ...]  # in ocr.arith's terms
    registered: int | None
    complete: bool
    fixed: tuple[int, ...] = ()  # the values of the FIXED members, in order
    fixed_from: tuple[int, ...] = ()  # the page's fields those values were decided for

    def member(self, local: int) -> int:
        """The page's field at the group's position `local` (a FIXED member's own field)."""
        i = self.indices[local]
        if i != FIXED:
            return i
        return self.fixed_from[sum(1 for j in self.indices[:local] if j == FIXED)]

    def rows(self, lps: np.ndarray) -> np.ndarray:
        """The group's log-probabilities; a fixed member is certain of its value."""
        out = np.empty((len(self.indices), lps.shape[1]))
        fixed = iter(self.fixed)
        for row, i in enumerate(self.indices):
            if i == FIXED:
                out[row] = arith.NEG
                out[row, next(fixed)] = 0.0
            else:
                out[row] = lps[i]
        return out


FIXED = -1


@dataclass(frozen=True)
class PageDecoded:
    values: list[int]
    raw: list[int]
    gave_up: bool
    groups: tuple[tuple[Group, arith.Decoded], ...]
    # ocr.arith.Margins per group and log-probabilities, built on the first `margin` asked
    _margins: dict[tuple[int, int], tuple[np.ndarray, arith.Margins]] = field(
        default_factory=dict, compare=False, repr=False)

    def group_of(self, index: int) -> tuple[Group, arith.Decoded, int] | None:
        for group, decoded in self.groups:
            if index in group.indices:
                return group, decoded, group.indices.index(index)
        return None


def groups(fields: tuple[FormField, ...], template: FormTemplate, limit: int | None
           ) -> list[Group]:
    where = {f.key: i for i, f in enumerate(fields)}
    claimed: set[int] = set()
    out: list[Group] = []
    for own, cands, total in template.party_blocks().values():
        keys = (own, *cands, total) if total else ()
        if keys and all(k in where for k in keys):
            idx = tuple(where[k] for k in keys)
            out.append(Group(idx, ("candidate",) * (len(idx) - 1) + ("SAH",), None, True))
            claimed.update(idx)
    counting = template.candidate_keys
    parts = [where[k] for k in counting if k in where and where[k] not in claimed]
    complete = len(parts) == len(counting)
    sums = [i for i, f in enumerate(fields) if f.kind in SUM_KINDS]
    sum_kinds = [fields[i].kind for i in sums]
    if _printed_sum_as_ballots(fields, where):
        sums.append(where["JSAHTS"])
        sum_kinds.append("BALLOTS")
    if sums or (parts and complete):
        idx = tuple(parts + sums)
        kinds = tuple(["candidate"] * len(parts) + sum_kinds)
        out.append(Group(idx, kinds, limit, complete))
    registered = [where.get(k) for k in ("DPT", "DPTB", "DPK", "JDPT")]
    if all(i is not None for i in registered):
        out.append(Group(tuple(registered), ("candidate",) * 3 + ("SAH",), None, True))  # type: ignore[arg-type]
    return out


def _printed_sum_as_ballots(fields: tuple[FormField, ...], where: dict[str, int]) -> bool:
    """Whether SAH + TS = their printed sum (JSAHTS) joins the votes' own decoding, in the role
    of the ballots used: on a page with SAH and TS but no SS (a party list's last page), where
    nothing else on the page ties SAH. Fixed from the votes instead, SAH would be each field's
    own guess and the printed sum forced to follow it (SAH 117 read 217, over the ballots
    available: 17 chosen, and JSAHTS 119, well read, changed to 19)."""
    kinds = {f.kind for f in fields}
    return {"SAH", "TS"} <= kinds and "BALLOTS" not in kinds and "JSAHTS" in where


def chained(fields: tuple[FormField, ...], values: list[int]) -> list[Group]:
    """The sums whose total (or a part) the votes already decided: PDPT + PDPTB + PDPK = PHP,
    SSR + SSTD + SS = SSD, SAH + TS = their printed sum (unless the votes decoded it with
    them); each with the decided value fixed."""
    where = {f.key: i for i, f in enumerate(fields)}
    out = []

    def add(parts: tuple[str, ...], total: str, decided: set[str]) -> None:
        if not all(k in where for k in (*parts, total)):
            return
        members = [FIXED if k in decided else where[k] for k in (*parts, total)]
        sources = tuple(where[k] for k in (*parts, total) if k in decided)
        fixed = tuple(values[i] for i in sources)
        kinds = ("candidate",) * len(parts) + ("SAH",)
        out.append(Group(tuple(members), kinds, None, True, fixed, sources))

    add(("PDPT", "PDPTB", "PDPK"), "PHP", {"PHP"})
    add(("SSR", "SSTD", "SS"), "SSD", {"SS"})
    if not _printed_sum_as_ballots(fields, where):
        add(("SAH", "TS"), "JSAHTS", {"SAH", "TS"})
    return out


def decode(lps: np.ndarray, fields: tuple[FormField, ...], template: FormTemplate,
           limit: int | None) -> PageDecoded:
    """`lps` (n, 1000) per field of the page, as ocr.fusion.supported_log_probs gives them (the
    decoder chooses only among supported values; `raw`, each field's own best, is their argmax
    all the same); `limit` bounds SAH + TS (ballots available)."""
    raw = [int(v) for v in lps.argmax(axis=1)]
    values = list(raw)
    if limit is not None:  # no count of votes exceeds the ballots available
        for i, f in enumerate(fields):
            if f.is_vote or f.kind == "JSAHTS":
                values[i] = int(lps[i, : limit + 1].argmax())
    done = []

    def run(group: Group) -> None:
        decoded = arith.decode(group.rows(lps), list(group.kinds), group.registered,
                               group.complete)
        for i, value in zip(group.indices, decoded.values, strict=True):
            if i != FIXED:
                values[i] = value
        done.append((group, decoded))

    for group in groups(fields, template, limit):
        run(group)
    for group in chained(fields, values):
        run(group)
    return PageDecoded(values, raw, any(d.gave_up for _, d in done), tuple(done))


def failing_fields(page: PageDecoded) -> frozenset[int]:
    """The page's fields in a failing check of a group the decoder gave up on: the page as
    written there, and these are the numbers the officer must look at."""
    return frozenset(
        group.indices[local]
        for group, decoded in page.groups if decoded.gave_up
        for local in decoded.failing_fields() if group.indices[local] != FIXED
    )


EQUALITIES = ("sum_equals_sah", "sah_plus_ts_equals_ballots", "ballots_equal_voters")


def holding_checks(page: PageDecoded, index: int) -> list[tuple[int, ...]]:
    """Every sum on this page that holds field `index` as decoded: per sum, the page's other
    fields in it (a value fixed from another sum counts as that field). A sum of a group the
    decoder gave up on, or whose arithmetic it had to correct, holds nothing."""
    out = []
    for group, decoded in page.groups:
        if index not in group.indices or decoded.gave_up:
            continue
        if any(c.corrected for c in decoded.checks):
            continue
        local = group.indices.index(index)
        for check in decoded.checks:
            if check.ok and check.name in EQUALITIES and local in check.fields:
                out.append(tuple(group.member(j) for j in check.fields if j != local))
    return out


def equality_partners(page: PageDecoded, index: int) -> list[tuple[int, ...]]:
    """Per equality of its group that holds field `index` as decoded, the page's other fields
    in it (a value fixed from another sum counts as that field)."""
    found = page.group_of(index)
    if found is None:
        return []
    group, decoded, local = found
    return [tuple(group.member(j) for j in check.fields if j != local)
            for check in decoded.checks
            if check.ok and check.name in EQUALITIES and local in check.fields]


def tied(page: PageDecoded, index: int) -> tuple[int, ...] | None:
    """Whether the sums tie field `index` as read: its group's every check holds on the raw
    readings (the decoder changed nothing and gave up on nothing) and an equality holds it.
    Then the page's fields whose value was fixed into the group from another sum (they must be
    settled themselves); None when the sums do not tie the field."""
    found = page.group_of(index)
    if found is None:
        return None
    group, decoded, local = found
    if decoded.values != decoded.raw or not _holds_as_read(decoded):
        return None
    if any(group.indices[j] != FIXED and page.values[group.indices[j]] != page.raw[
            group.indices[j]] for j in range(len(group.indices))):
        return None
    return _held_by_an_equality(page, index, group, decoded, local)


def held(page: PageDecoded, index: int) -> tuple[int, ...] | None:
    """Like `tied`, where the decoder had to correct the group in another field: field `index`
    kept its own reading, every check of its group holds as decoded and an equality holds it.
    Then the page's fields fixed into the group (to be settled first); else None. Whether the
    correction could have gone another way with another value for this field is the margin's
    to say (`margin` re-decodes the whole group)."""
    found = page.group_of(index)
    if found is None:
        return None
    group, decoded, local = found
    if decoded.gave_up or not all(c.ok for c in decoded.checks):
        return None
    if page.values[index] != page.raw[index]:
        return None
    return _held_by_an_equality(page, index, group, decoded, local)


def _held_by_an_equality(page: PageDecoded, index: int, group: Group, decoded: arith.Decoded,
                         local: int) -> tuple[int, ...] | None:
    """What `tied` and `held` ask last: an equality of the group holds field `index` (its
    `local` place there) and no chained sum it is fixed into speaks against it. Then the
    page's fields fixed into the group; else None."""
    if not any(c.name in EQUALITIES and local in c.fields for c in decoded.checks):
        return None
    if _breaks_a_chained_sum(page, index):
        return None
    return group.fixed_from


def _holds_as_read(decoded: arith.Decoded) -> bool:
    """Every sum of a decoded group holds on the raw readings: nothing corrected, nothing
    failing, the decoder did not give up."""
    return not decoded.gave_up and not any(c.corrected or not c.ok for c in decoded.checks)


def _breaks_a_chained_sum(page: PageDecoded, index: int) -> bool:
    """Whether field `index`, fixed into a chained sum (SS into SSR + SSTD + SS = SSD, PHP into
    PDPT + PDPTB + PDPK = PHP), sits in one that does not hold on the raw readings: the page
    then speaks against its reading too (SS and PHP both written 182, both misread 112, hold
    SS = PHP between them while both chained sums fail), so the sums do not tie it."""
    return any(
        index in group.fixed_from and not _holds_as_read(decoded)
        for group, decoded in page.groups
    )


def tied_alone(page: PageDecoded, lps: np.ndarray, group: Group) -> dict[int, float]:
    """A chained sum (PDPT + PDPTB + PDPK = PHP, …) on its own, its decided total read like
    its parts rather than fixed: when it holds on every member's raw reading (and the page kept
    those), per member the margin of that reading over every other reading that fits this sum
    (nats). Leaving out the other sums the total is in only makes alternatives cheaper, so the
    margins are lower bounds. Empty when the sum does not hold as read, or when the decoder gave
    up on a sum of the page (no reading the evidence supports adds up: perhaps the officer's
    own arithmetic, and then nothing is settled by the arithmetic)."""
    members = [group.member(local) for local in range(len(group.indices))]
    if page.gave_up:  # the paper's own numbers do not add up somewhere: the officer looks
        return {}
    if any(page.values[i] != page.raw[i] for i in members):
        return {}
    rows = lps[members]
    decoded = arith.decode(rows, list(group.kinds), None, True)
    if decoded.gave_up or decoded.values != decoded.raw or decoded.raw != [
            page.raw[i] for i in members]:
        return {}
    if any(c.corrected or not c.ok for c in decoded.checks):
        return {}
    margins = arith.Margins(rows, list(group.kinds), None, True, decoded)
    return {i: margins.of(local) for local, i in enumerate(members)}


def corrected_fields(page: PageDecoded) -> frozenset[int]:
    """The page's fields in a group whose sums the decoder had to correct."""
    return frozenset(
        i for group, decoded in page.groups if any(c.corrected for c in decoded.checks)
        for i in group.indices if i != FIXED
    )


def margin(lps: np.ndarray, page: PageDecoded, index: int) -> float:
    """How far the page's reading of field `index` beats the best consistent alternative
    (nats); 0 for a field no sum on this page constrains."""
    found = page.group_of(index)
    if found is None:
        return 0.0
    group, decoded, local = found
    key = (id(group), id(lps))
    if key not in page._margins:  # the array is kept with it, so its id stays its own
        margins = arith.Margins(group.rows(lps), list(group.kinds), group.registered,
                                group.complete, decoded)
        page._margins[key] = (lps, margins)
    return page._margins[key][1].of(local)
