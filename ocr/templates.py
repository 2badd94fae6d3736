"""Form templates as data: which fields a contest's whole C.Hasil has, and on which page and slot.

A template is derived from the election in the database (contest, ballot numbers, for party
contests the candidate lists of the TPS's dapil, for regional candidate contests the list of the
TPS's area, whose code is carried as `dapil`), never stored: its `version` is a hash of
everything that decides where a field sits, so a form printed for an older candidate list is
recognised as such instead of being misread.

Field keys are the SMS grammar's keys (DESIGN §6), in the order of the paper C.Hasil:
I. voters DPT DPTB DPK and their total (JDPT); PDPT PDPTB PDPK and PHP; DIS PDIS.
II. ballots SSD SSR SSTD SS.
III. votes: "01", "02", … per candidate; for party contests per party its own votes "NN", each
candidate of the dapil's list "NN.K" and the party's total "NN.J"; then SAH, TS and their sum
(JSAHTS), always together on the last page.
The rules the form carries are in `ocr.formrules`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ocr import layout

LAYOUT_VERSION = 2
TEMPLATE_PREFIX = "CHASIL"

KIND_CANDIDATE = "candidate"  # a candidate's votes (candidate contests): counts towards SAH
KIND_PARTY = "party"  # a party's own votes, NN
KIND_PARTY_CANDIDATE = "party_candidate"  # candidate K of party NN, NN.K
KIND_PARTY_TOTAL = "party_total"  # a party's total, NN.J = NN + Σ NN.K
VOTE_KINDS = (KIND_CANDIDATE, KIND_PARTY, KIND_PARTY_CANDIDATE, KIND_PARTY_TOTAL)
# ocr.arith knows the used ballots and the voters who voted as BALLOTS and VOTERS.
ARITH_KINDS = {"SS": "BALLOTS", "PHP": "VOTERS"}

# (key, printed code, label) per section, in the order of the paper form.
VOTER_FIELDS = (
    ("DPT", "DPT", "Pemilih terdaftar DPT"),
    ("DPTB", "DPTb", "Pemilih DPTb (pindahan)"),
    ("DPK", "DPK", "Pemilih DPK (KTP-el)"),
    ("JDPT", "JML", "Jumlah pemilih (DPT+DPTb+DPK)"),
    ("PDPT", "PDPT", "Hadir dari DPT"),
    ("PDPTB", "PDPTb", "Hadir dari DPTb"),
    ("PDPK", "PDPK", "Hadir dari DPK"),
    ("PHP", "PHP", "Jumlah pengguna hak pilih"),
    ("DIS", "DIS", "Pemilih disabilitas"),
    ("PDIS", "PDIS", "Disabilitas memilih"),
)
BALLOT_FIELDS = (
    ("SSD", "SSD", "Surat suara diterima"),
    ("SSR", "SSR", "Rusak / keliru dicoblos"),
    ("SSTD", "SSTD", "Tidak digunakan"),
    ("SS", "SS", "Surat suara digunakan"),
)
TOTAL_FIELDS = (
    ("SAH", "SAH", "Suara sah"),
    ("TS", "TS", "Suara tidak sah"),
    ("JSAHTS", "JML", "Suara sah + tidak sah"),
)
SECTION_FIELD_KEYS = tuple(k for k, _c, _l in (*VOTER_FIELDS, *BALLOT_FIELDS))
DERIVED_KEYS = ("JDPT", "JSAHTS")  # printed and checked, never sent on: the grammar derives them


@dataclass(frozen=True)
class FormField:
    key: str  # the grammar's key: "DPT", "01", "01.3", "SAH", …; "NN.J", "JDPT", "JSAHTS"
    kind: str  # one of VOTE_KINDS, or the section's key (SS → BALLOTS, PHP → VOTERS)
    code: str  # short label printed big: "01", "01.3", "SAH", "DPTb"
    label: str  # printed small after the code (party or candidate name, or meaning)
    page: int  # 1-based
    slot: int  # 0..FIELDS_PER_PAGE-1 on its page
    ballot_number: int | None = None  # the candidate or party
    candidate_number: int | None = None  # party contests: K of NN.K

    def digits(self) -> tuple[layout.DigitGeometry, ...]:
        return layout.digit_geometry(self.slot)

    @property
    def is_vote(self) -> bool:
        return self.kind in VOTE_KINDS


@dataclass(frozen=True)
class FormTemplate:
    contest_code: str
    contest_name: str
    fields: tuple[FormField, ...]
    pages: int
    version: str
    party_contest: bool = False
    dapil: str | None = None
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
        """The fields whose values add up to SAH: candidates, or each party's total (its own
        votes when the party has no candidate on this form)."""
        with_total = {f.ballot_number for f in self.fields if f.kind == KIND_PARTY_TOTAL}
        return tuple(
            f.key
            for f in self.fields
            if f.kind in (KIND_CANDIDATE, KIND_PARTY_TOTAL)
            or (f.kind == KIND_PARTY and f.ballot_number not in with_total)
        )

    def party_blocks(self) -> dict[int, tuple[str, tuple[str, ...], str | None]]:
        """Party → (own key, its candidates' keys, total key or None)."""
        out: dict[int, tuple[str, tuple[str, ...], str | None]] = {}
        for f in self.fields:
            if f.kind == KIND_PARTY:
                out[f.ballot_number] = (f.key, (), None)  # type: ignore[index]
            elif f.kind == KIND_PARTY_CANDIDATE:
                own, cands, total = out[f.ballot_number]  # type: ignore[index]
                out[f.ballot_number] = (own, (*cands, f.key), total)  # type: ignore[index]
            elif f.kind == KIND_PARTY_TOTAL:
                own, cands, _ = out[f.ballot_number]  # type: ignore[index]
                out[f.ballot_number] = (own, cands, f.key)  # type: ignore[index]
        return out


def ballot_key(number: int) -> str:
    return f"{number:02d}"


def candidate_key(party: int, candidate: int) -> str:
    return f"{party:02d}.{candidate}"


def total_key(party: int) -> str:
    return f"{party:02d}.J"


Row = tuple[str, str, str, str, int | None, int | None]  # key, kind, code, label, party, cand


def _vote_rows(
    candidates: Sequence[tuple[int, str]],
    party_candidates: Mapping[int, Sequence[tuple[int, str]]] | None,
) -> list[Row]:
    rows: list[Row] = []
    for number, name in sorted(candidates):
        if party_candidates is None:
            rows.append((ballot_key(number), KIND_CANDIDATE, ballot_key(number), name, number,
                         None))
            continue
        rows.append((ballot_key(number), KIND_PARTY, ballot_key(number), f"{name} (partai)",
                     number, None))
        listed = sorted(party_candidates.get(number, ()))
        for k, candidate in listed:
            key = candidate_key(number, k)
            rows.append((key, KIND_PARTY_CANDIDATE, key, candidate, number, k))
        if listed:
            rows.append((total_key(number), KIND_PARTY_TOTAL, f"{number:02d}.JML",
                         f"Jumlah {name}", number, None))
    return rows


def build_template(
    contest_code: str,
    contest_name: str,
    candidates: Sequence[tuple[int, str]],
    party_candidates: Mapping[int, Sequence[tuple[int, str]]] | None = None,
    *,
    party_contest: bool | None = None,
    dapil: str | None = None,
) -> FormTemplate:
    """The template for a contest; `candidates` are (ballot number, name) in any order.

    `party_candidates` (party contests): party → (candidate number, name) of its list in the
    TPS's dapil. Fields fill the pages in the order of the paper form, a party's list running
    on over a page break where it must; SAH, TS and their sum always share the last page.
    """
    party = party_contest if party_contest is not None else party_candidates is not None
    rows: list[Row] = [(k, ARITH_KINDS.get(k, k), c, lab, None, None)
                       for k, c, lab in (*VOTER_FIELDS, *BALLOT_FIELDS)]
    rows += _vote_rows(candidates, (party_candidates or {}) if party else None)
    per_page = layout.FIELDS_PER_PAGE
    fields: list[FormField] = []
    index = 0

    def place(row: Row) -> None:
        nonlocal index
        key, kind, code, label, number, k = row
        page, slot = divmod(index, per_page)
        fields.append(FormField(key, kind, code, label, page + 1, slot, number, k))
        index += 1

    for row in rows:
        place(row)
    if index % per_page > per_page - len(TOTAL_FIELDS):
        index += per_page - index % per_page  # start the totals on a fresh page
    for key, code, label in TOTAL_FIELDS:
        place((key, key, code, label, None, None))
    digest = hashlib.sha1(
        json.dumps(
            [LAYOUT_VERSION, contest_code, dapil,
             [(f.key, f.kind, f.page, f.slot) for f in fields]],
            separators=(",", ":"),
        ).encode()
    ).hexdigest()[:8]
    return FormTemplate(
        contest_code=contest_code,
        contest_name=contest_name,
        fields=tuple(fields),
        pages=fields[-1].page,
        version=digest,
        party_contest=party,
        dapil=dapil,
    )


# Templates built from the catalogue each process keeps (relay.catalogue), by contest and the
# TPS's dapil or area, while the catalogue's token stands: building one read the contest, its
# list and its dapils and hashed its layout, ~6 ms twice per photo (bench/photo_profile.py).
_built: dict[tuple[str, str | None, str | None], FormTemplate] = {}
_built_under: list[str | None] = [None]  # the catalogue token _built was made under
MAX_BUILT = 8192  # every contest × dapil or area of a national election


def template_for(session, contest_code: str, tps_code: str | None = None):  # type: ignore[no-untyped-def]
    """The template of `contest_code` (at `tps_code`: party contests differ per dapil) from the
    election in the database, or None (no such contest, not held there, or a contest with
    dapils asked for without a TPS)."""
    from relay import catalogue

    kept = catalogue.current(session)
    if kept.token is None:  # nothing loaded since the tables were emptied: keep nothing
        return _template_from_rows(session, contest_code, tps_code)
    entry = kept.contests.get(contest_code.upper())
    if entry is None:
        return None
    ballot = None
    if tps_code is None:
        if entry.areas:  # dapils of a party contest, areas of a regional one: differs per TPS
            return None
    else:
        ballot = kept.ballot(session, entry.code, tps_code)
        if ballot is None:
            return None
    key = (entry.code, ballot.dapil if ballot else None, ballot.area if ballot else None)
    if _built_under[0] != kept.token:
        _built.clear()
        _built_under[0] = kept.token
    template = _built.get(key)
    if template is None:
        template = _from_ballot(entry.code, entry.name, entry.kind, list(entry.names.items()),
                                ballot)
        if len(_built) < MAX_BUILT:
            _built[key] = template
    return template


def _from_ballot(code: str, name: str, kind: str, candidates, ballot):  # type: ignore[no-untyped-def]
    """The template of a contest (`candidates`: its nationwide list) as printed with `ballot`
    (relay.ballots.Ballot: the TPS's dapil or area), or with no TPS (None)."""
    from relay.ballots import PARTIES

    party = kind == PARTIES
    if ballot is None:
        return build_template(code, name, candidates, party_contest=party)
    if ballot.area is not None:  # a regional contest: the area's candidates, its own version
        return build_template(code, name, sorted(ballot.names.items()),
                              party_contest=False, dapil=ballot.area)
    lists = None
    if ballot.is_party_contest:
        lists = {
            p: [(k, ballot.candidate_names.get((p, k), "")) for k in ks]
            for p, ks in ballot.party_candidates.items()
        }
    return build_template(code, name, candidates, lists, party_contest=party,
                          dapil=ballot.dapil)


def _template_from_rows(session, contest_code: str, tps_code: str | None = None):  # type: ignore[no-untyped-def]
    """template_for read from the tables, nothing kept."""
    from sqlalchemy import select

    from relay.ballots import ballot_for
    from relay.models import Contest, Dapil

    contest = session.get(Contest, contest_code.upper())
    if contest is None:
        return None
    candidates = [(c.ballot_number, c.name) for c in contest.candidates]
    if tps_code is None:
        if session.scalar(select(Dapil.code).where(Dapil.contest_code == contest.code)):
            return None
        return _from_ballot(contest.code, contest.name, contest.kind, candidates, None)
    ballot = ballot_for(session, contest, tps_code)
    if ballot is None:
        return None
    return _from_ballot(contest.code, contest.name, contest.kind, candidates, ballot)


class FormLookup(Protocol):
    """What the reader needs from the election, so that it needs no database session."""

    def template(self, contest_code: str, tps_code: str | None = None) -> FormTemplate | None: ...

    def registered_voters(self, tps_code: str) -> int | None: ...


class StaticLookup:
    """A FormLookup over templates and voter counts held in memory (CLI, bench, tests).
    `by_tps`: templates that hold at one TPS only, {(contest, TPS): template} (a dapil's)."""

    def __init__(
        self,
        templates: Sequence[FormTemplate],
        registered: dict[str, int] | None = None,
        by_tps: Mapping[tuple[str, str], FormTemplate] | None = None,
    ) -> None:
        self._templates = {t.contest_code: t for t in templates}
        self._registered = dict(registered or {})
        self._by_tps = dict(by_tps or {})

    def template(self, contest_code: str, tps_code: str | None = None) -> FormTemplate | None:
        if tps_code is not None and (contest_code, tps_code) in self._by_tps:
            return self._by_tps[(contest_code, tps_code)]
        return self._templates.get(contest_code)

    def registered_voters(self, tps_code: str) -> int | None:
        return self._registered.get(tps_code)


class DbLookup:
    """A FormLookup reading the election from an open SQLAlchemy session (caches templates)."""

    def __init__(self, session) -> None:  # type: ignore[no-untyped-def]
        self._session = session
        self._cache: dict[tuple[str, str | None], FormTemplate | None] = {}

    def template(self, contest_code: str, tps_code: str | None = None) -> FormTemplate | None:
        key = (contest_code, tps_code)
        if key not in self._cache:
            self._cache[key] = template_for(self._session, contest_code, tps_code)
        return self._cache[key]

    def catalogue_token(self) -> str | None:
        """The catalogue token its templates are built under (relay.catalogue), None when
        nothing is kept (jobs.reader_process: a reader keeps templates per token)."""
        from relay import catalogue

        return catalogue.current(self._session).token

    def registered_voters(self, tps_code: str) -> int | None:
        from relay.models import Tps

        tps = self._session.get(Tps, tps_code)
        return None if tps is None else tps.registered_voters
