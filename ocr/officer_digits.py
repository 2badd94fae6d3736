"""Officers' own handwriting as labelled training boxes: a photo of a form whose tally was
confirmed (YA) or corrected gives, per digit box, what that officer wrote.

    boxes = page_boxes(photo_bytes, lookup, confirmed_values(template, votes=…, sah=…))
    boxes.samples → [BoxSample(glyph 28×28, label, key, position, disputed)]
    boxes.kept → {key: rule}, boxes.dropped → {key: why}

The boxes are cut exactly as the reader cuts them (ocr.reader._read: decode_photo →
align.detect_markers → align.align → align.warp_page_bgra → marks.page_marks on the red
channel), so the model learns from what it is shown at run time; a page whose recomputed boxes
the classifier reads otherwise than the reader did is skipped ("boxes_differ"), so the two can
never drift apart silently.

Labels. The confirmed value is right-aligned in the field's layout.DIGITS boxes (the form's
convention, README "Printable forms"): each box holding a digit of the value is that digit; an
unused leading box with ink is X (officers write X there), or 0 when the reader's handwriting
reading of it is a 0 (a leading zero written out means the same number); a box without ink is
not exported: the reader never shows it to the model (ocr.reader: only boxes with
glyph.BLANK_SHARE of ink are classified), so it would teach nothing. A field where a digit of
the value has an empty box was not written right-aligned and is dropped whole ("misplaced").

Trust rule. A confirmed value is what the officer says is right, not necessarily what the paper
shows (a miscopied number may be corrected by SMS, `02=96`). A field's boxes are kept only
when the paper independently agrees with the confirmed value, by either of:
- "read": the reader's own reading of the field (before the arithmetic) already was the value,
  and the arithmetic did not change it; or
- "bubbles": the bubble columns spell the value: every column holding a digit of it is clearly
  marked with that digit, and every leading column is unmarked or marked 0.
Dropped, by reason: "not_confirmed" (the confirmed tally has no value for the field, e.g. a
section it left out), "left_blank" (the reader found the field left blank), "arithmetic" (the
arithmetic changed the reading: the paper as read did not say the value), "bubbles_deny" (the
officer's value, which the reader did not read, is denied by a marked or unclear bubble
column), "unverified" (the reader did not read it and the bubbles do not spell it either),
"misplaced" (see above).

A field the reader flagged because handwriting and bubbles disagree ("disagree": two confident
readings that differ) is kept when either rule holds, and its boxes are marked `disputed`: the
officer confirmed it after being shown the "?" on it, and most such fields are the model's own
confident misreads (the golden ppwp_clean.jpg: DPT written 287, read 217), the very boxes it
must learn; but where the officer slipped (wrote 4, bubbled 7) and confirmed the bubbles' 7,
the glyph of a 4 is labelled 7. ocr/train_digits.py --officer-skip-disputed leaves them out.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

import cv2
import numpy as np

from ocr import align, classifier, fusion, glyph, layout, marks
from ocr.classifier import X_CLASS
from ocr.photo import decode_photo
from ocr.reader import CLASS_CHARS, FieldReading, read_photo
from ocr.templates import (
    KIND_CANDIDATE,
    KIND_PARTY,
    KIND_PARTY_CANDIDATE,
    KIND_PARTY_TOTAL,
    FormField,
    FormLookup,
    FormTemplate,
)

DROP_REASONS = ("not_confirmed", "left_blank", "arithmetic", "bubbles_deny", "unverified",
                "misplaced")


@dataclass(frozen=True)
class BoxSample:
    glyph: np.ndarray  # 28×28 float32, 0..1: the classifier's input
    label: int  # 0-9, classifier.X_CLASS or classifier.BLANK_CLASS
    key: str  # the field's key, e.g. "02", "SAH"
    position: int  # box index in the field, 0 = hundreds
    disputed: bool = False  # the field's handwriting and bubbles disagreed (see above)


@dataclass
class PageBoxes:
    """What one photo gave: its boxes, the fields kept (and by which rule) and dropped (why)."""

    error: str | None = None  # the reader's refusal, or "boxes_differ"
    page: int | None = None
    samples: list[BoxSample] = field(default_factory=list)
    kept: dict[str, str] = field(default_factory=dict)  # key → "read" | "bubbles"
    dropped: dict[str, str] = field(default_factory=dict)  # key → one of DROP_REASONS


def confirmed_values(
    template: FormTemplate,
    votes: Mapping[int, int],
    candidate_votes: Mapping[tuple[int, int], int],
    sections: Mapping[str, int],
    sah: int | None,
    ts: int | None,
) -> dict[str, int]:
    """A confirmed tally's value of each field of the form, by the form's key; the printed
    totals the officer also writes (JDPT, JSAHTS, NN.J) worked out from their parts."""
    out: dict[str, int] = {}
    for f in template.fields:
        value = _value_of(f, votes, candidate_votes, sections, sah, ts)
        if value is not None:
            out[f.key] = value
    return out


def _value_of(f: FormField, votes: Mapping[int, int],
              candidate_votes: Mapping[tuple[int, int], int], sections: Mapping[str, int],
              sah: int | None, ts: int | None) -> int | None:
    number = f.ballot_number
    if f.kind in (KIND_CANDIDATE, KIND_PARTY):
        return votes.get(number) if number is not None else None
    if f.kind == KIND_PARTY_CANDIDATE:
        return candidate_votes.get((number, f.candidate_number))  # type: ignore[arg-type]
    if f.kind == KIND_PARTY_TOTAL:
        own = votes.get(number) if number is not None else None
        theirs = [v for (p, _k), v in candidate_votes.items() if p == number]
        return None if own is None else own + sum(theirs)
    if f.key == "SAH":
        return sah
    if f.key == "TS":
        return ts
    if f.key == "JSAHTS":
        return None if sah is None or ts is None else sah + ts
    if f.key == "JDPT":
        parts = [sections.get(k) for k in ("DPT", "DPTB", "DPK")]
        return None if None in parts else sum(parts)  # type: ignore[arg-type]
    return sections.get(f.key)


def page_boxes(
    data: bytes,
    lookup: FormLookup,
    confirmed: Mapping[str, int],
    *,
    expect_contest: str | None = None,
    expect_tps: Collection[str] | None = None,
) -> PageBoxes:
    """The labelled boxes of one photo whose form's confirmed values are `confirmed` (by
    field key, as confirmed_values gives). Never raises for a bad photo: see `error`."""
    result = read_photo(data, lookup, expect_contest=expect_contest, expect_tps=expect_tps,
                        annotate_page=False)
    out = PageBoxes(error=result.error, page=result.page)
    if result.error:
        return out
    template = lookup.template(result.contest or "", result.tps_code)
    assert template is not None and result.page is not None  # the reader found both
    fields = template.fields_on(result.page)
    glyphs, ink = _boxes(data, fields)
    has_ink = ink >= glyph.BLANK_SHARE
    if not _same_boxes(glyphs, has_ink, result.fields):
        out.error = "boxes_differ"
        return out
    for i, reading in enumerate(result.fields):
        value = confirmed.get(reading.key)
        why = _distrust(reading, value)  # None: value is not None either
        labels = None if value is None or why else _labels(reading, value, has_ink[i])
        if labels is None:
            out.dropped[reading.key] = why or "misplaced"
            continue
        out.kept[reading.key] = "read" if reading.read == value else "bubbles"
        disputed = "disagree" in reading.reasons
        for j, label in enumerate(labels):
            if label is not None:
                out.samples.append(BoxSample(glyphs[i, j].copy(), label, reading.key, j,
                                             disputed))
    return out


def _boxes(data: bytes, fields: tuple[FormField, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The glyphs and ink shares of `fields`, by the reader's very stages (ocr.reader._read)."""
    image = decode_photo(data)  # the reader decoded the same bytes a moment ago
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    alignment = align.align(align.detect_markers(gray))
    assert alignment is not None  # the reader aligned the same bytes
    page = align.warp_page_bgra(image, alignment)
    glyphs, ink, _fills = marks.page_marks(page[:, :, 2], fields)
    return glyphs, ink


