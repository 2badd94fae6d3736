"""Photos as pages show them: upright (ocr.upright), rendered once per photo and cached, with
where each field of the form lies on it, for a viewer to zoom on the number in question.

The photo's bytes come from relay.media (whatever store holds them); the rendering is kept in a
local cache folder (PHOTO_CACHE_DIR, default var/cache/photos), named by the media key, which
names the content: a cached rendering never goes stale, and a lost cache is only re-rendered.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from ocr.photo import PhotoError
from ocr.upright import UprightPhoto, field_box, upright
from relay import media
from relay.config import ROOT
from relay.media_store import MediaMissing, MediaUnavailable

RENDER_VERSION = "1"  # part of the cache name: a change in rendering renders again


def cache_dir() -> Path:
    return Path(os.environ.get("PHOTO_CACHE_DIR") or ROOT / "var" / "cache" / "photos")


@dataclass(frozen=True)
class Rendered:
    jpeg: bytes
    meta: dict[str, Any]


def _names(key: str) -> tuple[Path, Path]:
    digest = hashlib.sha256(f"{RENDER_VERSION}:{key}".encode()).hexdigest()
    folder = cache_dir() / digest[:2]
    return folder / f"{digest}.jpg", folder / f"{digest}.json"


def _write(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(content)
    tmp.replace(path)


def upright_of(key: str) -> Rendered:
    """The upright rendering of the stored photo `key` (rendered now if not cached); raises
    ocr.photo.PhotoError for bytes that are no photo, relay.media_store.MediaMissing when it is
    not stored, MediaUnavailable while the store does not answer."""
    image_path, meta_path = _names(key)
    try:
        return Rendered(image_path.read_bytes(), json.loads(meta_path.read_text("utf-8")))
    except (OSError, ValueError):
        pass
    photo: UprightPhoto = upright(media.load(key))
    _write(image_path, photo.jpeg)  # the image first: a meta file always has its image
    _write(meta_path, json.dumps(photo.meta()).encode())
    return Rendered(photo.jpeg, photo.meta())


def meta_of(key: str) -> dict[str, Any] | None:
    """What the rendering says about the page (rectified, which form and page), or None when
    the photo cannot be shown."""
    try:
        return upright_of(key).meta
    except (PhotoError, MediaMissing, MediaUnavailable, OSError, ValueError):
        # A missing or broken photo, or a store that does not answer, shows as missing and
        # never breaks a page (web.photo_viewer.upright_response answers 404 or 503); any
        # other error is a bug and is raised.
        return None


def field_boxes(
    session: Session, meta: dict[str, Any] | None, form: tuple[str, str] | None = None
) -> dict[str, tuple[float, ...]]:
    """Field key ("01", "SAH", "DPT", …) → its box on the upright page, as fractions of the
    page; empty when the page was not found or its form is not known here. `form`: the
    (contest, TPS) the photo was filed under, for a straightened page whose QR code could not
    be read (the reader then knew it by its printed header): a one-page form's boxes."""
    from ocr.templates import template_for

    if not meta or not meta.get("rectified"):
        return {}
    contest, tps, page = meta.get("contest"), meta.get("tps_code"), meta.get("page")
    if not contest and form is not None:
        contest, tps = form
    if not contest:
        return {}
    template = template_for(session, str(contest), tps)
    if template is None:
        return {}
    if not page:
        if template.pages != 1:
            return {}
        page = 1
    return {
        f.key: tuple(round(v, 5) for v in field_box(f.slot))
        for f in template.fields_on(int(page))
    }
