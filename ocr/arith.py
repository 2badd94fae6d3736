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
from numpy.lib.stride_tricks import sliding_window_view

from ocr.fusion import UNSUPPORTED_LP

TOP_K = 40
MIN_CHAIN = 5  # candidates from which Margins builds forward and backward tables
GIVE_UP_NATS = 30.0  # log-probability a correction may cost before we stop believing it
# When the paper's own numbers do not add up, the explanation by one miscopied number whose
# readings need changing must beat every other such explanation by this much (e^4.6 ≈ 100×).
ONE_MISCOPIED_NATS = 4.6
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
    return Margins(lps, kinds, registered, complete_sum, decoded).of(field)


class Margins:
    """`margin` for every field of one decoded group, without decoding the group once per field.

    The candidates' sum is a chain; leaving one candidate's value out needs the best of the
    candidates before it (forward tables, as `decode` builds them) and of those after it together
    with SAH, TS and the totals (backward tables, built once): one step per field instead of a
    whole decode. Other fields reuse the forward tables. Same result as decoding `lps` with the
    field's value forbidden.
    """

    def __init__(self, lps: np.ndarray, kinds: Sequence[str], registered: int | None,
                 complete_sum: bool, decoded: Decoded) -> None:
        self.lps, self.kinds, self.registered = lps, list(kinds), registered
        self.complete_sum, self.decoded = complete_sum, decoded
        self.limit = min(999, registered) if registered is not None else 999
        self.cands = [i for i, k in enumerate(kinds) if k == "candidate"]
        self.where = {k: i for i, k in enumerate(kinds) if k != "candidate"}
        self._forward: tuple[list[np.ndarray], list[np.ndarray]] | None = None
        self._backward: tuple[list[np.ndarray], list[np.ndarray]] | None = None
        self._after: tuple[np.ndarray, np.ndarray | None] | None = None

    @property
    def chained(self) -> bool:
        """Tables pay off for a long chain; a short one (PPWP's three) decodes again faster."""
        return "SAH" in self.where and self.complete_sum and len(self.cands) >= MIN_CHAIN

    def of(self, field: int) -> float:
        without = self.lps.copy()
        without[field, self.decoded.values[field]] = NEG
        if not self.chained:
            other = decode(without, self.kinds, self.registered, self.complete_sum,
                           one_miscopied=False)
        elif field not in self.cands:
            other = decode(without, self.kinds, self.registered, self.complete_sum,
                           _sums=self.forward(), one_miscopied=False)
        else:
            other = self._without_candidate(without, self.cands.index(field))
        if other is None or other.gave_up or not all(c.ok for c in other.checks):
            return np.inf
        return self.decoded.score - other.score

    def forward(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Per k the best score of candidates [0, k) by their sum, and the pointers."""
        if self._forward is None:
            best = np.full(self.limit + 1, NEG)
            best[0] = 0.0
            tables, pointers = [best], []
            for i in self.cands:
                best, arg = _add_one(best, self.lps[i, : self.limit + 1], self.limit)
                tables.append(best)
                pointers.append(arg)
            self._forward = (tables, pointers)
        return self._forward

    def _downstream(self, lps: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Best score of SAH, TS and the totals given the candidates' sum s (and TS's value),
        as `decode` chooses them."""
        limit, where = self.limit, self.where
        bounded = lps[:, : limit + 1]
        sah, ts = where["SAH"], where.get("TS")
        totals = [where[k] for k in ("BALLOTS", "VOTERS") if k in where]
        if ts is None or not totals:
            return bounded[sah].copy(), None
        joint = sum(bounded[i] for i in totals)
        values, scores = _top(bounded[ts], limit, TOP_K)
        total = np.arange(limit + 1)[None, :] + values[:, None]
        cand = np.where(total <= limit, scores[:, None] + joint[np.minimum(total, limit)], NEG)
        pick = cand.argmax(axis=0)
        return bounded[sah] + cand[pick, np.arange(limit + 1)], values[pick]

    def backward(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Per k the best score of candidates [k, n) and everything after them, by the sum of
        the candidates before k; and the value candidate k takes."""
        if self._backward is None:
            limit = self.limit
            self._after = self._downstream(self.lps)
            tables: list[np.ndarray] = [self._after[0]]
            choices: list[np.ndarray] = []
            sums = np.arange(limit + 1)
            for i in reversed(self.cands):
                values, scores = _top(self.lps[i, : limit + 1], limit, TOP_K)
                reach = sums[None, :] + values[:, None]
                cand = np.where(reach <= limit, tables[0][np.minimum(reach, limit)]
                                + scores[:, None], NEG)
                pick = cand.argmax(axis=0)
                tables.insert(0, cand[pick, sums])
                choices.insert(0, values[pick])
            self._backward = (tables, choices)
        return self._backward

    def _without_candidate(self, lps: np.ndarray, k: int) -> Decoded | None:
        limit = self.limit
        prefix, pointers = self.forward()
        suffix, choices = self.backward()
        values_k, scores_k = _top(lps[self.cands[k], : limit + 1], limit, TOP_K)
        start = np.arange(limit + 1)
        reach = start[None, :] + values_k[:, None]
        total = np.where(reach <= limit, prefix[k][None, :] + scores_k[:, None]
                         + suffix[k + 1][np.minimum(reach, limit)], NEG)
        row, t = np.unravel_index(int(total.argmax()), total.shape)
        if total[row, t] <= NEG / 2:
            return None  # no value of this candidate fits the sums any more
        raw = list(self.decoded.raw)
        raw[self.cands[k]] = int(lps[self.cands[k]].argmax())
        values = list(raw)
        s = int(t)
        for j in range(k - 1, -1, -1):  # the candidates before k, from their sum backwards
            values[self.cands[j]] = int(pointers[j][s])
            s -= values[self.cands[j]]
        s = int(t) + int(values_k[row])
        values[self.cands[k]] = int(values_k[row])
        for j in range(k + 1, len(self.cands)):
            values[self.cands[j]] = int(choices[j][s])
            s += values[self.cands[j]]
            if s > limit:
                return None
        self._place_downstream(values, s)
        return _finish(lps, self.kinds, self.registered, self.complete_sum, values, raw)

    def _place_downstream(self, values: list[int], s: int) -> None:
        """SAH, TS and the totals for the candidates' sum `s` (their rows are unchanged)."""
        where, bounded = self.where, self.lps[:, : self.limit + 1]
        sah, ts = where["SAH"], where.get("TS")
        totals = [where[k] for k in ("BALLOTS", "VOTERS") if k in where]
        values[sah] = s
        assert self._after is not None
        ts_values = self._after[1]
        if ts is not None and totals and ts_values is not None:
            values[ts] = int(ts_values[s])
            for i in totals:
                values[i] = s + values[ts]
            return
        if ts is not None:
            values[ts] = int(bounded[ts].argmax())
        if totals:
            joint = sum(bounded[i] for i in totals)
            for i in totals:
                values[i] = int(joint.argmax())


def _top(lp: np.ndarray, limit: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    window = lp[: limit + 1]
    k = min(k, len(window))
    idx = np.argpartition(-window, k - 1)[:k]
    return idx, window[idx]


def _add_one(best: np.ndarray, lp: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """new[s] = max_v best[s - v] + lp[v] over the top K values v; and the v chosen per s.

    Ties go to the first of the top K (as `argmax` over them); a sum s < v is exactly NEG. One
    row per value, each a contiguous window of `best`, reduced across the rows with whole-row
    operations (an argmax across 40 short columns costs three times as much).
    """
    values, scores = _top(lp, limit, TOP_K)
    n, k = limit + 1, len(values)
    padded = np.empty(2 * n)
    padded[:n] = NEG  # overwritten below: only keeps the arithmetic finite
    padded[n:] = best
    windows = np.ndarray((n + 1, n), padded.dtype, padded, strides=(8, 8))  # row r: padded[r:]
    cand = windows[n - values]  # cand[j, s] = best[s - v_j]
    cand += scores[:, None]
    np.copyto(cand, NEG, where=_BELOW[_SPAN - values, :n])  # s < v_j: no such sum
    top = cand.max(axis=0)
    # The first row reaching the maximum: rows weighted k, k-1, …, 1 where they reach it.
    first = ((cand == top).view(np.uint8) * _FIRST[TOP_K - k :, None]).max(axis=0)
    pick = k - first.astype(np.intp)
    return cand[pick, _SUMS[:n]], values[pick]


_SPAN = 1000  # sums run 0..999
_SUMS = np.arange(_SPAN)
# Row _SPAN - v: True for the first v sums (windows of one array, as `windows` above).
_BELOW = sliding_window_view(np.arange(2 * _SPAN) < _SPAN, _SPAN)
_FIRST = np.arange(TOP_K, 0, -1).astype(np.uint8)


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
    lps: np.ndarray, kinds: Sequence[str], registered: int | None, complete_sum: bool,
    _sums: tuple[list[np.ndarray], list[np.ndarray]] | None = None, *,
    one_miscopied: bool = True,
) -> Decoded:
    """`lps` (n, 1000) log-probabilities per field; `kinds` "candidate" or SAH/TS/BALLOTS/VOTERS.

    `complete_sum`: every ballot field of the contest is among these (single-page contests).
    `one_miscopied`: when no supported reading satisfies the sums, explain the page by one
    number the officer got wrong (`_one_miscopied`); the result still gives up.
    """
    decoded = _decode(lps, kinds, registered, complete_sum, _sums)
    if not one_miscopied or not decoded.gave_up:
        return decoded
    return _one_miscopied(lps, kinds, registered, complete_sum, decoded)


def _one_miscopied(lps: np.ndarray, kinds: Sequence[str], registered: int | None,
                   complete_sum: bool, decoded: Decoded) -> Decoded:
    """The paper's own arithmetic is wrong: per member, the hypothesis that the officer
    miscopied that number (it stays as written; every sum holds with some other value for it,
    and every other member takes a supported reading), at the cost of the readings it changes.

    A hypothesis that changes nothing means the page as read is explained: nothing changes. A
    misread the other sums put right (a candidate miscopied, TS written 1 and read 6 with its
    bubbles forgotten: SAH + TS = SS = PHP choose 1) is corrected only when its hypothesis is
    the only one with those values within ONE_MISCOPIED_NATS; SAH miscopied (SAH + TS = SS
    fails on the paper too) explains the page with nothing changed, so an unsure TS stays as
    read. Either way the page gives up: the sums the paper breaks are named, nothing is settled
    by them.
    """
    raw = decoded.raw
    options: list[tuple[float, list[int]]] = []
    if "SAH" in kinds and complete_sum and "candidate" in kinds:  # any one candidate
        options += _explained(lps, kinds, registered, False, raw, range(len(kinds)), None)
    for f, kind in enumerate(kinds):
        if kind == "SAH":  # SAH's true value free: the candidates + TS = the totals
            free = lps.copy()
            free[f] = 0.0
            options += _explained(free, kinds, registered, complete_sum, raw, range(len(kinds)),
                                  f)
        elif kind != "candidate":  # a total or TS left out: the others' sums as they are
            keep = [i for i in range(len(kinds)) if i != f]
            options += _explained(lps[keep], [kinds[i] for i in keep], registered, complete_sum,
                                  raw, keep, f, full=lps)
    if not options:
        return decoded
    cost, values = max(options, key=lambda o: o[0])
    if values == raw or any(v != values and c >= cost - ONE_MISCOPIED_NATS for c, v in options):
        return decoded
    checks = _checks(values, raw, kinds, registered, complete_sum)
    score = float(sum(lps[i, values[i]] for i in range(len(kinds))))
    return Decoded(values=values, raw=raw, checks=checks, gave_up=True, score=score)


def _explained(lps: np.ndarray, kinds: Sequence[str], registered: int | None,
               complete_sum: bool, raw: list[int], members: Sequence[int], miscopied: int | None,
               full: np.ndarray | None = None) -> list[tuple[float, list[int]]]:
    """One hypothesis of `_one_miscopied`: decode `lps` (the group's `members`, in order) and
    give the whole group's values, the `miscopied` member as written, with what the changed
    readings cost (nats, ≤ 0); nothing when no supported reading fits."""
    other = _decode(lps, kinds, registered, complete_sum, None)
    if other.gave_up or not all(c.ok for c in other.checks):
        return []
    values = list(raw)
    for i, v in zip(members, other.values, strict=True):
        values[i] = v
    if miscopied is not None:
        values[miscopied] = raw[miscopied]
    rows = lps if full is None else full
    return [(float(sum(rows[i, values[i]] - rows[i, raw[i]] for i in range(len(raw)))), values)]


def _decode(
    lps: np.ndarray, kinds: Sequence[str], registered: int | None, complete_sum: bool,
    _sums: tuple[list[np.ndarray], list[np.ndarray]] | None,
) -> Decoded:
    limit = min(999, registered) if registered is not None else 999
    raw = [int(v) for v in lps.argmax(axis=1)]
    where = {k: i for i, k in enumerate(kinds) if k != "candidate"}
    cands = [i for i, k in enumerate(kinds) if k == "candidate"]
    values = list(raw)
    bounded = lps[:, : limit + 1]

    sah, ts = where.get("SAH"), where.get("TS")
    totals = [where[k] for k in ("BALLOTS", "VOTERS") if k in where]
    if sah is not None and complete_sum:
        if _sums is not None:  # Margins' forward tables: the candidates are unchanged
            sums, pointers = _sums[0][-1], _sums[1]
        else:
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

    return _finish(lps, kinds, registered, complete_sum, values, raw)


def _finish(lps: np.ndarray, kinds: Sequence[str], registered: int | None, complete_sum: bool,
            values: list[int], raw: list[int]) -> Decoded:
    """Give up (the raw values) when the decoded ones need unsupported or far less likely
    readings; then the checks and the score."""
    n = len(kinds)
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
