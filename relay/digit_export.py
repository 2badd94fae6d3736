"""Export the digit boxes of photographed forms whose tally was confirmed, as labelled training
data for ocr/train_digits.py (`--officer-digits`): `bin/relay ocr export-digits`.

A confirmed tally (YA on the photo's reading, or the officer's correction by text, or a typed
tally the photo was kept as evidence of) is joined to the photos of the same TPS, contest and
world through the pages read (PhotoPage: each page's message, whose stored photos are read
again); ocr.officer_digits labels the boxes and keeps only the fields the paper vouches for.
A photo is exported once (media keys are content addressed), whatever else points at it.

What the file holds: per box the 28×28 glyph, its label, the TPS code and the submission id
(to trace a box back), its field and box, and whether the field was disputed (handwriting
and bubbles disagreed; ocr.officer_digits); nothing of the officer (no name, no phone number).

Training tallies (the simulator) are left out unless asked for: on a rehearsal day officers
photograph their own practice forms (real handwriting, worth having: `--include-training`),
but the simulator also takes any picture, such as the sample photos trainers pass around, which
would put the same writer under many TPS codes and defeat the held-out split by TPS.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from ocr import glyph
from ocr.classifier import CLASSES
from ocr.officer_digits import confirmed_values, page_boxes
from relay import media
from relay.media_store import MediaMissing
from relay.models import InboundMessage, PhotoPage, Submission

OTHER_FORM = ("wrong_contest", "wrong_tps")  # the reader's refusals of a photo of another form


@dataclass
class Export:
    images: list[np.ndarray] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    tps: list[str] = field(default_factory=list)
    submissions: list[int] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)  # the field of each box
    positions: list[int] = field(default_factory=list)
    disputed: list[bool] = field(default_factory=list)  # see ocr.officer_digits
    tallies: int = 0  # confirmed tallies with a photographed page
    photos: int = 0  # photos read
    refused: Counter[str] = field(default_factory=Counter)  # photos not used, by why
    kept: Counter[str] = field(default_factory=Counter)  # fields kept, by rule
    dropped: Counter[str] = field(default_factory=Counter)  # fields dropped, by reason

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path,
            images=np.array(self.images, np.float32).reshape(-1, glyph.SIZE, glyph.SIZE),
            labels=np.array(self.labels, np.int64),
            tps=np.array(self.tps, dtype=str),
            submission=np.array(self.submissions, np.int64),
            field=np.array(self.keys, dtype=str),
            position=np.array(self.positions, np.int64),
            disputed=np.array(self.disputed, bool),
        )

    def summary(self) -> str:
        """One line: boxes per class, fields kept by rule and dropped by reason."""
        per_class = np.bincount(np.array(self.labels, np.int64), minlength=len(CLASSES))
        classes = " ".join(f"{name}={int(n)}" for name, n in zip(CLASSES, per_class, strict=True))
        kept = ", ".join(f"{k} {n}" for k, n in sorted(self.kept.items())) or "none"
        dropped = ", ".join(f"{k} {n}" for k, n in sorted(self.dropped.items())) or "none"
        refused = ", ".join(f"{k} {n}" for k, n in sorted(self.refused.items())) or "none"
        return (f"{len(self.labels)} boxes ({classes}; {sum(self.disputed)} disputed) from "
                f"{self.photos} photos of "
                f"{self.tallies} confirmed tallies; fields kept: {kept}; fields dropped: "
                f"{dropped}; photos not used: {refused}")


def confirmed_tallies(session: Session, since: datetime | None, contest: str | None,
                      include_training: bool) -> list[Submission]:
    """The confirmed tallies to export, oldest first."""
    query = select(Submission).where(Submission.status == "confirmed").order_by(Submission.id)
    if not include_training:
        query = query.where(Submission.training.is_(False))
    if since is not None:
        query = query.where(Submission.decided_at >= since)
    if contest:
        query = query.where(Submission.contest_code == contest.upper())
    return list(session.scalars(query))


def export(session: Session, since: datetime | None = None, contest: str | None = None,
           include_training: bool = False,
           progress: Callable[[int, float], None] | None = None,
           limit: int | None = None) -> Export:
    """Every usable box of the photos of confirmed tallies (see the module's docstring);
    `limit`: stop after that many tallies with photos."""
    from ocr.templates import DbLookup

    lookup = DbLookup(session)
    out = Export()
    used: set[str] = set()  # photos exported (or refused for what they are)
    tried: set[tuple[str, str, str]] = set()  # photo, TPS, contest
    tallies = confirmed_tallies(session, since, contest, include_training)
    for number, tally in enumerate(tallies, start=1):
        if limit is not None and out.tallies >= limit:
            break
        photos = _photos_of(session, tally)
        template = lookup.template(tally.contest_code, tally.tps_code)
        if photos and template is not None:
            out.tallies += 1
            confirmed = confirmed_values(
                template, tally.own_votes_by_ballot(), tally.candidate_votes_by_number(),
                {str(k): int(v) for k, v in (tally.sections or {}).items()}, tally.sah, tally.ts)
            for key in photos:
                # One message may carry the forms of several contests or TPS (a PPS officer's):
                # a photo of another form is tried again for its own tally.
                attempt = (key, tally.tps_code, tally.contest_code)
                if key in used or attempt in tried:
                    continue
                tried.add(attempt)
                if _export_photo(out, key, lookup, confirmed, tally) not in OTHER_FORM:
                    used.add(key)
        if progress is not None:
            progress(number, number / len(tallies))
    return out


def _photos_of(session: Session, tally: Submission) -> list[str]:
    """The stored photos of the messages that sent pages of this tally's form (same TPS,
    contest and world), in the order they came."""
    inbound_ids = session.scalars(
        select(PhotoPage.inbound_id).where(
            PhotoPage.tps_code == tally.tps_code,
            PhotoPage.contest_code == tally.contest_code,
            PhotoPage.training.is_(tally.training),
        ).distinct()
    ).all()
    keys: list[str] = []
    messages = session.scalars(select(InboundMessage).where(InboundMessage.id.in_(inbound_ids))
                               .order_by(InboundMessage.id))
    for message in messages:
        keys.extend(str(item["key"]) for item in message.media or [] if "key" in item)
    return list(dict.fromkeys(keys))


def _export_photo(out: Export, key: str, lookup, confirmed: dict[str, int],  # type: ignore[no-untyped-def]
                  tally: Submission) -> str | None:
    """Add the photo's boxes to `out`; why it was not used, or None."""
    try:
        data = media.load(key)
    except MediaMissing:  # removed from the store since (MediaUnavailable stops the export)
        out.refused["photo_missing"] += 1
        return "photo_missing"
    boxes = page_boxes(data, lookup, confirmed, expect_contest=tally.contest_code,
                       expect_tps={tally.tps_code})
    if boxes.error:
        out.refused[boxes.error] += 1
        return boxes.error
    out.photos += 1
    out.kept.update(boxes.kept.values())
    out.dropped.update(boxes.dropped.values())
    for sample in boxes.samples:
        out.images.append(sample.glyph)
        out.labels.append(sample.label)
        out.tps.append(tally.tps_code)
        out.submissions.append(tally.id)
        out.keys.append(sample.key)
        out.positions.append(sample.position)
        out.disputed.append(sample.disputed)
    return None
