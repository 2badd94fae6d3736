"""Decoding a page's numbers together under the form's arithmetic.

The most probable set of values that satisfies every check that can be evaluated on the page
wins: ballot fields sum to SAH; SAH + TS = BALLOTS = VOTERS; nothing exceeds the registered
voters. Exact max-plus dynamic programming over the running sum (top K values per ballot field,
every value for the totals), so one page takes a few milliseconds.

Checks are reported on the decoded values, with `corrected` telling whether they failed on the
values as first read (each field's own best reading). The decoder chooses only among readings
the evidence supports (ocr.fusion.number_log_probs marks the others UNSUPPORTED_LP): it may
settle uncertain digits, never override a confident reading. When no supported reading is
consistent, or none is anywhere near as probable as the raw one, the decoder gives up: the page
as written (the raw values) comes back with the failing checks named, each saying which fields
it involves, for the officer to correct.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ocr.fusion import UNSUPPORTED_LP

TOP_K = 40
GIVE_UP_NATS = 30.0  # log-probability a correction may cost before we stop believing it
NEG = -1e18


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    corrected: bool = False  # failed on the raw reading, holds after decoding
    fields: tuple[int, ...] = ()  # indices of the fields the check involves


@dataclass(frozen=True)
class Decoded:
    values: list[int]
    raw: list[int]
    checks: list[Check]
    gave_up: bool
    score: float = 0.0  # Σ log-probability of `values`

    def failing_fields(self) -> frozenset[int]:
        """Fields involved in a check that fails: where the officer must look."""
        return frozenset(i for c in self.checks if not c.ok for i in c.fields)


def margin(lps: np.ndarray, kinds: Sequence[str], registered: int | None, complete_sum: bool,
           decoded: Decoded, field: int) -> float:
    """How far the decoded reading beats the best consistent one where `field` differs (nats).

    A field whose own reading is unsure can still be settled by the arithmetic: when every
    consistent alternative for it costs much more than the chosen reading, it is not in doubt.
    """
    without = lps.copy()
    without[field, decoded.values[field]] = NEG
    other = decode(without, kinds, registered, complete_sum)
    if other.gave_up or not all(c.ok for c in other.checks):
        return np.inf
    return decoded.score - other.score


def _top(lp: np.ndarray, limit: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    window = lp[: limit + 1]
    k = min(k, len(window))
    idx = np.argpartition(-window, k - 1)[:k]
    return idx, window[idx]


def _add_one(best: np.ndarray, lp: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """new[s] = max_v best[s - v] + lp[v] over the top K values v; and the v chosen per s."""
    values, scores = _top(lp, limit, TOP_K)
    sums = np.arange(limit + 1)
    rest = sums[None, :] - values[:, None]  # (K, limit + 1)
    cand = np.where(rest >= 0, best[np.maximum(rest, 0)] + scores[:, None], NEG)
    pick = cand.argmax(axis=0)
    return cand[pick, sums], values[pick]


def _maxplus_sum(lps: Sequence[np.ndarray], limit: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """best[s] = max Σ lp_i[v_i] with Σ v_i = s (s ≤ limit), and backpointers per field."""
    best = np.full(limit + 1, NEG)
    best[0] = 0.0
    pointers = []
    for lp in lps:
        best, arg = _add_one(best, lp, limit)
        pointers.append(arg)
    return best, pointers


def decode(
    lps: np.ndarray, kinds: Sequence[str], registered: int | None, complete_sum: bool
) -> Decoded:
    """`lps` (n, 1000) log-probabilities per field; `kinds` "candidate" or SAH/TS/BALLOTS/VOTERS.

    `complete_sum`: every ballot field of the contest is among these (single-page contests).
    """
    n = len(kinds)
    limit = min(999, registered) if registered is not None else 999
    raw = [int(v) for v in lps.argmax(axis=1)]
    where = {k: i for i, k in enumerate(kinds) if k != "candidate"}
    cands = [i for i, k in enumerate(kinds) if k == "candidate"]
    values = list(raw)
    bounded = lps[:, : limit + 1]

    sah, ts = where.get("SAH"), where.get("TS")
    totals = [where[k] for k in ("BALLOTS", "VOTERS") if k in where]
    if sah is not None and complete_sum:
        sums, pointers = _maxplus_sum([bounded[i] for i in cands], limit)
        a = bounded[sah] + sums
    elif sah is not None:
        a = bounded[sah].copy()
        sums, pointers = None, []
    else:
        a, sums, pointers = None, None, []

    if a is not None and ts is not None and totals:
        b, b_arg = _add_one(a, bounded[ts], limit)
        for i in totals:
            b = b + bounded[i]
        total = int(b.argmax())
        values[ts] = int(b_arg[total])
        values[sah] = total - values[ts]
        for i in totals:
            values[i] = total
    elif a is not None:
        values[sah] = int(a.argmax())
        if ts is not None:
            values[ts] = int(bounded[ts].argmax())
        if totals:
            joint = sum(bounded[i] for i in totals)
            for i in totals:
                values[i] = int(joint.argmax())
    else:
        for i in where.values():
            values[i] = int(bounded[i].argmax())
        if totals:
            joint = sum(bounded[i] for i in totals)
            for i in totals:
                values[i] = int(joint.argmax())

    if sums is not None and sah is not None:
        s = values[sah]
        for i, arg in zip(reversed(cands), reversed(pointers), strict=True):
            values[i] = int(arg[s])
            s -= values[i]
    elif sah is None or not complete_sum:
        for i in cands:
            values[i] = int(bounded[i].argmax())

    gain = float(sum(lps[i, values[i]] - lps[i, raw[i]] for i in range(n)))
    unsupported = any(lps[i, values[i]] <= UNSUPPORTED_LP / 2 for i in range(n))
    gave_up = unsupported or gain < -GIVE_UP_NATS
    if gave_up:
        values = list(raw)
    checks = _checks(values, raw, kinds, registered, complete_sum)
    score = float(sum(lps[i, values[i]] for i in range(n)))
    return Decoded(values=values, raw=raw, checks=checks, gave_up=gave_up, score=score)


def _checks(
    values: list[int], raw: list[int], kinds: Sequence[str], registered: int | None,
    complete_sum: bool,
) -> list[Check]:
    where = {k: i for i, k in enumerate(kinds) if k != "candidate"}
    cands = [i for i, k in enumerate(kinds) if k == "candidate"]
    out: list[Check] = []

    def add(name: str, holds, detail, fields) -> None:  # type: ignore[no-untyped-def]
        ok = holds(values)
        out.append(Check(name, ok, detail(values), corrected=ok and not holds(raw),
                         fields=tuple(fields)))

    if "SAH" in where and complete_sum:
        sah = where["SAH"]
        add(
            "sum_equals_sah",
            lambda v: sum(v[i] for i in cands) == v[sah],
            lambda v: f"{'+'.join(str(v[i]) for i in cands)} = {sum(v[i] for i in cands)}, "
            f"SAH = {v[sah]}",
            [*cands, sah],
        )
    if "SAH" in where and "TS" in where and "BALLOTS" in where:
        s, t, b = where["SAH"], where["TS"], where["BALLOTS"]
        add(
            "sah_plus_ts_equals_ballots",
            lambda v: v[s] + v[t] == v[b],
            lambda v: f"SAH {v[s]} + TS {v[t]} = {v[s] + v[t]}, SS = {v[b]}",
            [s, t, b],
        )
    if "BALLOTS" in where and "VOTERS" in where:
        b, p = where["BALLOTS"], where["VOTERS"]
        add(
            "ballots_equal_voters",
            lambda v: v[b] == v[p],
            lambda v: f"SS = {v[b]}, PHP = {v[p]}",
            [b, p],
        )
    if registered is not None:
        keys = [where[k] for k in ("VOTERS", "BALLOTS") if k in where]
        if not keys and "SAH" in where:
            keys = [where["SAH"]] + ([where["TS"]] if "TS" in where else [])

        def used(v: list[int]) -> int:
            if "VOTERS" in where or "BALLOTS" in where:
                return max(v[i] for i in keys)
            return sum(v[i] for i in keys)

        if keys:
            add(
                "within_registered",
                lambda v: used(v) <= registered,
                lambda v: f"{used(v)} <= DPT {registered}",
                keys,
            )
    return out
