"""The one interface photos are kept behind (put/get/exists/signed link), and the local
directory that implements it: the embedded default for `make run` and single machines.

Keys are content addresses made by relay.media (`ab/<sha256>.jpg`), the same in every store,
so a deployment can move its photos from a directory to a bucket by copying the files.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path
from typing import Protocol
from urllib.parse import quote


class MediaMissing(LookupError):
    """No object under this key (never stored, or the key is not one of ours)."""


class MediaUnavailable(RuntimeError):
    """The store did not answer or refused: nothing was kept, try again later."""


class MediaStore(Protocol):
    """Where photos live. Every method raises MediaUnavailable when the store cannot be
    reached: jobs let that fail them and are retried (nothing lost)."""

    def put(self, key: str, content: bytes, content_type: str) -> None:
        """Keep `content` under `key`; idempotent (keys are content addresses)."""

    def get(self, key: str) -> bytes:
        """The bytes under `key`; MediaMissing when there are none."""

    def exists(self, key: str) -> bool: ...

    def signed_url(self, key: str, expires_in: int) -> str:
        """A link that fetches the object without any other credential, for `expires_in`
        seconds only; absolute, or a path on this app ("/media/…") for the local store."""

    def link_origin(self) -> str | None:
        """The origin signed links point to when it is not this app (pages allow images
        from it), else None."""


def sign(secret: str, key: str, expires: int) -> str:
    """HMAC-SHA256 over key and expiry: a link cannot be moved to another photo or kept."""
    message = f"{key}\n{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


class LocalStore:
    """Files under one directory, served by GET /media/<key>?exp=…&sig=… (webhooks.media_links)
    to whoever holds an unexpired link signed with SECRET_KEY."""

    def __init__(self, directory: Path, secret: str) -> None:
        self.directory = directory
        self._secret = secret
        self._root: Path | None = None  # the directory resolved, once (a syscall per part)

    def path(self, key: str) -> Path:
        root = self._root
        if root is None:
            root = self._root = self.directory.resolve()
        path = (root / key).resolve()
        if root not in path.parents:
            raise MediaMissing(f"media key outside the media folder: {key!r}")
        return path

    def put(self, key: str, content: bytes, content_type: str) -> None:
        path = self.path(key)
        if path.exists():
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # A name of its own per writer, then an atomic rename: a reader never sees half a
            # photo, and two machines writing the same photo to a shared mount never clash.
            tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
            tmp.write_bytes(content)
            tmp.replace(path)
        except OSError as exc:  # a full disk, a lost mount
            raise MediaUnavailable(f"cannot write {path}: {exc}") from exc

    def get(self, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            raise MediaMissing(key) from None

    def exists(self, key: str) -> bool:
        try:
            return self.path(key).is_file()
        except MediaMissing:
            return False

    def signed_url(self, key: str, expires_in: int) -> str:
        expires = int(time.time()) + expires_in
        return f"/media/{quote(key)}?exp={expires}&sig={sign(self._secret, key, expires)}"

    def verify(self, key: str, expires: str, signature: str) -> bool:
        """The link was made by signed_url with this SECRET_KEY and has not expired."""
        if not expires.isdigit() or int(expires) < time.time():
            return False
        return hmac.compare_digest(signature, sign(self._secret, key, int(expires)))

    def link_origin(self) -> str | None:
        return None