def _same_boxes(glyphs: np.ndarray, has_ink: np.ndarray,
                readings: list[FieldReading]) -> bool:
    """Whether the classifier reads the recomputed boxes as the reader's handwriting did."""
    chars = np.full(has_ink.shape, "_", dtype="<U1")
    if has_ink.any():
        best = classifier.load().probabilities(glyphs[has_ink]).argmax(axis=1)
        chars[has_ink] = [CLASS_CHARS[int(c)] for c in best]
    return all("".join(row) == r.written for row, r in zip(chars, readings, strict=True))


def _distrust(reading: FieldReading, value: int | None) -> str | None:
    """Why the paper does not vouch for the confirmed `value` (None: it does)."""
    if value is None:
        return "not_confirmed"
    if not reading.given:
        return "left_blank"
    if not 0 <= value < 10**layout.DIGITS:  # cannot be written in the boxes
        return "unverified"
    if "corrected" in reading.reasons:
        return "arithmetic"
    if reading.read == value:
        return None
    spelled = _bubbles_spell(reading.bubbles, value)
    if spelled:
        return None
    return "bubbles_deny" if spelled is False else "unverified"


def _bubbles_spell(bubbles: str, value: int) -> bool | None:
    """True: the bubble columns spell `value`; False: a marked (or unclear) column says
    otherwise; None: no column denies it, but some digit of it is not bubbled."""
    spelled = True
    for b, sym in zip(bubbles, fusion.value_symbols(value), strict=True):
        if sym == 10:  # a leading column: nothing, or a 0
            if b not in "-0":
                return False
        elif b == "-":
            spelled = False
        elif b != str(sym):
            return False
    return True if spelled else None


def _labels(reading: FieldReading, value: int,
            has_ink: np.ndarray) -> list[int | None] | None:
    """Per box its label (None: no ink, not exported); None when a digit's box is empty."""
    out: list[int | None] = []
    for j, sym in enumerate(fusion.value_symbols(value)):
        if sym != 10:
            if not has_ink[j]:
                return None
            out.append(sym)
        elif has_ink[j]:
            out.append(0 if reading.written[j] == "0" else X_CLASS)
        else:
            out.append(None)
    return out
