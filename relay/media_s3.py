"""Photos in an S3-compatible bucket (AWS S3, MinIO, Ceph, GCS interoperability) through
boto3, so every web process and worker of every machine sees the same photos.

Links are S3 presigned GET URLs (SigV4, expiring): browsers and providers fetch the photo
from the store itself, the app only hands out the link.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from relay.media_store import MediaMissing, MediaUnavailable

# A store that does not answer fails the job fast (RQ and the sweeper retry it) rather than
# holding a worker: a few seconds to connect, a photo's worth of time to transfer.
CLIENT_CONFIG = dict(
    connect_timeout=5,
    read_timeout=30,
    retries={"max_attempts": 3, "mode": "standard"},
    signature_version="s3v4",
)
NOT_FOUND = {"404", "NoSuchKey", "NotFound"}


# One boto3 session per process: it caches the S3 service model, which a new client would
# otherwise load again (~170 ms; ~10 ms with the cache). A worker warms it before forking, so
# every work horse inherits the loaded model; clients (with their sockets) stay per process.
_session = boto3.session.Session()
_session_lock = threading.Lock()


def client(endpoint_url: str | None, region: str) -> Any:
    """A boto3 S3 client; credentials come from boto3's own chain (AWS_ACCESS_KEY_ID and
    AWS_SECRET_ACCESS_KEY, a profile, or an instance role). A custom endpoint (MinIO, Ceph)
    is addressed path-style, which they all serve."""
    style = "path" if endpoint_url else "virtual"
    config = Config(**CLIENT_CONFIG, s3={"addressing_style": style})  # type: ignore[arg-type]
    with _session_lock:  # a Session is not safe to create clients from in two threads at once
        return _session.client(
            "s3", endpoint_url=endpoint_url or None, region_name=region, config=config
        )


def warm() -> None:
    """Load the S3 service model into the session (no request is made)."""
    client(None, "us-east-1")


class S3Store:
    """Objects `<prefix><key>` in `bucket`. `presigner` signs links for the address browsers
    and providers reach (S3_PUBLIC_ENDPOINT_URL), which may differ from the workers' one."""

    def __init__(self, bucket: str, prefix: str, s3: Any, presigner: Any | None = None) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self._s3 = s3
        self._presigner = presigner or s3
        self._origin: str | None = None

    def _name(self, key: str) -> str:
        return self.prefix + key

    def put(self, key: str, content: bytes, content_type: str) -> None:
        try:
            self._s3.put_object(
                Bucket=self.bucket, Key=self._name(key), Body=content, ContentType=content_type
            )
        except (BotoCoreError, ClientError) as exc:
            raise MediaUnavailable(f"{self.location(key)}: {exc}") from exc

    def get(self, key: str) -> bytes:
        try:
            answer = self._s3.get_object(Bucket=self.bucket, Key=self._name(key))
            return bytes(answer["Body"].read())
        except ClientError as exc:
            if _code(exc) in NOT_FOUND:
                raise MediaMissing(key) from None
            raise MediaUnavailable(f"{self.location(key)}: {exc}") from exc
        except BotoCoreError as exc:
            raise MediaUnavailable(f"{self.location(key)}: {exc}") from exc

    def exists(self, key: str) -> bool:
        try:
            self._s3.head_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as exc:
            if _code(exc) in NOT_FOUND:
                return False
            raise MediaUnavailable(f"{self.location(key)}: {exc}") from exc
        except BotoCoreError as exc:
            raise MediaUnavailable(f"{self.location(key)}: {exc}") from exc
        return True

    def signed_url(self, key: str, expires_in: int) -> str:
        return str(
            self._presigner.generate_presigned_url(
                "get_object",
                Params={"Bucket": self.bucket, "Key": self._name(key)},
                ExpiresIn=expires_in,
            )
        )

    def link_origin(self) -> str | None:
        if self._origin is None:  # signing is local: no request is made
            parts = urlsplit(self.signed_url("origin", 60))
            self._origin = f"{parts.scheme}://{parts.netloc}"
        return self._origin

    def location(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._name(key)}"


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
