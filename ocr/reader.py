"""Reading one photo of a tally form: a pure function, usable from an RQ job or the CLI.

    result = read_photo(data, lookup)          # lookup: ocr.templates.FormLookup

Stages: safe decode → ArUco markers → homography → warp to the template frame → photo quality
(dark, blurred, cropped) → identity (template, version, contest, TPS, page: the QR code, else the
identity strip, else the printed header) → per digit box
the handwriting classifier and the bubble column → fusion → decoding under the arithmetic →
flags → an annotated JPEG of the page with the values drawn over their boxes.

A photo the reader cannot use comes back with `error` set to a code (see ocr.hints for the
retake hint in Indonesian and English); nothing raises for a bad photo.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from ocr import (
    align,
    arith,
    classifier,
    formrules,
    fusion,
    glyph,
    layout,
    marks,
    pagedecode,
    qr,
    quality,
    strip,
)
from ocr.annotate import annotate
from ocr.classifier import BLANK_CLASS, X_CLASS
from ocr.header import HeaderText, read_header
from ocr.photo import PhotoError, decode_photo
from ocr.qr import QrData
from ocr.templates import VOTE_KINDS, FormField, FormLookup, FormTemplate

CLASS_CHARS = "0123456789X_"
CONFIDENT = fusion.SURE_FIELD  # a field's own probability below this marks it uncertain
STRONG_WRITING = 0.9  # handwriting this sure of another digit than the bubbles: flag the field
# … and for a field no sum on the page checks, where nothing else would catch a slip
STRONG_WRITING_UNCHECKED = 0.5
LEFT_BLANK = 0.9  # every box this surely blank (and no bubble): a section field left out
WRITING_DENIES = 0.05  # handwriting this unlikely to be the bubbled digit also disagrees
# … and for a field no sum on the page checks: there a bubble the handwriting doubts this much
# is settled by nothing else (bench seed 7: PDIS written 2, bubbled 8, the writing read 1 at
# under 0.5 and 8 at 0.05–0.2, went out as 8 unflagged)
WRITING_DENIES_UNCHECKED = 0.2
# Measured, not taken (bench, bubble ≠ digit, seeds 7-9, 225 slips): WRITING_DENIES 0.1 flags 3
# more slips at -2.8 points of consistent fields right, 0.2 8 more at -7 points; the slips still
# missed look like the consistent pages' misreads (writing 0.1-0.5 for either digit). Settling a
# field by a sum only where its readings agree: +1 slip of 375 (seeds 7-11) at -1.1 points.
SETTLED_NATS = 4.6  # a confident field of a corrected sum must beat alternatives 100×
SETTLEABLE = {"low_confidence"}  # a writing/bubble disagreement always goes to the officer
# A field the sums tie as read (ocr.pagedecode.tied) is settled when every reading of the page
# that fits the sums with another value for it is this much less probable (e^6.9 ≈ 1,000×),
# and its own reading is at least this probable.
TIED_NATS = 6.9
TIED_FLOOR = 0.5
QR_MARGIN_MM = 3.0
# The QR crop is read at 5 px/mm first (6 px a 1.24 mm module: as many read as at 8 px/mm
# on 330 bench photos, in half the time), then at 12.
QR_PX_PER_MM = (5.0, 12.0)


@dataclass(frozen=True)
class FieldReading:
    key: str  # the grammar's key: "DPT", "01", "01.3", "SAH", "SS", "PHP", …
    code: str  # as printed: "01", "01.3", "SAH", "DPTb"
    ballot_number: int | None
    value: int
    confidence: float  # the field's own probability of `value` (before the arithmetic)
    uncertain: bool
    # Why it is uncertain: low_confidence, disagree (writing and bubbles differ), corrected (the
    # arithmetic changed it), arithmetic (another value would fit the sums almost as well),
    # empty, inconsistent (in a check that fails on the page as written); unchecked (no sums on
    # this page), settled (doubts the sums of confident readings resolved), tied (an unsure
    # reading the page's sums tie as read, see _settle_tied) and held (the same where the sums
    # needed another field corrected) are information only.
    reasons: tuple[str, ...] = ()
    written: str = ""  # per box what the handwriting says: 0-9, X, _ (blank), e.g. "X95"
    bubbles: str = ""  # per column what the bubbles say: 0-9, - (none), ? (unclear)
    fused: str = ""  # per box the fused reading before the arithmetic: 0-9, X, _
    read: int | None = None  # the field's own best value, before the arithmetic
    read_confidence: float = 0.0  # its probability: the arithmetic never changes a confident one
    candidate_number: int | None = None  # party contests: K of NN.K
    # False for a section field (DPT, SSD, …) the officer left blank: not sent on.
    given: bool = True


@dataclass
class ReadResult:
    error: str | None = None  # None when the page was read
    error_detail: str = ""
    template_id: str | None = None
    template_version: str | None = None
    contest: str | None = None
    tps_code: str | None = None
    page: int | None = None
    pages: int | None = None
    fields: list[FieldReading] = field(default_factory=list)
    checks: list[arith.Check] = field(default_factory=list)
    needs_confirmation: bool = True
    rotation: int = 0  # how the page lay in the photo (degrees), e.g. 180 = upside down
    markers: int = 0
    identified_by: str | None = None  # "qr", "strip" (the identity strip) or "header"
    registered_voters: int | None = None
    annotated_jpeg: bytes | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None

    def values(self) -> dict[str, int]:
        """Every value read on this page, by key (blank optional fields left out)."""
        return {f.key: f.value for f in self.fields if f.given}

    def votes(self) -> dict[int, int]:
        """Ballot number → votes (a party's own votes), as bots.grammar.Tally.votes."""
        return {
            f.ballot_number: f.value
            for f in self.fields
            if f.ballot_number is not None and f.key.isdigit()
        }

    def value(self, key: str) -> int | None:
        return next((f.value for f in self.fields if f.key == key), None)

    def uncertain_keys(self) -> list[str]:
        return [f.key for f in self.fields if f.uncertain]

    def to_json(self) -> dict[str, object]:
        """DESIGN §3's JSON: template, contest, TPS, values with confidence, checks."""
        return {
            "ok": self.ok,
            "error": self.error,
            "error_detail": self.error_detail or None,
            "template": {"id": self.template_id, "version": self.template_version},
            "contest": self.contest,
            "tps_code": self.tps_code,
            "page": self.page,
            "pages": self.pages,
            "rotation": self.rotation,
            "identified_by": self.identified_by,
            "registered_voters": self.registered_voters,
            "fields": [
                {
                    "key": f.key,
                    "code": f.code,
                    "ballot_number": f.ballot_number,
                    "value": f.value,
                    "confidence": round(f.confidence, 4),
                    "uncertain": f.uncertain,
                    "reasons": list(f.reasons),
                    "written": f.written,
                    "bubbles": f.bubbles,
                    "fused": f.fused,
                    "given": f.given,
                }
                for f in self.fields
            ],
            "checks": [
                {"name": c.name, "ok": c.ok, "detail": c.detail, "corrected": c.corrected}
                for c in self.checks
            ],
            "needs_confirmation": self.needs_confirmation,
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
        }


class _Clock:
    def __init__(self, timings: dict[str, float]) -> None:
        self.timings = timings
        self.last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = (now - self.last) * 1000
        self.last = now


def read_photo(
    data: bytes,
    lookup: FormLookup,
    *,
    expect_contest: str | None = None,
    expect_tps: Collection[str] | None = None,
    annotate_page: bool = True,
    verify_header: bool = False,
) -> ReadResult:
    """Read a photo of a tally form page. Never raises for a bad photo: see `error`.

    `expect_contest` / `expect_tps`: what the officer may send; another contest or TPS comes
    back as error "wrong_contest" / "wrong_tps" with the QR's contest and TPS filled in.
    `verify_header`: also read the printed TPS code with tesseract and compare it with the QR
    (about 0.2 s more); it is always tried when the QR cannot be read.
    """
    started = time.perf_counter()
    result = ReadResult()
    clock = _Clock(result.timings_ms)
    try:
        _read(data, lookup, result, clock, expect_contest, expect_tps, annotate_page,
              verify_header)
    except PhotoError as exc:
        result.error, result.error_detail = exc.code, exc.detail
    result.timings_ms["total"] = (time.perf_counter() - started) * 1000
    if result.error:
        result.needs_confirmation = True
    return result


def _read(
    data: bytes,
    lookup: FormLookup,
    result: ReadResult,
    clock: _Clock,
    expect_contest: str | None,
    expect_tps: Collection[str] | None,
    annotate_page: bool,
    verify_header: bool,
) -> None:
    image = decode_photo(data)
    clock.lap("decode")
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    found = align.detect_markers(gray)
    result.markers = len(found)
    clock.lap("markers")
    alignment = align.align(found)
    if alignment is None:
        raise PhotoError(quality.why_no_page(gray, found), f"{len(found)} of 4 markers found")
    result.rotation = alignment.rotation
    if alignment.px_per_mm < quality.MIN_PX_PER_MM:
        raise PhotoError("too_far", f"{alignment.px_per_mm:.1f} px/mm")
    page = align.warp_page_bgra(image, alignment)  # BGRA: the alpha plays no part
    clock.lap("warp")
    problem = quality.page_problem(page, found)
    if problem:
        raise PhotoError(problem)

    identity, header = _identify(gray, alignment, lookup, verify_header)
    result.identified_by = identity.identified_by
    clock.lap("identify")
    qr = identity.data
    result.contest, result.tps_code = qr.contest_code, qr.tps_code
    result.page, result.pages = qr.page, qr.pages
    template = lookup.template(qr.contest_code, qr.tps_code)
    if template is None:
        raise PhotoError("unknown_form", f"contest {qr.contest_code}")
    result.template_id, result.template_version = template.template_id, qr.version
    if template.version != qr.version or not 1 <= qr.page <= template.pages:
        raise PhotoError("outdated_form", f"printed {qr.version}, now {template.version}")
    if expect_contest and qr.contest_code != expect_contest.upper():
        raise PhotoError("wrong_contest", f"{qr.contest_code}, expected {expect_contest}")
    if expect_tps is not None and qr.tps_code not in expect_tps:
        raise PhotoError("wrong_tps", qr.tps_code)
    fields = template.fields_on(qr.page)
    if len(found) < 4 and not align.visible(
        alignment, image.shape, [layout.block_rect(f.slot) for f in fields]
    ):
        raise PhotoError("page_cropped", f"{len(found)} of 4 markers found")
    registered = lookup.registered_voters(qr.tps_code)
    result.registered_voters = registered

    glyphs, ink, fills = marks.page_marks(page[:, :, 2], fields)
    clock.lap("marks")
    has_ink = ink >= glyph.BLANK_SHARE
    cnn = np.zeros((*glyphs.shape[:2], classifier.N_CLASSES), np.float32)
    if has_ink.any():
        cnn[has_ink] = classifier.load().probabilities(glyphs[has_ink])
    writing = fusion.writing_probabilities(cnn, ~has_ink)
    bubbles = fusion.bubble_probabilities(fills)
    fused = fusion.fuse(writing, bubbles)
    lps = fusion.number_log_probs(fused)
    totals = fusion.log_totals(lps)
    choices = fusion.supported_log_probs(fused, lps, totals)  # what the arithmetic may use
    clock.lap("classify")
    limit = formrules.reserve_ballots(registered) if registered is not None else None
    decoded = pagedecode.decode(choices, fields, template, limit)
    clock.lap("decode_numbers")
    result.fields = _flag(fields, decoded, lps, writing, bubbles, fused, totals)
    result.fields = _settle(result.fields, decoded, choices, lps)
    result.fields = _over_total(result.fields, template, choices)
    values = result.values()
    raw = {f.key: decoded.raw[i] for i, f in enumerate(fields) if f.key in values}
    result.checks = formrules.checks(values, template, registered, raw)
    if result.identified_by == "header":
        result.checks.append(
            arith.Check("qr_read", False, "QR unreadable: TPS and contest from the printed header")
        )
    elif header.tps:
        result.checks.append(
            arith.Check("printed_tps_matches_qr", header.tps == qr.tps_code,
                        f"printed {header.tps}, QR {qr.tps_code}")
        )
    result.needs_confirmation = (
        any(f.uncertain for f in result.fields)
        or any(not c.ok for c in result.checks)
        or decoded.gave_up
    )
    clock.lap("flags")
    if annotate_page:
        result.annotated_jpeg = annotate(page, fields, result.fields, copy=False)
        clock.lap("annotate")


@dataclass(frozen=True)
class _Identity:
    data: QrData
    identified_by: str  # "qr", "strip" or "header"


def _identify(
    gray: np.ndarray, alignment: align.Alignment, lookup: FormLookup, verify_header: bool
) -> tuple[_Identity, HeaderText]:
    """Which form, TPS and page this is: the QR code, else the identity strip, else the printed
    header. A QR code that is not ours, with nothing else of ours readable, is "not_our_form"."""
    qr_rect = (layout.QR_X_MM - QR_MARGIN_MM, layout.QR_Y_MM - QR_MARGIN_MM,
               layout.QR_MM + 2 * QR_MARGIN_MM, layout.QR_MM + 2 * QR_MARGIN_MM)
    found: _Identity | None = None
    foreign = None
    for px_per_mm in QR_PX_PER_MM:
        read = qr.read(align.warp(gray, alignment, px_per_mm, qr_rect), px_per_mm)
        if read.data is not None:
            found = _Identity(read.data, "qr")
            break
        foreign = foreign or read.foreign
    if found is None:
        crop = align.warp(gray, alignment, strip.READ_PX_PER_MM, strip.crop_rect())
        data = strip.read(crop, strip.READ_PX_PER_MM)
        if data is not None:
            found = _Identity(data, "strip")
    header = HeaderText()
    if found is None or verify_header:
        header = read_header(align.warp(gray, alignment, 8.0, layout.header_rect()))
    if found is None:
        data = _from_header(header, lookup)
        if data is not None:
            found = _Identity(data, "header")
    if found is None:
        if foreign is not None:
            raise PhotoError("not_our_form", f"QR code {foreign[:40]!r}")
        raise PhotoError("qr_unreadable")
    return found, header


def _from_header(header: HeaderText, lookup: FormLookup) -> QrData | None:
    if not header.tps or not header.contest:
        return None
    template = lookup.template(header.contest, header.tps)
    if template is None:
        return None
    page, pages = header.page or 1, header.pages or 1
    if pages != template.pages or not 1 <= page <= pages:
        return None
    return QrData(header.contest, template.version, header.tps, page, pages)


def _over_total(readings: list[FieldReading], template: FormTemplate, lps: np.ndarray
                ) -> list[FieldReading]:
    """Flag every member of a sum whose total this page holds with only some of its parts
    (ocr.formrules.partial_sums) when the parts read exceed the total: one of them is wrong,
    and no sum on the page says which. Such fields are otherwise unchecked, their two readings
    all that vouch for them (bench, bubble ≠ digit, seed 9: 15.J written 9, its bubble slipped
    to 2, the handwriting misread as 2 at 0.54; read 2 at 0.99, below the 9 its candidates on
    the page add up to, and nothing flagged it). Unless the fields already in doubt account for
    it: some reading they are supported in (`lps`: ocr.fusion.supported_log_probs) makes the
    parts fit, and the officer looks at those (a part whose 0 was read 10 at 0.2)."""
    values = {r.key: r.value for r in readings if r.given}
    where = {r.key: i for i, r in enumerate(readings)}
    possible = fusion.supported(lps)

    def supported_end(key: str, low: bool) -> int:
        """The field as read when sure; else its lowest (low) or highest supported reading."""
        i = where[key]
        if not readings[i].uncertain:
            return values[key]
        found = np.flatnonzero(possible[i])
        return int(found.min() if low else found.max())

    out = list(readings)
    for _, parts, total in formrules.partial_sums(template, values.keys()):
        if sum(supported_end(k, True) for k in parts) <= supported_end(total, False):
            continue  # holds as read, or once the doubted fields are corrected
        for key in (*parts, total):
            r = out[where[key]]
            if "inconsistent" not in r.reasons:
                out[where[key]] = replace(r, reasons=(*r.reasons, "inconsistent"), uncertain=True)
    return out


def _settle(
    readings: list[FieldReading], decoded: pagedecode.PageDecoded, lps: np.ndarray,
    full: np.ndarray,
) -> list[FieldReading]:
    """Clear a doubt only where a sum holds the field: its own reading (never a value the
    arithmetic chose for it) satisfies a sum whose other members are confident readings of
    their own. Doubts of any other kind (a disagreement, a correction, a failing sum) stay.

    When the arithmetic had to correct a sum, the field it changed is not necessarily the one
    that was misread: a confident field of a corrected group must beat every consistent
    alternative by a wide margin, or it is flagged too.
    """
    def confident(i: int) -> bool:
        r = readings[i]
        return (not r.uncertain and r.given and r.value == r.read
                and r.read_confidence >= CONFIDENT)

    corrected = pagedecode.corrected_fields(decoded)
    out = []
    for i, reading in enumerate(readings):
        doubts = set(reading.reasons) - {"unchecked"}
        if doubts and doubts <= SETTLEABLE and reading.value == reading.read and any(
            all(confident(j) for j in others)
            for others in pagedecode.holding_checks(decoded, i)
        ):
            reasons = tuple(r for r in reading.reasons if r not in SETTLEABLE)
            reading = replace(reading, reasons=(*reasons, "settled"), uncertain=False)
        elif (i in corrected and not reading.uncertain
              and pagedecode.margin(lps, decoded, i) < SETTLED_NATS):
            reading = replace(reading, reasons=(*reading.reasons, "arithmetic"), uncertain=True)
        out.append(reading)
    return _settle_tied(out, decoded, full)


def _settle_tied(
    readings: list[FieldReading], decoded: pagedecode.PageDecoded, full: np.ndarray
) -> list[FieldReading]:
    """Settle an unsure field the sums tie as read: every check of its group holds on the raw
    readings (the paper's own numbers add up as read, so the decoder changed nothing), its own
    reading is at least TIED_FLOOR, and every reading of the page that fits the sums with
    another value for it costs at least TIED_NATS (`full`: the log-probabilities before the
    decoder's restriction to supported readings, so no alternative is ruled out by fiat).

    This is what settles a form whose bubbles were skipped: the handwriting alone is never
    SURE_FIELD, but a wrong value that still satisfies SAH + TS = SS = PHP and the candidates'
    sum needs several misreads that compensate exactly. If the paper itself does not add up,
    the raw readings do not either (barring a misread that undoes the officer's error exactly),
    the group is not tied and nothing is settled by the arithmetic. A value fixed into a sum
    from another (PHP into PDPT + PDPTB + PDPK = PHP) must itself be settled first; the groups
    come in that order. Failing that, the chained sum alone, its total read like its parts,
    may tie its members (ocr.pagedecode.tied_alone): it holds whatever the votes' own sums do.

    A group whose sums the decoder had to correct in another field still holds a field that
    kept its own reading (ocr.pagedecode.held: reason "held"), on the same margin: every
    reading of the group with another value for it, whatever the corrected field takes, costs
    at least TIED_NATS (bench, bubbles skipped, seeds 7-11: 148 fields, none wrong; the wrong
    ones of such groups stayed below 4.7 nats).
    """
    out = list(readings)
    for group, _ in decoded.groups:
        for i in group.indices:
            if i == pagedecode.FIXED:
                continue
            r = out[i]
            if not _tieable(r):
                continue
            sources, how = pagedecode.tied(decoded, i), "tied"
            if sources is None:
                sources, how = pagedecode.held(decoded, i), "held"
            if sources is None or any(out[j].uncertain for j in sources):
                continue
            if pagedecode.margin(full, decoded, i) < TIED_NATS:
                continue
            out[i] = _tie(r, how)
    for group, _ in decoded.groups:  # a chained sum that holds as read ties its members alone
        if not group.fixed or not any(out[group.member(j)].uncertain
                                      for j in range(len(group.indices))):
            continue
        for i, nats in pagedecode.tied_alone(decoded, full, group).items():
            if _tieable(out[i]) and nats >= TIED_NATS:
                out[i] = _tie(out[i])
    return _untie_lone(readings, out, decoded)


def _untie_lone(readings: list[FieldReading], out: list[FieldReading],
                decoded: pagedecode.PageDecoded) -> list[FieldReading]:
    """Undo a tie where no sum holding the field vouches for it (`_vouches`). Repeated, since
    an undone tie may leave another sum with no settled member."""
    while True:
        lone = [i for i, r in enumerate(out) if r is not readings[i] and not r.uncertain
                and (sums := pagedecode.equality_partners(decoded, i))
                and not any(_vouches(out, i, others) for others in sums)]
        if not lone:
            return out
        for i in lone:
            out[i] = readings[i]


def _vouches(out: list[FieldReading], i: int, others: tuple[int, ...]) -> bool:
    """Whether a sum holding field `i` can tie it: another of its members is shown without "?",
    or a bubble is clearly marked in one of them (an unclear column, "?", is no evidence).
    Read from the handwriting alone with all its other numbers in doubt, the sum fits two
    misreads that cancel as well as the reading (bench, bubbles skipped, seed 13: SAH 203 read
    205, TS 8 read 6 at 0.996, still 211; TS tied at 7.3 nats, the one silent error of seeds
    7-13), however sure the handwriting is of a digit: it is sure of wrong ones too, and
    nothing else on the paper checks it."""
    return (any(not out[j].uncertain for j in others)
            or any(c.isdigit() for j in (i, *others) for c in out[j].bubbles))


def _tieable(r: FieldReading) -> bool:
    """An unsure field only for want of confidence, read as decoded, at least TIED_FLOOR, the
    paper agreeing with itself: what a sum holding its reading may settle."""
    doubts = set(r.reasons) - {"unchecked"}
    return (r.uncertain and doubts <= SETTLEABLE and r.given and r.value == r.read
            and r.read_confidence >= TIED_FLOOR and _agree(r))


def _tie(r: FieldReading, how: str = "tied") -> FieldReading:
    reasons = tuple(x for x in r.reasons if x not in SETTLEABLE)
    return replace(r, reasons=(*reasons, how), uncertain=False)


def _agree(r: FieldReading) -> bool:
    """Whether every marked bubble column says what the handwriting says (a leading 0 may be
    written X or left blank); an unclear column does not agree. A paper that disagrees with
    itself, however weakly, goes to the officer: the sums cannot tell which reading is meant."""
    for j, (w, b) in enumerate(zip(r.written, r.bubbles, strict=True)):
        if b == "-":
            continue
        lead = fusion.value_symbols(r.value)[j] == 10
        if b == "?" or not (w == b or (lead and b == "0" and w in "0X_")):
            return False
    return True


def _flag(
    fields: Sequence[FormField], decoded: pagedecode.PageDecoded, lps: np.ndarray,
    writing: np.ndarray, bubbles: np.ndarray, fused: np.ndarray,
    totals: np.ndarray | None = None,
) -> list[FieldReading]:
    """`totals`: fusion.log_totals(lps), when the caller has it."""
    if totals is None:
        totals = fusion.log_totals(lps)
    norm = lps - totals[:, None]
    written_sym = fusion.symbol_argmax(writing)
    written_p = writing.max(axis=-1)
    bubble_best = bubbles.argmax(axis=-1)
    bubble_sym = np.where(bubble_best == 0, 10, bubble_best - 1)
    bubble_sure = bubbles.max(axis=-1) >= 0.9
    failing = pagedecode.failing_fields(decoded)
    out = []
    for i, f in enumerate(fields):
        value = decoded.values[i]
        confidence = float(np.exp(norm[i, value]))
        # Left blank: no box says anything but "blank" (an X, or ink the classifier cannot
        # read, is something written: DIS 3 read "blank" at 0.54 is not a field left out).
        blank = bool((writing[i, :, BLANK_CLASS] >= LEFT_BLANK).all()
                     and (bubble_sym[i] == 10).all())
        if blank and not f.is_vote and f.kind not in ("SAH", "TS"):
            out.append(_not_given(f, i, writing, fused, confidence))
            continue
        reasons = []
        if confidence < CONFIDENT:
            reasons.append("low_confidence")
        expected = fusion.value_symbols(value)
        found = decoded.group_of(i)
        unchecked = found is None or (f.kind in VOTE_KINDS and not found[0].complete)
        written_sure = written_p[i] >= (STRONG_WRITING_UNCHECKED if unchecked else STRONG_WRITING)
        for j in range(layout.DIGITS):
            lead = expected[j] == 10
            w, b = int(written_sym[i, j]), int(bubble_sym[i, j])
            agree = (w in (0, 10) and b in (0, 10)) if lead else w == b
            marked = b != 10  # an empty column is no evidence, so no disagreement either
            # How much the writing allows the bubbled digit (a leading 0 may be an X or blank).
            said = writing[i, j, b] if marked else 1.0
            if marked and lead and b == 0:
                said += writing[i, j, X_CLASS] + writing[i, j, BLANK_CLASS]
            denies = said < (WRITING_DENIES_UNCHECKED if unchecked else WRITING_DENIES)
            if not agree and marked and bubble_sure[i, j] and (written_sure[j] or denies):
                reasons.append("disagree")  # two confident readings that differ: a slip?
                break
        if value != decoded.raw[i]:
            reasons.append("corrected")
        if int(written_sym[i, -1]) == 10 and int(bubble_sym[i, -1]) == 10:
            reasons.append("empty")
        if unchecked:
            reasons.append("unchecked")  # no sum on this page holds it: the whole form will
        if i in failing:  # the decoder gave up on its group: the page as written, to correct
            reasons.append("inconsistent")
        out.append(
            FieldReading(
                key=f.key,
                code=f.code,
                ballot_number=f.ballot_number,
                value=value,
                confidence=confidence,
                uncertain=bool(set(reasons) - {"unchecked"}),
                reasons=tuple(reasons),
                written="".join(CLASS_CHARS[int(c)] for c in writing[i].argmax(axis=-1)),
                fused="".join(CLASS_CHARS[int(c)] for c in fused[i].argmax(axis=-1)),
                read=decoded.raw[i],
                read_confidence=float(np.exp(norm[i, decoded.raw[i]])),
                bubbles="".join(
                    ("-" if int(b) == 10 else str(int(b))) if sure else "?"
                    for b, sure in zip(bubble_sym[i], bubble_sure[i], strict=True)
                ),
                candidate_number=f.candidate_number,
            )
        )
    return out


def _not_given(f: FormField, i: int, writing: np.ndarray, fused: np.ndarray,
               confidence: float) -> FieldReading:
    """An optional section field left blank: no value, nothing to confirm."""
    return FieldReading(
        key=f.key, code=f.code, ballot_number=None, value=0, confidence=confidence,
        uncertain=False, reasons=("not_given",),
        written="".join(CLASS_CHARS[int(c)] for c in writing[i].argmax(axis=-1)),
        bubbles="---", fused="".join(CLASS_CHARS[int(c)] for c in fused[i].argmax(axis=-1)),
        given=False,
    )
