"""Where photos live: content-addressed objects in the store MEDIA_URL names — a local
directory (MEDIA_DIR, default var/media: `make run`, one machine) or an S3-compatible bucket
(`s3://bucket/prefix`: many machines) — and the signed, expiring links that show them."""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from relay.config import ROOT, Settings, secret_key
from relay.media_store import LocalStore, MediaMissing, MediaStore, MediaUnavailable

__all__ = [
    "MediaMissing",
    "MediaStore",
    "MediaUnavailable",
    "load",
    "public_link",
    "save",
    "signed_link",
    "store",
]

EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}
# Seconds a photo link lives: long enough for a provider to fetch an attachment it was
# handed (Twilio fetches when it sends), short enough that a copied link soon stops working.
DEFAULT_LINK_TTL = 900


class MediaConfigError(ValueError):
    """MEDIA_URL names no store we know."""


def media_dir() -> Path:
    return Path(os.environ.get("MEDIA_DIR") or ROOT / "var" / "media")


def link_ttl() -> int:
    raw = os.environ.get("MEDIA_LINK_TTL", "").strip()
    return int(raw) if raw.isdigit() and int(raw) > 0 else DEFAULT_LINK_TTL


def store(settings: Settings | None = None) -> MediaStore:
    """The store this process's environment names (MEDIA_URL; unset: the local directory),
    kept per process and configuration: only MEDIA_URL, MEDIA_DIR and the secret are read."""
    url = os.environ.get("MEDIA_URL", "").strip()
    if not url or url.startswith("file://"):
        directory = Path(url.removeprefix("file://")) if url else media_dir()
        return _local_store(directory, settings.secret_key if settings else secret_key())
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise MediaConfigError(f"MEDIA_URL must be s3://bucket[/prefix] or file:///dir: {url!r}")
    prefix = parts.path.strip("/")
    env = os.environ
    return _s3_store(
        parts.netloc,
        f"{prefix}/" if prefix else "",
        env.get("S3_ENDPOINT_URL", "").strip(),
        env.get("S3_PUBLIC_ENDPOINT_URL", "").strip(),
        (env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1").strip(),
        env.get("AWS_ACCESS_KEY_ID", ""),
        env.get("AWS_SECRET_ACCESS_KEY", ""),
        os.getpid(),
    )


@functools.lru_cache(maxsize=8)
def _local_store(directory: Path, secret: str) -> LocalStore:
    """One per directory and signing secret (holds no connection: shared after a fork)."""
    return LocalStore(directory, secret)


@functools.lru_cache(maxsize=8)
def _s3_store(
    bucket: str, prefix: str, endpoint: str, public_endpoint: str, region: str, *_key: Any
) -> MediaStore:
    """One client per configuration and process (the credentials and pid are part of the
    cache key: a forked work horse never shares its parent's connections)."""
    from relay.media_s3 import S3Store, client

    s3 = client(endpoint or None, region)
    presigner = client(public_endpoint, region) if public_endpoint else None
    return S3Store(bucket, prefix, s3, presigner)


def warm() -> None:
    """Before a worker forks its work horses: load what each would load again per job (the
    S3 client's service model; nothing for the local directory)."""
    if os.environ.get("MEDIA_URL", "").strip().startswith("s3://"):
        from relay.media_s3 import warm as warm_s3

        warm_s3()


def key_for(content: bytes, content_type: str) -> str:
    digest = hashlib.sha256(content).hexdigest()
    return f"{digest[:2]}/{digest}{EXTENSIONS.get(content_type, '.bin')}"


def save(content: bytes, content_type: str) -> str:
    """Store bytes once; returns the key to find them again. Raises when the store cannot be
    reached: the caller has not acknowledged anything yet, so the work is retried."""
    key = key_for(content, content_type)
    store().put(key, content, content_type)
    return key


def load(key: str) -> bytes:
    return store().get(key)


def exists(key: str) -> bool:
    return store().exists(key)


def describe(key: str) -> str:
    """Where the object is, for an operator's terminal (a file path or s3://…)."""
    current = store()
    if isinstance(current, LocalStore):
        return str(current.path(key))
    return str(getattr(current, "location", lambda k: k)(key))


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


def signed_link(key: str, expires_in: int | None = None) -> str:
    """A link to the photo that expires (console and public pages redirect to it): an S3
    presigned URL, or a signed path on this app for the local store."""
    return store().signed_url(key, expires_in or link_ttl())


def public_link(settings: Settings, key: str) -> str:
    """A URL a provider can fetch the image from (Twilio WhatsApp attachments)."""
    link = store(settings).signed_url(key, link_ttl())
    return settings.public_url + link if link.startswith("/") else link


def link_origin() -> str | None:
    """Where photo links point when not at this app (pages allow images from there)."""
    try:
        return store().link_origin()
    except MediaConfigError:
        return None
