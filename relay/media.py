"""Where photos live: content-addressed files under MEDIA_DIR (default var/media)."""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

from relay.config import ROOT, Settings

EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}


def media_dir() -> Path:
    return Path(os.environ.get("MEDIA_DIR") or ROOT / "var" / "media")


def save(content: bytes, content_type: str) -> str:
    """Store bytes once; returns the key (relative path) to find them again."""
    digest = hashlib.sha256(content).hexdigest()
    key = f"{digest[:2]}/{digest}{EXTENSIONS.get(content_type, '.bin')}"
    path = media_dir() / key
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_bytes(content)
        tmp.replace(path)
    return key


def path_of(key: str) -> Path:
    path = (media_dir() / key).resolve()
    if media_dir().resolve() not in path.parents:
        raise ValueError(f"media key outside the media folder: {key!r}")
    return path


def load(key: str) -> bytes:
    return path_of(key).read_bytes()


def sniff_type(content: bytes) -> str | None:
    """The image type the bytes say, whatever the sender declared (a PDF named .jpg is no
    photo); None for anything that is not JPEG, PNG or WebP."""
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    return None


def link_signature(settings: Settings, key: str) -> str:
    """Links to stored images are signed with SECRET_KEY: only pages we sent can be fetched."""
    return hmac.new(settings.secret_key.encode(), key.encode(), hashlib.sha256).hexdigest()[:32]


def public_link(settings: Settings, key: str) -> str:
    """A URL a provider can fetch the image from (served by GET /media/<key>)."""
    return f"{settings.public_url}/media/{key}?sig={link_signature(settings, key)}"
